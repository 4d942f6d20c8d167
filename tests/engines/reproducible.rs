//! One image, whatever the engine: with `SOURCE_DATE_EPOCH`, the guide's example built from nothing
//! on Docker 20.10, on Docker 26 with overlay2 and on Docker 26 with the containerd image store
//! (three data roots) gives the same OCI manifest digest. Every build uses the host's network, as
//! Docker 26's builds here must (its containers have no NAT), so that the builds differ only in the
//! engine.

use crate::engine::*;
use crate::support::*;
use std::path::Path;

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the Docker engines and the fixture images: run scripts/test.sh"]
async fn the_same_image_on_every_engine() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/python-hello");
    let app = copy_app(&example, &[]);
    let out = tempfile::tempdir().unwrap();
    let mut digests = Vec::new();
    for which in [Which::Docker20, Which::Classic, Which::Containerd] {
        let Some(engine) = engine(which).await else {
            return;
        };
        let _shared = match which {
            Which::Classic => Some(CLASSIC.read().await),
            _ => None,
        };
        let mut images = Images::new(&engine);
        let tag = images.name(format!(
            "apprunner-build-test/everywhere:{}",
            std::process::id()
        ));
        let layout = out.path().join(which.label());
        let mut command = cli();
        command
            .env("DOCKER_HOST", &engine.host)
            .env("SOURCE_DATE_EPOCH", "1700000000")
            .args(["build", "--no-cache", "--network", "host", "-t", &tag])
            .args(["--ca-bundle", "/etc/ssl/certs/ca-certificates.crt"])
            .arg("--output")
            .arg(format!("type=oci,dest={}", layout.display()))
            .arg(app.path());
        let done = tokio::task::spawn_blocking(move || command.output().unwrap())
            .await
            .unwrap();
        assert!(done.status.success(), "{}: {}", which.label(), text(&done));
        let index: serde_json::Value =
            serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
        let digest = index["manifests"][0]["digest"]
            .as_str()
            .unwrap()
            .to_string();
        digests.push((which.label(), digest));
    }
    assert!(
        digests.windows(2).all(|w| w[0].1 == w[1].1),
        "one manifest digest on every engine: {digests:?}"
    );
}
