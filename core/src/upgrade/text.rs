//! Positions in a file's text: the parser's line and column to a byte offset, and a scalar's
//! written form (its quotes, where it ends), so that edits replace exactly what the user wrote.

use marked_yaml::types::MarkedScalarNode;
use std::ops::Range;

pub(super) struct Text<'a> {
    pub(super) text: &'a str,
    starts: Vec<usize>,
}

/// A scalar as written: the bytes of its token (quotes included) and its quote character.
#[derive(Debug, Clone)]
pub(super) struct Written {
    pub(super) range: Range<usize>,
    pub(super) quote: Option<char>,
}

impl Written {
    /// `value` written with the same quotes.
    pub(super) fn requote(&self, value: &str) -> String {
        match self.quote {
            Some(q) => format!("{q}{value}{q}"),
            None => value.to_string(),
        }
    }
}

impl<'a> Text<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Text { text, starts }
    }

    /// The byte offset of a 1-based line and column (columns count characters).
    pub(super) fn offset(&self, line: usize, column: usize) -> Option<usize> {
        let start = *self.starts.get(line.checked_sub(1)?)?;
        let rest = &self.text[start..];
        let mut chars = rest.char_indices().map(|(i, _)| i).chain([rest.len()]);
        chars.nth(column.checked_sub(1)?).map(|i| start + i)
    }

    /// The 1-based line of a byte offset.
    pub(super) fn line_of(&self, offset: usize) -> usize {
        self.starts.partition_point(|s| *s <= offset)
    }

    /// The bytes of a 1-based line, its line break included.
    pub(super) fn line_range(&self, line: usize) -> Range<usize> {
        let start = self.starts[line - 1];
        let end = self.starts.get(line).copied().unwrap_or(self.text.len());
        start..end
    }

    /// The line's leading spaces.
    pub(super) fn indent(&self, line: usize) -> &'a str {
        let l = &self.text[self.line_range(line)];
        &l[..l.len() - l.trim_start_matches(' ').len()]
    }

    /// Where a scalar is written, when its token is on one line and reads back as its value; a
    /// block scalar, a folded plain one or a quoted one with escapes is not edited in place.
    pub(super) fn written(&self, node: &MarkedScalarNode) -> Option<Written> {
        let m = node.span().start()?;
        let start = self.offset(m.line(), m.column())?;
        let line_end = self.line_range(m.line()).end;
        let rest = self.text[start..line_end].trim_end_matches(['\n', '\r']);
        let value = node.as_str();
        let (len, quote) = match rest.chars().next() {
            Some(q @ ('"' | '\'')) => {
                let close = rest[1..].find(q)? + 1;
                let inner = &rest[1..close];
                (inner == value).then_some((close + 1, Some(q)))?
            }
            _ => {
                let content = rest.split(" #").next().unwrap_or(rest).trim_end();
                (content == value && !value.is_empty()).then_some((content.len(), None))?
            }
        };
        Some(Written {
            range: start..start + len,
            quote,
        })
    }

    /// The token with what follows it on its line (a comment), line break excluded.
    pub(super) fn to_line_end(&self, w: &Written) -> &'a str {
        let line = self.line_of(w.range.start);
        self.text[w.range.start..self.line_range(line).end].trim_end_matches(['\n', '\r'])
    }

    /// Whether the token is a block list item alone on its line (`  - TOKEN  # comment`).
    pub(super) fn is_item_line(&self, w: &Written) -> bool {
        let line = self.line_of(w.range.start);
        let before = &self.text[self.line_range(line).start..w.range.start];
        before.trim_end().trim_start_matches(' ') == "-"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_and_lines() {
        let t = Text::new("a: 1\nbé: 2\n");
        assert_eq!(t.offset(2, 5), Some(10));
        assert_eq!(t.line_of(10), 2);
        assert_eq!(t.line_range(1), 0..5);
    }
}
