//! Dependency layers: when a stage's commands begin with recognised install commands, the plan
//! runs them first over a tree that holds only the manifests and lockfiles they read
//! ([`Step::Install`]), and only then adds the source. The engine keeps the result as an image
//! keyed by those files, the base image, the commands and their env, so a source edit that leaves
//! the manifests alone reuses the install.
//!
//! The split is made only where the result equals running the commands over the whole source, as
//! App Runner does; otherwise the plan keeps the plain order and says why, in one line.

use super::{BuildPlan, Step};
use crate::input::files::read_project_text;
use std::path::Path;

/// How an announcement of the plain order begins.
pub const PLAIN_ORDER: &str = "Dependencies installed with the source";

/// The most of a manifest that is read to decide.
const MANIFEST_CAP: u64 = 4 * 1024 * 1024;

/// What the leading commands of one stage read, when they can run before the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    /// How many leading commands form the install.
    pub commands: usize,
    /// The files they read, relative to the source root, sorted.
    pub files: Vec<String>,
}

/// Where the tree the commands see comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tree {
    /// The source, copied in after the install.
    Source,
    /// /app from another stage, copied in after the install: an install that writes into /app
    /// would be overwritten by the copy, so only installs that write elsewhere are split.
    OtherStage,
}

/// The leading install commands of `commands` and the files they read, or why the plain order
/// is kept.
pub fn split(root: &Path, commands: &[&str], tree: Tree) -> Result<Split, String> {
    let mut files: Vec<String> = Vec::new();
    let mut taken = 0;
    let mut installs = 0;
    for command in commands {
        match recognise(root, command, tree)? {
            Some(Kind::Setup) => {}
            Some(Kind::Install(read)) => {
                installs += 1;
                files.extend(read);
            }
            None => break,
        }
        taken += 1;
    }
    if tree == Tree::Source {
        ignored(root, &files)?;
    }
    if installs == 0 {
        let first = commands.first().copied().unwrap_or_default();
        return Err(format!("`{first}` is not a recognised install command"));
    }
    files.sort();
    files.dedup();
    Ok(Split {
        commands: taken,
        files,
    })
}

enum Kind {
    /// Reads no project file (a tool's install, a virtualenv).
    Setup,
    /// Reads these project files.
    Install(Vec<String>),
}

