//! What an image says of where it came from, as the OCI image spec's annotation keys (as labels,
//! which is where `docker inspect`, registries and scanners read them): the repository's remote
//! with any user or password removed, the commit, with `-dirty` when tracked files have
//! uncommitted changes, the build time when `SOURCE_DATE_EPOCH` fixes it, and the app's own
//! version from package.json or pyproject.toml. Git is asked through the `git` command, as
//! `docker buildx` does for its own git labels; without git, or outside a work tree, there are
//! no git labels.

use super::files::ProjectFiles;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};

pub const SOURCE: &str = "org.opencontainers.image.source";
pub const REVISION: &str = "org.opencontainers.image.revision";
pub const CREATED: &str = "org.opencontainers.image.created";
pub const VERSION: &str = "org.opencontainers.image.version";

/// `SOURCE_DATE_EPOCH`, the reproducible-builds convention for a build's fixed time, if set.
pub fn source_date_epoch() -> Option<u64> {
    std::env::var("SOURCE_DATE_EPOCH").ok()?.trim().parse().ok()
}

/// The labels for the project in `files`.
pub fn labels(files: &ProjectFiles) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    let root = files.root();
    if let Some(remote) = git(root, &["config", "--get", "remote.origin.url"]) {
        labels.insert(SOURCE.to_string(), without_credentials(&remote));
    }
    if let Some(head) = git(root, &["rev-parse", "HEAD"]) {
        // Tracked files only: an untracked file is not part of the commit, and is left out of
        // the source when git ignores it.
        let dirty = git(root, &["status", "--porcelain", "--untracked-files=no"])
            .is_some_and(|s| !s.is_empty());
        labels.insert(
            REVISION.to_string(),
            if dirty { format!("{head}-dirty") } else { head },
        );
    }
    if let Some(created) = source_date_epoch()
        .and_then(|s| chrono::DateTime::from_timestamp(s as i64, 0))
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    {
        labels.insert(CREATED.to_string(), created);
    }
    if let Some(version) = app_version(files) {
        labels.insert(VERSION.to_string(), version);
    }
    labels
}

/// `git ARGS` in `dir`: its trimmed output when it succeeds, with no prompt and no pager.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_OPTIONAL_LOCKS", "0")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// A remote as it may be shown: `https://user:token@host/x` becomes `https://host/x`, and
/// `git@host:x` (scp-like) becomes `host:x`.
pub fn without_credentials(remote: &str) -> String {
    match remote.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
            let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            if path.is_empty() && !rest.contains('/') {
                format!("{scheme}://{host}")
            } else {
                format!("{scheme}://{host}/{path}")
            }
        }
        None => match remote.split_once('@') {
            Some((_, host_and_path)) if !remote.starts_with('/') => host_and_path.to_string(),
            _ => remote.to_string(),
        },
    }
}

/// package.json's `version`, else pyproject.toml's `[project]` (or Poetry's) `version`.
fn app_version(files: &ProjectFiles) -> Option<String> {
    let from_package = files
        .peek("package.json")
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v.get("version")?.as_str().map(String::from));
    from_package.or_else(|| {
        let pyproject: toml::Value = toml::from_str(&files.peek("pyproject.toml")?).ok()?;
        let version =
            |table: Option<&toml::Value>| table?.get("version")?.as_str().map(String::from);
        version(pyproject.get("project"))
            .or_else(|| version(pyproject.get("tool").and_then(|t| t.get("poetry"))))
    })
}

#[cfg(test)]
mod tests {
    use super::without_credentials;

    #[test]
    fn a_remote_is_shown_without_user_or_password() {
        assert_eq!(
            without_credentials("https://me:ghp_secret@github.com/org/app.git"),
            "https://github.com/org/app.git"
        );
        assert_eq!(
            without_credentials("https://github.com/org/app.git"),
            "https://github.com/org/app.git"
        );
        assert_eq!(
            without_credentials("ssh://git@example.com:2222/org/app"),
            "ssh://example.com:2222/org/app"
        );
        assert_eq!(
            without_credentials("git@github.com:org/app.git"),
            "github.com:org/app.git"
        );
        assert_eq!(without_credentials("/srv/git/app"), "/srv/git/app");
    }
}
