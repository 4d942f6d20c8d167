//! From checked settings and a resolved runtime to the stages and steps App Runner runs.

use super::{
    labels, sha256_hex, BuildPlan, ImageConfig, ImageEnv, PhaseName, Stage, Step, APP_DIR,
    PLAN_FORMAT,
};
use crate::input::config::{AppRunnerConfig, ConfigOrigin, EnvVar};
use crate::input::dockerignore::IgnoreRules;
use crate::resolve::catalog::BuildProcess;
use crate::resolve::runtime::ResolvedRuntime;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Docker's default PATH, for a base image that sets none.
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

const BUILD: &str = "build";
const RUNTIME: &str = "runtime";

/// The plan for a checked configuration and its resolved runtime.
pub fn make_plan(
    source_root: PathBuf,
    excludes: IgnoreRules,
    config: &AppRunnerConfig,
    runtime: ResolvedRuntime,
) -> BuildPlan {
    let (stages, steps) = match runtime.build_process {
        BuildProcess::Original => original_build(config, &runtime),
        BuildProcess::Revised => revised_build(config, &runtime),
    };
    let config_file = config.source().map(|s| s.path.clone());
    BuildPlan {
        format: PLAN_FORMAT,
        source_root,
        excludes,
        leaves_out_git_ignored: false,
        config_file,
        decisions: Vec::new(),
        stages,
        steps,
        image: image_config(config, &runtime),
        runtime,
    }
}

/// App Runner's original build, in the six steps of its developer guide: (1) pre-build and (2)
/// build in the build image; (3) a new stage from the runtime image; (4) /app from step 2 copied
/// in; (5) the build commands run again there; (6) post-build back in the build image. Step 5's
/// container is the image. As deployment logs show (reported by users, not documented), post-build
/// runs before the second build run, and the second run gets no build.env; /app is taken out of
/// the build stage before post-build, so post-build's effects stay out of the image.
fn original_build(config: &AppRunnerConfig, runtime: &ResolvedRuntime) -> (Vec<Stage>, Vec<Step>) {
    let stages = stages(
        runtime,
        "the runtime image: /app from the build stage, then the build commands again; it becomes the application image",
    );
    let mut steps = build_stage(config);
    if !config.build.build.is_empty() {
        steps.push(Step::Announce {
            stage: RUNTIME.into(),
            message: "Running the build commands again in the runtime image (App Runner's original build does this).".into(),
        });
    }
    steps.extend(config.build.build.iter().map(|command| Step::Run {
        stage: RUNTIME.into(),
        phase: PhaseName::Build,
        command: command.clone(),
        workdir: APP_DIR.into(),
        env: vec![],
        hint: Some(SECOND_RUN_HINT.into()),
    }));
    steps.push(Step::Commit {
        stage: RUNTIME.into(),
    });
    (stages, steps)
}

/// Why the second build run can fail where the first worked; App Runner would fail the same way.
const SECOND_RUN_HINT: &str = "this is App Runner's second run of the build commands, in the runtime image: only /app comes from the build stage (what pre-build installed elsewhere is not here) and build.env is not set; App Runner's build would fail the same way";

/// Build in the build image; only /app is copied into a fresh runtime container, where pre-run
/// runs and which becomes the image; post-build resumes in the build container after the copy.
fn revised_build(config: &AppRunnerConfig, runtime: &ResolvedRuntime) -> (Vec<Stage>, Vec<Step>) {
    let stages = stages(
        runtime,
        "the runtime image: /app from the build stage, then pre-run; it becomes the application image",
    );
    let mut steps = build_stage(config);
    steps.extend(phase(config, RUNTIME, PhaseName::PreRun));
    steps.push(Step::Commit {
        stage: RUNTIME.into(),
    });
    (stages, steps)
}

/// Both processes: a build stage on the build image and a runtime stage on the runtime image.
fn stages(runtime: &ResolvedRuntime, runtime_purpose: &str) -> Vec<Stage> {
    vec![
        Stage {
            name: BUILD.into(),
            image: runtime.build_image.clone(),
            purpose: "the build image: pre-build, build and post-build run here".into(),
        },
        Stage {
            name: RUNTIME.into(),
            image: runtime.image.clone(),
            purpose: runtime_purpose.into(),
        },
    ]
}

