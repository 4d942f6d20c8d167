//! Connecting to the engine, images, and the containers a build creates (and always removes).

use crate::engine::labels;
use crate::engine::EngineError;
use crate::report::log::BuildLog;
use bollard::models::ImageInspect;
use bollard::query_parameters::{
    CreateImageOptionsBuilder, ListContainersOptionsBuilder, RemoveContainerOptionsBuilder,
    RemoveImageOptionsBuilder,
};
use bollard::Docker;
use futures_util::StreamExt;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Every container this tool makes is named `apprunner-build-<pid>-<stage>-<n>`, for people to
/// recognise; sweeping relies on the [`labels::OWNER`] label, not on the name.
pub(crate) const CONTAINER_PREFIX: &str = "apprunner-build-";

pub(crate) fn container_name(stage: &str) -> String {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() % 1_000_000_000);
    format!("{CONTAINER_PREFIX}{}-{stage}-{n}", std::process::id())
}

/// The labels for a container this process creates.
pub(crate) fn owner_labels() -> HashMap<String, String> {
    let value = match Owner::of_this_process() {
        Some(owner) => owner.value(),
        // Without /proc, no owner can be proven gone: such a container is never swept.
        None => format!("pid={}", std::process::id()),
    };
    HashMap::from([(labels::OWNER.to_string(), value)])
}

/// The process that made a container: its pid and start time (field 22 of `/proc/PID/stat`, which
/// tells a reused pid apart), and where the pid means something: the host name, the boot
/// (`/proc/sys/kernel/random/boot_id`) and the pid namespace (`/proc/self/ns/pid`), kept as a
/// digest ([`Owner::place`]). A build in another pid namespace sharing the engine (CI jobs on one
/// runner), on another machine, or before a reboot, is never judged from here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Owner {
    pub(crate) pid: u32,
    pub(crate) start_time: u64,
    /// [`Owner::place`] of the host, boot and pid namespace.
    pub(crate) place: String,
}

/// What `/proc` says about a pid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// Running, started at this time.
    Started(u64),
    /// No such process.
    Absent,
    /// Cannot tell (no permission, no /proc).
    Unknown,
}

impl Owner {
    fn of_this_process() -> Option<Self> {
        static THIS: std::sync::OnceLock<Option<Owner>> = std::sync::OnceLock::new();
        THIS.get_or_init(|| {
            let pid = std::process::id();
            let Lookup::Started(start_time) = start_time(pid) else {
                return None;
            };
            let read = |p: &str| {
                std::fs::read_to_string(p)
                    .ok()
                    .map(|t| t.trim().to_string())
                    .filter(|t| !t.is_empty() && !t.contains(char::is_whitespace))
            };
            let pid_ns = std::fs::read_link("/proc/self/ns/pid")
                .ok()?
                .to_string_lossy()
                .to_string();
            Some(Owner {
                pid,
                start_time,
                place: Owner::place(
                    &read("/proc/sys/kernel/random/boot_id")?,
                    &pid_ns,
                    &read("/proc/sys/kernel/hostname")?,
                ),
            })
        })
        .clone()
    }

    /// Where a pid means something, as a digest of the boot id, the pid namespace and the host
    /// name: equal for builds on the same machine, boot and namespace, and telling nothing of
    /// them. The label is seen by whoever shares the engine, and a committed image keeps its
    /// container's labels in its `container_config` (Docker 20.10): the machine's name and boot
    /// id would otherwise ship in the application image.
    pub(crate) fn place(boot_id: &str, pid_ns: &str, host: &str) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for field in [boot_id, pid_ns, host] {
            h.update(field.as_bytes());
            h.update(b"\0");
        }
        hex::encode(&h.finalize()[..16])
    }

    pub(crate) fn value(&self) -> String {
        format!(
            "pid={} start={} place={}",
            self.pid, self.start_time, self.place
        )
    }

    pub(crate) fn parse(value: &str) -> Option<Self> {
        let mut fields: HashMap<&str, &str> = HashMap::new();
        for field in value.split(' ') {
            let (k, v) = field.split_once('=')?;
            fields.insert(k, v);
        }
        let text = |k: &str| {
            fields
                .get(k)
                .filter(|v| !v.is_empty())
                .map(|v| v.to_string())
        };
        // Labels from before the digest name the boot, namespace and host in clear.
        let place = match text("place") {
            Some(place) => place,
            None => Owner::place(&text("boot")?, &text("pidns")?, &text("host")?),
        };
        Some(Owner {
            pid: fields.get("pid")?.parse().ok()?,
            start_time: fields.get("start")?.parse().ok()?,
            place,
        })
    }

    /// Provably gone, as seen from `here`: same host, boot and pid namespace, and its pid is absent
    /// or belongs to a process started at another time.
    pub(crate) fn gone(&self, here: &Owner, lookup: impl Fn(u32) -> Lookup) -> bool {
        if self.place != here.place {
            return false;
        }
        match lookup(self.pid) {
            Lookup::Absent => true,
            Lookup::Started(t) => t != self.start_time,
            Lookup::Unknown => false,
        }
    }
}

