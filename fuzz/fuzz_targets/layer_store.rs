//! A layer directory the build did not write itself (a CI cache restored from elsewhere, a copy
//! cut short): each kept file (`deps.tar`, `deps.diffid`, `app.tar`, `app.diffid`) may be
//! missing or hold anything. The build finds the kept layers, reads dependency manifests from the
//! /app snapshot and writes the dependency layer's `docker load` archive.
#![no_main]

use apprunner_build::engine::fuzzing;
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct LayerDir {
    deps_tar: Option<Vec<u8>>,
    deps_diffid: Option<Vec<u8>>,
    app_tar: Option<Vec<u8>>,
    app_diffid: Option<Vec<u8>>,
    /// Manifests an install over the snapshot reads, relative to /app.
    names: Vec<String>,
}

/// A key as the build makes them: a sha256 in hex.
const KEY: &str = "5e1f0c4fb1a3c0a7e8e4b0d9c6a2f3e1d4c5b6a79880716253443526170819aa";
/// The most of a manifest that is read, as the build's cap.
const FILE_CAP: u64 = 4 * 1024 * 1024;

fuzz_target!(|input: LayerDir| {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let key_dir = dir.path().join(&KEY[..32]);
    std::fs::create_dir_all(&key_dir).expect("the key's directory");
    for (name, bytes) in [
        ("deps.tar", &input.deps_tar),
        ("deps.diffid", &input.deps_diffid),
        ("app.tar", &input.app_tar),
        ("app.diffid", &input.app_diffid),
    ] {
        if let Some(bytes) = bytes {
            std::fs::write(key_dir.join(name), bytes).expect("a kept file is written");
        }
    }
    let names: Vec<String> = input.names.into_iter().take(4).collect();
    let found = fuzzing::read_kept_layers(dir.path(), KEY, "/app", &names, FILE_CAP);
    for diff_id in [&found.deps, &found.app].into_iter().flatten() {
        // The id goes into the image config and names the layer's path in the archive.
        assert!(
            diff_id
                .strip_prefix("sha256:")
                .is_some_and(|hex| hex.len() == 64
                    && hex
                        .bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))),
            "a kept layer was taken with the diff id {diff_id:?}"
        );
    }
    if let Some(Ok(files)) = &found.files {
        for (_, bytes) in files {
            assert!(bytes.as_ref().is_none_or(|b| b.len() as u64 <= FILE_CAP));
        }
    }
});
