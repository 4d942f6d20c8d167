//! Nothing is left behind: an interrupted build removes its containers, and the tests' own guards
//! remove theirs when a test panics.

use crate::support::*;
use std::process::Stdio;

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn interrupting_a_build_removes_its_containers() {
    for signal in ["-INT", "-TERM"] {
        let _image = ImageGuard::new("apprunner-build-test/interrupted:latest");
        let app = write_app(&[(
            "apprunner.yaml",
            "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - echo started; sleep 60\nrun:\n  command: node server.js\n",
        )]);
        let mut child = spawn(
            cli()
                .args(["build", "-t", "apprunner-build-test/interrupted"])
                .arg(app.path())
                .stdout(Stdio::piped()),
        );
        let pid = child.id();
        let mut seen = read_until(&mut child, "[Build] started");
        let (code, rest) = interrupt(&mut child, signal);
        seen.extend(rest.lines().map(String::from));
        assert_eq!(code, 130, "{signal}: {seen:#?}");
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
