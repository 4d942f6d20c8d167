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
    /// What the command produced (the image, the service's URL), for CI to read without parsing
    /// the text.
    #[serde(skip_serializing_if = "Option::is_none")]
    result: Option<&'a serde_json::Map<String, serde_json::Value>>,
}

struct Sinks {
    terminal: Option<Box<dyn Write + Send>>,
    file: Option<File>,
    /// Every line, kept when asked (tests, and the tail shown on failure).
    memory: Option<Vec<String>>,
    /// Secret values hidden in every line, whatever writes it.
    masker: Masker,
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
                masker: Masker::default(),
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
                masker: Masker::default(),
            })),
        }
    }

    /// Nothing to the terminal (`build --quiet`): only the log file, if any, gets the lines.
    pub fn without_terminal(self) -> Self {
        self.lock().terminal = None;
        self
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

    /// Log `text` under `prefix`. Control characters never reach a sink raw: the file, JSON and
    /// memory get them as visible escapes (`\x1b`), the terminal keeps plain SGR colours only; a
    /// newline in `text` starts another line with the same prefix, so no line can pass for another.
    /// Hide these values (each line of each) as `********` in every line logged from now on: the
    /// application's output, the engine's error text, the tool's own lines.
    pub fn mask_secrets<'a>(&self, values: impl IntoIterator<Item = &'a str>) {
        let mut sinks = self.lock();
        for value in values {
            sinks.masker.add(value);
        }
    }

    /// `text` with the secret values masked, as a line would be logged.
    pub fn mask(&self, text: &str) -> String {
        self.lock().masker.mask(text)
    }

    pub fn line(&self, prefix: &str, stream: Stream, text: &str) {
        // Masked before the text is split or escaped, so a secret spanning lines is still found.
        let text = self.mask(text);
        for text in text.split('\n') {
            self.one_line(prefix, stream, text, None);
        }
    }

    /// The format lines are written in.
    pub fn format(&self) -> LogFormat {
        self.format
    }

    /// An `[AppRunner]` line that carries a result: in JSON, `fields` as the line's `result` object.
    pub fn app_runner_result(&self, text: &str, fields: &[(&str, &str)]) {
        let text = self.mask(text);
        let masked: Vec<(&str, String)> = fields.iter().map(|(k, v)| (*k, self.mask(v))).collect();
        let fields: Vec<(&str, &str)> = masked.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let result = result_map(&fields);
        self.one_line(APP_RUNNER, Stream::Stdout, &text, Some(&result));
    }

    /// The command's result for scripts: in text, `text` alone on a line of standard output (not in
    /// the log file); in JSON, an `[AppRunner]` line with `fields` as its `result`, everywhere.
    pub fn result(&self, text: &str, fields: &[(&str, &str)]) {
        match self.format {
            LogFormat::Text => {
                let text = neutralise(&self.mask(text), false);
                let mut sinks = self.lock();
                if let Some(t) = sinks.terminal.as_mut() {
                    let _ = writeln!(t, "{text}");
                    let _ = t.flush();
                }
                if let Some(m) = sinks.memory.as_mut() {
                    m.push(text);
                }
            }
            LogFormat::Json => self.app_runner_result(text, fields),
        }
    }

    fn one_line(
        &self,
        prefix: &str,
        stream: Stream,
        text: &str,
        result: Option<&serde_json::Map<String, serde_json::Value>>,
    ) {
        let now = chrono::Local::now();
        let prefix = neutralise(prefix, false);
        let render = |text: &str| match self.format {
            LogFormat::Text => format!("{} [{prefix}] {text}", now.format("%m-%d-%Y %I:%M:%S %p")),
            LogFormat::Json => serde_json::to_string(&JsonLine {
                time: now.to_rfc3339_opts(chrono::SecondsFormat::Millis, false),
                prefix: &prefix,
                stream,
                text,
                result,
            })
            .expect("a log line serializes"),
        };
        let plain = render(&neutralise(text, false));
        let mut sinks = self.lock();
        if let Some(t) = sinks.terminal.as_mut() {
            let coloured;
            let shown = match self.format {
                LogFormat::Text => {
                    coloured = render(&neutralise(text, true));
                    &coloured
                }
                LogFormat::Json => &plain,
            };
            let _ = writeln!(t, "{shown}");
            let _ = t.flush();
        }
        if let Some(f) = sinks.file.as_mut() {
            let _ = writeln!(f, "{plain}");
        }
        if let Some(m) = sinks.memory.as_mut() {
            m.push(plain);
        }
    }

    /// An `[AppRunner]` line: the tool's own words.
    pub fn app_runner(&self, text: impl AsRef<str>) {
        self.line(APP_RUNNER, Stream::Stdout, text.as_ref());
    }
}

