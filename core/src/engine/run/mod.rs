//! Running a built image the way App Runner runs it: PORT set, secrets given at start, the
//! application's output in the log, and a health check before the service counts as live.

use crate::engine::containers::exec::OutputLines;
mod health;

use crate::engine::labels;
use crate::engine::Session;
use crate::report::log::{BuildLog, Stream};
use bollard::models::{ContainerCreateBody, HostConfig, PortBinding};
use bollard::query_parameters::{CreateContainerOptionsBuilder, LogsOptionsBuilder};
use bollard::Docker;
use futures_util::StreamExt;
use health::health;
pub use health::{monitor, HealthCheck, HealthProtocol};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The log prefix of the application's own output.
pub const APPLICATION: &str = "Application";
/// How many of the application's last lines a failure shows.
const TAIL: usize = 20;

/// Where on this machine the service port is published: `-p [IP:]PORT`, as `docker run -p` takes
/// it (127.0.0.1 unless an address is given; port 0: any free port).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Publish {
    pub ip: std::net::IpAddr,
    pub port: u16,
}

impl Publish {
    /// Only this machine, by default: a local run is nobody else's business.
    pub const DEFAULT_IP: std::net::IpAddr = std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);

    /// `PORT`, `IP:PORT` or `[IPv6]:PORT`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (ip, port) = match text.rsplit_once(':') {
            None => (Self::DEFAULT_IP, text),
            Some((ip, port)) => {
                let bare = ip
                    .strip_prefix('[')
                    .and_then(|i| i.strip_suffix(']'))
                    .unwrap_or(ip);
                let ip = bare.parse().map_err(|_| {
                    format!("`{ip}` is not an IP address: write -p PORT, -p IP:PORT (e.g. -p 0.0.0.0:8080 for every interface) or -p 0 for any free port")
                })?;
                (ip, port)
            }
        };
        let port = port
            .parse()
            .map_err(|_| format!("`{port}` is not a port number (0 to 65535; 0: any free port)"))?;
        Ok(Self { ip, port })
    }
}

#[derive(Debug, Clone)]
pub struct RunOptions {
    pub image: String,
    /// Where to publish the service port (None: the same number, on 127.0.0.1).
    pub publish: Option<Publish>,
    /// NAME=VALUE pairs for the container, on top of the image's env.
    pub env: Vec<(String, String)>,
    /// Secret values, by name: given to the container, never logged.
    pub secrets: Vec<(String, String)>,
    pub health: HealthCheck,
}

/// What the image says about how to run it.
#[derive(Debug, Clone)]
pub struct ImageRunConfig {
    pub port: u16,
    /// The `run.network.env` variable, which holds the port too.
    pub port_env: Option<String>,
    pub secrets: Vec<String>,
}

impl ImageRunConfig {
    /// What a plan's image will say.
    pub fn from_plan(plan: &crate::plan::BuildPlan) -> Self {
        let sets: Vec<(String, String)> = plan
            .image
            .env
            .iter()
            .filter_map(|e| match e {
                crate::plan::ImageEnv::Set { name, value } => Some((name.clone(), value.clone())),
                crate::plan::ImageEnv::Prepend { .. } => None,
            })
            .collect();
        Self {
            port: plan.image.port,
            port_env: port_env(&sets, plan.image.port),
            secrets: plan.image.secret_names(),
        }
    }
}

/// The `run.network.env` variable: the plan sets it right after PORT, to the same value.
fn port_env(env: &[(String, String)], port: u16) -> Option<String> {
    let at = env.iter().rposition(|(name, _)| name == "PORT")?;
    env.get(at + 1)
        .filter(|(_, value)| *value == port.to_string())
        .map(|(name, _)| name.clone())
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{action}: {source}")]
    Docker {
        action: String,
        source: bollard::errors::Error,
    },
    #[error("image {0} was not found")]
    NoImage(String),
    #[error("missing secrets: {}", .0.join(", "))]
    MissingSecrets(Vec<String>),
    /// A secret value the engine cannot pass on; the message names the secret, never the value.
    #[error("secret {name}: {why}")]
    BadSecret { name: String, why: String },
    #[error("the application exited with code {code}")]
    Exited {
        code: i64,
        /// The engine killed it for want of memory.
        oom_killed: bool,
        tail: Tail,
    },
    /// The engine could not publish the port: something else holds it.
    #[error("port {port} on {ip} is already in use")]
    PortInUse { ip: std::net::IpAddr, port: u16 },
    #[error("health check failed")]
    Unhealthy {
        protocol: HealthProtocol,
        port: u16,
        failures: u32,
        last_error: String,
        /// From the first check to the last.
        elapsed: Duration,
        tail: Tail,
    },
}

