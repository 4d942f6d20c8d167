//! Input: what the user gave — `apprunner.yaml` (App Runner's *repository* configuration source),
//! App Runner's API settings as flags (the *API* source), or a project with neither (detection,
//! this tool's extension) — read into one value: the settings, the runtime choice, and every
//! version request with its origin. Nothing here knows the catalog.

pub mod config;
pub mod detect;
// Public for the fuzz targets (`fuzz/`), which read patterns without a project.
#[doc(hidden)]
pub mod dockerignore;
pub mod files;
pub mod git_ignore;
pub mod origin;
pub mod package_json;
pub mod source_facts;
pub mod version;
pub mod version_text;

use crate::report::codes;
use crate::report::diagnostic::{Diagnostic, Diagnostics, Location};
use crate::resolve::runtime::{ResolvedRuntime, RuntimeChoice};
use crate::resolve::wheels::LockedWheels;
use config::{ApiSettings, AppRunnerConfig, Parsed, CONFIG_FILE_NAME};
use files::ProjectFiles;
use origin::{Decision, Origin};
use package_json::PackageJson;
use serde::{Deserialize, Serialize};
use std::path::Path;
use version::{RequestedVersion, VersionOrigin};

/// Where the configuration comes from. App Runner knows the first two; detection is ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConfigurationSource {
    /// `apprunner.yaml` in the source directory.
    Repository,
    /// The API settings (here: flags) are the whole configuration; apprunner.yaml is ignored.
    Api,
    /// No apprunner.yaml: settings derived from package.json or Python manifests; a flag
    /// overrides that one setting.
    Detection,
}

/// What the user asked for on the command line.
#[derive(Debug, Clone, Default)]
pub struct InputArgs {
    /// `None`: the repository when apprunner.yaml exists, else detection.
    pub source: Option<ConfigurationSource>,
    pub settings: ApiSettings,
}

/// Every source's result, in one shape.
#[derive(Debug, Clone)]
pub struct Input {
    pub source: ConfigurationSource,
    /// `None` when the configuration names no usable runtime (already reported).
    pub runtime: Option<RuntimeChoice>,
    /// Where `run.pre-run` is written, which only the revised build offers.
    pub pre_run_at: Option<Location>,
    pub requests: Vec<RequestedVersion>,
    /// For detection without `--runtime`: the wheels a Python lockfile pins, which the chosen
    /// runtime should install from.
    pub locked_wheels: Option<LockedWheels>,
    /// `None` when the settings have errors (already reported).
    pub settings: Option<AppRunnerConfig>,
    /// For detection: every derived setting with its origin.
    pub decisions: Vec<Decision>,
    /// Detection prunes devDependencies with npm, spelt for the resolved runtime ([`Self::settle`]).
    pub npm_prune: Option<Origin>,
    pub diagnostics: Diagnostics,
}

impl Input {
    fn new(source: ConfigurationSource) -> Self {
        Self {
            source,
            runtime: None,
            pre_run_at: None,
            requests: Vec::new(),
            locked_wheels: None,
            settings: None,
            decisions: Vec::new(),
            npm_prune: None,
            diagnostics: Diagnostics::default(),
        }
    }

    /// What depends on the resolved runtime: npm's prune command, after the other build commands.
    pub fn settle(&mut self, runtime: &ResolvedRuntime) {
        let (Some(origin), Some(settings)) = (self.npm_prune.take(), self.settings.as_mut()) else {
            return;
        };
        let command = detect::npm_prune_command(runtime.version.major);
        settings.build.build.push(command.into());
        self.decisions.push(Decision {
            setting: "prune devDependencies".into(),
            value: command.into(),
            origin,
        });
    }
}

/// Read the project `files` holds.
pub fn read(files: &ProjectFiles, args: &InputArgs) -> Input {
    let shown_root = files.shown_root();
    let config_file = config::find_config(files, shown_root);
    let has_config = !matches!(config_file, Ok(None));
    let source = match args.source {
        Some(source) => source,
        None if has_config => ConfigurationSource::Repository,
        None => ConfigurationSource::Detection,
    };
    let mut input = Input::new(source);
    // package.json is read once: engines.node is a request whatever the source.
    let package = match PackageJson::read(files, shown_root) {
        Ok(p) => p,
        Err(d) => {
            input.diagnostics.push(d);
            None
        }
    };
    match source {
        ConfigurationSource::Repository => {
            if args.settings.any() {
                input.diagnostics.push(settings_need_api_source(shown_root));
            }
            match config_file {
                Ok(Some(file)) => {
                    let mut parsed = config::parse(&file.source);
                    if file.found.has_errors() {
                        parsed.config = None;
                    }
                    input.diagnostics.extend(file.found);
                    input.take_configuration(parsed, Some(&file.source.path));
                }
                Ok(None) => input.diagnostics.push(no_config(shown_root, args)),
                Err(found) => input.diagnostics.extend(found),
            }
        }
        ConfigurationSource::Api => {
            if has_config {
                input.diagnostics.push(
                    Diagnostic::warning(codes::CONFIG_FILE_IGNORED, format!(
                        "{} is ignored: the configuration source is the API (--configuration-source api)",
                        shown_root.join(CONFIG_FILE_NAME).display()
                    ))
                    .with_note("as in App Runner, settings come either from the API (here: flags) or from the file"),
                );
            }
            input.take_configuration(args.settings.to_config(), None);
        }
        ConfigurationSource::Detection => input.detect(files, package.as_ref(), args),
    }
    if let Some(package) = &package {
        input.engines_node(package);
    }
    input
}

