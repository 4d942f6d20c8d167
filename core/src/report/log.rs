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
mod tests {
    use super::*;

    #[test]
    fn a_result_line_is_masked_like_every_other_line() {
        for format in [LogFormat::Text, LogFormat::Json] {
            let log = BuildLog::in_memory(format);
            log.mask_secrets(["hunter2secret"]);
            log.result("id hunter2secret", &[("image", "app:hunter2secret")]);
            let lines = log.lines().join("\n");
            assert!(!lines.contains("hunter2secret"), "{format:?}: {lines}");
            assert!(lines.contains("********"), "{format:?}: {lines}");
        }
    }

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
    fn a_multi_megabyte_line_comes_out_in_16_kib_pieces() {
        let mut s = LineSplitter::default();
        // 5 MiB without a newline, fed in 64 KiB chunks as the engine does, then a short line.
        let total = 5 * 1024 * 1024 + 100;
        let chunk = vec![b'x'; 64 * 1024];
        let mut lines = Vec::new();
        let mut fed = 0;
        while fed < total {
            let n = chunk.len().min(total - fed);
            lines.extend(s.push(&chunk[..n]));
            // Never more than one piece held back.
            assert!(s.pending.len() <= MAX_LINE);
            fed += n;
        }
        lines.extend(s.push(b"\nnext\n"));
        assert_eq!(lines.len(), total / MAX_LINE + 2);
        assert!(lines[..total / MAX_LINE]
            .iter()
            .all(|l| l.len() == MAX_LINE));
        assert_eq!(lines[total / MAX_LINE].len(), 100);
        assert_eq!(lines.last().unwrap(), "next");
        assert_eq!(s.finish(), None);
    }

    #[test]
    fn a_line_of_exactly_16_kib_is_one_line_and_characters_are_not_cut() {
        let mut s = LineSplitter::default();
        let mut exact = vec![b'a'; MAX_LINE];
        exact.push(b'\n');
        assert_eq!(s.push(&exact), vec!["a".repeat(MAX_LINE)]);
        // A 3-byte character straddling the 16 KiB mark moves whole to the next piece.
        let mut long = vec![b'a'; MAX_LINE - 1];
        long.extend_from_slice("€tail\n".as_bytes());
        let lines = s.push(&long);
        assert_eq!(lines, vec!["a".repeat(MAX_LINE - 1), "€tail".to_string()]);
    }

