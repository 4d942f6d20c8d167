//! A Node.js app from package.json alone: runtime, package manager, build and start commands.
//!
//! The package manager goes from a request (the `packageManager` field, the lockfile) to a
//! resolved manager with its install command, as heroku's Node.js buildpack does.

use super::{error_at, Detected};
use crate::input::config::BuildSection;
use crate::input::origin::Origin;
use crate::input::package_json::PackageJson;
use crate::report::codes;
use crate::report::diagnostic::{Diagnostic, Location};
use crate::resolve::catalog::Language;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Manager {
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

    fn from_spec(spec: &str) -> Option<Self> {
        let name = spec.split('@').next().unwrap_or("");
        [Manager::Npm, Manager::Yarn, Manager::Pnpm]
            .into_iter()
            .find(|m| m.name() == name)
    }
}

const LOCKFILES: &[(&str, Manager)] = &[
    ("package-lock.json", Manager::Npm),
    ("npm-shrinkwrap.json", Manager::Npm),
    ("yarn.lock", Manager::Yarn),
    ("pnpm-lock.yaml", Manager::Pnpm),
];

/// What the project asks for: the `packageManager` field (`pnpm@9.15.0+sha…`) and the lockfiles.
#[derive(Debug, Clone)]
pub struct RequestedPackageManager {
    /// `packageManager` as written, and the manager it names.
    pub declared: Option<(String, Manager)>,
    /// Lockfiles present, in precedence order.
    pub lockfiles: Vec<(&'static str, Manager)>,
    pub package_json: PathBuf,
}

/// The manager that installs, how it gets into the image, and its install command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedPackageManager {
    pub manager: Manager,
    /// `pnpm@9.15.0` for corepack (or npm's fallback), `None` for npm, which every image has.
    pub provision: Option<String>,
    pub install: &'static str,
    pub install_origin: Origin,
    pub version_origin: Option<(String, Origin)>,
}

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
    runtime(root, shown_root, package, &mut d, &mut errors);
    let requested = RequestedPackageManager::read(root, package);
    match requested.resolve(root, shown_root) {
        Ok(resolved) => {
            install(&resolved, &mut d);
            build_script(package, resolved.manager, &mut d);
        }
        Err(e) => errors.push(e),
    }
    match start(root, shown_root, package) {
        Ok((command, origin)) => {
            d.decide("start command", &command, origin);
            d.start = command;
        }
        Err(e) => errors.push(e),
    }
    if errors.is_empty() {
        Ok(d)
    } else {
        Err(errors)
    }
}

/// engines.node is read by the input step, for every configuration source; without it, a version
/// file, else the default.
fn runtime(
    root: &Path,
    shown_root: &Path,
    package: &PackageJson,
    d: &mut Detected,
    errors: &mut Vec<Diagnostic>,
) {
    if package.engines_node().is_some() {
        return;
    }
    let files = [".nvmrc", ".node-version"];
    match super::version_file(root, shown_root, &files, Language::Nodejs, "22, 22.21.1 or lts/jod") {
        Some(Ok(request)) => {
            d.decide(
                "runtime",
                format!("Node.js {}", request.text),
                Origin::from(&request.origin),
            );
            d.requests.push(request);
        }
        Some(Err(e)) => errors.push(e),
        None => d.decide(
            "runtime",
            "nodejs22",
            Origin::default_because("the newest App Runner Node.js LTS runtime (no engines.node, .nvmrc or .node-version)"),
        ),
    }
}

impl RequestedPackageManager {
    fn read(root: &Path, package: &PackageJson) -> Self {
        let declared = package
            .json
            .get("packageManager")
            .and_then(|v| v.as_str())
            .and_then(|spec| Manager::from_spec(spec).map(|m| (spec.to_string(), m)));
        let lockfiles = LOCKFILES
            .iter()
            .copied()
            .filter(|(f, _)| root.join(f).is_file())
            .collect();
        Self {
            declared,
            lockfiles,
            package_json: package.source.path.clone(),
        }
    }

