//! A Node.js app from package.json alone: runtime, package manager, build and start commands.

use super::{error_at, shown, Detected};
use crate::input::config::BuildSection;
use crate::input::package_json::PackageJson;
use crate::report::diagnostic::Diagnostic;
use crate::resolve::catalog::Language;

use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Manager {
    Npm,
    Yarn,
    Pnpm,
}

impl Manager {
    fn name(self) -> &'static str {
        match self {
            Manager::Npm => "npm",
            Manager::Yarn => "yarn",
            Manager::Pnpm => "pnpm",
        }
    }
}

const LOCKFILES: &[(&str, Manager)] = &[
    ("package-lock.json", Manager::Npm),
    ("npm-shrinkwrap.json", Manager::Npm),
    ("yarn.lock", Manager::Yarn),
    ("pnpm-lock.yaml", Manager::Pnpm),
];

pub(super) fn detect(
    root: &Path,
    shown_root: &Path,
    package: &PackageJson,
) -> Result<Detected, Vec<Diagnostic>> {
    let mut d = Detected {
        language: Language::Nodejs,
        default_runtime: "nodejs22",
        requests: vec![],
        build: BuildSection::default(),
        start: String::new(),
        path_prepend: vec![],
        decisions: vec![],
        remarks: vec![],
    };
    let mut errors = Vec::new();
    let package_path = package.source.path.display().to_string();

    // Runtime: engines.node (read by the resolver from package.json), else a version file.
    match package.engines_node() {
        Some(range) => d.decide("runtime", format!("Node.js {range}"), format!("engines.node in {package_path}")),
        None => match super::version_file(root, shown_root, &[".nvmrc", ".node-version"], "Node.js", "22, 22.21.1 or lts/jod") {
            Some(Ok(request)) => {
                d.decide("runtime", format!("Node.js {}", request.text), request.origin.to_string());
                d.requests.push(request);
            }
            Some(Err(e)) => errors.push(e),
            None => d.decide("runtime", "nodejs22", "the default: the newest App Runner Node.js LTS runtime (no engines.node, .nvmrc or .node-version)"),
        },
    }

    // Package manager: from the lockfile, checked against packageManager (corepack).
    let found: Vec<(&str, Manager)> = LOCKFILES
        .iter()
        .copied()
        .filter(|(f, _)| root.join(f).is_file())
        .collect();
    let declared = package
        .json
        .get("packageManager")
        .and_then(|v| v.as_str())
        .map(str::to_string);
    let declared_manager = declared.as_deref().and_then(|pm| {
        let name = pm.split('@').next().unwrap_or("");
        [Manager::Npm, Manager::Yarn, Manager::Pnpm]
            .into_iter()
            .find(|m| m.name() == name)
    });
    let mut managers: Vec<Manager> = found.iter().map(|(_, m)| *m).collect();
    managers.dedup();
    if managers.len() > 1 {
        let names: Vec<&str> = found.iter().map(|(f, _)| *f).collect();
        errors.push(
            error_at(shown_root, names[0], format!("two package managers' lockfiles: {}", names.join(" and ")))
                .with_note("the install would not be reproducible: each tool reads only its own lockfile")
                .with_help("delete the lockfile of the manager you do not use, or add an apprunner.yaml with your build commands"),
        );
    }
    let (manager, lockfile) = match (found.first(), declared_manager) {
        (Some((file, m)), Some(dm)) if *m != dm => {
            errors.push(
                error_at(
                    shown_root,
                    file,
                    format!(
                        "packageManager in {package_path} says {}, but the lockfile is {file}",
                        dm.name()
                    ),
                )
                .with_help("make packageManager and the lockfile agree"),
            );
            (*m, Some(*file))
        }
        (Some((file, m)), _) => (*m, Some(*file)),
        (None, Some(dm)) => (dm, None),
        (None, None) => (Manager::Npm, None),
    };
    let yarn_berry = manager == Manager::Yarn
        && (root.join(".yarnrc.yml").is_file()
            || declared
                .as_deref()
                .is_some_and(|pm| major_of(pm).is_some_and(|m| m >= 2)));
    if manager != Manager::Npm && (declared.is_some() || manager == Manager::Pnpm || yarn_berry) {
        // Corepack (bundled with Node.js 16.9+) provides pnpm and Yarn 2+, at packageManager's version;
        // older Node.js images (nodejs12, nodejs14) have none, so npm installs the manager instead.
        let spec = declared
            .as_deref()
            .map(|pm| pm.split('+').next().unwrap_or(pm).to_string())
            .unwrap_or_else(|| manager.name().to_string());
        d.build.pre_build.push(format!(
            "corepack enable 2>/dev/null || npm install -g {spec}"
        ));
        d.decide(
            "package manager version",
            declared
                .clone()
                .unwrap_or_else(|| format!("{} (corepack's default)", manager.name())),
            match &declared {
                Some(_) => format!("packageManager in {package_path}"),
                None => "no packageManager field".into(),
            },
        );
    }
    let install = match (manager, lockfile) {
        (Manager::Npm, Some(_)) => "npm ci",
        (Manager::Npm, None) => "npm install",
        (Manager::Yarn, _) if yarn_berry => "yarn install --immutable",
        (Manager::Yarn, _) => "yarn install --frozen-lockfile",
        (Manager::Pnpm, _) => "pnpm install --frozen-lockfile",
    };
    let install_origin = match lockfile {
        Some(file) => shown(shown_root, file),
        None if declared.is_some() => format!("packageManager in {package_path}"),
        None => "no lockfile".into(),
    };
    d.decide("install", install, install_origin);
    d.build.build.push(install.into());

    let scripts = package.json.get("scripts");
    let script = |name: &str| scripts.and_then(|s| s.get(name)).and_then(|v| v.as_str());
    if script("build").is_some() {
        let build = match manager {
            Manager::Npm => "npm run build",
            Manager::Yarn => "yarn run build",
            Manager::Pnpm => "pnpm run build",
        };
        d.build.build.push(build.into());
        d.decide("build", build, format!("scripts.build in {package_path}"));
    }

    // Start: `npm start` runs scripts.start whatever the manager, and npm is in every Node.js image.
    if script("start").is_some() {
        d.start = "npm start".into();
        d.decide(
            "start command",
            "npm start",
            format!("scripts.start in {package_path}"),
        );
    } else if root.join("server.js").is_file() {
        d.start = "node server.js".into();
        d.decide(
            "start command",
            "node server.js",
            format!(
                "{} (npm's default when there is no scripts.start)",
                shown(shown_root, "server.js")
            ),
        );
    } else {
        errors.push(
            Diagnostic::error(format!("no way to start the app: {package_path} has no scripts.start, and there is no server.js"))
                .at(crate::report::diagnostic::Location::file(&package.source.path))
                .with_help("add \"scripts\": { \"start\": \"node index.js\" } to package.json (with your entry file), or an apprunner.yaml with run.command"),
        );
    }
    if errors.is_empty() {
        Ok(d)
    } else {
        Err(errors)
    }
}

/// `yarn@4.1.0` → 4; `yarn@4.1.0+sha512.…` → 4.
fn major_of(spec: &str) -> Option<u64> {
    spec.split('@').nth(1)?.split('.').next()?.parse().ok()
}
