//! What the up-to-date check knows of a source tree from its last look: each file's size, times
//! and inode with the sha256 of its contents, as git's index does. A file whose metadata match
//! is not read again, so deciding that a 500 MB tree is unchanged costs a walk and a `stat` per
//! file, not reading 500 MB. A file changed within the same second the index was written is read
//! again (the "racily clean" case).
//!
//! Kept in the cache directory (`index/<hash of the root>`) in a small binary format; a file
//! that cannot be read is an empty index, and one that cannot be written is only a slower next
//! check.

use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

const MAGIC: &[u8; 8] = b"ARBIDX02";
/// Where the entries end: a length no entry has, then the MAC over everything before it. The
/// index is in the cache directory, which may come from elsewhere: a forged entry would make a
/// changed file look unchanged, so an index without this machine's MAC is not used.
const END: u32 = u32::MAX;

/// One file as last seen.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    size: u64,
    mtime_ns: u128,
    ctime_ns: u128,
    ino: u64,
    sha256: [u8; 32],
    /// Seen in this look (only those are saved).
    used: bool,
}

/// The index of one source root.
#[derive(Debug, Default)]
pub(crate) struct SourceIndex {
    /// When the files in `seen` were looked at (ns since the epoch).
    scanned_ns: u128,
    /// One map for the last look and this one (entries this look used are marked): a tree of
    /// 100,000 files is held once.
    seen: HashMap<Vec<u8>, Seen>,
    /// Whether anything was read this time (else saving changes nothing).
    changed: bool,
    /// How many entries this look used.
    used: usize,
}

fn times(meta: &fs::Metadata) -> (u128, u128, u64) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let ns = |s: i64, n: i64| (s.max(0) as u128) * 1_000_000_000 + n.max(0) as u128;
        (
            ns(meta.mtime(), meta.mtime_nsec()),
            ns(meta.ctime(), meta.ctime_nsec()),
            meta.ino(),
        )
    }
    #[cfg(not(unix))]
    {
        let m = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        (m, m, 0)
    }
}

impl SourceIndex {
    /// Where the index of `root` is kept under `dir`.
    pub(crate) fn path_for(dir: &Path, root: &Path, prefix: &str) -> PathBuf {
        // Named from the canonical path: two projects both built as `.` have two indexes.
        let root = crate::engine::caches::scope::canonical(root);
        let mut h = Sha256::new();
        h.update(root.as_os_str().as_encoded_bytes());
        h.update(b"\0");
        h.update(prefix.as_bytes());
        dir.join(format!("{}.idx", &hex::encode(h.finalize())[..32]))
    }

    /// The index at `path`; empty when there is none or it cannot be read.
    pub(crate) fn load(path: &Path) -> SourceIndex {
        let mut index = SourceIndex::default();
        if let Ok(file) = fs::File::open(path) {
            if let Some((scanned_ns, seen)) = parse(io::BufReader::new(file)) {
                index.scanned_ns = scanned_ns;
                index.seen = seen;
            }
        }
        index.changed = false;
        index
    }

    /// The contents' sha256 of the file at `rel` when its metadata match the last look and it
    /// was not changed in the second before that look.
    pub(crate) fn lookup(&mut self, rel: &[u8], meta: &fs::Metadata) -> Option<[u8; 32]> {
        let (mtime_ns, ctime_ns, ino) = times(meta);
        let scanned_ns = self.scanned_ns;
        let seen = self.seen.get_mut(rel)?;
        let clean = seen.size == meta.len()
            && seen.mtime_ns == mtime_ns
            && seen.ctime_ns == ctime_ns
            && seen.ino == ino
            && mtime_ns.max(ctime_ns) + 1_000_000_000 < scanned_ns;
        if !clean {
            return None;
        }
        if !seen.used {
            seen.used = true;
            self.used += 1;
        }
        Some(seen.sha256)
    }

