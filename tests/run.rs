//! `apprunner-build run` on a real engine: the service answers, secrets stay secret, failures explain
//! themselves. Run with scripts/test.sh.

mod support;

use apprunner_build::report::exit;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::*;

/// `apprunner-build build -t TAG DIR`, which must succeed: for tests that time or probe only the run.
fn build_tagged(dir: &std::path::Path, tag: &str) {
    let built = Command::new(env!("CARGO_BIN_EXE_apprunner-build"))
        .args(["build", "-t", tag])
        .arg(dir)
        .env("APPRUNNER_BUILD_CATALOG", test_catalog())
        .output()
        .unwrap();
    assert!(built.status.success(), "{built:?}");
}

fn run_cmd(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_apprunner-build"));
    c.arg("run")
        .args(args)
        .env("APPRUNNER_BUILD_CATALOG", test_catalog());
    c.args([
        "--ca-bundle",
        "/etc/ssl/certs/ca-certificates.crt",
        "--health-interval",
        "1",
    ]);
    c
}

/// A child process killed if the test fails before it is stopped, so a failure cannot hang the suite.
struct Guarded(Child);

impl std::ops::Deref for Guarded {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Guarded {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        if self.0.try_wait().ok().flatten().is_none() {
            let _ = Command::new("kill")
                .args(["-INT", &self.0.id().to_string()])
                .status();
            std::thread::sleep(Duration::from_secs(2));
            let _ = self.0.kill();
        }
    }
}

fn spawn(cmd: &mut Command) -> Guarded {
    Guarded(cmd.spawn().unwrap())
}

/// Read the child's stdout until a line contains `needle`; returns every line read.
fn read_until(child: &mut Guarded, needle: &str) -> Vec<String> {
    let stdout = child.stdout.as_mut().unwrap();
    let mut lines = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        let done = line.contains(needle);
        lines.push(line);
        if done {
            break;
        }
    }
    lines
}

fn interrupt(child: &mut Guarded) -> (i32, String) {
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    // A run that ignored the signal fails the test rather than hanging it.
    if child.try_wait().unwrap().is_none() {
        let _ = child.kill();
    }
    let status = child.wait().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut rest).unwrap();
    (status.code().unwrap_or(-1), rest)
}

fn live_port(lines: &[String]) -> u16 {
    let line = lines
        .iter()
        .find(|l| l.contains("live at http://localhost:"))
        .expect("the URL is printed");
    line.split("localhost:")
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

fn get(port: u16) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out.split("\r\n\r\n").nth(1).unwrap_or("").to_string()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn the_python_example_answers_through_run_and_ctrl_c_removes_it() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/python-hello");
    let tag = format!("apprunner-build-test/run-example:{}", std::process::id());
    let _image = ImageGuard::new(&tag);
    let mut child = spawn(run_cmd(&[example, "-t", &tag, "-p", "0"]).stdout(Stdio::piped()));
    let pid = child.id();
    let lines = read_until(&mut child, "live at http://localhost:");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("Health check passed on TCP port 8080")),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("[Application] listening on port 8080")),
        "{lines:#?}"
    );
    assert_eq!(get(live_port(&lines)), "Hello, world!\n");
    let (code, _) = interrupt(&mut child);
    assert_eq!(code, 130);
    let docker = docker().await;
    assert_eq!(
        leftover_containers(&docker, pid).await,
        Vec::<String>::new()
    );

    // A second run finds the image up to date and does not rebuild.
    let mut child = spawn(run_cmd(&[example, "-t", &tag, "-p", "0"]).stdout(Stdio::piped()));
    let lines = read_until(&mut child, "live at http://localhost:");
    assert!(
        lines.iter().any(|l| l.contains("is up to date")),
        "{lines:#?}"
    );
    assert!(
        !lines.iter().any(|l| l.contains("Starting to build")),
        "{lines:#?}"
    );
    // Ctrl-C right as the service goes live (between two steps of the session) still stops it.
    let (code, _) = interrupt(&mut child);
    assert_eq!(code, 130);
}

