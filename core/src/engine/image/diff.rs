//! A container's changes as a layer tar the tool writes: what the engine's `changes` lists, each
//! added subtree and changed file archived from the container, each deletion a whiteout, in path
//! order. This is how a dependency install becomes a layer without a commit: the layer can be
//! kept in `--cache-dir` and loaded on another machine, and, written in sorted order with
//! clamped times, it is reproducible.

use bollard::models::{ChangeType, FilesystemChange};
use std::io::{self, Write};

/// Paths that are the container's, never the image's: the kernel's file systems and the build's
/// mounts (the CA bundle and package cache live under /dev, and the engine makes their mount
/// points in the container's layer when a file is copied in).
const NOT_IMAGE: &[&str] = &["/dev", "/proc", "/sys"];

/// What varies from one run of the same commands to the next and nothing in the image reads:
/// package managers' download caches, logs and run records (npm writes request times into its
/// cache index and a metrics file on every run; pip's cache keeps download times), and /tmp. Left
/// out of a layer written for a reproducible build (`SOURCE_DATE_EPOCH`), where they would make
/// every build's digest new (`rebase::append_rebased` leaves them out as it writes).
pub(crate) const VARYING: &[&str] = &[
    "/root/.npm/_cacache",
    "/root/.npm/_logs",
    "/root/.npm/anonymous-cli-metrics.json",
    "/root/.npm/_update-notifier-last-checked",
    "/root/.cache/pip",
    "/usr/local/share/.cache/yarn",
    "/tmp",
];

/// What to write for one change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Part {
    /// The path and everything under it, archived from the container.
    Archive(String),
    /// A directory archived from the container in one request, of which only the entries at
    /// (or under) `keep` go into the layer: the many changed entries of one directory.
    Some { dir: String, keep: Vec<String> },
    /// A whiteout: the path is gone.
    Deleted(String),
}

/// The parts of the layer, in path order: a deletion as a whiteout; an added path (with all under
/// it) or a changed file as an archive; a changed directory is left out (its metadata changed
/// because its entries did, and those are listed on their own).
pub(crate) fn parts(changes: &[FilesystemChange]) -> Vec<Part> {
    let mut changes: Vec<&FilesystemChange> = changes
        .iter()
        .filter(|c| {
            !NOT_IMAGE
                .iter()
                .any(|p| c.path == *p || c.path.starts_with(&format!("{p}/")))
        })
        .collect();
    // By components, so that everything under a directory follows it ("/app-x" after "/app/z").
    changes.sort_by(|a, b| a.path.split('/').cmp(b.path.split('/')));
    let mut parts = Vec::new();
    let mut covered: Option<String> = None;
    for (i, change) in changes.iter().enumerate() {
        if let Some(root) = &covered {
            if change.path.starts_with(&format!("{root}/")) {
                continue;
            }
        }
        let is_dir_with_changes = changes[i + 1..]
            .first()
            .is_some_and(|next| next.path.starts_with(&format!("{}/", change.path)));
        match change.kind {
            ChangeType::_2 => {
                parts.push(Part::Deleted(change.path.clone()));
                covered = Some(change.path.clone());
            }
            ChangeType::_1 => {
                parts.push(Part::Archive(change.path.clone()));
                covered = Some(change.path.clone());
            }
            ChangeType::_0 if is_dir_with_changes => {}
            ChangeType::_0 => parts.push(Part::Archive(change.path.clone())),
        }
    }
    coalesce(parts)
}

/// Above this many archives in one directory, the directory is archived once instead and only
/// the changed entries are kept: each archive is a request that costs the engine a process
/// (about 35 ms here), and a directory of caches can gain hundreds of files. The unchanged files
/// pass through the stream but stay out of the layer.
const ARCHIVES_PER_DIRECTORY: usize = 16;

