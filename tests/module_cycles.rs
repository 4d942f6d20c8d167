//! No two files of the crate need each other: a check of the module graph, run by `cargo test`.
//!
//! A node per `.rs` file of `core/src` (crate `apprunner_build`) and `src/` (the command line).
//! An edge A → B when A's code outside its tests names an item of B: through `use crate::…`,
//! `use super::…`, `use self::…` (or a name of a child module), or a `crate::…`/`super::…`/
//! `self::…` path in its code. A path resolves to the file that defines the item: a `pub use`
//! is an alias, followed to where the item is defined, and makes no edge of its own; nor does a
//! `mod x;` declaration (a parent declares its children, and they use it). Every strongly
//! connected component of more than one file is a cycle, and fails the test.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

/// One source file: where it is, which crate and module it is, and its text.
struct File {
    path: String,
    krate: &'static str,
    module: Vec<String>,
    text: String,
}

#[test]
fn no_module_cycles_in_the_crate() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    read_crate(root, "core/src", "apprunner_build", &mut files);
    read_crate(root, "src", "cli", &mut files);
    assert!(
        files.iter().any(|f| f.path.starts_with("core/src/engine/")),
        "the check found no files of the engine: is it run from the repository?"
    );
    let cycles = cycles(&files);
    let failing = cycles;
    assert!(
        failing.is_empty(),
        "module cycles (each line: files that need each other):\n{}",
        failing
            .iter()
            .map(|c| c.iter().cloned().collect::<Vec<_>>().join(" <-> "))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn the_checker_finds_a_seeded_cycle_through_a_re_export() {
    // a uses b's item through the parent's re-export, b uses a: one cycle. The parent re-exports
    // both and is used by both, and is in none: a `pub use` is an alias, a `mod` no edge.
    let file = |path: &str, module: &[&str], text: &str| File {
        path: path.into(),
        krate: "k",
        module: module.iter().map(|s| s.to_string()).collect(),
        text: text.into(),
    };
    let files = vec![
        file(
            "lib.rs",
            &[],
            "mod a; mod b; mod c; pub use b::Bee; pub struct Root;",
        ),
        file(
            "a.rs",
            &["a"],
            "use crate::Bee; use super::Root; pub fn ay() {}",
        ),
        file(
            "b.rs",
            &["b"],
            "pub struct Bee; fn f() { crate::a::ay() }\n#[cfg(test)]\nmod tests { use crate::c::Sea; }",
        ),
        file("c.rs", &["c"], "use crate::b::Bee; pub struct Sea;"),
    ];
    let found = cycles(&files);
    println!("seeded cycle found: {found:?}");
    let expected: BTreeSet<String> = ["a.rs", "b.rs"].iter().map(|s| s.to_string()).collect();
    assert_eq!(found, vec![expected]);
}

fn read_crate(repo: &Path, dir: &str, krate: &'static str, out: &mut Vec<File>) {
    let base = repo.join(dir);
    let mut stack = vec![base.clone()];
    while let Some(at) = stack.pop() {
        for entry in std::fs::read_dir(&at).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(&base).unwrap();
            // A `tests.rs` is a test module's body.
            if rel.file_name().is_some_and(|n| n == "tests.rs") {
                continue;
            }
            out.push(File {
                path: Path::new(dir).join(rel).display().to_string(),
                krate,
                module: module_of(rel),
                text: std::fs::read_to_string(&path).unwrap(),
            });
        }
    }
}

