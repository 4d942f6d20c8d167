//! One build: walk the plan's steps in order, one container per stage, and tag what the plan's
//! commit step made. Nothing here knows App Runner's build processes: the plan says it all.

use super::docker::{ensure_image, long, sweep_leftovers, Cleanup};
use super::{exec, source, EngineError, ImageName};
use crate::plan::{labels, BuildPlan, ImageConfig, ImageEnv, PhaseName, Stage, Step};
use crate::report::log::BuildLog;
use bollard::models::{ContainerConfig, ContainerCreateBody, HostConfig, ImageInspect};
use bollard::query_parameters::{
    CommitContainerOptionsBuilder, CreateContainerOptionsBuilder,
    DownloadFromContainerOptionsBuilder, TagImageOptionsBuilder, UploadToContainerOptionsBuilder,
};
use bollard::Docker;
use futures_util::{StreamExt, TryStreamExt};
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Where the CA bundle is mounted, in the container's /dev tmpfs. The engine's archive API
/// (uploads and downloads) creates a container's mount points in its own layer, outside that
/// tmpfs: so a container that is committed later gets the mounts only while commands run, and
/// copies go through a container without them (see `Walk::container`). No mount point, not
/// even an empty file, reaches an image.
pub const CA_PATH: &str = "/dev/apprunner-build-ca.crt";
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
/// Keeps a build container alive between commands, and stops promptly when asked.
const IDLE: &str = "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done";

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

/// A stage's container.
#[derive(Debug, Clone)]
struct Slot {
    id: String,
    mounted: bool,
}

/// What a step needs of its stage's container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    /// The CA bundle and package cache mounted: for commands.
    Mounts,
    /// No mounts: for copies into (or out of) a container that is committed later. The engine's
    /// archive API creates every mount point in the container's own layer (outside its /dev
    /// tmpfs) before copying, and those empty files would reach the image.
    NoMounts,
    /// Whatever it has.
    Any,
}

/// The walk's state: each stage's container once started, and what the steps produced.
struct Walk<'a> {
    docker: &'a Docker,
    plan: &'a BuildPlan,
    opts: &'a BuildOptions,
    log: &'a BuildLog,
    cleanup: &'a Cleanup,
    /// Added to every command's env: the CA bundle and cache variables.
    tool_env: Vec<String>,
    /// The package-cache volume, when there is one.
    cache_volume: Option<String>,
    images: HashMap<String, ImageInspect>,
    /// Each started stage's container, and whether it has the mounts (CA bundle, package cache).
    containers: HashMap<String, Slot>,
    /// The index of the step being walked.
    at: usize,
    source: Option<source::SourceSummary>,
    committed: Option<String>,
    command_time: Duration,
}

