//! The edits to apprunner.yaml: `runtime`, `run.runtime-version`, installs the revised build would
//! lose, and python311's `pip3`/`python3`. Each edit replaces a token the parser located, or
//! inserts whole lines indented as the file indents; a change that has no such place is reported
//! instead (`AR823`).

use super::text::{Text, Written};
use super::words::{python3_names, runs_python, uses_global_package};
use super::{at_precision, newest_matching, target, Edit, Strategy};
use crate::input::config::AppRunnerConfig;
use crate::plan::lost_installs::{LostInstall, LostInstalls};
use crate::report::codes;
use crate::report::diagnostic::{Diagnostic, Diagnostics, Location, Position, SourceText};
use crate::resolve::catalog::{BuildProcess, Language, Runtime};
use marked_yaml::types::{MarkedMappingNode, MarkedScalarNode};
use marked_yaml::{parse_yaml_with_options, LoaderOptions};
use node_semver::Version;

pub(super) struct Edited {
    pub(super) edits: Vec<Edit>,
    pub(super) diagnostics: Diagnostics,
    /// The version the upgraded file resolves to.
    pub(super) version: Option<Version>,
    /// The line of `runtime`, for messages naming it.
    pub(super) runtime_line: usize,
}

/// A build command as written.
struct Item<'n> {
    phase: &'static str,
    node: &'n MarkedScalarNode,
    written: Option<Written>,
}

pub(super) fn edit(
    source: &str,
    from: &Runtime,
    to: &Runtime,
    config: &AppRunnerConfig,
    strategy: Strategy,
) -> Edited {
    let text = Text::new(source);
    let mut out = Edited {
        edits: vec![],
        diagnostics: Diagnostics::default(),
        version: to.latest().map(|v| v.version.clone()),
        runtime_line: 1,
    };
    let options = LoaderOptions::default().prevent_coercion(true);
    // The file passed `validate`, so it parses and is a mapping.
    let Some(root) = parse_yaml_with_options(0, source, options).ok() else {
        return out;
    };
    let Some(root) = root.as_mapping() else {
        return out;
    };
    let mut e = Editor {
        text: &text,
        path: config.source().map(|s| s.path.clone()).unwrap_or_default(),
        out: &mut out,
        deleted: vec![],
    };
    e.runtime(root, from, to);
    let run = root.get_mapping("run");
    if let Some(run) = run {
        e.runtime_version(run, to);
    }
    let python = to.language == Language::Python;
    let phases = ["pre-build", "build", "post-build"];
    let commands = root
        .get_mapping("build")
        .and_then(|b| b.get_mapping("commands"));
    let mut items: Vec<Item> = Vec::new();
    for phase in phases {
        let list = commands.and_then(|c| c.get_sequence(phase));
        for node in list.into_iter().flat_map(|l| l.iter()) {
            if let Some(node) = node.as_scalar() {
                items.push(Item {
                    phase,
                    node,
                    written: text.written(node),
                });
            }
        }
    }
    let mut moved: Vec<(String, String)> = Vec::new();
    let mut handled = vec![false; items.len()];
    let mut packages = false;
    if to.build_process == BuildProcess::Revised {
        // Where pre-run lines go is found first: an install is taken out of the build only
        // when it has somewhere to go.
        let site = e.pre_run_site(root, &items);
        let mut lost = LostInstalls::new(&config.build.env);
        for i in 0..items.len() {
            if items[i].phase == "post-build" {
                break;
            }
            let Some(kind) = lost.check(items[i].node.as_str()) else {
                continue;
            };
            if strategy == Strategy::Target && e.install_in_packages(&items, i, kind, &mut packages)
            {
                handled[i] = true;
                continue;
            }
            match &site {
                Some(_) => {
                    moved.push(e.lost_install(&items, i, kind, strategy, python));
                    handled[i] = true;
                }
                None => e.by_hand(
                    items[i].node,
                    format!("`{}` installs outside /app, which the revised build loses; `run` has no block mapping to add run.pre-run to", items[i].node.as_str()),
                    "move it to run.pre-run by hand".into(),
                ),
            }
        }
        if packages {
            e.pythonpath(root);
        }
        if let Some(site) = site {
            e.pre_run(site, &moved);
        }
        e.keep_phases(&items);
    }
    if python {
        for (item, done) in items.iter().zip(&handled) {
            if !done {
                e.rename(item.node, item.written.as_ref(), item.phase);
            }
        }
        if let Some(run) = run {
            for node in run
                .get_sequence("pre-run")
                .into_iter()
                .flat_map(|l| l.iter())
            {
                if let Some(node) = node.as_scalar() {
                    e.rename(node, text.written(node).as_ref(), "pre-run");
                }
            }
            if let Some(node) = run.get_scalar("command") {
                e.rename(node, text.written(node).as_ref(), "run.command");
            }
        }
    }
    out
}

