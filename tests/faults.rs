//! Builds under faults: the engine goes away mid-build, a disk fills. Each fails (or goes on)
//! with a message that says what happened, and leaves nothing of its own behind that the next
//! build does not remove. Run with scripts/test.sh.

mod support;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use support::*;
use tokio::net::{UnixListener, UnixStream};
use tokio::task::AbortHandle;

/// Every build sweeps what killed builds left, whoever they were: these tests kill builds and
/// check that the next build sweeps and says so, so they run one at a time.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A relay from a socket of its own to the engine's: what a build talks to, and can lose.
struct Relay {
    path: PathBuf,
    tasks: Arc<Mutex<Vec<AbortHandle>>>,
    _dir: tempfile::TempDir,
}

impl Relay {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("engine.sock");
        let listener = UnixListener::bind(&path).unwrap();
        let tasks: Arc<Mutex<Vec<AbortHandle>>> = Arc::default();
        let conns = tasks.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let task = tokio::spawn(async move {
                    let mut engine = UnixStream::connect(engine_socket()).await.unwrap();
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut engine).await;
                });
                conns.lock().unwrap().push(task.abort_handle());
            }
        });
        tasks.lock().unwrap().push(accept.abort_handle());
        Relay {
            path,
            tasks,
            _dir: dir,
        }
    }

    fn host(&self) -> String {
        format!("unix://{}", self.path.display())
    }

    /// Every connection through the relay dropped at once, and no new one taken.
    fn kill(&self) {
        for task in self.tasks.lock().unwrap().drain(..) {
            task.abort();
        }
    }
}

fn engine_socket() -> PathBuf {
    match std::env::var("DOCKER_HOST") {
        Ok(host) if host.starts_with("unix://") => PathBuf::from(&host["unix://".len()..]),
        _ => PathBuf::from("/var/run/docker.sock"),
    }
}

/// Run the CLI's `build`, and call `at_line` with its pid and each line it prints; its exit code,
/// its lines (stdout, then stderr) and its pid.
async fn build_cli(
    dir: &Path,
    tag: &str,
    docker_host: Option<String>,
    at_line: impl Fn(u32, &str) + Send + 'static,
) -> (Option<i32>, Vec<String>, u32) {
    build_cli_with(dir, tag, docker_host, &[], at_line).await
}

/// [`build_cli`] with more arguments for `build`.
async fn build_cli_with(
    dir: &Path,
    tag: &str,
    docker_host: Option<String>,
    args: &[&str],
    at_line: impl Fn(u32, &str) + Send + 'static,
) -> (Option<i32>, Vec<String>, u32) {
    let mut command = cli();
    command
        .args(["build", "-t", tag])
        .args(args)
        .arg(dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    if let Some(host) = docker_host {
        command.env("DOCKER_HOST", host);
    }
    let mut child = command.spawn().unwrap();
    let pid = child.id();
    let stdout = child.stdout.take().unwrap();
    let lines = tokio::task::spawn_blocking(move || {
        use std::io::BufRead;
        let mut all = Vec::new();
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            at_line(pid, &line);
            all.push(line);
        }
        all
    })
    .await
    .unwrap();
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let mut all = lines;
    all.extend(
        String::from_utf8_lossy(&out.stderr)
            .lines()
            .map(String::from),
    );
    (out.status.code(), all, pid)
}

