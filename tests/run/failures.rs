//! An app that crashes, never listens, or stops answering: `run` says so at once, with its exit
//! code and what to do.

use crate::support::*;
use apprunner_build::report::exit;
use std::process::Stdio;
use std::time::Duration;
use std::time::Instant;

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
    let out = cli()
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
    let (code, _) = interrupt(&mut child, "-INT");
    assert_eq!(code, 130);
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
        cli()
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
