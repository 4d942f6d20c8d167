//! The containers and images a build creates, always removed at the end; and the leftovers of
//! builds whose process is gone.

use crate::engine::labels;
use crate::engine::session::docker::is_not_found;
use crate::engine::session::owner::{start_time, Lookup, Owner};
use crate::report::log::BuildLog;
use bollard::query_parameters::{
    ListContainersOptionsBuilder, RemoveContainerOptionsBuilder, RemoveImageOptionsBuilder,
};
use bollard::Docker;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Containers and images a build made, removed at the end whatever happens.
#[derive(Clone, Default)]
pub(crate) struct Cleanup {
    inner: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    containers: Vec<String>,
    images: Vec<String>,
    /// Images on the way (a stage's written layers): the same layers make the same image, so
    /// another build may be using one; removed only when nothing names or uses it.
    intermediate: Vec<String>,
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
        let mut state = self.state();
        state.images.retain(|i| i != id);
        state.intermediate.retain(|i| i != id);
    }

    pub(crate) fn add_intermediate(&self, id: &str) {
        self.state().intermediate.push(id.to_string());
    }

    /// Force-remove every container this build made, at once. Returns how many.
    pub(crate) async fn remove_containers(&self, docker: &Docker) -> usize {
        let containers = std::mem::take(&mut self.state().containers);
        let remove = RemoveContainerOptionsBuilder::new()
            .force(true)
            .v(true)
            .build();
        futures_util::future::join_all(
            containers
                .iter()
                .map(|c| docker.remove_container(c, Some(remove.clone()))),
        )
        .await;
        containers.len()
    }

    /// Force-remove every container (and unkept image) this build made. Returns how many containers.
    pub async fn run(&self, docker: &Docker) -> usize {
        let (containers, images, intermediate) = {
            let mut s = self.state();
            (
                std::mem::take(&mut s.containers),
                std::mem::take(&mut s.images),
                std::mem::take(&mut s.intermediate),
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
        // Not forced: the engine refuses one with a name, a container or an image built on it,
        // and that one stays.
        for image in intermediate {
            let _ = docker
                .remove_image(
                    &image,
                    Some(RemoveImageOptionsBuilder::new().force(false).build()),
                    None,
                )
                .await;
        }
        count
    }
}

/// Remove the containers whose owner (their [`labels::OWNER`]) is provably gone: a build or `run`
/// killed with SIGKILL, or a machine that crashed. Containers of other pid namespaces, hosts or
/// boots are left alone, and so is everything when `/proc` hides other processes (then no owner
/// can be proven gone). A removal that fails is said, with its reason.
pub(crate) async fn sweep_leftovers(docker: &Docker, log: &BuildLog) {
    let Some(here) = Owner::of_this_process() else {
        return;
    };
    if !matches!(start_time(1), Lookup::Started(_)) {
        return;
    }
    let filters = HashMap::from([("label", vec![labels::OWNER])]);
    let options = ListContainersOptionsBuilder::new()
        .all(true)
        .filters(&filters)
        .build();
    let Ok(list) = docker.list_containers(Some(options)).await else {
        return;
    };
    for c in list {
        let (Some(id), Some(labels)) = (c.id, c.labels) else {
            continue;
        };
        let Some(owner) = labels
            .get(crate::engine::labels::OWNER)
            .and_then(|v| Owner::parse(v))
        else {
            continue;
        };
        if !owner.gone(&here, start_time) {
            continue;
        }
        let name = c.names.and_then(|n| n.into_iter().next()).map_or_else(
            || id.chars().take(12).collect(),
            |n| n.trim_start_matches('/').to_string(),
        );
        let remove = RemoveContainerOptionsBuilder::new()
            .force(true)
            .v(true)
            .build();
        // By id: the engine answers a name with its leading slash with 301, not a removal.
        match docker.remove_container(&id, Some(remove)).await {
            Ok(()) => log.app_runner(format!(
                "Removed a container left by an earlier, interrupted build or run (process {} is gone): {name}",
                owner.pid
            )),
            // Removed meanwhile, by another build's sweep.
            Err(e) if is_not_found(&e) || e.to_string().contains("already in progress") => {}
            Err(e) => log.app_runner(format!(
                "Could not remove the container {name}, left by an earlier, interrupted build or run (process {} is gone): {e} [{}]",
                owner.pid,
                crate::report::codes::LEFTOVER_NOT_REMOVED
            )),
        }
    }
}
