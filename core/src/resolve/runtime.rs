//! From a requested runtime version (with where it was requested) to a resolved catalog version.
//!
//! Resolution follows App Runner and heroku's buildpacks: keep the catalog versions that satisfy
//! every requirement, take the highest.

use crate::input::version::{RequestedVersion, VersionOrigin};
use crate::report::codes;
use crate::report::diagnostic::Spanned;
use crate::report::diagnostic::{Diagnostic, Location};
use crate::resolve::catalog::{Catalog, Language, Runtime, RuntimeVersion};
pub use crate::resolve::resolution::{Resolution, ResolveError, ResolvedRuntime, RuntimeChoice};
use crate::resolve::wheel_fit::newest_with_wheels;
use crate::resolve::wheels::LockedWheels;
use node_semver::{Range, Version};

/// The one entry to resolution: `choice` under every request that applies to its language, and
/// for a choice among runtimes, the wheels a lockfile pins.
pub fn resolve_choice(
    catalog: &Catalog,
    choice: &RuntimeChoice,
    requests: &[RequestedVersion],
    wheels: Option<&LockedWheels>,
    today: chrono::NaiveDate,
) -> Result<Resolution, ResolveError> {
    match choice {
        RuntimeChoice::Named(name) => {
            let (runtime, respelt) = match find_runtime(catalog, name) {
                Ok(runtime) => (runtime, None),
                Err(e) => match find_respelt(catalog, name) {
                    Some(found) => found,
                    None => return Err(e),
                },
            };
            let applicable: Vec<RequestedVersion> = requests
                .iter()
                .filter(|r| r.origin.language().is_none_or(|l| l == runtime.language))
                .cloned()
                .collect();
            let mut resolution = resolve(catalog, runtime, &applicable, today)?;
            // Remarks about the runtime itself point at the name where it is written.
            for remark in &mut resolution.remarks {
                if remark.location.is_none()
                    && [codes::END_OF_SUPPORT, codes::NOT_APP_RUNNER_RUNTIME].contains(&remark.code)
                {
                    remark.location = name.location.clone();
                }
            }
            resolution.remarks.splice(0..0, respelt);
            Ok(resolution)
        }
        RuntimeChoice::BestOf { language, default } => {
            resolve_best(catalog, *language, requests, wheels, default, today)
        }
    }
}

/// Look up the runtime named in the configuration, spelt exactly.
pub fn find_runtime<'c>(
    catalog: &'c Catalog,
    name: &Spanned<String>,
) -> Result<&'c Runtime, ResolveError> {
    catalog
        .get(&name.value)
        .ok_or_else(|| ResolveError::UnknownRuntime {
            name: name.value.clone(),
            location: name.location.clone(),
            known: catalog.names().iter().map(|s| s.to_string()).collect(),
            unsupported: catalog
                .unsupported
                .get(&name.value)
                .or_else(|| catalog.unsupported.get(&squash(&name.value)))
                .cloned(),
            not_built: catalog
                .unsupported
                .iter()
                .map(|(n, what)| (n.clone(), what.clone()))
                .collect(),
        })
}

/// A runtime name that differs from a catalog name only by case or spaces (`Nodejs12`,
/// `Nodejs 12`, both in deployed repositories): whether App Runner accepts such a spelling is
/// unknown, so it is accepted with a warning that names the exact spelling.
fn find_respelt<'c>(
    catalog: &'c Catalog,
    name: &Spanned<String>,
) -> Option<(&'c Runtime, Option<Diagnostic>)> {
    let exact = squash(&name.value);
    let runtime = catalog.get(&exact)?;
    let warning = Diagnostic::warning(
        codes::RUNTIME_SPELLING,
        format!(
            "runtime `{}` is read as `{exact}`: App Runner's runtime names are lowercase, without spaces",
            name.value
        ),
    )
    .at_opt(name.location.clone())
    .with_note("apprunner-build accepts this spelling; whether App Runner does is not known")
    .with_help(format!("write `runtime: {exact}`"));
    Some((runtime, Some(warning)))
}

