//! The port the start command listens on, against the service port: the most common reason an
//! App Runner health check fails is an application listening on another port (or on localhost).
//!
//! Pure: reads the start command, and where cheap the entry file it names (`node server.js`,
//! `python app.py`) or package.json's start script; never runs anything.

use super::start_scripts;
use crate::input::files::ProjectFiles;
use crate::report::codes;
use crate::report::diagnostic::Diagnostic;
use std::path::Path;

/// Entry files bigger than this are not read.
const MAX_ENTRY_FILE: u64 = 256 * 1024;

/// Where a port (or host) was seen: the text and where it is, for the message.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    port: Option<u16>,
    localhost: bool,
    /// e.g. "`--bind 0.0.0.0:8000` in the start command", "`app.listen(3000)` in server.js line 12".
    what: String,
    /// A server's default port, which its config file or environment can change: the server's
    /// name and the flag that sets the port (`streamlit run`, `--server.port`).
    default_of: Option<(&'static str, &'static str)>,
}

/// Warnings for a start command that listens on a port other than `port` (the service port:
/// `run.network.port`, 8080 by default), or on localhost only. `files` is the project the entry
/// file the command names is looked for in; without it, only the command is read.
pub fn port_warnings(
    start_command: &str,
    port: u16,
    files: Option<&ProjectFiles>,
) -> Vec<Diagnostic> {
    let mut seen = from_command(start_command, "the start command");
    let mut out = Vec::new();
    if seen.iter().any(|s| s.default_of.is_some()) {
        out.extend(through_scripts(start_command, port, files, &mut seen));
    }
    if let (true, Some(files)) = (seen.is_empty(), files) {
        seen = from_entry_file(start_command, files);
    }
    if let Some(s) = seen.iter().find(|s| s.port.is_some_and(|p| p != port)) {
        let other = s.port.unwrap_or_default();
        out.push(
            Diagnostic::warning(
                codes::PORT_NOT_SERVICE_PORT,
                format!("the application listens on port {other}, but the service port is {port}"),
            )
            .with_note(format!("seen: {}", s.what))
            .with_note(format!(
                "App Runner sends requests and health checks to port {port} (run.network.port, 8080 when not set), and sets PORT={port}; an application listening on {other} fails the health check"
            ))
            .with_help(format!(
                "set `port: {other}` under `run:` → `network:`, or make the application listen on $PORT"
            )),
        );
    }
    if let Some(s) = seen.iter().find(|s| s.localhost) {
        out.push(
            Diagnostic::warning(
                codes::LISTENS_ON_LOCALHOST,
                "the application listens on localhost only, where App Runner cannot reach it",
            )
            .with_note(format!("seen: {}", s.what))
            .with_help(
                "listen on all interfaces: 0.0.0.0 (e.g. `--host 0.0.0.0`, `--bind 0.0.0.0:$PORT`)",
            ),
        );
    }
    out
}

/// A server on its default port after the scripts the start command runs (Streamlit's
/// `setup.sh`): one that passes $PORT on sets the port, one with a literal port sets that one.
/// When a script cannot be read, the port is not known: a note says so, rather than a mismatch.
fn through_scripts(
    command: &str,
    port: u16,
    files: Option<&ProjectFiles>,
    seen: &mut [Seen],
) -> Option<Diagnostic> {
    let mut unread = None;
    for script in start_scripts::run_by(command) {
        let text = match files.filter(|_| !script.starts_with('/')) {
            Some(files) => match files.text(&script, MAX_ENTRY_FILE) {
                Ok(Some(text)) => text,
                Ok(None) => {
                    unread.get_or_insert((script, "which is not in the repository"));
                    continue;
                }
                Err(_) => {
                    unread.get_or_insert((script, "which could not be read"));
                    continue;
                }
            },
            None => {
                unread.get_or_insert((script, "which is not a file of the repository"));
                continue;
            }
        };
        let defaults = seen.iter_mut().filter(|s| s.default_of.is_some());
        if start_scripts::reads_port(&text) {
            for s in defaults {
                s.port = None;
                s.default_of = None;
            }
            return None;
        }
        if let Some((line, literal, snippet)) = start_scripts::literal_port(&text) {
            for s in defaults {
                s.port = Some(literal);
                s.what =
                    format!("`{snippet}` in {script} line {line}, which the start command runs");
                s.default_of = None;
            }
            return None;
        }
    }
    let (script, why) = unread?;
    let s = seen
        .iter_mut()
        .find(|s| s.default_of.is_some() && s.port.is_some_and(|p| p != port))?;
    let ((server, flag), default) = (s.default_of?, s.port?);
    s.port = None;
    Some(
        Diagnostic::note(
            codes::PORT_UNDETERMINED,
            format!("the port the application listens on could not be determined: the start command runs {script}, {why}"),
        )
        .with_note(format!(
            "`{server}` listens on {default} by default, and {script} may change that (a config file, an environment variable); App Runner sends requests and health checks to port {port}"
        ))
        .with_help(format!(
            "give the port in the start command, so that it is known here too: `{server} … {flag} $PORT`"
        )),
    )
}

