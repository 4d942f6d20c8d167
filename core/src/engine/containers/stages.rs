//! The stages' containers: started from the stage's image, with the build's mounts (CA bundle,
//! package cache) only while commands run in a container that is committed later; copies in and
//! out; commands; the commit with the plan's image configuration.

use crate::engine::containers::mounts::{CACHE_PATH, CA_PATH};
use crate::engine::containers::{confine, exec};
use crate::engine::session::docker::long;
use crate::engine::walk::{secs, size, Walk};
use crate::engine::{source, CommandOf, EngineError};
use crate::plan::{labels, ImageConfig, ImageEnv, PhaseName, Stage, Step};
use bollard::models::{ContainerConfig, ContainerCreateBody, ImageInspect};
use bollard::query_parameters::{
    CommitContainerOptionsBuilder, CreateContainerOptionsBuilder,
    DownloadFromContainerOptionsBuilder, UploadToContainerOptionsBuilder,
};
use futures_util::{StreamExt, TryStreamExt};
use std::collections::HashMap;
use std::time::Instant;

/// Keeps a build container alive between commands, and stops promptly when asked.
const IDLE: &str = "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done";

/// A stage's container.
#[derive(Debug, Clone)]
pub(crate) struct Slot {
    pub(crate) id: String,
    pub(crate) mounted: bool,
}

/// What a step needs of its stage's container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Need {
    /// The CA bundle and package cache mounted: for commands.
    Mounts,
    /// No mounts: for copies into (or out of) a container that is committed later. The engine's
    /// archive API creates every mount point in the container's own layer (outside its /dev
    /// tmpfs) before copying, and those empty files would reach the image.
    NoMounts,
    /// Whatever it has.
    Any,
}

