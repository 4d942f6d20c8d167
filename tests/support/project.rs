//! Projects on disk and loaded the way the command line loads them: temporary app directories, the
//! fixture apps and the guide's example.

use apprunner_build::project::{self, Loaded, ProjectArgs};
use apprunner_build::report::errors;
use apprunner_build::resolve::catalog::Catalog;
use std::path::{Path, PathBuf};

/// A fixed "today" so end-of-support remarks do not change with the calendar.
pub fn today() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
}

/// Write `files` (path, contents) into a fresh temporary directory.
pub fn project_dir(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, contents) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, contents).unwrap();
    }
    dir
}

/// Load a project the way `apprunner-build validate DIR` does, with paths shown relative to DIR.
/// Git's rules are not applied: a fixture is the same plan whether or not the tests run from a
/// git checkout (the tests of git's rules make work trees of their own).
pub fn load(dir: &Path) -> Loaded {
    load_args(ProjectArgs {
        dir: dir.to_path_buf(),
        include_git_ignored: true,
        ..Default::default()
    })
}

pub fn load_args(args: ProjectArgs) -> Loaded {
    // Paths shown relative to the directory, so messages read `apprunner.yaml:3:5` as a user
    // running inside it would see them; the working directory is never changed.
    let args = ProjectArgs {
        shown_dir: Some(PathBuf::new()),
        ..args
    };
    project::load(&args, &Catalog::shipped(), today())
}

/// Everything the user would read on stderr.
pub fn report(loaded: &Loaded) -> String {
    errors::render_all(&loaded.diagnostics)
}

/// A minimal valid apprunner.yaml.
pub const MINIMAL: &str = "version: 1.0\nruntime: python311\nbuild:\n  commands:\n    build:\n      - pip install -r requirements.txt\nrun:\n  command: python server.py\n";

/// [`project_dir`] for text files.
pub fn write_app(files: &[(&str, &str)]) -> tempfile::TempDir {
    let bytes: Vec<(&str, &[u8])> = files.iter().map(|(p, t)| (*p, t.as_bytes())).collect();
    project_dir(&bytes)
}

/// A copy of the tree at `dir` (files, directories, symlinks as symlinks) in a new temporary
/// directory.
pub fn copy_tree(dir: &Path) -> tempfile::TempDir {
    fn copy(from: &Path, to: &Path) {
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let (src, dst) = (entry.path(), to.join(entry.file_name()));
            let kind = entry.file_type().unwrap();
            if kind.is_symlink() {
                std::os::unix::fs::symlink(std::fs::read_link(&src).unwrap(), &dst).unwrap();
            } else if kind.is_dir() {
                std::fs::create_dir(&dst).unwrap();
                copy(&src, &dst);
            } else {
                std::fs::copy(&src, &dst).unwrap();
            }
        }
    }
    let out = tempfile::tempdir().unwrap();
    copy(dir, out.path());
    out
}

/// A fixture app of tests/fixtures/apps.
pub fn app_fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/apps")
        .join(name)
}

/// A copy of a fixture app's files (top level only), with `extra` files added or replaced.
pub fn copy_app(dir: &Path, extra: &[(&str, &str)]) -> tempfile::TempDir {
    let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_file())
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read_to_string(e.path()).unwrap(),
            )
        })
        .collect();
    for (name, text) in extra {
        match files.iter_mut().find(|(n, _)| n == name) {
            Some(f) => f.1 = text.to_string(),
            None => files.push((name.to_string(), text.to_string())),
        }
    }
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    write_app(&refs)
}

/// The App Runner guide's Python example, `examples/python-hello`.
pub fn example() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/python-hello"
    ))
}