/// `Ok(None)`: not an install command (the install prefix ends here); `Err`: an install command
/// whose result could differ without the whole source.
fn recognise(root: &Path, command: &str, tree: Tree) -> Result<Option<Kind>, String> {
    let command = command.trim();
    // corepack's line, as detection writes it for pnpm and Yarn 2+.
    if let Some(rest) = command.strip_prefix("corepack enable 2>/dev/null || npm install -g ") {
        return Ok(plain_words(rest)
            .filter(|w| w.len() == 1)
            .map(|_| Kind::Setup));
    }
    let Some(words) = plain_words(command) else {
        return Ok(None);
    };
    // Leading NAME=value assignments are part of the command (and so of the cache key).
    let start = words
        .iter()
        .take_while(|w| w.split_once('=').is_some_and(|(n, _)| is_name(n)))
        .count();
    let words: Vec<&str> = words[start..].to_vec();
    let writes_app = |what: &str| -> Result<Option<Kind>, String> {
        Err(format!(
            "`{command}` writes into /app ({what}), which is copied in from the build stage after it"
        ))
    };
    match words.as_slice() {
        [py, "-m", "venv", dir] if is_python(py) && !dir.starts_with('/') => {
            if tree == Tree::OtherStage {
                return writes_app("a virtualenv");
            }
            let dir = dir.trim_start_matches("./").trim_end_matches('/');
            if in_source(root, dir) {
                return Err(format!(
                    "the source holds {dir}, which would replace the installed one"
                ));
            }
            Ok(Some(Kind::Setup))
        }
        [py, "-m", "pip", "install", args @ ..] if is_python(py) => pip(root, command, args, tree),
        [pip_, "install", args @ ..] if is_pip(pip_) => {
            if tree == Tree::OtherStage && pip_.contains('/') {
                return writes_app("a virtualenv's pip");
            }
            pip(root, command, args, tree)
        }
        ["npm", "install" | "i", "-g" | "--global", pkgs @ ..]
            if !pkgs.is_empty() && pkgs.iter().all(|p| registry_spec(p)) =>
        {
            Ok(Some(Kind::Setup))
        }
        ["poetry", "config", "virtualenvs.in-project", "true"] => Ok(Some(Kind::Setup)),
        ["npm", "ci", flags @ ..] => node(root, command, "npm", flags, false, tree),
        ["npm", "install" | "i", flags @ ..] => node(root, command, "npm", flags, true, tree),
        ["yarn", "install", flags @ ..] | ["yarn", flags @ ..]
            if flags.iter().all(|f| f.starts_with('-')) =>
        {
            let frozen = flags
                .iter()
                .any(|f| matches!(*f, "--frozen-lockfile" | "--immutable"));
            node(root, command, "yarn", flags, !frozen, tree)
        }
        ["pnpm", "install" | "i", flags @ ..] => {
            let frozen = flags.contains(&"--frozen-lockfile");
            node(root, command, "pnpm", flags, !frozen, tree)
        }
        ["pipenv", "install", flags @ ..] => {
            if tree == Tree::OtherStage {
                return writes_app("a virtualenv");
            }
            only_flags(command, flags)?;
            let rewrites = !flags
                .iter()
                .any(|f| matches!(*f, "--deploy" | "--skip-lock" | "--ignore-pipfile"));
            python_project(
                root,
                command,
                &["Pipfile", "Pipfile.lock"],
                "Pipfile.lock",
                rewrites,
            )
        }
        ["poetry", "install", flags @ ..] => {
            if tree == Tree::OtherStage {
                return writes_app("a virtualenv");
            }
            only_flags_with_values(
                command,
                flags,
                &["--only", "--with", "--without", "-E", "--extras"],
            )?;
            if !flags.contains(&"--no-root") {
                return Err(format!(
                    "`{command}` installs the project itself (no --no-root)"
                ));
            }
            python_project(
                root,
                command,
                &["pyproject.toml", "poetry.lock", "poetry.toml"],
                "poetry.lock",
                false,
            )
        }
        ["uv", "sync", flags @ ..] => {
            if tree == Tree::OtherStage {
                return writes_app("a virtualenv");
            }
            only_flags_with_values(
                command,
                flags,
                &["--extra", "--group", "--only-group", "--python"],
            )?;
            let pyproject = read(root, "pyproject.toml")?.unwrap_or_default();
            if section(&pyproject, "build-system") && !flags.contains(&"--no-install-project") {
                return Err(format!(
                    "`{command}` installs the project itself (pyproject.toml has [build-system])"
                ));
            }
            let rewrites = !flags.iter().any(|f| matches!(*f, "--locked" | "--frozen"));
            python_project(
                root,
                command,
                &["pyproject.toml", "uv.lock", ".python-version"],
                "uv.lock",
                rewrites,
            )
        }
        _ => Ok(None),
    }
}

/// The words of a command without shell syntax (quotes, variables, operators, globs), or `None`.
fn plain_words(command: &str) -> Option<Vec<&str>> {
    let special = |c: char| "'\"`$;&|<>(){}*?[]\\!#~".contains(c) || c == '\n';
    if command.chars().any(special) {
        return None;
    }
    Some(command.split_whitespace().collect())
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !s.starts_with(|c: char| c.is_ascii_digit())
}

fn is_python(word: &str) -> bool {
    let name = word.rsplit('/').next().unwrap_or(word);
    let local = !word.contains('/') || is_venv_bin(word);
    local
        && (name == "python"
            || name
                .strip_prefix("python3")
                .is_some_and(|v| v.is_empty() || v.starts_with('.')))
}

fn is_pip(word: &str) -> bool {
    let name = word.rsplit('/').next().unwrap_or(word);
    let local = !word.contains('/') || is_venv_bin(word);
    local
        && (name == "pip"
            || name
                .strip_prefix("pip3")
                .is_some_and(|v| v.is_empty() || v.starts_with('.')))
}

/// `.venv/bin/pip`, `/app/.venv/bin/pip`, `venv/bin/python3`: a virtualenv in /app.
fn is_venv_bin(word: &str) -> bool {
    let dir = word.rsplit_once('/').map_or("", |(d, _)| d);
    let dir = dir.strip_prefix("/app/").unwrap_or(dir);
    let dir = dir.strip_prefix("./").unwrap_or(dir);
    dir.strip_suffix("/bin")
        .is_some_and(|v| !v.is_empty() && !v.contains('/') && v != "..")
}