/// Field 22 of `/proc/PID/stat`: when the process started, in clock ticks since boot.
pub(crate) fn start_time(pid: u32) -> Lookup {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The command name (field 2, in parentheses) may hold spaces: count after its `)`.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(19)?.parse().ok())
            .map_or(Lookup::Unknown, Lookup::Started),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Lookup::Absent,
        Err(_) => Lookup::Unknown,
    }
}

/// Seconds a plain request may take (request and response headers).
const REQUEST_TIMEOUT: u64 = 120;

/// Where the engine listens, from `DOCKER_HOST`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Endpoint {
    /// A unix socket's path.
    Unix(String),
    /// Plain HTTP to `host:port`, as bollard wants it: `http://host:port`.
    Tcp(String),
}

const DEFAULT_SOCKET: &str = "/var/run/docker.sock";
const SUPPORTED: &str = "supported: unix:///path/to/docker.sock and tcp://HOST:PORT";

/// What `DOCKER_HOST` names, or why it cannot be used. Empty means the local socket; as with the
/// docker CLI, `HOST:PORT` without a scheme means tcp. Anything else is refused by name rather
/// than silently building on the local socket: `ssh://`, `npipe://`, `fd://`, TLS, a tcp URL with
/// a path or query.
pub(crate) fn endpoint(host: &str) -> Result<Endpoint, String> {
    if host.is_empty() {
        return Ok(Endpoint::Unix(DEFAULT_SOCKET.into()));
    }
    let (scheme, rest) = host.split_once("://").unwrap_or(("tcp", host));
    match scheme {
        "unix" => {
            if rest.starts_with('/') && rest.len() > 1 {
                Ok(Endpoint::Unix(rest.to_string()))
            } else {
                Err(format!(
                    "DOCKER_HOST={host}: a unix:// address needs an absolute socket path, e.g. unix://{DEFAULT_SOCKET}"
                ))
            }
        }
        "tcp" | "http" => {
            let (authority, path) = match rest.find(['/', '?', '#']) {
                Some(i) => (&rest[..i], &rest[i..]),
                None => (rest, ""),
            };
            if !path.is_empty() && path != "/" {
                return Err(format!(
                    "DOCKER_HOST={host}: a path or query (`{path}`) after the address is not supported ({SUPPORTED})"
                ));
            }
            let valid = !authority.is_empty()
                && authority
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-_:[]".contains(c));
            if !valid {
                return Err(format!(
                    "DOCKER_HOST={host} is not an engine address ({SUPPORTED})"
                ));
            }
            let port = match authority.rsplit_once(']') {
                Some((_, after)) => after.strip_prefix(':'),
                None => authority.split_once(':').map(|(_, p)| p),
            };
            match port {
                None => Ok(Endpoint::Tcp(format!("http://{authority}:2375"))),
                Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                    Ok(Endpoint::Tcp(format!("http://{authority}")))
                }
                Some(p) => Err(format!(
                    "DOCKER_HOST={host}: `{p}` is not a port number ({SUPPORTED})"
                )),
            }
        }
        "https" => Err(format!(
            "DOCKER_HOST={host}: TLS connections to the engine are not supported yet ({SUPPORTED})"
        )),
        "ssh" => Err(format!(
            "DOCKER_HOST={host}: ssh:// connections to the engine are not supported ({SUPPORTED}); forward the remote socket instead, e.g. ssh -L /tmp/docker.sock:{DEFAULT_SOCKET} HOST, then DOCKER_HOST=unix:///tmp/docker.sock"
        )),
        other => Err(format!(
            "DOCKER_HOST={host}: {other}:// connections to the engine are not supported ({SUPPORTED})"
        )),
    }
}

