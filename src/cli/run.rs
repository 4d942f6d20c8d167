//! `apprunner-build run`: start an image as App Runner would, locally.

use super::build::{build_image, connect, interrupted, open_log, remove_after_interrupt};
use super::{RunArgs, RunOpts};
use crate::catalog::Catalog;
use crate::engine::run::{self, HealthCheck, ImageRunConfig, RunError, RunOptions};
use crate::engine::Cleanup;
use crate::errors;
use crate::log::BuildLog;
use crate::project::{self, ProjectArgs};
use bollard::Docker;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub(super) async fn run_command(opts: RunOpts, catalog: &Catalog, today: chrono::NaiveDate) -> i32 {
    let log = match open_log(&opts.image) {
        Ok(l) => l,
        Err(code) => return code,
    };
    let mut extra_env = Vec::new();
    for item in &opts.env {
        match item.split_once('=') {
            Some((k, v)) => extra_env.push((k.to_string(), v.to_string())),
            None => {
                eprintln!("error: `--env {item}` has no value; write it as `--env {item}=VALUE`");
                return 2;
            }
        }
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
        let Some(plan) = loaded.plan else { return 1 };
        // Secrets are checked before anything is built or started.
        let given = match read_pairs(opts.run_opts.secrets_file.as_deref()) {
            Ok(g) => g,
            Err(code) => return code,
        };
        if let Err(e) = run::collect_secrets(&plan.run.secrets, &given) {
            return report_run_failure(&log, &e, &opts.run_opts);
        }
        let docker = match connect(&log).await {
            Ok(d) => d,
            Err(code) => return code,
        };
        // Builds only when the image is missing or stale.
        let image = match build_image(&docker, &plan, &opts.image, &log).await {
            Ok(built) => built.name.to_string(),
            Err(code) => return code,
        };
        let config = ImageRunConfig {
            port: plan.run.port,
            secrets: plan.run.secrets.clone(),
        };
        run_image(&docker, &image, &config, &extra_env, &opts.run_opts, &log).await
    } else {
        let docker = match connect(&log).await {
            Ok(d) => d,
            Err(code) => return code,
        };
        let config = match run::image_run_config(&docker, &opts.target).await {
            Ok(c) => c,
            Err(e) => return report_run_failure(&log, &e, &opts.run_opts),
        };
        run_image(
            &docker,
            &opts.target,
            &config,
            &extra_env,
            &opts.run_opts,
            &log,
        )
        .await
    }
}

pub(super) async fn run_image(
    docker: &Docker,
    image: &str,
    config: &ImageRunConfig,
    extra_env: &[(String, String)],
    args: &RunArgs,
    log: &BuildLog,
) -> i32 {
    let protocol = match HealthCheck::parse_protocol(&args.health_check) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: --health-check {e}");
            return 2;
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
    let secrets = match run::collect_secrets(&config.secrets, &given) {
        Ok(s) => s,
        Err(e) => return report_run_failure(log, &e, args),
    };
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
    let cleanup = Cleanup::default();
    let started = tokio::select! {
        r = run::start(docker, &options, config, log, &cleanup) => Some(r),
        _ = interrupted() => None,
    };
    let code = match started {
        None => stop(docker, &cleanup, log).await,
        Some(Err(e)) => report_run_failure(log, &e, args),
        Some(Ok((started, output))) => {
            log.engine(format!(
                "Your application is live at http://localhost:{}/ (Ctrl-C stops it).",
                started.host_port
            ));
            tokio::select! {
                e = run::wait_exit(docker, &started, &output) => report_run_failure(log, &e, args),
                _ = interrupted() => stop(docker, &cleanup, log).await,
                never = run::monitor(&started, &options.health, log) => match never {},
            }
        }
    };
    cleanup.run(docker).await;
    code
}

async fn stop(docker: &Docker, cleanup: &Cleanup, log: &BuildLog) -> i32 {
    log.engine("Stopping: removing the application container.");
    remove_after_interrupt(docker, cleanup).await;
    130
}

fn report_run_failure(log: &BuildLog, e: &RunError, args: &RunArgs) -> i32 {
    for line in errors::run_failure(e, args.unhealthy_threshold, args.health_interval) {
        log.engine(line);
    }
    match e {
        RunError::Exited { code, .. } if *code > 0 && *code < 126 => *code as i32,
        _ => 1,
    }
}

/// NAME=VALUE lines (`#` comments, blank lines, optional quotes, optional `export `).
fn read_pairs(path: Option<&Path>) -> Result<HashMap<String, String>, i32> {
    let Some(path) = path else {
        return Ok(HashMap::new());
    };
    let text = std::fs::read_to_string(path).map_err(|e| {
        eprintln!("error: cannot read {}: {e}", path.display());
        2
    })?;
    parse_pairs(&text).map_err(|(line, why)| {
        eprintln!("error: {}:{line}: {why}", path.display());
        2
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
        pairs.insert(name.trim().to_string(), value.to_string());
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::parse_pairs;

    #[test]
    fn env_files() {
        let p = parse_pairs("# secrets\nA=1\nexport B = \"two words\"\nC='x=y'\n\n").unwrap();
        assert_eq!(p["A"], "1");
        assert_eq!(p["B"], "two words");
        assert_eq!(p["C"], "x=y");
        assert_eq!(parse_pairs("A=1\nnonsense\n").unwrap_err().0, 2);
    }
}
