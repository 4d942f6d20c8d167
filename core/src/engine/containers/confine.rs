//! What a build container may do, and may never be given. Build commands come from the
//! repository (anybody's, in CI), so their containers get least privilege: a fixed set of
//! capabilities, no privilege gained through setuid binaries, a pids limit, the user's memory,
//! CPU and time limits; and never the engine's socket, which is root on the engine's machine.

use crate::engine::EngineError;
use bollard::models::HostConfig;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The capabilities build containers keep, each with what in a build needs it. They get these
/// and no others (every other is dropped first), so the set does not depend on the engine's
/// defaults.
pub const KEPT_CAPABILITIES: &[(&str, &str)] = &[
    ("CHOWN", "package managers and tar extraction set files' owners (npm, pip, apt), and --user's step gives /app to the user"),
    ("DAC_OVERRIDE", "root writes files it does not own: apt's and npm's directories, a package cache another build filled"),
    ("FOWNER", "setting modes and times on files another user owns: tar extraction, npm, pip"),
    ("FSETID", "keeping the setuid and setgid bits of files apt installs"),
    ("SETUID", "apt downloads as its _apt user, npm runs lifecycle scripts as the package's owner, su"),
    ("SETGID", "the same switch of groups"),
    ("KILL", "signalling processes of another user: npm, make and test runners stopping their children"),
];

/// The engine's default capabilities (Docker's) that build containers lose, each with why no
/// build needs it.
pub const DROPPED_CAPABILITIES: &[(&str, &str)] = &[
    ("NET_RAW", "raw sockets: ping, and forged packets to other containers on the bridge network (ARP, DNS spoofing); downloads use TCP"),
    ("MKNOD", "creating device nodes: no build makes devices"),
    ("AUDIT_WRITE", "writing to the kernel's audit log: login daemons (sshd) do, builds do not"),
    ("SYS_CHROOT", "chroot: no package manager uses it (debootstrap-style image builds do, and are not App Runner builds)"),
    ("SETPCAP", "changing the capability sets of processes: nothing in a build does"),
    ("NET_BIND_SERVICE", "listening on ports below 1024: build commands serve nothing"),
    ("SETFCAP", "giving files capabilities: a build could otherwise plant a binary with capabilities in the image (Debian's packages fall back to setuid)"),
];

/// The most processes (threads included) a build container may have at once. Package managers
/// and compilers use tens to a few hundred (npm's and pnpm's workers, `make -j`, node's threads:
/// about ten per process), so 4096 leaves them ample room, while a fork bomb in a build command
/// stops there instead of taking every pid of the machine the engine shares with other builds
/// (the kernel's default `pid_max` is 32768 on many machines).
pub const PIDS_LIMIT: i64 = 4096;

/// setuid and setgid binaries (su, sudo, a planted one) gain no privilege in a build container.
pub const NO_NEW_PRIVILEGES: &str = "no-new-privileges:true";

/// The network build containers join only when it is asked for by name: it shares the machine's
/// network, so build commands reach its services (a database on localhost, a cloud metadata
/// endpoint).
pub const HOST_NETWORK: &str = "host";

/// The user's limits for build containers and their commands (`--memory`, `--cpus`,
/// `--command-timeout`); none by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Limits {
    pub memory: Option<Memory>,
    pub cpus: Option<Cpus>,
    pub command_timeout: Option<CommandTimeout>,
}

/// `--memory SIZE`: a build container's memory, swap included (so that the limit fails a build
/// that needs more, instead of letting it crawl on swap).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Memory {
    pub bytes: i64,
    text: String,
}

/// The engine's smallest memory limit.
const MEMORY_MIN: i64 = 6 * 1024 * 1024;