pub(crate) async fn build(
    docker: &Docker,
    plan: &BuildPlan,
    opts: &BuildOptions,
    log: &BuildLog,
    cleanup: &Cleanup,
) -> Result<BuiltImage, EngineError> {
    let started = Instant::now();
    plan.check().map_err(EngineError::Plan)?;
    sweep_leftovers(docker, log).await;
    if opts.reuse_image {
        if let Some(up_to_date) = up_to_date(docker, plan, opts, log, started).await? {
            return Ok(up_to_date);
        }
    }
    log.app_runner("Starting to build your application source code.");
    let rt = &plan.runtime;
    log.app_runner(format!(
        "Runtime {} {}: {}.",
        rt.name, rt.version, rt.reason
    ));
    let mut walk = Walk {
        docker,
        plan,
        opts,
        log,
        cleanup,
        tool_env: tool_env(opts, log)?,
        cache_volume: opts.package_cache.then(|| {
            let volume = cache_volume(&plan.source_root, &rt.name, &rt.version.to_string());
            log.app_runner(format!(
                "Package caches in volume {volume} (shared by builds of this directory with {} {} only).",
                rt.name, rt.version
            ));
            volume
        }),
        images: HashMap::new(),
        containers: HashMap::new(),
        at: 0,
        source: None,
        committed: None,
        command_time: Duration::ZERO,
    };
    walk.pull_images().await?;
    walk.create_cache_volume().await?;
    for (i, step) in plan.steps.iter().enumerate() {
        walk.at = i;
        walk.step(step).await?;
    }
    let image_id =
        walk.committed
            .clone()
            .ok_or(EngineError::Plan(crate::plan::PlanError::CommitCount {
                count: 0,
            }))?;
    tag(docker, &image_id, &opts.image, log, cleanup, started).await?;
    let size = docker
        .inspect_image(&image_id)
        .await
        .ok()
        .and_then(|i| i.size)
        .unwrap_or(0)
        .max(0) as u64;
    let total = started.elapsed();
    log.app_runner(format!(
        "Successfully built image {} ({}) as {} in {} (build commands {}, engine {}).",
        short_id(&image_id),
        self::size(size),
        opts.image,
        secs(total),
        secs(walk.command_time),
        secs(total.saturating_sub(walk.command_time))
    ));
    Ok(BuiltImage {
        id: image_id,
        name: opts.image.clone(),
        size,
        total,
        commands: walk.command_time,
        source: walk.source.unwrap_or_default(),
    })
}

/// The existing image, when it is what this plan would build from the current source.
async fn up_to_date(
    docker: &Docker,
    plan: &BuildPlan,
    opts: &BuildOptions,
    log: &BuildLog,
    started: Instant,
) -> Result<Option<BuiltImage>, EngineError> {
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
            log.app_runner(format!(
                "Image {name} ({}) is up to date: same source, configuration, runtime and apprunner-build. Nothing to build (--no-cache builds anyway).",
                short_id(&id)
            ));
            Ok(Some(BuiltImage {
                id,
                name: opts.image.clone(),
                size,
                total: started.elapsed(),
                commands: Duration::ZERO,
                source: summary,
            }))
        }
        super::cache::Freshness::Stale(why) => {
            log.app_runner(format!("Building again: {}.", why.join("; ")));
            Ok(None)
        }
        super::cache::Freshness::Missing => Ok(None),
    }
}

/// The CA bundle's and the package caches' variables, for build commands only.
fn tool_env(opts: &BuildOptions, log: &BuildLog) -> Result<Vec<String>, EngineError> {
    let mut env = Vec::new();
    if let Some(path) = &opts.ca_bundle {
        let meta = std::fs::metadata(path).map_err(|source| EngineError::CaBundle {
            path: path.clone(),
            source,
        })?;
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
    let root = std::fs::canonicalize(source_root).unwrap_or_else(|_| source_root.to_path_buf());
    let mut h = Sha256::new();
    h.update(root.as_os_str().as_encoded_bytes());
    h.update(b"\0");
    h.update(runtime.as_bytes());
    h.update(b"\0");
    h.update(version.as_bytes());
    let hex = hex::encode(h.finalize());
    format!("{CACHE_VOLUME}-{}", &hex[..16])
}

/// Name the new image, and remove the one the name pointed at before when nothing else uses it.
async fn tag(
    docker: &Docker,
    image_id: &str,
    name: &ImageName,
    log: &BuildLog,
    cleanup: &Cleanup,
    started: Instant,
) -> Result<(), EngineError> {
    let previous = docker.inspect_image(&name.to_string()).await.ok();
    let options = TagImageOptionsBuilder::new()
        .repo(&name.repo)
        .tag(&name.tag)
        .build();
    docker
        .tag_image(image_id, Some(options))
        .await
        .map_err(EngineError::docker(format!("tagging the image as {name}")))?;
    cleanup.keep_image(image_id);
    if let Some(old) = previous {
        remove_replaced(docker, &old, image_id, started, log).await;
    }
    Ok(())
}

fn created(image: &ImageInspect) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    chrono::DateTime::parse_from_rfc3339(&image.created.as_ref()?.to_string()).ok()
}

