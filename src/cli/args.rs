//! The command line's arguments, parsed into types once by clap. Defaults come from the library
//! (App Runner's health check, port) so they live in one place.

use apprunner_build::engine::run::{HealthCheck, HealthProtocol, Publish};
use apprunner_build::engine::{CommandTimeout, Cpus, Limits, Memory};
use apprunner_build::input::config::{ApiSettings, EnvVar};
use apprunner_build::input::{ConfigurationSource, InputArgs};
use apprunner_build::output::Output;
use apprunner_build::plan::user::RunAs;
use apprunner_build::project::ProjectArgs;
use apprunner_build::report::codes;
use apprunner_build::report::log::LogFormat;
use apprunner_build::resolve::catalog::CATALOG_ENV;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "apprunner-build",
    version,
    about = "Build AWS App Runner source-code services (Python, Node.js) into container images"
)]
pub struct Cli {
    /// A runtime catalog (TOML) layered over the shipped one; its runtimes replace shipped ones of the same name.
    #[arg(long, global = true, env = CATALOG_ENV, value_name = "FILE")]
    pub catalog: Option<PathBuf>,

    /// Log every engine call with its duration, and how the engine was found, on stderr (as
    /// RUST_LOG=apprunner_build=debug). Never a request's body, credentials or secret values.
    #[arg(long, global = true)]
    pub debug: bool,
    /// The build's fixed time, in seconds since 1970 (as SOURCE_DATE_EPOCH, which it sets): image
    /// times, layer times and build commands' SOURCE_DATE_EPOCH, for reproducible images.
    #[arg(long, global = true, value_name = "SECONDS")]
    pub source_date_epoch: Option<u64>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check apprunner.yaml (or the settings flags, or the project's files) and the runtime; exit 1 with located errors if anything is wrong.
    Validate(ProjectOpts),
    /// Print every stage and step a build would run, without running anything.
    Plan {
        #[command(flatten)]
        project: ProjectOpts,
        /// Print the plan as JSON (`build --plan FILE` builds it).
        #[arg(long, conflicts_with = "dockerfile")]
        json: bool,
        #[command(flatten)]
        eject: EjectOpts,
    },
    /// Build the application into a container image through the Docker Engine API.
    Build(Box<BuildOpts>),
    /// Start a built image the way App Runner runs it (building a directory first when needed).
    Run(Box<RunOpts>),
    /// See or clear what builds keep: package-cache volumes (one per project and runtime
    /// version) and dependency layers (files in the cache directory, images in the engine).
    Cache {
        #[command(subcommand)]
        action: CacheAction,
        /// The cache directory the builds used (`build --cache-dir`).
        #[arg(long, value_name = "DIR", global = true)]
        cache_dir: Option<PathBuf>,
    },
    /// Write the service as apprunner.yaml (or the settings flags) and App Runner's service
    /// settings describe it, in another platform's format: ECS (a Fargate task definition and an
    /// Express Mode service), Kubernetes (a Deployment and a Service) or Cloud Run (a Knative
    /// service). What does not carry over is listed on stderr.
    Export(Box<ExportOpts>),
    /// Move the project off an end-of-support runtime (python3 → python311, nodejs12–18 →
    /// nodejs22): prints the edits to apprunner.yaml (or the version file) as a unified diff, each
    /// with its reason; `--write` applies them.
    Upgrade(Box<UpgradeOpts>),
    /// List the runtimes and versions in the catalog.
    Runtimes {
        /// Print the catalog as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `plan --dockerfile`: leaving apprunner-build.
#[derive(Debug, Args, Clone)]
pub struct EjectOpts {
    /// Write a Dockerfile and a .dockerignore that build what the plan builds (into the source
    /// directory, the build context, unless --output-dir says otherwise).
    #[arg(long)]
    pub dockerfile: bool,
    /// Where the Dockerfile and .dockerignore go (default: the source directory). Docker reads
    /// .dockerignore only from the build context's root.
    #[arg(long, value_name = "DIR", requires = "dockerfile")]
    pub output_dir: Option<PathBuf>,
    /// Replace a Dockerfile or .dockerignore that is already there.
    #[arg(long, requires = "dockerfile")]
    pub force: bool,
    /// Copy this CA bundle beside the Dockerfile for install steps to trust (a TLS-intercepting
    /// proxy), as `build --ca-bundle` does; the Dockerfile says where it ends up.
    #[arg(long, value_name = "FILE", requires = "dockerfile")]
    pub ca_bundle: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum CacheAction {
    /// List the volumes (name, runtime, project directory) and the dependency layers (tag, size,
    /// last use, whether the engine has the image).
    Ls,
    /// Remove the volumes of project directories that no longer exist, and the dependency
    /// layers no build used for 30 days.
    Prune {
        /// Remove every cache volume and dependency layer not in use.
        #[arg(long)]
        all: bool,
    },
}

#[derive(Debug, Args, Clone)]
pub struct BuildOpts {
    #[command(flatten)]
    pub project: ProjectOpts,
    /// Build exactly this saved plan (`plan --json` output) instead of planning the directory.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["runtime", "build_command", "start_command", "port", "runtime_env", "build_env", "source_directory", "configuration_source", "user"])]
    pub plan: Option<PathBuf>,
    #[command(flatten)]
    pub image: ImageOpts,
    /// Where the image goes besides the engine: `type=oci,dest=DIR` (an OCI image layout;
    /// `dest=FILE.tar` for a tar of one) or `type=docker-archive,dest=FILE` (for `docker load`).
    /// The default, `type=docker`, leaves it in the engine only.
    #[arg(long, value_name = "type=TYPE[,dest=PATH]", value_parser = parse_output)]
    pub output: Option<Output>,
    /// Write a CycloneDX 1.5 JSON SBOM of the built image to FILE: its Python distributions, npm
    /// packages and dpkg packages, read from the image's files.
    #[arg(long, value_name = "FILE")]
    pub sbom: Option<PathBuf>,
    /// Push the image to its registry after the build (the name's registry: `-t
    /// 127.0.0.1:5000/app`), with the credentials `docker login` or a credential helper gives.
    #[arg(long)]
    pub push: bool,
    /// Write what was built, as JSON, to FILE: the image, its tags and pushed digests, every step
    /// with its time and cache decision, the runtime and the warnings (the README has the schema).
    #[arg(long, value_name = "FILE")]
    pub metadata_file: Option<PathBuf>,
    /// Write an in-toto statement with a SLSA v1 provenance predicate for the image to FILE: its
    /// subject is the pushed digest (else the OCI layout's, else the image id).
    #[arg(long, value_name = "FILE")]
    pub provenance: Option<PathBuf>,
    /// Write the image id to FILE.
    #[arg(long, value_name = "FILE")]
    pub iidfile: Option<PathBuf>,
    /// Print only the pushed digest (with --push) or the image id on stdout, and no build log
    /// (--log-file still gets it; failures still print their diagnostic on stderr).
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Start the image after the build, as `apprunner-build run` does.
    #[arg(long)]
    pub run: bool,
    #[command(flatten)]
    pub run_args: RunArgs,
}

/// How to build the image and where the log goes.
#[derive(Debug, Args, Clone)]
pub struct ImageOpts {
    /// Name of the image to produce, NAME[:TAG] (default: the directory's name).
    #[arg(short = 't', long = "tag", value_name = "NAME[:TAG]")]
    pub tag: Option<String>,
    /// Docker network for the build containers (default: the engine's bridge). `host` shares
    /// this machine's network, and its services, with build commands: a warning says so.
    #[arg(long, value_name = "NAME")]
    pub network: Option<String>,
    /// Memory limit of each build container, swap included (512m, 2g): a command that needs more
    /// is killed, and the build says "out of memory".
    #[arg(long, value_name = "SIZE", value_parser = parse_memory)]
    pub memory: Option<Memory>,
    /// CPUs each build container may use (1, 1.5).
    #[arg(long, value_name = "N", value_parser = parse_cpus)]
    pub cpus: Option<Cpus>,
    /// How long each build command may run (90s, 10m, 1h30m); one that runs longer is stopped and
    /// the build fails.
    #[arg(long, value_name = "DURATION", value_parser = parse_command_timeout)]
    pub command_timeout: Option<CommandTimeout>,
    /// CA bundle (PEM) mounted read-only into build containers, for TLS-intercepting proxies.
    /// Never part of the image. A CI runner behind such a proxy can set it once for every build
    /// with APPRUNNER_BUILD_CA_BUNDLE.
    #[arg(long, value_name = "FILE", env = "APPRUNNER_BUILD_CA_BUNDLE")]
    pub ca_bundle: Option<PathBuf>,
    /// Also write the log to this file.
    #[arg(long, value_name = "PATH")]
    pub log_file: Option<PathBuf>,
    /// `text`: App Runner's log lines; `json`: one JSON object per line, for CI.
    #[arg(long, value_enum, default_value_t)]
    pub log_format: LogFormatArg,
    /// Build from scratch: even when the image is up to date, and without the package-manager caches
    /// and dependency layers kept between builds.
    #[arg(long)]
    pub no_cache: bool,
    /// Where dependency layers are kept between builds, and between machines: a directory a CI
    /// cache can save and restore (default: $XDG_CACHE_HOME/apprunner-build, else
    /// ~/.cache/apprunner-build).
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
}

/// Local run settings: the port on this machine, the container's own env, secret values, the
/// health check (App Runner's defaults).
#[derive(Debug, Args, Clone)]
pub struct RunArgs {
    /// Where on this machine to publish the service port: PORT on 127.0.0.1, or IP:PORT (0.0.0.0:PORT: every
    /// interface); 0: any free port (default: the same number, on 127.0.0.1).
    #[arg(
        short = 'p',
        long = "publish",
        value_name = "[IP:]PORT",
        value_parser = parse_publish,
        help_heading = "Running"
    )]
    pub publish: Option<Publish>,
    /// An environment variable NAME=VALUE for the container, as `docker run -e` (repeatable).
    // Checked after parsing, not by clap, whose errors repeat the value.
    #[arg(
        short = 'e',
        long = "env",
        value_name = "NAME=VALUE",
        help_heading = "Running"
    )]
    pub env: Vec<String>,
    /// File of NAME=VALUE lines: more environment variables for the container.
    #[arg(long, value_name = "FILE", help_heading = "Running")]
    pub env_file: Option<PathBuf>,
    /// File of NAME=VALUE lines with the values of run.secrets.
    #[arg(long, value_name = "FILE", help_heading = "Running")]
    pub secrets_file: Option<PathBuf>,
    /// Give the secret NAME the value of this environment's NAME (repeatable); never NAME=VALUE.
    // Checked after parsing, not by clap, whose errors would repeat a value given by mistake.
    #[arg(long = "secret", value_name = "NAME", help_heading = "Running")]
    pub secret: Vec<String>,
    #[command(flatten)]
    pub health: HealthArgs,
}

