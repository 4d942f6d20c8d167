//! What resolution gives: the resolved runtime and its remarks, or why there is none; and which
//! runtime to resolve. The types only: `runtime.rs` resolves, `wheel_fit.rs` weighs a lockfile's
//! wheels.

use crate::input::version::{MalformedVersion, RequestedVersion, VersionOrigin};
use crate::report::diagnostic::{Diagnostic, Location, Spanned};
use crate::resolve::catalog::Language;
use node_semver::Version;
use serde::{Deserialize, Serialize};

/// The outcome: a catalog version and the reason it was chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolvedRuntime {
    pub name: String,
    pub language: crate::resolve::catalog::Language,
    pub build_process: crate::resolve::catalog::BuildProcess,
    pub app_runner: bool,
    #[serde(
        serialize_with = "crate::resolve::catalog::ser_version",
        deserialize_with = "crate::resolve::catalog::de_version"
    )]
    pub version: Version,
    pub image: String,
    pub build_image: String,
    /// The requirements as written, e.g. `3.8 (run.runtime-version in apprunner.yaml line 9)`.
    pub requested: Vec<String>,
    /// Why this version: "latest python3", "highest nodejs18 version matching 18.x (…)".
    pub reason: String,
    pub end_of_support: Option<chrono::NaiveDate>,
}

/// Resolution errors; [`crate::report::errors`] turns them into messages.
#[derive(Debug, Clone)]
pub enum ResolveError {
    UnknownRuntime {
        name: String,
        location: Option<Location>,
        known: Vec<String>,
        /// Set when App Runner has this runtime but this tool does not build it.
        unsupported: Option<String>,
        /// App Runner's runtimes this tool does not build (name, what), for near-miss hints.
        not_built: Vec<(String, String)>,
    },
    MalformedVersion {
        text: String,
        origin: VersionOrigin,
        location: Option<Location>,
        expected: &'static str,
    },
    VersionNotOffered {
        runtime: String,
        request: RequestedVersion,
        available: String,
        /// Another runtime of the same language that has matching versions.
        other_runtime: Option<String>,
        /// The other requirements that no version meets either, named in the same message so
        /// that fixing `request` does not only bring the next one up.
        also_unmet: Vec<RequestedVersion>,
    },
    Conflict {
        runtime: String,
        requests: Vec<RequestedVersion>,
        available: String,
    },
}

impl From<MalformedVersion> for ResolveError {
    fn from(e: MalformedVersion) -> Self {
        ResolveError::MalformedVersion {
            text: e.text,
            origin: e.origin,
            location: e.location,
            expected: e.expected,
        }
    }
}

/// A successful resolution and the remarks that go with it (end of support, locked patch, …).
#[derive(Debug, Clone)]
pub struct Resolution {
    pub runtime: ResolvedRuntime,
    pub remarks: Vec<Diagnostic>,
}

/// Which runtime to resolve: the one the configuration names, or for a project without
/// configuration the best of its language.
#[derive(Debug, Clone)]
pub enum RuntimeChoice {
    Named(Spanned<String>),
    BestOf {
        language: Language,
        /// The runtime when nothing asks for a version (e.g. python311, nodejs22).
        default: String,
    },
}
