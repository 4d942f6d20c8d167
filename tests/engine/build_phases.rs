//! The build phases and their environment: what each phase runs and sees, what of it reaches the
//! image, the original build's second run of the build commands, and a failing command.

use crate::support::*;
use apprunner_build::engine::messages::build_failure_reason;
use apprunner_build::engine::EngineError;
use apprunner_build::plan::PhaseName;
use apprunner_build::report::exit;

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn a_locked_nodejs12_version_builds_and_post_build_leaves_no_trace() {
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
async fn the_revised_build_keeps_only_app_and_pre_run_effects() {
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
async fn a_failing_command_fails_the_build_and_leaves_no_container() {
    let _images = [
        ImageGuard::new("apprunner-build-test/fails:latest"),
        ImageGuard::new(image_name("fails-lib")),
    ];
    let app = write_app(&[(
        "apprunner.yaml",
        "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - echo about to fail\n      - echo oops >&2; exit 3\n      - echo never\nrun:\n  command: node server.js\n",
    )]);
    let child = cli()
        .args(["build", "-t", "apprunner-build-test/fails"])
        .arg(app.path())
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
async fn build_env_reaches_every_build_phase_and_not_the_image() {
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
