//! What `build` and `run` share: the build log, the engine session, the image's name, the build
//! itself and how its failures are reported. Its own module so that `build --run` can run and
//! `run DIR` can build without the two commands importing each other.

use super::args::{ImageOpts, RunArgs};
use super::CliError;
use apprunner_build::engine::messages;
use apprunner_build::engine::{BuildOptions, BuiltImage, EngineError, ImageName, Session};
use apprunner_build::plan::BuildPlan;
use apprunner_build::report::codes;
use apprunner_build::report::diagnostic::{Diagnostic, Location};
use apprunner_build::report::exit;
use apprunner_build::report::log::{BuildLog, LogFormat};
use std::path::PathBuf;

pub(crate) fn open_log(opts: &ImageOpts) -> Result<BuildLog, CliError> {
    BuildLog::new(opts.log_format.into(), opts.log_file.as_deref()).map_err(|e| {
        let path = opts
            .log_file
            .as_deref()
            .unwrap_or(std::path::Path::new("-"));
        CliError::Usage(Box::new(
            Diagnostic::error(
                codes::LOG_FILE_UNWRITABLE,
                format!("cannot write the log file: {e}"),
            )
            .at(Location::file(path)),
        ))
    })
}

/// App Runner's failure line (with the code), the help that goes with it, and the exit code.
pub(crate) fn report_failure(log: &BuildLog, e: &EngineError) -> CliError {
    if matches!(e, EngineError::Interrupted) {
        return CliError::Reported(exit::INTERRUPTED);
    }
    log.app_runner(format!(
        "Failed to build your application source code. Reason: {}",
        messages::build_failure_reason(e)
    ));
    if let Some(help) = messages::engine_help(e) {
        match log.format() {
            LogFormat::Text => eprintln!("help: {help}"),
            LogFormat::Json => eprintln!(
                "{}",
                serde_json::json!({"severity": "help", "code": messages::engine_code(e).to_string(), "message": help})
            ),
        }
    }
    CliError::Reported(messages::engine_exit_code(e))
}

/// Connect, and say first which engine this is and how it was found. `cache ls` and `prune`
/// print a listing, not a log: there it is said only with `--debug`.
pub(crate) async fn connect(log: &BuildLog, announce: bool) -> Result<Session, CliError> {
    let session = Session::connect()
        .await
        .map_err(|e| report_failure(log, &e))?;
    let engine = session.engine();
    if announce {
        log.app_runner(&engine.line);
        for note in &engine.notes {
            log.app_runner(note);
        }
    } else {
        tracing::debug!("{}", engine.line);
    }
    Ok(session)
}

/// The image name for a source directory when none is given: the directory's name.
pub(crate) fn image_name(plan: &BuildPlan, tag: Option<&str>) -> Result<ImageName, EngineError> {
    ImageName::parse(tag.unwrap_or(&directory_name(plan)))
}

/// The source directory's name, lowercase: the image's name when none is given, and the
/// service's in `export`.
pub(crate) fn directory_name(plan: &BuildPlan) -> String {
    plan.source_root
        .canonicalize()
        .ok()
        .and_then(|p| {
            p.file_name()
                .map(|n| n.to_string_lossy().to_ascii_lowercase())
        })
        .unwrap_or_else(|| "app".into())
}

/// Local files that sit in the source tree and must not reach the image: the `--secrets-file`,
/// as a path relative to the source root (said in the log).
pub(crate) fn local_files_in_source(
    plan: &BuildPlan,
    args: &RunArgs,
    log: &BuildLog,
) -> Vec<PathBuf> {
    let Some(file) = &args.secrets_file else {
        return vec![];
    };
    let (Ok(file_real), Ok(root)) = (file.canonicalize(), plan.source_root.canonicalize()) else {
        return vec![];
    };
    match file_real.strip_prefix(&root) {
        Ok(rel) => {
            log.app_runner(format!(
                "--secrets-file {} is inside the source directory: it is left out of the source copied into the image.",
                file.display()
            ));
            vec![rel.to_path_buf()]
        }
        Err(_) => vec![],
    }
}

/// Build in the session, leaving out `exclude` (paths relative to the source root); its
/// containers are removed whatever happens. An image `written_out` (`--output`) gets its
/// dependency installs as layers the tool writes, so that the export takes them from its files.
pub(crate) async fn build_image(
    session: &Session,
    plan: &BuildPlan,
    name: ImageName,
    opts: &ImageOpts,
    exclude: Vec<PathBuf>,
    written_out: bool,
    log: &BuildLog,
) -> Result<BuiltImage, CliError> {
    let options = BuildOptions {
        image: name,
        network: opts.network.clone(),
        ca_bundle: opts.ca_bundle.clone(),
        reuse_image: !opts.no_cache,
        package_cache: !opts.no_cache,
        layer_cache: !opts.no_cache,
        write_layers: true,
        export_layers: written_out
            || opts.cache_dir.is_some()
            || std::env::var_os("SOURCE_DATE_EPOCH").is_some(),
        layer_dir: opts
            .cache_dir
            .clone()
            .unwrap_or_else(apprunner_build::engine::default_cache_dir)
            .join("layers"),
        exclude,
        limits: opts.limits(),
    };
    let built = session
        .build(plan, &options, log)
        .await
        .map_err(|e| report_failure(log, &e))?;
    // The warning scrolled away with the build's output: the last lines say it again.
    let outside = apprunner_build::plan::lint(plan, None, None)
        .into_iter()
        .any(|d| d.code == codes::INSTALL_OUTSIDE_APP);
    if outside {
        log.app_runner(format!(
            "Reminder: packages the build phase installs outside /app are not in this image (revised build: only /app reaches the runtime image); install them into /app or in run.pre-run (warning {}, above).",
            codes::INSTALL_OUTSIDE_APP
        ));
    }
    Ok(built)
}
