//! The image written from its parts: the base's layers from the engine's archive of the base
//! alone, then the layers and the config the build wrote, from the build's own files. Each blob
//! is hashed as it is written and checked against the digest the image names.

use super::layout::{self, Form};
use super::save::{self, LAYER_TAR};
use super::{BaseImage, Blob, ExportError, Exported, ImageValue, Kind, Layer, Origin};
use crate::engine::BuiltImage;
use bollard::Docker;
use futures_util::TryStreamExt;
use sha2::{Digest, Sha256};
use std::fs::File;
use std::path::{Path, PathBuf};

/// What the image is made of, when the tool holds all of it but the base.
pub(super) struct Parts {
    base: BaseImage,
    config: Vec<u8>,
    config_digest: String,
    /// Over the base, in order: each layer's diff id, file and size.
    written: Vec<(String, File, u64)>,
}

/// The image's parts; when the tool does not hold them all, why not (the export then reads the
/// whole image from the engine).
pub(super) async fn parts(docker: &Docker, built: &BuiltImage) -> Result<Parts, String> {
    let config = built.held.config(&built.id).ok_or_else(|| {
        "the engine wrote the image's config (its last step ran in a container, or nothing was built)"
            .to_string()
    })?;
    let config_digest = format!("sha256:{}", hex::encode(Sha256::digest(config)));
    if config_digest != built.id {
        return Err(format!(
            "the config held for {} is {config_digest}",
            built.id
        ));
    }
    let layers_of = |image: bollard::models::ImageInspect| {
        image.root_fs.and_then(|r| r.layers).unwrap_or_default()
    };
    let image = docker
        .inspect_image(&built.id)
        .await
        .map_err(|e| format!("the engine did not describe the image: {e}"))?;
    let diff_ids = layers_of(image);
    let base = docker
        .inspect_image(&built.base)
        .await
        .map_err(|e| format!("the engine did not describe the base {}: {e}", built.base))?;
    let base_image = BaseImage {
        reference: built.base.clone(),
        id: base.id.clone().unwrap_or_default(),
        digest: base
            .repo_digests
            .as_ref()
            .and_then(|d| d.first())
            .and_then(|d| d.split_once('@'))
            .map(|(_, digest)| digest.to_string()),
    };
    let base_ids = layers_of(base);
    let Some(over_base) = diff_ids.strip_prefix(base_ids.as_slice()) else {
        return Err(format!("the image is not over {}'s layers", built.base));
    };
    let mut written = Vec::new();
    let mut committed = 0;
    for diff_id in over_base {
        match built.held.layer(diff_id) {
            Some(Ok((file, size))) => written.push((diff_id.clone(), file, size)),
            Some(Err(e)) => return Err(format!("a written layer cannot be read: {e}")),
            None => committed += 1,
        }
    }
    if committed > 0 {
        return Err(format!(
            "{committed} of its layers {} committed from a container, which only the engine has",
            if committed == 1 { "was" } else { "were" }
        ));
    }
    Ok(Parts {
        base: base_image,
        config: config.to_vec(),
        config_digest,
        written,
    })
}

/// Write the image from `parts` at `dest`.
pub(super) async fn write(
    docker: &Docker,
    parts: Parts,
    dest: &Path,
    reference: &str,
    kind: Kind,
) -> Result<Exported, ExportError> {
    let form = match kind {
        Kind::Oci => Form::Layout {
            as_tar: dest.extension().is_some_and(|e| e == "tar"),
        },
        Kind::DockerArchive => Form::DockerArchive,
    };
    layout::check_replaceable(dest, !matches!(form, Form::Layout { as_tar: false }))?;
    let base_id = parts.base.id.clone();
    let stream = docker.export_image(&base_id).map_err(std::io::Error::other);
    let reader = tokio_util::io::StreamReader::new(stream);
    let handle = tokio::runtime::Handle::current();
    let dest = dest.to_path_buf();
    let reference = reference.to_string();
    tokio::task::spawn_blocking(move || {
        let reader = tokio_util::io::SyncIoBridge::new_with_handle(reader, handle);
        let staging = layout::staging_dir(&dest)?;
        let blobs = staging.path().join("blobs/sha256");
        let base = save::read_into(reader, &blobs).map_err(|e| match e {
            ExportError::Read(source) => ExportError::Engine {
                image: base_id.clone(),
                source,
            },
            other => other,
        })?;
        let image = assemble(base, parts, &blobs)?;
        layout::finish(staging, image, &dest, &reference, form)
    })
    .await
    .map_err(|e| ExportError::Archive(e.to_string()))?
}

