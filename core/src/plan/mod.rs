//! The build plan: a pure value that lists every stage and step of a build and the final image's
//! configuration. Computing it touches no engine; the engine walks it in order and decides nothing
//! App Runner-specific. `plan` prints it, `plan --json` saves it, `build --plan FILE` builds it.

pub mod eject;
mod install_target;
mod installs;
pub mod layers;
mod lint;
pub mod lost_installs;
mod make;
pub mod ports;
mod render;
mod start_scripts;
pub mod user;

pub use lint::lint;
pub use make::make_plan;
pub use render::render;

use crate::input::config::EnvVar;
use crate::input::dockerignore::IgnoreRules;
pub use crate::input::origin::{Decision, Origin};
use crate::resolve::runtime::ResolvedRuntime;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

/// The version of the plan's JSON form; `build --plan` refuses any other.
/// 2: the plan carries its `.dockerignore` rules and whether git-ignored files are left out; a
/// plan of format 1 would build without them, so it is refused.
pub const PLAN_FORMAT: u32 = 2;

/// Where App Runner runs every command, and where the source goes.
pub const APP_DIR: &str = "/app";

/// Label keys written into the final image.
pub mod labels {
    pub const RUNTIME: &str = "apprunner-build.runtime";
    pub const RUNTIME_VERSION: &str = "apprunner-build.runtime-version";
    pub const RUNTIME_ORIGIN: &str = "apprunner-build.runtime-version-origin";
    pub const CONFIG_DIGEST: &str = "apprunner-build.config-digest";
    pub const SOURCE_DIGEST: &str = "apprunner-build.source-digest";
    /// The apprunner-build version that made the image.
    pub const TOOL_VERSION: &str = "apprunner-build.version";
    /// Names (never values) of the secrets the service expects at run time, comma-separated.
    pub const SECRETS: &str = "apprunner-build.secrets";
    /// Written by the engine: the digest of the whole plan the image was built from.
    pub const PLAN_DIGEST: &str = "apprunner-build.plan-digest";
    /// Written by the engine: each stage's image as the engine resolved it (`stage=id,…`).
    pub const BASE_IMAGES: &str = "apprunner-build.base-images";
    /// Every label of this tool starts so.
    pub const NAMESPACE: &str = "apprunner-build.";
    /// The tool's labels a plan itself sets; the namespace's others are the engine's alone.
    pub const SET_BY_PLAN: &[&str] = &[
        RUNTIME,
        RUNTIME_VERSION,
        RUNTIME_ORIGIN,
        CONFIG_DIGEST,
        TOOL_VERSION,
        SECRETS,
        USER,
    ];
    /// `--user`: the user the image runs as (absent: the base image's), so that a build with
    /// another user is not taken for up to date.
    pub const USER: &str = "apprunner-build.user";
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PhaseName {
    PreBuild,
    Build,
    PostBuild,
    PreRun,
}

impl PhaseName {
    /// The name App Runner uses in its configuration and in failure messages.
    pub fn config_name(self) -> &'static str {
        match self {
            PhaseName::PreBuild => "pre-build",
            PhaseName::Build => "build",
            PhaseName::PostBuild => "post-build",
            PhaseName::PreRun => "pre-run",
        }
    }

    /// The log prefix for lines the phase's commands print.
    pub fn log_prefix(self) -> &'static str {
        match self {
            PhaseName::PreBuild => "PreBuild",
            PhaseName::Build => "Build",
            PhaseName::PostBuild => "PostBuild",
            PhaseName::PreRun => "PreRun",
        }
    }
}

impl fmt::Display for PhaseName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.config_name())
    }
}

/// A container the build uses: started from `image` the first time a step names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stage {
    pub name: String,
    pub image: String,
    /// What App Runner uses this stage for, for people reading the plan.
    pub purpose: String,
}

/// One step, in the order the engine runs them. Every step names the stage it acts in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "kebab-case")]
pub enum Step {
    /// The source tree (`.dockerignore` honoured) into `path`.
    CopySource { stage: String, path: String },
    /// `path` from another stage's container, as it is at this point.
    CopyFromStage {
        stage: String,
        from: String,
        path: String,
    },
    /// A command through `/bin/sh -c` in `workdir`, with `env` for this command only.
    Run {
        stage: String,
        phase: PhaseName,
        command: String,
        workdir: String,
        env: Vec<EnvVar>,
        /// Said when the command fails: why it may fail here when it worked before.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        hint: Option<String>,
    },
    /// An `[AppRunner]` line in the log, saying what comes next.
    Announce { stage: String, message: String },
    /// Dependency layers: `runs` (each a [`Step::Run`] of this stage) over a tree at `path` that
    /// holds only `files`, taken from the source (`from: None`) or from another stage's `path`;
    /// the result is kept as an image keyed by those files, the stage's image, the commands and
    /// their env, and reused when they are unchanged. The step that brings in the whole tree
    /// (the stage's next copy) follows; without the split, `runs` would run right after it.
    Install {
        stage: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<String>,
        path: String,
        files: Vec<String>,
        runs: Vec<Step>,
        /// Why the split is safe, for people reading the plan.
        reason: String,
    },
    /// A command apprunner-build adds (not one of the configuration's phases): through
    /// `/bin/sh -c` in `/`, as root whatever the image's user, without build.env; `purpose`
    /// says why, in the plan and the log. `--user` is one: it creates the user and gives it /app.
    Setup {
        stage: String,
        command: String,
        purpose: String,
    },
    /// The stage's container, as it is now, becomes the image, with [`BuildPlan::image`] as its
    /// configuration.
    Commit { stage: String },
}