impl Walk<'_> {
    /// Whether the build has anything to mount.
    fn has_mounts(&self) -> bool {
        self.opts.ca_bundle.is_some() || self.cache_volume.is_some()
    }

    /// Whether `stage`'s container is committed at this step or a later one.
    fn committed_later(&self, stage: &str) -> bool {
        self.plan.steps[self.at..]
            .iter()
            .any(|s| matches!(s, Step::Commit { stage: c } | Step::Install { stage: c, .. } if c == stage))
    }

    /// The stage's container as the step needs it: started from the stage's image the first time,
    /// and, for a stage that is committed later, moved to a container with (or without) the
    /// mounts when the step needs the other kind. A stage that is never committed again keeps
    /// its mounts throughout: its mount points reach no image.
    pub(crate) async fn container(
        &mut self,
        stage: &Stage,
        need: Need,
    ) -> Result<String, EngineError> {
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
        let mut refused = vec![];
        let mut from_start = false;
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
            None => {
                refused = self.materialize(stage).await?;
                from_start = true;
                self.start_from
                    .get(&stage.name)
                    .cloned()
                    .unwrap_or_else(|| stage.image.clone())
            }
        };
        let name = crate::engine::session::docker::container_name(&stage.name);
        let mut binds = Vec::new();
        if mounted {
            if let Some(p) = &self.opts.ca_bundle {
                let abs = std::fs::canonicalize(p).unwrap_or_else(|_| p.clone());
                binds.push(format!("{}:{CA_PATH}:ro", abs.display()));
            }
            if self.cache_volume.is_some() {
                self.create_cache_volume().await?;
            }
            if let Some(volume) = &self.cache_volume {
                binds.push(format!("{volume}:{CACHE_PATH}"));
            }
        }
        confine::refuse_engine_socket(&binds)?;
        let binds = (!binds.is_empty()).then_some(binds);
        let shown = &stage.image;
        let body = ContainerCreateBody {
            image: Some(image.clone()),
            entrypoint: Some(vec!["/bin/sh".into(), "-c".into()]),
            cmd: Some(vec![IDLE.into()]),
            labels: Some(crate::engine::session::docker::owner_labels()),
            host_config: Some(confine::host_config(
                binds,
                self.opts.network.clone(),
                &self.opts.limits,
            )),
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
        if from_start && refused.is_empty() {
            self.pristine.insert(stage.name.clone());
        }
        // Layers the engine would not load (none of them has whiteouts): unpacked instead.
        for layer in refused {
            let file = layer
                .open()
                .map(tokio::fs::File::from_std)
                .map_err(|source| EngineError::Source {
                    root: layer.path.clone(),
                    source,
                })?;
            let body = bollard::body_try_stream(tokio_util::io::ReaderStream::new(file));
            let options = UploadToContainerOptionsBuilder::new().path("/").build();
            long(self.docker)
                .upload_to_container(&created.id, Some(options), body)
                .await
                .map_err(EngineError::docker(format!(
                    "copying a layer into the {} stage",
                    stage.name
                )))?;
        }
        Ok(created.id)
    }

    /// Stream the source tree into `path`: a tar written on a blocking thread, never whole in memory.
    pub(crate) async fn copy_source(
        &mut self,
        container: &str,
        path: &str,
    ) -> Result<(), EngineError> {
        let t = Instant::now();
        let root = self.plan.source_root.clone();
        let (reader, writer) = tokio::io::duplex(256 * 1024);
        let bridge = tokio_util::io::SyncIoBridge::new(writer);
        let tar_root = root.clone();
        let prefix = path.trim_start_matches('/').to_string();
        let exclude = self.opts.exclude.clone();
        let writer_task = tokio::task::spawn_blocking(move || {
            source::write_tar(&tar_root, &prefix, &exclude, bridge)
        });
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
    pub(crate) async fn copy_from(
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

    pub(crate) async fn run(
        &mut self,
        container: &str,
        phase: PhaseName,
        command: &str,
        workdir: &str,
        env: &[String],
    ) -> Result<(), EngineError> {
        self.log.app_runner(format!(
            "Executing '{phase}' command: {}",
            crate::report::log::clipped(command)
        ));
        let t = Instant::now();
        let shell = exec::Shell {
            command,
            workdir,
            env,
            user: None,
        };
        let code = self
            .confined(
                container,
                CommandOf::Phase(phase),
                &shell,
                phase.log_prefix(),
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

    /// A [`Step::Setup`]: `command` as root in `/`, with no build env; its output under `[Setup]`.
    pub(crate) async fn setup(
        &mut self,
        container: &str,
        command: &str,
        purpose: &str,
    ) -> Result<(), EngineError> {
        self.log
            .app_runner(format!("Setup, as root ({purpose}): {command}"));
        let t = Instant::now();
        let shell = exec::Shell {
            command,
            workdir: "/",
            env: &[],
            user: Some("0"),
        };
        let code = self
            .confined(container, CommandOf::Setup, &shell, "Setup")
            .await?;
        if code != 0 {
            return Err(EngineError::SetupFailed {
                command: command.to_string(),
                purpose: purpose.to_string(),
                exit_code: code,
            });
        }
        self.log
            .app_runner(format!("Setup finished in {}.", secs(t.elapsed())));
        Ok(())
    }

    /// Run `shell` under the build's limits: past `--command-timeout` the container is stopped
    /// (an exec cannot be stopped on its own; the build fails anyway), and a failure caused by
    /// the out-of-memory killer is said as such rather than as exit code 137. The exit code.
    async fn confined(
        &mut self,
        container: &str,
        of: CommandOf,
        shell: &exec::Shell<'_>,
        prefix: &str,
    ) -> Result<i64, EngineError> {
        let since = std::time::SystemTime::now();
        let run = exec::run(self.docker, container, shell, prefix, self.log);
        let code = match &self.opts.limits.command_timeout {
            None => run.await?,
            Some(timeout) => match tokio::time::timeout(timeout.limit, run).await {
                Ok(code) => code?,
                Err(_) => {
                    let _ = self
                        .docker
                        .kill_container(
                            container,
                            None::<bollard::query_parameters::KillContainerOptions>,
                        )
                        .await;
                    self.containers.retain(|_, slot| slot.id != container);
                    return Err(EngineError::CommandTimedOut {
                        of,
                        command: shell.command.to_string(),
                        limit: timeout.clone(),
                    });
                }
            },
        };
        if code != 0 && confine::out_of_memory(self.docker, container, since).await {
            return Err(EngineError::CommandOutOfMemory {
                of,
                command: shell.command.to_string(),
                exit_code: code,
                memory: self.opts.limits.memory.clone(),
            });
        }
        Ok(code)
    }

    /// Commit `container` with the plan's image configuration, set explicitly: commit merges in
    /// the container's own settings otherwise (its idle command, for one).
    pub(crate) async fn commit(
        &self,
        container: &str,
        base: &ImageInspect,
    ) -> Result<String, EngineError> {
        let t = Instant::now();
        let mut config = self.final_config(base);
        // The engine would merge the container's owner label into the image: emptied, it is not;
        // nor a dependency layer's key, when the container started from one.
        let labels = config.labels.get_or_insert_with(HashMap::new);
        labels.insert(
            crate::engine::session::docker::OWNER_LABEL.to_string(),
            String::new(),
        );
        if !self.start_from.is_empty() {
            labels.insert(
                crate::engine::caches::dependency_layers::LAYER_KEY_LABEL.to_string(),
                String::new(),
            );
            labels.insert(
                crate::engine::caches::stage_reuse::STAGE_KEY_LABEL.to_string(),
                String::new(),
            );
        }
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

    /// The plan's image configuration over the stage's image `base`: command, entrypoint, env,
    /// working directory, port, user and labels (the plan's and the source digest).
    pub(crate) fn final_config(&self, base: &ImageInspect) -> ContainerConfig {
        let image = &self.plan.image;
        let base_config = base.config.clone().unwrap_or_default();
        // Only the plan's own labels of the tool's: never an owner or a cache key, which would
        // make later builds take the image, or its containers, for theirs.
        let mut labels: HashMap<String, String> = image
            .labels
            .clone()
            .into_iter()
            .filter(|(k, _)| {
                !k.starts_with(labels::NAMESPACE) || labels::SET_BY_PLAN.contains(&k.as_str())
            })
            .collect();
        if let Some(summary) = &self.source {
            labels.insert(
                labels::SOURCE_DIGEST.to_string(),
                format!("sha256:{}", summary.digest),
            );
        }
        labels.insert(labels::PLAN_DIGEST.to_string(), self.plan.digest());
        let bases = self
            .plan
            .stages
            .iter()
            .map(|s| {
                let id = self.images.get(&s.image).and_then(|i| i.id.clone());
                format!("{}={}", s.name, id.unwrap_or_default())
            })
            .collect::<Vec<_>>()
            .join(",");
        labels.insert(labels::BASE_IMAGES.to_string(), bases);
        ContainerConfig {
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
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

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
