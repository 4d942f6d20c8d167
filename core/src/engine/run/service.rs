//! Starting the application's container, waiting until it is healthy, and following it until it
//! exits.

use crate::engine::containers::start::{create_and_start, StartFailed};
use crate::engine::run::error::{docker_err, RunError};
use crate::engine::run::health::health;
use crate::engine::run::options::{check_secret_value, ImageRunConfig, Publish, RunOptions};
use crate::engine::run::output::{follow_output, Output, OutputHandle, Started};
use crate::engine::session::Session;
use crate::report::log::BuildLog;
use bollard::models::{ContainerCreateBody, HostConfig, PortBinding};
use bollard::Docker;
use futures_util::StreamExt;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// Start the container and wait until it is healthy. Afterwards the application keeps running;
/// [`wait_exit`] follows it. The session removes the container when it closes.
pub async fn start(
    session: &Session,
    opts: &RunOptions,
    run: &ImageRunConfig,
    log: &BuildLog,
) -> Result<(Started, OutputHandle), RunError> {
    for (name, value) in &opts.secrets {
        check_secret_value(name, value)?;
    }
    // From here on, whatever is logged (the application's output, engine errors) is masked.
    log.mask_secrets(opts.secrets.iter().map(|(_, v)| v.as_str()));
    let docker = session.docker();
    crate::engine::session::cleanup::sweep_leftovers(docker, log).await;
    warn_if_root(docker, &opts.image, log).await;
    let port_key = format!("{}/tcp", run.port);
    let publish = opts.publish.unwrap_or(Publish {
        ip: Publish::DEFAULT_IP,
        port: run.port,
    });
    let host_port = publish.port;
    let binding = PortBinding {
        host_ip: Some(publish.ip.to_string()),
        host_port: Some(if host_port == 0 {
            String::new()
        } else {
            host_port.to_string()
        }),
    };
    let env: Vec<String> = opts
        .env
        .iter()
        .chain(opts.secrets.iter())
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let body = ContainerCreateBody {
        image: Some(opts.image.clone()),
        env: Some(env),
        exposed_ports: Some(vec![port_key.clone()]),
        host_config: Some(HostConfig {
            port_bindings: Some(HashMap::from([(port_key.clone(), Some(vec![binding]))])),
            ..Default::default()
        }),
        ..Default::default()
    };
    let output = Output {
        tail: Arc::default(),
        masker: log.clone(),
    };
    let id = create_and_start(docker, session.cleanup(), "app", body)
        .await
        .map_err(|failed| match failed {
            StartFailed::Creating(e) => docker_err("creating the application container")(e),
            StartFailed::Starting(e) if port_in_use(&e) => RunError::PortInUse {
                ip: publish.ip,
                port: host_port,
            },
            StartFailed::Starting(e) => docker_err("starting the application container")(e),
        })?;
    // Following from here still shows everything: the engine keeps the output from the start.
    let follow = tokio::spawn(follow_output(
        docker.clone(),
        id.clone(),
        output.clone(),
        log.clone(),
    ));
    let inspect = docker
        .inspect_container(
            &id,
            None::<bollard::query_parameters::InspectContainerOptions>,
        )
        .await
        .map_err(docker_err("inspecting the application container"))?;
    let settings = inspect.network_settings.unwrap_or_default();
    let container_ip = settings.networks.as_ref().and_then(|n| {
        n.values()
            .find_map(|e| e.ip_address.clone().filter(|ip| !ip.is_empty()))
    });
    let published = settings
        .ports
        .and_then(|p| p.get(&port_key).cloned().flatten())
        .and_then(|b| b.into_iter().find_map(|b| b.host_port?.parse::<u16>().ok()))
        .unwrap_or(host_port);
    let shown = shown_address(publish.ip, published);
    log.app_runner(format!(
        "Starting {} with PORT={}{} (published on {shown}); health check {} every {} s, timeout {} s.",
        opts.image,
        run.port,
        run.port_env
            .as_ref()
            .map(|name| format!(" and {name}={}", run.port))
            .unwrap_or_default(),
        opts.health.protocol,
        opts.health.interval.as_secs_f64(),
        opts.health.timeout.as_secs_f64()
    ));
    // Probe the container itself where the engine is local (as App Runner probes the instance);
    // through the published port otherwise.
    let local = !matches!(
        crate::engine::session::discover::from_environment().map(|f| f.endpoint),
        Ok(crate::engine::session::discover::Endpoint::Tcp(_))
    );
    let probe_addr = match container_ip.and_then(|ip| ip.parse::<std::net::IpAddr>().ok()) {
        Some(ip) if local => std::net::SocketAddr::new(ip, run.port),
        _ if publish.ip.is_unspecified() => {
            std::net::SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), published)
        }
        _ => std::net::SocketAddr::new(publish.ip, published),
    };
    let started = Started {
        container: id.clone(),
        url: format!("http://{}/", url_host(publish.ip, published)),
        host_port: published,
        port: run.port,
        probe_addr,
    };
    let handle = OutputHandle { output, follow };
    // The application exiting ends the wait at once, whatever the health check interval.
    tokio::select! {
        checked = health(&started, &opts.health, log, &handle) => {
            if let Err(unhealthy) = checked {
                // Failing because the application just stopped: that is the news.
                return Err(match stopped(docker, &started.container).await {
                    Some(code) => exit_error(docker, &started.container, code, &handle).await,
                    None => unhealthy,
                });
            }
        }
        code = wait_code(docker, &started.container) => {
            return Err(exit_error(docker, &started.container, code, &handle).await);
        }
    }
    Ok((started, handle))
}

