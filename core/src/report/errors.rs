//! Every user-facing error text, written in one place.
//!
//! Steps return their own error types (`ResolveError`, `CatalogError`, …) or located
//! [`Diagnostic`]s; this module turns them into messages a person can act on:
//! a header, the offending line with a caret, notes, and a suggestion.

use crate::engine::run::RunError;
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
    let mut out = format!("{label}[{}]: {}\n", d.code, clip(&d.message));
    if let Some(loc) = &d.location {
        out.push_str(&snippet(loc));
    }
    let pad = gutter_width(d.location.as_ref());
    for note in &d.notes {
        out.push_str(&indent_after_first(
            &format!("{:pad$} = note: {}", "", clip(note)),
            pad + 9,
        ));
    }
    if let Some(help) = &d.help {
        out.push_str(&indent_after_first(
            &format!("{:pad$} = help: {}", "", clip(help)),
            pad + 9,
        ));
    }
    out
}

/// The most of one line of a message, note or help that is shown: messages quote values from
/// the project's files (a key, a runtime name, a version file's text), which may be huge.
pub const MESSAGE_LINE_CHARS: usize = 1000;

/// `text` with each line cut to [`MESSAGE_LINE_CHARS`], `…` where it is cut.
fn clip(text: &str) -> std::borrow::Cow<'_, str> {
    if text.lines().all(|l| l.len() <= MESSAGE_LINE_CHARS) {
        return text.into();
    }
    let lines: Vec<String> = text
        .split('\n')
        .map(|l| match l.char_indices().nth(MESSAGE_LINE_CHARS) {
            Some((cut, _)) => format!("{}…", &l[..cut]),
            None => l.to_string(),
        })
        .collect();
    lines.join("\n").into()
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
    let chars: Vec<char> = line
        .trim_end()
        .chars()
        .map(|c| if c == '\t' { ' ' } else { c })
        .collect();
    let (shown, column, width) = window(&chars, pos.column.saturating_sub(1), loc.width.max(1));
    out.push_str(&format!("{:pad$} |\n", ""));
    out.push_str(&format!("{} | {shown}\n", pos.line));
    out.push_str(&format!(
        "{:pad$} | {}{}\n",
        "",
        " ".repeat(column),
        "^".repeat(width)
    ));
    out
}

/// The most of a line a snippet shows: a minified file's one line may be megabytes.
pub const SNIPPET_CHARS: usize = 200;

/// At most [`SNIPPET_CHARS`] of `line` around the 0-based `column`, `…` where it is cut; with the
/// caret's column and width in what is shown.
fn window(line: &[char], column: usize, width: usize) -> (String, usize, usize) {
    if line.len() <= SNIPPET_CHARS {
        return (line.iter().collect(), column, width.min(SNIPPET_CHARS));
    }
    let column = column.min(line.len());
    let start = column
        .saturating_sub(SNIPPET_CHARS / 2)
        .min(line.len() - SNIPPET_CHARS);
    let end = start + SNIPPET_CHARS;
    let mut shown = String::new();
    let mut caret = column - start;
    if start > 0 {
        shown.push('…');
        caret += 1;
    }
    shown.extend(&line[start..end]);
    if end < line.len() {
        shown.push('…');
    }
    (shown, caret, width.min(end.saturating_sub(column)).max(1))
}

/// Codes whose repeats within a run are shown as one line: the first one said it all.
const SAID_ONCE: &[codes::Code] = &[codes::END_OF_SUPPORT];

/// The messages of one run. A message that a run may report more than once (end of support) is
/// shown in full the first time, then as its first line only.
#[derive(Debug, Default)]
pub struct RunReport {
    shown: std::collections::HashSet<(codes::Code, String)>,
}

