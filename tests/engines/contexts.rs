//! Docker contexts, as the docker CLI keeps them: `config.json`'s `currentContext` names a context
//! whose `meta.json` points at Docker 26, and `DOCKER_CONTEXT` overrides it. The log's first line
//! names the engine and the route.

use crate::engine::*;
use crate::support::*;
use sha2::{Digest, Sha256};
use std::path::Path;

/// A context `name` at `host` in the configuration directory `dir`, as `docker context create`
/// writes it.
fn write_context(dir: &Path, name: &str, host: &str) {
    let meta = dir
        .join("contexts/meta")
        .join(hex(&Sha256::digest(name.as_bytes())));
    std::fs::create_dir_all(&meta).unwrap();
    let json = serde_json::json!({
        "Name": name,
        "Metadata": {},
        "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": false}},
    });
    std::fs::write(meta.join("meta.json"), json.to_string()).unwrap();
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `run IMAGE` of an image no engine has: it connects, says which engine, and stops at AR601.
fn first_line(config: &Path, context: Option<&str>) -> String {
    let mut c = cli();
    c.args(["run", "apprunner-build-test/no-such-image:1"])
        .env_remove("DOCKER_HOST")
        .env_remove("DOCKER_CONTEXT")
        .env("DOCKER_CONFIG", config);
    if let Some(context) = context {
        c.env("DOCKER_CONTEXT", context);
    }
    let out = c.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("AR601"),
        "reached the engine: {}",
        text(&out)
    );
    let first = stdout.lines().next().unwrap_or_default();
    // After the time stamp.
    first[first.find("[AppRunner]").unwrap_or(0)..].to_string()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn the_current_context_and_docker_context() {
    let Some(docker26) = engine(Which::Classic).await else {
        return;
    };
    let _shared = CLASSIC.read().await;
    let docker20 = engine(Which::Docker20).await.unwrap();
    let version = |e: &Engine| {
        let docker = e.docker.clone();
        async move { docker.version().await.unwrap().version.unwrap() }
    };
    let (v26, v20) = (version(&docker26).await, version(&docker20).await);
    let config = tempfile::tempdir().unwrap();
    std::fs::write(
        config.path().join("config.json"),
        r#"{"auths":{},"currentContext":"ci"}"#,
    )
    .unwrap();
    write_context(config.path(), "ci", &docker26.host);
    write_context(config.path(), "machine", &docker20.host);
    let config_json = config.path().join("config.json");

    let line = first_line(config.path(), None);
    assert_eq!(
        line,
        format!(
            "[AppRunner] Docker Engine {v26} at {} (context ci, currentContext in {})",
            docker26.host,
            config_json.display()
        )
    );
    let line = first_line(config.path(), Some("machine"));
    assert_eq!(
        line,
        format!(
            "[AppRunner] Docker Engine {v20} at {} (context machine, DOCKER_CONTEXT)",
            docker20.host
        )
    );
    // A context that does not exist is refused by name, never replaced by the default socket.
    let out = cli()
        .args(["run", "apprunner-build-test/no-such-image:1"])
        .env_remove("DOCKER_HOST")
        .env("DOCKER_CONFIG", config.path())
        .env("DOCKER_CONTEXT", "gone")
        .output()
        .unwrap();
    let all = text(&out);
    assert!(
        all.contains("Context \"gone\": context not found") && all.contains("[AR515]"),
        "{all}"
    );
    assert!(!all.contains("Docker Engine"), "{all}");
}
