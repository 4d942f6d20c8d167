//! Reading the engine's image archive (`docker save`: Docker 20.10's layout of one directory per
//! layer, or the OCI layout Docker 25 and later write) into a directory of blobs named by their
//! digests, and the [`ImageValue`] its `manifest.json` names. Every blob is hashed as it streams
//! to its file; an uncompressed layer whose digest is not its diff id is refused.

use super::{Blob, ExportError, ImageValue, Layer, Origin};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::path::{Component, Path, PathBuf};

pub(super) const CONFIG_MEDIA_TYPE: &str = "application/vnd.oci.image.config.v1+json";
pub(super) const LAYER_TAR: &str = "application/vnd.oci.image.layer.v1.tar";
const LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
const LAYER_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
/// The most of `manifest.json` or of a config that is read: both are small.
const JSON_CAP: u64 = 16 * 1024 * 1024;

/// `manifest.json` of `docker save`.
#[derive(serde::Deserialize)]
struct SavedManifest {
    #[serde(rename = "Config")]
    config: String,
    #[serde(rename = "Layers")]
    layers: Vec<String>,
}

#[derive(serde::Deserialize)]
struct ConfigRootFs {
    rootfs: RootFs,
}

#[derive(serde::Deserialize)]
struct RootFs {
    diff_ids: Vec<String>,
}

/// Where an archive entry went: a blob (its hex digest and size), or a link to another entry.
enum Entry {
    Blob { hex: String, size: u64 },
    Link(String),
}

/// Stream the archive into `blobs` (a `sha256` directory of blobs named by hex digest), and the
/// image its manifest names. Blobs the image does not use are removed.
pub(super) fn read_into(reader: impl Read, blobs: &Path) -> Result<ImageValue, ExportError> {
    let write_error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ExportError::Write { path, source }
    };
    std::fs::create_dir_all(blobs).map_err(write_error(blobs))?;
    let mut entries: HashMap<String, Entry> = HashMap::new();
    let mut manifest = None;
    let mut archive = tar::Archive::new(reader);
    for (n, entry) in archive.entries().map_err(ExportError::Read)?.enumerate() {
        let mut entry = entry.map_err(ExportError::Read)?;
        let name = normal(&entry.path().map_err(ExportError::Read)?)?;
        match entry.header().entry_type() {
            tar::EntryType::Symlink | tar::EntryType::Link => {
                let target = entry
                    .link_name()
                    .map_err(ExportError::Read)?
                    .ok_or_else(|| ExportError::Archive(format!("{name}: a link to nothing")))?;
                let target = if entry.header().entry_type() == tar::EntryType::Symlink {
                    Path::new(&name)
                        .parent()
                        .unwrap_or(Path::new(""))
                        .join(target)
                } else {
                    target.to_path_buf()
                };
                entries.insert(name, Entry::Link(normal(&target)?));
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                if name == "manifest.json" {
                    manifest = Some(read_json::<Vec<SavedManifest>>(&mut entry, &name)?);
                } else if !is_bookkeeping(&name) {
                    let (hex, size) = write_blob(&mut entry, blobs, n)?;
                    entries.insert(name, Entry::Blob { hex, size });
                }
            }
            _ => {}
        }
    }
    let mut manifests = manifest
        .ok_or_else(|| ExportError::Archive("it has no manifest.json".into()))?
        .into_iter();
    let (Some(manifest), None) = (manifests.next(), manifests.next()) else {
        return Err(ExportError::Archive(
            "its manifest.json does not list exactly one image".into(),
        ));
    };
    let blob = |name: &str| resolve(&entries, name);
    let (config_hex, config_size) = blob(&manifest.config)?;
    let config: ConfigRootFs = read_json(
        &mut std::fs::File::open(blobs.join(&config_hex)).map_err(ExportError::Read)?,
        &manifest.config,
    )?;
    if config.rootfs.diff_ids.len() != manifest.layers.len() {
        return Err(ExportError::Archive(format!(
            "the config lists {} layers, the manifest {}",
            config.rootfs.diff_ids.len(),
            manifest.layers.len()
        )));
    }
    let mut layers = Vec::new();
    for (name, diff_id) in manifest.layers.iter().zip(config.rootfs.diff_ids) {
        let (hex, size) = blob(name)?;
        let media_type = media_type(&blobs.join(&hex)).map_err(ExportError::Read)?;
        let digest = format!("sha256:{hex}");
        if media_type == LAYER_TAR && digest != diff_id {
            return Err(ExportError::Archive(format!(
                "the layer {name} is {digest}, but the config says {diff_id}"
            )));
        }
        layers.push(Layer {
            blob: Blob {
                digest,
                size,
                media_type,
            },
            diff_id,
            origin: Origin::Committed,
        });
    }
    let image = ImageValue {
        base: None,
        config: Blob {
            digest: format!("sha256:{config_hex}"),
            size: config_size,
            media_type: CONFIG_MEDIA_TYPE,
        },
        layers,
    };
    remove_unused(blobs, &image).map_err(write_error(blobs))?;
    Ok(image)
}

