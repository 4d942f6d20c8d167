//! Creating and starting a container of this process's, the one way both a build's stage and
//! `run`'s application get theirs: labelled with its owner (so that a sweep can tell when it is
//! left over), named for people, and registered for the session's cleanup before it starts.

use crate::engine::session::cleanup::Cleanup;
use crate::engine::session::owner::{container_name, owner_labels};
use bollard::models::ContainerCreateBody;
use bollard::query_parameters::{CreateContainerOptionsBuilder, StartContainerOptions};
use bollard::Docker;

/// Which call failed: the callers say each in their own words.
pub(crate) enum StartFailed {
    Creating(bollard::errors::Error),
    Starting(bollard::errors::Error),
}

/// Create a container from `body` (its labels replaced by the owner's), named for `what`, and
/// start it; its id.
pub(crate) async fn create_and_start(
    docker: &Docker,
    cleanup: &Cleanup,
    what: &str,
    mut body: ContainerCreateBody,
) -> Result<String, StartFailed> {
    body.labels = Some(owner_labels());
    let name = container_name(what);
    let options = CreateContainerOptionsBuilder::new().name(&name).build();
    let created = docker
        .create_container(Some(options), body)
        .await
        .map_err(StartFailed::Creating)?;
    cleanup.add_container(&created.id);
    docker
        .start_container(&created.id, None::<StartContainerOptions>)
        .await
        .map_err(StartFailed::Starting)?;
    Ok(created.id)
}
