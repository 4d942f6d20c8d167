//! Requested → resolved runtime versions: App Runner's locking rules and npm ranges.
#![allow(clippy::result_large_err)]

mod support;

use apprunner_build::input::config::Spanned;
use apprunner_build::report::diagnostic::Severity;
use apprunner_build::resolve::catalog::Catalog;
use apprunner_build::resolve::runtime::{self, RequestedVersion, ResolveError, VersionOrigin};

fn yaml_origin() -> VersionOrigin {
    VersionOrigin::ConfigRuntimeVersion {
        path: "apprunner.yaml".into(),
        line: Some(9),
    }
}

fn engines_origin() -> VersionOrigin {
    VersionOrigin::EnginesNode {
        path: "package.json".into(),
        line: Some(4),
    }
}

fn resolve(
    runtime: &str,
    yaml: Option<&str>,
    engines: Option<&str>,
) -> Result<runtime::Resolution, ResolveError> {
    let catalog = Catalog::shipped();
    let rt = catalog.get(runtime).unwrap();
    let mut requests = Vec::new();
    if let Some(v) = yaml {
        requests.push(RequestedVersion::from_runtime_version(
            &Spanned::bare(v.to_string()),
            yaml_origin(),
        )?);
    }
    if let Some(r) = engines {
        requests.push(RequestedVersion::from_npm_range(r, engines_origin(), None)?);
    }
    runtime::resolve(&catalog, rt, &requests, support::today())
}

fn version(runtime: &str, yaml: Option<&str>, engines: Option<&str>) -> String {
    resolve(runtime, yaml, engines)
        .unwrap()
        .runtime
        .version
        .to_string()
}

#[test]
fn app_runner_locking_rules() {
    assert_eq!(version("python3", None, None), "3.8.20");
    assert_eq!(version("python3", Some("3.7"), None), "3.7.16");
    assert_eq!(version("python3", Some("3.8.16"), None), "3.8.16");
    assert_eq!(version("python3", Some("3"), None), "3.8.20");
    assert_eq!(version("python311", Some("3.11"), None), "3.11.14");
    assert_eq!(version("nodejs18", Some("18"), None), "18.20.8");
    assert_eq!(version("nodejs22", None, None), "22.21.1");
}

#[test]
fn npm_ranges_from_engines_node() {
    assert_eq!(version("nodejs18", None, Some("^18.19.0")), "18.20.8");
    assert_eq!(version("nodejs18", None, Some("~18.19.0")), "18.19.1");
    assert_eq!(version("nodejs16", None, Some("16.x")), "16.20.2");
    assert_eq!(version("nodejs16", None, Some("16.17.x")), "16.17.1");
    assert_eq!(
        version("nodejs14", None, Some("12.x || 14.20.x")),
        "14.20.1"
    );
    assert_eq!(version("nodejs22", None, Some(">=18")), "22.21.1");
    assert_eq!(version("nodejs22", None, Some(">=22.14 <22.17")), "22.16.0");
    assert_eq!(version("nodejs12", None, Some("v12.21.0")), "12.21.0");
    assert_eq!(
        version("nodejs12", None, Some("12.21.0 - 12.22.0")),
        "12.21.0"
    );
}

#[test]
fn both_origins_intersect() {
    assert_eq!(version("nodejs18", Some("18"), Some("~18.19")), "18.19.1");
    match resolve("nodejs18", Some("18.20.8"), Some("<18.20")) {
        Err(ResolveError::Conflict { requests, .. }) => {
            let origins: Vec<String> = requests.iter().map(|r| r.origin.to_string()).collect();
            assert_eq!(
                origins,
                [
                    "run.runtime-version in apprunner.yaml line 9",
                    "engines.node in package.json line 4"
                ]
            );
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
}

#[test]
fn versions_not_in_the_catalog() {
    match resolve("python3", Some("3.9"), None) {
        Err(ResolveError::VersionNotOffered {
            available,
            other_runtime,
            ..
        }) => {
            assert_eq!(available, "3.7.10, 3.7.15, 3.7.16, 3.8.15, 3.8.16, 3.8.20");
            assert_eq!(other_runtime, None);
        }
        other => panic!("{other:?}"),
    }
    match resolve("python3", Some("3.11"), None) {
        Err(ResolveError::VersionNotOffered { other_runtime, .. }) => {
            assert_eq!(other_runtime.as_deref(), Some("python311"))
        }
        other => panic!("{other:?}"),
    }
    match resolve("nodejs18", None, Some("^20")) {
        Err(ResolveError::VersionNotOffered { request, .. }) => {
            assert_eq!(request.origin, engines_origin())
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        resolve("python3", Some("3.8.x"), None),
        Err(ResolveError::MalformedVersion { .. })
    ));
    assert!(matches!(
        resolve("nodejs18", None, Some("lts/*")),
        Err(ResolveError::MalformedVersion { .. })
    ));
}

#[test]
fn remarks_end_of_support_and_locked_patch() {
    let r = resolve("python3", Some("3.8.16"), None).unwrap();
    let texts: Vec<(Severity, String)> = r
        .remarks
        .iter()
        .map(|d| (d.severity, d.message.clone()))
        .collect();
    assert!(
        texts.contains(&(
            Severity::Warning,
            "python3 reached end of support on 2025-12-01".into()
        )),
        "{texts:?}"
    );
    assert!(
        texts.iter().any(|(s, m)| *s == Severity::Note
            && m.contains("3.8.16 is locked by run.runtime-version in apprunner.yaml line 9")
            && m.contains("3.8.20")),
        "{texts:?}"
    );
    let r = resolve("python311", None, None).unwrap();
    assert!(r.remarks.is_empty(), "{:?}", r.remarks);
    assert_eq!(
        r.runtime.reason,
        "the latest python311 version (no version requested)"
    );
    assert_eq!(r.runtime.image, "python:3.11.14-slim");
    assert_eq!(r.runtime.build_image, "python:3.11.14");
}