/// `a/b.rs` and `a/b/mod.rs` are module `a::b`; `lib.rs` and `main.rs` the crate root.
fn module_of(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// Every strongly connected component of more than one file, each as its files' paths.
fn cycles(files: &[File]) -> Vec<BTreeSet<String>> {
    let graph = Graph::new(files);
    let edges: Vec<BTreeSet<usize>> = files
        .iter()
        .enumerate()
        .map(|(i, f)| graph.edges_of(i, f))
        .collect();
    if let Ok(which) = std::env::var("MODULE_EDGES_OF") {
        for (i, f) in files.iter().enumerate() {
            if f.path.contains(&which) {
                let to: Vec<&str> = edges[i].iter().map(|&t| files[t].path.as_str()).collect();
                println!("{} -> {to:?}", f.path);
            }
        }
    }
    let mut found: Vec<BTreeSet<String>> = strongly_connected(&edges)
        .into_iter()
        .filter(|c| c.len() > 1)
        .map(|c| c.into_iter().map(|i| files[i].path.clone()).collect())
        .collect();
    found.sort();
    found
}

struct Graph<'a> {
    files: &'a [File],
    /// (crate, module path) → file index.
    modules: HashMap<(&'static str, Vec<String>), usize>,
    /// Each file's code outside its test modules, comments and strings blanked.
    code: Vec<String>,
}

impl<'a> Graph<'a> {
    fn new(files: &'a [File]) -> Self {
        let modules = files
            .iter()
            .enumerate()
            .map(|(i, f)| ((f.krate, f.module.clone()), i))
            .collect();
        let code = files
            .iter()
            .map(|f| without_tests(&blank(&f.text)))
            .collect();
        Graph {
            files,
            modules,
            code,
        }
    }

    fn edges_of(&self, i: usize, file: &File) -> BTreeSet<usize> {
        let code = &self.code[i];
        let mut targets = BTreeSet::new();
        for (public, paths) in use_statements(code) {
            // A re-export is an alias: whoever uses it reaches the defining file.
            if public {
                continue;
            }
            for path in paths {
                if let Some(t) = self.resolve(file, &path, 0) {
                    targets.insert(t);
                }
            }
        }
        for path in code_paths(&strip_uses(code)) {
            if let Some(t) = self.resolve(file, &path, 0) {
                targets.insert(t);
            }
        }
        targets.remove(&i);
        targets
    }

    /// The file that defines what `path` (as written in `from`) names; `None`: outside the crate.
    fn resolve(&self, from: &File, path: &[String], depth: usize) -> Option<usize> {
        if depth > 16 {
            return None;
        }
        let mut module = from.module.clone();
        let mut rest = path;
        match rest.first().map(String::as_str) {
            Some("crate") => {
                module.clear();
                rest = &rest[1..];
            }
            Some("self") => rest = &rest[1..],
            Some("super") => {
                while rest.first().map(String::as_str) == Some("super") {
                    module.pop();
                    rest = &rest[1..];
                }
            }
            // A child module's name, as a path's start.
            Some(first) => {
                let mut child = module.clone();
                child.push(first.to_string());
                if !self.modules.contains_key(&(from.krate, child)) {
                    return None;
                }
            }
            None => return None,
        }
        // The longest prefix that is a module of a file.
        while let Some(next) = rest.first() {
            let mut child = module.clone();
            child.push(next.clone());
            if !self.modules.contains_key(&(from.krate, child.clone())) {
                break;
            }
            module = child;
            rest = &rest[1..];
        }
        let at = *self.modules.get(&(from.krate, module))?;
        let Some(name) = rest.first() else {
            return Some(at);
        };
        if name == "*" {
            return Some(at);
        }
        self.defining(at, name, depth)
    }

    /// The file that defines `name`, as seen from file `at`: `at` itself, or where a `pub use`
    /// in it leads.
    fn defining(&self, at: usize, name: &str, depth: usize) -> Option<usize> {
        let file = &self.files[at];
        let code = &self.code[at];
        let mut globs = Vec::new();
        for (public, paths) in use_statements(code) {
            if !public {
                continue;
            }
            for path in paths {
                let last = path.last().map(String::as_str);
                if last == Some("*") {
                    globs.push(path);
                } else if exported_name(&path) == name {
                    let target = path
                        .split_last()
                        .map(|(_, p)| p.to_vec())
                        .unwrap_or_default();
                    let original = original_name(&path);
                    let mut full = target;
                    if original != "self" {
                        full.push(original);
                    }
                    return self.resolve(file, &full, depth + 1).or(Some(at));
                }
            }
        }
        if defines(code, name) {
            return Some(at);
        }
        for glob in globs {
            let mut full = glob[..glob.len() - 1].to_vec();
            full.push(name.to_string());
            if let Some(found) = self.resolve(file, &full, depth + 1) {
                if found != at {
                    return Some(found);
                }
            }
        }
        Some(at)
    }
}

/// A use path's last segment is `name` or `name as alias`, kept as one segment "name as alias".
fn exported_name(path: &[String]) -> String {
    let last = path.last().cloned().unwrap_or_default();
    match last.split_once(" as ") {
        Some((_, alias)) => alias.to_string(),
        None => last,
    }
}

fn original_name(path: &[String]) -> String {
    let last = path.last().cloned().unwrap_or_default();
    match last.split_once(" as ") {
        Some((name, _)) => name.to_string(),
        None => last,
    }
}

/// Whether `code` defines an item called `name` at any level.
fn defines(code: &str, name: &str) -> bool {
    let words: Vec<&str> = code
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '!'))
        .filter(|w| !w.is_empty())
        .collect();
    words.windows(2).any(|w| {
        w[1] == name
            && matches!(
                w[0],
                "fn" | "struct"
                    | "enum"
                    | "const"
                    | "static"
                    | "type"
                    | "trait"
                    | "mod"
                    | "macro_rules!"
                    | "union"
            )
    })
}

