//! Connecting to the engine, and pulling the images a build starts from.

use crate::engine::EngineError;
use crate::report::log::BuildLog;
use bollard::models::ImageInspect;
use bollard::query_parameters::CreateImageOptionsBuilder;
use bollard::Docker;
use futures_util::StreamExt;
use std::collections::HashMap;

/// Seconds a plain request may take (request and response headers).
const REQUEST_TIMEOUT: u64 = 120;

/// Where the engine listens, from `DOCKER_HOST`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Endpoint {
    /// A unix socket's path.
    Unix(String),
    /// Plain HTTP to `host:port`, as bollard wants it: `http://host:port`.
    Tcp(String),
}

const DEFAULT_SOCKET: &str = "/var/run/docker.sock";
const SUPPORTED: &str = "supported: unix:///path/to/docker.sock and tcp://HOST:PORT";

/// What `DOCKER_HOST` names, or why it cannot be used. Empty means the local socket; as with the
/// docker CLI, `HOST:PORT` without a scheme means tcp. Anything else is refused by name rather
/// than silently building on the local socket: `ssh://`, `npipe://`, `fd://`, TLS, a tcp URL with
/// a path or query.
pub(crate) fn endpoint(host: &str) -> Result<Endpoint, String> {
    if host.is_empty() {
        return Ok(Endpoint::Unix(DEFAULT_SOCKET.into()));
    }
    let (scheme, rest) = host.split_once("://").unwrap_or(("tcp", host));
    match scheme {
        "unix" => {
            if rest.starts_with('/') && rest.len() > 1 {
                Ok(Endpoint::Unix(rest.to_string()))
            } else {
                Err(format!(
                    "DOCKER_HOST={host}: a unix:// address needs an absolute socket path, e.g. unix://{DEFAULT_SOCKET}"
                ))
            }
        }
        "tcp" | "http" => {
            let (authority, path) = match rest.find(['/', '?', '#']) {
                Some(i) => (&rest[..i], &rest[i..]),
                None => (rest, ""),
            };
            if !path.is_empty() && path != "/" {
                return Err(format!(
                    "DOCKER_HOST={host}: a path or query (`{path}`) after the address is not supported ({SUPPORTED})"
                ));
            }
            let valid = !authority.is_empty()
                && authority
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-_:[]".contains(c));
            if !valid {
                return Err(format!(
                    "DOCKER_HOST={host} is not an engine address ({SUPPORTED})"
                ));
            }
            let port = match authority.rsplit_once(']') {
                Some((_, after)) => after.strip_prefix(':'),
                None => authority.split_once(':').map(|(_, p)| p),
            };
            match port {
                None => Ok(Endpoint::Tcp(format!("http://{authority}:2375"))),
                Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                    Ok(Endpoint::Tcp(format!("http://{authority}")))
                }
                Some(p) => Err(format!(
                    "DOCKER_HOST={host}: `{p}` is not a port number ({SUPPORTED})"
                )),
            }
        }
        "https" => Err(format!(
            "DOCKER_HOST={host}: TLS connections to the engine are not supported yet ({SUPPORTED})"
        )),
        "ssh" => Err(format!(
            "DOCKER_HOST={host}: ssh:// connections to the engine are not supported ({SUPPORTED}); forward the remote socket instead, e.g. ssh -L /tmp/docker.sock:{DEFAULT_SOCKET} HOST, then DOCKER_HOST=unix:///tmp/docker.sock"
        )),
        other => Err(format!(
            "DOCKER_HOST={host}: {other}:// connections to the engine are not supported ({SUPPORTED})"
        )),
    }
}

/// Connect to the engine named by `DOCKER_HOST` (unix:// or tcp://), or the local socket.
pub(crate) async fn connect() -> Result<Docker, EngineError> {
    let host = std::env::var("DOCKER_HOST").unwrap_or_default();
    let shown = if host.is_empty() {
        format!("unix://{DEFAULT_SOCKET}")
    } else {
        host.clone()
    };
    if std::env::var("DOCKER_TLS_VERIFY").is_ok_and(|v| !v.is_empty() && v != "0") {
        return Err(EngineError::Unsupported(format!(
            "DOCKER_TLS_VERIFY is set for {shown}: TLS connections to the engine are not supported yet; use a unix socket or an SSH tunnel to one"
        )));
    }
    let endpoint = endpoint(&host).map_err(EngineError::Unsupported)?;
    let fail = |source| EngineError::Connect {
        host: shown.clone(),
        source,
    };
    let docker = match &endpoint {
        Endpoint::Unix(path) => {
            Docker::connect_with_unix(path, REQUEST_TIMEOUT, bollard::API_DEFAULT_VERSION)
        }
        Endpoint::Tcp(url) => {
            Docker::connect_with_http(url, REQUEST_TIMEOUT, bollard::API_DEFAULT_VERSION)
        }
    }
    .map_err(fail)?;
    // A 20.10 engine refuses bollard's newer default API version; agree on one both speak.
    let docker = docker.negotiate_version().await.map_err(fail)?;
    docker.ping().await.map_err(fail)?;
    Ok(docker)
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

#[cfg(test)]
mod tests {
    use super::{endpoint, Endpoint};

    #[test]
    fn docker_host_is_parsed_and_the_unsupported_refused_by_name() {
        let unix = |p: &str| Ok(Endpoint::Unix(p.into()));
        let tcp = |u: &str| Ok(Endpoint::Tcp(u.into()));
        assert_eq!(endpoint(""), unix("/var/run/docker.sock"));
        assert_eq!(
            endpoint("unix:///run/user/1000/docker.sock"),
            unix("/run/user/1000/docker.sock")
        );
        assert_eq!(endpoint("tcp://10.0.0.5:2375"), tcp("http://10.0.0.5:2375"));
        assert_eq!(
            endpoint("tcp://engine.local:2375/"),
            tcp("http://engine.local:2375")
        );
        assert_eq!(endpoint("tcp://engine"), tcp("http://engine:2375"));
        assert_eq!(endpoint("tcp://[::1]:2375"), tcp("http://[::1]:2375"));
        assert_eq!(endpoint("127.0.0.1:2375"), tcp("http://127.0.0.1:2375"));
        for (host, says) in [
            (
                "ssh://me@builder",
                "ssh:// connections to the engine are not supported",
            ),
            (
                "npipe:////./pipe/docker_engine",
                "npipe:// connections to the engine are not supported",
            ),
            ("fd://", "fd:// connections to the engine are not supported"),
            (
                "https://h:2376",
                "TLS connections to the engine are not supported",
            ),
            ("tcp://h:2375/path", "a path or query (`/path`)"),
            ("tcp://h:2375?x=1", "a path or query (`?x=1`)"),
            ("tcp://h:port", "`port` is not a port number"),
            ("tcp://", "is not an engine address"),
            ("not a host", "is not an engine address"),
            ("unix://", "needs an absolute socket path"),
            ("unix://relative.sock", "needs an absolute socket path"),
        ] {
            let e = endpoint(host).expect_err(host);
            assert!(e.contains(says), "{host}: {e}");
            assert!(e.starts_with(&format!("DOCKER_HOST={host}")), "{e}");
            if !host.starts_with("unix") {
                assert!(
                    e.contains("unix://") && e.contains("tcp://"),
                    "names what is supported: {e}"
                );
            }
        }
    }
}