impl RunReport {
    pub fn render(&mut self, d: &Diagnostic) -> String {
        if SAID_ONCE.contains(&d.code) && !self.shown.insert((d.code, d.message.clone())) {
            let label = match d.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Note => "note",
            };
            return format!("{label}[{}]: {} (see above)\n", d.code, clip(&d.message));
        }
        render(d)
    }

    /// [`render_all`], remembering what this run has shown.
    pub fn render_all(&mut self, diags: &Diagnostics) -> String {
        let mut out = String::new();
        for d in diags.iter() {
            out.push_str(&self.render(d));
            out.push('\n');
        }
        out.push_str(&summary(diags));
        out
    }
}

/// Render a list, then a one-line summary when anything failed.
pub fn render_all(diags: &Diagnostics) -> String {
    RunReport::default().render_all(diags)
}

fn summary(diags: &Diagnostics) -> String {
    let mut out = String::new();
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
                not_built,
            } => unknown_runtime(&name, location, &known, unsupported, &not_built),
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
    not_built: &[(String, String)],
) -> Diagnostic {
    if let Some(what) = unsupported {
        let d = Diagnostic::error(
            codes::UNSUPPORTED_RUNTIME,
            format!(
            "runtime `{name}` ({what}) is an App Runner runtime that apprunner-build does not build"
        ),
        )
        .at_opt(location)
        .with_note("apprunner-build builds the Python and Node.js runtimes only");
        let exact = near_miss(name);
        let d = if exact != name {
            d.with_note(format!("App Runner spells it `{exact}`"))
        } else {
            d
        };
        return d.with_help("build this service with App Runner itself, or with a Dockerfile and an image-based service");
    }
    let d = Diagnostic::error(codes::UNKNOWN_RUNTIME, format!("unknown runtime `{name}`"))
        .at_opt(location);
    let lower = name.trim().to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "docker" | "dockerfile" | "custom" | "container" | "image" | "docker-compose"
    ) {
        return d
            .with_note("apprunner.yaml is for source-code services, which run on one of App Runner's managed runtimes; a service built from a Dockerfile has no apprunner.yaml")
            .with_help("build an image from your Dockerfile, push it to Amazon ECR, and create an image-based App Runner service from it");
    }
    let d = d.with_note(format!("runtimes: {}", known.join(", ")));
    let near = near_miss(name);
    let known_refs: Vec<&str> = known.iter().map(String::as_str).collect();
    if known_refs.contains(&near.as_str()) {
        return d.with_help(format!("write `runtime: {near}`"));
    }
    if let Some((exact, what)) = not_built.iter().find(|(n, _)| *n == near) {
        return d
            .with_note(format!("App Runner's {what} runtime is `{exact}`, which apprunner-build does not build"))
            .with_help(format!("write `runtime: {exact}` for App Runner, and build this service with App Runner itself, or with a Dockerfile and an image-based service"));
    }
    let family: Vec<&(String, String)> = not_built
        .iter()
        .filter(|(n, _)| {
            let prefix = n.trim_end_matches(|c: char| c.is_ascii_digit());
            !prefix.is_empty() && near.starts_with(prefix)
        })
        .collect();
    if !family.is_empty() {
        let names = family
            .iter()
            .map(|(n, what)| format!("`{n}` ({what})"))
            .collect::<Vec<_>>()
            .join(", ");
        return d
            .with_note(format!("App Runner's runtimes for this language: {names}; apprunner-build does not build them"))
            .with_help("use one of those names for App Runner, and build this service with App Runner itself, or with a Dockerfile and an image-based service");
    }
    match lower.as_str() {
        "python" => d.with_help("write `runtime: python311` (or python3 for Python 3.7/3.8)"),
        "node" | "nodejs" => {
            d.with_help("write `runtime: nodejs22` (or another nodejsNN from the list)")
        }
        _ => match suggest::closest(name, &known_refs) {
            Some(near) => d.with_help(format!("did you mean `{near}`?")),
            None => d,
        },
    }
}

