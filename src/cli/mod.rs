//! The command line: argument parsing and dispatch. Kept thin; the work is in the library.

mod build;
mod run;

use apprunner_build::input::config::{ApiSettings, EnvVar};
use apprunner_build::input::{ConfigurationSource, InputArgs};
use apprunner_build::plan::{self, BuildPlan};
use apprunner_build::project::{self, ProjectArgs};
use apprunner_build::report::diagnostic::Diagnostic;
use apprunner_build::report::errors;
use apprunner_build::report::exit;
use apprunner_build::report::log::LogFormat;
use apprunner_build::resolve::catalog::{Catalog, CATALOG_ENV};
use clap::{Args, Parser, Subcommand};
use std::io::Write;
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

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check apprunner.yaml (or the flags) and the runtime; exit 1 with located errors if anything is wrong.
    Validate(ProjectOpts),
    /// Print what a build would do, without running anything.
    Plan {
        #[command(flatten)]
        project: ProjectOpts,
        /// Print the plan as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Build the application into a container image through the Docker Engine API.
    Build(BuildOpts),
    /// Start a built image the way App Runner runs it (building a directory first when needed).
    Run(RunOpts),
    /// List the runtimes and versions in the catalog.
    Runtimes {
        /// Print the catalog as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args, Clone)]
pub struct BuildOpts {
    #[command(flatten)]
    pub project: ProjectOpts,
    /// Build exactly this saved plan (`plan --json` output) instead of planning the directory.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["runtime", "build_command", "start_command", "port", "runtime_env", "source_directory", "configuration_source"])]
    pub plan: Option<PathBuf>,
    #[command(flatten)]
    pub image: ImageOpts,
    /// Start the image after the build, as `apprunner-build run` does.
    #[arg(long)]
    pub run: bool,
    #[command(flatten)]
    pub run_opts: RunArgs,
}

/// How to build the image and where the log goes.
#[derive(Debug, Args, Clone)]
pub struct ImageOpts {
    /// Name of the image to produce, NAME[:TAG] (default: the directory's name).
    #[arg(short = 't', long = "tag", value_name = "NAME[:TAG]")]
    pub tag: Option<String>,
    /// Docker network for the build containers.
    #[arg(long, value_name = "NAME")]
    pub network: Option<String>,
    /// CA bundle (PEM) mounted read-only into build containers, for TLS-intercepting proxies.
    /// Never part of the image.
    #[arg(long, value_name = "FILE")]
    pub ca_bundle: Option<PathBuf>,
    /// Also write the log to this file.
    #[arg(long, value_name = "PATH")]
    pub log_file: Option<PathBuf>,
    /// `text`: App Runner's log lines; `json`: one JSON object per line, for CI.
    #[arg(long, value_enum, default_value_t)]
    pub log_format: LogFormatArg,
    /// Build from scratch: even when the image is up to date, and without the package-manager caches
    /// kept between builds.
    #[arg(long)]
    pub no_cache: bool,
}

/// Local run settings: the port on this machine, values App Runner would inject, the health check.
#[derive(Debug, Args, Clone)]
pub struct RunArgs {
    /// Port on this machine to publish the service port on (default: the same number; 0: any free port).
    #[arg(
        short = 'p',
        long = "publish",
        value_name = "HOST_PORT",
        help_heading = "Running"
    )]
    pub publish: Option<u16>,
    /// File of NAME=VALUE lines: more environment variables for the container.
    #[arg(long, value_name = "FILE", help_heading = "Running")]
    pub env_file: Option<PathBuf>,
    /// File of NAME=VALUE lines with the values of run.secrets.
    #[arg(long, value_name = "FILE", help_heading = "Running")]
    pub secrets_file: Option<PathBuf>,
    /// Give the secret NAME the value of the environment variable NAME (repeatable). The environment
    /// is never read for secrets otherwise; values are not accepted on the command line.
    #[arg(long = "secret", value_name = "NAME", help_heading = "Running")]
    pub secret: Vec<String>,
    /// `tcp` (App Runner's default), `http` or `http:/path`.
    #[arg(
        long,
        default_value = "tcp",
        value_name = "PROTOCOL",
        help_heading = "Running"
    )]
    pub health_check: String,
    /// Seconds between health checks.
    #[arg(
        long,
        default_value_t = 5,
        value_name = "SECONDS",
        help_heading = "Running"
    )]
    pub health_interval: u64,
    /// Seconds a health check may take.
    #[arg(
        long,
        default_value_t = 2,
        value_name = "SECONDS",
        help_heading = "Running"
    )]
    pub health_timeout: u64,
    /// Checks that must pass in a row.
    #[arg(long, default_value_t = 1, value_name = "N", help_heading = "Running")]
    pub healthy_threshold: u32,
    /// Checks that must fail in a row before the service is called unhealthy.
    #[arg(long, default_value_t = 5, value_name = "N", help_heading = "Running")]
    pub unhealthy_threshold: u32,
}

#[derive(Debug, Args, Clone)]
pub struct RunOpts {
    /// A source directory (built first unless its image is up to date) or an image name.
    #[arg(default_value = ".", value_name = "DIR|IMAGE")]
    pub target: String,
    /// App Runner's source directory inside the repository (when TARGET is a directory).
    #[arg(long, value_name = "DIR")]
    pub source_directory: Option<PathBuf>,
    #[command(flatten)]
    pub image: ImageOpts,
    /// A local environment variable NAME=VALUE for the container (repeatable).
    #[arg(long = "env", value_name = "NAME=VALUE", help_heading = "Running")]
    pub env: Vec<String>,
    #[command(flatten)]
    pub run_opts: RunArgs,
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
                },
            },
        }
    }
}

