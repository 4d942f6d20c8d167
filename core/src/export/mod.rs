//! `export`: the service that apprunner.yaml (or the API settings) and App Runner's service
//! settings describe, in another platform's own format: an ECS task definition and Express Mode
//! service ([`ecs`]), a Kubernetes Deployment and Service ([`kubernetes`]), a Cloud Run (Knative)
//! service ([`cloudrun`]). What has no place there is said as a diagnostic ([`carry`]), never
//! dropped in silence. Pure: it reads the checked settings and writes text, nothing else.

pub mod carry;
pub mod cloudrun;
pub mod ecs;
pub mod fargate;
pub mod kubernetes;
mod probes;
mod yaml;

use crate::engine::run::HealthCheck;
use crate::input::config::{EnvVar, RunSection, Secret};
use crate::report::diagnostic::Diagnostics;
use fargate::Size;

/// The platform to export to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Ecs,
    Kubernetes,
    CloudRun,
}

/// App Runner's service settings that apprunner.yaml does not hold, as the user gave them.
#[derive(Debug, Clone, Default)]
pub struct ServiceSettings {
    /// The image to run; `None`: the name `build` gives a local image (said as a warning).
    pub image: Option<String>,
    /// The service's name; `None`: the directory's.
    pub name: Option<String>,
    pub cpu: Option<u32>,
    pub memory: Option<u32>,
    pub health: HealthCheck,
    /// App Runner's instance role: what the application's AWS calls run as.
    pub instance_role: Option<String>,
    /// ECS only: the role ECS pulls the image and reads secrets with.
    pub execution_role: Option<String>,
    /// ECS Express Mode only: the role that lets ECS make the load balancer and scaling.
    pub infrastructure_role: Option<String>,
}

/// Everything an exporter reads: the run section's settings and the service's.
#[derive(Debug, Clone)]
pub struct Service {
    /// A DNS label (lowercase letters, digits, `-`), usable as every target's name.
    pub name: String,
    pub image: String,
    /// The start command, run with `/bin/sh -c` as App Runner runs it.
    pub command: String,
    pub port: u16,
    pub port_env: Option<String>,
    pub env: Vec<EnvVar>,
    pub secrets: Vec<Secret>,
    /// The runtime's name (`python311`, `nodejs22`): which interpreter a health-check command uses.
    pub runtime: String,
    /// As App Runner was asked (its default: 1 vCPU, 2 GB).
    pub size: Size,
    pub health: HealthCheck,
    pub instance_role: Option<String>,
    pub execution_role: Option<String>,
    pub infrastructure_role: Option<String>,
}

/// One file of the export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportFile {
    pub name: &'static str,
    pub text: String,
}

/// What an exporter made: its files, what it prints when there is no output directory, and what
/// the user must know (what changed, what did not carry over, what to create or fill in).
#[derive(Debug, Clone)]
pub struct Exported {
    pub files: Vec<ExportFile>,
    pub stdout: String,
    pub diagnostics: Diagnostics,
}

impl Service {
    /// The service from the checked run section, the runtime's name, the default name and image
    /// (the directory's, as `build` names the image), and the service settings.
    pub fn new(
        run: &RunSection,
        runtime: &str,
        default_name: &str,
        settings: &ServiceSettings,
        diagnostics: &mut Diagnostics,
    ) -> Self {
        let name = dns_label(settings.name.as_deref().unwrap_or(default_name));
        let image = match &settings.image {
            Some(image) => image.clone(),
            None => {
                let local = format!("{}:latest", default_name.to_ascii_lowercase());
                diagnostics.push(carry::local_image(&local));
                local
            }
        };
        Self {
            name,
            image,
            command: run.command.clone(),
            port: run.port,
            port_env: run.port_env.clone(),
            env: run.env.clone(),
            secrets: run.secrets.clone(),
            runtime: runtime.to_string(),
            size: Size {
                cpu: settings.cpu.unwrap_or(fargate::APP_RUNNER_DEFAULT.cpu),
                memory: settings
                    .memory
                    .unwrap_or(fargate::APP_RUNNER_DEFAULT.memory),
            },
            health: settings.health.clone(),
            instance_role: settings.instance_role.clone(),
            execution_role: settings.execution_role.clone(),
            infrastructure_role: settings.infrastructure_role.clone(),
        }
    }

    /// The service's plain variables as App Runner sets them: `run.env`, `PORT`, and the
    /// `run.network.env` variable, both set to the port.
    pub fn variables(&self, with_port: bool) -> Vec<EnvVar> {
        let mut vars = self.env.clone();
        let port = self.port.to_string();
        if with_port {
            vars.push(EnvVar {
                name: "PORT".into(),
                value: port.clone(),
            });
        }
        if let Some(name) = &self.port_env {
            vars.push(EnvVar {
                name: name.clone(),
                value: port,
            });
        }
        vars
    }

    /// The start command as an exec array: App Runner runs it through a shell.
    pub fn command_array(&self) -> Vec<String> {
        vec!["/bin/sh".into(), "-c".into(), self.command.clone()]
    }
}

/// Export `service` for `target`.
pub fn export(target: Target, service: &Service, diagnostics: Diagnostics) -> Exported {
    match target {
        Target::Ecs => ecs::export(service, diagnostics),
        Target::Kubernetes => kubernetes::export(service, diagnostics),
        Target::CloudRun => cloudrun::export(service, diagnostics),
    }
}

/// `text` as a DNS label, which every target accepts as a name: lowercase letters, digits and
/// `-`, at most 49 characters (Cloud Run's limit, the shortest), starting with a letter.
pub fn dns_label(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let mut out = out.trim_matches('-').to_string();
    if !out.starts_with(|c: char| c.is_ascii_lowercase()) {
        out.insert_str(0, "app-");
    }
    out.truncate(49);
    out.trim_end_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    use super::dns_label;

    #[test]
    fn names_become_dns_labels() {
        assert_eq!(dns_label("python-hello"), "python-hello");
        assert_eq!(dns_label("My_App.v2"), "my-app-v2");
        assert_eq!(dns_label("2048"), "app-2048");
        assert_eq!(dns_label(&"a".repeat(80)).len(), 49);
    }
}