/// Ports and hosts a command line sets, or its server's defaults.
fn from_command(command: &str, where_: &str) -> Vec<Seen> {
    let words: Vec<String> = command
        .split_whitespace()
        .map(|w| w.trim_matches(|c| c == '"' || c == '\'').to_string())
        .collect();
    let mut seen = Vec::new();
    let flag_value = |i: usize, names: &[&str]| -> Option<(String, String)> {
        let w = &words[i];
        for name in names {
            if w == name {
                return words.get(i + 1).map(|v| (format!("{w} {v}"), v.clone()));
            }
            if let Some(v) = w.strip_prefix(&format!("{name}=")) {
                return Some((w.clone(), v.to_string()));
            }
        }
        None
    };
    let mut port_given = false;
    let mut host_given = false;
    for i in 0..words.len() {
        if let Some((text, value)) = flag_value(i, &["--bind", "-b"]) {
            let (host, port) = split_address(&value);
            port_given |= port.is_some() || value.contains('$');
            host_given = true;
            seen.push(Seen {
                default_of: None,
                port,
                localhost: is_localhost(host),
                what: format!("`{text}` in {where_}"),
            });
        } else if let Some((text, value)) =
            flag_value(i, &["--port", "-p", "--server.port", "--listen", "-l"])
        {
            let (host, port) = split_address(&value);
            port_given |= port.is_some() || value.contains('$');
            if port.is_some() {
                seen.push(Seen {
                    default_of: None,
                    port,
                    localhost: is_localhost(host),
                    what: format!("`{text}` in {where_}"),
                });
            }
        } else if let Some((text, value)) = flag_value(i, &["--host", "-h", "--server.address"]) {
            host_given = true;
            if is_localhost(&value) {
                seen.push(Seen {
                    default_of: None,
                    port: None,
                    localhost: true,
                    what: format!("`{text}` in {where_}"),
                });
            }
        }
    }
    let has = |w: &str| words.iter().any(|x| x == w);
    let after = |w: &str| {
        words
            .iter()
            .position(|x| x == w)
            .and_then(|i| words.get(i + 1))
    };
    let program = |name: &str| {
        words
            .iter()
            .any(|w| w == name || w.ends_with(&format!("/{name}")))
    };
    let default = |server: &'static str, port: u16, localhost: bool, flag: &'static str| Seen {
        port: Some(port),
        localhost,
        default_of: Some((server, flag)),
        what: format!(
            "`{server}` in {where_}, which listens on {} by default",
            if localhost {
                format!("127.0.0.1:{port}")
            } else {
                port.to_string()
            }
        ),
    };
    // Servers whose defaults do not follow PORT (gunicorn's and Next.js's do).
    if program("flask") && has("run") && !command.contains("FLASK_RUN_PORT") {
        let mut d = default(
            "flask run",
            5000,
            !host_given && !command.contains("FLASK_RUN_HOST"),
            "--port",
        );
        if port_given {
            d.port = None;
        }
        if d.port.is_some() || d.localhost {
            seen.push(d);
        }
    }
    if program("uvicorn") && !command.contains("UVICORN_") {
        let mut d = default("uvicorn", 8000, !host_given, "--port");
        if port_given {
            d.port = None;
        }
        if d.port.is_some() || d.localhost {
            seen.push(d);
        }
    }
    if program("streamlit") && has("run") && !port_given {
        seen.push(default("streamlit run", 8501, false, "--server.port"));
    }
    if has("runserver") {
        match after("runserver").filter(|a| !a.starts_with('-')) {
            Some(address) => {
                let (host, port) = split_address(address);
                seen.push(Seen {
                    default_of: None,
                    port,
                    localhost: host.is_empty() || is_localhost(host),
                    what: format!("`runserver {address}` in {where_}"),
                });
            }
            None => seen.push(Seen {
                default_of: None,
                ..default("manage.py runserver", 8000, true, "")
            }),
        }
    }
    if has("http.server") {
        let port = after("http.server")
            .and_then(|p| p.parse().ok())
            .unwrap_or(8000);
        seen.push(Seen {
            default_of: None,
            port: Some(port),
            localhost: false,
            what: format!("`http.server` in {where_}"),
        });
    }
    seen.retain(|s| s.port.is_some() || s.localhost);
    seen
}

