//! `build --output`: the image written as an OCI image layout (a directory, or a tar of one) or a
//! `docker load` archive, from the build's own files over the base's layers, or read whole from
//! the engine. Layouts are read back by Debian's skopeo and by a check of our own; an archive is
//! loaded back into the engine. Run with scripts/test.sh.

mod support;

use sha2::{Digest, Sha256};
use std::path::Path;
use support::*;

/// A small app on the Node.js 22 fixture image.
fn small_app() -> tempfile::TempDir {
    write_app(&[
        (
            "apprunner.yaml",
            "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - echo built > built.txt\nrun:\n  command: node -e 1\n",
        ),
        ("index.js", "console.log('hi')\n"),
    ])
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Every blob's name is its digest, and every descriptor from `index.json` down names a blob of
/// that size: the layout's manifest digest.
fn check_layout(dir: &Path) -> String {
    assert_eq!(
        json(&dir.join("oci-layout")),
        serde_json::json!({"imageLayoutVersion": "1.0.0"})
    );
    let blobs = dir.join("blobs/sha256");
    for blob in std::fs::read_dir(&blobs).unwrap() {
        let blob = blob.unwrap();
        let bytes = std::fs::read(blob.path()).unwrap();
        assert_eq!(
            format!("{:x}", Sha256::digest(&bytes)),
            blob.file_name().to_string_lossy(),
            "a blob named by its digest"
        );
    }
    let described = |d: &serde_json::Value| {
        let digest = d["digest"].as_str().unwrap();
        let path = blobs.join(digest.trim_start_matches("sha256:"));
        assert_eq!(
            std::fs::metadata(&path).map(|m| m.len()).ok(),
            d["size"].as_u64(),
            "{digest}"
        );
        path
    };
    let index = json(&dir.join("index.json"));
    let manifests = index["manifests"].as_array().unwrap();
    assert_eq!(manifests.len(), 1, "{index}");
    let manifest = json(&described(&manifests[0]));
    described(&manifest["config"]);
    for layer in manifest["layers"].as_array().unwrap() {
        described(layer);
    }
    manifests[0]["digest"].as_str().unwrap().to_string()
}

fn skopeo(args: &[&str]) -> serde_json::Value {
    let out = std::process::Command::new("skopeo")
        .args(args)
        .output()
        .expect("skopeo is installed (scripts/test.sh installs Debian's)");
    assert!(
        out.status.success(),
        "skopeo {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// An OCI layout directory that skopeo reads, whose every blob checks out, whose config is the
/// engine's image (same id), and which is the same, to the manifest digest, when exported again.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn an_oci_layout_is_read_by_skopeo_and_the_same_each_time() {
    let docker = docker().await;
    let app = small_app();
    let tag = format!("apprunner-build-test/oci:{}", std::process::id());
    let _image = ImageGuard::new(&tag);
    let out = tempfile::tempdir().unwrap();
    let first = out.path().join("layout");
    let log = build_with(
        app.path(),
        &tag,
        &["--output", &format!("type=oci,dest={}", first.display())],
    );
    assert!(
        log.contains("[AppRunner] Wrote the image as an OCI image layout to"),
        "{log}"
    );
    assert!(
        log.contains("from the engine, 1 written layer and the config from this build's files"),
        "a built image is written from the build's files over the base's layers: {log}"
    );
    let digest = check_layout(&first);
    assert!(log.contains(&format!("manifest {digest}")), "{log}");

    let inspected = skopeo(&["inspect", &format!("oci:{}", first.display())]);
    assert_eq!(inspected["Digest"], digest.as_str());
    let config = skopeo(&["inspect", "--config", &format!("oci:{}", first.display())]);
    let image = docker.inspect_image(&tag).await.unwrap();
    assert_eq!(
        config["rootfs"]["diff_ids"],
        serde_json::json!(image.root_fs.unwrap().layers.unwrap())
    );
    let manifest = json(
        &first
            .join("blobs/sha256")
            .join(digest.trim_start_matches("sha256:")),
    );
    assert_eq!(manifest["config"]["digest"], image.id.unwrap().as_str());

    // Up to date: nothing is built, and the same image, read whole from the engine this time, is
    // written again byte for byte.
    let second = out.path().join("again");
    let log = build_with(
        app.path(),
        &tag,
        &["--output", &format!("type=oci,dest={}", second.display())],
    );
    assert!(
        log.contains("read whole from the engine's archive"),
        "{log}"
    );
    assert_eq!(check_layout(&second), digest);

    // A tar of the layout, which skopeo reads as an oci-archive.
    let archive = out.path().join("layout.tar");
    build_with(
        app.path(),
        &tag,
        &["--output", &format!("type=oci,dest={}", archive.display())],
    );
    let inspected = skopeo(&["inspect", &format!("oci-archive:{}", archive.display())]);
    assert_eq!(inspected["Digest"], digest.as_str());
}

/// A docker-archive loads back as the same image, with its name.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn a_docker_archive_loads_back_as_the_same_image() {
    use futures_util::StreamExt;
    let docker = docker().await;
    let app = small_app();
    let tag = format!("apprunner-build-test/archive:{}", std::process::id());
    let _image = ImageGuard::new(&tag);
    let out = tempfile::tempdir().unwrap();
    let archive = out.path().join("image.tar");
    let log = build_with(
        app.path(),
        &tag,
        &[
            "--output",
            &format!("type=docker-archive,dest={}", archive.display()),
        ],
    );
    assert!(log.contains("a docker-archive (for docker load)"), "{log}");
    assert!(log.contains("from this build's files"), "{log}");
    let id = docker.inspect_image(&tag).await.unwrap().id.unwrap();
    remove_named(&docker, &tag).await;
    assert!(docker.inspect_image(&tag).await.is_err());

    let bytes = std::fs::read(&archive).unwrap();
    let mut load = docker.import_image(
        bollard::query_parameters::ImportImageOptionsBuilder::new().build(),
        bollard::body_full(bytes.into()),
        None,
    );
    while let Some(step) = load.next().await {
        step.unwrap();
    }
    assert_eq!(docker.inspect_image(&tag).await.unwrap().id.unwrap(), id);
}

/// An image whose last step ran in a container (here `pre-run`) has a layer and a config only
/// the engine has: it is read whole from the engine, and the log says why.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn an_image_with_a_committed_layer_is_read_whole_from_the_engine() {
    let docker = docker().await;
    let app = write_app(&[
        (
            "apprunner.yaml",
            "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - echo built > built.txt\nrun:\n  pre-run:\n    - echo ready > ready.txt\n  command: node -e 1\n",
        ),
        ("index.js", "console.log('hi')\n"),
    ]);
    let tag = format!("apprunner-build-test/committed:{}", std::process::id());
    let _image = ImageGuard::new(&tag);
    let out = tempfile::tempdir().unwrap();
    let layout = out.path().join("layout");
    let log = build_with(
        app.path(),
        &tag,
        &["--output", &format!("type=oci,dest={}", layout.display())],
    );
    assert!(
        log.contains("read whole from the engine's archive: the engine wrote the image's config"),
        "{log}"
    );
    check_layout(&layout);
    let config = skopeo(&["inspect", "--config", &format!("oci:{}", layout.display())]);
    let image = docker.inspect_image(&tag).await.unwrap();
    assert_eq!(
        config["rootfs"]["diff_ids"],
        serde_json::json!(image.root_fs.unwrap().layers.unwrap())
    );
}

