//! Least privilege, nothing leaked (issue 17 §5 and §4): build containers are confined whatever
//! the options and never get the engine's socket; limits on memory and time fail a build plainly;
//! `--network host` and images that run as root are said; `--user` is a step of the plan; and the
//! final image holds nothing of the machine that built it. The engine tests run with
//! scripts/test.sh (they need the fixture images).

mod support;

use apprunner_build::engine::confine::{self, Limits};
use apprunner_build::engine::messages::{build_failure_reason, engine_exit_code};
use apprunner_build::engine::run::{self, HealthCheck, Publish, RunOptions};
use apprunner_build::engine::{BuildOptions, CommandTimeout, EngineError, Memory, Session};
use apprunner_build::plan::user::RunAs;
use apprunner_build::plan::{self, labels, BuildPlan, Step};
use apprunner_build::project::{self, ProjectArgs};
use apprunner_build::report::exit;
use apprunner_build::report::log::{BuildLog, LogFormat};
use apprunner_build::resolve::catalog::Catalog;
use bollard::Docker;
use futures_util::StreamExt;
use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use support::*;

/// A Python app with no dependencies that answers "ok" on $PORT: quick to build.
fn tiny_app(build: &str) -> tempfile::TempDir {
    write_app(&[
        (
            "apprunner.yaml",
            &format!(
                "version: 1.0\nruntime: python311\nbuild:\n  commands:\n    build:\n      - {build}\nrun:\n  pre-run:\n    - {build}\n  command: python3 server.py\n"
            ),
        ),
        (
            "server.py",
            "import http.server, os\nclass H(http.server.BaseHTTPRequestHandler):\n    def do_GET(self):\n        self.send_response(200); self.end_headers(); self.wfile.write(b'ok\\n')\nhttp.server.HTTPServer(('0.0.0.0', int(os.environ['PORT'])), H).serve_forever()\n",
        ),
    ])
}

/// The plan for `dir` with the test catalog, as `plan --user USER` makes it.
fn plan_as(dir: &Path, user: Option<RunAs>) -> BuildPlan {
    let catalog = Catalog::load(&[test_catalog()]).unwrap();
    let loaded = project::load(
        &ProjectArgs {
            dir: dir.to_path_buf(),
            dependency_layers: true,
            user,
            ..Default::default()
        },
        &catalog,
        today(),
    );
    let report = apprunner_build::report::errors::render_all(&loaded.diagnostics);
    loaded.plan.unwrap_or_else(|| panic!("valid:\n{report}"))
}

// --- The plan and the command line: no engine.

