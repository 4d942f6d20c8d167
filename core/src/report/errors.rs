//! Rendering located diagnostics compiler-style: a header with the code, the offending line with a
//! caret, notes, and a suggestion. Each step writes its own messages (a `Diagnostic` where the
//! problem is found, or its error type's messages beside it: `resolve/messages.rs`,
//! `engine/messages.rs`); this is where they all become text.

use crate::report::codes;
use crate::report::diagnostic::{Diagnostic, Diagnostics, Location, Severity};

/// An error and its causes, joined: `client error (Connect): received fatal alert: …`. A cause
/// its parent already quotes is left out.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut said = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !said.contains(&text) {
            said = format!("{said}: {text}");
        }
        cause = c.source();
    }
    said
}

/// Render one diagnostic, compiler style.
pub fn render(d: &Diagnostic) -> String {
    let label = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    };
    let mut out = format!("{label}[{}]: {}\n", d.code, clip(&d.message));
    if let Some(loc) = &d.location {
        out.push_str(&snippet(loc));
    }
    let pad = gutter_width(d.location.as_ref());
    for note in &d.notes {
        out.push_str(&indent_after_first(
            &format!("{:pad$} = note: {}", "", clip(note)),
            pad + 9,
        ));
    }
    if let Some(help) = &d.help {
        out.push_str(&indent_after_first(
            &format!("{:pad$} = help: {}", "", clip(help)),
            pad + 9,
        ));
    }
    out
}

/// The most of one line of a message, note or help that is shown: messages quote values from
/// the project's files (a key, a runtime name, a version file's text), which may be huge.
pub const MESSAGE_LINE_CHARS: usize = 1000;

/// `text` with each line cut to [`MESSAGE_LINE_CHARS`], `…` where it is cut.
fn clip(text: &str) -> std::borrow::Cow<'_, str> {
    if text.lines().all(|l| l.len() <= MESSAGE_LINE_CHARS) {
        return text.into();
    }
    let lines: Vec<String> = text
        .split('\n')
        .map(|l| match l.char_indices().nth(MESSAGE_LINE_CHARS) {
            Some((cut, _)) => format!("{}…", &l[..cut]),
            None => l.to_string(),
        })
        .collect();
    lines.join("\n").into()
}

fn gutter_width(loc: Option<&Location>) -> usize {
    loc.and_then(|l| l.position)
        .map_or(1, |p| p.line.to_string().len())
}

