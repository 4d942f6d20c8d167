//! From checked settings and a resolved runtime to the stages and steps App Runner runs.

use super::{
    labels, sha256_hex, BuildPlan, ImageConfig, ImageEnv, PhaseName, Stage, Step, APP_DIR,
    PLAN_FORMAT,
};
use crate::input::config::{AppRunnerConfig, ConfigOrigin, EnvVar};
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
        config_file,
        decisions: Vec::new(),
        stages,
        steps,
        image: image_config(config, &runtime),
        runtime,
    }
}

/// One container from the runtime image: pre-build and build, the commit, then post-build in the
/// same container, so that post-build's effects stay out of the image.
fn original_build(config: &AppRunnerConfig, runtime: &ResolvedRuntime) -> (Vec<Stage>, Vec<Step>) {
    let stages = vec![Stage {
        name: BUILD.into(),
        image: runtime.image.clone(),
        purpose:
            "the runtime image: the build commands run here and it becomes the application image"
                .into(),
    }];
    let mut steps = vec![copy_source(BUILD)];
    steps.extend(phase(config, BUILD, PhaseName::PreBuild));
    steps.extend(phase(config, BUILD, PhaseName::Build));
    steps.push(Step::Commit {
        stage: BUILD.into(),
    });
    steps.extend(phase(config, BUILD, PhaseName::PostBuild));
    (stages, steps)
}

/// Build in the build image; only /app is copied into a fresh runtime container, where pre-run
/// runs and which becomes the image; post-build resumes in the build container after the copy.
fn revised_build(config: &AppRunnerConfig, runtime: &ResolvedRuntime) -> (Vec<Stage>, Vec<Step>) {
    let stages = vec![
        Stage {
            name: BUILD.into(),
            image: runtime.build_image.clone(),
            purpose: "the build image: pre-build, build and post-build run here".into(),
        },
        Stage {
            name: RUNTIME.into(),
            image: runtime.image.clone(),
            purpose: "the runtime image: /app from the build stage, then pre-run; it becomes the application image".into(),
        },
    ];
    let mut steps = vec![copy_source(BUILD)];
    steps.extend(phase(config, BUILD, PhaseName::PreBuild));
    steps.extend(phase(config, BUILD, PhaseName::Build));
    steps.push(Step::CopyFromStage {
        stage: RUNTIME.into(),
        from: BUILD.into(),
        path: APP_DIR.into(),
    });
    steps.extend(phase(config, BUILD, PhaseName::PostBuild));
    steps.extend(phase(config, RUNTIME, PhaseName::PreRun));
    steps.push(Step::Commit {
        stage: RUNTIME.into(),
    });
    (stages, steps)
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