impl Memory {
    /// Docker's spelling: a number, optionally with a fraction, and a binary unit `b`, `k`, `m`,
    /// `g` or `t` (any case, `kb`/`kib` too): `512m`, `1.5g`, `2147483648`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = || {
            format!("`--memory {text}` is not a size: write a number with a unit, e.g. 512m or 2g (b, k, m, g, t: powers of 1024)")
        };
        let lower = text.trim().to_ascii_lowercase();
        let digits_end = lower
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(lower.len());
        let (number, unit) = lower.split_at(digits_end);
        let unit = unit.trim_start();
        let unit = unit
            .strip_suffix("ib")
            .or_else(|| unit.strip_suffix('b'))
            .unwrap_or(unit);
        let shift = match unit {
            "" => 0,
            "k" => 10,
            "m" => 20,
            "g" => 30,
            "t" => 40,
            _ => return Err(bad()),
        };
        if number.is_empty() || number.starts_with('.') || number.matches('.').count() > 1 {
            return Err(bad());
        }
        let value: f64 = number.parse().map_err(|_| bad())?;
        let bytes = value * (1u64 << shift) as f64;
        if !bytes.is_finite() || bytes >= i64::MAX as f64 {
            return Err(format!("`--memory {text}` is larger than any machine has"));
        }
        let bytes = bytes as i64;
        if bytes < MEMORY_MIN {
            return Err(format!(
                "`--memory {text}` is below the engine's smallest limit, 6m"
            ));
        }
        Ok(Self {
            bytes,
            text: text.trim().to_string(),
        })
    }
}

impl fmt::Display for Memory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// `--cpus N`: how many CPUs' time a build container may use, as `docker run --cpus` (`1.5`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cpus {
    /// In billionths of a CPU, as the engine takes it.
    pub nano: i64,
    text: String,
}

impl Cpus {
    pub fn parse(text: &str) -> Result<Self, String> {
        let value: f64 = text.trim().parse().map_err(|_| {
            format!("`--cpus {text}` is not a number of CPUs: write e.g. --cpus 1 or --cpus 1.5")
        })?;
        if !value.is_finite() || value < 0.01 {
            return Err(format!("`--cpus {text}`: the smallest share is 0.01"));
        }
        if value > 1024.0 {
            return Err(format!("`--cpus {text}` is more CPUs than any machine has"));
        }
        Ok(Self {
            nano: (value * 1e9).round() as i64,
            text: text.trim().to_string(),
        })
    }
}

impl fmt::Display for Cpus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// `--command-timeout DURATION`: how long each build command may run (`90s`, `10m`, `1h30m`; a
/// bare number is seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandTimeout {
    pub limit: Duration,
    text: String,
}

impl CommandTimeout {
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = || {
            format!("`--command-timeout {text}` is not a duration: write e.g. 90s, 10m or 1h30m (s, m, h)")
        };
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(bad());
        }
        let mut total: u64 = 0;
        if trimmed.bytes().all(|b| b.is_ascii_digit()) {
            total = trimmed.parse().map_err(|_| bad())?;
        } else {
            let mut number = String::new();
            for c in trimmed.chars() {
                if c.is_ascii_digit() {
                    number.push(c);
                    continue;
                }
                let unit = match c {
                    's' => 1,
                    'm' => 60,
                    'h' => 3600,
                    _ => return Err(bad()),
                };
                let n: u64 = number.parse().map_err(|_| bad())?;
                total = n
                    .checked_mul(unit)
                    .and_then(|s| total.checked_add(s))
                    .ok_or_else(bad)?;
                number.clear();
            }
            if !number.is_empty() {
                return Err(bad());
            }
        }
        if total == 0 {
            return Err(format!(
                "`--command-timeout {text}` would stop every command at once: give a duration above 0"
            ));
        }
        Ok(Self {
            limit: Duration::from_secs(total),
            text: trimmed.to_string(),
        })
    }
}

impl fmt::Display for CommandTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A build container's host settings: the build's mounts, the network asked for, and the
/// confinement above.
pub(crate) fn host_config(
    binds: Option<Vec<String>>,
    network: Option<String>,
    limits: &Limits,
) -> HostConfig {
    let memory = limits.memory.as_ref().map(|m| m.bytes);
    HostConfig {
        binds,
        network_mode: network,
        cap_drop: Some(vec!["ALL".into()]),
        cap_add: Some(
            KEPT_CAPABILITIES
                .iter()
                .map(|(cap, _)| cap.to_string())
                .collect(),
        ),
        security_opt: Some(vec![NO_NEW_PRIVILEGES.into()]),
        pids_limit: Some(PIDS_LIMIT),
        memory,
        // Equal to the memory: no swap on top of it.
        memory_swap: memory,
        nano_cpus: limits.cpus.as_ref().map(|c| c.nano),
        ..Default::default()
    }
}

