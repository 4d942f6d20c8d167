//! From a directory on disk to a checked configuration and a plan, collecting every problem.

use crate::input::config::RuntimeHints;
use crate::input::config::{self, ConfigFlags, Parsed};
use crate::input::detect::{self, Detected};
use crate::input::package_json::PackageJson;
use crate::plan::{self, BuildPlan};
use crate::report::diagnostic::{Diagnostic, Diagnostics, Location};
use crate::resolve::catalog::BuildProcess;
use crate::resolve::catalog::Catalog;
use crate::resolve::runtime::{self, RequestedVersion, Resolution, VersionOrigin};
use std::path::{Path, PathBuf};

/// What the user pointed us at.
#[derive(Debug, Clone, Default)]
pub struct ProjectArgs {
    /// The repository directory (App Runner's repository root).
    pub dir: PathBuf,
    /// App Runner's "source directory" inside the repository (monorepos).
    pub source_directory: Option<PathBuf>,
    pub flags: ConfigFlags,
}

/// A plan when everything checked out, and all that was found along the way.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub plan: Option<BuildPlan>,
    pub diagnostics: Diagnostics,
}

impl ProjectArgs {
    /// The build root on disk, and the same path as shown in messages (relative to where the
    /// user stands, so `apprunner.yaml:3:5` rather than `/home/…/apprunner.yaml:3:5`).
    pub fn roots(&self) -> (PathBuf, PathBuf) {
        let shown_dir = if self.dir == Path::new(".") {
            PathBuf::new()
        } else {
            self.dir.clone()
        };
        match &self.source_directory {
            Some(sub) => (self.dir.join(sub), shown_dir.join(sub)),
            None => (self.dir.clone(), shown_dir),
        }
    }
}

pub fn load(args: &ProjectArgs, catalog: &Catalog, today: chrono::NaiveDate) -> Loaded {
    let mut out = Loaded::default();
    let (root, shown_root) = args.roots();
    if !root.is_dir() {
        let what = if args.source_directory.is_some() {
            "source directory"
        } else {
            "directory"
        };
        out.diagnostics.push(
            Diagnostic::error(format!("{what} `{}` does not exist or is not a directory", root.display()))
                .with_help(if args.source_directory.is_some() {
                    "--source-directory is relative to the repository directory, as in App Runner's settings"
                } else {
                    "pass the directory that holds your application's source"
                }),
        );
        return out;
    }
    let package = match PackageJson::read(&root, &shown_root) {
        Ok(p) => p,
        Err(d) => {
            out.diagnostics.push(d);
            None
        }
    };
    let parsed: Parsed = if args.flags.any() {
        if root.join(config::CONFIG_FILE_NAME).is_file() {
            out.diagnostics.push(
                Diagnostic::warning(format!(
                    "{} is ignored because configuration flags were given",
                    shown_root.join(config::CONFIG_FILE_NAME).display()
                ))
                .with_note("as in App Runner, settings come either from the API (here: flags) or from the file"),
            );
        }
        args.flags.to_config()
    } else {
        match config::find_config(&root, &shown_root) {
            Ok(Some(file)) => {
                let mut parsed = config::parse(&file.source);
                if file.found.has_errors() {
                    parsed.config = None;
                }
                parsed.diagnostics.0.splice(0..0, file.found.0);
                parsed
            }
            Ok(None) => {
                match detect::detect(&root, &shown_root, package.as_ref()) {
                    Ok(Some(detected)) => load_detected(&mut out, root, detected, package.as_ref(), catalog, today),
                    Ok(None) => out.diagnostics.push(
                        Diagnostic::error(format!("no {} in {}", config::CONFIG_FILE_NAME, display_dir(&shown_root)))
                            .at(Location::file(&shown_root.join(config::CONFIG_FILE_NAME)))
                            .with_note("without one, apprunner-build reads a Node.js app's package.json, or a Python app's requirements.txt, Pipfile or pyproject.toml; there is none of those either")
                            .with_help("add an apprunner.yaml, or give the settings as flags: --runtime, --build-command, --start-command, --port, --env"),
                    ),
                    Err(errors) => out.diagnostics.0.extend(errors),
                }
                out.diagnostics = std::mem::take(&mut out.diagnostics).sorted();
                return out;
            }
            Err(diags) => {
                out.diagnostics.extend(diags);
                return out;
            }
        }
    };
    out.diagnostics.extend(parsed.diagnostics);
    let config_path = parsed
        .config
        .as_ref()
        .and_then(|c| c.source())
        .map(|s| s.path.clone());
    let config_path = config_path.or_else(|| Some(shown_root.join(config::CONFIG_FILE_NAME)));
    let resolution = check_runtime(
        catalog,
        &parsed.hints,
        config_path.as_ref(),
        package.as_ref(),
        today,
    );
    let resolution = match resolution {
        Ok(r) => {
            out.diagnostics.0.extend(r.remarks.iter().cloned());
            Some(r)
        }
        Err(errors) => {
            out.diagnostics.0.extend(errors);
            None
        }
    };
    out.diagnostics = std::mem::take(&mut out.diagnostics).sorted();
    if out.diagnostics.has_errors() {
        return out;
    }
    if let (Some(config), Some(resolution)) = (parsed.config, resolution) {
        let plan = plan::make_plan(root, &config, resolution.runtime);
        out.diagnostics.0.extend(plan::lint(&plan));
        out.plan = Some(plan);
    }
    out
}

