//! Whether devDependencies may be pruned after the build: only when nothing the app runs needs
//! one. Heroku prunes always, so an app that loads a devDependency at run time (`dotenv` listed
//! under devDependencies, say) builds and then crashes at start; here such a package keeps every
//! devDependency, with a warning that says where it is loaded and how to fix package.json.

use super::node_reach::{self, Aliases, Place, Reach};
use super::node_start::{self, Runs};
use crate::input::files::ProjectFiles;
use crate::input::package_json::PackageJson;
use crate::report::codes;
use crate::report::diagnostic::{Diagnostic, Location};
use std::collections::BTreeSet;
use std::path::Path;

/// Why devDependencies must stay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Needed {
    /// A devDependency loaded by the app's files.
    Loaded { package: String, at: Place },
    /// A devDependency whose binary the start command runs (nodemon, ts-node, cross-env), or
    /// that such a binary needs (ts-node compiles with typescript).
    Runs {
        package: String,
        program: String,
        written_in: String,
    },
    /// A devDependency the start command preloads (`node -r dotenv/config`).
    Preloaded {
        package: String,
        flag: String,
        written_in: String,
    },
    /// A `require`/`import()` whose module name is computed: it may load any devDependency.
    Computed { at: Place },
}

/// The answer, with what it was based on.
#[derive(Debug, Clone)]
pub(super) enum Verdict {
    /// Nothing the app runs needs a devDependency.
    Prune {
        basis: String,
    },
    Keep(Vec<Needed>),
    /// Too many files to read: devDependencies stay.
    CannotTell {
        why: String,
    },
}

/// Whether devDependencies may be pruned for an app started with `start`.
pub(super) fn verdict(project: &ProjectFiles, package: &PackageJson, start: &str) -> Verdict {
    let dev = names(package, &["devDependencies"]);
    let prod = names(
        package,
        &["dependencies", "optionalDependencies", "peerDependencies"],
    );
    let dev_only = |name: &str| dev.contains(name) && !prod.contains(name);
    let runs = node_start::runs(start, "the start command", package);
    let aliases = Aliases::read(project);
    let followed = (runs.opaque.is_none() && !runs.files.is_empty())
        .then(|| node_reach::follow(project, &runs.files, &aliases))
        .filter(|reach| reach.files > 0);
    let (reach, basis) = match followed {
        Some(reach) => {
            let basis = format!(
                "no devDependency is loaded from {} ({} file{} followed)",
                runs.files.join(", "),
                reach.files,
                if reach.files == 1 { "" } else { "s" }
            );
            (reach, basis)
        }
        None => {
            let reach = node_reach::scan_all(project, &aliases);
            let why = runs.opaque.clone().unwrap_or_else(|| {
                if runs.files.is_empty() {
                    "the start command runs no file".into()
                } else {
                    format!("{} is not in the project", runs.files.join(", "))
                }
            });
            let basis = format!(
                "no devDependency is loaded by the project's {} source files ({why}; tests and build-tool configurations aside)",
                reach.files
            );
            (reach, basis)
        }
    };
    if reach.truncated {
        return Verdict::CannotTell {
            why: "the project has more source files than apprunner-build reads to find what the app loads".into(),
        };
    }
    let needed = needed(&runs, &reach, &dev, &dev_only);
    if needed.is_empty() {
        Verdict::Prune { basis }
    } else {
        Verdict::Keep(needed)
    }
}

