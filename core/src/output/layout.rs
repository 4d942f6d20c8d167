//! Writing the image: an OCI image layout (a directory, or a tar of one when the destination
//! ends in `.tar`), or the engine's own archive for `docker load`. Each is written beside its
//! destination and renamed into place, so a failed export leaves no half-written output and an
//! earlier one stays whole until then. The same image gives the same bytes: names, times and
//! owners in a tar of the layout are fixed, and JSON fields come in a fixed order.

use super::save::{read_into, CONFIG_MEDIA_TYPE};
use super::{ExportError, Exported, ImageValue};
use oci_spec::image::{
    DescriptorBuilder, ImageIndexBuilder, ImageManifestBuilder, MediaType, OciLayoutBuilder,
};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// The annotation that names the image in an OCI layout's index (as `skopeo`, `crane` and
/// BuildKit read it).
const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// The image read from `reader` (the engine's archive) as an OCI image layout at `dest`.
pub(super) fn write(
    reader: impl Read,
    dest: &Path,
    reference: &str,
) -> Result<Exported, ExportError> {
    let as_tar = dest.extension().is_some_and(|e| e == "tar");
    check_replaceable(dest, as_tar)?;
    let staging = staging_dir(dest)?;
    let image = read_into(reader, &staging.path().join("blobs/sha256"))?;
    finish(staging, image, dest, reference, Form::Layout { as_tar })
}

/// What a staging directory of blobs becomes.
#[derive(Clone, Copy)]
pub(super) enum Form {
    /// An OCI image layout: a directory, or a tar of one.
    Layout { as_tar: bool },
    /// A tar of an OCI image layout with Docker's `manifest.json` beside it, as Docker 25 and
    /// later save: `docker load` (20.10 too) and `skopeo` (`docker-archive:`) read it.
    DockerArchive,
}

/// The index, manifest and `oci-layout` for `image`, whose blobs are in `staging`'s
/// `blobs/sha256`, and the whole moved to `dest` in its form.
pub(super) fn finish(
    staging: tempfile::TempDir,
    image: ImageValue,
    dest: &Path,
    reference: &str,
    form: Form,
) -> Result<Exported, ExportError> {
    let root = staging.path();
    let manifest_digest = write_index(root, &image, reference)?;
    let bytes = image.config.size + image.layers.iter().map(|l| l.blob.size).sum::<u64>();
    let as_tar = match form {
        Form::Layout { as_tar } => as_tar,
        Form::DockerArchive => {
            write_docker_manifest(root, &image, reference)?;
            true
        }
    };
    if as_tar {
        let partial = partial_file(dest);
        tar_layout(root, &partial).map_err(|source| {
            let _ = std::fs::remove_file(&partial);
            ExportError::Write {
                path: partial.clone(),
                source,
            }
        })?;
        replace(&partial, dest)?;
    } else {
        let kept = staging.keep();
        replace(&kept, dest).inspect_err(|_| {
            let _ = std::fs::remove_dir_all(&kept);
        })?;
    }
    Ok(Exported {
        dest: dest.to_path_buf(),
        manifest_digest: matches!(form, Form::Layout { .. }).then_some(manifest_digest),
        image: Some(image),
        bytes,
        whole_from_engine: None,
    })
}

/// Docker's `manifest.json`: the config, the name and the layers, as paths in the archive.
fn write_docker_manifest(
    root: &Path,
    image: &ImageValue,
    reference: &str,
) -> Result<(), ExportError> {
    let path = |b: &super::Blob| format!("blobs/sha256/{}", b.digest.trim_start_matches("sha256:"));
    let manifest = serde_json::json!([{
        "Config": path(&image.config),
        "RepoTags": [reference],
        "Layers": image.layers.iter().map(|l| path(&l.blob)).collect::<Vec<_>>(),
    }]);
    let at = root.join("manifest.json");
    std::fs::write(&at, manifest.to_string())
        .map_err(|source| ExportError::Write { path: at, source })
}

