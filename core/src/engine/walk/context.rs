//! What every room reads during one build and none of them changes: the engine, the plan, the
//! options, the log, what the session cleans up, the stages' images, and the step being walked.
//! The walk owns it; the rooms get it by shared reference.

use crate::engine::session::cleanup::Cleanup;
use crate::engine::walk::options::BuildOptions;
use crate::plan::{BuildPlan, Stage};
use crate::report::log::BuildLog;
use bollard::models::ImageInspect;
use bollard::Docker;
use std::collections::HashMap;

pub(crate) struct BuildContext<'a> {
    /// When this build began, by this machine's clock: cache images made before it may go when
    /// a rebuilt one takes their tag; those made since may be another build's, in use.
    pub(crate) began: chrono::DateTime<chrono::FixedOffset>,
    pub(crate) docker: &'a Docker,
    pub(crate) plan: &'a BuildPlan,
    pub(crate) opts: &'a BuildOptions,
    pub(crate) log: &'a BuildLog,
    pub(crate) cleanup: &'a Cleanup,
    /// Each stage's image, pulled before any container starts.
    pub(crate) images: HashMap<String, ImageInspect>,
    /// The index of the step being walked.
    pub(crate) at: usize,
    /// What scopes the build's caches to this project: the name its package-cache volume has
    /// (from the source directory and the runtime version), used or not.
    pub(crate) project_scope: String,
}

impl BuildContext<'_> {
    /// The stage's own image, as pulled.
    pub(crate) fn image_of(&self, stage: &Stage) -> &ImageInspect {
        &self.images[&stage.image]
    }
}
