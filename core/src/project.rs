//! A directory to a plan: input → resolve → plan → lint, collecting every problem in one run.

use crate::input::files::ProjectFiles;
use crate::input::{self, Input, InputArgs};
use crate::plan::{self, BuildPlan};
use crate::report::codes;
use crate::report::diagnostic::{Diagnostic, Diagnostics, Location};
use crate::resolve::catalog::{BuildProcess, Catalog};
use crate::resolve::runtime::{self, Resolution, ResolveError, ResolvedRuntime, RuntimeChoice};
use std::path::{Component, Path, PathBuf};

/// What the user pointed us at.
#[derive(Debug, Clone, Default)]
pub struct ProjectArgs {
    /// The repository directory (App Runner's repository root).
    pub dir: PathBuf,
    /// App Runner's "source directory" inside the repository (monorepos).
    pub source_directory: Option<PathBuf>,
    /// How messages show `dir` (default: as given). Tests show it as "" to get `apprunner.yaml:3:5`.
    pub shown_dir: Option<PathBuf>,
    pub input: InputArgs,
    /// Split recognised dependency installs into cached layers ([`plan::layers`]).
    pub dependency_layers: bool,
    /// `--user`: the image runs as this user, who owns /app ([`plan::user`]).
    pub user: Option<plan::user::RunAs>,
    /// `--include-git-ignored`: build what git ignores too (by default, in a git work tree, the
    /// source is what App Runner would see: what git ignores is left out).
    pub include_git_ignored: bool,
}

/// A plan when everything checked out, and all that was found along the way.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub plan: Option<BuildPlan>,
    /// The settings the plan was made from, with what a plan leaves out (secrets' references):
    /// what `export` reads. Set whenever `plan` is.
    pub config: Option<crate::input::config::AppRunnerConfig>,
    pub diagnostics: Diagnostics,
}

impl ProjectArgs {
    /// The build root on disk, and the same path as shown in messages (relative to where the
    /// user stands, so `apprunner.yaml:3:5` rather than `/home/…/apprunner.yaml:3:5`).
    ///
    /// The source directory is read as App Runner reads it: a path from the repository root, so
    /// `/backend` and `backend` are the same directory. It is refused only when it leads outside
    /// the repository (`..` above the root, or a symlink out).
    pub fn roots(&self) -> Result<(PathBuf, PathBuf), Diagnostic> {
        let shown_dir = match &self.shown_dir {
            Some(shown) => shown.clone(),
            None if self.dir == Path::new(".") => PathBuf::new(),
            None => self.dir.clone(),
        };
        let Some(sub) = &self.source_directory else {
            return Ok((self.dir.clone(), shown_dir));
        };
        let outside = |why: &str| {
            let shown = if shown_dir.as_os_str().is_empty() {
                Path::new(".")
            } else {
                &shown_dir
            };
            Diagnostic::error(
                codes::SOURCE_DIRECTORY_OUTSIDE,
                format!(
                    "source directory `{}` {why}: it is outside the repository `{}`",
                    sub.display(),
                    shown.display()
                ),
            )
            .at(Location::file(&shown_dir.join(repository_relative_lossy(sub))))
            .with_note("as in App Runner, the source directory is a path inside the repository, from its root (`/backend` and `backend` are the same)")
            .with_help("name a directory inside the repository")
        };
        let Some(rel) = repository_relative(sub) else {
            return Err(outside("climbs above the repository root with `..`"));
        };
        let root = self.dir.join(&rel);
        if let (Ok(real), Ok(repository)) = (root.canonicalize(), self.dir.canonicalize()) {
            if !real.starts_with(&repository) {
                return Err(outside("leads through a symlink out of the repository"));
            }
        }
        Ok((root, shown_dir.join(&rel)))
    }
}

/// `sub` as a path from the repository root: a leading `/` dropped, `.` and `..` resolved;
/// `None` when `..` climbs above the root.
fn repository_relative(sub: &Path) -> Option<PathBuf> {
    let mut parts: Vec<&std::ffi::OsStr> = Vec::new();
    for c in sub.components() {
        match c {
            Component::RootDir | Component::CurDir => {}
            Component::Normal(name) => parts.push(name),
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::Prefix(_) => return None,
        }
    }
    Some(parts.iter().collect())
}

/// Where a refused source directory is shown: as written, without a leading `/`.
fn repository_relative_lossy(sub: &Path) -> PathBuf {
    sub.components()
        .filter(|c| !matches!(c, Component::RootDir | Component::Prefix(_)))
        .collect()
}