/// A package from a registry: no path, URL to a file or local directory.
fn registry_spec(spec: &str) -> bool {
    !spec.starts_with('-')
        && !spec.starts_with('.')
        && !spec.contains('/')
        && !spec.contains(':')
        && !spec.ends_with(".whl")
        && !spec.ends_with(".tar.gz")
        && !spec.ends_with(".zip")
}

/// `pip install` arguments: `-r FILE` (and `-c FILE`), packages from an index, flags without
/// values, and a few options with values that name no file.
fn pip(root: &Path, command: &str, args: &[&str], tree: Tree) -> Result<Option<Kind>, String> {
    let mut files = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let arg = args[i];
        let value = |i: usize| {
            args.get(i + 1)
                .copied()
                .ok_or_else(|| format!("`{command}`: {arg} without a value"))
        };
        match arg {
            "-r" | "--requirement" | "-c" | "--constraint" => {
                requirements(root, command, value(i)?, &mut files)?;
                i += 2;
            }
            "-i" | "--index-url" | "--extra-index-url" | "--trusted-host" | "--progress-bar" => {
                i += 2
            }
            "-e" | "--editable" => {
                return Err(format!("`{command}` installs a local path (-e)"));
            }
            "-t" | "--target" | "--prefix" | "--root" | "--src" if tree == Tree::OtherStage => {
                return Err(format!("`{command}` may write into /app ({arg}), which is copied in from the build stage after it"));
            }
            "-t" | "--target" | "--prefix" | "--root" | "--src" => {
                let dir = value(i)?;
                let rel = dir.strip_prefix("/app/").unwrap_or(dir);
                if !rel.starts_with('/') && in_source(root, rel.trim_start_matches("./")) {
                    return Err(format!(
                        "the source holds {rel}, which would replace what `{command}` installs"
                    ));
                }
                i += 2
            }
            "-f" | "--find-links" => {
                return Err(format!("`{command}` reads packages from {arg}"));
            }
            flag if flag.starts_with("-r") && flag.len() > 2 => {
                requirements(root, command, &flag[2..], &mut files)?;
                i += 1;
            }
            flag if flag.starts_with('-') => {
                if let Some((name, _)) = flag.split_once('=') {
                    if matches!(
                        name,
                        "--find-links" | "--editable" | "--requirement" | "--constraint"
                    ) {
                        return Err(format!(
                            "`{command}`: {name}= is not followed; installing with the source"
                        ));
                    }
                }
                i += 1;
            }
            spec if registry_spec(spec) => i += 1,
            path => return Err(format!("`{command}` installs a local path ({path})")),
        }
    }
    Ok(Some(if files.is_empty() {
        Kind::Setup
    } else {
        Kind::Install(files)
    }))
}

/// A requirements file and the files it includes, all present; no local paths inside.
fn requirements(
    root: &Path,
    command: &str,
    file: &str,
    files: &mut Vec<String>,
) -> Result<(), String> {
    let name =
        normal(file).ok_or_else(|| format!("`{command}` reads {file}, outside the source"))?;
    if files.contains(&name) {
        return Ok(());
    }
    let Some(text) = read(root, &name)? else {
        return Err(format!(
            "{name}, which `{command}` reads, is not in the source"
        ));
    };
    files.push(name.clone());
    let dir = Path::new(&name)
        .parent()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    let joined = text.replace("\\\r\n", " ").replace("\\\n", " ");
    for line in joined.lines() {
        let line = match line.find(" #") {
            Some(at) => &line[..at],
            None if line.trim_start().starts_with('#') => "",
            None => line,
        };
        let words: Vec<&str> = line.split_whitespace().collect();
        let Some(first) = words.first() else { continue };
        let include = match *first {
            "-r" | "--requirement" | "-c" | "--constraint" => words.get(1).copied(),
            w if w.starts_with("--requirement=") || w.starts_with("--constraint=") => {
                w.split_once('=').map(|(_, v)| v)
            }
            w if (w.starts_with("-r") || w.starts_with("-c")) && w.len() > 2 => Some(&w[2..]),
            _ => None,
        };
        if let Some(inc) = include {
            let inc = if dir.is_empty() {
                inc.to_string()
            } else {
                format!("{dir}/{inc}")
            };
            if read(root, &inc)?.is_none() {
                return Err(format!("{name} includes {inc}, which is not in the source"));
            }
            requirements(root, command, &inc, files)?;
            continue;
        }
        let local = first.starts_with("-e")
            || first.starts_with("--editable")
            || first.starts_with("-f")
            || first.starts_with("--find-links")
            || first.starts_with('.')
            || first.starts_with('/')
            || first.starts_with("file:")
            || line.contains("@ file:")
            || line.contains("file://");
        if local {
            return Err(format!("{name} names a local path (`{}`)", line.trim()));
        }
    }
    Ok(())
}