/// The engine connection is lost while a build command runs: the build says so (not a bare
/// "error trying to connect"), exits with the engine's code, and the next build removes the
/// container it could not.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn a_lost_engine_connection_is_named_and_the_next_build_sweeps_up() {
    let _one_at_a_time = ONE_AT_A_TIME.lock().await;
    let docker = docker().await;
    let app = write_app(&[(
        "apprunner.yaml",
        "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - echo started; sleep 120\nrun:\n  command: node -e 1\n",
    )]);
    let tag = format!("apprunner-build-test/lost-engine:{}", std::process::id());
    let _image = ImageGuard::new(&tag);
    let relay = Arc::new(Relay::start());
    let killer = relay.clone();
    let (code, lines, pid) = build_cli(app.path(), &tag, Some(relay.host()), move |_, line| {
        if line.contains("[Build] started") {
            killer.kill();
        }
    })
    .await;
    let text = lines.join("\n");
    assert_eq!(code, Some(4), "{text}");
    assert!(
        text.contains("Lost the connection to the Docker engine while"),
        "{text}"
    );
    assert!(text.contains("the next build"), "{text}");
    assert!(
        !leftover_containers(&docker, pid).await.is_empty(),
        "the command's container stays while nobody can remove it"
    );

    // The next build, on the engine itself: it removes what the lost one left.
    let quick = write_app(&[(
        "apprunner.yaml",
        "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - echo ok\nrun:\n  command: node -e 1\n",
    )]);
    let next_tag = format!("apprunner-build-test/after-lost:{}", std::process::id());
    let _next = ImageGuard::new(&next_tag);
    let (code, lines, _) = build_cli(quick.path(), &next_tag, None, |_, _| {}).await;
    let text = lines.join("\n");
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains(&format!(
            "left by an earlier, interrupted build or run (process {pid} is gone)"
        )),
        "{text}"
    );
    assert_eq!(
        leftover_containers(&docker, pid).await,
        Vec::<String>::new()
    );
}

/// A tmpfs of `size` mounted at a new directory, unmounted when dropped.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(size: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .unwrap()
            .success();
        assert!(ok, "this test mounts a small tmpfs (it needs root)");
        SmallDisk { dir }
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg(self.dir.path())
            .status();
    }
}

/// The cache directory's disk is full: the dependency layer cannot be kept there, the build says
/// so and goes on with the layer in the engine, the app answers, and no partial file is left.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn a_full_cache_disk_is_a_warning_not_a_failed_build() {
    let _one_at_a_time = ONE_AT_A_TIME.lock().await;
    let docker = docker().await;
    let disk = SmallDisk::mount("64k");
    let app = copy_app(&app_fixture("py-requirements"), &[]);
    let mut options = test_options("full-disk");
    options.layer_dir = disk.dir.path().join("layers");
    options.export_layers = true;
    let _image = ImageGuard::new(options.image.clone());
    let b = build_plan_in(&docker, &plan_with(app.path(), true), &options).await;
    let _layers = layer_guards(&b.log);
    let built = b.result.unwrap_or_else(|e| panic!("{e}\n{:#?}", b.log));
    assert!(
        log_has(&b.log, "Warning: cannot keep the dependency layer in")
            && log_has(&b.log, "No space left on device"),
        "{:#?}",
        b.log
    );
    assert_eq!(
        answer(&docker, &built.id, &[], 8080).await,
        "Hello from Flask, world!\n"
    );
    let mut files = Vec::new();
    for entry in walk(disk.dir.path()) {
        if entry.is_file() {
            files.push(entry);
        }
    }
    assert!(
        files.iter().all(|f| !f.to_string_lossy().contains(".tar")),
        "{files:?}"
    );
    assert!(b.leftovers.is_empty(), "{:?}", b.leftovers);
}

/// Every path under `dir`.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        }
        out.push(path);
    }
    out
}

