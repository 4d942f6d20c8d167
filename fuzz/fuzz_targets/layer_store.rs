//! A layer directory the build did not write itself (a CI cache restored from elsewhere, a copy
//! cut short): each kept file (`deps.tar`, `deps.diffid`, `app.tar`, `app.diffid`) may be
//! missing, damaged or hold anything. The build finds the kept layers, reads dependency manifests
//! from the /app snapshot and writes the dependency layer's `docker load` archive.
//!
//! A tar is either raw bytes or built from entries and then damaged (cut short, a byte changed),
//! and a diff id is usually a digest: random bytes would almost never get past the checks that
//! come first.
#![no_main]

use apprunner_build::engine::fuzzing;
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct LayerDir {
    deps_tar: Option<Tar>,
    deps_diffid: Option<DiffId>,
    app_tar: Option<Tar>,
    app_diffid: Option<DiffId>,
    /// Manifests an install over the snapshot reads, relative to /app: an entry's name (by
    /// index) or any text.
    names: Vec<Name>,
}

#[derive(Debug, Arbitrary)]
enum Tar {
    Raw(Vec<u8>),
    Built {
        entries: Vec<Entry>,
        /// Where the file is cut short.
        cut: Option<u16>,
        /// A byte changed: at, to.
        changed: Option<(u16, u8)>,
    },
}

#[derive(Debug, Arbitrary)]
struct Entry {
    path: String,
    /// Picks the entry type among those a layer holds.
    kind: u8,
    data: Vec<u8>,
    link: String,
    mode: u32,
}

#[derive(Debug, Arbitrary)]
enum DiffId {
    Digest([u8; 32]),
    Raw(Vec<u8>),
}

#[derive(Debug, Arbitrary)]
enum Name {
    Entry(u8),
    Text(String),
}

/// A key as the build makes them: a sha256 in hex.
const KEY: &str = "5e1f0c4fb1a3c0a7e8e4b0d9c6a2f3e1d4c5b6a79880716253443526170819aa";
/// The most of a manifest that is read, as the build's cap.
const FILE_CAP: u64 = 4 * 1024 * 1024;

fuzz_target!(|input: LayerDir| {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let key_dir = dir.path().join(&KEY[..32]);
    std::fs::create_dir_all(&key_dir).expect("the key's directory");
    let mut app_paths = Vec::new();
    for (name, tar) in [("deps.tar", &input.deps_tar), ("app.tar", &input.app_tar)] {
        if let Some(tar) = tar {
            let bytes = tar_bytes(tar);
            std::fs::write(key_dir.join(name), bytes).expect("a kept tar is written");
        }
    }
    if let Some(Tar::Built { entries, .. }) = &input.app_tar {
        app_paths = entries.iter().map(|e| e.path.clone()).collect();
    }
    for (name, id) in [
        ("deps.diffid", &input.deps_diffid),
        ("app.diffid", &input.app_diffid),
    ] {
        if let Some(id) = id {
            let bytes = match id {
                DiffId::Digest(d) => format!("sha256:{}\n", hex(d)).into_bytes(),
                DiffId::Raw(raw) => raw.clone(),
            };
            std::fs::write(key_dir.join(name), bytes).expect("a diff id is written");
        }
    }
    let names: Vec<String> = input
        .names
        .into_iter()
        .take(4)
        .map(|n| match n {
            Name::Entry(i) if !app_paths.is_empty() => {
                let path = &app_paths[usize::from(i) % app_paths.len()];
                path.trim_start_matches("app/").to_string()
            }
            Name::Entry(_) => String::new(),
            Name::Text(text) => text,
        })
        .collect();
    let found = fuzzing::read_kept_layers(dir.path(), KEY, "/app", &names, FILE_CAP);
    for diff_id in [&found.deps, &found.app].into_iter().flatten() {
        // The id goes into the image config and names the layer's path in the archive.
        assert!(
            diff_id
                .strip_prefix("sha256:")
                .is_some_and(|hex| hex.len() == 64
                    && hex
                        .bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))),
            "a kept layer was taken with the diff id {diff_id:?}"
        );
    }
    if let Some(Ok(files)) = &found.files {
        for (_, bytes) in files {
            assert!(bytes.as_ref().is_none_or(|b| b.len() as u64 <= FILE_CAP));
        }
    }
});

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn tar_bytes(tar: &Tar) -> Vec<u8> {
    let (entries, cut, changed) = match tar {
        Tar::Raw(bytes) => return bytes.clone(),
        Tar::Built {
            entries,
            cut,
            changed,
        } => (entries, cut, changed),
    };
    let mut builder = tar::Builder::new(Vec::new());
    for entry in entries.iter().take(8) {
        let kind = [
            tar::EntryType::Regular,
            tar::EntryType::Directory,
            tar::EntryType::Symlink,
            tar::EntryType::Link,
            tar::EntryType::Char,
            tar::EntryType::Fifo,
        ][usize::from(entry.kind) % 6];
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(kind);
        header.set_mode(entry.mode);
        header.set_mtime(0);
        // Names and targets the builder refuses (`..`, too long for a header) are left out.
        let written = match kind {
            tar::EntryType::Symlink | tar::EntryType::Link => {
                header.set_size(0);
                builder.append_link(&mut header, &entry.path, &entry.link)
            }
            _ => {
                header.set_size(entry.data.len() as u64);
                builder.append_data(&mut header, &entry.path, &entry.data[..])
            }
        };
        let _ = written;
    }
    let mut bytes = builder.into_inner().unwrap_or_default();
    if let Some((at, to)) = changed {
        if !bytes.is_empty() {
            let at = usize::from(*at) % bytes.len();
            bytes[at] = *to;
        }
    }
    if let Some(cut) = cut {
        bytes.truncate(usize::from(*cut));
    }
    bytes
}
