//! `apprunner-build export ecs|kubernetes|cloudrun`: the project checked as `validate` checks it
//! (same diagnostics, same exit codes), then written in the target's format.

use super::args::{ExportOpts, TargetArg};
use super::{build, session, CliError};
use apprunner_build::export::{self, Service, ServiceSettings, Target};
use apprunner_build::project;
use apprunner_build::report::diagnostic::{Diagnostic, Diagnostics, Location};
use apprunner_build::report::{codes, errors, exit};
use apprunner_build::resolve::catalog::Catalog;
use std::io::Write;
use std::path::Path;

pub(crate) fn export_command(
    opts: &ExportOpts,
    catalog: &Catalog,
    today: chrono::NaiveDate,
) -> Result<u8, CliError> {
    let loaded = project::load(&opts.project.project_args(), catalog, today);
    let (Some(plan), Some(config)) = (&loaded.plan, &loaded.config) else {
        return Err(CliError::Input(loaded.diagnostics));
    };
    build::eprint_diagnostics(&loaded.diagnostics);
    let settings = ServiceSettings {
        image: opts.image.clone(),
        name: opts.name.clone(),
        cpu: opts.cpu,
        memory: opts.memory,
        health: opts.health.check(),
        instance_role: opts.instance_role.clone(),
        execution_role: opts.execution_role.clone(),
        infrastructure_role: opts.infrastructure_role.clone(),
    };
    let mut found = Diagnostics::default();
    let service = Service::new(
        &config.run,
        &plan.runtime.name,
        &session::directory_name(plan),
        &settings,
        &mut found,
    );
    let target = match opts.target {
        TargetArg::Ecs => Target::Ecs,
        TargetArg::Kubernetes => Target::Kubernetes,
        TargetArg::Cloudrun => Target::CloudRun,
    };
    let exported = export::export(target, &service, found);
    build::eprint_diagnostics(&exported.diagnostics);
    match &opts.output_dir {
        None => {
            let _ = std::io::stdout().write_all(exported.stdout.as_bytes());
        }
        Some(dir) => {
            let notes = errors::render_all(&exported.diagnostics);
            let files = exported
                .files
                .iter()
                .map(|f| (f.name, f.text.as_str()))
                .chain([("NOTES.txt", notes.as_str())]);
            for (name, text) in files {
                let path = dir.join(name);
                write(&path, text)?;
                println!("wrote {}", path.display());
            }
        }
    }
    Ok(exit::OK)
}

fn write(path: &Path, text: &str) -> Result<(), CliError> {
    let made = match path.parent() {
        Some(dir) => std::fs::create_dir_all(dir),
        None => Ok(()),
    };
    made.and_then(|()| std::fs::write(path, text)).map_err(|e| {
        CliError::Usage(Box::new(
            Diagnostic::error(
                codes::EXPORT_NOT_WRITTEN,
                format!("the export cannot be written: {e}"),
            )
            .at(Location::file(path)),
        ))
    })
}