fn indent_after_first(text: &str, by: usize) -> String {
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        if i > 0 {
            out.push_str(&" ".repeat(by));
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

fn snippet(loc: &Location) -> String {
    let pad = gutter_width(Some(loc));
    let mut out = format!("{:pad$}--> {}\n", "", loc.short());
    let (Some(pos), Some(src)) = (loc.position, &loc.source) else {
        return out;
    };
    let Some(line) = src.line(pos.line) else {
        return out;
    };
    // Tabs would misalign the caret; show them as single spaces.
    let chars: Vec<char> = line
        .trim_end()
        .chars()
        .map(|c| if c == '\t' { ' ' } else { c })
        .collect();
    let (shown, column, width) = window(&chars, pos.column.saturating_sub(1), loc.width.max(1));
    out.push_str(&format!("{:pad$} |\n", ""));
    out.push_str(&format!("{} | {shown}\n", pos.line));
    out.push_str(&format!(
        "{:pad$} | {}{}\n",
        "",
        " ".repeat(column),
        "^".repeat(width)
    ));
    out
}

/// The most of a line a snippet shows: a minified file's one line may be megabytes.
pub const SNIPPET_CHARS: usize = 200;

/// At most [`SNIPPET_CHARS`] of `line` around the 0-based `column`, `…` where it is cut; with the
/// caret's column and width in what is shown.
fn window(line: &[char], column: usize, width: usize) -> (String, usize, usize) {
    if line.len() <= SNIPPET_CHARS {
        return (line.iter().collect(), column, width.min(SNIPPET_CHARS));
    }
    let column = column.min(line.len());
    let start = column
        .saturating_sub(SNIPPET_CHARS / 2)
        .min(line.len() - SNIPPET_CHARS);
    let end = start + SNIPPET_CHARS;
    let mut shown = String::new();
    let mut caret = column - start;
    if start > 0 {
        shown.push('…');
        caret += 1;
    }
    shown.extend(&line[start..end]);
    if end < line.len() {
        shown.push('…');
    }
    (shown, caret, width.min(end.saturating_sub(column)).max(1))
}

/// Codes whose repeats within a run are shown as one line: the first one said it all.
const SAID_ONCE: &[codes::Code] = &[codes::END_OF_SUPPORT];

/// The messages of one run. A message that a run may report more than once (end of support) is
/// shown in full the first time, then as its first line only.
#[derive(Debug, Default)]
pub struct RunReport {
    shown: std::collections::HashSet<(codes::Code, String)>,
}

impl RunReport {
    pub fn render(&mut self, d: &Diagnostic) -> String {
        if SAID_ONCE.contains(&d.code) && !self.shown.insert((d.code, d.message.clone())) {
            let label = match d.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Note => "note",
            };
            return format!("{label}[{}]: {} (see above)\n", d.code, clip(&d.message));
        }
        render(d)
    }

    /// [`render_all`], remembering what this run has shown.
    pub fn render_all(&mut self, diags: &Diagnostics) -> String {
        let mut out = String::new();
        for d in diags.iter() {
            out.push_str(&self.render(d));
            out.push('\n');
        }
        out.push_str(&summary(diags));
        out
    }
}

/// Render a list, then a one-line summary when anything failed.
pub fn render_all(diags: &Diagnostics) -> String {
    RunReport::default().render_all(diags)
}

fn summary(diags: &Diagnostics) -> String {
    let mut out = String::new();
    let errors = diags.error_count();
    if errors > 0 {
        out.push_str(&format!(
            "error: {errors} problem{} found\n",
            if errors == 1 { "" } else { "s" }
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::diagnostic::{Position, SourceText};

    #[test]
    fn messages_notes_and_help_are_cut_to_a_line_each() {
        let huge = "k".repeat(2_000_000);
        let d = Diagnostic::error(codes::UNKNOWN_KEY, format!("unknown key `{huge}`"))
            .with_note(format!("first line\n{huge}"))
            .with_help(huge.clone());
        let out = render(&d);
        assert!(out.len() < 4 * MESSAGE_LINE_CHARS, "{} bytes", out.len());
        assert!(out.starts_with("error[AR112]: unknown key `kkk"), "{out}");
        assert!(out.contains("= note: first line\n"), "{out}");
        assert_eq!(out.matches('…').count(), 3, "{out}");
        let short = Diagnostic::error(codes::UNKNOWN_KEY, "unknown key `comand`");
        assert_eq!(render(&short), "error[AR112]: unknown key `comand`\n");
    }

    #[test]
    fn a_snippet_shows_at_most_a_window_of_a_long_line() {
        // A minified one-line file: the line around the column, not megabytes of it.
        let line = format!("{}@{}", "a".repeat(1_000_000), "b".repeat(1_000_000));
        let src = SourceText::new("package.json", format!("{line}\n"));
        let at = |column, width| {
            render(
                &Diagnostic::error(codes::PACKAGE_JSON_INVALID, "bad").at(Location::at(
                    &src,
                    Position { line: 1, column },
                    width,
                )),
            )
        };
        let out = at(1_000_001, 5_000_000);
        assert!(out.len() < 1_000, "{} bytes", out.len());
        let lines: Vec<&str> = out.lines().collect();
        let shown = lines[3].strip_prefix("1 | ").unwrap();
        let caret = lines[4].strip_prefix("  | ").unwrap();
        assert!(shown.starts_with('…') && shown.ends_with('…'), "{shown}");
        assert_eq!(shown.chars().count(), SNIPPET_CHARS + 2);
        let caret_at = caret.find('^').unwrap();
        assert_eq!(
            shown.chars().nth(caret_at),
            Some('@'),
            "the caret points at the column"
        );
        assert!(caret.trim_end().len() <= SNIPPET_CHARS + 2, "{caret}");
        // At either end of the line: cut on one side only.
        let first = at(1, 1);
        let shown = first.lines().nth(3).unwrap();
        assert!(
            shown.starts_with("1 | aaa") && shown.ends_with('…'),
            "{shown}"
        );
        let last = at(2_000_001, 1);
        let shown = last.lines().nth(3).unwrap();
        assert!(
            shown.starts_with("1 | …") && shown.ends_with("bbb"),
            "{shown}"
        );
        let caret = last.lines().nth(4).unwrap();
        assert_eq!(caret.find('^'), Some(4 + SNIPPET_CHARS), "{caret}");
        // Short lines are shown whole, as before.
        let short = SourceText::new("apprunner.yaml", "run:\n  comand: x\n");
        let out = render(
            &Diagnostic::error(codes::UNKNOWN_KEY, "unknown key").at(Location::at(
                &short,
                Position { line: 2, column: 3 },
                6,
            )),
        );
        assert!(out.ends_with("2 |   comand: x\n  |   ^^^^^^\n"), "{out}");
    }

    #[test]
    fn end_of_support_is_said_in_full_once_per_run() {
        let eos = || {
            Diagnostic::warning(
                codes::END_OF_SUPPORT,
                "nodejs16 reached end of support on 2025-12-01",
            )
            .with_note("it gets no security fixes; App Runner may stop building it")
            .with_help("move to `runtime: nodejs22`, a supported App Runner runtime")
        };
        let mut run = RunReport::default();
        let first = run.render_all(&Diagnostics(vec![eos()]));
        assert!(
            first.contains("= note: it gets no security fixes"),
            "{first}"
        );
        let again = run.render_all(&Diagnostics(vec![eos(), eos()]));
        assert_eq!(
            again,
            "warning[AR206]: nodejs16 reached end of support on 2025-12-01 (see above)\n\n"
                .repeat(2)
        );
        // Within one list too; other warnings are never shortened.
        let other = Diagnostic::warning(codes::PORT_REPEATED, "PORT repeats the port")
            .with_help("remove it");
        let out = render_all(&Diagnostics(vec![eos(), other.clone(), eos(), other]));
        assert_eq!(
            out.matches("= note: it gets no security fixes").count(),
            1,
            "{out}"
        );
        assert_eq!(out.matches("(see above)").count(), 1, "{out}");
        assert_eq!(out.matches("= help: remove it").count(), 2, "{out}");
    }
}
