//! Warnings about the plan's commands: what works differently, or not at all, under App Runner's
//! build than it seems — each located in apprunner.yaml when the command is written there.

use super::lost_installs::{LostInstall, LostInstalls};
use super::{BuildPlan, PhaseName, Step};
use crate::input::files::ProjectFiles;
use crate::report::codes;
use crate::report::diagnostic::{Diagnostic, Location, Position, SourceText};
use crate::resolve::catalog::BuildProcess;

/// Every warning about `plan`; `source` is the apprunner.yaml it came from, if any; `files` the
/// project, for what only its files tell (without it, those warnings are not looked for).
pub fn lint(
    plan: &BuildPlan,
    source: Option<&SourceText>,
    files: Option<&ProjectFiles>,
) -> Vec<Diagnostic> {
    // Dependency layers change when commands run, not what they are.
    let plan = &plan.unlayered();
    let mut found = installs_outside_app(plan, source);
    found.extend(second_run_without_build_env(plan, source));
    found.extend(amazon_linux_tools(plan, source));
    found.extend(python311_bare_names(plan, source));
    if let Some(command) = plan.image.start_command() {
        let at = locate(source, command);
        found.extend(
            super::ports::port_warnings(command, plan.image.port, files)
                .into_iter()
                .map(|d| match (&d.location, &at) {
                    (None, Some(at)) => d.at(at.clone()),
                    _ => d,
                }),
        );
    }
    found
}

/// Revised build: installs outside /app in pre-build or build have no effect at run time.
fn installs_outside_app(plan: &BuildPlan, source: Option<&SourceText>) -> Vec<Diagnostic> {
    if plan.runtime.build_process != BuildProcess::Revised {
        return vec![];
    }
    let mut found = Vec::new();
    let mut installs = None;
    let build_commands = plan.steps.iter().filter_map(|s| match s {
        Step::Run {
            phase,
            command,
            env,
            ..
        } if matches!(phase, PhaseName::PreBuild | PhaseName::Build) => {
            Some((*phase, command, env))
        }
        _ => None,
    });
    for (phase, command, env) in build_commands {
        // In the order they run, so that a virtualenv made by one is known to the next.
        let installs = installs.get_or_insert_with(|| LostInstalls::new(env));
        let lost = installs.check(command);
        let python = match lost {
            Some(LostInstall::Python(tool)) => Some(tool),
            _ => None,
        };
        let what = match lost {
            Some(LostInstall::Python(tool)) => format!("{tool} installs packages outside /app"),
            Some(LostInstall::NpmGlobal) => {
                "a global npm/yarn install writes outside /app".to_string()
            }
            None => continue,
        };
        found.push(
            Diagnostic::warning(codes::INSTALL_OUTSIDE_APP, format!("'{phase}' command `{command}`: {what}"))
                .at_opt(locate(source, command))
                .with_note(format!(
                    "{} uses App Runner's revised build: only /app is copied into the runtime image, so this has no effect at run time",
                    plan.runtime.name
                ))
                .with_help(if python.is_some() {
                    "install in `run.pre-run` instead, or into /app (`pip install --target ./packages -r requirements.txt` with PYTHONPATH, or a venv under /app)"
                } else {
                    "install locally (without -g) so the packages land in /app/node_modules, or install in `run.pre-run`"
                }),
        );
    }
    found
}

/// Original build: App Runner runs the build commands a second time, in the runtime image and
/// without build.env (reported by users, not documented): a command that reads a build.env
/// variable may behave differently then.
fn second_run_without_build_env(plan: &BuildPlan, source: Option<&SourceText>) -> Vec<Diagnostic> {
    if plan.runtime.build_process != BuildProcess::Original {
        return vec![];
    }
    let build_env: Vec<&str> = plan
        .steps
        .iter()
        .find_map(|s| match s {
            Step::Run { env, .. } if !env.is_empty() => Some(env),
            _ => None,
        })
        .map(|env| env.iter().map(|v| v.name.as_str()).collect())
        .unwrap_or_default();
    let mut seen = Vec::new();
    let mut found = Vec::new();
    for step in &plan.steps {
        let Step::Run {
            phase: PhaseName::Build,
            command,
            ..
        } = step
        else {
            continue;
        };
        if seen.contains(&command) {
            continue;
        }
        seen.push(command);
        let Some(name) = build_env.iter().find(|n| mentions_variable(command, n)) else {
            continue;
        };
        found.push(
            Diagnostic::warning(
                codes::SECOND_RUN_WITHOUT_BUILD_ENV,
                format!("'build' command `{command}` uses {name} from build.env: App Runner runs this command a second time without build.env"),
            )
            .at_opt(locate(source, command))
            .with_note(format!(
                "{} uses App Runner's original build: the build commands run again in the runtime image, and deployment logs show that run gets no build.env (reported by users, not documented)",
                plan.runtime.name
            ))
            .with_help(format!("give {name} a default in the command (`${{{name}:-value}}`), or move the command to pre-build or post-build")),
        );
    }
    found
}

