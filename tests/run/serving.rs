//! `run` and `build --run` serving an app: it answers on the published port, Ctrl-C removes it,
//! `-p` chooses where it is published, and `--log-format json` holds for every line.

use crate::support::*;
use apprunner_build::report::exit;
use std::process::Stdio;

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
    let (code, _) = interrupt(&mut child, "-INT");
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
    let (code, _) = interrupt(&mut child, "-INT");
    assert_eq!(code, 130);
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
    let out = cli()
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
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Successfully built image"), "{stdout}");
    assert!(stdout.contains("[Application] built"), "{stdout}");
    assert_eq!(out.status.code(), Some(exit::APP_EXITED.into()), "{stdout}");
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
        let mut c = cli();
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
    let out = cli()
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
    interrupt(&mut child, "-INT");

    // A port a process of this machine holds.
    let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let held_port = held.local_addr().unwrap().port();
    let out = cli()
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
    interrupt(&mut child, "-INT");
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
    let out = cli()
        .args(["build", "--log-format", "json", "-t", &tag])
        .arg(app.path())
        .args(["--ca-bundle", "/etc/ssl/certs/ca-certificates.crt"])
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
        cli()
            .args(["run", &tag, "-p", "0", "--log-format", "json"])
            .args(["--health-interval", "1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    let read = read_until(&mut child, "live at http://localhost:");
    let (code, rest) = interrupt(&mut child, "-INT");
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
