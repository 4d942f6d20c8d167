//! Projects without apprunner.yaml: a Node.js app from its package.json (as App Runner does), and a
//! Python app from requirements.txt, Pipfile or pyproject.toml (beyond App Runner). Every derived
//! setting is recorded with where it came from, so `plan` can show why.

mod dockerfile;
mod hints;
mod js_imports;
mod node;
mod node_prune;
mod node_reach;
mod node_start;
mod python;
mod python_app;
mod python_lock;
mod python_project;
mod python_start;

use crate::input::config::{
    AppRunnerConfig, BuildSection, ConfigOrigin, EnvVar, RunSection, DEFAULT_PORT,
};
use crate::input::files::ProjectFiles;
use crate::input::origin::{Decision, Origin};
use crate::input::package_json::PackageJson;
use crate::input::version::{RequestedVersion, VersionOrigin};
use crate::input::version_text::version_file_range;
use crate::report::codes;
use crate::report::diagnostic::{Diagnostic, Location};
use crate::resolve::wheels::LockedWheels;
pub use node::npm_prune_command;
use std::path::Path;

/// What detection derived: the settings, the runtime requirements, and the reasons.
#[derive(Debug, Clone)]
pub struct Detected {
    pub language: crate::resolve::catalog::Language,
    /// The runtime when nothing asks for a version.
    pub default_runtime: &'static str,
    pub requests: Vec<RequestedVersion>,
    pub build: BuildSection,
    pub start: String,
    /// `run.env` of the image: production defaults (`NODE_ENV`, `PYTHONUNBUFFERED`).
    pub run_env: Vec<EnvVar>,
    pub path_prepend: Vec<String>,
    pub decisions: Vec<Decision>,
    /// Remarks that do not stop the build.
    pub remarks: Vec<Diagnostic>,
    /// devDependencies are pruned with npm, in the spelling of the resolved runtime's npm
    /// ([`node::npm_prune_command`]); why they may be.
    pub npm_prune: Option<Origin>,
    /// The wheels a Python lockfile pins, when there is a version request for resolution to
    /// choose among runtimes by them (and the lockfile lists wheels that count).
    pub locked_wheels: Option<LockedWheels>,
}

impl Detected {
    /// The configuration App Runner would have been given.
    pub fn into_config(self) -> (AppRunnerConfig, Vec<Decision>) {
        let config = AppRunnerConfig {
            origin: ConfigOrigin::Detected,
            version: "1.0".into(),
            build: self.build,
            run: RunSection {
                pre_run: vec![],
                command: self.start,
                port: DEFAULT_PORT,
                port_env: None,
                env: self.run_env,
                secrets: vec![],
                path_prepend: self.path_prepend,
            },
        };
        (config, self.decisions)
    }

    /// A variable in the image's environment, recorded as a decision.
    fn run_env(&mut self, name: &str, value: &str, origin: Origin) {
        self.run_env.push(EnvVar {
            name: name.into(),
            value: value.into(),
        });
        self.decide("image env", format!("{name}={value}"), origin);
    }

    fn decide(&mut self, setting: &str, value: impl Into<String>, origin: Origin) {
        self.decisions.push(Decision {
            setting: setting.to_string(),
            value: value.into(),
            origin,
        });
    }
}

/// `Ok(None)`: nothing here that detection knows.
pub fn detect(
    project: &ProjectFiles,
    shown_root: &Path,
    package: Option<&PackageJson>,
) -> Result<Option<Detected>, Vec<Diagnostic>> {
    if let Some(package) = package {
        return node::detect(project, shown_root, package).map(Some);
    }
    python::detect(project, shown_root)
}

fn error_at(
    code: codes::Code,
    shown_root: &Path,
    name: &str,
    message: impl Into<String>,
) -> Diagnostic {
    Diagnostic::error(code, message).at(Location::file(&shown_root.join(name)))
}

/// A version file is one line; a few kilobytes is plenty.
const VERSION_FILE_CAP: u64 = 4 * 1024;

/// The first of `names` that exists (`.nvmrc`, `.python-version`, …), as a version requirement.
fn version_file(
    project: &ProjectFiles,
    shown_root: &Path,
    names: &[&str],
    language: crate::resolve::catalog::Language,
    example: &str,
) -> Option<Result<RequestedVersion, Diagnostic>> {
    // A version file holds a line; the first that exists counts, and one that may not be read
    // (a link out of the project, a FIFO, a large file) is an error, never quoted.
    let found = names.iter().find_map(|n| {
        project
            .file(n, VERSION_FILE_CAP)
            .transpose()
            .map(|r| r.map(|t| (*n, t)))
    })?;
    let (name, text) = match found {
        Ok(found) => found,
        Err(d) => return Some(Err(d)),
    };
    let origin = VersionOrigin::VersionFile {
        path: shown_root.join(name),
        language,
    };
    Some(match version_file_range(&text) {
        Some(range) => RequestedVersion::from_npm_range(&range, origin, None).map_err(Into::into),
        None => Err(error_at(
            codes::INVALID_VERSION_FILE,
            shown_root,
            name,
            format!(
                "`{}` in {name} is not a {language} version",
                short(text.lines().next().unwrap_or("").trim())
            ),
        )
        .with_help(format!("write a version such as {example}"))),
    })
}

/// At most a short snippet of what a file holds, for a message.
fn short(text: &str) -> String {
    const MAX: usize = 40;
    match text.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}
