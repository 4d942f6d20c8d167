//! Builds on a real engine, for the tests that need one with the fixture runtime images
//! (`scripts/fixture-images.sh` builds them and writes the catalog `APPRUNNER_TEST_CATALOG` names):
//! the plan, the build and what it left, and what an image holds.
//!
//! Every engine test is `#[ignore = "needs a Docker engine and the fixture images: run
//! scripts/test.sh"]`, so that a plain `cargo test` passes on a machine without an engine.

use super::containers::{output_of, ImageGuard};
use super::project::{copy_tree, today};
use apprunner_build::engine::{BuildOptions, BuiltImage, EngineError, ImageName, Session};
use apprunner_build::plan::BuildPlan;
use apprunner_build::project::{self, ProjectArgs};
use apprunner_build::report::errors;
use apprunner_build::report::log::{BuildLog, LogFormat};
use apprunner_build::resolve::catalog::Catalog;
use bollard::query_parameters::RemoveImageOptionsBuilder;
use bollard::Docker;
use std::path::{Path, PathBuf};

/// The test catalog; these tests need the fixture images and say so plainly when they are missing.
pub fn test_catalog() -> PathBuf {
    let path = std::env::var("APPRUNNER_TEST_CATALOG").expect(
        "APPRUNNER_TEST_CATALOG is not set: run the suite with scripts/test.sh, which starts dockerd and builds the fixture images",
    );
    PathBuf::from(path)
}

pub async fn docker() -> Docker {
    Session::connect()
        .await
        .expect("a Docker engine answers (scripts/start-dockerd.sh starts one)")
        .docker()
        .clone()
}

/// With `APPRUNNER_TEST_DEPENDENCY_LAYERS=1`, every test builds with dependency layers on.
pub fn plan_for(dir: &Path) -> BuildPlan {
    plan_with(
        dir,
        std::env::var_os("APPRUNNER_TEST_DEPENDENCY_LAYERS").is_some_and(|v| v == "1"),
    )
}

/// The plan with dependency layers on (`--dependency-layers`), or off.
pub fn plan_with(dir: &Path, dependency_layers: bool) -> BuildPlan {
    let catalog = Catalog::load(&[test_catalog()]).unwrap();
    let loaded = project::load(
        &ProjectArgs {
            dir: dir.to_path_buf(),
            dependency_layers,
            ..Default::default()
        },
        &catalog,
        today(),
    );
    let report = errors::render_all(&loaded.diagnostics);
    loaded
        .plan
        .unwrap_or_else(|| panic!("the test app is valid:\n{report}"))
}

/// A unique image name for one test.
pub fn image_name(test: &str) -> ImageName {
    ImageName::parse(&format!(
        "apprunner-build-test/{test}:{}",
        std::process::id()
    ))
    .unwrap()
}

pub struct Build {
    pub result: Result<BuiltImage, EngineError>,
    pub log: Vec<String>,
    /// Containers the build made that still exist after its cleanup (there must be none).
    pub leftovers: Vec<String>,
}

pub async fn build(docker: &Docker, dir: &Path, test: &str) -> Build {
    build_plan(docker, &plan_for(dir), test).await
}

/// [`build`] of a copy of a fixture directory: what a build keeps for reuse (a stage's state) is
/// per project directory, and a fixture's own directory keeps it from earlier runs of the suite,
/// so its commands would not run again.
pub async fn build_copy(docker: &Docker, dir: &Path, test: &str) -> Build {
    let copy = copy_tree(dir);
    build(docker, copy.path(), test).await
}

/// [`build`], of a plan made elsewhere.
pub async fn build_plan(docker: &Docker, plan: &BuildPlan, test: &str) -> Build {
    build_plan_with(docker, plan, test, true).await
}

/// [`build_plan`]; `layer_cache: false` as `--no-cache` sets it.
pub async fn build_plan_with(
    docker: &Docker,
    plan: &BuildPlan,
    test: &str,
    layer_cache: bool,
) -> Build {
    build_plan_opts(docker, plan, test, layer_cache, true).await
}

