//! Reuse per stage: the commands a stage runs one after another, from a state the tool knows
//! exactly (an image and the layers added to it, no container yet), are kept as an image keyed
//! by that state and the commands; a later build that reaches the same state with the same
//! commands starts from that image instead of running them. So a change to the pre-run commands
//! does not rerun the build stage's, and one to post-build does not rerun pre-run's. A stage
//! that already has a container is not keyed (its state is the container's).

use crate::engine::caches::dependency_layers::LAYER_REPOSITORY;
use crate::engine::caches::layer_store::CacheKey;
use crate::engine::image::direct::Support;
use crate::engine::session::docker::long;
use crate::engine::walk::Walk;
use crate::engine::EngineError;
use crate::plan::{Stage, Step};
use bollard::models::ContainerConfig;
use bollard::query_parameters::CommitContainerOptionsBuilder;
use std::collections::HashMap;

/// The label that holds a kept stage state's key.
pub const STAGE_KEY_LABEL: &str = "apprunner-build.stage-key";

/// A run of commands being kept: its stage, the index of its last step, the key.
#[derive(Debug, Clone)]
pub(crate) struct Keeping {
    pub(crate) stage: String,
    pub(crate) last: usize,
    pub(crate) key: String,
}

impl Walk<'_> {
    /// At step `at`, a command of a stage without a container: the run of that stage's commands
    /// that starts here (announcements between them included), as step indexes.
    fn run_of_commands(&self, at: usize) -> Option<(Stage, Vec<usize>)> {
        let Some(Step::Run { stage, .. }) = self.plan.steps.get(at) else {
            return None;
        };
        if self.containers.contains_key(stage) && !self.pristine.contains(stage) {
            return None;
        }
        let mut runs = Vec::new();
        for (i, step) in self.plan.steps.iter().enumerate().skip(at) {
            match step {
                Step::Run { stage: s, .. } if s == stage => runs.push(i),
                Step::Announce { .. } => {}
                _ => break,
            }
        }
        let stage = self.plan.stage(stage)?.clone();
        Some((stage, runs))
    }

    /// The key of the state the stage is in and the commands at `runs`: the project (one
    /// project's results are never another's, as its package cache is its own), the image it would
    /// start from, the layers waiting to be added, each command with its phase, directory and env.
    fn stage_key(&self, stage: &Stage, runs: &[usize]) -> String {
        let mut key = CacheKey::new(&self.project_scope());
        let start = self
            .start_from
            .get(&stage.name)
            .cloned()
            .or_else(|| self.images[&stage.image].id.clone())
            .unwrap_or_default();
        key.field(start.as_bytes());
        for layer in self.pending.get(&stage.name).into_iter().flatten() {
            key.field(layer.diff_id.as_bytes());
        }
        for &i in runs {
            key.run(&self.plan.steps[i]);
        }
        key.finish()
    }

    /// Before step `at`: when it begins a run of commands whose kept result exists, start the
    /// stage from it and say so; the number of steps to skip. When it does not exist, the run is
    /// kept once its last step is done ([`Walk::keep_stage`]).
    pub(crate) async fn reuse_stage(&mut self, at: usize) -> Result<usize, EngineError> {
        if !self.opts.layer_cache || self.direct.support == Support::Refused {
            return Ok(0);
        }
        if let Some(Step::Run { stage, .. }) = self.plan.steps.get(at) {
            let stage = stage.clone();
            self.finish_keeping(Some(&stage)).await?;
        }
        let Some((stage, runs)) = self.run_of_commands(at) else {
            return Ok(0);
        };
        let Some(&last) = runs.last() else {
            return Ok(0);
        };
        let key = self.stage_key(&stage, &runs);
        let tag = format!("{LAYER_REPOSITORY}:stage-{}", &key[..26]);
        if let Ok(found) = self.docker.inspect_image(&tag).await {
            let label = found
                .config
                .as_ref()
                .and_then(|c| c.labels.as_ref())
                .and_then(|l| l.get(STAGE_KEY_LABEL));
            if label == Some(&key) {
                let phases: Vec<String> = runs
                    .iter()
                    .filter_map(|&i| match &self.plan.steps[i] {
                        Step::Run { phase, .. } => Some(format!("'{phase}'")),
                        _ => None,
                    })
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .collect();
                self.log.app_runner(format!(
                    "The {} command{} of the {} stage ran before over the same inputs: their result is reused from {tag}.",
                    phases.join(" and "),
                    if runs.len() == 1 { "" } else { "s" },
                    stage.name
                ));
                self.start_from
                    .insert(stage.name.clone(), found.id.unwrap_or_default());
                // A container only read from is left for the cleanup; the stage goes on from
                // the kept image.
                self.containers.remove(&stage.name);
                self.pristine.remove(&stage.name);
                self.pending.remove(&stage.name);
                self.app_layers.remove(&stage.name);
                crate::engine::caches::layer_store::touch_tag(&self.opts.layer_dir, &tag);
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
    /// on (the container is idle; nothing runs in it until [`Walk::finish_keeping`]).
    pub(crate) async fn keep_stage(&mut self, at: usize) -> Result<(), EngineError> {
        let Some(keeping) = self.keeping.clone().filter(|k| k.last == at) else {
            return Ok(());
        };
        self.keeping = None;
        let Some(slot) = self.containers.get(&keeping.stage) else {
            return Ok(());
        };
        let tag = format!("{LAYER_REPOSITORY}:stage-{}", &keeping.key[..26]);
        let docker = long(self.docker);
        let container = slot.id.clone();
        let key = keeping.key.clone();
        let tag_as = tag.clone();
        let began = self.began;
        let commit = tokio::spawn(async move {
            let options = CommitContainerOptionsBuilder::new()
                .container(&container)
                .comment("apprunner-build stage state")
                .pause(false)
                .build();
            let config = ContainerConfig {
                labels: Some(HashMap::from([
                    (STAGE_KEY_LABEL.to_string(), key),
                    (
                        crate::engine::session::docker::OWNER_LABEL.to_string(),
                        String::new(),
                    ),
                ])),
                ..Default::default()
            };
            let id = docker
                .commit_container(options, config)
                .await
                .map_err(EngineError::docker("keeping the stage's state"))?
                .id;
            crate::engine::image::tagging::retag_cache(&docker, &id, &tag_as, began).await?;
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
    pub(crate) async fn finish_keeping(&mut self, stage: Option<&str>) -> Result<(), EngineError> {
        let (done, rest): (Vec<Kept>, Vec<Kept>) = std::mem::take(&mut self.kept)
            .into_iter()
            .partition(|k| stage.is_none_or(|s| s == k.stage));
        self.kept = rest;
        for kept in done {
            let id = kept.commit.await.map_err(|e| EngineError::Source {
                root: "(keeping a stage's state)".into(),
                source: std::io::Error::other(e),
            })??;
            crate::engine::caches::layer_store::touch_tag(&self.opts.layer_dir, &kept.tag);
            self.log.app_runner(format!(
                "Kept the {} stage's state after its commands as {}, for a later build that runs them over the same inputs.",
                kept.stage, kept.tag
            ));
            if self.containers.contains_key(&kept.stage) {
                self.start_from.insert(kept.stage.clone(), id);
                self.pristine.insert(kept.stage);
            }
        }
        Ok(())
    }
}

/// A kept run's commit, under way.
pub(crate) struct Kept {
    stage: String,
    tag: String,
    commit: tokio::task::JoinHandle<Result<String, EngineError>>,
}
