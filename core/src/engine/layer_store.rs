//! The layer directory (`--cache-dir DIR`/layers): per dependency layer key, the install's own
//! layer tar (`deps.tar`, from the container's changes) and a snapshot of its /app (`app.tar`),
//! each with its diff id. It is what lets a CI runner that starts with an empty engine but a
//! restored cache directory skip the install, and what lets a later copy of /app skip the
//! container. Files are written aside and renamed into place: a concurrent build never sees
//! half a file.

use super::build::Walk;
use super::diff::{self, Part};
use super::written::{append_rebased, Layer};
use super::EngineError;
use crate::plan::Step;
use bollard::query_parameters::DownloadFromContainerOptionsBuilder;
use futures_util::TryStreamExt;
use sha2::{Digest, Sha256};
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// A cache key: sha256 over length-prefixed fields, starting with the tool's version and the
/// project (one project's cached results are never another's: its package cache fed them).
pub(super) struct CacheKey(Sha256);

impl CacheKey {
    pub(super) fn new(project: &str) -> Self {
        let mut key = CacheKey(Sha256::new());
        key.field(env!("CARGO_PKG_VERSION").as_bytes());
        key.field(project.as_bytes());
        key
    }

    pub(super) fn field(&mut self, bytes: &[u8]) {
        self.0.update((bytes.len() as u64).to_le_bytes());
        self.0.update(bytes);
    }

    /// A command step: its phase, command, directory and env (the plan's).
    pub(super) fn run(&mut self, step: &Step) {
        if let Step::Run {
            phase,
            command,
            workdir,
            env,
            ..
        } = step
        {
            self.field(phase.config_name().as_bytes());
            self.field(command.as_bytes());
            self.field(workdir.as_bytes());
            for var in env {
                self.field(format!("{}={}", var.name, var.value).as_bytes());
            }
        }
    }

    pub(super) fn finish(self) -> String {
        hex::encode(self.0.finalize())
    }
}

/// One kind of file kept per key.
#[derive(Debug, Clone, Copy)]
pub(super) enum Kept {
    /// The install's layer.
    Deps,
    /// /app after the install.
    App,
}

impl Kept {
    fn name(self) -> &'static str {
        match self {
            Kept::Deps => "deps",
            Kept::App => "app",
        }
    }
}

/// The directory of one key.
pub(super) fn key_dir(layer_dir: &Path, key: &str) -> PathBuf {
    layer_dir.join(&key[..32])
}

/// The kept layer of `kind` for `key`, when both its tar and its diff id are there. Its use is
/// recorded (the directory's time), so that pruning removes what no build used for long.
pub(super) fn find(layer_dir: &Path, key: &str, kind: Kept) -> Option<Layer> {
    let dir = key_dir(layer_dir, key);
    let diff_id = std::fs::read_to_string(dir.join(format!("{}.diffid", kind.name()))).ok()?;
    let diff_id = diff_id.trim();
    // The directory may come from elsewhere (a restored CI cache) or be damaged. The id names the
    // layer's entry in the archive the engine loads and goes into the image config, so anything
    // but a digest is no layer: the install runs again and writes it anew.
    if !is_digest(diff_id) {
        return None;
    }
    let layer = Layer::existing(
        dir.join(format!("{}.tar", kind.name())),
        diff_id.to_string(),
    )
    .ok()?;
    touch(layer_dir, key);
    Some(layer)
}

/// `sha256:` and 64 lowercase hex digits, as [`Layer::write`] spells a diff id.
fn is_digest(id: &str) -> bool {
    id.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    })
}

/// Record that a build used the cache image `tag` (one with no files of its own: a stage's
/// state, a dependency layer's /app), for pruning: an empty directory named as the tag.
pub(super) fn touch_tag(layer_dir: &Path, tag: &str) {
    let name = tag.rsplit(':').next().unwrap_or(tag);
    let dir = layer_dir.join(name);
    if std::fs::create_dir_all(&dir).is_ok() {
        if let Ok(d) = std::fs::File::open(&dir) {
            let _ = d.set_modified(SystemTime::now());
        }
    }
}

/// Record that a build used the layer of `key` (the time of its directory), for pruning.
pub(super) fn touch(layer_dir: &Path, key: &str) {
    if let Ok(d) = std::fs::File::open(key_dir(layer_dir, key)) {
        let _ = d.set_modified(SystemTime::now());
    }
}

/// Where a new layer of `kind` for `key` is written before [`keep`] moves it into place.
pub(super) fn aside(layer_dir: &Path, key: &str, kind: Kept) -> PathBuf {
    key_dir(layer_dir, key).join(format!("{}.tar.{}", kind.name(), std::process::id()))
}

