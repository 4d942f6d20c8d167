//! Quoting for the Dockerfile and `.dockerignore` an eject writes: each value is written so
//! that Docker reads back exactly it.

/// A double-quoted value for `ARG`, `ENV` and `LABEL`, which expand `$` and read `\` escapes;
/// `None` for a line break, which no instruction can hold.
pub fn quoted(value: &str) -> Option<String> {
    if value.contains(['\n', '\r']) {
        return None;
    }
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if matches!(c, '"' | '\\' | '$') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    Some(out)
}

/// A value for `sh`, single-quoted.
pub fn sh_quoted(value: &str) -> String {
    format!("'{}'", value.replace('\'', "'\\''"))
}

/// A JSON string: the exec form of `RUN`, `CMD`, `ENTRYPOINT` and `COPY`.
pub fn json(value: &str) -> String {
    serde_json::to_string(value).expect("a string serializes")
}

/// A `RUN` of `/bin/sh -c command`, as the engine runs a step: the shell form where Docker reads
/// the line back unchanged, else the exec form (a line break, a trailing `\` that would continue
/// the line, a `[` that would be read as JSON, a `<<` that BuildKit reads as a here-document).
pub fn run(command: &str) -> String {
    let plain = !command.contains(['\n', '\r'])
        && !command.trim_end().ends_with('\\')
        && !command.trim_start().starts_with('[')
        && !command.contains("<<")
        && !command.trim().is_empty();
    if plain {
        format!("RUN {command}")
    } else {
        format!("RUN [\"/bin/sh\", \"-c\", {}]", json(command))
    }
}

/// A path in `COPY`: as it is when Docker reads it so, else in the JSON form's quotes.
pub fn copy(from: Option<&str>, source: &str, dest: &str) -> String {
    let from = from.map(|f| format!("--from={f} ")).unwrap_or_default();
    let bare = |p: &str| {
        !p.is_empty()
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || "._/-+@=,".contains(c))
    };
    if bare(source) && bare(dest) {
        format!("COPY {from}{source} {dest}")
    } else {
        format!("COPY {from}[{}, {}]", json(source), json(dest))
    }
}

/// A path as a `.dockerignore` line that matches it alone: pattern characters escaped, and a
/// leading `!` or `#` too. Docker trims each line, so an edge space is written `?` (any one
/// character), which may also match a neighbour differing only there.
pub fn ignore_literal(path: &str) -> String {
    let mut out = String::from("/");
    let chars: Vec<char> = path.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        let edge = i == 0 || i + 1 == chars.len();
        match c {
            '*' | '?' | '[' | ']' | '\\' => {
                out.push('\\');
                out.push(*c);
            }
            c if edge && c.is_whitespace() => out.push('?'),
            c => out.push(*c),
        }
    }
    out
}

/// A Dockerfile stage name (`[a-z][a-z0-9._-]*`) for a plan's stage name.
pub fn stage_name(name: &str) -> String {
    let mut out: String = name
        .to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    if !out.starts_with(|c: char| c.is_ascii_lowercase()) {
        out.insert_str(0, "stage-");
    }
    out
}
