//! A project's Dockerfile, read for one thing: when detection finds no start command, the final
//! stage's CMD / ENTRYPOINT is offered as the `web:` line to write, with `$PORT` in place of the
//! port it binds. It is never used on its own: the image it was written for is not the one built
//! here.

use crate::input::files::ProjectFiles;
use std::fmt;

/// The command a project's Dockerfile starts its container with, as the `web:` line to suggest
/// when detection finds no start command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct DockerfileStart {
    /// A shell line: an exec form's words joined (quoted where the shell needs it), ENTRYPOINT
    /// and CMD combined as Docker combines them, `$PORT` in place of a port it binds.
    pub(super) command: String,
    /// The instructions it came from.
    pub(super) from: DockerfileLines,
    pub(super) port: DockerfilePort,
}

/// The lines (1-based) of the final stage's ENTRYPOINT and CMD that make the command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct DockerfileLines {
    pub(super) entrypoint: Option<usize>,
    pub(super) cmd: Option<usize>,
}

/// What became of the port the command listens on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DockerfilePort {
    /// This hard-coded port (`--port 8000`, `-b :8000`, `PORT=8000`) is `$PORT` in the command.
    Replaced(u16),
    /// The command already reads `$PORT`.
    FromEnv,
    /// No port this reader knows how to replace (`python3 app.py`, `http.server 8000`): whether
    /// it listens on $PORT is not known from here.
    Unknown,
}

impl fmt::Display for DockerfileLines {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.entrypoint, self.cmd) {
            (Some(e), Some(c)) => write!(f, "ENTRYPOINT and CMD (lines {e} and {c})"),
            (Some(e), None) => write!(f, "ENTRYPOINT (line {e})"),
            (None, Some(c)) => write!(f, "CMD (line {c})"),
            (None, None) => write!(f, "start command"),
        }
    }
}

impl DockerfileStart {
    /// The note for an error that suggests `web: {command}`: where it came from and what became
    /// of its port, in the same words for every language.
    pub(super) fn note(&self) -> String {
        let from = format!("the Dockerfile's {}", self.from);
        match self.port {
            DockerfilePort::Replaced(port) => format!(
                "the suggested web: line is {from}, with $PORT in place of its port {port}: App Runner sends requests to $PORT ({})",
                crate::input::config::DEFAULT_PORT
            ),
            DockerfilePort::FromEnv => format!("the suggested web: line is {from}"),
            DockerfilePort::Unknown => format!(
                "the suggested web: line is {from}: check that it listens on $PORT ({}), where App Runner sends requests",
                crate::input::config::DEFAULT_PORT
            ),
        }
    }
}

