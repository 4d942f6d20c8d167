//! The messages of the engine's and `run`'s errors: App Runner's failure line with its code, what
//! to do about it, the exit code, and the lines that say why a run failed.

use crate::engine::run::{RunError, Tail};
use crate::engine::EngineError;
use crate::report::codes;
use crate::report::exit;

/// The reason in App Runner's failure line, with the code:
/// `Failed to build your application source code. Reason: <this>`.
pub fn build_failure_reason(e: &EngineError) -> String {
    format!("{} [{}]", failure_text(e), engine_code(e))
}

fn failure_text(e: &EngineError) -> String {
    match e {
        EngineError::CommandFailed {
            phase,
            command,
            exit_code,
            ..
        } => {
            format!(
                "Failed to execute '{phase}' command '{}' (exit code {exit_code}).",
                crate::report::log::clipped(command)
            )
        }
        EngineError::Pull { image, reason } => {
            format!("Failed to pull the runtime image {image}: {reason}.")
        }
        EngineError::CommandTimedOut { of, command, limit } => {
            format!("Stopped {of} '{command}': it ran longer than the --command-timeout limit of {limit}.")
        }
        EngineError::CommandOutOfMemory {
            of,
            command,
            exit_code,
            memory,
        } => {
            let limit = match memory {
                Some(m) => format!(" under --memory {m}"),
                None => String::new(),
            };
            let code = match exit_code {
                137 => String::new(),
                code => format!(" (the command then exited with code {code})"),
            };
            format!("Failed to execute {of} '{command}': killed: out of memory{limit}{code}.")
        }
        EngineError::SetupFailed {
            command,
            purpose,
            exit_code,
        } => {
            format!("Failed to execute the setup command '{command}' ({purpose}) (exit code {exit_code}).")
        }
        EngineError::Interrupted => "The build was interrupted.".to_string(),
        EngineError::Docker { action, source } if connection_lost(source) => {
            format!("Lost the connection to the Docker engine while {action}: {source}.")
        }
        other => format!("{}.", capitalize(&other.to_string())),
    }
}

/// The code of a build failure.
pub fn engine_code(e: &EngineError) -> codes::Code {
    match e {
        EngineError::Connect { .. } => codes::ENGINE_UNREACHABLE,
        EngineError::Pull { .. } => codes::PULL_FAILED,
        EngineError::Docker { .. } => codes::ENGINE_CALL_FAILED,
        EngineError::Source { .. } => codes::SOURCE_UNREADABLE,
        EngineError::CaBundle { .. } => codes::CA_BUNDLE_UNUSABLE,
        EngineError::CommandFailed { .. } => codes::COMMAND_FAILED,
        EngineError::CommandTimedOut { .. } => codes::COMMAND_TIMED_OUT,
        EngineError::CommandOutOfMemory { .. } => codes::COMMAND_OUT_OF_MEMORY,
        EngineError::SetupFailed { .. } => codes::SETUP_FAILED,
        EngineError::InvalidImageName(_) => codes::INVALID_IMAGE_NAME,
        EngineError::Plan(_) => codes::INVALID_PLAN,
        EngineError::Interrupted => codes::INTERRUPTED,
        EngineError::Unsupported(_) => codes::ENGINE_UNSUPPORTED,
        EngineError::Settings(_) => codes::ENGINE_SETTINGS,
    }
}

/// The code of a `run` failure.
pub fn run_code(e: &RunError) -> codes::Code {
    match e {
        RunError::MissingSecrets(_) => codes::MISSING_SECRETS,
        RunError::BadSecret { .. } => codes::BAD_SECRET_VALUE,
        RunError::NoImage(_) => codes::NO_SUCH_IMAGE,
        RunError::Exited { .. } => codes::APP_EXITED,
        RunError::Unhealthy { .. } => codes::APP_UNHEALTHY,
        RunError::Docker { .. } => codes::RUN_ENGINE_CALL_FAILED,
        RunError::PortInUse { .. } => codes::PORT_IN_USE,
    }
}

/// The exit code for a build that failed with `e`.
pub fn engine_exit_code(e: &EngineError) -> u8 {
    match e {
        EngineError::CommandFailed { .. }
        | EngineError::CommandTimedOut { .. }
        | EngineError::CommandOutOfMemory { .. }
        | EngineError::SetupFailed { .. } => exit::BUILD_COMMAND_FAILED,
        EngineError::Connect { .. }
        | EngineError::Pull { .. }
        | EngineError::Docker { .. }
        | EngineError::Unsupported(_)
        | EngineError::Settings(_) => exit::ENGINE_FAILED,
        EngineError::Source { .. } | EngineError::Plan(_) => exit::INVALID_INPUT,
        EngineError::CaBundle { .. } | EngineError::InvalidImageName(_) => exit::USAGE,
        EngineError::Interrupted => exit::INTERRUPTED,
    }
}

