//! `build --sbom FILE`: a CycloneDX 1.5 JSON SBOM read from the built image's files. The guide's
//! Python example lists pyramid 2.0 as pip installed it; an Express app built with `npm ci
//! --omit=dev` lists express at its lockfile's version and not the dev-only package the install
//! pruned; the base's dpkg packages are the OS component's. Each document is checked against
//! CycloneDX 1.5's JSON schema by scripts/validate-sbom.py, in the venv scripts/test.sh makes
//! (APPRUNNER_TEST_PYVALIDATORS); without it the schema check says so and passes, except under CI.

mod support;

use serde_json::Value;
use std::path::{Path, PathBuf};
use support::*;

/// The machine's CA bundle, for the package registries the builds reach.
const CA: &str = "/etc/ssl/certs/ca-certificates.crt";

fn json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// The library components: (purl, where found).
fn libraries(sbom: &Value) -> Vec<(String, String)> {
    sbom["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["type"] == "library")
        .map(|c| {
            (
                c["purl"].as_str().unwrap().to_string(),
                c["evidence"]["occurrences"][0]["location"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect()
}

/// The OS component's packages' purls.
fn os_packages(sbom: &Value) -> Vec<String> {
    let os = sbom["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "operating-system")
        .expect("an operating-system component");
    assert_eq!(os["name"], "debian", "{os}");
    os["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["purl"].as_str().unwrap().to_string())
        .collect()
}

/// The venv's python, or `None` (said) when scripts/test.sh did not make it; under CI, a failure.
fn validator() -> Option<PathBuf> {
    let python = std::env::var("APPRUNNER_TEST_PYVALIDATORS")
        .ok()
        .filter(|d| !d.is_empty())
        .map(|d| Path::new(&d).join("bin/python"))
        .filter(|p| p.is_file());
    if python.is_none() {
        let why = "APPRUNNER_TEST_PYVALIDATORS names no venv: the schema check needs the one scripts/test.sh makes (cyclonedx-python-lib)";
        if std::env::var("CI").is_ok_and(|v| !["", "0", "false"].contains(&v.as_str())) {
            panic!("{why}; CI runs it");
        }
        eprintln!("skipped: {why}");
    }
    python
}

fn check_schema(path: &Path) {
    let Some(python) = validator() else { return };
    let out = std::process::Command::new(python)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/validate-sbom.py"))
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
fn the_guide_s_python_example_lists_pyramid_and_the_base_s_dpkg_packages() {
    let app = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/python-hello");
    let tag = format!("apprunner-build-test/sbom-py:{}", std::process::id());
    let _image = ImageGuard::new(&tag);
    let out = tempfile::tempdir().unwrap();
    let dest = out.path().join("sbom.json");
    let log = build_with(
        &app,
        &tag,
        &[
            "--ca-bundle",
            CA,
            "--sbom",
            dest.to_str().unwrap(),
            "--metadata-file",
            out.path().join("metadata.json").to_str().unwrap(),
        ],
    );
    assert!(log.contains("[AppRunner] Wrote the SBOM ("), "{log}");
    assert_eq!(
        json(&out.path().join("metadata.json"))["sbom"],
        dest.to_str().unwrap()
    );
    let sbom = json(&dest);
    assert_eq!(sbom["bomFormat"], "CycloneDX");
    assert_eq!(sbom["specVersion"], "1.5");
    assert_eq!(sbom["metadata"]["component"]["name"], tag.as_str());
    let libraries = libraries(&sbom);
    let pyramid: Vec<_> = libraries
        .iter()
        .filter(|(purl, _)| purl.starts_with("pkg:pypi/pyramid@"))
        .collect();
    assert_eq!(pyramid.len(), 1, "{libraries:?}");
    assert_eq!(pyramid[0].0, "pkg:pypi/pyramid@2.0");
    assert!(
        pyramid[0]
            .1
            .ends_with("/site-packages/pyramid-2.0.dist-info/METADATA"),
        "{pyramid:?}"
    );
    let debs = os_packages(&sbom);
    assert!(
        debs.iter().any(|p| p.starts_with("pkg:deb/debian/libc6@")),
        "{debs:?}"
    );
    assert!(
        log.contains(&format!("{} OS packages)", debs.len())),
        "the log counts what the document lists: {log}"
    );
    check_schema(&dest);

    // A destination that cannot be written: the image is built, the build fails with AR830.
    let bad = out.path().join("missing/sbom.json");
    let failed = cli()
        .args(["build", "-t", &tag, "--ca-bundle", CA])
        .args(["--sbom", bad.to_str().unwrap()])
        .arg(&app)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&failed.stderr);
    assert_eq!(failed.status.code(), Some(2), "{text}");
    assert!(text.contains("AR830"), "{text}");
    assert!(!bad.exists());
}

#[test]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
fn an_express_app_lists_its_installed_packages_and_not_a_pruned_dev_dependency() {
    let fixture = app_fixture("express-npm");
    // is-number is a dev dependency only (express does not need it): `npm ci --omit=dev` leaves
    // it in the lockfile and out of node_modules.
    let mut manifest = json(&fixture.join("package.json"));
    manifest["devDependencies"] = serde_json::json!({"is-number": "7.0.0"});
    let mut lock = json(&fixture.join("package-lock.json"));
    lock["packages"][""]["devDependencies"] = serde_json::json!({"is-number": "7.0.0"});
    lock["packages"]["node_modules/is-number"] = serde_json::json!({
        "version": "7.0.0",
        "resolved": "https://registry.npmjs.org/is-number/-/is-number-7.0.0.tgz",
        "integrity": "sha512-41Cifkg6e8TylSpdtTpeLVMqvSBEVzTttHvERD741+pnZ8ANv0004MRL43QKPDlK9cGvNp6NZWZUBlbGXYxxng==",
        "dev": true,
        "license": "MIT",
        "engines": {"node": ">=0.12.0"}
    });
    let express = lock["packages"]["node_modules/express"]["version"]
        .as_str()
        .unwrap()
        .to_string();
    let (manifest, lock) = (manifest.to_string(), lock.to_string());
    let app = copy_app(
        &fixture,
        &[
            (
                "apprunner.yaml",
                "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - npm ci --omit=dev\nrun:\n  command: node index.js\n",
            ),
            ("package.json", &manifest),
            ("package-lock.json", &lock),
        ],
    );
    let tag = format!("apprunner-build-test/sbom-npm:{}", std::process::id());
    let _image = ImageGuard::new(&tag);
    let out = tempfile::tempdir().unwrap();
    let dest = out.path().join("sbom.json");
    let log = build_with(
        app.path(),
        &tag,
        &["--ca-bundle", CA, "--sbom", dest.to_str().unwrap()],
    );
    let sbom = json(&dest);
    let libraries = libraries(&sbom);
    assert!(
        libraries.contains(&(
            format!("pkg:npm/express@{express}"),
            "/app/node_modules/express".to_string()
        )),
        "{libraries:?}"
    );
    assert!(
        !libraries
            .iter()
            .any(|(purl, _)| purl.contains("/is-number@")),
        "the pruned dev dependency is not listed: {libraries:?}"
    );
    let listed = libraries
        .iter()
        .filter(|(p, _)| p.starts_with("pkg:npm/"))
        .count();
    assert!(log.contains(&format!("{listed} npm,")), "{log}");
    check_schema(&dest);
}

#[test]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
fn an_rpm_database_is_named_as_not_read() {
    // rpm's databases are found, not read: the build says so (AR831) and still writes the SBOM.
    let app = write_app(&[(
        "apprunner.yaml",
        "version: 1.0\nruntime: python311\nbuild:\n  commands:\n    build:\n      - echo built\nrun:\n  pre-run:\n    - mkdir -p /var/lib/rpm && echo not read > /var/lib/rpm/rpmdb.sqlite\n  command: python3 -m http.server 8080\n",
    )]);
    let tag = format!("apprunner-build-test/sbom-rpm:{}", std::process::id());
    let _image = ImageGuard::new(&tag);
    let out = tempfile::tempdir().unwrap();
    let dest = out.path().join("sbom.json");
    let log = build_with(app.path(), &tag, &["--sbom", dest.to_str().unwrap()]);
    assert!(
        log.contains("rpm database (/var/lib/rpm/rpmdb.sqlite) is not read")
            && log.contains("[AR831]"),
        "{log}"
    );
    assert!(dest.is_file());
}
