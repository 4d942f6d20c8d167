//! Naming the built image, and removing the one the name pointed at before when this tool made
//! it and nothing else uses it (never one a concurrent build just made).

use crate::engine::image::name::ImageName;
use crate::engine::labels;
use crate::engine::session::cleanup::Cleanup;
use crate::engine::shown::short_id;
use crate::engine::EngineError;
use crate::report::log::BuildLog;
use bollard::models::ImageInspect;
use bollard::query_parameters::TagImageOptionsBuilder;
use bollard::Docker;
use std::collections::HashMap;
use std::time::Instant;

/// Name the new image, and remove the one the name pointed at before when nothing else uses it.
pub(crate) async fn tag(
    docker: &Docker,
    image_id: &str,
    name: &ImageName,
    log: &BuildLog,
    cleanup: &Cleanup,
    started: Instant,
) -> Result<(), EngineError> {
    let previous = docker.inspect_image(&name.to_string()).await.ok();
    let options = TagImageOptionsBuilder::new()
        .repo(&name.repo)
        .tag(&name.tag)
        .build();
    docker
        .tag_image(image_id, Some(options))
        .await
        .map_err(EngineError::docker(format!("tagging the image as {name}")))?;
    cleanup.keep_image(image_id);
    if let Some(old) = previous {
        remove_replaced(docker, &old, image_id, started, log).await;
    }
    Ok(())
}

/// Give the image `id` the name `REPO:TAG`, and nothing more.
pub(super) async fn name(docker: &Docker, id: &str, name: &str) -> Result<(), EngineError> {
    let (repo, tag) = name.split_once(':').expect("a name with a tag");
    docker
        .tag_image(
            id,
            Some(TagImageOptionsBuilder::new().repo(repo).tag(tag).build()),
        )
        .await
        .map_err(EngineError::docker(format!("naming an image {name}")))
}

/// Tag a cache image (`REPO:TAG`), and remove the image the tag named before when it was made
/// before this build `began` and nothing uses it now: a rebuilt dependency layer or stage state
/// must not leave unnamed images behind, and one another build made meanwhile (and may be about
/// to start from) is kept.
pub(crate) async fn retag_cache(
    docker: &Docker,
    id: &str,
    tag: &str,
    began: chrono::DateTime<chrono::FixedOffset>,
) -> Result<(), EngineError> {
    let previous = docker
        .inspect_image(tag)
        .await
        .ok()
        .filter(|i| created(i).is_some_and(|made| made < began))
        .and_then(|i| i.id)
        .filter(|old| old != id);
    let (repo, name) = tag.split_once(':').expect("a cache tag has a colon");
    docker
        .tag_image(
            id,
            Some(TagImageOptionsBuilder::new().repo(repo).tag(name).build()),
        )
        .await
        .map_err(EngineError::docker(format!("tagging {tag}")))?;
    if let Some(old) = previous {
        if unused(docker, &old).await {
            // An image another one is built on is refused by the engine, and kept: fine.
            let options = bollard::query_parameters::RemoveImageOptionsBuilder::new().build();
            let _ = docker.remove_image(&old, Some(options), None).await;
        }
    }
    Ok(())
}

/// Tag a cache image this build made or loaded (see [`retag_cache`]): tagged, it is the cache's,
/// not a leftover of this build.
pub(crate) async fn tag_cache_image(
    docker: &Docker,
    cleanup: &Cleanup,
    id: &str,
    tag: &str,
    began: chrono::DateTime<chrono::FixedOffset>,
) -> Result<(), EngineError> {
    cleanup.keep_image(id);
    cleanup.add_cached(id);
    retag_cache(docker, id, tag, began).await
}

fn created(image: &ImageInspect) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    chrono::DateTime::parse_from_rfc3339(&image.created.as_ref()?.to_string()).ok()
}

/// The image this build's name pointed at before, when this tool made it and nothing else uses it
/// now: rebuilding must not pile up unnamed images.
///
/// Builds racing with one name must not delete each other's results: an image is removed only
/// when it is the one this build saw under the name before tagging, it was made before this
/// build began (by the engine's clock: the new image's creation time less this build's
/// duration), and, checked again right before the removal, it has no name and no container.
/// Anything else is kept.
async fn remove_replaced(
    docker: &Docker,
    old: &ImageInspect,
    new_id: &str,
    started: Instant,
    log: &BuildLog,
) {
    let Some(old_id) = old.id.as_deref().filter(|id| *id != new_id) else {
        return;
    };
    let ours = old
        .config
        .as_ref()
        .and_then(|c| c.labels.as_ref())
        .is_some_and(|l| l.contains_key(labels::TOOL_VERSION));
    if !ours {
        return;
    }
    // This machine's clock, not the new image's creation time: a reused image (a kept stage's,
    // or one from the cache) has the time it was first made, which says nothing of when this
    // build began.
    let began = chrono::Duration::from_std(started.elapsed())
        .ok()
        .map(|elapsed| chrono::Local::now().fixed_offset() - elapsed);
    let made_before = match (created(old), began) {
        (Some(made), Some(began)) => made < began,
        _ => false,
    };
    if !made_before {
        log.app_runner(format!(
            "Kept the image {} that the name pointed at before: it was made while this build ran (by another build?).",
            short_id(old_id)
        ));
        return;
    }
    if !unused(docker, old_id).await {
        return;
    }
    let options = bollard::query_parameters::RemoveImageOptionsBuilder::new().build();
    if docker
        .remove_image(old_id, Some(options), None)
        .await
        .is_ok()
    {
        log.app_runner(format!(
            "Removed the image this one replaces ({}).",
            short_id(old_id)
        ));
    }
}

/// No name points at the image and no container (running or not) was made from it.
async fn unused(docker: &Docker, id: &str) -> bool {
    let named = match docker.inspect_image(id).await {
        Ok(i) => i.repo_tags.is_some_and(|tags| !tags.is_empty()),
        Err(_) => return false,
    };
    let filters = HashMap::from([("ancestor", vec![id])]);
    let options = bollard::query_parameters::ListContainersOptionsBuilder::new()
        .all(true)
        .filters(&filters)
        .build();
    let used = docker
        .list_containers(Some(options))
        .await
        .map_or(true, |list| !list.is_empty());
    !named && !used
}
