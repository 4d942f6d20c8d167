//! `upgrade`: move a project off an end-of-support runtime to the supported one of its language.
//!
//! The result is data: per file, text edits at byte ranges the parser located, each with a one-line
//! reason. Nothing here writes a file; rendering is a unified diff of the text before and after.
//! The YAML is never re-serialised, so comments, order and quoting stay as written.

mod config;
mod engines;
mod target;
mod text;
mod version_files;
mod words;

use crate::input::config::CONFIG_FILE_NAME;
use crate::input::files::ProjectFiles;
use crate::project::{self, ProjectArgs};
use crate::report::codes;
use crate::report::diagnostic::{Diagnostic, Diagnostics};
use crate::resolve::catalog::{Catalog, Runtime};
use node_semver::Version;
use std::path::PathBuf;

/// Where installs the revised build would lose go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strategy {
    /// To `run.pre-run`, as App Runner's guide recommends.
    #[default]
    PreRun,
    /// Into a virtualenv at `/app/.venv`, whose python3 the start command runs.
    Venv,
    /// Into `/app/packages` (`pip3 install --target`), found through `PYTHONPATH`.
    Target,
}

impl Strategy {
    pub fn name(self) -> &'static str {
        match self {
            Strategy::PreRun => "pre-run",
            Strategy::Venv => "venv",
            Strategy::Target => "target",
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `--to`: the runtime to move to; default, the supported one of the same language.
    pub to: Option<String>,
    pub strategy: Strategy,
}

/// One change: the bytes `range` of the file's text become `replacement`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub range: std::ops::Range<usize>,
    pub replacement: String,
    pub reason: String,
}

/// The edits of one file.
#[derive(Debug, Clone)]
pub struct FileChange {
    /// Where the file is on disk (for `--write`).
    pub path: PathBuf,
    /// How messages and the diff name it.
    pub shown: PathBuf,
    pub before: String,
    pub edits: Vec<Edit>,
}

impl FileChange {
    /// The text with every edit applied; edits at the same offset keep their order.
    pub fn after(&self) -> String {
        let mut edits: Vec<&Edit> = self.edits.iter().collect();
        edits.sort_by_key(|e| e.range.start);
        let mut out = String::with_capacity(self.before.len());
        let mut at = 0;
        for e in edits {
            out.push_str(&self.before[at..e.range.start.max(at)]);
            out.push_str(&e.replacement);
            at = at.max(e.range.end);
        }
        out.push_str(&self.before[at..]);
        out
    }

    /// The change as a unified diff (`a/PATH`, `b/PATH`: `git apply` and `patch -p1` take it).
    pub fn diff(&self) -> String {
        let after = self.after();
        let shown = self.shown.display().to_string();
        let (a, b) = if self.shown.is_absolute() {
            (shown.clone(), shown)
        } else {
            (format!("a/{shown}"), format!("b/{shown}"))
        };
        similar::TextDiff::from_lines(&self.before, &after)
            .unified_diff()
            .context_radius(3)
            .header(&a, &b)
            .to_string()
    }

    /// Each reason once, with the line of the first edit it explains: `PATH:LINE: reason`.
    pub fn reasons(&self) -> Vec<String> {
        let mut edits: Vec<&Edit> = self.edits.iter().collect();
        edits.sort_by_key(|e| e.range.start);
        let mut seen: Vec<&str> = Vec::new();
        let mut lines = Vec::new();
        for e in edits {
            if seen.contains(&e.reason.as_str()) {
                continue;
            }
            seen.push(&e.reason);
            let line = self.before[..e.range.start].matches('\n').count() + 1;
            lines.push(format!("{}:{line}: {}", self.shown.display(), e.reason));
        }
        lines
    }
}

/// What `upgrade` found: the edits, and the diagnostics to show with them.
#[derive(Debug, Clone)]
pub struct Upgrade {
    pub from: String,
    pub to: String,
    pub files: Vec<FileChange>,
    pub diagnostics: Diagnostics,
}

/// Why `upgrade` made no edits.
#[derive(Debug)]
pub enum UpgradeError {
    /// The project does not pass `validate`: its own diagnostics, blocking one included.
    Input(Diagnostics),
    /// `--to` names no runtime this project can move to.
    Target(Box<Diagnostic>),
}

