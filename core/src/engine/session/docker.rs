//! Connecting to the engine, and pulling the images a build starts from.

use super::discover::{self, Endpoint, Found};
use super::transport;
use crate::engine::EngineError;
use crate::report::log::BuildLog;
use bollard::models::ImageInspect;
use bollard::query_parameters::CreateImageOptionsBuilder;
use bollard::Docker;
use futures_util::StreamExt;
use std::collections::HashMap;

/// The engine a session talks to, for the log: its first line, and warnings found on the way.
#[derive(Debug, Clone, Default)]
pub struct EngineFound {
    /// `Docker Engine 20.10.24 at unix:///var/run/docker.sock (default socket)`.
    pub line: String,
    pub notes: Vec<String>,
}

/// Connect to the engine the docker CLI would use (see `discover`), and say which it is.
pub(crate) async fn connect() -> Result<(Docker, EngineFound), EngineError> {
    let found = discover::from_environment()?;
    tracing::debug!("engine: {}", found.described());
    let fail = |source| connect_error(&found, source);
    // A 20.10 engine refuses bollard's newer default API version; agree on one both speak.
    let docker = transport::client(&found)?
        .negotiate_version()
        .await
        .map_err(fail)?;
    let version = docker.version().await.map_err(fail)?;
    // Docker names its server component "Engine"; Podman answers "Podman Engine".
    let product = match version.components.as_deref().and_then(|c| c.first()) {
        Some(c) if c.name != "Engine" && !c.name.is_empty() => c.name.clone(),
        _ => "Docker Engine".to_string(),
    };
    let line = format!(
        "{product} {} at {}",
        version.version.as_deref().unwrap_or("(version unknown)"),
        found.described()
    );
    Ok((
        docker,
        EngineFound {
            line,
            notes: found.notes,
        },
    ))
}

/// The connection error, with what to do about it when the failure says something: a TLS
/// engine that wants a client certificate, or one whose certificate is not signed by ca.pem.
fn connect_error(found: &Found, source: bollard::errors::Error) -> EngineError {
    let said = crate::report::errors::chain(&source);
    let help = match &found.tls {
        Some(tls) if tls.cert.is_none() && said.contains("alert") => Some(format!(
            "the engine refused the TLS connection, and no client certificate was sent: {} has no cert.pem and key.pem (the engine's CA signs them; DOCKER_CERT_PATH names the directory)",
            tls.dir.display()
        )),
        Some(tls) if said.contains("UnknownIssuer") || said.contains("invalid peer certificate") => {
            Some(format!(
                "the engine's certificate is not signed by {}: use the engine's CA there",
                tls.ca.as_ref().unwrap_or(&tls.dir).display()
            ))
        }
        None if matches!(found.endpoint, Endpoint::Tcp(_)) => Some(format!(
            "{}; an engine that speaks TLS (port 2376) needs DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH (the directory of ca.pem, cert.pem and key.pem)",
            crate::engine::messages::CONNECT_HELP
        )),
        _ => None,
    };
    EngineError::Connect {
        host: found.described(),
        source,
        help,
    }
}

/// The same client with a long timeout: uploads, copies and commits answer only when done.
pub(crate) fn long(docker: &Docker) -> Docker {
    docker
        .clone()
        .with_timeout(std::time::Duration::from_secs(3600))
}

pub(crate) fn is_not_found(e: &bollard::errors::Error) -> bool {
    matches!(
        e,
        bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

/// The image, pulled with visible progress when it is not present locally.
pub(crate) async fn ensure_image(
    docker: &Docker,
    image: &str,
    log: &BuildLog,
) -> Result<ImageInspect, EngineError> {
    match docker.inspect_image(image).await {
        Ok(found) => return Ok(found),
        Err(e) if is_not_found(&e) => {}
        Err(e) => return Err(EngineError::docker(format!("inspecting image {image}"))(e)),
    }
    log.app_runner(format!("Pulling image {image} (not present locally)."));
    let options = CreateImageOptionsBuilder::new().from_image(image).build();
    let mut progress = docker.create_image(Some(options), None, None);
    let mut last: HashMap<String, String> = HashMap::new();
    while let Some(item) = progress.next().await {
        let info = item.map_err(|e| EngineError::Pull {
            image: image.to_string(),
            reason: e.to_string(),
        })?;
        if let Some(detail) = info.error_detail.and_then(|d| d.message) {
            return Err(EngineError::Pull {
                image: image.to_string(),
                reason: detail,
            });
        }
        let Some(status) = info.status else { continue };
        // Byte-level progress repeats "Downloading"; log each layer's state changes only.
        let key = info.id.clone().unwrap_or_default();
        if last.get(&key) == Some(&status) || status == "Downloading" || status == "Extracting" {
            continue;
        }
        last.insert(key.clone(), status.clone());
        if key.is_empty() {
            log.app_runner(status);
        } else {
            log.app_runner(format!("{key}: {status}"));
        }
    }
    docker
        .inspect_image(image)
        .await
        .map_err(|e| EngineError::Pull {
            image: image.to_string(),
            reason: e.to_string(),
        })
}
