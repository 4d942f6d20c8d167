//! Finding and reading `apprunner.yaml`: the checks that come before YAML parsing.

use crate::input::files;
use crate::input::files::ProjectFiles;
use crate::report::codes;
use crate::report::diagnostic::{Diagnostic, Diagnostics, Location, Position, SourceText};
use std::path::Path;

pub const CONFIG_FILE_NAME: &str = "apprunner.yaml";
/// App Runner's configuration files are small; anything bigger is a mistake (a wrong file, a binary).
pub const MAX_CONFIG_SIZE: u64 = 1024 * 1024;

/// A configuration file found in the source root and read as text.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    pub source: SourceText,
    /// Problems found before parsing that did not stop it (a BOM).
    pub found: Diagnostics,
}

/// Look for `apprunner.yaml` in `root`. `Ok(None)`: there is none (nor a misnamed one).
///
/// A misnamed file (`apprunner.yml`, `AppRunner.yaml`, …) is an error, and its contents are read
/// and checked all the same, so that every problem comes out in one run.
pub fn find_config(
    project: &ProjectFiles,
    shown_root: &Path,
) -> Result<Option<ConfigFile>, Diagnostics> {
    let path = project.root().join(CONFIG_FILE_NAME);
    // The directory listing, not `exists`, so that case-insensitive file systems don't fool us.
    let names = listing(project.root());
    // Anything by that name, so that a link out of the root or a FIFO is an error, not "absent".
    if (names.is_empty() || names.iter().any(|n| n == CONFIG_FILE_NAME))
        && std::fs::symlink_metadata(&path).is_ok()
    {
        let shown = shown_root.join(CONFIG_FILE_NAME);
        let mut file = read(project, CONFIG_FILE_NAME, &shown)?;
        for other in names.iter().filter(|n| is_misnamed(n)) {
            file.found.push(
                Diagnostic::warning(
                    codes::SECOND_CONFIG_FILE,
                    format!("`{other}` is ignored: App Runner reads `{CONFIG_FILE_NAME}`"),
                )
                .at(Location::file(&shown_root.join(other)))
                .with_help(format!(
                    "remove `{other}`, or merge what it holds into {}",
                    shown.display()
                )),
            );
        }
        return Ok(Some(file));
    }
    let Some(wrong) = names
        .iter()
        .find(|n| is_misnamed(n) && std::fs::symlink_metadata(project.root().join(n)).is_ok())
    else {
        return Ok(None);
    };
    let shown = shown_root.join(wrong);
    let target = shown_root.join(CONFIG_FILE_NAME);
    let mv = if inside_git_checkout(project.root()) {
        "git mv"
    } else {
        "mv"
    };
    let misnamed = Diagnostic::error(
        codes::CONFIG_MISNAMED,
        format!("found `{wrong}`, but App Runner reads only a file named `{CONFIG_FILE_NAME}`"),
    )
    .at(Location::file(&shown))
    .with_note("App Runner would ignore this file and use the settings of the service instead")
    .with_help(format!(
        "rename it: {mv} {} {}",
        shown.display(),
        target.display()
    ));
    match read(project, wrong, &shown) {
        Ok(mut file) => {
            file.found.0.insert(0, misnamed);
            Ok(Some(file))
        }
        Err(mut found) => {
            found.0.insert(0, misnamed);
            Err(found)
        }
    }
}

/// `apprunner.yml`, `AppRunner.yaml`, `apprunner.YML`: the name App Runner wants, spelt otherwise.
fn is_misnamed(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    name != CONFIG_FILE_NAME && (lower == CONFIG_FILE_NAME || lower == "apprunner.yml")
}

/// The directory's entry names, sorted so that the choice among several misnamed files is stable.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Whether `dir` is inside a git checkout: `.git` (a directory, or a file in a worktree) here or
/// in a parent.
fn inside_git_checkout(dir: &Path) -> bool {
    let start = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    start.ancestors().any(|d| d.join(".git").exists())
}