/// `0.0.0.0:8000` → ("0.0.0.0", 8000); `:8000` → ("", 8000); `8000` → ("", 8000); `$PORT` → no port.
fn split_address(value: &str) -> (&str, Option<u16>) {
    let (host, port) = match value.rsplit_once(':') {
        Some((h, p)) => (h, p),
        None => ("", value),
    };
    (host, port.parse().ok())
}

fn is_localhost(host: &str) -> bool {
    matches!(host, "127.0.0.1" | "localhost" | "::1" | "[::1]")
}

/// The file a start command runs (`node server.js`, `python app.py`), or package.json's start
/// script for `npm start`; a literal port in it (`app.listen(3000)`, `app.run(port=5000)`).
fn from_entry_file(command: &str, files: &ProjectFiles) -> Vec<Seen> {
    let words: Vec<&str> = command.split_whitespace().collect();
    let starts_npm = matches!(
        words.as_slice(),
        ["npm", "start", ..]
            | ["npm", "run", "start", ..]
            | ["yarn", "start", ..]
            | ["pnpm", "start", ..]
    );
    if starts_npm {
        let script = read_small(files, "package.json")
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
            .and_then(|v| v["scripts"]["start"].as_str().map(String::from));
        return match script {
            Some(script) => {
                let seen = from_command(&script, "package.json's start script");
                if seen.is_empty() {
                    from_entry_file_only(&script, files)
                } else {
                    seen
                }
            }
            None => vec![],
        };
    }
    from_entry_file_only(command, files)
}

fn from_entry_file_only(command: &str, files: &ProjectFiles) -> Vec<Seen> {
    let words: Vec<&str> = command.split_whitespace().collect();
    let entry = words.windows(2).find_map(|w| {
        let runner = w[0].rsplit('/').next().unwrap_or(w[0]);
        let file = w[1];
        let node = matches!(runner, "node" | "nodemon") && !file.starts_with('-');
        let python = runner.starts_with("python") && file.ends_with(".py");
        (node || python).then_some((file, python))
    });
    let Some((file, python)) = entry else {
        return vec![];
    };
    let name = if Path::new(file).extension().is_none() && !python {
        format!("{file}.js")
    } else {
        file.to_string()
    };
    let Some(text) = read_small(files, &name) else {
        return vec![];
    };
    // An application that reads PORT follows App Runner whatever its fallback.
    if text.contains("PORT") {
        return vec![];
    }
    let pattern: &[&str] = if python { &["port="] } else { &[".listen("] };
    for (n, line) in text.lines().enumerate() {
        let code = line
            .split(if python { "#" } else { "//" })
            .next()
            .unwrap_or("");
        for p in pattern {
            let Some(at) = code.find(p) else { continue };
            let digits: String = code[at + p.len()..]
                .trim_start()
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            if let Ok(port) = digits.parse::<u16>() {
                let snippet = code.trim();
                return vec![Seen {
                    default_of: None,
                    port: Some(port),
                    localhost: false,
                    what: format!("`{snippet}` in {file} line {}", n + 1),
                }];
            }
        }
        // Flask's app.run() without a port: 5000 on 127.0.0.1.
        if python && code.contains("app.run(") && !code.contains("port") && text.contains("flask") {
            return vec![Seen {
                default_of: None,
                port: Some(5000),
                localhost: !code.contains("0.0.0.0"),
                what: format!(
                    "`{}` in {file} line {}, which listens on 127.0.0.1:5000 by default",
                    code.trim(),
                    n + 1
                ),
            }];
        }
    }
    vec![]
}

