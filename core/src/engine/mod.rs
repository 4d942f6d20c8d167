//! The engine: walks a [`BuildPlan`](crate::plan::BuildPlan) against a real Docker Engine through
//! bollard, in a [`Session`] that owns the containers it makes. It never shells out to the
//! `docker` CLI, and decides nothing App Runner-specific: the plan says every step.

mod build;
pub mod cache;
pub mod caches;
mod diff;
mod direct;
mod docker;

mod exec;
// For the fuzz targets only: see the module's documentation.
#[doc(hidden)]
pub mod fuzzing;
mod health;
mod image_name;
mod layer_store;
pub mod layers;
pub mod messages;
pub mod run;
mod session;
pub mod source;
mod source_index;
mod stage_cache;
mod stages;
mod tagging;
mod tooling;
mod written;

pub use build::{default_cache_dir, BuildOptions, BuiltImage};
pub use image_name::ImageName;
pub use session::Session;
pub use tooling::{cache_volume, CACHE_VOLUME, CA_PATH};

use crate::plan::{PhaseName, PlanError};
use std::path::PathBuf;

/// What can go wrong while building; [`crate::report::errors`] writes the messages.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("cannot reach the Docker engine at {host}: {source}")]
    Connect {
        host: String,
        source: bollard::errors::Error,
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
    #[error("'{phase}' command '{command}' failed (exit code {exit_code})")]
    CommandFailed {
        phase: PhaseName,
        command: String,
        exit_code: i64,
        /// The plan's word on why this step may fail.
        hint: Option<String>,
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
}

impl EngineError {
    pub(crate) fn docker(action: impl Into<String>) -> impl FnOnce(bollard::errors::Error) -> Self {
        let action = action.into();
        move |source| EngineError::Docker { action, source }
    }
}
