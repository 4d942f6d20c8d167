//! `build --output`: the built image written from the engine as an OCI image layout or a
//! `docker load` archive.

use super::CliError;
use apprunner_build::engine::{BuiltImage, Session};
use apprunner_build::output::{self, ExportError, Origin, Output};
use apprunner_build::report::codes;
use apprunner_build::report::diagnostic::{Diagnostic, Location};
use apprunner_build::report::log::BuildLog;
use std::time::Instant;

/// Write `built` where `output` says, with a log line; the fields for the JSON result.
pub(crate) async fn export(
    session: &Session,
    built: &BuiltImage,
    output: &Output,
    log: &BuildLog,
) -> Result<Vec<(&'static str, String)>, CliError> {
    let started = Instant::now();
    let written = output::export(session.docker(), built, output)
        .await
        .map_err(|e| failed(log, e))?;
    let Some(written) = written else {
        return Ok(vec![]);
    };
    let what = match output {
        Output::Oci { .. } => "an OCI image layout",
        _ => "a docker-archive (for docker load)",
    };
    let digest = written
        .manifest_digest
        .as_deref()
        .map(|d| format!(", manifest {d}"))
        .unwrap_or_default();
    let from = match (&written.whole_from_engine, &written.image) {
        (Some(why), _) => format!("read whole from the engine's archive: {why}"),
        (None, Some(image)) => format!(
            "the base's {} from the engine, {} and the config from this build's files",
            layers(image.count(Origin::Base), "layer"),
            layers(image.count(Origin::Written), "written layer")
        ),
        (None, None) => "from the engine's archive".to_string(),
    };
    log.app_runner(format!(
        "Wrote the image as {what} to {} ({:.1} MB{digest}) in {:.1} s: {from}.",
        written.dest.display(),
        written.bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    ));
    let mut fields = vec![("output", written.dest.display().to_string())];
    if let Some(digest) = written.manifest_digest {
        fields.push(("manifest_digest", digest));
    }
    Ok(fields)
}

fn layers(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

fn failed(log: &BuildLog, e: ExportError) -> CliError {
    let path = match &e {
        ExportError::Write { path, .. } | ExportError::NotALayout { path } => Some(path.clone()),
        _ => None,
    };
    log.app_runner(format!(
        "The image was built, but not written out: {e} [{}]",
        codes::OUTPUT_NOT_WRITTEN
    ));
    let mut d = Diagnostic::error(
        codes::OUTPUT_NOT_WRITTEN,
        format!("the image was not written: {e}"),
    );
    if let Some(path) = path {
        d = d.at(Location::file(&path));
    }
    if matches!(e, ExportError::NotALayout { .. }) {
        d = d.with_help(
            "give dest= a new path, an empty directory or an earlier OCI layout, which is replaced",
        );
    }
    CliError::Usage(Box::new(d))
}
