//! `apprunner-build build`: a plan built in an engine session, with App Runner's log lines.

use super::{BuildOpts, ImageOpts};
use apprunner_build::engine::{self, BuildOptions, BuiltImage, EngineError, ImageName, Session};
use apprunner_build::plan::BuildPlan;
use apprunner_build::report::errors;
use apprunner_build::report::exit;
use apprunner_build::report::log::BuildLog;

pub(crate) async fn build_command(plan: BuildPlan, opts: BuildOpts) -> u8 {
    let log = match open_log(&opts.image) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let session = match connect(&log).await {
        Ok(s) => s,
        Err(code) => return code,
    };
    let built = match build_image(&session, &plan, &opts.image, &log).await {
        Ok(b) => b,
        Err(code) => return code,
    };
    if opts.run {
        let run_config = engine::run::ImageRunConfig {
            port: plan.image.port,
            secrets: plan.image.secret_names(),
        };
        return super::run::run_image(
            &session,
            &built.name.to_string(),
            &run_config,
            &[],
            &opts.run_opts,
            &log,
        )
        .await;
    }
    println!("{}", built.id);
    exit::OK
}

pub(crate) fn open_log(opts: &ImageOpts) -> Result<BuildLog, u8> {
    BuildLog::new(opts.log_format.into(), opts.log_file.as_deref()).map_err(|e| {
        eprintln!("error: cannot write the log file: {e}");
        exit::USAGE
    })
}

/// App Runner's failure line, the help that goes with it, and the exit code for the error.
pub(crate) fn report_failure(log: &BuildLog, e: &EngineError) -> u8 {
    log.app_runner(format!(
        "Failed to build your application source code. Reason: {}",
        errors::build_failure_reason(e)
    ));
    if let Some(help) = errors::engine_help(e) {
        eprintln!("help: {help}");
    }
    errors::engine_exit_code(e)
}

pub(crate) async fn connect(log: &BuildLog) -> Result<Session, u8> {
    Session::connect()
        .await
        .map_err(|e| report_failure(log, &e))
}

/// The image name for a source directory when none is given: the directory's name.
pub(crate) fn image_name(plan: &BuildPlan, tag: Option<&str>) -> Result<ImageName, EngineError> {
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

/// Build in the session; its containers are removed whatever happens.
pub(crate) async fn build_image(
    session: &Session,
    plan: &BuildPlan,
    opts: &ImageOpts,
    log: &BuildLog,
) -> Result<BuiltImage, u8> {
    let name = image_name(plan, opts.tag.as_deref()).map_err(|e| report_failure(log, &e))?;
    let options = BuildOptions {
        image: name,
        network: opts.network.clone(),
        ca_bundle: opts.ca_bundle.clone(),
        reuse_image: !opts.no_cache,
        package_cache: !opts.no_cache,
    };
    session
        .build(plan, &options, log)
        .await
        .map_err(|e| report_failure(log, &e))
}