/// Load: eight builds at once, six small apps of their own and two of one app sharing one
/// `--cache-dir`. Each image is its own app's, each log holds only its own build's lines, and
/// the shared cache stays whole (a later build on a new runner takes the install from it).
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn eight_builds_at_once_keep_their_images_logs_and_caches_apart() {
    let _one_at_a_time = ONE_AT_A_TIME.lock().await;
    let docker = docker().await;
    let small: Vec<tempfile::TempDir> = (0..6)
        .map(|i| {
            write_app(&[(
                "apprunner.yaml",
                &format!(
                    "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - echo marker-{i}-built > built.txt\nrun:\n  command: node -e \"require('http').createServer((q, s) => s.end('app-{i}')).listen(process.env.PORT)\"\n"
                ),
            )])
        })
        .collect();
    let shared_app = copy_app(&app_fixture("py-requirements"), &[]);
    let cache_dir = tempfile::tempdir().unwrap();
    let mut builds = Vec::new();
    let mut guards = Vec::new();
    for (i, app) in small.iter().enumerate() {
        let options = test_options(&format!("load-{i}"));
        guards.push(ImageGuard::new(options.image.clone()));
        let plan = plan_for(app.path());
        let docker = docker.clone();
        builds.push(Box::pin(async move {
            (
                format!("marker-{i}"),
                build_plan_in(&docker, &plan, &options).await,
            )
        })
            as std::pin::Pin<
                Box<dyn std::future::Future<Output = (String, Build)>>,
            >);
    }
    for name in ["load-shared-a", "load-shared-b"] {
        let mut options = test_options(name);
        options.layer_dir = cache_dir.path().join("layers");
        options.export_layers = true;
        guards.push(ImageGuard::new(options.image.clone()));
        let plan = plan_with(shared_app.path(), true);
        let docker = docker.clone();
        builds.push(Box::pin(async move {
            (
                "Flask".to_string(),
                build_plan_in(&docker, &plan, &options).await,
            )
        }));
    }
    let mut layers = Vec::new();
    // All eight at once, in this task (a build's future is not `Send`).
    let results = futures_util::future::join_all(builds).await;
    for (i, (marker, b)) in results.into_iter().enumerate() {
        layers.extend(layer_guards(&b.log));
        let built = b
            .result
            .unwrap_or_else(|e| panic!("build {i}: {e}\n{:#?}", b.log));
        assert!(b.leftovers.is_empty(), "{:?}", b.leftovers);
        if i < 6 {
            // Its own marker, and no other build's.
            assert!(
                log_has(&b.log, &format!("[Build] {marker}-built"))
                    || log_has(&b.log, &format!("echo {marker}-built")),
                "{:#?}",
                b.log
            );
            for other in (0..6).filter(|o| *o != i) {
                assert!(
                    !log_has(&b.log, &format!("marker-{other}-")),
                    "build {i} has build {other}'s lines: {:#?}",
                    b.log
                );
            }
            assert!(!log_has(&b.log, "pip install"), "{:#?}", b.log);
            assert_eq!(
                answer(&docker, &built.id, &[], 8080).await,
                format!("app-{i}")
            );
        } else {
            assert!(!log_has(&b.log, "marker-"), "{:#?}", b.log);
            assert_eq!(
                answer(&docker, &built.id, &[], 8080).await,
                "Hello from Flask, world!\n"
            );
        }
    }
    // The shared cache is whole: a new runner (the engine's cache images gone) takes the install
    // from it.
    drop(layers);
    let mut options = test_options("load-shared-after");
    options.layer_dir = cache_dir.path().join("layers");
    options.export_layers = true;
    guards.push(ImageGuard::new(options.image.clone()));
    let after = build_plan_in(&docker, &plan_with(shared_app.path(), true), &options).await;
    let _after_layers = layer_guards(&after.log);
    after
        .result
        .unwrap_or_else(|e| panic!("{e}\n{:#?}", after.log));
    assert!(
        log_has(&after.log, "Dependencies from the cache directory"),
        "{:#?}",
        after.log
    );
}

/// An app whose `phase` command says it started, then waits; the other phases only echo.
fn slow_in(phase: &str) -> tempfile::TempDir {
    let command = |p: &str| {
        if p == phase {
            format!("echo at-{p}; sleep 120")
        } else {
            format!("echo {p}-done")
        }
    };
    write_app(&[(
        "apprunner.yaml",
        &format!(
            "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    pre-build:\n      - {}\n    build:\n      - {}\n    post-build:\n      - {}\nrun:\n  pre-run:\n    - {}\n  command: node -e 1\n",
            command("pre-build"),
            command("build"),
            command("post-build"),
            command("pre-run"),
        ),
    )])
}