/// A file of the project, when it is a small regular file inside the root (never one a symlink
/// leads out to: a line of it would be quoted).
fn read_small(files: &ProjectFiles, name: &str) -> Option<String> {
    files.text(name, MAX_ENTRY_FILE).ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::port_warnings;
    use crate::input::files::ProjectFiles;
    use std::path::Path;

    fn messages(command: &str, port: u16, root: &Path) -> Vec<String> {
        let files = ProjectFiles::new(root, Path::new(""));
        port_warnings(command, port, Some(&files))
            .iter()
            .map(|d| format!("{}: {} | {}", d.code, d.message, d.notes.join(" | ")))
            .collect()
    }

    fn none() -> &'static Path {
        Path::new("/nonexistent")
    }

    #[test]
    fn ports_in_the_command() {
        for (command, other) in [
            ("gunicorn --bind 0.0.0.0:8000 app:app", 8000),
            ("gunicorn -b :8000 app:app", 8000),
            ("gunicorn --bind=0.0.0.0:8000 app:app", 8000),
            ("uvicorn main:app --host 0.0.0.0 --port 8000", 8000),
            ("flask run --host 0.0.0.0 -p 8000", 8000),
            (
                "streamlit run app.py --server.port=8501 --server.address=0.0.0.0",
                8501,
            ),
            ("python manage.py runserver 0.0.0.0:8000", 8000),
            ("flask run --host=0.0.0.0", 5000),
            ("streamlit run app.py", 8501),
            ("python -m http.server", 8000),
        ] {
            let found = messages(command, 8080, none());
            assert_eq!(found.len(), 1, "{command}: {found:?}");
            assert!(
                found[0].starts_with(&format!(
                    "AR404: the application listens on port {other}, but the service port is 8080"
                )),
                "{command}: {found:?}"
            );
        }
    }

    #[test]
    fn the_service_port_or_port_variable_is_fine() {
        for command in [
            "gunicorn --bind 0.0.0.0:8000 app:app",
            "gunicorn --bind 0.0.0.0:$PORT app:app",
            "uvicorn main:app --host 0.0.0.0 --port ${PORT}",
            "gunicorn app:app",
            "npm start",
            "node server.js",
            "mkdir -p /tmp/x && gunicorn -b 0.0.0.0:8000 app:app",
        ] {
            let found = messages(command, 8000, none());
            assert!(found.is_empty(), "{command}: {found:?}");
        }
    }

    #[test]
    fn localhost_only() {
        let found = messages("uvicorn main:app --port 8080", 8080, none());
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("AR405"), "{found:?}");
        let found = messages("gunicorn -b 127.0.0.1:8080 app:app", 8080, none());
        assert!(
            found[0].contains("`-b 127.0.0.1:8080` in the start command"),
            "{found:?}"
        );
        let found = messages("python manage.py runserver", 8000, none());
        assert!(
            found.len() == 1 && found[0].starts_with("AR405"),
            "{found:?}"
        );
    }

    #[test]
    fn a_literal_port_in_the_entry_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("server.js"),
            "const app = require('express')();\n\napp.listen(3000, () => console.log('up'));\n",
        )
        .unwrap();
        let found = messages("node server.js", 8080, dir.path());
        assert!(
            found.len() == 1
                && found[0].contains("listens on port 3000, but the service port is 8080")
                && found[0]
                    .contains("`app.listen(3000, () => console.log('up'));` in server.js line 3"),
            "{found:?}"
        );
        assert!(messages("node server.js", 3000, dir.path()).is_empty());
        // npm start runs package.json's start script.
        std::fs::write(
            dir.path().join("package.json"),
            r#"{"scripts": {"start": "node server"}}"#,
        )
        .unwrap();
        assert_eq!(messages("npm start", 8080, dir.path()).len(), 1);
        // Reading PORT is following App Runner, whatever the fallback.
        std::fs::write(
            dir.path().join("server.js"),
            "app.listen(process.env.PORT || 3000);\n",
        )
        .unwrap();
        assert!(messages("node server.js", 8080, dir.path()).is_empty());
        std::fs::write(
            dir.path().join("app.py"),
            "from flask import Flask\napp = Flask(__name__)\nif __name__ == '__main__':\n    app.run(host='0.0.0.0', port=5000)\n",
        )
        .unwrap();
        let found = messages("python3 app.py", 8080, dir.path());
        assert!(
            found.len() == 1 && found[0].contains("app.py line 4"),
            "{found:?}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn an_entry_file_that_leads_out_of_the_root_is_not_read() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(
            outside.path().join("host.js"),
            "app.listen(3000); // HOST_SECRET\n",
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path().join("host.js"), dir.path().join("server.js"))
            .unwrap();
        assert_eq!(
            messages("node server.js", 8080, dir.path()),
            Vec::<String>::new()
        );
        let abs = outside.path().join("host.js");
        let command = format!("node {}", abs.display());
        assert_eq!(messages(&command, 8080, dir.path()), Vec::<String>::new());
    }
}