/// Where lines of run.pre-run are inserted.
struct Site {
    at: usize,
    /// `pre-run:` when the key is new.
    header: String,
    /// What precedes an item on its line (`    - `).
    prefix: String,
}

struct Editor<'a, 't> {
    text: &'a Text<'t>,
    path: std::path::PathBuf,
    out: &'a mut Edited,
    /// Item lines taken out: their phase, edit and `    - ` prefix.
    deleted: Vec<(&'static str, usize, String)>,
}

impl Editor<'_, '_> {
    fn push(&mut self, range: std::ops::Range<usize>, replacement: String, reason: String) {
        self.out.edits.push(Edit {
            range,
            replacement,
            reason,
        });
    }

    /// A change that has no place the parser located, left to the user.
    fn by_hand(&mut self, node: &MarkedScalarNode, message: String, help: String) {
        let source = SourceText::new(&self.path, self.text.text);
        let at = node.span().start().map(|m| {
            Location::at(
                &source,
                Position {
                    line: m.line(),
                    column: m.column(),
                },
                node.as_str()
                    .lines()
                    .next()
                    .map_or(1, |l| l.chars().count()),
            )
        });
        self.out.diagnostics.push(
            Diagnostic::warning(codes::UPGRADE_BY_HAND, message)
                .at_opt(at)
                .with_help(help),
        );
    }

    fn runtime(&mut self, root: &MarkedMappingNode, from: &Runtime, to: &Runtime) {
        let Some(node) = root.get_scalar("runtime") else {
            return;
        };
        self.out.runtime_line = node.span().start().map_or(1, |m| m.line());
        let Some(w) = self.text.written(node) else {
            return;
        };
        let why = match from.end_of_support {
            Some(date) => format!("{} reached end of support on {date}", from.name),
            None => format!("{} is not App Runner's supported runtime", from.name),
        };
        let build = match (from.build_process, to.build_process) {
            (BuildProcess::Original, BuildProcess::Revised) => {
                " (App Runner's revised build: only /app reaches the runtime image)"
            }
            _ => "",
        };
        let reason = format!("runtime {} → {}: {why}{build}", from.name, to.name);
        self.push(w.range.clone(), w.requote(&to.name), reason);
    }

    /// `run.runtime-version`, at the precision written, or dropped when the new runtime has no
    /// version it could name.
    fn runtime_version(&mut self, run: &MarkedMappingNode, to: &Runtime) {
        let Some(node) = run.get_scalar("runtime-version") else {
            return;
        };
        let written = node.as_str().trim();
        let latest = to.latest().map(|v| v.version.clone());
        let kept = latest
            .as_ref()
            .and_then(|v| at_precision(written, v))
            .filter(|new| newest_matching(to, new).is_some());
        match (kept, self.text.written(node)) {
            (Some(new), Some(w)) => {
                self.out.version = newest_matching(to, &new).cloned();
                let reason = format!(
                    "run.runtime-version {written} → {new}: {} offers {new}, kept at the precision written",
                    to.name
                );
                self.push(w.range.clone(), w.requote(&new), reason);
            }
            (None, Some(w)) => {
                let line = self.text.line_of(w.range.start);
                let key_line = run
                    .keys()
                    .find(|k| k.as_str() == "runtime-version")
                    .and_then(|k| k.span().start().map(|m| m.line()));
                if key_line != Some(line) {
                    return self.by_hand(
                        node,
                        format!(
                            "run.runtime-version `{written}` cannot name a {} version",
                            to.name
                        ),
                        "remove it".into(),
                    );
                }
                let reason = format!(
                    "run.runtime-version {written} dropped: {} has no version at that precision, so the latest is used",
                    to.name
                );
                self.push(self.text.line_range(line), String::new(), reason);
            }
            (_, None) => self.by_hand(
                node,
                format!(
                    "run.runtime-version `{written}` is not written on one line: change it by hand"
                ),
                format!("write a {} version, or remove the key", to.name),
            ),
        }
    }

