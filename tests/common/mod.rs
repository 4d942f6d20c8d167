//! Helpers shared by the integration tests.
#![allow(dead_code)]

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
pub fn load(dir: &Path) -> Loaded {
    load_args(ProjectArgs {
        dir: dir.to_path_buf(),
        ..Default::default()
    })
}

pub fn load_args(args: ProjectArgs) -> Loaded {
    // Paths shown relative to the directory, so messages read `apprunner.yaml:3:5` as a user
    // running inside it would see them.
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

/// A minimal valid apprunner.yaml with `extra` appended under `run:`.
pub const MINIMAL: &str = "version: 1.0\nruntime: python311\nbuild:\n  commands:\n    build:\n      - pip install -r requirements.txt\nrun:\n  command: python server.py\n";