fn result_map(fields: &[(&str, &str)]) -> serde_json::Map<String, serde_json::Value> {
    fields
        .iter()
        .map(|(k, v)| (k.to_string(), serde_json::Value::String(v.to_string())))
        .collect()
}

/// One diagnostic as a JSON object on one line, for `--log-format json`: severity, code, message,
/// location (path, and line and column when known), notes, help.
pub fn diagnostic_json(d: &crate::report::diagnostic::Diagnostic) -> String {
    diagnostic_value(d).to_string()
}

/// A diagnostic as a JSON object: severity, code, message, location (path, line, column), notes,
/// help.
pub fn diagnostic_value(d: &crate::report::diagnostic::Diagnostic) -> serde_json::Value {
    let location = d.location.as_ref().map(|l| {
        serde_json::json!({
            "path": l.path.display().to_string(),
            "line": l.position.map(|p| p.line),
            "column": l.position.map(|p| p.column),
        })
    });
    serde_json::json!({
        "severity": d.severity,
        "code": d.code.to_string(),
        "message": d.message,
        "location": location,
        "notes": d.notes,
        "help": d.help,
    })
}

/// The most of one command a log line shows: a plan may hold a command of any length (a saved
/// plan is anybody's), and the log is read by people.
pub const COMMAND_SHOWN: usize = 2000;

/// `text` as a log line shows it: whole, or its first [`COMMAND_SHOWN`] bytes and how much more
/// there is.
pub fn clipped(text: &str) -> std::borrow::Cow<'_, str> {
    if text.len() <= COMMAND_SHOWN {
        return text.into();
    }
    let mut end = COMMAND_SHOWN;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} more bytes)", &text[..end], text.len() - end).into()
}

/// What secret values are replaced with.
pub const MASK: &str = "********";

/// Finds secret values in text and hides them. Every line of a multi-line value (a PEM key) is a
/// value of its own, so a key printed whole is masked line by line; where values overlap or one
/// contains another, everything any of them covers is masked (the longest value wins). It only
/// finds values printed as they are: encoded (base64, hex, URL-encoded), split across writes or
/// lines in other places, or transformed in any way, they are not recognised.
#[derive(Debug, Clone, Default)]
pub struct Masker {
    /// Longest first.
    values: Vec<String>,
}

impl Masker {
    pub fn new<'a>(values: impl IntoIterator<Item = &'a str>) -> Self {
        let mut m = Self::default();
        for v in values {
            m.add(v);
        }
        m
    }

    pub fn add(&mut self, value: &str) {
        for piece in value.lines().map(str::trim) {
            if !piece.is_empty() && !self.values.iter().any(|v| v == piece) {
                self.values.push(piece.to_string());
            }
        }
        self.values.sort_by_key(|v| std::cmp::Reverse(v.len()));
    }

    pub fn mask(&self, text: &str) -> String {
        if self.values.is_empty() {
            return text.to_string();
        }
        // Mark every byte any value covers (overlapping matches included), then replace each
        // covered run with one mask.
        let mut covered = vec![false; text.len()];
        for value in &self.values {
            let mut from = 0;
            while let Some(i) = text[from..].find(value.as_str()) {
                let start = from + i;
                covered[start..start + value.len()].fill(true);
                from = start + text[start..].chars().next().map_or(1, char::len_utf8);
            }
        }
        let mut out = String::with_capacity(text.len());
        let mut i = 0;
        while i < text.len() {
            let run = covered[i..]
                .iter()
                .take_while(|c| **c == covered[i])
                .count();
            if covered[i] {
                out.push_str(MASK);
            } else {
                out.push_str(&text[i..i + run]);
            }
            i += run;
        }
        out
    }
}

