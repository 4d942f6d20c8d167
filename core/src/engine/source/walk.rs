//! The walk over the source tree: sorted, `.git` and the ignored left out (a directory whose
//! files a `!` line may re-include is searched, and written only when one turns up), each entry
//! written to the tar and recorded in the digest.

use crate::engine::caches::source_index::SourceIndex;
use crate::engine::source::entries::{
    append, archive_path, dir_header, hard_link_of, match_form, mode_of, mtime, named, raw, record,
    set_owner, Exact,
};
use crate::engine::source::filter::{GitLeftOut, SourceFilter};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fs;
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};

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
    /// What git's rules left out.
    pub git_left_out: GitLeftOut,
}

/// Write `root` as a tar whose entries live under `prefix` (e.g. `app`), without what `filter`
/// (the plan's exclusions) leaves out, nor the entries at the paths in `exclude` (relative to
/// `root`: local files such as a `--secrets-file` that must not reach the image).
pub fn write_tar<W: Write>(
    root: &Path,
    prefix: &str,
    filter: SourceFilter,
    exclude: &[PathBuf],
    out: W,
) -> io::Result<SourceSummary> {
    SourceWalk::new(root, prefix, filter, exclude, out, None)?.run()
}

/// The summary (and digest) [`write_tar`] would give, without a tar: a file that `index` knows
/// unchanged is not read; the others are, and `index` learns them.
pub(crate) fn digest(
    root: &Path,
    prefix: &str,
    filter: SourceFilter,
    exclude: &[PathBuf],
    index: &mut SourceIndex,
) -> io::Result<SourceSummary> {
    SourceWalk::new(root, prefix, filter, exclude, io::sink(), Some(index))?.run()
}

/// One walk over the source tree, writing a tar to `W` (or only the digest).
struct SourceWalk<'a, W: Write> {
    root: &'a Path,
    prefix: &'a Path,
    exclude: &'a [PathBuf],
    filter: SourceFilter,
    /// Files it knows unchanged are not read (with no tar written).
    index: Option<&'a mut SourceIndex>,
    builder: tar::Builder<W>,
    digest: Sha256,
    summary: SourceSummary,
    /// Entries the `.dockerignore` left out.
    left_out: u64,
    /// Whether the `.dockerignore` itself went into the archive.
    dockerignore_kept: bool,
    /// Excluded directories searched for re-included files: written only when one turns up.
    excluded_dirs: Vec<(PathBuf, u32, u64)>,
    /// Files with more than one link, by (device, inode): the first one's name in the archive,
    /// which the others link to, as COPY keeps them.
    linked: HashMap<(u64, u64), Vec<u8>>,
}

impl<'a, W: Write> SourceWalk<'a, W> {
    fn new(
        root: &'a Path,
        prefix: &'a str,
        filter: SourceFilter,
        exclude: &'a [PathBuf],
        out: W,
        index: Option<&'a mut SourceIndex>,
    ) -> io::Result<Self> {
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
        Ok(SourceWalk {
            root,
            prefix,
            exclude,
            filter,
            index,
            builder: tar::Builder::new(out),
            digest: Sha256::new(),
            summary: SourceSummary::default(),
            left_out: 0,
            dockerignore_kept: false,
            excluded_dirs: Vec::new(),
            linked: HashMap::new(),
        })
    }

    /// The destination, then every directory in sorted order, depth first; the summary.
    fn run(mut self) -> io::Result<SourceSummary> {
        // The destination has the source directory's time, as with COPY.
        let root_meta =
            fs::metadata(self.root).map_err(|e| named(Path::new(""), "cannot be read", e))?;
        append(
            &mut self.builder,
            &mut dir_header(0o755, mtime(&root_meta)),
            &raw(self.prefix),
            None,
            io::empty(),
        )?;
        let mut stack = vec![PathBuf::new()];
        while let Some(dir) = stack.pop() {
            let subdirs = self.directory(&dir)?;
            // Pushed in reverse so that they pop in sorted order.
            stack.extend(subdirs.into_iter().rev());
        }
        self.finish()
    }

