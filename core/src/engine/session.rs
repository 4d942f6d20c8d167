//! An engine session: the connection, everything the session creates, and the signals that end it.
//! Whatever happens — success, failure, SIGINT, SIGTERM — the session removes its containers.

use super::docker::{connect, Cleanup};
use super::{build, BuildOptions, BuiltImage, EngineError};
use crate::plan::BuildPlan;
use crate::report::log::BuildLog;
use bollard::Docker;
use std::future::Future;

pub struct Session {
    docker: Docker,
    cleanup: Cleanup,
}

impl Session {
    /// Connect to the engine `DOCKER_HOST` names, or the local socket.
    pub async fn connect() -> Result<Self, EngineError> {
        Ok(Self {
            docker: connect().await?,
            cleanup: Cleanup::default(),
        })
    }

    /// A session on a connection made elsewhere.
    pub fn with_docker(docker: Docker) -> Self {
        Self {
            docker,
            cleanup: Cleanup::default(),
        }
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
        tokio::select! {
            done = work => Ok(done),
            _ = interrupted() => {
                log.app_runner(format!(
                    "Interrupted: removing {what} (press Ctrl-C again to quit at once)."
                ));
                tokio::spawn(async {
                    interrupted().await;
                    std::process::exit(i32::from(crate::report::exit::INTERRUPTED));
                });
                let removed = self.close().await;
                log.app_runner(format!("Removed {removed} container(s)."));
                Err(EngineError::Interrupted)
            }
        }
    }

    /// Remove every container (and unkept image) the session made; returns how many containers.
    pub async fn close(&self) -> usize {
        self.cleanup.run(&self.docker).await
    }
}

/// SIGINT (Ctrl-C) or SIGTERM.
async fn interrupted() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler installs");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}
