//! Helpers shared by the integration tests: projects loaded the way the CLI loads them, and, for the
//! tests that need a real Docker engine with the fixture runtime images (`scripts/fixture-images.sh`
//! builds them and writes the catalog `APPRUNNER_TEST_CATALOG` names), builds, containers and images
//! that are cleaned up even when a test panics.
//!
//! The engine tests are `#[ignore]`d so that a plain `cargo test` passes on a machine without an
//! engine; `scripts/test.sh` runs them with `--include-ignored`.
#![allow(dead_code)]

use apprunner_build::engine::{BuildOptions, BuiltImage, EngineError, ImageName, Session};
use apprunner_build::plan::BuildPlan;
use apprunner_build::project::{self, Loaded, ProjectArgs};
use apprunner_build::report::errors;
use apprunner_build::report::log::{BuildLog, LogFormat};
use apprunner_build::resolve::catalog::Catalog;
use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{
    LogsOptionsBuilder, RemoveContainerOptionsBuilder, RemoveImageOptionsBuilder,
};
use bollard::Docker;
use futures_util::StreamExt;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A fixed "today" so end-of-support remarks do not change with the calendar.
pub fn today() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
}

/// Write `files` (path, contents) into a fresh temporary directory.
pub fn project_dir(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, contents) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, contents).unwrap();
    }
    dir
}

/// Load a project the way `apprunner-build validate DIR` does, with paths shown relative to DIR.
pub fn load(dir: &Path) -> Loaded {
    load_args(ProjectArgs {
        dir: dir.to_path_buf(),
        ..Default::default()
    })
}

pub fn load_args(args: ProjectArgs) -> Loaded {
    // Paths shown relative to the directory, so messages read `apprunner.yaml:3:5` as a user
    // running inside it would see them; the working directory is never changed.
    let args = ProjectArgs {
        shown_dir: Some(PathBuf::new()),
        ..args
    };
    project::load(&args, &Catalog::shipped(), today())
}

/// Everything the user would read on stderr.
pub fn report(loaded: &Loaded) -> String {
    errors::render_all(&loaded.diagnostics)
}

/// A minimal valid apprunner.yaml.
pub const MINIMAL: &str = "version: 1.0\nruntime: python311\nbuild:\n  commands:\n    build:\n      - pip install -r requirements.txt\nrun:\n  command: python server.py\n";

// Engine tests: every one is `#[ignore = "needs a Docker engine and the fixture images: run
// scripts/test.sh"]`.

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

/// [`project_dir`] for text files.
pub fn write_app(files: &[(&str, &str)]) -> tempfile::TempDir {
    let bytes: Vec<(&str, &[u8])> = files.iter().map(|(p, t)| (*p, t.as_bytes())).collect();
    project_dir(&bytes)
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

/// A copy of the tree at `dir` (files, directories, symlinks as symlinks) in a new temporary
/// directory.
pub fn copy_tree(dir: &Path) -> tempfile::TempDir {
    fn copy(from: &Path, to: &Path) {
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let (src, dst) = (entry.path(), to.join(entry.file_name()));
            let kind = entry.file_type().unwrap();
            if kind.is_symlink() {
                std::os::unix::fs::symlink(std::fs::read_link(&src).unwrap(), &dst).unwrap();
            } else if kind.is_dir() {
                std::fs::create_dir(&dst).unwrap();
                copy(&src, &dst);
            } else {
                std::fs::copy(&src, &dst).unwrap();
            }
        }
    }
    let out = tempfile::tempdir().unwrap();
    copy(dir, out.path());
    out
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

/// A container of `image`, removed by `stop` or, failing that (a test that panicked), when dropped.
pub struct Running {
    pub id: String,
    pub ip: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        let id = std::mem::take(&mut self.id);
        on_a_fresh_runtime(|docker| async move {
            let _ = docker
                .remove_container(
                    &id,
                    Some(RemoveContainerOptionsBuilder::new().force(true).build()),
                )
                .await;
        });
    }
}

/// Removes the image (a `NAME[:TAG]` or an id) when dropped, so that a test that panics leaves no
/// image behind. Made before the image exists; removing an image that was never made does nothing.
#[must_use = "the image is removed when the guard is dropped"]
pub struct ImageGuard(String);

impl ImageGuard {
    pub fn new(image: impl ToString) -> Self {
        Self(image.to_string())
    }
}

impl Drop for ImageGuard {
    fn drop(&mut self) {
        let image = std::mem::take(&mut self.0);
        on_a_fresh_runtime(|docker| async move {
            let _ = docker
                .remove_image(
                    &image,
                    Some(RemoveImageOptionsBuilder::new().force(true).build()),
                    None,
                )
                .await;
        });
    }
}