    /// The entries of `dir`, in name order; the subdirectories to walk next.
    fn directory(&mut self, dir: &Path) -> io::Result<Vec<PathBuf>> {
        let mut entries = fs::read_dir(self.root.join(dir))
            .and_then(|r| r.collect::<Result<Vec<_>, _>>())
            .map_err(|e| named(dir, "cannot be listed", e))?;
        entries.sort_by_key(|e| e.file_name());
        let mut subdirs = Vec::new();
        for entry in entries {
            let name = entry.file_name();
            if name == ".git" {
                continue;
            }
            let rel = dir.join(&name);
            if self.exclude.contains(&rel) {
                continue;
            }
            // What git ignores never reaches App Runner: nothing inside it is looked at.
            if self
                .filter
                .git_ignores(&rel, &mut self.summary.git_left_out)
            {
                continue;
            }
            let rel_str = match_form(&rel);
            if self.filter.rules.excludes(&rel_str) {
                self.left_out += 1;
                let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
                if is_dir && self.filter.rules.may_include_under(&rel_str) {
                    let meta = fs::symlink_metadata(self.root.join(&rel))
                        .map_err(|e| named(&rel, "cannot be read", e))?;
                    self.excluded_dirs
                        .push((rel.clone(), mode_of(&meta), mtime(&meta)));
                    subdirs.push(rel);
                }
                continue;
            }
            if self.entry(&rel)? {
                subdirs.push(rel);
            }
        }
        Ok(subdirs)
    }

    /// One entry that is not left out; `true` when it is a directory to walk.
    fn entry(&mut self, rel: &Path) -> io::Result<bool> {
        let in_archive = archive_path(self.prefix, rel)?;
        refuse_whiteout_name(rel)?;
        let meta = fs::symlink_metadata(self.root.join(rel))
            .map_err(|e| named(rel, "cannot be read", e))?;
        let ft = meta.file_type();
        if !(ft.is_symlink() || ft.is_dir() || ft.is_file()) {
            // Sockets, FIFOs and devices are not source; leave them out.
            return Ok(false);
        }
        self.excluded_parents_of(rel)?;
        if ft.is_symlink() {
            self.symlink(rel, &meta, &in_archive)?;
        } else if ft.is_dir() {
            let mode = mode_of(&meta);
            let mut h = dir_header(mode, mtime(&meta));
            append(&mut self.builder, &mut h, &in_archive, None, io::empty())?;
            record(&mut self.digest, "d", rel, format!(" {mode:o}"));
            return Ok(true);
        } else if let Some(first) = hard_link_of(&meta).and_then(|id| self.linked.get(&id)) {
            let first = first.clone();
            self.hard_link(rel, &meta, &in_archive, &first)?;
        } else {
            if let Some(id) = hard_link_of(&meta) {
                self.linked.insert(id, in_archive.clone());
            }
            let known = self
                .index
                .as_deref_mut()
                .and_then(|ix| ix.lookup(&raw(rel), &meta));
            match known {
                Some(sha) => self.known_file(rel, &meta, sha),
                None => self.file(rel, &meta, &in_archive)?,
            }
            if rel.as_os_str() == ".dockerignore" {
                self.dockerignore_kept = true;
            }
        }
        Ok(false)
    }

    /// A re-included entry inside excluded directories: those directories first.
    fn excluded_parents_of(&mut self, rel: &Path) -> io::Result<()> {
        let mut i = 0;
        while i < self.excluded_dirs.len() {
            if rel.starts_with(&self.excluded_dirs[i].0) {
                let (p, mode, time) = self.excluded_dirs.remove(i);
                append(
                    &mut self.builder,
                    &mut dir_header(mode, time),
                    &archive_path(self.prefix, &p)?,
                    None,
                    io::empty(),
                )?;
                record(&mut self.digest, "d", &p, format!(" {mode:o}"));
            } else {
                i += 1;
            }
        }
        Ok(())
    }