/// The archive's own files, which are no blob of the image.
fn is_bookkeeping(name: &str) -> bool {
    matches!(name, "repositories" | "index.json" | "oci-layout")
        || name.ends_with("/VERSION")
        || name.ends_with("/json")
}

/// `name` as a relative path of normal components, as text.
fn normal(path: &Path) -> Result<String, ExportError> {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::Normal(p) => out.push(p),
            Component::CurDir => {}
            Component::ParentDir if out.pop() => {}
            _ => {
                return Err(ExportError::Archive(format!(
                    "an entry leads outside the archive: {}",
                    path.display()
                )))
            }
        }
    }
    Ok(out.to_string_lossy().into_owned())
}

/// The blob an entry name ends at, following links (a layer saved twice is a link in 20.10).
fn resolve(entries: &HashMap<String, Entry>, name: &str) -> Result<(String, u64), ExportError> {
    let mut name = name.to_string();
    for _ in 0..8 {
        match entries.get(&normal(Path::new(&name))?) {
            Some(Entry::Blob { hex, size }) => return Ok((hex.clone(), *size)),
            Some(Entry::Link(target)) => name = target.clone(),
            None => break,
        }
    }
    Err(ExportError::Archive(format!(
        "{name}, which its manifest names, is not in it"
    )))
}

fn read_json<T: serde::de::DeserializeOwned>(
    reader: &mut impl Read,
    name: &str,
) -> Result<T, ExportError> {
    let mut text = Vec::new();
    reader
        .take(JSON_CAP)
        .read_to_end(&mut text)
        .map_err(ExportError::Read)?;
    serde_json::from_slice(&text).map_err(|e| ExportError::Archive(format!("{name}: {e}")))
}

/// Stream `entry` to `blobs/HEX`, hashing it on the way: its hex digest and size.
pub(super) fn write_blob(
    entry: &mut impl Read,
    blobs: &Path,
    n: usize,
) -> Result<(String, u64), ExportError> {
    let partial = blobs.join(format!(".partial-{n}"));
    let write_error = |source| ExportError::Write {
        path: partial.clone(),
        source,
    };
    let mut file = io::BufWriter::new(std::fs::File::create(&partial).map_err(write_error)?);
    let mut hash = Sha256::new();
    let mut size = 0u64;
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let read = entry.read(&mut buf).map_err(ExportError::Read)?;
        if read == 0 {
            break;
        }
        hash.update(&buf[..read]);
        file.write_all(&buf[..read]).map_err(write_error)?;
        size += read as u64;
    }
    file.flush().map_err(write_error)?;
    drop(file);
    let hex = hex::encode(hash.finalize());
    std::fs::rename(&partial, blobs.join(&hex)).map_err(write_error)?;
    Ok((hex, size))
}

/// A layer blob's media type, from its first bytes.
fn media_type(path: &Path) -> io::Result<&'static str> {
    let mut magic = [0u8; 4];
    let mut file = std::fs::File::open(path)?;
    let read = file.read(&mut magic)?;
    Ok(match &magic[..read] {
        [0x1f, 0x8b, ..] => LAYER_GZIP,
        [0x28, 0xb5, 0x2f, 0xfd] => LAYER_ZSTD,
        _ => LAYER_TAR,
    })
}