/// The edits that move the project in `args` to the supported runtime of its language.
pub fn upgrade(
    args: &ProjectArgs,
    catalog: &Catalog,
    today: chrono::NaiveDate,
    options: &Options,
) -> Result<Upgrade, UpgradeError> {
    let loaded = project::load(args, catalog, today);
    let (Some(plan), Some(config)) = (loaded.plan, loaded.config) else {
        return Err(UpgradeError::Input(loaded.diagnostics));
    };
    let from = catalog
        .get(&plan.runtime.name)
        .expect("a resolved runtime is in the catalog");
    let to = target(catalog, from, options.to.as_deref(), today).map_err(UpgradeError::Target)?;
    let mut upgrade = Upgrade {
        from: from.name.clone(),
        to: to.name.clone(),
        files: vec![],
        diagnostics: Diagnostics::default(),
    };
    if to.name == from.name {
        upgrade.diagnostics.push(Diagnostic::note(
            codes::UPGRADE_NOTHING_TO_DO,
            format!("the project already uses {}: nothing to upgrade", from.name),
        ));
        return Ok(upgrade);
    }
    let (root, shown_root) = args
        .roots()
        .map_err(|d| UpgradeError::Input(Diagnostics(vec![d])))?;
    let files = ProjectFiles::new(&root, &shown_root);
    let new_version;
    if let Some(text) = config.source().map(|s| s.text.to_string()) {
        let shown = shown_root.join(CONFIG_FILE_NAME);
        let mut change = FileChange {
            path: root.join(CONFIG_FILE_NAME),
            shown,
            before: text,
            edits: vec![],
        };
        let edited = config::edit(&change.before, from, to, &config, options.strategy);
        change.edits = edited.edits;
        upgrade.diagnostics.extend(edited.diagnostics);
        new_version = edited.version;
        let runtime_line = edited.runtime_line;
        upgrade.files.push(change);
        if let Some(version) = &new_version {
            let origin = format!(
                "runtime {} in {} line {runtime_line}",
                to.name,
                shown_root.join(CONFIG_FILE_NAME).display()
            );
            engines::check(&files, &root, to, version, &origin, &mut upgrade);
        }
    } else {
        version_files::edit(&files, &root, from, to, &mut upgrade);
    }
    upgrade.files.retain(|f| !f.edits.is_empty());
    Ok(upgrade)
}

/// The runtime to move to: `--to`, or the supported App Runner runtime of the same language with
/// the newest version.
fn target<'c>(
    catalog: &'c Catalog,
    from: &Runtime,
    to: Option<&str>,
    today: chrono::NaiveDate,
) -> Result<&'c Runtime, Box<Diagnostic>> {
    let refuse = |message: String| {
        Box::new(
            Diagnostic::error(codes::UPGRADE_TARGET_INVALID, message).with_help(format!(
                "name a {} runtime of the catalog that is not past end of support (`apprunner-build runtimes` lists them)",
                from.language
            )),
        )
    };
    if let Some(name) = to {
        let Some(runtime) = catalog.get(name) else {
            return Err(refuse(format!("--to {name}: no such runtime")));
        };
        if runtime.language != from.language {
            return Err(refuse(format!(
                "--to {name}: a {} runtime, and the project's ({}) is {}",
                runtime.language, from.name, from.language
            )));
        }
        if runtime.is_past_end_of_support(today) {
            return Err(refuse(format!("--to {name}: past end of support too")));
        }
        return Ok(runtime);
    }
    if !from.is_past_end_of_support(today) {
        return Ok(catalog.get(&from.name).expect("from the catalog"));
    }
    catalog
        .of_language(from.language)
        .filter(|r| r.app_runner && !r.is_past_end_of_support(today))
        .max_by(|a, b| {
            let v = |r: &Runtime| r.latest().map(|v| v.version.clone());
            v(a).cmp(&v(b))
        })
        .ok_or_else(|| {
            refuse(format!(
                "no supported {} runtime in the catalog",
                from.language
            ))
        })
}

/// `version` at the precision of `written` (`3.8` → `3.11`, `16.20.2` → `22.21.1`), when
/// `written` is `major[.minor[.patch]]`.
pub(crate) fn at_precision(written: &str, version: &Version) -> Option<String> {
    let parts: Vec<&str> = written.split('.').collect();
    let numeric = |p: &&str| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit());
    if !(1..=3).contains(&parts.len()) || !parts.iter().all(numeric) {
        return None;
    }
    let all = [version.major, version.minor, version.patch];
    Some(
        all[..parts.len()]
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join("."),
    )
}

/// The newest version of `runtime` that `written` (`major[.minor[.patch]]`) would resolve to.
pub(crate) fn newest_matching<'r>(runtime: &'r Runtime, written: &str) -> Option<&'r Version> {
    let range = node_semver::Range::parse(written).ok()?;
    runtime
        .versions
        .iter()
        .rev()
        .map(|v| &v.version)
        .find(|v| range.satisfies(v))
}
