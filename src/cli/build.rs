//! `apprunner-build build`: a plan built in an engine session, with App Runner's log lines.

use super::args::BuildOpts;
use super::local::LocalValues;
use super::metadata;
use super::session::{
    build_image, connect, image_name, local_files_in_source, open_log, report_failure,
};
use super::CliError;
use apprunner_build::engine;
use apprunner_build::output::Output;
use apprunner_build::plan::BuildPlan;
use apprunner_build::report::diagnostic::Diagnostic;
use apprunner_build::report::diagnostic::Diagnostics;
use apprunner_build::report::errors;
use apprunner_build::report::exit;
use apprunner_build::report::log;
use std::sync::atomic::{AtomicBool, Ordering};

/// Diagnostics go to stderr as JSON objects, one a line (`--log-format json`).
static JSON_DIAGNOSTICS: AtomicBool = AtomicBool::new(false);

pub(crate) fn diagnostics_as_json(json: bool) {
    JSON_DIAGNOSTICS.store(json, Ordering::Relaxed);
}

/// Print one diagnostic on stderr, rendered or as a JSON object.
pub(crate) fn eprint_diagnostic(d: &Diagnostic) {
    if JSON_DIAGNOSTICS.load(Ordering::Relaxed) {
        eprintln!("{}", log::diagnostic_json(d));
    } else {
        eprint!("{}", errors::render(d));
    }
}

/// Print diagnostics on stderr: rendered compiler-style, or one JSON object per diagnostic.
pub(crate) fn eprint_diagnostics(found: &Diagnostics) {
    if JSON_DIAGNOSTICS.load(Ordering::Relaxed) {
        for d in found.iter() {
            eprintln!("{}", log::diagnostic_json(d));
        }
    } else {
        eprint!("{}", errors::render_all(found));
    }
}

pub(crate) async fn build_command(
    plan: BuildPlan,
    warnings: &Diagnostics,
    opts: &BuildOpts,
) -> Result<u8, CliError> {
    let mut log = open_log(&opts.image)?;
    if opts.quiet {
        log = log.without_terminal();
    }
    let name =
        image_name(&plan, opts.image.tag.as_deref()).map_err(|e| report_failure(&log, &e))?;
    // With --run, local values are checked before anything is built.
    let local = if opts.run {
        Some(LocalValues::read(&opts.run_args).map_err(CliError::Usage)?)
    } else {
        None
    };
    let session = connect(&log, true).await?;
    let started = chrono::Utc::now();
    let exclude = local_files_in_source(&plan, &opts.run_args, &log);
    let written_out = opts.output.as_ref().is_some_and(|o| *o != Output::Docker);
    let built = build_image(
        &session,
        &plan,
        name,
        &opts.image,
        exclude,
        written_out,
        &log,
    )
    .await?;
    let mut written = match &opts.output {
        Some(output) => super::output::export(&session, &built, output, &log).await?,
        None => vec![],
    };
    if let Some(path) = &opts.sbom {
        written.extend(super::sbom::write(&session, &built, path, &log).await?);
    }
    if opts.push {
        written.extend(super::push::push(&session, &built, &log).await?);
    }
    if let Some(path) = &opts.iidfile {
        metadata::write(path, &built.id, "the image id file (--iidfile)")?;
    }
    if let Some(path) = &opts.metadata_file {
        let value = metadata::value(&plan, &built, warnings, &written);
        let text = serde_json::to_string_pretty(&value).expect("JSON values serialize") + "\n";
        metadata::write(path, &text, "the metadata file (--metadata-file)")?;
    }
    if let Some(path) = &opts.provenance {
        let value =
            super::provenance::statement(&session, &plan, &built, &written, started).await?;
        let text = serde_json::to_string_pretty(&value).expect("JSON values serialize") + "\n";
        metadata::write(path, &text, "the provenance statement (--provenance)")?;
    }
    if opts.quiet {
        // What a script captures: the registry's digest when pushed, else the engine's id.
        let pushed = written.iter().find(|(k, _)| *k == "pushed_digest");
        println!("{}", pushed.map_or(built.id.as_str(), |(_, d)| d.as_str()));
    }
    match local {
        Some(local) => {
            let run_config = engine::run::ImageRunConfig::from_plan(&plan);
            super::run::run_image(
                &session,
                &built.name.to_string(),
                &run_config,
                &local,
                &opts.run_args,
                &log,
            )
            .await
        }
        None => {
            let name = built.name.to_string();
            let mut fields = vec![("image", name.as_str()), ("id", built.id.as_str())];
            fields.extend(written.iter().map(|(k, v)| (*k, v.as_str())));
            log.result(&built.id, &fields);
            Ok(exit::OK)
        }
    }
}
