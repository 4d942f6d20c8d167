//! The engine under test: where it listens, a connection to it, builds on it through the CLI, and
//! what its images hold.

use crate::support::*;
use bollard::query_parameters::RemoveImageOptionsBuilder;
use bollard::Docker;
use std::path::Path;
use std::process::Output;
use tokio::sync::RwLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// The machine's engine (bookworm's Docker 20.10), on `DOCKER_HOST` or the default socket.
    Docker20,
    /// Docker 26, images in overlay2.
    Classic,
    /// Docker 26 with the containerd image store.
    Containerd,
}

/// Held (shared) by every build on Docker 26 classic, and alone by the test that restarts it.
pub static CLASSIC: RwLock<()> = RwLock::const_new(());

pub struct Engine {
    pub which: Which,
    /// Its `DOCKER_HOST`.
    pub host: String,
    pub docker: Docker,
}

impl Which {
    pub fn label(self) -> &'static str {
        match self {
            Which::Docker20 => "docker20",
            Which::Classic => "docker26-classic",
            Which::Containerd => "docker26-containerd",
        }
    }

    fn variable(self) -> Option<&'static str> {
        match self {
            Which::Docker20 => None,
            Which::Classic => Some("APPRUNNER_TEST_ENGINE26_CLASSIC"),
            Which::Containerd => Some("APPRUNNER_TEST_ENGINE26_CONTAINERD"),
        }
    }
}

/// A connection to the engine at `host` (unix://PATH).
pub async fn connect(host: &str) -> Docker {
    let path = host
        .strip_prefix("unix://")
        .unwrap_or_else(|| panic!("{host}: a unix:// engine address"));
    Docker::connect_with_unix(path, 600, bollard::API_DEFAULT_VERSION)
        .unwrap()
        .negotiate_version()
        .await
        .unwrap_or_else(|e| panic!("the engine at {host} answers: {e}"))
}

/// The engine `which`, checked to be what it is named (its version, its image store). `None`, with
/// the reason printed, when scripts/test.sh did not start it; where `CI` is set, that fails the
/// test instead: CI must run every engine's tests, not pass by skipping them.
pub async fn engine(which: Which) -> Option<Engine> {
    let host = match which.variable() {
        None => std::env::var("DOCKER_HOST")
            .ok()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "unix:///var/run/docker.sock".into()),
        Some(var) => match std::env::var(var).ok().filter(|h| !h.is_empty()) {
            Some(host) => host,
            None => {
                let why = format!(
                    "{var} is unset: the {} engine did not start (scripts/test.sh starts it with scripts/start-engine26.sh and prints why it could not)",
                    which.label()
                );
                if std::env::var("CI").is_ok_and(|v| !["", "0", "false"].contains(&v.as_str())) {
                    panic!("{why}; CI runs every engine's tests");
                }
                eprintln!("skipped: {why}");
                return None;
            }
        },
    };
    let docker = connect(&host).await;
    let info = docker.info().await.unwrap();
    let version = info.server_version.clone().unwrap_or_default();
    let driver = info.driver.clone().unwrap_or_default();
    let containerd_store = info
        .driver_status
        .unwrap_or_default()
        .iter()
        .any(|kv| kv.iter().any(|v| v.contains("io.containerd.snapshotter")));
    match which {
        Which::Docker20 => assert!(version.starts_with("20.10"), "{host}: {version}"),
        Which::Classic => assert!(
            version.starts_with("26.") && driver == "overlay2" && !containerd_store,
            "{host}: {version}, {driver}"
        ),
        Which::Containerd => assert!(
            version.starts_with("26.") && containerd_store,
            "{host}: {version}, {driver}"
        ),
    }
    Some(Engine {
        which,
        host,
        docker,
    })
}

/// Removes the images (by name) from the engine at `host` when dropped, even when a test panics.
#[must_use = "the images are removed when the guard is dropped"]
pub struct Images {
    host: String,
    names: Vec<String>,
}

impl Images {
    pub fn new(engine: &Engine) -> Self {
        Self {
            host: engine.host.clone(),
            names: Vec::new(),
        }
    }

    /// A name for the image, removed with the others.
    pub fn name(&mut self, name: String) -> String {
        self.names.push(name.clone());
        name
    }
}

impl Drop for Images {
    fn drop(&mut self) {
        let (host, names) = (self.host.clone(), std::mem::take(&mut self.names));
        // A runtime of its own: a Drop may run inside a test's runtime, or while it unwinds.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let docker = connect(&host).await;
                for name in names {
                    let _ = docker
                        .remove_image(
                            &name,
                            Some(RemoveImageOptionsBuilder::new().force(true).build()),
                            None,
                        )
                        .await;
                }
            });
        })
        .join();
    }
}

/// `apprunner-build build --no-cache -t TAG DIR` on the engine, with the test's CA bundle (the
/// TLS-intercepting proxy); on Docker 26 with `--network host`, since its containers have no NAT
/// to reach the package registries. Its output.
pub async fn build_on(engine: &Engine, dir: &Path, tag: &str) -> Output {
    let mut command = cli();
    command
        .env("DOCKER_HOST", &engine.host)
        .args(["build", "--no-cache", "-t", tag])
        .args(["--ca-bundle", "/etc/ssl/certs/ca-certificates.crt"]);
    if engine.which != Which::Docker20 {
        command.args(["--network", "host"]);
    }
    command.arg(dir);
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

/// Both streams of a command's output, for messages.
pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The image's `/app`: every path with its type, mode, owner, size and link target, then every
/// regular file's sha256. Compiled bytecode (`.pyc`) is hashed without its 16-byte header: the
/// header records the source file's modification time, which is when pip installed it.
pub async fn app_tree(docker: &Docker, image: &str) -> String {
    output_of(
        docker,
        image,
        "cd /app && find . -printf '%y %m %u:%g %s %p %l\\n' | LC_ALL=C sort \
         && find . -type f ! -name '*.pyc' -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum \
         && find . -type f -name '*.pyc' | LC_ALL=C sort | while IFS= read -r f; do \
         printf '%s  %s (after its header)\\n' \"$(tail -c +17 \"$f\" | sha256sum | cut -d' ' -f1)\" \"$f\"; done",
    )
    .await
}

/// The lines of `a` that `b` lacks and those of `b` that `a` lacks (the first 40 of each).
pub fn difference(a: &str, b: &str) -> String {
    let (la, lb): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    let only_a: Vec<&&str> = la.iter().filter(|l| !lb.contains(l)).take(40).collect();
    let only_b: Vec<&&str> = lb.iter().filter(|l| !la.contains(l)).take(40).collect();
    format!("only in the first:\n{only_a:#?}\nonly in the second:\n{only_b:#?}")
}