pub(super) fn remove_unused(blobs: &Path, image: &ImageValue) -> io::Result<()> {
    let used: Vec<&str> = std::iter::once(&image.config)
        .chain(image.layers.iter().map(|l| &l.blob))
        .map(|b| b.digest.trim_start_matches("sha256:"))
        .collect();
    for file in std::fs::read_dir(blobs)? {
        let file = file?;
        if !used.iter().any(|u| file.file_name() == *u) {
            std::fs::remove_file(file.path())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{read_into, LAYER_GZIP, LAYER_TAR};
    use crate::output::ExportError;
    use sha2::{Digest, Sha256};

    fn sha(bytes: &[u8]) -> String {
        format!("sha256:{:x}", Sha256::digest(bytes))
    }

    /// An entry: its name, and its data or the target it links to.
    type TestEntry<'a> = (&'a str, Option<&'a [u8]>, Option<&'a str>);

    fn archive(entries: &[TestEntry]) -> Vec<u8> {
        let mut tar = tar::Builder::new(Vec::new());
        for (name, data, link) in entries {
            let mut header = tar::Header::new_gnu();
            match (data, link) {
                (Some(data), _) => {
                    header.set_size(data.len() as u64);
                    header.set_mode(0o644);
                    tar.append_data(&mut header, name, *data).unwrap();
                }
                (None, Some(target)) => {
                    header.set_entry_type(tar::EntryType::Symlink);
                    header.set_size(0);
                    tar.append_link(&mut header, name, target).unwrap();
                }
                _ => unreachable!("an entry has data or a link"),
            }
        }
        tar.into_inner().unwrap()
    }

    #[test]
    fn docker_20_archives_with_a_linked_layer_and_oci_archives_read_alike() {
        let layer = b"layer one, as an uncompressed tar would be".to_vec();
        let gzip = [&[0x1f, 0x8b][..], b"compressed"].concat();
        let config = format!(
            r#"{{"rootfs":{{"type":"layers","diff_ids":["{}","{}","sha256:feed"]}}}}"#,
            sha(&layer),
            sha(&layer)
        );
        let manifest =
            r#"[{"Config":"c0ffee.json","Layers":["a/layer.tar","b/layer.tar","g/layer.tar"]}]"#;
        let bytes = archive(&[
            ("a/VERSION", Some(b"1.0"), None),
            ("a/layer.tar", Some(&layer), None),
            ("b/layer.tar", None, Some("../a/layer.tar")),
            ("g/layer.tar", Some(&gzip), None),
            ("c0ffee.json", Some(config.as_bytes()), None),
            ("manifest.json", Some(manifest.as_bytes()), None),
            ("repositories", Some(b"{}"), None),
        ]);
        let dir = tempfile::tempdir().unwrap();
        let blobs = dir.path().join("blobs/sha256");
        let image = read_into(&bytes[..], &blobs).unwrap();
        assert_eq!(image.config.digest, sha(config.as_bytes()));
        let kinds: Vec<_> = image.layers.iter().map(|l| l.blob.media_type).collect();
        assert_eq!(kinds, [LAYER_TAR, LAYER_TAR, LAYER_GZIP]);
        assert_eq!(image.layers[2].diff_id, "sha256:feed");
        let mut names: Vec<_> = std::fs::read_dir(&blobs)
            .unwrap()
            .map(|e| format!("sha256:{}", e.unwrap().file_name().to_string_lossy()))
            .collect();
        names.sort();
        let mut expected = vec![sha(config.as_bytes()), sha(&layer), sha(&gzip)];
        expected.sort();
        assert_eq!(
            names, expected,
            "one blob each, the VERSION file not among them"
        );
    }

    #[test]
    fn a_layer_that_is_not_its_diff_id_and_an_entry_out_of_the_archive_are_refused() {
        let config = r#"{"rootfs":{"type":"layers","diff_ids":["sha256:0000"]}}"#;
        let manifest = r#"[{"Config":"c.json","Layers":["a/layer.tar"]}]"#;
        let bytes = archive(&[
            ("a/layer.tar", Some(b"not what the config says"), None),
            ("c.json", Some(config.as_bytes()), None),
            ("manifest.json", Some(manifest.as_bytes()), None),
        ]);
        let dir = tempfile::tempdir().unwrap();
        let e = read_into(&bytes[..], &dir.path().join("b")).unwrap_err();
        assert!(
            matches!(&e, ExportError::Archive(m) if m.contains("but the config says sha256:0000")),
            "{e}"
        );
        let bytes = archive(&[("x/layer.tar", None, Some("../../etc/passwd"))]);
        let e = read_into(&bytes[..], &dir.path().join("c")).unwrap_err();
        assert!(
            matches!(&e, ExportError::Archive(m) if m.contains("leads outside")),
            "{e}"
        );
    }
}
