//! Commands that work under App Runner's original build but lose their effect under the revised
//! one, where only /app reaches the runtime image.

use super::{BuildPlan, PhaseName, Step};
use crate::report::codes;
use crate::report::diagnostic::Diagnostic;
use crate::resolve::catalog::BuildProcess;

/// Warnings about the plan's commands; empty for the original build.
pub fn lint(plan: &BuildPlan) -> Vec<Diagnostic> {
    if plan.runtime.build_process != BuildProcess::Revised {
        return vec![];
    }
    let mut found = Vec::new();
    let build_commands = plan.steps.iter().filter_map(|s| match s {
        Step::Run { phase, command, .. }
            if matches!(phase, PhaseName::PreBuild | PhaseName::Build) =>
        {
            Some((*phase, command))
        }
        _ => None,
    });
    for (phase, command) in build_commands {
        let words: Vec<&str> = command.split_whitespace().collect();
        let pip = words
            .windows(2)
            .any(|w| w[0].ends_with("pip") || w[0].ends_with("pip3"))
            && words.contains(&"install")
            && !installs_only_build_tools(&words);
        let pip_into_app = ["--target", "-t", "--prefix", "--root"]
            .iter()
            .any(|f| words.iter().any(|w| w.starts_with(f)))
            || command.contains("venv")
            || command.contains("/app");
        let npm_global = (words.contains(&"npm") || words.contains(&"yarn"))
            && (words.contains(&"-g") || words.contains(&"--global") || words.contains(&"global"))
            && !installs_only_build_tools(&words);
        let what = if pip && !pip_into_app {
            "pip installs packages outside /app"
        } else if npm_global {
            "a global npm/yarn install writes outside /app"
        } else {
            continue;
        };
        found.push(
            Diagnostic::warning(codes::INSTALL_OUTSIDE_APP, format!("'{phase}' command `{command}`: {what}"))
                .with_note(format!(
                    "{} uses App Runner's revised build: only /app is copied into the runtime image, so this has no effect at run time",
                    plan.runtime.name
                ))
                .with_help(if pip {
                    "install in `run.pre-run` instead, or into /app (`pip install --target ./packages -r requirements.txt` with PYTHONPATH, or a venv under /app)"
                } else {
                    "install locally (without -g) so the packages land in /app/node_modules, or install in `run.pre-run`"
                }),
        );
    }
    found
}

/// `pip install poetry`, `npm install -g pnpm@9` and the like: package managers the build itself
/// uses, not needed at run time.
fn installs_only_build_tools(words: &[&str]) -> bool {
    const TOOLS: &[&str] = &[
        "pipenv",
        "poetry",
        "uv",
        "pip",
        "setuptools",
        "wheel",
        "npm",
        "pnpm",
        "yarn",
        "corepack",
    ];
    let after = words.iter().skip_while(|w| **w != "install").skip(1);
    let packages: Vec<&&str> = after.filter(|w| !w.starts_with('-')).collect();
    !packages.is_empty()
        && packages.iter().all(|p| {
            TOOLS
                .iter()
                .any(|t| p.split(['=', '<', '>', '~', '@']).next() == Some(t))
        })
}
