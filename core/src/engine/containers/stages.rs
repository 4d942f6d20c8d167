//! The stages' containers: started from the stage's image, with the build's mounts (CA bundle,
//! package cache) only while commands run in a container that is committed later; copies in and
//! out; commands; the commit with the plan's image configuration.

use crate::engine::containers::mounts::Mounts;
use crate::engine::containers::stage_state::{Slot, Stages};
use crate::engine::containers::start::{create_and_start, StartFailed};
use crate::engine::containers::{confine, exec};
use crate::engine::image::config::final_config;
use crate::engine::image::direct::WrittenLayers;
use crate::engine::labels;
use crate::engine::session::docker::long;
use crate::engine::shown::{secs, size};
use crate::engine::source::{self, SourceSummary};
use crate::engine::walk::context::BuildContext;
use crate::engine::{CommandOf, EngineError};
use crate::plan::{PhaseName, Stage, Step};
use bollard::models::{ContainerConfig, ContainerCreateBody, ImageInspect};
use bollard::query_parameters::{
    CommitContainerOptionsBuilder, DownloadFromContainerOptionsBuilder,
    UploadToContainerOptionsBuilder,
};
use futures_util::{StreamExt, TryStreamExt};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Keeps a build container alive between commands, and stops promptly when asked.
const IDLE: &str = "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done";

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

/// Whether `stage`'s container is committed at this step or a later one.
fn committed_later(ctx: &BuildContext<'_>, stage: &str) -> bool {
    ctx.plan.steps[ctx.at..].iter().any(
        |s| matches!(s, Step::Commit { stage: c } | Step::Install { stage: c, .. } if c == stage),
    )
}

/// The stage's container as the step needs it: started from the stage's image the first time,
/// and, for a stage that is committed later, moved to a container with (or without) the
/// mounts when the step needs the other kind. A stage that is never committed again keeps
/// its mounts throughout: its mount points reach no image.
pub(crate) async fn container(
    ctx: &BuildContext<'_>,
    stages: &mut Stages,
    mounts: &mut Mounts,
    written: &mut WrittenLayers,
    stage: &Stage,
    need: Need,
) -> Result<String, EngineError> {
    let state = stages.of(&stage.name);
    let mounted = match need {
        _ if !mounts.any(ctx.opts) => false,
        _ if !committed_later(ctx, &stage.name) => true,
        Need::Mounts => true,
        Need::NoMounts => false,
        Need::Any => state.container().is_some_and(|slot| slot.mounted),
    };
    let mut refused = vec![];
    let mut from_start = false;
    let image = match state.container() {
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
            let id = long(ctx.docker)
                .commit_container(options, ContainerConfig::default())
                .await
                .map_err(EngineError::docker(format!(
                    "saving the {} stage's container",
                    stage.name
                )))?
                .id;
            ctx.cleanup.add_image(&id);
            let remove = bollard::query_parameters::RemoveContainerOptionsBuilder::new()
                .force(true)
                .v(true)
                .build();
            let _ = ctx.docker.remove_container(&slot.id, Some(remove)).await;
            id
        }
        None => {
            refused = written
                .materialize(ctx, stages.of_mut(&stage.name), stage)
                .await?;
            from_start = true;
            stages
                .of(&stage.name)
                .start_from()
                .map_or_else(|| stage.image.clone(), str::to_string)
        }
    };
    let binds = if mounted {
        mounts.binds(ctx).await?
    } else {
        Vec::new()
    };
    confine::refuse_engine_socket(&binds)?;
    let binds = (!binds.is_empty()).then_some(binds);
    let shown = &stage.image;
    let body = ContainerCreateBody {
        image: Some(image.clone()),
        entrypoint: Some(vec!["/bin/sh".into(), "-c".into()]),
        cmd: Some(vec![IDLE.into()]),
        host_config: Some(confine::host_config(
            binds,
            ctx.opts.network.clone(),
            &ctx.opts.limits,
        )),
        ..Default::default()
    };
    let id = create_and_start(ctx.docker, ctx.cleanup, &stage.name, body)
        .await
        .map_err(|failed| match failed {
            StartFailed::Creating(e) => {
                EngineError::docker(format!("creating a container from {shown}"))(e)
            }
            StartFailed::Starting(e) => {
                EngineError::docker(format!("starting a container from {shown}"))(e)
            }
        })?;
    stages.of_mut(&stage.name).started(
        Slot {
            id: id.clone(),
            mounted,
            image: image.clone(),
        },
        from_start && refused.is_empty(),
    );
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
        long(ctx.docker)
            .upload_to_container(&id, Some(options), body)
            .await
            .map_err(EngineError::docker(format!(
                "copying a layer into the {} stage",
                stage.name
            )))?;
    }
    Ok(id)
}

/// Stream the source tree into `path`: a tar written on a blocking thread, never whole in memory.
pub(crate) async fn copy_source(
    ctx: &BuildContext<'_>,
    container: &str,
    path: &str,
) -> Result<SourceSummary, EngineError> {
    let t = Instant::now();
    let root = ctx.plan.source_root.clone();
    let (reader, writer) = tokio::io::duplex(256 * 1024);
    let bridge = tokio_util::io::SyncIoBridge::new(writer);
    let tar_root = root.clone();
    let prefix = path.trim_start_matches('/').to_string();
    let exclude = ctx.opts.exclude.clone();
    let filter = source::SourceFilter::of_plan(ctx.plan);
    let writer_task = tokio::task::spawn_blocking(move || {
        source::write_tar(&tar_root, &prefix, filter, &exclude, bridge)
    });
    let body = bollard::body_try_stream(tokio_util::io::ReaderStream::new(reader));
    let options = UploadToContainerOptionsBuilder::new().path("/").build();
    let upload = long(ctx.docker)
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
        ctx.log.app_runner(format!("Warning: {warning}."));
    }
    if let Some(line) = summary.git_left_out.line() {
        ctx.log.app_runner(line);
    }
    ctx.log.app_runner(format!(
        "Copied the source ({} file{}, {}) to {path} in {}.",
        summary.files,
        if summary.files == 1 { "" } else { "s" },
        size(summary.bytes),
        secs(t.elapsed())
    ));
    Ok(summary)
}

