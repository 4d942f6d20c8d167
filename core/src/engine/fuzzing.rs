//! Entry points for the fuzz targets (`fuzz/`) into parts of the engine that are otherwise
//! private: what a build reads of a layer directory it did not write itself (a CI cache restored
//! from elsewhere, a copy that was cut short). Not an API; hidden from the docs.

use crate::engine::caches::layer_store::{self, Kept};
use crate::engine::image::{rebase, written};
use std::io;
use std::path::Path;
use std::sync::Arc;

/// Each manifest's name and bytes (`None`: absent), as an install reads them.
pub type ManifestFiles = Vec<(String, Option<Vec<u8>>)>;

/// What a build took from the kept layers of one key.
#[derive(Debug, Default)]
pub struct KeptLayers {
    /// The dependency layer's diff id, when [`layer_store::find`] took it.
    pub deps: Option<String>,
    /// The /app snapshot's diff id, likewise.
    pub app: Option<String>,
    /// What [`rebase::read_files`] read of the snapshot, when it was taken.
    pub files: Option<io::Result<ManifestFiles>>,
    /// Whether the dependency layer's `docker load` archive was written, when it was taken.
    pub archive: Option<io::Result<()>>,
}

/// Does with the kept layers of `key` (at least 32 characters) in `layer_dir` what a build does:
/// finds the dependency layer and the /app snapshot (each tar without a seal gets a genuine one
/// first, as if this machine had written it: a forged seal stops everything at the MAC, and the
/// checks of the tar's entries after it are what is worth fuzzing), reads `names` under `path` from the snapshot
/// as an install over it would (at most `cap` bytes each), and writes the `docker load` archive
/// of the dependency layer, to nowhere.
pub fn read_kept_layers(
    layer_dir: &Path,
    key: &str,
    path: &str,
    names: &[String],
    cap: u64,
) -> KeptLayers {
    for kind in [Kept::Deps, Kept::App] {
        seal_as_if_written_here(layer_dir, key, kind);
    }
    let mut found = KeptLayers::default();
    if let layer_store::Found::Layer(deps) = layer_store::find(layer_dir, key, Kept::Deps) {
        found.deps = Some(deps.diff_id.clone());
        found.archive = Some(written::write_archive(
            io::sink(),
            "config.json",
            b"{}",
            &[],
            &[Arc::new(deps)],
        ));
    }
    if let layer_store::Found::Layer(app) = layer_store::find(layer_dir, key, Kept::App) {
        found.app = Some(app.diff_id.clone());
        found.files = Some(rebase::read_files(&[Arc::new(app)], path, names, cap));
    }
    found
}

/// A genuine seal for `kind`'s tar in `key`'s directory, when it has none.
fn seal_as_if_written_here(layer_dir: &Path, key: &str, kind: Kept) {
    use sha2::{Digest, Sha256};
    let dir = layer_store::key_dir(layer_dir, key);
    let seal_path = dir.join(format!("{}.seal", kind.name()));
    if seal_path.exists() {
        return;
    }
    let Ok(bytes) = std::fs::read(dir.join(format!("{}.tar", kind.name()))) else {
        return;
    };
    let digest = format!("sha256:{}", hex::encode(Sha256::digest(&bytes)));
    let seal =
        crate::engine::caches::layer_seal::Seal::new(key, kind.name(), &digest, bytes.len() as u64);
    let _ = std::fs::write(
        seal_path,
        serde_json::to_vec(&seal).expect("a seal serializes"),
    );
}
