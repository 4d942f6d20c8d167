//! The messages of resolution's errors: an unknown runtime (with what was meant), a version the
//! catalog does not offer, a conflict between two requests, a broken catalog file.

use super::catalog::CatalogError;
use super::runtime::ResolveError;
use crate::input::version::MalformedVersion;
use crate::report::codes;
use crate::report::diagnostic::{Diagnostic, Location};
use crate::report::suggest;

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
            } => MalformedVersion {
                text,
                origin,
                location,
                expected,
            }
            .into(),
            ResolveError::VersionNotOffered {
                runtime,
                request,
                available,
                other_runtime,
                also_unmet,
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
                for other in also_unmet {
                    let at = other
                        .location
                        .as_ref()
                        .map(|l| format!(" at {}", l.short()))
                        .unwrap_or_default();
                    d = d.with_note(format!(
                        "no version matches `{}` ({}){at} either",
                        other.text, other.origin
                    ));
                }
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