const PHASES: [(&str, &str); 4] = [
    ("pre-build", "[PreBuild] at-pre-build"),
    ("build", "[Build] at-build"),
    ("post-build", "[PostBuild] at-post-build"),
    ("pre-run", "[PreRun] at-pre-run"),
];

/// SIGINT and SIGTERM in each phase: the build stops with 130, says how many containers it
/// removed, and none of its own remains.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn sigint_and_sigterm_in_each_phase_leave_nothing() {
    let _one_at_a_time = ONE_AT_A_TIME.lock().await;
    let docker = docker().await;
    for (phase, marker) in PHASES {
        for signal in ["-INT", "-TERM"] {
            let app = slow_in(phase);
            let tag = format!("apprunner-build-test/signal:{}", std::process::id());
            let _image = ImageGuard::new(&tag);
            let (code, lines, pid) =
                build_cli(app.path(), &tag, None, signal_at(marker, signal)).await;
            let text = lines.join("\n");
            assert_eq!(code, Some(130), "{phase} {signal}: {text}");
            assert!(text.contains("container(s)."), "{phase} {signal}: {text}");
            assert_eq!(
                leftover_containers(&docker, pid).await,
                Vec::<String>::new(),
                "{phase} {signal}"
            );
            assert_eq!(
                work_images(&docker, pid).await,
                Vec::<String>::new(),
                "{phase} {signal}"
            );
        }
    }
}

/// SIGKILL in each phase: nothing can clean up then, and the next build removes what is left,
/// saying so.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn sigkill_in_each_phase_is_swept_by_the_next_build() {
    let _one_at_a_time = ONE_AT_A_TIME.lock().await;
    let docker = docker().await;
    let quick = write_app(&[(
        "apprunner.yaml",
        "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - echo ok\nrun:\n  command: node -e 1\n",
    )]);
    for (phase, marker) in PHASES {
        let app = slow_in(phase);
        let tag = format!("apprunner-build-test/killed:{}", std::process::id());
        let _image = ImageGuard::new(&tag);
        let (_, lines, pid) = build_cli(app.path(), &tag, None, signal_at(marker, "-KILL")).await;
        let left = leftover_containers(&docker, pid).await;
        assert!(!left.is_empty(), "{phase}: {lines:#?}");
        let next = format!("apprunner-build-test/after-kill:{}", std::process::id());
        let _next = ImageGuard::new(&next);
        let (code, lines, _) = build_cli(quick.path(), &next, None, |_, _| {}).await;
        let text = lines.join("\n");
        assert_eq!(code, Some(0), "{text}");
        assert!(
            text.contains(&format!("(process {pid} is gone)")),
            "{phase}: {text}"
        );
        assert_eq!(
            leftover_containers(&docker, pid).await,
            Vec::<String>::new(),
            "{phase}"
        );
        assert_eq!(
            work_images(&docker, pid).await,
            Vec::<String>::new(),
            "{phase}: {text}"
        );
    }
}

/// The names a build of process `pid` gives the images it has on the way (a stage's written
/// layers): gone once it ends, or once the next build's sweep has run after a SIGKILL.
async fn work_images(docker: &bollard::Docker, pid: u32) -> Vec<String> {
    let filters = std::collections::HashMap::from([("reference", vec!["apprunner-build-work"])]);
    let options = bollard::query_parameters::ListImagesOptionsBuilder::new()
        .filters(&filters)
        .build();
    docker
        .list_images(Some(options))
        .await
        .unwrap()
        .into_iter()
        .flat_map(|image| image.repo_tags)
        .filter(|name| name.starts_with(&format!("apprunner-build-work:{pid}-")))
        .collect()
}

