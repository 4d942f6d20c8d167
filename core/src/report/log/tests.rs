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
            && lines[0].ends_with(" [AppRunner] Starting to build your application source code."),
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
