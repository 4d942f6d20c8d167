//! The application's output: followed into the log (secret values masked), its last lines kept
//! for a failure message; and where the started service answers.

use crate::engine::containers::exec::OutputLines;
use crate::engine::run::error::Tail;
use crate::report::log::{BuildLog, Stream};
use bollard::query_parameters::LogsOptionsBuilder;
use bollard::Docker;
use futures_util::StreamExt;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The log prefix of the application's own output.
pub const APPLICATION: &str = "Application";

/// How many of the application's last lines a failure shows.
const TAIL: usize = 20;

/// Recent lines of the application's output, with secret values masked (by the log's masker).
#[derive(Clone)]
pub(super) struct Output {
    pub(super) tail: Arc<Mutex<VecDeque<String>>>,
    pub(super) masker: BuildLog,
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

/// The application's output, followed in the background.
pub struct OutputHandle {
    pub(super) output: Output,
    pub(super) follow: tokio::task::JoinHandle<()>,
}

impl OutputHandle {
    pub fn tail(&self) -> Vec<String> {
        self.output.tail()
    }

    /// The last lines, once the follower has shown everything (or, after a short wait, the
    /// engine's last lines, not all of which were streamed).
    pub(super) async fn settled_tail(&self, docker: &Docker, id: &str) -> Tail {
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

pub(super) async fn follow_output(docker: Docker, id: String, output: Output, log: BuildLog) {
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
