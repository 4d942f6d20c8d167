//! Issue 20: on an engine that keeps images in the containerd image store (Docker Desktop, new
//! Docker installs), steps that run no command are still written layers, loaded as OCI image
//! layouts, and the image runs.
//!
//! Needs a second engine with that store: `APPRUNNER_TEST_ENGINE26_CONTAINERD` names its socket
//! (`DOCKER_HOST=$(scripts/start-engine26.sh containerd | tail -n 1)`); without it the test says
//! so and passes.

mod support;

use support::*;

const NEEDS: &str = "APPRUNNER_TEST_ENGINE26_CONTAINERD is not set: this test needs an engine with the containerd image store, e.g. APPRUNNER_TEST_ENGINE26_CONTAINERD=$(scripts/start-engine26.sh containerd | tail -n 1)";

fn build(host: &str, dir: &std::path::Path, tag: &str) -> String {
    let out = cli()
        .env("DOCKER_HOST", host)
        .args(["build", "-t", tag, "--network", "host", "--ca-bundle"])
        .arg("/etc/ssl/certs/ca-certificates.crt")
        .arg(dir)
        .output()
        .unwrap();
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "the build failed:\n{log}");
    log
}

#[tokio::test]
#[ignore = "needs a Docker engine with the containerd image store and the fixture images: run scripts/test.sh with APPRUNNER_TEST_ENGINE26_CONTAINERD"]
async fn written_layers_are_loaded_as_oci_layouts_on_the_containerd_store() {
    let Ok(host) = std::env::var("APPRUNNER_TEST_ENGINE26_CONTAINERD") else {
        eprintln!("{NEEDS}");
        return;
    };
    let dir = copy_tree(example());
    let tag = format!(
        "apprunner-build-test/containerd-store:{}",
        std::process::id()
    );
    let first = build(&host, dir.path(), &tag);
    assert!(
        first.contains("written layers are loaded as OCI image layouts"),
        "the log names the path taken:\n{first}"
    );
    assert!(!first.contains("every step uses a container"), "{first}");
    // A one-line source edit: the source layer and the config, written; no container.
    let server = dir.path().join("server.py");
    let text = std::fs::read_to_string(&server).unwrap();
    std::fs::write(&server, format!("{text}\n# containerd-store edit\n")).unwrap();
    let second = build(&host, dir.path(), &tag);
    assert!(
        second.contains("Wrote the application image"),
        "the edit is written, not committed:\n{second}"
    );
    let socket = host.trim_start_matches("unix://");
    let docker =
        bollard::Docker::connect_with_unix(socket, 120, bollard::API_DEFAULT_VERSION).unwrap();
    let tail = output_of(
        &docker,
        &tag,
        "tail -n 1 /app/server.py && python3 --version",
    )
    .await;
    let _ = docker
        .remove_image(
            &tag,
            Some(
                bollard::query_parameters::RemoveImageOptionsBuilder::new()
                    .force(true)
                    .build(),
            ),
            None,
        )
        .await;
    assert!(tail.contains("# containerd-store edit"), "{tail}");
    assert!(tail.contains("Python 3.11"), "{tail}");
}