/// The image this build's name pointed at before, when this tool made it and nothing else uses it
/// now: rebuilding must not pile up unnamed images.
///
/// Builds racing with one name must not delete each other's results: an image is removed only
/// when it is the one this build saw under the name before tagging, it was made before this
/// build began (by the engine's clock: the new image's creation time less this build's
/// duration), and, checked again right before the removal, it has no name and no container.
/// Anything else is kept.
async fn remove_replaced(
    docker: &Docker,
    old: &ImageInspect,
    new_id: &str,
    started: Instant,
    log: &BuildLog,
) {
    let Some(old_id) = old.id.as_deref().filter(|id| *id != new_id) else {
        return;
    };
    let ours = old
        .config
        .as_ref()
        .and_then(|c| c.labels.as_ref())
        .is_some_and(|l| l.contains_key(labels::TOOL_VERSION));
    if !ours {
        return;
    }
    let began = docker.inspect_image(new_id).await.ok().and_then(|new| {
        let elapsed = chrono::Duration::from_std(started.elapsed()).ok()?;
        Some(created(&new)? - elapsed)
    });
    let made_before = match (created(old), began) {
        (Some(made), Some(began)) => made < began,
        _ => false,
    };
    if !made_before {
        log.app_runner(format!(
            "Kept the image {} that the name pointed at before: it was made while this build ran (by another build?).",
            short_id(old_id)
        ));
        return;
    }
    if !unused(docker, old_id).await {
        return;
    }
    let options = bollard::query_parameters::RemoveImageOptionsBuilder::new().build();
    if docker
        .remove_image(old_id, Some(options), None)
        .await
        .is_ok()
    {
        log.app_runner(format!(
            "Removed the image this one replaces ({}).",
            short_id(old_id)
        ));
    }
}

/// No name points at the image and no container (running or not) was made from it.
async fn unused(docker: &Docker, id: &str) -> bool {
    let named = match docker.inspect_image(id).await {
        Ok(i) => i.repo_tags.is_some_and(|tags| !tags.is_empty()),
        Err(_) => return false,
    };
    let filters = HashMap::from([("ancestor", vec![id])]);
    let options = bollard::query_parameters::ListContainersOptionsBuilder::new()
        .all(true)
        .filters(&filters)
        .build();
    let used = docker
        .list_containers(Some(options))
        .await
        .map_or(true, |list| !list.is_empty());
    !named && !used
}

