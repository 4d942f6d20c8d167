//! What git ignores in a work tree: App Runner builds the committed tree of the branch, so a file
//! git ignores (a `.env`, a local `.venv` or `node_modules`) never reaches it. The rules are git's
//! own, read with ripgrep's `ignore` crate: every `.gitignore` from the repository's top down to
//! the file, then `.git/info/exclude`, then the global excludes file (`core.excludesFile`, else
//! `$XDG_CONFIG_HOME/git/ignore`). A deeper file's rule wins over a shallower one's, and what is
//! in an ignored directory is ignored whatever its own rules say, as in git.
//!
//! Only the rules are read, not git's index: a file committed despite a rule (`git add -f`) is
//! left out too. The log names what was left out, and `--include-git-ignored` takes everything.

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use ignore::Match;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The most of one ignore file that is read.
const MAX_IGNORE_FILE: u64 = 1024 * 1024;

/// Git's ignore rules for the work tree a source directory is in.
#[derive(Debug)]
pub struct GitIgnore {
    /// The source root, canonical.
    root: PathBuf,
    /// The repository's top: the directory that holds `.git`.
    top: PathBuf,
    /// `.git/info/exclude`, then the global excludes file: below every `.gitignore`.
    base: Vec<Gitignore>,
    /// Each directory's `.gitignore`, read when first needed (`None`: it has none).
    dirs: HashMap<PathBuf, Option<Gitignore>>,
}

impl GitIgnore {
    /// The rules for `root`, when it is in a git work tree (a `.git` directory or file in it or
    /// above it); `None` outside git.
    pub fn for_root(root: &Path) -> Option<Self> {
        let root = root.canonicalize().ok()?;
        let top = root
            .ancestors()
            .find(|d| d.join(".git").exists())?
            .to_path_buf();
        let mut base = Vec::new();
        let exclude = git_dir(&top).map(|g| g.join("info/exclude"));
        if let Some(rules) = exclude.and_then(|f| read_rules(&top, &f)) {
            base.push(rules);
        }
        if let Some(rules) =
            ignore::gitignore::gitconfig_excludes_path().and_then(|f| read_rules(&top, &f))
        {
            base.push(rules);
        }
        Some(GitIgnore {
            root,
            top,
            base,
            dirs: HashMap::new(),
        })
    }

    /// Every entry under the source root that git ignores, as paths from the root, sorted; an
    /// ignored directory is one entry (git does not look inside it). `.git` is not walked.
    /// `plan --dockerfile` writes them into `.dockerignore`: Docker reads no `.gitignore`.
    pub fn ignored_entries(&mut self) -> Vec<String> {
        let mut found = Vec::new();
        let mut dirs = vec![self.root.clone()];
        while let Some(dir) = dirs.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                if entry.file_name() == ".git" {
                    continue;
                }
                let path = entry.path();
                // A symlink to a directory is a link in the copy, not a directory to enter.
                let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
                if self.ignored(&path, is_dir) {
                    if let Ok(rel) = path.strip_prefix(&self.root) {
                        found.push(rel.to_string_lossy().into_owned());
                    }
                } else if is_dir {
                    dirs.push(path);
                }
            }
        }
        found.sort();
        found
    }

    /// Whether git ignores `relative` (a path under the source root), or a directory it is in.
    pub fn ignores(&mut self, relative: &Path) -> bool {
        let mut path = self.root.clone();
        let mut parts = relative.components().peekable();
        while let Some(part) = parts.next() {
            path.push(part);
            let is_dir = parts.peek().is_some() || path.is_dir();
            if self.ignored(&path, is_dir) {
                return true;
            }
        }
        false
    }

    /// Whether git ignores `path` (absolute, under the top; canonical as [`GitIgnore::for_root`]
    /// made its root). Its ancestors are not looked at: a walk does not enter an ignored
    /// directory.
    pub fn ignored(&mut self, path: &Path, is_dir: bool) -> bool {
        let Ok(rel) = path.strip_prefix(&self.top) else {
            return false;
        };
        if rel.as_os_str().is_empty() || rel.starts_with(".git") {
            return false;
        }
        // The deepest `.gitignore` with something to say decides.
        let parent = path.parent().unwrap_or(&self.top).to_path_buf();
        for dir in parent.ancestors() {
            if let Some(rules) = self.dir_rules(dir) {
                match rules.matched(path, is_dir) {
                    Match::Ignore(_) => return true,
                    Match::Whitelist(_) => return false,
                    Match::None => {}
                }
            }
            if dir == self.top {
                break;
            }
        }
        for rules in &self.base {
            match rules.matched(path, is_dir) {
                Match::Ignore(_) => return true,
                Match::Whitelist(_) => return false,
                Match::None => {}
            }
        }
        false
    }

    fn dir_rules(&mut self, dir: &Path) -> Option<&Gitignore> {
        self.dirs
            .entry(dir.to_path_buf())
            .or_insert_with(|| read_rules(dir, &dir.join(".gitignore")))
            .as_ref()
    }
}

