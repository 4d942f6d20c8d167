//! The source tree as a tar stream for `/app`: `.git` left out, `.dockerignore` honoured, symlinks
//! kept as symlinks (never followed, so nothing outside the root is read), modes kept, entries
//! sorted; and a digest of what was sent.
//!
//! Names go into the archive as the file system's raw bytes: nothing is translated (a `\` in a
//! name stays a `\`, a name that is not UTF-8 stays what it is), names longer than a tar header
//! holds use GNU long-name entries, and a path with a `..` component is refused, so that nothing
//! can land outside the destination directory.

use crate::engine::caches::source_index::SourceIndex;
use crate::input::dockerignore::IgnoreRules;
use crate::input::files::read_project_text;
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Component, Path, PathBuf};

/// The most of a `.dockerignore` that is read.
pub const MAX_DOCKERIGNORE_SIZE: u64 = 1024 * 1024;

/// What went into the archive.
#[derive(Debug, Clone, Default)]
pub struct SourceSummary {
    pub files: u64,
    pub bytes: u64,
    /// sha256 over each entry's path, type, mode and the sha256 of its contents (or its link
    /// target), in order.
    pub digest: String,
    /// What the user should know about the file set, e.g. a `.dockerignore` that leaves out
    /// every file.
    pub warnings: Vec<String>,
}

/// Write `root` as a tar whose entries live under `prefix` (e.g. `app`), without the entries at
/// the paths in `exclude` (relative to `root`: local files such as a `--secrets-file` that must
/// not reach the image).
pub fn write_tar<W: Write>(
    root: &Path,
    prefix: &str,
    exclude: &[PathBuf],
    out: W,
) -> io::Result<SourceSummary> {
    walk(root, prefix, exclude, out, None)
}

/// The summary (and digest) [`write_tar`] would give, without a tar: a file that `index` knows
/// unchanged is not read; the others are, and `index` learns them.
pub(crate) fn digest(
    root: &Path,
    prefix: &str,
    exclude: &[PathBuf],
    index: &mut SourceIndex,
) -> io::Result<SourceSummary> {
    walk(root, prefix, exclude, io::sink(), Some(index))
}