/// The name lowercased, without whitespace.
fn squash(name: &str) -> String {
    name.chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase()
}

/// Resolve `runtime` under every requirement in `requests`: the highest version allowed by all.
pub fn resolve(
    catalog: &Catalog,
    runtime: &Runtime,
    requests: &[RequestedVersion],
    today: chrono::NaiveDate,
) -> Result<Resolution, ResolveError> {
    let allowed = |v: &RuntimeVersion| requests.iter().all(|r| r.allows(&v.version));
    let Some(chosen) = runtime.versions.iter().rev().find(|v| allowed(v)) else {
        return Err(no_match(catalog, runtime, requests));
    };
    let reason = if requests.is_empty() {
        format!("the latest {} version (no version requested)", runtime.name)
    } else {
        format!(
            "the highest {} version matching {}",
            runtime.name,
            requests
                .iter()
                .map(|r| format!("{} ({})", r.text, r.origin))
                .collect::<Vec<_>>()
                .join(" and ")
        )
    };
    let remarks = remarks(catalog, runtime, chosen, requests, today);
    Ok(Resolution {
        runtime: ResolvedRuntime {
            name: runtime.name.clone(),
            language: runtime.language,
            build_process: runtime.build_process,
            app_runner: runtime.app_runner,
            version: chosen.version.clone(),
            image: chosen.image.clone(),
            build_image: chosen.build_image.clone(),
            requested: requests
                .iter()
                .map(|r| format!("{} ({})", r.text, r.origin))
                .collect(),
            reason,
            end_of_support: runtime.end_of_support,
        },
        remarks,
    })
}

/// What the user should know about the chosen version: an extension runtime, end of support, a
/// version locked below the latest patch.
fn remarks(
    catalog: &Catalog,
    runtime: &Runtime,
    chosen: &RuntimeVersion,
    requests: &[RequestedVersion],
    today: chrono::NaiveDate,
) -> Vec<Diagnostic> {
    let mut remarks = Vec::new();
    if !runtime.app_runner {
        remarks.push(
            Diagnostic::warning(codes::NOT_APP_RUNNER_RUNTIME, format!(
                "{} is not an App Runner runtime: apprunner-build builds it, but App Runner would reject this configuration",
                runtime.name
            ))
            .with_help(app_runner_alternative(catalog, runtime, today)),
        );
    }
    if runtime.is_past_end_of_support(today) {
        let date = runtime
            .end_of_support
            .map(|d| d.to_string())
            .unwrap_or_default();
        remarks.push(
            Diagnostic::warning(
                codes::END_OF_SUPPORT,
                format!("{} reached end of support on {date}", runtime.name),
            )
            .with_note("it gets no security fixes; App Runner may stop building it")
            .with_help(app_runner_alternative(catalog, runtime, today)),
        );
    }
    let same_line = runtime.versions.iter().rfind(|v| {
        v.version.major == chosen.version.major && v.version.minor == chosen.version.minor
    });
    if let Some(latest) = same_line.filter(|l| l.version != chosen.version) {
        let by = requests
            .iter()
            .map(|r| r.origin.to_string())
            .collect::<Vec<_>>()
            .join(" and ");
        remarks.push(
            Diagnostic::note(
                codes::LOCKED_PATCH,
                format!(
                    "{} {} is locked by {by}; the latest {}.{} patch is {}",
                    runtime.name,
                    chosen.version,
                    chosen.version.major,
                    chosen.version.minor,
                    latest.version
                ),
            )
            .with_help(
                if requests
                    .iter()
                    .any(|r| matches!(r.origin, VersionOrigin::ConfigRuntimeVersion { .. }))
                {
                    format!(
                        "write `runtime-version: {}.{}` to get patch updates",
                        chosen.version.major, chosen.version.minor
                    )
                } else {
                    format!(
                        "ask for {}.{} there to get patch updates",
                        chosen.version.major, chosen.version.minor
                    )
                },
            ),
        );
    }
    remarks
}

