//! The package-cache volumes builds leave behind, to see and to clear (`apprunner-build cache`).
//! Each volume belongs to one project directory and runtime version (labels say which).

use crate::engine::caches::scope::LAYER_REPOSITORY;
use crate::engine::labels;
use crate::engine::session::Session;
use crate::engine::EngineError;
use bollard::query_parameters::{ListVolumesOptionsBuilder, RemoveVolumeOptionsBuilder};
use std::collections::HashMap;
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheVolume {
    pub name: String,
    pub project: PathBuf,
    pub runtime: String,
    /// Whether the project directory still exists on this machine.
    pub project_exists: bool,
}

impl Session {
    /// Every package-cache volume this tool made.
    pub async fn cache_volumes(&self) -> Result<Vec<CacheVolume>, EngineError> {
        let filters = HashMap::from([("label", vec![labels::CACHE_FOR])]);
        let options = ListVolumesOptionsBuilder::new().filters(&filters).build();
        let listed = self
            .docker()
            .list_volumes(Some(options))
            .await
            .map_err(EngineError::docker("listing the package-cache volumes"))?;
        let mut found: Vec<CacheVolume> = listed
            .volumes
            .unwrap_or_default()
            .into_iter()
            .map(|v| {
                let project =
                    PathBuf::from(v.labels.get(labels::CACHE_FOR).cloned().unwrap_or_default());
                // A relative path (labelled by an older version) names no directory for sure:
                // such a volume counts as its project's, never as gone.
                CacheVolume {
                    project_exists: project.is_relative() || project.is_dir(),
                    runtime: v
                        .labels
                        .get(labels::VOLUME_RUNTIME)
                        .cloned()
                        .unwrap_or_default(),
                    name: v.name,
                    project,
                }
            })
            .collect();
        found.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(found)
    }

    /// Remove the cache volumes of projects that no longer exist (all of them with `all`), except
    /// those a container uses; returns the names removed.
    pub async fn prune_cache_volumes(&self, all: bool) -> Result<Vec<String>, EngineError> {
        let mut removed = Vec::new();
        for volume in self.cache_volumes().await? {
            if !all && volume.project_exists {
                continue;
            }
            let options = RemoveVolumeOptionsBuilder::new().force(false).build();
            // A volume in use (a build running now) is refused by the engine and kept.
            if self
                .docker()
                .remove_volume(&volume.name, Some(options))
                .await
                .is_ok()
            {
                removed.push(volume.name);
            }
        }
        Ok(removed)
    }
}

/// A dependency layer kept in the layer directory (`--cache-dir`), and whether the engine has
/// its image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptLayer {
    /// `apprunner-build-cache/deps:<key>`.
    pub tag: String,
    /// The bytes of its files in the layer directory.
    pub bytes: u64,
    /// When a build last used it (found or made it); for an image never used with this layer
    /// directory, when the engine made it.
    pub last_used: std::time::SystemTime,
    pub in_engine: bool,
    /// Whether the layer directory records it (files, or a use).
    pub in_layer_dir: bool,
}

/// How long a dependency layer nobody used is kept by `cache prune`.
pub const LAYER_UNUSED_FOR: std::time::Duration = std::time::Duration::from_secs(30 * 24 * 3600);

impl Session {
    /// The dependency layers in `layer_dir` and the engine's cache images, one entry per key.
    pub async fn kept_layers(&self, layer_dir: &std::path::Path) -> Vec<KeptLayer> {
        let in_engine = self.cache_image_tags().await;
        let mut found = Vec::new();
        for entry in std::fs::read_dir(layer_dir).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Ok(meta) = entry.metadata() else { continue };
            if !meta.is_dir() {
                continue;
            }
            // A killed build's partial files are not the layer's; gone once their writer is.
            crate::engine::caches::layer_store::sweep_partials(&entry.path());
            let bytes = std::fs::read_dir(entry.path())
                .into_iter()
                .flatten()
                .flatten()
                .filter(|f| {
                    crate::engine::caches::layer_store::partial_of(&f.file_name().to_string_lossy())
                        .is_none()
                })
                .filter_map(|f| f.metadata().ok())
                .map(|m| m.len())
                .sum();
            let tag = format!("{}:{name}", LAYER_REPOSITORY);
            found.push(KeptLayer {
                in_engine: in_engine.iter().any(|(t, _)| *t == tag),
                tag,
                bytes,
                last_used: meta.modified().unwrap_or(std::time::UNIX_EPOCH),
                in_layer_dir: true,
            });
        }
        for (tag, created) in in_engine {
            if !found.iter().any(|k| k.tag == tag) {
                // Never used with this layer directory: as old as the image, not older.
                found.push(KeptLayer {
                    tag,
                    bytes: 0,
                    last_used: created,
                    in_engine: true,
                    in_layer_dir: false,
                });
            }
        }
        found.sort_by(|a, b| a.tag.cmp(&b.tag));
        found
    }

    /// The engine's cache images: each tag, with when its image was made.
    async fn cache_image_tags(&self) -> Vec<(String, std::time::SystemTime)> {
        let filters = HashMap::from([("reference", vec![LAYER_REPOSITORY])]);
        let options = bollard::query_parameters::ListImagesOptionsBuilder::new()
            .filters(&filters)
            .build();
        self.docker()
            .list_images(Some(options))
            .await
            .unwrap_or_default()
            .into_iter()
            .flat_map(|i| {
                let created =
                    std::time::UNIX_EPOCH + std::time::Duration::from_secs(i.created.max(0) as u64);
                i.repo_tags.into_iter().map(move |t| (t, created))
            })
            .filter(|(t, _)| t.starts_with(LAYER_REPOSITORY))
            .collect()
    }

    /// Remove the names of images on the way that builds killed since left (a build sweeps them
    /// only after it finds such a build's containers); a line for each.
    pub async fn prune_work_images(&self) -> Vec<String> {
        crate::engine::session::cleanup::prune_work_images(self.docker()).await
    }

    /// Remove the dependency layers no build used for [`LAYER_UNUSED_FOR`] (every one with
    /// `all`): their files in `layer_dir` and their cache images (an image a container uses is
    /// kept). Returns the tags removed.
    pub async fn prune_layers(&self, layer_dir: &std::path::Path, all: bool) -> Vec<String> {
        let now = std::time::SystemTime::now();
        let mut removed = Vec::new();
        for layer in self.kept_layers(layer_dir).await {
            let unused = now
                .duration_since(layer.last_used)
                .is_ok_and(|d| d >= LAYER_UNUSED_FOR);
            if !all && !unused {
                continue;
            }
            let key = layer.tag.rsplit(':').next().unwrap_or_default();
            let dir = layer_dir.join(key);
            let files_gone = !dir.exists() || std::fs::remove_dir_all(&dir).is_ok();
            let image_gone = !layer.in_engine
                || self
                    .docker()
                    .remove_image(
                        &layer.tag,
                        Some(
                            bollard::query_parameters::RemoveImageOptionsBuilder::new()
                                .force(false)
                                .build(),
                        ),
                        None,
                    )
                    .await
                    .is_ok();
            if files_gone && image_gone {
                removed.push(layer.tag);
            }
        }
        removed
    }
}