impl Step {
    pub fn stage(&self) -> &str {
        match self {
            Step::CopySource { stage, .. }
            | Step::CopyFromStage { stage, .. }
            | Step::Run { stage, .. }
            | Step::Announce { stage, .. }
            | Step::Install { stage, .. }
            | Step::Setup { stage, .. }
            | Step::Commit { stage } => stage,
        }
    }

    /// The step's kind, as the plan's JSON names it.
    pub fn kind(&self) -> &'static str {
        match self {
            Step::CopySource { .. } => "copy-source",
            Step::CopyFromStage { .. } => "copy-from-stage",
            Step::Run { .. } => "run",
            Step::Announce { .. } => "announce",
            Step::Install { .. } => "install",
            Step::Setup { .. } => "setup",
            Step::Commit { .. } => "commit",
        }
    }
}

/// A variable in the final image's environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "kebab-case")]
pub enum ImageEnv {
    /// `name=value`, replacing the base image's value.
    Set { name: String, value: String },
    /// `value` put in front of the base image's value, joined with `:`; `otherwise` when the base
    /// image does not set it.
    Prepend {
        name: String,
        value: String,
        otherwise: String,
    },
}

/// The final image's configuration, set explicitly on commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageConfig {
    pub cmd: Vec<String>,
    pub entrypoint: Vec<String>,
    pub working_dir: String,
    /// Applied in order over the base image's environment.
    pub env: Vec<ImageEnv>,
    pub port: u16,
    /// `None`: the base image's user.
    pub user: Option<String>,
    pub labels: BTreeMap<String, String>,
}

impl ImageConfig {
    /// The start command, when `cmd` is `/bin/sh -c COMMAND` as App Runner runs it.
    pub fn start_command(&self) -> Option<&str> {
        match self.cmd.as_slice() {
            [sh, c, command] if sh == "/bin/sh" && c == "-c" => Some(command),
            _ => None,
        }
    }

    /// The names of the secrets the service reads at run time (values are never in a plan).
    pub fn secret_names(&self) -> Vec<String> {
        self.labels
            .get(labels::SECRETS)
            .map(|s| {
                s.split(',')
                    .filter(|n| !n.is_empty())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildPlan {
    /// [`PLAN_FORMAT`].
    pub format: u32,
    pub source_root: PathBuf,
    /// `.dockerignore`'s rules when the plan was made: what [`Step::CopySource`] leaves out. The
    /// plan carries them so that the build copies what the plan was checked against, and
    /// nothing reads `.dockerignore` again. Left out of the JSON when there are none, so a plan
    /// without them is the plan it always was (same digest).
    #[serde(default, skip_serializing_if = "IgnoreRules::is_empty")]
    pub excludes: IgnoreRules,
    /// Whether what git ignores is left out of the source, as App Runner builds the committed
    /// tree: set when the source was in a git work tree, unless `--include-git-ignored`. The
    /// build applies the work tree's rules as they are when it copies the source.
    #[serde(default, skip_serializing_if = "is_false")]
    pub leaves_out_git_ignored: bool,
    pub config_file: Option<PathBuf>,
    pub runtime: ResolvedRuntime,
    /// For a project without apprunner.yaml: every derived setting with its origin.
    pub decisions: Vec<Decision>,
    pub stages: Vec<Stage>,
    pub steps: Vec<Step>,
    pub image: ImageConfig,
}

/// A plan that cannot be executed as written (a hand-edited or damaged saved plan).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error(
        "plan format {found} is not supported (this apprunner-build reads format {PLAN_FORMAT})"
    )]
    Format { found: u32 },
    #[error("step {step} names stage `{stage}`, which the plan does not declare")]
    UnknownStage { step: usize, stage: String },
    #[error("step {step} copies from stage `{stage}` before any step has run in it")]
    CopyFromUnstarted { step: usize, stage: String },
    #[error("the plan commits {count} images; it must commit exactly one")]
    CommitCount { count: usize },
    #[error("step {step} installs with steps that are not commands of its stage")]
    InstallRuns { step: usize },
    #[error("stage `{0}` is declared twice")]
    DuplicateStage(String),
    #[error("the image label `{0}` is apprunner-build's own: a plan does not set it")]
    ReservedLabel(String),
}

impl BuildPlan {
    /// The digest of everything the plan says, but where its source is on this machine (the
    /// source's content has a digest of its own): an image made from another plan is not this
    /// plan's, whatever its name.
    pub fn digest(&self) -> String {
        let mut plan = self.clone();
        plan.source_root = std::path::PathBuf::new();
        let json = serde_json::to_vec(&plan).expect("a plan always serializes");
        format!("sha256:{}", sha256_hex(&json))
    }