/// `yum`, `dnf` and `amazon-linux-extras` work in App Runner's Amazon Linux images, not in the
/// Debian images this tool builds on.
fn amazon_linux_tools(plan: &BuildPlan, source: Option<&SourceText>) -> Vec<Diagnostic> {
    const TOOLS: &[&str] = &["yum", "dnf", "amazon-linux-extras"];
    each_command(plan)
        .filter_map(|(phase, command)| {
            let tool = command_words(command).find(|w| TOOLS.contains(w))?;
            Some(
                Diagnostic::warning(
                    codes::AMAZON_LINUX_TOOL,
                    format!("'{phase}' command `{command}` runs {tool}: it works on App Runner, whose images are Amazon Linux, but fails here"),
                )
                .at_opt(locate(source, command))
                .with_note("apprunner-build's runtime images are Debian based (official python and node images): they have apt-get, not yum or dnf")
                .with_help("to build locally too, install with `command -v yum >/dev/null && yum install -y PKG || (apt-get update && apt-get install -y PKG)`"),
            )
        })
        .collect()
}

/// App Runner's python311 images may have only `python3` and `pip3` (its guide says to use those
/// names); the local images have both.
fn python311_bare_names(plan: &BuildPlan, source: Option<&SourceText>) -> Vec<Diagnostic> {
    if plan.runtime.name != "python311" {
        return vec![];
    }
    let start = plan.image.start_command().map(|c| ("run", c));
    each_command(plan)
        .map(|(phase, command)| (phase.config_name(), command))
        .chain(start)
        .filter_map(|(what, command)| {
            let bare = command_words(command).find(|w| *w == "pip" || *w == "python")?;
            Some(
                Diagnostic::warning(
                    codes::PYTHON311_BARE_NAME,
                    format!("'{what}' command `{command}` calls `{bare}`: use `{bare}3` with python311"),
                )
                .at_opt(locate(source, command))
                .with_note("App Runner's guide for python311 says: use pip3 instead of pip, python3 instead of python; its image may not have the short names")
                .with_help(format!("write `{bare}3`")),
            )
        })
        .collect()
}

/// Every command of the plan, once, with its phase.
fn each_command(plan: &BuildPlan) -> impl Iterator<Item = (PhaseName, &str)> {
    let mut seen: Vec<(PhaseName, &str)> = Vec::new();
    plan.steps
        .iter()
        .filter_map(|s| match s {
            Step::Run { phase, command, .. } => Some((*phase, command.as_str())),
            _ => None,
        })
        .filter(move |item| {
            let new = !seen.contains(item);
            seen.push(*item);
            new
        })
}

/// The words in command position: first of the line, and after `;`, `&&`, `||`, `|`, `sudo`.
fn command_words(command: &str) -> impl Iterator<Item = &str> {
    let mut next_is_command = true;
    command
        .split(|c: char| c.is_whitespace())
        .filter(|w| !w.is_empty())
        .filter_map(move |word| {
            let is_command = next_is_command;
            next_is_command = matches!(word, ";" | "&&" | "||" | "|" | "sudo" | "then" | "do")
                || word.ends_with(';');
            let word = word.trim_end_matches(';');
            (is_command && !word.is_empty()).then_some(word)
        })
}

/// Whether `command` reads `$name` or `${name…}`.
fn mentions_variable(command: &str, name: &str) -> bool {
    command.match_indices('$').any(|(i, _)| {
        let rest = &command[i + 1..];
        let rest = rest.strip_prefix('{').unwrap_or(rest);
        rest.starts_with(name)
            && !rest[name.len()..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// Where `command` is written in apprunner.yaml: the first line that holds it.
fn locate(source: Option<&SourceText>, command: &str) -> Option<Location> {
    let source = source?;
    let (index, line) = source
        .text
        .lines()
        .enumerate()
        .find(|(_, line)| line.contains(command))?;
    let column = line[..line.find(command)?].chars().count() + 1;
    Some(Location::at(
        source,
        Position {
            line: index + 1,
            column,
        },
        command.chars().count(),
    ))
}

#[cfg(test)]
mod tests {
    use super::{command_words, mentions_variable};

    #[test]
    fn command_words_are_the_words_in_command_position() {
        let words: Vec<&str> =
            command_words("sudo yum install -y gcc && dnf x; echo yum | amazon-linux-extras")
                .collect();
        assert_eq!(words, ["sudo", "yum", "dnf", "echo", "amazon-linux-extras"]);
    }

    #[test]
    fn variables_are_matched_whole() {
        assert!(mentions_variable("echo $MODE", "MODE"));
        assert!(mentions_variable("echo ${MODE:-x}", "MODE"));
        assert!(!mentions_variable("echo $MODE_X", "MODE"));
        assert!(!mentions_variable("echo MODE", "MODE"));
    }
}
