//! A `--cache-dir` is input from outside (a CI cache action may restore it from another branch or
//! a fork): what it holds reaches an image only when its seal proves it is this machine's own and
//! the file is what the seal names. Anything else is a logged miss, the entry is rebuilt, and the
//! image is what a build without the cache makes. Run with scripts/test.sh.

mod support;

use apprunner_build::engine::BuildOptions;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use support::*;

/// A layer tar an attacker writes: a file in /etc, a setuid shell, an entry through a symlink.
fn poisoned_tar() -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut add = |name: &str, kind: tar::EntryType, mode: u32, data: &[u8], link: Option<&str>| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_mode(mode);
        h.set_size(data.len() as u64);
        h.set_path(name).unwrap();
        if let Some(link) = link {
            h.set_link_name(link).unwrap();
        }
        h.set_cksum();
        b.append(&h, data).unwrap();
    };
    add(
        "etc/poisoned-by-cache",
        tar::EntryType::Regular,
        0o644,
        b"x\n",
        None,
    );
    add(
        "usr/local/bin/sh",
        tar::EntryType::Regular,
        0o4755,
        b"#!/bin/sh\n",
        None,
    );
    b.into_inner().unwrap()
}

/// The one key directory a build wrote into the layer directory.
fn key_dir(layers: &Path) -> PathBuf {
    let dirs: Vec<PathBuf> = std::fs::read_dir(layers)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("deps.tar").exists())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs.into_iter().next().unwrap()
}

/// Replace `file` with `bytes`, and rewrite its seal's digest and size to match, as an attacker
/// who can write the cache directory but does not have the secret would.
fn replace_with_matching_seal(dir: &Path, kind: &str, bytes: &[u8]) {
    std::fs::write(dir.join(format!("{kind}.tar")), bytes).unwrap();
    let seal_path = dir.join(format!("{kind}.seal"));
    let mut seal: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&seal_path).unwrap()).unwrap();
    seal["diff_id"] = format!("sha256:{}", hex_digest(bytes)).into();
    seal["size"] = bytes.len().into();
    std::fs::write(&seal_path, serde_json::to_vec(&seal).unwrap()).unwrap();
}

