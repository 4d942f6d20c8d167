//! The image as a value: its base, its config and its layers, each a blob named by its digest
//! and known by where it came from. A build leaves the image in the engine and holds what it
//! wrote itself; [`export`] writes the image where `--output` says (an OCI image layout, a
//! directory or a tar of one, or a `docker load` archive) from the build's own files, and asks
//! the engine only for the base's layers ([`model`]). An image with layers committed from a
//! container, which only the engine has, is read whole from the engine's archive.
//!
//! Blobs are streamed to their files and hashed on the way: an image is never held in memory.

pub mod credentials;
mod layout;
mod model;
pub mod push;
mod save;
mod spec;

pub use spec::{Output, OutputSpecError};

use crate::engine::BuiltImage;
use bollard::Docker;
use futures_util::TryStreamExt;
use std::path::PathBuf;

/// A blob of the image: content named by its digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blob {
    /// `sha256:…`
    pub digest: String,
    pub size: u64,
    pub media_type: &'static str,
}

/// A layer: its blob (as stored, maybe compressed), the digest of its uncompressed tar, and
/// where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    pub blob: Blob,
    pub diff_id: String,
    pub origin: Origin,
}

/// Where a layer of the image came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The base image's, from the engine.
    Base,
    /// Written by the tool (the source, a copy of /app, a dependency install's changes).
    Written,
    /// Committed from a container by the engine, which alone has it.
    Committed,
}

/// The image the application's layers are over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseImage {
    /// As the plan names it.
    pub reference: String,
    /// The engine's id for it.
    pub id: String,
    /// The registry's digest for it, when it was pulled from one.
    pub digest: Option<String>,
}

/// The image: its base, its config (whose digest is the engine's image id) and its layers, the
/// base's first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageValue {
    pub base: Option<BaseImage>,
    pub config: Blob,
    pub layers: Vec<Layer>,
}

impl ImageValue {
    /// How many of its layers came from `origin`.
    pub fn count(&self, origin: Origin) -> usize {
        self.layers.iter().filter(|l| l.origin == origin).count()
    }
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    pub dest: PathBuf,
    /// The OCI manifest's digest; none for a `docker load` archive, which has no manifest blob.
    pub manifest_digest: Option<String>,
    pub image: Option<ImageValue>,
    pub bytes: u64,
    /// Why the whole image was read from the engine's archive, when it was.
    pub whole_from_engine: Option<String>,
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("cannot read the image {image} from the engine: {source}")]
    Engine {
        image: String,
        source: std::io::Error,
    },
    /// Reading the engine's stream failed: [`export`] names the image.
    #[error("cannot read the engine's image archive: {0}")]
    Read(std::io::Error),
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} exists and is not an OCI image layout: it is left as it is", path.display())]
    NotALayout { path: PathBuf },
    #[error("the engine's image archive is not as expected: {0}")]
    Archive(String),
}

/// Write the built image as `output` says. [`Output::Docker`] writes nothing: the image is in
/// the engine already.
pub async fn export(
    docker: &Docker,
    built: &BuiltImage,
    output: &Output,
) -> Result<Option<Exported>, ExportError> {
    let (dest, kind) = match output {
        Output::Docker => return Ok(None),
        Output::Oci { dest } => (dest.clone(), Kind::Oci),
        Output::DockerArchive { dest } => (dest.clone(), Kind::DockerArchive),
    };
    let reference = built.name.to_string();
    match model::parts(docker, built).await {
        Ok(parts) => model::write(docker, parts, &dest, &reference, kind).await,
        Err(why) => {
            let mut written = from_engine(docker, &built.id, &reference, dest, kind).await?;
            written.whole_from_engine = Some(why);
            Ok(written)
        }
    }
    .map(Some)
}

/// The engine's image `image_id` (named `reference` in the output) read whole from its archive.
async fn from_engine(
    docker: &Docker,
    image_id: &str,
    reference: &str,
    dest: PathBuf,
    kind: Kind,
) -> Result<Exported, ExportError> {
    let image = image_id.to_string();
    // A docker-archive carries the name only when saved by name; the archive is then checked to
    // hold the image built (a racing build may have taken the name meanwhile).
    let saved = match kind {
        Kind::Oci => image_id,
        Kind::DockerArchive => reference,
    };
    let stream = docker.export_image(saved).map_err(std::io::Error::other);
    let reader = tokio_util::io::StreamReader::new(stream);
    let reference = reference.to_string();
    let built = image.clone();
    let handle = tokio::runtime::Handle::current();
    let written = tokio::task::spawn_blocking(move || {
        let reader = tokio_util::io::SyncIoBridge::new_with_handle(reader, handle);
        match kind {
            Kind::Oci => layout::write(reader, &dest, &reference),
            Kind::DockerArchive => layout::write_archive(reader, &dest, &built),
        }
    })
    .await
    .map_err(|e| ExportError::Archive(e.to_string()))?;
    written.map_err(|e| match e {
        ExportError::Read(source) => ExportError::Engine { image, source },
        other => other,
    })
}

#[derive(Clone, Copy)]
enum Kind {
    Oci,
    DockerArchive,
}
