//! Every user-facing error text, written in one place.
//!
//! Steps return their own error types (`ResolveError`, `CatalogError`, …) or located
//! [`Diagnostic`]s; this module turns them into messages a person can act on:
//! a header, the offending line with a caret, notes, and a suggestion.

use crate::engine::run::{RunError, Tail};
use crate::engine::EngineError;
use crate::report::codes;
use crate::report::diagnostic::{Diagnostic, Diagnostics, Location, Severity};
use crate::report::exit;
use crate::report::suggest;
use crate::resolve::catalog::CatalogError;
use crate::resolve::runtime::ResolveError;

/// Render one diagnostic, compiler style.
pub fn render(d: &Diagnostic) -> String {
    let label = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    };
    let mut out = format!("{label}[{}]: {}\n", d.code, d.message);
    if let Some(loc) = &d.location {
        out.push_str(&snippet(loc));
    }
    let pad = gutter_width(d.location.as_ref());
    for note in &d.notes {
        out.push_str(&indent_after_first(
            &format!("{:pad$} = note: {note}", ""),
            pad + 9,
        ));
    }
    if let Some(help) = &d.help {
        out.push_str(&indent_after_first(
            &format!("{:pad$} = help: {help}", ""),
            pad + 9,
        ));
    }
    out
}

fn gutter_width(loc: Option<&Location>) -> usize {
    loc.and_then(|l| l.position)
        .map_or(1, |p| p.line.to_string().len())
}

