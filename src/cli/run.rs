//! `apprunner-build run`: start an image as App Runner would, locally.

use super::build::{build_image, connect, open_log, report_failure};
use super::{RunArgs, RunOpts};
use apprunner_build::engine::run::{self, HealthCheck, ImageRunConfig, RunError, RunOptions};
use apprunner_build::engine::{EngineError, Session};
use apprunner_build::project::{self, ProjectArgs};
use apprunner_build::report::errors;
use apprunner_build::report::exit;
use apprunner_build::report::log::BuildLog;
use apprunner_build::resolve::catalog::Catalog;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub(crate) async fn run_command(opts: RunOpts, catalog: &Catalog, today: chrono::NaiveDate) -> u8 {
    let log = match open_log(&opts.image) {
        Ok(l) => l,
        Err(code) => return code,
    };
    // Local values are checked before anything is built or started.
    let extra_env = match env_flags(&opts.env) {
        Ok(pairs) => pairs,
        Err(e) => return usage(&e),
    };
    if let Err(code) = read_pairs(opts.run_opts.env_file.as_deref()) {
        return code;
    }
    let target = PathBuf::from(&opts.target);
    if target.is_dir() {
        let args = ProjectArgs {
            dir: target,
            source_directory: opts.source_directory.clone(),
            ..Default::default()
        };
        let loaded = project::load(&args, catalog, today);
        eprint!("{}", errors::render_all(&loaded.diagnostics));
        let Some(plan) = loaded.plan else {
            return exit::INVALID_INPUT;
        };
        // Secrets are checked before anything is built or started.
        let given = match read_pairs(opts.run_opts.secrets_file.as_deref()) {
            Ok(g) => g,
            Err(code) => return code,
        };
        let from_env = match secret_flags(&opts.run_opts.secret) {
            Ok(names) => names,
            Err(e) => return usage(&e),
        };
        if let Err(e) = run::collect_secrets(&plan.image.secret_names(), &given, &from_env) {
            return report_run_failure(&log, &e, &opts.run_opts);
        }
        let session = match connect(&log).await {
            Ok(s) => s,
            Err(code) => return code,
        };
        // Builds only when the image is missing or stale.
        let image = match build_image(&session, &plan, &opts.image, &log).await {
            Ok(built) => built.name.to_string(),
            Err(code) => return code,
        };
        let config = ImageRunConfig {
            port: plan.image.port,
            secrets: plan.image.secret_names(),
        };
        run_image(&session, &image, &config, &extra_env, &opts.run_opts, &log).await
    } else {
        let session = match connect(&log).await {
            Ok(s) => s,
            Err(code) => return code,
        };
        let config = match run::image_run_config(session.docker(), &opts.target).await {
            Ok(c) => c,
            Err(e) => return report_run_failure(&log, &e, &opts.run_opts),
        };
        run_image(
            &session,
            &opts.target,
            &config,
            &extra_env,
            &opts.run_opts,
            &log,
        )
        .await
    }
}

pub(crate) async fn run_image(
    session: &Session,
    image: &str,
    config: &ImageRunConfig,
    extra_env: &[(String, String)],
    args: &RunArgs,
    log: &BuildLog,
) -> u8 {
    let protocol = match HealthCheck::parse_protocol(&args.health_check) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: --health-check {e}");
            return exit::USAGE;
        }
    };
    let mut env = match read_pairs(args.env_file.as_deref()) {
        Ok(pairs) => pairs.into_iter().collect::<Vec<_>>(),
        Err(code) => return code,
    };
    env.sort();
    env.extend(extra_env.iter().cloned());
    let given = match read_pairs(args.secrets_file.as_deref()) {
        Ok(g) => g,
        Err(code) => return code,
    };
    let from_env = match secret_flags(&args.secret) {
        Ok(names) => names,
        Err(e) => return usage(&e),
    };
    for name in from_env.iter().filter(|n| !config.secrets.contains(n)) {
        log.app_runner(format!(
            "--secret {name}: {image} asks for no secret {name}; it is not given."
        ));
    }
    let secrets = match run::collect_secrets(&config.secrets, &given, &from_env) {
        Ok(s) => s,
        Err(e) => return report_run_failure(log, &e, args),
    };
    // Engine errors and the application's output are masked from here on.
    log.mask_secrets(secrets.iter().map(|(_, v)| v.as_str()));
    let options = RunOptions {
        image: image.to_string(),
        host_port: args.publish,
        env,
        secrets,
        health: HealthCheck {
            protocol,
            interval: Duration::from_secs(args.health_interval.max(1)),
            timeout: Duration::from_secs(args.health_timeout.max(1)),
            healthy_threshold: args.healthy_threshold.max(1),
            unhealthy_threshold: args.unhealthy_threshold.max(1),
        },
    };
    let what = "the application container";
    let started = session
        .interruptible(log, what, run::start(session, &options, config, log))
        .await;
    let code = match started {
        Err(EngineError::Interrupted) => exit::INTERRUPTED,
        Err(e) => report_failure(log, &e),
        Ok(Err(e)) => report_run_failure(log, &e, args),
        Ok(Ok((started, output))) => {
            log.app_runner(format!(
                "Your application is live at http://localhost:{}/ (Ctrl-C stops it).",
                started.host_port
            ));
            let until_exit = async {
                tokio::select! {
                    e = run::wait_exit(session.docker(), &started, &output) => e,
                    never = run::monitor(&started, &options.health, log) => match never {},
                }
            };
            match session.interruptible(log, what, until_exit).await {
                Ok(e) => report_run_failure(log, &e, args),
                Err(EngineError::Interrupted) => exit::INTERRUPTED,
                Err(e) => report_failure(log, &e),
            }
        }
    };
    session.close().await;
    code
}