    fn symlink(&mut self, rel: &Path, meta: &fs::Metadata, in_archive: &[u8]) -> io::Result<()> {
        let target =
            fs::read_link(self.root.join(rel)).map_err(|e| named(rel, "cannot be read", e))?;
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        h.set_mode(0o777);
        h.set_mtime(mtime(meta));
        set_owner(&mut h);
        let target_raw = raw(&target);
        append(
            &mut self.builder,
            &mut h,
            in_archive,
            Some(&target_raw),
            io::empty(),
        )?;
        self.digest.update(b"l ");
        self.digest.update(&*raw(rel));
        self.digest.update(b" ");
        self.digest.update(&*target_raw);
        self.digest.update(b"\0");
        Ok(())
    }

    /// Another name of a file already in the archive: a link to it.
    fn hard_link(
        &mut self,
        rel: &Path,
        meta: &fs::Metadata,
        in_archive: &[u8],
        first: &[u8],
    ) -> io::Result<()> {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Link);
        h.set_size(0);
        h.set_mode(mode_of(meta));
        h.set_mtime(mtime(meta));
        set_owner(&mut h);
        append(
            &mut self.builder,
            &mut h,
            in_archive,
            Some(first),
            io::empty(),
        )?;
        self.digest.update(b"h ");
        self.digest.update(&*raw(rel));
        self.digest.update(b" ");
        self.digest.update(first);
        self.digest.update(b"\0");
        self.summary.files += 1;
        Ok(())
    }

    /// A file the index knows unchanged, and no tar is written: not read.
    fn known_file(&mut self, rel: &Path, meta: &fs::Metadata, sha: [u8; 32]) {
        let mode = mode_of(meta);
        record(
            &mut self.digest,
            "f",
            rel,
            format!(" {mode:o} {}", meta.len()),
        );
        self.digest.update(sha);
        self.summary.files += 1;
        self.summary.bytes += meta.len();
    }

    /// A regular file, read once: into the tar and the digest (and the index).
    fn file(&mut self, rel: &Path, meta: &fs::Metadata, in_archive: &[u8]) -> io::Result<()> {
        let mode = mode_of(meta);
        let file =
            fs::File::open(self.root.join(rel)).map_err(|e| named(rel, "cannot be opened", e))?;
        // The size of what was opened, not of what was listed.
        let len = file
            .metadata()
            .map_err(|e| named(rel, "cannot be read", e))?
            .len();
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_size(len);
        h.set_mode(mode);
        h.set_mtime(mtime(meta));
        set_owner(&mut h);
        record(&mut self.digest, "f", rel, format!(" {mode:o} {len}"));
        let mut contents = Sha256::new();
        let reader = Exact {
            inner: file,
            left: len,
            expected: len,
            rel,
            digest: &mut contents,
        };
        append(&mut self.builder, &mut h, in_archive, None, reader)?;
        let sha: [u8; 32] = contents.finalize().into();
        self.digest.update(sha);
        if let Some(ix) = self.index.as_deref_mut() {
            ix.record(&raw(rel), meta, sha);
        }
        self.summary.files += 1;
        self.summary.bytes += len;
        Ok(())
    }

    /// The tar closed, the digest and the warnings.
    fn finish(self) -> io::Result<SourceSummary> {
        let SourceWalk {
            builder,
            digest,
            mut summary,
            left_out,
            dockerignore_kept,
            prefix,
            ..
        } = self;
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
}

/// Reserved in every image format (OCI, Docker): a layer reads such a name as the deletion of a
/// lower file, and an image holding it cannot even be saved. Copied into a container, it breaks
/// the image the same way: refused, named, before any build.
fn refuse_whiteout_name(rel: &Path) -> io::Result<()> {
    let name = rel.file_name().unwrap_or_default();
    if name.as_encoded_bytes().starts_with(b".wh.") {
        return Err(named(
            rel,
            "has a name that begins with `.wh.`",
            io::Error::new(
                io::ErrorKind::InvalidData,
                "container images reserve such names for deleted files, so no image can hold it; rename it, or leave it out with a .dockerignore line",
            ),
        ));
    }
    Ok(())
}
