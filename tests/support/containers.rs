//! Containers and images a test starts or makes, removed even when the test panics; what a
//! container prints and answers.

use super::http;
use apprunner_build::engine::Session;
use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{
    LogsOptionsBuilder, RemoveContainerOptionsBuilder, RemoveImageOptionsBuilder,
};
use bollard::Docker;
use futures_util::StreamExt;

/// A container of `image`, removed by `stop` or, failing that (a test that panicked), when dropped.
pub struct Running {
    pub id: String,
    pub ip: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        let id = std::mem::take(&mut self.id);
        on_a_fresh_runtime(|docker| async move {
            let _ = docker
                .remove_container(
                    &id,
                    Some(RemoveContainerOptionsBuilder::new().force(true).build()),
                )
                .await;
        });
    }
}

/// Removes the image (a `NAME[:TAG]` or an id) when dropped, so that a test that panics leaves no
/// image behind. Made before the image exists; removing an image that was never made does nothing.
#[must_use = "the image is removed when the guard is dropped"]
pub struct ImageGuard(String);

impl ImageGuard {
    pub fn new(image: impl ToString) -> Self {
        Self(image.to_string())
    }
}

impl Drop for ImageGuard {
    fn drop(&mut self) {
        let image = std::mem::take(&mut self.0);
        on_a_fresh_runtime(|docker| async move {
            let _ = docker
                .remove_image(
                    &image,
                    Some(RemoveImageOptionsBuilder::new().force(true).build()),
                    None,
                )
                .await;
        });
    }
}

/// Run `work` with an engine connection on a thread of its own with its own tokio runtime (a `Drop`
/// may run inside a test's runtime, or while it unwinds), and wait for it; every error is ignored.
fn on_a_fresh_runtime<F, Fut>(work: F)
where
    F: FnOnce(Docker) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()>,
{
    let _ = std::thread::spawn(move || {
        let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        runtime.block_on(async move {
            if let Ok(session) = Session::connect().await {
                work(session.docker().clone()).await;
            }
        });
    })
    .join();
}

pub async fn start(docker: &Docker, image: &str, env: &[&str], cmd: Option<&str>) -> Running {
    let body = ContainerCreateBody {
        image: Some(image.to_string()),
        env: Some(env.iter().map(|s| s.to_string()).collect()),
        cmd: cmd.map(|c| vec!["/bin/sh".to_string(), "-c".to_string(), c.to_string()]),
        host_config: Some(HostConfig::default()),
        ..Default::default()
    };
    let id = docker.create_container(None, body).await.unwrap().id;
    docker
        .start_container(
            &id,
            None::<bollard::query_parameters::StartContainerOptions>,
        )
        .await
        .unwrap();
    let inspect = docker
        .inspect_container(
            &id,
            None::<bollard::query_parameters::InspectContainerOptions>,
        )
        .await
        .unwrap();
    let ip = inspect
        .network_settings
        .and_then(|n| n.networks)
        .and_then(|n| n.get("bridge").cloned())
        .and_then(|e| e.ip_address)
        .unwrap_or_default();
    Running { id, ip }
}

pub async fn stop(docker: &Docker, c: &Running) {
    let _ = docker
        .remove_container(
            &c.id,
            Some(RemoveContainerOptionsBuilder::new().force(true).build()),
        )
        .await;
}

/// Start `image`, GET / on `port` until it answers, stop it: what the service says.
pub async fn answer(docker: &Docker, image: &str, env: &[&str], port: u16) -> String {
    let c = start(docker, image, env, None).await;
    let body = http_get(&c, port).await;
    stop(docker, &c).await;
    body
}

/// GET / on the container's `port` until it answers ([`http::get_at`]).
pub async fn http_get(c: &Running, port: u16) -> String {
    let addr = format!("{}:{port}", c.ip);
    tokio::task::spawn_blocking(move || http::get_at(&addr))
        .await
        .unwrap()
}

/// Run `cmd` in a fresh container of `image` and return what it printed (stdout and stderr).
pub async fn output_of(docker: &Docker, image: &str, cmd: &str) -> String {
    let c = start(docker, image, &[], Some(cmd)).await;
    let mut wait = docker.wait_container(
        &c.id,
        None::<bollard::query_parameters::WaitContainerOptions>,
    );
    while let Some(_status) = wait.next().await {}
    let mut logs = docker.logs(
        &c.id,
        Some(LogsOptionsBuilder::new().stdout(true).stderr(true).build()),
    );
    let mut out = String::new();
    while let Some(Ok(chunk)) = logs.next().await {
        out.push_str(&chunk.to_string());
    }
    stop(docker, &c).await;
    out
}
