//! Reuse per stage: the commands a stage runs one after another, from a state the tool knows
//! exactly (an image and the layers added to it, no container yet), are kept as an image keyed
//! by that state and the commands; a later build that reaches the same state with the same
//! commands starts from that image instead of running them. So a change to the pre-run commands
//! does not rerun the build stage's, and one to post-build does not rerun pre-run's. A stage
//! that already has a container is not keyed (its state is the container's).

use crate::engine::caches::layer_store::{touch_tag, CacheKey};
use crate::engine::caches::scope::LAYER_REPOSITORY;
use crate::engine::containers::stage_state::Stages;
use crate::engine::image::direct::Support;
use crate::engine::image::tagging::retag_cache;
use crate::engine::labels;
use crate::engine::session::docker::long;
use crate::engine::walk::context::BuildContext;
use crate::engine::EngineError;
use crate::plan::{Stage, Step};
use bollard::models::ContainerConfig;
use bollard::query_parameters::CommitContainerOptionsBuilder;
use std::collections::HashMap;

/// A run of commands being kept: its stage, the index of its last step, the key.
#[derive(Debug, Clone)]
struct Keeping {
    stage: String,
    last: usize,
    key: String,
}

/// The runs of commands this build keeps: the one under way, and those whose commit is.
#[derive(Default)]
pub(crate) struct StageReuse {
    /// The run of commands whose result is kept when its last step is done.
    keeping: Option<Keeping>,
    /// Kept runs whose commit is under way.
    kept: Vec<Kept>,
}

impl StageReuse {
    /// At step `at`, a command of a stage without a container: the run of that stage's commands
    /// that starts here (announcements between them included), as step indexes.
    fn run_of_commands(
        ctx: &BuildContext<'_>,
        stages: &Stages,
        at: usize,
    ) -> Option<(Stage, Vec<usize>)> {
        let Some(Step::Run { stage, .. }) = ctx.plan.steps.get(at) else {
            return None;
        };
        if !stages.of(stage).known_exactly() {
            return None;
        }
        let mut runs = Vec::new();
        for (i, step) in ctx.plan.steps.iter().enumerate().skip(at) {
            match step {
                Step::Run { stage: s, .. } if s == stage => runs.push(i),
                Step::Announce { .. } => {}
                _ => break,
            }
        }
        let stage = ctx.plan.stage(stage)?.clone();
        Some((stage, runs))
    }

    /// The key of the state the stage is in and the commands at `runs`: the project (one
    /// project's results are never another's, as its package cache is its own), the image it would
    /// start from, the layers waiting to be added, each command with its phase, directory and env.
    fn stage_key(ctx: &BuildContext<'_>, stages: &Stages, stage: &Stage, runs: &[usize]) -> String {
        let mut key = CacheKey::new(&ctx.project_scope);
        let state = stages.of(&stage.name);
        let start = state
            .start_from()
            .map(str::to_string)
            .or_else(|| ctx.image_of(stage).id.clone())
            .unwrap_or_default();
        key.field(start.as_bytes());
        for layer in state.pending() {
            key.field(layer.diff_id.as_bytes());
        }
        for &i in runs {
            key.run(&ctx.plan.steps[i]);
        }
        key.finish()
    }