fn coalesce(parts: Vec<Part>) -> Vec<Part> {
    let parent = |p: &str| p.rsplit_once('/').map(|(d, _)| d.to_string());
    let mut count: std::collections::HashMap<String, usize> = Default::default();
    for part in &parts {
        if let Part::Archive(p) = part {
            if let Some(d) = parent(p).filter(|d| !d.is_empty()) {
                *count.entry(d).or_default() += 1;
            }
        }
    }
    let mut out: Vec<Part> = Vec::with_capacity(parts.len());
    for part in parts {
        match &part {
            Part::Archive(p) => match parent(p) {
                Some(d) if count.get(&d).is_some_and(|n| *n > ARCHIVES_PER_DIRECTORY) => {
                    let grouped = out.iter_mut().find_map(|o| match o {
                        Part::Some { dir, keep } if *dir == d => Some(keep),
                        _ => None,
                    });
                    match grouped {
                        Some(keep) => keep.push(p.clone()),
                        None => out.push(Part::Some {
                            dir: d,
                            keep: vec![p.clone()],
                        }),
                    }
                }
                _ => out.push(part),
            },
            Part::Deleted(_) | Part::Some { .. } => out.push(part),
        }
    }
    out
}

/// The whiteout entry that deletes `path` in a layer.
pub(crate) fn write_whiteout<W: Write>(tar: &mut tar::Builder<W>, path: &str) -> io::Result<()> {
    let path = path.trim_start_matches('/');
    let (parent, name) = match path.rsplit_once('/') {
        Some((parent, name)) => (format!("{parent}/"), name),
        None => (String::new(), path),
    };
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Regular);
    h.set_mode(0o644);
    h.set_size(0);
    h.set_mtime(0);
    tar.append_data(&mut h, format!("{parent}.wh.{name}"), io::empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(kind: ChangeType, path: &str) -> FilesystemChange {
        FilesystemChange {
            path: path.into(),
            kind,
        }
    }

    #[test]
    fn added_trees_are_archived_once_deletions_whiteouts_and_changed_dirs_skipped() {
        let changes = [
            change(ChangeType::_0, "/usr"),
            change(ChangeType::_0, "/usr/local/lib/site-packages"),
            change(ChangeType::_1, "/usr/local/lib/site-packages/six.py"),
            change(ChangeType::_1, "/app"),
            change(ChangeType::_1, "/app/node_modules"),
            change(ChangeType::_1, "/app/node_modules/ms/index.js"),
            change(ChangeType::_1, "/app-x"),
            change(ChangeType::_2, "/etc/issue"),
            change(ChangeType::_0, "/etc"),
            change(ChangeType::_0, "/etc/passwd"),
            change(ChangeType::_0, "/dev"),
            change(ChangeType::_1, "/dev/ca.crt"),
        ];
        assert_eq!(
            parts(&changes),
            [
                Part::Archive("/app".into()),
                Part::Archive("/app-x".into()),
                Part::Deleted("/etc/issue".into()),
                Part::Archive("/etc/passwd".into()),
                Part::Archive("/usr/local/lib/site-packages/six.py".into()),
            ]
        );
    }

    #[test]
    fn a_directory_that_gains_many_files_is_archived_once() {
        let mut changes = vec![
            change(ChangeType::_0, "/tmp"),
            change(ChangeType::_0, "/tmp/cache"),
            change(ChangeType::_2, "/tmp/cache/old"),
        ];
        for i in 0..20 {
            changes.push(change(ChangeType::_1, &format!("/tmp/cache/f{i:02}")));
        }
        changes.push(change(ChangeType::_1, "/tmp/other"));
        assert_eq!(
            parts(&changes),
            [
                Part::Some {
                    dir: "/tmp/cache".into(),
                    keep: (0..20).map(|i| format!("/tmp/cache/f{i:02}")).collect(),
                },
                Part::Deleted("/tmp/cache/old".into()),
                Part::Archive("/tmp/other".into()),
            ]
        );
    }

    #[test]
    fn a_whiteout_sits_beside_what_it_deletes() {
        let mut tar = tar::Builder::new(Vec::new());
        write_whiteout(&mut tar, "/etc/issue").unwrap();
        write_whiteout(&mut tar, "/top").unwrap();
        let bytes = tar.into_inner().unwrap();
        let mut archive = tar::Archive::new(&bytes[..]);
        let names: Vec<String> = archive
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        assert_eq!(names, ["etc/.wh.issue", ".wh.top"]);
    }
}