/// App Runner's health check, as `run` checks it and `export` writes it; App Runner's defaults.
#[derive(Debug, Args, Clone)]
pub struct HealthArgs {
    /// `tcp` (App Runner's default), `http` or `http:/path`.
    #[arg(long, default_value = "tcp", value_name = "PROTOCOL", value_parser = parse_health_check, help_heading = "Health check")]
    pub health_check: HealthProtocol,
    /// Seconds between health checks.
    #[arg(long, default_value_t = HealthCheck::APP_RUNNER.interval.as_secs(), value_name = "SECONDS", help_heading = "Health check")]
    pub health_interval: u64,
    /// Seconds a health check may take.
    #[arg(long, default_value_t = HealthCheck::APP_RUNNER.timeout.as_secs(), value_name = "SECONDS", help_heading = "Health check")]
    pub health_timeout: u64,
    /// Checks that must pass in a row.
    #[arg(long, default_value_t = HealthCheck::APP_RUNNER.healthy_threshold, value_name = "N", help_heading = "Health check")]
    pub healthy_threshold: u32,
    /// Checks that must fail in a row before the service is called unhealthy.
    #[arg(long, default_value_t = HealthCheck::APP_RUNNER.unhealthy_threshold, value_name = "N", help_heading = "Health check")]
    pub unhealthy_threshold: u32,
}