    /// `pip`/`python` → `pip3`/`python3` in one command, in place.
    fn rename(&mut self, node: &MarkedScalarNode, w: Option<&Written>, what: &str) {
        let Some((_, names)) = python3_names(node.as_str()) else {
            return;
        };
        let Some(w) = w else {
            return self.by_hand(
                node,
                format!(
                    "the {what} command `{}` calls {}: rename by hand",
                    node.as_str(),
                    names.join(", ")
                ),
                "write `pip3` and `python3`: python311's image has no `pip` or `python`".into(),
            );
        };
        let inner = w.range.start + usize::from(w.quote.is_some());
        let token = &self.text.text[inner..inner + node.as_str().len()];
        let (renamed, _) = python3_names(token).expect("the token is the value");
        let reason = format!(
            "{} → {}: App Runner's python311 image has only pip3 and python3",
            names.join(", "),
            names
                .iter()
                .map(|n| format!("{n}3"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        self.push(inner..inner + token.len(), renamed, reason);
    }

    /// An install the revised build would lose: the line `run.pre-run` gets (as written, renamed
    /// for python311) and why. The build keeps it when a later command needs the packages.
    fn lost_install(
        &mut self,
        items: &[Item],
        i: usize,
        kind: LostInstall,
        strategy: Strategy,
        python: bool,
    ) -> (String, String) {
        let item = &items[i];
        let command = item.node.as_str();
        if strategy != Strategy::PreRun {
            // A venv needs the start command changed too, which is not done yet; --target that
            // could not be applied here (not pip, needed later in the build) ends here as well.
            self.by_hand(
                item.node,
                format!("`{command}` installs outside /app; --strategy {} is not done for it, so it goes to run.pre-run", strategy.name()),
                "install under /app by hand (`python3 -m venv /app/.venv`, or `pip3 install --target ./packages` with PYTHONPATH), or keep the default".into(),
            );
        }
        let needed_by = items[i + 1..].iter().find(|later| match kind {
            LostInstall::Python(_) => runs_python(later.node.as_str()),
            LostInstall::NpmGlobal => uses_global_package(later.node.as_str(), command),
        });
        let written = item.written.as_ref();
        let as_written = match written {
            Some(w) => self.text.to_line_end(w).to_string(),
            None if plain_safe(command) => command.to_string(),
            None => serde_json::to_string(command).expect("a string serializes"),
        };
        let line = if python {
            python3_names(&as_written).map_or(as_written.clone(), |(r, _)| r)
        } else {
            as_written
        };
        let lost = "the revised build copies only /app into the runtime image, so what it installs elsewhere is lost";
        let reason = match (needed_by, written.filter(|w| self.text.is_item_line(w))) {
            (None, Some(w)) => {
                let at = self.text.line_range(self.text.line_of(w.range.start));
                let reason = format!(
                    "`{command}` moved from {} to run.pre-run: {lost}",
                    item.phase
                );
                self.deleted
                    .push((item.phase, self.out.edits.len(), indent_of(self.text, w)));
                self.push(at, String::new(), reason.clone());
                reason
            }
            (Some(later), _) => {
                if python {
                    self.rename(item.node, written, item.phase);
                }
                format!(
                    "`{command}` copied to run.pre-run and kept in {}: {lost}, and `{}` later in the build needs it",
                    item.phase,
                    later.node.as_str()
                )
            }
            (None, None) => {
                self.by_hand(
                    item.node,
                    format!("`{command}` installs outside /app and is not a list item alone on its line: copied to run.pre-run; remove it from {} by hand", item.phase),
                    "keep it in the build only if a later build command needs the packages".into(),
                );
                if python {
                    self.rename(item.node, written, item.phase);
                }
                format!("`{command}` copied to run.pre-run: {lost}")
            }
        };
        (line, reason)
    }

    /// `--strategy target`: the install rewritten in place to install under /app; false when it
    /// cannot be (not a single pip install, or a later build command needs the packages).
    fn install_in_packages(
        &mut self,
        items: &[Item],
        i: usize,
        kind: LostInstall,
        packages: &mut bool,
    ) -> bool {
        let item = &items[i];
        let later = items[i + 1..].iter().any(|l| runs_python(l.node.as_str()));
        let (LostInstall::Python("pip"), false, Some(w)) = (kind, later, item.written.as_ref())
        else {
            return false;
        };
        let Some(new) = target::rewrite(self.text, w, item.node.as_str()) else {
            return false;
        };
        let inner = w.range.start + usize::from(w.quote.is_some());
        let reason = format!(
            "`{}` installs into {} (`--target {}`): the revised build copies only /app into the runtime image",
            item.node.as_str(),
            target::PYTHONPATH,
            target::DIR
        );
        self.push(inner..inner + item.node.as_str().len(), new, reason);
        *packages = true;
        true
    }

    /// `PYTHONPATH=/app/packages` in run.env, for `--strategy target`.
    fn pythonpath(&mut self, root: &MarkedMappingNode) {
        let Some((run_key, run)) = root.iter().find(|(k, _)| k.as_str() == "run") else {
            return;
        };
        let Some(run) = run.as_mapping() else {
            return;
        };
        let child_line = run
            .keys()
            .filter_map(|k| k.span().start().map(|m| m.line()))
            .min();
        let child = child_line.map_or("  ", |l| self.text.indent(l)).to_string();
        let dash = format!("{child}  - ");
        match target::pythonpath(self.text, run_key, run, &child, &dash) {
            Some(edit) => self.out.edits.push(edit),
            None => {
                let node = run.get_scalar("command").unwrap_or(run_key);
                self.by_hand(node, format!("run.env: set PYTHONPATH={} by hand (run.env is not a block list, or sets PYTHONPATH already)", target::PYTHONPATH), "the application imports the packages from there".into());
            }
        }
    }

    /// Where run.pre-run lines go: before its first item, or after `run:` in a new `pre-run:`.
    fn pre_run_site(&mut self, root: &MarkedMappingNode, items: &[Item]) -> Option<Site> {
        let (run_key, run) = root.iter().find(|(k, _)| k.as_str() == "run")?;
        let run = run.as_mapping()?;
        let line_col = |k: &MarkedScalarNode| k.span().start().map(|m| (m.line(), m.column()));
        let (run_line, _) = line_col(run_key)?;
        let (child_line, _) = run.keys().filter_map(line_col).min()?;
        if child_line <= run_line {
            return None;
        }
        if let Some(pre_run) = run.get_node("pre-run") {
            let first = pre_run.as_sequence()?.iter().next()?.as_scalar()?;
            let w = self
                .text
                .written(first)
                .filter(|w| self.text.is_item_line(w))?;
            let line = self.text.line_range(self.text.line_of(w.range.start));
            return Some(Site {
                at: line.start,
                header: String::new(),
                prefix: self.text.text[line.start..w.range.start].to_string(),
            });
        }
        let child = self.text.indent(child_line).to_string();
        // The file's own list indentation: how far its build items sit right of their key.
        let offset = items
            .iter()
            .filter_map(|i| i.written.as_ref())
            .map(|w| self.text.indent(self.text.line_of(w.range.start)).len())
            .next()
            .zip(self.phase_key_indent(root))
            .map_or(2, |(item, key)| item.saturating_sub(key));
        Some(Site {
            at: self.text.line_range(run_line).end,
            header: format!("{child}pre-run:\n"),
            prefix: format!("{child}{}- ", " ".repeat(offset)),
        })
    }

    /// The moved installs, first in run.pre-run, each with its reason.
    fn pre_run(&mut self, site: Site, lines: &[(String, String)]) {
        for (n, (line, reason)) in lines.iter().enumerate() {
            let header = if n == 0 { site.header.as_str() } else { "" };
            let text = format!("{header}{}{line}\n", site.prefix);
            self.push(site.at..site.at, text, reason.clone());
        }
    }

    /// A phase whose every command moved keeps one that does nothing, App Runner users' way of
    /// writing "nothing to build", rather than becoming empty.
    fn keep_phases(&mut self, items: &[Item]) {
        for phase in ["pre-build", "build"] {
            let total = items.iter().filter(|i| i.phase == phase).count();
            let gone: Vec<&(&str, usize, String)> =
                self.deleted.iter().filter(|d| d.0 == phase).collect();
            if let Some((_, index, prefix)) =
                gone.last().filter(|_| total > 0 && gone.len() == total)
            {
                let edit = &mut self.out.edits[*index];
                edit.replacement = format!("{prefix}echo \"no build\"\n");
                edit.reason = format!("{phase} keeps `echo \"no build\"`: every command of it moved, and App Runner users write this when there is nothing to build");
            }
        }
    }

    /// The indentation of the build phase keys (`pre-build:`, `build:`).
    fn phase_key_indent(&self, root: &MarkedMappingNode) -> Option<usize> {
        let commands = root.get_mapping("build")?.get_mapping("commands")?;
        let key = commands.keys().next()?;
        key.span().start().map(|m| m.column() - 1)
    }
}

/// What precedes an item's token on its line (`      - `).
fn indent_of(text: &Text, w: &Written) -> String {
    let line = text.line_range(text.line_of(w.range.start));
    text.text[line.start..w.range.start].to_string()
}

/// Whether a command can be written as a plain YAML scalar.
fn plain_safe(command: &str) -> bool {
    !command.contains(": ")
        && !command.contains(" #")
        && !command.contains('\n')
        && !command.starts_with([
            '"', '\'', '[', '{', '&', '*', '!', '|', '>', '%', '@', '`', '-', '?', '#',
        ])
}
