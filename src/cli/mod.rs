//! The command line: typed arguments, dispatch, and the one place failures become exit codes.

pub mod args;
mod build;
mod eject;
mod export;
mod local;
mod metadata;
mod output;
mod provenance;
mod push;
mod run;
mod runtimes;
mod sbom;
mod session;
mod upgrade;

use apprunner_build::plan::{self, BuildPlan};
use apprunner_build::project;
use apprunner_build::report::codes;
use apprunner_build::report::diagnostic::{Diagnostic, Diagnostics, Location};
use apprunner_build::report::exit;
use apprunner_build::report::log;
use apprunner_build::resolve::catalog::Catalog;
use args::{Cli, Command, ProjectOpts};
use clap::Parser;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Why the command line stopped, when it did not finish its work.
pub enum CliError {
    /// Problems in the input (configuration, project files, catalog, saved plan); nothing ran.
    Input(Diagnostics),
    /// A file named on the command line, or a value in it.
    Usage(Box<Diagnostic>),
    /// Already reported in the build log (App Runner's failure line); the exit code says what.
    Reported(u8),
    /// Logged, with a diagnostic still to print, and its own exit code (a failed push).
    Failed(Box<Diagnostic>, u8),
}

impl CliError {
    /// `{"ok": false, "exit_code": 1, "diagnostics": [...]}`: what a script reading `--json`
    /// output gets instead of a plan.
    fn json(&self) -> String {
        let diagnostics: Vec<serde_json::Value> = match self {
            CliError::Input(found) => found.iter().map(log::diagnostic_value).collect(),
            CliError::Usage(d) | CliError::Failed(d, _) => vec![log::diagnostic_value(d)],
            CliError::Reported(_) => vec![],
        };
        let value = serde_json::json!({
            "ok": false,
            "exit_code": self.exit_code(),
            "diagnostics": diagnostics,
        });
        serde_json::to_string_pretty(&value).expect("JSON values serialize") + "\n"
    }

    fn exit_code(&self) -> u8 {
        match self {
            CliError::Input(_) => exit::INVALID_INPUT,
            CliError::Usage(_) => exit::USAGE,
            CliError::Reported(code) | CliError::Failed(_, code) => *code,
        }
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    debug_output(cli.debug);
    if let Some(epoch) = cli.source_date_epoch {
        // Before any thread starts: every reader of the build's time reads the variable, and build
        // commands get it from there too.
        std::env::set_var("SOURCE_DATE_EPOCH", epoch.to_string());
    }
    // `plan --json` is read by scripts: its failures are JSON on stdout too.
    let json_errors = matches!(cli.command, Command::Plan { json: true, .. });
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            match &e {
                CliError::Input(found) => build::eprint_diagnostics(found),
                CliError::Usage(d) | CliError::Failed(d, _) => build::eprint_diagnostic(d),
                CliError::Reported(_) => {}
            }
            if json_errors {
                let _ = std::io::stdout().write_all(e.json().as_bytes());
            }
            ExitCode::from(e.exit_code())
        }
    }
}

