//! One entry of the source's tar at a time: its name as raw bytes (GNU long names when they do
//! not fit), its header (root's, with the file's mode and time), its contents read exactly once,
//! and its line in the digest.

use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Component, Path};

/// An error that names the file (relative to the source root) it is about.
pub(super) fn named(rel: &Path, what: &str, e: io::Error) -> io::Error {
    let shown = if rel.as_os_str().is_empty() {
        Path::new(".")
    } else {
        rel
    };
    io::Error::new(e.kind(), format!("`{}` {what}: {e}", shown.display()))
}

/// The entry's name in the archive, as raw bytes: `prefix/rel`, refused if any component is `..`
/// (or anything but a plain name).
pub(super) fn archive_path(prefix: &Path, rel: &Path) -> io::Result<Vec<u8>> {
    if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "`{}` has a `..` component (or is not relative): it would land outside /{}",
                rel.display(),
                prefix.display()
            ),
        ));
    }
    let mut out = raw(prefix).into_owned();
    out.push(b'/');
    out.extend_from_slice(&raw(rel));
    if out.split(|b| *b == b'/').any(|seg| seg == b"..") {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("`{}` has a `..` component", rel.display()),
        ));
    }
    Ok(out)
}

/// A path's raw bytes with `/` between components.
#[cfg(unix)]
pub(super) fn raw(p: &Path) -> Cow<'_, [u8]> {
    use std::os::unix::ffi::OsStrExt;
    Cow::Borrowed(p.as_os_str().as_bytes())
}

/// On Windows `\` is the separator (and names are Unicode): `/` in the archive.
#[cfg(not(unix))]
pub(super) fn raw(p: &Path) -> Cow<'_, [u8]> {
    Cow::Owned(p.to_string_lossy().replace('\\', "/").into_bytes())
}

/// The form `.dockerignore` patterns are matched against: the path as text, `/` between
/// components. (A name that is not UTF-8 is matched in its lossy form; it is archived as is.)
pub(super) fn match_form(rel: &Path) -> String {
    String::from_utf8_lossy(&raw(rel)).into_owned()
}

/// One entry in the digest: its kind, raw path and details.
pub(super) fn record(digest: &mut Sha256, kind: &str, rel: &Path, details: String) {
    digest.update(kind.as_bytes());
    digest.update(b" ");
    digest.update(&*raw(rel));
    digest.update(details.as_bytes());
    digest.update(b"\0");
}

/// Append an entry named `name` (raw bytes), with `link` as its link target, both written with
/// GNU long-name entries when they do not fit the header.
pub(super) fn append<W: Write, R: Read>(
    builder: &mut tar::Builder<W>,
    header: &mut tar::Header,
    name: &[u8],
    link: Option<&[u8]>,
    data: R,
) -> io::Result<()> {
    {
        let old = header.as_old_mut();
        set_field(&mut old.name, name);
    }
    if name.len() > 100 {
        builder.append(
            &long_name(tar::EntryType::GNULongName, name),
            name_data(name),
        )?;
    }
    if let Some(link) = link {
        set_field(&mut header.as_old_mut().linkname, link);
        if link.len() > 100 {
            builder.append(
                &long_name(tar::EntryType::GNULongLink, link),
                name_data(link),
            )?;
        }
    }
    header.set_cksum();
    builder.append(header, data)
}

/// As much of `value` as fits, NUL-padded (a full field needs no NUL).
pub(super) fn set_field(field: &mut [u8], value: &[u8]) {
    field.fill(0);
    let n = value.len().min(field.len());
    field[..n].copy_from_slice(&value[..n]);
}

pub(super) fn name_data(name: &[u8]) -> impl Read + '_ {
    name.chain(&[0u8][..])
}

/// The header of a GNU `././@LongLink` entry carrying a name of `name.len()` bytes.
pub(super) fn long_name(kind: tar::EntryType, name: &[u8]) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    set_field(&mut h.as_old_mut().name, b"././@LongLink");
    h.set_mode(0o644);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    h.set_size(name.len() as u64 + 1);
    h.set_entry_type(kind);
    h.set_cksum();
    h
}

/// Reads exactly `expected` bytes of a file, hashing them; a file that shrank, or a read that
/// failed, is an error that names the file (a short entry would corrupt the archive).
pub(super) struct Exact<'a, R> {
    pub(super) inner: R,
    pub(super) left: u64,
    pub(super) expected: u64,
    pub(super) rel: &'a Path,
    pub(super) digest: &'a mut Sha256,
}

impl<R: Read> Read for Exact<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 || buf.is_empty() {
            return Ok(0);
        }
        let max = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = loop {
            match self.inner.read(&mut buf[..max]) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other,
            }
        }
        .map_err(|e| named(self.rel, "could not be read", e))?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "`{}` shrank while it was being read ({} bytes expected, {} there): is something writing to it?",
                    self.rel.display(),
                    self.expected,
                    self.expected - self.left
                ),
            ));
        }
        self.left -= n as u64;
        self.digest.update(&buf[..n]);
        Ok(n)
    }
}

pub(super) fn dir_header(mode: u32, mtime: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Directory);
    h.set_size(0);
    h.set_mode(mode);
    h.set_mtime(mtime);
    set_owner(&mut h);
    h
}

/// Files in /app belong to root, as with a Dockerfile's COPY.
pub(super) fn set_owner(h: &mut tar::Header) {
    h.set_uid(0);
    h.set_gid(0);
}

#[cfg(unix)]
/// The permission bits, without setuid and setgid: as COPY gives them (a repository does not
/// make a program in the image run as root).
pub(super) fn mode_of(meta: &fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o1777
}

/// A regular file's (device, inode) when it has other names too.
#[cfg(unix)]
pub(super) fn hard_link_of(meta: &fs::Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    (meta.is_file() && meta.nlink() > 1).then(|| (meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
pub(super) fn hard_link_of(_: &fs::Metadata) -> Option<(u64, u64)> {
    None
}

#[cfg(not(unix))]
pub(super) fn mode_of(meta: &fs::Metadata) -> u32 {
    if meta.is_dir() {
        0o755
    } else {
        0o644
    }
}

/// The file's modification time, clamped to `SOURCE_DATE_EPOCH` when that is set (the
/// reproducible-builds convention), so that a checkout's times do not change the layer.
pub(super) fn mtime(meta: &fs::Metadata) -> u64 {
    let modified = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs());
    match source_date_epoch() {
        Some(epoch) => modified.min(epoch),
        None => modified,
    }
}

/// `SOURCE_DATE_EPOCH`, when set to a number of seconds.
pub(crate) fn source_date_epoch() -> Option<u64> {
    crate::input::source_facts::source_date_epoch()
}