const SECRET: &str = "s3cr3t-value-7f3a9c";

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn a_secret_from_a_file_reaches_the_app_and_nowhere_else() {
    let app = write_app(&[
        (
            "apprunner.yaml",
            "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - echo no dependencies\nrun:\n  command: node server.js\n  secrets:\n    - name: API_TOKEN\n      value-from: arn:aws:secretsmanager:us-east-1:123456789012:secret:api-token\n",
        ),
        (
            "server.js",
            "console.log('token is ' + process.env.API_TOKEN);\nconst e = process.env;\nrequire('http').createServer((q, s) => s.end(`${e.API_TOKEN} ${e.FROM_FILE} ${e.FROM_FLAG}`)).listen(e.PORT);\n",
        ),
        ("secrets.env", &format!("API_TOKEN={SECRET}\n")),
        ("local.env", "# local values\nFROM_FILE=file-value\n"),
    ]);
    let dir = app.path().to_str().unwrap();
    let tag = format!("apprunner-build-test/run-secret:{}", std::process::id());
    let _image = ImageGuard::new(&tag);

    // Missing: one error, before anything is built or started.
    let out = run_cmd(&[dir, "-t", &tag])
        .env_remove("API_TOKEN")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(exit::USAGE.into()), "{stdout}");
    assert!(
        stdout.contains("Missing secret value(s) for API_TOKEN"),
        "{stdout}"
    );
    assert!(!stdout.contains("Starting to build"), "{stdout}");

    let env_file = app.path().join("local.env");
    let secrets_file = app.path().join("secrets.env");
    let mut child = spawn(
        run_cmd(&[
            dir,
            "-t",
            &tag,
            "-p",
            "0",
            "--secrets-file",
            secrets_file.to_str().unwrap(),
            "--env-file",
            env_file.to_str().unwrap(),
            "--env",
            "FROM_FLAG=flag-value",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped()),
    );
    let lines = read_until(&mut child, "live at http://localhost:");
    assert_eq!(
        get(live_port(&lines)),
        format!("{SECRET} file-value flag-value"),
        "the app got the secret and the local values"
    );
    let (_, rest) = interrupt(&mut child);
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    let all = format!("{}\n{rest}\n{stderr}", lines.join("\n"));
    assert!(all.contains("[Application] token is ********"), "{all}");
    assert!(
        !all.contains(SECRET),
        "the value appears nowhere in the output:\n{all}"
    );

    let docker = docker().await;
    let inspect = docker.inspect_image(&tag).await.unwrap();
    assert!(!format!("{inspect:?}").contains(SECRET), "nor in the image");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn an_app_that_crashes_at_start_exits_non_zero_with_its_last_output() {
    let app = write_app(&[(
        "apprunner.yaml",
        "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - echo ok\nrun:\n  command: node -e \"console.log('booting'); console.error('fatal - no database'); process.exit(3)\"\n",
    )]);
    let tag = format!("apprunner-build-test/run-crash:{}", std::process::id());
    let _image = ImageGuard::new(&tag);
    // The app exits by itself, so a plain child process cannot hang the suite here.
    let child = run_cmd(&[app.path().to_str().unwrap(), "-t", &tag, "-p", "0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(exit::APP_EXITED.into()), "{stdout}");
    assert!(
        stdout.contains("The application exited with code 3."),
        "{stdout}"
    );
    // Streamed once as it came, not reprinted in the summary.
    assert_eq!(
        stdout.matches("fatal - no database").count(),
        1,
        "the last output is shown once: {stdout}"
    );
    assert!(
        stdout.contains("[Application] fatal - no database")
            && stdout.contains("See the application's output above"),
        "{stdout}"
    );
    let docker = docker().await;
    assert_eq!(
        leftover_containers(&docker, pid).await,
        Vec::<String>::new()
    );
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn an_app_that_never_listens_fails_the_health_check_in_time() {
    let app = write_app(&[(
        "apprunner.yaml",
        "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - echo ok\nrun:\n  command: echo 'working, but not listening'; sleep 1000\n  network:\n    port: 8000\n",
    )]);
    let tag = format!("apprunner-build-test/run-deaf:{}", std::process::id());
    let _image = ImageGuard::new(&tag);
    // Build first so that only the health check is timed.
    build_tagged(app.path(), &tag);
    let out = Command::new(env!("CARGO_BIN_EXE_apprunner-build"))
        .args([
            "run",
            &tag,
            "-p",
            "0",
            "--health-interval",
            "1",
            "--health-timeout",
            "1",
            "--unhealthy-threshold",
            "3",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(exit::APP_UNHEALTHY.into()),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "Health check failed on protocol `TCP` [Port: '8000']: 3 checks in a row failed"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("[Application] working, but not listening")
            && !stdout.contains("  | working"),
        "{stdout}"
    );
    // The time it really had: the first check at start, two more 1 s apart (and their timeouts),
    // not App Runner's default 5 checks 5 s apart.
    let had: f64 = stdout
        .split("it had ")
        .nth(1)
        .and_then(|r| r.split(" s (3 checks, 1 s apart)").next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("the time is said: {stdout}"));
    assert!((1.0..=8.0).contains(&had), "{stdout}");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn build_with_run_starts_the_fresh_image() {
    let app = write_app(&[(
        "apprunner.yaml",
        "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - echo built > stamp.txt\nrun:\n  command: cat stamp.txt; exit 4\n",
    )]);
    let tag = format!("apprunner-build-test/build-run:{}", std::process::id());
    let _image = ImageGuard::new(&tag);
    let out = Command::new(env!("CARGO_BIN_EXE_apprunner-build"))
        .args([
            "build",
            "--run",
            "-p",
            "0",
            "--health-interval",
            "1",
            "-t",
            &tag,
            app.path().to_str().unwrap(),
        ])
        .env("APPRUNNER_BUILD_CATALOG", test_catalog())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Successfully built image"), "{stdout}");
    assert!(stdout.contains("[Application] built"), "{stdout}");
    assert_eq!(out.status.code(), Some(exit::APP_EXITED.into()), "{stdout}");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn health_checks_go_on_after_the_service_is_live() {
    let app = write_app(&[(
        "apprunner.yaml",
        "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - echo ok\nrun:\n  command: node server.js\n",
    ), (
        "server.js",
        "const s = require('http').createServer((q, r) => r.end('up')).listen(process.env.PORT);\nsetTimeout(() => { console.log('closing the listener'); s.close(); }, 6000);\nsetInterval(() => {}, 1000);\n",
    )]);
    let tag = format!("apprunner-build-test/run-flaky:{}", std::process::id());
    let _image = ImageGuard::new(&tag);
    let mut child = spawn(
        run_cmd(&[
            app.path().to_str().unwrap(),
            "-t",
            &tag,
            "-p",
            "0",
            "--unhealthy-threshold",
            "2",
        ])
        .stdout(Stdio::piped()),
    );
    let lines = read_until(&mut child, "App Runner would replace this instance");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("live at http://localhost:")),
        "{lines:#?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("[Application] closing the listener")),
        "{lines:#?}"
    );
    assert!(
        lines.last().unwrap().contains(
            "Health check failed on protocol `TCP` [Port: '8080']: 2 checks in a row failed"
        ),
        "{lines:#?}"
    );
    let (code, _) = interrupt(&mut child);
    assert_eq!(code, 130);
}

/// Issue 9: the secret names come from the image's label, so the environment must not answer them
/// unasked; `--secret NAME` asks.
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
#[tokio::test(flavor = "multi_thread")]
async fn an_image_cannot_collect_a_secret_from_the_environment_unless_named() {
    let app = write_app(&[
        (
            "apprunner.yaml",
            "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - echo ok\nrun:\n  command: node app.js\n  secrets:\n    - name: GITHUB_TOKEN\n      value-from: arn:aws:secretsmanager:us-east-1:123456789012:secret:gh\n",
        ),
        (
            "app.js",
            "const t = process.env.GITHUB_TOKEN;\nconsole.log(t === undefined ? 'no token' : 'token of length ' + t.length);\nprocess.exit(4);\n",
        ),
    ]);
    let tag = format!(
        "apprunner-build-test/run-label-secret:{}",
        std::process::id()
    );
    build_tagged(app.path(), &tag);
    let token = "ghp_hostTokenValue123";
    let run = |extra: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_apprunner-build"));
        c.args(["run", &tag, "-p", "0", "--health-interval", "1"])
            .args(extra)
            .env("GITHUB_TOKEN", token);
        c.output().unwrap()
    };

    // The label asks for GITHUB_TOKEN, the environment has it: not given, nothing started.
    let out = run(&[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(exit::USAGE.into()), "{stdout}");
    assert!(
        stdout.contains("Missing secret value(s) for GITHUB_TOKEN:"),
        "{stdout}"
    );
    assert!(
        stdout.contains("--secrets-file FILE") && stdout.contains("--secret NAME"),
        "both ways are named: {stdout}"
    );
    assert!(!stdout.contains("[Application]"), "{stdout}");

    // A value on the command line is refused, and not repeated.
    let out = run(&["--secret", "GITHUB_TOKEN=inline-value"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(exit::USAGE.into()), "{stderr}");
    assert!(
        stderr.contains("shell history and process lists"),
        "{stderr}"
    );
    assert!(!stderr.contains("inline-value"), "{stderr}");

    // Named with --secret: given.
    let out = run(&["--secret", "GITHUB_TOKEN"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(exit::APP_EXITED.into()), "{stdout}");
    assert!(
        stdout.contains(&format!("[Application] token of length {}", token.len())),
        "{stdout}"
    );
    let docker = docker().await;
    remove_named(&docker, &tag).await;
}

/// Issue 9: a bad variable name or a NUL in a value is refused, saying where and why, before
/// anything is built or started.
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
#[test]
fn bad_local_env_values_are_refused_before_anything_starts() {
    let app = write_app(&[
        (
            "apprunner.yaml",
            "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - echo ok\nrun:\n  command: node -e 1\n",
        ),
        ("nul.env", "OK=1\nB=x\0y\n"),
        ("name.env", "# local\nA B=1\n"),
    ]);
    let dir = app.path().to_str().unwrap();
    let tag = format!("apprunner-build-test/run-bad-env:{}", std::process::id());
    let cases: [(&[&str], &[&str]); 3] = [
        (
            &["--env", "A B=1"],
            &["error[AR702]: `--env A B=…`: `A B` is not a valid variable name"],
        ),
        (
            &["--env-file", "nul.env"],
            &[
                "error[AR702]: the value of B contains a NUL byte",
                "--> nul.env:2:1",
            ],
        ),
        (
            &["--env-file", "name.env"],
            &[
                "error[AR702]: `A B` is not a valid variable name",
                "--> name.env:2:1",
            ],
        ),
    ];
    for (args, expected) in cases {
        let out = run_cmd(&[dir, "-t", &tag])
            .args(args)
            .current_dir(app.path())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(exit::USAGE.into()),
            "{args:?}: {stderr}"
        );
        for expected in expected {
            assert!(stderr.contains(expected), "{args:?}: {stderr}");
        }
        assert!(stdout.is_empty(), "nothing was built or started: {stdout}");
    }
}

/// The containers of the process `pid`, found by their owner label.
async fn containers_of(docker: &bollard::Docker, pid: u32) -> Vec<String> {
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

async fn exists(docker: &bollard::Docker, id: &str) -> bool {
    docker
        .inspect_container(
            id,
            None::<bollard::query_parameters::InspectContainerOptions>,
        )
        .await
        .is_ok()
}

/// Issue 10: a build or `run` killed with SIGKILL cannot clean up; the next build removes what it
/// left, by the owner label, and leaves alone containers of another pid namespace or boot.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn containers_of_a_killed_build_or_run_are_swept_and_no_one_elses() {
    let slow = write_app(&[(
        "apprunner.yaml",
        "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - echo building; sleep 600\nrun:\n  command: node -e 1\n",
    )]);
    let server = write_app(&[(
        "apprunner.yaml",
        "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - echo ok\nrun:\n  command: node -e \"require('http').createServer((q, s) => s.end('up')).listen(process.env.PORT)\"\n",
    )]);
    let slow_tag = format!("apprunner-build-test/sweep-slow:{}", std::process::id());
    let tag = format!("apprunner-build-test/sweep-run:{}", std::process::id());
    let (_slow_image, _image) = (ImageGuard::new(&slow_tag), ImageGuard::new(&tag));
    let docker = docker().await;

    // SIGKILL during a build command: its container stays.
    let mut build = spawn(
        run_cmd(&[slow.path().to_str().unwrap(), "-t", &slow_tag, "-p", "0"])
            .stdout(Stdio::piped()),
    );
    read_until(&mut build, "[Build] building");
    let build_pid = build.id();
    build.kill().unwrap();
    build.wait().unwrap();
    let build_left = containers_of(&docker, build_pid).await;
    assert!(
        !build_left.is_empty(),
        "the killed build left its container"
    );

    // SIGKILL while `run` serves: the application goes on running.
    let mut run = spawn(
        run_cmd(&[server.path().to_str().unwrap(), "-t", &tag, "-p", "0"]).stdout(Stdio::piped()),
    );
    read_until(&mut run, "live at http://localhost:");
    let run_pid = run.id();
    run.kill().unwrap();
    run.wait().unwrap();
    let run_left = containers_of(&docker, run_pid).await;
    assert_eq!(run_left.len(), 1, "the killed run left its application");

    // Containers whose owner is the same (dead) pid in another pid namespace, or before a reboot:
    // not provably gone, so not ours to remove. Removed by the guards whatever happens.
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap();
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    let (boot, host) = (boot.trim(), host.trim());
    let pidns = std::fs::read_link("/proc/self/ns/pid").unwrap();
    let pidns = pidns.to_string_lossy();
    let mut foreign = Vec::new();
    for owner in [
        format!("pid={build_pid} start=1 boot={boot} pidns=pid:[1] host={host}"),
        format!("pid={build_pid} start=1 boot=another-boot pidns={pidns} host={host}"),
    ] {
        let body = bollard::models::ContainerCreateBody {
            image: Some(tag.clone()),
            labels: Some(std::collections::HashMap::from([(
                "apprunner-build.owner".to_string(),
                owner,
            )])),
            ..Default::default()
        };
        let id = docker.create_container(None, body).await.unwrap().id;
        foreign.push(Running {
            id,
            ip: String::new(),
        });
    }

    // The next build (up to date: it starts nothing) sweeps the leftovers, and nothing else.
    let out = Command::new(env!("CARGO_BIN_EXE_apprunner-build"))
        .args(["build", "-t", &tag, server.path().to_str().unwrap()])
        .env("APPRUNNER_BUILD_CATALOG", test_catalog())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    for id in build_left.iter().chain(&run_left) {
        assert!(!exists(&docker, id).await, "{id} was swept: {stdout}");
    }
    for c in &foreign {
        assert!(exists(&docker, &c.id).await, "{} was left alone", c.id);
    }
    eprintln!("{stdout}");
    // Another test's build running at the same time may sweep first; alone, this one says so.
    if stdout.contains("Removed a container") {
        assert!(
            stdout.contains(&format!(
                "(process {run_pid} is gone): apprunner-build-{run_pid}-app-"
            )),
            "{stdout}"
        );
    }
    assert!(!stdout.contains("Could not remove"), "{stdout}");
    // The final image carries the label emptied (a commit) or not at all (a written config), so
    // containers started from it are never swept.
    let labels = docker
        .inspect_image(&tag)
        .await
        .unwrap()
        .config
        .unwrap()
        .labels
        .unwrap();
    assert!(
        labels
            .get("apprunner-build.owner")
            .is_none_or(String::is_empty),
        "{labels:?}"
    );
}

/// The host side of the ports the engine published for the containers of `pid`: (IP, port).
async fn bindings_of(docker: &bollard::Docker, pid: u32) -> Vec<(String, String)> {
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

/// Issue 10: `run` publishes on 127.0.0.1 unless told `-p IP:PORT`; a port in use is our message,
/// with `-p 0` as the way out, not the engine's error.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn run_publishes_on_localhost_unless_told_and_explains_a_port_in_use() {
    let app = write_app(&[(
        "apprunner.yaml",
        "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - echo ok\nrun:\n  command: node -e \"require('http').createServer((q, s) => s.end('up')).listen(process.env.PORT)\"\n",
    )]);
    let tag = format!("apprunner-build-test/run-publish:{}", std::process::id());
    let _image = ImageGuard::new(&tag);
    build_tagged(app.path(), &tag);
    let docker = docker().await;
    let run = |publish: &str| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_apprunner-build"));
        c.args(["run", &tag, "-p", publish, "--health-interval", "1"])
            .stdout(Stdio::piped());
        spawn(&mut c)
    };

    // Default: this machine only.
    let mut child = run("0");
    let lines = read_until(&mut child, "live at http://localhost:");
    let port = live_port(&lines);
    assert_eq!(get(port), "up");
    assert_eq!(
        bindings_of(&docker, child.id()).await,
        [("127.0.0.1".to_string(), port.to_string())]
    );

    // The same port again: taken, said so with the way out, no engine error.
    let out = Command::new(env!("CARGO_BIN_EXE_apprunner-build"))
        .args(["run", &tag, "-p", &port.to_string()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(exit::USAGE.into()), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "Port {port} on 127.0.0.1 is already in use on this machine"
        )) && stdout.contains("-p 0")
            && stdout.contains("[AR606]"),
        "{stdout}"
    );
    assert!(!stdout.contains("500"), "{stdout}");
    interrupt(&mut child);

    // A port a process of this machine holds.
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let held_port = held.local_addr().unwrap().port();
    let out = Command::new(env!("CARGO_BIN_EXE_apprunner-build"))
        .args(["run", &tag, "-p", &held_port.to_string()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(exit::USAGE.into()), "{stdout}");
    assert!(stdout.contains("[AR606]"), "{stdout}");
    drop(held);

    // Every interface, when asked.
    let mut child = run("0.0.0.0:0");
    let lines = read_until(&mut child, "live at http://localhost:");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("published on every interface (0.0.0.0), port")),
        "{lines:#?}"
    );
    let bound = bindings_of(&docker, child.id()).await;
    assert_eq!(bound.len(), 1, "{bound:?}");
    assert_eq!(bound[0].0, "0.0.0.0");
    assert_eq!(get(live_port(&lines)), "up");
    interrupt(&mut child);
}

/// Issue 10: an exit is seen at once (not at the next health check), the start line names the
/// `run.network.env` variable, a 404 suggests the path to check, and a missing module points back
/// to the revised build's install warning.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn run_failures_are_seen_at_once_and_say_what_to_do() {
    let app = write_app(&[
        (
            "apprunner.yaml",
            "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - echo ok\nrun:\n  command: node server.js\n  network:\n    port: 8000\n    env: APP_PORT\n",
        ),
        (
            "server.js",
            "const mode = process.env.MODE;\nif (mode === 'exit') { console.log('exiting soon'); setTimeout(() => process.exit(7), 1000); }\nelse if (mode === 'module') { require('left-pad'); }\nelse { require('http').createServer((q, s) => { s.statusCode = 404; s.end('nope'); }).listen(process.env.APP_PORT); }\n",
        ),
    ]);
    let tag = format!("apprunner-build-test/run-explain:{}", std::process::id());
    let _image = ImageGuard::new(&tag);
    build_tagged(app.path(), &tag);
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_apprunner-build"))
            .args(["run", &tag, "-p", "0"])
            .args(args)
            .output()
            .unwrap()
    };

    // Checks 20 s apart: the exit after 1 s is reported without waiting for the next one.
    let t = Instant::now();
    let out = run(&["-e", "MODE=exit", "--health-interval", "20"]);
    let took = t.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(exit::APP_EXITED.into()), "{stdout}");
    assert!(
        stdout.contains("The application exited with code 7."),
        "{stdout}"
    );
    assert!(took < Duration::from_secs(15), "took {took:?}: {stdout}");
    assert!(
        stdout.contains("with PORT=8000 and APP_PORT=8000 (published on localhost:"),
        "the start line names both variables: {stdout}"
    );

    // An HTTP check that gets 404 says how to point it elsewhere.
    let out = run(&[
        "--health-check",
        "http",
        "--health-interval",
        "1",
        "--unhealthy-threshold",
        "2",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(exit::APP_UNHEALTHY.into()),
        "{stdout}"
    );
    assert!(stdout.contains("(last: HTTP status 404)"), "{stdout}");
    assert!(
        stdout.contains("--health-check http:/PATH"),
        "the fix is named: {stdout}"
    );

    // A module that is not there points back to the install warning.
    let out = run(&["-e", "MODE=module"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(exit::APP_EXITED.into()), "{stdout}");
    assert!(stdout.contains("Cannot find module 'left-pad'"), "{stdout}");
    assert!(
        stdout.contains("The application cannot find a module") && stdout.contains("warning AR400"),
        "{stdout}"
    );
}

/// Every line is a JSON object: (for stdout) with time, prefix, stream and text.
fn all_json(text: &str, what: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l)
                .unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {l:?}\n{text}"))
        })
        .collect()
}

