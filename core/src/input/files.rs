//! Reading a file of the project (apprunner.yaml, package.json, a version file, `.dockerignore`,
//! …): the repository may be anybody's (a pull request from a fork), so a file is read only when
//! it is a regular file inside the source root, and never more than a cap. A symlink to a file
//! inside the root is fine; one that leads out of it (`.nvmrc -> /proc/self/environ`) is refused
//! without reading, as are directories, FIFOs, sockets and devices, which could hang the tool or
//! feed it without end. Messages about a refused file never quote what it holds.
//!
//! [`ProjectFiles`] is the project as the rest of the tool sees it: every reader (the
//! configuration, detection, the plan's checks) asks it, so each file is read at most once and
//! `.dockerignore` is parsed once.

use super::dockerignore::IgnoreRules;
use super::git_ignore::GitIgnore;
use crate::report::codes;
use crate::report::diagnostic::{Diagnostic, Location};
use std::cell::{OnceCell, RefCell};
use std::collections::HashMap;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// The most of a `.dockerignore` that is read. 1 MiB, the cap the source walk always had: a
/// larger file failed every build, so the plan's larger manifest cap never decided anything.
pub const DOCKERIGNORE_CAP: u64 = 1024 * 1024;

/// The files of one source root, read on demand and kept: a file asked for twice (package.json
/// by the configuration, detection and the plan's checks) is read once, and so is a file that
/// is absent or refused. Each caller still gets its own cap: a file read under a larger cap is
/// refused to a caller with a smaller one as if that caller had read it.
#[derive(Debug)]
pub struct ProjectFiles {
    root: PathBuf,
    shown_root: PathBuf,
    read: RefCell<HashMap<String, Outcome>>,
    ignore: OnceCell<Result<IgnoreRules, Diagnostic>>,
    /// Git's rules, when what git ignores is left out: such a file is absent to every reader.
    git: Option<RefCell<GitIgnore>>,
}

/// What reading one file gave: its bytes, nothing there, or why it was not read.
type Outcome = Result<Option<Vec<u8>>, Refusal>;

impl ProjectFiles {
    /// The files under `root`, named in messages as under `shown_root`.
    pub fn new(root: &Path, shown_root: &Path) -> Self {
        Self {
            root: root.to_path_buf(),
            shown_root: shown_root.to_path_buf(),
            read: RefCell::default(),
            ignore: OnceCell::new(),
            git: None,
        }
    }

    /// Leave out what git ignores, when the root is in a git work tree (App Runner builds the
    /// committed tree, where such files are not): they are absent to every reader.
    pub fn leave_out_git_ignored(&mut self) {
        self.git = GitIgnore::for_root(&self.root).map(RefCell::new);
    }

    /// Whether git-ignored files are left out (the root is in a git work tree).
    pub fn leaves_out_git_ignored(&self) -> bool {
        self.git.is_some()
    }