fn needed(
    runs: &Runs,
    reach: &Reach,
    dev: &BTreeSet<String>,
    dev_only: &dyn Fn(&str) -> bool,
) -> Vec<Needed> {
    let mut needed = Vec::new();
    for binary in &runs.binaries {
        if dev_only(&binary.package) {
            needed.push(Needed::Runs {
                package: binary.package.clone(),
                program: binary.program.clone(),
                written_in: binary.written_in.clone(),
            });
        }
    }
    for (module, flag, written_in) in &runs.preloads {
        let package = package_name(module);
        if dev_only(&package) {
            needed.push(Needed::Preloaded {
                package,
                flag: flag.clone(),
                written_in: written_in.clone(),
            });
        }
    }
    for (package, at) in &reach.packages {
        if dev_only(package) && !package.starts_with("@types/") {
            needed.push(Needed::Loaded {
                package: package.clone(),
                at: at.clone(),
            });
        }
    }
    if let Some(at) = &reach.computed {
        if !dev.is_empty() {
            needed.push(Needed::Computed { at: at.clone() });
        }
    }
    needed.dedup_by(|a, b| a.package() == b.package() && a.package().is_some());
    needed
}

impl Needed {
    /// A binary run from this place (`scripts.start`).
    pub(super) fn runs_from(&self, place: &str) -> bool {
        matches!(self, Needed::Runs { written_in, .. } if written_in == place)
    }

    fn package(&self) -> Option<&str> {
        match self {
            Needed::Loaded { package, .. }
            | Needed::Runs { package, .. }
            | Needed::Preloaded { package, .. } => Some(package),
            Needed::Computed { .. } => None,
        }
    }

    /// The warning that keeps devDependencies, at the place that needs one.
    pub(super) fn diagnostic(&self, shown_root: &Path, package_json: &Path) -> Diagnostic {
        let kept = "devDependencies are not pruned";
        let move_help = |package: &str| {
            format!("move \"{package}\" from devDependencies to dependencies in package.json; the other devDependencies are then pruned")
        };
        let d = match self {
            Needed::Loaded { package, at } => Diagnostic::warning(
                codes::DEV_DEPENDENCY_AT_RUN_TIME,
                format!(
                    "{} line {} loads {package}, which package.json lists only in devDependencies: {kept}",
                    at.file, at.line
                ),
            )
            .at(Location::file_line(&shown_root.join(&at.file), at.line))
            .with_help(move_help(package)),
            Needed::Runs {
                package,
                program,
                written_in,
            } => {
                let what = if package == program {
                    format!("{written_in} runs {program}, which package.json lists only in devDependencies")
                } else {
                    format!("{written_in} runs {program}, which needs {package}, listed only in devDependencies")
                };
                Diagnostic::warning(codes::DEV_DEPENDENCY_AT_RUN_TIME, format!("{what}: {kept}"))
                    .at(Location::file(package_json))
                    .with_help(move_help(package))
            }
            Needed::Preloaded {
                package,
                flag,
                written_in,
            } => Diagnostic::warning(
                codes::DEV_DEPENDENCY_AT_RUN_TIME,
                format!(
                    "{written_in} preloads {package} (`{flag}`), which package.json lists only in devDependencies: {kept}"
                ),
            )
            .at(Location::file(package_json))
            .with_help(move_help(package)),
            Needed::Computed { at } => Diagnostic::warning(
                codes::DEV_DEPENDENCY_AT_RUN_TIME,
                format!(
                    "{} line {} loads a module whose name is computed at run time (`require(name)`): it may be a devDependency, so {kept}",
                    at.file, at.line
                ),
            )
            .at(Location::file_line(&shown_root.join(&at.file), at.line))
            .with_help("load modules by literal name, or move what it loads to dependencies; a project whose app loads no devDependency is pruned"),
        };
        d.with_note(
            "pruning would remove it, and the app would stop at start with `Cannot find module`",
        )
    }
}

/// `@scope/name/sub` → `@scope/name`; `dotenv/config` → `dotenv`.
fn package_name(module: &str) -> String {
    let mut parts = module.split('/');
    let first = parts.next().unwrap_or("");
    match (first.starts_with('@'), parts.next()) {
        (true, Some(second)) => format!("{first}/{second}"),
        _ => first.to_string(),
    }
}

/// The package names of package.json's dependency tables.
fn names(package: &PackageJson, tables: &[&str]) -> BTreeSet<String> {
    tables
        .iter()
        .filter_map(|t| package.json.get(*t)?.as_object())
        .flat_map(|o| o.keys().cloned())
        .collect()
}