impl Input {
    /// apprunner.yaml or the API settings: a named runtime and its `runtime-version`.
    fn take_configuration(&mut self, parsed: Parsed, config_path: Option<&Path>) {
        self.diagnostics.extend(parsed.diagnostics);
        self.settings = parsed.config;
        self.pre_run_at = parsed.runtime.pre_run_at;
        if let Some(version) = &parsed.runtime.runtime_version {
            let origin = VersionOrigin::ConfigRuntimeVersion {
                path: config_path.unwrap_or(Path::new(CONFIG_FILE_NAME)).into(),
                line: version
                    .location
                    .as_ref()
                    .and_then(|l| l.position)
                    .map(|p| p.line),
            };
            match RequestedVersion::from_runtime_version(version, origin) {
                Ok(r) => self.requests.push(r),
                Err(e) => self.diagnostics.push(e.into()),
            }
        }
        self.runtime = parsed.runtime.runtime.map(RuntimeChoice::Named);
    }

    /// No apprunner.yaml: the project's files decide, and each flag given overrides one setting.
    fn detect(&mut self, files: &ProjectFiles, package: Option<&PackageJson>, args: &InputArgs) {
        let shown_root = files.shown_root();
        let detected = match detect::detect(files, shown_root, package) {
            Ok(Some(d)) => d,
            Ok(None) if args.settings.any() => {
                // Nothing to detect: the flags are all there is, as with the API source.
                return self.take_configuration(args.settings.to_config(), None);
            }
            Ok(None) => return self.diagnostics.push(no_config(shown_root, args)),
            Err(errors) => return self.diagnostics.0.extend(errors),
        };
        self.runtime = Some(match &args.settings.runtime {
            Some(name) => {
                self.decisions.push(Decision {
                    setting: "runtime".into(),
                    value: name.clone(),
                    origin: Origin::flag("--runtime"),
                });
                RuntimeChoice::Named(config::Spanned::bare(name.clone()))
            }
            None => {
                // A runtime named on the command line is built as named; only a choice among
                // runtimes looks at the wheels.
                self.locked_wheels = detected.locked_wheels.clone();
                RuntimeChoice::BestOf {
                    language: detected.language,
                    default: detected.default_runtime.to_string(),
                }
            }
        });
        self.requests.extend(detected.requests.iter().cloned());
        self.diagnostics.0.extend(detected.remarks.iter().cloned());
        // A build command given as a flag replaces the detected ones, the prune with them.
        if args.settings.build_command.is_none() {
            self.npm_prune = detected.npm_prune.clone();
        }
        let (mut settings, mut decisions) = detected.into_config();
        args.settings
            .override_detected(&mut settings, &mut decisions, &mut self.diagnostics);
        self.decisions.splice(0..0, decisions);
        self.settings = Some(settings);
    }

    /// `engines.node` in package.json: a request for Node.js runtimes, whatever the source.
    fn engines_node(&mut self, package: &PackageJson) {
        match package.node_request() {
            Some(Ok(request)) => {
                if self.source == ConfigurationSource::Detection {
                    self.decisions.insert(
                        0,
                        Decision {
                            setting: "runtime".into(),
                            value: format!("Node.js {}", request.text),
                            origin: Origin::from(&request.origin),
                        },
                    );
                }
                self.requests.push(request);
            }
            Some(Err(e)) => self.diagnostics.push(e.into()),
            None => {}
        }
    }
}

fn settings_need_api_source(shown_root: &Path) -> Diagnostic {
    Diagnostic::error(codes::SETTINGS_WITH_CONFIG_FILE, format!(
        "settings flags (--runtime, --build-command, --start-command, --port, --runtime-env, --build-env) were given, but {} is the configuration",
        shown_root.join(CONFIG_FILE_NAME).display()
    ))
    .with_note("App Runner reads its settings either from apprunner.yaml (the repository) or from the API, never both")
    .with_help("drop the flags, or pass --configuration-source api to use only the flags (apprunner.yaml is then ignored)")
}

fn no_config(shown_root: &Path, args: &InputArgs) -> Diagnostic {
    let shown_dir = if shown_root.as_os_str().is_empty() {
        "the current directory".to_string()
    } else {
        shown_root.display().to_string()
    };
    let d = Diagnostic::error(
        codes::NO_CONFIGURATION,
        format!("no {CONFIG_FILE_NAME} in {shown_dir}"),
    )
    .at(Location::file(&shown_root.join(CONFIG_FILE_NAME)));
    if args.source == Some(ConfigurationSource::Repository) {
        return d.with_help("add an apprunner.yaml, or drop --configuration-source repository");
    }
    d.with_note("without one, apprunner-build reads a Node.js app's package.json, or a Python app's requirements.txt, Pipfile or pyproject.toml; there is none of those either")
        .with_help("add an apprunner.yaml, or give App Runner's settings as flags: --runtime, --build-command, --start-command, --port, --runtime-env")
}