/// `NAME=VALUE`, split once at the first `=`.
pub fn parse_env_var(text: &str) -> Result<EnvVar, String> {
    match text.split_once('=') {
        Some((name, value)) => Ok(EnvVar {
            name: name.to_string(),
            value: value.to_string(),
        }),
        None => Err(format!("`{text}` has no value: write NAME=VALUE")),
    }
}

/// Run the command line; returns the process exit code ([`exit`]).
pub fn main() -> u8 {
    let cli = Cli::parse();
    let catalog = match Catalog::load(cli.catalog.as_slice()) {
        Ok(c) => c,
        Err(e) => {
            eprint!("{}", errors::render(&Diagnostic::from(e)));
            return exit::INVALID_INPUT;
        }
    };
    let today = chrono::Local::now().date_naive();
    match cli.command {
        Command::Validate(opts) => {
            let loaded = project::load(&opts.project_args(), &catalog, today);
            eprint!("{}", errors::render_all(&loaded.diagnostics));
            match loaded.plan {
                Some(plan) => {
                    let what = match (&plan.config_file, plan.decisions.is_empty()) {
                        (Some(p), _) => p.display().to_string(),
                        (None, true) => "the configuration flags".into(),
                        (None, false) => "the project (settings derived from its files)".into(),
                    };
                    println!(
                        "{what} is valid: {} {} ({})",
                        plan.runtime.name, plan.runtime.version, plan.runtime.reason
                    );
                    exit::OK
                }
                None => exit::INVALID_INPUT,
            }
        }
        Command::Plan {
            project: opts,
            json,
        } => {
            let loaded = project::load(&opts.project_args(), &catalog, today);
            eprint!("{}", errors::render_all(&loaded.diagnostics));
            let Some(plan) = loaded.plan else {
                return exit::INVALID_INPUT;
            };
            let out = if json {
                serde_json::to_string_pretty(&plan).expect("a plan always serializes") + "\n"
            } else {
                plan::render(&plan)
            };
            let _ = std::io::stdout().write_all(out.as_bytes());
            exit::OK
        }
        Command::Build(opts) => {
            let plan = match &opts.plan {
                Some(file) => match read_plan(file) {
                    Ok(plan) => plan,
                    Err(message) => {
                        eprintln!("error: {message}");
                        return exit::INVALID_INPUT;
                    }
                },
                None => {
                    let loaded = project::load(&opts.project.project_args(), &catalog, today);
                    eprint!("{}", errors::render_all(&loaded.diagnostics));
                    let Some(plan) = loaded.plan else {
                        return exit::INVALID_INPUT;
                    };
                    plan
                }
            };
            tokio_runtime().block_on(build::build_command(plan, opts))
        }
        Command::Run(opts) => tokio_runtime().block_on(run::run_command(opts, &catalog, today)),
        Command::Runtimes { json } => {
            if json {
                let list: Vec<_> = catalog.runtimes.values().collect();
                println!(
                    "{}",
                    serde_json::to_string_pretty(&list).expect("catalog serializes")
                );
            } else {
                print!("{}", render_runtimes(&catalog, today));
            }
            exit::OK
        }
    }
}

pub fn render_runtimes(catalog: &Catalog, today: chrono::NaiveDate) -> String {
    let mut out = String::new();
    for rt in catalog.runtimes.values() {
        let mut flags = Vec::new();
        flags.push(format!("{} build", rt.build_process));
        if !rt.app_runner {
            flags.push("extension: not an App Runner runtime".into());
        }
        match rt.end_of_support {
            Some(d) if rt.is_past_end_of_support(today) => {
                flags.push(format!("END OF SUPPORT since {d}"))
            }
            Some(d) => flags.push(format!("supported until {d}")),
            None => {}
        }
        out.push_str(&format!(
            "{:<10} {:<8} {}\n",
            rt.name,
            rt.language.to_string(),
            flags.join("; ")
        ));
        out.push_str(&format!("           versions: {}\n", rt.version_list()));
        if let Some(latest) = rt.latest() {
            if latest.build_image != latest.image {
                out.push_str(&format!(
                    "           latest:   {} (build: {})\n",
                    latest.image, latest.build_image
                ));
            } else {
                out.push_str(&format!("           latest:   {}\n", latest.image));
            }
        }
    }
    if !catalog.unsupported.is_empty() {
        out.push_str("\nApp Runner runtimes apprunner-build does not build: ");
        out.push_str(
            &catalog
                .unsupported
                .keys()
                .cloned()
                .collect::<Vec<_>>()
                .join(", "),
        );
        out.push('\n');
    }
    out
}

/// A plan saved by `plan --json`, checked before anything runs.
fn read_plan(file: &std::path::Path) -> Result<BuildPlan, String> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read the plan {}: {e}", file.display()))?;
    let plan: BuildPlan = serde_json::from_str(&text)
        .map_err(|e| format!("{} is not a plan (from `plan --json`): {e}", file.display()))?;
    plan.check()
        .map_err(|e| format!("the plan {} cannot be built: {e}", file.display()))?;
    Ok(plan)
}

fn tokio_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts")
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