/// A line handler that sends `signal` to the build once `marker` is printed.
fn signal_at(marker: &'static str, signal: &'static str) -> impl Fn(u32, &str) + Send + 'static {
    let sent = std::sync::atomic::AtomicBool::new(false);
    move |pid: u32, line: &str| {
        if line.contains(marker) && !sent.swap(true, std::sync::atomic::Ordering::SeqCst) {
            support::signal(pid, signal);
        }
    }
}

/// A TCP server that takes every connection and never answers: a registry or a package index
/// that hangs. Its connections stay open until the test process ends.
fn silent_server(address: &str) -> u16 {
    let listener = std::net::TcpListener::bind(address).unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream);
        }
    });
    port
}

/// An app whose runtime image must be pulled from a registry that never answers.
fn app_on_a_hanging_registry() -> (tempfile::TempDir, String) {
    let port = silent_server("127.0.0.1:0");
    let image = format!("127.0.0.1:{port}/apprunner-build-test/hang:1");
    let app = write_app(&[
        (
            "catalog.toml",
            &format!("[runtimes.nodejs22]\nlanguage = \"nodejs\"\nbuild_process = \"revised\"\nversions = [{{ version = \"22.21.1\", image = \"{image}\" }}]\n"),
        ),
        ("apprunner.yaml", "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - echo ok\nrun:\n  command: node -e 1\n"),
    ]);
    (app, image)
}

/// SIGINT and SIGTERM while the runtime image is pulled: the build stops with 130 at once, not
/// when the registry times out, and leaves no container and no image.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn sigint_and_sigterm_during_a_pull_leave_nothing() {
    let _one_at_a_time = ONE_AT_A_TIME.lock().await;
    let docker = docker().await;
    for signal in ["-INT", "-TERM"] {
        let (app, image) = app_on_a_hanging_registry();
        let catalog = app.path().join("catalog.toml");
        let tag = format!("apprunner-build-test/pull-signal:{}", std::process::id());
        let _image = ImageGuard::new(&tag);
        let started = std::time::Instant::now();
        let (code, lines, pid) = build_cli_with(
            app.path(),
            &tag,
            None,
            &["--catalog", catalog.to_str().unwrap()],
            signal_at("[AppRunner] Pulling image", signal),
        )
        .await;
        let text = lines.join("\n");
        assert_eq!(code, Some(130), "{signal}: {text}");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "{signal}: the build waited for the registry: {text}"
        );
        assert!(text.contains(&format!("Pulling image {image}")), "{text}");
        assert_eq!(
            leftover_containers(&docker, pid).await,
            Vec::<String>::new()
        );
        assert!(docker.inspect_image(&tag).await.is_err(), "{signal}");
        assert!(docker.inspect_image(&image).await.is_err(), "{signal}");
    }
}

/// SIGKILL while the runtime image is pulled: the next build goes on, and nothing is left.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn sigkill_during_a_pull_leaves_nothing_for_the_next_build() {
    let _one_at_a_time = ONE_AT_A_TIME.lock().await;
    let docker = docker().await;
    let (app, image) = app_on_a_hanging_registry();
    let catalog = app.path().join("catalog.toml");
    let tag = format!("apprunner-build-test/pull-killed:{}", std::process::id());
    let _image = ImageGuard::new(&tag);
    let (code, lines, pid) = build_cli_with(
        app.path(),
        &tag,
        None,
        &["--catalog", catalog.to_str().unwrap()],
        signal_at("[AppRunner] Pulling image", "-KILL"),
    )
    .await;
    assert_eq!(code, None, "killed: {lines:#?}");
    assert_eq!(
        leftover_containers(&docker, pid).await,
        Vec::<String>::new()
    );
    assert!(docker.inspect_image(&image).await.is_err());
    let quick = write_app(&[(
        "apprunner.yaml",
        "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - echo ok\nrun:\n  command: node -e 1\n",
    )]);
    let next = format!(
        "apprunner-build-test/after-pull-kill:{}",
        std::process::id()
    );
    let _next = ImageGuard::new(&next);
    let (code, lines, _) = build_cli(quick.path(), &next, None, |_, _| {}).await;
    assert_eq!(code, Some(0), "{lines:#?}");
}

