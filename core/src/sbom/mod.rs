//! `build --sbom`: a CycloneDX 1.5 JSON document of the packages in the built image, read from the
//! image's own files (not from a lockfile): the engine's archive of the image is streamed once,
//! each layer's wanted files kept with its whiteouts ([`scan`]), and the final filesystem's
//! Python distributions, npm packages and dpkg packages listed ([`packages`]). rpm databases are
//! found but not read: the SBOM then says nothing of that OS's packages, and [`Summary`] names
//! the databases so that the command line can say so.

mod cyclonedx;
mod packages;
mod scan;

pub use packages::{Ecosystem, Found, OsRelease, Package};
pub use scan::ScanError;

use bollard::Docker;
use futures_util::TryStreamExt;
use std::io::Write;
use std::path::{Path, PathBuf};

/// What was written.
#[derive(Debug)]
pub struct Summary {
    pub dest: PathBuf,
    pub python: usize,
    pub npm: usize,
    pub os_packages: usize,
    /// rpm databases in the image, which are not read.
    pub rpm_databases: Vec<String>,
}

impl Summary {
    pub fn components(&self) -> usize {
        self.python + self.npm + self.os_packages
    }
}

/// Why no SBOM was written.
#[derive(Debug, thiserror::Error)]
pub enum SbomError {
    #[error("cannot read the image {image} from the engine: {source}")]
    Engine { image: String, source: ScanError },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Document(String),
}

/// The packages of the engine's image `image_id`, read from its archive.
pub async fn scan(docker: &Docker, image_id: &str) -> Result<Found, SbomError> {
    let stream = docker.export_image(image_id).map_err(std::io::Error::other);
    let reader = tokio_util::io::StreamReader::new(stream);
    let handle = tokio::runtime::Handle::current();
    let files = tokio::task::spawn_blocking(move || {
        let reader = tokio_util::io::SyncIoBridge::new_with_handle(reader, handle);
        scan::files(reader, packages::wanted)
    })
    .await
    .map_err(|e| SbomError::Document(e.to_string()))?
    .map_err(|source| SbomError::Engine {
        image: image_id.to_string(),
        source,
    })?;
    Ok(packages::found(&files))
}

/// Scan the engine's image `image_id` (named `name`) and write its SBOM to `dest`, beside it
/// first and renamed into place: a failure leaves no half-written file.
pub async fn write(
    docker: &Docker,
    image_id: &str,
    name: &str,
    dest: &Path,
) -> Result<Summary, SbomError> {
    let found = scan(docker, image_id).await?;
    let subject = cyclonedx::Subject { name, id: image_id };
    let bom = cyclonedx::document(&subject, &found).map_err(SbomError::Document)?;
    let mut json = Vec::new();
    bom.output_as_json_v1_5(&mut json)
        .map_err(|e| SbomError::Document(e.to_string()))?;
    json.push(b'\n');
    let write_error = |source| SbomError::Write {
        path: dest.to_path_buf(),
        source,
    };
    let dir = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut file = tempfile::NamedTempFile::new_in(dir).map_err(write_error)?;
    file.write_all(&json).map_err(write_error)?;
    file.persist(dest).map_err(|e| write_error(e.error))?;
    let count = |e| found.packages.iter().filter(|p| p.ecosystem == e).count();
    Ok(Summary {
        dest: dest.to_path_buf(),
        python: count(Ecosystem::Python),
        npm: count(Ecosystem::Npm),
        os_packages: count(Ecosystem::Deb),
        rpm_databases: found.rpm_databases,
    })
}