/// The final stage's command in the project's `Dockerfile`: its last ENTRYPOINT and last CMD
/// (a stage built `FROM` an earlier one inherits them; an ENTRYPOINT drops a CMD it did not set,
/// as Docker does). None without a Dockerfile or a command in it.
pub(super) fn dockerfile_start(project: &ProjectFiles) -> Option<DockerfileStart> {
    let text = project.peek("Dockerfile")?;
    let mut stages: Vec<Stage> = Vec::new();
    for (line, keyword, args) in instructions(&text) {
        match keyword.as_str() {
            "FROM" => {
                let words: Vec<&str> = args
                    .split_whitespace()
                    .filter(|w| !w.starts_with("--"))
                    .collect();
                let base = words.first().map(|w| w.to_ascii_lowercase());
                let name = match words.as_slice() {
                    [_, r#as, name, ..] if r#as.eq_ignore_ascii_case("as") => {
                        Some(name.to_ascii_lowercase())
                    }
                    _ => None,
                };
                let inherited = stages
                    .iter()
                    .rev()
                    .find(|s| s.name.is_some() && s.name == base);
                stages.push(Stage {
                    name,
                    entrypoint: inherited.and_then(|s| s.entrypoint.clone()),
                    cmd: inherited.and_then(|s| s.cmd.clone()),
                    cmd_set: false,
                });
            }
            "CMD" => {
                if let Some(stage) = stages.last_mut() {
                    stage.cmd = Some((Form::of(&args), line));
                    stage.cmd_set = true;
                }
            }
            "ENTRYPOINT" => {
                if let Some(stage) = stages.last_mut() {
                    stage.entrypoint = Some((Form::of(&args), line));
                    if !stage.cmd_set {
                        stage.cmd = None;
                    }
                }
            }
            _ => {}
        }
    }
    let stage = stages.pop()?;
    let (form, from) = match (stage.entrypoint, stage.cmd) {
        // A shell-form ENTRYPOINT ignores CMD.
        (Some((Form::Shell(line), e)), _) => (
            Form::Shell(line),
            DockerfileLines {
                entrypoint: Some(e),
                cmd: None,
            },
        ),
        (Some((Form::Exec(mut words), e)), Some((cmd, c))) => {
            words.extend(cmd.into_words());
            (
                Form::Exec(words),
                DockerfileLines {
                    entrypoint: Some(e),
                    cmd: Some(c),
                },
            )
        }
        (Some((form, e)), None) => (
            form,
            DockerfileLines {
                entrypoint: Some(e),
                cmd: None,
            },
        ),
        (None, Some((form, c))) => (
            form,
            DockerfileLines {
                entrypoint: None,
                cmd: Some(c),
            },
        ),
        (None, None) => return None,
    };
    let (command, replaced) = form.unwrap_shell().render()?;
    let port = match replaced {
        Some(port) => DockerfilePort::Replaced(port),
        None if command.contains("$PORT") || command.contains("${PORT") => DockerfilePort::FromEnv,
        None => DockerfilePort::Unknown,
    };
    Some(DockerfileStart {
        command,
        from,
        port,
    })
}

struct Stage {
    /// `FROM … AS name`, lower case (stage names are case-insensitive).
    name: Option<String>,
    entrypoint: Option<(Form, usize)>,
    cmd: Option<(Form, usize)>,
    /// Whether this stage wrote its CMD (an inherited one is dropped by an ENTRYPOINT).
    cmd_set: bool,
}

/// An instruction's argument: `["gunicorn", "app:app"]` (exec form) or a line for `/bin/sh -c`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Form {
    Exec(Vec<String>),
    Shell(String),
}

impl Form {
    fn of(args: &str) -> Form {
        if args.starts_with('[') {
            if let Ok(words) = serde_json::from_str::<Vec<String>>(args) {
                return Form::Exec(words);
            }
        }
        Form::Shell(args.to_string())
    }

    /// The words Docker appends to an exec-form ENTRYPOINT.
    fn into_words(self) -> Vec<String> {
        match self {
            Form::Exec(words) => words,
            Form::Shell(line) => vec!["/bin/sh".into(), "-c".into(), line],
        }
    }

    /// `["sh", "-c", "LINE"]` runs LINE: the line itself is the shell line to suggest.
    fn unwrap_shell(self) -> Form {
        match self {
            Form::Exec(words) => match words.as_slice() {
                [sh, c, line] if SHELLS.contains(&sh.as_str()) && c == "-c" => {
                    Form::Shell(line.clone())
                }
                _ => Form::Exec(words),
            },
            shell => shell,
        }
    }

    /// The shell line with `$PORT` in place of the first bound port (and that port), or None
    /// when there is no command.
    fn render(self) -> Option<(String, Option<u16>)> {
        match self {
            Form::Exec(mut words) => {
                let port = replace_ports(&mut words);
                let line: Vec<String> = words.iter().map(|w| shell_word(w)).collect();
                (!line.is_empty()).then(|| (line.join(" "), port))
            }
            Form::Shell(line) => {
                let line = line.trim();
                // Each word, unquoted, with where it sits; a replaced word goes back in place,
                // so the rest of the line stays as written.
                let spans = word_spans(line);
                let mut words: Vec<String> = spans.iter().map(|(_, w)| unquote(w).into()).collect();
                let before = words.clone();
                let port = replace_ports(&mut words);
                let mut out = line.to_string();
                for ((at, raw), (old, new)) in spans.iter().zip(before.iter().zip(&words)).rev() {
                    if old != new {
                        let new = if raw.len() == old.len() {
                            new.clone()
                        } else {
                            format!("\"{new}\"")
                        };
                        out.replace_range(*at..at + raw.len(), &new);
                    }
                }
                (!out.is_empty()).then_some((out, port))
            }
        }
    }
}