fn hex_digest(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Build with `options` after the engine forgot the cache images and the image (a new runner
/// with a restored cache directory); the log.
async fn rebuild(docker: &bollard::Docker, app: &Path, options: &BuildOptions) -> Build {
    build_plan_in(docker, &plan_with(app, true), options).await
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn a_poisoned_or_damaged_cache_directory_never_reaches_the_image() {
    let docker = docker().await;
    let app = copy_app(&app_fixture("py-requirements"), &[]);
    let cache_dir = tempfile::tempdir().unwrap();
    let mut options = test_options("cache-trust");
    options.layer_dir = cache_dir.path().join("layers");
    options.export_layers = true;
    let image = image_name("cache-trust");
    let _image = ImageGuard::new(image.clone());
    let first = rebuild(&docker, app.path(), &options).await;
    let mut guards = layer_guards(&first.log);
    first.result.expect("builds");
    let dir = key_dir(&options.layer_dir);

    // 1. A crafted deps.tar whose seal's digest and size are rewritten to match: the seal's MAC
    //    is not this machine's, so it is a miss, the install runs, and the image is clean.
    drop(std::mem::take(&mut guards));
    remove_image(&docker, &image).await;
    replace_with_matching_seal(&dir, "deps", &poisoned_tar());
    let second = rebuild(&docker, app.path(), &options).await;
    guards.extend(layer_guards(&second.log));
    let built = second
        .result
        .unwrap_or_else(|e| panic!("{e}\n{:#?}", second.log));
    assert!(
        log_has(
            &second.log,
            "is not used: its seal was not made with this machine's cache secret"
        ),
        "{:#?}",
        second.log
    );
    assert!(
        log_has(&second.log, "Installing dependencies over only"),
        "{:#?}",
        second.log
    );
    let found = output_of(
        &docker,
        &built.id,
        "ls /etc/poisoned-by-cache; ls -l /usr/local/bin/sh",
    )
    .await;
    assert!(found.contains("No such file"), "{found}");
    assert!(!found.contains("rws"), "{found}");
    assert_eq!(
        answer(&docker, &built.id, &[], 8080).await,
        "Hello from Flask, world!\n"
    );

    // 2. The rebuilt entry, truncated (a build killed while copying the cache, a full disk): a
    //    miss that names it, never a failed build and never "the engine refuses written layers".
    drop(std::mem::take(&mut guards));
    remove_image(&docker, &image).await;
    let tar = dir.join("deps.tar");
    let len = std::fs::metadata(&tar).unwrap().len();
    let f = std::fs::OpenOptions::new().write(true).open(&tar).unwrap();
    f.set_len(len / 2).unwrap();
    let third = rebuild(&docker, app.path(), &options).await;
    guards.extend(layer_guards(&third.log));
    let built = third
        .result
        .unwrap_or_else(|e| panic!("{e}\n{:#?}", third.log));
    assert!(
        log_has(
            &third.log,
            "is not used: it is not the layer its seal names"
        ),
        "{:#?}",
        third.log
    );
    assert!(
        !log_has(&third.log, "does not take written layers"),
        "{:#?}",
        third.log
    );
    assert_eq!(
        answer(&docker, &built.id, &[], 8080).await,
        "Hello from Flask, world!\n"
    );

    // 3. The entry is whole again: the next new runner uses it.
    drop(std::mem::take(&mut guards));
    remove_image(&docker, &image).await;
    let fourth = rebuild(&docker, app.path(), &options).await;
    guards.extend(layer_guards(&fourth.log));
    fourth
        .result
        .unwrap_or_else(|e| panic!("{e}\n{:#?}", fourth.log));
    assert!(
        log_has(&fourth.log, "Dependencies from the cache directory"),
        "{:#?}",
        fourth.log
    );

    // 4. A poisoned snapshot of /app while the engine still has the cache image: not used.
    let edited = app.path().join("app.py");
    let text = std::fs::read_to_string(&edited).unwrap() + "\n# edited\n";
    std::fs::write(&edited, text).unwrap();
    let mut app_tar = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_path("app/x").unwrap();
    h.set_entry_type(tar::EntryType::Symlink);
    h.set_link_name("/etc").unwrap();
    h.set_size(0);
    h.set_cksum();
    app_tar.append(&h, &b""[..]).unwrap();
    replace_with_matching_seal(&dir, "app", &app_tar.into_inner().unwrap());
    let fifth = rebuild(&docker, app.path(), &options).await;
    guards.extend(layer_guards(&fifth.log));
    let built = fifth
        .result
        .unwrap_or_else(|e| panic!("{e}\n{:#?}", fifth.log));
    assert!(
        log_has(&fifth.log, "snapshot of /app for") && log_has(&fifth.log, "is not used"),
        "{:#?}",
        fifth.log
    );
    let found = output_of(&docker, &built.id, "ls -la /app").await;
    assert!(!found.contains("x -> /etc"), "{found}");
    assert_eq!(
        answer(&docker, &built.id, &[], 8080).await,
        "Hello from Flask, world!\n"
    );
}

/// Two builds of one project with one `--cache-dir`, at once, twice: each reads what it verified
/// (a concurrent rename cannot swap the file under it), so neither fails.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn two_builds_sharing_a_cache_directory_both_succeed() {
    let docker = docker().await;
    let app = copy_app(&app_fixture("py-requirements"), &[]);
    let cache_dir = tempfile::tempdir().unwrap();
    let options = |name: &str| {
        let mut o = test_options(name);
        o.layer_dir = cache_dir.path().join("layers");
        o.export_layers = true;
        o
    };
    let (a, b) = (options("shared-cache-a"), options("shared-cache-b"));
    let _images = [
        ImageGuard::new(a.image.clone()),
        ImageGuard::new(b.image.clone()),
    ];
    let mut guards = Vec::new();
    for round in 0..2 {
        let (first, second) = tokio::join!(
            rebuild(&docker, app.path(), &a),
            rebuild(&docker, app.path(), &b)
        );
        guards.extend(layer_guards(&first.log));
        guards.extend(layer_guards(&second.log));
        for built in [first, second] {
            let id = built
                .result
                .unwrap_or_else(|e| panic!("round {round}: {e}\n{:#?}", built.log))
                .id;
            assert_eq!(
                answer(&docker, &id, &[], 8080).await,
                "Hello from Flask, world!\n"
            );
        }
        // The next round starts from the cache directory alone.
        drop(std::mem::take(&mut guards));
    }
}

/// An image is up to date only for the same plan and the same stage images: a saved plan edited
/// under the same tag, or a runtime image retagged to another image, builds again.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn an_edited_plan_or_a_retagged_base_image_is_never_up_to_date() {
    use bollard::query_parameters::{CommitContainerOptionsBuilder, TagImageOptionsBuilder};
    let docker = docker().await;
    let app = write_app(&[("apprunner.yaml", MINIMAL_HTTP), ("index.html", "hi\n")]);
    let mut plan = plan_for(app.path());
    // The stage image under a tag of this test's own, so retagging it touches no other test.
    let base = format!("apprunner-build-test/base:{}", std::process::id());
    let _base = ImageGuard::new(&base);
    let fixture = plan.stages[0].image.clone();
    let (repo, tag) = base.split_once(':').unwrap();
    let retag = |image: String| {
        let docker = docker.clone();
        async move {
            docker
                .tag_image(
                    &image,
                    Some(TagImageOptionsBuilder::new().repo(repo).tag(tag).build()),
                )
                .await
                .unwrap();
        }
    };
    retag(fixture.clone()).await;
    for stage in &mut plan.stages {
        stage.image = base.clone();
    }
    let mut options = test_options("up-to-date");
    options.reuse_image = true;
    let _image = ImageGuard::new(options.image.clone());
    let first = build_plan_in(&docker, &plan, &options).await;
    first
        .result
        .unwrap_or_else(|e| panic!("{e}\n{:#?}", first.log));
    let again = build_plan_in(&docker, &plan, &options).await;
    again.result.unwrap();
    assert!(log_has(&again.log, "is up to date"), "{:#?}", again.log);

    // The saved plan, edited: another command.
    let mut edited = plan.clone();
    edited.image.cmd = vec![
        "python3".into(),
        "-m".into(),
        "http.server".into(),
        "8081".into(),
    ];
    let b = build_plan_in(&docker, &edited, &options).await;
    b.result.unwrap_or_else(|e| panic!("{e}\n{:#?}", b.log));
    assert!(
        log_has(&b.log, "Building again: the plan changed"),
        "{:#?}",
        b.log
    );
    let config = docker
        .inspect_image(&options.image.to_string())
        .await
        .unwrap()
        .config
        .unwrap();
    assert_eq!(config.cmd.unwrap().last().unwrap(), "8081");

    // The stage image's tag moved to another image (same layers, another config).
    let container = docker
        .create_container(
            None::<bollard::query_parameters::CreateContainerOptions>,
            bollard::models::ContainerCreateBody {
                image: Some(fixture.clone()),
                cmd: Some(vec!["true".into()]),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .id;
    let other = docker
        .commit_container(
            CommitContainerOptionsBuilder::new()
                .container(&container)
                .build(),
            bollard::models::ContainerConfig {
                labels: Some([("retagged".to_string(), "yes".to_string())].into()),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .id;
    let _other = ImageGuard::new(&other);
    let _ = docker
        .remove_container(
            &container,
            None::<bollard::query_parameters::RemoveContainerOptions>,
        )
        .await;
    retag(other).await;
    let b = build_plan_in(&docker, &edited, &options).await;
    b.result.unwrap_or_else(|e| panic!("{e}\n{:#?}", b.log));
    assert!(
        log_has(&b.log, "Building again: a stage's image is another one"),
        "{:#?}",
        b.log
    );
}

/// A python311 service that serves its directory: no package install.
const MINIMAL_HTTP: &str = "version: 1.0\nruntime: python311\nbuild:\n  commands:\n    build:\n      - echo built > built.txt\nrun:\n  command: python3 -m http.server 8080\n";

/// A source with names every image format reserves for deletions (`.wh.x`, `.wh..wh..opq`):
/// no image can hold them (one copied in through a container cannot even be saved), so the build
/// stops before anything runs, naming the file and the fix.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn whiteout_names_in_the_source_are_refused_by_name() {
    let docker = docker().await;
    for name in [".wh.x", "static/.wh..wh..opq"] {
        let app = write_app(&[
            ("apprunner.yaml", MINIMAL_HTTP),
            ("index.html", "hi\n"),
            (name, "data\n"),
        ]);
        let _image = ImageGuard::new(image_name("whiteout-names"));
        let b = build(&docker, app.path(), "whiteout-names").await;
        let e = b
            .result
            .err()
            .unwrap_or_else(|| panic!("{name} was built: {:#?}", b.log));
        let shown = e.to_string();
        assert!(
            shown.contains(&format!("`{name}` has a name that begins with `.wh.`"))
                && shown.contains(".dockerignore"),
            "{shown}"
        );
        assert!(!log_has(&b.log, "Executing"), "{:#?}", b.log);
        assert!(b.leftovers.is_empty(), "{:?}", b.leftovers);
    }
}
