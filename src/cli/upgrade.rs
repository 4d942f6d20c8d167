//! `apprunner-build upgrade`: the project checked as `validate` checks it (same diagnostics, same
//! exit codes), then the edits that move it to a supported runtime, printed as a unified diff
//! with a reason per change, and written with `--write`.

use super::args::{StrategyArg, UpgradeOpts};
use super::{build, CliError};
use apprunner_build::report::codes;
use apprunner_build::report::diagnostic::{Diagnostic, Location};
use apprunner_build::report::exit;
use apprunner_build::resolve::catalog::Catalog;
use apprunner_build::upgrade::{self, Options, Strategy, UpgradeError};

pub(crate) fn upgrade_command(
    opts: &UpgradeOpts,
    catalog: &Catalog,
    today: chrono::NaiveDate,
) -> Result<u8, CliError> {
    let options = Options {
        to: opts.to.clone(),
        strategy: match opts.strategy {
            StrategyArg::PreRun => Strategy::PreRun,
            StrategyArg::Venv => Strategy::Venv,
            StrategyArg::Target => Strategy::Target,
        },
    };
    let found = match upgrade::upgrade(&opts.project.project_args(), catalog, today, &options) {
        Ok(found) => found,
        Err(UpgradeError::Input(diagnostics)) => return Err(CliError::Input(diagnostics)),
        Err(UpgradeError::Target(d)) => return Err(CliError::Usage(d)),
    };
    build::eprint_diagnostics(&found.diagnostics);
    let mut out = String::new();
    for file in &found.files {
        out.push_str(&file.diff());
    }
    for file in &found.files {
        for reason in file.reasons() {
            out.push_str(&format!("# {reason}\n"));
        }
    }
    print!("{out}");
    if opts.write {
        for file in &found.files {
            std::fs::write(&file.path, file.after()).map_err(|e| {
                CliError::Usage(Box::new(
                    Diagnostic::error(
                        codes::UPGRADE_NOT_WRITTEN,
                        format!("cannot write {}: {e}", file.shown.display()),
                    )
                    .at(Location::file(&file.shown)),
                ))
            })?;
        }
        if !found.files.is_empty() {
            eprintln!(
                "upgraded {} → {}: {} file(s) written",
                found.from,
                found.to,
                found.files.len()
            );
        }
    } else if !found.files.is_empty() {
        eprintln!(
            "{} → {}: nothing written; `--write` applies the diff",
            found.from, found.to
        );
    }
    Ok(exit::OK)
}
