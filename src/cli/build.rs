//! `apprunner-build build`: the engine run with signals handled and containers always removed.

use super::{BuildOpts, ImageOpts};
use crate::engine::{self, BuildOptions, BuiltImage, Cleanup, EngineError, ImageName};
use crate::errors;
use crate::log::BuildLog;
use crate::plan::BuildPlan;
use bollard::Docker;

pub(super) async fn build_command(plan: BuildPlan, opts: BuildOpts) -> i32 {
    let log = match open_log(&opts.image) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let docker = match connect(&log).await {
        Ok(d) => d,
        Err(code) => return code,
    };
    let built = match build_image(&docker, &plan, &opts.image, &log).await {
        Ok(b) => b,
        Err(code) => return code,
    };
    if opts.run {
        let run_config = engine::run::ImageRunConfig {
            port: plan.run.port,
            secrets: plan.run.secrets.clone(),
        };
        return super::run::run_image(
            &docker,
            &built.name.to_string(),
            &run_config,
            &[],
            &opts.run_opts,
            &log,
        )
        .await;
    }
    println!("{}", built.id);
    0
}

pub(super) fn open_log(opts: &ImageOpts) -> Result<BuildLog, i32> {
    BuildLog::new(opts.log_format, opts.log_file.as_deref()).map_err(|e| {
        eprintln!("error: cannot write the log file: {e}");
        2
    })
}

pub(super) fn report_failure(log: &BuildLog, e: &EngineError) -> i32 {
    log.engine(format!(
        "Failed to build your application source code. Reason: {}",
        errors::build_failure_reason(e)
    ));
    if let Some(help) = errors::engine_help(e) {
        eprintln!("help: {help}");
    }
    1
}

pub(super) async fn connect(log: &BuildLog) -> Result<Docker, i32> {
    engine::connect().await.map_err(|e| report_failure(log, &e))
}

/// The image name for a source directory when none is given: the directory's name.
pub(super) fn image_name(plan: &BuildPlan, tag: Option<&str>) -> Result<ImageName, EngineError> {
    let default_name = plan
        .source_root
        .canonicalize()
        .ok()
        .and_then(|p| {
            p.file_name()
                .map(|n| n.to_string_lossy().to_ascii_lowercase())
        })
        .unwrap_or_else(|| "app".into());
    ImageName::parse(tag.unwrap_or(&default_name))
}

/// Build, and remove every build container whatever happens: success, failure, SIGINT, SIGTERM.
pub(super) async fn build_image(
    docker: &Docker,
    plan: &BuildPlan,
    opts: &ImageOpts,
    log: &BuildLog,
) -> Result<BuiltImage, i32> {
    let name = image_name(plan, opts.tag.as_deref()).map_err(|e| report_failure(log, &e))?;
    let options = BuildOptions {
        image: name,
        network: opts.network.clone(),
        ca_bundle: opts.ca_bundle.clone(),
        reuse_image: !opts.no_cache,
        package_cache: !opts.no_cache,
    };
    let cleanup = Cleanup::default();
    let outcome = tokio::select! {
        r = engine::build(docker, plan, &options, log, &cleanup) => Some(r),
        _ = interrupted() => None,
    };
    match outcome {
        Some(Ok(built)) => {
            cleanup.run(docker).await;
            Ok(built)
        }
        Some(Err(e)) => {
            cleanup.run(docker).await;
            Err(report_failure(log, &e))
        }
        None => {
            log.engine(
                "Interrupted: removing build containers (press Ctrl-C again to quit at once).",
            );
            let removed = remove_after_interrupt(docker, &cleanup).await;
            log.engine(format!("Removed {removed} build container(s)."));
            report_failure(log, &EngineError::Interrupted);
            Err(130)
        }
    }
}

/// Remove what `cleanup` holds; a second Ctrl-C quits at once.
pub(super) async fn remove_after_interrupt(docker: &Docker, cleanup: &Cleanup) -> usize {
    tokio::spawn(async {
        interrupted().await;
        std::process::exit(130);
    });
    cleanup.run(docker).await
}

/// SIGINT (Ctrl-C) or SIGTERM.
pub(super) async fn interrupted() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler installs");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}
