//! What can go wrong running an image, and the application's last lines that say why.

use crate::engine::run::health_check::HealthProtocol;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{action}: {source}")]
    Docker {
        action: String,
        source: bollard::errors::Error,
    },
    #[error("image {0} was not found")]
    NoImage(String),
    #[error("missing secrets: {}", .0.join(", "))]
    MissingSecrets(Vec<String>),
    /// A secret value the engine cannot pass on; the message names the secret, never the value.
    #[error("secret {name}: {why}")]
    BadSecret { name: String, why: String },
    #[error("the application exited with code {code}")]
    Exited {
        code: i64,
        /// The engine killed it for want of memory.
        oom_killed: bool,
        tail: Tail,
    },
    /// The engine could not publish the port: something else holds it.
    #[error("port {port} on {ip} is already in use")]
    PortInUse { ip: std::net::IpAddr, port: u16 },
    #[error("health check failed")]
    Unhealthy {
        protocol: HealthProtocol,
        port: u16,
        failures: u32,
        last_error: String,
        /// From the first check to the last.
        elapsed: Duration,
        tail: Tail,
    },
}

/// The application's last output lines, for a failure message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tail {
    pub lines: Vec<String>,
    /// Already shown as `[Application]` lines: a summary need not repeat them.
    pub streamed: bool,
}

pub(super) fn docker_err(action: &str) -> impl FnOnce(bollard::errors::Error) -> RunError + '_ {
    move |source| RunError::Docker {
        action: action.to_string(),
        source,
    }
}
