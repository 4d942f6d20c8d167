//! `.dockerignore`, with Docker's rules.

use globset::GlobMatcher;

/// The rules of a `.dockerignore` file, with Docker's semantics: patterns are relative to the
/// root, `*` stays within one path segment, `**` spans any number, a pattern that matches a
/// directory excludes what is inside it, `!` re-includes, and the last matching rule wins.
/// As with Docker, an excluded directory is still searched when a `!` pattern names something
/// inside it (its text starts with the directory's path).
#[derive(Debug, Default)]
pub struct IgnoreRules {
    rules: Vec<Rule>,
}

#[derive(Debug)]
struct Rule {
    glob: GlobMatcher,
    negated: bool,
    /// The pattern as matched: no leading `./` or `/`, no trailing `/`.
    text: String,
}

impl IgnoreRules {
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut rules = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
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
                continue;
            }
            let glob = globset::GlobBuilder::new(pattern)
                .literal_separator(true)
                .build()
                // The error's kind only: its text would quote the whole line.
                .map_err(|e| format!(".dockerignore line {}: {}", i + 1, e.kind()))?;
            rules.push(Rule {
                glob: glob.compile_matcher(),
                negated,
                text: pattern.to_string(),
            });
        }
        Ok(Self { rules })
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

fn parents(path: &str) -> impl Iterator<Item = &str> {
    path.match_indices('/').map(move |(i, _)| &path[..i])
}

#[cfg(test)]
mod tests {
    use super::IgnoreRules;

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
}