/// Where the engine listens on this machine: the socket the engine was found at (`DOCKER_HOST`,
/// a context, the rootless one), and the default sockets of Docker and Podman, as given and with
/// symlinks resolved.
pub fn engine_sockets() -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = vec![
        "/var/run/docker.sock".into(),
        "/run/docker.sock".into(),
        "/run/podman/podman.sock".into(),
    ];
    use crate::engine::session::discover::{self, Endpoint};
    if let Ok(Endpoint::Unix(path)) = discover::from_environment().map(|f| f.endpoint) {
        paths.push(path.into());
    }
    if let Some(dir) = std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        paths.push(PathBuf::from(dir).join("docker.sock"));
    }
    let resolved: Vec<PathBuf> = paths
        .iter()
        .filter_map(|p| std::fs::canonicalize(p).ok())
        .collect();
    paths.extend(resolved);
    paths.sort();
    paths.dedup();
    paths
}

/// Refuse a bind mount whose source is the engine's socket, or a directory that holds it (`/run`
/// would hand it over as well): whoever reaches the socket is root on the engine's machine.
/// The build's own mounts never are (the CA bundle must be a regular file, the package cache is
/// a named volume): this holds whatever a later option adds.
pub(crate) fn refuse_engine_socket(binds: &[String]) -> Result<(), EngineError> {
    let sockets = engine_sockets();
    for bind in binds {
        let source = bind.split(':').next().unwrap_or(bind);
        if !source.starts_with('/') {
            // A named volume.
            continue;
        }
        let source = Path::new(source);
        let real = std::fs::canonicalize(source).unwrap_or_else(|_| source.to_path_buf());
        if sockets
            .iter()
            .any(|socket| socket.starts_with(source) || socket.starts_with(&real))
        {
            return Err(EngineError::Unsupported(format!(
                "refusing to mount {} into a build container: it is, or holds, the engine's socket, and whoever reaches that is root on the engine's machine",
                source.display()
            )));
        }
    }
    Ok(())
}

