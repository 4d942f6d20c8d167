//! Build and application containers are confined whatever the options, never get the engine's
//! socket, run as the user asked for, and `--network host` and images that run as root are said.

use crate::support::*;
use apprunner_build::engine::confine::{self, Limits};
use apprunner_build::engine::messages::build_failure_reason;
use apprunner_build::engine::run::{self, HealthCheck, Publish, RunOptions};
use apprunner_build::engine::{BuildOptions, CommandTimeout, EngineError, Memory, Session};
use apprunner_build::plan::user::RunAs;
use apprunner_build::report::log::{BuildLog, LogFormat};
use std::path::Path;

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
