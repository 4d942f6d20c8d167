//! Reproducible digests: with `SOURCE_DATE_EPOCH` set, two `--no-cache` builds of the same source
//! give the same image id and the same OCI manifest digest, for a revised build that installs with
//! pip (the guide's example on python311), an original build that runs npm twice (nodejs12) and an
//! npm app with a lockfile (Express on nodejs22). Run with scripts/test.sh.

mod support;

use std::path::Path;
use support::*;

const EPOCH: &str = "1700000000";

/// Build `dir` twice from nothing; each build's image id and layout manifest digest.
fn twice(dir: &Path, name: &str) -> [(String, String); 2] {
    let out = tempfile::tempdir().unwrap();
    let tag = format!(
        "apprunner-build-test/reproducible-{name}:{}",
        std::process::id()
    );
    let _image = ImageGuard::new(&tag);
    [0, 1].map(|n| {
        let layout = out.path().join(format!("layout-{n}"));
        let done = cli()
            .args(["build", "--no-cache", "-t", &tag])
            .args(["--ca-bundle", "/etc/ssl/certs/ca-certificates.crt"])
            .arg("--output")
            .arg(format!("type=oci,dest={}", layout.display()))
            .arg("--iidfile")
            .arg(out.path().join("iid"))
            .arg(dir)
            // The flag for one build, the variable for the other: the same time either way.
            .args(if n == 0 {
                vec!["--source-date-epoch", EPOCH]
            } else {
                vec![]
            })
            .env("SOURCE_DATE_EPOCH", if n == 0 { "" } else { EPOCH })
            .output()
            .unwrap();
        let log = String::from_utf8_lossy(&done.stdout).into_owned();
        assert!(
            done.status.success(),
            "{log}{}",
            String::from_utf8_lossy(&done.stderr)
        );
        let index: serde_json::Value =
            serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
        (
            std::fs::read_to_string(out.path().join("iid")).unwrap(),
            index["manifests"][0]["digest"]
                .as_str()
                .unwrap()
                .to_string(),
        )
    })
}

fn assert_reproducible(dir: &Path, name: &str) {
    let [first, second] = twice(dir, name);
    assert_eq!(
        first, second,
        "{name}: the same image id and manifest digest"
    );
}

#[test]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
fn a_revised_build_with_pip_is_reproducible() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/python-hello");
    let app = copy_app(&example, &[]);
    assert_reproducible(app.path(), "python311");
}

#[test]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
fn an_original_build_is_reproducible() {
    let app = write_app(&[
        (
            "apprunner.yaml",
            "version: 1.0\nruntime: nodejs12\nbuild:\n  commands:\n    build:\n      - npm install\n      - echo built > built.txt\nrun:\n  command: node index.js\n",
        ),
        ("package.json", r#"{"name": "r12", "version": "1.0.0", "dependencies": {}}"#),
        ("index.js", "require('http').createServer((q, s) => s.end('hi')).listen(process.env.PORT)\n"),
    ]);
    assert_reproducible(app.path(), "nodejs12");
}

#[test]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
fn an_npm_app_with_a_lockfile_is_reproducible() {
    let app = copy_app(
        &app_fixture("express-npm"),
        &[(
            "apprunner.yaml",
            "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - npm ci\nrun:\n  command: node index.js\n",
        )],
    );
    assert_reproducible(app.path(), "nodejs22");
}