/// Comments, string and char literals replaced by spaces (lengths kept).
fn blank(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut level = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    level += 1;
                    out.push_str("  ");
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    level -= 1;
                    out.push_str("  ");
                    i += 2;
                    if level == 0 {
                        break;
                    }
                } else {
                    out.push(if chars[i] == '\n' { '\n' } else { ' ' });
                    i += 1;
                }
            }
        } else if c == 'r' && (next == Some('"') || (next == Some('#') && is_raw_start(&chars, i)))
        {
            // A raw string: r"…" or r#"…"#.
            let mut hashes = 0;
            let mut j = i + 1;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            j += 1;
            loop {
                if j >= chars.len() {
                    break;
                }
                if chars[j] == '"' && (0..hashes).all(|h| chars.get(j + 1 + h) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            for &k in &chars[i..j.min(chars.len())] {
                out.push(if k == '\n' { '\n' } else { ' ' });
            }
            i = j;
        } else if c == '"' {
            out.push(' ');
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                if i < chars.len() {
                    out.push(if chars[i] == '\n' { '\n' } else { ' ' });
                    i += 1;
                }
            }
            out.push(' ');
            i += 1;
        } else if c == '\'' && is_char_literal(&chars, i) {
            // Past the escaped character, if any, to the closing quote.
            let mut j = if chars.get(i + 1) == Some(&'\\') {
                i + 3
            } else {
                i + 2
            };
            while j < chars.len() && chars[j] != '\'' {
                j += 1;
            }
            for _ in i..=j.min(chars.len() - 1) {
                out.push(' ');
            }
            i = j + 1;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn is_raw_start(chars: &[char], i: usize) -> bool {
    let before_ok = i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
    let mut j = i + 1;
    while chars.get(j) == Some(&'#') {
        j += 1;
    }
    before_ok && chars.get(j) == Some(&'"')
}

/// A char literal rather than a lifetime: `'x'` or `'\n'`.
fn is_char_literal(chars: &[char], i: usize) -> bool {
    match chars.get(i + 1) {
        Some('\\') => true,
        Some(_) => chars.get(i + 2) == Some(&'\''),
        None => false,
    }
}

/// The code with every item under a `#[cfg(…test…)]` (a test module, inline) left out.
fn without_tests(code: &str) -> String {
    let mut out = String::new();
    let mut rest = code;
    while let Some(at) = rest.find("#[cfg(") {
        let attribute_end = rest[at..].find(']').map_or(rest.len(), |e| at + e + 1);
        let attribute = &rest[at..attribute_end];
        let for_tests = attribute
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .any(|w| w == "test")
            && !attribute.contains("not(test");
        if !for_tests {
            out.push_str(&rest[..attribute_end]);
            rest = &rest[attribute_end..];
            continue;
        }
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        // The item ends at its `;` (a `mod tests;`) or its closing brace.
        let semi = after.find(';');
        let brace = after.find('{');
        let end = match (semi, brace) {
            (Some(s), Some(b)) if s < b => s + 1,
            (_, Some(b)) => b + matching_brace(&after[b..]),
            (Some(s), None) => s + 1,
            (None, None) => after.len(),
        };
        rest = &after[end.min(after.len())..];
    }
    out.push_str(rest);
    out
}

/// The length up to and including the brace that closes the one `text` starts with.
fn matching_brace(text: &str) -> usize {
    let mut level = 0;
    for (i, c) in text.char_indices() {
        match c {
            '{' => level += 1,
            '}' => {
                level -= 1;
                if level == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
    }
    text.len()
}

/// Each `use` statement: whether it is public (a re-export), and the paths it names.
fn use_statements(code: &str) -> Vec<(bool, Vec<Vec<String>>)> {
    let mut out = Vec::new();
    for (start, end) in use_spans(code) {
        let statement = &code[start..end];
        let public = statement.trim_start().starts_with("pub");
        let tree = &statement[statement.find("use ").unwrap() + 4..statement.len() - 1];
        let mut paths = Vec::new();
        expand(tree, Vec::new(), &mut paths);
        out.push((public, paths));
    }
    out
}

/// Where each `use …;` statement (with its `pub`) starts and ends.
fn use_spans(code: &str) -> Vec<(usize, usize)> {
    let bytes = code.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while let Some(found) = code[i..].find("use ") {
        let at = i + found;
        let word_start =
            at == 0 || !(bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_');
        i = at + 4;
        if !word_start {
            continue;
        }
        // A statement: `use` begins it, or `pub …` just before.
        let line_start = code[..at].rfind(['\n', ';', '{', '}']).map_or(0, |p| p + 1);
        let before = code[line_start..at].trim();
        if !(before.is_empty() || before.starts_with("pub") || before.starts_with("#[")) {
            continue;
        }
        let Some(end) = code[at..].find(';') else {
            break;
        };
        let start = if before.starts_with("pub") {
            line_start + code[line_start..at].find("pub").unwrap()
        } else {
            at
        };
        spans.push((start, at + end + 1));
        i = at + end + 1;
    }
    spans
}

/// `a::{b, c::{d as e, self}}` as paths [a,b], [a,c,"d as e"], [a,c].
fn expand(tree: &str, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    let tree = tree.trim();
    if tree.is_empty() {
        return;
    }
    if let Some(brace) = tree.find('{') {
        let head = tree[..brace].trim().trim_end_matches("::");
        let mut base = prefix.clone();
        base.extend(segments(head));
        let close = brace + matching_brace(&tree[brace..]) - 1;
        let inner = &tree[brace + 1..close];
        for part in split_top_level(inner) {
            if part.trim() == "self" {
                out.push(base.clone());
            } else {
                expand(part, base.clone(), out);
            }
        }
        return;
    }
    let mut path = prefix;
    let (path_text, alias) = match tree.split_once(" as ") {
        Some((p, a)) => (p.trim(), Some(a.trim())),
        None => (tree, None),
    };
    let mut parts = segments(path_text);
    if let (Some(alias), Some(last)) = (alias, parts.last_mut()) {
        *last = format!("{last} as {alias}");
    }
    path.extend(parts);
    if path.last().is_some_and(|l| l == "self") {
        path.pop();
    }
    out.push(path);
}

fn segments(text: &str) -> Vec<String> {
    text.split("::")
        .map(|s| s.split_whitespace().collect::<Vec<_>>().join(""))
        .filter(|s| !s.is_empty())
        .collect()
}

fn split_top_level(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut level = 0;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        match c {
            '{' => level += 1,
            '}' => level -= 1,
            ',' if level == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// The code with its `use` statements blanked.
fn strip_uses(code: &str) -> String {
    let mut out = code.to_string();
    for (start, end) in use_spans(code) {
        out.replace_range(start..end, &" ".repeat(end - start));
    }
    out
}

/// Every `crate::…`, `super::…` or `self::…` path in code, as its segments up to the last name.
fn code_paths(code: &str) -> Vec<Vec<String>> {
    let bytes = code.as_bytes();
    let mut out = Vec::new();
    for start_word in ["crate::", "super::", "self::"] {
        let mut i = 0;
        while let Some(found) = code[i..].find(start_word) {
            let at = i + found;
            i = at + start_word.len();
            if at > 0
                && (bytes[at - 1].is_ascii_alphanumeric()
                    || bytes[at - 1] == b'_'
                    || bytes[at - 1] == b':')
            {
                continue;
            }
            let end = code[at..]
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .map_or(code.len(), |e| at + e);
            let path: Vec<String> = code[at..end]
                .trim_end_matches(':')
                .split("::")
                .map(str::to_string)
                .collect();
            out.push(path);
        }
    }
    out
}

/// Tarjan's algorithm: the strongly connected components of a graph given as adjacency sets.
fn strongly_connected(edges: &[BTreeSet<usize>]) -> Vec<Vec<usize>> {
    struct State<'e> {
        edges: &'e [BTreeSet<usize>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        components: Vec<Vec<usize>>,
    }
    fn visit(s: &mut State, v: usize) {
        s.index[v] = Some(s.next);
        s.low[v] = s.next;
        s.next += 1;
        s.stack.push(v);
        s.on_stack[v] = true;
        for &w in s.edges[v].iter() {
            match s.index[w] {
                None => {
                    visit(s, w);
                    s.low[v] = s.low[v].min(s.low[w]);
                }
                Some(iw) if s.on_stack[w] => s.low[v] = s.low[v].min(iw),
                Some(_) => {}
            }
        }
        if Some(s.low[v]) == s.index[v] {
            let mut component = Vec::new();
            loop {
                let w = s.stack.pop().unwrap();
                s.on_stack[w] = false;
                component.push(w);
                if w == v {
                    break;
                }
            }
            s.components.push(component);
        }
    }
    let n = edges.len();
    let mut s = State {
        edges,
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        next: 0,
        components: Vec::new(),
    };
    for v in 0..n {
        if s.index[v].is_none() {
            visit(&mut s, v);
        }
    }
    s.components
}