    pub fn stage(&self, name: &str) -> Option<&Stage> {
        self.stages.iter().find(|s| s.name == name)
    }

    /// The commands of one phase, in order, whichever stage runs them.
    pub fn commands(&self, phase: PhaseName) -> impl Iterator<Item = &str> {
        self.flat_steps().filter_map(move |s| match s {
            Step::Run {
                phase: p, command, ..
            } if *p == phase => Some(command.as_str()),
            _ => None,
        })
    }

    /// The steps with each [`Step::Install`]'s runs in its place.
    pub fn flat_steps(&self) -> impl Iterator<Item = &Step> {
        self.steps.iter().flat_map(|s| match s {
            Step::Install { runs, .. } => runs.iter().collect::<Vec<_>>(),
            other => vec![other],
        })
    }

    /// The plan in App Runner's plain order: each [`Step::Install`]'s runs after the stage's next
    /// copy, where they were (before the stage's next step that is not an announcement, or a copy
    /// out of the stage), and the layers' announcements gone.
    pub fn unlayered(&self) -> BuildPlan {
        let mut plan = self.clone();
        plan.steps.clear();
        // Per stage: the runs, and whether the copy they follow has been placed.
        let mut pending: Vec<(String, Vec<Step>, bool)> = Vec::new();
        for step in &self.steps {
            let flush = |pending: &mut Vec<(String, Vec<Step>, bool)>, out: &mut Vec<Step>| {
                let due = match step {
                    Step::Announce { .. } => None,
                    Step::CopyFromStage { from, .. } => pending
                        .iter()
                        .position(|(s, _, copied)| *copied && (s == from || s == step.stage())),
                    _ => pending
                        .iter()
                        .position(|(s, _, copied)| *copied && s == step.stage()),
                };
                if let Some(at) = due {
                    out.extend(pending.remove(at).1);
                }
            };
            match step {
                Step::Install { stage, runs, .. } => {
                    pending.push((stage.clone(), runs.clone(), false))
                }
                Step::Announce { message, .. } if message.starts_with(layers::PLAIN_ORDER) => {}
                Step::CopySource { stage, .. } | Step::CopyFromStage { stage, .. } => {
                    flush(&mut pending, &mut plan.steps);
                    plan.steps.push(step.clone());
                    if let Some(p) = pending
                        .iter_mut()
                        .find(|(s, _, copied)| s == stage && !copied)
                    {
                        p.2 = true;
                    }
                }
                other => {
                    flush(&mut pending, &mut plan.steps);
                    plan.steps.push(other.clone());
                }
            }
        }
        for (_, runs, _) in pending {
            plan.steps.extend(runs);
        }
        plan
    }

    /// Whether the engine can walk this plan: declared stages, one commit, copies from stages that
    /// exist by then.
    pub fn check(&self) -> Result<(), PlanError> {
        if self.format != PLAN_FORMAT {
            return Err(PlanError::Format { found: self.format });
        }
        // The engine's labels (an owner, a cache key) on the image would make the tool treat it,
        // or containers started from it, as its own.
        if let Some(key) = self.image.labels.keys().find(|k| {
            k.starts_with(labels::NAMESPACE) && !labels::SET_BY_PLAN.contains(&k.as_str())
        }) {
            return Err(PlanError::ReservedLabel(key.clone()));
        }
        for (i, stage) in self.stages.iter().enumerate() {
            if self.stages[..i].iter().any(|s| s.name == stage.name) {
                return Err(PlanError::DuplicateStage(stage.name.clone()));
            }
        }
        let mut started: Vec<&str> = Vec::new();
        for (i, step) in self.steps.iter().enumerate() {
            let number = i + 1;
            if self.stage(step.stage()).is_none() {
                return Err(PlanError::UnknownStage {
                    step: number,
                    stage: step.stage().to_string(),
                });
            }
            if let Step::Announce { .. } = step {
                continue;
            }
            let from = match step {
                Step::CopyFromStage { from, .. } => Some(from),
                Step::Install { from, runs, .. } => {
                    if runs
                        .iter()
                        .any(|r| !matches!(r, Step::Run { stage, .. } if stage == step.stage()))
                    {
                        return Err(PlanError::InstallRuns { step: number });
                    }
                    from.as_ref()
                }
                _ => None,
            };
            if let Some(from) = from {
                if !started.contains(&from.as_str()) {
                    return Err(PlanError::CopyFromUnstarted {
                        step: number,
                        stage: from.clone(),
                    });
                }
            }
            started.push(step.stage());
        }
        let count = self
            .steps
            .iter()
            .filter(|s| matches!(s, Step::Commit { .. }))
            .count();
        if count != 1 {
            return Err(PlanError::CommitCount { count });
        }
        Ok(())
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn is_false(value: &bool) -> bool {
    !*value
}
