//! What a killed build or `run` leaves is swept by the next build, and what is not provably its own
//! is not.

use crate::support::*;
use std::process::Stdio;

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
    let out = cli()
        .args(["build", "-t", &tag, server.path().to_str().unwrap()])
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
