//! Inputs that crashed, hung or ran out of memory, found by the fuzz targets (`fuzz/`,
//! `scripts/fuzz.sh`) or while writing them, kept with their bytes inline and the calls their
//! target makes, so that the normal suite keeps them fixed.
#![allow(clippy::result_large_err)]

mod support;

use apprunner_build::input::version::{MalformedVersion, RequestedVersion, VersionOrigin};
use apprunner_build::report::codes;
use apprunner_build::report::diagnostic::Severity;

fn engines_node() -> VersionOrigin {
    VersionOrigin::EnginesNode {
        path: "package.json".into(),
        line: Some(1),
    }
}

/// versions, crash-7bebbb3c160ee163c0468ae085193430eb54bf01: node-semver 2.2's parser reached an
/// `unreachable!` on `~*=n.11.2` (a tilde over a wildcard major) and the whole tool panicked on
/// an engines.node of that shape.
#[test]
fn a_tilde_or_equals_over_a_wildcard_is_a_malformed_range_not_a_panic() {
    let crash: &[u8] = b">=3.9,<3&13\n~*=n.11.2\n<>=3.=\xfd9\xff";
    let text = String::from_utf8_lossy(crash);
    for piece in std::iter::once(&*text).chain(text.lines()) {
        let _ = RequestedVersion::from_npm_range(piece, engines_node(), None);
    }
    // The same panic, one shape at a time (each reached the `unreachable!` before the fix).
    for range in [
        "~*=n.11.2",
        "~*",
        "~x",
        "~ X",
        "~>*",
        "~> v x",
        "=*",
        "= x",
        "~1.x.3",
        "~>1.*.0-beta",
        ">=18 ~x",
        "18.x || =X",
    ] {
        match RequestedVersion::from_npm_range(range, engines_node(), None) {
            Err(MalformedVersion { text, .. }) => assert_eq!(text, range),
            other => panic!("{range}: {other:?}"),
        }
    }
    // Neighbours that parse as before.
    for range in [
        "~1", "~1.x", "~1.2.x", "~>1.2", ">=18", "<=18", "=18.x", "*", "x",
    ] {
        assert!(
            RequestedVersion::from_npm_range(range, engines_node(), None).is_ok(),
            "{range}"
        );
    }
}

/// Where the user sees it: engines.node in package.json, a located AR202.
#[test]
fn an_engines_node_of_that_shape_is_a_located_error() {
    let dir = support::project_dir(&[
        (
            "package.json",
            b"{\n  \"name\": \"app\",\n  \"engines\": {\n    \"node\": \"~*\"\n  },\n  \"scripts\": {\"start\": \"node server.js\"}\n}\n",
        ),
        ("server.js", b"require('http').createServer().listen(8080);\n"),
    ]);
    let loaded = support::load(dir.path());
    let d = loaded
        .diagnostics
        .iter()
        .find(|d| d.code == codes::MALFORMED_VERSION)
        .unwrap_or_else(|| panic!("{}", support::report(&loaded)));
    assert_eq!(d.severity, Severity::Error);
    let at = d.location.as_ref().expect("located");
    assert_eq!(at.path, std::path::Path::new("package.json"));
    assert_eq!(at.position.map(|p| p.line), Some(4));
    assert!(loaded.plan.is_none());
}

/// Seen while writing the versions target, which did not reach it in 20 minutes: `~=` adds one
/// to the next-to-last number for its upper bound, and u64::MAX overflowed (a panic in a debug
/// build, `<3.0` in a release one). It is now an unreadable requires-python, located.
#[test]
fn a_compatible_release_whose_bound_overflows_is_an_unreadable_requires_python() {
    let dir = support::project_dir(&[
        (
            "pyproject.toml",
            b"[project]\nname = \"app\"\nrequires-python = \"~=3.18446744073709551615.1\"\ndependencies = [\"flask\"]\n",
        ),
        ("app.py", b"from flask import Flask\napp = Flask(__name__)\n"),
    ]);
    let loaded = support::load(dir.path());
    let d = loaded
        .diagnostics
        .iter()
        .find(|d| d.code == codes::INVALID_REQUIRES_PYTHON)
        .unwrap_or_else(|| panic!("{}", support::report(&loaded)));
    assert_eq!(d.severity, Severity::Error);
    let at = d.location.as_ref().expect("located");
    assert_eq!(at.path, std::path::Path::new("pyproject.toml"));
    assert!(
        d.message.contains("~=3.18446744073709551615.1"),
        "{}",
        d.message
    );
}
