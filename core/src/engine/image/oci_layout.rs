//! Written layers for an engine that keeps images in the containerd image store (Docker Desktop,
//! new Docker installs): it refuses a `docker load` archive that lacks the base's layers, but
//! takes an OCI image layout that holds only what is new, when the new manifest lists the base's
//! layers exactly as its content store holds them (for a pulled image the registry's compressed
//! blobs, for a loaded one the uncompressed tars).
//!
//! The base's manifest is not in the engine's image inspect (API 1.45): it is read once per base
//! image from the engine's `docker save` of it (an OCI layout: the layers, then the config, the
//! manifest and `index.json`) and kept, named by its digest, beside the layer directory; each
//! kept blob is checked against its name when read.

use crate::engine::image::layer::Layer;
use crate::engine::image::written::{self, append, NewImage};
use crate::engine::EngineError;
use bollard::models::ImageInspect;
use futures_util::TryStreamExt;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const DOCKER_LAYER: &str = "application/vnd.docker.image.rootfs.diff.tar";
const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";
/// The most of a blob of `docker save` kept in memory: manifests, indexes and configs are small;
/// layers are passed over.
const SMALL_BLOB: u64 = 4 * 1024 * 1024;

fn digest_of(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

fn hex_of(digest: &str) -> Option<&str> {
    digest
        .strip_prefix("sha256:")
        .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Whether a blob is an index (of manifests) rather than a manifest.
fn is_index(value: &Value) -> bool {
    matches!(value["mediaType"].as_str(), Some(OCI_INDEX | DOCKER_LIST))
        || (value.get("manifests").is_some() && value.get("layers").is_none())
}

/// Where the base's manifest is, by digest: the blobs kept, or those of a `docker save`.
trait Blobs {
    fn blob(&mut self, digest: &str) -> Option<Vec<u8>>;
}

/// The blobs kept in a directory, named by hex digest; a blob that is not its name is not used.
struct Kept<'a>(&'a Path);

impl Blobs for Kept<'_> {
    fn blob(&mut self, digest: &str) -> Option<Vec<u8>> {
        let bytes = std::fs::read(self.0.join(hex_of(digest)?)).ok()?;
        (digest_of(&bytes) == digest).then_some(bytes)
    }
}

impl Blobs for HashMap<String, Vec<u8>> {
    fn blob(&mut self, digest: &str) -> Option<Vec<u8>> {
        self.get(digest).cloned()
    }
}

/// The manifest of `base` (its id is the digest of its manifest or of an index holding it) in
/// `blobs`, with the blobs that lead to it (to keep). `None`: not there, or not one that lists
/// the base's layers.
fn manifest_in(blobs: &mut impl Blobs, base: &ImageInspect) -> Option<Vec<(String, Vec<u8>)>> {
    let id = base.id.as_deref()?;
    let mut path = vec![(id.to_string(), blobs.blob(id)?)];
    let top: Value = serde_json::from_slice(&path[0].1).ok()?;
    if is_index(&top) {
        let (arch, os) = (
            base.architecture.as_deref().unwrap_or("amd64"),
            base.os.as_deref().unwrap_or("linux"),
        );
        let child = top["manifests"].as_array()?.iter().find_map(|m| {
            let fits = m["platform"]["architecture"]
                .as_str()
                .is_none_or(|a| a == arch)
                && m["platform"]["os"].as_str().is_none_or(|o| o == os);
            let digest = m["digest"].as_str()?;
            let bytes = if fits {
                blobs.blob(digest)?
            } else {
                return None;
            };
            Some((digest.to_string(), bytes))
        })?;
        path.push(child);
    }
    let manifest: Value = serde_json::from_slice(&path.last()?.1).ok()?;
    let layers = base.root_fs.as_ref()?.layers.as_ref()?.len();
    (manifest["layers"].as_array()?.len() == layers).then_some(path)
}

/// The small blobs of a `docker save` archive, by digest (each hashed as read).
fn small_blobs(reader: impl Read) -> io::Result<HashMap<String, Vec<u8>>> {
    let mut blobs = HashMap::new();
    let mut archive = tar::Archive::new(reader);
    for entry in archive.entries()? {
        let mut entry = entry?;
        if !entry.header().entry_type().is_file() || entry.size() > SMALL_BLOB {
            continue;
        }
        let name = entry.path()?.to_string_lossy().into_owned();
        if !name.trim_start_matches("./").starts_with("blobs/sha256/") {
            continue;
        }
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes)?;
        blobs.insert(digest_of(&bytes), bytes);
    }
    Ok(blobs)
}

