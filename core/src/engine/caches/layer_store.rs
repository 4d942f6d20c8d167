//! The layer directory (`--cache-dir DIR`/layers): per dependency layer key, the install's own
//! layer tar (`deps.tar`, from the container's changes) and a snapshot of its /app (`app.tar`),
//! each with its diff id. It is what lets a CI runner that starts with an empty engine but a
//! restored cache directory skip the install, and what lets a later copy of /app skip the
//! container. Files are written aside and renamed into place: a concurrent build never sees
//! half a file.

use crate::engine::caches::layer_seal::{self, Contents, Seal, Unusable};
use crate::engine::image::diff::{self, Part};
use crate::engine::image::layer::Layer;
use crate::engine::image::rebase::{append_rebased, WhiteoutNames};
use crate::engine::session::docker::long;
use crate::engine::EngineError;
use crate::plan::Step;
use bollard::query_parameters::DownloadFromContainerOptionsBuilder;
use bollard::Docker;
use futures_util::TryStreamExt;
use sha2::{Digest, Sha256};
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// A cache key: sha256 over length-prefixed fields, starting with the tool's version and the
/// project (one project's cached results are never another's: its package cache fed them).
pub(crate) struct CacheKey(Sha256);

impl CacheKey {
    pub(crate) fn new(project: &str) -> Self {
        let mut key = CacheKey(Sha256::new());
        key.field(env!("CARGO_PKG_VERSION").as_bytes());
        key.field(project.as_bytes());
        key
    }

    pub(crate) fn field(&mut self, bytes: &[u8]) {
        self.0.update((bytes.len() as u64).to_le_bytes());
        self.0.update(bytes);
    }

    /// A command step: its phase, command, directory and env (the plan's).
    pub(crate) fn run(&mut self, step: &Step) {
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

    pub(crate) fn finish(self) -> String {
        hex::encode(self.0.finalize())
    }
}

/// One kind of file kept per key.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kept {
    /// The install's layer.
    Deps,
    /// /app after the install.
    App,
}

impl Kept {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kept::Deps => "deps",
            Kept::App => "app",
        }
    }

    fn contents(self) -> Contents {
        match self {
            Kept::Deps => Contents::Install,
            Kept::App => Contents::App,
        }
    }
}

/// The directory of one key.
pub(crate) fn key_dir(layer_dir: &Path, key: &str) -> PathBuf {
    layer_dir.join(&key[..32])
}

/// What the layer directory has for a key.
pub(crate) enum Found {
    Layer(Layer),
    Absent,
    /// Something is there, but it is not used (and has been removed): why.
    Unusable(Unusable),
}

