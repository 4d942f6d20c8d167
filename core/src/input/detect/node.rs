//! A Node.js app from package.json alone: runtime, package manager, build and start commands.
//!
//! The package manager goes from a request (the `packageManager` field, the lockfile) to a
//! resolved manager with its install command, as heroku's Node.js buildpack does.

use super::{error_at, node_prune, node_start, Detected};
use crate::input::config::BuildSection;
use crate::input::files::ProjectFiles;
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

/// In precedence order, as Heroku's and Railpack's: pnpm, then Yarn, then npm.
const LOCKFILES: &[(&str, Manager)] = &[
    ("pnpm-lock.yaml", Manager::Pnpm),
    ("yarn.lock", Manager::Yarn),
    ("package-lock.json", Manager::Npm),
    ("npm-shrinkwrap.json", Manager::Npm),
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
    /// Provision with `npm install -g` only: the version comes from pnpm-lock.yaml's
    /// `lockfileVersion` (a major), which corepack without `packageManager` would not follow.
    pub provision_with_npm: bool,
    pub install: &'static str,
    pub install_origin: Origin,
    /// Yarn 2+ (Berry).
    pub yarn_berry: bool,
    pub lockfile: Option<&'static str>,
    pub version_origin: Option<(String, Origin)>,
}

pub(super) fn detect(
    project: &ProjectFiles,
    shown_root: &Path,
    package: &PackageJson,
) -> Result<Detected, Vec<Diagnostic>> {
    let mut d = Detected {
        language: Language::Nodejs,
        default_runtime: "nodejs22",
        requests: vec![],
        build: BuildSection::default(),
        start: String::new(),
        run_env: vec![],
        path_prepend: vec![],
        decisions: vec![],
        remarks: vec![],
        npm_prune: None,
        locked_wheels: None,
    };
    let mut errors = Vec::new();
    runtime(project, shown_root, package, &mut d, &mut errors);
    let requested = RequestedPackageManager::read(project, package);
    let resolved = match requested.resolve(project, shown_root, &mut d.remarks) {
        Ok(resolved) => {
            install(&resolved, &mut d);
            build_script(package, resolved.manager, &mut d);
            Some(resolved)
        }
        Err(e) => {
            errors.push(e);
            None
        }
    };
    match start(project, shown_root, package, &mut d.remarks) {
        Ok((command, origin)) => {
            d.decide("start command", &command, origin);
            d.start = command;
        }
        Err(e) => errors.push(e),
    }
    if let Some(resolved) = &resolved {
        production(project, shown_root, package, resolved, &mut d);
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
    project: &ProjectFiles,
    shown_root: &Path,
    package: &PackageJson,
    d: &mut Detected,
    errors: &mut Vec<Diagnostic>,
) {
    if package.engines_node().is_some() {
        return;
    }
    let files = [".nvmrc", ".node-version"];
    match super::version_file(project, shown_root, &files, Language::Nodejs, "22, 22.21.1 or lts/jod") {
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
    fn read(project: &ProjectFiles, package: &PackageJson) -> Self {
        let declared = package
            .json
            .get("packageManager")
            .and_then(|v| v.as_str())
            .and_then(|spec| Manager::from_spec(spec).map(|m| (spec.to_string(), m)));
        let lockfiles = LOCKFILES
            .iter()
            .copied()
            .filter(|(f, _)| project.is_file(f))
            .collect();
        Self {
            declared,
            lockfiles,
            package_json: package.source.path.clone(),
        }
    }

    /// One manager's lockfile: the one `packageManager` names, else the first by precedence
    /// (pnpm, Yarn, npm); the others are ignored with a warning. An error only when
    /// `packageManager` names a manager none of the lockfiles is for.
    fn resolve(
        &self,
        project: &ProjectFiles,
        shown_root: &Path,
        remarks: &mut Vec<Diagnostic>,
    ) -> Result<ResolvedPackageManager, Diagnostic> {
        let package_path = self.package_json.display();
        let declared = self.declared.as_ref();
        let chosen = match declared {
            Some((_, dm)) => self.lockfiles.iter().find(|(_, m)| m == dm),
            None => self.lockfiles.first(),
        };
        if let (None, Some((spec, dm)), Some((file, _))) =
            (chosen, declared, self.lockfiles.first())
        {
            let files: Vec<&str> = self.lockfiles.iter().map(|(f, _)| *f).collect();
            return Err(error_at(
                codes::PACKAGE_MANAGER_MISMATCH,
                shown_root,
                file,
                format!(
                    "packageManager in {package_path} says {spec}, but the only lockfiles are {}, none of them {}'s",
                    files.join(" and "),
                    dm.name()
                ),
            )
            .with_help(format!(
                "make packageManager and the lockfile agree: run `{} install` to write its lockfile, or change packageManager",
                dm.name()
            )));
        }
        if let Some((file, manager)) = chosen {
            for (ignored, _) in self.lockfiles.iter().filter(|(_, m)| m != manager) {
                let why = match declared {
                    Some((spec, _)) => format!("packageManager in {package_path} says {spec}"),
                    None => "the first by precedence (pnpm-lock.yaml, yarn.lock, package-lock.json) is used".into(),
                };
                remarks.push(
                    Diagnostic::warning(
                        codes::TWO_LOCKFILES,
                        format!("{ignored} is ignored: {} installs from {file}", manager.name()),
                    )
                    .at(Location::file(&shown_root.join(ignored)))
                    .with_note(format!(
                        "two package managers' lockfiles; {why}"
                    ))
                    .with_help(format!(
                        "delete {ignored} if you do not use {}, or add \"packageManager\" to package.json to choose",
                        LOCKFILES
                            .iter()
                            .find(|(f, _)| f == ignored)
                            .map_or("it", |(_, m)| m.name())
                    )),
                );
            }
        }
        let (manager, lockfile) = match (chosen, declared) {
            (Some((file, m)), _) => (*m, Some(*file)),
            (None, Some((_, dm))) => (*dm, None),
            (None, None) => (Manager::Npm, None),
        };
        let yarn_berry = manager == Manager::Yarn
            && (project.is_file(".yarnrc.yml")
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
        let from_lockfile = match (manager, lockfile, declared) {
            (Manager::Pnpm, Some(file), None) => pnpm_for_lockfile(project, shown_root, file),
            _ => None,
        };
        let provision_with_npm = from_lockfile.is_some();
        let (provision, version_origin) = if let Some((spec, origin)) = from_lockfile {
            (Some(spec.clone()), Some((spec, origin)))
        } else if needs_provision {
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
            provision_with_npm,
            install,
            install_origin,
            yarn_berry,
            lockfile,
            version_origin,
        })
    }
}

/// The manager into the build (older Node.js images, nodejs12/14, lack corepack: npm installs
/// it instead), then the install.
fn install(resolved: &ResolvedPackageManager, d: &mut Detected) {
    match &resolved.provision {
        Some(spec) if resolved.provision_with_npm => {
            d.build.pre_build.push(format!("npm install -g {spec}"))
        }
        Some(spec) => d.build.pre_build.push(format!(
            "corepack enable 2>/dev/null || npm install -g {spec}"
        )),
        None => {}
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

/// A Procfile `web:` line (or another platform's start command) first, as on Heroku; else what
/// package.json and npm's conventions name ([`node_start::from_package`]).
fn start(
    project: &ProjectFiles,
    shown_root: &Path,
    package: &PackageJson,
    remarks: &mut Vec<Diagnostic>,
) -> Result<(String, Origin), Diagnostic> {
    if let Some(found) = super::hints::start_command(project, shown_root, remarks) {
        return Ok(found);
    }
    if let Some(found) = node_start::from_package(project, shown_root, package) {
        return Ok(found);
    }
    let main = package
        .json
        .get("main")
        .and_then(|m| m.as_str())
        .map(|m| format!("the main file ({m}), "))
        .unwrap_or_default();
    let error = Diagnostic::error(codes::NO_START_COMMAND, format!(
        "no way to start the app: {} has no scripts.start or scripts[\"start:prod\"], and none of server.js, {main}index.js or app.js is in the project",
        package.source.path.display()
    ))
    .at(Location::file(&package.source.path));
    Err(match super::dockerfile::dockerfile_start(project) {
        Some(d) => error.with_note(d.note()).with_help(format!(
            "add a Procfile line `web: {}`, \"scripts\": {{ \"start\": … }} to package.json, or an apprunner.yaml with run.command",
            d.command
        )),
        None => error.with_help("add \"scripts\": { \"start\": \"node index.js\" } to package.json (with your entry file), a Procfile with `web: node index.js`, or an apprunner.yaml with run.command"),
    })
}

/// Production defaults, as Heroku's buildpack: `NODE_ENV=production` in the image, and
/// devDependencies pruned after the build when nothing the app runs needs one
/// ([`node_prune::verdict`]). A project whose start command sets NODE_ENV itself (to anything
/// else) keeps its devDependencies and gets no NODE_ENV from here.
fn production(
    project: &ProjectFiles,
    shown_root: &Path,
    package: &PackageJson,
    resolved: &ResolvedPackageManager,
    d: &mut Detected,
) {
    let own = node_env_in(&d.start).or_else(|| {
        node_start::scripts_run_by(&d.start, package)
            .into_iter()
            .find_map(|script| package.script(&script).and_then(node_env_in))
    });
    if let Some(value) = own.filter(|v| v != "production") {
        d.decide(
            "production defaults",
            "none",
            Origin::noted(
                &package.source.path,
                format!(
                    "the start command sets NODE_ENV={value} (scripts.start or the start command)"
                ),
            ),
        );
        return;
    }
    d.run_env(
        "NODE_ENV",
        "production",
        Origin::default_because("Express and most frameworks run their production mode; set NODE_ENV in the start command to opt out"),
    );
    let has_dev = package
        .json
        .get("devDependencies")
        .and_then(|v| v.as_object())
        .is_some_and(|o| !o.is_empty());
    if !has_dev {
        return;
    }
    let not_done = |d: &mut Detected, why: String| {
        d.decide(
            "prune devDependencies",
            "not done",
            Origin::noted(&package.source.path, why),
        )
    };
    let basis = match node_prune::verdict(project, package, &d.start) {
        node_prune::Verdict::Prune { basis } => basis,
        node_prune::Verdict::Keep(needed) => {
            let first = needed[0].diagnostic(shown_root, &package.source.path);
            // NestJS's `nest start` compiles at start with the CLI, a devDependency; its
            // start:prod runs the built output.
            let start_prod = package.script("start:prod").is_some();
            d.remarks.extend(needed.iter().take(MAX_PRUNE_WARNINGS).map(|n| {
                let warning = n.diagnostic(shown_root, &package.source.path);
                match (n.runs_from("scripts.start"), start_prod, &warning.help) {
                    (true, true, Some(help)) => {
                        let help = format!("{help}; or start with scripts[\"start:prod\"], which runs the built output: a Procfile line `web: npm run start:prod`");
                        warning.with_help(help)
                    }
                    _ => warning,
                }
            }));
            let more = needed.len().saturating_sub(MAX_PRUNE_WARNINGS);
            let why = if more > 0 {
                format!("{} (and {more} more)", first.message)
            } else {
                first.message
            };
            return not_done(d, why);
        }
        node_prune::Verdict::CannotTell { why } => return not_done(d, why),
    };
    let origin = Origin::File {
        path: package.source.path.clone(),
        key: Some("devDependencies".into()),
        note: Some(basis),
    };
    let prune = match resolved.manager {
        // npm's spelling depends on its version (npm 6, in nodejs12/14, has no --omit), which
        // the resolved runtime decides: [`crate::input::Input::settle`] writes the command.
        Manager::Npm => {
            d.npm_prune = Some(origin);
            return;
        }
        Manager::Pnpm => "pnpm prune --prod",
        Manager::Yarn if resolved.yarn_berry => match yarn_berry_focus(project, package) {
            Ok(command) => command,
            Err(why) => return not_done(d, why),
        },
        Manager::Yarn if resolved.lockfile.is_some() => {
            "yarn install --production --frozen-lockfile --ignore-scripts --prefer-offline"
        }
        Manager::Yarn => "yarn install --production --ignore-scripts --prefer-offline",
    };
    d.build.build.push(prune.into());
    d.decide("prune devDependencies", prune, origin);
}

/// Warnings about devDependencies needed at run time, at most; the decision counts the rest.
const MAX_PRUNE_WARNINGS: usize = 5;

/// npm's prune of devDependencies for the npm that Node.js `node_major` ships: npm 6 (Node.js 14
/// and older) spells it `--production`; npm 7 and later `--omit=dev` (and warn on the old one).
pub fn npm_prune_command(node_major: u64) -> &'static str {
    if node_major <= 14 {
        "npm prune --production"
    } else {
        "npm prune --omit=dev"
    }
}

/// Yarn 2+ prunes with `yarn workspaces focus --production`, from the workspace-tools plugin:
/// built into Yarn 4, an imported plugin (listed in .yarnrc.yml) in Yarn 2 and 3. Importing it
/// at build time would fetch it from the network, so without it nothing is pruned.
fn yarn_berry_focus(project: &ProjectFiles, package: &PackageJson) -> Result<&'static str, String> {
    const FOCUS: &str = "yarn workspaces focus --all --production";
    let yarnrc = project.peek(".yarnrc.yml").unwrap_or_default();
    if yarnrc.contains("plugin-workspace-tools") {
        return Ok(FOCUS);
    }
    let declared = package
        .json
        .get("packageManager")
        .and_then(|v| v.as_str())
        .filter(|spec| spec.starts_with("yarn@"))
        .and_then(major_of);
    // `yarnPath: .yarn/releases/yarn-4.5.3.cjs`
    let vendored = yarnrc
        .lines()
        .find_map(|l| l.trim().strip_prefix("yarnPath:"))
        .and_then(|p| p.rsplit("yarn-").next())
        .and_then(|v| v.split('.').next())
        .and_then(|m| m.parse::<u64>().ok());
    match declared.or(vendored) {
        Some(major) if major >= 4 => Ok(FOCUS),
        Some(major) => Err(format!(
            "Yarn {major} prunes with `yarn workspaces focus --production`, from the workspace-tools plugin, which .yarnrc.yml does not list (`yarn plugin import workspace-tools` adds it)"
        )),
        None => Err("the Yarn version is not known (no packageManager field or yarnPath in .yarnrc.yml); Yarn 2 and 3 prune only with the workspace-tools plugin".into()),
    }
}

/// `NODE_ENV=development node x.js` → `development`.
fn node_env_in(command: &str) -> Option<String> {
    let at = command.find("NODE_ENV=")?;
    let value = command[at + "NODE_ENV=".len()..]
        .split(|c: char| c.is_whitespace() || c == ';' || c == '&')
        .next()?;
    Some(value.trim_matches(|c| c == '"' || c == '\'').to_string())
}

/// The pnpm major that writes a lockfile's `lockfileVersion`, as Heroku's buildpack maps it:
/// 9.x → pnpm 9 (pnpm 10 writes it too, and pnpm 9 reads it), 6.x → 8, 5.4 → 7, 5.3 → 6.
fn pnpm_for_lockfile(
    project: &ProjectFiles,
    shown_root: &Path,
    file: &str,
) -> Option<(String, Origin)> {
    let text = project.peek(file)?;
    let version = text
        .lines()
        .find_map(|l| l.strip_prefix("lockfileVersion:"))?
        .trim()
        .trim_matches(|c| c == '\'' || c == '"');
    let major = match version.split('.').collect::<Vec<_>>()[..] {
        ["9", ..] => 9,
        ["6", ..] => 8,
        ["5", "4"] => 7,
        ["5", "3"] => 6,
        _ => return None,
    };
    Some((
        format!("pnpm@{major}"),
        Origin::File {
            path: shown_root.join(file),
            key: Some(format!("lockfileVersion {version}")),
            note: Some("no packageManager field".into()),
        },
    ))
}

/// `yarn@4.1.0` → 4; `yarn@4.1.0+sha512.…` → 4.
fn major_of(spec: &str) -> Option<u64> {
    spec.split('@').nth(1)?.split('.').next()?.parse().ok()
}
