//! YAML syntax errors in our own words, at the line that causes them.
//!
//! The scanner reports where it gave up, which is often a line or two after the mistake (a blank
//! line after `-'8000:8000'`, the next key after a bad list item). Known mistakes are looked for
//! on that line and the few before it; the message says what is wrong and how to write it.

use crate::report::codes;
use crate::report::diagnostic::{Diagnostic, Location, Position, SourceText};

/// How many non-blank lines before the scanner's position may hold the mistake.
const LOOK_BACK: usize = 3;

/// The diagnostic for a scan error that `info` describes, found at `line`:`column` (1-based).
pub(super) fn syntax_error(src: &SourceText, line: usize, column: usize, info: &str) -> Diagnostic {
    let lines: Vec<&str> = src
        .text
        .split('\n')
        .map(|l| l.trim_end_matches('\r'))
        .collect();
    let d = |message: &str| Diagnostic::error(codes::YAML_SYNTAX, message.to_string());
    if info.contains("quoted scalar") && line <= lines.len() {
        // The scanner reports these at the opening quote, which is the place to look.
        return d("a quoted value is not closed")
            .at(Location::at(
                src,
                Position {
                    line,
                    column: column.max(1),
                },
                1,
            ))
            .with_note("a value that starts with a quote must end with the same quote")
            .with_help("close the quote on the same line, or remove it if the value needs none");
    }
    let blank = |l: &str| l.trim().is_empty() || l.trim_start().starts_with('#');
    // The scanner may stop on a blank line or past the end: the last line with content counts.
    let mut at_line = line.clamp(1, lines.len().max(1));
    let mut at_column = column;
    while at_line > 1 && lines.get(at_line - 1).is_none_or(|l| blank(l)) {
        at_line -= 1;
        at_column = 0;
    }
    let candidates: Vec<usize> = (1..=at_line)
        .rev()
        .filter(|n| !blank(lines[n - 1]))
        .take(LOOK_BACK)
        .collect();
    for &n in &candidates {
        if let Some(d) = dash_without_space(src, n, lines[n - 1]) {
            return d;
        }
    }
    for &n in &candidates {
        if let Some(d) = unclosed_bracket(src, n, lines[n - 1]) {
            return d;
        }
    }
    let text = lines.get(at_line - 1).copied().unwrap_or("");
    let first_char = text.chars().count() - text.trim_start().chars().count() + 1;
    let column = if at_column == 0 || at_line != line {
        first_char
    } else {
        at_column.max(1)
    };
    let here = |column: usize, width: usize| {
        Location::at(
            src,
            Position {
                line: at_line,
                column,
            },
            width,
        )
    };
    let rest_width = |column: usize| {
        text.chars()
            .skip(column - 1)
            .collect::<String>()
            .trim_end()
            .chars()
            .count()
    };
    let quote_help = "quote the whole value: key: \"value\"";
    if info.contains("did not find expected '-' indicator") {
        return d("this list item is indented differently from the items above it")
            .at(here(first_char, rest_width(first_char)))
            .with_help("start every `- ` item of a list at the same column");
    }
    if info.contains("did not find expected key") {
        return d("this line's indentation does not fit the lines above it")
            .at(here(first_char, rest_width(first_char)))
            .with_note("YAML reads the structure from indentation: a line indented less than the one before closes that list or mapping")
            .with_help("line it up with the key it belongs to, or with the `- ` items of the list above it");
    }
    if info.contains("mapping values are not allowed") {
        return d("a second `: ` on one line: YAML cannot read this value")
            .at(here(first_char, rest_width(first_char)))
            .with_note("`: ` (colon and space) separates a key from its value, once per line")
            .with_help(format!("quote the whole value: {}", quoted_form(text)));
    }
    if info.contains("simple key expect") {
        return d("this line is neither `key: value` nor a list item `- value`")
            .at(here(first_char, rest_width(first_char)))
            .with_help(
                "add `: ` after the key, or start the list item with `- ` (a dash and a space)",
            );
    }
    if info.starts_with("unexpected character")
        || info.contains("did not find expected node content")
    {
        return d("a value starts with a character YAML keeps for itself")
            .at(here(column, 1))
            .with_note("values starting with `@`, `` ` ``, `%`, `*`, `&`, `!`, `|`, `>`, `{` or `[` mean something else in YAML")
            .with_help(quote_help);
    }
    if info.contains("flow sequence")
        || info.contains("flow mapping")
        || info.contains("flow construct")
    {
        return d("a `[` or `{` is not closed")
            .at(here(column, 1))
            .with_note("a value starting with `[` or `{` is read as an inline list or mapping")
            .with_help(quote_help);
    }
    if info.contains("anchor or alias") {
        return d("`&` or `*` at the start of a value begins a YAML anchor or alias")
            .at(here(column, 1))
            .with_help(quote_help);
    }
    if info.contains("tag") || info.contains("handle") {
        return d("`!` at the start of a value begins a YAML tag")
            .at(here(column, 1))
            .with_help(quote_help);
    }
    if info.contains("block scalar") {
        return d("a `|` or `>` block value is malformed")
            .at(here(column, 1))
            .with_help(
                "put the block's lines on the lines after `|`, each indented more than the key",
            );
    }
    if info.contains("found a tab") {
        return d("a tab inside a value")
            .at(here(column, 1))
            .with_help("replace the tab with spaces, or quote the value");
    }
    d("the file is not valid YAML here")
        .at(here(column, 1))
        .with_note(format!("the YAML parser says: {info}"))
        .with_help("check indentation and quoting on this line and the one before it; a value containing `: ` or starting with `*`, `&`, `!`, `{`, `[` must be quoted")
}