/// [`build_plan_with`]; `write_layers: false` makes every step a container step.
pub async fn build_plan_opts(
    docker: &Docker,
    plan: &BuildPlan,
    test: &str,
    layer_cache: bool,
    write_layers: bool,
) -> Build {
    let mut options = test_options(test);
    options.layer_cache = layer_cache;
    options.write_layers = write_layers;
    build_plan_in(docker, plan, &options).await
}

/// The options a test build uses: a CA bundle, package caches, every cache on, a layer
/// directory shared by the tests.
pub fn test_options(test: &str) -> BuildOptions {
    BuildOptions {
        image: image_name(test),
        network: None,
        ca_bundle: Some("/etc/ssl/certs/ca-certificates.crt".into()),
        // Every test build really builds; the up-to-date check has its own test.
        reuse_image: false,
        package_cache: true,
        layer_cache: true,
        write_layers: true,
        export_layers: false,
        layer_dir: std::env::temp_dir().join("apprunner-build-test-layers"),
        exclude: vec![],
        limits: Default::default(),
    }
}

/// Build `plan` with `options`; the containers it made are checked to be gone.
pub async fn build_plan_in(docker: &Docker, plan: &BuildPlan, options: &BuildOptions) -> Build {
    let plan = plan.clone();
    let log = BuildLog::in_memory(LogFormat::Text).echo_to_stderr();
    let session = Session::with_docker(docker.clone());
    let result = session.build(&plan, options, &log).await;
    // A build may make no container at all (every step a written layer); those it made must go.
    let made = session.created_containers();
    let mut leftovers = Vec::new();
    for id in made {
        if docker
            .inspect_container(
                &id,
                None::<bollard::query_parameters::InspectContainerOptions>,
            )
            .await
            .is_ok()
        {
            leftovers.push(id);
        }
    }
    Build {
        result,
        log: log.lines(),
        leftovers,
    }
}

pub async fn remove_image(docker: &Docker, name: &ImageName) {
    let _ = docker
        .remove_image(
            &name.to_string(),
            Some(RemoveImageOptionsBuilder::new().force(true).build()),
            None,
        )
        .await;
}

/// Remove an image by its `NAME[:TAG]`.
pub async fn remove_named(docker: &Docker, name: &str) {
    remove_image(docker, &ImageName::parse(name).expect("a valid image name")).await;
}

/// Containers this process's builds left behind (there must be none).
pub async fn leftover_containers(docker: &Docker, pid: u32) -> Vec<String> {
    let prefix = format!("apprunner-build-{pid}-");
    let options = bollard::query_parameters::ListContainersOptionsBuilder::new()
        .all(true)
        .build();
    docker
        .list_containers(Some(options))
        .await
        .unwrap()
        .into_iter()
        .flat_map(|c| c.names.unwrap_or_default())
        .filter(|n| n.trim_start_matches('/').starts_with(&prefix))
        .collect()
}

pub fn log_has(log: &[String], needle: &str) -> bool {
    log.iter().any(|l| l.contains(needle))
}

/// The dependency-layer images a build's log names, to remove after the test.
pub fn layer_guards(log: &[String]) -> Vec<ImageGuard> {
    log.iter()
        .filter_map(|l| {
            let at = l.find("apprunner-build-cache/deps:")?;
            let tag: String = l[at..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || "/:-_.".contains(*c))
                .collect();
            Some(ImageGuard::new(tag.trim_end_matches(['.', ':'])))
        })
        .collect()
}

/// The containers of the process `pid`, found by their owner label.
pub async fn containers_of(docker: &bollard::Docker, pid: u32) -> Vec<String> {
    let filters = std::collections::HashMap::from([("label", vec!["apprunner-build.owner"])]);
    let options = bollard::query_parameters::ListContainersOptionsBuilder::new()
        .all(true)
        .filters(&filters)
        .build();
    docker
        .list_containers(Some(options))
        .await
        .unwrap()
        .into_iter()
        .filter(|c| {
            c.labels
                .as_ref()
                .and_then(|l| l.get("apprunner-build.owner"))
                .is_some_and(|v| v.starts_with(&format!("pid={pid} ")))
        })
        .filter_map(|c| c.id)
        .collect()
}

