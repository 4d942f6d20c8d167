//! An engine session: the connection, everything the session creates, and the signals that end it.
//! Whatever happens — success, failure, SIGINT, SIGTERM — the session removes its containers.

pub(crate) mod cleanup;
pub(crate) mod discover;
pub(crate) mod docker;
pub(crate) mod docker_config;
pub(crate) mod owner;
mod transport;

use crate::engine::walk::{self as build, BuildOptions, BuiltImage};
use crate::engine::EngineError;
use crate::plan::BuildPlan;
use crate::report::log::BuildLog;
use bollard::Docker;
use cleanup::Cleanup;
use docker::connect;
pub use docker::EngineFound;
use std::future::Future;
use std::sync::OnceLock;
use tokio::sync::watch;

pub struct Session {
    docker: Docker,
    /// Which engine, and how it was found; empty for a connection made elsewhere.
    engine: EngineFound,
    cleanup: Cleanup,
    /// Whether SIGINT or SIGTERM has come, from the first interruptible step on: a signal that
    /// arrives between two steps is kept for the next one, never lost.
    signals: OnceLock<watch::Receiver<bool>>,
}

impl Session {
    /// Connect to the engine the docker CLI would use: `DOCKER_HOST`, `DOCKER_CONTEXT`, the
    /// current context, the default socket (or the rootless one).
    pub async fn connect() -> Result<Self, EngineError> {
        let (docker, engine) = connect().await?;
        Ok(Self {
            engine,
            ..Self::with_docker(docker)
        })
    }

    /// A session on a connection made elsewhere.
    pub fn with_docker(docker: Docker) -> Self {
        Self {
            docker,
            engine: EngineFound::default(),
            cleanup: Cleanup::default(),
            signals: OnceLock::new(),
        }
    }

    /// The engine, for the log's first line.
    pub fn engine(&self) -> &EngineFound {
        &self.engine
    }

    pub fn docker(&self) -> &Docker {
        &self.docker
    }

    pub(crate) fn cleanup(&self) -> &Cleanup {
        &self.cleanup
    }

    /// The containers this session made that are not removed yet.
    pub fn containers(&self) -> Vec<String> {
        self.cleanup.containers()
    }

    /// Every container this session made, removed or not.
    pub fn created_containers(&self) -> Vec<String> {
        self.cleanup.created()
    }

    /// Build `plan`; its containers are gone when this returns, whatever happened.
    pub async fn build(
        &self,
        plan: &BuildPlan,
        opts: &BuildOptions,
        log: &BuildLog,
    ) -> Result<BuiltImage, EngineError> {
        let work = build::build(&self.docker, plan, opts, log, &self.cleanup);
        let outcome = self.interruptible(log, "build containers", work).await;
        self.close().await;
        outcome.and_then(|built| built)
    }

    /// `work`, unless SIGINT or SIGTERM comes first: then remove what the session made (a second
    /// signal quits at once) and return [`EngineError::Interrupted`].
    pub async fn interruptible<T>(
        &self,
        log: &BuildLog,
        what: &str,
        work: impl Future<Output = T>,
    ) -> Result<T, EngineError> {
        let mut signalled = self.signals();
        tokio::select! {
            done = work => Ok(done),
            _ = signalled.wait_for(|s| *s) => {
                log.app_runner(format!(
                    "Interrupted: removing {what} (press Ctrl-C again to quit at once)."
                ));
                let removed = self.close().await;
                log.app_runner(format!("Removed {removed} container(s)."));
                Err(EngineError::Interrupted)
            }
        }
    }

    /// The session's signal watch, listening from its first use: the handlers are installed here,
    /// synchronously, so that no signal slips between installing and waiting. The first signal
    /// is recorded; a second quits at once.
    fn signals(&self) -> watch::Receiver<bool> {
        self.signals
            .get_or_init(|| {
                let (tx, rx) = watch::channel(false);
                let mut signals = Signals::install();
                tokio::spawn(async move {
                    signals.next().await;
                    let _ = tx.send(true);
                    signals.next().await;
                    std::process::exit(i32::from(crate::report::exit::INTERRUPTED));
                });
                rx
            })
            .clone()
    }

    /// Remove every container (and unkept image) the session made; returns how many containers.
    pub async fn close(&self) -> usize {
        self.cleanup.run(&self.docker).await
    }
}

/// SIGINT (Ctrl-C) and SIGTERM, caught from the moment they are installed.
struct Signals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    fn install() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Self {
                interrupt: signal(SignalKind::interrupt()).expect("SIGINT handler installs"),
                terminate: signal(SignalKind::terminate()).expect("SIGTERM handler installs"),
            }
        }
        #[cfg(not(unix))]
        Self {}
    }

    /// The next SIGINT or SIGTERM.
    async fn next(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}
