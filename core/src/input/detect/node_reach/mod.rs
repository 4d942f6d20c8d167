//! Which packages a Node.js app loads when it runs: `require`/`import` followed from the files the
//! start command runs, through the app's own files. A start file that the build writes (`node
//! dist/index.js` after `tsc`) is not there yet: it is read from the source tsconfig.json compiles
//! it from (`outDir` → `rootDir`). When the start command runs no file this can follow (a
//! framework's binary, a shell script), every source file of the project counts, tests and
//! build-tool configurations aside.

use super::js_imports::{self, Load};
use crate::input::files::ProjectFiles;
use std::collections::{BTreeSet, VecDeque};
use std::path::Path;

/// The most files read for one project; past it the answer is "cannot tell".
const MAX_FILES: usize = 5000;

/// Where a package is loaded: the file (relative to the project root) and line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Place {
    pub file: String,
    pub line: usize,
}

/// What the app's files load.
#[derive(Debug, Clone, Default)]
pub(super) struct Reach {
    /// Package names, each with the first place that loads it.
    pub packages: Vec<(String, Place)>,
    /// The first `require(name)`/`import(name)` with a computed name.
    pub computed: Option<Place>,
    /// How many files were read.
    pub files: usize,
    /// Set when the walk stopped at [`MAX_FILES`].
    pub truncated: bool,
}

/// The JavaScript and TypeScript files a walk reads.
const EXTENSIONS: &[&str] = &["js", "mjs", "cjs", "jsx", "ts", "mts", "cts", "tsx"];

/// Follow every import from `entries` (files relative to `root`, which may name built output).
pub(super) fn follow(project: &ProjectFiles, entries: &[String], aliases: &Aliases) -> Reach {
    let mut reach = Reach::default();
    let mut seen = BTreeSet::new();
    let mut queue: VecDeque<String> = entries
        .iter()
        .filter_map(|e| resolve_file(project, e, aliases))
        .collect();
    while let Some(file) = queue.pop_front() {
        if !seen.insert(file.clone()) {
            continue;
        }
        if seen.len() > MAX_FILES {
            reach.truncated = true;
            break;
        }
        let dir = parent(&file);
        for path in reach.read(project, &file, aliases) {
            let path = if path.starts_with('.') {
                join(&dir, &path)
            } else {
                path
            };
            if let Some(next) = resolve_file(project, &path, aliases) {
                queue.push_back(next);
            }
        }
    }
    reach
}

/// Every source file of the project, for a start command whose files cannot be followed.
pub(super) fn scan_all(project: &ProjectFiles, aliases: &Aliases) -> Reach {
    let mut files = Vec::new();
    let mut truncated = false;
    collect(project, "", &mut files, &mut truncated);
    files.sort();
    let mut reach = follow_each(project, &files, aliases);
    reach.truncated |= truncated;
    reach
}

/// [`follow`] from each file on its own, without descending into what they import (every file is
/// read anyway).
fn follow_each(project: &ProjectFiles, files: &[String], aliases: &Aliases) -> Reach {
    let mut reach = Reach::default();
    for file in files {
        reach.read(project, file, aliases);
    }
    reach
}

impl Reach {
    /// Read `file`: the packages it loads and a computed load are recorded; the project's own
    /// modules it loads are returned (as written, or through an alias), to follow or not.
    fn read(&mut self, project: &ProjectFiles, file: &str, aliases: &Aliases) -> Vec<String> {
        let Some(text) = project.peek(file) else {
            return vec![];
        };
        self.files += 1;
        let mut local = Vec::new();
        for load in js_imports::loads(&text) {
            match load {
                Load::Computed { line } => {
                    self.computed.get_or_insert(Place {
                        file: file.to_string(),
                        line,
                    });
                }
                Load::Module { specifier, line } => match Specifier::of(&specifier, aliases) {
                    Specifier::Local(path) => local.push(path),
                    Specifier::Package(name) => self.add(name, file, line),
                    Specifier::Builtin => {}
                },
            }
        }
        local
    }

    fn add(&mut self, name: String, file: &str, line: usize) {
        if !self.packages.iter().any(|(n, _)| *n == name) {
            self.packages.push((
                name,
                Place {
                    file: file.to_string(),
                    line,
                },
            ));
        }
    }
}

/// Directories that hold no code the running app loads: dependencies, tests, tooling, VCS.
const SKIPPED_DIRS: &[&str] = &[
    "node_modules",
    "test",
    "tests",
    "__tests__",
    "__mocks__",
    "e2e",
    "cypress",
    "coverage",
    ".storybook",
    "stories",
];

/// Configuration files of build, test and lint tools: read by those tools, never by the app.
const TOOL_CONFIGS: &[&str] = &[
    "jest",
    "vitest",
    "vite",
    "webpack",
    "rollup",
    "babel",
    "eslint",
    "prettier",
    "tailwind",
    "postcss",
    "playwright",
    "cypress",
    "stylelint",
    "commitlint",
    "lint-staged",
    "tsup",
    "esbuild",
    "karma",
    "gulpfile",
    "gruntfile",
    "svelte",
    "astro",
    "drizzle",
    "knip",
    "release",
];

