//! One build: walk the plan's steps in order and tag what the plan's commit step made. The walk
//! only orchestrates: the stages' containers are in [`crate::engine::containers`], written layers
//! and naming the result in [`crate::engine::image`], what a later build reuses in
//! [`crate::engine::caches`]. Nothing here knows App Runner's build processes: the plan says it
//! all.

pub(crate) mod context;
pub(crate) mod options;
pub mod record;

pub use options::{default_cache_dir, BuildOptions, BuiltImage};
use record::{CacheDecision, StepRecord};

use crate::engine::caches::dependency_layers::{put_manifests, DependencyLayers, Install};
use crate::engine::caches::freshness::{freshness, Freshness};
use crate::engine::caches::scope::cache_volume;
use crate::engine::caches::stage_reuse::StageReuse;
use crate::engine::containers::confine::HOST_NETWORK;
use crate::engine::containers::mounts::Mounts;
use crate::engine::containers::stage_state::Stages;
use crate::engine::containers::stages::{self, container, Need};
use crate::engine::image::direct::{AppOf, WrittenLayers};
use crate::engine::image::held::HeldLayers;
use crate::engine::image::tagging::tag;
use crate::engine::session::cleanup::{sweep_leftovers, Cleanup};
use crate::engine::session::docker::ensure_image;
use crate::engine::shown::{secs, short_id, size};
use crate::engine::source::{self, SourceSummary};
use crate::engine::EngineError;
use crate::input::config::EnvVar;
use crate::plan::{BuildPlan, PhaseName, Stage, Step};
use crate::report::log::BuildLog;
use bollard::Docker;
use context::BuildContext;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The walk's state: what every room reads, and each room's own state, handed to it by the
/// walk.
struct Walk<'a> {
    ctx: BuildContext<'a>,
    stages: Stages,
    mounts: Mounts,
    written: WrittenLayers,
    reuse: StageReuse,
    dependencies: DependencyLayers,
    source: Option<SourceSummary>,
    committed: Option<String>,
    command_time: Duration,
    /// What each top-level step did; the step being walked adds its cache decision.
    records: Vec<StepRecord>,
    cache_decision: Option<CacheDecision>,
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
    if opts.network.as_deref() == Some(HOST_NETWORK) {
        log.app_runner(format!(
            "Warning: --network host: build commands share this machine's network, and reach every service listening on it (databases and admin ports on localhost, a cloud metadata endpoint); build with the default network unless the build needs one of them. [{}]",
            crate::report::codes::HOST_NETWORK
        ));
    }
    let mut walk = Walk {
        ctx: BuildContext {
            began: chrono::Local::now().fixed_offset(),
            docker,
            plan,
            opts,
            log,
            cleanup,
            images: HashMap::new(),
            at: 0,
            project_scope: cache_volume(&plan.source_root, &rt.name, &rt.version.to_string()),
        },
        stages: Stages::default(),
        mounts: Mounts::new(opts, plan, log)?,
        written: WrittenLayers::new(opts.write_layers).map_err(|source| EngineError::Source {
            root: std::env::temp_dir(),
            source,
        })?,
        reuse: StageReuse::default(),
        dependencies: DependencyLayers::default(),
        source: None,
        committed: None,
        command_time: Duration::ZERO,
        records: Vec::new(),
        cache_decision: None,
    };
    walk.pull_images().await?;
    let mut i = 0;
    while i < plan.steps.len() {
        walk.ctx.at = i;
        let reused = walk
            .reuse
            .reuse_stage(&walk.ctx, &mut walk.stages, walk.written.support(), i)
            .await?;
        if reused > 0 {
            for (n, step) in plan.steps[i..i + reused].iter().enumerate() {
                if let Step::Announce { message, .. } = step {
                    log.app_runner(message);
                }
                walk.records.push(StepRecord {
                    index: i + n,
                    step: step.kind(),
                    stage: step.stage().to_string(),
                    seconds: 0.0,
                    exit_code: None,
                    cache: Some(CacheDecision::Hit {
                        from: "the stage's kept state (the same image and commands)".into(),
                    }),
                });
            }
            i += reused;
            continue;
        }
        let step_started = Instant::now();
        walk.step(&plan.steps[i]).await?;
        let step = &plan.steps[i];
        walk.records.push(StepRecord {
            index: i,
            step: step.kind(),
            stage: step.stage().to_string(),
            seconds: step_started.elapsed().as_secs_f64(),
            // A command that exits non-zero fails the build: every one recorded exited 0.
            exit_code: matches!(step, Step::Run { .. } | Step::Setup { .. }).then_some(0),
            cache: walk.cache_decision.take(),
        });
        walk.reuse.keep_stage(&walk.ctx, &walk.stages, i).await?;
        i += 1;
    }
    walk.reuse
        .finish_keeping(&walk.ctx, &mut walk.stages, None)
        .await?;
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
        base: application_base(plan),
        held: walk.written.into_held(),
        up_to_date: false,
        steps: walk.records,
    })
}