impl Walk<'_> {
    /// The package-cache volume, labelled with whose it is (so that it can be found and pruned).
    async fn create_cache_volume(&self) -> Result<(), EngineError> {
        let Some(volume) = &self.cache_volume else {
            return Ok(());
        };
        let rt = &self.plan.runtime;
        let labels = HashMap::from([
            (
                "apprunner-build.cache-for".to_string(),
                self.plan.source_root.display().to_string(),
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
        Ok(())
    }

    /// Every stage's image, pulled when missing, before any container starts.
    async fn pull_images(&mut self) -> Result<(), EngineError> {
        let t = Instant::now();
        for stage in &self.plan.stages {
            if !self.images.contains_key(&stage.image) {
                let found = ensure_image(self.docker, &stage.image, self.log).await?;
                self.images.insert(stage.image.clone(), found);
            }
        }
        self.log
            .app_runner(format!("Runtime image ready in {}.", secs(t.elapsed())));
        Ok(())
    }

    async fn step(&mut self, step: &Step) -> Result<(), EngineError> {
        if let Step::Announce { message, .. } = step {
            self.log.app_runner(message);
            return Ok(());
        }
        let stage = self
            .plan
            .stage(step.stage())
            .expect("checked: every step names a declared stage");
        let need = match step {
            Step::CopySource { .. } | Step::CopyFromStage { .. } => Need::NoMounts,
            Step::Run { .. } => Need::Mounts,
            Step::Commit { .. } => Need::Any,
            Step::Announce { .. } => unreachable!("announced above"),
        };
        let container = self.container(stage, need).await?;
        match step {
            Step::CopySource { path, .. } => self.copy_source(&container, path).await,
            Step::CopyFromStage { from, path, .. } => {
                let from_stage = self
                    .plan
                    .stage(from)
                    .expect("checked: every step names a declared stage");
                let from_container = self.container(from_stage, Need::NoMounts).await?;
                self.copy_from(&from_container, from, &container, stage, path)
                    .await
            }
            Step::Run {
                phase,
                command,
                workdir,
                env,
                hint,
                ..
            } => {
                let env: Vec<String> = env
                    .iter()
                    .map(|v| format!("{}={}", v.name, v.value))
                    .chain(self.tool_env.iter().cloned())
                    .collect();
                self.run(&container, *phase, command, workdir, &env)
                    .await
                    .map_err(|e| match e {
                        EngineError::CommandFailed {
                            phase,
                            command,
                            exit_code,
                            ..
                        } => EngineError::CommandFailed {
                            phase,
                            command,
                            exit_code,
                            hint: hint.clone(),
                        },
                        other => other,
                    })
            }
            Step::Announce { .. } => unreachable!("announced above"),
            Step::Commit { .. } => {
                let base = self.images[&stage.image].clone();
                let id = self.commit(&container, &base).await?;
                self.committed = Some(id);
                Ok(())
            }
        }
    }

    /// Whether the build has anything to mount.
    fn has_mounts(&self) -> bool {
        self.opts.ca_bundle.is_some() || self.cache_volume.is_some()
    }

    /// Whether `stage`'s container is committed at this step or a later one.
    fn committed_later(&self, stage: &str) -> bool {
        self.plan.steps[self.at..]
            .iter()
            .any(|s| matches!(s, Step::Commit { stage: c } if c == stage))
    }

    /// The stage's container as the step needs it: started from the stage's image the first time,
    /// and, for a stage that is committed later, moved to a container with (or without) the
    /// mounts when the step needs the other kind. A stage that is never committed again keeps
    /// its mounts throughout: its mount points reach no image.
    async fn container(&mut self, stage: &Stage, need: Need) -> Result<String, EngineError> {
        let mounted = match need {
            _ if !self.has_mounts() => false,
            _ if !self.committed_later(&stage.name) => true,
            Need::Mounts => true,
            Need::NoMounts => false,
            Need::Any => match self.containers.get(&stage.name) {
                Some(slot) => slot.mounted,
                None => false,
            },
        };
        let image = match self.containers.get(&stage.name) {
            Some(slot) if slot.mounted == mounted => return Ok(slot.id.clone()),
            Some(slot) => {
                // Carry the container's file system over to a new one: commit it as an
                // intermediate image (removed with the build's other leftovers, or with the image
                // it becomes the parent of).
                let slot = slot.clone();
                let options = CommitContainerOptionsBuilder::new()
                    .container(&slot.id)
                    .comment("apprunner-build intermediate")
                    .build();
                let id = long(self.docker)
                    .commit_container(options, ContainerConfig::default())
                    .await
                    .map_err(EngineError::docker(format!(
                        "saving the {} stage's container",
                        stage.name
                    )))?
                    .id;
                self.cleanup.add_image(&id);
                let remove = bollard::query_parameters::RemoveContainerOptionsBuilder::new()
                    .force(true)
                    .v(true)
                    .build();
                let _ = self.docker.remove_container(&slot.id, Some(remove)).await;
                id
            }
            None => stage.image.clone(),
        };
        let name = super::docker::container_name(&stage.name);
        let mut binds = Vec::new();
        if mounted {
            if let Some(p) = &self.opts.ca_bundle {
                let abs = std::fs::canonicalize(p).unwrap_or_else(|_| p.clone());
                binds.push(format!("{}:{CA_PATH}:ro", abs.display()));
            }
            if let Some(volume) = &self.cache_volume {
                binds.push(format!("{volume}:{CACHE_PATH}"));
            }
        }
        let binds = (!binds.is_empty()).then_some(binds);
        let shown = &stage.image;
        let body = ContainerCreateBody {
            image: Some(image.clone()),
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
                "creating a container from {shown}"
            )))?;
        self.cleanup.add_container(&created.id);
        self.docker
            .start_container(
                &created.id,
                None::<bollard::query_parameters::StartContainerOptions>,
            )
            .await
            .map_err(EngineError::docker(format!(
                "starting a container from {shown}"
            )))?;
        self.containers.insert(
            stage.name.clone(),
            Slot {
                id: created.id.clone(),
                mounted,
            },
        );
        Ok(created.id)
    }

    /// Stream the source tree into `path`: a tar written on a blocking thread, never whole in memory.
    async fn copy_source(&mut self, container: &str, path: &str) -> Result<(), EngineError> {
        let t = Instant::now();
        let root = self.plan.source_root.clone();
        let (reader, writer) = tokio::io::duplex(256 * 1024);
        let bridge = tokio_util::io::SyncIoBridge::new(writer);
        let tar_root = root.clone();
        let prefix = path.trim_start_matches('/').to_string();
        let writer_task =
            tokio::task::spawn_blocking(move || source::write_tar(&tar_root, &prefix, bridge));
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
        let upload_failed = EngineError::docker(format!("uploading the source to {path}"));
        let summary = match (written, upload) {
            // The engine hung up first: its answer says why, the tar writer only that it could
            // not write.
            (Err(e), Err(upload)) if e.kind() == std::io::ErrorKind::BrokenPipe => {
                return Err(upload_failed(upload))
            }
            (Err(source), _) => return Err(EngineError::Source { root, source }),
            (Ok(_), Err(upload)) => return Err(upload_failed(upload)),
            (Ok(summary), Ok(())) => summary,
        };
        for warning in &summary.warnings {
            self.log.app_runner(format!("Warning: {warning}."));
        }
        self.log.app_runner(format!(
            "Copied the source ({} file{}, {}) to {path} in {}.",
            summary.files,
            if summary.files == 1 { "" } else { "s" },
            size(summary.bytes),
            secs(t.elapsed())
        ));
        self.source = Some(summary);
        Ok(())
    }

    /// Copy `path` from one stage's container into another's, streamed.
    async fn copy_from(
        &self,
        from: &str,
        from_stage: &str,
        to: &str,
        to_stage: &Stage,
        path: &str,
    ) -> Result<(), EngineError> {
        let t = Instant::now();
        let long = long(self.docker);
        let download = long
            .download_from_container(
                from,
                Some(
                    DownloadFromContainerOptionsBuilder::new()
                        .path(path)
                        .build(),
                ),
            )
            .map_err(std::io::Error::other);
        // The archive's top entry is the directory itself: extract next to where it belongs.
        let parent = std::path::Path::new(path)
            .parent()
            .map_or("/".to_string(), |p| p.display().to_string());
        let options = UploadToContainerOptionsBuilder::new().path(&parent).build();
        long.upload_to_container(
            to,
            Some(options),
            bollard::body_try_stream(download.boxed()),
        )
        .await
        .map_err(EngineError::docker(format!(
            "copying {path} from the {from_stage} stage into the {} stage",
            to_stage.name
        )))?;
        self.log.app_runner(format!(
            "Copied {path} from the {from_stage} stage into the {} stage ({}) in {}.",
            to_stage.name,
            to_stage.image,
            secs(t.elapsed())
        ));
        Ok(())
    }

    async fn run(
        &mut self,
        container: &str,
        phase: PhaseName,
        command: &str,
        workdir: &str,
        env: &[String],
    ) -> Result<(), EngineError> {
        self.log
            .app_runner(format!("Executing '{phase}' command: {command}"));
        let t = Instant::now();
        let code = exec::run(
            self.docker,
            container,
            command,
            workdir,
            env,
            phase.log_prefix(),
            self.log,
        )
        .await?;
        self.command_time += t.elapsed();
        if code != 0 {
            return Err(EngineError::CommandFailed {
                phase,
                command: command.to_string(),
                exit_code: code,
                hint: None,
            });
        }
        self.log.app_runner(format!(
            "'{phase}' command finished in {}.",
            secs(t.elapsed())
        ));
        Ok(())
    }

    /// Commit `container` with the plan's image configuration, set explicitly: commit merges in
    /// the container's own settings otherwise (its idle command, for one).
    async fn commit(&self, container: &str, base: &ImageInspect) -> Result<String, EngineError> {
        let t = Instant::now();
        let image = &self.plan.image;
        let base_config = base.config.clone().unwrap_or_default();
        let mut labels: HashMap<String, String> = image.labels.clone().into_iter().collect();
        if let Some(summary) = &self.source {
            labels.insert(
                labels::SOURCE_DIGEST.to_string(),
                format!("sha256:{}", summary.digest),
            );
        }
        let config = ContainerConfig {
            cmd: Some(image.cmd.clone()),
            entrypoint: Some(image.entrypoint.clone()),
            env: Some(final_env(base_config.env.unwrap_or_default(), image)),
            working_dir: Some(image.working_dir.clone()),
            exposed_ports: Some(vec![format!("{}/tcp", image.port)]),
            labels: Some(labels),
            user: Some(
                image
                    .user
                    .clone()
                    .unwrap_or_else(|| base_config.user.unwrap_or_default()),
            ),
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
        self.log.app_runner(format!(
            "Committed the application image in {}.",
            secs(t.elapsed())
        ));
        Ok(id)
    }
}

/// The base image's env with the plan's settings applied in order.
fn final_env(base: Vec<String>, image: &ImageConfig) -> Vec<String> {
    let mut env: Vec<(String, String)> = base
        .iter()
        .filter_map(|kv| {
            kv.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
        })
        .collect();
    for op in &image.env {
        let (name, value) = match op {
            ImageEnv::Set { name, value } => (name, value.clone()),
            ImageEnv::Prepend {
                name,
                value,
                otherwise,
            } => {
                let current = env.iter().find(|(k, _)| k == name).map(|(_, v)| v);
                (name, format!("{value}:{}", current.unwrap_or(otherwise)))
            }
        };
        match env.iter_mut().find(|(k, _)| k == name) {
            Some(slot) => slot.1 = value,
            None => env.push((name.clone(), value)),
        }
    }
    env.into_iter().map(|(k, v)| format!("{k}={v}")).collect()
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
    use super::*;
    use std::collections::BTreeMap;

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

    #[test]
    fn final_env_applies_the_plan_over_the_base_in_order() {
        let image = ImageConfig {
            cmd: vec![],
            entrypoint: vec![],
            working_dir: "/app".into(),
            env: vec![
                ImageEnv::Set {
                    name: "LANG".into(),
                    value: "C.UTF-8".into(),
                },
                ImageEnv::Prepend {
                    name: "PATH".into(),
                    value: "/app/.venv/bin".into(),
                    otherwise: "/bin".into(),
                },
                ImageEnv::Prepend {
                    name: "PYTHONPATH".into(),
                    value: "/app/lib".into(),
                    otherwise: "/none".into(),
                },
            ],
            port: 8080,
            user: None,
            labels: BTreeMap::new(),
        };
        let env = final_env(vec!["PATH=/usr/bin".into(), "LANG=C".into()], &image);
        assert_eq!(
            env,
            [
                "PATH=/app/.venv/bin:/usr/bin",
                "LANG=C.UTF-8",
                "PYTHONPATH=/app/lib:/none"
            ]
        );
    }
}
