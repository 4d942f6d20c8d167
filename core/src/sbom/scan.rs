//! The image's files an SBOM is made from, read from the engine's image archive (`docker save`:
//! Docker 20.10's directory per layer, or the OCI layout of Docker 25 and later) as it streams.
//! Each layer tar is walked once; only the files a parser wants are kept (small ones, under a
//! cap), with the layer's whiteouts, and the layers are then applied in the manifest's order.
//! Nothing else of the image is held or written anywhere.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Read};
use std::path::Path;

/// The most of one wanted file that is kept: package metadata is small, a dpkg status file of a
/// large image a few megabytes.
const FILE_CAP: u64 = 64 * 1024 * 1024;
const JSON_CAP: u64 = 16 * 1024 * 1024;

/// Which files are wanted, by their path in the image (relative, no leading `/`).
pub(super) type Wanted = fn(&str) -> bool;

/// What one layer holds of the wanted files, and what it removes from the layers below.
#[derive(Default)]
struct LayerFiles {
    /// `dir/.wh.name`: `dir/name` and all under it are gone.
    whiteouts: Vec<String>,
    /// `dir/.wh..wh..opq`: everything under `dir` from lower layers is gone.
    opaque: Vec<String>,
    files: Vec<(String, Vec<u8>)>,
}

/// Why the archive could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("cannot read the engine's image archive: {0}")]
    Read(#[from] io::Error),
    #[error("the engine's image archive is not as expected: {0}")]
    Archive(String),
}

#[derive(serde::Deserialize)]
struct SavedManifest {
    #[serde(rename = "Layers")]
    layers: Vec<String>,
}

/// The wanted files of the image in `archive`, as its final filesystem has them: path → content.
pub(super) fn files(
    archive: impl Read,
    wanted: Wanted,
) -> Result<BTreeMap<String, Vec<u8>>, ScanError> {
    let mut layers: HashMap<String, LayerFiles> = HashMap::new();
    let mut links: HashMap<String, String> = HashMap::new();
    let mut manifest = None;
    let mut outer = tar::Archive::new(archive);
    for entry in outer.entries()? {
        let mut entry = entry?;
        let name = normal(&entry.path()?);
        match entry.header().entry_type() {
            tar::EntryType::Symlink | tar::EntryType::Link => {
                if let Some(target) = entry.link_name()? {
                    let target = if entry.header().entry_type() == tar::EntryType::Symlink {
                        Path::new(&name)
                            .parent()
                            .unwrap_or(Path::new(""))
                            .join(target)
                    } else {
                        target.to_path_buf()
                    };
                    links.insert(name, normal(&target));
                }
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                if name == "manifest.json" {
                    let mut text = Vec::new();
                    (&mut entry).take(JSON_CAP).read_to_end(&mut text)?;
                    let parsed: Vec<SavedManifest> = serde_json::from_slice(&text)
                        .map_err(|e| ScanError::Archive(format!("manifest.json: {e}")))?;
                    manifest = Some(parsed);
                } else if name.ends_with("/layer.tar") || name.starts_with("blobs/") {
                    if let Some(files) = layer(&mut entry, wanted)? {
                        layers.insert(name, files);
                    }
                }
            }
            _ => {}
        }
    }
    let mut manifests = manifest
        .ok_or_else(|| ScanError::Archive("it has no manifest.json".into()))?
        .into_iter();
    let (Some(manifest), None) = (manifests.next(), manifests.next()) else {
        return Err(ScanError::Archive(
            "its manifest.json does not list exactly one image".into(),
        ));
    };
    let mut state = BTreeMap::new();
    for name in &manifest.layers {
        let mut name = normal(Path::new(name));
        // A layer saved twice is a link to the first (Docker 20.10).
        for _ in 0..8 {
            match links.get(&name) {
                Some(target) => name = target.clone(),
                None => break,
            }
        }
        let files = layers
            .get(&name)
            .ok_or_else(|| ScanError::Archive(format!("its layer {name} is not in it")))?;
        apply(&mut state, files);
    }
    Ok(state)
}

/// A layer's changes over the state of the layers below it.
fn apply(state: &mut BTreeMap<String, Vec<u8>>, layer: &LayerFiles) {
    let under = |dir: &str, path: &str| dir.is_empty() || path.starts_with(&format!("{dir}/"));
    for dir in &layer.opaque {
        state.retain(|path, _| !under(dir, path));
    }
    for gone in &layer.whiteouts {
        state.retain(|path, _| path != gone && !under(gone, path));
    }
    for (path, content) in &layer.files {
        state.insert(path.clone(), content.clone());
    }
}

