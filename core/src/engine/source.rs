//! The source tree as a tar stream for `/app`: `.git` left out, `.dockerignore` honoured, symlinks
//! kept as symlinks (never followed, so nothing outside the root is read), modes kept, entries
//! sorted; and a digest of what was sent.

use globset::GlobMatcher;
use sha2::{Digest, Sha256};
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// The rules of a `.dockerignore` file, with Docker's semantics: patterns are relative to the
/// root, `*` stays within one path segment, `**` spans any number, a pattern that matches a
/// directory excludes what is inside it, `!` re-includes, and the last matching rule wins.
#[derive(Debug, Default)]
pub struct IgnoreRules {
    rules: Vec<(GlobMatcher, bool)>,
}

impl IgnoreRules {
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut rules = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (negated, pattern) = match line.strip_prefix('!') {
                Some(p) => (true, p.trim()),
                None => (false, line),
            };
            let pattern = pattern
                .trim_start_matches("./")
                .trim_start_matches('/')
                .trim_end_matches('/');
            if pattern.is_empty() {
                continue;
            }
            let glob = globset::GlobBuilder::new(pattern)
                .literal_separator(true)
                .build()
                .map_err(|e| format!(".dockerignore line {}: {e}", i + 1))?;
            rules.push((glob.compile_matcher(), negated));
        }
        Ok(Self { rules })
    }

    /// Whether `relative` (forward slashes, no leading `./`) is left out.
    pub fn excludes(&self, relative: &str) -> bool {
        let mut excluded = false;
        for (glob, negated) in &self.rules {
            let hit = glob.is_match(relative) || parents(relative).any(|p| glob.is_match(p));
            if hit {
                excluded = !negated;
            }
        }
        excluded
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

fn parents(path: &str) -> impl Iterator<Item = &str> {
    path.match_indices('/').map(move |(i, _)| &path[..i])
}

/// What went into the archive.
#[derive(Debug, Clone, Default)]
pub struct SourceSummary {
    pub files: u64,
    pub bytes: u64,
    /// sha256 over each entry's path, type, mode and contents (or link target), in order.
    pub digest: String,
}

/// Write `root` as a tar whose entries live under `prefix` (e.g. `app`).
pub fn write_tar<W: Write>(root: &Path, prefix: &str, out: W) -> io::Result<SourceSummary> {
    let rules = match fs::read_to_string(root.join(".dockerignore")) {
        Ok(text) => IgnoreRules::parse(&text).map_err(io::Error::other)?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => IgnoreRules::default(),
        Err(e) => return Err(e),
    };
    let mut builder = tar::Builder::new(out);
    builder.follow_symlinks(false);
    let mut digest = Sha256::new();
    let mut summary = SourceSummary::default();
    let mut top = dir_header(0o755);
    builder.append_data(&mut top, prefix, io::empty())?;
    let mut stack = vec![PathBuf::new()];
    while let Some(dir) = stack.pop() {
        let mut entries: Vec<_> = fs::read_dir(root.join(&dir))?.collect::<Result<_, _>>()?;
        entries.sort_by_key(|e| e.file_name());
        // Directories are pushed in reverse so they pop in sorted order.
        let mut subdirs = Vec::new();
        for entry in entries {
            let name = entry.file_name();
            if name == ".git" {
                continue;
            }
            let rel = dir.join(&name);
            let rel_str = rel.to_string_lossy().replace('\\', "/");
            if rules.excludes(&rel_str) {
                continue;
            }
            let meta = fs::symlink_metadata(root.join(&rel))?;
            let in_archive = format!("{prefix}/{rel_str}");
            let mode = mode_of(&meta);
            let ft = meta.file_type();
            if ft.is_symlink() {
                let target = fs::read_link(root.join(&rel))?;
                let mut h = tar::Header::new_gnu();
                h.set_entry_type(tar::EntryType::Symlink);
                h.set_size(0);
                h.set_mode(0o777);
                set_owner(&mut h);
                builder.append_link(&mut h, &in_archive, &target)?;
                digest.update(format!("l {rel_str} {}\0", target.display()));
            } else if ft.is_dir() {
                let mut h = dir_header(mode);
                builder.append_data(&mut h, &in_archive, io::empty())?;
                digest.update(format!("d {rel_str} {mode:o}\0"));
                subdirs.push(rel);
            } else if ft.is_file() {
                let mut h = tar::Header::new_gnu();
                h.set_entry_type(tar::EntryType::Regular);
                h.set_size(meta.len());
                h.set_mode(mode);
                h.set_mtime(mtime(&meta));
                set_owner(&mut h);
                digest.update(format!("f {rel_str} {mode:o} {}\0", meta.len()));
                let file = fs::File::open(root.join(&rel))?;
                let mut reader = Hashing {
                    inner: file.take(meta.len()),
                    digest: &mut digest,
                };
                builder.append_data(&mut h, &in_archive, &mut reader)?;
                summary.files += 1;
                summary.bytes += meta.len();
            }
            // Sockets, FIFOs and devices are not source; leave them out.
        }
        stack.extend(subdirs.into_iter().rev());
    }
    builder.into_inner()?.flush()?;
    summary.digest = hex::encode(digest.finalize());
    Ok(summary)
}

struct Hashing<'a, R> {
    inner: R,
    digest: &'a mut Sha256,
}