    /// The file at `rel` was read and its contents hash to `sha256`.
    pub(crate) fn record(&mut self, rel: &[u8], meta: &fs::Metadata, sha256: [u8; 32]) {
        let (mtime_ns, ctime_ns, ino) = times(meta);
        self.changed = true;
        let before = self.seen.insert(
            rel.to_vec(),
            Seen {
                size: meta.len(),
                mtime_ns,
                ctime_ns,
                ino,
                sha256,
                used: true,
            },
        );
        if !before.is_some_and(|b| b.used) {
            self.used += 1;
        }
    }

    /// Write this look's entries to `path` (aside, then renamed), when anything changed.
    pub(crate) fn save(self, path: &Path, scanned: SystemTime) -> io::Result<()> {
        if !self.changed && self.used == self.seen.len() {
            return Ok(());
        }
        let scanned_ns = scanned
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir = path.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(dir)?;
        let aside = path.with_extension(format!("idx.{}", std::process::id()));
        let mut out = Macced {
            inner: io::BufWriter::new(fs::File::create(&aside)?),
            mac: crate::engine::caches::layer_seal::file_mac("source-index"),
        };
        out.write_all(MAGIC)?;
        out.write_all(&scanned_ns.to_le_bytes())?;
        for (rel, seen) in self.seen.iter().filter(|(_, s)| s.used) {
            out.write_all(&(rel.len() as u32).to_le_bytes())?;
            out.write_all(rel)?;
            out.write_all(&seen.size.to_le_bytes())?;
            out.write_all(&seen.mtime_ns.to_le_bytes())?;
            out.write_all(&seen.ctime_ns.to_le_bytes())?;
            out.write_all(&seen.ino.to_le_bytes())?;
            out.write_all(&seen.sha256)?;
        }
        out.write_all(&END.to_le_bytes())?;
        let mac = hmac::Mac::finalize(out.mac).into_bytes();
        let mut inner = out.inner;
        inner.write_all(&mac)?;
        inner.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        fs::rename(&aside, path)
    }
}

/// What passes through, also into a MAC.
struct Macced<T> {
    inner: T,
    mac: hmac::Hmac<Sha256>,
}

impl<W: Write> Write for Macced<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        hmac::Mac::update(&mut self.mac, &buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl<R: Read> Read for Macced<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        hmac::Mac::update(&mut self.mac, &buf[..n]);
        Ok(n)
    }
}