/// `--user` is in the plan: a setup step of the committed stage after its last command, shown by
/// `plan` and kept by `plan --json`; the engine only carries it out.
#[test]
fn user_is_a_setup_step_the_plan_lists_and_prints() {
    let app = write_app(&[("apprunner.yaml", MINIMAL), ("server.py", "")]);
    let loaded = load_args(ProjectArgs {
        dir: app.path().to_path_buf(),
        user: Some(RunAs::Name("app".into())),
        ..Default::default()
    });
    let plan = loaded.plan.expect("valid");
    let at = plan
        .steps
        .iter()
        .position(|s| matches!(s, Step::Setup { .. }))
        .expect("a setup step");
    assert!(matches!(plan.steps[at + 1], Step::Commit { .. }));
    let Step::Setup { stage, command, .. } = &plan.steps[at] else {
        unreachable!()
    };
    assert_eq!(stage, "runtime");
    assert!(command.contains("useradd") && command.ends_with("chown -R app: /app"));
    assert_eq!(plan.image.user.as_deref(), Some("app"));
    assert_eq!(plan.image.labels[labels::USER], "app");
    let shown = plan::render(&plan);
    assert!(
        shown.contains("[runtime] setup, as root: id -u app"),
        "{shown}"
    );
    assert!(shown.contains("  user:    app"), "{shown}");
    let json = serde_json::to_string(&plan).unwrap();
    assert!(json.contains("\"step\":\"setup\""), "{json}");
    assert_eq!(serde_json::from_str::<BuildPlan>(&json).unwrap(), plan);

    // The command line: `plan --user`, and values refused before anything runs.
    let out = shipped_cli()
        .args(["plan", "--user", "1000"])
        .arg(app.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(
        stdout.contains("setup, as root: chown -R 1000 /app"),
        "{stdout}"
    );
    for bad in ["root", "0", "app:app", "a;b"] {
        let out = shipped_cli()
            .args(["plan", "--user", bad])
            .arg(app.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(exit::USAGE.into()),
            "{bad}: {stderr}"
        );
        assert!(stderr.contains("[AR702]"), "{bad}: {stderr}");
    }
    // An image runs as it was built.
    let out = shipped_cli()
        .args([
            "run",
            "apprunner-build-test/no-such-image:1",
            "--user",
            "app",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(exit::USAGE.into()), "{stderr}");
    assert!(
        stderr.contains("[AR702]") && stderr.contains("build DIR --user NAME"),
        "{stderr}"
    );
    // A saved plan already says who the image runs as.
    let out = shipped_cli()
        .args(["build", "--plan", "p.json", "--user", "app"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(exit::USAGE.into()), "{out:?}");
}

#[test]
fn bad_memory_cpus_and_timeouts_are_refused_with_a_code() {
    let app = write_app(&[("apprunner.yaml", MINIMAL)]);
    for (flag, value, says) in [
        ("--memory", "lots", "not a size"),
        ("--memory", "1m", "smallest limit"),
        ("--cpus", "0", "0.01"),
        ("--command-timeout", "0s", "above 0"),
        ("--command-timeout", "ten minutes", "not a duration"),
    ] {
        let out = shipped_cli()
            .args(["build", flag, value])
            .arg(app.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(exit::USAGE.into()), "{stderr}");
        assert!(
            stderr.contains("[AR702]") && stderr.contains(says),
            "{flag} {value}: {stderr}"
        );
    }
}

/// SECURITY.md's tables are the code's lists: each capability kept or dropped, with its reason.
#[test]
fn security_md_lists_every_capability_with_its_reason() {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("SECURITY.md")).unwrap();
    for (cap, why) in confine::KEPT_CAPABILITIES
        .iter()
        .chain(confine::DROPPED_CAPABILITIES)
    {
        assert!(
            doc.contains(&format!("| `{cap}` | {why} |")),
            "SECURITY.md lacks the row for {cap}: | `{cap}` | {why} |"
        );
    }
    assert!(doc.contains(&format!("A pids limit of {}", confine::PIDS_LIMIT)));
}

// --- On a real engine.

/// What the engine says of each container this test process's builds and runs start, inspected
/// as it starts: their host settings and mounts.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<bollard::models::ContainerInspectResponse>>>);

impl Seen {
    /// Watch the engine's `start` events for containers labelled as this process's.
    fn watch(docker: &Docker) -> (Self, tokio::task::JoinHandle<()>) {
        let seen = Seen::default();
        let docker = docker.clone();
        let into = seen.clone();
        let mine = format!("pid={} ", std::process::id());
        let task = tokio::spawn(async move {
            let filters = HashMap::from([
                ("type".to_string(), vec!["container".to_string()]),
                ("event".to_string(), vec!["start".to_string()]),
            ]);
            let options = bollard::query_parameters::EventsOptions {
                filters: Some(filters),
                ..Default::default()
            };
            let mut events = docker.events(Some(options));
            while let Some(Ok(event)) = events.next().await {
                let Some(actor) = event.actor else { continue };
                let owner = actor
                    .attributes
                    .as_ref()
                    .and_then(|a| a.get("apprunner-build.owner"))
                    .cloned()
                    .unwrap_or_default();
                if !owner.starts_with(&mine) {
                    continue;
                }
                let Some(id) = actor.id else { continue };
                if let Ok(inspect) = docker
                    .inspect_container(
                        &id,
                        None::<bollard::query_parameters::InspectContainerOptions>,
                    )
                    .await
                {
                    into.0.lock().unwrap().push(inspect);
                }
            }
        });
        (seen, task)
    }

    fn all(&self) -> Vec<bollard::models::ContainerInspectResponse> {
        self.0.lock().unwrap().clone()
    }
}

fn is_run_container(c: &bollard::models::ContainerInspectResponse) -> bool {
    c.name.as_deref().is_some_and(|n| n.contains("-app-"))
}

/// Every mount source and target, and every bind, of a container.
fn mount_paths(c: &bollard::models::ContainerInspectResponse) -> Vec<String> {
    let mut paths: Vec<String> = c
        .mounts
        .iter()
        .flatten()
        .flat_map(|m| [m.source.clone(), m.destination.clone()])
        .flatten()
        .collect();
    paths.extend(
        c.host_config
            .as_ref()
            .and_then(|h| h.binds.clone())
            .unwrap_or_default(),
    );
    paths
}

/// Build containers keep CHOWN, DAC_OVERRIDE, FOWNER, FSETID, KILL, SETGID and SETUID only
/// (CapEff 0xfb), gain no privilege (NoNewPrivs), have a pids limit of 4096 and the memory and CPU
/// limits asked for, on the default network and on `--network host` alike; no build container
/// and no application container (`run`) mounts the engine's socket (or DOCKER_HOST's path), and a
/// CA bundle that is the socket is refused.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn build_and_run_containers_are_confined_and_never_get_the_engine_socket() {
    let docker = docker().await;
    let probe = "awk '/^(CapEff|CapBnd|NoNewPrivs)/ {print \"status \" $1 $2}' /proc/self/status; echo pids $(cat /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/pids.max 2>/dev/null); echo memory $(cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/memory.max 2>/dev/null); echo cpu $(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu.max 2>/dev/null); echo sockets $(grep -c -e docker.sock -e podman.sock /proc/self/mountinfo); test -e /var/run/docker.sock && echo SOCKET-PRESENT || echo no-socket";
    let app = write_app(&[
        (
            "apprunner.yaml",
            &format!("version: 1.0\nruntime: python311\nbuild:\n  commands:\n    build:\n      - {probe}\nrun:\n  pre-run:\n    - pip3 install -r requirements.txt\n    - {probe}\n  command: python3 server.py\n"),
        ),
        ("requirements.txt", "pyramid==2.0\n"),
        (
            "server.py",
            "import http.server, os\nclass H(http.server.BaseHTTPRequestHandler):\n    def do_GET(self):\n        self.send_response(200); self.end_headers(); self.wfile.write(b'ok\\n')\nhttp.server.HTTPServer(('0.0.0.0', int(os.environ['PORT'])), H).serve_forever()\n",
        ),
    ]);
    let (seen, watcher) = Seen::watch(&docker);
    let plan = plan_as(app.path(), None);
    let limits = Limits {
        memory: Some(Memory::parse("768m").unwrap()),
        cpus: Some(apprunner_build::engine::Cpus::parse("1.5").unwrap()),
        command_timeout: Some(CommandTimeout::parse("10m").unwrap()),
    };
    let image = image_name("confined");
    let _image = ImageGuard::new(&image);
    for network in [None, Some("host".to_string())] {
        let options = BuildOptions {
            network: network.clone(),
            limits: limits.clone(),
            layer_cache: false,
            ..test_options("confined")
        };
        let b = build_plan_in(&docker, &plan, &options).await;
        b.result.as_ref().expect("builds");
        assert!(b.leftovers.is_empty(), "{:?}", b.leftovers);
        for prefix in ["[Build]", "[PreRun]"] {
            for line in [
                "status CapEff:00000000000000fb",
                "status CapBnd:00000000000000fb",
                "status NoNewPrivs:1",
                "pids 4096",
                "memory 805306368",
                "cpu 150000",
                "sockets 0",
                "no-socket",
            ] {
                assert!(
                    log_has(&b.log, &format!("{prefix} {line}")),
                    "{network:?}: no `{prefix} {line}`: {:#?}",
                    b.log
                );
            }
        }
    }

    // The application container, as `run` starts it.
    let session = Session::with_docker(docker.clone());
    let log = BuildLog::in_memory(LogFormat::Text);
    let options = RunOptions {
        image: image.to_string(),
        publish: Some(Publish {
            ip: Publish::DEFAULT_IP,
            port: 0,
        }),
        env: vec![],
        secrets: vec![],
        health: HealthCheck {
            interval: std::time::Duration::from_secs(1),
            ..HealthCheck::APP_RUNNER
        },
    };
    let config = run::ImageRunConfig::from_plan(&plan);
    let started = run::start(&session, &options, &config, &log).await;
    let (started, _output) = started.expect("the app starts");
    let app_inspect = docker
        .inspect_container(
            &started.container,
            None::<bollard::query_parameters::InspectContainerOptions>,
        )
        .await
        .unwrap();
    session.close().await;

    // A CA bundle that is the socket, or a link to it, never gets that far.
    let link_dir = tempfile::tempdir().unwrap();
    let link = link_dir.path().join("ca.pem");
    std::os::unix::fs::symlink("/var/run/docker.sock", &link).unwrap();
    for ca in [Path::new("/var/run/docker.sock"), &link] {
        let options = BuildOptions {
            ca_bundle: Some(ca.to_path_buf()),
            ..test_options("socket-ca")
        };
        let b = build_plan_in(&docker, &plan, &options).await;
        match b.result {
            Err(e @ EngineError::CaBundle { .. }) => {
                let reason = build_failure_reason(&e);
                assert!(reason.contains("engine's socket"), "{reason}");
                assert!(reason.ends_with("[AR504]"), "{reason}");
            }
            other => panic!("{ca:?}: {other:?}"),
        }
    }
    watcher.abort();

    let sockets: Vec<String> = confine::engine_sockets()
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    // Every container this test process started, this test's and those of tests running beside
    // it: all confined alike.
    let mut all = seen.all();
    assert!(
        all.iter().any(is_run_container),
        "the run container was seen"
    );
    all.push(app_inspect);
    let mut mine = 0;
    for c in &all {
        let name = c.name.clone().unwrap_or_default();
        let paths = mount_paths(c);
        for path in &paths {
            assert!(
                !sockets.iter().any(|s| path.contains(s.as_str())) && !path.contains("docker.sock"),
                "{name} mounts {path}"
            );
        }
        if is_run_container(c) {
            continue;
        }
        let host = c.host_config.clone().unwrap_or_default();
        assert_eq!(host.cap_drop, Some(vec!["ALL".to_string()]), "{name}");
        let mut kept = host.cap_add.clone().unwrap_or_default();
        kept.sort();
        let mut want: Vec<String> = confine::KEPT_CAPABILITIES
            .iter()
            .map(|(c, _)| c.to_string())
            .collect();
        want.sort();
        assert_eq!(kept, want, "{name}");
        assert_eq!(
            host.security_opt,
            Some(vec![confine::NO_NEW_PRIVILEGES.to_string()]),
            "{name}"
        );
        assert_eq!(host.pids_limit, Some(confine::PIDS_LIMIT), "{name}");
        // Other tests of this process build at the same time, with other limits: this test's
        // containers are those with its memory limit.
        if host.memory == Some(768 << 20) {
            mine += 1;
            assert_eq!(host.memory_swap, Some(768 << 20), "{name}");
            assert_eq!(host.nano_cpus, Some(1_500_000_000), "{name}");
        }
    }
    assert!(mine >= 4, "this test's build containers were seen: {mine}");
}

/// The guide's Python example, the Express fixture (npm) and a pnpm app through corepack build in
/// confined containers, under memory and CPU limits, and run as the user `--user` names: one it
/// makes (`app`), one the image has (`nobody`), a bare UID (1000). The user owns /app.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn confined_builds_of_python_npm_and_pnpm_apps_answer_as_the_user_asked_for() {
    let docker = docker().await;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (dir, user, owner, answer_text) in [
        (
            root.join("examples/python-hello"),
            "app",
            "app",
            "Hello, world!\n",
        ),
        (
            root.join("tests/fixtures/apps/express-npm"),
            "nobody",
            "nobody",
            "Hello from Express on Node.js v22.21.1\n",
        ),
        (
            root.join("tests/fixtures/apps/pnpm-ms"),
            "1000",
            "1000",
            "pnpm 1m\n",
        ),
    ] {
        let copy = copy_tree(&dir);
        let plan = plan_as(copy.path(), Some(RunAs::parse(user).unwrap()));
        let test = format!("as-{user}");
        let options = BuildOptions {
            limits: Limits {
                memory: Some(Memory::parse("2g").unwrap()),
                cpus: Some(apprunner_build::engine::Cpus::parse("1").unwrap()),
                command_timeout: Some(CommandTimeout::parse("10m").unwrap()),
            },
            ..test_options(&test)
        };
        let _image = ImageGuard::new(&options.image);
        let b = build_plan_in(&docker, &plan, &options).await;
        let built = b
            .result
            .unwrap_or_else(|e| panic!("{user}: {e}: {:#?}", b.log));
        assert!(
            log_has(&b.log, "[AppRunner] Setup, as root (--user "),
            "{:#?}",
            b.log
        );
        let image = built.name.to_string();
        let inspect = docker.inspect_image(&image).await.unwrap();
        assert_eq!(inspect.config.unwrap().user.as_deref(), Some(user));
        assert_eq!(
            answer(&docker, &image, &[], 8080).await,
            answer_text,
            "{user}"
        );
        let who = output_of(
            &docker,
            &image,
            "echo \"uid=$(id -u) owner=$(stat -c %U /app) owner_id=$(stat -c %u /app) app_files_not_owned=$(find /app ! -user $(id -u) | wc -l)\"",
        )
        .await;
        let uid = if user == "1000" {
            "1000".to_string()
        } else {
            output_of(&docker, &image, "id -u").await.trim().to_string()
        };
        assert_ne!(uid, "0", "{user}: {who}");
        assert!(
            who.contains(&format!("uid={uid} "))
                && (who.contains(&format!("owner={owner} "))
                    || who.contains(&format!("owner_id={owner} ")))
                && who.contains("app_files_not_owned=0"),
            "{user}: {who}"
        );
    }
}

