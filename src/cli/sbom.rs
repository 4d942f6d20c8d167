//! `build --sbom FILE`: the built image's packages as a CycloneDX 1.5 JSON document.

use super::CliError;
use apprunner_build::engine::{BuiltImage, Session};
use apprunner_build::report::codes;
use apprunner_build::report::diagnostic::{Diagnostic, Location};
use apprunner_build::report::log::BuildLog;
use apprunner_build::sbom::{self, SbomError};
use std::path::Path;
use std::time::Instant;

/// Write the SBOM of `built` to `dest`, with a log line; the field for the JSON result.
pub(crate) async fn write(
    session: &Session,
    built: &BuiltImage,
    dest: &Path,
    log: &BuildLog,
) -> Result<Vec<(&'static str, String)>, CliError> {
    let started = Instant::now();
    let summary = sbom::write(session.docker(), &built.id, &built.name.to_string(), dest)
        .await
        .map_err(|e| failed(log, e))?;
    log.app_runner(format!(
        "Wrote the SBOM ({} components: {} Python, {} npm, {} OS packages) to {} in {:.1} s.",
        summary.components(),
        summary.python,
        summary.npm,
        summary.os_packages,
        summary.dest.display(),
        started.elapsed().as_secs_f64()
    ));
    if !summary.rpm_databases.is_empty() {
        log.app_runner(format!(
            "The image's rpm database ({}) is not read: the SBOM lists none of its OS packages [{}]",
            summary.rpm_databases.join(", "),
            codes::SBOM_RPM_NOT_READ
        ));
    }
    Ok(vec![("sbom", summary.dest.display().to_string())])
}

fn failed(log: &BuildLog, e: SbomError) -> CliError {
    log.app_runner(format!(
        "The image was built, but its SBOM was not written: {e} [{}]",
        codes::SBOM_NOT_WRITTEN
    ));
    let mut d = Diagnostic::error(
        codes::SBOM_NOT_WRITTEN,
        format!("the SBOM was not written: {e}"),
    );
    if let SbomError::Write { path, .. } = &e {
        d = d.at(Location::file(path));
    }
    CliError::Usage(Box::new(d))
}