fn parse<R: Read>(r: R) -> Option<(u128, HashMap<Vec<u8>, Seen>)> {
    let mut r = Macced {
        inner: r,
        mac: crate::engine::caches::layer_seal::file_mac("source-index"),
    };
    let mut magic = [0u8; 8];
    r.read_exact(&mut magic).ok()?;
    if &magic != MAGIC {
        return None;
    }
    let mut b16 = [0u8; 16];
    let mut b8 = [0u8; 8];
    let mut b4 = [0u8; 4];
    r.read_exact(&mut b16).ok()?;
    let scanned_ns = u128::from_le_bytes(b16);
    let mut seen = HashMap::new();
    loop {
        // The end marker and the MAC end the entries; anything short, or a MAC not made here,
        // is not an index.
        r.read_exact(&mut b4).ok()?;
        if u32::from_le_bytes(b4) == END {
            let mut have = [0u8; 32];
            r.inner.read_exact(&mut have).ok()?;
            let mut rest = [0u8; 1];
            if r.inner.read(&mut rest).ok()? != 0 {
                return None;
            }
            // Compared in constant time.
            return hmac::Mac::verify_slice(r.mac, &have)
                .is_ok()
                .then_some((scanned_ns, seen));
        }
        let len = u32::from_le_bytes(b4) as usize;
        if len > 64 * 1024 {
            return None;
        }
        let mut rel = vec![0u8; len];
        r.read_exact(&mut rel).ok()?;
        r.read_exact(&mut b8).ok()?;
        let size = u64::from_le_bytes(b8);
        r.read_exact(&mut b16).ok()?;
        let mtime_ns = u128::from_le_bytes(b16);
        r.read_exact(&mut b16).ok()?;
        let ctime_ns = u128::from_le_bytes(b16);
        r.read_exact(&mut b8).ok()?;
        let ino = u64::from_le_bytes(b8);
        let mut sha256 = [0u8; 32];
        r.read_exact(&mut sha256).ok()?;
        seen.insert(
            rel,
            Seen {
                size,
                mtime_ns,
                ctime_ns,
                ino,
                sha256,
                used: false,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_saved_index_answers_for_unchanged_files_only() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.txt");
        fs::write(&file, "one").unwrap();
        // Old enough not to be racily clean.
        let old = SystemTime::now() - Duration::from_secs(10);
        fs::File::options()
            .write(true)
            .open(&file)
            .unwrap()
            .set_modified(old)
            .unwrap();
        let meta = fs::metadata(&file).unwrap();
        let at = SourceIndex::path_for(dir.path(), Path::new("/src"), "app");
        let mut index = SourceIndex::load(&at);
        assert_eq!(index.lookup(b"a.txt", &meta), None);
        index.record(b"a.txt", &meta, [7; 32]);
        // ctime is now; the look happens later.
        std::thread::sleep(Duration::from_millis(1100));
        index.save(&at, SystemTime::now()).unwrap();
        let mut again = SourceIndex::load(&at);
        assert_eq!(again.lookup(b"a.txt", &meta), Some([7; 32]));
        assert_eq!(again.lookup(b"b.txt", &meta), None);
        fs::write(&file, "two!").unwrap();
        let changed = fs::metadata(&file).unwrap();
        assert_eq!(
            again.lookup(b"a.txt", &changed),
            None,
            "size and times differ"
        );
    }

    #[test]
    fn a_damaged_index_is_an_empty_one() {
        let dir = tempfile::tempdir().unwrap();
        let at = dir.path().join("x.idx");
        fs::write(&at, b"ARBIDX02 truncated").unwrap();
        assert!(SourceIndex::load(&at).seen.is_empty());
    }

    /// The index is in the cache directory, which may come from elsewhere: an entry changed by
    /// hand (to make an edited file pass for unchanged) voids the whole index.
    #[test]
    fn an_edited_index_is_not_used() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.txt");
        fs::write(&file, "one").unwrap();
        let meta = fs::metadata(&file).unwrap();
        let at = dir.path().join("x.idx");
        let mut index = SourceIndex::load(&at);
        index.record(b"a.txt", &meta, [7; 32]);
        index
            .save(&at, SystemTime::now() + Duration::from_secs(5))
            .unwrap();
        assert_eq!(SourceIndex::load(&at).seen.len(), 1);
        let mut bytes = fs::read(&at).unwrap();
        // The recorded digest of a.txt, just before the end marker and the MAC.
        let digest_at = bytes.len() - 32 - 4 - 32;
        bytes[digest_at] ^= 1;
        fs::write(&at, &bytes).unwrap();
        assert!(SourceIndex::load(&at).seen.is_empty());
    }
}

#[cfg(test)]
mod index_name_tests {
    use super::*;

    #[test]
    fn one_index_per_project_whatever_its_path_is_spelt() {
        let projects = tempfile::tempdir().unwrap();
        let (a, b) = (projects.path().join("a"), projects.path().join("b"));
        std::fs::create_dir_all(a.join("sub")).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        let dir = Path::new("/cache/index");
        let spelt_otherwise = a.join("sub").join("..");
        assert_eq!(
            SourceIndex::path_for(dir, &a, "app"),
            SourceIndex::path_for(dir, &spelt_otherwise, "app")
        );
        assert_ne!(
            SourceIndex::path_for(dir, &a, "app"),
            SourceIndex::path_for(dir, &b, "app")
        );
    }
}