impl<R: Read> Read for Hashing<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.digest.update(&buf[..n]);
        Ok(n)
    }
}

fn dir_header(mode: u32) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Directory);
    h.set_size(0);
    h.set_mode(mode);
    set_owner(&mut h);
    h
}

/// Files in /app belong to root, as with a Dockerfile's COPY.
fn set_owner(h: &mut tar::Header) {
    h.set_uid(0);
    h.set_gid(0);
}

#[cfg(unix)]
fn mode_of(meta: &fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o7777
}

#[cfg(not(unix))]
fn mode_of(meta: &fs::Metadata) -> u32 {
    if meta.is_dir() {
        0o755
    } else {
        0o644
    }
}

fn mtime(meta: &fs::Metadata) -> u64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing(root: &Path) -> Vec<(String, tar::EntryType, u32, String)> {
        let mut buf = Vec::new();
        write_tar(root, "app", &mut buf).unwrap();
        let mut archive = tar::Archive::new(&buf[..]);
        archive
            .entries()
            .unwrap()
            .map(|e| {
                let mut e = e.unwrap();
                let path = e.path().unwrap().display().to_string();
                let kind = e.header().entry_type();
                let mode = e.header().mode().unwrap();
                let link = e
                    .link_name()
                    .unwrap()
                    .map(|l| l.display().to_string())
                    .unwrap_or_default();
                let mut body = String::new();
                e.read_to_string(&mut body).unwrap();
                (path, kind, mode, if link.is_empty() { body } else { link })
            })
            .collect()
    }

    #[test]
    fn dockerignore_follows_dockers_rules() {
        let r = IgnoreRules::parse(
            "# comment\n*.pyc\nnode_modules\n**/__pycache__\n/build/\n!build/keep.txt\ndocs/*.md\n",
        )
        .unwrap();
        assert!(r.excludes("a.pyc"));
        assert!(
            !r.excludes("pkg/a.pyc"),
            "`*` does not cross directories in .dockerignore"
        );
        assert!(
            r.excludes("node_modules/x/index.js"),
            "a matched directory excludes its contents"
        );
        assert!(r.excludes("pkg/__pycache__/m.cpython-311.pyc"));
        assert!(r.excludes("build/out.bin"));
        assert!(!r.excludes("build/keep.txt"), "`!` re-includes");
        assert!(r.excludes("docs/a.md") && !r.excludes("docs/sub/a.md"));
        assert!(!r.excludes("server.py"));
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
    fn digest_changes_with_content_only() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), "one").unwrap();
        let d1 = write_tar(dir.path(), "app", io::sink()).unwrap();
        let d2 = write_tar(dir.path(), "app", io::sink()).unwrap();
        assert_eq!(d1.digest, d2.digest);
        std::fs::write(dir.path().join("a.txt"), "two").unwrap();
        let d3 = write_tar(dir.path(), "app", io::sink()).unwrap();
        assert_ne!(d1.digest, d3.digest);
        assert_eq!((d3.files, d3.bytes), (1, 3));
    }
}
