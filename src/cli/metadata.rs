//! `build --metadata-file FILE` and `--iidfile FILE`: what was built, for machines. The schema is
//! in the README ("What a build records"); `tests/cli_metadata.rs` checks a real build's file
//! against it. No value of build.env, a secret or a credential is in it: steps carry their kind,
//! stage, time, exit code and cache decision, never their environment.

use super::CliError;
use apprunner_build::engine::BuiltImage;
use apprunner_build::plan::BuildPlan;
use apprunner_build::report::codes;
use apprunner_build::report::diagnostic::{Diagnostic, Diagnostics, Location};
use apprunner_build::report::log;
use std::path::Path;

/// The version of this file's schema: a new field keeps it, a changed one raises it.
pub(crate) const FORMAT: u32 = 1;

/// The record of a successful build. `written` holds what `--output`, `--sbom` and `--push` reported.
pub(crate) fn value(
    plan: &BuildPlan,
    built: &BuiltImage,
    warnings: &Diagnostics,
    written: &[(&'static str, String)],
) -> serde_json::Value {
    let field = |name: &str| {
        written
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
    };
    let pushed: Vec<serde_json::Value> = field("pushed")
        .map(|reference| {
            serde_json::json!({ "reference": reference, "digest": field("pushed_digest") })
        })
        .into_iter()
        .collect();
    let output = field("output").map(
        |dest| serde_json::json!({ "dest": dest, "manifest_digest": field("manifest_digest") }),
    );
    serde_json::json!({
        "format": FORMAT,
        "tool": { "name": "apprunner-build", "version": env!("CARGO_PKG_VERSION") },
        "image": {
            "id": built.id,
            "name": built.name.to_string(),
            "size": built.size,
            "up_to_date": built.up_to_date,
            "labels": plan.image.labels,
        },
        "tags": [built.name.to_string()],
        "pushed": pushed,
        "output": output,
        "sbom": field("sbom"),
        "runtime": {
            "name": plan.runtime.name,
            "version": plan.runtime.version.to_string(),
            "build_process": plan.runtime.build_process,
            "origin": plan.runtime.reason,
        },
        "seconds": {
            "total": built.total.as_secs_f64(),
            "commands": built.commands.as_secs_f64(),
        },
        "steps": built.steps,
        "warnings": warnings.iter().map(log::diagnostic_value).collect::<Vec<_>>(),
    })
}

/// Write `text` to `path` (created or replaced), or say which file could not be written.
pub(crate) fn write(path: &Path, text: &str, what: &str) -> Result<(), CliError> {
    std::fs::write(path, text).map_err(|e| {
        CliError::Usage(Box::new(
            Diagnostic::error(
                codes::OUTPUT_NOT_WRITTEN,
                format!("the image was built, but {what} could not be written: {e}"),
            )
            .at(Location::file(path)),
        ))
    })
}