impl RunArgs {
    pub fn health(&self) -> HealthCheck {
        self.health.check()
    }
}

impl HealthArgs {
    pub fn check(&self) -> HealthCheck {
        HealthCheck {
            protocol: self.health_check.clone(),
            interval: std::time::Duration::from_secs(self.health_interval.max(1)),
            timeout: std::time::Duration::from_secs(self.health_timeout.max(1)),
            healthy_threshold: self.healthy_threshold.max(1),
            unhealthy_threshold: self.unhealthy_threshold.max(1),
        }
    }
}

impl ImageOpts {
    /// The limits for build containers.
    pub fn limits(&self) -> Limits {
        Limits {
            memory: self.memory.clone(),
            cpus: self.cpus.clone(),
            command_timeout: self.command_timeout.clone(),
        }
    }
}

#[derive(Debug, Args, Clone)]
pub struct RunOpts {
    /// A source directory (built first unless its image is up to date) or an image name.
    #[arg(default_value = ".", value_name = "DIR|IMAGE", value_parser = parse_run_target)]
    pub target: RunTarget,
    /// App Runner's source directory inside the repository (when TARGET is a directory).
    #[arg(long, value_name = "DIR")]
    pub source_directory: Option<PathBuf>,
    /// When TARGET is a directory: the image runs as this user (a name, made when the image has
    /// none, or a UID), who owns /app.
    #[arg(long, value_name = "NAME|UID", value_parser = parse_user)]
    pub user: Option<RunAs>,
    #[command(flatten)]
    pub image: ImageOpts,
    #[command(flatten)]
    pub run_args: RunArgs,
}

