//! A layer tar on disk: written once (hashed and counted on the way), its diff id and size, and
//! removed with the build when it is the build's own.

use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

/// An uncompressed layer tar on disk, with its digest (the engine's diff id) and size.
#[derive(Debug)]
pub(crate) struct Layer {
    pub(crate) path: PathBuf,
    pub(crate) diff_id: String,
    pub(crate) size: u64,
    /// Removed with the layer: a build's own temporary layers (not the layer cache's files).
    pub(crate) temporary: bool,
    /// The file as it was verified (a kept layer's): read from this, never from the path again,
    /// which a concurrent build may have renamed another file onto.
    pub(crate) pinned: Option<File>,
}

impl Drop for Layer {
    fn drop(&mut self) {
        if self.temporary {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// A writer that hashes and counts what passes through it.
pub(crate) struct Hashing<W> {
    inner: W,
    hash: Sha256,
    size: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl Layer {
    /// Write a layer tar to `path` with `fill`, which gets the writer and returns what it wants
    /// to report. `temporary` layers are removed when dropped.
    pub(crate) fn write<T>(
        path: PathBuf,
        temporary: bool,
        fill: impl FnOnce(&mut Hashing<BufWriter<File>>) -> io::Result<T>,
    ) -> io::Result<(Layer, T)> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let file = File::create(&path)?;
        let mut out = Hashing {
            inner: BufWriter::with_capacity(256 * 1024, file),
            hash: Sha256::new(),
            size: 0,
        };
        let filled = fill(&mut out);
        let layer = Layer {
            path,
            diff_id: format!("sha256:{}", hex::encode(out.hash.clone().finalize())),
            size: out.size,
            temporary,
            pinned: None,
        };
        let value = filled?;
        out.flush()?;
        Ok((layer, value))
    }

    /// A kept layer file, verified to hold `diff_id` ([`crate::engine::caches::layer_seal::verify`]) through
    /// `file`, which it is read from from now on.
    pub(crate) fn verified(path: PathBuf, diff_id: String, size: u64, file: File) -> Layer {
        Layer {
            path,
            diff_id,
            size,
            temporary: false,
            pinned: Some(file),
        }
    }

    /// The layer's bytes from the start: the verified file, else the path.
    pub(crate) fn open(&self) -> io::Result<File> {
        match &self.pinned {
            Some(file) => crate::engine::caches::layer_seal::pinned_reader(file),
            None => File::open(&self.path),
        }
    }
}
