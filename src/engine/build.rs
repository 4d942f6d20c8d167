//! One build: containers for the phases, the source upload, the commit of the final image.
//!
//! Original build: one container from the runtime image runs pre-build and build and is committed;
//! post-build then runs in that same container, after the commit, so its effects are not in the
//! image. Revised build: pre-build and build run in a container from the build image; only `/app`
//! is copied into a fresh container from the runtime image, where pre-run runs and which is
//! committed; post-build runs in the build container after the copy.

use super::docker::{ensure_image, long, sweep_leftovers, Cleanup};
use super::{exec, source, EngineError};
use crate::catalog::BuildProcess;
use crate::log::BuildLog;
use crate::plan::{labels, BuildPlan, PhaseName};
use bollard::models::{ContainerConfig, ContainerCreateBody, HostConfig, ImageInspect};
use bollard::query_parameters::{
    CommitContainerOptionsBuilder, CreateContainerOptionsBuilder,
    DownloadFromContainerOptionsBuilder, TagImageOptionsBuilder, UploadToContainerOptionsBuilder,
};
use bollard::Docker;
use futures_util::{StreamExt, TryStreamExt};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Where the CA bundle is mounted. /dev is a tmpfs the engine never commits, so not even the
/// empty mount point reaches an image.
pub const CA_PATH: &str = "/dev/apprunner-build-ca.crt";
/// Variables that point the usual tools at the CA bundle, for build phases only.
pub const CA_VARIABLES: &[&str] = &[
    "SSL_CERT_FILE",
    "PIP_CERT",
    "REQUESTS_CA_BUNDLE",
    "NODE_EXTRA_CA_CERTS",
    "npm_config_cafile",
];
/// The named volume that holds package-manager caches between builds, and where build containers
/// see it: under /dev again, so that no mount point reaches an image.
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
/// Keeps a build container alive between commands, and stops promptly when asked.
const IDLE: &str = "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done";

/// `NAME[:TAG]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageName {
    pub repo: String,
    pub tag: String,
}

impl ImageName {
    pub fn parse(text: &str) -> Result<Self, EngineError> {
        let bad = || EngineError::InvalidImageName(text.to_string());
        // A colon after the last slash is a tag; one before it is a registry port.
        let (repo, tag) = match text.rfind(':') {
            Some(i) if !text[i..].contains('/') => (&text[..i], &text[i + 1..]),
            _ => (text, "latest"),
        };
        let repo_ok = !repo.is_empty()
            && repo
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-/:".contains(c));
        let tag_ok = !tag.is_empty()
            && tag.len() <= 128
            && tag
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
        if repo_ok && tag_ok {
            Ok(Self {
                repo: repo.to_string(),
                tag: tag.to_string(),
            })
        } else {
            Err(bad())
        }
    }
}

impl std::fmt::Display for ImageName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.repo, self.tag)
    }
}

#[derive(Debug, Clone)]
pub struct BuildOptions {
    pub image: ImageName,
    /// `--network`: the network build containers join.
    pub network: Option<String>,
    /// `--ca-bundle`: mounted read-only into build containers only.
    pub ca_bundle: Option<PathBuf>,
    /// Return the existing image when it is up to date instead of building (off with `--no-cache`).
    pub reuse_image: bool,
    /// Keep package-manager caches (pip, npm, yarn, pnpm, uv, poetry) in a volume between builds
    /// (off with `--no-cache`).
    pub package_cache: bool,
}

#[derive(Debug, Clone)]
pub struct BuiltImage {
    pub id: String,
    pub name: ImageName,
    pub size: u64,
    pub total: Duration,
    /// Time spent in the user's commands; the rest is the engine's overhead.
    pub commands: Duration,
    pub source: source::SourceSummary,
}

struct Ctx<'a> {
    docker: &'a Docker,
    plan: &'a BuildPlan,
    opts: &'a BuildOptions,
    log: &'a BuildLog,
    cleanup: &'a Cleanup,
    build_env: Vec<String>,
    command_time: Duration,
}