/// The manifest of `base` as the engine's content store holds it: from `dir` (kept from an
/// earlier build), else from the engine's `docker save` of it, then kept in `dir`.
pub(crate) async fn base_manifest(
    docker: &bollard::Docker,
    base: &ImageInspect,
    dir: &Path,
) -> Result<Vec<u8>, EngineError> {
    if let Some(path) = manifest_in(&mut Kept(dir), base) {
        return Ok(path.into_iter().last().map(|(_, b)| b).unwrap_or_default());
    }
    let id = base.id.clone().unwrap_or_default();
    let failed = |source: io::Error| EngineError::Source {
        root: PathBuf::from(format!("(the engine's archive of {id})")),
        source,
    };
    let stream = docker.export_image(&id).map_err(io::Error::other);
    let reader = tokio_util::io::StreamReader::new(stream);
    let handle = tokio::runtime::Handle::current();
    let mut blobs = tokio::task::spawn_blocking(move || {
        small_blobs(tokio_util::io::SyncIoBridge::new_with_handle(
            reader, handle,
        ))
    })
    .await
    .map_err(|e| failed(io::Error::other(e)))?
    .map_err(failed)?;
    let path = manifest_in(&mut blobs, base).ok_or_else(|| {
        failed(io::Error::other(
            "it holds no manifest that lists the image's layers",
        ))
    })?;
    keep(dir, &path);
    Ok(path.into_iter().last().map(|(_, b)| b).unwrap_or_default())
}

/// Keep `blobs` in `dir` by digest, for the next build; a build that cannot keep them reads the
/// engine's archive again next time.
fn keep(dir: &Path, blobs: &[(String, Vec<u8>)]) {
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    for (digest, bytes) in blobs {
        if let Some(hex) = hex_of(digest) {
            let partial = dir.join(format!(".{hex}.{}", std::process::id()));
            if std::fs::write(&partial, bytes).is_ok() {
                let _ = std::fs::rename(&partial, dir.join(hex));
            }
        }
    }
}

/// The new image's manifest: the base's, its config replaced and the new layers added
/// (uncompressed: digest = diff id).
pub(crate) fn manifest(base_manifest: &[u8], config: &[u8], layers: &[Arc<Layer>]) -> Vec<u8> {
    let mut value: Value = serde_json::from_slice(base_manifest).unwrap_or_else(|_| json!({}));
    let docker = value["mediaType"].as_str() == Some(DOCKER_MANIFEST);
    if let Value::Object(map) = &mut value {
        map.remove("annotations");
        map.remove("subject");
    }
    value["config"]["digest"] = Value::String(digest_of(config));
    value["config"]["size"] = json!(config.len());
    let new = layers.iter().map(|l| {
        json!({
            "mediaType": if docker { DOCKER_LAYER } else { OCI_LAYER },
            "digest": l.diff_id,
            "size": l.size,
        })
    });
    match value["layers"].as_array_mut() {
        Some(list) => list.extend(new),
        None => value["layers"] = Value::Array(new.collect()),
    }
    serde_json::to_vec(&value).expect("a JSON value serialises")
}

/// The OCI image layout archive: `oci-layout`, `index.json` naming the manifest as `name`, and
/// the blobs of the new manifest, config and layers only.
pub(crate) fn write_archive<W: Write>(
    out: W,
    name: &str,
    manifest: &[u8],
    config: &[u8],
    layers: &[Arc<Layer>],
) -> io::Result<()> {
    let media_type = serde_json::from_slice::<Value>(manifest)
        .ok()
        .and_then(|m| m["mediaType"].as_str().map(str::to_string))
        .unwrap_or_else(|| "application/vnd.oci.image.manifest.v1+json".into());
    let tag = name.rsplit_once(':').map_or("latest", |(_, t)| t);
    let index = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [{
            "mediaType": media_type,
            "digest": digest_of(manifest),
            "size": manifest.len(),
            "annotations": {
                "io.containerd.image.name": full_name(name),
                "org.opencontainers.image.ref.name": tag,
            },
        }],
    }))
    .expect("a JSON value serialises");
    let mut tar = tar::Builder::new(out);
    let layout = br#"{"imageLayoutVersion":"1.0.0"}"#;
    append(&mut tar, "oci-layout", layout.len() as u64, &layout[..])?;
    for blob in [manifest, config] {
        let path = format!("blobs/sha256/{}", &digest_of(blob)[7..]);
        append(&mut tar, &path, blob.len() as u64, blob)?;
    }
    for layer in layers {
        let path = format!(
            "blobs/sha256/{}",
            layer.diff_id.trim_start_matches("sha256:")
        );
        append(&mut tar, &path, layer.size, layer.open()?.take(layer.size))?;
    }
    append(&mut tar, "index.json", index.len() as u64, &index[..])?;
    tar.into_inner()?.flush()
}

/// `name` as containerd names images (`docker.io/library/…` for a name of Docker Hub's).
fn full_name(name: &str) -> String {
    let first = name.split('/').next().unwrap_or_default();
    let domain = name.contains('/') && (first.contains(['.', ':']) || first == "localhost");
    match (domain, name.contains('/')) {
        (true, _) => name.to_string(),
        (false, true) => format!("docker.io/{name}"),
        (false, false) => format!("docker.io/library/{name}"),
    }
}