/// Connect to the engine named by `DOCKER_HOST` (unix:// or tcp://), or the local socket.
pub(crate) async fn connect() -> Result<Docker, EngineError> {
    let host = std::env::var("DOCKER_HOST").unwrap_or_default();
    let shown = if host.is_empty() {
        format!("unix://{DEFAULT_SOCKET}")
    } else {
        host.clone()
    };
    if std::env::var("DOCKER_TLS_VERIFY").is_ok_and(|v| !v.is_empty() && v != "0") {
        return Err(EngineError::Unsupported(format!(
            "DOCKER_TLS_VERIFY is set for {shown}: TLS connections to the engine are not supported yet; use a unix socket or an SSH tunnel to one"
        )));
    }
    let endpoint = endpoint(&host).map_err(EngineError::Unsupported)?;
    let fail = |source| EngineError::Connect {
        host: shown.clone(),
        source,
    };
    let docker = match &endpoint {
        Endpoint::Unix(path) => {
            Docker::connect_with_unix(path, REQUEST_TIMEOUT, bollard::API_DEFAULT_VERSION)
        }
        Endpoint::Tcp(url) => {
            Docker::connect_with_http(url, REQUEST_TIMEOUT, bollard::API_DEFAULT_VERSION)
        }
    }
    .map_err(fail)?;
    // A 20.10 engine refuses bollard's newer default API version; agree on one both speak.
    let docker = docker.negotiate_version().await.map_err(fail)?;
    docker.ping().await.map_err(fail)?;
    Ok(docker)
}

/// The same client with a long timeout: uploads, copies and commits answer only when done.
pub(crate) fn long(docker: &Docker) -> Docker {
    docker
        .clone()
        .with_timeout(std::time::Duration::from_secs(3600))
}