/// Issue 10: with `--log-format json`, stdout holds only JSON lines, the results included (the
/// built image, the service's URL), and the warnings on stderr are JSON objects too; the revised
/// build's AR400 warning is repeated after the build.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn json_output_is_json_on_every_line_results_and_warnings_included() {
    let app = write_app(&[
        (
            "apprunner.yaml",
            "version: 1.0\nruntime: python311\nbuild:\n  commands:\n    build:\n      - pip3 install -r requirements.txt\nrun:\n  command: python3 -m http.server $PORT\n",
        ),
        ("requirements.txt", ""),
    ]);
    let tag = format!("apprunner-build-test/run-json:{}", std::process::id());
    let _image = ImageGuard::new(&tag);
    let out = Command::new(env!("CARGO_BIN_EXE_apprunner-build"))
        .args(["build", "--log-format", "json", "-t", &tag])
        .arg(app.path())
        .args(["--ca-bundle", "/etc/ssl/certs/ca-certificates.crt"])
        .env("APPRUNNER_BUILD_CATALOG", test_catalog())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let lines = all_json(&stdout, "stdout");
    for l in &lines {
        assert!(
            l["time"].is_string() && l["prefix"].is_string() && l["text"].is_string(),
            "{l}"
        );
    }
    let result = &lines.last().unwrap()["result"];
    assert_eq!(result["image"], tag.as_str(), "{stdout}");
    assert!(
        result["id"].as_str().unwrap().starts_with("sha256:"),
        "{stdout}"
    );
    // The warning, as an object on stderr; its reminder after the build.
    let warnings = all_json(&stderr, "stderr");
    let ar400 = warnings
        .iter()
        .find(|w| w["code"] == "AR400")
        .unwrap_or_else(|| panic!("{stderr}"));
    assert_eq!(ar400["severity"], "warning");
    assert!(
        ar400["location"]["path"]
            .as_str()
            .is_some_and(|p| p.ends_with("apprunner.yaml")),
        "{ar400}"
    );
    assert!(ar400["location"]["line"].is_u64(), "{ar400}");
    let texts: Vec<&str> = lines.iter().filter_map(|l| l["text"].as_str()).collect();
    let built_at = texts
        .iter()
        .position(|t| t.starts_with("Successfully built image"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        texts[built_at..]
            .iter()
            .any(|t| t.starts_with("Reminder:") && t.contains("warning AR400")),
        "{stdout}"
    );

    // `run`: the URL is a result too.
    let mut child = spawn(
        Command::new(env!("CARGO_BIN_EXE_apprunner-build"))
            .args(["run", &tag, "-p", "0", "--log-format", "json"])
            .args(["--health-interval", "1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    let read = read_until(&mut child, "live at http://localhost:");
    let (code, rest) = interrupt(&mut child);
    assert_eq!(code, 130);
    let all = format!("{}\n{rest}", read.join("\n"));
    let lines = all_json(all.trim(), "run's stdout");
    let url = lines
        .iter()
        .find_map(|l| l["result"]["url"].as_str())
        .unwrap_or_else(|| panic!("{all}"));
    assert!(url.starts_with("http://localhost:"), "{url}");
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    all_json(&stderr, "run's stderr");
}