/// Run `work` with an engine connection on a thread of its own with its own tokio runtime (a `Drop`
/// may run inside a test's runtime, or while it unwinds), and wait for it; every error is ignored.
fn on_a_fresh_runtime<F, Fut>(work: F)
where
    F: FnOnce(Docker) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()>,
{
    let _ = std::thread::spawn(move || {
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        runtime.block_on(async move {
            if let Ok(session) = Session::connect().await {
                work(session.docker().clone()).await;
            }
        });
    })
    .join();
}

pub async fn start(docker: &Docker, image: &str, env: &[&str], cmd: Option<&str>) -> Running {
    let body = ContainerCreateBody {
        image: Some(image.to_string()),
        env: Some(env.iter().map(|s| s.to_string()).collect()),
        cmd: cmd.map(|c| vec!["/bin/sh".to_string(), "-c".to_string(), c.to_string()]),
        host_config: Some(HostConfig::default()),
        ..Default::default()
    };
    let id = docker.create_container(None, body).await.unwrap().id;
    docker
        .start_container(
            &id,
            None::<bollard::query_parameters::StartContainerOptions>,
        )
        .await
        .unwrap();
    let inspect = docker
        .inspect_container(
            &id,
            None::<bollard::query_parameters::InspectContainerOptions>,
        )
        .await
        .unwrap();
    let ip = inspect
        .network_settings
        .and_then(|n| n.networks)
        .and_then(|n| n.get("bridge").cloned())
        .and_then(|e| e.ip_address)
        .unwrap_or_default();
    Running { id, ip }
}

pub async fn stop(docker: &Docker, c: &Running) {
    let _ = docker
        .remove_container(
            &c.id,
            Some(RemoveContainerOptionsBuilder::new().force(true).build()),
        )
        .await;
}

/// Start `image`, GET / on `port` until it answers, stop it: what the service says.
pub async fn answer(docker: &Docker, image: &str, env: &[&str], port: u16) -> String {
    let c = start(docker, image, env, None).await;
    let body = http_get(&c, port).await;
    stop(docker, &c).await;
    body
}

/// GET / on the container until it answers (the app may take a moment to listen).
pub async fn http_get(c: &Running, port: u16) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    let addr = format!("{}:{port}", c.ip);
    loop {
        let attempt = tokio::task::spawn_blocking({
            let addr = addr.clone();
            move || -> std::io::Result<String> {
                let mut s = std::net::TcpStream::connect_timeout(
                    &addr.parse().unwrap(),
                    Duration::from_secs(2),
                )?;
                s.set_read_timeout(Some(Duration::from_secs(5)))?;
                s.write_all(b"GET / HTTP/1.0\r\nHost: test\r\n\r\n")?;
                let mut out = String::new();
                s.read_to_string(&mut out)?;
                Ok(out)
            }
        })
        .await
        .unwrap();
        match attempt {
            Ok(response) if !response.is_empty() => {
                return response.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
            }
            _ if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(200)).await,
            other => panic!("{addr} did not answer: {other:?}"),
        }
    }
}

/// Run `cmd` in a fresh container of `image` and return what it printed (stdout and stderr).
pub async fn output_of(docker: &Docker, image: &str, cmd: &str) -> String {
    let c = start(docker, image, &[], Some(cmd)).await;
    let mut wait = docker.wait_container(
        &c.id,
        None::<bollard::query_parameters::WaitContainerOptions>,
    );
    while let Some(_status) = wait.next().await {}
    let mut logs = docker.logs(
        &c.id,
        Some(LogsOptionsBuilder::new().stdout(true).stderr(true).build()),
    );
    let mut out = String::new();
    while let Some(Ok(chunk)) = logs.next().await {
        out.push_str(&chunk.to_string());
    }
    stop(docker, &c).await;
    out
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

/// A fixture app of tests/fixtures/apps.
pub fn app_fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/apps")
        .join(name)
}

/// A copy of a fixture app's files (top level only), with `extra` files added or replaced.
pub fn copy_app(dir: &Path, extra: &[(&str, &str)]) -> tempfile::TempDir {
    let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_file())
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read_to_string(e.path()).unwrap(),
            )
        })
        .collect();
    for (name, text) in extra {
        match files.iter_mut().find(|(n, _)| n == name) {
            Some(f) => f.1 = text.to_string(),
            None => files.push((name.to_string(), text.to_string())),
        }
    }
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    write_app(&refs)
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
