//! A runtime version as the project asks for it, with where it asks: `run.runtime-version`,
//! `engines.node`, a version file, `requires-python`. Read here, with the input; the resolver
//! (`resolve::runtime`) matches these requests against the catalog.

use crate::report::codes;
use crate::report::diagnostic::{Diagnostic, Location, Spanned};
use crate::resolve::catalog::Language;
use node_semver::{Range, Version};
use std::fmt;
use std::path::PathBuf;

/// Where a version requirement came from; every message names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionOrigin {
    /// `run.runtime-version` in apprunner.yaml.
    ConfigRuntimeVersion { path: PathBuf, line: Option<usize> },
    /// `engines.node` in package.json.
    EnginesNode { path: PathBuf, line: Option<usize> },
    /// A version file such as `.nvmrc`, `.node-version`, `.python-version`, `runtime.txt`.
    VersionFile { path: PathBuf, language: Language },
    /// `project.requires-python` (or Poetry's `python` dependency) in pyproject.toml.
    RequiresPython { path: PathBuf },
    /// A command-line flag.
    Flag(&'static str),
}

impl VersionOrigin {
    /// The language whose runtimes the request is about; `None` for any runtime's version.
    pub fn language(&self) -> Option<Language> {
        match self {
            VersionOrigin::EnginesNode { .. } => Some(Language::Nodejs),
            VersionOrigin::RequiresPython { .. } => Some(Language::Python),
            VersionOrigin::VersionFile { language, .. } => Some(*language),
            VersionOrigin::ConfigRuntimeVersion { .. } | VersionOrigin::Flag(_) => None,
        }
    }
}

impl fmt::Display for VersionOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = |path: &PathBuf, line: &Option<usize>| match line {
            Some(l) => format!("{} line {l}", path.display()),
            None => path.display().to_string(),
        };
        match self {
            VersionOrigin::ConfigRuntimeVersion { path, line } => {
                write!(f, "run.runtime-version in {}", at(path, line))
            }
            VersionOrigin::EnginesNode { path, line } => {
                write!(f, "engines.node in {}", at(path, line))
            }
            VersionOrigin::VersionFile { path, .. } => write!(f, "{}", path.display()),
            VersionOrigin::RequiresPython { path } => {
                write!(f, "requires-python in {}", path.display())
            }
            VersionOrigin::Flag(flag) => write!(f, "the {flag} flag"),
        }
    }
}

/// A version requirement as the user wrote it, before any catalog lookup.
#[derive(Debug, Clone)]
pub struct RequestedVersion {
    pub text: String,
    pub range: Range,
    pub origin: VersionOrigin,
    pub location: Option<Location>,
}

impl RequestedVersion {
    /// App Runner's `runtime-version`: `major[.minor[.patch]]`, digits only.
    pub fn from_runtime_version(
        value: &Spanned<String>,
        origin: VersionOrigin,
    ) -> Result<Self, MalformedVersion> {
        let text = value.value.trim();
        let parts: Vec<&str> = text.split('.').collect();
        let well_formed = (1..=3).contains(&parts.len())
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
        let bad = || MalformedVersion {
            text: text.to_string(),
            origin: origin.clone(),
            location: value.location.clone(),
            expected: "major[.minor[.patch]], e.g. 3.11 or 18.20.8",
        };
        if !well_formed {
            return Err(bad());
        }
        // `3.8` means 3.8.x and `18` means 18.x.x: npm's X-ranges say exactly that.
        let range = Range::parse(text).map_err(|_| bad())?;
        Ok(Self {
            text: text.to_string(),
            range,
            origin,
            location: value.location.clone(),
        })
    }

    /// An npm semver range (`^18`, `>=16 <19`, `18.x || 20.x`, `v18.20.8`, `lts/*` is not one).
    pub fn from_npm_range(
        text: &str,
        origin: VersionOrigin,
        location: Option<Location>,
    ) -> Result<Self, MalformedVersion> {
        let trimmed = text.trim();
        let malformed = || MalformedVersion {
            text: trimmed.to_string(),
            origin: origin.clone(),
            location: location.clone(),
            expected: "an npm semver range such as ^18, 18.x, >=18 <21 or 18.20.8",
        };
        if crashes_node_semver(trimmed) {
            return Err(malformed());
        }
        let range = Range::parse(npm_le_partials(trimmed)).map_err(|_| malformed())?;
        Ok(Self {
            text: trimmed.to_string(),
            range,
            origin,
            location,
        })
    }

    pub fn allows(&self, v: &Version) -> bool {
        self.range.satisfies(v)
    }
}