/// The kept layer of `kind` for `key`, verified ([`layer_seal::verify`]). Its use is recorded
/// (the directory's time), so that pruning removes what no build used for long. What fails the
/// check is removed, so that the next build writes it anew.
pub(crate) fn find(layer_dir: &Path, key: &str, kind: Kept) -> Found {
    let dir = key_dir(layer_dir, key);
    let tar = dir.join(format!("{}.tar", kind.name()));
    let seal_path = dir.join(format!("{}.seal", kind.name()));
    let exists = |p: &Path| std::fs::symlink_metadata(p).is_ok();
    if !exists(&tar) && !exists(&seal_path) {
        return Found::Absent;
    }
    sweep_partials(&dir);
    let mut outcome = Err(Unusable::NoSeal("not read".into()));
    // A second look when the file is not what the seal says: another build may have renamed a
    // new layer into place between the two reads.
    for attempt in 0..2 {
        if attempt > 0 {
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        outcome = read_seal(&seal_path).and_then(|seal| {
            layer_seal::verify(&tar, &seal, key, kind.name(), kind.contents())
                .map(|file| Layer::verified(tar.clone(), seal.diff_id, seal.size, file))
        });
        if !matches!(outcome, Err(Unusable::Changed(_))) {
            break;
        }
    }
    match outcome {
        Ok(layer) => {
            touch(layer_dir, key);
            Found::Layer(layer)
        }
        Err(why) => {
            let _ = std::fs::remove_file(&tar);
            let _ = std::fs::remove_file(&seal_path);
            Found::Unusable(why)
        }
    }
}

fn read_seal(path: &Path) -> Result<Seal, Unusable> {
    let bytes = crate::input::files::read_project_bytes(
        path.parent().unwrap_or(Path::new(".")),
        &path.file_name().unwrap_or_default().to_string_lossy(),
        SEAL_CAP,
    )
    .map_err(|e| Unusable::NoSeal(format!("{e:?}")))?
    .ok_or_else(|| Unusable::NoSeal("there is none".into()))?;
    serde_json::from_slice(&bytes).map_err(|e| Unusable::NoSeal(e.to_string()))
}

/// A seal is a few hundred bytes.
const SEAL_CAP: u64 = 4096;

/// Files written aside (`deps.tar.<pid>`) by a build that was killed before it renamed them:
/// removed once that process is gone.
pub(crate) fn sweep_partials(dir: &Path) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(pid) = partial_of(&name) {
            if !Path::new(&format!("/proc/{pid}")).exists() {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

/// The writer's pid, for a file written aside: `deps.tar.1234-0`, `app.seal.1234-3`.
pub(crate) fn partial_of(name: &str) -> Option<u32> {
    let (stem, writer) = name.rsplit_once('.')?;
    let pid = writer.split('-').next()?;
    (stem.ends_with(".tar") || stem.ends_with(".seal"))
        .then(|| pid.parse().ok())
        .flatten()
}

fn no_whiteout_names(names: WhiteoutNames) -> io::Result<()> {
    match names {
        WhiteoutNames(false) => Ok(()),
        WhiteoutNames(true) => Err(io::Error::other(
            "the install wrote a file whose name begins with `.wh.`, which a layer reads as a deletion",
        )),
    }
}

/// Record that a build used the cache image `tag` (one with no files of its own: a stage's
/// state, a dependency layer's /app), for pruning: an empty directory named as the tag.
pub(crate) fn touch_tag(layer_dir: &Path, tag: &str) {
    let name = tag.rsplit(':').next().unwrap_or(tag);
    let dir = layer_dir.join(name);
    if std::fs::create_dir_all(&dir).is_ok() {
        if let Ok(d) = std::fs::File::open(&dir) {
            let _ = d.set_modified(SystemTime::now());
        }
    }
}

/// Record that a build used the layer of `key` (the time of its directory), for pruning.
pub(crate) fn touch(layer_dir: &Path, key: &str) {
    if let Ok(d) = std::fs::File::open(key_dir(layer_dir, key)) {
        let _ = d.set_modified(SystemTime::now());
    }
}

/// Where a new layer of `kind` for `key` is written before [`keep`] moves it into place.
pub(crate) fn aside(layer_dir: &Path, key: &str, kind: Kept) -> PathBuf {
    key_dir(layer_dir, key).join(format!("{}.tar.{}", kind.name(), writer_id()))
}

/// `<pid>-<n>`: unique to one write, also between two builds of one process.
fn writer_id() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{}-{n}", std::process::id())
}

/// Move a layer written at [`aside`] into place, with its seal; the kept layer. Both are renamed
/// into place, so no build ever reads half a file.
pub(crate) fn keep(layer_dir: &Path, key: &str, kind: Kept, layer: Layer) -> io::Result<Layer> {
    let dir = key_dir(layer_dir, key);
    let tar = dir.join(format!("{}.tar", kind.name()));
    let seal = Seal::new(key, kind.name(), &layer.diff_id, layer.size);
    let seal_path = dir.join(format!("{}.seal", kind.name()));
    let aside_seal = dir.join(format!("{}.seal.{}", kind.name(), writer_id()));
    std::fs::write(
        &aside_seal,
        serde_json::to_vec(&seal).map_err(io::Error::other)?,
    )?;
    // Opened before the rename: another build of the same key may rename its own file onto the
    // same name at any moment after it, and this build must go on reading the one it wrote.
    let file = std::fs::File::open(&layer.path)?;
    std::fs::rename(&layer.path, &tar)?;
    std::fs::rename(&aside_seal, &seal_path)?;
    Ok(Layer::verified(tar, seal.diff_id, seal.size, file))
}

/// The container's changes as a layer tar at `file`: each part archived from the container
/// (streamed, never whole in memory) or written as a whiteout, in path order.
pub(crate) async fn changes_layer(
    docker: &Docker,
    container: &str,
    file: PathBuf,
) -> Result<Layer, EngineError> {
    let changes = docker
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
                let stream = long(docker)
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
                        // A file of the container named `.wh.…` would read as a
                        // deletion: such an install is not kept as a written layer.
                        no_whiteout_names(append_rebased(&mut tar, reader, parent, None)?)?;
                    }
                    (Part::Some { dir, keep }, Some(reader)) => {
                        let parent = Path::new(dir).parent().unwrap_or(Path::new("/"));
                        no_whiteout_names(append_rebased(&mut tar, reader, parent, Some(keep))?)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_files_of_a_gone_writer_are_removed_and_a_living_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let gone = dir.path().join("deps.tar.4194304-0");
        let living = dir
            .path()
            .join(format!("app.seal.{}-7", std::process::id()));
        let kept = dir.path().join("deps.tar");
        for f in [&gone, &living, &kept] {
            std::fs::write(f, b"x").unwrap();
        }
        assert_eq!(partial_of("deps.tar.4194304-0"), Some(4194304));
        assert_eq!(partial_of("deps.tar"), None);
        assert_eq!(partial_of("deps.seal"), None);
        sweep_partials(dir.path());
        assert!(!gone.exists() && living.exists() && kept.exists());
    }
}
