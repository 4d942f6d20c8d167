//! The engine: walks a [`BuildPlan`](crate::plan::BuildPlan) against a real Docker Engine through
//! bollard, in a [`Session`] that owns the containers it makes. It never shells out to the
//! `docker` CLI, and decides nothing App Runner-specific: the plan says every step.

// Rooms, each along what it does: the walk orchestrates the others.
pub mod caches;
pub mod containers;
// For the fuzz targets only: see the module's documentation.
#[doc(hidden)]
pub mod fuzzing;
pub mod image;
pub mod labels;
pub mod messages;
pub mod run;
pub mod session;
mod shown;
pub mod source;
mod walk;

// The public paths from before the rooms, kept stable for the command line and the tests.
pub use caches::dependency_layers as layers;
pub use caches::freshness as cache;
pub use caches::scope::{cache_volume, CACHE_VOLUME};
pub use containers::confine;
pub use containers::confine::{CommandTimeout, Cpus, Limits, Memory};
pub use containers::mounts::CA_PATH;
pub use image::name::ImageName;
pub use session::Session;
pub use walk::{default_cache_dir, BuildOptions, BuiltImage};

use crate::plan::{PhaseName, PlanError};
use std::fmt;
use std::path::PathBuf;

/// Whose command a build container ran: a phase of the configuration, or a step apprunner-build
/// adds to the plan ([`crate::plan::Step::Setup`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandOf {
    Phase(PhaseName),
    Setup,
}

impl fmt::Display for CommandOf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommandOf::Phase(phase) => write!(f, "'{phase}' command"),
            CommandOf::Setup => f.write_str("setup command"),
        }
    }
}

/// What can go wrong while building; [`crate::report::errors`] writes the messages.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// `host` says how the engine was found: `tcp://h:2376 (DOCKER_HOST, TLS)`.
    #[error(
        "cannot reach the Docker engine at {host}: {}",
        crate::report::errors::chain(source)
    )]
    Connect {
        host: String,
        source: bollard::errors::Error,
        /// What to do, when the failure says more than "no engine there".
        help: Option<String>,
    },
    #[error("cannot pull {image}: {reason}")]
    Pull { image: String, reason: String },
    #[error("{action}: {source}")]
    Docker {
        action: String,
        source: bollard::errors::Error,
    },
    #[error("cannot read the source tree {}: {source}", root.display())]
    Source {
        root: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot use the CA bundle {}: {source}", path.display())]
    CaBundle {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "'{phase}' command '{}' failed (exit code {exit_code})",
        crate::report::log::clipped(command)
    )]
    CommandFailed {
        phase: PhaseName,
        command: String,
        exit_code: i64,
        /// The plan's word on why this step may fail.
        hint: Option<String>,
    },
    /// A command ran past `--command-timeout`: its container was stopped.
    #[error("{of} '{command}' was stopped after {limit} (--command-timeout)")]
    CommandTimedOut {
        of: CommandOf,
        command: String,
        limit: CommandTimeout,
    },
    /// The engine's out-of-memory killer killed the command (or a process it started).
    #[error("{of} '{command}' was killed: out of memory (exit code {exit_code})")]
    CommandOutOfMemory {
        of: CommandOf,
        command: String,
        exit_code: i64,
        /// `--memory`, when it was given.
        memory: Option<Memory>,
    },
    /// A [`crate::plan::Step::Setup`] command exited non-zero.
    #[error("setup command '{command}' failed (exit code {exit_code})")]
    SetupFailed {
        command: String,
        purpose: String,
        exit_code: i64,
    },
    /// The name in backquotes and why it is refused: "`x:a:b`: …".
    #[error("invalid image name {0}")]
    InvalidImageName(String),
    #[error("the plan cannot be built: {0}")]
    Plan(PlanError),
    #[error("interrupted")]
    Interrupted,
    #[error("{0}")]
    Unsupported(String),
    /// The engine's settings cannot be used: a context that does not exist, a missing `ca.pem`.
    #[error("{0}")]
    Settings(String),
}

impl EngineError {
    pub(crate) fn docker(action: impl Into<String>) -> impl FnOnce(bollard::errors::Error) -> Self {
        let action = action.into();
        move |source| EngineError::Docker { action, source }
    }
}