fn collect(project: &ProjectFiles, dir: &str, files: &mut Vec<String>, truncated: &mut bool) {
    for (name, kind) in project.entries(dir) {
        if files.len() >= MAX_FILES {
            *truncated = true;
            return;
        }
        let rel = if dir.is_empty() {
            name.clone()
        } else {
            format!("{dir}/{name}")
        };
        // A symlink is not followed: it may lead out of the project or round in a circle.
        if kind.is_dir() {
            if !name.starts_with('.') && !SKIPPED_DIRS.contains(&name.as_str()) {
                collect(project, &rel, files, truncated);
            }
        } else if kind.is_file() && !name.starts_with('.') && is_app_source(&name) {
            files.push(rel);
        }
    }
}

/// A JavaScript or TypeScript file that is neither a test, a story, a declaration, nor a build
/// tool's configuration (hidden files, `.eslintrc.js` and the like, are left out before).
fn is_app_source(name: &str) -> bool {
    let Some((stem, ext)) = name.rsplit_once('.') else {
        return false;
    };
    if !EXTENSIONS.contains(&ext) || stem.ends_with(".d") {
        return false;
    }
    let parts: Vec<&str> = stem.split('.').collect();
    if parts
        .iter()
        .skip(1)
        .any(|p| matches!(*p, "test" | "spec" | "stories" | "story" | "e2e" | "cy"))
    {
        return false;
    }
    let first = parts[0].to_ascii_lowercase();
    let is_config = parts[1..].contains(&"config") || first == "gulpfile" || first == "gruntfile";
    !(is_config && TOOL_CONFIGS.contains(&first.as_str()))
}

/// Module names that are the project's own files under another name: tsconfig.json's
/// `compilerOptions.paths` (`"@/*": ["src/*"]`), and where the build writes its output from.
#[derive(Debug, Clone, Default)]
pub(super) struct Aliases {
    /// (`@/`, `src/`): a prefix of a module name and the directory it stands for.
    pub paths: Vec<(String, String)>,
    /// tsconfig.json's `outDir` and `rootDir` (`dist/`, `src/`): a built file's source.
    pub out_dir: Option<(String, String)>,
}

impl Aliases {
    /// From tsconfig.json (JSON with comments and trailing commas, as TypeScript reads it).
    pub(super) fn read(project: &ProjectFiles) -> Self {
        let Some(text) = project.peek("tsconfig.json") else {
            return Self::default();
        };
        let Ok(json) = serde_json::from_str::<serde_json::Value>(&strip_jsonc(&text)) else {
            return Self::default();
        };
        let options = json.get("compilerOptions");
        let option = |name: &str| {
            options
                .and_then(|o| o.get(name))
                .and_then(|v| v.as_str())
                .map(clean)
        };
        let base = option("baseUrl").unwrap_or_default();
        let mut paths = Vec::new();
        if let Some(map) = options
            .and_then(|o| o.get("paths"))
            .and_then(|p| p.as_object())
        {
            for (pattern, targets) in map {
                let target = targets
                    .as_array()
                    .and_then(|a| a.first())
                    .and_then(|t| t.as_str());
                if let (Some(prefix), Some(target)) = (pattern.strip_suffix('*'), target) {
                    let dir = clean(target.trim_end_matches('*'));
                    paths.push((prefix.to_string(), join(&base, &dir)));
                }
            }
        }
        let out_dir = option("outDir").map(|out| {
            let root_dir = option("rootDir").unwrap_or_else(|| {
                if project.is_dir("src") {
                    "src".into()
                } else {
                    String::new()
                }
            });
            (out, root_dir)
        });
        Self { paths, out_dir }
    }
}

/// `./dist/` → `dist`; `.` → ``.
fn clean(path: &str) -> String {
    let trimmed = path.trim_start_matches("./").trim_end_matches('/');
    if trimmed == "." {
        String::new()
    } else {
        trimmed.to_string()
    }
}

/// What a module name stands for.
#[derive(Debug, PartialEq, Eq)]
enum Specifier {
    /// A file of the project: relative (`./x`), or through an alias (as a path from the root).
    Local(String),
    /// An npm package, by name (`@scope/name`, `name`).
    Package(String),
    /// Node.js's own (`fs`, `node:fs`), a subpath import (`#db`), or a URL.
    Builtin,
}