/// A project without apprunner.yaml: pick the runtime across the language's runtimes, then plan.
fn load_detected(
    out: &mut Loaded,
    root: PathBuf,
    mut detected: Detected,
    package: Option<&PackageJson>,
    catalog: &Catalog,
    today: chrono::NaiveDate,
) {
    let mut requests = std::mem::take(&mut detected.requests);
    match package.and_then(PackageJson::node_request) {
        Some(Ok(r)) => requests.push(r),
        Some(Err(e)) => {
            out.diagnostics.push(e.into());
            return;
        }
        None => {}
    }
    let resolution = match runtime::resolve_best(
        catalog,
        detected.language,
        &requests,
        detected.default_runtime,
        today,
    ) {
        Ok(r) => r,
        Err(e) => {
            out.diagnostics.push(e.into());
            return;
        }
    };
    out.diagnostics.0.extend(resolution.remarks.iter().cloned());
    out.diagnostics
        .0
        .extend(std::mem::take(&mut detected.remarks));
    let (config, decisions) = detected.into_config(&resolution.runtime.name);
    let mut plan = plan::make_plan(root, &config, resolution.runtime);
    plan.decisions = decisions;
    out.diagnostics.0.extend(plan::lint(&plan));
    out.plan = Some(plan);
}

fn display_dir(p: &Path) -> String {
    if p.as_os_str().is_empty() {
        "the current directory".into()
    } else {
        p.display().to_string()
    }
}
/// Resolve the runtime from what the configuration says (even a partly broken one) and package.json.
pub fn check_runtime(
    catalog: &Catalog,
    hints: &RuntimeHints,
    config_path: Option<&PathBuf>,
    package: Option<&PackageJson>,
    today: chrono::NaiveDate,
) -> Result<Resolution, Vec<Diagnostic>> {
    let Some(name) = &hints.runtime else {
        return Err(vec![]);
    };
    let runtime = runtime::find_runtime(catalog, name).map_err(|e| vec![e.into()])?;
    let mut errors: Vec<Diagnostic> = Vec::new();
    let mut requests = Vec::new();
    if let Some(v) = &hints.runtime_version {
        let origin = VersionOrigin::ConfigRuntimeVersion {
            path: config_path
                .cloned()
                .unwrap_or_else(|| "apprunner.yaml".into()),
            line: v.location.as_ref().and_then(|l| l.position).map(|p| p.line),
        };
        match RequestedVersion::from_runtime_version(v, origin) {
            Ok(r) => requests.push(r),
            Err(e) => errors.push(e.into()),
        }
    }
    if runtime.language == crate::resolve::catalog::Language::Nodejs {
        if let Some(request) = package.and_then(PackageJson::node_request) {
            match request {
                Ok(r) => requests.push(r),
                Err(e) => errors.push(e.into()),
            }
        }
    }
    if let Some(loc) = &hints.pre_run {
        if runtime.build_process == BuildProcess::Original {
            errors.push(pre_run_on_original(&runtime.name, loc.clone()));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    runtime::resolve(catalog, runtime, &requests, today).map_err(|e| {
        let mut d: Diagnostic = e.into();
        // The runtime itself is one of the two sides: say where it was set.
        if let Some(at) = name
            .location
            .as_ref()
            .filter(|_| d.message.contains("has no version matching"))
        {
            d = d.with_note(format!(
                "the runtime is set to {} at {}",
                runtime.name,
                at.short()
            ));
        }
        vec![d]
    })
}

fn pre_run_on_original(runtime: &str, at: Location) -> Diagnostic {
    Diagnostic::error(format!("`run.pre-run` is not available for {runtime}"))
        .at(at)
        .with_note(format!(
            "{runtime} uses App Runner's original build, which has no pre-run step; pre-run exists for python311, nodejs18 and nodejs22"
        ))
        .with_help("move these commands to `build.commands.post-build` or the start command, or use a runtime with the revised build")
}