/// What `run` starts: a directory's image (built when needed), or an image by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunTarget {
    Directory(PathBuf),
    Image(String),
}

/// `export`'s options: the target, the project, and App Runner's service settings that
/// apprunner.yaml does not hold.
#[derive(Debug, Args, Clone)]
pub struct ExportOpts {
    /// The platform: `ecs`, `kubernetes` or `cloudrun`.
    #[arg(value_enum)]
    pub target: TargetArg,
    #[command(flatten)]
    pub project: ProjectOpts,
    /// The image the service runs, as the target pulls it (REGISTRY/NAME:TAG or @sha256:…).
    /// Default: the name `build` gives (the directory's), which a warning says to replace.
    #[arg(long, value_name = "REF", value_parser = parse_export_text, help_heading = "Service settings")]
    pub image: Option<String>,
    /// The service's name (default: the directory's), made a DNS label.
    #[arg(long, value_name = "NAME", value_parser = parse_export_text, help_heading = "Service settings")]
    pub name: Option<String>,
    /// App Runner's instance CPU: 256|512|1024|2048|4096, or 0.25|0.5|1|2|4 vCPU (default 1 vCPU).
    #[arg(long, value_name = "CPU", value_parser = parse_export_cpu, help_heading = "Service settings")]
    pub cpu: Option<u32>,
    /// App Runner's instance memory: 512 to 12288 (MiB), or 0.5 to 12 GB (default 2 GB).
    #[arg(long, value_name = "MEMORY", value_parser = parse_export_memory, help_heading = "Service settings")]
    pub memory: Option<u32>,
    /// App Runner's instance role: ECS's taskRoleArn.
    #[arg(long, value_name = "ARN", value_parser = parse_export_text, help_heading = "Service settings")]
    pub instance_role: Option<String>,
    /// ECS: the task execution role (image pulls, logs, secrets); a placeholder without it.
    #[arg(long, value_name = "ARN", value_parser = parse_export_text, help_heading = "Service settings")]
    pub execution_role: Option<String>,
    /// ECS Express Mode: the infrastructure role; a placeholder without it.
    #[arg(long, value_name = "ARN", value_parser = parse_export_text, help_heading = "Service settings")]
    pub infrastructure_role: Option<String>,
    #[command(flatten)]
    pub health: HealthArgs,
    /// Write the files into DIR (made when missing) instead of printing them, with NOTES.txt: what
    /// did not carry over and what to create or fill in.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
}

