//! One build: walk the plan's steps in order, one container per stage, and tag what the plan's
//! commit step made. Nothing here knows App Runner's build processes: the plan says it all.
//! The stages' containers are in [`crate::engine::containers::stages`], the tools' mounts and variables in
//! [`crate::engine::containers::mounts`], naming the result in [`crate::engine::image::tagging`].

use crate::engine::caches::stage_reuse::Keeping;
use crate::engine::containers::mounts::cache_volume;
use crate::engine::containers::mounts::tool_env;
use crate::engine::containers::stages::{Need, Slot};
use crate::engine::image::direct::Direct;
use crate::engine::image::tagging::tag;
use crate::engine::image::written::Layer;
use crate::engine::session::docker::{ensure_image, sweep_leftovers, Cleanup};
use crate::engine::{source, EngineError, ImageName};
use crate::plan::{BuildPlan, Stage, Step};
use crate::report::log::BuildLog;
use bollard::models::ImageInspect;
use bollard::Docker;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

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
    /// Reuse dependency layers ([`Step::Install`]) whose inputs are unchanged (off with
    /// `--no-cache`: they are installed again, and the cache images replaced).
    pub layer_cache: bool,
    /// Steps that run no command (adding the source, copying /app, the final config) are written
    /// as layers without a container when the engine takes them (off: always a container).
    pub write_layers: bool,
    /// Where dependency layers' snapshots of /app (and, exported, the layers) are kept between
    /// builds.
    pub layer_dir: PathBuf,
    /// Write each dependency install as a layer of our own into `layer_dir` (from the
    /// container's changes), so that another machine's engine can load it: `--cache-dir` given,
    /// or `SOURCE_DATE_EPOCH` set. Otherwise the install's container is committed (faster).
    pub export_layers: bool,
    /// Paths relative to the source root left out of the source copied into the image: local
    /// files that happen to sit in the tree, such as the `--secrets-file` of this run.
    pub exclude: Vec<PathBuf>,
    /// `--memory`, `--cpus`, `--command-timeout`: for build containers and their commands.
    pub limits: crate::engine::Limits,
}

/// Where the tool keeps what outlives a build on this machine: `$XDG_CACHE_HOME/apprunner-build`,
/// else `~/.cache/apprunner-build`, else a directory under the system's temporary directory.
pub fn default_cache_dir() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("apprunner-build")
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

