//! `.dockerignore`, with Docker's rules.

use globset::GlobMatcher;
use serde::{Deserialize, Serialize};

/// The rules of a `.dockerignore` file, with Docker's semantics: patterns are relative to the
/// root, `*` stays within one path segment, `**` spans any number, a pattern that matches a
/// directory excludes what is inside it, `!` re-includes, and the last matching rule wins.
/// As with Docker, an excluded directory is still searched when a `!` pattern names something
/// inside it (its text starts with the directory's path).
///
/// A plan carries the rules it was made with (see `BuildPlan::excludes`): in its JSON they are
/// the file's lines that hold a rule, as written, and are parsed again when a plan is read back.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub struct IgnoreRules {
    rules: Vec<Rule>,
}

#[derive(Debug, Clone)]
struct Rule {
    glob: GlobMatcher,
    negated: bool,
    /// The pattern as matched: no leading `./` or `/`, no trailing `/`.
    text: String,
    /// The line it came from, trimmed: what a plan stores, so that reading it back is parsing
    /// the same line again.
    line: String,
}

/// A `.dockerignore` line that is not a pattern.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(".dockerignore line {line}: {kind}")]
pub struct IgnoreError {
    /// From 1.
    pub line: usize,
    /// The glob error's kind only: its full text would quote the whole line.
    pub kind: String,
}

impl IgnoreRules {
    pub fn parse(text: &str) -> Result<Self, IgnoreError> {
        let mut rules = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            rules.extend(Rule::parse(raw, i + 1)?);
        }
        Ok(Self { rules })
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Whether `relative` (forward slashes, no leading `./`) is left out.
    pub fn excludes(&self, relative: &str) -> bool {
        let mut excluded = false;
        for rule in &self.rules {
            let hit =
                rule.glob.is_match(relative) || parents(relative).any(|p| rule.glob.is_match(p));
            if hit {
                excluded = !rule.negated;
            }
        }
        excluded
    }

    /// Whether an excluded directory must still be searched: a `!` pattern names something in it.
    pub fn may_include_under(&self, dir: &str) -> bool {
        let dir = format!("{dir}/");
        self.rules
            .iter()
            .any(|r| r.negated && format!("{}/", r.text).starts_with(&dir))
    }
}

impl Rule {
    /// `None` for a blank line, a comment, or a pattern that is empty once normalised.
    fn parse(raw: &str, number: usize) -> Result<Option<Rule>, IgnoreError> {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            return Ok(None);
        }
        let (negated, pattern) = match line.strip_prefix('!') {
            Some(p) => (true, p.trim()),
            None => (false, line),
        };
        let pattern = pattern
            .trim_start_matches("./")
            .trim_start_matches('/')
            .trim_end_matches('/');
        if pattern.is_empty() {
            return Ok(None);
        }
        let glob = globset::GlobBuilder::new(pattern)
            .literal_separator(true)
            .build()
            .map_err(|e| IgnoreError {
                line: number,
                kind: e.kind().to_string(),
            })?;
        Ok(Some(Rule {
            glob: glob.compile_matcher(),
            negated,
            text: pattern.to_string(),
            line: line.to_string(),
        }))
    }
}

/// Two rule sets are the same when they come from the same lines.
impl PartialEq for IgnoreRules {
    fn eq(&self, other: &Self) -> bool {
        self.rules.len() == other.rules.len()
            && self
                .rules
                .iter()
                .zip(&other.rules)
                .all(|(a, b)| a.line == b.line)
    }
}

impl Eq for IgnoreRules {}

impl From<IgnoreRules> for Vec<String> {
    fn from(rules: IgnoreRules) -> Self {
        rules.rules.into_iter().map(|r| r.line).collect()
    }
}

/// Why a rule stored in a plan is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoredRuleError {
    #[error("exclude rule {rule} is not a .dockerignore pattern: {kind}")]
    NotAPattern { rule: usize, kind: String },
    #[error("exclude rule {rule} is not a .dockerignore pattern as a plan stores it (one trimmed rule, no comment or blank)")]
    NotAsStored { rule: usize },
}

/// A plan's stored lines: each must still be one rule, as it was when the plan was made.
impl TryFrom<Vec<String>> for IgnoreRules {
    type Error = StoredRuleError;

    fn try_from(lines: Vec<String>) -> Result<Self, StoredRuleError> {
        let mut rules = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            let rule = Rule::parse(line, i + 1).map_err(|e| StoredRuleError::NotAPattern {
                rule: e.line,
                kind: e.kind,
            })?;
            match rule {
                Some(rule) if rule.line == *line => rules.push(rule),
                _ => return Err(StoredRuleError::NotAsStored { rule: i + 1 }),
            }
        }
        Ok(Self { rules })
    }
}

fn parents(path: &str) -> impl Iterator<Item = &str> {
    path.match_indices('/').map(move |(i, _)| &path[..i])
}

#[cfg(test)]
mod tests {
    use super::{IgnoreRules, StoredRuleError};

    #[test]
    fn dockerignore_follows_dockers_rules() {
        let r = IgnoreRules::parse(
            "# comment\n*.pyc\nnode_modules\n**/__pycache__\n/build/\n!build/keep.txt\ndocs/*.md\n",
        )
        .unwrap();
        assert!(r.excludes("a.pyc"));
        assert!(
            !r.excludes("pkg/a.pyc"),
            "`*` does not cross directories in .dockerignore"
        );
        assert!(
            r.excludes("node_modules/x/index.js"),
            "a matched directory excludes its contents"
        );
        assert!(r.excludes("pkg/__pycache__/m.cpython-311.pyc"));
        assert!(r.excludes("build/out.bin"));
        assert!(!r.excludes("build/keep.txt"), "`!` re-includes");
        assert!(r.excludes("docs/a.md") && !r.excludes("docs/sub/a.md"));
        assert!(!r.excludes("server.py"));
    }

    #[test]
    fn rules_round_trip_through_a_plans_lines() {
        let text = "# comment\n  *.pyc \n\n/build/\n! build/keep.txt\n/#literal\n";
        let rules = IgnoreRules::parse(text).unwrap();
        let lines: Vec<String> = rules.clone().into();
        assert_eq!(lines, ["*.pyc", "/build/", "! build/keep.txt", "/#literal"]);
        let back = IgnoreRules::try_from(lines).unwrap();
        assert_eq!(back, rules);
        assert!(back.excludes("#literal") && !back.excludes("build/keep.txt"));
        for bad in ["[", "# comment", "", " *.pyc"] {
            let e = IgnoreRules::try_from(vec!["*.pyc".to_string(), bad.to_string()]).unwrap_err();
            assert!(
                matches!(
                    e,
                    StoredRuleError::NotAPattern { rule: 2, .. }
                        | StoredRuleError::NotAsStored { rule: 2 }
                ),
                "{bad}: {e}"
            );
        }
    }
}