fn report_run_failure(log: &BuildLog, e: &RunError, args: &RunArgs) -> u8 {
    for line in errors::run_failure(e, args.unhealthy_threshold, args.health_interval) {
        log.app_runner(line);
    }
    errors::run_exit_code(e)
}

fn usage(message: &str) -> u8 {
    eprintln!("error: {message}");
    exit::USAGE
}

/// `--env NAME=VALUE` items: a valid name, and a value a process can receive (no NUL).
fn env_flags(items: &[String]) -> Result<Vec<(String, String)>, String> {
    items
        .iter()
        .map(|item| {
            let Some((name, value)) = item.split_once('=') else {
                return Err(format!(
                    "`--env {item}` has no value; write it as `--env {item}=VALUE`"
                ));
            };
            check_pair(name, value).map_err(|why| format!("`--env {name}=…`: {why}"))?;
            Ok((name.to_string(), value.to_string()))
        })
        .collect()
}

/// Why NAME=VALUE cannot go into a process's environment, if it cannot.
fn check_pair(name: &str, value: &str) -> Result<(), String> {
    if !valid_name(name) {
        return Err(format!("`{}` is {NAME_RULE}", name.escape_debug()));
    }
    if value.contains('\0') {
        return Err(format!(
            "the value of {name} contains a NUL byte, which no process can receive in its environment"
        ));
    }
    Ok(())
}

/// The names given with `--secret NAME`: each a variable name, never NAME=VALUE.
fn secret_flags(items: &[String]) -> Result<Vec<String>, String> {
    items
        .iter()
        .map(|item| match item.split_once('=') {
            Some((name, _)) => Err(format!(
                "`--secret {name}=…` puts a value on the command line, where it leaks into shell history and process lists: put {name}=VALUE in a file given with --secrets-file FILE, or set {name} in the environment and pass --secret {name}"
            )),
            None if valid_name(item) => Ok(item.clone()),
            None => Err(format!("`--secret {item}`: {}", NAME_RULE)),
        })
        .collect()
}

/// What a variable name may be.
const NAME_RULE: &str =
    "not a valid variable name (letters, digits and _, not starting with a digit)";

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// NAME=VALUE lines (`#` comments, blank lines, optional quotes, optional `export `).
fn read_pairs(path: Option<&Path>) -> Result<HashMap<String, String>, u8> {
    let Some(path) = path else {
        return Ok(HashMap::new());
    };
    let text = std::fs::read_to_string(path).map_err(|e| {
        eprintln!("error: cannot read {}: {e}", path.display());
        exit::USAGE
    })?;
    parse_pairs(&text).map_err(|(line, why)| {
        eprintln!("error: {}:{line}: {why}", path.display());
        exit::USAGE
    })
}

pub(crate) fn parse_pairs(text: &str) -> Result<HashMap<String, String>, (usize, String)> {
    let mut pairs = HashMap::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((name, value)) = line.split_once('=') else {
            return Err((i + 1, "expected NAME=VALUE".into()));
        };
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
            .unwrap_or(value);
        let name = name.trim();
        check_pair(name, value).map_err(|why| (i + 1, why))?;
        pairs.insert(name.to_string(), value.to_string());
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::{env_flags, parse_pairs, secret_flags};

    #[test]
    fn bad_names_and_nul_values_are_refused_saying_where_and_why() {
        let e = env_flags(&["OK=1".into(), "A B=1".into()]).unwrap_err();
        assert!(
            e.starts_with("`--env A B=…`: `A B` is not a valid variable name"),
            "{e}"
        );
        let e = env_flags(&["A=x\0y".into()]).unwrap_err();
        assert!(e.contains("--env A=…") && e.contains("NUL"), "{e}");
        assert_eq!(
            env_flags(&["_A1=x=y".into()]).unwrap(),
            [("_A1".into(), "x=y".into())]
        );
        let (line, why) = parse_pairs("A=1\nB=x\0y\n").unwrap_err();
        assert_eq!(line, 2);
        assert!(why.contains("value of B contains a NUL byte"), "{why}");
        let (line, why) = parse_pairs("# c\n\nA B=1\n").unwrap_err();
        assert_eq!(line, 3);
        assert!(why.contains("`A B` is not a valid variable name"), "{why}");
    }

    #[test]
    fn secret_flags_take_names_and_refuse_values() {
        assert_eq!(
            secret_flags(&["GITHUB_TOKEN".into(), "_A1".into()]).unwrap(),
            ["GITHUB_TOKEN", "_A1"]
        );
        let e = secret_flags(&["API_TOKEN=hunter2".into()]).unwrap_err();
        assert!(e.contains("shell history and process lists"), "{e}");
        assert!(
            e.contains("--secrets-file FILE") && e.contains("--secret API_TOKEN"),
            "{e}"
        );
        assert!(!e.contains("hunter2"), "the value is not repeated: {e}");
        assert!(secret_flags(&["A B".into()]).is_err());
        assert!(secret_flags(&["1A".into()]).is_err());
    }

    #[test]
    fn env_files() {
        let p = parse_pairs("# secrets\nA=1\nexport B = \"two words\"\nC='x=y'\n\n").unwrap();
        assert_eq!(p["A"], "1");
        assert_eq!(p["B"], "two words");
        assert_eq!(p["C"], "x=y");
        assert_eq!(parse_pairs("A=1\nnonsense\n").unwrap_err().0, 2);
    }
}