fn indent_after_first(text: &str, by: usize) -> String {
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        if i > 0 {
            out.push_str(&" ".repeat(by));
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

fn snippet(loc: &Location) -> String {
    let pad = gutter_width(Some(loc));
    let mut out = format!("{:pad$}--> {}\n", "", loc.short());
    let (Some(pos), Some(src)) = (loc.position, &loc.source) else {
        return out;
    };
    let Some(line) = src.line(pos.line) else {
        return out;
    };
    // Tabs would misalign the caret; show them as single spaces.
    let shown: String = line
        .chars()
        .map(|c| if c == '\t' { ' ' } else { c })
        .collect();
    out.push_str(&format!("{:pad$} |\n", ""));
    out.push_str(&format!("{} | {}\n", pos.line, shown.trim_end()));
    out.push_str(&format!(
        "{:pad$} | {}{}\n",
        "",
        " ".repeat(pos.column.saturating_sub(1)),
        "^".repeat(loc.width.max(1))
    ));
    out
}

/// Render a list, then a one-line summary when anything failed.
pub fn render_all(diags: &Diagnostics) -> String {
    let mut out = String::new();
    for d in diags.iter() {
        out.push_str(&render(d));
        out.push('\n');
    }
    let errors = diags.error_count();
    if errors > 0 {
        out.push_str(&format!(
            "error: {errors} problem{} found\n",
            if errors == 1 { "" } else { "s" }
        ));
    }
    out
}

impl From<ResolveError> for Diagnostic {
    fn from(e: ResolveError) -> Self {
        match e {
            ResolveError::UnknownRuntime {
                name,
                location,
                known,
                unsupported,
            } => unknown_runtime(&name, location, &known, unsupported),
            ResolveError::MalformedVersion {
                text,
                origin,
                location,
                expected,
            } => Diagnostic::error(
                codes::MALFORMED_VERSION,
                format!("`{text}` ({origin}) is not a version requirement"),
            )
            .at_opt(location)
            .with_help(format!("write {expected}")),
            ResolveError::VersionNotOffered {
                runtime,
                request,
                available,
                other_runtime,
            } => {
                let mut d = Diagnostic::error(
                    codes::VERSION_NOT_OFFERED,
                    format!(
                        "{runtime} has no version matching `{}` ({})",
                        request.text, request.origin
                    ),
                )
                .at_opt(request.location.clone())
                .with_note(format!("{runtime} versions: {available}"));
                d = match other_runtime {
                    Some(other) => d.with_help(format!(
                        "for version {}, use `runtime: {other}`",
                        request.text
                    )),
                    None => d.with_help(
                        "pick one of the versions above, or remove the requirement to get the latest",
                    ),
                };
                d
            }
            ResolveError::Conflict {
                runtime,
                requests,
                available,
            } => {
                let origins = requests
                    .iter()
                    .map(|r| format!("`{}` from {}", r.text, r.origin))
                    .collect::<Vec<_>>();
                let mut d = Diagnostic::error(
                    codes::VERSION_CONFLICT,
                    format!(
                        "conflicting {runtime} versions: no version satisfies {}",
                        origins.join(" and ")
                    ),
                )
                .at_opt(requests.iter().find_map(|r| r.location.clone()));
                for r in requests.iter().skip(1) {
                    if let Some(l) = &r.location {
                        d = d.with_note(format!("also requested at {}: {}", l.short(), r.text));
                    }
                }
                d.with_note(format!("{runtime} versions: {available}"))
                    .with_note("App Runner fails the build when package.json and apprunner.yaml disagree")
                    .with_help("make engines.node in package.json allow the runtime-version in apprunner.yaml, or change one of them")
            }
        }
    }
}

fn unknown_runtime(
    name: &str,
    location: Option<Location>,
    known: &[String],
    unsupported: Option<String>,
) -> Diagnostic {
    if let Some(what) = unsupported {
        return Diagnostic::error(codes::UNSUPPORTED_RUNTIME, format!(
            "runtime `{name}` ({what}) is an App Runner runtime that apprunner-build does not build"
        ))
        .at_opt(location)
        .with_note("apprunner-build builds the Python and Node.js runtimes only")
        .with_help("build this service with App Runner itself, or with a Dockerfile and an image-based service");
    }
    let d = Diagnostic::error(codes::UNKNOWN_RUNTIME, format!("unknown runtime `{name}`"))
        .at_opt(location);
    let known_refs: Vec<&str> = known.iter().map(String::as_str).collect();
    let squashed: String = name
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    if known_refs.contains(&squashed.as_str()) {
        return d
            .with_note("App Runner's runtime names are exact: lowercase, no spaces; this one would be rejected")
            .with_help(format!("write `runtime: {squashed}`"));
    }
    let d = d.with_note(format!("runtimes: {}", known.join(", ")));
    match name.to_ascii_lowercase().as_str() {
        "docker" | "custom" | "container" => d
            .with_note("apprunner.yaml is for source-code services; a Dockerfile-based service has no runtime key")
            .with_help("for a Dockerfile, build and push the image yourself and create an image-based App Runner service"),
        "python" => d.with_help("write `runtime: python311` (or python3 for Python 3.7/3.8)"),
        "node" | "nodejs" => d.with_help("write `runtime: nodejs22` (or another nodejsNN from the list)"),
        _ => match suggest::closest(name, &known_refs) {
            Some(near) => d.with_help(format!("did you mean `{near}`?")),
            None => d,
        },
    }
}

impl From<CatalogError> for Diagnostic {
    fn from(e: CatalogError) -> Self {
        Diagnostic::error(codes::INVALID_CATALOG, e.to_string()).with_help(
            "fix the catalog file given with --catalog or APPRUNNER_BUILD_CATALOG (see runtimes/*.toml for the format)",
        )
    }
}

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
            format!("Failed to execute '{phase}' command '{command}' (exit code {exit_code}).")
        }
        EngineError::Pull { image, reason } => {
            format!("Failed to pull the runtime image {image}: {reason}.")
        }
        EngineError::Interrupted => "The build was interrupted.".to_string(),
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
        EngineError::InvalidImageName(_) => codes::INVALID_IMAGE_NAME,
        EngineError::Plan(_) => codes::INVALID_PLAN,
        EngineError::Interrupted => codes::INTERRUPTED,
        EngineError::Unsupported(_) => codes::ENGINE_UNSUPPORTED,
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
        EngineError::CommandFailed { .. } => exit::BUILD_COMMAND_FAILED,
        EngineError::Connect { .. }
        | EngineError::Pull { .. }
        | EngineError::Docker { .. }
        | EngineError::Unsupported(_) => exit::ENGINE_FAILED,
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

/// What to do about an engine error, when there is something to say.
pub fn engine_help(e: &EngineError) -> Option<String> {
    match e {
        EngineError::Connect { .. } => Some(
            "start a Docker engine (on Debian: apt-get install docker.io, then dockerd), or point DOCKER_HOST at one (unix:// or tcp://)".into(),
        ),
        EngineError::Pull { image, .. } => Some(format!(
            "if no registry is reachable from here, load or build {image} locally under that name, or point the runtime at a mirror or a local image with --catalog FILE (format: runtimes/*.toml)"
        )),
        EngineError::CommandFailed { hint: Some(hint), .. } => Some(format!(
            "{hint}; the command's output is above, under its phase's prefix"
        )),
        EngineError::CommandFailed { .. } => Some("the command's output is above, under its phase's prefix".into()),
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