/// A command past `--command-timeout` is stopped: the build fails with the build-command exit
/// code, naming the command and the limit, with its own code, and leaves no container.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn a_command_past_its_timeout_is_stopped_naming_the_command_and_the_limit() {
    let docker = docker().await;
    let app = tiny_app("echo started; sleep 600");
    let tag = format!("apprunner-build-test/timeout:{}", std::process::id());
    let _image = ImageGuard::new(&tag);
    let t = std::time::Instant::now();
    let child = cli()
        .args(["build", "-t", &tag, "--command-timeout", "3s"])
        .arg(app.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(t.elapsed().as_secs() < 60, "stopped in time: {stdout}");
    assert_eq!(
        out.status.code(),
        Some(exit::BUILD_COMMAND_FAILED.into()),
        "{stdout}"
    );
    assert!(stdout.contains("[Build] started"), "{stdout}");
    assert!(
        stdout.contains("Reason: Stopped 'build' command 'echo started; sleep 600': it ran longer than the --command-timeout limit of 3s. [AR512]"),
        "{stdout}"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--command-timeout 30m"),
        "{out:?}"
    );
    assert_eq!(
        leftover_containers(&docker, pid).await,
        Vec::<String>::new()
    );
}

/// A command the out-of-memory killer stops under `--memory` is said to be killed for memory,
/// with its own code, not as "exit code 137".
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn a_command_killed_under_memory_says_out_of_memory_not_exit_137() {
    let docker = docker().await;
    let hog = "python3 -c \"s = 'x' * (512 * 1024 * 1024)\"";
    let app = tiny_app(hog);
    let plan = plan_as(app.path(), None);
    let options = BuildOptions {
        limits: Limits {
            memory: Some(Memory::parse("64m").unwrap()),
            ..Default::default()
        },
        ..test_options("oom")
    };
    let _image = ImageGuard::new(&options.image);
    let b = build_plan_in(&docker, &plan, &options).await;
    assert!(b.leftovers.is_empty(), "{:?}", b.leftovers);
    let e = b.result.expect_err("the command needs more than 64m");
    assert!(
        matches!(&e, EngineError::CommandOutOfMemory { exit_code: 137, .. }),
        "{e:?}"
    );
    let reason = build_failure_reason(&e);
    assert_eq!(
        reason,
        format!("Failed to execute 'build' command '{hog}': killed: out of memory under --memory 64m. [AR513]")
    );
    assert!(!reason.contains("exit code 137"), "{reason}");
    assert_eq!(engine_exit_code(&e), exit::BUILD_COMMAND_FAILED);
}