impl Specifier {
    fn of(specifier: &str, aliases: &Aliases) -> Self {
        if specifier.starts_with('.') || specifier.starts_with('/') {
            return Specifier::Local(specifier.to_string());
        }
        if let Some((prefix, dir)) = aliases
            .paths
            .iter()
            .find(|(p, _)| specifier.starts_with(p.as_str()))
        {
            return Specifier::Local(join(dir, &specifier[prefix.len()..]));
        }
        if specifier.starts_with("node:")
            || specifier.starts_with('#')
            || specifier.contains("://")
            || specifier.starts_with("data:")
        {
            return Specifier::Builtin;
        }
        let mut parts = specifier.split('/');
        let first = parts.next().unwrap_or("");
        let name = if first.starts_with('@') {
            match parts.next() {
                Some(second) if first.len() > 1 && !second.is_empty() => {
                    format!("{first}/{second}")
                }
                // `@/x` or `~/x` without a tsconfig alias: the project's own, by convention.
                _ => return Specifier::Builtin,
            }
        } else if first == "~" || first.is_empty() {
            return Specifier::Builtin;
        } else {
            first.to_string()
        };
        if NODE_BUILTINS.contains(&name.as_str()) {
            Specifier::Builtin
        } else {
            Specifier::Package(name)
        }
    }
}

/// The file a module path names, as Node.js and TypeScript resolve it: the path itself, with an
/// extension, or its `index`; a `.js` name of a TypeScript source (`./env.js` for `env.ts`); and
/// for a path under tsconfig's `outDir` that is not there (built output), its source.
fn resolve_file(project: &ProjectFiles, path: &str, aliases: &Aliases) -> Option<String> {
    let path = normalize(path)?;
    if let Some(found) = existing(project, &path) {
        return Some(found);
    }
    let (out, src) = aliases.out_dir.as_ref()?;
    let rest = if out.is_empty() {
        Some(path.as_str())
    } else {
        path.strip_prefix(out.as_str())
            .and_then(|r| r.strip_prefix('/'))
    }?;
    existing(project, &join(src, rest))
}

fn existing(project: &ProjectFiles, path: &str) -> Option<String> {
    let is_file = |p: &str| project.is_file(p);
    let has_code_extension = Path::new(path)
        .extension()
        .is_some_and(|e| EXTENSIONS.contains(&e.to_string_lossy().as_ref()));
    if has_code_extension && is_file(path) {
        return Some(path.to_string());
    }
    // `./env.js` written in a TypeScript source names `./env.ts`.
    let stem = path
        .strip_suffix(".js")
        .or_else(|| path.strip_suffix(".mjs"))
        .or_else(|| path.strip_suffix(".cjs"))
        .or_else(|| path.strip_suffix(".jsx"))
        .unwrap_or(path);
    for base in [stem, path] {
        for ext in EXTENSIONS {
            let candidate = format!("{base}.{ext}");
            if is_file(&candidate) {
                return Some(candidate);
            }
        }
    }
    for ext in EXTENSIONS {
        let candidate = join(path, &format!("index.{ext}"));
        if is_file(&candidate) {
            return Some(candidate);
        }
    }
    None
}

/// `a/./b/../c` → `a/c`; `None` when it climbs out of the project.
fn normalize(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.trim_start_matches('/').split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

fn join(dir: &str, path: &str) -> String {
    if dir.is_empty() {
        path.to_string()
    } else {
        format!("{dir}/{path}")
    }
}

fn parent(file: &str) -> String {
    file.rsplit_once('/')
        .map(|(d, _)| d.to_string())
        .unwrap_or_default()
}

/// tsconfig.json as JSON: `//` and `/* */` comments and trailing commas removed (outside strings).
fn strip_jsonc(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                let start = i;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                i = (i + 1).min(bytes.len());
                out.push_str(&text[start..i]);
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i < bytes.len() && !(bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/')) {
                    i += 1;
                }
                i = (i + 2).min(bytes.len());
            }
            b',' => {
                let next = text[i + 1..].trim_start_matches(|c: char| c.is_whitespace());
                if !(next.starts_with('}') || next.starts_with(']')) {
                    out.push(',');
                }
                i += 1;
            }
            _ => {
                let ch = text[i..].chars().next().unwrap_or(' ');
                out.push(ch);
                i += ch.len_utf8();
            }
        }
    }
    out
}

/// Node.js's own modules, loadable without `node:`.
const NODE_BUILTINS: &[&str] = &[
    "assert",
    "async_hooks",
    "buffer",
    "child_process",
    "cluster",
    "console",
    "constants",
    "crypto",
    "dgram",
    "diagnostics_channel",
    "dns",
    "domain",
    "events",
    "fs",
    "http",
    "http2",
    "https",
    "inspector",
    "module",
    "net",
    "os",
    "path",
    "perf_hooks",
    "process",
    "punycode",
    "querystring",
    "readline",
    "repl",
    "stream",
    "string_decoder",
    "sys",
    "timers",
    "tls",
    "trace_events",
    "tty",
    "url",
    "util",
    "v8",
    "vm",
    "wasi",
    "worker_threads",
    "zlib",
];

#[cfg(test)]
mod tests;
