//! The package-cache volumes builds leave behind, to see and to clear (`apprunner-build cache`).
//! Each volume belongs to one project directory and runtime version (labels say which).

use super::{EngineError, Session};
use bollard::query_parameters::{ListVolumesOptionsBuilder, RemoveVolumeOptionsBuilder};
use std::collections::HashMap;
use std::path::PathBuf;

/// The label naming the project directory a cache volume serves.
pub const CACHE_FOR_LABEL: &str = "apprunner-build.cache-for";

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
        let filters = HashMap::from([("label", vec![CACHE_FOR_LABEL])]);
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
                    PathBuf::from(v.labels.get(CACHE_FOR_LABEL).cloned().unwrap_or_default());
                CacheVolume {
                    project_exists: project.is_dir(),
                    runtime: v
                        .labels
                        .get("apprunner-build.runtime")
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