/// `--network host` is taken only by name, and said in the build log with its code; the default
/// network says nothing and shows build commands only the container's own interfaces.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn host_network_only_when_named_and_with_a_coded_warning() {
    let docker = docker().await;
    let app = tiny_app("echo \"interfaces=$(ls /sys/class/net | tr '\\n' ' ')\"");
    let plan = plan_as(app.path(), None);
    for network in [None, Some("host")] {
        let options = BuildOptions {
            network: network.map(String::from),
            layer_cache: false,
            ..test_options("host-network")
        };
        let _image = ImageGuard::new(&options.image);
        let b = build_plan_in(&docker, &plan, &options).await;
        b.result.as_ref().expect("builds");
        let warned = b.log.iter().find(|l| l.contains("[AR511]"));
        let interfaces = b
            .log
            .iter()
            .find(|l| l.contains("[Build] interfaces="))
            .cloned()
            .unwrap_or_default();
        match network {
            None => {
                assert!(warned.is_none(), "{warned:?}");
                assert!(!interfaces.contains("docker0"), "{interfaces}");
            }
            Some(_) => {
                let warned = warned.expect("the warning");
                assert!(
                    warned.contains("[AppRunner] Warning: --network host: build commands share this machine's network"),
                    "{warned}"
                );
                assert!(interfaces.contains("docker0"), "{interfaces}");
            }
        }
    }
}