/// The engine's archive as it comes, at `dest`.
pub(super) fn write_archive(
    mut reader: impl Read,
    dest: &Path,
    image_id: &str,
) -> Result<Exported, ExportError> {
    check_replaceable(dest, true)?;
    let partial = partial_file(dest);
    let write_error = |source| ExportError::Write {
        path: partial.clone(),
        source,
    };
    let mut file = std::fs::File::create(&partial).map_err(write_error)?;
    let copied = copy(&mut reader, &mut file);
    let bytes = match copied {
        Ok(bytes) => bytes,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    file.sync_all().map_err(write_error)?;
    if let Err(e) = check_archive_image(&partial, image_id) {
        let _ = std::fs::remove_file(&partial);
        return Err(e);
    }
    replace(&partial, dest)?;
    Ok(Exported {
        dest: dest.to_path_buf(),
        manifest_digest: None,
        image: None,
        bytes,
        whole_from_engine: None,
    })
}

/// The archive at `path` holds the image `image_id`: its one manifest's config is that image's.
fn check_archive_image(path: &Path, image_id: &str) -> Result<(), ExportError> {
    let file = std::fs::File::open(path).map_err(ExportError::Read)?;
    let mut archive = tar::Archive::new(file);
    for entry in archive.entries_with_seek().map_err(ExportError::Read)? {
        let mut entry = entry.map_err(ExportError::Read)?;
        if entry.path().map_err(ExportError::Read)?.as_os_str() != "manifest.json" {
            continue;
        }
        let mut text = String::new();
        entry
            .by_ref()
            .take(16 * 1024 * 1024)
            .read_to_string(&mut text)
            .map_err(ExportError::Read)?;
        let hex = image_id.trim_start_matches("sha256:");
        // 20.10 names the config `HEX.json`; Docker 25 and later `blobs/sha256/HEX`.
        let holds = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|m| m.get(0)?.get("Config")?.as_str().map(String::from))
            .is_some_and(|config| {
                config == format!("{hex}.json") || config == format!("blobs/sha256/{hex}")
            });
        return if holds {
            Ok(())
        } else {
            Err(ExportError::Archive(format!(
                "it holds another image than the one built ({}): its name was given to another image meanwhile",
                &hex[..12.min(hex.len())]
            )))
        };
    }
    Err(ExportError::Archive("it has no manifest.json".into()))
}

/// `io::copy`, with the reader's errors told apart from the writer's.
fn copy(reader: &mut impl Read, out: &mut std::fs::File) -> Result<u64, ExportError> {
    use std::io::Write;
    let mut buf = vec![0u8; 256 * 1024];
    let mut total = 0u64;
    loop {
        let n = reader.read(&mut buf).map_err(ExportError::Read)?;
        if n == 0 {
            return Ok(total);
        }
        out.write_all(&buf[..n])
            .map_err(|source| ExportError::Write {
                path: PathBuf::from("(output)"),
                source,
            })?;
        total += n as u64;
    }
}

/// An existing output is replaced only when it is what an export writes: a file for a file
/// output, and for a directory an OCI layout or an empty directory. Anything else is the user's.
pub(super) fn check_replaceable(dest: &Path, as_file: bool) -> Result<(), ExportError> {
    let Ok(meta) = std::fs::symlink_metadata(dest) else {
        return Ok(());
    };
    let replaceable = if as_file {
        meta.is_file()
    } else {
        meta.is_dir()
            && (dest.join("oci-layout").is_file()
                || std::fs::read_dir(dest).is_ok_and(|mut d| d.next().is_none()))
    };
    if replaceable {
        Ok(())
    } else {
        Err(ExportError::NotALayout {
            path: dest.to_path_buf(),
        })
    }
}

/// A directory beside `dest` (same file system, so that it can be renamed into place), removed
/// unless kept.
pub(super) fn staging_dir(dest: &Path) -> Result<tempfile::TempDir, ExportError> {
    let parent = parent_of(dest);
    std::fs::create_dir_all(&parent).map_err(|source| ExportError::Write {
        path: parent.clone(),
        source,
    })?;
    tempfile::Builder::new()
        .prefix(".apprunner-build-output-")
        .tempdir_in(&parent)
        .map_err(|source| ExportError::Write {
            path: parent,
            source,
        })
}