    /// One manager's lockfile, agreeing with `packageManager` when both are there.
    fn resolve(
        &self,
        root: &Path,
        shown_root: &Path,
    ) -> Result<ResolvedPackageManager, Diagnostic> {
        let package_path = self.package_json.display();
        let mut managers: Vec<Manager> = self.lockfiles.iter().map(|(_, m)| *m).collect();
        managers.dedup();
        if managers.len() > 1 {
            let names: Vec<&str> = self.lockfiles.iter().map(|(f, _)| *f).collect();
            return Err(error_at(codes::TWO_LOCKFILES, shown_root, names[0], format!("two package managers' lockfiles: {}", names.join(" and ")))
                .with_note("the install would not be reproducible: each tool reads only its own lockfile")
                .with_help("delete the lockfile of the manager you do not use, or add an apprunner.yaml with your build commands"));
        }
        let declared = self.declared.as_ref();
        let (manager, lockfile) = match (self.lockfiles.first(), declared) {
            (Some((file, m)), Some((_, dm))) if m != dm => {
                return Err(error_at(
                    codes::PACKAGE_MANAGER_MISMATCH,
                    shown_root,
                    file,
                    format!(
                        "packageManager in {package_path} says {}, but the lockfile is {file}",
                        dm.name()
                    ),
                )
                .with_help("make packageManager and the lockfile agree"));
            }
            (Some((file, m)), _) => (*m, Some(*file)),
            (None, Some((_, dm))) => (*dm, None),
            (None, None) => (Manager::Npm, None),
        };
        let yarn_berry = manager == Manager::Yarn
            && (root.join(".yarnrc.yml").is_file()
                || declared.is_some_and(|(spec, _)| major_of(spec).is_some_and(|m| m >= 2)));
        let install = match (manager, lockfile) {
            (Manager::Npm, Some(_)) => "npm ci",
            (Manager::Npm, None) => "npm install",
            (Manager::Yarn, _) if yarn_berry => "yarn install --immutable",
            (Manager::Yarn, _) => "yarn install --frozen-lockfile",
            (Manager::Pnpm, _) => "pnpm install --frozen-lockfile",
        };
        let install_origin = match lockfile {
            Some(file) => Origin::file(shown_root.join(file)),
            None if declared.is_some() => Origin::key(&self.package_json, "packageManager"),
            None => Origin::default_because("no lockfile"),
        };
        // Corepack (bundled with Node.js 16.9+) provides pnpm and Yarn 2+ at packageManager's
        // version; yarn 1 and npm are in the images already unless a version is declared.
        let needs_provision = manager != Manager::Npm
            && (declared.is_some() || manager == Manager::Pnpm || yarn_berry);
        let (provision, version_origin) = if needs_provision {
            let spec = declared
                .map(|(spec, _)| spec.split('+').next().unwrap_or(spec).to_string())
                .unwrap_or_else(|| manager.name().to_string());
            let shown = declared
                .map(|(spec, _)| spec.clone())
                .unwrap_or_else(|| format!("{} (corepack's default)", manager.name()));
            let origin = match declared {
                Some(_) => Origin::key(&self.package_json, "packageManager"),
                None => Origin::default_because("no packageManager field"),
            };
            (Some(spec), Some((shown, origin)))
        } else {
            (None, None)
        };
        Ok(ResolvedPackageManager {
            manager,
            provision,
            install,
            install_origin,
            version_origin,
        })
    }
}

/// The manager into the build (older Node.js images, nodejs12/14, lack corepack: npm installs
/// it instead), then the install.
fn install(resolved: &ResolvedPackageManager, d: &mut Detected) {
    if let Some(spec) = &resolved.provision {
        d.build.pre_build.push(format!(
            "corepack enable 2>/dev/null || npm install -g {spec}"
        ));
    }
    if let Some((version, origin)) = &resolved.version_origin {
        d.decide("package manager version", version, origin.clone());
    }
    d.decide("install", resolved.install, resolved.install_origin.clone());
    d.build.build.push(resolved.install.into());
}

fn build_script(package: &PackageJson, manager: Manager, d: &mut Detected) {
    if package.script("build").is_none() {
        return;
    }
    let build = match manager {
        Manager::Npm => "npm run build",
        Manager::Yarn => "yarn run build",
        Manager::Pnpm => "pnpm run build",
    };
    d.build.build.push(build.into());
    d.decide(
        "build",
        build,
        Origin::key(&package.source.path, "scripts.build"),
    );
}

/// `npm start` runs scripts.start whatever the manager, and npm is in every Node.js image.
fn start(
    root: &Path,
    shown_root: &Path,
    package: &PackageJson,
) -> Result<(String, Origin), Diagnostic> {
    if package.script("start").is_some() {
        return Ok((
            "npm start".into(),
            Origin::key(&package.source.path, "scripts.start"),
        ));
    }
    if root.join("server.js").is_file() {
        return Ok((
            "node server.js".into(),
            Origin::noted(
                shown_root.join("server.js"),
                "npm's default when there is no scripts.start",
            ),
        ));
    }
    Err(Diagnostic::error(codes::NO_START_COMMAND, format!(
        "no way to start the app: {} has no scripts.start, and there is no server.js",
        package.source.path.display()
    ))
    .at(Location::file(&package.source.path))
    .with_help("add \"scripts\": { \"start\": \"node index.js\" } to package.json (with your entry file), or an apprunner.yaml with run.command"))
}

/// `yarn@4.1.0` → 4; `yarn@4.1.0+sha512.…` → 4.
fn major_of(spec: &str) -> Option<u64> {
    spec.split('@').nth(1)?.split('.').next()?.parse().ok()
}