pub fn load(args: &ProjectArgs, catalog: &Catalog, today: chrono::NaiveDate) -> Loaded {
    let (root, shown_root) = match args.roots() {
        Ok(roots) => roots,
        Err(d) => {
            return Loaded {
                plan: None,
                config: None,
                diagnostics: Diagnostics(vec![d]),
            }
        }
    };
    if !root.is_dir() {
        let mut diagnostics = Diagnostics::default();
        diagnostics.push(missing_root(&root, args.source_directory.is_some()));
        return Loaded {
            plan: None,
            config: None,
            diagnostics,
        };
    }
    // Every reader below asks this one: each file is read once, `.dockerignore` parsed once.
    let mut files = ProjectFiles::new(&root, &shown_root);
    if !args.include_git_ignored {
        files.leave_out_git_ignored();
    }
    let mut input = input::read(&files, &args.input);
    let mut diagnostics = input.diagnostics.clone();
    let excludes = match files.ignore_rules() {
        Ok(rules) => Some(rules.clone()),
        Err(refused) => {
            diagnostics.push(refused.clone());
            None
        }
    };
    // Errors of the input itself stop the checks below; a version that cannot be resolved does
    // not: what they need of the runtime (its name, its build process) is known without it.
    let input_ok = !diagnostics.has_errors();
    let (resolution, checked) = resolve(catalog, &input, today, &mut diagnostics);
    if let Some(runtime) = &checked {
        input.settle(runtime);
        if let Some(at) = &input.pre_run_at {
            if runtime.build_process == BuildProcess::Original {
                diagnostics.push(pre_run_on_original(&runtime.name, at.clone()));
            }
        }
    }
    let mut plan = None;
    let mut config = None;
    if let (Some(settings), Some(runtime), Some(excludes), true) =
        (&input.settings, checked, excludes, input_ok)
    {
        let mut p = plan::make_plan(root, excludes, settings, runtime);
        p.leaves_out_git_ignored = files.leaves_out_git_ignored();
        p.image.labels.extend(input::source_facts::labels(&files));
        p.decisions = input.decisions;
        if let Some(user) = &args.user {
            plan::user::apply(&mut p, user);
        }
        diagnostics
            .0
            .extend(plan::lint(&p, settings.source(), Some(&files)));
        // A plan made over a stand-in version, or with errors, is only for the checks.
        if resolution.is_some() && !diagnostics.has_errors() {
            if args.dependency_layers {
                plan::layers::apply(&mut p, &files);
            }
            plan = Some(p);
            config = Some(settings.clone());
        }
    }
    Loaded {
        plan,
        config,
        diagnostics: diagnostics.sorted(),
    }
}

/// The runtime the input asks for, under every version request, with its remarks or errors;
/// and the runtime the other checks use: the resolved one, or when only the version fails, the
/// named runtime's latest version as a stand-in (what they read of it, its name and build
/// process, is the same for every version).
fn resolve(
    catalog: &Catalog,
    input: &Input,
    today: chrono::NaiveDate,
    diagnostics: &mut Diagnostics,
) -> (Option<Resolution>, Option<ResolvedRuntime>) {
    let Some(choice) = input.runtime.as_ref() else {
        return (None, None);
    };
    match runtime::resolve_choice(
        catalog,
        choice,
        &input.requests,
        input.locked_wheels.as_ref(),
        today,
    ) {
        Ok(resolution) => {
            diagnostics.0.extend(resolution.remarks.iter().cloned());
            let runtime = resolution.runtime.clone();
            (Some(resolution), Some(runtime))
        }
        Err(e) => {
            // The named runtime without the version requests: its remarks about the runtime
            // itself (end of support, not App Runner's, a respelt name) hold for any version.
            let stand_in = match choice {
                RuntimeChoice::Named(_) => {
                    runtime::resolve_choice(catalog, choice, &[], None, today).ok()
                }
                RuntimeChoice::BestOf { .. } => None,
            };
            let stand_in = stand_in.map(|r| {
                diagnostics.0.extend(r.remarks.into_iter().filter(|d| {
                    [
                        codes::END_OF_SUPPORT,
                        codes::NOT_APP_RUNNER_RUNTIME,
                        codes::RUNTIME_SPELLING,
                    ]
                    .contains(&d.code)
                }));
                r.runtime
            });
            // A version the named runtime lacks: the runtime itself is one of the two sides.
            let named_at = match (&e, choice) {
                (ResolveError::VersionNotOffered { .. }, RuntimeChoice::Named(name)) => name
                    .location
                    .as_ref()
                    .map(|at| (name.value.clone(), at.short())),
                _ => None,
            };
            let mut d: Diagnostic = e.into();
            if let Some((name, at)) = named_at {
                d = d.with_note(format!("the runtime is set to {name} at {at}"));
            }
            diagnostics.push(d);
            (None, stand_in)
        }
    }
}

fn pre_run_on_original(runtime: &str, at: Location) -> Diagnostic {
    Diagnostic::error(codes::PRE_RUN_ON_ORIGINAL, format!("`run.pre-run` is not available for {runtime}"))
        .at(at)
        .with_note(format!(
            "{runtime} uses App Runner's original build, which has no pre-run step; pre-run exists for python311, nodejs18 and nodejs22"
        ))
        .with_help("move these commands to `build.commands.post-build` or the start command, or use a runtime with the revised build")
}

fn missing_root(root: &Path, is_source_directory: bool) -> Diagnostic {
    let what = if is_source_directory {
        "source directory"
    } else {
        "directory"
    };
    Diagnostic::error(
        codes::NOT_A_DIRECTORY,
        format!(
            "{what} `{}` does not exist or is not a directory",
            root.display()
        ),
    )
    .with_help(if is_source_directory {
        "--source-directory is relative to the repository directory, as in App Runner's settings"
    } else {
        "pass the directory that holds your application's source"
    })
}
