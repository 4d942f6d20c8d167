//! A project without apprunner.yaml: its runtime comes from a version file, and that file is the
//! one changed: `engines.node` in package.json, `.nvmrc`, `.node-version`, `.python-version` or
//! `runtime.txt`, the first that the project has, in the order detection reads them.

use super::Edit;
use super::{at_precision, engines, FileChange, Upgrade};
use crate::input::files::ProjectFiles;
use crate::input::package_json::PackageJson;
use crate::report::codes;
use crate::report::diagnostic::{Diagnostic, Location};
use crate::resolve::catalog::{Language, Runtime};
use std::path::Path;

/// The most of a version file that is read.
const VERSION_FILE_CAP: u64 = 64 * 1024;

pub(super) fn edit(
    files: &ProjectFiles,
    root: &Path,
    from: &Runtime,
    to: &Runtime,
    upgrade: &mut Upgrade,
) {
    let Some(latest) = to.latest().map(|v| v.version.clone()) else {
        return;
    };
    let why = match from.end_of_support {
        Some(date) => format!("{} reached end of support on {date}", from.name),
        None => format!("{} is not App Runner's supported runtime", from.name),
    };
    if to.language == Language::Nodejs {
        if let Ok(Some(package)) = PackageJson::read(files, files.shown_root()) {
            if let Some(range) = package.engines_node() {
                let proposed = engines::proposed_range(range, &latest)
                    .unwrap_or_else(|| format!("{}.x", latest.major));
                if let Some(at) = engines::engines_value(&package.source.text) {
                    upgrade.files.push(FileChange {
                        path: root.join("package.json"),
                        shown: package.source.path.clone(),
                        before: package.source.text.to_string(),
                        edits: vec![Edit {
                            range: at,
                            replacement: proposed.clone(),
                            reason: format!(
                                "engines.node \"{range}\" → \"{proposed}\" ({}): {why}",
                                to.name
                            ),
                        }],
                    });
                }
                return;
            }
        }
    }
    let names: &[&str] = match to.language {
        Language::Nodejs => &[".nvmrc", ".node-version"],
        Language::Python => &[".python-version", "runtime.txt"],
    };
    for name in names {
        let Ok(Some(text)) = files.text(name, VERSION_FILE_CAP) else {
            continue;
        };
        let shown = files.shown_root().join(name);
        // The first line holds the version; the rest (comments, other lines) stays.
        let first = text.lines().next().unwrap_or("");
        let start = first.len() - first.trim_start().len();
        let token = first.trim();
        let (prefix, version) = split_prefix(token);
        let Some(new) = at_precision(version, &latest) else {
            upgrade.diagnostics.push(
                Diagnostic::warning(
                    codes::UPGRADE_BY_HAND,
                    format!(
                        "{name} holds `{token}`, which upgrade cannot rewrite as a {} version",
                        to.name
                    ),
                )
                .at(Location::file_line(&shown, 1))
                .with_help(format!(
                    "write {} in it",
                    at_precision("1.2", &latest).unwrap_or_default()
                )),
            );
            return;
        };
        let replacement = format!("{prefix}{new}");
        upgrade.files.push(FileChange {
            path: root.join(name),
            shown,
            before: text.clone(),
            edits: vec![Edit {
                range: start..start + token.len(),
                replacement: replacement.clone(),
                reason: format!("{name} {token} → {replacement} ({}): {why}", to.name),
            }],
        });
        return;
    }
    upgrade.diagnostics.push(Diagnostic::warning(
        codes::UPGRADE_BY_HAND,
        format!(
            "the runtime ({}) does not come from a file upgrade changes (engines.node, .nvmrc, .node-version, .python-version, runtime.txt)",
            from.name
        ),
    ).with_help(format!("set the version where the project asks for it, or write a version file for {}", to.name)));
}

/// `v16` → (`v`, `16`); `python-3.8.16` → (`python-`, `3.8.16`).
fn split_prefix(token: &str) -> (&str, &str) {
    let at = token
        .find(|c: char| c.is_ascii_digit())
        .unwrap_or(token.len());
    token.split_at(at)
}
