//! `.dockerignore`: the patterns (before the first NUL byte) and paths to match (after it, one a
//! line). The rules are read and matched as the source walk and the plan's dependency layers
//! match them; then a project holding those paths is archived as `/app`, and no file in the
//! archive may be one the rules exclude.
#![no_main]

use apprunner_build::engine::source;
use apprunner_build::input::dockerignore::IgnoreRules;
use apprunner_build::input::files::ProjectFiles;
use apprunner_build::plan::layers::{self, Tree};
use libfuzzer_sys::fuzz_target;
use std::path::{Path, PathBuf};

/// Enough paths to make nested and sibling cases; more would only slow each run.
const MAX_PATHS: usize = 8;

fuzz_target!(|data: &[u8]| {
    let (patterns, paths) = match data.iter().position(|b| *b == 0) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    let Ok(patterns) = std::str::from_utf8(patterns) else {
        return;
    };
    let Ok(rules) = IgnoreRules::parse(patterns) else {
        return;
    };
    let paths: Vec<String> = String::from_utf8_lossy(paths)
        .lines()
        .filter_map(plain_path)
        .take(MAX_PATHS)
        .collect();
    for path in &paths {
        let excluded = rules.excludes(path);
        let _ = rules.may_include_under(path);
        // What the walk asks of a directory it leaves out.
        if excluded {
            let _ = rules.may_include_under(path.rsplit_once('/').map_or(path, |(dir, _)| dir));
        }
    }

    let dir = tempfile::tempdir().expect("a temporary directory");
    let root = dir.path();
    std::fs::write(root.join(".dockerignore"), patterns).expect(".dockerignore is written");
    std::fs::write(root.join("requirements.txt"), "flask\n").expect("a manifest is written");
    for path in &paths {
        let file = root.join(path);
        // A path that is another's directory, or under another's file, is simply not made.
        if let Some(parent) = file.parent() {
            if std::fs::create_dir_all(parent).is_err() {
                continue;
            }
        }
        let _ = std::fs::write(&file, path);
    }
    let files = ProjectFiles::new(root, Path::new(""));
    let _ = layers::split(&files, &["pip install -r requirements.txt"], Tree::Source);

    let mut archive = Vec::new();
    let Ok(_summary) = source::write_tar(
        root,
        "app",
        source::SourceFilter::new(root, rules.clone(), false),
        &[],
        &mut archive,
    ) else {
        return;
    };
    let mut read = tar::Archive::new(&archive[..]);
    for entry in read.entries().expect("the archive just written is read") {
        let entry = entry.expect("an entry of the archive just written");
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = entry.path().expect("a path").to_string_lossy().into_owned();
        let rel = name
            .strip_prefix("app/")
            .expect("every entry is under app/");
        assert!(
            !rules.excludes(rel),
            "{rel} is in the archive, but .dockerignore excludes it"
        );
    }
});

/// A relative path of plain names (no `.`, `..` or empty part), short enough for a file system.
fn plain_path(line: &str) -> Option<String> {
    let parts: Vec<&str> = line
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    let plain = !parts.is_empty()
        && parts.len() <= 4
        && parts
            .iter()
            .all(|p| *p != ".." && *p != ".git" && p.len() <= 64 && !p.contains('\0'))
        // The rules themselves stay what was parsed.
        && parts != [".dockerignore"];
    plain.then(|| {
        parts
            .iter()
            .collect::<PathBuf>()
            .to_string_lossy()
            .into_owned()
    })
}