/// Whether the out-of-memory killer struck in `container` since `since`: the container's state
/// says so when its own process was killed (and, on newer engines, for any of its processes);
/// Docker 20.10 marks only its own process, but reports an `oom` event for the container
/// whichever process was killed, so the events since the command started are asked too.
pub(crate) async fn out_of_memory(
    docker: &bollard::Docker,
    container: &str,
    since: std::time::SystemTime,
) -> bool {
    use futures_util::StreamExt;
    let inspect = docker
        .inspect_container(
            container,
            None::<bollard::query_parameters::InspectContainerOptions>,
        )
        .await;
    if inspect
        .ok()
        .and_then(|i| i.state)
        .and_then(|s| s.oom_killed)
        == Some(true)
    {
        return true;
    }
    let stamp = |t: std::time::SystemTime| {
        let d = t.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        format!("{}.{:09}", d.as_secs(), d.subsec_nanos())
    };
    // The engine's clock counts whole seconds in places: a second early; and a moment after now,
    // since the event can trail the command's end. Past `until` the stream ends.
    let from = since - Duration::from_secs(1);
    let until = std::time::SystemTime::now() + Duration::from_millis(300);
    let filters = std::collections::HashMap::from([
        ("container".to_string(), vec![container.to_string()]),
        ("type".to_string(), vec!["container".to_string()]),
        ("event".to_string(), vec!["oom".to_string()]),
    ]);
    let options = bollard::query_parameters::EventsOptions {
        since: Some(stamp(from)),
        until: Some(stamp(until)),
        filters: Some(filters),
    };
    let mut events = docker.events(Some(options));
    let first = tokio::time::timeout(Duration::from_secs(5), events.next()).await;
    matches!(first, Ok(Some(Ok(_))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_and_dropped_capabilities_are_dockers_default_set() {
        let mut all: Vec<&str> = KEPT_CAPABILITIES
            .iter()
            .chain(DROPPED_CAPABILITIES)
            .map(|(c, _)| *c)
            .collect();
        all.sort();
        let mut docker = vec![
            "AUDIT_WRITE",
            "CHOWN",
            "DAC_OVERRIDE",
            "FOWNER",
            "FSETID",
            "KILL",
            "MKNOD",
            "NET_BIND_SERVICE",
            "NET_RAW",
            "SETFCAP",
            "SETGID",
            "SETPCAP",
            "SETUID",
            "SYS_CHROOT",
        ];
        docker.sort();
        assert_eq!(all, docker);
    }

    #[test]
    fn sizes_cpus_and_durations_parse_as_docker_writes_them() {
        assert_eq!(Memory::parse("512m").unwrap().bytes, 512 << 20);
        assert_eq!(Memory::parse("2G").unwrap().bytes, 2 << 30);
        assert_eq!(Memory::parse("1.5g").unwrap().bytes, 3 << 29);
        assert_eq!(Memory::parse("64MiB").unwrap().bytes, 64 << 20);
        assert_eq!(Memory::parse("7340032").unwrap().bytes, 7 << 20);
        assert_eq!(Memory::parse("512m").unwrap().to_string(), "512m");
        assert!(Memory::parse("1m").unwrap_err().contains("smallest limit"));
        for bad in ["", "m", "12x", "1..2g", ".5g", "-1g"] {
            assert!(
                Memory::parse(bad).unwrap_err().contains("not a size"),
                "{bad}"
            );
        }
        assert_eq!(Cpus::parse("1.5").unwrap().nano, 1_500_000_000);
        assert_eq!(Cpus::parse("2").unwrap().nano, 2_000_000_000);
        assert!(Cpus::parse("0").unwrap_err().contains("0.01"));
        assert!(Cpus::parse("two").unwrap_err().contains("not a number"));
        let secs = |t: &str| CommandTimeout::parse(t).unwrap().limit.as_secs();
        assert_eq!(secs("90s"), 90);
        assert_eq!(secs("10m"), 600);
        assert_eq!(secs("1h30m"), 5400);
        assert_eq!(secs("45"), 45);
        assert_eq!(CommandTimeout::parse("10m").unwrap().to_string(), "10m");
        assert!(CommandTimeout::parse("0s").unwrap_err().contains("above 0"));
        for bad in ["", "m", "10x", "1.5m", "10m5"] {
            assert!(
                CommandTimeout::parse(bad)
                    .unwrap_err()
                    .contains("not a duration"),
                "{bad}"
            );
        }
    }

    #[test]
    fn build_containers_are_confined_and_take_the_limits() {
        let limits = Limits {
            memory: Some(Memory::parse("64m").unwrap()),
            cpus: Some(Cpus::parse("0.5").unwrap()),
            command_timeout: None,
        };
        let h = host_config(None, None, &limits);
        assert_eq!(h.cap_drop, Some(vec!["ALL".to_string()]));
        assert_eq!(
            h.cap_add.as_ref().map(Vec::len),
            Some(KEPT_CAPABILITIES.len())
        );
        assert_eq!(h.security_opt, Some(vec![NO_NEW_PRIVILEGES.to_string()]));
        assert_eq!(h.pids_limit, Some(PIDS_LIMIT));
        assert_eq!(h.memory, Some(64 << 20));
        assert_eq!(h.memory_swap, Some(64 << 20));
        assert_eq!(h.nano_cpus, Some(500_000_000));
        assert_eq!(h.network_mode, None);
        let h = host_config(None, None, &Limits::default());
        assert_eq!((h.memory, h.memory_swap, h.nano_cpus), (None, None, None));
    }

    #[test]
    fn the_engine_socket_and_directories_that_hold_it_are_never_mounted() {
        for bind in [
            "/var/run/docker.sock:/var/run/docker.sock",
            "/run/docker.sock:/x:ro",
            "/var/run:/host-run",
            "/run:/r",
            "/:/host",
        ] {
            let e = refuse_engine_socket(&[bind.to_string()]).unwrap_err();
            assert!(e.to_string().contains("engine's socket"), "{bind}: {e}");
        }
        refuse_engine_socket(&[
            "/etc/ssl/certs/ca-certificates.crt:/dev/apprunner-build-ca.crt:ro".into(),
            "apprunner-build-cache-0123:/dev/apprunner-build-cache".into(),
        ])
        .unwrap();
    }
}