/// `run` says when the image it starts runs as root, with the fix; an image built with `--user`
/// starts without the warning.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn run_warns_when_the_image_runs_as_root_and_names_the_fix() {
    let docker = docker().await;
    let app = tiny_app("echo built");
    for user in [None, Some(RunAs::Name("app".into()))] {
        let plan = plan_as(app.path(), user.clone());
        let options = test_options("root-warning");
        let _image = ImageGuard::new(&options.image);
        let b = build_plan_in(&docker, &plan, &options).await;
        b.result.as_ref().expect("builds");
        let session = Session::with_docker(docker.clone());
        let log = BuildLog::in_memory(LogFormat::Text);
        let run_options = RunOptions {
            image: options.image.to_string(),
            publish: Some(Publish {
                ip: Publish::DEFAULT_IP,
                port: 0,
            }),
            env: vec![],
            secrets: vec![],
            health: HealthCheck {
                interval: std::time::Duration::from_secs(1),
                ..HealthCheck::APP_RUNNER
            },
        };
        let config = run::ImageRunConfig::from_plan(&plan);
        let started = run::start(&session, &run_options, &config, &log).await;
        session.close().await;
        started.expect("starts");
        let warning = log.lines().into_iter().find(|l| l.contains("[AR607]"));
        match user {
            None => {
                let w = warning.expect("a root image is said");
                assert!(w.contains("runs as root") && w.contains("--user"), "{w}");
            }
            Some(_) => assert!(warning.is_none(), "{warning:?}"),
        }
    }
}