/// The wanted files and the whiteouts of one layer tar, or `None` when the blob is no tar (an
/// OCI layout's config or manifest).
fn layer(blob: &mut impl Read, wanted: Wanted) -> Result<Option<LayerFiles>, ScanError> {
    let mut head = [0u8; 512];
    let read = read_full(blob, &mut head)?;
    // A tar header has `ustar` at 257; an empty layer (two zero blocks) holds nothing anyway.
    if read < 512 || &head[257..262] != b"ustar" {
        return Ok(None);
    }
    let mut out = LayerFiles::default();
    let mut inner = tar::Archive::new(io::Cursor::new(head).chain(blob));
    for entry in inner.entries()? {
        let mut entry = entry?;
        let path = normal(&entry.path()?);
        let (dir, base) = match path.rsplit_once('/') {
            Some((dir, base)) => (dir.to_string(), base),
            None => (String::new(), path.as_str()),
        };
        if base == ".wh..wh..opq" {
            out.opaque.push(dir);
        } else if let Some(gone) = base.strip_prefix(".wh.") {
            out.whiteouts.push(join(&dir, gone));
        } else if wanted(&path) {
            if entry.header().entry_type().is_file() {
                let mut content = Vec::new();
                (&mut entry).take(FILE_CAP).read_to_end(&mut content)?;
                out.files.push((path, content));
            } else if !entry.header().entry_type().is_dir() {
                // A symlink or device at a wanted path replaces the file below it.
                out.whiteouts.push(path);
            }
        }
    }
    Ok(Some(out))
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut read = 0;
    while read < buf.len() {
        match reader.read(&mut buf[read..])? {
            0 => break,
            n => read += n,
        }
    }
    Ok(read)
}

/// A path as text, relative, without `.` components or a trailing slash.
fn normal(path: &Path) -> String {
    let text = path.to_string_lossy();
    text.split('/')
        .filter(|part| !part.is_empty() && *part != ".")
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::files;

    fn tar_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut tar = tar::Builder::new(Vec::new());
        for (name, data) in entries {
            let mut header = tar::Header::new_ustar();
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            tar.append_data(&mut header, name, *data).unwrap();
        }
        tar.into_inner().unwrap()
    }

    fn wanted(path: &str) -> bool {
        path.ends_with("METADATA")
    }

    #[test]
    fn layers_apply_in_the_manifests_order_with_whiteouts_and_opaque_directories() {
        let base = tar_of(&[
            ("sp/a-1.dist-info/METADATA", b"a1"),
            ("sp/b-1.dist-info/METADATA", b"b1"),
            ("sp/c-1.dist-info/METADATA", b"c1"),
            ("etc/other", b"not wanted"),
        ]);
        let upper = tar_of(&[
            ("sp/.wh.b-1.dist-info", b""),
            ("sp/a-1.dist-info/METADATA", b"a1 again"),
            ("vendor/.wh..wh..opq", b""),
            ("vendor/d-1.dist-info/METADATA", b"d1"),
        ]);
        let opaque_lower = tar_of(&[("vendor/old-1.dist-info/METADATA", b"old")]);
        // The archive lists the upper layer first: the manifest decides the order.
        let manifest =
            r#"[{"Config":"c.json","Layers":["l0/layer.tar","l1/layer.tar","l2/layer.tar"]}]"#;
        let archive = tar_of(&[
            ("l2/layer.tar", &upper),
            ("l0/layer.tar", &base),
            ("l1/layer.tar", &opaque_lower),
            ("c.json", b"{}"),
            ("manifest.json", manifest.as_bytes()),
        ]);
        let found = files(&archive[..], wanted).unwrap();
        let paths: Vec<(&str, &[u8])> = found
            .iter()
            .map(|(p, c)| (p.as_str(), c.as_slice()))
            .collect();
        assert_eq!(
            paths,
            [
                ("sp/a-1.dist-info/METADATA", &b"a1 again"[..]),
                ("sp/c-1.dist-info/METADATA", b"c1"),
                ("vendor/d-1.dist-info/METADATA", b"d1"),
            ]
        );
    }
}