/// The base's layers (already in `blobs`) and the written layers and config added to them.
fn assemble(base: ImageValue, parts: Parts, blobs: &Path) -> Result<ImageValue, ExportError> {
    // The base's config is no blob of this image.
    if base.config.digest != parts.config_digest {
        let at = blobs.join(base.config.digest.trim_start_matches("sha256:"));
        std::fs::remove_file(&at).map_err(|source| ExportError::Write { path: at, source })?;
    }
    let mut layers: Vec<Layer> = base
        .layers
        .into_iter()
        .map(|l| Layer {
            origin: Origin::Base,
            ..l
        })
        .collect();
    for (n, (diff_id, mut file, size)) in parts.written.into_iter().enumerate() {
        let (hex, written) = save::write_blob(&mut file, blobs, n)?;
        let digest = format!("sha256:{hex}");
        if digest != diff_id || written != size {
            let _ = std::fs::remove_file(blobs.join(&hex));
            return Err(ExportError::Archive(format!(
                "a written layer changed on disk: it should be {diff_id} ({size} bytes), and is {digest} ({written} bytes)"
            )));
        }
        layers.push(Layer {
            blob: Blob {
                digest,
                size,
                media_type: LAYER_TAR,
            },
            diff_id,
            origin: Origin::Written,
        });
    }
    let hex = parts.config_digest.trim_start_matches("sha256:");
    let at: PathBuf = blobs.join(hex);
    std::fs::write(&at, &parts.config).map_err(|source| ExportError::Write { path: at, source })?;
    Ok(ImageValue {
        base: Some(parts.base),
        config: Blob {
            digest: parts.config_digest,
            size: parts.config.len() as u64,
            media_type: save::CONFIG_MEDIA_TYPE,
        },
        layers,
    })
}

#[cfg(test)]
mod tests {
    use super::{assemble, Parts};
    use crate::output::{BaseImage, Blob, ExportError, ImageValue, Origin};
    use sha2::{Digest, Sha256};
    use std::io::Write;

    fn sha(bytes: &[u8]) -> String {
        format!("sha256:{:x}", Sha256::digest(bytes))
    }

    /// A base of no layer whose config is in `blobs`, and parts with one written layer holding
    /// `content` that should be `diff_id`.
    fn setup(blobs: &std::path::Path, content: &[u8], diff_id: String) -> (ImageValue, Parts) {
        std::fs::create_dir_all(blobs).unwrap();
        let base_config = b"{\"base\":true}";
        std::fs::write(blobs.join(&sha(base_config)[7..]), base_config).unwrap();
        let base = ImageValue {
            base: None,
            config: Blob {
                digest: sha(base_config),
                size: base_config.len() as u64,
                media_type: super::save::CONFIG_MEDIA_TYPE,
            },
            layers: vec![],
        };
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(content).unwrap();
        use std::io::Seek;
        file.rewind().unwrap();
        let config = b"{\"image\":true}".to_vec();
        let parts = Parts {
            base: BaseImage {
                reference: "base".into(),
                id: sha(base_config),
                digest: None,
            },
            config_digest: sha(&config),
            config,
            written: vec![(diff_id, file, content.len() as u64)],
        };
        (base, parts)
    }

    #[test]
    fn written_layers_and_the_config_join_the_base_and_its_config_leaves() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = dir.path().join("blobs");
        let (base, parts) = setup(&blobs, b"a layer", sha(b"a layer"));
        let image = assemble(base, parts, &blobs).unwrap();
        assert_eq!(image.layers.len(), 1);
        assert_eq!(image.layers[0].origin, Origin::Written);
        assert_eq!(image.layers[0].blob.digest, sha(b"a layer"));
        assert_eq!(image.config.digest, sha(b"{\"image\":true}"));
        let mut names: Vec<_> = std::fs::read_dir(&blobs)
            .unwrap()
            .map(|e| format!("sha256:{}", e.unwrap().file_name().to_string_lossy()))
            .collect();
        names.sort();
        let mut expected = vec![sha(b"a layer"), sha(b"{\"image\":true}")];
        expected.sort();
        assert_eq!(names, expected, "the base's config is no blob of the image");
    }

    #[test]
    fn a_written_layer_that_changed_on_disk_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = dir.path().join("blobs");
        let (base, parts) = setup(&blobs, b"changed since", sha(b"as written"));
        let e = assemble(base, parts, &blobs).unwrap_err();
        assert!(
            matches!(&e, ExportError::Archive(m) if m.contains("a written layer changed on disk")),
            "{e}"
        );
        assert!(!blobs.join(&sha(b"changed since")[7..]).exists());
    }
}