/// Both processes alike up to here: the source, pre-build and build in the build stage; /app into
/// the runtime stage; then post-build, which therefore never reaches the image.
fn build_stage(config: &AppRunnerConfig) -> Vec<Step> {
    let mut steps = vec![copy_source(BUILD)];
    steps.extend(phase(config, BUILD, PhaseName::PreBuild));
    steps.extend(phase(config, BUILD, PhaseName::Build));
    steps.push(Step::CopyFromStage {
        stage: RUNTIME.into(),
        from: BUILD.into(),
        path: APP_DIR.into(),
    });
    steps.extend(phase(config, BUILD, PhaseName::PostBuild));
    steps
}

fn copy_source(stage: &str) -> Step {
    Step::CopySource {
        stage: stage.into(),
        path: APP_DIR.into(),
    }
}

/// One `Run` step per command of `phase`; `build.env` reaches every phase, pre-run included.
fn phase<'a>(
    config: &'a AppRunnerConfig,
    stage: &'a str,
    phase: PhaseName,
) -> impl Iterator<Item = Step> + 'a {
    let commands = match phase {
        PhaseName::PreBuild => &config.build.pre_build,
        PhaseName::Build => &config.build.build,
        PhaseName::PostBuild => &config.build.post_build,
        PhaseName::PreRun => &config.run.pre_run,
    };
    commands.iter().map(move |command| Step::Run {
        stage: stage.into(),
        phase,
        command: command.clone(),
        workdir: APP_DIR.into(),
        env: config.build.env.clone(),
        hint: None,
    })
}

/// What App Runner's service sees: `run.command` through `/bin/sh -c` in /app, `run.env`, PORT and
/// the `run.network.env` variable set to the port.
fn image_config(config: &AppRunnerConfig, runtime: &ResolvedRuntime) -> ImageConfig {
    let run = &config.run;
    let mut env: Vec<ImageEnv> = run.env.iter().map(set).collect();
    if !run.path_prepend.is_empty() {
        env.push(ImageEnv::Prepend {
            name: "PATH".into(),
            value: run.path_prepend.join(":"),
            otherwise: DEFAULT_PATH.into(),
        });
    }
    let port = run.port.to_string();
    env.push(set(&EnvVar {
        name: "PORT".into(),
        value: port.clone(),
    }));
    if let Some(name) = &run.port_env {
        env.push(set(&EnvVar {
            name: name.clone(),
            value: port,
        }));
    }
    ImageConfig {
        cmd: vec!["/bin/sh".into(), "-c".into(), run.command.clone()],
        entrypoint: vec![],
        working_dir: APP_DIR.into(),
        env,
        port: run.port,
        user: None,
        labels: image_labels(config, runtime),
    }
}

fn set(var: &EnvVar) -> ImageEnv {
    ImageEnv::Set {
        name: var.name.clone(),
        value: var.value.clone(),
    }
}

fn image_labels(config: &AppRunnerConfig, runtime: &ResolvedRuntime) -> BTreeMap<String, String> {
    // The file as written; settings from flags or detection in their canonical JSON form.
    let digest = match &config.origin {
        ConfigOrigin::File(src) => sha256_hex(src.text.as_bytes()),
        ConfigOrigin::Flags | ConfigOrigin::Detected => {
            sha256_hex(&serde_json::to_vec(config).expect("settings always serialize"))
        }
    };
    let mut labels = BTreeMap::new();
    if !config.run.secrets.is_empty() {
        let names: Vec<&str> = config.run.secrets.iter().map(|s| s.name.as_str()).collect();
        labels.insert(labels::SECRETS.to_string(), names.join(","));
    }
    labels.insert(labels::RUNTIME.to_string(), runtime.name.clone());
    labels.insert(
        labels::RUNTIME_VERSION.to_string(),
        runtime.version.to_string(),
    );
    labels.insert(labels::RUNTIME_ORIGIN.to_string(), runtime.reason.clone());
    labels.insert(
        labels::CONFIG_DIGEST.to_string(),
        format!("sha256:{digest}"),
    );
    labels.insert(
        labels::TOOL_VERSION.to_string(),
        env!("CARGO_PKG_VERSION").to_string(),
    );
    labels
}
