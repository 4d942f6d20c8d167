//! Reaching the engine: `DOCKER_HOST` over a unix socket and TCP, addresses refused by name, the
//! build containers' network, and the JSON log a CI reads.

use crate::support::*;
use apprunner_build::report::exit;

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn json_log_for_ci_and_log_file_and_docker_host() {
    let image = ImageGuard::new("apprunner-build-test/json:1");
    let app = write_app(&[(
        "apprunner.yaml",
        "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - echo to-stdout; echo to-stderr >&2\nrun:\n  command: sleep 1000\n",
    )]);
    let log_file = app.path().join("build.log");
    let out = cli()
        .args([
            "build",
            "-t",
            "apprunner-build-test/json:1",
            "--log-format",
            "json",
            "--log-file",
        ])
        .arg(&log_file)
        .arg(app.path())
        .env("DOCKER_HOST", "unix:///var/run/docker.sock")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    // Issue 10: JSON lines only, the image id included (as the last line's result).
    let lines: Vec<&str> = stdout.lines().collect();
    let parsed: Vec<serde_json::Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let image_id = parsed.last().unwrap()["result"]["id"].as_str().unwrap();
    assert!(
        image_id.starts_with("sha256:"),
        "the image id comes last: {image_id}"
    );
    assert!(parsed
        .iter()
        .any(|v| v["prefix"] == "Build" && v["stream"] == "stdout" && v["text"] == "to-stdout"));
    assert!(parsed
        .iter()
        .any(|v| v["prefix"] == "Build" && v["stream"] == "stderr" && v["text"] == "to-stderr"));
    assert!(parsed.iter().all(|v| v["time"].is_string()));
    assert_eq!(
        std::fs::read_to_string(&log_file)
            .unwrap()
            .lines()
            .collect::<Vec<_>>(),
        lines
    );
    drop(image);

    let out = cli()
        .args(["build", "-t", "x"])
        .arg(app.path())
        .env("DOCKER_HOST", "tcp://127.0.0.1:9")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(exit::ENGINE_FAILED.into()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("Reason: Cannot reach the Docker engine at tcp://127.0.0.1:9"),
        "{stdout}"
    );
    // And how to get one.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("start a Docker engine") && stderr.contains("DOCKER_HOST"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn build_containers_join_the_requested_network() {
    let docker = docker().await;
    let _image = ImageGuard::new(image_name("network"));
    let app = write_app(&[(
        "apprunner.yaml",
        "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - echo \"interfaces=$(ls /sys/class/net | tr '\\n' ' ')\"\nrun:\n  command: sleep 1000\n",
    )]);
    let plan = plan_for(app.path());
    let log = apprunner_build::report::log::BuildLog::in_memory(
        apprunner_build::report::log::LogFormat::Text,
    );
    let options = apprunner_build::engine::BuildOptions {
        image: image_name("network"),
        network: Some("none".into()),
        ca_bundle: None,
        reuse_image: false,
        package_cache: false,
        layer_cache: true,
        write_layers: true,
        export_layers: false,
        layer_dir: std::env::temp_dir().join("apprunner-build-test-layers"),
        exclude: vec![],
        limits: Default::default(),
    };
    let session = apprunner_build::engine::Session::with_docker(docker.clone());
    let built = session.build(&plan, &options, &log).await;
    built.expect("builds");
    assert!(
        log_has(&log.lines(), "[Build] interfaces=lo "),
        "{:#?}",
        log.lines()
    );
}

/// DOCKER_HOST=tcp://… reaches the engine: a loopback TCP listener relays to the unix socket.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn docker_host_over_tcp() {
    let _image = ImageGuard::new("apprunner-build-test/tcp:1");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            tokio::spawn(async move {
                if let Ok(mut unix) = tokio::net::UnixStream::connect("/var/run/docker.sock").await
                {
                    let _ = tokio::io::copy_bidirectional(&mut tcp, &mut unix).await;
                }
            });
        }
    });
    let app = write_app(&[(
        "apprunner.yaml",
        "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - echo over-tcp\nrun:\n  command: sleep 1000\n",
    )]);
    let out = tokio::process::Command::from(cli())
        .args(["build", "-t", "apprunner-build-test/tcp:1"])
        .arg(app.path())
        .env("DOCKER_HOST", format!("tcp://127.0.0.1:{port}"))
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("[Build] over-tcp"), "{stdout}");
}

/// Issue 9: a DOCKER_HOST this tool cannot use is refused by name, never replaced by the local
/// socket.
#[test]
fn unsupported_docker_hosts_are_refused_by_name() {
    let app = write_app(&[(
        "apprunner.yaml",
        "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - echo x\nrun:\n  command: x\n",
    )]);
    for (host, says) in [
        (
            "ssh://me@127.0.0.1",
            "ssh:// connections to the engine are not supported",
        ),
        ("npipe:////./pipe/docker_engine", "npipe:// connections"),
        ("tcp://127.0.0.1:2375/v1.41", "a path or query (`/v1.41`)"),
        ("garbage here", "is not an engine address"),
    ] {
        let out = shipped_cli()
            .args(["build", "-t", "apprunner-build-test/host:1"])
            .arg(app.path())
            .env("DOCKER_HOST", host)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(exit::ENGINE_FAILED.into()),
            "{host}: {stdout}"
        );
        assert!(stdout.contains(says), "{host}: {stdout}");
        assert!(
            stdout.contains("unix://") && stdout.contains("tcp://"),
            "{stdout}"
        );
        assert!(!stdout.contains("Starting to build"), "{host}: {stdout}");
    }
}

/// `--debug` logs every engine call with its duration on stderr, and never a build.env value:
/// bodies (exec and container env) are not logged, nor query values.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn debug_logs_engine_calls_with_durations_and_no_secrets() {
    let _image = ImageGuard::new("apprunner-build-test/debug:1");
    let secret = "s3cret-build-env-value-7f3a";
    let app = write_app(&[(
        "apprunner.yaml",
        &format!("version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - test -n \"$API_TOKEN\" && echo token-present\n  env:\n    - name: API_TOKEN\n      value: {secret}\nrun:\n  command: sleep 1000\n"),
    )]);
    let build = |debug: bool| {
        let mut c = cli();
        c.args(["build", "--no-cache", "-t", "apprunner-build-test/debug:1"])
            .arg(app.path())
            .env_remove("RUST_LOG");
        if debug {
            c.arg("--debug");
        }
        c.output().unwrap()
    };
    let out = build(true);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("[Build] token-present"), "{stdout}");
    // One line per call: the method, the path, the query's names (not values), the status, the time.
    let calls: Vec<&str> = stderr
        .lines()
        .filter(|l| {
            l.contains(" DEBUG ") && (l.contains(": engine GET /") || l.contains(": engine POST /"))
        })
        .collect();
    for expected in [
        "/version status=200 took=",
        "/containers/create?name",
        "/exec status=201 took=",
    ] {
        assert!(
            calls.iter().any(|l| l.contains(expected)),
            "{expected}: {stderr}"
        );
    }
    assert!(
        calls
            .iter()
            .all(|l| l.contains(" took=") && l.contains(" status=") || l.contains(" error=")),
        "{calls:#?}"
    );
    assert!(calls.len() > 10, "every call: {calls:#?}");
    assert!(
        stderr.contains("engine: unix://"),
        "how it was found: {stderr}"
    );
    assert!(
        !stdout.contains(secret) && !stderr.contains(secret),
        "the build.env value is never printed: {stdout}{stderr}"
    );
    // Without --debug (and RUST_LOG), none of it.
    let out = build(false);
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stderr).contains(" DEBUG "));
}
