//! Runtime images that are not on the engine: pulled with progress, or a failed pull that says
//! which image and what to do.

use crate::support::*;
use apprunner_build::report::exit;

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
