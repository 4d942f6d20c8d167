//! Connecting to the engine, images, and the containers a build creates (and always removes).

use super::EngineError;
use crate::report::log::BuildLog;
use bollard::models::ImageInspect;
use bollard::query_parameters::{
    CreateImageOptionsBuilder, ListContainersOptionsBuilder, RemoveContainerOptionsBuilder,
    RemoveImageOptionsBuilder,
};
use bollard::Docker;
use futures_util::StreamExt;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Every container this tool makes is named `apprunner-build-<pid>-<stage>-<n>`, so that leftovers of
/// a killed build can be found and swept.
pub(crate) const CONTAINER_PREFIX: &str = "apprunner-build-";

pub(crate) fn container_name(stage: &str) -> String {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() % 1_000_000_000);
    format!("{CONTAINER_PREFIX}{}-{stage}-{n}", std::process::id())
}

/// Seconds a plain request may take (request and response headers).
const REQUEST_TIMEOUT: u64 = 120;

/// Connect to the engine named by `DOCKER_HOST` (unix:// or tcp://), or the local socket.
pub(crate) async fn connect() -> Result<Docker, EngineError> {
    let host = std::env::var("DOCKER_HOST").unwrap_or_default();
    let shown = if host.is_empty() {
        "unix:///var/run/docker.sock".to_string()
    } else {
        host.clone()
    };
    if std::env::var("DOCKER_TLS_VERIFY").is_ok_and(|v| !v.is_empty() && v != "0") {
        return Err(EngineError::Unsupported(format!(
            "DOCKER_TLS_VERIFY is set for {shown}: TLS connections to the engine are not supported yet; use a unix socket or an SSH tunnel to one"
        )));
    }
    let fail = |source| EngineError::Connect {
        host: shown.clone(),
        source,
    };
    let docker = if host.is_empty() || host.starts_with("unix://") {
        Docker::connect_with_local_defaults()
    } else if let Some(addr) = host
        .strip_prefix("tcp://")
        .or_else(|| host.strip_prefix("http://"))
    {
        Docker::connect_with_http(
            &format!("http://{addr}"),
            REQUEST_TIMEOUT,
            bollard::API_DEFAULT_VERSION,
        )
    } else {
        Docker::connect_with_local_defaults()
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

fn is_not_found(e: &bollard::errors::Error) -> bool {
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

/// Containers and images a build made, removed at the end whatever happens.
#[derive(Clone, Default)]
pub(crate) struct Cleanup {
    inner: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    containers: Vec<String>,
    images: Vec<String>,
    /// Every container ever added, removed or not.
    created: Vec<String>,
}

impl Cleanup {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The containers not yet removed.
    pub(crate) fn containers(&self) -> Vec<String> {
        self.state().containers.clone()
    }

    pub(crate) fn add_container(&self, id: &str) {
        let mut state = self.state();
        state.containers.push(id.to_string());
        state.created.push(id.to_string());
    }

    /// Every container added so far, including those already removed.
    pub fn created(&self) -> Vec<String> {
        self.state().created.clone()
    }

    /// An image to delete unless the build gets to keep it.
    pub(crate) fn add_image(&self, id: &str) {
        self.state().images.push(id.to_string());
    }

    pub(crate) fn keep_image(&self, id: &str) {
        self.state().images.retain(|i| i != id);
    }

    /// Force-remove every container (and unkept image) this build made. Returns how many containers.
    pub async fn run(&self, docker: &Docker) -> usize {
        let (containers, images) = {
            let mut s = self.state();
            (
                std::mem::take(&mut s.containers),
                std::mem::take(&mut s.images),
            )
        };
        let remove = RemoveContainerOptionsBuilder::new()
            .force(true)
            .v(true)
            .build();
        let count = containers.len();
        futures_util::future::join_all(
            containers
                .iter()
                .map(|c| docker.remove_container(c, Some(remove.clone()))),
        )
        .await;
        for image in images {
            let _ = docker
                .remove_image(
                    &image,
                    Some(RemoveImageOptionsBuilder::new().force(true).build()),
                    None,
                )
                .await;
        }
        count
    }
}

/// Build containers are named `apprunner-build-<pid>-…`; remove those whose process is gone
/// (a build killed with SIGKILL, or a machine that crashed).
pub(crate) async fn sweep_leftovers(docker: &Docker, log: &BuildLog) {
    let local = std::env::var("DOCKER_HOST").map_or(true, |h| h.starts_with("unix://"));
    if !local {
        return;
    }
    let filters = HashMap::from([("name", vec![CONTAINER_PREFIX])]);
    let options = ListContainersOptionsBuilder::new()
        .all(true)
        .filters(&filters)
        .build();
    let Ok(list) = docker.list_containers(Some(options)).await else {
        return;
    };
    for c in list {
        let Some(name) = c.names.and_then(|n| n.into_iter().next()) else {
            continue;
        };
        let pid = name
            .trim_start_matches('/')
            .strip_prefix(CONTAINER_PREFIX)
            .and_then(|rest| rest.split('-').next())
            .and_then(|p| p.parse::<u32>().ok());
        if let Some(pid) = pid {
            if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
                let remove = RemoveContainerOptionsBuilder::new()
                    .force(true)
                    .v(true)
                    .build();
                if docker.remove_container(&name, Some(remove)).await.is_ok() {
                    log.app_runner(format!(
                        "Removed a container left by an earlier, interrupted build: {}",
                        name.trim_start_matches('/')
                    ));
                }
            }
        }
    }
}