    fn git_ignores(&self, name: impl AsRef<Path>) -> bool {
        self.git
            .as_ref()
            .is_some_and(|git| git.borrow_mut().ignores(name.as_ref()))
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn shown_root(&self) -> &Path {
        &self.shown_root
    }

    /// The bytes of `name`, with the checks of [`read_project_bytes`]; `Ok(None)` when absent.
    pub fn bytes(&self, name: &str, cap: u64) -> Outcome {
        let kept = self.read.borrow().get(name).map(|found| match found {
            Ok(Some(bytes)) if bytes.len() as u64 > cap => Some(Err(Refusal::TooLarge { cap })),
            // Larger than a cap at least this one: no need to look again.
            Err(Refusal::TooLarge { cap: over }) if cap <= *over => {
                Some(Err(Refusal::TooLarge { cap }))
            }
            // Too large for a smaller cap, which read nothing of it: this one may take it.
            Err(Refusal::TooLarge { .. }) => None,
            other => Some(other.clone()),
        });
        if let Some(Some(found)) = kept {
            return found;
        }
        if self.git_ignores(name) {
            return Ok(None);
        }
        let found = read_project_bytes(&self.root, name, cap);
        self.read
            .borrow_mut()
            .insert(name.to_string(), found.clone());
        found
    }

    /// The text of `name`: [`Self::bytes`], which must be UTF-8.
    pub fn text(&self, name: &str, cap: u64) -> Result<Option<String>, Refusal> {
        let Some(bytes) = self.bytes(name, cap)? else {
            return Ok(None);
        };
        String::from_utf8(bytes)
            .map(Some)
            .map_err(|e| Refusal::NotUtf8 {
                offset: e.utf8_error().valid_up_to(),
            })
    }

    /// [`Self::text`], a refusal as the located error that names the file (`shown_root/name`).
    pub fn file(&self, name: &str, cap: u64) -> Result<Option<String>, Diagnostic> {
        self.text(name, cap)
            .map_err(|r| r.diagnostic(&self.shown_root.join(name)))
    }

    /// What a file read only for hints holds: one that may not be read counts as absent.
    pub fn peek(&self, name: &str) -> Option<String> {
        self.text(name, HINT_CAP).ok().flatten()
    }

    /// Whether `name` is a file, as `Path::is_file` says (through symlinks): only looked at,
    /// never read.
    pub fn is_file(&self, name: impl AsRef<Path>) -> bool {
        !self.git_ignores(&name) && self.root.join(name).is_file()
    }

    /// Whether `name` is a directory, as `Path::is_dir` says (through symlinks).
    pub fn is_dir(&self, name: impl AsRef<Path>) -> bool {
        !self.git_ignores(&name) && self.root.join(name).is_dir()
    }

    /// The entries of the directory `dir` (from the root; "" for the root itself), by name, each
    /// with its type (a symlink as a symlink, never followed); what git ignores is not among
    /// them. A directory that cannot be listed has none.
    pub fn entries(&self, dir: &str) -> Vec<(String, fs::FileType)> {
        let Ok(listing) = fs::read_dir(self.root.join(dir)) else {
            return vec![];
        };
        let mut entries: Vec<(String, fs::FileType)> = listing
            .flatten()
            .filter_map(|e| {
                Some((
                    e.file_name().to_string_lossy().into_owned(),
                    e.file_type().ok()?,
                ))
            })
            .filter(|(name, _)| !self.git_ignores(Path::new(dir).join(name)))
            .collect();
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        entries
    }

    /// Whether anything is at `name` (a symlink to nothing too): only looked at, never read.
    pub fn exists(&self, name: &str) -> bool {
        !self.git_ignores(name) && fs::symlink_metadata(self.root.join(name)).is_ok()
    }

    /// `.dockerignore`'s rules (none without one), parsed once; the located error when it is
    /// refused or holds a line that is no pattern.
    pub fn ignore_rules(&self) -> Result<&IgnoreRules, &Diagnostic> {
        self.ignore
            .get_or_init(|| {
                let name = ".dockerignore";
                let shown = self.shown_root.join(name);
                match self.text(name, DOCKERIGNORE_CAP) {
                    Ok(Some(text)) => IgnoreRules::parse(&text).map_err(|e| {
                        Diagnostic::error(codes::PROJECT_FILE_UNREADABLE, e.to_string())
                            .at(Location::file_line(&shown, e.line))
                            .with_help(
                                "fix the pattern or remove the line (Docker's .dockerignore rules)",
                            )
                    }),
                    Ok(None) => Ok(IgnoreRules::default()),
                    Err(refused) => Err(refused.diagnostic(&shown)),
                }
            })
            .as_ref()
    }
}

/// Kept with what was read: the same refusal for the next caller (an I/O error's kind and text).
impl Clone for Refusal {
    fn clone(&self) -> Self {
        match self {
            Refusal::Outside => Refusal::Outside,
            Refusal::NotRegular(what) => Refusal::NotRegular(what),
            Refusal::TooLarge { cap } => Refusal::TooLarge { cap: *cap },
            Refusal::Unreadable(e) => Refusal::Unreadable(io::Error::new(e.kind(), e.to_string())),
            Refusal::NotUtf8 { offset } => Refusal::NotUtf8 { offset: *offset },
        }
    }
}

/// Why a project file was not read.
#[derive(Debug)]
pub enum Refusal {
    /// A symlink (or a path through one) that leads outside the source root.
    Outside,
    /// A directory, FIFO, socket or device: what it is.
    NotRegular(&'static str),
    /// Larger than `cap` bytes.
    TooLarge {
        cap: u64,
    },
    Unreadable(io::Error),
    /// Not UTF-8 at this byte offset (only when text was asked for).
    NotUtf8 {
        offset: usize,
    },
}

impl Refusal {
    /// The located error for the file shown to the user as `shown`.
    pub fn diagnostic(&self, shown: &Path) -> Diagnostic {
        let name = shown.display();
        let d = match self {
            Refusal::Outside => Diagnostic::error(
                codes::PROJECT_FILE_OUTSIDE,
                format!("`{name}` is a symlink that leads outside the source directory: it is not read"),
            )
            .with_note("App Runner builds from the repository alone, where such a link leads nowhere")
            .with_help("put the file itself in the source directory (a symlink to a file inside it is fine)"),
            Refusal::NotRegular(what) => Diagnostic::error(
                codes::PROJECT_FILE_NOT_REGULAR,
                format!("`{name}` is {what}, not a regular file: it is not read"),
            )
            .with_help("replace it with a regular file, or remove it"),
            Refusal::TooLarge { cap } => Diagnostic::error(
                codes::PROJECT_FILE_TOO_LARGE,
                format!(
                    "`{name}` is larger than {} ({cap} bytes), the most apprunner-build reads of it: it is not read",
                    human_size(*cap)
                ),
            )
            .with_help("check that this is the file you meant"),
            Refusal::Unreadable(e) => Diagnostic::error(
                codes::PROJECT_FILE_UNREADABLE,
                format!("cannot read `{name}`: {e}"),
            ),
            Refusal::NotUtf8 { offset } => Diagnostic::error(
                codes::PROJECT_FILE_UNREADABLE,
                format!("`{name}` is not UTF-8 text (an invalid byte at offset {offset})"),
            )
            .with_help("save the file as UTF-8"),
        };
        d.at(Location::file(shown))
    }
}

/// `1 MiB`, `64 KiB`, or bytes.
pub fn human_size(bytes: u64) -> String {
    const KIB: u64 = 1024;
    match bytes {
        b if b >= KIB * KIB && b % (KIB * KIB) == 0 => format!("{} MiB", b / (KIB * KIB)),
        b if b >= KIB && b % KIB == 0 => format!("{} KiB", b / KIB),
        b => format!("{b} bytes"),
    }
}

/// How much of a file read for hints is read.
pub const HINT_CAP: u64 = 1024 * 1024;

/// The bytes of `name` (relative to `root`); `Ok(None)` when there is no such file (nor anything
/// at that path; a symlink to nothing is nothing). Refused when it leads outside the root, is not
/// a regular file, or is larger than `cap` bytes.
pub fn read_project_bytes(root: &Path, name: &str, cap: u64) -> Result<Option<Vec<u8>>, Refusal> {
    let path = root.join(name);
    match fs::symlink_metadata(&path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Refusal::Unreadable(e)),
        Ok(_) => {}
    }
    // Every link on the way resolved, the last component's too.
    let real = match fs::canonicalize(&path) {
        Ok(p) => p,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Refusal::Unreadable(e)),
    };
    let real_root = fs::canonicalize(root).map_err(Refusal::Unreadable)?;
    if !real.starts_with(&real_root) {
        return Err(Refusal::Outside);
    }
    // Looked at before it is opened: opening a FIFO or a device may block or act.
    let meta = fs::metadata(&real).map_err(Refusal::Unreadable)?;
    regular(&meta)?;
    if meta.len() > cap {
        return Err(Refusal::TooLarge { cap });
    }
    let file = open(&real).map_err(Refusal::Unreadable)?;
    // What was opened, in case it is no longer what was looked at.
    regular(&file.metadata().map_err(Refusal::Unreadable)?)?;
    let mut bytes = Vec::new();
    file.take(cap.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(Refusal::Unreadable)?;
    if bytes.len() as u64 > cap {
        return Err(Refusal::TooLarge { cap });
    }
    Ok(Some(bytes))
}

/// Opened without following a symlink and without blocking, whatever is there by now.
#[cfg(unix)]
fn open(path: &Path) -> io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
}