/// The image of the stage the plan commits: the base of the built image.
fn application_base(plan: &BuildPlan) -> String {
    plan.steps
        .iter()
        .find_map(|s| match s {
            Step::Commit { stage } => plan.stages.iter().find(|st| &st.name == stage),
            _ => None,
        })
        .map(|s| s.image.clone())
        .unwrap_or_default()
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
    let (state, summary) = freshness(docker, plan, &name, &opts.exclude, &index_dir)
        .await
        .map_err(|source| EngineError::Source {
            root: plan.source_root.clone(),
            source,
        })?;
    match state {
        Freshness::UpToDate { id, size } => {
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
                base: application_base(plan),
                held: HeldLayers::default(),
                up_to_date: true,
                steps: vec![],
            }))
        }
        Freshness::Stale(why) => {
            log.app_runner(format!("Building again: {}.", why.join("; ")));
            Ok(None)
        }
        Freshness::Missing => Ok(None),
    }
}

impl<'a> Walk<'a> {
    /// Every stage's image, pulled when missing, before any container starts.
    async fn pull_images(&mut self) -> Result<(), EngineError> {
        let t = Instant::now();
        for stage in &self.ctx.plan.stages {
            if !self.ctx.images.contains_key(&stage.image) {
                let found = ensure_image(self.ctx.docker, &stage.image, self.ctx.log).await?;
                self.ctx.images.insert(stage.image.clone(), found);
            }
        }
        self.ctx
            .log
            .app_runner(format!("Runtime image ready in {}.", secs(t.elapsed())));
        Ok(())
    }

    /// One step of the plan, by what it is.
    async fn step(&mut self, step: &'a Step) -> Result<(), EngineError> {
        let plan = self.ctx.plan;
        match step {
            Step::Announce { message, .. } => {
                self.ctx.log.app_runner(message);
                Ok(())
            }
            Step::Install {
                stage,
                from,
                path,
                files,
                runs,
                ..
            } => {
                let stage = plan
                    .stage(stage)
                    .expect("checked: every step names a declared stage");
                self.install(stage, from.as_deref(), path, files, runs)
                    .await
            }
            Step::CopySource { stage, path } => {
                let stage = self.stage_of(stage);
                if self.writes_directly(stage) {
                    let state = self.stages.of_mut(&stage.name);
                    self.source = Some(self.written.write_source(&self.ctx, state, path).await?);
                    return Ok(());
                }
                let container = self.container_for_change(stage, Need::NoMounts).await?;
                self.source = Some(stages::copy_source(&self.ctx, &container, path).await?);
                Ok(())
            }
            Step::CopyFromStage { stage, from, path } => {
                let (to, from) = (self.stage_of(stage), self.stage_of(from));
                if self.writes_directly(to) && self.copy_directly(from, to, path).await? {
                    return Ok(());
                }
                let container = self.container_for_change(to, Need::NoMounts).await?;
                let from_container = self.container(from, Need::NoMounts).await?;
                stages::copy_from(&self.ctx, &from_container, &from.name, &container, to, path)
                    .await
            }
            Step::Run {
                stage,
                phase,
                command,
                workdir,
                env,
                hint,
            } => {
                let stage = self.stage_of(stage);
                let container = self.container_for_change(stage, Need::Mounts).await?;
                self.run(&container, *phase, command, workdir, env, hint)
                    .await
            }
            Step::Setup {
                stage,
                command,
                purpose,
            } => {
                // /app only: the mounts, under /dev, are out of its way.
                let stage = self.stage_of(stage);
                let container = self.container_for_change(stage, Need::Any).await?;
                stages::setup(&self.ctx, &mut self.stages, &container, command, purpose).await
            }
            Step::Commit { stage } => {
                let stage = self.stage_of(stage);
                if self.writes_directly(stage) {
                    let state = self.stages.of_mut(&stage.name);
                    if let Some(id) = self
                        .written
                        .write_commit(&self.ctx, state, stage, self.source.as_ref())
                        .await?
                    {
                        self.committed = Some(id);
                        return Ok(());
                    }
                }
                let container = self.container_for_change(stage, Need::Any).await?;
                if source::source_date_epoch().is_some() {
                    let created_from = self
                        .stages
                        .of(&stage.name)
                        .container()
                        .map(|slot| slot.image.clone())
                        .expect("the stage has its container");
                    if let Some(id) = self
                        .written
                        .write_container_commit(
                            &self.ctx,
                            stage,
                            &container,
                            &created_from,
                            self.source.as_ref(),
                        )
                        .await?
                    {
                        self.committed = Some(id);
                        return Ok(());
                    }
                }
                let base = self.ctx.image_of(stage).clone();
                let id = stages::commit(
                    &self.ctx,
                    &self.stages,
                    self.source.as_ref(),
                    &container,
                    &base,
                )
                .await?;
                self.committed = Some(id);
                Ok(())
            }
        }
    }