/// The walk's state: each stage's container once started, and what the steps produced.
pub(crate) struct Walk<'a> {
    /// When this build began, by this machine's clock: cache images made before it may go when
    /// a rebuilt one takes their tag; those made since may be another build's, in use.
    pub(crate) began: chrono::DateTime<chrono::FixedOffset>,
    pub(crate) docker: &'a Docker,
    pub(crate) plan: &'a BuildPlan,
    pub(crate) opts: &'a BuildOptions,
    pub(crate) log: &'a BuildLog,
    pub(crate) cleanup: &'a Cleanup,
    /// Added to every command's env: the CA bundle and cache variables.
    pub(crate) tool_env: Vec<String>,
    /// The package-cache volume, when there is one.
    pub(crate) cache_volume: Option<String>,
    /// Whether the volume was created (when the first container that mounts it is: a build that
    /// runs no command needs none).
    pub(crate) cache_volume_created: bool,
    pub(crate) images: HashMap<String, ImageInspect>,
    /// The image a stage's container starts from instead of the stage's own: a dependency layer.
    pub(crate) start_from: HashMap<String, String>,
    /// Each started stage's container, and whether it has the mounts (CA bundle, package cache).
    pub(crate) containers: HashMap<String, Slot>,
    /// The index of the step being walked.
    pub(crate) at: usize,
    pub(crate) source: Option<source::SourceSummary>,
    pub(crate) committed: Option<String>,
    pub(crate) command_time: Duration,
    /// Written layers: whether the engine takes them, and the build's temporary layer files.
    pub(crate) direct: Direct,
    /// For a stage without a container, the layers its /app is known to be made of (a
    /// dependency layer's snapshot, then the source), so that a copy of it needs no container.
    pub(crate) app_layers: HashMap<String, Vec<Arc<Layer>>>,
    /// For a stage without a container, layers added since its image was last loaded: loaded
    /// together with the next step that needs the image (a container, the commit).
    pub(crate) pending: HashMap<String, Vec<Arc<Layer>>>,
    /// The dependency layers this build made or found, by key: a second stage with the same key
    /// (the original build's second run, on the same image) reuses the first's.
    pub(crate) made_layers: HashMap<String, String>,
    /// The run of commands whose result is kept when its last step is done.
    pub(crate) keeping: Option<Keeping>,
    /// Kept runs whose commit is under way.
    pub(crate) kept: Vec<crate::engine::caches::stage_reuse::Kept>,
    /// Stages whose container is as it was started from `start_from` (only read from since).
    pub(crate) pristine: std::collections::HashSet<String>,
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
    if opts.network.as_deref() == Some(crate::engine::containers::confine::HOST_NETWORK) {
        log.app_runner(format!(
            "Warning: --network host: build commands share this machine's network, and reach every service listening on it (databases and admin ports on localhost, a cloud metadata endpoint); build with the default network unless the build needs one of them. [{}]",
            crate::report::codes::HOST_NETWORK
        ));
    }
    let mut walk = Walk {
        began: chrono::Local::now().fixed_offset(),
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
        cache_volume_created: false,
        images: HashMap::new(),
        start_from: HashMap::new(),
        containers: HashMap::new(),
        at: 0,
        source: None,
        committed: None,
        command_time: Duration::ZERO,
        direct: Direct::new(opts.write_layers).map_err(|source| EngineError::Source {
            root: std::env::temp_dir(),
            source,
        })?,
        app_layers: HashMap::new(),
        pending: HashMap::new(),
        made_layers: HashMap::new(),
        keeping: None,
        pristine: Default::default(),
        kept: Vec::new(),
    };
    walk.pull_images().await?;
    let mut i = 0;
    while i < plan.steps.len() {
        walk.at = i;
        let reused = walk.reuse_stage(i).await?;
        if reused > 0 {
            for step in &plan.steps[i..i + reused] {
                if let Step::Announce { message, .. } = step {
                    log.app_runner(message);
                }
            }
            i += reused;
            continue;
        }
        walk.step(&plan.steps[i]).await?;
        walk.keep_stage(i).await?;
        i += 1;
    }
    walk.finish_keeping(None).await?;
    let image_id =
        walk.committed
            .clone()
            .ok_or(EngineError::Plan(crate::plan::PlanError::CommitCount {
                count: 0,
            }))?;
    // The containers are done with: removed while the image is named.
    let (tagged, _) = tokio::join!(
        tag(docker, &image_id, &opts.image, log, cleanup, started),
        cleanup.remove_containers(docker)
    );
    tagged?;
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
    let index_dir = opts.layer_dir.with_file_name("index");
    let (state, summary) =
        crate::engine::caches::freshness::freshness(docker, plan, &name, &opts.exclude, &index_dir)
            .await
            .map_err(|source| EngineError::Source {
                root: plan.source_root.clone(),
                source,
            })?;
    match state {
        crate::engine::caches::freshness::Freshness::UpToDate { id, size } => {
            log.app_runner(format!(
                "Image {name} ({}) is up to date: same source, plan, stage images and apprunner-build. Nothing to build (--no-cache builds anyway).",
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
        crate::engine::caches::freshness::Freshness::Stale(why) => {
            log.app_runner(format!("Building again: {}.", why.join("; ")));
            Ok(None)
        }
        crate::engine::caches::freshness::Freshness::Missing => Ok(None),
    }
}

impl Walk<'_> {
    /// What scopes the build's caches to this project: the name its package-cache volume has
    /// (from the source directory and the runtime version), used or not.
    pub(crate) fn project_scope(&self) -> String {
        let rt = &self.plan.runtime;
        cache_volume(&self.plan.source_root, &rt.name, &rt.version.to_string())
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

    pub(crate) async fn step(&mut self, step: &Step) -> Result<(), EngineError> {
        if let Step::Announce { message, .. } = step {
            self.log.app_runner(message);
            return Ok(());
        }
        if let Step::Install { .. } = step {
            return self.install(step).await;
        }
        let stage = self
            .plan
            .stage(step.stage())
            .expect("checked: every step names a declared stage");
        if self.writes_directly(&stage.name) && self.step_directly(stage, step).await? {
            return Ok(());
        }
        // Nothing runs in a container whose state is being kept until that is done; whatever
        // this step does to the stage's container, it is no longer as started.
        let stage_name = stage.name.clone();
        self.finish_keeping(Some(&stage_name)).await?;
        self.pristine.remove(&stage_name);
        let need = match step {
            Step::CopySource { .. } | Step::CopyFromStage { .. } => Need::NoMounts,
            Step::Run { .. } => Need::Mounts,
            // /app only: the mounts, under /dev, are out of its way.
            Step::Setup { .. } | Step::Commit { .. } => Need::Any,
            Step::Announce { .. } => unreachable!("announced above"),
            Step::Install { .. } => unreachable!("installed above"),
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
            Step::Setup {
                command, purpose, ..
            } => self.setup(&container, command, purpose).await,
            Step::Announce { .. } => unreachable!("announced above"),
            Step::Install { .. } => unreachable!("installed above"),
            Step::Commit { .. } => {
                let base = self.images[&stage.image].clone();
                let id = self.commit(&container, &base).await?;
                self.committed = Some(id);
                Ok(())
            }
        }
    }
}

impl Walk<'_> {
    /// A step that runs no command, as a written layer. `false`: not done (a command step, or
    /// the engine refused), and the caller does it in a container.
    async fn step_directly(&mut self, stage: &Stage, step: &Step) -> Result<bool, EngineError> {
        match step {
            Step::CopySource { path, .. } => {
                self.write_source(stage, path).await?;
                Ok(true)
            }
            Step::CopyFromStage { from, path, .. } => {
                let from = self
                    .plan
                    .stage(from)
                    .expect("checked: every step names a declared stage")
                    .clone();
                self.write_copy(&from, stage, path).await
            }
            Step::Commit { .. } => {
                let Some(id) = self.write_commit(stage).await? else {
                    return Ok(false);
                };
                self.committed = Some(id);
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}

pub(crate) fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

pub(crate) fn size(bytes: u64) -> String {
    match bytes {
        0..=9_999 => format!("{bytes} B"),
        10_000..=9_999_999 => format!("{:.1} kB", bytes as f64 / 1_000.0),
        _ => format!("{:.1} MB", bytes as f64 / 1_000_000.0),
    }
}

pub(crate) fn short_id(id: &str) -> &str {
    let hex = id.trim_start_matches("sha256:");
    &hex[..hex.len().min(12)]
}