// --- The final image holds nothing of the machine that built it.

/// Whether `needle` occurs in `hay` as a whole word: not inside a longer name.
fn has_word(hay: &[u8], needle: &[u8]) -> bool {
    let part = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
    hay.windows(needle.len()).enumerate().any(|(i, w)| {
        w == needle
            && (i == 0 || !part(hay[i - 1]))
            && hay.get(i + needle.len()).is_none_or(|b| !part(*b))
    })
}

fn has(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// What must not be in the image, and how it is looked for.
struct Needle {
    what: String,
    bytes: Vec<u8>,
    /// Matched as a whole word (names), else anywhere.
    word: bool,
    /// Looked for in file contents too (a short host name would match words in packages' files:
    /// it is looked for in names, headers, config and history only).
    in_contents: bool,
}

impl Needle {
    fn found_in(&self, hay: &[u8]) -> bool {
        if self.word {
            has_word(hay, &self.bytes)
        } else {
            has(hay, &self.bytes)
        }
    }
}

/// Where each needle was found in the image's export: the config, history and labels (all of the
/// image), and the names, headers and contents of the files in every layer the build added (the
/// runtime image's own layers are the base's: they hold the base's own CA bundle). The export's
/// manifest.json names each layer's file and the config, whose `rootfs.diff_ids` say which layers
/// are the base's.
fn search_export(export: &Path, base_layers: &[String], needles: &[Needle]) -> Vec<String> {
    use std::io::Read;
    fn each_entry(export: &Path, mut visit: impl FnMut(&str, &mut dyn Read)) {
        let mut outer = tar::Archive::new(std::fs::File::open(export).unwrap());
        for entry in outer.entries().unwrap() {
            let mut entry = entry.unwrap();
            if entry.header().entry_type() != tar::EntryType::Regular {
                continue;
            }
            let name = entry.path().unwrap().display().to_string();
            visit(&name, &mut entry);
        }
    }
    let entries = |visit: &mut dyn FnMut(&str, &mut dyn Read)| each_entry(export, visit);
    let read_all = |r: &mut dyn Read| {
        let mut bytes = Vec::new();
        r.read_to_end(&mut bytes).unwrap();
        bytes
    };
    // Pass 1: which layer files are the build's.
    let mut manifest: Option<serde_json::Value> = None;
    entries(&mut |name, r| {
        if name == "manifest.json" {
            manifest = Some(serde_json::from_slice(&read_all(r)).unwrap());
        }
    });
    let manifest = manifest.expect("the export has a manifest.json");
    let config_path = manifest[0]["Config"].as_str().unwrap().to_string();
    let layer_paths: Vec<String> = manifest[0]["Layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_string())
        .collect();
    let mut config: Option<serde_json::Value> = None;
    entries(&mut |name, r| {
        if name == config_path {
            config = Some(serde_json::from_slice(&read_all(r)).unwrap());
        }
    });
    let config = config.expect("the export has the image's config");
    let diff_ids = config["rootfs"]["diff_ids"].as_array().unwrap().clone();
    assert_eq!(diff_ids.len(), layer_paths.len());
    let added: Vec<String> = layer_paths
        .iter()
        .zip(&diff_ids)
        .filter(|(_, id)| !base_layers.iter().any(|b| Some(b.as_str()) == id.as_str()))
        .map(|(p, _)| p.clone())
        .collect();
    assert!(added.len() >= 2, "the build added layers: {added:?}");

    // Pass 2: everything but the base's layers.
    let mut found = Vec::new();
    let mut searched = 0;
    entries(&mut |name, r| {
        let is_layer = layer_paths.iter().any(|p| p == name);
        if is_layer && !added.iter().any(|p| p == name) {
            return;
        }
        let bytes = read_all(r);
        if !is_layer {
            // manifest.json, the config (env, labels, history), each layer's json, VERSION.
            for n in needles {
                if n.found_in(&bytes) {
                    found.push(format!("{} in {name}", n.what));
                }
            }
            return;
        }
        searched += 1;
        let mut layer = tar::Archive::new(&bytes[..]);
        for file in layer.entries().unwrap() {
            let mut file = file.unwrap();
            let path = String::from_utf8_lossy(&file.path_bytes()).into_owned();
            let header = file.header().clone();
            let mut fields: Vec<u8> = file.path_bytes().to_vec();
            fields.push(b'\n');
            fields.extend(
                file.link_name_bytes()
                    .map(|l| l.to_vec())
                    .unwrap_or_default(),
            );
            fields.push(b'\n');
            fields.extend(header.username_bytes().unwrap_or_default());
            fields.push(b'\n');
            fields.extend(header.groupname_bytes().unwrap_or_default());
            for n in needles {
                if n.found_in(&fields) {
                    found.push(format!(
                        "{} in the name or header of {path} ({name})",
                        n.what
                    ));
                }
            }
            let contents = read_all(&mut file);
            for n in needles.iter().filter(|n| n.in_contents) {
                if n.found_in(&contents) {
                    found.push(format!("{} in {path} ({name})", n.what));
                }
            }
        }
    });
    assert_eq!(searched, added.len(), "every added layer was searched");
    found
}

/// The final image, exported (the engine's `docker save`, streamed) and searched through: no
/// line of the CA bundle (the host's, with the proxy's certificate the base image lacks), no
/// build.env value that run.env does not also set, no run secret value (from a secrets file
/// inside the source), no name of this machine or its users, no path of the build directory; in
/// any layer the build added, in the config, history or labels. Built and started as
/// `apprunner-build run` does, with the CA bundle, the package caches and `--user`.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn the_final_image_holds_no_ca_bundle_build_env_secret_host_name_or_build_path() {
    const BUILD_TOKEN: &str = "bt-4e1f0c9a7d5b";
    const SECRET: &str = "sk-live-93c1d7e2aa60";
    const CA: &str = "/etc/ssl/certs/ca-certificates.crt";
    let docker = docker().await;
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/python-hello");
    let app = write_app(&[
        (
            "apprunner.yaml",
            "version: 1.0\nruntime: python311\nbuild:\n  commands:\n    pre-build:\n      - test -s \"$SSL_CERT_FILE\" && test -n \"$BUILD_TOKEN\" && echo pre-build-saw-both\n    build:\n      - python3 -m compileall -q .\n    post-build:\n      - test -n \"$BUILD_TOKEN\" && echo post-build-saw-token\n  env:\n    - name: BUILD_TOKEN\n      value: \"bt-4e1f0c9a7d5b\"\n    - name: SHARED_SETTING\n      value: \"shared-2b7d\"\nrun:\n  pre-run:\n    - pip3 install -r requirements.txt\n    - test -n \"$BUILD_TOKEN\" && echo pre-run-saw-token\n  command: python3 server.py\n  env:\n    - name: SHARED_SETTING\n      value: \"shared-2b7d\"\n  secrets:\n    - name: API_KEY\n      value-from: arn:aws:secretsmanager:us-east-1:123456789012:secret:api-key\n",
        ),
        (
            "requirements.txt",
            &std::fs::read_to_string(example.join("requirements.txt")).unwrap(),
        ),
        (
            "server.py",
            &std::fs::read_to_string(example.join("server.py")).unwrap(),
        ),
        ("secrets.env", &format!("API_KEY={SECRET}\n")),
        // apprunner.yaml is the source's own file, and holds build.env's values as written: App
        // Runner ships it in /app like the rest of the repository, and so does a build here. A
        // project whose build.env must not ship leaves it out, as this one does; the tool must
        // then add the values nowhere.
        (".dockerignore", "apprunner.yaml\n"),
    ]);
    let tag = format!("apprunner-build-test/leaks:{}", std::process::id());
    let _image = ImageGuard::new(&tag);
    let mut child = cli()
        .arg("run")
        .arg(app.path())
        .args(["-t", &tag, "-p", "0", "--user", "app", "--ca-bundle", CA])
        .arg("--secrets-file")
        .arg(app.path().join("secrets.env"))
        .args(["--health-interval", "1"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = Vec::new();
    {
        use std::io::BufRead;
        let stdout = child.stdout.as_mut().unwrap();
        for line in std::io::BufReader::new(stdout).lines() {
            let line = line.unwrap();
            let done = line.contains("live at http://") || line.contains("Failed");
            lines.push(line);
            if done {
                break;
            }
        }
    }
    let (code, _) = interrupt(&mut child, "-INT");
    let shown = lines.join("\n");
    assert_eq!(code, i32::from(exit::INTERRUPTED), "{shown}");
    for said in [
        "pre-build-saw-both",
        "post-build-saw-token",
        "pre-run-saw-token",
    ] {
        assert!(shown.contains(said), "{said}: {shown}");
    }
    assert!(!shown.contains(SECRET), "{shown}");

    // What to look for.
    let host_bundle = std::fs::read_to_string(CA).unwrap();
    let plan = plan_as(app.path(), None);
    let base_bundle = output_of(&docker, &plan.runtime.image, &format!("cat {CA}")).await;
    let mut bundle_lines: Vec<&str> = host_bundle
        .lines()
        .filter(|l| l.len() >= 40 && !l.starts_with("-----") && !base_bundle.contains(*l))
        .collect();
    if bundle_lines.is_empty() {
        // The host's bundle is the base image's: any of its lines, in the build's layers.
        bundle_lines = host_bundle.lines().filter(|l| l.len() == 64).collect();
    }
    let mut needles: Vec<Needle> = bundle_lines
        .iter()
        .take(8)
        .map(|l| Needle {
            what: format!("the CA bundle's line {l}"),
            bytes: l.as_bytes().to_vec(),
            word: false,
            in_contents: true,
        })
        .collect();
    for (what, value) in [
        ("build.env BUILD_TOKEN", BUILD_TOKEN),
        ("the secret API_KEY", SECRET),
    ] {
        needles.push(Needle {
            what: what.into(),
            bytes: value.into(),
            word: false,
            in_contents: true,
        });
    }
    let dir = app.path().display().to_string();
    let real = app.path().canonicalize().unwrap().display().to_string();
    for path in [dir, real] {
        needles.push(Needle {
            what: format!("the build directory {path}"),
            bytes: path.into_bytes(),
            word: false,
            in_contents: true,
        });
    }
    let host = String::from_utf8(Command::new("hostname").output().unwrap().stdout).unwrap();
    let host = host.trim().to_string();
    assert!(!host.is_empty());
    needles.push(Needle {
        what: format!("the host name {host}"),
        in_contents: host.len() >= 4,
        bytes: host.into_bytes(),
        word: true,
    });
    // The machine's people: the user running the build unless root (every image has a root),
    // and every account of a person (UID 1000 and up, nobody aside).
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let mut users: Vec<String> = passwd
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            let uid: u32 = f.get(2)?.parse().ok()?;
            (uid >= 1000 && uid != 65534).then(|| f[0].to_string())
        })
        .collect();
    let me = String::from_utf8(Command::new("id").arg("-un").output().unwrap().stdout).unwrap();
    if me.trim() != "root" {
        users.push(me.trim().to_string());
    }
    for user in users {
        needles.push(Needle {
            what: format!("the user name {user}"),
            bytes: user.into_bytes(),
            word: true,
            in_contents: true,
        });
    }

    // Controls, which must be found: the search sees the config and the files of the build's
    // layers.
    let controls = [
        ("control: run.env's value", "shared-2b7d"),
        (
            "control: a line of server.py",
            "config.add_view(hello_world",
        ),
    ];
    for (what, value) in controls {
        needles.push(Needle {
            what: what.into(),
            bytes: value.into(),
            word: false,
            in_contents: true,
        });
    }

    // The image, exported and streamed to a file.
    let saved_dir = tempfile::tempdir().unwrap();
    let saved = saved_dir.path().join("image.tar");
    let mut file = std::fs::File::create(&saved).unwrap();
    let mut export = docker.export_image(&tag);
    while let Some(chunk) = export.next().await {
        std::io::Write::write_all(&mut file, &chunk.expect("exports")).unwrap();
    }
    drop(file);
    let base = docker.inspect_image(&plan.runtime.image).await.unwrap();
    let base_layers = base.root_fs.and_then(|r| r.layers).unwrap_or_default();
    let mut found = tokio::task::spawn_blocking({
        let saved = saved.clone();
        let needles: Vec<Needle> = needles
            .iter()
            .map(|n| Needle {
                what: n.what.clone(),
                bytes: n.bytes.clone(),
                word: n.word,
                in_contents: n.in_contents,
            })
            .collect();
        move || search_export(&saved, &base_layers, &needles)
    })
    .await
    .unwrap();

    // What the engine says of the image: config, env, labels, history.
    let inspect = docker.inspect_image(&tag).await.unwrap();
    let history = docker.image_history(&tag).await.unwrap();
    let said = format!(
        "{}\n{}",
        serde_json::to_string(&inspect).unwrap(),
        serde_json::to_string(&history).unwrap()
    );
    for n in &needles {
        if n.found_in(said.as_bytes()) {
            found.push(format!("{} in the image's inspect or history", n.what));
        }
    }
    let (seen, found): (Vec<String>, Vec<String>) =
        found.into_iter().partition(|f| f.starts_with("control: "));
    for (what, _) in controls {
        assert!(
            seen.iter().any(|f| f.starts_with(what)),
            "{what}: {seen:#?}"
        );
    }
    assert!(found.is_empty(), "{found:#?}");
}