fn no_match(catalog: &Catalog, runtime: &Runtime, requests: &[RequestedVersion]) -> ResolveError {
    let available = runtime.version_list();
    let alone = |r: &RequestedVersion| runtime.versions.iter().any(|v| r.allows(&v.version));
    let from_config =
        |r: &RequestedVersion| matches!(r.origin, VersionOrigin::ConfigRuntimeVersion { .. });
    let mut unmet = requests.iter().filter(|r| !alone(r));
    match unmet.next() {
        // engines.node against apprunner.yaml's runtime-version: App Runner's "conflict", both named.
        Some(unmet) if !from_config(unmet) && requests.iter().any(from_config) => {
            ResolveError::Conflict {
                runtime: runtime.name.clone(),
                requests: requests.to_vec(),
                available,
            }
        }
        Some(first) => {
            let other_runtime = catalog
                .of_language(runtime.language)
                .filter(|o| o.name != runtime.name && o.app_runner)
                .find(|o| o.versions.iter().any(|v| first.allows(&v.version)))
                .map(|o| o.name.clone());
            ResolveError::VersionNotOffered {
                runtime: runtime.name.clone(),
                request: first.clone(),
                available,
                other_runtime,
                also_unmet: unmet.cloned().collect(),
            }
        }
        None => ResolveError::Conflict {
            runtime: runtime.name.clone(),
            requests: requests.to_vec(),
            available,
        },
    }
}

/// "use nodejs22 (App Runner, supported)" — the newest supported App Runner runtime of the language.
fn app_runner_alternative(
    catalog: &Catalog,
    runtime: &Runtime,
    today: chrono::NaiveDate,
) -> String {
    let best = catalog
        .of_language(runtime.language)
        .filter(|r| r.app_runner && !r.is_past_end_of_support(today))
        .max_by(|a, b| {
            a.latest()
                .map(|v| &v.version)
                .cmp(&b.latest().map(|v| &v.version))
        });
    match best {
        Some(b) if b.name != runtime.name => format!(
            "move to `runtime: {}`, a supported App Runner runtime",
            b.name
        ),
        _ => "see `apprunner-build runtimes` for the supported runtimes".to_string(),
    }
}

/// For a project without apprunner.yaml: the runtime of `language` whose best version for
/// `requests` is highest. App Runner's runtimes come first; extensions only when none of them fits,
/// and then, with a lockfile's `wheels`, the newest extension that has a wheel for every locked
/// package. Without requests, `default` (e.g. python311, nodejs22).
fn resolve_best(
    catalog: &Catalog,
    language: Language,
    requests: &[RequestedVersion],
    wheels: Option<&LockedWheels>,
    default: &str,
    today: chrono::NaiveDate,
) -> Result<Resolution, ResolveError> {
    if requests.is_empty() {
        let runtime = find_runtime(catalog, &Spanned::bare(default.to_string()))?;
        return resolve(catalog, runtime, requests, today);
    }
    let (relaxed, pins) = relax_missing_patches(catalog, language, requests);
    let requests = &relaxed[..];
    for app_runner in [true, false] {
        let mut fitting: Vec<Resolution> = catalog
            .of_language(language)
            .filter(|r| r.app_runner == app_runner)
            .filter_map(|r| resolve(catalog, r, requests, today).ok())
            .collect();
        fitting.sort_by(|a, b| b.runtime.version.cmp(&a.runtime.version));
        // App Runner's runtime stays preferred whenever it satisfies the request, as App Runner
        // would build it; the wheels only choose among the extensions that do.
        let best = match wheels.filter(|_| !app_runner) {
            Some(wheels) => newest_with_wheels(catalog, language, fitting, wheels),
            None => fitting.into_iter().next(),
        };
        if let Some(mut found) = best {
            for (asked, request) in &pins {
                found
                    .remarks
                    .insert(0, patch_not_in_catalog(asked, request, &found.runtime));
            }
            return Ok(found);
        }
    }
    let available = catalog
        .of_language(language)
        .flat_map(|r| r.versions.iter().map(|v| v.version.to_string()))
        .collect::<Vec<_>>()
        .join(", ");
    let all_alone = |r: &RequestedVersion| {
        catalog
            .of_language(language)
            .any(|rt| rt.versions.iter().any(|v| r.allows(&v.version)))
    };
    let mut unmet = requests.iter().filter(|r| !all_alone(r));
    match unmet.next() {
        Some(first) => Err(ResolveError::VersionNotOffered {
            runtime: format!("{language} (any runtime)"),
            request: first.clone(),
            available,
            other_runtime: None,
            also_unmet: unmet.cloned().collect(),
        }),
        None => Err(ResolveError::Conflict {
            runtime: language.to_string(),
            requests: requests.to_vec(),
            available,
        }),
    }
}

