//! Characters YAML does not take as indentation, said plainly before parsing: a tab, and the
//! invisible spaces text pasted from a web page brings (U+00A0 above all). The parser reads an
//! invisible space as text, so its own messages (an unknown key `    build`, a mapping that is
//! empty) never name the character.

use crate::report::codes;
use crate::report::diagnostic::{Diagnostic, Diagnostics, Location, Position, SourceText};

/// Characters that look like a space, or like nothing, and are not one to YAML.
const INVISIBLE: &[(char, &str)] = &[
    ('\u{a0}', "no-break space"),
    ('\u{2000}', "en quad"),
    ('\u{2001}', "em quad"),
    ('\u{2002}', "en space"),
    ('\u{2003}', "em space"),
    ('\u{2004}', "three-per-em space"),
    ('\u{2005}', "four-per-em space"),
    ('\u{2006}', "six-per-em space"),
    ('\u{2007}', "figure space"),
    ('\u{2008}', "punctuation space"),
    ('\u{2009}', "thin space"),
    ('\u{200a}', "hair space"),
    ('\u{200b}', "zero-width space"),
    ('\u{202f}', "narrow no-break space"),
    ('\u{205f}', "medium mathematical space"),
    ('\u{3000}', "ideographic space"),
    ('\u{feff}', "zero-width no-break space"),
];

fn invisible(c: char) -> Option<&'static str> {
    INVISIBLE
        .iter()
        .find(|(i, _)| *i == c)
        .map(|(_, name)| *name)
}

/// Every line whose indentation holds a tab (AR106) or an invisible space (AR139); an invisible
/// space right after a key's `:` or an item's `-`, where YAML needs a real one, too.
pub(super) fn check(source: &SourceText) -> Diagnostics {
    let mut all = Diagnostics::default();
    for (i, line) in source.text.split('\n').enumerate() {
        // Tabs and spaces alone on a line are blank to YAML; an invisible space is not.
        if line.chars().all(|c| matches!(c, ' ' | '\t' | '\r')) {
            continue;
        }
        let at = |column: usize, width: usize| {
            Location::at(
                source,
                Position {
                    line: i + 1,
                    column,
                },
                width,
            )
        };
        let indent: Vec<char> = line
            .chars()
            .take_while(|c| *c == ' ' || *c == '\t' || invisible(*c).is_some())
            .collect();
        if let Some(col) = indent.iter().position(|c| *c == '\t') {
            all.push(
                Diagnostic::error(codes::YAML_TAB, "tab character in indentation")
                    .at(at(col + 1, 1))
                    .with_note("YAML allows only spaces for indentation")
                    .with_help("replace the tab with spaces, consistent with the lines around it"),
            );
        }
        if let Some((column, c, width, place)) = first_invisible(line, indent.len()) {
            let name = invisible(c).unwrap_or("invisible character");
            let code = format!("U+{:04X}", c as u32);
            all.push(
                Diagnostic::error(
                    codes::YAML_INVISIBLE_CHARACTER,
                    format!("{name} ({code}) {place}, at column {column}"),
                )
                .at(at(column, width))
                .with_note(format!(
                    "it looks like a space, but YAML takes only the ordinary space (U+0020) there and reads {code} as text; it often comes with text copied from a web page"
                ))
                .with_help(format!(
                    "replace each with an ordinary space (an editor's search for {code} finds them)"
                )),
            );
        }
    }
    all
}

/// The first invisible space of `line` where it breaks the YAML: in the indentation (its first
/// `indent` characters), after a list item's `-`, or after the key's `:`; with its 1-based column,
/// the character, how many of them follow each other there, and the place in words.
fn first_invisible(line: &str, indent: usize) -> Option<(usize, char, usize, &'static str)> {
    let chars: Vec<char> = line.chars().collect();
    let is_invisible = |i: usize| chars.get(i).is_some_and(|c| invisible(*c).is_some());
    let (found, place) = if let Some(i) = (0..indent).find(|&i| is_invisible(i)) {
        (i, "in indentation")
    } else if chars.get(indent) == Some(&'-') && is_invisible(indent + 1) {
        (indent + 1, "after the list item's `-`")
    } else {
        // The key's colon is the line's first; past a quote or a `#`, any character is text.
        let colon = chars
            .iter()
            .position(|c| matches!(c, ':' | '"' | '\'' | '#'))
            .filter(|&i| chars[i] == ':' && is_invisible(i + 1))?;
        (colon + 1, "after the key's `:`")
    };
    let width = chars[found..]
        .iter()
        .take_while(|c| invisible(**c).is_some())
        .count();
    Some((found + 1, chars[found], width, place))
}

#[cfg(test)]
mod tests {
    use super::first_invisible;

    #[test]
    fn invisible_spaces_where_yaml_needs_a_space() {
        let at = |line: &str, indent| first_invisible(line, indent).map(|f| (f.0, f.1, f.2));
        assert_eq!(at("\u{a0}\u{a0}build:", 2), Some((1, '\u{a0}', 2)));
        assert_eq!(
            at("  command:\u{a0}python3 app.py", 2),
            Some((11, '\u{a0}', 1))
        );
        assert_eq!(at("  -\u{202f}make", 2), Some((4, '\u{202f}', 1)));
        // Inside a value or a comment it is text, as the user meant.
        assert_eq!(at("  - echo a\u{a0}b", 2), None);
        assert_eq!(at("  - echo a -\u{a0}b", 2), None);
        assert_eq!(at("  command: echo a:\u{a0}b", 2), None);
        assert_eq!(at("  - 'echo a:\u{a0}b'", 2), None);
        assert_eq!(at("  # see:\u{a0}x", 2), None);
    }
}