/// Whether node-semver 2.2 would panic on `range` (an `unreachable!` in its parser) instead of
/// refusing it: a `~` or `=` over a wildcard major (`~*`, `~> x`, `=X`), or a `~` over a wildcard
/// minor followed by a patch (`~1.x.3`). Found by fuzzing (`fuzz/fuzz_targets/versions.rs`).
/// npm reads the first as any version, but nobody means that by them: they are refused as
/// malformed before the parser sees them.
fn crashes_node_semver(range: &str) -> bool {
    // The parser's `space0`.
    let skip_spaces = |s: &str| s.trim_start_matches([' ', '\t']).len();
    let wildcard = |s: &str| s.starts_with(['x', 'X', '*']);
    let bytes = range.as_bytes();
    bytes.iter().enumerate().any(|(i, &b)| {
        let tilde = b == b'~';
        // A lone `=`: after `<` or `>` it is part of `<=` or `>=`, which take any partial.
        let equals = b == b'=' && !(i > 0 && matches!(bytes[i - 1], b'<' | b'>'));
        if !(tilde || equals) {
            return false;
        }
        let mut rest = &range[i + 1..];
        rest = &rest[rest.len() - skip_spaces(rest)..];
        if tilde {
            rest = rest.strip_prefix('>').unwrap_or(rest);
            rest = &rest[rest.len() - skip_spaces(rest)..];
        }
        rest = rest.strip_prefix('v').unwrap_or(rest);
        rest = &rest[rest.len() - skip_spaces(rest)..];
        if wildcard(rest) {
            return true;
        }
        // `~1.x.3`: a number, a wildcard, then a patch.
        let major = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if !tilde || major == 0 {
            return false;
        }
        let Some(minor) = rest[major..].strip_prefix('.').filter(|m| wildcard(m)) else {
            return false;
        };
        minor[1..]
            .strip_prefix('.')
            .is_some_and(|patch| patch.starts_with(|c: char| c.is_ascii_digit()))
    })
}

/// `range` with each `<=` over a partial version spelt as npm reads it: node-semver 2.2 reads
/// `<=20` as `<=20.0.0-0`, which no 20.x meets, where npm reads an X-range, `<21.0.0-0` (and
/// `<=3.11.x` as `<3.12.0-0`, `<=*` as any version). Everything else is left to the parser.
fn npm_le_partials(range: &str) -> String {
    let mut out = String::with_capacity(range.len());
    let mut rest = range;
    while let Some(at) = rest.find("<=") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        // npm allows space between the operator and the version: `<= 20`.
        let start = after.len() - after.trim_start().len();
        let len = after[start..]
            .find(|c: char| c.is_whitespace() || c == '|')
            .unwrap_or(after.len() - start);
        match x_range_below(&after[start..start + len]) {
            Some(below) => out.push_str(&below),
            None => {
                out.push_str("<=");
                out.push_str(&after[..start + len]);
            }
        }
        rest = &after[start + len..];
    }
    out.push_str(rest);
    out
}

/// What `<=partial` means to npm: `<=20` is `<21.0.0-0`, `<=3.11` is `<3.12.0-0`, `<=*` is any
/// version; `None` for a full version, or for anything that is not a version.
fn x_range_below(partial: &str) -> Option<String> {
    let parts: Vec<&str> = partial.trim_start_matches('v').split('.').collect();
    let wildcard = |p: &&str| matches!(*p, "x" | "X" | "*");
    let fixed = parts.iter().take_while(|p| !wildcard(p)).count();
    if parts.len() > 3 || !parts[fixed..].iter().all(wildcard) {
        return None;
    }
    let numbers = parts[..fixed]
        .iter()
        .map(|p| {
            p.bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| p.parse::<u64>().ok())
                .flatten()
        })
        .collect::<Option<Vec<u64>>>()?;
    match numbers[..] {
        [] => Some(">=0.0.0".into()),
        [major] => Some(format!("<{}.0.0-0", major.checked_add(1)?)),
        [major, minor] => Some(format!("<{major}.{}.0-0", minor.checked_add(1)?)),
        _ => None,
    }
}

/// A request that is no version requirement, with what was expected instead.
#[derive(Debug, Clone)]
pub struct MalformedVersion {
    pub text: String,
    pub origin: VersionOrigin,
    pub location: Option<Location>,
    pub expected: &'static str,
}

impl From<MalformedVersion> for Diagnostic {
    fn from(e: MalformedVersion) -> Self {
        Diagnostic::error(
            codes::MALFORMED_VERSION,
            format!("`{}` ({}) is not a version requirement", e.text, e.origin),
        )
        .at_opt(e.location)
        .with_help(format!("write {}", e.expected))
    }
}
