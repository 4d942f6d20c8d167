//! The engine restarts mid-build (the fault the shared engine cannot serve): Docker 26 classic is
//! stopped and started again (scripts/stop-engine26.sh, scripts/start-engine26.sh) while a build
//! command runs. The build fails saying it lost the engine, and the next build removes the
//! container it left.

use crate::engine::*;
use crate::support::*;
use std::io::BufRead;
use std::process::{Command, Stdio};

fn script(name: &str, mode: &str) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/");
    let out = Command::new(format!("{path}{name}"))
        .arg(mode)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{name} {mode}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn an_engine_restart_mid_build_is_named_and_the_next_build_sweeps_up() {
    let Some(engine) = engine(Which::Classic).await else {
        return;
    };
    // No other build on this engine while it restarts.
    let _alone = CLASSIC.write().await;
    let app = write_app(&[(
        "apprunner.yaml",
        "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - echo started; sleep 120\nrun:\n  command: node -e 1\n",
    )]);
    let mut images = Images::new(&engine);
    let tag = images.name(format!(
        "apprunner-build-test/engines-restart:{}",
        std::process::id()
    ));
    let mut command = cli();
    command
        .env("DOCKER_HOST", &engine.host)
        .args(["build", "-t", &tag, "--network", "host"])
        .arg(app.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = spawn(&mut command);
    let pid = child.id();
    let stdout = child.stdout.take().unwrap();
    let started = std::time::Instant::now();
    let lines = tokio::task::spawn_blocking(move || {
        let mut all = Vec::new();
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if line.contains("[Build] started") {
                // The engine restarts: stopped (its containers with it), then started again.
                script("stop-engine26.sh", "classic");
                script("start-engine26.sh", "classic");
            }
            all.push(line);
        }
        all
    })
    .await
    .unwrap();
    let status = tokio::task::spawn_blocking(move || {
        let status = child.wait().unwrap();
        let mut err = String::new();
        std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
        (status, err)
    })
    .await
    .unwrap();
    let text = format!("{}\n{}", lines.join("\n"), status.1);
    eprintln!("the build the restart broke:\n{text}");
    assert!(
        started.elapsed().as_secs() < 100,
        "the build ended when the engine went, not when its command would have: {text}"
    );
    assert_eq!(status.0.code(), Some(4), "{text}");
    assert!(
        text.contains("Lost the connection to the Docker engine while"),
        "{text}"
    );
    assert!(text.contains("the next build"), "{text}");

    // The engine is back, on the same socket; what the broken build left is swept by the next.
    let engine = crate::engine::engine(Which::Classic).await.unwrap();
    let left = containers_of(&engine.docker, pid).await;
    eprintln!("left after the restart: {left:?}");
    let quick = write_app(&[(
        "apprunner.yaml",
        "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - echo ok\nrun:\n  command: node -e 1\n",
    )]);
    let next_tag = images.name(format!(
        "apprunner-build-test/engines-after-restart:{}",
        std::process::id()
    ));
    let out = build_on(&engine, quick.path(), &next_tag).await;
    let said = crate::engine::text(&out);
    assert!(out.status.success(), "{said}");
    if !left.is_empty() {
        assert!(
            said.contains(&format!(
                "Removed a container left by an earlier, interrupted build or run (process {pid} is gone)"
            )),
            "{said}"
        );
    }
    assert_eq!(
        containers_of(&engine.docker, pid).await,
        Vec::<String>::new()
    );
}
