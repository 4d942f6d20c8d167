//! What makes a kept layer trusted: a cache directory may be restored by a CI cache action from
//! another branch or a fork's pull request, so nothing in it is believed because it is there.
//! Each kept layer has a seal: an HMAC-SHA256, under a secret the cache directory does not hold,
//! over the layer's key, kind, diff id and size. Before use, the seal is checked, the file is
//! read once (as a regular file, never a FIFO or a link) to recompute its digest, and every tar
//! entry is checked to be one an install can write. Anything else is a logged miss: the entry is
//! removed and rebuilt, never used and never a failure.
//!
//! The secret is `APPRUNNER_BUILD_CACHE_SECRET` when set (a CI secret, which fork builds do not
//! get), else a random key made once per user in `~/.config/apprunner-build/cache-secret` (mode
//! 0600). A cache directory restored on another machine is then used only where that machine
//! has the same secret.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};
use std::sync::OnceLock;

/// The environment variable that holds the cache secret on CI.
pub const SECRET_ENV: &str = "APPRUNNER_BUILD_CACHE_SECRET";

/// The seal of one kept layer, as stored beside it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Seal {
    pub diff_id: String,
    pub size: u64,
    /// Hex HMAC-SHA256 over the key, the kind, the diff id and the size.
    pub mac: String,
}

/// Why a kept layer is not used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Unusable {
    NoSeal(String),
    /// The seal was not made with this machine's secret (or was edited).
    Forged,
    NotRegular(&'static str),
    /// The file is not what the seal says: its size or digest differ (truncated, replaced).
    Changed(String),
    /// An entry no install writes.
    Entry(String),
    Unreadable(String),
}

impl std::fmt::Display for Unusable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unusable::NoSeal(e) => write!(f, "it has no readable seal ({e})"),
            Unusable::Forged => write!(
                f,
                "its seal was not made with this machine's cache secret (a cache directory restored from elsewhere is used only with the same {SECRET_ENV})"
            ),
            Unusable::NotRegular(what) => write!(f, "it is {what}, not a regular file"),
            Unusable::Changed(what) => write!(f, "it is not the layer its seal names: {what}"),
            Unusable::Entry(what) => write!(f, "it holds an entry no install writes: {what}"),
            Unusable::Unreadable(e) => write!(f, "it cannot be read: {e}"),
        }
    }
}

/// What a kept layer may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Contents {
    /// An install's changes: anywhere in the image, but only plain files, directories and links
    /// that stay inside it.
    Install,
    /// A snapshot of `/app`: only entries under `app/`, and no whiteouts.
    App,
}

fn secret() -> &'static [u8] {
    static SECRET: OnceLock<Vec<u8>> = OnceLock::new();
    SECRET.get_or_init(|| {
        if let Some(value) = std::env::var_os(SECRET_ENV).filter(|v| !v.is_empty()) {
            return value.as_encoded_bytes().to_vec();
        }
        secret_file()
            .and_then(|p| read_or_make(&p).ok())
            .unwrap_or_else(|| {
                // No place to keep one: this process's own, so nothing kept elsewhere verifies.
                random_bytes().unwrap_or_else(|_| std::process::id().to_le_bytes().to_vec())
            })
    })
}

fn secret_file() -> Option<PathBuf> {
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(config.join("apprunner-build").join("cache-secret"))
}

fn read_or_make(path: &Path) -> io::Result<Vec<u8>> {
    if let Ok(bytes) = std::fs::read(path) {
        if bytes.len() >= 32 {
            return Ok(bytes);
        }
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let bytes = random_bytes()?;
    let mut aside = tempfile::NamedTempFile::new_in(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        aside
            .as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    io::Write::write_all(&mut aside, &bytes)?;
    // Two processes making one at once: the first to land wins, and both read it back.
    match aside.persist_noclobber(path) {
        Ok(_) => Ok(bytes),
        Err(_) => std::fs::read(path),
    }
}

fn random_bytes() -> io::Result<Vec<u8>> {
    let mut bytes = vec![0; 32];
    File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes)
}

fn mac(key: &str, kind: &str, diff_id: &str, size: u64) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret()).expect("HMAC takes any key length");
    for field in [key.as_bytes(), kind.as_bytes(), diff_id.as_bytes()] {
        mac.update(&(field.len() as u64).to_le_bytes());
        mac.update(field);
    }
    mac.update(&size.to_le_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// A MAC under the cache secret for a file of the cache directory other than a layer (the
/// up-to-date index): `kind` keeps one kind of file from passing for another.
pub(crate) fn file_mac(kind: &str) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret()).expect("HMAC takes any key length");
    mac.update(&(kind.len() as u64).to_le_bytes());
    mac.update(kind.as_bytes());
    mac
}