/// The application's last output lines, for a failure message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tail {
    pub lines: Vec<String>,
    /// Already shown as `[Application]` lines: a summary need not repeat them.
    pub streamed: bool,
}

fn docker_err(action: &str) -> impl FnOnce(bollard::errors::Error) -> RunError + '_ {
    move |source| RunError::Docker {
        action: action.to_string(),
        source,
    }
}

/// Read the port and secret names from a built image.
pub async fn image_run_config(docker: &Docker, image: &str) -> Result<ImageRunConfig, RunError> {
    let inspect = docker
        .inspect_image(image)
        .await
        .map_err(|_| RunError::NoImage(image.to_string()))?;
    let config = inspect.config.unwrap_or_default();
    let env: Vec<(String, String)> = config
        .env
        .unwrap_or_default()
        .iter()
        .filter_map(|e| e.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let port = env
        .iter()
        .find_map(|(k, v)| (k == "PORT").then(|| v.parse().ok()).flatten())
        .unwrap_or(crate::input::config::DEFAULT_PORT);
    let secrets = config
        .labels
        .unwrap_or_default()
        .get(labels::SECRETS)
        .map(|s| {
            s.split(',')
                .filter(|n| !n.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    Ok(ImageRunConfig {
        port,
        port_env: port_env(&env, port),
        secrets,
    })
}

/// Every name in `wanted` must have a value: from `file` (a secrets file), or from this process's
/// environment for the names in `from_env` (each named by `--secret NAME`). The environment is never
/// read for a name not in `from_env`: the names come from the image (its label), and any image could
/// otherwise ask for `GITHUB_TOKEN` or `AWS_SECRET_ACCESS_KEY` and get it.
pub fn collect_secrets(
    wanted: &[String],
    file: &HashMap<String, String>,
    from_env: &[String],
) -> Result<Vec<(String, String)>, RunError> {
    collect_secrets_from(wanted, file, from_env, |name| std::env::var(name).ok())
}

/// [`collect_secrets`] with `env` standing for the environment.
pub(crate) fn collect_secrets_from(
    wanted: &[String],
    file: &HashMap<String, String>,
    from_env: &[String],
    env: impl Fn(&str) -> Option<String>,
) -> Result<Vec<(String, String)>, RunError> {
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for name in wanted {
        let value = file.get(name).cloned().or_else(|| {
            from_env
                .iter()
                .any(|n| n == name)
                .then(|| env(name))
                .flatten()
        });
        match value {
            Some(value) => {
                check_secret_value(name, &value)?;
                found.push((name.clone(), value));
            }
            None => missing.push(name.clone()),
        }
    }
    if missing.is_empty() {
        Ok(found)
    } else {
        Err(RunError::MissingSecrets(missing))
    }
}

/// A value the engine can give a process: no NUL byte (it would cut the value short, or fail the
/// container's creation with the value in the error).
pub fn check_secret_value(name: &str, value: &str) -> Result<(), RunError> {
    if value.contains('\0') {
        return Err(RunError::BadSecret {
            name: name.to_string(),
            why: "its value contains a NUL byte, which no process can receive in its environment"
                .into(),
        });
    }
    Ok(())
}

/// Recent lines of the application's output, with secret values masked (by the log's masker).
#[derive(Clone)]
struct Output {
    tail: Arc<Mutex<VecDeque<String>>>,
    masker: BuildLog,
}

impl Output {
    fn record(&self, log: &BuildLog, stream: Stream, line: &str) {
        let line = log.mask(line);
        log.line(APPLICATION, stream, &line);
        let mut tail = self.tail.lock().unwrap_or_else(|e| e.into_inner());
        if tail.len() == TAIL {
            tail.pop_front();
        }
        tail.push_back(line);
    }

    fn mask(&self, line: &str) -> String {
        self.masker.mask(line)
    }

    fn tail(&self) -> Vec<String> {
        self.tail
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .cloned()
            .collect()
    }
}

/// A started service: where it answers.
pub struct Started {
    pub container: String,
    /// The service's address from this machine: `http://localhost:N/` unless published on one
    /// other address.
    pub url: String,
    pub host_port: u16,
    pub port: u16,
    pub(crate) probe_addr: std::net::SocketAddr,
}

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
    crate::engine::session::docker::sweep_leftovers(docker, log).await;
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
        labels: Some(crate::engine::session::docker::owner_labels()),
        host_config: Some(HostConfig {
            port_bindings: Some(HashMap::from([(port_key.clone(), Some(vec![binding]))])),
            ..Default::default()
        }),
        ..Default::default()
    };
    let name = crate::engine::session::docker::container_name("app");
    let created = docker
        .create_container(
            Some(CreateContainerOptionsBuilder::new().name(&name).build()),
            body,
        )
        .await
        .map_err(docker_err("creating the application container"))?;
    session.cleanup().add_container(&created.id);
    let output = Output {
        tail: Arc::default(),
        masker: log.clone(),
    };
    docker
        .start_container(
            &created.id,
            None::<bollard::query_parameters::StartContainerOptions>,
        )
        .await
        .map_err(|source| match port_in_use(&source) {
            true => RunError::PortInUse {
                ip: publish.ip,
                port: host_port,
            },
            false => docker_err("starting the application container")(source),
        })?;
    // Following from here still shows everything: the engine keeps the output from the start.
    let follow = tokio::spawn(follow_output(
        docker.clone(),
        created.id.clone(),
        output.clone(),
        log.clone(),
    ));
    let inspect = docker
        .inspect_container(
            &created.id,
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
    let local = std::env::var("DOCKER_HOST").map_or(true, |h| h.starts_with("unix://"));
    let probe_addr = match container_ip.and_then(|ip| ip.parse::<std::net::IpAddr>().ok()) {
        Some(ip) if local => std::net::SocketAddr::new(ip, run.port),
        _ if publish.ip.is_unspecified() => {
            std::net::SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), published)
        }
        _ => std::net::SocketAddr::new(publish.ip, published),
    };
    let started = Started {
        container: created.id.clone(),
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
fn shown_address(ip: std::net::IpAddr, port: u16) -> String {
    if ip.is_unspecified() {
        format!("every interface ({ip}), port {port}")
    } else {
        url_host(ip, port)
    }
}

fn url_host(ip: std::net::IpAddr, port: u16) -> String {
    match ip {
        ip if ip.is_loopback() || ip.is_unspecified() => format!("localhost:{port}"),
        std::net::IpAddr::V6(ip) => format!("[{ip}]:{port}"),
        ip => format!("{ip}:{port}"),
    }
}

/// The application's output, followed in the background.
pub struct OutputHandle {
    output: Output,
    follow: tokio::task::JoinHandle<()>,
}

impl OutputHandle {
    pub fn tail(&self) -> Vec<String> {
        self.output.tail()
    }

    /// The last lines, once the follower has shown everything (or, after a short wait, the
    /// engine's last lines, not all of which were streamed).
    async fn settled_tail(&self, docker: &Docker, id: &str) -> Tail {
        let drained = tokio::time::timeout(Duration::from_secs(2), async {
            while !self.follow.is_finished() {
                tokio::time::sleep(Duration::from_millis(20)).await
            }
        })
        .await
        .is_ok();
        if drained {
            return Tail {
                lines: self.tail(),
                streamed: true,
            };
        }
        let options = LogsOptionsBuilder::new()
            .stdout(true)
            .stderr(true)
            .tail(&TAIL.to_string())
            .build();
        let mut stream = docker.logs(id, Some(options));
        let mut lines = OutputLines::default();
        let mut found = Vec::new();
        while let Some(Ok(chunk)) = stream.next().await {
            found.extend(lines.push(chunk).into_iter().map(|(_, l)| l));
        }
        found.extend(lines.finish().into_iter().map(|(_, l)| l));
        Tail {
            lines: found.iter().map(|l| self.output.mask(l)).collect(),
            streamed: false,
        }
    }
}

async fn follow_output(docker: Docker, id: String, output: Output, log: BuildLog) {
    let options = LogsOptionsBuilder::new()
        .follow(true)
        .stdout(true)
        .stderr(true)
        .build();
    let mut stream = docker.logs(&id, Some(options));
    let mut lines = OutputLines::default();
    while let Some(Ok(chunk)) = stream.next().await {
        for (kind, line) in lines.push(chunk) {
            output.record(&log, kind, &line);
        }
    }
    for (kind, line) in lines.finish() {
        output.record(&log, kind, &line);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_network_env_variable_is_the_one_set_to_the_port_right_after_port() {
        let env = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let with = env(&[("PATH", "/bin"), ("PORT", "8000"), ("APP_PORT", "8000")]);
        assert_eq!(port_env(&with, 8000).as_deref(), Some("APP_PORT"));
        let without = env(&[("PORT", "8000"), ("OTHER", "x")]);
        assert_eq!(port_env(&without, 8000), None);
        assert_eq!(port_env(&env(&[("A", "8000")]), 8000), None);
    }

    #[test]
    fn publish_takes_a_port_or_an_address_and_a_port() {
        let local = |port| Publish {
            ip: Publish::DEFAULT_IP,
            port,
        };
        assert_eq!(Publish::parse("8080"), Ok(local(8080)));
        assert_eq!(Publish::parse("0"), Ok(local(0)));
        assert_eq!(
            Publish::parse("0.0.0.0:8080").unwrap().ip.to_string(),
            "0.0.0.0"
        );
        assert_eq!(Publish::parse("[::1]:80").unwrap().ip.to_string(), "::1");
        assert!(Publish::parse("localhost:80")
            .unwrap_err()
            .contains("not an IP address"));
        assert!(Publish::parse("70000").unwrap_err().contains("not a port"));
        assert_eq!(url_host(Publish::DEFAULT_IP, 80), "localhost:80");
        assert_eq!(url_host("0.0.0.0".parse().unwrap(), 80), "localhost:80");
        assert_eq!(url_host("10.1.2.3".parse().unwrap(), 80), "10.1.2.3:80");
        assert_eq!(
            shown_address("0.0.0.0".parse().unwrap(), 80),
            "every interface (0.0.0.0), port 80"
        );
    }

    #[test]
    fn root_is_an_empty_user_root_or_uid_0_with_or_without_a_group() {
        for root in ["", "root", "0", "00", "root:root", "0:0", ":1000"] {
            assert!(is_root_user(root), "{root:?}");
        }
        for other in ["app", "1000", "node:node", "1000:0", "rooted"] {
            assert!(!is_root_user(other), "{other:?}");
        }
    }

    #[test]
    fn a_nul_in_a_secret_value_is_refused_naming_the_secret_not_the_value() {
        let given = HashMap::from([("API_TOKEN".to_string(), "abc\0def-value".to_string())]);
        let e = collect_secrets(&["API_TOKEN".to_string()], &given, &[]).unwrap_err();
        let text = e.to_string();
        assert!(matches!(e, RunError::BadSecret { .. }), "{text}");
        assert!(text.contains("API_TOKEN") && text.contains("NUL"), "{text}");
        assert!(!text.contains("def-value"), "{text}");
    }

    #[test]
    fn the_environment_gives_only_the_secrets_named_with_secret() {
        let wanted = ["GITHUB_TOKEN".to_string(), "API_KEY".to_string()];
        let env = |name: &str| (name == "GITHUB_TOKEN").then(|| "ghp_host_token".to_string());
        let file = HashMap::from([("API_KEY".to_string(), "from-file".to_string())]);
        // The image asks; the environment has it; nobody named it: not given.
        match collect_secrets_from(&wanted, &file, &[], env) {
            Err(RunError::MissingSecrets(names)) => assert_eq!(names, ["GITHUB_TOKEN"]),
            other => panic!("{other:?}"),
        }
        let given =
            collect_secrets_from(&wanted, &file, &["GITHUB_TOKEN".to_string()], env).unwrap();
        assert_eq!(
            given,
            [
                ("GITHUB_TOKEN".to_string(), "ghp_host_token".to_string()),
                ("API_KEY".to_string(), "from-file".to_string())
            ]
        );
    }
}
