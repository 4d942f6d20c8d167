//! What build containers get beyond the plan, for the tools the commands run: the CA bundle of a
//! TLS-intercepting proxy and the package-manager caches, mounted under /dev and given to build
//! commands only.

use crate::engine::walk::{BuildOptions, Walk};
use crate::engine::EngineError;
use crate::report::log::BuildLog;
use std::collections::HashMap;

/// Where the CA bundle is mounted, in the container's /dev tmpfs. The engine's archive API
/// (uploads and downloads) creates a container's mount points in its own layer, outside that
/// tmpfs: so a container that is committed later gets the mounts only while commands run, and
/// copies go through a container without them (see `Walk::container`). No mount point, not
/// even an empty file, reaches an image.
pub const CA_PATH: &str = "/dev/apprunner-build-ca.crt";
/// Turns npm's update notice off, in build commands only.
pub const NPM_NO_UPDATE_NOTICE: &str = "npm_config_update_notifier=false";
/// Variables that point the usual tools at the CA bundle, for build commands only.
pub const CA_VARIABLES: &[&str] = &[
    "SSL_CERT_FILE",
    "PIP_CERT",
    "REQUESTS_CA_BUNDLE",
    "NODE_EXTRA_CA_CERTS",
    "npm_config_cafile",
];
/// The prefix of the named volumes that hold package-manager caches between builds (see
/// [`cache_volume`]), and where build containers see them: under /dev again, mounted like the
/// CA bundle (see [`CA_PATH`]), so that no mount point reaches an image.
pub const CACHE_VOLUME: &str = "apprunner-build-cache";
pub const CACHE_PATH: &str = "/dev/apprunner-build-cache";
/// Each tool's cache directory, inside the volume.
const CACHE_VARIABLES: &[(&str, &str)] = &[
    ("PIP_CACHE_DIR", "pip"),
    ("npm_config_cache", "npm"),
    ("YARN_CACHE_FOLDER", "yarn"),
    ("npm_config_store_dir", "pnpm"),
    ("UV_CACHE_DIR", "uv"),
    ("POETRY_CACHE_DIR", "poetry"),
    ("COREPACK_HOME", "corepack"),
];

/// The CA bundle's and the package caches' variables, for build commands only.
pub(crate) fn tool_env(opts: &BuildOptions, log: &BuildLog) -> Result<Vec<String>, EngineError> {
    // npm's "new version available" notice is noise in a build log.
    let mut env = vec![NPM_NO_UPDATE_NOTICE.to_string()];
    if let Some(path) = &opts.ca_bundle {
        let meta = std::fs::metadata(path).map_err(|source| EngineError::CaBundle {
            path: path.clone(),
            source,
        })?;
        let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
        if crate::engine::containers::confine::engine_sockets().contains(&real) {
            return Err(EngineError::CaBundle {
                path: path.clone(),
                source: std::io::Error::other(
                    "it is the engine's socket, which is never mounted into a build container (whoever reaches it is root on the engine's machine)",
                ),
            });
        }
        if !meta.is_file() {
            return Err(EngineError::CaBundle {
                path: path.clone(),
                source: std::io::Error::other("not a regular file"),
            });
        }
        env.extend(CA_VARIABLES.iter().map(|v| format!("{v}={CA_PATH}")));
        log.app_runner(format!(
            "Using CA bundle {} for build commands only.",
            path.display()
        ));
    }
    if opts.package_cache {
        env.extend(
            CACHE_VARIABLES
                .iter()
                .map(|(var, dir)| format!("{var}={CACHE_PATH}/{dir}")),
        );
        // The cache is another file system: uv would warn before falling back to copying.
        env.push("UV_LINK_MODE=copy".into());
    }
    Ok(env)
}

/// The package-cache volume of one project and runtime: `apprunner-build-cache-<hash>`, the hash
/// over the canonical source root path and the runtime's name and version.
///
/// Who shares what: builds of the same source directory (however it is spelled: the path is
/// canonicalized) with the same runtime name and version share one volume, so a rebuild finds
/// its downloads; a different project, or the same project on another runtime or version, gets
/// a volume of its own, so that one project's build commands cannot poison another's pip, npm,
/// yarn, pnpm, uv, poetry or corepack cache. `--no-cache` mounts no volume at all.
pub fn cache_volume(source_root: &std::path::Path, runtime: &str, version: &str) -> String {
    use sha2::{Digest, Sha256};
    let root = crate::engine::caches::maintenance::canonical(source_root);
    let mut h = Sha256::new();
    h.update(root.as_os_str().as_encoded_bytes());
    h.update(b"\0");
    h.update(runtime.as_bytes());
    h.update(b"\0");
    h.update(version.as_bytes());
    let hex = hex::encode(h.finalize());
    format!("{CACHE_VOLUME}-{}", &hex[..16])
}

impl Walk<'_> {
    /// The package-cache volume, labelled with whose it is (so that it can be found and pruned).
    pub(crate) async fn create_cache_volume(&mut self) -> Result<(), EngineError> {
        let Some(volume) = &self.cache_volume else {
            return Ok(());
        };
        if self.cache_volume_created {
            return Ok(());
        }
        let rt = &self.plan.runtime;
        let labels = HashMap::from([
            (
                crate::engine::caches::maintenance::CACHE_FOR_LABEL.to_string(),
                // Absolute and canonical: `cache prune` may run from any directory.
                crate::engine::caches::maintenance::canonical(&self.plan.source_root)
                    .display()
                    .to_string(),
            ),
            (
                "apprunner-build.runtime".to_string(),
                format!("{} {}", rt.name, rt.version),
            ),
        ]);
        let options = bollard::models::VolumeCreateRequest {
            name: Some(volume.clone()),
            labels: Some(labels),
            ..Default::default()
        };
        self.docker
            .create_volume(options)
            .await
            .map_err(EngineError::docker(format!(
                "creating the package-cache volume {volume}"
            )))?;
        self.cache_volume_created = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_project_and_runtime_gets_its_own_cache_volume() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let va = cache_volume(a.path(), "python311", "3.11.13");
        assert!(va.starts_with("apprunner-build-cache-"), "{va}");
        assert_eq!(va.len(), "apprunner-build-cache-".len() + 16);
        assert_ne!(va, cache_volume(b.path(), "python311", "3.11.13"));
        assert_ne!(va, cache_volume(a.path(), "python311", "3.11.14"));
        assert_ne!(va, cache_volume(a.path(), "nodejs22", "3.11.13"));
        // The same directory, however spelled, shares its volume.
        let spelled = a.path().join(".").join("sub").join("..");
        std::fs::create_dir(a.path().join("sub")).unwrap();
        assert_eq!(va, cache_volume(&spelled, "python311", "3.11.13"));
    }
}