/// The whitespace-separated words of `line`, each with its byte offset.
fn word_spans(line: &str) -> Vec<(usize, &str)> {
    let mut spans = Vec::new();
    let mut start = None;
    for (i, c) in line.char_indices().chain([(line.len(), ' ')]) {
        match (c.is_whitespace(), start) {
            (true, Some(s)) => {
                spans.push((s, &line[s..i]));
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    spans
}

const SHELLS: &[&str] = &["sh", "/bin/sh", "bash", "/bin/bash"];

/// Options whose value is a port: uvicorn, daphne, flask run, `next start -p`, Streamlit.
const PORT_OPTIONS: &[&str] = &["--port", "-p", "--server.port"];
/// Options whose value is `host:port`: gunicorn, hypercorn, waitress (`--listen`).
const BIND_OPTIONS: &[&str] = &["--bind", "-b", "--listen"];

/// `$PORT` in place of each hard-coded port the words bind: after a port or bind option (`--port
/// 8000`, `--port=8000`, `-b :8000`), an address (`0.0.0.0:8000`, `[::]:8000`) or `PORT=8000`.
/// The first such port, if any.
fn replace_ports(words: &mut [String]) -> Option<u16> {
    let mut first = None;
    let mut i = 0;
    while i < words.len() {
        let word = words[i].clone();
        let (option, inline) = match word.split_once('=') {
            Some((o, v)) if o.starts_with('-') => (o, Some(v)),
            _ => (word.as_str(), None),
        };
        let bind = BIND_OPTIONS.contains(&option);
        if bind || PORT_OPTIONS.contains(&option) {
            let value = match inline {
                Some(v) => Some(v.to_string()),
                None => words.get(i + 1).cloned(),
            };
            let replaced = value.and_then(|v| {
                if bind {
                    address_port(&v, true)
                } else {
                    port(&v).map(|p| ("$PORT".to_string(), p))
                }
            });
            if let Some((value, port)) = replaced {
                match inline {
                    Some(_) => words[i] = format!("{option}={value}"),
                    None => {
                        words[i + 1] = value;
                        i += 1;
                    }
                }
                first.get_or_insert(port);
            }
        } else if let Some(p) = word.strip_prefix("PORT=").and_then(port) {
            words[i] = "PORT=$PORT".into();
            first.get_or_insert(p);
        } else if let Some((value, port)) = address_port(&word, false) {
            words[i] = value;
            first.get_or_insert(port);
        }
        i += 1;
    }
    first
}

/// `0.0.0.0:8000` → (`0.0.0.0:$PORT`, 8000). Without a bind option before it, only an address a
/// server binds (`0.0.0.0`, `[::]`, `*`, `localhost`, an IPv4 address, nothing): `db:5432` in
/// `wait-for-it db:5432 -- …` is another service's.
fn address_port(value: &str, bind: bool) -> Option<(String, u16)> {
    let (host, p) = value.rsplit_once(':')?;
    let p = port(p)?;
    let listens = bind
        || matches!(host, "" | "*" | "localhost" | "[::]" | "::")
        || (host.split('.').count() == 4
            && host
                .split('.')
                .all(|o| !o.is_empty() && o.chars().all(|c| c.is_ascii_digit())));
    listens.then(|| (format!("{host}:$PORT"), p))
}

fn port(text: &str) -> Option<u16> {
    if text.is_empty() || !text.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    text.parse().ok().filter(|p| *p > 0)
}

/// `"0.0.0.0:8000"` → `0.0.0.0:8000`.
fn unquote(word: &str) -> &str {
    for q in ['"', '\''] {
        if let Some(inner) = word.strip_prefix(q).and_then(|w| w.strip_suffix(q)) {
            return inner;
        }
    }
    word
}

/// An exec form's word as the shell reads it back. A `$` is left to expand, in double quotes
/// where the word needs quoting: whoever wrote `$PORT` in an exec form (where Docker does not
/// expand it) meant the variable.
fn shell_word(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./:=@%+,$".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_string()
    } else if word.contains('$') && !word.contains(['"', '\\', '`']) {
        format!("\"{word}\"")
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// A Dockerfile's instructions: (line where it starts, KEYWORD, arguments), with continuation
/// lines joined (the escape character as a parser directive sets it) and comments and heredoc
/// bodies left out.
fn instructions(text: &str) -> Vec<(usize, String, String)> {
    let mut escape = '\\';
    let mut directives = true;
    let mut heredoc: Option<(String, bool)> = None;
    let mut current: Option<(usize, String)> = None;
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        if let Some((end, tabs)) = &heredoc {
            let line = if *tabs {
                raw.trim_start_matches('\t')
            } else {
                raw
            };
            if line == end {
                heredoc = None;
            }
            continue;
        }
        let trimmed = raw.trim();
        if directives {
            match trimmed.strip_prefix('#').and_then(|d| d.split_once('=')) {
                Some((key, value)) => {
                    if key.trim().eq_ignore_ascii_case("escape") {
                        escape = value.trim().chars().next().unwrap_or('\\');
                    }
                    continue;
                }
                None => directives = false,
            }
        }
        if trimmed.starts_with('#') || (trimmed.is_empty() && current.is_none()) {
            continue;
        }
        let line = raw.trim_end();
        let (content, continues) = match line.strip_suffix(escape) {
            Some(c) => (c, true),
            None => (line, false),
        };
        match &mut current {
            Some((_, text)) => text.push_str(content),
            None => current = Some((i + 1, content.trim_start().to_string())),
        }
        if continues {
            continue;
        }
        let Some((line, text)) = current.take() else {
            continue;
        };
        let (keyword, args) = text.split_once(char::is_whitespace).unwrap_or((&text, ""));
        let keyword = keyword.to_ascii_uppercase();
        if matches!(keyword.as_str(), "RUN" | "COPY" | "ADD") {
            heredoc = heredoc_start(args);
        }
        out.push((line, keyword, args.trim().to_string()));
    }
    out
}

/// `<<EOF`, `<<-EOF`, `<<"EOF"` in a RUN or COPY: the word that ends its body, and whether tabs
/// before it are stripped.
fn heredoc_start(args: &str) -> Option<(String, bool)> {
    let rest = &args[args.find("<<")? + 2..];
    let (rest, tabs) = match rest.strip_prefix('-') {
        Some(r) => (r, true),
        None => (rest, false),
    };
    let word: String = rest
        .trim_start_matches(['"', '\''])
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    (!word.is_empty()).then_some((word, tabs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start(dockerfile: &str) -> Option<DockerfileStart> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("Dockerfile"), dockerfile).unwrap();
        dockerfile_start(&ProjectFiles::new(dir.path(), std::path::Path::new("")))
    }

    fn command(dockerfile: &str) -> String {
        start(dockerfile).unwrap().command
    }

    #[test]
    fn exec_and_shell_forms_with_the_port_replaced() {
        let s =
            start("FROM python:3.12\nCMD [\"gunicorn\", \"-b\", \"0.0.0.0:8000\", \"app:app\"]\n")
                .unwrap();
        assert_eq!(s.command, "gunicorn -b 0.0.0.0:$PORT app:app");
        assert_eq!(s.port, DockerfilePort::Replaced(8000));
        assert_eq!(s.from.to_string(), "CMD (line 2)");
        for (cmd, expected) in [
            (
                "CMD uvicorn main:app --host 0.0.0.0 --port 8000",
                "uvicorn main:app --host 0.0.0.0 --port $PORT",
            ),
            (
                "CMD [\"uvicorn\", \"main:app\", \"--port=80\"]",
                "uvicorn main:app --port=$PORT",
            ),
            (
                "CMD gunicorn -b :8000 'app:create_app()'",
                "gunicorn -b :$PORT 'app:create_app()'",
            ),
            (
                "CMD [\"gunicorn\", \"app:create_app()\", \"--bind\", \"[::]:5000\"]",
                "gunicorn 'app:create_app()' --bind \"[::]:$PORT\"",
            ),
            (
                "CMD streamlit run app.py --server.port 8501",
                "streamlit run app.py --server.port $PORT",
            ),
            (
                "CMD python manage.py runserver 0.0.0.0:8000",
                "python manage.py runserver 0.0.0.0:$PORT",
            ),
            ("CMD PORT=3000 node server.js", "PORT=$PORT node server.js"),
            (
                "CMD gunicorn --bind \"0.0.0.0:8000\" app:app",
                "gunicorn --bind \"0.0.0.0:$PORT\" app:app",
            ),
            (
                "CMD [\"sh\", \"-c\", \"hypercorn main:app --bind 0.0.0.0:8000\"]",
                "hypercorn main:app --bind 0.0.0.0:$PORT",
            ),
            (
                "CMD [\"./wait-for-it.sh\", \"db:5432\", \"--\", \"python\", \"app.py\"]",
                "./wait-for-it.sh db:5432 -- python app.py",
            ),
        ] {
            assert_eq!(command(&format!("FROM x\n{cmd}\n")), expected, "{cmd}");
        }
        let s =
            start("FROM x\nCMD [\"sh\", \"-c\", \"gunicorn -b 0.0.0.0:${PORT:-8000} app:app\"]\n")
                .unwrap();
        assert_eq!(s.port, DockerfilePort::FromEnv);
        assert_eq!(
            start("FROM x\nCMD [\"python\", \"app.py\"]\n")
                .unwrap()
                .port,
            DockerfilePort::Unknown
        );
    }

    #[test]
    fn entrypoint_and_cmd_combine_as_docker_does() {
        let s = start("FROM x\nENTRYPOINT [\"gunicorn\"]\n# the app\nCMD [\"--bind\", \"0.0.0.0:8000\", \"app:app\"]\n").unwrap();
        assert_eq!(s.command, "gunicorn --bind 0.0.0.0:$PORT app:app");
        assert_eq!(s.from.to_string(), "ENTRYPOINT and CMD (lines 2 and 4)");
        assert_eq!(
            command("FROM x\nCMD [\"ignored\"]\nENTRYPOINT python3 serve.py\n"),
            "python3 serve.py"
        );
        assert_eq!(
            command("FROM x\nENTRYPOINT [\"/entrypoint.sh\"]\nCMD run --fast\n"),
            "/entrypoint.sh /bin/sh -c 'run --fast'"
        );
        assert_eq!(
            command("FROM x\nCMD [\"a\"]\nCMD [\"b\"]\n"),
            "b",
            "the last CMD"
        );
    }

    #[test]
    fn the_final_stage_counts_and_inherits_from_an_earlier_one() {
        assert!(start("FROM x AS build\nCMD [\"pytest\"]\nFROM python:3.12\nRUN true\n").is_none());
        let s = start(
            "FROM x AS Base\nCMD [\"python3\", \"app.py\"]\n\nFROM base\nRUN pip install .\n",
        )
        .unwrap();
        assert_eq!(
            (s.command.as_str(), s.from.to_string()),
            ("python3 app.py", "CMD (line 2)".into())
        );
        assert!(
            start("FROM x AS base\nCMD [\"python3\", \"app.py\"]\nFROM base\nENTRYPOINT []\n")
                .is_none(),
            "an ENTRYPOINT drops the CMD it inherits"
        );
    }

    #[test]
    fn continuations_comments_directives_and_heredocs() {
        let s = start("# syntax=docker/dockerfile:1\n# escape=`\nFROM x\nRUN <<EOF\nCMD [\"not\", \"this\"]\nEOF\nCMD gunicorn `\n  # a comment\n  --bind 0.0.0.0:8000 `\n  app:app\n").unwrap();
        // Joined as Docker joins them: what follows the escape character, as written.
        assert_eq!(s.command, "gunicorn   --bind 0.0.0.0:$PORT   app:app");
        assert_eq!(s.from.to_string(), "CMD (line 7)");
        assert!(start("FROM x\nCMD []\n").is_none());
        assert!(start("FROM x\nEXPOSE 8000\n").is_none());
    }
}
