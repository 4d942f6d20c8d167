//! The image as a value: its config and its layers, each a blob named by its digest. A build
//! leaves the image in the engine; [`export`] reads it back as this value and writes it where
//! `--output` says: an OCI image layout (a directory or a tar of one) or a `docker load` archive.
//!
//! Blobs are streamed from the engine to their files: an image is never held in memory.

mod layout;
mod save;
mod spec;

pub use spec::{Output, OutputSpecError};

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

/// A layer: its blob (as stored, maybe compressed) and the digest of its uncompressed tar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layer {
    pub blob: Blob,
    pub diff_id: String,
}

/// The image: its config (whose digest is the engine's image id) and its layers, base first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageValue {
    pub config: Blob,
    pub layers: Vec<Layer>,
}

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    pub dest: PathBuf,
    /// The OCI manifest's digest; none for a `docker load` archive, which has no manifest blob.
    pub manifest_digest: Option<String>,
    pub image: Option<ImageValue>,
    pub bytes: u64,
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

/// Write the engine's image `image_id` (named `reference` in the output) as `output` says.
/// [`Output::Docker`] writes nothing: the image is in the engine already.
pub async fn export(
    docker: &Docker,
    image_id: &str,
    reference: &str,
    output: &Output,
) -> Result<Option<Exported>, ExportError> {
    let (dest, kind) = match output {
        Output::Docker => return Ok(None),
        Output::Oci { dest } => (dest.clone(), Kind::Oci),
        Output::DockerArchive { dest } => (dest.clone(), Kind::DockerArchive),
    };
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
    written.map(Some).map_err(|e| match e {
        ExportError::Read(source) => ExportError::Engine { image, source },
        other => other,
    })
}

#[derive(Clone, Copy)]
enum Kind {
    Oci,
    DockerArchive,
}
