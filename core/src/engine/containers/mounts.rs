//! What build containers get beyond the plan, for the tools the commands run: the CA bundle of a
//! TLS-intercepting proxy and the package-manager caches, mounted under /dev and given to build
//! commands only.

use crate::engine::caches::scope::{cache_volume, canonical};
use crate::engine::labels;
use crate::engine::walk::context::BuildContext;
use crate::engine::walk::options::BuildOptions;
use crate::engine::EngineError;
use crate::report::log::BuildLog;
use std::collections::HashMap;

/// Where the CA bundle is mounted, in the container's /dev tmpfs. The engine's archive API
/// (uploads and downloads) creates a container's mount points in its own layer, outside that
/// tmpfs: so a container that is committed later gets the mounts only while commands run, and
/// copies go through a container without them (see `containers::stages::container`). No mount point, not
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
/// Where build containers see the package-cache volume (see [`CA_PATH`] for why under /dev).
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

/// What one build mounts into its build containers, and the env that points the tools at it.
pub(crate) struct Mounts {
    /// Added to every command's env: the CA bundle and cache variables.
    tool_env: Vec<String>,
    /// The package-cache volume, when there is one.
    volume: Option<String>,
    /// Whether the volume was created (when the first container that mounts it is: a build that
    /// runs no command needs none).
    volume_created: bool,
}

impl Mounts {
    /// The build's mounts: the CA bundle (checked here), and the package-cache volume when the
    /// options keep package caches.
    pub(crate) fn new(
        opts: &BuildOptions,
        plan: &crate::plan::BuildPlan,
        log: &BuildLog,
    ) -> Result<Self, EngineError> {
        let tool_env = tool_env(opts, log)?;
        let rt = &plan.runtime;
        let volume = opts.package_cache.then(|| {
            let volume = cache_volume(&plan.source_root, &rt.name, &rt.version.to_string());
            log.app_runner(format!(
                "Package caches in volume {volume} (shared by builds of this directory with {} {} only).",
                rt.name, rt.version
            ));
            volume
        });
        Ok(Mounts {
            tool_env,
            volume,
            volume_created: false,
        })
    }

    /// The variables every build command gets besides the plan's.
    pub(crate) fn tool_env(&self) -> &[String] {
        &self.tool_env
    }

    /// Whether the build has anything to mount.
    pub(crate) fn any(&self, opts: &BuildOptions) -> bool {
        opts.ca_bundle.is_some() || self.volume.is_some()
    }

    /// The binds of a container with the mounts, the volume created the first time.
    pub(crate) async fn binds(
        &mut self,
        ctx: &BuildContext<'_>,
    ) -> Result<Vec<String>, EngineError> {
        let mut binds = Vec::new();
        if let Some(p) = &ctx.opts.ca_bundle {
            let abs = std::fs::canonicalize(p).unwrap_or_else(|_| p.clone());
            binds.push(format!("{}:{CA_PATH}:ro", abs.display()));
        }
        self.create_volume(ctx).await?;
        if let Some(volume) = &self.volume {
            binds.push(format!("{volume}:{CACHE_PATH}"));
        }
        Ok(binds)
    }

    /// The package-cache volume, labelled with whose it is (so that it can be found and pruned).
    async fn create_volume(&mut self, ctx: &BuildContext<'_>) -> Result<(), EngineError> {
        let Some(volume) = &self.volume else {
            return Ok(());
        };
        if self.volume_created {
            return Ok(());
        }
        let rt = &ctx.plan.runtime;
        let labels = HashMap::from([
            (
                labels::CACHE_FOR.to_string(),
                // Absolute and canonical: `cache prune` may run from any directory.
                canonical(&ctx.plan.source_root).display().to_string(),
            ),
            (
                labels::VOLUME_RUNTIME.to_string(),
                format!("{} {}", rt.name, rt.version),
            ),
        ]);
        let options = bollard::models::VolumeCreateRequest {
            name: Some(volume.clone()),
            labels: Some(labels),
            ..Default::default()
        };
        ctx.docker
            .create_volume(options)
            .await
            .map_err(EngineError::docker(format!(
                "creating the package-cache volume {volume}"
            )))?;
        self.volume_created = true;
        Ok(())
    }
}

/// The CA bundle's and the package caches' variables, for build commands only.
fn tool_env(opts: &BuildOptions, log: &BuildLog) -> Result<Vec<String>, EngineError> {
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
