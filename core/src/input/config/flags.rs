//! App Runner's API settings (`CodeConfigurationValues`) given as flags: the whole configuration
//! when the configuration source is the API, or overrides of single detected settings when there
//! is no apprunner.yaml.

use super::{
    check_env_names, AppRunnerConfig, BuildSection, ConfigOrigin, EnvVar, Parsed, RunSection,
    RuntimeRequest, Spanned, DEFAULT_PORT,
};
use crate::input::origin::{Decision, Origin};
use crate::report::codes;
use crate::report::diagnostic::{Diagnostic, Diagnostics};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiSettings {
    pub runtime: Option<String>,
    pub build_command: Option<String>,
    pub start_command: Option<String>,
    pub port: Option<u16>,
    pub env: Vec<EnvVar>,
    /// `--build-env`: apprunner.yaml's `build.env` as flags (not an App Runner API setting): the
    /// build commands see these variables, the image never does.
    pub build_env: Vec<EnvVar>,
}

impl ApiSettings {
    pub fn any(&self) -> bool {
        self.runtime.is_some()
            || self.build_command.is_some()
            || self.start_command.is_some()
            || self.port.is_some()
            || !self.env.is_empty()
            || !self.build_env.is_empty()
    }

    /// The flags as the whole configuration, as App Runner reads its API settings.
    pub fn to_config(&self) -> Parsed {
        let mut diags = Diagnostics::default();
        if self.runtime.is_none() {
            diags.push(
                Diagnostic::error(codes::API_SETTING_MISSING,
                    "no runtime given: `--runtime` is required when the configuration source is the API",
                )
                .with_help("pass e.g. `--runtime python311` or `--runtime nodejs22`"),
            );
        }
        if self.start_command.is_none() {
            diags.push(
                Diagnostic::error(codes::API_SETTING_MISSING, "no start command given: `--start-command` is required when the configuration source is the API")
                    .with_help("pass e.g. `--start-command 'python server.py'`"),
            );
        }
        self.check(&mut diags);
        let config = (!diags.has_errors()).then(|| AppRunnerConfig {
            origin: ConfigOrigin::Flags,
            version: "1.0".into(),
            build: BuildSection {
                build: self.build_command.iter().cloned().collect(),
                env: self.build_env.clone(),
                ..BuildSection::default()
            },
            run: RunSection {
                pre_run: vec![],
                command: self.start_command.clone().unwrap_or_default(),
                port: self.port.unwrap_or(DEFAULT_PORT),
                port_env: None,
                env: self.env.clone(),
                secrets: vec![],
                path_prepend: vec![],
            },
        });
        Parsed {
            config,
            runtime: RuntimeRequest {
                runtime: self.runtime.clone().map(Spanned::bare),
                ..RuntimeRequest::default()
            },
            diagnostics: diags,
        }
    }

    /// Each flag given replaces that one detected setting; the rest stays as detected.
    pub fn override_detected(
        &self,
        config: &mut AppRunnerConfig,
        decisions: &mut Vec<Decision>,
        diags: &mut Diagnostics,
    ) {
        self.check(diags);
        let mut decide = |setting: &str, value: String, flag: &'static str| {
            decisions.retain(|d| d.setting != setting);
            decisions.push(Decision {
                setting: setting.into(),
                value,
                origin: Origin::flag(flag),
            });
        };
        if let Some(command) = &self.build_command {
            config.build.build = vec![command.clone()];
            decide("build", command.clone(), "--build-command");
        }
        if let Some(command) = &self.start_command {
            config.run.command = command.clone();
            decide("start command", command.clone(), "--start-command");
        }
        if let Some(port) = self.port {
            config.run.port = port;
            decide("port", port.to_string(), "--port");
        }
        if !self.env.is_empty() {
            // A flag's value replaces a detected variable of the same name (NODE_ENV, say).
            config
                .run
                .env
                .retain(|detected| !self.env.iter().any(|e| e.name == detected.name));
            config.run.env.extend(self.env.iter().cloned());
            let names: Vec<&str> = self.env.iter().map(|e| e.name.as_str()).collect();
            decide("run env", names.join(", "), "--runtime-env");
        }
        if !self.build_env.is_empty() {
            config.build.env.extend(self.build_env.iter().cloned());
            let names: Vec<&str> = self.build_env.iter().map(|e| e.name.as_str()).collect();
            decide("build env", names.join(", "), "--build-env");
        }
    }

    fn check(&self, diags: &mut Diagnostics) {
        if self.port == Some(0) {
            diags.push(Diagnostic::error(
                codes::INVALID_PORT,
                "`--port` must be from 1 to 65535",
            ));
        }
        for (vars, flag) in [
            (&self.env, "--runtime-env"),
            (&self.build_env, "--build-env"),
        ] {
            for var in vars.iter().filter(|e| e.value.contains('\0')) {
                diags.push(super::yaml_items::nul_in_value(&var.name, flag, None));
            }
            check_env_names(
                vars.iter().map(|e| (e.name.as_str(), None)),
                &format!("`{flag}`"),
                diags,
            );
        }
    }
}