    /// A log whose terminal output is kept, to see what a terminal would receive.
    fn with_terminal(format: LogFormat) -> (BuildLog, Arc<Mutex<Vec<u8>>>) {
        struct Shared(Arc<Mutex<Vec<u8>>>);
        impl Write for Shared {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = BuildLog::in_memory(format);
        log.lock().terminal = Some(Box::new(Shared(seen.clone())));
        (log, seen)
    }

    #[test]
    fn the_terminal_gets_colours_and_nothing_else_and_the_file_gets_no_control_at_all() {
        let (log, terminal) = with_terminal(LogFormat::Text);
        // Clipboard write (OSC 52, BEL- and ST-terminated), a window title, a colour, a tab.
        log.line(
            "Build",
            Stream::Stdout,
            "a\x1b]52;c;ZXZpbA==\x07b\x1b]0;title\x1b\\c \x1b[1;31mred\x1b[0m\tend",
        );
        let terminal = String::from_utf8(terminal.lock().unwrap().clone()).unwrap();
        assert!(
            terminal.ends_with(
                " [Build] a\\x1b]52;c;ZXZpbA==\\x07b\\x1b]0;title\\x1b\\c \x1b[1;31mred\x1b[0m\tend\x1b[0m\n"
            ),
            "{terminal:?}"
        );
        let file = &log.lines()[0];
        assert!(
            file.ends_with(
                " [Build] a\\x1b]52;c;ZXZpbA==\\x07b\\x1b]0;title\\x1b\\c \\x1b[1;31mred\\x1b[0m\tend"
            ),
            "{file:?}"
        );
        assert!(!file.contains('\x1b') && !file.contains('\x07'));
    }

    #[test]
    fn a_build_cannot_forge_an_app_runner_line() {
        let (log, terminal) = with_terminal(LogFormat::Text);
        let forged = "11-25-2026 02:04:05 PM [AppRunner] Successfully built image.";
        // Rewrite the line (\r, erase line, cursor up, column 1), a newline in the text, a C1 CSI.
        log.line("Build", Stream::Stdout, &format!("x\r{forged}"));
        log.line(
            "Build",
            Stream::Stdout,
            &format!("x\x1b[2K\x1b[1A\x1b[1G{forged}"),
        );
        log.line("Build", Stream::Stdout, &format!("x\n{forged}"));
        log.line("Build", Stream::Stdout, &format!("x\u{9b}2K{forged}"));
        let terminal = String::from_utf8(terminal.lock().unwrap().clone()).unwrap();
        let shown: Vec<&str> = terminal.lines().collect();
        assert_eq!(shown.len(), 5, "{terminal:?}");
        for line in shown.iter().chain(
            log.lines()
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>()
                .iter(),
        ) {
            // Every line starts with the time and the real prefix; nothing rewrites it.
            assert_eq!(&line[22..30], " [Build]", "{line:?}");
            assert!(!line.contains(['\r', '\x1b', '\u{9b}']), "{line:?}");
        }
        assert!(shown[0].ends_with(&format!("[Build] x\\r{forged}")));
        assert!(shown[1].ends_with(&format!("[Build] x\\x1b[2K\\x1b[1A\\x1b[1G{forged}")));
        assert!(shown[3].ends_with(&format!("[Build] {forged}")));
        assert!(shown[4].ends_with(&format!("[Build] x\\u{{9b}}2K{forged}")));
    }

    #[test]
    fn json_text_carries_escapes_not_control_characters() {
        let log = BuildLog::in_memory(LogFormat::Json);
        log.line("Build", Stream::Stdout, "\x1b[31mred\x1b]52;c;eA==\x07");
        let v: serde_json::Value = serde_json::from_str(&log.lines()[0]).unwrap();
        assert_eq!(v["text"], "\\x1b[31mred\\x1b]52;c;eA==\\x07");
    }

    #[test]
    fn a_short_secret_that_prefixes_a_longer_one_does_not_unmask_the_rest() {
        // Given shortest first, on purpose.
        let m = Masker::new(["abc", "abcdef123"]);
        assert_eq!(
            m.mask("token abcdef123 and abc"),
            "token ******** and ********"
        );
        // Overlapping values: everything either covers.
        let m = Masker::new(["xxsecret", "secretyy"]);
        assert_eq!(m.mask("[xxsecretyy]"), "[********]");
    }

    #[test]
    fn a_pem_key_printed_whole_is_masked_line_by_line() {
        let key = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj\n-----END PRIVATE KEY-----\n";
        let log = BuildLog::in_memory(LogFormat::Text);
        log.mask_secrets([key]);
        let mut s = LineSplitter::default();
        for line in s.push(format!("key:\n{key}").as_bytes()) {
            log.line("Application", Stream::Stdout, &line);
        }
        let lines = log.lines();
        assert_eq!(lines.len(), 5);
        assert!(lines[0].ends_with("] key:"));
        for line in &lines[1..] {
            assert!(line.ends_with("[Application] ********"), "{line}");
        }
    }

    #[test]
    fn engine_error_text_is_masked_too() {
        let log = BuildLog::in_memory(LogFormat::Text);
        log.mask_secrets(["s3cr3t-value"]);
        log.app_runner("Creating the application container: invalid env API_TOKEN=s3cr3t-value");
        log.line("Application", Stream::Stderr, "multi\nline s3cr3t-value");
        let all = log.lines().join("\n");
        assert!(!all.contains("s3cr3t"), "{all}");
        assert!(
            all.contains(
                "[AppRunner] Creating the application container: invalid env API_TOKEN=********"
            ),
            "{all}"
        );
        assert!(all.contains("[Application] line ********"), "{all}");
        assert_eq!(log.mask("x s3cr3t-value"), "x ********");
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
    fn results_and_diagnostics_are_json_lines_in_json() {
        use crate::report::codes;
        use crate::report::diagnostic::{Diagnostic, Location, Position, SourceText};
        let log = BuildLog::in_memory(LogFormat::Json);
        log.result(
            "sha256:abc",
            &[("image", "app:latest"), ("id", "sha256:abc")],
        );
        let v: serde_json::Value = serde_json::from_str(&log.lines()[0]).unwrap();
        assert_eq!(v["prefix"], "AppRunner");
        assert_eq!(v["result"]["image"], "app:latest");
        assert_eq!(v["result"]["id"], "sha256:abc");
        let text = BuildLog::in_memory(LogFormat::Text);
        text.result("sha256:abc", &[("id", "sha256:abc")]);
        assert_eq!(text.lines(), ["sha256:abc"], "the bare id, for scripts");

        let source = SourceText::new("apprunner.yaml", "version: 1.0\nruntime: python311\n");
        let d = Diagnostic::warning(codes::INSTALL_OUTSIDE_APP, "pip installs outside /app")
            .at(Location::at(&source, Position { line: 2, column: 3 }, 4))
            .with_help("install into /app");
        let v: serde_json::Value = serde_json::from_str(&diagnostic_json(&d)).unwrap();
        assert_eq!(v["severity"], "warning");
        assert_eq!(v["code"], "AR400");
        assert_eq!(v["message"], "pip installs outside /app");
        assert_eq!(v["location"]["path"], "apprunner.yaml");
        assert_eq!(v["location"]["line"], 2);
        assert_eq!(v["location"]["column"], 3);
        assert_eq!(v["help"], "install into /app");
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

#[cfg(test)]
mod clipped_tests {
    use super::*;

    #[test]
    fn long_commands_are_clipped_at_a_character_boundary() {
        assert_eq!(clipped("npm ci"), "npm ci");
        // "echo " and two-byte characters: byte COMMAND_SHOWN is inside one, so one byte less.
        let long = format!("echo {}", "é".repeat(COMMAND_SHOWN));
        let shown = clipped(&long);
        let kept = COMMAND_SHOWN - 1;
        assert_eq!(
            shown,
            format!("{}… ({} more bytes)", &long[..kept], long.len() - kept)
        );
    }
}