/// A Node app whose dependency-layer install waits on a package registry that never answers.
async fn app_with_a_hanging_install(docker: &bollard::Docker) -> tempfile::TempDir {
    let gateway = bridge_gateway(docker).await;
    let port = silent_server(&format!("{gateway}:0"));
    write_app(&[
        (
            "package.json",
            r#"{"name":"hang","version":"1.0.0","dependencies":{"left-pad":"1.3.0"},"scripts":{"start":"node -e 1"},"engines":{"node":"22"}}"#,
        ),
        (
            ".npmrc",
            &format!("registry=http://{gateway}:{port}/\nfetch-retries=0\n"),
        ),
    ])
}

/// The dependency layer's install is a line of the log: where the signal is sent.
const INSTALL_MARKER: &str = "[AppRunner] Executing 'build' command: npm install";

/// SIGINT and SIGTERM during a dependency install: exit 130, the install's container removed,
/// and no partial layer left in the cache directory.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn sigint_and_sigterm_during_a_dependency_install_leave_nothing() {
    let _one_at_a_time = ONE_AT_A_TIME.lock().await;
    let docker = docker().await;
    for signal in ["-INT", "-TERM"] {
        let app = app_with_a_hanging_install(&docker).await;
        let cache = tempfile::tempdir().unwrap();
        let tag = format!("apprunner-build-test/install-signal:{}", std::process::id());
        let _image = ImageGuard::new(&tag);
        let (code, lines, pid) = build_cli_with(
            app.path(),
            &tag,
            None,
            &["--cache-dir", cache.path().to_str().unwrap()],
            signal_at(INSTALL_MARKER, signal),
        )
        .await;
        let text = lines.join("\n");
        assert_eq!(code, Some(130), "{signal}: {text}");
        assert!(text.contains(INSTALL_MARKER), "{text}");
        assert!(text.contains("container(s)."), "{signal}: {text}");
        assert_eq!(
            leftover_containers(&docker, pid).await,
            Vec::<String>::new()
        );
        let layers: Vec<_> = walk(cache.path())
            .into_iter()
            .filter(|p| p.is_file() && p.to_string_lossy().contains("/layers/"))
            .collect();
        assert_eq!(layers, Vec::<PathBuf>::new(), "{signal}");
    }
}

/// SIGKILL during a dependency install: the next build removes the install's container and says
/// so.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn sigkill_during_a_dependency_install_is_swept_by_the_next_build() {
    let _one_at_a_time = ONE_AT_A_TIME.lock().await;
    let docker = docker().await;
    let app = app_with_a_hanging_install(&docker).await;
    let tag = format!("apprunner-build-test/install-killed:{}", std::process::id());
    let _image = ImageGuard::new(&tag);
    let (_, lines, pid) =
        build_cli(app.path(), &tag, None, signal_at(INSTALL_MARKER, "-KILL")).await;
    assert!(
        !leftover_containers(&docker, pid).await.is_empty(),
        "{lines:#?}"
    );
    let quick = write_app(&[(
        "apprunner.yaml",
        "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - echo ok\nrun:\n  command: node -e 1\n",
    )]);
    let next = format!(
        "apprunner-build-test/after-install-kill:{}",
        std::process::id()
    );
    let _next = ImageGuard::new(&next);
    let (code, lines, _) = build_cli(quick.path(), &next, None, |_, _| {}).await;
    let text = lines.join("\n");
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains(&format!("(process {pid} is gone)")), "{text}");
    assert_eq!(
        leftover_containers(&docker, pid).await,
        Vec::<String>::new()
    );
}