impl Seal {
    pub(crate) fn new(key: &str, kind: &str, diff_id: &str, size: u64) -> Self {
        Seal {
            diff_id: diff_id.to_string(),
            size,
            mac: mac(key, kind, diff_id, size),
        }
    }

    /// Whether this seal was made here for `key` and `kind`.
    fn genuine(&self, key: &str, kind: &str) -> bool {
        let want = mac(key, kind, &self.diff_id, self.size);
        // Compared in full whatever differs first: no timing tells how much of it matched.
        want.len() == self.mac.len()
            && want
                .bytes()
                .zip(self.mac.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }
}

/// The layer file at `path`, opened and proven to be what `seal` says for `key`/`kind`, its
/// entries checked; the open file (read again from it, never from the path, so that a
/// concurrent build's rename cannot swap what was verified).
pub(crate) fn verify(
    path: &Path,
    seal: &Seal,
    key: &str,
    kind: &str,
    contents: Contents,
) -> Result<File, Unusable> {
    if !seal.genuine(key, kind) {
        return Err(Unusable::Forged);
    }
    let file = open_regular(path)?;
    let size = file
        .metadata()
        .map_err(|e| Unusable::Unreadable(e.to_string()))?
        .len();
    if size != seal.size {
        return Err(Unusable::Changed(format!(
            "{size} bytes, where the seal says {}",
            seal.size
        )));
    }
    let mut hashing = HashingReader {
        inner: pinned_reader(&file).map_err(|e| Unusable::Unreadable(e.to_string()))?,
        hash: Sha256::new(),
    };
    check_entries(&mut hashing, contents)?;
    let digest = format!("sha256:{}", hex::encode(hashing.hash.finalize()));
    if digest != seal.diff_id {
        return Err(Unusable::Changed(format!(
            "its digest is {digest}, where the seal says {}",
            seal.diff_id
        )));
    }
    Ok(file)
}

/// A new reader of `file` from its start, with its own position (the file stays open as it is).
pub(crate) fn pinned_reader(file: &File) -> io::Result<File> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        File::open(format!("/proc/self/fd/{}", file.as_raw_fd()))
    }
    #[cfg(not(target_os = "linux"))]
    {
        let mut clone = file.try_clone()?;
        io::Seek::seek(&mut clone, io::SeekFrom::Start(0))?;
        Ok(clone)
    }
}