/// A destination that holds something other than an earlier layout is left as it is, and the
/// build says why; an earlier layout is replaced whole.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn an_output_never_overwrites_what_is_not_an_earlier_output() {
    let app = small_app();
    let tag = format!("apprunner-build-test/oci-dest:{}", std::process::id());
    let _image = ImageGuard::new(&tag);
    let out = tempfile::tempdir().unwrap();
    let theirs = out.path().join("theirs");
    std::fs::create_dir(&theirs).unwrap();
    std::fs::write(theirs.join("notes.txt"), "mine").unwrap();
    let result = cli()
        .args(["build", "-t", &tag, "--output"])
        .arg(format!("type=oci,dest={}", theirs.display()))
        .arg(app.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("AR706") && stderr.contains("is not an OCI image layout"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(theirs.join("notes.txt")).unwrap(),
        "mine"
    );
    assert_eq!(std::fs::read_dir(&theirs).unwrap().count(), 1);

    let layout = out.path().join("layout");
    let arg = format!("type=oci,dest={}", layout.display());
    build_with(app.path(), &tag, &["--output", &arg]);
    std::fs::write(layout.join("blobs/sha256/stale"), "x").unwrap();
    build_with(app.path(), &tag, &["--output", &arg]);
    assert!(!layout.join("blobs/sha256/stale").exists());
    check_layout(&layout);
    let left: Vec<_> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert_eq!(left, Vec::<String>::new(), "no staging directory is left");
}

