//! The source tree in /app as a Dockerfile's `COPY . /app` gives it (the reference users compare
//! with: `docker build`, the legacy builder): permission bits without setuid/setgid, hard links
//! kept as links, directories' and symlinks' own times. One difference, on purpose: /app itself
//! has the source directory's time, where COPY gives it the time of the build (every build's
//! layer would differ). Run with scripts/test.sh.

mod support;

use std::process::Command;
use support::*;

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn the_source_in_app_is_what_copy_gives() {
    let docker = docker().await;
    let app = write_app(&[
        (
            "apprunner.yaml",
            "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - echo ok\nrun:\n  command: node -e 1\n",
        ),
        ("setuid", "#!/bin/sh\n"),
        ("setgid", "x\n"),
        ("linked", "the same file twice\n"),
        ("dir/inner", "y\n"),
    ]);
    let root = app.path();
    let sh = |script: &str| {
        let ok = Command::new("sh")
            .arg("-c")
            .arg(script)
            .current_dir(root)
            .status()
            .unwrap()
            .success();
        assert!(ok, "{script}");
    };
    sh(
        "chmod 4755 setuid && chmod 2750 setgid && ln linked also-linked && ln -s setuid symlink \
        && touch -d 2022-05-06 setuid && touch -d 2020-01-02 dir && touch -h -d 2021-03-04 symlink",
    );
    let plan = plan_for(root);
    let base = plan.stages.last().unwrap().image.clone();
    std::fs::write(
        root.join("Dockerfile"),
        format!("FROM {base}\nCOPY . /app\n"),
    )
    .unwrap();
    let ours = image_name("source-copy");
    let _ours = ImageGuard::new(ours.clone());
    let b = build_plan(&docker, &plan_for(root), "source-copy").await;
    b.result.unwrap_or_else(|e| panic!("{e}\n{:#?}", b.log));
    let reference = format!("apprunner-build-test/copy-reference:{}", std::process::id());
    let _reference = ImageGuard::new(&reference);
    let built = Command::new("docker")
        .args(["build", "-q", "-t", &reference, "."])
        .env("DOCKER_BUILDKIT", "0")
        .current_dir(root)
        .output()
        .unwrap();
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    // Name, mode, modification time, link count, type; the hard links share an inode.
    let listing = "cd /app && stat -c '%n %a %Y %h %F' setuid setgid linked also-linked dir dir/inner symlink \
                   && [ $(stat -c %i linked) = $(stat -c %i also-linked) ] && echo one-inode";
    let have = output_of(&docker, &ours.to_string(), listing).await;
    let want = output_of(&docker, &reference, listing).await;
    assert_eq!(have, want);
    assert!(
        have.contains("setuid 755 ") && have.contains("setgid 750 "),
        "{have}"
    );
    assert!(have.contains("one-inode"), "{have}");
    // /app: the source directory's time, not the build's.
    let root_time = std::fs::metadata(root)
        .unwrap()
        .modified()
        .unwrap()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let app_time = output_of(&docker, &ours.to_string(), "stat -c %Y /app").await;
    assert_eq!(app_time.trim(), root_time.to_string());
}