#[cfg(not(unix))]
fn open(path: &Path) -> io::Result<fs::File> {
    fs::File::open(path)
}

fn regular(meta: &fs::Metadata) -> Result<(), Refusal> {
    let ft = meta.file_type();
    if ft.is_file() {
        return Ok(());
    }
    if ft.is_dir() {
        return Err(Refusal::NotRegular("a directory"));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return Err(Refusal::NotRegular("a FIFO (named pipe)"));
        }
        if ft.is_socket() {
            return Err(Refusal::NotRegular("a socket"));
        }
        if ft.is_block_device() || ft.is_char_device() {
            return Err(Refusal::NotRegular("a device"));
        }
    }
    Err(Refusal::NotRegular("not a regular file"))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;
    use std::time::{Duration, Instant};

    fn mkfifo(path: &Path) {
        let ok = std::process::Command::new("mkfifo")
            .arg(path)
            .status()
            .unwrap()
            .success();
        assert!(ok, "mkfifo {}", path.display());
    }

    fn read(root: &Path, name: &str) -> Result<Option<String>, String> {
        ProjectFiles::new(root, Path::new(""))
            .file(name, 64)
            .map_err(|d| {
                format!(
                    "{} {} @ {}",
                    d.code,
                    d.message,
                    d.location.unwrap().path.display()
                )
            })
    }

    #[test]
    fn regular_files_and_links_inside_the_root_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join(".nvmrc"), "22\n").unwrap();
        std::fs::create_dir(root.join("conf")).unwrap();
        std::fs::write(root.join("conf/version"), "20\n").unwrap();
        symlink("conf/version", root.join(".python-version")).unwrap();
        symlink("conf", root.join("cfg")).unwrap();
        assert_eq!(read(root, ".nvmrc").unwrap().as_deref(), Some("22\n"));
        assert_eq!(
            read(root, ".python-version").unwrap().as_deref(),
            Some("20\n")
        );
        assert_eq!(read(root, "cfg/version").unwrap().as_deref(), Some("20\n"));
        assert_eq!(read(root, "runtime.txt").unwrap(), None);
        symlink("nowhere", root.join("dangling")).unwrap();
        assert_eq!(read(root, "dangling").unwrap(), None);
    }

    #[test]
    fn links_out_of_the_root_are_refused_unread() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "TOKEN=hunter2\n").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        symlink("/proc/self/environ", root.join(".nvmrc")).unwrap();
        symlink(outside.path().join("secret"), root.join("runtime.txt")).unwrap();
        symlink(outside.path(), root.join("out")).unwrap();
        symlink(
            "../../../../../../../../../etc/passwd",
            root.join("Procfile"),
        )
        .unwrap();
        for name in [".nvmrc", "runtime.txt", "out/secret", "Procfile"] {
            let e = read(root, name).unwrap_err();
            assert!(e.starts_with("AR313 "), "{name}: {e}");
            assert!(e.contains(&format!("`{name}`")) && e.ends_with(name), "{e}");
            assert!(!e.contains("hunter2") && !e.contains("PATH="), "{e}");
        }
    }

    #[test]
    fn fifos_devices_and_directories_are_refused_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        mkfifo(&root.join("package.json"));
        symlink("package.json", root.join("apprunner.yaml")).unwrap();
        std::fs::create_dir(root.join("Pipfile")).unwrap();
        let started = Instant::now();
        for name in ["package.json", "apprunner.yaml"] {
            let e = read(root, name).unwrap_err();
            assert!(e.starts_with("AR314 "), "{e}");
            assert!(e.contains("a FIFO (named pipe)"), "{e}");
        }
        assert!(read(root, "Pipfile").unwrap_err().contains("a directory"));
        assert!(started.elapsed() < Duration::from_secs(5));
        // A device inside the root: opened, it would read without end.
        let e = read_project_bytes(Path::new("/dev"), "zero", 64).unwrap_err();
        assert!(matches!(e, Refusal::NotRegular("a device")), "{e:?}");
    }

    #[test]
    fn files_over_the_cap_are_refused_and_text_must_be_utf8() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("big"), "x".repeat(65)).unwrap();
        std::fs::write(root.join("fits"), "x".repeat(64)).unwrap();
        std::fs::write(root.join("latin1"), b"caf\xe9").unwrap();
        let e = read(root, "big").unwrap_err();
        assert!(e.starts_with("AR315 ") && e.contains("64 bytes"), "{e}");
        assert_eq!(read(root, "fits").unwrap().unwrap().len(), 64);
        let e = read(root, "latin1").unwrap_err();
        assert!(e.starts_with("AR316 ") && e.contains("offset 3"), "{e}");
    }

    /// What `.dockerignore` gives the reader: its rules, or the error that names it.
    fn ignore_error(root: &Path) -> String {
        let files = ProjectFiles::new(root, Path::new(""));
        let e = files.ignore_rules().unwrap_err();
        format!("{} {}", e.code, e.message)
    }

    #[test]
    fn a_dockerignore_that_leads_out_of_the_root_or_is_a_fifo_is_refused_unread() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("env"), "AWS_SECRET_ACCESS_KEY=abc[\n").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("server.py"), "").unwrap();
        symlink(outside.path().join("env"), root.join(".dockerignore")).unwrap();
        let e = ignore_error(root);
        assert!(
            e.contains("`.dockerignore` is a symlink that leads outside the source directory"),
            "{e}"
        );
        assert!(!e.contains("AWS_SECRET"), "{e}");
        std::fs::remove_file(root.join(".dockerignore")).unwrap();
        mkfifo(&root.join(".dockerignore"));
        let e = ignore_error(root);
        assert!(e.contains("`.dockerignore` is a FIFO"), "{e}");
    }

    #[test]
    fn a_bad_dockerignore_line_is_not_quoted() {
        let dir = tempfile::tempdir().unwrap();
        let line = format!("SECRET_VALUE_{}[", "x".repeat(10_000));
        std::fs::write(dir.path().join(".dockerignore"), format!("*.pyc\n{line}\n")).unwrap();
        let files = ProjectFiles::new(dir.path(), Path::new("app"));
        let d = files.ignore_rules().unwrap_err();
        let e = &d.message;
        assert!(e.starts_with(".dockerignore line 2: "), "{e}");
        assert!(!e.contains("SECRET_VALUE") && e.len() < 200, "{e}");
        let at = d.location.as_ref().unwrap();
        assert_eq!(at.path, Path::new("app/.dockerignore"));
        assert_eq!(at.position.map(|p| p.line), Some(2));
    }

    #[test]
    fn each_file_is_read_once_and_each_caller_keeps_its_cap() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("package.json"), "x".repeat(100)).unwrap();
        let files = ProjectFiles::new(root, Path::new(""));
        assert_eq!(
            files.text("package.json", 1000).unwrap().unwrap().len(),
            100
        );
        assert_eq!(files.text("nothing", 1000).unwrap(), None);
        // Gone from the disk: what was read (and found absent) is what the next caller gets.
        std::fs::remove_file(root.join("package.json")).unwrap();
        std::fs::write(root.join("nothing"), "now here").unwrap();
        assert_eq!(
            files.text("package.json", 1000).unwrap().unwrap().len(),
            100
        );
        assert_eq!(files.text("nothing", 1000).unwrap(), None);
        assert!(matches!(
            files.text("package.json", 64),
            Err(Refusal::TooLarge { cap: 64 })
        ));
        // Too large for a small cap, which read nothing of it: a larger one reads it.
        std::fs::write(root.join("big"), "x".repeat(100)).unwrap();
        assert!(matches!(
            files.bytes("big", 10),
            Err(Refusal::TooLarge { cap: 10 })
        ));
        assert!(matches!(
            files.bytes("big", 50),
            Err(Refusal::TooLarge { cap: 50 })
        ));
        assert_eq!(files.bytes("big", 100).unwrap().unwrap().len(), 100);
    }
}
