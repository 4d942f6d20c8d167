//! `apprunner-build run`: start an image as App Runner would, locally.

use super::args::{RunArgs, RunOpts, RunTarget};
use super::local::LocalValues;
use super::session::{
    build_image, connect, image_name, local_files_in_source, open_log, report_failure,
};
use super::CliError;
use apprunner_build::engine::messages;
use apprunner_build::engine::run::{self, ImageRunConfig, RunError, RunOptions};
use apprunner_build::engine::{EngineError, Session};
use apprunner_build::project::ProjectArgs;
use apprunner_build::report::codes;
use apprunner_build::report::diagnostic::Diagnostic;
use apprunner_build::report::exit;
use apprunner_build::report::log::BuildLog;
use apprunner_build::resolve::catalog::Catalog;

pub(crate) async fn run_command(
    opts: &RunOpts,
    catalog: &Catalog,
    today: chrono::NaiveDate,
) -> Result<u8, CliError> {
    let log = open_log(&opts.image)?;
    // Local values are checked before anything is built or started.
    let local = LocalValues::read(&opts.run_args).map_err(CliError::Usage)?;
    match &opts.target {
        RunTarget::Directory(dir) => {
            let args = ProjectArgs {
                dir: dir.clone(),
                source_directory: opts.source_directory.clone(),
                user: opts.user.clone(),
                ..Default::default()
            };
            let plan = super::load_project(&args, catalog, today)?;
            let config = ImageRunConfig::from_plan(&plan);
            // Every secret is at hand before anything is built.
            local
                .secrets(&config.secrets)
                .map_err(|e| report_run_failure(&log, &e, &opts.run_args))?;
            let name = image_name(&plan, opts.image.tag.as_deref())
                .map_err(|e| report_failure(&log, &e))?;
            let session = connect(&log, true).await?;
            // Builds only when the image is missing or stale.
            let exclude = local_files_in_source(&plan, &opts.run_args, &log);
            let built =
                build_image(&session, &plan, name, &opts.image, exclude, false, &log).await?;
            let image = built.name.to_string();
            run_image(&session, &image, &config, &local, &opts.run_args, &log).await
        }
        RunTarget::Image(image) => {
            if opts.user.is_some() {
                return Err(CliError::Usage(Box::new(Diagnostic::error(
                    codes::LOCAL_VALUE_INVALID,
                    format!("--user makes a directory's build run as that user; {image} is an image, and runs as it was built: build it with apprunner-build build DIR --user NAME"),
                ))));
            }
            let session = connect(&log, true).await?;
            let config = run::image_run_config(session.docker(), image)
                .await
                .map_err(|e| report_run_failure(&log, &e, &opts.run_args))?;
            run_image(&session, image, &config, &local, &opts.run_args, &log).await
        }
    }
}

pub(crate) async fn run_image(
    session: &Session,
    image: &str,
    config: &ImageRunConfig,
    local: &LocalValues,
    args: &RunArgs,
    log: &BuildLog,
) -> Result<u8, CliError> {
    for name in local.unasked_secrets(&config.secrets) {
        log.app_runner(format!(
            "--secret {name}: {image} asks for no secret {name}; it is not given."
        ));
    }
    let secrets = local
        .secrets(&config.secrets)
        .map_err(|e| report_run_failure(log, &e, args))?;
    // Engine errors and the application's output are masked from here on.
    log.mask_secrets(secrets.iter().map(|(_, v)| v.as_str()));
    let options = RunOptions {
        image: image.to_string(),
        publish: args.publish,
        env: local.env.clone(),
        secrets,
        health: args.health(),
    };
    let outcome = serve(session, &options, config, args, log).await;
    session.close().await;
    outcome
}

/// Start, wait until healthy, then follow the service until it exits or a signal stops it.
async fn serve(
    session: &Session,
    options: &RunOptions,
    config: &ImageRunConfig,
    args: &RunArgs,
    log: &BuildLog,
) -> Result<u8, CliError> {
    let what = "the application container";
    let started = session
        .interruptible(log, what, run::start(session, options, config, log))
        .await
        .map_err(|e| report_failure(log, &e))?;
    let (started, output) = started.map_err(|e| report_run_failure(log, &e, args))?;
    log.app_runner_result(
        &format!(
            "Your application is live at {} (Ctrl-C stops it).",
            started.url
        ),
        &[("url", &started.url)],
    );
    let until_exit = async {
        tokio::select! {
            e = run::wait_exit(session.docker(), &started, &output) => e,
            never = run::monitor(&started, &options.health, log) => match never {},
        }
    };
    match session.interruptible(log, what, until_exit).await {
        Ok(e) => Err(report_run_failure(log, &e, args)),
        Err(EngineError::Interrupted) => Ok(exit::INTERRUPTED),
        Err(e) => Err(report_failure(log, &e)),
    }
}

fn report_run_failure(log: &BuildLog, e: &RunError, args: &RunArgs) -> CliError {
    for line in messages::run_failure(
        e,
        args.health.unhealthy_threshold,
        args.health.health_interval,
    ) {
        log.app_runner(line);
    }
    CliError::Reported(messages::run_exit_code(e))
}
