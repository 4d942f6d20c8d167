//! Limits on time and memory stop a command and say which limit, plainly.

use crate::support::*;
use apprunner_build::engine::confine::Limits;
use apprunner_build::engine::messages::{build_failure_reason, engine_exit_code};
use apprunner_build::engine::{BuildOptions, EngineError, Memory};
use apprunner_build::report::exit;

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
