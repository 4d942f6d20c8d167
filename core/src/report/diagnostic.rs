//! Located problems: what went wrong, where, and what to do about it.
//!
//! Every step that reads user input reports through [`Diagnostic`]; rendering into text happens in
//! [`crate::report::errors`] only.

use crate::report::codes::Code;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A text file the user wrote, kept so that problems can show the offending line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceText {
    /// The path as the user should see it (relative to where they ran the command when possible).
    pub path: PathBuf,
    pub text: Arc<str>,
}

impl SourceText {
    pub fn new(path: impl Into<PathBuf>, text: impl Into<Arc<str>>) -> Self {
        Self {
            path: path.into(),
            text: text.into(),
        }
    }

    /// The 1-based line `line`, without its line break.
    pub fn line(&self, line: usize) -> Option<&str> {
        self.text
            .split('\n')
            .nth(line.checked_sub(1)?)
            .map(|l| l.trim_end_matches('\r'))
    }
}

/// A value and where the user wrote it (None when it came from a flag or a default).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Spanned<T> {
    pub value: T,
    #[serde(skip)]
    pub location: Option<Location>,
}

impl<T> Spanned<T> {
    pub fn new(value: T, location: Option<Location>) -> Self {
        Self { value, location }
    }

    pub fn bare(value: T) -> Self {
        Self {
            value,
            location: None,
        }
    }
}

/// A 1-based line and column (columns count characters, as editors do).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

/// Where a problem is: a file, and when known a position and how many characters to underline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub source: Option<SourceText>,
    pub path: PathBuf,
    pub position: Option<Position>,
    pub width: usize,
}

impl Location {
    pub fn file(path: &Path) -> Self {
        Self {
            source: None,
            path: path.to_path_buf(),
            position: None,
            width: 0,
        }
    }

    /// A line of a file whose text is not kept (a secrets file: its lines are never shown).
    pub fn file_line(path: &Path, line: usize) -> Self {
        Self {
            source: None,
            path: path.to_path_buf(),
            position: Some(Position { line, column: 1 }),
            width: 0,
        }
    }

    pub fn at(source: &SourceText, position: Position, width: usize) -> Self {
        Self {
            source: Some(source.clone()),
            path: source.path.clone(),
            position: Some(position),
            width: width.max(1),
        }
    }

    /// `apprunner.yaml:9:3`, or just the path when no position is known.
    pub fn short(&self) -> String {
        match self.position {
            Some(p) => format!("{}:{}:{}", self.path.display(), p.line, p.column),
            None => self.path.display().to_string(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Note,
    Warning,
    Error,
}

/// One problem (or remark) about the user's input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// The stable code people search for ([`crate::report::codes`]).
    pub code: Code,
    pub message: String,
    pub location: Option<Location>,
    /// Extra facts, one per line ("= note: …").
    pub notes: Vec<String>,
    /// What to do about it ("= help: …").
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn new(severity: Severity, code: Code, message: impl Into<String>) -> Self {
        Self {
            severity,
            code,
            message: message.into(),
            location: None,
            notes: Vec::new(),
            help: None,
        }
    }

    pub fn error(code: Code, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, code, message)
    }

    pub fn warning(code: Code, message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, code, message)
    }

    pub fn note(code: Code, message: impl Into<String>) -> Self {
        Self::new(Severity::Note, code, message)
    }

    pub fn at(mut self, location: Location) -> Self {
        self.location = Some(location);
        self
    }

    pub fn at_opt(mut self, location: Option<Location>) -> Self {
        self.location = location;
        self
    }

    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// A list of diagnostics in the order found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Diagnostic::is_error)
    }

    pub fn error_count(&self) -> usize {
        self.0.iter().filter(|d| d.is_error()).count()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter()
    }

    /// In file order, so output reads top to bottom like a compiler's: by file, then by position
    /// in it (errors first at the same position); those of a file without a position after the
    /// located ones; those of no file last. Otherwise in the order found.
    pub fn sorted(mut self) -> Self {
        self.0.sort_by(|a, b| {
            let key = |d: &Diagnostic| {
                let path = d.location.as_ref().map(|l| l.path.clone());
                let position = d.location.as_ref().and_then(|l| l.position);
                (
                    path.is_none(),
                    path,
                    position.is_none(),
                    position,
                    std::cmp::Reverse(d.severity),
                )
            };
            key(a).cmp(&key(b))
        });
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::codes;

    #[test]
    fn sorted_is_file_order() {
        let yaml = SourceText::new("apprunner.yaml", "a\nb\nc\n");
        let json = SourceText::new("package.json", "{}\n");
        let at = |src: &SourceText, line: usize| Location::at(src, Position { line, column: 1 }, 1);
        let list = Diagnostics(vec![
            Diagnostic::warning(codes::END_OF_SUPPORT, "no file"),
            Diagnostic::error(codes::UNKNOWN_KEY, "json 1").at(at(&json, 1)),
            Diagnostic::error(codes::CONFIG_MISNAMED, "yaml, no position")
                .at(Location::file(Path::new("apprunner.yaml"))),
            Diagnostic::warning(codes::PORT_REPEATED, "yaml 3 warning").at(at(&yaml, 3)),
            Diagnostic::error(codes::UNKNOWN_KEY, "yaml 3 error").at(at(&yaml, 3)),
            Diagnostic::error(codes::UNKNOWN_KEY, "yaml 1").at(at(&yaml, 1)),
        ]);
        let order: Vec<String> = list.sorted().iter().map(|d| d.message.clone()).collect();
        assert_eq!(
            order,
            [
                "yaml 1",
                "yaml 3 error",
                "yaml 3 warning",
                "yaml, no position",
                "json 1",
                "no file"
            ]
        );
    }
}
