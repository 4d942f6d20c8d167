//! End to end on a real Docker engine: real apps built into real images, started, and asked over HTTP.
//! Run with scripts/test.sh (it starts dockerd and builds the fixture runtime images).

mod support;

use apprunner_build::engine::messages::build_failure_reason;
use apprunner_build::engine::EngineError;
use apprunner_build::plan::PhaseName;
use apprunner_build::report::exit;
use std::path::Path;
use support::*;

fn example() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/python-hello"
    ))
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn a_the_guides_python_example_answers_hello() {
    let docker = docker().await;
    let _image = ImageGuard::new(image_name("python-hello"));
    // As `--no-cache` builds: every command runs, whatever earlier runs kept.
    let b = build_plan_with(&docker, &plan_for(example()), "python-hello", false).await;
    let built = b.result.expect("the example builds");
    let image = built.name.to_string();
    let app = start(&docker, &image, &[], None).await;
    assert_eq!(http_get(&app, 8080).await, "Hello, world!\n");
    stop(&docker, &app).await;
    let app = start(&docker, &image, &["NAME=Ada"], None).await;
    assert_eq!(http_get(&app, 8080).await, "Hello, Ada!\n");
    stop(&docker, &app).await;

    // The CA bundle served the build and is nowhere in the image: not the file, not the variables.
    let inspect = docker.inspect_image(&image).await.unwrap();
    let env = inspect.config.unwrap().env.unwrap();
    assert!(
        !env.iter()
            .any(|e| e.contains("apprunner-build-ca") || e.starts_with("PIP_CERT")),
        "{env:?}"
    );
    let files = output_of(
        &docker,
        &image,
        "ls -la /dev; find / -xdev -name '*apprunner-build-ca*' 2>/dev/null; echo done",
    )
    .await;
    assert!(!files.contains("apprunner-build-ca"), "{files}");
    assert!(log_has(
        &b.log,
        "[AppRunner] Starting to build your application source code."
    ));
    assert!(
        log_has(&b.log, "[PreRun] Successfully installed"),
        "pip's output is logged under [PreRun]: {:#?}",
        b.log
    );
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn b_nodejs18_answers_on_the_configured_port_with_the_port_variable() {
    let docker = docker().await;
    let app = write_app(&[
        (
            "apprunner.yaml",
            "version: 1.0\nruntime: nodejs18\nbuild:\n  commands:\n    build:\n      - npm install\nrun:\n  command: node server.js\n  network:\n    port: 8000\n    env: APP_PORT\n",
        ),
        ("package.json", r#"{"name":"hello18","version":"1.0.0","private":true}"#),
        (
            "server.js",
            "require('http').createServer((q, s) => s.end(`node ${process.version} PORT=${process.env.PORT} APP_PORT=${process.env.APP_PORT}\\n`)).listen(process.env.PORT);\n",
        ),
    ]);
    let _image = ImageGuard::new(image_name("node18"));
    let built = build(&docker, app.path(), "node18")
        .await
        .result
        .expect("builds");
    assert_eq!(
        answer(&docker, &built.name.to_string(), &[], 8000).await,
        "node v18.20.8 PORT=8000 APP_PORT=8000\n"
    );
    let inspect = docker
        .inspect_image(&built.name.to_string())
        .await
        .unwrap()
        .config
        .unwrap();
    assert_eq!(inspect.exposed_ports.unwrap(), vec!["8000/tcp".to_string()]);
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn c_nodejs12_locked_version_and_e_post_build_leaves_no_trace() {
    let docker = docker().await;
    let app = write_app(&[(
        "apprunner.yaml",
        "version: 1.0\nruntime: nodejs12\nbuild:\n  commands:\n    build:\n      - node --version > built-with.txt\n    post-build:\n      - touch /app/post-build.txt /opt/post-build.txt\nrun:\n  runtime-version: 12.22.12\n  command: node -e 'setInterval(() => {}, 1000)'\n",
    )]);
    let _image = ImageGuard::new(image_name("node12"));
    let b = build(&docker, app.path(), "node12").await;
    let built = b.result.expect("builds");
    let image = built.name.to_string();
    assert_eq!(
        output_of(&docker, &image, "node --version").await.trim(),
        "v12.22.12"
    );
    assert_eq!(
        output_of(&docker, &image, "cat built-with.txt")
            .await
            .trim(),
        "v12.22.12"
    );
    let post = output_of(
        &docker,
        &image,
        "ls /app/post-build.txt /opt/post-build.txt 2>&1 || true",
    )
    .await;
    assert_eq!(post.matches("No such file").count(), 2, "{post}");
    assert!(
        log_has(&b.log, "Executing 'post-build' command"),
        "post-build ran"
    );
    let labels = docker
        .inspect_image(&image)
        .await
        .unwrap()
        .config
        .unwrap()
        .labels
        .unwrap();
    assert_eq!(labels["apprunner-build.runtime-version"], "12.22.12");
    assert!(labels["apprunner-build.runtime-version-origin"].contains("run.runtime-version in"));
    assert!(labels["apprunner-build.source-digest"].starts_with("sha256:"));
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn d_revised_build_keeps_only_app_and_pre_run_effects() {
    let docker = docker().await;
    let app = write_app(&[(
        "apprunner.yaml",
        "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - echo built > /app/inside.txt\n      - echo lost > /opt/outside.txt\n    post-build:\n      - echo post > /app/post.txt\nrun:\n  pre-run:\n    - echo pre-run > /opt/pre-run.txt\n  command: sleep 1000\n",
    )]);
    let _image = ImageGuard::new(image_name("revised"));
    let built = build(&docker, app.path(), "revised")
        .await
        .result
        .expect("builds");
    let out = output_of(
        &docker,
        &built.name.to_string(),
        "cat /app/inside.txt /opt/pre-run.txt; ls /opt/outside.txt /app/post.txt 2>&1 || true",
    )
    .await;
    assert!(out.contains("built\npre-run\n"), "{out}");
    assert_eq!(out.matches("No such file").count(), 2, "{out}");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn f_a_failing_command_fails_the_build_and_leaves_no_container() {
    let _images = [
        ImageGuard::new("apprunner-build-test/fails:latest"),
        ImageGuard::new(image_name("fails-lib")),
    ];
    let app = write_app(&[(
        "apprunner.yaml",
        "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - echo about to fail\n      - echo oops >&2; exit 3\n      - echo never\nrun:\n  command: node server.js\n",
    )]);
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_apprunner-build"))
        .args(["build", "-t", "apprunner-build-test/fails"])
        .arg(app.path())
        .env("APPRUNNER_BUILD_CATALOG", test_catalog())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(exit::BUILD_COMMAND_FAILED.into()),
        "{stdout}"
    );
    assert!(
        stdout.contains("[Build] about to fail") && stdout.contains("[Build] oops"),
        "{stdout}"
    );
    assert!(!stdout.contains("never"), "{stdout}");
    assert!(
        stdout.contains("[AppRunner] Failed to build your application source code. Reason: Failed to execute 'build' command 'echo oops >&2; exit 3' (exit code 3)."),
        "{stdout}"
    );
    let docker = docker().await;
    assert_eq!(
        leftover_containers(&docker, pid).await,
        Vec::<String>::new()
    );
    assert!(
        docker
            .inspect_image("apprunner-build-test/fails:latest")
            .await
            .is_err(),
        "no image is tagged"
    );

    // The same through the library: a typed error.
    let b = build(&docker, app.path(), "fails-lib").await;
    match b.result {
        Err(
            e @ EngineError::CommandFailed {
                phase: PhaseName::Build,
                exit_code: 3,
                ..
            },
        ) => {
            assert!(build_failure_reason(&e).starts_with("Failed to execute 'build' command"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(b.leftovers, Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn g_build_env_in_every_build_phase_and_not_in_the_image() {
    let docker = docker().await;
    let app = write_app(&[(
        "apprunner.yaml",
        "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    pre-build:\n      - echo \"pre-build sees $BUILD_ONLY\"\n    build:\n      - echo \"build sees $BUILD_ONLY\"\n    post-build:\n      - echo \"post-build sees $BUILD_ONLY\"\n  env:\n    - name: BUILD_ONLY\n      value: b-value\n    - name: SHARED\n      value: from-build\nrun:\n  pre-run:\n    - echo \"pre-run sees $BUILD_ONLY\"\n  command: sleep 1000\n  network:\n    port: 9000\n    env: HTTP_PORT\n  env:\n    - name: SHARED\n      value: from-run\n    - name: RUN_ONLY\n      value: r\n",
    )]);
    let _image = ImageGuard::new(image_name("env"));
    let b = build(&docker, app.path(), "env").await;
    let built = b.result.expect("builds");
    for phase in [
        "[PreBuild] pre-build",
        "[Build] build",
        "[PostBuild] post-build",
        "[PreRun] pre-run",
    ] {
        assert!(
            log_has(&b.log, &format!("{phase} sees b-value")),
            "{phase}: {:#?}",
            b.log
        );
    }
    let env = docker
        .inspect_image(&built.name.to_string())
        .await
        .unwrap()
        .config
        .unwrap()
        .env
        .unwrap();
    assert!(!env.iter().any(|e| e.starts_with("BUILD_ONLY=")), "{env:?}");
    for expected in [
        "SHARED=from-run",
        "RUN_ONLY=r",
        "PORT=9000",
        "HTTP_PORT=9000",
    ] {
        assert!(env.iter().any(|e| e == expected), "{expected} in {env:?}");
    }
    assert!(
        env.iter().any(|e| e.starts_with("PATH=")),
        "the base image's env is kept: {env:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn interrupting_a_build_removes_its_containers() {
    for signal in ["-INT", "-TERM"] {
        interrupt_with(signal).await;
    }
}

async fn interrupt_with(signal: &'static str) {
    let _image = ImageGuard::new("apprunner-build-test/interrupted:latest");
    let app = write_app(&[(
        "apprunner.yaml",
        "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - echo started; sleep 60\nrun:\n  command: node server.js\n",
    )]);
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_apprunner-build"))
        .args(["build", "-t", "apprunner-build-test/interrupted"])
        .arg(app.path())
        .env("APPRUNNER_BUILD_CATALOG", test_catalog())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let stdout = child.stdout.take().unwrap();
    let seen = tokio::task::spawn_blocking(move || {
        use std::io::BufRead;
        let mut lines = std::io::BufReader::new(stdout).lines();
        let mut all = Vec::new();
        for line in lines.by_ref() {
            let line = line.unwrap();
            let started = line.contains("[Build] started");
            all.push(line);
            if started {
                std::process::Command::new("kill")
                    .args([signal, &pid.to_string()])
                    .status()
                    .unwrap();
                break;
            }
        }
        all.extend(lines.map_while(Result::ok));
        all
    })
    .await
    .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{signal}: {seen:#?}");
    assert!(
        seen.iter().any(|l| l.contains("Removed 1 container(s).")),
        "{seen:#?}"
    );
    let docker = docker().await;
    assert_eq!(
        leftover_containers(&docker, pid).await,
        Vec::<String>::new()
    );
}

/// The command with the shipped catalog: for checks that come before any engine or image.
fn shipped_cli() -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_apprunner-build"));
    c.env_remove("APPRUNNER_BUILD_CATALOG");
    c
}

fn cli() -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_apprunner-build"));
    c.env("APPRUNNER_BUILD_CATALOG", test_catalog());
    c
}

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
async fn a_runtime_image_that_cannot_be_pulled_says_which_and_what_to_do() {
    let app = write_app(&[
        (
            "catalog.toml",
            "[runtimes.nodejs22]\nlanguage = \"nodejs\"\nbuild_process = \"revised\"\nversions = [{ version = \"22.21.1\", image = \"apprunner-build-test/absent:22\" }]\n",
        ),
        ("apprunner.yaml", "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - npm ci\nrun:\n  command: node server.js\n"),
    ]);
    let out = cli()
        .args(["build", "-t", "x", "--catalog"])
        .arg(app.path().join("catalog.toml"))
        .arg(app.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(exit::ENGINE_FAILED.into()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stdout.contains("[AppRunner] Pulling image apprunner-build-test/absent:22"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Failed to pull the runtime image apprunner-build-test/absent:22: "),
        "{stdout}"
    );
    assert!(stderr.contains("--catalog FILE"), "{stderr}");
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
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_apprunner-build"))
        .args(["build", "-t", "apprunner-build-test/tcp:1"])
        .arg(app.path())
        .env("APPRUNNER_BUILD_CATALOG", test_catalog())
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

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn a_package_json_only_express_app_installed_with_npm_ci_answers() {
    let docker = docker().await;
    let _image = ImageGuard::new(image_name("express"));
    let b = build_copy(&docker, &app_fixture("express-npm"), "express").await;
    let built = b.result.expect("builds");
    assert!(
        log_has(&b.log, "Executing 'build' command: npm ci"),
        "{:#?}",
        b.log
    );
    assert!(
        log_has(&b.log, "[Build] added "),
        "npm ci installed from the registry: {:#?}",
        b.log
    );
    assert_eq!(
        answer(&docker, &built.name.to_string(), &[], 8080).await,
        "Hello from Express on Node.js v22.21.1\n"
    );
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn a_requirements_txt_only_flask_app_answers() {
    let docker = docker().await;
    let _image = ImageGuard::new(image_name("flask"));
    let b = build_copy(&docker, &app_fixture("py-requirements"), "flask").await;
    let built = b.result.expect("builds");
    let image = built.name.to_string();
    assert_eq!(
        answer(&docker, &image, &["NAME=Ada"], 8080).await,
        "Hello from Flask, Ada!\n"
    );
    let env = docker
        .inspect_image(&image)
        .await
        .unwrap()
        .config
        .unwrap()
        .env
        .unwrap();
    assert!(
        env.iter().any(|e| e.starts_with("PATH=/app/.venv/bin:")),
        "{env:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn rebuilding_removes_the_image_it_replaces() {
    let docker = docker().await;
    let _image = ImageGuard::new(image_name("rebuild"));
    let app = write_app(&[(
        "apprunner.yaml",
        "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - echo one\nrun:\n  command: sleep 1000\n",
    )]);
    let first = build(&docker, app.path(), "rebuild")
        .await
        .result
        .expect("builds");
    // The second build removes the image it replaces; should it fail, this guard does.
    let _first = ImageGuard::new(&first.id);
    std::fs::write(app.path().join("new-file.txt"), "changed").unwrap();
    let second = build(&docker, app.path(), "rebuild").await;
    let second_image = second.result.expect("builds");
    assert_ne!(first.id, second_image.id);
    assert!(
        log_has(&second.log, "Removed the image this one replaces"),
        "{:#?}",
        second.log
    );
    assert!(
        docker.inspect_image(&first.id).await.is_err(),
        "the replaced image is gone"
    );
}

/// Needs neither an engine nor the fixture images (the shipped catalog, and the refusal comes before
/// any connection), so a plain `cargo test` runs it.
#[test]
fn tls_to_the_engine_is_refused_plainly() {
    let app = write_app(&[(
        "apprunner.yaml",
        "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - echo x\nrun:\n  command: x\n",
    )]);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_apprunner-build"))
        .env_remove("APPRUNNER_BUILD_CATALOG")
        .args(["build", "-t", "x"])
        .arg(app.path())
        .env("DOCKER_HOST", "tcp://127.0.0.1:2376")
        .env("DOCKER_TLS_VERIFY", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(exit::ENGINE_FAILED.into()));
    assert!(
        stdout.contains("TLS connections to the engine are not supported yet"),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn package_caches_persist_between_builds_and_stay_out_of_the_image() {
    let docker = docker().await;
    let _image = ImageGuard::new(image_name("cache"));
    let fixture = app_fixture("express-npm");
    let read = |f: &str| std::fs::read_to_string(fixture.join(f)).unwrap();
    let (package, lock) = (read("package.json"), read("package-lock.json"));
    let app = write_app(&[
        ("package.json", &package),
        ("package-lock.json", &lock),
        (
            "apprunner.yaml",
            "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    pre-build:\n      - test -d \"$npm_config_cache/_cacache\" && echo cache-was-there || echo cache-was-empty\n    build:\n      - npm ci\nrun:\n  command: npm start\n",
        ),
    ]);
    let first = build(&docker, app.path(), "cache").await;
    first.result.expect("builds");
    let second = build(&docker, app.path(), "cache").await;
    let image = second.result.expect("builds");
    // The first build of a fresh machine fills the cache; any later build finds it.
    assert!(
        log_has(&second.log, "[PreBuild] cache-was-there"),
        "{:#?}",
        second.log
    );
    let env = docker
        .inspect_image(&image.name.to_string())
        .await
        .unwrap()
        .config
        .unwrap()
        .env
        .unwrap();
    assert!(
        !env.iter().any(|e| e.contains("apprunner-build-cache")),
        "{env:?}"
    );
    let files = output_of(&docker, &image.name.to_string(), "ls /dev; ls -a /root").await;
    assert!(!files.contains("apprunner-build-cache"), "{files}");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn a_pnpm_app_gets_pnpm_from_corepack_and_answers() {
    let docker = docker().await;
    let _image = ImageGuard::new(image_name("pnpm"));
    let b = build_copy(&docker, &app_fixture("pnpm-ms"), "pnpm").await;
    let built = b.result.expect("builds");
    assert!(
        log_has(
            &b.log,
            "Executing 'build' command: pnpm install --frozen-lockfile"
        ),
        "{:#?}",
        b.log
    );
    assert_eq!(
        answer(&docker, &built.name.to_string(), &[], 8080).await,
        "pnpm 1m\n"
    );
}

/// A runtime image that is not present locally is pulled, with its progress in the log: from a
/// local registry (scripts/start-registry.sh), since no remote one is reachable here.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn a_missing_runtime_image_is_pulled_with_progress() {
    use bollard::query_parameters::{PushImageOptionsBuilder, TagImageOptionsBuilder};
    use futures_util::StreamExt;
    let docker = docker().await;
    let repo = "127.0.0.1:5000/apprunner-build-test/base";
    let tag = std::process::id().to_string();
    let reference = format!("{repo}:{tag}");
    let _images = [
        ImageGuard::new(&reference),
        ImageGuard::new("apprunner-build-test/pulled:1"),
    ];
    docker
        .tag_image(
            "apprunner-test/bookworm-base:base",
            Some(TagImageOptionsBuilder::new().repo(repo).tag(&tag).build()),
        )
        .await
        .unwrap();
    let mut push = docker.push_image(
        repo,
        Some(PushImageOptionsBuilder::new().tag(&tag).build()),
        None,
    );
    while let Some(step) = push.next().await {
        let step =
            step.expect("the local registry takes the push (scripts/start-registry.sh starts it)");
        assert!(step.error_detail.is_none(), "{step:?}");
    }
    // Only the name goes; the layers stay, as on any machine that has other images.
    docker
        .remove_image(
            &reference,
            None::<bollard::query_parameters::RemoveImageOptions>,
            None,
        )
        .await
        .unwrap();
    assert!(docker.inspect_image(&reference).await.is_err());

    let app = write_app(&[
        (
            "catalog.toml",
            &format!("[runtimes.nodejs12]\nlanguage = \"nodejs\"\nbuild_process = \"original\"\nversions = [{{ version = \"12.22.12\", image = \"{reference}\" }}]\n"),
        ),
        ("apprunner.yaml", "version: 1.0\nruntime: nodejs12\nbuild:\n  commands:\n    build:\n      - echo built on a pulled image\nrun:\n  command: sleep 1000\n"),
    ]);
    let out = cli()
        .args(["build", "-t", "apprunner-build-test/pulled:1", "--catalog"])
        .arg(app.path().join("catalog.toml"))
        .arg(app.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "[AppRunner] Pulling image {reference} (not present locally)."
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "[AppRunner] Status: Downloaded newer image for {reference}"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("[Build] built on a pulled image"),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn a_yarn_app_and_a_uv_app_from_their_lockfiles_answer() {
    let docker = docker().await;
    for (fixture, expected) in [("yarn-ms", "yarn 2m\n"), ("uv-flask", "Hello from uv\n")] {
        let _image = ImageGuard::new(image_name(fixture));
        let b = build_copy(&docker, &app_fixture(fixture), fixture).await;
        let built = b
            .result
            .unwrap_or_else(|e| panic!("{fixture}: {e}\n{:#?}", b.log));
        assert_eq!(
            answer(&docker, &built.name.to_string(), &[], 8080).await,
            expected,
            "{fixture}"
        );
    }
}

/// `build --plan FILE` builds exactly the saved plan: a step added to the JSON by hand runs, in
/// its place, and the engine runs no command the plan does not list.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn a_saved_plan_is_built_exactly_as_written() {
    let app = write_app(&[
        (
            "apprunner.yaml",
            "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - echo built > built.txt\n    post-build:\n      - echo checked\nrun:\n  pre-run:\n    - echo prepared > prepared.txt\n  command: node server.js\n",
        ),
        ("server.js", "console.log('hi')\n"),
    ]);
    let out = cli()
        .args(["plan", "--json"])
        .arg(app.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let steps = plan["steps"].as_array_mut().unwrap();
    let commit = steps.len() - 1;
    assert_eq!(steps[commit]["step"], "commit");
    steps.insert(
        commit,
        serde_json::json!({
            "step": "run", "stage": "runtime", "phase": "pre-run",
            "command": "echo from-the-saved-plan > /app/marker",
            "workdir": "/app", "env": []
        }),
    );
    let expected: Vec<String> = steps
        .iter()
        .filter(|s| s["step"] == "run")
        .map(|s| {
            format!(
                "Executing '{}' command: {}",
                s["phase"].as_str().unwrap(),
                s["command"].as_str().unwrap()
            )
        })
        .collect();
    let file = app.path().join("saved-plan.json");
    std::fs::write(&file, serde_json::to_vec_pretty(&plan).unwrap()).unwrap();
    let tag = format!("apprunner-build-test/saved-plan:{}", std::process::id());
    let _image = ImageGuard::new(&tag);
    // The source is the directory named on the command line, the one the plan was made for.
    let out = cli()
        .args(["build", "--no-cache", "-t", &tag, "--plan"])
        .arg(&file)
        .arg(app.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    let executed: Vec<String> = stdout
        .lines()
        .filter_map(|l| l.split("[AppRunner] ").nth(1))
        .filter(|l| l.starts_with("Executing '"))
        .map(String::from)
        .collect();
    assert_eq!(executed, expected, "{stdout}");
    let docker = docker().await;
    let files = output_of(
        &docker,
        &tag,
        "cat /app/marker /app/built.txt /app/prepared.txt",
    )
    .await;
    assert_eq!(
        files.trim(),
        "from-the-saved-plan\nbuilt\nprepared",
        "{files}"
    );

    // A plan whose source is elsewhere (`/etc`, the host's) is refused, not copied into /app;
    // and so is one that sets the engine's own labels (an owner would make later builds remove
    // the containers of the image as leftovers).
    for (edit, says) in [
        (
            serde_json::json!({ "source_root": "/etc" }),
            "the plan was made for the source in `/etc`, but this build reads",
        ),
        (
            serde_json::json!({ "image": { "labels": { "apprunner-build.owner": "1@host" } } }),
            "the image label `apprunner-build.owner` is apprunner-build's own",
        ),
    ] {
        let mut edited = plan.clone();
        merge(&mut edited, &edit);
        std::fs::write(&file, serde_json::to_vec(&edited).unwrap()).unwrap();
        let out = cli()
            .args(["build", "-t", &tag, "--plan"])
            .arg(&file)
            .arg(app.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(exit::INVALID_INPUT.into()),
            "{stderr}"
        );
        assert!(stderr.contains(says), "{stderr}");
        assert!(
            !String::from_utf8_lossy(&out.stdout).contains("Executing"),
            "{stderr}"
        );
    }

    // A damaged plan is refused before anything runs.
    plan["steps"][1]["stage"] = "nowhere".into();
    std::fs::write(&file, serde_json::to_vec(&plan).unwrap()).unwrap();
    let out = cli()
        .args(["build", "-t", &tag, "--plan"])
        .arg(&file)
        .arg(app.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(exit::INVALID_INPUT.into()));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("step 2 names stage `nowhere`"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `patch` written over `value`, object by object (a JSON merge patch without deletions).
fn merge(value: &mut serde_json::Value, patch: &serde_json::Value) {
    match (value, patch) {
        (serde_json::Value::Object(v), serde_json::Value::Object(p)) => {
            for (k, pv) in p {
                merge(v.entry(k.clone()).or_insert(serde_json::Value::Null), pv);
            }
        }
        (v, p) => *v = p.clone(),
    }
}

/// The guards the engine tests rely on: a test that panics still removes its container and image,
/// and a guard dropped inside the test's own runtime works too.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn a_panicking_test_leaves_no_container_and_no_image() {
    use bollard::query_parameters::{InspectContainerOptions, TagImageOptionsBuilder};
    let docker = docker().await;
    let (repo, tag) = (
        "apprunner-build-test/guarded",
        std::process::id().to_string(),
    );
    let name = format!("{repo}:{tag}");
    let tag_it = || {
        docker.tag_image(
            "apprunner-test/bookworm-base:base",
            Some(TagImageOptionsBuilder::new().repo(repo).tag(&tag).build()),
        )
    };
    tag_it().await.unwrap();
    let container = start(&docker, &name, &[], Some("sleep 1000")).await;
    let id = container.id.clone();
    let guarded = name.clone();
    let panicked = std::thread::spawn(move || {
        let _image = ImageGuard::new(guarded);
        let _container = container;
        panic!("a failing test");
    })
    .join();
    assert!(panicked.is_err());
    assert!(docker
        .inspect_container(&id, None::<InspectContainerOptions>)
        .await
        .is_err());
    assert!(docker.inspect_image(&name).await.is_err());

    tag_it().await.unwrap();
    drop(ImageGuard::new(&name));
    assert!(docker.inspect_image(&name).await.is_err());
}

/// Issue 9: file names are uploaded as they are; a name full of `\..\` lands inside /app, never
/// outside (even when longer than a tar header holds).
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn file_names_with_backslashes_and_dots_land_inside_app() {
    let docker = docker().await;
    let long = format!("{}\\..\\..\\..\\usr\\local\\bin\\pwned", "x".repeat(120));
    let app = write_app(&[
        (
            "apprunner.yaml",
            "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - echo built\nrun:\n  command: sleep 1000\n",
        ),
        ("a\\..\\..\\x", "short"),
        (&long, "long"),
        ("a\\b", "backslash"),
    ]);
    let b = build(&docker, app.path(), "names").await;
    let built = b.result.expect("builds");
    let out = output_of(
        &docker,
        &built.name.to_string(),
        "ls -1 /app; test -e /usr/local/bin/pwned && echo PWNED; test -e /x && echo ROOT-X; test -e /app/a/b && echo SPLIT; echo done",
    )
    .await;
    assert!(out.contains("a\\..\\..\\x\n"), "{out}");
    assert!(out.contains(&format!("{long}\n")), "{out}");
    assert!(out.contains("a\\b\n"), "{out}");
    assert!(
        !out.contains("PWNED") && !out.contains("ROOT-X") && !out.contains("SPLIT"),
        "{out}"
    );
    assert!(out.contains("done"), "{out}");
    remove_image(&docker, &built.name).await;
}

/// Issue 9: a `.dockerignore` that leaves out every file says so in the log.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn a_dockerignore_that_leaves_out_everything_is_a_logged_warning() {
    let docker = docker().await;
    let app = write_app(&[
        (
            "apprunner.yaml",
            "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - echo built\nrun:\n  command: sleep 1000\n",
        ),
        ("server.js", ""),
        (".dockerignore", "*\n"),
    ]);
    let b = build(&docker, app.path(), "ignore-all").await;
    let built = b.result.expect("builds");
    assert!(
        log_has(
            &b.log,
            "[AppRunner] Warning: .dockerignore leaves out every file of the source"
        ),
        "{:#?}",
        b.log
    );
    remove_image(&docker, &built.name).await;
}

/// Issue 9: `-t` is checked against Docker's reference grammar before anything is built.
#[test]
fn image_names_outside_dockers_grammar_are_refused_before_building() {
    let app = write_app(&[(
        "apprunner.yaml",
        "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - echo x\nrun:\n  command: x\n",
    )]);
    let long = "a".repeat(300);
    let digest = format!("app@sha256:{}", "0".repeat(64));
    for name in ["../x", "a//b", "x:a:b", long.as_str(), digest.as_str()] {
        let out = shipped_cli()
            .args(["build", "-t", name])
            .arg(app.path())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(exit::USAGE.into()),
            "{name}: {stdout}"
        );
        assert!(
            stdout.contains(&format!("nvalid image name `{name}`: ")),
            "{name}: {stdout}"
        );
        assert!(!stdout.contains("Starting to build"), "{name}: {stdout}");
    }
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

/// Every path in every layer tar of `image`, from the engine's export (`docker save`), streamed
/// through a temporary file.
async fn layer_paths(docker: &bollard::Docker, image: &str) -> Vec<String> {
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

/// Issue 9: the CA bundle's and the package cache's mount points reach no layer of the image,
/// not even as empty files or directories: in a revised build (without and with pre-run, which
/// runs in the committed stage) and in an original build (one container, committed).
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn mount_points_reach_no_layer_of_the_image() {
    let docker = docker().await;
    let check = "test -s \"$SSL_CERT_FILE\" && mkdir -p \"$npm_config_cache\" && test -w \"$npm_config_cache\" && echo mounts-there";
    for (i, yaml) in [
        format!("version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - {check}\nrun:\n  command: sleep 1000\n"),
        format!("version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - echo built\nrun:\n  pre-run:\n    - {check}\n  command: sleep 1000\n"),
        format!("version: 1.0\nruntime: nodejs12\nbuild:\n  commands:\n    build:\n      - {check}\n    post-build:\n      - {check}\nrun:\n  runtime-version: 12.22.12\n  command: sleep 1000\n"),
    ]
    .into_iter()
    .enumerate()
    {
        let app = write_app(&[("apprunner.yaml", &yaml), ("server.js", "")]);
        let b = build(&docker, app.path(), &format!("mount-points-{i}")).await;
        let built = b.result.expect("builds");
        assert!(log_has(&b.log, "] mounts-there"), "{yaml}: {:#?}", b.log);
        let paths = layer_paths(&docker, &built.name.to_string()).await;
        assert!(
            paths
                .iter()
                .any(|p| p.trim_start_matches("./").starts_with("app/server.js")),
            "the export was read: {} paths",
            paths.len()
        );
        let leaked: Vec<&String> = paths
            .iter()
            .filter(|p| p.contains("apprunner-build"))
            .collect();
        assert!(leaked.is_empty(), "{yaml}: {leaked:?}");
        remove_image(&docker, &built.name).await;
    }
}

/// Issue 9: one project's package cache is not another's: each source directory (and runtime)
/// builds with its own volume, and the same directory finds its own again.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn each_project_builds_with_its_own_package_cache_volume() {
    let docker = docker().await;
    let files = [(
        "apprunner.yaml",
        "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - mkdir -p \"$npm_config_cache\"; test -f \"$npm_config_cache/poison\" && echo POISONED || echo clean; touch \"$npm_config_cache/poison\"\nrun:\n  command: sleep 1000\n",
    )];
    let one = write_app(&files);
    let two = write_app(&files);
    let volume_of = |log: &[String]| {
        log.iter()
            .find_map(|l| {
                l.split("Package caches in volume ")
                    .nth(1)
                    .map(|r| r.split(' ').next().unwrap().to_string())
            })
            .unwrap_or_else(|| panic!("the volume is logged: {log:#?}"))
    };
    let first = build(&docker, one.path(), "cache-one").await;
    let first_image = first.result.expect("builds");
    let second = build(&docker, two.path(), "cache-two").await;
    let second_image = second.result.expect("builds");
    assert_ne!(volume_of(&first.log), volume_of(&second.log));
    assert!(log_has(&second.log, "[Build] clean"), "{:#?}", second.log);
    // A new file: the build commands run again (an unchanged stage would be reused).
    std::fs::write(one.path().join("edited.txt"), "x").unwrap();
    let again = build(&docker, one.path(), "cache-one").await;
    again.result.expect("builds");
    assert_eq!(volume_of(&first.log), volume_of(&again.log));
    assert!(
        log_has(&again.log, "[Build] POISONED"),
        "the same project finds its cache again"
    );
    for v in [volume_of(&first.log), volume_of(&second.log)] {
        let labels = docker.inspect_volume(&v).await.unwrap().labels;
        assert!(
            labels.contains_key("apprunner-build.cache-for"),
            "{labels:?}"
        );
        let _ = docker
            .remove_volume(&v, None::<bollard::query_parameters::RemoveVolumeOptions>)
            .await;
    }
    remove_image(&docker, &first_image.name).await;
    remove_image(&docker, &second_image.name).await;
}

/// Issue 9: two builds with one name at once: neither removes the image the other just made and
/// reported (the slower one's tag replaces the faster one's, whose image is kept).
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn racing_builds_with_one_name_keep_each_others_images() {
    let docker = docker().await;
    let yaml = |cmd: &str| {
        format!("version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - {cmd}\nrun:\n  command: sleep 1000\n")
    };
    let fast_yaml = yaml("echo fast");
    let slow_yaml = yaml("sleep 5; echo slow");
    let fast_app = write_app(&[("apprunner.yaml", &fast_yaml)]);
    let slow_app = write_app(&[("apprunner.yaml", &slow_yaml)]);
    let (fast, slow) = tokio::join!(
        build(&docker, fast_app.path(), "race"),
        build(&docker, slow_app.path(), "race")
    );
    let fast_image = fast.result.expect("builds");
    let slow_image = slow.result.expect("builds");
    assert_ne!(fast_image.id, slow_image.id);
    assert!(
        docker.inspect_image(&fast_image.id).await.is_ok(),
        "the faster build's image is still there: {:#?}",
        slow.log
    );
    assert!(log_has(&slow.log, "Kept the image"), "{:#?}", slow.log);
    let tagged = docker
        .inspect_image(&slow_image.name.to_string())
        .await
        .unwrap();
    assert_eq!(tagged.id.as_deref(), Some(slow_image.id.as_str()));
    remove_image(&docker, &slow_image.name).await;
    let _ = docker
        .remove_image(
            &fast_image.id,
            Some(
                bollard::query_parameters::RemoveImageOptionsBuilder::new()
                    .force(true)
                    .build(),
            ),
            None,
        )
        .await;
}

/// Issue 9: a file that shrinks while it is being uploaded fails the build with an error that
/// names it (it used to corrupt the stream into a confusing truncated-archive error).
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn a_file_that_shrinks_during_the_upload_is_named() {
    let docker = docker().await;
    let app = write_app(&[(
        "apprunner.yaml",
        "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - echo built\nrun:\n  command: sleep 1000\n",
    )]);
    let big = app.path().join("big.bin");
    // Sparse: a gigabyte to read, nothing on disk.
    std::fs::File::create(&big)
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    // Truncate it as soon as this process (the tar writer) has it open.
    let watched = big.canonicalize().unwrap();
    let truncator = std::thread::spawn(move || {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while std::time::Instant::now() < deadline {
            let open = std::fs::read_dir("/proc/self/fd")
                .unwrap()
                .flatten()
                .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|t| t == watched));
            if open {
                std::thread::sleep(std::time::Duration::from_millis(50));
                std::fs::OpenOptions::new()
                    .write(true)
                    .open(&watched)
                    .unwrap()
                    .set_len(1000)
                    .unwrap();
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        false
    });
    let b = build(&docker, app.path(), "shrinks").await;
    assert!(
        truncator.join().unwrap(),
        "the file was opened and truncated"
    );
    let e = b.result.expect_err("the build fails");
    let message = e.to_string();
    assert!(matches!(e, EngineError::Source { .. }), "{message}");
    assert!(
        message.contains("`big.bin` shrank while it was being read"),
        "{message}"
    );
    assert!(b.leftovers.is_empty(), "{:?}", b.leftovers);
}

/// Issue 10: App Runner's original build runs the build commands twice — in the build stage, then
/// again in the runtime stage over the /app copied from it — and post-build's effects never reach
/// the image; the log says where the second run happens, in App Runner's order.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn the_original_build_runs_the_build_commands_twice() {
    let docker = docker().await;
    let app = write_app(&[(
        "apprunner.yaml",
        "version: 1.0\nruntime: nodejs12\nbuild:\n  commands:\n    build:\n      - echo \"run ${MODE:-without-build-env}\" >> /app/count\n    post-build:\n      - echo post >> /app/count\n  env:\n    - name: MODE\n      value: with-build-env\nrun:\n  command: node -e 'setInterval(() => {}, 1000)'\n",
    )]);
    let _image = ImageGuard::new(image_name("twice"));
    let b = build(&docker, app.path(), "twice").await;
    let built = b.result.expect("builds");
    let count = output_of(&docker, &built.name.to_string(), "cat /app/count").await;
    assert_eq!(
        count.trim(),
        "run with-build-env\nrun without-build-env",
        "two runs, the second without build.env, and no post-build line: {count}"
    );
    let order: Vec<&str> = b
        .log
        .iter()
        .filter_map(|l| l.split("[AppRunner] ").nth(1))
        .filter(|l| l.starts_with("Executing") || l.starts_with("Running the build commands again"))
        .collect();
    assert_eq!(
        order,
        [
            "Executing 'build' command: echo \"run ${MODE:-without-build-env}\" >> /app/count",
            "Executing 'post-build' command: echo post >> /app/count",
            "Running the build commands again in the runtime image (App Runner's original build does this).",
            "Executing 'build' command: echo \"run ${MODE:-without-build-env}\" >> /app/count",
        ]
    );
    assert!(b.leftovers.is_empty(), "{:?}", b.leftovers);
}

/// Issue 10: a tool pre-build installs outside /app is missing when the build commands run again
/// in the runtime image; the build fails there, as App Runner's would, and says why.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn a_pre_build_tool_outside_app_is_missing_in_the_second_run() {
    let app = write_app(&[(
        "apprunner.yaml",
        "version: 1.0\nruntime: nodejs12\nbuild:\n  commands:\n    pre-build:\n      - printf '#!/bin/sh\\necho tool ran\\n' > /usr/local/bin/mytool && chmod +x /usr/local/bin/mytool\n    build:\n      - mytool\nrun:\n  command: node -e 1\n",
    )]);
    let tag = format!("apprunner-build-test/missing-tool:{}", std::process::id());
    let _image = ImageGuard::new(&tag);
    let out = cli()
        .args(["build", "--no-cache", "-t", &tag])
        .arg(app.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(exit::BUILD_COMMAND_FAILED.into()),
        "{stdout}"
    );
    assert!(
        stdout.contains("[Build] tool ran"),
        "the first run has the tool: {stdout}"
    );
    assert!(
        stdout.contains("Failed to execute 'build' command 'mytool' (exit code 127). [AR505]"),
        "{stdout}"
    );
    assert!(
        stderr.contains("App Runner's second run of the build commands")
            && stderr.contains("App Runner's build would fail the same way"),
        "{stderr}"
    );
}

/// Issue 11: a FastAPI app in an `app/` package with `fastapi[standard]` starts with
/// `fastapi run`, and one with hypercorn with hypercorn; both bound to 0.0.0.0:$PORT, with
/// PYTHONUNBUFFERED in the image.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn fastapi_apps_start_with_the_server_they_install() {
    let docker = docker().await;
    for (fixture, expected) in [
        ("py-fastapi-standard", "{\"hello\":\"fastapi run\"}"),
        ("py-hypercorn", "{\"hello\":\"hypercorn\"}"),
    ] {
        let _image = ImageGuard::new(image_name(fixture));
        let b = build_copy(&docker, &app_fixture(fixture), fixture).await;
        let built = b
            .result
            .unwrap_or_else(|e| panic!("{fixture}: {e}\n{:#?}", b.log));
        let image = built.name.to_string();
        assert_eq!(
            answer(&docker, &image, &[], 8080).await,
            expected,
            "{fixture}"
        );
        let config = docker.inspect_image(&image).await.unwrap().config.unwrap();
        let cmd = config.cmd.unwrap().join(" ");
        let server = if fixture == "py-hypercorn" {
            "hypercorn main:app --bind 0.0.0.0:$PORT"
        } else {
            "fastapi run app/main.py --port $PORT"
        };
        assert!(cmd.ends_with(server), "{fixture}: {cmd}");
        let env = config.env.unwrap();
        assert!(env.iter().any(|e| e == "PYTHONUNBUFFERED=1"), "{env:?}");
    }
}

/// Issue 11: package-lock.json beside yarn.lock: yarn installs (yarn.lock comes first), the
/// image answers, and NODE_ENV=production is in its environment.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn two_lockfiles_install_with_the_one_that_comes_first() {
    let docker = docker().await;
    let _image = ImageGuard::new(image_name("two-lockfiles"));
    let b = build_copy(&docker, &app_fixture("two-lockfiles-yarn"), "two-lockfiles").await;
    let built = b.result.unwrap_or_else(|e| panic!("{e}\n{:#?}", b.log));
    assert!(
        log_has(
            &b.log,
            "Executing 'build' command: yarn install --frozen-lockfile"
        ),
        "{:#?}",
        b.log
    );
    assert!(!log_has(&b.log, "npm ci"), "{:#?}", b.log);
    let image = built.name.to_string();
    assert_eq!(answer(&docker, &image, &[], 8080).await, "yarn 2m\n");
    let env = docker
        .inspect_image(&image)
        .await
        .unwrap()
        .config
        .unwrap()
        .env
        .unwrap();
    assert!(env.iter().any(|e| e == "NODE_ENV=production"), "{env:?}");
}

/// Issue 11: without `packageManager`, pnpm's major follows pnpm-lock.yaml's `lockfileVersion`
/// ('9.0': pnpm 9), installed with npm since corepack would pick its own default.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn pnpm_follows_the_lockfile_version_without_package_manager() {
    let docker = docker().await;
    let _image = ImageGuard::new(image_name("pnpm-lockfile"));
    let b = build_copy(&docker, &app_fixture("pnpm-lockfile-only"), "pnpm-lockfile").await;
    let built = b.result.unwrap_or_else(|e| panic!("{e}\n{:#?}", b.log));
    assert!(
        log_has(
            &b.log,
            "Executing 'pre-build' command: npm install -g pnpm@9"
        ),
        "{:#?}",
        b.log
    );
    assert_eq!(
        answer(&docker, &built.name.to_string(), &[], 8080).await,
        "pnpm 1m\n"
    );
}

/// Issue 11: a Django project with `django.contrib.staticfiles`, a STATIC_ROOT and manifest
/// storage gets `collectstatic` after the install, so `{% static %}` finds the manifest and the
/// page answers with the hashed file name (without it, the template fails with a 500).
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn a_django_app_with_manifest_static_files_answers() {
    let docker = docker().await;
    let _image = ImageGuard::new(image_name("django-static"));
    let b = build_copy(&docker, &app_fixture("py-django-static"), "django-static").await;
    let built = b.result.unwrap_or_else(|e| panic!("{e}\n{:#?}", b.log));
    assert!(
        log_has(&b.log, "manage.py collectstatic --noinput"),
        "{:#?}",
        b.log
    );
    let page = answer(&docker, &built.name.to_string(), &[], 8080).await;
    let hashed = page
        .split("/static/site.")
        .nth(1)
        .and_then(|rest| rest.split(".css").next())
        .unwrap_or("");
    assert!(
        hashed.len() == 12 && hashed.chars().all(|c| c.is_ascii_hexdigit()),
        "a hashed site.css: {page}"
    );
}

/// Issue 11: a Node.js app's devDependencies are installed for the build and pruned after it, and
/// the app runs with NODE_ENV=production.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn node_dev_dependencies_are_pruned_and_node_env_is_production() {
    let docker = docker().await;
    let _image = ImageGuard::new(image_name("devdeps"));
    let b = build_copy(&docker, &app_fixture("npm-devdeps"), "devdeps").await;
    let built = b.result.unwrap_or_else(|e| panic!("{e}\n{:#?}", b.log));
    assert!(
        log_has(&b.log, "Executing 'build' command: npm prune --omit=dev"),
        "{:#?}",
        b.log
    );
    assert_eq!(
        answer(&docker, &built.name.to_string(), &[], 8080).await,
        "pruned production\n"
    );
}

/// Issue 10: npm's update notice is off in build commands, and only there.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn npm_update_notice_is_off_in_build_commands_only() {
    let docker = docker().await;
    let app = write_app(&[(
        "apprunner.yaml",
        "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - echo \"notifier=$npm_config_update_notifier\"\nrun:\n  command: node -e 1\n",
    )]);
    let _image = ImageGuard::new(image_name("npm-notice"));
    let b = build(&docker, app.path(), "npm-notice").await;
    let built = b.result.expect("the app builds");
    assert!(log_has(&b.log, "[Build] notifier=false"), "{:#?}", b.log);
    let env = output_of(&docker, &built.name.to_string(), "env").await;
    assert!(!env.contains("npm_config_update_notifier"), "{env}");
    assert!(b.leftovers.is_empty(), "{:?}", b.leftovers);
}

/// `build --run --secrets-file FILE` with FILE inside the source tree: the file is left out of
/// the source copied into the image (and the log says so); the app still gets the secret.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn a_secrets_file_inside_the_source_stays_out_of_the_image() {
    let app = write_app(&[
        (
            "apprunner.yaml",
            "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - echo ok\nrun:\n  command: node check.js\n  secrets:\n    - name: API_TOKEN\n      value-from: arn:aws:secretsmanager:us-east-1:123456789012:secret:token\n",
        ),
        (
            "check.js",
            "const fs = require('fs');\nconsole.log(fs.existsSync('/app/secrets.env') ? 'SECRETS_FILE_IN_APP' : 'NO_SECRETS_FILE', process.env.API_TOKEN.length);\nprocess.exit(3);\n",
        ),
        ("secrets.env", "API_TOKEN=do-not-ship-me\n"),
        ("keep.txt", "kept\n"),
    ]);
    let tag = format!("apprunner-build-test/secrets-file:{}", std::process::id());
    let _image = ImageGuard::new(&tag);
    let out = cli()
        .arg("build")
        .arg(app.path())
        .args(["-t", &tag, "--run", "-p", "0", "--secrets-file"])
        .arg(app.path().join("secrets.env"))
        .args(["--ca-bundle", "/etc/ssl/certs/ca-certificates.crt"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(exit::APP_EXITED.into()),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("secrets.env is inside the source directory: it is left out of the source copied into the image."),
        "{stdout}"
    );
    assert!(stdout.contains("NO_SECRETS_FILE 14"), "{stdout}");
    let docker = docker().await;
    let listing = output_of(&docker, &tag, "ls -A /app").await;
    assert!(
        listing.lines().any(|l| l.trim() == "keep.txt")
            && !listing.lines().any(|l| l.contains("secrets.env")),
        "{listing}"
    );
    let contents = output_of(&docker, &tag, "cat /app/* 2>/dev/null").await;
    assert!(!contents.contains("do-not-ship-me"), "{contents}");
}

/// `apprunner-build cache ls|prune`: a build's package-cache volume is listed with its project,
/// and pruned once the project directory is gone.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn cache_volumes_are_listed_and_pruned_when_their_project_is_gone() {
    // An engine answers (the CLI below needs it).
    docker().await;
    let app = write_app(&[(
        "apprunner.yaml",
        "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - echo ok\nrun:\n  command: node -e 1\n",
    )]);
    let tag = image_name("cache-ls").to_string();
    let _image = ImageGuard::new(&tag);
    // Built as `.` from inside the project; listed and pruned from elsewhere (`/`): the volume
    // is labelled with the project's canonical path, not with the `.` it was typed as.
    let built = cli()
        .current_dir(app.path())
        .args(["build", "-t", &tag, "."])
        .output()
        .unwrap();
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stdout)
    );
    let project = app.path().canonicalize().unwrap();
    let listed = |out: &std::process::Output| String::from_utf8_lossy(&out.stdout).to_string();
    let cli = || {
        let mut c = cli();
        c.current_dir("/");
        c
    };
    let ls = cli().args(["cache", "ls"]).output().unwrap();
    let line = listed(&ls)
        .lines()
        .find(|l| l.ends_with(&project.display().to_string()))
        .map(String::from)
        .unwrap_or_else(|| panic!("the volume is listed: {}", listed(&ls)));
    let volume = line.split_whitespace().next().unwrap().to_string();
    assert!(line.contains("nodejs22 22.21.1"), "{line}");

    let kept = cli().args(["cache", "prune"]).output().unwrap();
    assert!(
        !listed(&kept).contains(&volume),
        "the project exists: {}",
        listed(&kept)
    );
    drop(app);
    let pruned = cli().args(["cache", "prune"]).output().unwrap();
    assert!(pruned.status.success());
    assert!(
        listed(&pruned).contains(&format!("removed {volume}")),
        "{}",
        listed(&pruned)
    );
    let ls = cli().args(["cache", "ls"]).output().unwrap();
    assert!(!listed(&ls).contains(&volume), "{}", listed(&ls));
}

/// The guide's Python example, twice with a one-line edit of server.py between: the second build
/// takes pre-run's `pip3 install -r requirements.txt` from the dependency layer, and the image
/// answers with the edit.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn a_source_edit_takes_the_dependencies_from_the_layer() {
    let docker = docker().await;
    let _image = ImageGuard::new(image_name("layers-edit"));
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/python-hello");
    // A requirements file of this run's own, so that the first build installs.
    let requirements = format!("pyramid==2.0\n# run {}\n", std::process::id());
    let app = copy_app(&example, &[("requirements.txt", &requirements)]);
    let plan = plan_with(app.path(), true);
    assert!(
        plan.steps.iter().any(|s| matches!(s,
            apprunner_build::plan::Step::Install { stage, files, .. }
                if stage == "runtime" && files == &["requirements.txt"])),
        "{:#?}",
        plan.steps
    );
    let first = build_plan(&docker, &plan, "layers-edit").await;
    let _layers = layer_guards(&first.log);
    first.result.expect("builds");
    assert!(
        log_has(
            &first.log,
            "Installing dependencies over only requirements.txt"
        ),
        "{:#?}",
        first.log
    );
    let server = std::fs::read_to_string(app.path().join("server.py")).unwrap();
    std::fs::write(
        app.path().join("server.py"),
        server.replace("\"Hello, \"", "\"Hi, \""),
    )
    .unwrap();
    let second = build_plan(&docker, &plan_with(app.path(), true), "layers-edit").await;
    let built = second.result.expect("builds");
    assert!(
        log_has(
            &second.log,
            "Dependencies from cache (requirements.txt unchanged)"
        ),
        "{:#?}",
        second.log
    );
    assert!(
        !log_has(&second.log, "Executing 'pre-run' command"),
        "{:#?}",
        second.log
    );
    assert!(second.leftovers.is_empty(), "{:?}", second.leftovers);
    // The dependency layer is one of the image's layers: no mount point reached it either.
    let paths = layer_paths(&docker, &built.name.to_string()).await;
    let leaked: Vec<&String> = paths
        .iter()
        .filter(|p| p.contains("apprunner-build"))
        .collect();
    assert!(leaked.is_empty(), "{leaked:?}");
    assert_eq!(
        answer(&docker, &built.name.to_string(), &[], 8080).await,
        "Hi, world!\n"
    );
    // --no-cache: the layer is installed again (and replaced).
    let third = build_plan_with(&docker, &plan_with(app.path(), true), "layers-edit", false).await;
    let _more_layers = layer_guards(&third.log);
    third.result.expect("builds");
    assert!(
        log_has(
            &third.log,
            "Installing dependencies over only requirements.txt"
        ),
        "{:#?}",
        third.log
    );
}

/// Every path of the image's file system with its type, mode and owner (and link target), and
/// every regular file's sha256; compiled bytecode only by path, since it records when it was
/// compiled. The kernel's and the engine's own paths are left out.
async fn image_tree(docker: &bollard::Docker, image: &str) -> String {
    output_of(
        docker,
        image,
        "cd / && find . -xdev \\( -path ./proc -o -path ./sys -o -path ./dev -o -path ./tmp -o -path ./etc/hostname -o -path ./etc/hosts -o -path ./etc/resolv.conf \\) -prune -o -printf '%y %m %u:%g %p %l\\n' | sort; find . -xdev \\( -path ./proc -o -path ./sys -o -path ./dev -o -path ./tmp -o -path ./etc/hostname -o -path ./etc/hosts -o -path ./etc/resolv.conf \\) -prune -o -type f ! -name '*.pyc' -print0 | sort -z | xargs -0 sha256sum",
    )
    .await
}

/// With dependency layers (committed, or written from the container's changes) and written
/// layers, the same image file tree as with every command run over the whole source in
/// containers, as App Runner does: a detected Python app (a virtualenv in
/// /app), an npm app (node_modules in /app), and the npm app in an original build (the build
/// commands run again in the runtime stage).
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn dependency_layers_and_written_layers_build_the_same_image_tree() {
    let docker = docker().await;
    let original = [
        ("apprunner.yaml", "version: 1.0\nruntime: nodejs12\nbuild:\n  commands:\n    build:\n      - npm install\nrun:\n  command: node index.js\n"),
        ("package.json", "{\"name\": \"original\", \"version\": \"1.0.0\", \"dependencies\": {\"ms\": \"2.1.3\"}}\n"),
        ("index.js", "require('http').createServer((q, r) => r.end(require('ms')(60000))).listen(process.env.PORT);\n"),
    ];
    for (app, test) in [
        (
            copy_app(&app_fixture("py-requirements"), &[]),
            "tree-python",
        ),
        (copy_app(&app_fixture("express-npm"), &[]), "tree-node"),
        (write_app(&original), "tree-node-original"),
    ] {
        let layered = plan_with(app.path(), true);
        assert!(
            layered
                .steps
                .iter()
                .any(|s| matches!(s, apprunner_build::plan::Step::Install { stage, .. } if stage == "build")),
            "{test}: {:#?}",
            layered.steps
        );
        let _image = ImageGuard::new(image_name(test));
        let plain =
            build_plan_opts(&docker, &plan_with(app.path(), false), test, true, false).await;
        let plain = plain.result.expect("builds");
        let plain_tree = image_tree(&docker, &plain.id).await;
        let _plain_image = ImageGuard::new(&plain.id);
        // The first installs and keeps the layer (a commit), the second starts from it, the third
        // installs again and writes the layer from the container's changes (as with --cache-dir).
        let mut guards = Vec::new();
        for round in 0..3 {
            let mut options = test_options(test);
            options.layer_cache = round != 2;
            options.export_layers = round == 2;
            let b = build_plan_in(&docker, &layered, &options).await;
            guards.extend(layer_guards(&b.log));
            let built = b.result.expect("builds");
            assert!(log_has(&b.log, "as a layer in"), "{:#?}", b.log);
            if round == 1 {
                assert!(log_has(&b.log, "Dependencies from cache"), "{:#?}", b.log);
            }
            let tree = image_tree(&docker, &built.id).await;
            assert!(tree.lines().count() > 1000, "{tree}");
            if tree != plain_tree {
                let differ: Vec<_> = tree
                    .lines()
                    .filter(|l| !plain_tree.contains(l))
                    .chain(plain_tree.lines().filter(|l| !tree.contains(l)))
                    .take(40)
                    .collect();
                panic!(
                    "{test}, round {round}: the trees differ in\n{}",
                    differ.join("\n")
                );
            }
        }
    }
}

/// Issue 12: a fresh CI runner restores the cache directory into an engine that has none of the
/// cache images (nor the last image): a source edit still skips the install, and the image runs.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn a_restored_cache_directory_skips_the_install_on_an_engine_without_the_layer() {
    let docker = docker().await;
    let app = copy_app(&app_fixture("py-requirements"), &[]);
    let cache_dir = tempfile::tempdir().unwrap();
    let mut options = test_options("restored-cache");
    options.layer_dir = cache_dir.path().join("layers");
    options.export_layers = true;
    let _image = ImageGuard::new(image_name("restored-cache"));
    let plan = plan_with(app.path(), true);
    let first = build_plan_in(&docker, &plan, &options).await;
    let _first_layers = layer_guards(&first.log);
    first.result.expect("builds");
    assert!(
        log_has(&first.log, "Installing dependencies over only"),
        "{:#?}",
        first.log
    );
    // The engine forgets the cache images and the image: as on a new runner.
    for guard in layer_guards(&first.log) {
        drop(guard);
    }
    remove_image(&docker, &image_name("restored-cache")).await;
    let edited = app.path().join("app.py");
    let mut text = std::fs::read_to_string(&edited).unwrap();
    text.push_str("\n# edited\n");
    std::fs::write(&edited, text).unwrap();
    let second = build_plan_in(&docker, &plan_with(app.path(), true), &options).await;
    let _second_layers = layer_guards(&second.log);
    let built = second.result.expect("builds");
    assert!(
        log_has(&second.log, "Dependencies from the cache directory"),
        "{:#?}",
        second.log
    );
    assert!(
        !log_has(&second.log, "Installing dependencies"),
        "{:#?}",
        second.log
    );
    let body = answer(&docker, &built.id, &[], 8080).await;
    assert_eq!(body, "Hello from Flask, world!\n");
}

/// Issue 12, reuse per stage: a change to the pre-run commands reruns only them, one to
/// post-build only it; the image has what the last pre-run made.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn a_change_to_pre_run_or_post_build_reruns_only_those_commands() {
    let docker = docker().await;
    let yaml = |pre_run: &str, post_build: &str| {
        format!(
            "version: 1.0\nruntime: python311\nbuild:\n  commands:\n    build:\n      - echo built > built.txt\n    post-build:\n      - echo {post_build}\nrun:\n  pre-run:\n    - echo {pre_run} > prerun.txt\n  command: python3 -m http.server 8080\n"
        )
    };
    // apprunner.yaml is part of /app unless .dockerignore leaves it out: then a change to it is
    // no change to the build stage's input.
    let app = write_app(&[
        ("apprunner.yaml", &yaml("A", "A")),
        ("index.html", "hi\n"),
        (".dockerignore", "apprunner.yaml\n"),
    ]);
    let _image = ImageGuard::new(image_name("per-stage"));
    let mut guards = Vec::new();
    let build_with = |pre_run: &'static str, post_build: &'static str| {
        std::fs::write(app.path().join("apprunner.yaml"), yaml(pre_run, post_build)).unwrap();
        let plan = plan_for(app.path());
        let docker = docker.clone();
        async move { build_plan(&docker, &plan, "per-stage").await }
    };
    let first = build_with("A", "A").await;
    guards.extend(layer_guards(&first.log));
    first.result.expect("builds");
    let ran = |log: &[String], phase: &str| log_has(log, &format!("Executing '{phase}' command"));

    let second = build_with("B", "A").await;
    guards.extend(layer_guards(&second.log));
    let built = second.result.expect("builds");
    assert!(!ran(&second.log, "build"), "{:#?}", second.log);
    assert!(ran(&second.log, "pre-run"), "{:#?}", second.log);
    assert!(!ran(&second.log, "post-build"), "{:#?}", second.log);
    assert!(
        log_has(&second.log, "ran before over the same inputs"),
        "{:#?}",
        second.log
    );
    assert_eq!(
        output_of(&docker, &built.id, "cat /app/prerun.txt /app/built.txt").await,
        "B\nbuilt\n"
    );

    let third = build_with("B", "C").await;
    guards.extend(layer_guards(&third.log));
    let built = third.result.expect("builds");
    assert!(!ran(&third.log, "build"), "{:#?}", third.log);
    assert!(!ran(&third.log, "pre-run"), "{:#?}", third.log);
    assert!(ran(&third.log, "post-build"), "{:#?}", third.log);
    assert!(log_has(&third.log, "[PostBuild] C"), "{:#?}", third.log);
    assert_eq!(
        output_of(&docker, &built.id, "cat /app/prerun.txt /app/built.txt").await,
        "B\nbuilt\n"
    );
}
