//! `--push`: the built image sent to its registry by the engine's own push, with the user's
//! credentials ([`super::credentials`]). The engine's push gzips each layer, asks the registry
//! which blobs it has and sends only the others, and trusts registries as the engine is
//! configured to (`/etc/docker/certs.d`, insecure registries): what `docker push` does, so a
//! registry that works with `docker push` works here. Nothing local is removed when it fails.

use super::credentials::{self, CredentialError, Found};
use crate::engine::image::name::ImageName;
use bollard::query_parameters::PushImageOptionsBuilder;
use bollard::Docker;
use futures_util::StreamExt;
use std::time::{Duration, Instant};

/// What a push did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pushed {
    pub reference: String,
    /// The manifest's digest in the registry, as the engine reports it.
    pub digest: Option<String>,
    /// Layers sent, and layers the registry already had.
    pub sent: usize,
    pub present: usize,
    pub took: Duration,
    /// Where the credentials came from, never what they are.
    pub credentials: String,
}

/// One layer's end, as it happens. (The engine's progress names layers by an id the API's
/// model leaves out, so sizes cannot be told per layer.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerDone {
    Sent,
    /// The registry had it (or mounted it from another repository).
    Present,
}

#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("{reference} was not pushed: the credentials could not be had from {0}", .source_error)]
    Credentials {
        reference: String,
        #[source]
        source_error: CredentialError,
    },
    #[error("{reference} was not pushed: the registry answered \"{answer}\" (credentials: {credentials})")]
    Refused {
        reference: String,
        answer: String,
        credentials: String,
    },
}

/// Push `name`, telling `each` of every layer's end.
pub async fn push(
    docker: &Docker,
    name: &ImageName,
    mut each: impl FnMut(LayerDone),
) -> Result<Pushed, PushError> {
    let reference = name.to_string();
    let started = Instant::now();
    let registry = credentials::registry_of(&name.repo);
    let found: Found =
        credentials::find(&registry).map_err(|source_error| PushError::Credentials {
            reference: reference.clone(),
            source_error,
        })?;
    let shown = found.to_string();
    let options = PushImageOptionsBuilder::new().tag(&name.tag).build();
    let mut events = docker.push_image(&name.repo, Some(options), found.credentials);
    let (mut sent, mut present, mut digest) = (0, 0, None);
    while let Some(event) = events.next().await {
        let event = event.map_err(|e| PushError::Refused {
            reference: reference.clone(),
            answer: answer_of(e),
            credentials: shown.clone(),
        })?;
        let status = event.status.unwrap_or_default();
        match status.as_str() {
            "Pushed" => {
                sent += 1;
                each(LayerDone::Sent);
            }
            "Layer already exists" => {
                present += 1;
                each(LayerDone::Present);
            }
            s if s.starts_with("Mounted from") => {
                present += 1;
                each(LayerDone::Present);
            }
            s => {
                // The last status: "TAG: digest: sha256:… size: N".
                if let Some((_, rest)) = s.split_once("digest: ") {
                    digest = rest.split_whitespace().next().map(String::from);
                }
            }
        }
    }
    Ok(Pushed {
        reference,
        digest,
        sent,
        present,
        took: started.elapsed(),
        credentials: shown,
    })
}

/// The registry's (or engine's) answer, as it said it.
fn answer_of(e: bollard::errors::Error) -> String {
    match e {
        bollard::errors::Error::DockerStreamError { error } => error,
        bollard::errors::Error::DockerResponseServerError { message, .. } => message,
        other => other.to_string(),
    }
}
