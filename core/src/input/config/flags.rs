//! Settings given on the command line, mirroring App Runner's API configuration
//! (`CodeConfigurationValues`): used when the configuration source is the API, not a file.

use super::{
    check_env_names, AppRunnerConfig, BuildSection, ConfigOrigin, EnvVar, Parsed, RunSection,
    Spanned, DEFAULT_PORT,
};
use crate::report::diagnostic::{Diagnostic, Diagnostics};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigFlags {
    pub runtime: Option<String>,
    pub build_command: Option<String>,
    pub start_command: Option<String>,
    pub port: Option<u16>,
    /// `NAME=VALUE` as typed.
    pub env: Vec<String>,
}

impl ConfigFlags {
    pub fn any(&self) -> bool {
        self.runtime.is_some()
            || self.build_command.is_some()
            || self.start_command.is_some()
            || self.port.is_some()
            || !self.env.is_empty()
    }

    pub fn to_config(&self) -> Parsed {
        let mut diags = Diagnostics::default();
        if self.runtime.is_none() {
            diags.push(
                Diagnostic::error(
                    "no runtime given: `--runtime` is required without an apprunner.yaml",
                )
                .with_help("pass e.g. `--runtime python311` or `--runtime nodejs22`"),
            );
        }
        if self.start_command.is_none() {
            diags.push(
                Diagnostic::error("no start command given: `--start-command` is required without an apprunner.yaml")
                    .with_help("pass e.g. `--start-command 'python server.py'`"),
            );
        }
        if self.port == Some(0) {
            diags.push(Diagnostic::error("`--port` must be from 1 to 65535"));
        }
        let mut env = Vec::new();
        for item in &self.env {
            match item.split_once('=') {
                Some((name, value)) => env.push(EnvVar {
                    name: name.to_string(),
                    value: value.to_string(),
                }),
                None => diags.push(
                    Diagnostic::error(format!("`--env {item}` has no value"))
                        .with_help(format!("write it as `--env {item}=VALUE`")),
                ),
            }
        }
        check_env_names(
            env.iter().map(|e| (e.name.as_str(), None)),
            "`--env`",
            &mut diags,
        );
        let config = (!diags.has_errors()).then(|| AppRunnerConfig {
            origin: ConfigOrigin::Flags,
            version: "1.0".into(),
            runtime: Spanned::bare(self.runtime.clone().unwrap_or_default()),
            build: BuildSection {
                build: self.build_command.iter().cloned().collect(),
                ..BuildSection::default()
            },
            run: RunSection {
                runtime_version: None,
                pre_run: vec![],
                pre_run_location: None,
                command: self.start_command.clone().unwrap_or_default(),
                port: self.port.unwrap_or(DEFAULT_PORT),
                port_env: None,
                env,
                secrets: vec![],
                path_prepend: vec![],
            },
        });
        let hints = super::RuntimeHints {
            runtime: config.as_ref().map(|c| c.runtime.clone()),
            ..Default::default()
        };
        Parsed {
            config,
            diagnostics: diags,
            hints,
        }
    }
}