/// The runtime name as App Runner would spell it, when the difference is only form: case,
/// spaces, dots and dashes (`Ruby 3.1` → `ruby31`, `python-3.11` → `python311`), and the
/// language's usual name for the runtime's (`java11` → `corretto11`, `.NET 6` → `dotnet6`).
fn near_miss(name: &str) -> String {
    let squashed: String = name
        .chars()
        .filter(|c| !(c.is_whitespace() || matches!(c, '.' | '-' | '_')))
        .collect::<String>()
        .to_ascii_lowercase();
    for (alias, exact) in [
        ("java", "corretto"),
        ("amazoncorretto", "corretto"),
        ("net", "dotnet"),
        ("golang", "go"),
        ("node", "nodejs"),
    ] {
        if let Some(rest) = squashed.strip_prefix(alias) {
            if rest.is_empty() || rest.starts_with(|c: char| c.is_ascii_digit()) {
                return format!("{exact}{rest}");
            }
        }
    }
    squashed
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
        RunError::MissingSecrets(_) | RunError::BadSecret { .. } => exit::USAGE,
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

/// The `[AppRunner]` lines for a run that failed, with the application's last output.
pub fn run_failure(e: &RunError, unhealthy_threshold: u32, interval: u64) -> Vec<String> {
    let mut lines = run_failure_lines(e, unhealthy_threshold, interval);
    if let Some(first) = lines.first_mut() {
        first.push_str(&format!(" [{}]", run_code(e)));
    }
    lines
}

fn run_failure_lines(e: &RunError, unhealthy_threshold: u32, interval: u64) -> Vec<String> {
    let tail_lines = |tail: &[String]| -> Vec<String> {
        if tail.is_empty() {
            vec!["The application printed nothing.".into()]
        } else {
            let mut lines = vec![format!("The application's last {} line(s):", tail.len())];
            lines.extend(tail.iter().map(|l| format!("  | {l}")));
            lines
        }
    };
    match e {
        RunError::MissingSecrets(names) => vec![format!(
            "Missing secret value(s) for {}: give them in --secrets-file FILE (NAME=VALUE lines), or set each in this environment and name it with --secret NAME (the environment is never read for a secret that is not named). Nothing was started.",
            names.join(", ")
        )],
        RunError::BadSecret { .. } => vec![format!("{}. Nothing was started.", capitalize(&e.to_string()))],
        RunError::Exited { code, tail } => {
            let mut lines = vec![format!("The application exited with code {code}.")];
            lines.extend(tail_lines(tail));
            lines
        }
        RunError::Unhealthy { protocol, port, failures, last_error, tail } => {
            let mut lines = vec![
                format!("Health check failed on protocol `{protocol}` [Port: '{port}']: {failures} checks in a row failed (last: {last_error})."),
                format!(
                    "Check that the application listens on 0.0.0.0 and on the port in PORT ({port}); it had {} s ({unhealthy_threshold} checks, {interval} s apart).",
                    u64::from(*failures) * interval
                ),
            ];
            lines.extend(tail_lines(tail));
            lines
        }
        RunError::NoImage(image) => vec![format!(
            "Image {image} was not found: build it first (apprunner-build build DIR -t {image}), or give the source directory instead."
        )],
        RunError::Docker { .. } => vec![format!("{}.", capitalize(&e.to_string()))],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::diagnostic::{Position, SourceText};

    #[test]
    fn messages_notes_and_help_are_cut_to_a_line_each() {
        let huge = "k".repeat(2_000_000);
        let d = Diagnostic::error(codes::UNKNOWN_KEY, format!("unknown key `{huge}`"))
            .with_note(format!("first line\n{huge}"))
            .with_help(huge.clone());
        let out = render(&d);
        assert!(out.len() < 4 * MESSAGE_LINE_CHARS, "{} bytes", out.len());
        assert!(out.starts_with("error[AR112]: unknown key `kkk"), "{out}");
        assert!(out.contains("= note: first line\n"), "{out}");
        assert_eq!(out.matches('…').count(), 3, "{out}");
        let short = Diagnostic::error(codes::UNKNOWN_KEY, "unknown key `comand`");
        assert_eq!(render(&short), "error[AR112]: unknown key `comand`\n");
    }

    #[test]
    fn a_snippet_shows_at_most_a_window_of_a_long_line() {
        // A minified one-line file: the line around the column, not megabytes of it.
        let line = format!("{}@{}", "a".repeat(1_000_000), "b".repeat(1_000_000));
        let src = SourceText::new("package.json", format!("{line}\n"));
        let at = |column, width| {
            render(
                &Diagnostic::error(codes::PACKAGE_JSON_INVALID, "bad").at(Location::at(
                    &src,
                    Position { line: 1, column },
                    width,
                )),
            )
        };
        let out = at(1_000_001, 5_000_000);
        assert!(out.len() < 1_000, "{} bytes", out.len());
        let lines: Vec<&str> = out.lines().collect();
        let shown = lines[3].strip_prefix("1 | ").unwrap();
        let caret = lines[4].strip_prefix("  | ").unwrap();
        assert!(shown.starts_with('…') && shown.ends_with('…'), "{shown}");
        assert_eq!(shown.chars().count(), SNIPPET_CHARS + 2);
        let caret_at = caret.find('^').unwrap();
        assert_eq!(
            shown.chars().nth(caret_at),
            Some('@'),
            "the caret points at the column"
        );
        assert!(caret.trim_end().len() <= SNIPPET_CHARS + 2, "{caret}");
        // At either end of the line: cut on one side only.
        let first = at(1, 1);
        let shown = first.lines().nth(3).unwrap();
        assert!(
            shown.starts_with("1 | aaa") && shown.ends_with('…'),
            "{shown}"
        );
        let last = at(2_000_001, 1);
        let shown = last.lines().nth(3).unwrap();
        assert!(
            shown.starts_with("1 | …") && shown.ends_with("bbb"),
            "{shown}"
        );
        let caret = last.lines().nth(4).unwrap();
        assert_eq!(caret.find('^'), Some(4 + SNIPPET_CHARS), "{caret}");
        // Short lines are shown whole, as before.
        let short = SourceText::new("apprunner.yaml", "run:\n  comand: x\n");
        let out = render(
            &Diagnostic::error(codes::UNKNOWN_KEY, "unknown key").at(Location::at(
                &short,
                Position { line: 2, column: 3 },
                6,
            )),
        );
        assert!(out.ends_with("2 |   comand: x\n  |   ^^^^^^\n"), "{out}");
    }

    #[test]
    fn end_of_support_is_said_in_full_once_per_run() {
        let eos = || {
            Diagnostic::warning(
                codes::END_OF_SUPPORT,
                "nodejs16 reached end of support on 2025-12-01",
            )
            .with_note("it gets no security fixes; App Runner may stop building it")
            .with_help("move to `runtime: nodejs22`, a supported App Runner runtime")
        };
        let mut run = RunReport::default();
        let first = run.render_all(&Diagnostics(vec![eos()]));
        assert!(
            first.contains("= note: it gets no security fixes"),
            "{first}"
        );
        let again = run.render_all(&Diagnostics(vec![eos(), eos()]));
        assert_eq!(
            again,
            "warning[AR206]: nodejs16 reached end of support on 2025-12-01 (see above)\n\n"
                .repeat(2)
        );
        // Within one list too; other warnings are never shortened.
        let other = Diagnostic::warning(codes::PORT_REPEATED, "PORT repeats the port")
            .with_help("remove it");
        let out = render_all(&Diagnostics(vec![eos(), other.clone(), eos(), other]));
        assert_eq!(
            out.matches("= note: it gets no security fixes").count(),
            1,
            "{out}"
        );
        assert_eq!(out.matches("(see above)").count(), 1, "{out}");
        assert_eq!(out.matches("= help: remove it").count(), 2, "{out}");
    }
}