pub async fn build(
    docker: &Docker,
    plan: &BuildPlan,
    opts: &BuildOptions,
    log: &BuildLog,
    cleanup: &Cleanup,
) -> Result<BuiltImage, EngineError> {
    let started = Instant::now();
    let rt = &plan.runtime;
    sweep_leftovers(docker, log).await;
    if opts.reuse_image {
        let name = opts.image.to_string();
        let (state, summary) =
            super::cache::freshness(docker, plan, &name)
                .await
                .map_err(|source| EngineError::Source {
                    root: plan.source_root.clone(),
                    source,
                })?;
        match state {
            super::cache::Freshness::UpToDate { id, size } => {
                log.engine(format!(
                    "Image {name} ({}) is up to date: same source, configuration, runtime and apprunner-build. Nothing to build (--no-cache builds anyway).",
                    short_id(&id)
                ));
                return Ok(BuiltImage {
                    id,
                    name: opts.image.clone(),
                    size,
                    total: started.elapsed(),
                    commands: Duration::ZERO,
                    source: summary,
                });
            }
            super::cache::Freshness::Stale(why) => {
                log.engine(format!("Building again: {}.", why.join("; ")))
            }
            super::cache::Freshness::Missing => {}
        }
    }
    log.engine("Starting to build your application source code.");
    log.engine(format!(
        "Runtime {} {}: {}.",
        rt.name, rt.version, rt.reason
    ));
    let mut build_env: Vec<String> = plan
        .build_env
        .iter()
        .map(|v| format!("{}={}", v.name, v.value))
        .collect();
    if let Some(path) = &opts.ca_bundle {
        let meta = std::fs::metadata(path).map_err(|source| EngineError::CaBundle {
            path: path.clone(),
            source,
        })?;
        if !meta.is_file() {
            let source = std::io::Error::other("not a regular file");
            return Err(EngineError::CaBundle {
                path: path.clone(),
                source,
            });
        }
        build_env.extend(CA_VARIABLES.iter().map(|v| format!("{v}={CA_PATH}")));
        log.engine(format!(
            "Using CA bundle {} for build commands only.",
            path.display()
        ));
    }
    if opts.package_cache {
        build_env.extend(
            CACHE_VARIABLES
                .iter()
                .map(|(var, dir)| format!("{var}={CACHE_PATH}/{dir}")),
        );
        // The cache is another file system: uv would warn before falling back to copying.
        build_env.push("UV_LINK_MODE=copy".into());
    }
    let mut cx = Ctx {
        docker,
        plan,
        opts,
        log,
        cleanup,
        build_env,
        command_time: Duration::ZERO,
    };

    let t = Instant::now();
    let runtime_image = ensure_image(docker, &rt.image, log).await?;
    let build_image = match rt.build_process {
        BuildProcess::Original => None,
        BuildProcess::Revised if rt.build_image == rt.image => None,
        BuildProcess::Revised => Some(ensure_image(docker, &rt.build_image, log).await?),
    };
    let build_from = if build_image.is_some() {
        &rt.build_image
    } else {
        &rt.image
    };
    log.engine(format!("Runtime image ready in {}.", secs(t.elapsed())));

    let t = Instant::now();
    let builder = cx.start_container(build_from, "build").await?;
    let summary = cx.upload_source(&builder).await?;
    log.engine(format!(
        "Copied the source ({} file{}, {}) to /app in {}.",
        summary.files,
        if summary.files == 1 { "" } else { "s" },
        size(summary.bytes),
        secs(t.elapsed())
    ));

    cx.run_phase(&builder, PhaseName::PreBuild).await?;
    cx.run_phase(&builder, PhaseName::Build).await?;

    let image_id = match rt.build_process {
        BuildProcess::Original => {
            let id = cx.commit(&builder, &runtime_image, &summary.digest).await?;
            cx.run_phase(&builder, PhaseName::PostBuild).await?;
            id
        }
        BuildProcess::Revised => {
            let t = Instant::now();
            let runner = cx.start_container(&rt.image, "run").await?;
            cx.copy_app(&builder, &runner).await?;
            log.engine(format!(
                "Copied /app into the runtime image {} in {}.",
                rt.image,
                secs(t.elapsed())
            ));
            cx.run_phase(&builder, PhaseName::PostBuild).await?;
            cx.run_commands(&runner, PhaseName::PreRun, &plan.pre_run)
                .await?;
            cx.commit(&runner, &runtime_image, &summary.digest).await?
        }
    };

    let previous = docker.inspect_image(&opts.image.to_string()).await.ok();
    let tag = TagImageOptionsBuilder::new()
        .repo(&opts.image.repo)
        .tag(&opts.image.tag)
        .build();
    docker
        .tag_image(&image_id, Some(tag))
        .await
        .map_err(EngineError::docker(format!(
            "tagging the image as {}",
            opts.image
        )))?;
    cleanup.keep_image(&image_id);
    if let Some(old) = previous {
        remove_replaced(docker, &old, &image_id, log).await;
    }
    let size = docker
        .inspect_image(&image_id)
        .await
        .ok()
        .and_then(|i| i.size)
        .unwrap_or(0)
        .max(0) as u64;
    let total = started.elapsed();
    log.engine(format!(
        "Successfully built image {} ({}) as {} in {} (build commands {}, engine {}).",
        short_id(&image_id),
        self::size(size),
        opts.image,
        secs(total),
        secs(cx.command_time),
        secs(total.saturating_sub(cx.command_time))
    ));
    Ok(BuiltImage {
        id: image_id,
        name: opts.image.clone(),
        size,
        total,
        commands: cx.command_time,
        source: summary,
    })
}

