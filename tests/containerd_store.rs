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
    build_with(host, dir, tag, &[])
}

fn build_with(host: &str, dir: &std::path::Path, tag: &str, args: &[&std::ffi::OsStr]) -> String {
    let out = cli()
        .env("DOCKER_HOST", host)
        .args(["build", "-t", tag, "--network", "host", "--ca-bundle"])
        .arg("/etc/ssl/certs/ca-certificates.crt")
        .args(args)
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

async fn remove(docker: &bollard::Docker, name: &str) {
    let _ = docker
        .remove_image(
            name,
            Some(
                bollard::query_parameters::RemoveImageOptionsBuilder::new()
                    .force(true)
                    .build(),
            ),
            None,
        )
        .await;
}

/// A restored `--cache-dir` skips the install on that store too: the dependency layer kept
/// there is loaded the same way.
#[tokio::test]
#[ignore = "needs a Docker engine with the containerd image store and the fixture images: run scripts/test.sh with APPRUNNER_TEST_ENGINE26_CONTAINERD"]
async fn a_kept_dependency_layer_is_loaded_on_the_containerd_store() {
    let Ok(host) = std::env::var("APPRUNNER_TEST_ENGINE26_CONTAINERD") else {
        eprintln!("{NEEDS}");
        return;
    };
    let dir = copy_tree(example());
    // Dependencies of this test's own (a key no other build has).
    let requirements = dir.path().join("requirements.txt");
    let text = std::fs::read_to_string(&requirements).unwrap();
    std::fs::write(
        &requirements,
        format!("{text}\n# {} {}\n", std::process::id(), chrono::Utc::now()),
    )
    .unwrap();
    let cache = tempfile::tempdir().unwrap();
    let args = [
        std::ffi::OsStr::new("--cache-dir"),
        cache.path().as_os_str(),
    ];
    let tag = format!(
        "apprunner-build-test/containerd-kept:{}",
        std::process::id()
    );
    let first = build_with(&host, dir.path(), &tag, &args);
    let at = first
        .find("kept as apprunner-build-cache/deps:")
        .expect("the install is kept");
    let deps: String = first[at + "kept as ".len()..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || "/:-_".contains(*c))
        .collect();
    let socket = host.trim_start_matches("unix://");
    let docker =
        bollard::Docker::connect_with_unix(socket, 120, bollard::API_DEFAULT_VERSION).unwrap();
    // An engine that has never seen the layer, with the cache directory restored.
    remove(&docker, &deps).await;
    let server = dir.path().join("server.py");
    let text = std::fs::read_to_string(&server).unwrap();
    std::fs::write(&server, format!("{text}\n# kept-layer edit\n")).unwrap();
    let second = build_with(&host, dir.path(), &tag, &args);
    assert!(
        second.contains("Dependencies from the cache directory"),
        "{second}"
    );
    let out = output_of(
        &docker,
        &tag,
        "tail -n 1 /app/server.py && python3 -c 'import pyramid; print(pyramid.__name__)'",
    )
    .await;
    remove(&docker, &tag).await;
    remove(&docker, &deps).await;
    assert!(out.contains("# kept-layer edit"), "{out}");
    assert!(out.contains("pyramid"), "{out}");
}