/// `npm`, `yarn` or `pnpm` over package.json and its lockfile and settings.
fn node(
    root: &Path,
    command: &str,
    tool: &str,
    flags: &[&str],
    may_rewrite_lock: bool,
    tree: Tree,
) -> Result<Option<Kind>, String> {
    if tree == Tree::OtherStage {
        return Err(format!(
            "`{command}` writes into /app (node_modules), which is copied in from the build stage after it"
        ));
    }
    only_flags(command, flags)?;
    let Some(text) = read(root, "package.json")? else {
        return Err(format!("`{command}`: there is no package.json"));
    };
    let package: serde_json::Value =
        serde_json::from_str(&text).map_err(|_| "package.json is not valid JSON".to_string())?;
    if let Some(scripts) = package.get("scripts").and_then(|s| s.as_object()) {
        for script in [
            "preinstall",
            "install",
            "postinstall",
            "prepare",
            "prepublish",
        ] {
            if scripts.contains_key(script) {
                return Err(format!(
                    "package.json has a `{script}` script, which may read any file"
                ));
            }
        }
    }
    if package.get("workspaces").is_some() {
        return Err("package.json declares workspaces".into());
    }
    for table in [
        "dependencies",
        "devDependencies",
        "optionalDependencies",
        "peerDependencies",
    ] {
        let Some(deps) = package.get(table).and_then(|d| d.as_object()) else {
            continue;
        };
        for (name, spec) in deps {
            let spec = spec.as_str().unwrap_or_default();
            let local = ["file:", "link:", "portal:", "workspace:", ".", "/", "~"]
                .iter()
                .any(|p| spec.starts_with(p));
            if local {
                return Err(format!(
                    "package.json's {table} has a local path ({name}: {spec})"
                ));
            }
        }
    }
    if in_source(root, "node_modules") {
        return Err("the source holds node_modules, which would replace the installed one".into());
    }
    let (locks, settings): (&[&str], &[&str]) = match tool {
        "npm" => (&["package-lock.json", "npm-shrinkwrap.json"], &[".npmrc"]),
        "yarn" => (&["yarn.lock"], &[".yarnrc", ".yarnrc.yml", ".npmrc"]),
        _ => (&["pnpm-lock.yaml"], &[".npmrc", ".pnpmfile.cjs"]),
    };
    if tool == "yarn" && in_source(root, ".yarn") {
        return Err("the source holds .yarn (Yarn's releases, plugins or cache)".into());
    }
    for generated in [".pnp.cjs", ".pnp.loader.mjs", ".pnp.js"] {
        if tool == "yarn" && in_source(root, generated) {
            return Err(format!(
                "the source holds {generated}, which would replace the one the install writes"
            ));
        }
    }
    if tool == "pnpm" && exists(root, "pnpm-workspace.yaml") {
        return Err("pnpm-workspace.yaml declares a workspace".into());
    }
    let mut files = vec!["package.json".to_string()];
    for lock in locks {
        if exists(root, lock) {
            if may_rewrite_lock {
                return Err(format!("`{command}` may rewrite {lock}"));
            }
            files.push(lock.to_string());
        }
    }
    files.extend(
        settings
            .iter()
            .filter(|f| exists(root, f))
            .map(|f| f.to_string()),
    );
    Ok(Some(Kind::Install(files)))
}