fn walk<W: Write>(
    root: &Path,
    prefix: &str,
    exclude: &[PathBuf],
    out: W,
    mut index: Option<&mut SourceIndex>,
) -> io::Result<SourceSummary> {
    let rules = match read_project_text(root, ".dockerignore", MAX_DOCKERIGNORE_SIZE) {
        Ok(Some(text)) => IgnoreRules::parse(&text).map_err(io::Error::other)?,
        Ok(None) => IgnoreRules::default(),
        Err(refused) => {
            let d = refused.diagnostic(Path::new(".dockerignore"));
            return Err(io::Error::new(io::ErrorKind::InvalidData, d.message));
        }
    };
    let prefix = Path::new(prefix);
    if prefix
        .components()
        .any(|c| !matches!(c, Component::Normal(_)))
    {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "the destination `{}` must be a plain path without `..`",
                prefix.display()
            ),
        ));
    }
    let mut builder = tar::Builder::new(out);
    let mut digest = Sha256::new();
    let mut summary = SourceSummary::default();
    let mut left_out = 0u64;
    let mut dockerignore_kept = false;
    // The destination has the source directory's time, as with COPY.
    let root_meta = fs::metadata(root).map_err(|e| named(Path::new(""), "cannot be read", e))?;
    append(
        &mut builder,
        &mut dir_header(0o755, mtime(&root_meta)),
        &raw(prefix),
        None,
        io::empty(),
    )?;
    // Excluded directories searched for re-included files: written only when one turns up.
    let mut pending: Vec<(PathBuf, u32, u64)> = Vec::new();
    // Files with more than one link, by (device, inode): the first one's name in the archive,
    // which the others link to, as COPY keeps them.
    let mut linked: std::collections::HashMap<(u64, u64), Vec<u8>> = Default::default();
    let mut stack = vec![PathBuf::new()];
    while let Some(dir) = stack.pop() {
        let listing = fs::read_dir(root.join(&dir))
            .and_then(|r| r.collect::<Result<Vec<_>, _>>())
            .map_err(|e| named(&dir, "cannot be listed", e))?;
        let mut entries = listing;
        entries.sort_by_key(|e| e.file_name());
        // Directories are pushed in reverse so they pop in sorted order.
        let mut subdirs = Vec::new();
        for entry in entries {
            let name = entry.file_name();
            if name == ".git" {
                continue;
            }
            let rel = dir.join(&name);
            if exclude.contains(&rel) {
                continue;
            }
            let rel_str = match_form(&rel);
            if rules.excludes(&rel_str) {
                left_out += 1;
                let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
                if is_dir && rules.may_include_under(&rel_str) {
                    let meta = fs::symlink_metadata(root.join(&rel))
                        .map_err(|e| named(&rel, "cannot be read", e))?;
                    pending.push((rel.clone(), mode_of(&meta), mtime(&meta)));
                    subdirs.push(rel);
                }
                continue;
            }
            let in_archive = archive_path(prefix, &rel)?;
            // Reserved in every image format (OCI, Docker): a layer reads such a name as the
            // deletion of a lower file, and an image holding it cannot even be saved. Copied into
            // a container, it breaks the image the same way: refused, named, before any build.
            if name.as_encoded_bytes().starts_with(b".wh.") {
                return Err(named(
                    &rel,
                    "has a name that begins with `.wh.`",
                    io::Error::new(
                        io::ErrorKind::InvalidData,
                        "container images reserve such names for deleted files, so no image can hold it; rename it, or leave it out with a .dockerignore line",
                    ),
                ));
            }
            let meta = fs::symlink_metadata(root.join(&rel))
                .map_err(|e| named(&rel, "cannot be read", e))?;
            let ft = meta.file_type();
            if !(ft.is_symlink() || ft.is_dir() || ft.is_file()) {
                // Sockets, FIFOs and devices are not source; leave them out.
                continue;
            }
            // A re-included entry inside excluded directories: those directories first.
            let mut i = 0;
            while i < pending.len() {
                if rel.starts_with(&pending[i].0) {
                    let (p, mode, time) = pending.remove(i);
                    append(
                        &mut builder,
                        &mut dir_header(mode, time),
                        &archive_path(prefix, &p)?,
                        None,
                        io::empty(),
                    )?;
                    record(&mut digest, "d", &p, format!(" {mode:o}"));
                } else {
                    i += 1;
                }
            }
            let mode = mode_of(&meta);
            if ft.is_symlink() {
                let target =
                    fs::read_link(root.join(&rel)).map_err(|e| named(&rel, "cannot be read", e))?;
                let mut h = tar::Header::new_gnu();
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_size(0);
                h.set_mode(0o777);
                h.set_mtime(mtime(&meta));
                set_owner(&mut h);
                let target_raw = raw(&target);
                append(
                    &mut builder,
                    &mut h,
                    &in_archive,
                    Some(&target_raw),
                    io::empty(),
                )?;
                digest.update(b"l ");
                digest.update(&*raw(&rel));
                digest.update(b" ");
                digest.update(&*target_raw);
                digest.update(b"\0");
            } else if ft.is_dir() {
                let mut h = dir_header(mode, mtime(&meta));
                append(&mut builder, &mut h, &in_archive, None, io::empty())?;
                record(&mut digest, "d", &rel, format!(" {mode:o}"));
                subdirs.push(rel);
            } else if let Some(first) = hard_link_of(&meta).and_then(|id| linked.get(&id)) {
                // Another name of a file already in the archive: a link to it.
                let mut h = tar::Header::new_gnu();
                h.set_entry_type(tar::EntryType::Link);
                h.set_size(0);
                h.set_mode(mode);
                h.set_mtime(mtime(&meta));
                set_owner(&mut h);
                append(&mut builder, &mut h, &in_archive, Some(first), io::empty())?;
                digest.update(b"h ");
                digest.update(&*raw(&rel));
                digest.update(b" ");
                digest.update(first);
                digest.update(b"\0");
                summary.files += 1;
            } else if let Some(sha) = index
                .as_deref_mut()
                .and_then(|ix| ix.lookup(&raw(&rel), &meta))
            {
                if let Some(id) = hard_link_of(&meta) {
                    linked.insert(id, in_archive.clone());
                }
                // Known unchanged, and no tar is written: not read.
                record(&mut digest, "f", &rel, format!(" {mode:o} {}", meta.len()));
                digest.update(sha);
                summary.files += 1;
                summary.bytes += meta.len();
                if rel.as_os_str() == ".dockerignore" {
                    dockerignore_kept = true;
                }
            } else {
                if let Some(id) = hard_link_of(&meta) {
                    linked.insert(id, in_archive.clone());
                }
                let file = fs::File::open(root.join(&rel))
                    .map_err(|e| named(&rel, "cannot be opened", e))?;
                // The size of what was opened, not of what was listed.
                let len = file
                    .metadata()
                    .map_err(|e| named(&rel, "cannot be read", e))?
                    .len();
                let mut h = tar::Header::new_gnu();
                h.set_entry_type(tar::EntryType::Regular);
                h.set_size(len);
                h.set_mode(mode);
                h.set_mtime(mtime(&meta));
                set_owner(&mut h);
                record(&mut digest, "f", &rel, format!(" {mode:o} {len}"));
                let mut contents = Sha256::new();
                let reader = Exact {
                    inner: file,
                    left: len,
                    expected: len,
                    rel: &rel,
                    digest: &mut contents,
                };
                append(&mut builder, &mut h, &in_archive, None, reader)?;
                let sha: [u8; 32] = contents.finalize().into();
                digest.update(sha);
                if let Some(ix) = index.as_deref_mut() {
                    ix.record(&raw(&rel), &meta, sha);
                }
                summary.files += 1;
                summary.bytes += len;
                if rel.as_os_str() == ".dockerignore" {
                    dockerignore_kept = true;
                }
            }
        }
        stack.extend(subdirs.into_iter().rev());
    }
    builder.into_inner()?.flush()?;
    summary.digest = hex::encode(digest.finalize());
    if left_out > 0 && summary.files == u64::from(dockerignore_kept) {
        summary.warnings.push(format!(
            ".dockerignore leaves out every file of the source ({left_out} entr{} left out): /{} holds no source file",
            if left_out == 1 { "y" } else { "ies" },
            prefix.display()
        ));
    }
    Ok(summary)
}

