//! The image a build names: checked against Docker's grammar, replacing the one it replaces, and
//! two builds racing for one name.

use crate::support::*;
use apprunner_build::report::exit;

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
