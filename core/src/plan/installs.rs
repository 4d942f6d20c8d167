//! Which commands are installs the plan can run before the source, and which project files each
//! reads: pip over requirements files, npm/yarn/pnpm over package.json and its lockfile, pipenv,
//! poetry and uv over their manifests. Anything whose result could depend on the rest of the
//! source (a local path, a lifecycle script, a lockfile it may rewrite) is refused with the reason.

use crate::input::files::ProjectFiles;
use std::path::Path;

/// The most of a manifest that is read to decide.
const MANIFEST_CAP: u64 = 4 * 1024 * 1024;

/// Where the tree the commands see comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tree {
    /// The source, copied in after the install.
    Source,
    /// /app from another stage, copied in after the install: an install that writes into /app
    /// would be overwritten by the copy, so only installs that write elsewhere are split.
    OtherStage,
}

pub(super) enum Kind {
    /// Reads no project file (a tool's install, a virtualenv).
    Setup,
    /// Reads these project files.
    Install(Vec<String>),
}

/// `Ok(None)`: not an install command (the install prefix ends here); `Err`: an install command
/// whose result could differ without the whole source.
pub(super) fn recognise(
    project: &ProjectFiles,
    command: &str,
    tree: Tree,
) -> Result<Option<Kind>, String> {
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
            if in_source(project, dir) {
                return Err(format!(
                    "the source holds {dir}, which would replace the installed one"
                ));
            }
            Ok(Some(Kind::Setup))
        }
        [py, "-m", "pip", "install", args @ ..] if is_python(py) => {
            pip(project, command, args, tree)
        }
        [pip_, "install", args @ ..] if is_pip(pip_) => {
            if tree == Tree::OtherStage && pip_.contains('/') {
                return writes_app("a virtualenv's pip");
            }
            pip(project, command, args, tree)
        }
        ["npm", "install" | "i", "-g" | "--global", pkgs @ ..]
            if !pkgs.is_empty() && pkgs.iter().all(|p| registry_spec(p)) =>
        {
            Ok(Some(Kind::Setup))
        }
        ["poetry", "config", "virtualenvs.in-project", "true"] => Ok(Some(Kind::Setup)),
        ["npm", "ci", flags @ ..] => node(project, command, "npm", flags, false, tree),
        ["npm", "install" | "i", flags @ ..] => node(project, command, "npm", flags, true, tree),
        ["yarn", "install", flags @ ..] | ["yarn", flags @ ..]
            if flags.iter().all(|f| f.starts_with('-')) =>
        {
            let frozen = flags
                .iter()
                .any(|f| matches!(*f, "--frozen-lockfile" | "--immutable"));
            node(project, command, "yarn", flags, !frozen, tree)
        }
        ["pnpm", "install" | "i", flags @ ..] => {
            let frozen = flags.contains(&"--frozen-lockfile");
            node(project, command, "pnpm", flags, !frozen, tree)
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
                project,
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
                project,
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
            let pyproject = read(project, "pyproject.toml")?.unwrap_or_default();
            if section(&pyproject, "build-system") && !flags.contains(&"--no-install-project") {
                return Err(format!(
                    "`{command}` installs the project itself (pyproject.toml has [build-system])"
                ));
            }
            let rewrites = !flags.iter().any(|f| matches!(*f, "--locked" | "--frozen"));
            python_project(
                project,
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
fn pip(
    project: &ProjectFiles,
    command: &str,
    args: &[&str],
    tree: Tree,
) -> Result<Option<Kind>, String> {
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
                requirements(project, command, value(i)?, &mut files)?;
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
                if !rel.starts_with('/') && in_source(project, rel.trim_start_matches("./")) {
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
                requirements(project, command, &flag[2..], &mut files)?;
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
    project: &ProjectFiles,
    command: &str,
    file: &str,
    files: &mut Vec<String>,
) -> Result<(), String> {
    let name =
        normal(file).ok_or_else(|| format!("`{command}` reads {file}, outside the source"))?;
    if files.contains(&name) {
        return Ok(());
    }
    let Some(text) = read(project, &name)? else {
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
            if read(project, &inc)?.is_none() {
                return Err(format!("{name} includes {inc}, which is not in the source"));
            }
            requirements(project, command, &inc, files)?;
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
    project: &ProjectFiles,
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
    let Some(text) = read(project, "package.json")? else {
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
    if in_source(project, "node_modules") {
        return Err("the source holds node_modules, which would replace the installed one".into());
    }
    let (locks, settings): (&[&str], &[&str]) = match tool {
        "npm" => (&["package-lock.json", "npm-shrinkwrap.json"], &[".npmrc"]),
        "yarn" => (&["yarn.lock"], &[".yarnrc", ".yarnrc.yml", ".npmrc"]),
        _ => (&["pnpm-lock.yaml"], &[".npmrc", ".pnpmfile.cjs"]),
    };
    if tool == "yarn" && in_source(project, ".yarn") {
        return Err("the source holds .yarn (Yarn's releases, plugins or cache)".into());
    }
    for generated in [".pnp.cjs", ".pnp.loader.mjs", ".pnp.js"] {
        if tool == "yarn" && in_source(project, generated) {
            return Err(format!(
                "the source holds {generated}, which would replace the one the install writes"
            ));
        }
    }
    if tool == "pnpm" && exists(project, "pnpm-workspace.yaml") {
        return Err("pnpm-workspace.yaml declares a workspace".into());
    }
    let mut files = vec!["package.json".to_string()];
    for lock in locks {
        if exists(project, lock) {
            if may_rewrite_lock {
                return Err(format!("`{command}` may rewrite {lock}"));
            }
            files.push(lock.to_string());
        }
    }
    files.extend(
        settings
            .iter()
            .filter(|f| exists(project, f))
            .map(|f| f.to_string()),
    );
    Ok(Some(Kind::Install(files)))
}

/// pipenv, poetry or uv over their manifests: none may name a local path.
fn python_project(
    project: &ProjectFiles,
    command: &str,
    names: &[&str],
    lock: &str,
    may_rewrite_lock: bool,
) -> Result<Option<Kind>, String> {
    if in_source(project, ".venv") {
        return Err("the source holds .venv, which would replace the installed one".into());
    }
    let mut files = Vec::new();
    for name in names {
        let Some(text) = read(project, name)? else {
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

/// `name` relative to the source project, or `None` when it leads out.
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

fn read(project: &ProjectFiles, name: &str) -> Result<Option<String>, String> {
    project
        .text(name, MANIFEST_CAP)
        .map_err(|_| format!("{name} cannot be read as a manifest"))
}

/// The source copied in leaves out what `.dockerignore` excludes: a manifest it leaves out would be
/// read by the install here but not over the copied source.
pub(super) fn ignored(project: &ProjectFiles, files: &[String]) -> Result<(), String> {
    let rules = project
        .ignore_rules()
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
fn in_source(project: &ProjectFiles, name: &str) -> bool {
    exists(project, name) && ignored(project, &[name.to_string()]).is_ok()
}

fn exists(project: &ProjectFiles, name: &str) -> bool {
    project.exists(name)
}

fn section(toml_text: &str, name: &str) -> bool {
    toml_text.lines().any(|l| l.trim() == format!("[{name}]"))
}
