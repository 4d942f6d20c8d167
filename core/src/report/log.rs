//! The build log: App Runner's deployment-log format, live, to the terminal, a file, or JSON for CI.
//!
//! `11-25-2026 02:04:05 PM [AppRunner] Starting to build your application source code.` for the
//! engine's own lines; `[PreBuild]`, `[Build]`, `[PostBuild]`, `[PreRun]` for what user commands print.

use serde::Serialize;
use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// The prefix of the engine's own lines.
pub const APP_RUNNER: &str = "AppRunner";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// App Runner's deployment-log lines.
    #[default]
    Text,
    /// One JSON object per line: time, prefix, stream, text.
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    Stdout,
    Stderr,
}

#[derive(Serialize)]
struct JsonLine<'a> {
    time: String,
    prefix: &'a str,
    stream: Stream,
    text: &'a str,
}

struct Sinks {
    terminal: Option<Box<dyn Write + Send>>,
    file: Option<File>,
    /// Every line, kept when asked (tests, and the tail shown on failure).
    memory: Option<Vec<String>>,
}

/// A cloneable handle to the build log; lines are written whole, in order, from any task.
#[derive(Clone)]
pub struct BuildLog {
    format: LogFormat,
    sinks: Arc<Mutex<Sinks>>,
}

impl BuildLog {
    /// Log to standard output in `format`, and to `file` when given (same format).
    pub fn new(format: LogFormat, file: Option<&Path>) -> std::io::Result<Self> {
        let file = file.map(File::create).transpose()?;
        Ok(Self {
            format,
            sinks: Arc::new(Mutex::new(Sinks {
                terminal: Some(Box::new(std::io::stdout())),
                file,
                memory: None,
            })),
        })
    }

    /// A log that only records (for tests and embedding).
    pub fn in_memory(format: LogFormat) -> Self {
        Self {
            format,
            sinks: Arc::new(Mutex::new(Sinks {
                terminal: None,
                file: None,
                memory: Some(Vec::new()),
            })),
        }
    }

    /// Also echo to stderr (tests that want to see progress).
    pub fn echo_to_stderr(self) -> Self {
        self.lock().terminal = Some(Box::new(std::io::stderr()));
        self
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Sinks> {
        // A panic while holding the lock leaves whole lines behind; keep logging.
        self.sinks.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The lines recorded so far (in-memory logs only).
    pub fn lines(&self) -> Vec<String> {
        self.lock().memory.clone().unwrap_or_default()
    }

    pub fn line(&self, prefix: &str, stream: Stream, text: &str) {
        let now = chrono::Local::now();
        let rendered = match self.format {
            LogFormat::Text => format!("{} [{prefix}] {text}", now.format("%m-%d-%Y %I:%M:%S %p")),
            LogFormat::Json => serde_json::to_string(&JsonLine {
                time: now.to_rfc3339_opts(chrono::SecondsFormat::Millis, false),
                prefix,
                stream,
                text,
            })
            .expect("a log line serializes"),
        };
        let mut sinks = self.lock();
        if let Some(t) = sinks.terminal.as_mut() {
            let _ = writeln!(t, "{rendered}");
            let _ = t.flush();
        }
        if let Some(f) = sinks.file.as_mut() {
            let _ = writeln!(f, "{rendered}");
        }
        if let Some(m) = sinks.memory.as_mut() {
            m.push(rendered);
        }
    }

    /// An `[AppRunner]` line: the tool's own words.
    pub fn app_runner(&self, text: impl AsRef<str>) {
        self.line(APP_RUNNER, Stream::Stdout, text.as_ref());
    }
}

/// Splits a byte stream into lines; chunks from the engine are not line-aligned.
#[derive(Default)]
pub struct LineSplitter {
    pending: Vec<u8>,
}

impl LineSplitter {
    /// Feed a chunk; returns the complete lines it finished (without `\n`, `\r` trimmed).
    pub fn push(&mut self, chunk: &[u8]) -> Vec<String> {
        self.pending.extend_from_slice(chunk);
        let mut lines = Vec::new();
        while let Some(i) = self.pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.pending.drain(..=i).collect();
            lines.push(clean(&line[..line.len() - 1]));
        }
        lines
    }

    /// What is left after the stream ends.
    pub fn finish(&mut self) -> Option<String> {
        if self.pending.is_empty() {
            return None;
        }
        let rest = std::mem::take(&mut self.pending);
        Some(clean(&rest))
    }
}

fn clean(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    // Progress bars redraw with \r; keep what the last redraw shows.
    let text = text.trim_end_matches('\r');
    text.rsplit('\r').next().unwrap_or("").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_across_chunks() {
        let mut s = LineSplitter::default();
        assert_eq!(s.push(b"hel"), Vec::<String>::new());
        assert_eq!(s.push(b"lo\nwor"), vec!["hello"]);
        assert_eq!(s.push(b"ld\r\n50%\r100%\n"), vec!["world", "100%"]);
        assert_eq!(s.push(b"tail"), Vec::<String>::new());
        assert_eq!(s.finish().as_deref(), Some("tail"));
        assert_eq!(s.finish(), None);
    }

    #[test]
    fn text_lines_look_like_app_runner_deployment_logs() {
        let log = BuildLog::in_memory(LogFormat::Text);
        log.app_runner("Starting to build your application source code.");
        log.line("Build", Stream::Stderr, "Collecting pyramid==2.0");
        let lines = log.lines();
        let shape = |l: &str| {
            // 11-25-2026 02:04:05 PM [AppRunner] ...
            let b = l.as_bytes();
            b[2] == b'-'
                && b[5] == b'-'
                && b[10] == b' '
                && b[13] == b':'
                && b[16] == b':'
                && (&l[20..22] == "AM" || &l[20..22] == "PM")
        };
        assert!(
            shape(&lines[0])
                && lines[0]
                    .ends_with(" [AppRunner] Starting to build your application source code."),
            "{}",
            lines[0]
        );
        assert!(
            lines[1].ends_with(" [Build] Collecting pyramid==2.0"),
            "{}",
            lines[1]
        );
    }

    #[test]
    fn json_lines_carry_time_prefix_stream_and_text() {
        let log = BuildLog::in_memory(LogFormat::Json);
        log.line("PostBuild", Stream::Stderr, "tests \"passed\"");
        let v: serde_json::Value = serde_json::from_str(&log.lines()[0]).unwrap();
        assert_eq!(v["prefix"], "PostBuild");
        assert_eq!(v["stream"], "stderr");
        assert_eq!(v["text"], "tests \"passed\"");
        assert!(v["time"].as_str().unwrap().contains('T'));
    }
}