/// `upgrade`'s options.
#[derive(Debug, Args, Clone)]
pub struct UpgradeOpts {
    #[command(flatten)]
    pub project: ProjectOpts,
    /// The runtime to move to (default: the supported App Runner runtime of the same language).
    #[arg(long, value_name = "RUNTIME")]
    pub to: Option<String>,
    /// Where installs the revised build would lose go: `pre-run` (App Runner's guide), or under
    /// /app: `target` (pip's `--target ./packages`, with PYTHONPATH in run.env); `venv` is not done
    /// yet (reported, and pre-run used).
    #[arg(long, value_enum, default_value = "pre-run")]
    pub strategy: StrategyArg,
    /// Apply the edits; without it nothing changes on disk.
    #[arg(long)]
    pub write: bool,
}

/// `upgrade --strategy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StrategyArg {
    PreRun,
    Venv,
    Target,
}

/// `export`'s target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TargetArg {
    /// Amazon ECS on Fargate: a task definition and an Express Mode service.
    Ecs,
    /// A Kubernetes Deployment and Service.
    Kubernetes,
    /// Google Cloud Run: a Knative service.
    Cloudrun,
}

#[derive(Debug, Args, Clone)]
pub struct ProjectOpts {
    /// The repository directory.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// App Runner's source directory inside the repository: it holds apprunner.yaml and is the build root.
    #[arg(long, value_name = "DIR")]
    pub source_directory: Option<PathBuf>,
    /// Where the settings come from: `repository` (apprunner.yaml) or `api` (the settings flags
    /// below, and nothing else). Default: the repository when apprunner.yaml exists; otherwise the
    /// project's files are read and each settings flag overrides one derived setting.
    #[arg(long, value_enum, value_name = "SOURCE")]
    pub configuration_source: Option<SourceArg>,
    /// Runtime (App Runner's API setting).
    #[arg(long, help_heading = "App Runner's API settings")]
    pub runtime: Option<String>,
    /// Build command (App Runner's API setting).
    #[arg(long, help_heading = "App Runner's API settings")]
    pub build_command: Option<String>,
    /// Start command (App Runner's API setting).
    #[arg(long, help_heading = "App Runner's API settings")]
    pub start_command: Option<String>,
    /// Port (App Runner's API setting; default 8080).
    #[arg(long, help_heading = "App Runner's API settings")]
    pub port: Option<u16>,
    /// Runtime environment variable NAME=VALUE (App Runner's API setting; repeatable).
    #[arg(
        long = "runtime-env",
        value_name = "NAME=VALUE",
        value_parser = parse_env_var,
        help_heading = "App Runner's API settings"
    )]
    pub runtime_env: Vec<EnvVar>,
    /// Build environment variable NAME=VALUE (repeatable), as apprunner.yaml's build.env: the
    /// build commands see it, the image does not. Not an App Runner API setting: for a project
    /// without apprunner.yaml (e.g. DISABLE_COLLECTSTATIC=1).
    #[arg(
        long = "build-env",
        value_name = "NAME=VALUE",
        value_parser = parse_env_var,
        help_heading = "App Runner's API settings"
    )]
    pub build_env: Vec<EnvVar>,
    /// Run every install command as written, over the whole source, as App Runner does. By
    /// default, recognised installs (pip -r, npm ci, yarn, pnpm, pipenv, poetry, uv) run over only
    /// their manifests first and the result is kept as a layer, so that a source edit does not
    /// reinstall, wherever the result is the same; `plan` shows which stages are split and why
    /// others are not.
    #[arg(long)]
    pub no_dependency_layers: bool,
    /// The default since 0.2 (dependency layers); kept so that scripts that pass it still work.
    #[arg(long, hide = true, conflicts_with = "no_dependency_layers")]
    pub dependency_layers: bool,
    /// The image runs as this user, not root: a name (made in the runtime stage when the image
    /// has none) or a UID; the user owns /app. `plan` shows the step.
    #[arg(long, value_name = "NAME|UID", value_parser = parse_user)]
    pub user: Option<RunAs>,
    /// Build what git ignores too. By default, in a git work tree, the source is what App Runner
    /// builds, the committed tree: files git ignores (a `.env`, a local `.venv`) are left out.
    #[arg(long)]
    pub include_git_ignored: bool,
}

/// `--configuration-source`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SourceArg {
    /// apprunner.yaml.
    Repository,
    /// The settings flags only.
    Api,
}

