//! For a project whose lockfile names wheel files: the newest runtime whose CPython has a wheel
//! for every locked package, and the `AR210` remarks that say why newer ones were passed over.

use crate::report::codes;
use crate::report::diagnostic::{Diagnostic, Location};
use crate::resolve::catalog::{Catalog, Language};
use crate::resolve::resolution::Resolution;
use crate::resolve::wheels::{CPython, LockedWheels, MissingWheels};
use node_semver::Version;

/// The CPython line of a Python runtime's version.
fn cpython(version: &Version) -> CPython {
    CPython {
        major: u32::try_from(version.major).unwrap_or(u32::MAX),
        minor: u32::try_from(version.minor).unwrap_or(u32::MAX),
    }
}

/// Among `candidates` (highest first), the newest whose CPython has a wheel for every package
/// `wheels` counts, with why the newer ones were passed over in its reason and an `AR210` note.
/// When none has, the newest as without the lockfile, and an `AR210` warning that says so.
pub(super) fn newest_with_wheels(
    catalog: &Catalog,
    language: Language,
    candidates: Vec<Resolution>,
    wheels: &LockedWheels,
) -> Option<Resolution> {
    let missing: Vec<Option<MissingWheels>> = candidates
        .iter()
        .map(|c| wheels.missing_for(cpython(&c.runtime.version)))
        .collect();
    // `python314: uv.lock has no cp314 wheel for pydantic-core 2.20.1`, for each runtime before
    // `upto`.
    let lacking = |upto: usize| -> Vec<(String, MissingWheels)> {
        candidates[..upto]
            .iter()
            .zip(&missing)
            .filter_map(|(c, m)| Some((c.runtime.name.clone(), m.clone()?)))
            .collect()
    };
    let lockfile = wheels.lockfile.display().to_string();
    match missing.iter().position(Option::is_none) {
        // The newest has them all: the choice is the one without the lockfile, nothing to say.
        Some(0) => candidates.into_iter().next(),
        Some(at) => {
            let passed = lacking(at);
            let mut chosen = candidates.into_iter().nth(at)?;
            chosen.runtime.reason = format!(
                "{}; the newest runtime with a wheel for every package in {lockfile} ({})",
                chosen.runtime.reason,
                lines(&passed).join("; ")
            );
            let names: Vec<&str> = passed.iter().map(|(name, _)| name.as_str()).collect();
            let mut note = Diagnostic::note(
                codes::RUNTIME_LACKS_WHEELS,
                format!(
                    "{} is chosen over {}: it is the newest runtime with a wheel for every package in {lockfile}",
                    chosen.runtime.name,
                    names.join(" and ")
                ),
            )
            .at(Location::file(&wheels.lockfile));
            for line in lines(&passed) {
                note = note.with_note(line);
            }
            let (newest, gap) = &passed[0];
            let help = format!(
                "to build on {newest}, {}; or write {}.{} in .python-version to make this choice yours",
                upgrade(wheels, gap),
                chosen.runtime.version.major,
                chosen.runtime.version.minor
            );
            chosen
                .remarks
                .push(note.with_note(BUILT_FROM_SOURCE).with_help(help));
            Some(chosen)
        }
        None => {
            let all = lacking(candidates.len());
            let mut chosen = candidates.into_iter().next()?;
            chosen.runtime.reason = format!(
                "{}; no runtime the request allows has a wheel for every package in {lockfile} ({})",
                chosen.runtime.reason,
                lines(&all).join("; ")
            );
            let mut warning = Diagnostic::warning(
                codes::RUNTIME_LACKS_WHEELS,
                format!(
                    "no runtime the version request allows has a wheel for every package in {lockfile}: {} is used, as without the lockfile",
                    chosen.runtime.name
                ),
            )
            .at(Location::file(&wheels.lockfile));
            for line in lines(&all) {
                warning = warning.with_note(line);
            }
            let (_, gap) = &all[0];
            let elsewhere = catalog
                .of_language(language)
                .filter_map(|r| r.latest())
                .filter(|v| wheels.missing_for(cpython(&v.version)).is_none())
                .map(|v| &v.version)
                .max()
                .map(|v| {
                    format!(
                        "; or ask for Python {}.{}, which has them all",
                        v.major, v.minor
                    )
                })
                .unwrap_or_default();
            let help = format!("{}{elsewhere}", upgrade(wheels, gap));
            chosen
                .remarks
                .push(warning.with_note(BUILT_FROM_SOURCE).with_help(help));
            Some(chosen)
        }
    }
}

/// Why a missing wheel matters.
const BUILT_FROM_SOURCE: &str = "without a wheel, the install builds the package from its source, which needs its compilers (C, Rust) in the build image and often fails";

/// `python314: uv.lock has no cp314 wheel for pydantic-core 2.20.1`, one per runtime.
fn lines(lacking: &[(String, MissingWheels)]) -> Vec<String> {
    lacking
        .iter()
        .map(|(runtime, gap)| format!("{runtime}: {gap}"))
        .collect()
}

/// `lock a release of pydantic-core with cp314 wheels, … (`uv lock --upgrade-package
/// pydantic-core`)`: the one package, or all of them.
fn upgrade(wheels: &LockedWheels, gap: &MissingWheels) -> String {
    let (what, command) = match gap.others {
        0 => (
            format!("a release of {}", gap.name),
            wheels.tool.upgrade_command(&gap.name),
        ),
        others => (
            format!(
                "releases of {} and the {others} other package{}",
                gap.name,
                if others == 1 { "" } else { "s" }
            ),
            wheels.tool.upgrade_all_command().to_string(),
        ),
    };
    format!(
        "lock {what} with {} wheels, where the project's requirements allow it (`{command}`)",
        gap.python.tag()
    )
}
