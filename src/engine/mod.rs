//! The engine: executes a [`BuildPlan`](crate::plan::BuildPlan) against a real Docker Engine
//! through bollard. It never shells out to the `docker` CLI.

mod build;
pub mod cache;
mod docker;
mod exec;
pub mod run;
pub mod source;

pub use build::{build, BuildOptions, BuiltImage, ImageName};
pub use docker::{connect, Cleanup};

use crate::plan::PhaseName;
use std::path::PathBuf;

/// What can go wrong while building; [`crate::errors`] writes the messages.
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
    },
    #[error("invalid image name `{0}`")]
    InvalidImageName(String),
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