/// Run one command; `Ok` carries the exit code of a command that did its work.
pub fn run(cli: Cli) -> Result<u8, CliError> {
    build::diagnostics_as_json(match &cli.command {
        Command::Build(opts) => opts.image.log_format == args::LogFormatArg::Json,
        Command::Run(opts) => opts.image.log_format == args::LogFormatArg::Json,
        _ => false,
    });
    let catalog = Catalog::load(cli.catalog.as_slice())
        .map_err(|e| CliError::Input(Diagnostics(vec![Diagnostic::from(e)])))?;
    let today = chrono::Local::now().date_naive();
    match cli.command {
        Command::Validate(opts) => {
            let plan = load(&opts, &catalog, today)?;
            let what = match (&plan.config_file, plan.decisions.is_empty()) {
                (Some(p), _) => p.display().to_string(),
                (None, true) => "the configuration flags".into(),
                (None, false) => "the project (settings derived from its files)".into(),
            };
            println!(
                "{what} is valid: {} {} ({})",
                plan.runtime.name, plan.runtime.version, plan.runtime.reason
            );
            Ok(exit::OK)
        }
        Command::Plan {
            project,
            json,
            eject,
        } => {
            let plan = load(&project, &catalog, today)?;
            if eject.dockerfile {
                return eject::eject(&plan, &eject);
            }
            let out = if json {
                serde_json::to_string_pretty(&plan).expect("a plan always serializes") + "\n"
            } else {
                plan::render(&plan)
            };
            let _ = std::io::stdout().write_all(out.as_bytes());
            Ok(exit::OK)
        }
        Command::Build(opts) => {
            let (plan, warnings) = match &opts.plan {
                Some(file) => (read_plan(file, &opts.project.dir)?, Diagnostics::default()),
                None => load_keeping(&opts.project.project_args(), &catalog, today)?,
            };
            tokio_runtime().block_on(build::build_command(plan, &warnings, &opts))
        }
        Command::Run(opts) => tokio_runtime().block_on(run::run_command(&opts, &catalog, today)),
        Command::Cache { action, cache_dir } => tokio_runtime().block_on(cache(action, cache_dir)),
        Command::Export(opts) => export::export_command(&opts, &catalog, today),
        Command::Upgrade(opts) => upgrade::upgrade_command(&opts, &catalog, today),
        Command::Runtimes { json } => {
            if json {
                let list: Vec<_> = catalog.runtimes.values().collect();
                println!(
                    "{}",
                    serde_json::to_string_pretty(&list).expect("catalog serializes")
                );
            } else {
                print!("{}", runtimes::render_runtimes(&catalog, today));
            }
            Ok(exit::OK)
        }
    }
}

/// `apprunner-build cache ls|prune`.
async fn cache(action: args::CacheAction, cache_dir: Option<PathBuf>) -> Result<u8, CliError> {
    let layer_dir = cache_dir
        .unwrap_or_else(apprunner_build::engine::default_cache_dir)
        .join("layers");
    let log = apprunner_build::report::log::BuildLog::new(
        apprunner_build::report::log::LogFormat::Text,
        None,
    )
    .expect("a log without a file opens");
    let session = session::connect(&log, false).await?;
    let failed = |e| session::report_failure(&log, &e);
    match action {
        args::CacheAction::Ls => {
            for v in session.cache_volumes().await.map_err(failed)? {
                let gone = if v.project_exists {
                    ""
                } else {
                    " (project gone)"
                };
                println!("{}  {}  {}{gone}", v.name, v.runtime, v.project.display());
            }
            for layer in session.kept_layers(&layer_dir).await {
                let used = chrono::DateTime::<chrono::Utc>::from(layer.last_used);
                let files = if layer.bytes > 0 {
                    format!(
                        "{:.1} MB in {}, last used {}",
                        layer.bytes as f64 / 1e6,
                        layer_dir.display(),
                        used.format("%Y-%m-%d")
                    )
                } else if layer.in_layer_dir {
                    // A stage's kept state or a dependency layer's /app: an image only.
                    format!("last used {}", used.format("%Y-%m-%d"))
                } else {
                    format!(
                        "made {}, never used with {}",
                        used.format("%Y-%m-%d"),
                        layer_dir.display()
                    )
                };
                let engine = if layer.in_engine {
                    "image in the engine"
                } else {
                    "no image in the engine"
                };
                println!("{}  {files}; {engine}", layer.tag);
            }
        }
        args::CacheAction::Prune { all } => {
            let removed = session.prune_cache_volumes(all).await.map_err(failed)?;
            for name in &removed {
                println!("removed {name}");
            }
            println!("{} cache volume(s) removed", removed.len());
            let layers = session.prune_layers(&layer_dir, all).await;
            for tag in &layers {
                println!("removed {tag}");
            }
            println!("{} dependency layer(s) removed", layers.len());
            for line in session.prune_work_images().await {
                println!("{line}");
            }
        }
    }
    Ok(exit::OK)
}

/// The project's plan, with every warning shown; its errors stop here.
fn load(
    opts: &ProjectOpts,
    catalog: &Catalog,
    today: chrono::NaiveDate,
) -> Result<BuildPlan, CliError> {
    load_project(&opts.project_args(), catalog, today)
}

pub(crate) fn load_project(
    args: &project::ProjectArgs,
    catalog: &Catalog,
    today: chrono::NaiveDate,
) -> Result<BuildPlan, CliError> {
    load_keeping(args, catalog, today).map(|(plan, _)| plan)
}