fn parent_of(dest: &Path) -> PathBuf {
    match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn partial_file(dest: &Path) -> PathBuf {
    let name = dest.file_name().unwrap_or_default().to_string_lossy();
    parent_of(dest).join(format!(".{name}.partial-{}", std::process::id()))
}

/// Move `from` to `dest`, replacing what is there (checked by [`check_replaceable`]).
fn replace(from: &Path, dest: &Path) -> Result<(), ExportError> {
    let write_error = |source| ExportError::Write {
        path: dest.to_path_buf(),
        source,
    };
    if from.is_dir() && dest.is_dir() {
        // A directory cannot be renamed over a non-empty one: the old one steps aside first.
        let old = partial_file(dest).with_extension("old");
        std::fs::rename(dest, &old).map_err(write_error)?;
        std::fs::rename(from, dest).map_err(write_error)?;
        let _ = std::fs::remove_dir_all(&old);
        return Ok(());
    }
    std::fs::rename(from, dest).map_err(write_error)
}

/// The manifest blob, `index.json` and `oci-layout`: the manifest's digest.
fn write_index(root: &Path, image: &ImageValue, reference: &str) -> Result<String, ExportError> {
    let spec_error = |e: oci_spec::OciSpecError| ExportError::Archive(e.to_string());
    let descriptor = |media_type: MediaType, digest: &str, size: u64| {
        DescriptorBuilder::default()
            .media_type(media_type)
            .digest(
                digest
                    .parse::<oci_spec::image::Digest>()
                    .map_err(spec_error)?,
            )
            .size(size)
            .build()
            .map_err(spec_error)
    };
    debug_assert_eq!(image.config.media_type, CONFIG_MEDIA_TYPE);
    let layers = image
        .layers
        .iter()
        .map(|l| {
            descriptor(
                MediaType::from(l.blob.media_type),
                &l.blob.digest,
                l.blob.size,
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let manifest = ImageManifestBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageManifest)
        .config(descriptor(
            MediaType::ImageConfig,
            &image.config.digest,
            image.config.size,
        )?)
        .layers(layers)
        .build()
        .map_err(spec_error)?;
    let manifest_json =
        serde_json::to_vec(&manifest).map_err(|e| ExportError::Archive(e.to_string()))?;
    let manifest_digest = format!("sha256:{}", hex::encode(Sha256::digest(&manifest_json)));
    let write = |name: &str, bytes: &[u8]| {
        let path = root.join(name);
        std::fs::write(&path, bytes).map_err(|source| ExportError::Write { path, source })
    };
    write(
        &format!(
            "blobs/sha256/{}",
            manifest_digest.trim_start_matches("sha256:")
        ),
        &manifest_json,
    )?;
    let mut entry = descriptor(
        MediaType::ImageManifest,
        &manifest_digest,
        manifest_json.len() as u64,
    )?;
    entry.set_annotations(Some(HashMap::from([(
        REF_NAME.to_string(),
        reference.to_string(),
    )])));
    let index = ImageIndexBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageIndex)
        .manifests(vec![entry])
        .build()
        .map_err(spec_error)?;
    write(
        "index.json",
        &serde_json::to_vec(&index).map_err(|e| ExportError::Archive(e.to_string()))?,
    )?;
    let layout = OciLayoutBuilder::default()
        .image_layout_version("1.0.0")
        .build()
        .map_err(spec_error)?;
    write(
        "oci-layout",
        &serde_json::to_vec(&layout).map_err(|e| ExportError::Archive(e.to_string()))?,
    )?;
    Ok(manifest_digest)
}

/// A tar of the layout at `root`: its directories, `oci-layout`, `index.json`, then the blobs by
/// name, each with owner 0 and time 0.
fn tar_layout(root: &Path, out: &Path) -> io::Result<()> {
    let file = std::fs::File::create(out)?;
    let mut tar = tar::Builder::new(io::BufWriter::new(file));
    let mut names = vec!["oci-layout".to_string(), "index.json".to_string()];
    if root.join("manifest.json").is_file() {
        names.push("manifest.json".to_string());
    }
    let mut blobs: Vec<String> = std::fs::read_dir(root.join("blobs/sha256"))?
        .map(|e| e.map(|e| format!("blobs/sha256/{}", e.file_name().to_string_lossy())))
        .collect::<io::Result<_>>()?;
    blobs.sort();
    for dir in ["blobs/", "blobs/sha256/"] {
        let mut header = fixed_header(tar::EntryType::Directory, 0o755, 0);
        tar.append_data(&mut header, dir, io::empty())?;
    }
    names.extend(blobs);
    for name in names {
        let mut file = std::fs::File::open(root.join(&name))?;
        let size = file.metadata()?.len();
        let mut header = fixed_header(tar::EntryType::Regular, 0o644, size);
        tar.append_data(&mut header, &name, &mut file)?;
    }
    tar.into_inner()?
        .into_inner()
        .map_err(|e| e.into_error())?
        .sync_all()
}

fn fixed_header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
    let mut header = tar::Header::new_ustar();
    header.set_entry_type(kind);
    header.set_mode(mode);
    header.set_size(size);
    header.set_mtime(0);
    header.set_uid(0);
    header.set_gid(0);
    header
}