/// Read a configuration file (`name` in `root`, shown as `shown`): where it leads, what it is,
/// its size, encoding and indentation; every problem a located error.
pub fn read(project: &ProjectFiles, name: &str, shown: &Path) -> Result<ConfigFile, Diagnostics> {
    let fail = |d: Diagnostic| Err(Diagnostics(vec![d]));
    let here = Location::file(shown);
    let bytes = match project.bytes(name, MAX_CONFIG_SIZE) {
        Ok(Some(b)) => b,
        Ok(None) => {
            return fail(
                Diagnostic::error(
                    codes::CONFIG_UNREADABLE,
                    "cannot read the file: it is a symlink that leads to nothing",
                )
                    .at(here),
            )
        }
        Err(files::Refusal::TooLarge { .. }) => {
            return fail(
                Diagnostic::error(codes::CONFIG_TOO_LARGE, format!(
                    "the file is larger than 1 MiB; a configuration file may be at most 1 MiB ({MAX_CONFIG_SIZE} bytes)"
                ))
                .at(here)
                .with_help("check that this is the apprunner.yaml you meant; App Runner configuration files are a few lines"),
            )
        }
        Err(files::Refusal::Unreadable(e)) => {
            return fail(
                Diagnostic::error(
                    codes::CONFIG_UNREADABLE,
                    format!("cannot read the file: {e}"),
                )
                .at(here),
            )
        }
        Err(refused) => return fail(refused.diagnostic(shown)),
    };
    from_bytes(bytes, shown)
}

/// The checks [`read`] makes of a configuration file's bytes once they are read (shown to the
/// user as `shown`): encoding, BOM, emptiness and indentation (tabs, invisible spaces). The YAML itself is
/// [`super::parse`]'s. Public so that the bytes can be checked without a file (the fuzz targets).
pub fn from_bytes(bytes: Vec<u8>, shown: &Path) -> Result<ConfigFile, Diagnostics> {
    let fail = |d: Diagnostic| Err(Diagnostics(vec![d]));
    let here = Location::file(shown);
    // A BOM is reported, then skipped so that the rest of the file is still checked in the same run.
    let bom = bytes.starts_with(&[0xEF, 0xBB, 0xBF]);
    let bytes = if bom { bytes[3..].to_vec() } else { bytes };
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let good = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            // The valid prefix is UTF-8 by construction.
            let prefix = std::str::from_utf8(good).unwrap_or_default();
            let line = prefix.matches('\n').count() + 1;
            let column = prefix.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            let shown_text =
                SourceText::new(shown, String::from_utf8_lossy(e.as_bytes()).into_owned());
            return fail(
                Diagnostic::error(
                    codes::CONFIG_NOT_UTF8,
                    format!(
                        "the file is not valid UTF-8 (byte 0x{:02X} at offset {})",
                        e.as_bytes()[good.len()],
                        good.len()
                    ),
                )
                .at(Location::at(&shown_text, Position { line, column }, 1))
                .with_help("save the file as UTF-8; YAML files must be Unicode text"),
            );
        }
    };
    let source = SourceText::new(shown, text);
    if source.text.trim().is_empty()
        || source
            .text
            .lines()
            .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'))
    {
        return fail(
            Diagnostic::error(codes::CONFIG_EMPTY, "the file is empty")
                .at(here)
                .with_help("an apprunner.yaml needs at least `version`, `runtime`, `build.commands.build` and `run.command`")
                .with_note("minimal example:\n  version: 1.0\n  runtime: python311\n  build:\n    commands:\n      build:\n        - pip install -r requirements.txt\n  run:\n    command: python server.py"),
        );
    }
    let indentation = super::indentation::check(&source);
    // A Dockerfile's tabs are not the problem: parsing says what the file is.
    if indentation.has_errors() && super::foreign::dockerfile(&source).is_none() {
        return Err(indentation);
    }
    let mut found = Diagnostics::default();
    if bom {
        found.push(
            Diagnostic::error(codes::CONFIG_BOM, "the file starts with a byte-order mark (BOM)")
                .at(Location::at(&source, Position { line: 1, column: 1 }, 1))
                .with_note("App Runner's parser and many YAML tools reject or misread it")
                .with_help("save the file as UTF-8 without a BOM (most editors call it \"UTF-8\", not \"UTF-8 with BOM\")"),
        );
    }
    Ok(ConfigFile { source, found })
}