/// The plan, with the warnings printed and kept (for `--metadata-file`).
fn load_keeping(
    args: &project::ProjectArgs,
    catalog: &Catalog,
    today: chrono::NaiveDate,
) -> Result<(BuildPlan, Diagnostics), CliError> {
    let loaded = project::load(args, catalog, today);
    match loaded.plan {
        Some(plan) => {
            build::eprint_diagnostics(&loaded.diagnostics);
            Ok((plan, loaded.diagnostics))
        }
        None => Err(CliError::Input(loaded.diagnostics)),
    }
}

/// The most of a saved plan that is read: real ones are tens of kilobytes.
const PLAN_CAP: u64 = 16 * 1024 * 1024;

/// A plan saved by `plan --json`, checked before anything runs. Its source is `dir` from the
/// command line: a plan only says where it was made, and one made for another directory (`/etc`,
/// say) is refused rather than copied into the image.
fn read_plan(file: &std::path::Path, dir: &std::path::Path) -> Result<BuildPlan, CliError> {
    let fail = |message: String| {
        CliError::Input(Diagnostics(vec![Diagnostic::error(
            codes::PLAN_FILE_UNREADABLE,
            message,
        )
        .at(Location::file(file))]))
    };
    // Looked at before it is opened: a FIFO or a device would block or never end.
    let meta = std::fs::metadata(file).map_err(|e| fail(format!("cannot read the plan: {e}")))?;
    if !meta.is_file() {
        return Err(fail(
            "the plan is not a regular file (a directory, FIFO or device): it is not read".into(),
        ));
    }
    if meta.len() > PLAN_CAP {
        return Err(fail(format!(
            "the plan is larger than {} MiB, the most apprunner-build reads of one: it is not read",
            PLAN_CAP / (1024 * 1024)
        )));
    }
    let mut text = String::new();
    std::fs::File::open(file)
        .and_then(|f| {
            std::io::Read::read_to_string(&mut std::io::Read::take(f, PLAN_CAP), &mut text)
        })
        .map_err(|e| fail(format!("cannot read the plan: {e}")))?;
    let mut plan: BuildPlan = serde_json::from_str(&text)
        .map_err(|e| fail(format!("not a plan (from `plan --json`): {e}")))?;
    plan.check()
        .map_err(|e| fail(format!("the plan cannot be built: {e}")))?;
    let same = |a: &std::path::Path, b: &std::path::Path| match (a.canonicalize(), b.canonicalize())
    {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    };
    if !same(&plan.source_root, dir) {
        return Err(CliError::Input(Diagnostics(vec![Diagnostic::error(
            codes::PLAN_SOURCE_ELSEWHERE,
            format!(
                "the plan was made for the source in `{}`, but this build reads `{}`",
                plan.source_root.display(),
                dir.display()
            ),
        )
        .at(Location::file(file))
        .with_note("a saved plan names where it was made; the source a build copies into the image comes from the command line")
        .with_help(format!(
            "to build that directory, name it: `apprunner-build build --plan {} {}`; or make the plan here with `apprunner-build plan --json`",
            file.display(),
            plan.source_root.display()
        ))])));
    }
    plan.source_root = dir.to_path_buf();
    Ok(plan)
}

/// `--debug`, or `RUST_LOG`: the library's debug lines on stderr. Only this tool's own lines are
/// shown, whatever `RUST_LOG` says: other crates' debug output (bollard's) holds request bodies,
/// and a body carries build.env values and registry credentials.
fn debug_output(debug: bool) {
    use tracing_subscriber::prelude::*;
    let from_env = std::env::var("RUST_LOG").ok().filter(|v| !v.is_empty());
    if !debug && from_env.is_none() {
        return;
    }
    let mut filter = tracing_subscriber::EnvFilter::new(from_env.unwrap_or_default());
    if debug {
        filter = filter.add_directive("apprunner_build=debug".parse().expect("a valid directive"));
    }
    let ours = tracing_subscriber::filter::filter_fn(|m| m.target().starts_with("apprunner_build"));
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_filter(filter)
                .with_filter(ours),
        )
        .init();
}

fn tokio_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts")
}