/// The exit code for a `run` that failed with `e`.
pub fn run_exit_code(e: &RunError) -> u8 {
    match e {
        RunError::MissingSecrets(_) | RunError::BadSecret { .. } | RunError::PortInUse { .. } => {
            exit::USAGE
        }
        RunError::NoImage(_) => exit::INVALID_INPUT,
        RunError::Exited { .. } => exit::APP_EXITED,
        RunError::Unhealthy { .. } => exit::APP_UNHEALTHY,
        RunError::Docker { .. } => exit::ENGINE_FAILED,
    }
}

/// What to do when no engine answers.
pub(crate) const CONNECT_HELP: &str = "start a Docker engine (on Debian: apt-get install docker.io, then dockerd), or point DOCKER_HOST at one (unix:// or tcp://)";

/// What to do about an engine error, when there is something to say.
pub fn engine_help(e: &EngineError) -> Option<String> {
    match e {
        EngineError::Connect { help: Some(help), .. } => Some(help.clone()),
        EngineError::Connect { .. } => Some(CONNECT_HELP.into()),
        EngineError::Docker { source, .. } if connection_lost(source) => Some(
            "the engine stopped, restarted or dropped the connection: check that it runs (`docker info`); the containers this build could not remove are removed by the next build".into(),
        ),
        EngineError::Pull { image, .. } => Some(format!(
            "if no registry is reachable from here, load or build {image} locally under that name, or point the runtime at a mirror or a local image with --catalog FILE (format: runtimes/*.toml)"
        )),
        EngineError::CommandFailed { hint: Some(hint), .. } => Some(format!(
            "{hint}; the command's output is above, under its phase's prefix"
        )),
        EngineError::CommandFailed { .. } => Some("the command's output is above, under its phase's prefix".into()),
        EngineError::CommandTimedOut { .. } => Some("the command's output is above, under its phase's prefix: if it was still working, give it longer (--command-timeout 30m); if it waited for input or a network that does not answer, that is what to fix".into()),
        EngineError::CommandOutOfMemory { memory: Some(_), .. } => Some("give the build more memory (--memory 4g), or make the command use less: fewer parallel jobs, NODE_OPTIONS=--max-old-space-size=N for node".into()),
        EngineError::CommandOutOfMemory { memory: None, .. } => Some("the engine's machine ran out of memory: free some, or make the command use less (fewer parallel jobs, NODE_OPTIONS=--max-old-space-size=N for node)".into()),
        EngineError::SetupFailed { .. } => Some("the output is above, under [Setup]: --user NAME needs useradd (Debian) or adduser (busybox) in the runtime image; --user UID needs neither".into()),
        EngineError::InvalidImageName(_) => Some("use NAME[:TAG] with a lowercase name, e.g. -t my-app:latest".into()),
        EngineError::CaBundle { .. } => Some("pass a PEM file of CA certificates, e.g. --ca-bundle /etc/ssl/certs/ca-certificates.crt".into()),
        _ => None,
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// When the application died for a module it cannot find: the revised build's packages
/// installed outside /app never reach the runtime image (warning AR400).
fn missing_module_hint(tail: &[String]) -> Option<String> {
    let missing = tail
        .iter()
        .any(|l| l.contains("ModuleNotFoundError") || l.contains("Cannot find module"));
    missing.then(|| format!(
        "The application cannot find a module. With the revised build (python311, nodejs18, nodejs22), what a build command installs outside /app does not reach the runtime image, as on App Runner (warning {}, shown by `apprunner-build plan`): install packages into /app, or in run.pre-run.",
        codes::INSTALL_OUTSIDE_APP
    ))
}

/// The `[AppRunner]` lines for a run that failed, with the application's last output.
pub fn run_failure(e: &RunError, unhealthy_threshold: u32, interval: u64) -> Vec<String> {
    let mut lines = run_failure_lines(e, unhealthy_threshold, interval);
    if let Some(first) = lines.first_mut() {
        first.push_str(&format!(" [{}]", run_code(e)));
    }
    lines
}

fn run_failure_lines(e: &RunError, unhealthy_threshold: u32, interval: u64) -> Vec<String> {
    let tail_lines = |tail: &Tail| -> Vec<String> {
        if tail.lines.is_empty() {
            vec!["The application printed nothing.".into()]
        } else if tail.streamed {
            vec!["See the application's output above ([Application] lines).".into()]
        } else {
            let mut lines = vec![format!(
                "The application's last {} line(s):",
                tail.lines.len()
            )];
            lines.extend(tail.lines.iter().map(|l| format!("  | {l}")));
            lines
        }
    };
    match e {
        RunError::MissingSecrets(names) => vec![format!(
            "Missing secret value(s) for {}: give them in --secrets-file FILE (NAME=VALUE lines), or set each in this environment and name it with --secret NAME (the environment is never read for a secret that is not named). Nothing was started.",
            names.join(", ")
        )],
        RunError::BadSecret { .. } => vec![format!("{}. Nothing was started.", capitalize(&e.to_string()))],
        RunError::Exited {
            code,
            oom_killed,
            tail,
        } => {
            let mut lines = vec![if *oom_killed {
                format!("The application exited with code {code}: the engine killed it for want of memory (out of memory).")
            } else {
                format!("The application exited with code {code}.")
            }];
            lines.extend(tail_lines(tail));
            lines.extend(missing_module_hint(&tail.lines));
            lines
        }
        RunError::Unhealthy {
            protocol,
            port,
            failures,
            last_error,
            elapsed,
            tail,
        } => {
            let mut lines = vec![
                format!("Health check failed on protocol `{protocol}` [Port: '{port}']: {failures} checks in a row failed (last: {last_error})."),
                format!(
                    "Check that the application listens on 0.0.0.0 and on the port in PORT ({port}); it had {} s ({unhealthy_threshold} checks, {interval} s apart).",
                    elapsed.as_secs_f64().round()
                ),
            ];
            if last_error == "HTTP status 404" {
                if let crate::engine::run::HealthProtocol::Http(path) = protocol {
                    lines.push(format!(
                        "The application answers, but not on {path} (404 Not Found): point the health check at a path it serves, --health-check http:/PATH, or check the port only with --health-check tcp."
                    ));
                }
            }
            lines.extend(tail_lines(tail));
            lines
        }
        RunError::NoImage(image) => vec![format!(
            "Image {image} was not found: build it first (apprunner-build build DIR -t {image}), or give the source directory instead."
        )],
        RunError::Docker { .. } => vec![format!("{}.", capitalize(&e.to_string()))],
        RunError::PortInUse { ip, port } => {
            let flag = if ip.is_loopback() { String::new() } else { format!("{ip}:") };
            vec![format!(
                "Port {port} on {ip} is already in use on this machine (another process, or another container, holds it). Publish on any free port with -p {flag}0, or on another one with -p {flag}PORT. Nothing was started."
            )]
        }
    }
}

/// Whether an engine call failed because the connection itself went away (the engine stopped or
/// restarted, a relay died), not because the engine answered with an error.
fn connection_lost(e: &bollard::errors::Error) -> bool {
    use bollard::errors::Error;
    matches!(
        e,
        Error::IOError { .. }
            | Error::HyperResponseError { .. }
            | Error::HyperLegacyError { .. }
            | Error::RequestTimeoutError
    )
}

#[cfg(test)]
mod tests {
    use super::run_failure;
    use crate::engine::run::{HealthProtocol, RunError, Tail};
    use std::time::Duration;

    fn tail(lines: &[&str], streamed: bool) -> Tail {
        Tail {
            lines: lines.iter().map(|l| l.to_string()).collect(),
            streamed,
        }
    }

    #[test]
    fn an_exit_says_out_of_memory_and_points_at_streamed_output_instead_of_repeating_it() {
        let e = RunError::Exited {
            code: 137,
            oom_killed: true,
            tail: tail(&["allocating"], true),
        };
        let lines = run_failure(&e, 5, 5);
        assert!(
            lines[0].starts_with(
                "The application exited with code 137: the engine killed it for want of memory"
            ) && lines[0].ends_with("[AR602]"),
            "{lines:?}"
        );
        assert_eq!(
            lines[1..],
            ["See the application's output above ([Application] lines)."]
        );
        // Lines that were not streamed are shown.
        let e = RunError::Exited {
            code: 1,
            oom_killed: false,
            tail: tail(&["Error: Cannot find module 'express'"], false),
        };
        let lines = run_failure(&e, 5, 5);
        assert_eq!(lines[0], "The application exited with code 1. [AR602]");
        assert_eq!(lines[1], "The application's last 1 line(s):");
        assert_eq!(lines[2], "  | Error: Cannot find module 'express'");
        assert!(lines[3].contains("warning AR400"), "{lines:?}");
    }

    #[test]
    fn an_http_404_suggests_another_path_and_the_time_is_the_real_one() {
        let e = RunError::Unhealthy {
            protocol: HealthProtocol::Http("/".into()),
            port: 8080,
            failures: 3,
            last_error: "HTTP status 404".into(),
            elapsed: Duration::from_millis(2400),
            tail: tail(&[], true),
        };
        let lines = run_failure(&e, 3, 1).join("\n");
        assert!(
            lines.contains("it had 2 s (3 checks, 1 s apart)"),
            "{lines}"
        );
        assert!(lines.contains("--health-check http:/PATH"), "{lines}");
        assert!(
            lines.contains("The application printed nothing."),
            "{lines}"
        );
        let e = RunError::Unhealthy {
            protocol: HealthProtocol::Tcp,
            port: 8080,
            failures: 3,
            last_error: "connection refused".into(),
            elapsed: Duration::from_secs(12),
            tail: tail(&[], true),
        };
        assert!(!run_failure(&e, 3, 5).join("\n").contains("http:/PATH"));
    }
}