/// An error that names the file (relative to the source root) it is about.
fn named(rel: &Path, what: &str, e: io::Error) -> io::Error {
    let shown = if rel.as_os_str().is_empty() {
        Path::new(".")
    } else {
        rel
    };
    io::Error::new(e.kind(), format!("`{}` {what}: {e}", shown.display()))
}

/// The entry's name in the archive, as raw bytes: `prefix/rel`, refused if any component is `..`
/// (or anything but a plain name).
fn archive_path(prefix: &Path, rel: &Path) -> io::Result<Vec<u8>> {
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
fn raw(p: &Path) -> Cow<'_, [u8]> {
    use std::os::unix::ffi::OsStrExt;
    Cow::Borrowed(p.as_os_str().as_bytes())
}

/// On Windows `\` is the separator (and names are Unicode): `/` in the archive.
#[cfg(not(unix))]
fn raw(p: &Path) -> Cow<'_, [u8]> {
    Cow::Owned(p.to_string_lossy().replace('\\', "/").into_bytes())
}

/// The form `.dockerignore` patterns are matched against: the path as text, `/` between
/// components. (A name that is not UTF-8 is matched in its lossy form; it is archived as is.)
fn match_form(rel: &Path) -> String {
    String::from_utf8_lossy(&raw(rel)).into_owned()
}

