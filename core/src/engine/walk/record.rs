//! What each step of the plan did, for machines (`build --metadata-file`): its kind, stage and
//! time, a command's exit code, and, for the steps a cache can skip, the cache's decision.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepRecord {
    /// The step's place in the plan's `steps`.
    pub index: usize,
    pub step: &'static str,
    pub stage: String,
    pub seconds: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache: Option<CacheDecision>,
}

/// Whether a cache skipped the step, and why (not).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "decision", rename_all = "kebab-case")]
pub enum CacheDecision {
    /// Skipped: what it was taken from.
    Hit { from: String },
    /// Run: why no cache had it.
    Miss { why: String },
}
