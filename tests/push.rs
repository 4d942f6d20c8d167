//! `build --push`: the image pushed to a real registry (Debian's docker-registry) with the
//! credentials the docker CLI would use: none for the plain registry on 127.0.0.1:5000, `auths`
//! and a credential helper for one behind TLS and htpasswd. A failed push names the registry's
//! answer and the credential source, never the secret, and leaves the image in the engine. Run
//! with scripts/test.sh.

mod support;

use std::path::Path;
use std::process::Output;
use support::*;

const USER: &str = "pusher";
const PASSWORD: &str = "s3cret-Pa55word-for-the-test";

fn small_app() -> tempfile::TempDir {
    write_app(&[
        (
            "apprunner.yaml",
            "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - echo built > built.txt\nrun:\n  command: node index.js\n",
        ),
        ("index.js", "console.log('hi')\n"),
    ])
}

/// `build -t TAG --push DIR` with `config` as DOCKER_CONFIG (and `path_first` ahead on PATH),
/// writing its provenance statement beside the config.
fn push(dir: &Path, tag: &str, config: &Path, path_first: Option<&Path>) -> (Output, String) {
    let mut c = cli();
    c.args(["build", "-t", tag, "--push"])
        .arg("--provenance")
        .arg(config.join("provenance.json"))
        .arg(dir)
        .env("DOCKER_CONFIG", config);
    if let Some(first) = path_first {
        let path = std::env::var("PATH").unwrap_or_default();
        c.env("PATH", format!("{}:{path}", first.display()));
    }
    let out = c.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out, text)
}

fn auths(addr: &str, user: &str, password: &str) -> serde_json::Value {
    use base64::Engine;
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    serde_json::json!({ "auths": { addr: { "auth": auth } } })
}

/// To the plain registry on 127.0.0.1:5000 (no credentials): the registry holds the digest the
/// log reports, and a second push after a one-line edit sends only the new layers.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine, the fixture images and the local registry: run scripts/test.sh"]
async fn a_push_sends_only_what_the_registry_lacks() {
    let app = small_app();
    let repo = format!("apprunner-build-test/push-{}", std::process::id());
    let tag = format!("127.0.0.1:5000/{repo}:one");
    let _image = ImageGuard::new(&tag);
    let config = docker_config(serde_json::json!({}));
    let (out, log) = push(app.path(), &tag, config.path(), None);
    assert!(out.status.success(), "{log}");
    let pushed = log
        .lines()
        .find(|l| l.contains("[AppRunner] Pushed "))
        .unwrap_or_else(|| panic!("{log}"));
    assert!(
        pushed.contains("no credentials for 127.0.0.1:5000"),
        "{pushed}"
    );
    let head = std::process::Command::new("curl")
        .args([
            "-sSI",
            "-H",
            "Accept: application/vnd.docker.distribution.manifest.v2+json",
        ])
        .arg(format!("http://127.0.0.1:5000/v2/{repo}/manifests/one"))
        .output()
        .unwrap();
    let digest = digest_header(&String::from_utf8_lossy(&head.stdout)).expect("pushed");
    assert!(pushed.contains(&format!("({digest})")), "{pushed}");

    // The provenance statement's subject is the pushed manifest.
    let statement: serde_json::Value =
        serde_json::from_slice(&std::fs::read(config.path().join("provenance.json")).unwrap())
            .unwrap();
    assert_eq!(statement["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(statement["predicateType"], "https://slsa.dev/provenance/v1");
    assert_eq!(statement["subject"][0]["name"], tag.as_str());
    assert_eq!(
        format!(
            "sha256:{}",
            statement["subject"][0]["digest"]["sha256"]
                .as_str()
                .unwrap()
        ),
        digest
    );
    let dependencies = statement["predicate"]["buildDefinition"]["resolvedDependencies"]
        .as_array()
        .unwrap();
    assert!(
        dependencies
            .iter()
            .any(|d| d["annotations"]["stage"] == "runtime" && d["digest"]["sha256"].is_string()),
        "the base image by digest: {statement}"
    );

    std::fs::write(app.path().join("index.js"), "console.log('edited')\n").unwrap();
    let (out, log) = push(app.path(), &tag, config.path(), None);
    assert!(out.status.success(), "{log}");
    let again = log
        .lines()
        .find(|l| l.contains("[AppRunner] Pushed "))
        .unwrap();
    assert!(
        again.contains(": 1 layer sent,"),
        "only the edited source's layer is sent again: {again}"
    );
}

/// Behind TLS and basic auth: refused while the engine does not trust the registry's CA (the
/// answer names the certificate), pushed once it does (`certs.d`) with the `auths` login, pushed
/// with a credential helper named in `credHelpers` (run as Docker runs it), and refused with a
/// wrong password; no output ever holds the password. One registry, so the image is sent once.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine, the fixture images and docker-registry: run scripts/test.sh"]
async fn a_tls_registry_with_a_login_is_pushed_to_as_docker_would() {
    let docker = docker().await;
    let mut registry = Registry::tls_with_login(&bridge_gateway(&docker).await, USER, PASSWORD);
    let app = small_app();
    let tag = format!("{}/app:{}", registry.addr, std::process::id());
    let _image = ImageGuard::new(&tag);
    let login = docker_config(auths(&registry.addr, USER, PASSWORD));

    let (out, log) = push(app.path(), &tag, login.path(), None);
    assert_eq!(out.status.code(), Some(7), "{log}");
    assert!(log.contains("AR707"), "{log}");
    assert!(log.contains("certificate"), "the registry's answer: {log}");
    assert!(
        log.contains(&format!(
            "auths in {}",
            login.path().join("config.json").display()
        )),
        "{log}"
    );
    assert!(
        docker.inspect_image(&tag).await.is_ok(),
        "the image stays in the engine"
    );

    registry.trust();
    let (out, log) = push(app.path(), &tag, login.path(), None);
    assert!(out.status.success(), "{log}");
    let pushed = log
        .lines()
        .find(|l| l.contains("[AppRunner] Pushed "))
        .unwrap();
    let digest = registry
        .digest_of("app", &std::process::id().to_string(), USER, PASSWORD)
        .expect("the registry holds the image");
    assert!(pushed.contains(&digest), "{pushed}");

    let bin = tempfile::tempdir().unwrap();
    credential_helper(bin.path(), "apprtest", USER, PASSWORD);
    let helped = docker_config(serde_json::json!({
        "auths": { registry.addr.clone(): {} },
        "credHelpers": { registry.addr.clone(): "apprtest" },
    }));
    let other = format!("{}/helped:{}", registry.addr, std::process::id());
    let _other = ImageGuard::new(&other);
    let (out, by_helper) = push(app.path(), &other, helped.path(), Some(bin.path()));
    assert!(out.status.success(), "{by_helper}");
    assert!(
        by_helper.contains("credHelpers in") && by_helper.contains("docker-credential-apprtest"),
        "{by_helper}"
    );
    assert!(registry
        .digest_of("helped", &std::process::id().to_string(), USER, PASSWORD)
        .is_some());

    let wrong = docker_config(auths(&registry.addr, USER, "not-the-password"));
    let (out, bad) = push(app.path(), &tag, wrong.path(), None);
    assert_eq!(out.status.code(), Some(7), "{bad}");
    assert!(bad.contains("the registry answered"), "{bad}");
    for text in [&log, &by_helper, &bad] {
        assert!(!text.contains(PASSWORD) && !text.contains("not-the-password"));
    }
}