/// Copy `path` from one stage's container into another's, streamed.
pub(crate) async fn copy_from(
    ctx: &BuildContext<'_>,
    from: &str,
    from_stage: &str,
    to: &str,
    to_stage: &Stage,
    path: &str,
) -> Result<(), EngineError> {
    let t = Instant::now();
    let long = long(ctx.docker);
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
    ctx.log.app_runner(format!(
        "Copied {path} from the {from_stage} stage into the {} stage ({}) in {}.",
        to_stage.name,
        to_stage.image,
        secs(t.elapsed())
    ));
    Ok(())
}

/// A [`Step::Run`]'s command; the time it took.
pub(crate) async fn run(
    ctx: &BuildContext<'_>,
    stages: &mut Stages,
    container: &str,
    phase: PhaseName,
    command: &str,
    workdir: &str,
    env: &[String],
) -> Result<Duration, EngineError> {
    ctx.log.app_runner(format!(
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
    let code = confined(
        ctx,
        stages,
        container,
        CommandOf::Phase(phase),
        &shell,
        phase.log_prefix(),
    )
    .await?;
    let took = t.elapsed();
    if code != 0 {
        return Err(EngineError::CommandFailed {
            phase,
            command: command.to_string(),
            exit_code: code,
            hint: None,
        });
    }
    ctx.log
        .app_runner(format!("'{phase}' command finished in {}.", secs(took)));
    Ok(took)
}

/// A [`Step::Setup`]: `command` as root in `/`, with no build env; its output under `[Setup]`.
pub(crate) async fn setup(
    ctx: &BuildContext<'_>,
    stages: &mut Stages,
    container: &str,
    command: &str,
    purpose: &str,
) -> Result<(), EngineError> {
    ctx.log
        .app_runner(format!("Setup, as root ({purpose}): {command}"));
    let t = Instant::now();
    let shell = exec::Shell {
        command,
        workdir: "/",
        env: &[],
        user: Some("0"),
    };
    let code = confined(ctx, stages, container, CommandOf::Setup, &shell, "Setup").await?;
    if code != 0 {
        return Err(EngineError::SetupFailed {
            command: command.to_string(),
            purpose: purpose.to_string(),
            exit_code: code,
        });
    }
    ctx.log
        .app_runner(format!("Setup finished in {}.", secs(t.elapsed())));
    Ok(())
}

/// Run `shell` under the build's limits: past `--command-timeout` the container is stopped
/// (an exec cannot be stopped on its own; the build fails anyway), and a failure caused by
/// the out-of-memory killer is said as such rather than as exit code 137. The exit code.
async fn confined(
    ctx: &BuildContext<'_>,
    stages: &mut Stages,
    container: &str,
    of: CommandOf,
    shell: &exec::Shell<'_>,
    prefix: &str,
) -> Result<i64, EngineError> {
    let since = std::time::SystemTime::now();
    let run = exec::run(ctx.docker, container, shell, prefix, ctx.log);
    let code = match &ctx.opts.limits.command_timeout {
        None => run.await?,
        Some(timeout) => match tokio::time::timeout(timeout.limit, run).await {
            Ok(code) => code?,
            Err(_) => {
                let _ = ctx
                    .docker
                    .kill_container(
                        container,
                        None::<bollard::query_parameters::KillContainerOptions>,
                    )
                    .await;
                stages.container_lost(container);
                return Err(EngineError::CommandTimedOut {
                    of,
                    command: shell.command.to_string(),
                    limit: timeout.clone(),
                });
            }
        },
    };
    if code != 0 && confine::out_of_memory(ctx.docker, container, since).await {
        return Err(EngineError::CommandOutOfMemory {
            of,
            command: shell.command.to_string(),
            exit_code: code,
            memory: ctx.opts.limits.memory.clone(),
        });
    }
    Ok(code)
}

/// Commit `container` with the plan's image configuration, set explicitly: commit merges in
/// the container's own settings otherwise (its idle command, for one).
pub(crate) async fn commit(
    ctx: &BuildContext<'_>,
    stages: &Stages,
    source: Option<&SourceSummary>,
    container: &str,
    base: &ImageInspect,
) -> Result<String, EngineError> {
    let t = Instant::now();
    let mut config = final_config(ctx, source, base);
    // The engine would merge the container's owner label into the image: emptied, it is not;
    // nor a dependency layer's key, when the container started from one.
    let image_labels = config.labels.get_or_insert_with(HashMap::new);
    image_labels.insert(labels::OWNER.to_string(), String::new());
    if stages.any_start_from() {
        image_labels.insert(labels::LAYER_KEY.to_string(), String::new());
        image_labels.insert(labels::STAGE_KEY.to_string(), String::new());
    }
    let options = CommitContainerOptionsBuilder::new()
        .container(container)
        .comment("apprunner-build")
        .build();
    let id = long(ctx.docker)
        .commit_container(options, config)
        .await
        .map_err(EngineError::docker("committing the image"))?
        .id;
    ctx.cleanup.add_image(&id);
    ctx.log.app_runner(format!(
        "Committed the application image in {}.",
        secs(t.elapsed())
    ));
    Ok(id)
}