/// One entry in the digest: its kind, raw path and details.
fn record(digest: &mut Sha256, kind: &str, rel: &Path, details: String) {
    digest.update(kind.as_bytes());
    digest.update(b" ");
    digest.update(&*raw(rel));
    digest.update(details.as_bytes());
    digest.update(b"\0");
}

/// Append an entry named `name` (raw bytes), with `link` as its link target, both written with
/// GNU long-name entries when they do not fit the header.
fn append<W: Write, R: Read>(
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
fn set_field(field: &mut [u8], value: &[u8]) {
    field.fill(0);
    let n = value.len().min(field.len());
    field[..n].copy_from_slice(&value[..n]);
}

fn name_data(name: &[u8]) -> impl Read + '_ {
    name.chain(&[0u8][..])
}

/// The header of a GNU `././@LongLink` entry carrying a name of `name.len()` bytes.
fn long_name(kind: tar::EntryType, name: &[u8]) -> tar::Header {
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
struct Exact<'a, R> {
    inner: R,
    left: u64,
    expected: u64,
    rel: &'a Path,
    digest: &'a mut Sha256,
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

fn dir_header(mode: u32, mtime: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Directory);
    h.set_size(0);
    h.set_mode(mode);
    h.set_mtime(mtime);
    set_owner(&mut h);
    h
}

/// Files in /app belong to root, as with a Dockerfile's COPY.
fn set_owner(h: &mut tar::Header) {
    h.set_uid(0);
    h.set_gid(0);
}

#[cfg(unix)]
/// The permission bits, without setuid and setgid: as COPY gives them (a repository does not
/// make a program in the image run as root).
fn mode_of(meta: &fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o1777
}