/// Whether the container `id` is still there.
pub async fn exists(docker: &bollard::Docker, id: &str) -> bool {
    docker
        .inspect_container(
            id,
            None::<bollard::query_parameters::InspectContainerOptions>,
        )
        .await
        .is_ok()
}

/// The host side of the ports the engine published for the containers of `pid`: (IP, port).
pub async fn bindings_of(docker: &bollard::Docker, pid: u32) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for id in containers_of(docker, pid).await {
        let inspect = docker
            .inspect_container(
                &id,
                None::<bollard::query_parameters::InspectContainerOptions>,
            )
            .await
            .unwrap();
        for bindings in inspect
            .network_settings
            .and_then(|n| n.ports)
            .unwrap_or_default()
            .into_values()
            .flatten()
        {
            for b in bindings {
                found.push((
                    b.host_ip.unwrap_or_default(),
                    b.host_port.unwrap_or_default(),
                ));
            }
        }
    }
    found
}

/// Every path in every layer tar of `image`, from the engine's export (`docker save`), streamed
/// through a temporary file.
pub async fn layer_paths(docker: &bollard::Docker, image: &str) -> Vec<String> {
    use futures_util::StreamExt;
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("image.tar");
    let mut file = std::fs::File::create(&saved).unwrap();
    let mut export = docker.export_image(image);
    while let Some(chunk) = export.next().await {
        file.write_all(&chunk.expect("exports the image")).unwrap();
    }
    drop(file);
    tokio::task::spawn_blocking(move || {
        let mut paths = Vec::new();
        let mut outer = tar::Archive::new(std::fs::File::open(&saved).unwrap());
        for entry in outer.entries().unwrap() {
            let entry = entry.unwrap();
            let name = entry.path().unwrap().display().to_string();
            let is_layer = name.ends_with("layer.tar") || name.starts_with("blobs/");
            if !is_layer || entry.header().entry_type() != tar::EntryType::Regular {
                continue;
            }
            // OCI layouts keep configs and manifests among the blobs: not tars, skipped.
            let mut inner = tar::Archive::new(entry);
            let Ok(entries) = inner.entries() else {
                continue;
            };
            for e in entries {
                let Ok(e) = e else { break };
                paths.push(String::from_utf8_lossy(&e.path_bytes()).into_owned());
            }
        }
        paths
    })
    .await
    .unwrap()
}

/// Every path of the image's file system with its type, mode and owner (and link target), and
/// every regular file's sha256; compiled bytecode only by path, since it records when it was
/// compiled. The kernel's and the engine's own paths are left out.
pub async fn image_tree(docker: &bollard::Docker, image: &str) -> String {
    output_of(
        docker,
        image,
        "cd / && find . -xdev \\( -path ./proc -o -path ./sys -o -path ./dev -o -path ./tmp -o -path ./etc/hostname -o -path ./etc/hosts -o -path ./etc/resolv.conf \\) -prune -o -printf '%y %m %u:%g %p %l\\n' | sort; find . -xdev \\( -path ./proc -o -path ./sys -o -path ./dev -o -path ./tmp -o -path ./etc/hostname -o -path ./etc/hosts -o -path ./etc/resolv.conf \\) -prune -o -type f ! -name '*.pyc' -print0 | sort -z | xargs -0 sha256sum",
    )
    .await
}

/// The engine's default bridge as seen from a build container: where a host server is reached.
pub async fn bridge_gateway(docker: &bollard::Docker) -> String {
    let bridge = docker
        .inspect_network(
            "bridge",
            None::<bollard::query_parameters::InspectNetworkOptions>,
        )
        .await
        .unwrap();
    bridge
        .ipam
        .and_then(|ipam| ipam.config)
        .and_then(|configs| configs.into_iter().find_map(|c| c.gateway))
        .expect("the bridge network has a gateway")
}