    /// Before step `at`: when it begins a run of commands whose kept result exists, start the
    /// stage from it and say so; the number of steps to skip. When it does not exist, the run is
    /// kept once its last step is done ([`StageReuse::keep_stage`]).
    pub(crate) async fn reuse_stage(
        &mut self,
        ctx: &BuildContext<'_>,
        stages: &mut Stages,
        support: Support,
        at: usize,
    ) -> Result<usize, EngineError> {
        if !ctx.opts.layer_cache || support == Support::Refused {
            return Ok(0);
        }
        if let Some(Step::Run { stage, .. }) = ctx.plan.steps.get(at) {
            self.finish_keeping(ctx, stages, Some(stage)).await?;
        }
        let Some((stage, runs)) = Self::run_of_commands(ctx, stages, at) else {
            return Ok(0);
        };
        let Some(&last) = runs.last() else {
            return Ok(0);
        };
        let key = Self::stage_key(ctx, stages, &stage, &runs);
        let tag = format!("{LAYER_REPOSITORY}:stage-{}", &key[..26]);
        if let Ok(found) = ctx.docker.inspect_image(&tag).await {
            let label = found
                .config
                .as_ref()
                .and_then(|c| c.labels.as_ref())
                .and_then(|l| l.get(labels::STAGE_KEY));
            if label == Some(&key) {
                let phases: Vec<String> = runs
                    .iter()
                    .filter_map(|&i| match &ctx.plan.steps[i] {
                        Step::Run { phase, .. } => Some(format!("'{phase}'")),
                        _ => None,
                    })
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .collect();
                ctx.log.app_runner(format!(
                    "The {} command{} of the {} stage ran before over the same inputs: their result is reused from {tag}.",
                    phases.join(" and "),
                    if runs.len() == 1 { "" } else { "s" },
                    stage.name
                ));
                // A container only read from is left for the cleanup; the stage goes on from
                // the kept image.
                stages
                    .of_mut(&stage.name)
                    .reuse_kept(found.id.unwrap_or_default());
                touch_tag(&ctx.opts.layer_dir, &tag);
                return Ok(last + 1 - at);
            }
        }
        self.keeping = Some(Keeping {
            stage: stage.name.clone(),
            last,
            key,
        });
        Ok(0)
    }

    /// After step `at`: when it ends a run of commands being kept, commit the stage's container
    /// as the kept result, labelled with its key and tagged. The commit runs while the build goes
    /// on (the container is idle; nothing runs in it until [`StageReuse::finish_keeping`]).
    pub(crate) async fn keep_stage(
        &mut self,
        ctx: &BuildContext<'_>,
        stages: &Stages,
        at: usize,
    ) -> Result<(), EngineError> {
        let Some(keeping) = self.keeping.clone().filter(|k| k.last == at) else {
            return Ok(());
        };
        self.keeping = None;
        let Some(slot) = stages.of(&keeping.stage).container() else {
            return Ok(());
        };
        let tag = format!("{LAYER_REPOSITORY}:stage-{}", &keeping.key[..26]);
        let docker = long(ctx.docker);
        let container = slot.id.clone();
        let key = keeping.key.clone();
        let tag_as = tag.clone();
        let began = ctx.began;
        let commit = tokio::spawn(async move {
            let options = CommitContainerOptionsBuilder::new()
                .container(&container)
                .comment("apprunner-build stage state")
                .pause(false)
                .build();
            let config = ContainerConfig {
                labels: Some(HashMap::from([
                    (labels::STAGE_KEY.to_string(), key),
                    (labels::OWNER.to_string(), String::new()),
                ])),
                ..Default::default()
            };
            let id = docker
                .commit_container(options, config)
                .await
                .map_err(EngineError::docker("keeping the stage's state"))?
                .id;
            retag_cache(&docker, &id, &tag_as, began).await?;
            Ok(id)
        });
        self.kept.push(Kept {
            stage: keeping.stage,
            tag,
            commit,
        });
        Ok(())
    }

    /// Wait for the commits of kept runs (of `stage`, or all): each stage then goes on from its
    /// kept image, and what follows in it can be keyed by that.
    pub(crate) async fn finish_keeping(
        &mut self,
        ctx: &BuildContext<'_>,
        stages: &mut Stages,
        stage: Option<&str>,
    ) -> Result<(), EngineError> {
        let (done, rest): (Vec<Kept>, Vec<Kept>) = std::mem::take(&mut self.kept)
            .into_iter()
            .partition(|k| stage.is_none_or(|s| s == k.stage));
        self.kept = rest;
        for kept in done {
            let id = kept.commit.await.map_err(|e| EngineError::Source {
                root: "(keeping a stage's state)".into(),
                source: std::io::Error::other(e),
            })??;
            ctx.cleanup.add_cached(&id);
            touch_tag(&ctx.opts.layer_dir, &kept.tag);
            ctx.log.app_runner(format!(
                "Kept the {} stage's state after its commands as {}, for a later build that runs them over the same inputs.",
                kept.stage, kept.tag
            ));
            stages.of_mut(&kept.stage).kept_as(id);
        }
        Ok(())
    }
}

/// A kept run's commit, under way.
struct Kept {
    stage: String,
    tag: String,
    commit: tokio::task::JoinHandle<Result<String, EngineError>>,
}