/// `path` opened only when it is a regular file, without following a link and without blocking
/// (a FIFO would hang the build).
fn open_regular(path: &Path) -> Result<File, Unusable> {
    let meta = std::fs::symlink_metadata(path).map_err(|e| Unusable::Unreadable(e.to_string()))?;
    let kind = meta.file_type();
    if !kind.is_file() {
        return Err(Unusable::NotRegular(if kind.is_symlink() {
            "a symlink"
        } else if kind.is_dir() {
            "a directory"
        } else {
            "a FIFO, socket or device"
        }));
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let file = options
        .open(path)
        .map_err(|e| Unusable::Unreadable(e.to_string()))?;
    match file.metadata() {
        Ok(m) if m.file_type().is_file() => Ok(file),
        Ok(_) => Err(Unusable::NotRegular("not a regular file")),
        Err(e) => Err(Unusable::Unreadable(e.to_string())),
    }
}

struct HashingReader<R> {
    inner: R,
    hash: Sha256,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
}

/// Every entry of the tar read from `reader` (to its end, so that all of it is hashed) is one an
/// install can write.
fn check_entries<R: Read>(reader: &mut R, contents: Contents) -> Result<(), Unusable> {
    let unreadable = |e: io::Error| Unusable::Changed(format!("not a whole tar ({e})"));
    let mut archive = tar::Archive::new(&mut *reader);
    let mut links: Vec<PathBuf> = Vec::new();
    for entry in archive.entries().map_err(unreadable)? {
        let mut entry = entry.map_err(unreadable)?;
        let path = entry.path().map_err(unreadable)?.into_owned();
        let shown = path.display().to_string();
        let refuse = |why: &str| Err(Unusable::Entry(format!("`{shown}` {why}")));
        if !inside(&path) {
            return refuse("leads outside the image (an absolute path or `..`)");
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if contents == Contents::App {
            let under_app = path
                .components()
                .find(|c| !matches!(c, Component::CurDir))
                .is_some_and(|c| c.as_os_str() == "app");
            if !under_app {
                return refuse("is outside /app, in a snapshot of /app");
            }
            if name.starts_with(".wh.") {
                return refuse("is a whiteout, in a snapshot of /app");
            }
        }
        if links.iter().any(|l| path.starts_with(l) && path != *l) {
            return refuse("is written through a symlink of the same layer");
        }
        let header = entry.header();
        let mode = header.mode().map_err(unreadable)?;
        if mode & 0o6000 != 0 {
            return refuse("is setuid or setgid");
        }
        match header.entry_type() {
            tar::EntryType::Regular
            | tar::EntryType::Continuous
            | tar::EntryType::Directory
            | tar::EntryType::GNULongName
            | tar::EntryType::GNULongLink
            | tar::EntryType::XHeader
            | tar::EntryType::XGlobalHeader => {}
            tar::EntryType::Symlink => links.push(path.clone()),
            tar::EntryType::Link => {
                let target = entry.link_name().map_err(unreadable)?.unwrap_or_default();
                if !inside(&target) {
                    return refuse("is a hard link to outside the image");
                }
            }
            other => return refuse(&format!("is a {other:?} entry (a device or FIFO)")),
        }
        // Read through, so the digest covers the content.
        io::copy(&mut entry, &mut io::sink()).map_err(unreadable)?;
    }
    // The end-of-archive blocks and any padding after them.
    io::copy(archive.into_inner(), &mut io::sink()).map_err(unreadable)?;
    Ok(())
}

/// A relative path that stays below where it is unpacked.
fn inside(path: &Path) -> bool {
    path.components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Name, type, content, mode, link target.
    type Entry<'a> = (&'a str, tar::EntryType, &'a [u8], u32, Option<&'a str>);

    fn tar_of(entries: &[Entry]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, kind, data, mode, link) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(*kind);
            h.set_mode(*mode);
            h.set_size(data.len() as u64);
            // Written as raw bytes: the builder itself refuses `..` and absolute names.
            let raw = h.as_old_mut();
            raw.name[..name.len()].copy_from_slice(name.as_bytes());
            if let Some(link) = link {
                raw.linkname[..link.len()].copy_from_slice(link.as_bytes());
            }
            h.set_cksum();
            b.append(&h, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    fn sealed(dir: &Path, bytes: &[u8]) -> (PathBuf, Seal) {
        let path = dir.join("deps.tar");
        std::fs::write(&path, bytes).unwrap();
        let digest = format!("sha256:{}", hex::encode(Sha256::digest(bytes)));
        (path, Seal::new("k", "deps", &digest, bytes.len() as u64))
    }

    #[test]
    fn a_sealed_install_layer_is_used() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = tar_of(&[
            (
                "app/node_modules/",
                tar::EntryType::Directory,
                b"",
                0o755,
                None,
            ),
            (
                "app/node_modules/x.js",
                tar::EntryType::Regular,
                b"1",
                0o644,
                None,
            ),
            (
                "usr/local/lib/.wh.old",
                tar::EntryType::Regular,
                b"",
                0o644,
                None,
            ),
            (
                "app/bin",
                tar::EntryType::Symlink,
                b"",
                0o777,
                Some("/usr/bin"),
            ),
        ]);
        let (path, seal) = sealed(dir.path(), &bytes);
        assert!(verify(&path, &seal, "k", "deps", Contents::Install).is_ok());
        // The same layer under another key or kind is not this one.
        assert_eq!(
            verify(&path, &seal, "other", "deps", Contents::Install).unwrap_err(),
            Unusable::Forged
        );
        let mut edited = seal.clone();
        edited.diff_id = "sha256:00".into();
        assert_eq!(
            verify(&path, &edited, "k", "deps", Contents::Install).unwrap_err(),
            Unusable::Forged
        );
    }

    #[test]
    fn a_changed_or_truncated_file_is_not_used() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = tar_of(&[("app/a", tar::EntryType::Regular, b"hello", 0o644, None)]);
        let (path, seal) = sealed(dir.path(), &bytes);
        std::fs::write(&path, &bytes[..bytes.len() - 512]).unwrap();
        let e = verify(&path, &seal, "k", "deps", Contents::Install).unwrap_err();
        assert!(matches!(e, Unusable::Changed(_)), "{e}");
        let mut same_size = bytes.clone();
        same_size[512] = b'X';
        std::fs::write(&path, &same_size).unwrap();
        let e = verify(&path, &seal, "k", "deps", Contents::Install).unwrap_err();
        assert!(e.to_string().contains("its digest is"), "{e}");
    }

    #[test]
    fn entries_no_install_writes_are_refused_even_when_sealed() {
        let dir = tempfile::tempdir().unwrap();
        let cases: &[(&[Entry], &str)] = &[
            (
                &[(
                    "app/../../tmp/x",
                    tar::EntryType::Regular,
                    b"x",
                    0o644,
                    None,
                )],
                "leads outside",
            ),
            (
                &[("/tmp/abs", tar::EntryType::Regular, b"x", 0o644, None)],
                "leads outside",
            ),
            (
                &[("bin/sh", tar::EntryType::Regular, b"x", 0o4755, None)],
                "setuid",
            ),
            (
                &[
                    ("app/x", tar::EntryType::Symlink, b"", 0o777, Some("/etc")),
                    ("app/x/passwd", tar::EntryType::Regular, b"x", 0o644, None),
                ],
                "through a symlink",
            ),
            (
                &[(
                    "app/l",
                    tar::EntryType::Link,
                    b"",
                    0o644,
                    Some("../../etc/shadow"),
                )],
                "hard link",
            ),
            (
                &[("dev/x", tar::EntryType::Char, b"", 0o644, None)],
                "device or FIFO",
            ),
        ];
        for (entries, why) in cases {
            let (path, seal) = sealed(dir.path(), &tar_of(entries));
            let e = verify(&path, &seal, "k", "deps", Contents::Install).unwrap_err();
            assert!(e.to_string().contains(why), "{why}: {e}");
        }
        for (entries, why) in [
            (
                &[(
                    "etc/poisoned",
                    tar::EntryType::Regular,
                    b"x" as &[u8],
                    0o644,
                    None,
                )][..],
                "outside /app",
            ),
            (
                &[(
                    "app/.wh.x",
                    tar::EntryType::Regular,
                    b"" as &[u8],
                    0o644,
                    None,
                )][..],
                "whiteout",
            ),
        ] {
            let (path, _) = sealed(dir.path(), &tar_of(entries));
            let bytes = std::fs::read(&path).unwrap();
            let digest = format!("sha256:{}", hex::encode(Sha256::digest(&bytes)));
            let seal = Seal::new("k", "app", &digest, bytes.len() as u64);
            let e = verify(&path, &seal, "k", "app", Contents::App).unwrap_err();
            assert!(e.to_string().contains(why), "{why}: {e}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("deps.tar");
        let ok = std::process::Command::new("mkfifo")
            .arg(&path)
            .status()
            .unwrap()
            .success();
        assert!(ok);
        let seal = Seal::new("k", "deps", "sha256:00", 0);
        let e = verify(&path, &seal, "k", "deps", Contents::Install).unwrap_err();
        assert_eq!(e, Unusable::NotRegular("a FIFO, socket or device"));
    }
}
