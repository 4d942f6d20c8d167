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
    /// Images on the way (a stage's written layers), by their [`labels::WORK_REPOSITORY`] name:
    /// the same layers make the same image, so another build may be using one; removing the
    /// name removes the image only when nothing else names or uses it.
    intermediate: Vec<String>,
    /// Images this build tagged for the cache. A build racing over the same key may take the tag
    /// for its own image: an image left without a name is removed at the end, unless used.
    cached: Vec<String>,
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

    /// An image on the way, named `work_name` ([`labels::WORK_REPOSITORY`]) while this build
    /// uses it.
    pub(crate) fn add_intermediate(&self, work_name: &str) {
        self.state().intermediate.push(work_name.to_string());
    }

    pub(crate) fn add_cached(&self, id: &str) {
        self.state().cached.push(id.to_string());
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
        let (containers, images, intermediate, cached) = {
            let mut s = self.state();
            (
                std::mem::take(&mut s.containers),
                std::mem::take(&mut s.images),
                std::mem::take(&mut s.intermediate),
                std::mem::take(&mut s.cached),
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
        // By name and not forced: the engine then only drops the name when the image has
        // another, a container or an image built on it, and that image stays.
        for name in intermediate {
            let _ = docker
                .remove_image(
                    &name,
                    Some(RemoveImageOptionsBuilder::new().force(false).build()),
                    None,
                )
                .await;
        }
        for id in cached {
            remove_if_unnamed(docker, &id).await;
        }
        count
    }
}

/// Remove the image `id` if nothing names it (not forced: the engine keeps one that a container
/// uses or another image is built on). By id, an image with one name would lose it: so the names
/// are looked at first.
async fn remove_if_unnamed(docker: &Docker, id: &str) {
    let named = match docker.inspect_image(id).await {
        Ok(image) => image.repo_tags.is_some_and(|tags| !tags.is_empty()),
        Err(_) => return,
    };
    if !named {
        let _ = docker
            .remove_image(
                id,
                Some(RemoveImageOptionsBuilder::new().force(false).build()),
                None,
            )
            .await;
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
    // A killed build leaves its images on the way with the containers it started from them, so
    // the images are looked for only then: listing images by name costs 0.3–0.9 s on an engine
    // with many images, which every build would pay.
    if sweep_containers(docker, log, &here).await {
        // After the containers: the engine keeps an image that a container still uses.
        for line in sweep_work_images(docker, &here).await {
            log.app_runner(line);
        }
    }
}

/// `cache prune`: the images on the way of builds that are provably gone, removed; a line for
/// each.
pub(crate) async fn prune_work_images(docker: &Docker) -> Vec<String> {
    match Owner::of_this_process() {
        Some(here) => sweep_work_images(docker, &here).await,
        None => vec![],
    }
}

/// The leftover containers swept; whether any owner was found gone.
async fn sweep_containers(docker: &Docker, log: &BuildLog, here: &Owner) -> bool {
    let filters = HashMap::from([("label", vec![labels::OWNER])]);
    let options = ListContainersOptionsBuilder::new()
        .all(true)
        .filters(&filters)
        .build();
    let Ok(list) = docker.list_containers(Some(options)).await else {
        return false;
    };
    let mut found = false;
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
        if !owner.gone(here, start_time) {
            continue;
        }
        found = true;
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
    found
}

/// The [`labels::WORK_REPOSITORY`] names whose owner is provably gone: each is removed, and with it the
/// image when nothing else names or uses it.
async fn sweep_work_images(docker: &Docker, here: &Owner) -> Vec<String> {
    let filters = HashMap::from([("reference", vec![labels::WORK_REPOSITORY])]);
    let options = bollard::query_parameters::ListImagesOptionsBuilder::new()
        .all(false)
        .filters(&filters)
        .build();
    let Ok(images) = docker.list_images(Some(options)).await else {
        return vec![];
    };
    let mut lines = Vec::new();
    let prefix = format!("{}:", labels::WORK_REPOSITORY);
    let names = images.into_iter().flat_map(|image| image.repo_tags);
    for name in names {
        let Some(owner) = name.strip_prefix(&prefix).and_then(Owner::from_tag) else {
            continue;
        };
        if !owner.gone(here, start_time) {
            continue;
        }
        let options = RemoveImageOptionsBuilder::new().force(false).build();
        match docker.remove_image(&name, Some(options), None).await {
            Ok(_) => lines.push(format!(
                "Removed an image left on the way by an earlier, interrupted build (process {} is gone): {name}",
                owner.pid
            )),
            Err(e) if is_not_found(&e) => {}
            Err(e) => lines.push(format!(
                "Could not remove the image {name}, left by an earlier, interrupted build (process {} is gone): {e} [{}]",
                owner.pid,
                crate::report::codes::LEFTOVER_NOT_REMOVED
            )),
        }
    }
    lines
}