/// The git directory of the work tree at `top`: `.git`, or where a `.git` file (a linked work
/// tree, a submodule) points.
fn git_dir(top: &Path) -> Option<PathBuf> {
    let dot_git = top.join(".git");
    if dot_git.is_dir() {
        return Some(dot_git);
    }
    // A few lines at most: `gitdir: PATH`.
    let mut text = String::new();
    std::io::Read::read_to_string(
        &mut std::io::Read::take(std::fs::File::open(&dot_git).ok()?, 4096),
        &mut text,
    )
    .ok()?;
    let target = text.trim().strip_prefix("gitdir:")?.trim();
    Some(top.join(target))
}

/// The rules of the ignore file `file`, matched from `dir`; none when it is absent, not a
/// regular file, or larger than [`MAX_IGNORE_FILE`].
fn read_rules(dir: &Path, file: &Path) -> Option<Gitignore> {
    let meta = std::fs::metadata(file).ok()?;
    if !meta.is_file() || meta.len() > MAX_IGNORE_FILE {
        return None;
    }
    let mut builder = GitignoreBuilder::new(dir);
    // A line that is not a valid glob is skipped, as git skips it.
    let _ = builder.add(file);
    builder.build().ok().filter(|rules| !rules.is_empty())
}

#[cfg(test)]
mod tests {
    use super::GitIgnore;
    use std::path::Path;

    fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        dir
    }

    fn ignored(rules: &mut GitIgnore, root: &Path, rel: &str) -> bool {
        let path = root.canonicalize().unwrap().join(rel);
        let is_dir = path.is_dir();
        rules.ignored(&path, is_dir)
    }

    #[test]
    fn outside_git_there_are_no_rules() {
        let dir = tree(&[(".gitignore", ".env\n")]);
        assert!(GitIgnore::for_root(dir.path()).is_none());
    }

    #[test]
    fn gitignore_files_at_every_level_and_info_exclude_apply_as_in_git() {
        let dir = tree(&[
            (".git/info/exclude", "scratch.txt\n"),
            (".gitignore", ".env\nnode_modules/\n*.log\n!keep.log\n"),
            ("app/.gitignore", "!local.log\n.venv\n"),
            ("app/.env", "DB_PASSWORD=x"),
            ("app/node_modules/x/index.js", ""),
            ("app/.venv/bin/python", ""),
            ("app/debug.log", ""),
            ("app/local.log", ""),
            ("keep.log", ""),
            ("scratch.txt", ""),
            ("app/server.js", ""),
        ]);
        let root = dir.path().join("app");
        let mut rules = GitIgnore::for_root(&root).expect("in a work tree");
        for (rel, expected) in [
            ("app/.env", true),
            ("app/node_modules", true),
            ("app/.venv", true),
            ("app/debug.log", true),
            ("app/local.log", false),
            ("keep.log", false),
            ("scratch.txt", true),
            ("app/server.js", false),
            (".git/info/exclude", false),
        ] {
            assert_eq!(ignored(&mut rules, dir.path(), rel), expected, "{rel}");
        }
    }

    #[test]
    fn a_linked_work_tree_finds_its_git_directory() {
        let dir = tree(&[
            ("main-git/info/exclude", "secret.txt\n"),
            ("wt/secret.txt", ""),
            ("wt/app.py", ""),
        ]);
        std::fs::write(
            dir.path().join("wt/.git"),
            format!("gitdir: {}\n", dir.path().join("main-git").display()),
        )
        .unwrap();
        let mut rules = GitIgnore::for_root(&dir.path().join("wt")).unwrap();
        assert!(ignored(&mut rules, dir.path(), "wt/secret.txt"));
        assert!(!ignored(&mut rules, dir.path(), "wt/app.py"));
    }
}