fn is_not_found(e: &bollard::errors::Error) -> bool {
    matches!(
        e,
        bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

/// The image, pulled with visible progress when it is not present locally.
pub(crate) async fn ensure_image(
    docker: &Docker,
    image: &str,
    log: &BuildLog,
) -> Result<ImageInspect, EngineError> {
    match docker.inspect_image(image).await {
        Ok(found) => return Ok(found),
        Err(e) if is_not_found(&e) => {}
        Err(e) => return Err(EngineError::docker(format!("inspecting image {image}"))(e)),
    }
    log.app_runner(format!("Pulling image {image} (not present locally)."));
    let options = CreateImageOptionsBuilder::new().from_image(image).build();
    let mut progress = docker.create_image(Some(options), None, None);
    let mut last: HashMap<String, String> = HashMap::new();
    while let Some(item) = progress.next().await {
        let info = item.map_err(|e| EngineError::Pull {
            image: image.to_string(),
            reason: e.to_string(),
        })?;
        if let Some(detail) = info.error_detail.and_then(|d| d.message) {
            return Err(EngineError::Pull {
                image: image.to_string(),
                reason: detail,
            });
        }
        let Some(status) = info.status else { continue };
        // Byte-level progress repeats "Downloading"; log each layer's state changes only.
        let key = info.id.clone().unwrap_or_default();
        if last.get(&key) == Some(&status) || status == "Downloading" || status == "Extracting" {
            continue;
        }
        last.insert(key.clone(), status.clone());
        if key.is_empty() {
            log.app_runner(status);
        } else {
            log.app_runner(format!("{key}: {status}"));
        }
    }
    docker
        .inspect_image(image)
        .await
        .map_err(|e| EngineError::Pull {
            image: image.to_string(),
            reason: e.to_string(),
        })
}

/// Containers and images a build made, removed at the end whatever happens.
#[derive(Clone, Default)]
pub(crate) struct Cleanup {
    inner: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    containers: Vec<String>,
    images: Vec<String>,
    /// Images on the way (a stage's written layers): the same layers make the same image, so
    /// another build may be using one; removed only when nothing names or uses it.
    intermediate: Vec<String>,
    /// Every container ever added, removed or not.
    created: Vec<String>,
}

impl Cleanup {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The containers not yet removed.
    pub(crate) fn containers(&self) -> Vec<String> {
        self.state().containers.clone()
    }

    pub(crate) fn add_container(&self, id: &str) {
        let mut state = self.state();
        state.containers.push(id.to_string());
        state.created.push(id.to_string());
    }

    /// Every container added so far, including those already removed.
    pub fn created(&self) -> Vec<String> {
        self.state().created.clone()
    }

    /// An image to delete unless the build gets to keep it.
    pub(crate) fn add_image(&self, id: &str) {
        self.state().images.push(id.to_string());
    }

    pub(crate) fn keep_image(&self, id: &str) {
        let mut state = self.state();
        state.images.retain(|i| i != id);
        state.intermediate.retain(|i| i != id);
    }

    pub(crate) fn add_intermediate(&self, id: &str) {
        self.state().intermediate.push(id.to_string());
    }

    /// Force-remove every container this build made, at once. Returns how many.
    pub(crate) async fn remove_containers(&self, docker: &Docker) -> usize {
        let containers = std::mem::take(&mut self.state().containers);
        let remove = RemoveContainerOptionsBuilder::new()
            .force(true)
            .v(true)
            .build();
        futures_util::future::join_all(
            containers
                .iter()
                .map(|c| docker.remove_container(c, Some(remove.clone()))),
        )
        .await;
        containers.len()
    }

    /// Force-remove every container (and unkept image) this build made. Returns how many containers.
    pub async fn run(&self, docker: &Docker) -> usize {
        let (containers, images, intermediate) = {
            let mut s = self.state();
            (
                std::mem::take(&mut s.containers),
                std::mem::take(&mut s.images),
                std::mem::take(&mut s.intermediate),
            )
        };
        let remove = RemoveContainerOptionsBuilder::new()
            .force(true)
            .v(true)
            .build();
        let count = containers.len();
        futures_util::future::join_all(
            containers
                .iter()
                .map(|c| docker.remove_container(c, Some(remove.clone()))),
        )
        .await;
        for image in images {
            let _ = docker
                .remove_image(
                    &image,
                    Some(RemoveImageOptionsBuilder::new().force(true).build()),
                    None,
                )
                .await;
        }
        // Not forced: the engine refuses one with a name, a container or an image built on it,
        // and that one stays.
        for image in intermediate {
            let _ = docker
                .remove_image(
                    &image,
                    Some(RemoveImageOptionsBuilder::new().force(false).build()),
                    None,
                )
                .await;
        }
        count
    }
}

/// Remove the containers whose owner (their [`labels::OWNER`]) is provably gone: a build or `run`
/// killed with SIGKILL, or a machine that crashed. Containers of other pid namespaces, hosts or
/// boots are left alone, and so is everything when `/proc` hides other processes (then no owner
/// can be proven gone). A removal that fails is said, with its reason.
pub(crate) async fn sweep_leftovers(docker: &Docker, log: &BuildLog) {
    let Some(here) = Owner::of_this_process() else {
        return;
    };
    if !matches!(start_time(1), Lookup::Started(_)) {
        return;
    }
    let filters = HashMap::from([("label", vec![labels::OWNER])]);
    let options = ListContainersOptionsBuilder::new()
        .all(true)
        .filters(&filters)
        .build();
    let Ok(list) = docker.list_containers(Some(options)).await else {
        return;
    };
    for c in list {
        let (Some(id), Some(labels)) = (c.id, c.labels) else {
            continue;
        };
        let Some(owner) = labels
            .get(crate::engine::labels::OWNER)
            .and_then(|v| Owner::parse(v))
        else {
            continue;
        };
        if !owner.gone(&here, start_time) {
            continue;
        }
        let name = c.names.and_then(|n| n.into_iter().next()).map_or_else(
            || id.chars().take(12).collect(),
            |n| n.trim_start_matches('/').to_string(),
        );
        let remove = RemoveContainerOptionsBuilder::new()
            .force(true)
            .v(true)
            .build();
        // By id: the engine answers a name with its leading slash with 301, not a removal.
        match docker.remove_container(&id, Some(remove)).await {
            Ok(()) => log.app_runner(format!(
                "Removed a container left by an earlier, interrupted build or run (process {} is gone): {name}",
                owner.pid
            )),
            // Removed meanwhile, by another build's sweep.
            Err(e) if is_not_found(&e) || e.to_string().contains("already in progress") => {}
            Err(e) => log.app_runner(format!(
                "Could not remove the container {name}, left by an earlier, interrupted build or run (process {} is gone): {e} [{}]",
                owner.pid,
                crate::report::codes::LEFTOVER_NOT_REMOVED
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{endpoint, start_time, Endpoint, Lookup, Owner};

    #[test]
    fn an_owner_is_gone_only_when_provably_so() {
        let here = Owner {
            pid: 100,
            start_time: 5000,
            place: Owner::place("b-1", "pid:[4026531836]", "runner"),
        };
        let parsed = Owner::parse(&here.value()).unwrap();
        assert_eq!(parsed, here);
        assert!(
            !here.value().contains("runner") && !here.value().contains("b-1"),
            "the label names neither the host nor the boot: {}",
            here.value()
        );
        // A label written before the digest.
        assert_eq!(
            Owner::parse("pid=100 start=5000 boot=b-1 pidns=pid:[4026531836] host=runner"),
            Some(here.clone())
        );
        assert_eq!(
            Owner::parse("pid=7"),
            None,
            "an incomplete label is never swept"
        );
        assert_eq!(
            Owner::parse(""),
            None,
            "nor an emptied one (the final image's)"
        );
        let owner = Owner {
            pid: 42,
            start_time: 900,
            ..here.clone()
        };
        assert!(owner.gone(&here, |_| Lookup::Absent));
        assert!(owner.gone(&here, |_| Lookup::Started(901)), "pid reused");
        assert!(
            !owner.gone(&here, |_| Lookup::Started(900)),
            "still running"
        );
        assert!(!owner.gone(&here, |_| Lookup::Unknown));
        for other in [
            Owner {
                place: Owner::place("b-1", "pid:[4026532000]", "runner"),
                ..owner.clone()
            },
            Owner {
                place: Owner::place("b-2", "pid:[4026531836]", "runner"),
                ..owner.clone()
            },
            Owner {
                place: Owner::place("b-1", "pid:[4026531836]", "other"),
                ..owner.clone()
            },
        ] {
            assert!(!other.gone(&here, |_| Lookup::Absent), "{other:?}");
        }
    }

    #[test]
    fn this_process_has_a_start_time() {
        let me = Owner::of_this_process().expect("Linux has /proc");
        assert_eq!(start_time(me.pid), Lookup::Started(me.start_time));
        assert_eq!(start_time(u32::MAX), Lookup::Absent);
    }

    #[test]
    fn docker_host_is_parsed_and_the_unsupported_refused_by_name() {
        let unix = |p: &str| Ok(Endpoint::Unix(p.into()));
        let tcp = |u: &str| Ok(Endpoint::Tcp(u.into()));
        assert_eq!(endpoint(""), unix("/var/run/docker.sock"));
        assert_eq!(
            endpoint("unix:///run/user/1000/docker.sock"),
            unix("/run/user/1000/docker.sock")
        );
        assert_eq!(endpoint("tcp://10.0.0.5:2375"), tcp("http://10.0.0.5:2375"));
        assert_eq!(
            endpoint("tcp://engine.local:2375/"),
            tcp("http://engine.local:2375")
        );
        assert_eq!(endpoint("tcp://engine"), tcp("http://engine:2375"));
        assert_eq!(endpoint("tcp://[::1]:2375"), tcp("http://[::1]:2375"));
        assert_eq!(endpoint("127.0.0.1:2375"), tcp("http://127.0.0.1:2375"));
        for (host, says) in [
            (
                "ssh://me@builder",
                "ssh:// connections to the engine are not supported",
            ),
            (
                "npipe:////./pipe/docker_engine",
                "npipe:// connections to the engine are not supported",
            ),
            ("fd://", "fd:// connections to the engine are not supported"),
            (
                "https://h:2376",
                "TLS connections to the engine are not supported",
            ),
            ("tcp://h:2375/path", "a path or query (`/path`)"),
            ("tcp://h:2375?x=1", "a path or query (`?x=1`)"),
            ("tcp://h:port", "`port` is not a port number"),
            ("tcp://", "is not an engine address"),
            ("not a host", "is not an engine address"),
            ("unix://", "needs an absolute socket path"),
            ("unix://relative.sock", "needs an absolute socket path"),
        ] {
            let e = endpoint(host).expect_err(host);
            assert!(e.contains(says), "{host}: {e}");
            assert!(e.starts_with(&format!("DOCKER_HOST={host}")), "{e}");
            if !host.starts_with("unix") {
                assert!(
                    e.contains("unix://") && e.contains("tcp://"),
                    "names what is supported: {e}"
                );
            }
        }
    }
}
