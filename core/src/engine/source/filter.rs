//! What the plan leaves out of the source: its `.dockerignore` rules (read when the plan was
//! made, never here) and, when the plan says so, what git ignores in the work tree, as App Runner
//! builds the committed tree.

use crate::input::dockerignore::IgnoreRules;
use crate::input::git_ignore::GitIgnore;
use crate::plan::BuildPlan;
use std::path::Path;

/// The most names of git-ignored entries the log shows.
const NAMED: usize = 5;

/// The plan's exclusions, for one walk.
pub struct SourceFilter {
    pub(super) rules: IgnoreRules,
    git: Option<GitIgnore>,
}

/// What git's rules left out of one walk.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GitLeftOut {
    /// Entries left out (an ignored directory counts once: git does not look inside it).
    pub count: u64,
    /// The first few, as paths from the source root.
    pub first: Vec<String>,
}

impl SourceFilter {
    /// The exclusions `plan` names for its source root.
    pub fn of_plan(plan: &BuildPlan) -> Self {
        Self::new(
            &plan.source_root,
            plan.excludes.clone(),
            plan.leaves_out_git_ignored,
        )
    }

    /// `rules`, and git's rules for `root` when `git_ignored` (and `root` is in a work tree).
    pub fn new(root: &Path, rules: IgnoreRules, git_ignored: bool) -> Self {
        let git = git_ignored.then(|| GitIgnore::for_root(root)).flatten();
        SourceFilter { rules, git }
    }

    /// Leaves out nothing.
    pub fn none() -> Self {
        SourceFilter {
            rules: IgnoreRules::default(),
            git: None,
        }
    }

    /// Whether git ignores `rel`; counted in `left_out` when it does.
    pub(super) fn git_ignores(&mut self, rel: &Path, left_out: &mut GitLeftOut) -> bool {
        let Some(git) = self.git.as_mut() else {
            return false;
        };
        if !git.ignores(rel) {
            return false;
        }
        left_out.count += 1;
        if left_out.first.len() < NAMED {
            left_out.first.push(rel.to_string_lossy().into_owned());
        }
        true
    }
}

impl GitLeftOut {
    /// The log line that says what git's rules left out, when they left out anything.
    pub fn line(&self) -> Option<String> {
        if self.count == 0 {
            return None;
        }
        let more = if self.count > self.first.len() as u64 {
            ", …"
        } else {
            ""
        };
        Some(format!(
            "Left out {} entr{} that git ignores, as App Runner builds only the committed tree: {}{more} (--include-git-ignored builds them).",
            self.count,
            if self.count == 1 { "y" } else { "ies" },
            self.first.join(", ")
        ))
    }
}
