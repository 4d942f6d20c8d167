//! An engine over TLS with client-certificate verification, as CI's `docker:dind` serves it on
//! port 2376: `socat` in front of the machine's engine (`/work/shared/notes/engines.md`), with a
//! CA, a server and a client certificate made by `openssl`. A real handshake, both ways.

use crate::engine::*;
use crate::support::*;
use apprunner_build::report::exit;
use sha2::Digest;
use std::path::Path;

/// The build on the TLS engine works, and its log's first line names the engine and the route;
/// without the client certificate, or without TLS, the engine refuses and the failure says why,
/// with its code, printing no key material.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn a_tls_engine_with_client_certificates() {
    let Some(engine) = engine(Which::Docker20).await else {
        return;
    };
    let socket = engine.host.strip_prefix("unix://").unwrap().to_string();
    let certs = tempfile::tempdir().unwrap();
    certificates_for(certs.path(), "127.0.0.1");
    let Some(front) = tls_front(certs.path(), &socket) else {
        return;
    };
    let version = engine.docker.version().await.unwrap().version.unwrap();
    let host = format!("tcp://127.0.0.1:{}", front.port);
    let app = write_app(&[(
        "apprunner.yaml",
        "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - echo over-tls\nrun:\n  command: sleep 1000\n",
    )]);
    let mut images = Images::new(&engine);
    let tag = images.name("apprunner-build-test/tls:1".into());
    let build = |cert_path: &Path, tls: bool| {
        let mut c = cli();
        c.args(["build", "--no-cache", "-t", &tag])
            .arg(app.path())
            .env("DOCKER_HOST", &host)
            .env("DOCKER_CERT_PATH", cert_path)
            .env_remove("DOCKER_TLS_VERIFY");
        if tls {
            c.env("DOCKER_TLS_VERIFY", "1");
        }
        c.output().unwrap()
    };

    let out = build(certs.path(), true);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", text(&out));
    let first = stdout.lines().next().unwrap();
    assert_eq!(
        &first[first.find("[AppRunner]").unwrap_or(0)..],
        format!("[AppRunner] Docker Engine {version} at {host} (DOCKER_HOST, TLS)"),
        "{stdout}"
    );
    assert!(stdout.contains("[Build] over-tls"), "{stdout}");

    // The same engine as a Docker context with its TLS files, where `docker context create`
    // keeps them.
    let config = tempfile::tempdir().unwrap();
    let id: String = sha2::Sha256::digest(b"remote")
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let meta = config.path().join("contexts/meta").join(&id);
    let tls = config.path().join("contexts/tls").join(&id).join("docker");
    std::fs::create_dir_all(&meta).unwrap();
    std::fs::create_dir_all(&tls).unwrap();
    let json = serde_json::json!({"Name": "remote", "Metadata": {}, "Endpoints": {"docker": {"Host": host}}});
    std::fs::write(meta.join("meta.json"), json.to_string()).unwrap();
    for f in ["ca.pem", "cert.pem", "key.pem"] {
        std::fs::copy(certs.path().join(f), tls.join(f)).unwrap();
    }
    let out = cli()
        .args(["run", "apprunner-build-test/no-such-image:1"])
        .env_remove("DOCKER_HOST")
        .env_remove("DOCKER_TLS_VERIFY")
        .env("DOCKER_CONFIG", config.path())
        .env("DOCKER_CONTEXT", "remote")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("[AR601]"),
        "reached the engine: {}",
        text(&out)
    );
    let first = stdout.lines().next().unwrap();
    assert_eq!(
        &first[first.find("[AppRunner]").unwrap_or(0)..],
        format!(
            "[AppRunner] Docker Engine {version} at {host} (context remote, DOCKER_CONTEXT, TLS)"
        )
    );

    // Only the CA: no client certificate is sent, and the engine's front refuses the connection.
    let ca_only = tempfile::tempdir().unwrap();
    std::fs::copy(certs.path().join("ca.pem"), ca_only.path().join("ca.pem")).unwrap();
    let out = build(ca_only.path(), true);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(exit::ENGINE_FAILED.into()), "{all}");
    assert!(
        all.contains(&format!(
            "Reason: Cannot reach the Docker engine at {host} (DOCKER_HOST, TLS): "
        )) && all.contains("[AR500]"),
        "{all}"
    );
    assert!(
        all.contains(&format!(
            "help: the engine refused the TLS connection, and no client certificate was sent: {} has no cert.pem and key.pem",
            ca_only.path().display()
        )),
        "{all}"
    );
    // Plain HTTP to the TLS port: refused too, and the help names the TLS settings.
    let out = build(certs.path(), false);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(exit::ENGINE_FAILED.into()), "{all}");
    assert!(
        all.contains(&format!(
            "Cannot reach the Docker engine at {host} (DOCKER_HOST)"
        )),
        "{all}"
    );
    assert!(
        all.contains("[AR500]") && all.contains("DOCKER_TLS_VERIFY=1"),
        "{all}"
    );
    // No key material in either failure.
    let key = std::fs::read_to_string(certs.path().join("key.pem")).unwrap();
    let key_line = key.lines().nth(1).unwrap();
    for out in [build(ca_only.path(), true), build(certs.path(), false)] {
        let all = text(&out);
        assert!(
            !all.contains("PRIVATE KEY") && !all.contains(key_line),
            "{all}"
        );
    }
}

/// A missing `ca.pem` is refused before any connection, naming the file (AR515); needs no engine.
#[test]
fn tls_without_a_ca_is_refused_naming_the_file() {
    let app = write_app(&[(
        "apprunner.yaml",
        "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - echo x\nrun:\n  command: x\n",
    )]);
    let empty = tempfile::tempdir().unwrap();
    let out = shipped_cli()
        .args(["build", "-t", "x"])
        .arg(app.path())
        .env("DOCKER_HOST", "tcp://127.0.0.1:2376")
        .env("DOCKER_TLS_VERIFY", "1")
        .env("DOCKER_CERT_PATH", empty.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(exit::ENGINE_FAILED.into()),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "DOCKER_TLS_VERIFY is set, but there is no {}/ca.pem",
            empty.path().display()
        )) && stdout.contains("[AR515]"),
        "{stdout}"
    );
}
