//! Archives the engine makes of a container's path, rebased into layer tars rooted at `/`; and
//! files read back out of layers.

use crate::engine::image::layer::Layer;
use std::io::{self, Read, Write};
use std::path::Path;
use std::sync::Arc;

/// Copy a tar of `path` as the engine archives it (entries named from the path's last component)
/// into a layer tar rooted at `/`: every name gets the path's parent in front.
pub(crate) fn rebase_archive<R: Read, W: Write>(
    archive: R,
    parent: &Path,
    out: &mut W,
) -> io::Result<WhiteoutNames> {
    let mut builder = tar::Builder::new(out);
    let names = append_rebased(&mut builder, archive, parent, None)?;
    builder.into_inner()?.flush()?;
    Ok(names)
}

/// Whether some file written into a layer has a name that begins with `.wh.`: a layer cannot
/// hold it (the engine reads it as the deletion of a lower file), so it is copied with a
/// container instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub(crate) struct WhiteoutNames(pub(crate) bool);

/// [`rebase_archive`] into an open layer tar; times clamped to `SOURCE_DATE_EPOCH` when set.
/// With `keep` (absolute paths), only the entries at or under one of them are written.
pub(crate) fn append_rebased<R: Read, W: Write>(
    builder: &mut tar::Builder<W>,
    archive: R,
    parent: &Path,
    keep: Option<&[String]>,
) -> io::Result<WhiteoutNames> {
    let mut whiteout_names = false;
    let keep: Option<Vec<String>> = keep.map(|k| {
        k.iter()
            .map(|p| p.trim_start_matches('/').to_string())
            .collect()
    });
    let prefix = parent
        .to_string_lossy()
        .trim_start_matches('/')
        .trim_end_matches('/')
        .to_string();
    let epoch = crate::engine::source::source_date_epoch();
    let mut input = tar::Archive::new(archive);
    builder.follow_symlinks(false);
    for entry in input.entries()? {
        let mut entry = entry?;
        let mut header = entry.header().clone();
        if let Some(epoch) = epoch {
            header = canonical(&header, epoch)?;
        }
        let name = entry.path()?.to_string_lossy().into_owned();
        let full = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        // A reproducible build leaves out what varies between runs (`diff::VARYING`); a /tmp
        // of the container's own is kept, empty.
        if epoch.is_some() {
            let path = format!("/{}", full.trim_end_matches('/'));
            if crate::engine::image::diff::VARYING
                .iter()
                .any(|v| path.starts_with(&format!("{v}/")) || (path == *v && *v != "/tmp"))
            {
                continue;
            }
        }
        if let Some(keep) = &keep {
            let path = full.trim_end_matches('/');
            let kept = keep
                .iter()
                .any(|k| path == k || path.starts_with(&format!("{k}/")));
            if !kept {
                continue;
            }
        }
        whiteout_names |= full
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .is_some_and(|n| n.starts_with(".wh."));
        let link = entry.link_name()?.map(|l| l.to_string_lossy().into_owned());
        match (header.entry_type(), link) {
            (tar::EntryType::Link, Some(target)) => {
                // A hard link names another entry of the same archive: it moves with it.
                let target = if prefix.is_empty() {
                    target
                } else {
                    format!("{prefix}/{target}")
                };
                builder.append_link(&mut header, &full, &target)?;
            }
            (tar::EntryType::Symlink, Some(target)) => {
                builder.append_link(&mut header, &full, &target)?;
            }
            _ => {
                builder.append_data(&mut header, &full, &mut entry)?;
            }
        }
    }
    Ok(WhiteoutNames(whiteout_names))
}

/// `header` as a reproducible build writes it, whichever engine archived the file: a GNU header
/// of the entry's type, permission bits, numeric owner, size and (device numbers), its time
/// clamped to `epoch`. Engines differ in the rest for the same file: Docker 20.10 writes owner
/// names and the file type's bits in the mode, Docker 26 neither, and their header formats differ.
fn canonical(header: &tar::Header, epoch: u64) -> io::Result<tar::Header> {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(header.entry_type());
    h.set_mode(header.mode()? & 0o7777);
    h.set_uid(header.uid()?);
    h.set_gid(header.gid()?);
    h.set_mtime(header.mtime()?.min(epoch));
    h.set_size(header.size()?);
    if let (Ok(Some(major)), Ok(Some(minor))) = (header.device_major(), header.device_minor()) {
        h.set_device_major(major)?;
        h.set_device_minor(minor)?;
    }
    Ok(h)
}

/// The bytes of each of `names` (relative to `path`) in the topmost of `layers` that has it.
pub(crate) fn read_files(
    layers: &[Arc<Layer>],
    path: &str,
    names: &[String],
    cap: u64,
) -> io::Result<Vec<(String, Option<Vec<u8>>)>> {
    let prefix = path.trim_start_matches('/').trim_end_matches('/');
    let mut found: Vec<(String, Option<Vec<u8>>)> =
        names.iter().map(|n| (n.clone(), None)).collect();
    for layer in layers {
        let mut archive = tar::Archive::new(layer.open()?);
        for entry in archive.entries()? {
            let mut entry = entry?;
            let name = entry.path()?.to_string_lossy().into_owned();
            let Some(rel) = name
                .trim_start_matches("./")
                .strip_prefix(prefix)
                .and_then(|r| r.strip_prefix('/'))
            else {
                continue;
            };
            if let Some(slot) = found.iter_mut().find(|(n, _)| n == rel) {
                if !entry.header().entry_type().is_file() {
                    return Err(io::Error::other(format!(
                        "{path}/{rel} is not a regular file (a symlink?)"
                    )));
                }
                let mut bytes = Vec::new();
                (&mut entry).take(cap).read_to_end(&mut bytes)?;
                slot.1 = Some(bytes);
            }
        }
    }
    Ok(found)
}