/// Whether an image's `User` is root: unset (the engine's default), `root` or UID 0, with or
/// without a group.
pub fn is_root_user(user: &str) -> bool {
    let name = user.split(':').next().unwrap_or(user);
    name.is_empty()
        || name == "root"
        || (name.bytes().all(|b| b.is_ascii_digit()) && name.parse::<u32>() == Ok(0))
}

/// Say so when the image runs as root: whatever breaks into the application (a vulnerable
/// dependency, an injected template) then has root in the container, and with it whatever a
/// kernel or engine flaw lets root do. The fix is the build's `--user`.
async fn warn_if_root(docker: &Docker, image: &str, log: &BuildLog) {
    let Ok(inspect) = docker.inspect_image(image).await else {
        return;
    };
    let user = inspect.config.and_then(|c| c.user).unwrap_or_default();
    if is_root_user(&user) {
        log.app_runner(format!(
            "Warning: {image} runs as root: whatever breaks into the application has root in its container. Build it with --user NAME (e.g. apprunner-build build --user app, or run DIR --user app) to run as a user who owns /app and nothing else. [{}]",
            crate::report::codes::RUNS_AS_ROOT
        ));
    }
}

/// The engine's answer when the host port is taken: "port is already allocated" (another
/// container), "address already in use" (another process).
fn port_in_use(e: &bollard::errors::Error) -> bool {
    let text = e.to_string();
    text.contains("port is already allocated") || text.contains("address already in use")
}

/// `localhost:N`, `every interface (0.0.0.0), port N`, or `IP:N`.
pub(super) fn shown_address(ip: std::net::IpAddr, port: u16) -> String {
    if ip.is_unspecified() {
        format!("every interface ({ip}), port {port}")
    } else {
        url_host(ip, port)
    }
}

pub(super) fn url_host(ip: std::net::IpAddr, port: u16) -> String {
    match ip {
        ip if ip.is_loopback() || ip.is_unspecified() => format!("localhost:{port}"),
        std::net::IpAddr::V6(ip) => format!("[{ip}]:{port}"),
        ip => format!("{ip}:{port}"),
    }
}

/// The exit code, when the container has stopped.
async fn stopped(docker: &Docker, id: &str) -> Option<i64> {
    let state = docker
        .inspect_container(
            id,
            None::<bollard::query_parameters::InspectContainerOptions>,
        )
        .await
        .ok()?
        .state?;
    (state.running != Some(true)).then(|| state.exit_code.unwrap_or(-1))
}

/// Wait for the container to stop; its exit code (-1 when the engine cannot say).
async fn wait_code(docker: &Docker, id: &str) -> i64 {
    let mut wait =
        docker.wait_container(id, None::<bollard::query_parameters::WaitContainerOptions>);
    match wait.next().await {
        Some(Ok(r)) => return r.status_code,
        Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => return code,
        _ => {}
    }
    // The wait was cut short (a dropped connection): ask the container itself until it stops.
    loop {
        let inspect = docker
            .inspect_container(
                id,
                None::<bollard::query_parameters::InspectContainerOptions>,
            )
            .await;
        match inspect.map(|i| i.state.unwrap_or_default()) {
            Ok(state) if state.running == Some(true) => {
                tokio::time::sleep(Duration::from_secs(1)).await
            }
            Ok(state) => return state.exit_code.unwrap_or(-1),
            Err(_) => return -1,
        }
    }
}

/// The exit, as the stopped container tells it (its exit code and whether it ran out of memory:
/// the container is removed only after this), with the application's last lines.
async fn exit_error(docker: &Docker, id: &str, code: i64, out: &OutputHandle) -> RunError {
    let state = docker
        .inspect_container(
            id,
            None::<bollard::query_parameters::InspectContainerOptions>,
        )
        .await
        .ok()
        .and_then(|i| i.state);
    let code = state
        .as_ref()
        .and_then(|s| s.exit_code)
        .filter(|_| code == -1)
        .unwrap_or(code);
    RunError::Exited {
        code,
        oom_killed: state.and_then(|s| s.oom_killed).unwrap_or(false),
        tail: out.settled_tail(docker, id).await,
    }
}

/// Follow the application until it exits: wait on its container, then inspect it.
pub async fn wait_exit(docker: &Docker, started: &Started, out: &OutputHandle) -> RunError {
    let code = wait_code(docker, &started.container).await;
    exit_error(docker, &started.container, code, out).await
}
