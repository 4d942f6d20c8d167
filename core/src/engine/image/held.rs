//! What the tool holds of the images it wrote in a build: each written layer's tar and each
//! written config, by digest. The build's result keeps them (and the build's temporary layer
//! directory) alive, so that writing the image out (`--output`) takes them from these files and
//! asks the engine only for what it alone has: the base's layers and committed ones.

use super::layer::Layer;
use crate::engine::caches::layer_store::{self, Found, Kept};
use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, Clone, Default)]
pub struct HeldLayers {
    layers: HashMap<String, Arc<Layer>>,
    /// Image id (the config's digest) to the config's bytes.
    configs: HashMap<String, Arc<Vec<u8>>>,
    /// Dependency layers taken from the engine's cache images, which the layer directory may
    /// hold as files: that directory and the layer key.
    kept: Vec<(PathBuf, String)>,
    /// The directory the build's own layer files are in, removed when the last holder goes.
    _dir: Option<Arc<tempfile::TempDir>>,
}

impl HeldLayers {
    /// An image written over some base: its config and new layers.
    pub(crate) fn add(&mut self, id: &str, config: Vec<u8>, layers: &[Arc<Layer>]) {
        self.configs.insert(id.to_string(), Arc::new(config));
        for layer in layers {
            self.layers
                .entry(layer.diff_id.clone())
                .or_insert_with(|| layer.clone());
        }
    }

    /// A dependency layer the build took from the engine: the layer directory's file for `key`,
    /// if there is one, is looked up (and checked) only when the image is written out.
    pub(crate) fn may_be_kept(&mut self, layer_dir: &Path, key: &str) {
        self.kept.push((layer_dir.to_path_buf(), key.to_string()));
    }

    /// The build's layer directory, kept as long as these layers are.
    pub(crate) fn keep_dir(&mut self, dir: tempfile::TempDir) {
        self._dir = Some(Arc::new(dir));
    }

    /// The config of the image `id`, when the tool wrote it.
    pub fn config(&self, id: &str) -> Option<&[u8]> {
        self.configs.get(id).map(|c| c.as_slice())
    }

    /// The uncompressed layer tar whose digest is `diff_id`, when the tool wrote it: its file
    /// (read from the start) and size. The caller checks the digest as it reads.
    pub fn layer(&self, diff_id: &str) -> Option<io::Result<(File, u64)>> {
        if let Some(layer) = self.layers.get(diff_id) {
            return Some(layer.open().map(|f| (f, layer.size)));
        }
        self.kept
            .iter()
            .find_map(|(dir, key)| match layer_store::find(dir, key, Kept::Deps) {
                Found::Layer(layer) if layer.diff_id == diff_id => {
                    Some(layer.open().map(|f| (f, layer.size)))
                }
                _ => None,
            })
    }
}
