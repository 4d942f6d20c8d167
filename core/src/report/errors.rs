//! Rendering located diagnostics compiler-style: a header with the code, the offending line with a
//! caret, notes, and a suggestion. Each step writes its own messages (a `Diagnostic` where the
//! problem is found, or its error type's messages beside it: `resolve/messages.rs`,
//! `engine/messages.rs`); this is where they all become text.

use crate::report::codes;
use crate::report::diagnostic::{Diagnostic, Diagnostics, Location, Severity};

/// Render one diagnostic, compiler style.
pub fn render(d: &Diagnostic) -> String {
    let label = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    };
    let mut out = format!("{label}[{}]: {}\n", d.code, d.message);
    if let Some(loc) = &d.location {
        out.push_str(&snippet(loc));
    }
    let pad = gutter_width(d.location.as_ref());
    for note in &d.notes {
        out.push_str(&indent_after_first(
            &format!("{:pad$} = note: {note}", ""),
            pad + 9,
        ));
    }
    if let Some(help) = &d.help {
        out.push_str(&indent_after_first(
            &format!("{:pad$} = help: {help}", ""),
            pad + 9,
        ));
    }
    out
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
    let shown: String = line
        .chars()
        .map(|c| if c == '\t' { ' ' } else { c })
        .collect();
    out.push_str(&format!("{:pad$} |\n", ""));
    out.push_str(&format!("{} | {}\n", pos.line, shown.trim_end()));
    out.push_str(&format!(
        "{:pad$} | {}{}\n",
        "",
        " ".repeat(pos.column.saturating_sub(1)),
        "^".repeat(loc.width.max(1))
    ));
    out
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
            return format!("{label}[{}]: {} (see above)\n", d.code, d.message);
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