/// Load `image` into the engine as an OCI image layout over `base_manifest`, named `name`; its
/// id (on the containerd store, the manifest's digest). Its manifest is kept in `dir`: an image
/// written over this one needs no archive of it.
pub(crate) async fn load(
    docker: &bollard::Docker,
    image: NewImage<'_>,
    base_manifest: &[u8],
    name: &str,
    dir: &Path,
) -> Result<String, EngineError> {
    let (config, _) = written::image_config(&image);
    let layers = image.layers.clone();
    let manifest = manifest(base_manifest, &config, &layers);
    let id = digest_of(&manifest);
    let name = name.to_string();
    let kept = manifest.clone();
    written::import(docker, move |out| {
        write_archive(out, &name, &manifest, &config, &layers)
    })
    .await?;
    docker
        .inspect_image(&id)
        .await
        .map_err(EngineError::docker(
        "finding the image a written layer made (the engine took the OCI layout but not the image)",
    ))?;
    keep(dir, &[(id.clone(), kept)]);
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::models::ImageInspectRootFs;

    fn base(id: &str, layers: usize) -> ImageInspect {
        ImageInspect {
            id: Some(id.into()),
            architecture: Some("amd64".into()),
            os: Some("linux".into()),
            root_fs: Some(ImageInspectRootFs {
                typ: "layers".into(),
                layers: Some((0..layers).map(|i| format!("sha256:{i:064}")).collect()),
            }),
            ..Default::default()
        }
    }

    fn base_manifest() -> Vec<u8> {
        serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": DOCKER_MANIFEST,
            "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "digest": "sha256:00", "size": 2},
            "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "digest": "sha256:aa", "size": 9}],
        }))
        .unwrap()
    }

    #[test]
    fn the_manifest_is_found_through_an_index_and_kept_blobs_are_checked() {
        let manifest = base_manifest();
        let index = serde_json::to_vec(&json!({
            "schemaVersion": 2, "mediaType": OCI_INDEX,
            "manifests": [
                {"digest": "sha256:ff", "platform": {"architecture": "arm64", "os": "linux"}},
                {"digest": digest_of(&manifest), "platform": {"architecture": "amd64", "os": "linux"}},
            ],
        }))
        .unwrap();
        let mut blobs = HashMap::from([
            (digest_of(&manifest), manifest.clone()),
            (digest_of(&index), index.clone()),
        ]);
        let path = manifest_in(&mut blobs, &base(&digest_of(&index), 1)).unwrap();
        assert_eq!(path.len(), 2);
        assert_eq!(path[1].1, manifest);
        assert!(
            manifest_in(&mut blobs, &base(&digest_of(&index), 2)).is_none(),
            "a manifest of other layers is not the image's"
        );
        let dir = tempfile::tempdir().unwrap();
        let id = digest_of(&manifest);
        std::fs::write(dir.path().join(&id[7..]), b"{}").unwrap();
        assert!(manifest_in(&mut Kept(dir.path()), &base(&id, 1)).is_none());
        std::fs::write(dir.path().join(&id[7..]), &manifest).unwrap();
        assert!(manifest_in(&mut Kept(dir.path()), &base(&id, 1)).is_some());
    }

    #[test]
    fn the_new_manifest_keeps_the_base_layers_and_adds_uncompressed_ones() {
        let dir = tempfile::tempdir().unwrap();
        let (layer, ()) = Layer::write(dir.path().join("l.tar"), true, |out| {
            tar::Builder::new(out).finish()
        })
        .unwrap();
        let layer = Arc::new(layer);
        let out = manifest(&base_manifest(), b"{}", std::slice::from_ref(&layer));
        let value: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(value["config"]["digest"], digest_of(b"{}"));
        assert_eq!(
            value["config"]["mediaType"],
            "application/vnd.docker.container.image.v1+json"
        );
        let layers = value["layers"].as_array().unwrap();
        assert_eq!(layers[0]["digest"], "sha256:aa");
        assert_eq!(layers[1]["digest"], layer.diff_id);
        assert_eq!(layers[1]["mediaType"], DOCKER_LAYER);
        let mut archive = Vec::new();
        write_archive(
            &mut archive,
            "apprunner-build-work:x-1",
            &out,
            b"{}",
            &[layer],
        )
        .unwrap();
        let names: Vec<String> = tar::Archive::new(&archive[..])
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        assert_eq!(names.len(), 5, "{names:?}");
        assert_eq!(names.last().unwrap(), "index.json");
        assert_eq!(
            full_name("apprunner-build-work:x-1"),
            "docker.io/library/apprunner-build-work:x-1"
        );
        assert_eq!(full_name("localhost:5000/a/b:1"), "localhost:5000/a/b:1");
    }
}
