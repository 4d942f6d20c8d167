//! The build plan: a pure value computed from the configuration and the catalog. Printing it shows
//! everything a build will do; the engine only executes it.

use crate::catalog::{BuildProcess, Catalog};
use crate::config::{AppRunnerConfig, ConfigOrigin, EnvVar, RuntimeHints};
use crate::diagnostic::{Diagnostic, Location};
use crate::nodejs::PackageJson;
use crate::runtime::{self, RequestedVersion, Resolution, ResolvedRuntime, VersionOrigin};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

/// Label keys written into the final image.
pub mod labels {
    pub const RUNTIME: &str = "apprunner-build.runtime";
    pub const RUNTIME_VERSION: &str = "apprunner-build.runtime-version";
    pub const RUNTIME_ORIGIN: &str = "apprunner-build.runtime-version-origin";
    pub const CONFIG_DIGEST: &str = "apprunner-build.config-digest";
    pub const SOURCE_DIGEST: &str = "apprunner-build.source-digest";
    pub const ENGINE_VERSION: &str = "apprunner-build.version";
    /// Names (never values) of the secrets the service expects at run time, comma-separated.
    pub const SECRETS: &str = "apprunner-build.secrets";
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PhaseName {
    PreBuild,
    Build,
    PostBuild,
    PreRun,
}

impl PhaseName {
    /// The name App Runner uses in its configuration and in failure messages.
    pub fn config_name(self) -> &'static str {
        match self {
            PhaseName::PreBuild => "pre-build",
            PhaseName::Build => "build",
            PhaseName::PostBuild => "post-build",
            PhaseName::PreRun => "pre-run",
        }
    }

    /// The log prefix for lines the phase's commands print.
    pub fn log_prefix(self) -> &'static str {
        match self {
            PhaseName::PreBuild => "PreBuild",
            PhaseName::Build => "Build",
            PhaseName::PostBuild => "PostBuild",
            PhaseName::PreRun => "PreRun",
        }
    }
}

