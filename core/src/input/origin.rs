//! Where a setting came from: a project file (and what in it), a flag, or a default with its
//! reason. Detection records one for every setting it derives, and `plan` shows them.

use super::version::VersionOrigin;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::PathBuf;

/// A setting derived from the project's files (or a flag that overrides one), and where it came
/// from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub setting: String,
    pub value: String,
    pub origin: Origin,
}

/// Where a derived setting came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Origin {
    /// A file of the project: `key` names what in it (`scripts.start`), `note` says why it counts.
    File {
        path: PathBuf,
        key: Option<String>,
        note: Option<String>,
    },
    /// A command-line flag.
    Flag { flag: String },
    /// Nothing asked for anything else: the default, and why.
    Default { why: String },
}

impl Origin {
    pub fn file(path: impl Into<PathBuf>) -> Self {
        Origin::File {
            path: path.into(),
            key: None,
            note: None,
        }
    }

    pub fn key(path: impl Into<PathBuf>, key: impl Into<String>) -> Self {
        Origin::File {
            path: path.into(),
            key: Some(key.into()),
            note: None,
        }
    }

    pub fn noted(path: impl Into<PathBuf>, note: impl Into<String>) -> Self {
        Origin::File {
            path: path.into(),
            key: None,
            note: Some(note.into()),
        }
    }

    pub fn flag(flag: impl Into<String>) -> Self {
        Origin::Flag { flag: flag.into() }
    }

    pub fn default_because(why: impl Into<String>) -> Self {
        Origin::Default { why: why.into() }
    }
}

impl From<&VersionOrigin> for Origin {
    fn from(o: &VersionOrigin) -> Self {
        use VersionOrigin as V;
        let line = |line: &Option<usize>| line.map(|l| format!("line {l}"));
        match o {
            V::ConfigRuntimeVersion { path, line: l } => Origin::File {
                path: path.clone(),
                key: Some("run.runtime-version".into()),
                note: line(l),
            },
            V::EnginesNode { path, line: l } => Origin::File {
                path: path.clone(),
                key: Some("engines.node".into()),
                note: line(l),
            },
            V::VersionFile { path, .. } => Origin::file(path.clone()),
            V::RequiresPython { path } => Origin::key(path.clone(), "requires-python"),
            V::Flag(flag) => Origin::flag(*flag),
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File { path, key, note } => {
                if let Some(key) = key {
                    write!(f, "{key} in ")?;
                }
                write!(f, "{}", path.display())?;
                if let Some(note) = note {
                    write!(f, " ({note})")?;
                }
                Ok(())
            }
            Origin::Flag { flag } => write!(f, "the {flag} flag"),
            Origin::Default { why } => write!(f, "the default: {why}"),
        }
    }
}