/// `text` with every control character shown as a visible escape (`\x1b`, `\r`, `\u{9b}`) instead
/// of acting on the terminal: no cursor moves, line rewrites, title or clipboard writes (OSC 52).
/// Tab is kept. With `keep_sgr`, plain SGR colour sequences (`ESC [ digits;... m`) stay, and a reset
/// ends the line when any did, so colours do not run into the next line.
pub fn neutralise(text: &str, keep_sgr: bool) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(text.len());
    let mut coloured = false;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c == '\x1b' && keep_sgr {
            if let Some(len) = sgr_len(rest) {
                out.push_str(&rest[..len]);
                coloured = true;
                rest = &rest[len..];
                continue;
            }
        }
        match c {
            '\t' => out.push('\t'),
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 || c == '\x7f' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            // C1 controls: 0x9b is a CSI by itself on some terminals.
            c if ('\u{80}'..='\u{9f}').contains(&c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
        rest = &rest[c.len_utf8()..];
    }
    if coloured {
        out.push_str("\x1b[0m");
    }
    out
}

/// The length of the SGR sequence `ESC [ [0-9;]* m` that `text` starts with, if it does.
fn sgr_len(text: &str) -> Option<usize> {
    let params = text.strip_prefix("\x1b[")?;
    let n = params
        .bytes()
        .take_while(|b| b.is_ascii_digit() || *b == b';')
        .count();
    (params.as_bytes().get(n) == Some(&b'm')).then_some(2 + n + 1)
}

/// The longest line kept whole; longer lines are split into pieces of this size, as Docker does.
pub const MAX_LINE: usize = 16 * 1024;

/// Splits a byte stream into lines; chunks from the engine are not line-aligned.
///
/// A line longer than [`MAX_LINE`] comes out in pieces of at most that size (never cutting a UTF-8
/// character), so one endless line cannot hold unbounded memory; each byte is searched once.
#[derive(Default)]
pub struct LineSplitter {
    pending: Vec<u8>,
}

impl LineSplitter {
    /// Feed a chunk; returns the complete lines it finished (without `\n`, `\r` trimmed).
    pub fn push(&mut self, chunk: &[u8]) -> Vec<String> {
        let mut lines = Vec::new();
        let mut rest = chunk;
        while !rest.is_empty() {
            if self.pending.len() >= MAX_LINE {
                // A full piece: a newline right after it ends the line, anything else continues it.
                if rest[0] == b'\n' {
                    rest = &rest[1..];
                    lines.push(clean(&std::mem::take(&mut self.pending)));
                } else {
                    lines.push(self.full_piece());
                }
                continue;
            }
            // Only the new bytes are searched, and no further than the room left in this line.
            let room = MAX_LINE - self.pending.len();
            let window = &rest[..rest.len().min(room)];
            match window.iter().position(|b| *b == b'\n') {
                Some(i) => {
                    self.pending.extend_from_slice(&window[..i]);
                    rest = &rest[i + 1..];
                    lines.push(clean(&std::mem::take(&mut self.pending)));
                }
                None => {
                    self.pending.extend_from_slice(window);
                    rest = &rest[window.len()..];
                }
            }
        }
        lines
    }

    /// The first [`MAX_LINE`] bytes of the pending line (less a UTF-8 character cut at the end,
    /// which starts the next piece).
    fn full_piece(&mut self) -> String {
        let cut = char_boundary_before(&self.pending, MAX_LINE);
        let tail = self.pending.split_off(cut);
        clean(&std::mem::replace(&mut self.pending, tail))
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

/// The largest `n <= at` that does not split a UTF-8 sequence of `bytes` (a byte boundary when the
/// bytes are not UTF-8 there).
fn char_boundary_before(bytes: &[u8], at: usize) -> usize {
    let at = at.min(bytes.len());
    for i in (at.saturating_sub(3)..at).rev() {
        let b = bytes[i];
        if b & 0xC0 == 0x80 {
            continue; // a continuation byte: look further back for the start
        }
        let len = match b {
            0x00..=0x7F => 1,
            0xC0..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF7 => 4,
            _ => 1,
        };
        return if i + len > at && i > 0 { i } else { at };
    }
    at
}

fn clean(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    // Progress bars redraw with \r; keep what the last redraw shows.
    let text = text.trim_end_matches('\r');
    text.rsplit('\r').next().unwrap_or("").to_string()
}

#[cfg(test)]
mod tests;