impl fmt::Display for PhaseName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.config_name())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Phase {
    pub name: PhaseName,
    pub commands: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunPlan {
    pub command: String,
    pub port: u16,
    /// The second variable that carries the port (`run.network.env`).
    pub port_env: Option<String>,
    pub env: Vec<EnvVar>,
    /// Names of the secrets the service reads at run time; their values are never in a plan.
    pub secrets: Vec<String>,
    /// Directories put first on the image's PATH.
    pub path_prepend: Vec<String>,
}

/// A setting derived from the project's files, and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub setting: String,
    pub value: String,
    pub origin: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct BuildPlan {
    pub source_root: PathBuf,
    pub config_file: Option<PathBuf>,
    pub runtime: ResolvedRuntime,
    /// pre-build, build, post-build, in order; empty phases are left out.
    pub phases: Vec<Phase>,
    pub build_env: Vec<EnvVar>,
    /// Runs in the runtime image after /app is copied in (revised build only).
    pub pre_run: Vec<String>,
    pub run: RunPlan,
    pub labels: BTreeMap<String, String>,
    /// For a project without apprunner.yaml: every derived setting with its origin.
    pub decisions: Vec<Decision>,
}

impl BuildPlan {
    pub fn phase(&self, name: PhaseName) -> Option<&Phase> {
        self.phases.iter().find(|p| p.name == name)
    }
}

/// Resolve the runtime from what the configuration says (even a partly broken one) and package.json.
pub fn check_runtime(
    catalog: &Catalog,
    hints: &RuntimeHints,
    config_path: Option<&PathBuf>,
    package: Option<&PackageJson>,
    today: chrono::NaiveDate,
) -> Result<Resolution, Vec<Diagnostic>> {
    let Some(name) = &hints.runtime else {
        return Err(vec![]);
    };
    let runtime = runtime::find_runtime(catalog, name).map_err(|e| vec![e.into()])?;
    let mut errors: Vec<Diagnostic> = Vec::new();
    let mut requests = Vec::new();
    if let Some(v) = &hints.runtime_version {
        let origin = VersionOrigin::ConfigRuntimeVersion {
            path: config_path
                .cloned()
                .unwrap_or_else(|| "apprunner.yaml".into()),
            line: v.location.as_ref().and_then(|l| l.position).map(|p| p.line),
        };
        match RequestedVersion::from_runtime_version(v, origin) {
            Ok(r) => requests.push(r),
            Err(e) => errors.push(e.into()),
        }
    }
    if runtime.language == crate::catalog::Language::Nodejs {
        if let Some(request) = package.and_then(PackageJson::node_request) {
            match request {
                Ok(r) => requests.push(r),
                Err(e) => errors.push(e.into()),
            }
        }
    }
    if let Some(loc) = &hints.pre_run {
        if runtime.build_process == BuildProcess::Original {
            errors.push(pre_run_on_original(&runtime.name, loc.clone()));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    runtime::resolve(catalog, runtime, &requests, today).map_err(|e| {
        let mut d: Diagnostic = e.into();
        // The runtime itself is one of the two sides: say where it was set.
        if let Some(at) = name
            .location
            .as_ref()
            .filter(|_| d.message.contains("has no version matching"))
        {
            d = d.with_note(format!(
                "the runtime is set to {} at {}",
                runtime.name,
                at.short()
            ));
        }
        vec![d]
    })
}

fn pre_run_on_original(runtime: &str, at: Location) -> Diagnostic {
    Diagnostic::error(format!("`run.pre-run` is not available for {runtime}"))
        .at(at)
        .with_note(format!(
            "{runtime} uses App Runner's original build, which has no pre-run step; pre-run exists for python311, nodejs18 and nodejs22"
        ))
        .with_help("move these commands to `build.commands.post-build` or the start command, or use a runtime with the revised build")
}

/// The plan for a checked configuration and its resolved runtime.
pub fn make_plan(
    source_root: PathBuf,
    config: &AppRunnerConfig,
    runtime: ResolvedRuntime,
) -> BuildPlan {
    let phases = [
        (PhaseName::PreBuild, &config.build.pre_build),
        (PhaseName::Build, &config.build.build),
        (PhaseName::PostBuild, &config.build.post_build),
    ]
    .into_iter()
    .filter(|(_, c)| !c.is_empty())
    .map(|(name, commands)| Phase {
        name,
        commands: commands.clone(),
    })
    .collect();
    let (config_file, digest) = match &config.origin {
        ConfigOrigin::File(src) => (Some(src.path.clone()), sha256_hex(src.text.as_bytes())),
        ConfigOrigin::Flags | ConfigOrigin::Detected => {
            (None, sha256_hex(format!("{config:?}").as_bytes()))
        }
    };
    let mut labels = BTreeMap::new();
    if !config.run.secrets.is_empty() {
        let names: Vec<&str> = config.run.secrets.iter().map(|s| s.name.as_str()).collect();
        labels.insert(labels::SECRETS.to_string(), names.join(","));
    }
    labels.insert(labels::RUNTIME.to_string(), runtime.name.clone());
    labels.insert(
        labels::RUNTIME_VERSION.to_string(),
        runtime.version.to_string(),
    );
    labels.insert(labels::RUNTIME_ORIGIN.to_string(), runtime.reason.clone());
    labels.insert(
        labels::CONFIG_DIGEST.to_string(),
        format!("sha256:{digest}"),
    );
    labels.insert(
        labels::ENGINE_VERSION.to_string(),
        env!("CARGO_PKG_VERSION").to_string(),
    );
    BuildPlan {
        source_root,
        config_file,
        phases,
        build_env: config.build.env.clone(),
        pre_run: config.run.pre_run.clone(),
        run: RunPlan {
            command: config.run.command.clone(),
            port: config.run.port,
            port_env: config.run.port_env.clone(),
            env: config.run.env.clone(),
            secrets: config.run.secrets.iter().map(|s| s.name.clone()).collect(),
            path_prepend: config.run.path_prepend.clone(),
        },
        labels,
        decisions: Vec::new(),
        runtime,
    }
}

/// Commands that work under App Runner's original build but lose their effect under the revised
/// one, where only /app reaches the runtime image.
pub fn lint(plan: &BuildPlan) -> Vec<Diagnostic> {
    if plan.runtime.build_process != BuildProcess::Revised {
        return vec![];
    }
    let mut found = Vec::new();
    for phase in plan
        .phases
        .iter()
        .filter(|p| p.name != PhaseName::PostBuild)
    {
        for command in &phase.commands {
            let words: Vec<&str> = command.split_whitespace().collect();
            let pip = words
                .windows(2)
                .any(|w| w[0].ends_with("pip") || w[0].ends_with("pip3"))
                && words.contains(&"install")
                && !installs_only_build_tools(&words);
            let pip_into_app = ["--target", "-t", "--prefix", "--root"]
                .iter()
                .any(|f| words.iter().any(|w| w.starts_with(f)))
                || command.contains("venv")
                || command.contains("/app");
            let npm_global = (words.contains(&"npm") || words.contains(&"yarn"))
                && (words.contains(&"-g")
                    || words.contains(&"--global")
                    || words.contains(&"global"))
                && !installs_only_build_tools(&words);
            let what = if pip && !pip_into_app {
                "pip installs packages outside /app"
            } else if npm_global {
                "a global npm/yarn install writes outside /app"
            } else {
                continue;
            };
            found.push(
                Diagnostic::warning(format!("'{}' command `{command}`: {what}", phase.name))
                    .with_note(format!(
                        "{} uses App Runner's revised build: only /app is copied into the runtime image, so this has no effect at run time",
                        plan.runtime.name
                    ))
                    .with_help(if pip {
                        "install in `run.pre-run` instead, or into /app (`pip install --target ./packages -r requirements.txt` with PYTHONPATH, or a venv under /app)"
                    } else {
                        "install locally (without -g) so the packages land in /app/node_modules, or install in `run.pre-run`"
                    }),
            );
        }
    }
    found
}

/// `pip install poetry`, `npm install -g pnpm@9` and the like: package managers the build itself
/// uses, not needed at run time.
fn installs_only_build_tools(words: &[&str]) -> bool {
    const TOOLS: &[&str] = &[
        "pipenv",
        "poetry",
        "uv",
        "pip",
        "setuptools",
        "wheel",
        "npm",
        "pnpm",
        "yarn",
        "corepack",
    ];
    let after = words.iter().skip_while(|w| **w != "install").skip(1);
    let packages: Vec<&&str> = after.filter(|w| !w.starts_with('-')).collect();
    !packages.is_empty()
        && packages.iter().all(|p| {
            TOOLS
                .iter()
                .any(|t| p.split(['=', '<', '>', '~', '@']).next() == Some(t))
        })
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The human view of a plan, for `apprunner-build plan`.
pub fn render(plan: &BuildPlan) -> String {
    let rt = &plan.runtime;
    let mut o = String::new();
    let mut line = |s: String| {
        o.push_str(&s);
        o.push('\n');
    };
    line(format!("Source:        {}", shown(&plan.source_root)));
    let configuration = match (&plan.config_file, plan.decisions.is_empty()) {
        (Some(p), _) => shown(p),
        (None, true) => "command-line flags".into(),
        (None, false) => "none: derived from the project's files".into(),
    };
    line(format!("Configuration: {configuration}"));
    for d in &plan.decisions {
        line(format!(
            "  {}: `{}` — from {}",
            d.setting, d.value, d.origin
        ));
    }
    line(format!(
        "Runtime:       {} {} ({} build{})",
        rt.name,
        rt.version,
        rt.build_process,
        if rt.app_runner {
            ""
        } else {
            "; not an App Runner runtime"
        }
    ));
    line(format!("  why:         {}", rt.reason));
    match rt.build_process {
        BuildProcess::Original => line(format!("  image:       {}", rt.image)),
        BuildProcess::Revised => {
            line(format!("  build image: {}", rt.build_image));
            line(format!("  run image:   {}", rt.image));
        }
    }
    if let Some(eos) = rt.end_of_support {
        line(format!("  end of support: {eos}"));
    }
    line(String::new());
    line("Build (in /app):".into());
    for phase in &plan.phases {
        line(format!("  {}:", phase.name));
        for c in &phase.commands {
            line(format!("    - {c}"));
        }
    }
    if !plan.pre_run.is_empty() {
        line("  pre-run (in the runtime image):".into());
        for c in &plan.pre_run {
            line(format!("    - {c}"));
        }
    }
    if !plan.build_env.is_empty() {
        line(format!("  env: {}", names(&plan.build_env)));
    }
    line(String::new());
    line("Run:".into());
    line(format!("  command: {}", plan.run.command));
    let port_vars = match &plan.run.port_env {
        Some(e) => format!("PORT and {e}"),
        None => "PORT".into(),
    };
    line(format!("  port:    {} (in {port_vars})", plan.run.port));
    if !plan.run.env.is_empty() {
        line(format!("  env:     {}", names(&plan.run.env)));
    }
    if !plan.run.secrets.is_empty() {
        line(format!("  secrets: {}", plan.run.secrets.join(", ")));
    }
    if !plan.run.path_prepend.is_empty() {
        line(format!(
            "  PATH:    {} first",
            plan.run.path_prepend.join(":")
        ));
    }
    o
}

fn names(vars: &[EnvVar]) -> String {
    vars.iter()
        .map(|v| format!("{}={}", v.name, v.value))
        .collect::<Vec<_>>()
        .join(" ")
}

fn shown(p: &std::path::Path) -> String {
    let s = p.display().to_string();
    if s.is_empty() {
        ".".into()
    } else {
        s
    }
}