/// A malformed `--output` is refused before anything is built, with the value's problem.
#[test]
fn a_malformed_output_is_refused_before_building() {
    for (value, says) in [
        ("type=tar,dest=x", "unknown output type `tar`"),
        ("type=oci", "type=oci needs dest=PATH"),
        ("type=oci,out=x", "unknown key `out`"),
    ] {
        let out = shipped_cli()
            .args(["build", "--output", value, "."])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{value}: {stderr}");
        assert!(
            stderr.contains("AR705") && stderr.contains(says),
            "{value}: {stderr}"
        );
    }
}

/// `--metadata-file`, `--iidfile` and `--quiet`: the file follows the README's schema, every step
/// is recorded with its time and, for the install, its cache decision (a miss, then a hit after a
/// source edit); the id file and the quiet stdout hold the image id.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn metadata_iidfile_and_quiet_record_what_was_built() {
    let docker = docker().await;
    let app = write_app(&[
        (
            "apprunner.yaml",
            "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - npm install\n  env:\n    - name: NPM_TOKEN\n      value: build-env-value-not-recorded\nrun:\n  command: node index.js\n",
        ),
        ("package.json", r#"{"name": "meta", "version": "2.0.1"}"#),
        ("index.js", "console.log('hi')\n"),
    ]);
    let tag = format!("apprunner-build-test/metadata:{}", std::process::id());
    let _image = ImageGuard::new(&tag);
    let out = tempfile::tempdir().unwrap();
    let (meta, iid) = (out.path().join("meta.json"), out.path().join("iid"));
    let build = |quiet: bool| {
        let mut c = cli();
        c.args([
            "build",
            "-t",
            &tag,
            "--ca-bundle",
            "/etc/ssl/certs/ca-certificates.crt",
        ])
        .arg("--metadata-file")
        .arg(&meta)
        .arg("--iidfile")
        .arg(&iid);
        if quiet {
            c.arg("--quiet");
        }
        let done = c.arg(app.path()).output().unwrap();
        assert!(done.status.success(), "{done:?}");
        String::from_utf8_lossy(&done.stdout).into_owned()
    };
    build(false);
    let first = json(&meta);
    let id = docker.inspect_image(&tag).await.unwrap().id.unwrap();
    assert_eq!(std::fs::read_to_string(&iid).unwrap(), id);
    let keys: Vec<&str> = first
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(
        keys,
        [
            "format", "image", "output", "pushed", "runtime", "sbom", "seconds", "steps", "tags",
            "tool", "warnings"
        ]
    );
    assert_eq!(first["format"], 1);
    assert_eq!(first["image"]["id"], id.as_str());
    assert_eq!(first["image"]["up_to_date"], false);
    assert_eq!(
        first["image"]["labels"]["org.opencontainers.image.version"],
        "2.0.1"
    );
    assert_eq!(first["runtime"]["name"], "nodejs22");
    assert_eq!(first["tool"]["name"], "apprunner-build");
    let steps = first["steps"].as_array().unwrap();
    assert!(steps.iter().all(|s| s["step"].is_string()
        && s["stage"].is_string()
        && s["seconds"].as_f64().is_some()));
    let install = |m: &serde_json::Value| {
        m["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["step"] == "install")
            .cloned()
            .unwrap_or_else(|| panic!("an install step: {m}"))
    };
    assert_eq!(install(&first)["cache"]["decision"], "miss", "{first}");
    assert!(!first.to_string().contains("build-env-value-not-recorded"));

    std::fs::write(app.path().join("index.js"), "console.log('edited')\n").unwrap();
    let stdout = build(true);
    let second = json(&meta);
    let id = docker.inspect_image(&tag).await.unwrap().id.unwrap();
    assert_eq!(stdout.trim(), id, "--quiet prints the id alone");
    assert_eq!(install(&second)["cache"]["decision"], "hit", "{second}");
    assert!(install(&second)["cache"]["from"]
        .as_str()
        .unwrap()
        .contains("apprunner-build-cache/deps:"));
}