/// pipenv, poetry or uv over their manifests: none may name a local path.
fn python_project(
    root: &Path,
    command: &str,
    names: &[&str],
    lock: &str,
    may_rewrite_lock: bool,
) -> Result<Option<Kind>, String> {
    if in_source(root, ".venv") {
        return Err("the source holds .venv, which would replace the installed one".into());
    }
    let mut files = Vec::new();
    for name in names {
        let Some(text) = read(root, name)? else {
            continue;
        };
        let local = text.lines().any(|l| {
            let l: String = l.chars().filter(|c| !c.is_whitespace()).collect();
            l.contains("path=")
                || l.contains("editable=true")
                || l.starts_with("[tool.uv.workspace]")
        });
        if local && !name.ends_with(".lock") {
            return Err(format!("{name} names a local path or workspace"));
        }
        if *name == lock && may_rewrite_lock {
            return Err(format!("`{command}` may rewrite {lock}"));
        }
        files.push(name.to_string());
    }
    if files.is_empty() {
        return Err(format!(
            "`{command}`: none of {} is in the source",
            names.join(", ")
        ));
    }
    Ok(Some(Kind::Install(files)))
}

fn only_flags(command: &str, flags: &[&str]) -> Result<(), String> {
    only_flags_with_values(command, flags, &[])
}

/// Arguments that are flags (or the named options with a value): a package name or path would
/// make the command something else.
fn only_flags_with_values(
    command: &str,
    flags: &[&str],
    with_values: &[&str],
) -> Result<(), String> {
    let mut i = 0;
    while i < flags.len() {
        if with_values.contains(&flags[i]) {
            i += 2;
        } else if flags[i].starts_with('-') {
            i += 1;
        } else {
            return Err(format!("`{command}` names `{}`, not only flags", flags[i]));
        }
    }
    Ok(())
}

/// `name` relative to the source root, or `None` when it leads out.
fn normal(name: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in name.trim_start_matches("./").split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    (!name.starts_with('/') && !parts.is_empty()).then(|| parts.join("/"))
}

fn read(root: &Path, name: &str) -> Result<Option<String>, String> {
    read_project_text(root, name, MANIFEST_CAP)
        .map_err(|_| format!("{name} cannot be read as a manifest"))
}

/// The source copied in leaves out what `.dockerignore` excludes: a manifest it leaves out would be
/// read by the install here but not over the copied source.
fn ignored(root: &Path, files: &[String]) -> Result<(), String> {
    let Some(text) = read(root, ".dockerignore")? else {
        return Ok(());
    };
    let rules = crate::input::dockerignore::IgnoreRules::parse(&text)
        .map_err(|_| ".dockerignore cannot be read".to_string())?;
    for file in files {
        let mut at = String::new();
        for part in file.split('/') {
            at = if at.is_empty() {
                part.to_string()
            } else {
                format!("{at}/{part}")
            };
            if rules.excludes(&at) {
                return Err(format!(".dockerignore leaves out {file}"));
            }
        }
    }
    Ok(())
}

/// Whether `name` exists and reaches /app (`.dockerignore` does not leave it out).
fn in_source(root: &Path, name: &str) -> bool {
    exists(root, name) && ignored(root, &[name.to_string()]).is_ok()
}

fn exists(root: &Path, name: &str) -> bool {
    std::fs::symlink_metadata(root.join(name)).is_ok()
}

fn section(toml_text: &str, name: &str) -> bool {
    toml_text.lines().any(|l| l.trim() == format!("[{name}]"))
}

/// Split every stage whose commands begin with an install: [`Step::Install`] before the step that
/// brings in /app, and an announcement of the path taken when it is the plain one.
pub fn apply(plan: &mut BuildPlan) {
    let stages: Vec<String> = plan.stages.iter().map(|s| s.name.clone()).collect();
    for stage in stages {
        apply_stage(plan, &stage);
    }
}