impl ProjectOpts {
    pub fn project_args(&self) -> ProjectArgs {
        ProjectArgs {
            dir: self.dir.clone(),
            source_directory: self.source_directory.clone(),
            shown_dir: None,
            input: InputArgs {
                source: self.configuration_source.map(|s| match s {
                    SourceArg::Repository => ConfigurationSource::Repository,
                    SourceArg::Api => ConfigurationSource::Api,
                }),
                settings: ApiSettings {
                    runtime: self.runtime.clone(),
                    build_command: self.build_command.clone(),
                    start_command: self.start_command.clone(),
                    port: self.port,
                    env: self.runtime_env.clone(),
                    build_env: self.build_env.clone(),
                },
            },
            dependency_layers: !self.no_dependency_layers,
            user: self.user.clone(),
            include_git_ignored: self.include_git_ignored,
        }
    }
}

/// `--log-format`; the library's [`LogFormat`] knows nothing of clap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormatArg {
    /// App Runner's deployment-log lines.
    #[default]
    Text,
    /// One JSON object per line: time, prefix, stream, text.
    Json,
}

impl From<LogFormatArg> for LogFormat {
    fn from(f: LogFormatArg) -> Self {
        match f {
            LogFormatArg::Text => LogFormat::Text,
            LogFormatArg::Json => LogFormat::Json,
        }
    }
}

/// `NAME=VALUE`, split once at the first `=` (names are checked with the configuration).
pub fn parse_env_var(text: &str) -> Result<EnvVar, String> {
    match text.split_once('=') {
        Some((name, value)) => Ok(EnvVar {
            name: name.to_string(),
            value: value.to_string(),
        }),
        None => Err(format!(
            "[{}] `{text}` has no value: write NAME=VALUE",
            codes::LOCAL_VALUE_INVALID
        )),
    }
}

fn parse_export_cpu(text: &str) -> Result<u32, String> {
    apprunner_build::export::fargate::parse_cpu(text)
        .map_err(|e| format!("[{}] {e}", codes::EXPORT_VALUE_INVALID))
}

fn parse_export_memory(text: &str) -> Result<u32, String> {
    apprunner_build::export::fargate::parse_memory(text)
        .map_err(|e| format!("[{}] {e}", codes::EXPORT_VALUE_INVALID))
}

/// An image reference, a name or an ARN: one word, as the target reads it.
fn parse_export_text(text: &str) -> Result<String, String> {
    if text.is_empty() || text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "[{}] `{}` is empty or holds a space or a control character",
            codes::EXPORT_VALUE_INVALID,
            text.escape_debug()
        ));
    }
    Ok(text.to_string())
}

fn parse_output(text: &str) -> Result<Output, String> {
    text.parse()
        .map_err(|e| format!("[{}] {e}", codes::OUTPUT_INVALID))
}

fn parse_memory(text: &str) -> Result<Memory, String> {
    Memory::parse(text).map_err(|e| format!("[{}] {e}", codes::LOCAL_VALUE_INVALID))
}

fn parse_cpus(text: &str) -> Result<Cpus, String> {
    Cpus::parse(text).map_err(|e| format!("[{}] {e}", codes::LOCAL_VALUE_INVALID))
}

fn parse_command_timeout(text: &str) -> Result<CommandTimeout, String> {
    CommandTimeout::parse(text).map_err(|e| format!("[{}] {e}", codes::LOCAL_VALUE_INVALID))
}

fn parse_user(text: &str) -> Result<RunAs, String> {
    RunAs::parse(text).map_err(|e| format!("[{}] {e}", codes::LOCAL_VALUE_INVALID))
}

fn parse_publish(text: &str) -> Result<Publish, String> {
    Publish::parse(text).map_err(|e| format!("[{}] {e}", codes::LOCAL_VALUE_INVALID))
}

fn parse_health_check(text: &str) -> Result<HealthProtocol, String> {
    HealthCheck::parse_protocol(text).map_err(|e| format!("[{}] {e}", codes::LOCAL_VALUE_INVALID))
}

/// An existing directory is a source directory; anything else is an image name.
fn parse_run_target(text: &str) -> Result<RunTarget, String> {
    let path = PathBuf::from(text);
    Ok(if path.is_dir() {
        RunTarget::Directory(path)
    } else {
        RunTarget::Image(text.to_string())
    })
}