/// A regular file's (device, inode) when it has other names too.
#[cfg(unix)]
fn hard_link_of(meta: &fs::Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    (meta.is_file() && meta.nlink() > 1).then(|| (meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn hard_link_of(_: &fs::Metadata) -> Option<(u64, u64)> {
    None
}

#[cfg(not(unix))]
fn mode_of(meta: &fs::Metadata) -> u32 {
    if meta.is_dir() {
        0o755
    } else {
        0o644
    }
}

/// The file's modification time, clamped to `SOURCE_DATE_EPOCH` when that is set (the
/// reproducible-builds convention), so that a checkout's times do not change the layer.
fn mtime(meta: &fs::Metadata) -> u64 {
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
    std::env::var("SOURCE_DATE_EPOCH").ok()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing(root: &Path) -> Vec<(String, tar::EntryType, u32, String)> {
        let mut buf = Vec::new();
        write_tar(root, "app", &[], &mut buf).unwrap();
        let mut archive = tar::Archive::new(&buf[..]);
        archive
            .entries()
            .unwrap()
            .map(|e| {
                let mut e = e.unwrap();
                let path = String::from_utf8_lossy(&e.path_bytes()).into_owned();
                let kind = e.header().entry_type();
                let mode = e.header().mode().unwrap();
                let link = e
                    .link_name_bytes()
                    .map(|l| String::from_utf8_lossy(&l).into_owned())
                    .unwrap_or_default();
                let mut body = String::new();
                e.read_to_string(&mut body).unwrap();
                (path, kind, mode, if link.is_empty() { body } else { link })
            })
            .collect()
    }

    #[cfg(unix)]
    #[test]
    fn archive_keeps_modes_and_links_and_leaves_out_git_and_ignored() {
        use std::os::unix::fs::{symlink, PermissionsExt};
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.txt"), "do not upload").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("server.py"), "print('hi')\n").unwrap();
        std::fs::set_permissions(
            root.join("server.py"),
            std::fs::Permissions::from_mode(0o640),
        )
        .unwrap();
        std::fs::write(root.join("run.sh"), "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(root.join("run.sh"), std::fs::Permissions::from_mode(0o755))
            .unwrap();
        std::fs::create_dir_all(root.join(".git/objects")).unwrap();
        std::fs::write(root.join(".git/config"), "[core]").unwrap();
        std::fs::create_dir_all(root.join("node_modules/x")).unwrap();
        std::fs::write(root.join("node_modules/x/i.js"), "").unwrap();
        std::fs::write(root.join(".dockerignore"), "node_modules\n").unwrap();
        symlink(outside.path().join("secret.txt"), root.join("leak")).unwrap();
        symlink(outside.path(), root.join("leakdir")).unwrap();
        symlink("server.py", root.join("main.py")).unwrap();

        let entries = listing(root);
        let names: Vec<&str> = entries.iter().map(|e| e.0.as_str()).collect();
        assert_eq!(
            names,
            [
                "app",
                "app/.dockerignore",
                "app/leak",
                "app/leakdir",
                "app/main.py",
                "app/run.sh",
                "app/server.py"
            ]
        );
        let get = |n: &str| entries.iter().find(|e| e.0 == n).unwrap();
        assert_eq!(get("app/run.sh").2, 0o755);
        assert_eq!(get("app/server.py").2, 0o640);
        assert_eq!(get("app/leak").1, tar::EntryType::Symlink);
        assert!(
            !entries.iter().any(|e| e.3.contains("do not upload")),
            "nothing from outside the root"
        );
        assert_eq!(get("app/main.py").3, "server.py");
    }

    #[test]
    fn excluded_paths_stay_out_of_the_archive_and_its_digest() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("server.py"), "").unwrap();
        std::fs::write(root.join("secrets.env"), "TOKEN=s3cret\n").unwrap();
        std::fs::create_dir(root.join("conf")).unwrap();
        std::fs::write(root.join("conf/secrets.env"), "TOKEN=s3cret\n").unwrap();
        let exclude = [PathBuf::from("conf/secrets.env")];
        let mut buf = Vec::new();
        let with = write_tar(root, "app", &exclude, &mut buf).unwrap();
        let names: Vec<String> = tar::Archive::new(&buf[..])
            .entries()
            .unwrap()
            .map(|e| String::from_utf8_lossy(&e.unwrap().path_bytes()).into_owned())
            .collect();
        assert_eq!(
            names,
            ["app", "app/conf", "app/secrets.env", "app/server.py"]
        );
        assert_eq!(with.files, 2);
        std::fs::remove_file(root.join("conf/secrets.env")).unwrap();
        let without = write_tar(root, "app", &[], io::sink()).unwrap();
        assert_eq!(with.digest, without.digest, "as if the file were not there");
    }

    #[test]
    fn digest_changes_with_content_only() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), "one").unwrap();
        let d1 = write_tar(dir.path(), "app", &[], io::sink()).unwrap();
        let d2 = write_tar(dir.path(), "app", &[], io::sink()).unwrap();
        assert_eq!(d1.digest, d2.digest);
        std::fs::write(dir.path().join("a.txt"), "two").unwrap();
        let d3 = write_tar(dir.path(), "app", &[], io::sink()).unwrap();
        assert_ne!(d1.digest, d3.digest);
        assert_eq!((d3.files, d3.bytes), (1, 3));
    }

    /// Each entry's raw name, as written in the archive (GNU long names resolved).
    fn raw_names(root: &Path) -> Vec<Vec<u8>> {
        let mut buf = Vec::new();
        write_tar(root, "app", &[], &mut buf).unwrap();
        let mut archive = tar::Archive::new(&buf[..]);
        archive
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path_bytes().into_owned())
            .collect()
    }

    #[cfg(unix)]
    #[test]
    fn names_are_written_as_raw_bytes_never_translated() {
        use std::ffi::OsStr;
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("a\\b"), "backslash").unwrap();
        // Longer than a tar header's 100 bytes: written with a GNU long name.
        let long = format!("{}\\..\\..\\..\\usr\\local\\bin\\pwned", "x".repeat(120));
        std::fs::write(root.join(&long), "long").unwrap();
        std::fs::create_dir(root.join("d\\..\\..")).unwrap();
        std::fs::write(root.join("d\\..\\..").join("in"), "nested").unwrap();
        std::fs::write(root.join(OsStr::from_bytes(b"n\xff")), "ff").unwrap();
        std::fs::write(root.join(OsStr::from_bytes(b"n\xfe")), "fe").unwrap();
        std::os::unix::fs::symlink(OsStr::from_bytes(b"t\xff\\x"), root.join("link")).unwrap();
        let names = raw_names(root);
        let want: Vec<Vec<u8>> = vec![
            b"app".to_vec(),
            b"app/a\\b".to_vec(),
            b"app/d\\..\\..".to_vec(),
            b"app/link".to_vec(),
            b"app/n\xfe".to_vec(),
            b"app/n\xff".to_vec(),
            format!("app/{long}").into_bytes(),
            b"app/d\\..\\../in".to_vec(),
        ];
        assert_eq!(names, want);
        for n in &names {
            assert!(
                !n.split(|b| *b == b'/').any(|seg| seg == b".."),
                "{}",
                String::from_utf8_lossy(n)
            );
        }
        let entries = listing(root);
        let link = entries.iter().find(|e| e.0 == "app/link").unwrap();
        assert_eq!(link.3, String::from_utf8_lossy(b"t\xff\\x"));
        // Two names that differ only in bytes that are not UTF-8 do not collide in the digest.
        let one = write_tar(root, "app", &[], io::sink()).unwrap().digest;
        std::fs::remove_file(root.join(OsStr::from_bytes(b"n\xfe"))).unwrap();
        std::fs::write(root.join(OsStr::from_bytes(b"n\xfd")), "fe").unwrap();
        assert_ne!(one, write_tar(root, "app", &[], io::sink()).unwrap().digest);
    }

    #[test]
    fn a_path_with_a_dotdot_component_is_refused_and_named() {
        let e = archive_path(Path::new("app"), Path::new("src/../../etc/passwd")).unwrap_err();
        assert!(e.to_string().contains("src/../../etc/passwd"), "{e}");
        assert!(e.to_string().contains("`..`"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), "x").unwrap();
        let e = write_tar(dir.path(), "app/../usr", &[], io::sink()).unwrap_err();
        assert!(e.to_string().contains("app/../usr"), "{e}");
    }

    #[test]
    fn a_long_link_target_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let target = format!("{}/{}", "t".repeat(90), "u".repeat(90));
        #[cfg(unix)]
        std::os::unix::fs::symlink(&target, dir.path().join("l")).unwrap();
        #[cfg(unix)]
        {
            let entries = listing(dir.path());
            assert_eq!(entries[1].0, "app/l");
            assert_eq!(entries[1].3, target);
        }
    }

    #[test]
    fn bang_re_includes_a_file_inside_an_excluded_directory() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("build/sub")).unwrap();
        std::fs::write(root.join("build/out.bin"), "x").unwrap();
        std::fs::write(root.join("build/sub/keep.txt"), "keep").unwrap();
        std::fs::write(root.join("build/sub/other.txt"), "other").unwrap();
        std::fs::create_dir_all(root.join("node_modules/x")).unwrap();
        std::fs::write(root.join("node_modules/x/README.md"), "").unwrap();
        std::fs::write(root.join("server.py"), "").unwrap();
        std::fs::write(
            root.join(".dockerignore"),
            "build\nnode_modules\n!build/sub/keep.txt\n!**/*.md\n",
        )
        .unwrap();
        let names: Vec<String> = listing(root).into_iter().map(|e| e.0).collect();
        assert_eq!(
            names,
            [
                "app",
                "app/.dockerignore",
                "app/server.py",
                "app/build",
                "app/build/sub",
                "app/build/sub/keep.txt"
            ],
            "as with Docker, an excluded directory is searched only for what a `!` pattern names inside it"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_dockerignore_that_leads_out_of_the_root_or_is_a_fifo_is_refused_unread() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("env"), "AWS_SECRET_ACCESS_KEY=abc[\n").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("server.py"), "").unwrap();
        std::os::unix::fs::symlink(outside.path().join("env"), root.join(".dockerignore")).unwrap();
        let e = write_tar(root, "app", &[], io::sink())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`.dockerignore` is a symlink that leads outside the source directory"),
            "{e}"
        );
        assert!(!e.contains("AWS_SECRET"), "{e}");
        std::fs::remove_file(root.join(".dockerignore")).unwrap();
        let made = std::process::Command::new("mkfifo")
            .arg(root.join(".dockerignore"))
            .status()
            .unwrap();
        assert!(made.success());
        let e = write_tar(root, "app", &[], io::sink())
            .unwrap_err()
            .to_string();
        assert!(e.contains("`.dockerignore` is a FIFO"), "{e}");
    }

    #[test]
    fn a_bad_dockerignore_line_is_not_quoted() {
        let dir = tempfile::tempdir().unwrap();
        let line = format!("SECRET_VALUE_{}[", "x".repeat(10_000));
        std::fs::write(dir.path().join(".dockerignore"), format!("*.pyc\n{line}\n")).unwrap();
        let e = write_tar(dir.path(), "app", &[], io::sink())
            .unwrap_err()
            .to_string();
        assert!(e.starts_with(".dockerignore line 2: "), "{e}");
        assert!(!e.contains("SECRET_VALUE") && e.len() < 200, "{e}");
    }

    #[test]
    fn a_dockerignore_that_leaves_out_everything_warns() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("server.py"), "").unwrap();
        std::fs::write(dir.path().join(".dockerignore"), "*.pyc\n").unwrap();
        let s = write_tar(dir.path(), "app", &[], io::sink()).unwrap();
        assert!(s.warnings.is_empty(), "{:?}", s.warnings);
        for rules in ["*\n", "*\n!.dockerignore\n", "**\n"] {
            std::fs::write(dir.path().join(".dockerignore"), rules).unwrap();
            let s = write_tar(dir.path(), "app", &[], io::sink()).unwrap();
            assert_eq!(s.warnings.len(), 1, "{rules}: {:?}", s.warnings);
            assert!(
                s.warnings[0].contains(".dockerignore leaves out every file"),
                "{:?}",
                s.warnings
            );
        }
    }

    #[test]
    fn a_file_that_shrinks_or_fails_while_read_is_an_error_naming_it() {
        let mut digest = Sha256::new();
        let rel = Path::new("data/big.bin");
        let mut short = Exact {
            inner: &b"only ten b"[..],
            left: 20,
            expected: 20,
            rel,
            digest: &mut digest,
        };
        let e = io::copy(&mut short, &mut io::sink()).unwrap_err();
        assert!(e.to_string().contains("`data/big.bin` shrank"), "{e}");
        assert!(e.to_string().contains("20 bytes expected, 10 there"), "{e}");

        struct Failing;
        impl Read for Failing {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::other("Input/output error"))
            }
        }
        let mut failing = Exact {
            inner: Failing,
            left: 5,
            expected: 5,
            rel,
            digest: &mut digest,
        };
        let e = io::copy(&mut failing, &mut io::sink()).unwrap_err();
        assert!(
            e.to_string()
                .contains("`data/big.bin` could not be read: Input/output error"),
            "{e}"
        );
        // A file that grew is read up to the size it had when opened.
        let mut grown = Exact {
            inner: &b"0123456789"[..],
            left: 4,
            expected: 4,
            rel,
            digest: &mut digest,
        };
        let mut out = Vec::new();
        io::copy(&mut grown, &mut out).unwrap();
        assert_eq!(out, b"0123");
    }
}
