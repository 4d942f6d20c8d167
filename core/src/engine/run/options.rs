//! What `run` is asked to do: where to publish the port, the env and secrets, the health check;
//! and what the image says of itself (its port, the secrets it names).

use crate::engine::labels;
use crate::engine::run::error::RunError;
use crate::engine::run::health_check::HealthCheck;
use bollard::Docker;
use std::collections::HashMap;

/// Where on this machine the service port is published: `-p [IP:]PORT`, as `docker run -p` takes
/// it (127.0.0.1 unless an address is given; port 0: any free port).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Publish {
    pub ip: std::net::IpAddr,
    pub port: u16,
}

impl Publish {
    /// Only this machine, by default: a local run is nobody else's business.
    pub const DEFAULT_IP: std::net::IpAddr = std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    /// `PORT`, `IP:PORT` or `[IPv6]:PORT`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (ip, port) = match text.rsplit_once(':') {
            None => (Self::DEFAULT_IP, text),
            Some((ip, port)) => {
                let bare = ip
                    .strip_prefix('[')
                    .and_then(|i| i.strip_suffix(']'))
                    .unwrap_or(ip);
                let ip = bare.parse().map_err(|_| {
                    format!("`{ip}` is not an IP address: write -p PORT, -p IP:PORT (e.g. -p 0.0.0.0:8080 for every interface) or -p 0 for any free port")
                })?;
                (ip, port)
            }
        };
        let port = port
            .parse()
            .map_err(|_| format!("`{port}` is not a port number (0 to 65535; 0: any free port)"))?;
        Ok(Self { ip, port })
    }
}

#[derive(Debug, Clone)]
pub struct RunOptions {
    pub image: String,
    /// Where to publish the service port (None: the same number, on 127.0.0.1).
    pub publish: Option<Publish>,
    /// NAME=VALUE pairs for the container, on top of the image's env.
    pub env: Vec<(String, String)>,
    /// Secret values, by name: given to the container, never logged.
    pub secrets: Vec<(String, String)>,
    pub health: HealthCheck,
}

/// What the image says about how to run it.
#[derive(Debug, Clone)]
pub struct ImageRunConfig {
    pub port: u16,
    /// The `run.network.env` variable, which holds the port too.
    pub port_env: Option<String>,
    pub secrets: Vec<String>,
}

impl ImageRunConfig {
    /// What a plan's image will say.
    pub fn from_plan(plan: &crate::plan::BuildPlan) -> Self {
        let sets: Vec<(String, String)> = plan
            .image
            .env
            .iter()
            .filter_map(|e| match e {
                crate::plan::ImageEnv::Set { name, value } => Some((name.clone(), value.clone())),
                crate::plan::ImageEnv::Prepend { .. } => None,
            })
            .collect();
        Self {
            port: plan.image.port,
            port_env: port_env(&sets, plan.image.port),
            secrets: plan.image.secret_names(),
        }
    }
}

/// The `run.network.env` variable: the plan sets it right after PORT, to the same value.
pub(super) fn port_env(env: &[(String, String)], port: u16) -> Option<String> {
    let at = env.iter().rposition(|(name, _)| name == "PORT")?;
    env.get(at + 1)
        .filter(|(_, value)| *value == port.to_string())
        .map(|(name, _)| name.clone())
}

/// Read the port and secret names from a built image.
pub async fn image_run_config(docker: &Docker, image: &str) -> Result<ImageRunConfig, RunError> {
    let inspect = docker
        .inspect_image(image)
        .await
        .map_err(|_| RunError::NoImage(image.to_string()))?;
    let config = inspect.config.unwrap_or_default();
    let env: Vec<(String, String)> = config
        .env
        .unwrap_or_default()
        .iter()
        .filter_map(|e| e.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let port = env
        .iter()
        .find_map(|(k, v)| (k == "PORT").then(|| v.parse().ok()).flatten())
        .unwrap_or(crate::input::config::DEFAULT_PORT);
    let secrets = config
        .labels
        .unwrap_or_default()
        .get(labels::SECRETS)
        .map(|s| {
            s.split(',')
                .filter(|n| !n.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    Ok(ImageRunConfig {
        port,
        port_env: port_env(&env, port),
        secrets,
    })
}

/// Every name in `wanted` must have a value: from `file` (a secrets file), or from this process's
/// environment for the names in `from_env` (each named by `--secret NAME`). The environment is never
/// read for a name not in `from_env`: the names come from the image (its label), and any image could
/// otherwise ask for `GITHUB_TOKEN` or `AWS_SECRET_ACCESS_KEY` and get it.
pub fn collect_secrets(
    wanted: &[String],
    file: &HashMap<String, String>,
    from_env: &[String],
) -> Result<Vec<(String, String)>, RunError> {
    collect_secrets_from(wanted, file, from_env, |name| std::env::var(name).ok())
}

/// [`collect_secrets`] with `env` standing for the environment.
pub(crate) fn collect_secrets_from(
    wanted: &[String],
    file: &HashMap<String, String>,
    from_env: &[String],
    env: impl Fn(&str) -> Option<String>,
) -> Result<Vec<(String, String)>, RunError> {
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for name in wanted {
        let value = file.get(name).cloned().or_else(|| {
            from_env
                .iter()
                .any(|n| n == name)
                .then(|| env(name))
                .flatten()
        });
        match value {
            Some(value) => {
                check_secret_value(name, &value)?;
                found.push((name.clone(), value));
            }
            None => missing.push(name.clone()),
        }
    }
    if missing.is_empty() {
        Ok(found)
    } else {
        Err(RunError::MissingSecrets(missing))
    }
}

/// A value the engine can give a process: no NUL byte (it would cut the value short, or fail the
/// container's creation with the value in the error).
pub fn check_secret_value(name: &str, value: &str) -> Result<(), RunError> {
    if value.contains('\0') {
        return Err(RunError::BadSecret {
            name: name.to_string(),
            why: "its value contains a NUL byte, which no process can receive in its environment"
                .into(),
        });
    }
    Ok(())
}
