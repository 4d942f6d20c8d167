//! For the tests of confinement: a quick app, the plan as `--user` makes it, and the containers a
//! test's builds and runs start, inspected as they start.

use super::engine::test_catalog;
use super::project::{today, write_app};
use apprunner_build::plan::user::RunAs;
use apprunner_build::plan::BuildPlan;
use apprunner_build::project::{self, ProjectArgs};
use apprunner_build::resolve::catalog::Catalog;
use bollard::Docker;
use futures_util::StreamExt;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// A Python app with no dependencies that answers "ok" on $PORT: quick to build.
pub fn tiny_app(build: &str) -> tempfile::TempDir {
    write_app(&[
        (
            "apprunner.yaml",
            &format!(
                "version: 1.0\nruntime: python311\nbuild:\n  commands:\n    build:\n      - {build}\nrun:\n  pre-run:\n    - {build}\n  command: python3 server.py\n"
            ),
        ),
        (
            "server.py",
            "import http.server, os\nclass H(http.server.BaseHTTPRequestHandler):\n    def do_GET(self):\n        self.send_response(200); self.end_headers(); self.wfile.write(b'ok\\n')\nhttp.server.HTTPServer(('0.0.0.0', int(os.environ['PORT'])), H).serve_forever()\n",
        ),
    ])
}

/// The plan for `dir` with the test catalog, as `plan --user USER` makes it.
pub fn plan_as(dir: &Path, user: Option<RunAs>) -> BuildPlan {
    let catalog = Catalog::load(&[test_catalog()]).unwrap();
    let loaded = project::load(
        &ProjectArgs {
            dir: dir.to_path_buf(),
            dependency_layers: true,
            user,
            ..Default::default()
        },
        &catalog,
        today(),
    );
    let report = apprunner_build::report::errors::render_all(&loaded.diagnostics);
    loaded.plan.unwrap_or_else(|| panic!("valid:\n{report}"))
}

/// What the engine says of each container this test process's builds and runs start, inspected
/// as it starts: their host settings and mounts.
#[derive(Clone, Default)]
pub struct Seen(Arc<Mutex<Vec<bollard::models::ContainerInspectResponse>>>);

impl Seen {
    /// Watch the engine's `start` events for containers labelled as this process's.
    pub fn watch(docker: &Docker) -> (Self, tokio::task::JoinHandle<()>) {
        let seen = Seen::default();
        let docker = docker.clone();
        let into = seen.clone();
        let mine = format!("pid={} ", std::process::id());
        let task = tokio::spawn(async move {
            let filters = HashMap::from([
                ("type".to_string(), vec!["container".to_string()]),
                ("event".to_string(), vec!["start".to_string()]),
            ]);
            let options = bollard::query_parameters::EventsOptions {
                filters: Some(filters),
                ..Default::default()
            };
            let mut events = docker.events(Some(options));
            while let Some(Ok(event)) = events.next().await {
                let Some(actor) = event.actor else { continue };
                let owner = actor
                    .attributes
                    .as_ref()
                    .and_then(|a| a.get("apprunner-build.owner"))
                    .cloned()
                    .unwrap_or_default();
                if !owner.starts_with(&mine) {
                    continue;
                }
                let Some(id) = actor.id else { continue };
                if let Ok(inspect) = docker
                    .inspect_container(
                        &id,
                        None::<bollard::query_parameters::InspectContainerOptions>,
                    )
                    .await
                {
                    into.0.lock().unwrap().push(inspect);
                }
            }
        });
        (seen, task)
    }

    pub fn all(&self) -> Vec<bollard::models::ContainerInspectResponse> {
        self.0.lock().unwrap().clone()
    }
}

pub fn is_run_container(c: &bollard::models::ContainerInspectResponse) -> bool {
    c.name.as_deref().is_some_and(|n| n.contains("-app-"))
}

/// Every mount source and target, and every bind, of a container.
pub fn mount_paths(c: &bollard::models::ContainerInspectResponse) -> Vec<String> {
    let mut paths: Vec<String> = c
        .mounts
        .iter()
        .flatten()
        .flat_map(|m| [m.source.clone(), m.destination.clone()])
        .flatten()
        .collect();
    paths.extend(
        c.host_config
            .as_ref()
            .and_then(|h| h.binds.clone())
            .unwrap_or_default(),
    );
    paths
}