fn apply_stage(plan: &mut BuildPlan, stage: &str) {
    // The step that brings /app into the stage, and the commands that follow in this stage.
    let Some(entry) = plan.steps.iter().position(|s| {
        matches!(s, Step::CopySource { stage: st, .. } | Step::CopyFromStage { stage: st, .. } if st == stage)
    }) else {
        return;
    };
    let (tree, from, path) = match &plan.steps[entry] {
        Step::CopySource { path, .. } => (Tree::Source, None, path.clone()),
        Step::CopyFromStage { from, path, .. } => {
            (Tree::OtherStage, Some(from.clone()), path.clone())
        }
        _ => unreachable!("matched above"),
    };
    let runs: Vec<usize> = plan
        .steps
        .iter()
        .enumerate()
        .skip(entry + 1)
        .filter(|(_, s)| s.stage() == stage)
        .take_while(|(_, s)| matches!(s, Step::Run { .. } | Step::Announce { .. }))
        .filter(|(_, s)| matches!(s, Step::Run { .. }))
        .map(|(i, _)| i)
        .collect();
    if runs.is_empty() {
        return;
    }
    let commands: Vec<&str> = runs
        .iter()
        .map(|&i| match &plan.steps[i] {
            Step::Run { command, .. } => command.as_str(),
            _ => unreachable!(),
        })
        .collect();
    let decided = split(&plan.source_root, &commands, tree).and_then(|split| {
        // One env and workdir for the whole install: the key has one of each.
        let first = &plan.steps[runs[0]];
        let same = runs[..split.commands]
            .iter()
            .all(|&i| match (&plan.steps[i], first) {
                (
                    Step::Run { env, workdir, .. },
                    Step::Run {
                        env: e0,
                        workdir: w0,
                        ..
                    },
                ) => env == e0 && workdir == w0,
                _ => false,
            });
        if same {
            Ok(split)
        } else {
            Err("the install commands run with different env or directories".into())
        }
    });
    match decided {
        Ok(split) => {
            let taken: Vec<usize> = runs[..split.commands].to_vec();
            let reason = if split.files.is_empty() {
                "the install reads no project file".to_string()
            } else {
                format!("the install reads only {}", split.files.join(", "))
            };
            let mut install_runs: Vec<Step> =
                taken.iter().map(|&i| plan.steps[i].clone()).collect();
            for &i in taken.iter().rev() {
                plan.steps.remove(i);
            }
            install_runs.shrink_to_fit();
            plan.steps.insert(
                entry,
                Step::Install {
                    stage: stage.to_string(),
                    from,
                    path,
                    files: split.files,
                    runs: install_runs,
                    reason,
                },
            );
        }
        Err(why) => {
            plan.steps.insert(
                entry,
                Step::Announce {
                    stage: stage.to_string(),
                    message: format!("{PLAIN_ORDER} in the {stage} stage: {why}."),
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        dir
    }

    fn files(root: &Path, commands: &[&str], tree: Tree) -> Result<(usize, Vec<String>), String> {
        split(root, commands, tree).map(|s| (s.commands, s.files))
    }

    fn refused(root: &Path, commands: &[&str], tree: Tree) -> String {
        split(root, commands, tree).expect_err("falls back to the plain order")
    }

    const REQ: &str = "flask==3.0\n# a comment\ngunicorn  # the server\n";

    #[test]
    fn pip_with_a_requirements_file() {
        let a = app(&[("requirements.txt", REQ), ("server.py", "")]);
        for command in [
            "pip install -r requirements.txt",
            "pip3 install -r requirements.txt",
            "pip3 install --no-cache-dir -r requirements.txt",
            "python3 -m pip install -r requirements.txt",
        ] {
            assert_eq!(
                files(
                    a.path(),
                    &[command, "python3 -m compileall ."],
                    Tree::Source
                ),
                Ok((1, vec!["requirements.txt".to_string()])),
                "{command}"
            );
        }
        // What the pre-run of the guide's example does, in the runtime stage.
        assert!(split(
            a.path(),
            &["pip3 install -r requirements.txt"],
            Tree::OtherStage
        )
        .is_ok());
    }

    #[test]
    fn detections_venv_form_and_included_files() {
        let a = app(&[
            (
                "requirements.txt",
                "-r requirements/base.txt\n-c constraints.txt\ndjango\n",
            ),
            ("requirements/base.txt", "-r common.txt\nrequests\n"),
            ("requirements/common.txt", "six\n"),
            ("constraints.txt", "six<2\n"),
        ]);
        assert_eq!(
            files(
                a.path(),
                &[
                    "python3 -m venv .venv",
                    ".venv/bin/pip install -r requirements.txt",
                    "echo done"
                ],
                Tree::Source
            ),
            Ok((
                2,
                vec![
                    "constraints.txt".to_string(),
                    "requirements.txt".to_string(),
                    "requirements/base.txt".to_string(),
                    "requirements/common.txt".to_string()
                ]
            ))
        );
    }

    #[test]
    fn pip_falls_back_for_local_paths_and_missing_includes() {
        let a = app(&[("requirements.txt", REQ)]);
        assert!(refused(a.path(), &["pip install ."], Tree::Source).contains("local path (.)"));
        assert!(refused(a.path(), &["pip install -e ."], Tree::Source).contains("-e"));
        assert!(refused(a.path(), &["pip install ./pkg"], Tree::Source).contains("local path"));
        for line in [
            "-e .",
            "./pkg",
            "mylib @ file:///app/mylib",
            "/abs/pkg.whl",
            "file:pkg",
        ] {
            let b = app(&[("requirements.txt", &format!("flask\n{line}\n"))]);
            assert!(
                refused(b.path(), &["pip install -r requirements.txt"], Tree::Source)
                    .contains("local path"),
                "{line}"
            );
        }
        let c = app(&[("requirements.txt", "-r dev.txt\n")]);
        assert!(
            refused(c.path(), &["pip install -r requirements.txt"], Tree::Source)
                .contains("dev.txt, which is not in the source")
        );
        let d = app(&[]);
        assert!(
            refused(d.path(), &["pip install -r requirements.txt"], Tree::Source)
                .contains("is not in the source")
        );
    }

    #[test]
    fn unrecognised_commands_keep_the_plain_order() {
        let a = app(&[("requirements.txt", REQ)]);
        for command in [
            "python3 -m compileall -q .",
            "pip install -r requirements.txt && python manage.py migrate",
            "pip install -r $REQS",
            "make deps",
        ] {
            assert!(
                refused(a.path(), &[command], Tree::Source).contains("not a recognised install"),
                "{command}"
            );
        }
        // An install after an unrecognised command is not first.
        assert!(refused(
            a.path(),
            &["echo hi", "pip install -r requirements.txt"],
            Tree::Source
        )
        .contains("`echo hi`"));
        // A setup command alone is no install.
        assert!(split(a.path(), &["python3 -m venv .venv"], Tree::Source).is_err());
    }

    const PACKAGE: &str = r#"{"name":"a","dependencies":{"express":"^4"},"scripts":{"start":"node index.js","build":"tsc"}}"#;

    #[test]
    fn node_managers_read_their_manifests() {
        let a = app(&[
            ("package.json", PACKAGE),
            ("package-lock.json", "{}"),
            (".npmrc", "x=1"),
        ]);
        assert_eq!(
            files(a.path(), &["npm ci", "npm run build"], Tree::Source),
            Ok((
                1,
                vec![
                    ".npmrc".into(),
                    "package-lock.json".into(),
                    "package.json".into()
                ]
            ))
        );
        let b = app(&[("package.json", PACKAGE), ("yarn.lock", "")]);
        assert_eq!(
            files(b.path(), &["yarn install --frozen-lockfile"], Tree::Source),
            Ok((1, vec!["package.json".into(), "yarn.lock".into()]))
        );
        let c = app(&[("package.json", PACKAGE), ("pnpm-lock.yaml", "")]);
        assert_eq!(
            files(
                c.path(),
                &[
                    "corepack enable 2>/dev/null || npm install -g pnpm@9.15.0",
                    "pnpm install --frozen-lockfile"
                ],
                Tree::Source
            ),
            Ok((2, vec!["package.json".into(), "pnpm-lock.yaml".into()]))
        );
        let d = app(&[("package.json", PACKAGE)]);
        assert_eq!(
            files(d.path(), &["npm install"], Tree::Source),
            Ok((1, vec!["package.json".into()]))
        );
    }

    #[test]
    fn node_falls_back_for_scripts_local_paths_and_workspaces() {
        for script in ["preinstall", "install", "postinstall", "prepare"] {
            let p = format!(r#"{{"scripts":{{"{script}":"node x.js"}}}}"#);
            let a = app(&[("package.json", &p)]);
            assert!(refused(a.path(), &["npm install"], Tree::Source).contains(script));
        }
        for spec in ["file:../lib", "link:./lib", "./lib", "workspace:*"] {
            let p = format!(r#"{{"dependencies":{{"lib":"{spec}"}}}}"#);
            let a = app(&[("package.json", &p)]);
            assert!(
                refused(a.path(), &["npm install"], Tree::Source).contains("local path"),
                "{spec}"
            );
        }
        let pnp = app(&[
            ("package.json", PACKAGE),
            ("yarn.lock", ""),
            (".pnp.cjs", ""),
        ]);
        assert!(
            refused(pnp.path(), &["yarn install --immutable"], Tree::Source).contains(".pnp.cjs")
        );
        let w = app(&[("package.json", r#"{"workspaces":["packages/*"]}"#)]);
        assert!(refused(w.path(), &["npm install"], Tree::Source).contains("workspaces"));
        let l = app(&[("package.json", PACKAGE), ("package-lock.json", "{}")]);
        assert!(refused(l.path(), &["npm install"], Tree::Source)
            .contains("may rewrite package-lock.json"));
        let m = app(&[("package.json", PACKAGE), ("node_modules/x/index.js", "")]);
        assert!(refused(m.path(), &["npm ci"], Tree::Source).contains("node_modules"));
        assert!(refused(l.path(), &["npm ci"], Tree::OtherStage).contains("writes into /app"));
        assert!(
            refused(l.path(), &["npm install express"], Tree::Source).contains("not only flags")
        );
    }

    #[test]
    fn python_project_tools() {
        let a = app(&[
            ("Pipfile", "[packages]\nflask = \"*\"\n"),
            ("Pipfile.lock", "{}"),
        ]);
        assert_eq!(
            files(
                a.path(),
                &[
                    "pip3 install pipenv",
                    "PIPENV_VENV_IN_PROJECT=1 pipenv install --deploy"
                ],
                Tree::Source
            ),
            Ok((2, vec!["Pipfile".into(), "Pipfile.lock".into()]))
        );
        let p = app(&[
            ("pyproject.toml", "[tool.poetry]\nname = \"a\"\n"),
            ("poetry.lock", ""),
        ]);
        assert_eq!(
            files(
                p.path(),
                &[
                    "pip3 install poetry",
                    "poetry config virtualenvs.in-project true",
                    "poetry install --no-root --only main"
                ],
                Tree::Source
            ),
            Ok((3, vec!["poetry.lock".into(), "pyproject.toml".into()]))
        );
        assert!(refused(p.path(), &["poetry install"], Tree::Source).contains("--no-root"));
        let u = app(&[
            ("pyproject.toml", "[project]\nname = \"a\"\n"),
            ("uv.lock", ""),
        ]);
        assert_eq!(
            files(
                u.path(),
                &[
                    "pip3 install uv==0.13.9",
                    "UV_PYTHON_DOWNLOADS=never uv sync --locked --no-dev"
                ],
                Tree::Source
            ),
            Ok((2, vec!["pyproject.toml".into(), "uv.lock".into()]))
        );
        assert!(refused(u.path(), &["uv sync"], Tree::Source).contains("may rewrite uv.lock"));
        let b = app(&[(
            "pyproject.toml",
            "[project]\nname = \"a\"\n[build-system]\nrequires = []\n",
        )]);
        assert!(refused(b.path(), &["uv sync"], Tree::Source).contains("the project itself"));
        let l = app(&[(
            "pyproject.toml",
            "[tool.uv.sources]\nlib = { path = \"./lib\" }\n",
        )]);
        assert!(refused(l.path(), &["uv sync --frozen"], Tree::Source).contains("local path"));
        let w = app(&[("requirements.txt", REQ), (".venv/bin/python", "")]);
        assert!(refused(
            w.path(),
            &[
                "python3 -m venv .venv",
                ".venv/bin/pip install -r requirements.txt"
            ],
            Tree::Source
        )
        .contains("the source holds .venv"));
        let ignored = app(&[
            ("requirements.txt", REQ),
            (".venv/bin/python", ""),
            (".dockerignore", ".venv\n"),
        ]);
        assert!(split(
            ignored.path(),
            &[
                "python3 -m venv .venv",
                ".venv/bin/pip install -r requirements.txt"
            ],
            Tree::Source
        )
        .is_ok());
        let v = app(&[("Pipfile", ""), (".venv/bin/python", "")]);
        assert!(refused(v.path(), &["pipenv install --deploy"], Tree::Source).contains(".venv"));
    }
}