/// The image this build's name pointed at before, when this tool made it and nothing else uses it
/// now: rebuilding must not pile up unnamed images. The engine refuses while a container uses it.
async fn remove_replaced(docker: &Docker, old: &ImageInspect, new_id: &str, log: &BuildLog) {
    let Some(old_id) = old.id.as_deref().filter(|id| *id != new_id) else {
        return;
    };
    let ours = old
        .config
        .as_ref()
        .and_then(|c| c.labels.as_ref())
        .is_some_and(|l| l.contains_key(labels::ENGINE_VERSION));
    let still_named = docker
        .inspect_image(old_id)
        .await
        .ok()
        .and_then(|i| i.repo_tags)
        .is_some_and(|tags| !tags.is_empty());
    if ours && !still_named {
        let options = bollard::query_parameters::RemoveImageOptionsBuilder::new().build();
        if docker
            .remove_image(old_id, Some(options), None)
            .await
            .is_ok()
        {
            log.engine(format!(
                "Removed the image this one replaces ({}).",
                short_id(old_id)
            ));
        }
    }
}

impl Ctx<'_> {
    async fn start_container(&self, image: &str, stage: &str) -> Result<String, EngineError> {
        let name = super::docker::container_name(stage);
        let mut binds = Vec::new();
        if let Some(p) = &self.opts.ca_bundle {
            let abs = std::fs::canonicalize(p).unwrap_or_else(|_| p.clone());
            binds.push(format!("{}:{CA_PATH}:ro", abs.display()));
        }
        if self.opts.package_cache {
            binds.push(format!("{CACHE_VOLUME}:{CACHE_PATH}"));
        }
        let binds = (!binds.is_empty()).then_some(binds);
        let body = ContainerCreateBody {
            image: Some(image.to_string()),
            entrypoint: Some(vec!["/bin/sh".into(), "-c".into()]),
            cmd: Some(vec![IDLE.into()]),
            host_config: Some(HostConfig {
                binds,
                network_mode: self.opts.network.clone(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let options = CreateContainerOptionsBuilder::new().name(&name).build();
        let created = self
            .docker
            .create_container(Some(options), body)
            .await
            .map_err(EngineError::docker(format!(
                "creating a container from {image}"
            )))?;
        self.cleanup.add_container(&created.id);
        self.docker
            .start_container(
                &created.id,
                None::<bollard::query_parameters::StartContainerOptions>,
            )
            .await
            .map_err(EngineError::docker(format!(
                "starting a container from {image}"
            )))?;
        Ok(created.id)
    }

    /// Stream the source tree into /app: a tar written on a blocking thread, never whole in memory.
    async fn upload_source(&self, container: &str) -> Result<source::SourceSummary, EngineError> {
        let root = self.plan.source_root.clone();
        let (reader, writer) = tokio::io::duplex(256 * 1024);
        let bridge = tokio_util::io::SyncIoBridge::new(writer);
        let tar_root = root.clone();
        let writer_task =
            tokio::task::spawn_blocking(move || source::write_tar(&tar_root, "app", bridge));
        let body = bollard::body_try_stream(tokio_util::io::ReaderStream::new(reader));
        let options = UploadToContainerOptionsBuilder::new().path("/").build();
        let upload = long(self.docker)
            .upload_to_container(container, Some(options), body)
            .await;
        // The tar task's error explains a failed upload better than the truncated stream does.
        let written = writer_task.await.map_err(|e| EngineError::Source {
            root: root.clone(),
            source: std::io::Error::other(e),
        })?;
        let summary = written.map_err(|source| EngineError::Source { root, source })?;
        upload.map_err(EngineError::docker("uploading the source to /app"))?;
        Ok(summary)
    }

    /// Copy /app from one container to another, streamed.
    async fn copy_app(&self, from: &str, to: &str) -> Result<(), EngineError> {
        let long = long(self.docker);
        let download = long
            .download_from_container(
                from,
                Some(
                    DownloadFromContainerOptionsBuilder::new()
                        .path("/app")
                        .build(),
                ),
            )
            .map_err(std::io::Error::other);
        let options = UploadToContainerOptionsBuilder::new().path("/").build();
        long.upload_to_container(
            to,
            Some(options),
            bollard::body_try_stream(download.boxed()),
        )
        .await
        .map_err(EngineError::docker(
            "copying /app into the runtime container",
        ))
    }

    async fn run_phase(&mut self, container: &str, phase: PhaseName) -> Result<(), EngineError> {
        let commands = self
            .plan
            .phase(phase)
            .map(|p| p.commands.clone())
            .unwrap_or_default();
        self.run_commands(container, phase, &commands).await
    }

    async fn run_commands(
        &mut self,
        container: &str,
        phase: PhaseName,
        commands: &[String],
    ) -> Result<(), EngineError> {
        for command in commands {
            self.log
                .engine(format!("Executing '{phase}' command: {command}"));
            let t = Instant::now();
            let code = exec::run(
                self.docker,
                container,
                command,
                &self.build_env,
                phase.log_prefix(),
                self.log,
            )
            .await?;
            self.command_time += t.elapsed();
            if code != 0 {
                return Err(EngineError::CommandFailed {
                    phase,
                    command: command.clone(),
                    exit_code: code,
                });
            }
            self.log.engine(format!(
                "'{phase}' command finished in {}.",
                secs(t.elapsed())
            ));
        }
        Ok(())
    }

    /// Commit `container` with the final configuration, set explicitly: commit merges in the
    /// container's own settings otherwise (its idle command, for one).
    async fn commit(
        &self,
        container: &str,
        base: &ImageInspect,
        source_digest: &str,
    ) -> Result<String, EngineError> {
        let t = Instant::now();
        let run = &self.plan.run;
        let base_config = base.config.clone().unwrap_or_default();
        let mut env: Vec<(String, String)> = base_config
            .env
            .unwrap_or_default()
            .iter()
            .filter_map(|kv| {
                kv.split_once('=')
                    .map(|(k, v)| (k.to_string(), v.to_string()))
            })
            .collect();
        let base_path = env
            .iter()
            .find(|(k, _)| k == "PATH")
            .map(|(_, v)| v.clone());
        let mut set = |k: &str, v: &str| match env.iter_mut().find(|(name, _)| name == k) {
            Some(slot) => slot.1 = v.to_string(),
            None => env.push((k.to_string(), v.to_string())),
        };
        for var in &run.env {
            set(&var.name, &var.value);
        }
        if !run.path_prepend.is_empty() {
            let base = base_path.unwrap_or_else(|| {
                "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into()
            });
            set("PATH", &format!("{}:{base}", run.path_prepend.join(":")));
        }
        set("PORT", &run.port.to_string());
        if let Some(name) = &run.port_env {
            set(name, &run.port.to_string());
        }
        let mut image_labels: std::collections::HashMap<String, String> =
            self.plan.labels.clone().into_iter().collect();
        image_labels.insert(
            labels::SOURCE_DIGEST.to_string(),
            format!("sha256:{source_digest}"),
        );
        let config = ContainerConfig {
            cmd: Some(vec!["/bin/sh".into(), "-c".into(), run.command.clone()]),
            entrypoint: Some(vec![]),
            env: Some(env.into_iter().map(|(k, v)| format!("{k}={v}")).collect()),
            working_dir: Some("/app".into()),
            exposed_ports: Some(vec![format!("{}/tcp", run.port)]),
            labels: Some(image_labels),
            user: Some(base_config.user.unwrap_or_default()),
            ..Default::default()
        };
        let options = CommitContainerOptionsBuilder::new()
            .container(container)
            .comment("apprunner-build")
            .build();
        let id = long(self.docker)
            .commit_container(options, config)
            .await
            .map_err(EngineError::docker("committing the image"))?
            .id;
        self.cleanup.add_image(&id);
        self.log.engine(format!(
            "Committed the application image in {}.",
            secs(t.elapsed())
        ));
        Ok(id)
    }
}

fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

fn size(bytes: u64) -> String {
    match bytes {
        0..=9_999 => format!("{bytes} B"),
        10_000..=9_999_999 => format!("{:.1} kB", bytes as f64 / 1_000.0),
        _ => format!("{:.1} MB", bytes as f64 / 1_000_000.0),
    }
}

fn short_id(id: &str) -> &str {
    let hex = id.trim_start_matches("sha256:");
    &hex[..hex.len().min(12)]
}

#[cfg(test)]
mod tests {
    use super::ImageName;

    #[test]
    fn image_names() {
        let n = ImageName::parse("hello").unwrap();
        assert_eq!((n.repo.as_str(), n.tag.as_str()), ("hello", "latest"));
        let n = ImageName::parse("localhost:5000/team/app:v1.2").unwrap();
        assert_eq!(
            (n.repo.as_str(), n.tag.as_str()),
            ("localhost:5000/team/app", "v1.2")
        );
        let n = ImageName::parse("localhost:5000/app").unwrap();
        assert_eq!(
            (n.repo.as_str(), n.tag.as_str()),
            ("localhost:5000/app", "latest")
        );
        assert!(ImageName::parse("Hello").is_err());
        assert!(ImageName::parse("app:").is_err());
        assert!(ImageName::parse("").is_err());
    }
}
