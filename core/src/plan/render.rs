//! The human view of a plan, for `apprunner-build plan`.

use super::{BuildPlan, ImageEnv, Step};
use crate::input::config::EnvVar;
use std::fmt::Write;

pub fn render(plan: &BuildPlan) -> String {
    let mut o = String::new();
    header(&mut o, plan);
    stages(&mut o, plan);
    steps(&mut o, plan);
    image(&mut o, plan);
    o
}

fn header(o: &mut String, plan: &BuildPlan) {
    let rt = &plan.runtime;
    let configuration = match (&plan.config_file, plan.decisions.is_empty()) {
        (Some(p), _) => shown(p),
        (None, true) => "command-line flags".into(),
        (None, false) => "none: derived from the project's files".into(),
    };
    let _ = writeln!(o, "Source:        {}", shown(&plan.source_root));
    if plan.leaves_out_git_ignored {
        let _ = writeln!(
            o,
            "  left out:    what git ignores, as App Runner builds only the committed tree (--include-git-ignored builds it)"
        );
    }
    let _ = writeln!(o, "Configuration: {configuration}");
    for d in &plan.decisions {
        let _ = writeln!(o, "  {}: `{}` — from {}", d.setting, d.value, d.origin);
    }
    let extension = if rt.app_runner {
        ""
    } else {
        "; not an App Runner runtime"
    };
    let _ = writeln!(
        o,
        "Runtime:       {} {} ({} build{extension})",
        rt.name, rt.version, rt.build_process
    );
    let _ = writeln!(o, "  why:         {}", rt.reason);
    if let Some(eos) = rt.end_of_support {
        let _ = writeln!(o, "  end of support: {eos}");
    }
}

fn stages(o: &mut String, plan: &BuildPlan) {
    let _ = writeln!(o, "\nStages:");
    let width = plan.stages.iter().map(|s| s.name.len()).max().unwrap_or(0);
    for s in &plan.stages {
        let _ = writeln!(o, "  {:width$}  {} — {}", s.name, s.image, s.purpose);
    }
}

fn steps(o: &mut String, plan: &BuildPlan) {
    let _ = writeln!(o, "\nSteps:");
    let width = plan.stages.iter().map(|s| s.name.len()).max().unwrap_or(0) + 2;
    let envs: Vec<&Vec<EnvVar>> = plan
        .flat_steps()
        .filter_map(|s| match s {
            Step::Run { env, .. } => Some(env),
            _ => None,
        })
        .collect();
    // One line for build.env when every command gets the same; else each command shows its own.
    let shared_env = envs
        .first()
        .filter(|first| envs.iter().all(|e| e == *first));
    for (i, step) in plan.steps.iter().enumerate() {
        let stage = format!("[{}]", step.stage());
        let what = match step {
            Step::CopySource { path, .. } => format!("copy the source into {path}"),
            Step::CopyFromStage { from, path, .. } => {
                format!("copy {path} from the {from} stage")
            }
            Step::Run {
                phase,
                command,
                env,
                workdir,
                ..
            } => {
                let mut text = format!("{phase}: {command}");
                if workdir != super::APP_DIR {
                    text.push_str(&format!(" (in {workdir})"));
                }
                if shared_env.is_none() {
                    text.push_str(&format!("  [env: {}]", pairs(env)));
                }
                text
            }
            Step::Setup {
                command, purpose, ..
            } => format!("setup, as root: {command}\n        ({purpose})"),
            Step::Commit { .. } => "commit: this stage becomes the application image".into(),
            Step::Announce { message, .. } => format!("say: {message}"),
            Step::Install {
                from,
                path,
                files,
                runs,
                reason,
                ..
            } => {
                let over = match (files.is_empty(), from) {
                    (true, _) => format!("an empty {path}"),
                    (false, None) => format!("{} from the source", files.join(", ")),
                    (false, Some(from)) => {
                        format!("{} from the {from} stage's {path}", files.join(", "))
                    }
                };
                let mut text = format!(
                    "dependency layer (reused while its inputs are unchanged; {reason}): over only {over}:"
                );
                for run in runs {
                    if let Step::Run { phase, command, .. } = run {
                        text.push_str(&format!("\n        {phase}: {command}"));
                    }
                }
                text
            }
        };
        let _ = writeln!(o, "  {:>2}. {stage:width$} {what}", i + 1);
    }
    if let Some(env) = shared_env.filter(|e| !e.is_empty()) {
        let _ = writeln!(o, "  build env (every command): {}", pairs(env));
    }
    let _ = writeln!(
        o,
        "  only /app reaches the runtime stage; post-build never reaches the image"
    );
}

fn image(o: &mut String, plan: &BuildPlan) {
    let image = &plan.image;
    let _ = writeln!(o, "\nImage:");
    match image.start_command() {
        Some(command) => {
            let _ = writeln!(o, "  command: {command}");
        }
        None => {
            let _ = writeln!(o, "  cmd:     {:?}", image.cmd);
        }
    }
    let port_vars: Vec<&str> = image
        .env
        .iter()
        .filter_map(|e| match e {
            ImageEnv::Set { name, value } if *value == image.port.to_string() => {
                Some(name.as_str())
            }
            _ => None,
        })
        .collect();
    let _ = writeln!(
        o,
        "  port:    {} (in {})",
        image.port,
        port_vars.join(" and ")
    );
    let set: Vec<String> = image
        .env
        .iter()
        .filter_map(|e| match e {
            ImageEnv::Set { name, value } if !port_vars.contains(&name.as_str()) => {
                Some(format!("{name}={value}"))
            }
            _ => None,
        })
        .collect();
    if !set.is_empty() {
        let _ = writeln!(o, "  env:     {}", set.join(" "));
    }
    for e in &image.env {
        if let ImageEnv::Prepend { name, value, .. } = e {
            let _ = writeln!(o, "  {name}:    {value} first");
        }
    }
    if let Some(user) = &image.user {
        let _ = writeln!(o, "  user:    {user}");
    }
    let secrets = image.secret_names();
    if !secrets.is_empty() {
        let _ = writeln!(o, "  secrets: {}", secrets.join(", "));
    }
}

fn pairs(vars: &[EnvVar]) -> String {
    if vars.is_empty() {
        return "none".into();
    }
    vars.iter()
        .map(|v| format!("{}={}", v.name, v.value))
        .collect::<Vec<_>>()
        .join(" ")
}

fn shown(p: &std::path::Path) -> String {
    let s = p.display().to_string();
    if s.is_empty() {
        ".".into()
    } else {
        s
    }
}
