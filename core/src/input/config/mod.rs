//! The App Runner configuration: `apprunner.yaml` (version 1.0), or the same settings given as flags.
//!
//! Reading reports *all* problems at once as located [`Diagnostic`]s; nothing here touches a container
//! engine or the runtime catalog (runtime checks happen in [`crate::resolve::runtime`]).

mod file;
mod flags;
mod foreign;
mod indentation;
mod secrets;
mod sections;
mod syntax;
mod yaml;
mod yaml_items;

pub use file::{find_config, from_bytes, ConfigFile, CONFIG_FILE_NAME, MAX_CONFIG_SIZE};
pub use flags::ApiSettings;
pub use secrets::check_secret_reference;

use crate::report::codes;
use crate::report::diagnostic::{Diagnostic, Diagnostics, Location, SourceText};
use serde::{Deserialize, Serialize};

pub use crate::report::diagnostic::Spanned;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvVar {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Secret {
    pub name: String,
    /// A Secrets Manager ARN, an SSM parameter ARN, or a bare SSM parameter name. Never a value.
    pub value_from: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct BuildSection {
    pub pre_build: Vec<String>,
    pub build: Vec<String>,
    pub post_build: Vec<String>,
    pub env: Vec<EnvVar>,
}

pub const DEFAULT_PORT: u16 = 8080;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunSection {
    pub pre_run: Vec<String>,
    pub command: String,
    pub port: u16,
    pub port_env: Option<String>,
    pub env: Vec<EnvVar>,
    pub secrets: Vec<Secret>,
    /// Directories put first on PATH in the image (a detected project's virtualenv); apprunner.yaml
    /// has no such key.
    pub path_prepend: Vec<String>,
}

/// Where the settings came from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ConfigOrigin {
    File(SourceText),
    Flags,
    /// Derived from the project's files (package.json, requirements.txt, …).
    #[default]
    Detected,
}

/// The settings of a configuration that passed every check that needs no catalog. The runtime
/// and its version are not here: they are the [`RuntimeRequest`], which the resolver turns into a
/// runtime.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppRunnerConfig {
    #[serde(skip)]
    pub origin: ConfigOrigin,
    pub version: String,
    pub build: BuildSection,
    pub run: RunSection,
}

impl AppRunnerConfig {
    pub fn source(&self) -> Option<&SourceText> {
        match &self.origin {
            ConfigOrigin::File(s) => Some(s),
            ConfigOrigin::Flags | ConfigOrigin::Detected => None,
        }
    }
}

/// The result of reading a configuration: the settings when they are usable, the runtime request
/// (read even when other parts are broken, so that runtime problems are reported in the same run
/// as the rest), and everything found.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    pub config: Option<AppRunnerConfig>,
    pub runtime: RuntimeRequest,
    pub diagnostics: Diagnostics,
}

/// What a configuration asks of the runtime: `runtime`, `run.runtime-version`, and whether it has
/// a `pre-run` (which only the revised build offers).
#[derive(Debug, Clone, Default)]
pub struct RuntimeRequest {
    pub runtime: Option<Spanned<String>>,
    pub runtime_version: Option<Spanned<String>>,
    pub pre_run_at: Option<Location>,
}

/// Parse and check the text of an `apprunner.yaml`.
pub fn parse(source: &SourceText) -> Parsed {
    yaml::parse(source)
}

/// Names App Runner keeps for itself.
pub fn reserved_name(name: &str) -> Option<&'static str> {
    if name == "PORT" {
        Some("App Runner always sets PORT to the service port (run.network.port)")
    } else if name.to_ascii_uppercase().starts_with("AWSAPPRUNNER") {
        Some("names starting with AWSAPPRUNNER are reserved for App Runner")
    } else {
        None
    }
}

/// An environment variable name a shell and App Runner both accept.
pub fn env_name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("the name is empty".into());
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
    {
        return Some(format!(
            "`{name}` contains `{c}`: use letters, digits and `_` only"
        ));
    }
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        return Some(format!("`{name}` starts with a digit"));
    }
    None
}

/// A secret name App Runner passes on though a shell cannot read it (`app/env`): not empty, and
/// no `=`, whitespace or control character, which no environment can hold.
pub fn secret_name_passes(name: &str) -> bool {
    !name.is_empty()
        && !name
            .chars()
            .any(|c| c == '=' || c.is_whitespace() || c.is_control())
}

/// Check a list of variables for reserved and repeated names; `what` is e.g. "run.env". For
/// `run.secrets`, a name only a shell cannot read is a warning: the application still gets it
/// from its environment (`os.environ["app/env"]`, `process.env["app/env"]`).
pub(crate) fn check_env_names<'a>(
    items: impl Iterator<Item = (&'a str, Option<Location>)>,
    what: &str,
    diags: &mut Diagnostics,
) {
    let secrets = what.contains("secrets");
    let mut seen: Vec<(&str, Option<Location>)> = Vec::new();
    for (name, loc) in items {
        let problem = env_name_problem(name);
        if let (Some(why), true) = (&problem, secrets && secret_name_passes(name)) {
            diags.push(
                Diagnostic::warning(
                    codes::SHELL_UNREADABLE_NAME,
                    format!("secret name in {what} cannot be read from a shell: {why}"),
                )
                .at_opt(loc.clone())
                .with_note(format!(
                    "App Runner accepts the name, and the application gets it from its environment (os.environ[\"{name}\"], process.env[\"{name}\"]); `${name}` in a shell command does not work"
                ))
                .with_help("if a shell command or a start script reads it, rename it with letters, digits and `_` only"),
            );
        } else if let Some(why) = problem {
            diags.push(
                Diagnostic::error(
                    codes::INVALID_VARIABLE_NAME,
                    format!("invalid variable name in {what}: {why}"),
                )
                .at_opt(loc.clone()),
            );
        } else if let Some(why) = reserved_name(name) {
            diags.push(
                Diagnostic::error(
                    codes::RESERVED_VARIABLE,
                    format!("`{name}` in {what} is reserved"),
                )
                .at_opt(loc.clone())
                .with_note(why)
                .with_help("remove it, or rename the variable your application reads"),
            );
        }
        if let Some((_, first)) = seen.iter().find(|(n, _)| *n == name) {
            let mut d = Diagnostic::error(
                codes::DUPLICATE_VARIABLE,
                format!("`{name}` is defined more than once in {what}"),
            )
            .at_opt(loc.clone())
            .with_help("keep one definition; App Runner would not tell you which one wins");
            if let Some(p) = first.as_ref().and_then(|l| l.position) {
                d = d.with_note(format!("first defined on line {}", p.line));
            }
            diags.push(d);
        } else {
            seen.push((name, loc));
        }
    }
}
