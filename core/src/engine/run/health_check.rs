//! App Runner's health check settings: the protocol, the interval and the thresholds.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HealthProtocol {
    Tcp,
    /// HTTP GET of this path; a 2xx or 3xx answer is healthy.
    Http(String),
}

impl std::fmt::Display for HealthProtocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HealthProtocol::Tcp => f.write_str("TCP"),
            HealthProtocol::Http(path) => write!(f, "HTTP {path}"),
        }
    }
}

/// App Runner's health check settings; the defaults are App Runner's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthCheck {
    pub protocol: HealthProtocol,
    pub interval: Duration,
    pub timeout: Duration,
    pub healthy_threshold: u32,
    pub unhealthy_threshold: u32,
}

impl Default for HealthCheck {
    fn default() -> Self {
        Self::APP_RUNNER
    }
}

impl HealthCheck {
    /// App Runner's defaults: TCP, every 5 s, 2 s timeout, healthy after 1, unhealthy after 5.
    pub const APP_RUNNER: HealthCheck = HealthCheck {
        protocol: HealthProtocol::Tcp,
        interval: Duration::from_secs(5),
        timeout: Duration::from_secs(2),
        healthy_threshold: 1,
        unhealthy_threshold: 5,
    };

    /// `tcp`, or `http` / `http:/path`.
    pub fn parse_protocol(text: &str) -> Result<HealthProtocol, String> {
        match text {
            "tcp" | "TCP" => Ok(HealthProtocol::Tcp),
            "http" | "HTTP" => Ok(HealthProtocol::Http("/".into())),
            other => match other
                .strip_prefix("http:")
                .or_else(|| other.strip_prefix("HTTP:"))
            {
                Some(path) if path.starts_with('/') => Ok(HealthProtocol::Http(path.to_string())),
                _ => Err(format!("`{other}`: write tcp, http, or http:/path")),
            },
        }
    }
}