/// A Python version file (`runtime.txt`, `.python-version`) that pins an exact patch the catalog
/// does not hold (`3.12.7`) asks for the newest patch of that minor instead, as Heroku's buildpack
/// does; the pins so relaxed are returned with what they asked for. `run.runtime-version` in
/// apprunner.yaml keeps App Runner's exact meaning: this applies to detection's files only.
fn relax_missing_patches(
    catalog: &Catalog,
    language: Language,
    requests: &[RequestedVersion],
) -> (Vec<RequestedVersion>, Vec<(String, RequestedVersion)>) {
    let mut relaxed = Vec::new();
    let mut pins = Vec::new();
    for request in requests {
        let exact = match &request.origin {
            VersionOrigin::VersionFile {
                language: Language::Python,
                ..
            } => Version::parse(&request.text).ok(),
            _ => None,
        };
        let held = |v: &Version| {
            catalog
                .of_language(language)
                .flat_map(|r| r.versions.iter())
                .any(|cv| &cv.version == v)
        };
        let line_held = |v: &Version| {
            catalog
                .of_language(language)
                .flat_map(|r| r.versions.iter())
                .any(|cv| cv.version.major == v.major && cv.version.minor == v.minor)
        };
        let minor = exact
            .as_ref()
            .filter(|v| !held(v) && line_held(v))
            .and_then(|v| {
                let text = format!("{}.{}", v.major, v.minor);
                Range::parse(&text).ok().map(|range| (text, range))
            });
        match minor {
            Some((text, range)) => {
                let mut r = request.clone();
                r.text = text;
                r.range = range;
                pins.push((request.text.clone(), r.clone()));
                relaxed.push(r);
            }
            None => relaxed.push(request.clone()),
        }
    }
    (relaxed, pins)
}

fn patch_not_in_catalog(
    asked: &str,
    request: &RequestedVersion,
    chosen: &ResolvedRuntime,
) -> Diagnostic {
    let location = match &request.origin {
        VersionOrigin::VersionFile { path, .. } => Some(Location::file(path)),
        _ => None,
    };
    Diagnostic::warning(
        codes::PATCH_NOT_IN_CATALOG,
        format!(
            "{} asks for Python {asked}, which no runtime offers: using {} {}, the newest {} patch",
            request.origin, chosen.name, chosen.version, request.text
        ),
    )
    .at_opt(location)
    .with_note("as Heroku does, an exact patch in a version file means its minor line here; run.runtime-version in apprunner.yaml stays exact")
    .with_help(format!(
        "write {} there to say so, or one of the offered patches (`apprunner-build runtimes`)",
        match &request.origin {
            VersionOrigin::VersionFile { path, .. } if path.ends_with("runtime.txt") => {
                format!("python-{}", request.text)
            }
            _ => request.text.clone(),
        }
    ))
}