/// Move a layer written at [`aside`] into place; the kept layer.
pub(super) fn keep(layer_dir: &Path, key: &str, kind: Kept, layer: Layer) -> io::Result<Layer> {
    let dir = key_dir(layer_dir, key);
    let tar = dir.join(format!("{}.tar", kind.name()));
    std::fs::rename(&layer.path, &tar)?;
    let diff_id = dir.join(format!("{}.diffid", kind.name()));
    let aside_id = dir.join(format!("{}.diffid.{}", kind.name(), std::process::id()));
    std::fs::write(&aside_id, &layer.diff_id)?;
    std::fs::rename(&aside_id, &diff_id)?;
    Layer::existing(tar, layer.diff_id.clone())
}

impl Walk<'_> {
    /// The container's changes as a layer tar at `file`: each part archived from the container
    /// (streamed, never whole in memory) or written as a whiteout, in path order.
    pub(super) async fn changes_layer(
        &self,
        container: &str,
        file: PathBuf,
    ) -> Result<Layer, EngineError> {
        let changes = self
            .docker
            .container_changes(container)
            .await
            .map_err(EngineError::docker("listing the install's changes"))?
            .unwrap_or_default();
        let parts = diff::parts(&changes);
        // Each archive is requested when the writer reads it, one after another.
        let mut readers = Vec::new();
        for part in &parts {
            let reader = match part {
                Part::Deleted(_) => None,
                Part::Archive(path) | Part::Some { dir: path, .. } => {
                    let options = DownloadFromContainerOptionsBuilder::new()
                        .path(path)
                        .build();
                    let stream = super::docker::long(self.docker)
                        .download_from_container(container, Some(options))
                        .map_err(io::Error::other);
                    Some(tokio_util::io::SyncIoBridge::new(
                        tokio_util::io::StreamReader::new(stream),
                    ))
                }
            };
            readers.push(reader);
        }
        let written = tokio::task::spawn_blocking(move || {
            Layer::write(file, false, |out| {
                let mut tar = tar::Builder::new(out);
                for (part, reader) in parts.iter().zip(readers) {
                    match (part, reader) {
                        (Part::Deleted(path), _) => diff::write_whiteout(&mut tar, path)?,
                        (Part::Archive(path), Some(reader)) => {
                            let parent = Path::new(path).parent().unwrap_or(Path::new("/"));
                            append_rebased(&mut tar, reader, parent, None)?;
                        }
                        (Part::Some { dir, keep }, Some(reader)) => {
                            let parent = Path::new(dir).parent().unwrap_or(Path::new("/"));
                            append_rebased(&mut tar, reader, parent, Some(keep))?;
                        }
                        (_, None) => unreachable!("every archive has a reader"),
                    }
                }
                tar.finish()
            })
        })
        .await
        .map_err(|e| EngineError::Source {
            root: "(the install's changes)".into(),
            source: io::Error::other(e),
        })?;
        written
            .map(|(layer, ())| layer)
            .map_err(|source| EngineError::Source {
                root: "(the install's changes)".into(),
                source,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "5e1f0c4fb1a3c0a7e8e4b0d9c6a2f3e1d4c5b6a79880716253443526170819aa";

    /// A key directory holding `deps.tar` and `deps.diffid` with `diff_id`.
    fn kept(diff_id: &[u8]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let key_dir = key_dir(dir.path(), KEY);
        std::fs::create_dir_all(&key_dir).unwrap();
        std::fs::write(key_dir.join("deps.tar"), [0u8; 1024]).unwrap();
        std::fs::write(key_dir.join("deps.diffid"), diff_id).unwrap();
        dir
    }

    #[test]
    fn a_kept_layer_is_found_with_its_diff_id() {
        let id = format!("sha256:{}", "0a".repeat(32));
        let dir = kept(format!("{id}\n").as_bytes());
        let layer = find(dir.path(), KEY, Kept::Deps).unwrap();
        assert_eq!(layer.diff_id, id);
        assert_eq!(layer.size, 1024);
        assert!(find(dir.path(), KEY, Kept::App).is_none(), "no app.tar");
    }

    /// A `.diffid` that is not a digest was taken as the layer's id, and named the layer's path in
    /// the `docker load` archive (the layer_store fuzz target asserts that none is taken).
    #[test]
    fn a_diff_id_that_is_not_a_digest_is_no_layer() {
        for id in [
            &b"../../../etc/passwd"[..],
            b"",
            b"sha256:",
            b"sha256:0A0A",
            b"sha256:zz0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a",
            b"sha256:0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a0a/x",
        ] {
            let dir = kept(id);
            assert!(
                find(dir.path(), KEY, Kept::Deps).is_none(),
                "{}",
                String::from_utf8_lossy(id)
            );
        }
    }
}