/// `-'8000:8000'`, `-item`: a list item without the space YAML needs after the dash.
fn dash_without_space(src: &SourceText, line: usize, text: &str) -> Option<Diagnostic> {
    let trimmed = text.trim_start();
    let after = trimmed.strip_prefix('-')?;
    let next = after.chars().next()?;
    if next.is_whitespace() || next == '-' || next.is_ascii_digit() || next == '.' {
        return None;
    }
    let column = text.chars().count() - trimmed.chars().count() + 1;
    Some(
        Diagnostic::error(codes::YAML_SYNTAX, "a list item needs a space after `-`")
            .at(Location::at(
                src,
                Position { line, column },
                trimmed.trim_end().chars().count(),
            ))
            .with_note("without the space YAML reads the dash as part of the text, and the list around it breaks")
            .with_help(format!("write `- {}`", after.trim_end())),
    )
}

/// The line with its value (or list item) in single quotes: `- 'echo a: b'`, `command: 'x: y'`.
fn quoted_form(text: &str) -> String {
    let trimmed = text.trim();
    let quote = |v: &str| format!("'{}'", v.replace('\'', "''"));
    if let Some(item) = trimmed.strip_prefix("- ") {
        return format!("- {}", quote(item.trim()));
    }
    match trimmed.split_once(": ") {
        Some((key, value)) => format!("{key}: {}", quote(value.trim())),
        None => quote(trimmed),
    }
}

/// A value that starts with `[` or `{` (an inline list or mapping to YAML) and does not close it.
fn unclosed_bracket(src: &SourceText, line: usize, text: &str) -> Option<Diagnostic> {
    let trimmed = text.trim_start();
    let item = trimmed.strip_prefix("- ").unwrap_or(trimmed);
    let value = match item.split_once(": ") {
        Some((_, v)) => v.trim_start(),
        None => item,
    };
    let open = value.chars().next().filter(|c| *c == '[' || *c == '{')?;
    let close = if open == '[' { ']' } else { '}' };
    let depth = value.chars().fold(0i32, |d, c| {
        if c == open {
            d + 1
        } else if c == close {
            d - 1
        } else {
            d
        }
    });
    if depth <= 0 {
        return None;
    }
    let column = text.chars().count() - value.chars().count() + 1;
    let kind = if open == '[' { "list" } else { "mapping" };
    Some(
        Diagnostic::error(codes::YAML_SYNTAX, format!("`{open}` is not closed"))
            .at(Location::at(
                src,
                Position { line, column },
                value.trim_end().chars().count(),
            ))
            .with_note(format!(
                "a value starting with `{open}` is an inline {kind} to YAML, and it must end with `{close}` on the same line"
            ))
            .with_help(format!("if this is text, quote it: {}", quoted_form(text))),
    )
}
