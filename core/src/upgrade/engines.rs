//! `engines.node` in package.json against the runtime `upgrade` moves to: a range the new version
//! does not satisfy is reported with both origins, and the edit that fixes it is proposed in the
//! diff (written with `--write`, like the rest).

use super::{at_precision, Edit, FileChange, Upgrade};
use crate::input::files::ProjectFiles;
use crate::input::package_json::PackageJson;
use crate::report::codes;
use crate::report::diagnostic::Diagnostic;
use crate::resolve::catalog::{Language, Runtime};
use node_semver::{Range, Version};
use std::path::Path;

pub(super) fn check(
    files: &ProjectFiles,
    root: &Path,
    to: &Runtime,
    version: &Version,
    origin: &str,
    upgrade: &mut Upgrade,
) {
    if to.language != Language::Nodejs {
        return;
    }
    let Ok(Some(package)) = PackageJson::read(files, files.shown_root()) else {
        return;
    };
    let Some(range_text) = package.engines_node().map(str::to_string) else {
        return;
    };
    let Some(Ok(request)) = package.node_request() else {
        return;
    };
    if request.allows(version) {
        return;
    }
    let proposed = proposed_range(&range_text, version);
    let mut d = Diagnostic::warning(
        codes::UPGRADE_ENGINES_CONFLICT,
        format!(
            "engines.node `{range_text}` in package.json does not allow {} {version}, which {origin} resolves to",
            to.name
        ),
    )
    .at_opt(request.location.clone())
    .with_note(format!("{}; {origin}", request.origin));
    match &proposed {
        Some(p) => d = d.with_help(format!("the diff sets engines.node to \"{p}\"")),
        None => {
            d = d.with_help(format!(
                "change engines.node to a range that allows {version}"
            ))
        }
    }
    upgrade.diagnostics.push(d);
    let Some(proposed) = proposed else {
        return;
    };
    if let Some(range) = engines_value(&package.source.text) {
        upgrade.files.push(FileChange {
            path: root.join("package.json"),
            shown: package.source.path.clone(),
            before: package.source.text.to_string(),
            edits: vec![Edit {
                range,
                replacement: proposed.clone(),
                reason: format!(
                    "engines.node \"{range_text}\" → \"{proposed}\": the old range does not allow {} {version}",
                    to.name
                ),
            }],
        });
    }
}

/// The range moved to `version`, keeping its form: `16.x` → `22.x`, `^16.14.0` → `^22.21.1`,
/// `>=16 <17` → `22.x`; checked to allow `version`.
pub(super) fn proposed_range(written: &str, version: &Version) -> Option<String> {
    let trimmed = written.trim();
    let (prefix, rest) = match trimmed.strip_prefix(['^', '~', '=', 'v']) {
        Some(rest) => (&trimmed[..1], rest),
        None => ("", trimmed),
    };
    let wildcard = rest.ends_with(".x") || rest.ends_with(".*");
    let digits = rest.trim_end_matches(".x").trim_end_matches(".*");
    let proposed = match at_precision(digits, version) {
        Some(v) if wildcard => format!("{prefix}{v}.x"),
        Some(v) => format!("{prefix}{v}"),
        None => format!("{}.x", version.major),
    };
    Range::parse(&proposed)
        .ok()
        .filter(|r| r.satisfies(version))
        .map(|_| proposed)
}

/// The bytes of engines.node's string, quotes excluded: serde_json keeps no positions, so the
/// `"node"` key after `"engines"` is found in the text, as the reader locates it.
pub(super) fn engines_value(text: &str) -> Option<std::ops::Range<usize>> {
    let engines = text.find("\"engines\"")?;
    let node = engines + text[engines..].find("\"node\"")? + "\"node\"".len();
    let colon = node + text[node..].find(':')?;
    let open = colon + text[colon..].find('"')? + 1;
    let close = open + text[open..].find('"')?;
    Some(open..close)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_keep_their_form() {
        let v = Version::parse("22.21.1").unwrap();
        assert_eq!(proposed_range("16.x", &v).as_deref(), Some("22.x"));
        assert_eq!(proposed_range("^16.14.0", &v).as_deref(), Some("^22.21.1"));
        assert_eq!(proposed_range("16", &v).as_deref(), Some("22"));
        assert_eq!(proposed_range(">=14 <17", &v).as_deref(), Some("22.x"));
        assert_eq!(
            engines_value("{\"engines\": {\"node\": \"16.x\"}}"),
            Some(22..26)
        );
    }
}