    fn stage_of(&self, name: &str) -> &'a Stage {
        self.ctx
            .plan
            .stage(name)
            .expect("checked: every step names a declared stage")
    }

    /// Whether a step of `stage` that runs no command is written as a layer, without a container.
    fn writes_directly(&self, stage: &Stage) -> bool {
        self.written.writes_directly(self.stages.of(&stage.name))
    }

    /// The stage's container as the step needs it.
    async fn container(&mut self, stage: &Stage, need: Need) -> Result<String, EngineError> {
        container(
            &self.ctx,
            &mut self.stages,
            &mut self.mounts,
            &mut self.written,
            stage,
            need,
        )
        .await
    }

    /// The stage's container, for a step that changes it: nothing runs in a container whose
    /// state is being kept until that is done, and it is no longer as started.
    async fn container_for_change(
        &mut self,
        stage: &Stage,
        need: Need,
    ) -> Result<String, EngineError> {
        self.reuse
            .finish_keeping(&self.ctx, &mut self.stages, Some(&stage.name))
            .await?;
        self.stages.of_mut(&stage.name).touched();
        self.container(stage, need).await
    }

    /// `path` of `from` copied into `to` as written layers. `false`: it cannot be (the engine
    /// refused, or a name would read as a deletion), and the caller copies with a container.
    async fn copy_directly(
        &mut self,
        from: &Stage,
        to: &Stage,
        path: &str,
    ) -> Result<bool, EngineError> {
        let app = self.app_of(from).await?;
        let to_state = self.stages.of_mut(&to.name);
        self.written
            .write_copy(&self.ctx, from, app, to, to_state, path)
            .await
    }

    /// What `stage`'s /app is made of: its known layers, else its container.
    async fn app_of(&mut self, stage: &Stage) -> Result<AppOf, EngineError> {
        Ok(match self.stages.of(&stage.name).known_app() {
            Some(layers) => AppOf::Layers(layers),
            None => AppOf::Container(self.container(stage, Need::NoMounts).await?),
        })
    }

    /// A [`Step::Run`]: its command with the plan's env and the tools'.
    async fn run(
        &mut self,
        container: &str,
        phase: PhaseName,
        command: &str,
        workdir: &str,
        env: &[EnvVar],
        hint: &Option<String>,
    ) -> Result<(), EngineError> {
        let env: Vec<String> = env
            .iter()
            .map(|v| format!("{}={}", v.name, v.value))
            .chain(self.mounts.tool_env().iter().cloned())
            .collect();
        let took = stages::run(
            &self.ctx,
            &mut self.stages,
            container,
            phase,
            command,
            workdir,
            &env,
        )
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
        })?;
        self.command_time += took;
        Ok(())
    }

    /// A [`Step::Install`]: its layer reused when it exists; else its manifests put into the
    /// stage's container, its commands run, and the result kept as the layer.
    async fn install(
        &mut self,
        stage: &'a Stage,
        from: Option<&'a str>,
        path: &'a str,
        files: &'a [String],
        runs: &'a [Step],
    ) -> Result<(), EngineError> {
        let from = match from {
            None => None,
            Some(name) => Some((name, self.app_of(self.stage_of(name)).await?)),
        };
        let mut install = Install::read(&self.ctx, stage, from, path, files, runs).await?;
        let decision = self
            .dependencies
            .reuse(&self.ctx, &mut self.stages, &mut self.written, &install)
            .await?;
        let hit = matches!(decision, CacheDecision::Hit { .. });
        self.cache_decision = Some(decision);
        if hit {
            return Ok(());
        }
        self.dependencies
            .announce(&self.ctx, &self.stages, &mut self.written, &mut install)
            .await?;
        put_manifests(
            &self.ctx,
            &mut self.stages,
            &mut self.mounts,
            &mut self.written,
            &install,
        )
        .await?;
        for run in runs {
            Box::pin(self.step(run)).await?;
        }
        let container = self
            .stages
            .of(&stage.name)
            .container()
            .expect("the install's commands ran in the stage's container")
            .id
            .clone();
        self.dependencies
            .keep(
                &self.ctx,
                &mut self.stages,
                &mut self.written,
                &install,
                &container,
            )
            .await
    }
}
