//! How a Python app without a start command is started: a Procfile or another platform's start
//! command, else the application object found in the entry files and `app/`/`src/` packages,
//! served by the server the project installs, bound to 0.0.0.0:$PORT.

use super::error_at;
use super::python::{django_package, Dep};
use crate::input::origin::Origin;
use crate::report::codes;
use crate::report::diagnostic::Diagnostic;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Interface {
    Asgi,
    Wsgi,
}

/// A module-level application object: `app = FastAPI()` in app/main.py.
#[derive(Debug, Clone)]
struct AppObject {
    /// Relative to the project root: `app/main.py`.
    file: String,
    /// `app.main`
    module: String,
    var: String,
    framework: &'static str,
    interface: Interface,
}

/// What a Python file holds: an app object, and whether it has a `__main__` block (and its text).
struct PyFile {
    app: Option<AppObject>,
    main_block: Option<String>,
}

const ENTRY_FILES: &[&str] = &["main.py", "app.py", "server.py", "wsgi.py", "asgi.py"];

/// Constructors that make an application object, by their last name.
const FRAMEWORKS: &[(&str, &str, Interface)] = &[
    ("FastAPI", "FastAPI", Interface::Asgi),
    ("Starlette", "Starlette", Interface::Asgi),
    ("Quart", "Quart", Interface::Asgi),
    ("Litestar", "Litestar", Interface::Asgi),
    ("get_asgi_application", "Django", Interface::Asgi),
    ("Flask", "Flask", Interface::Wsgi),
    ("Bottle", "Bottle", Interface::Wsgi),
    ("get_wsgi_application", "Django", Interface::Wsgi),
];

fn read_py(root: &Path, file: &str) -> Option<PyFile> {
    let text = crate::input::files::peek(root, file)?;
    let module = file.trim_end_matches(".py").replace('/', ".");
    let mut app = None;
    let mut main_block = None;
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        if line.starts_with(char::is_whitespace) {
            continue;
        }
        if line.starts_with("if __name__") && line.contains("__main__") {
            let body: Vec<&str> = lines[i + 1..]
                .iter()
                .take_while(|l| l.trim().is_empty() || l.starts_with(char::is_whitespace))
                .copied()
                .collect();
            main_block = Some(body.join("\n"));
            continue;
        }
        if app.is_some() {
            continue;
        }
        let Some((target, value)) = line.split_once('=') else {
            continue;
        };
        let var = target.split(':').next().unwrap_or("").trim();
        if var.is_empty()
            || !var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            || value.starts_with('=')
        {
            continue;
        }
        let Some((callee, _)) = value.trim().split_once('(') else {
            continue;
        };
        let last = callee.trim().rsplit('.').next().unwrap_or("");
        if let Some((_, framework, interface)) = FRAMEWORKS.iter().find(|(c, ..)| *c == last) {
            app = Some(AppObject {
                file: file.to_string(),
                module: module.clone(),
                var: var.to_string(),
                framework,
                interface: *interface,
            });
        }
    }
    Some(PyFile { app, main_block })
}

/// The files that may hold the app, in order: Django's project package (with manage.py), then
/// main.py, app.py, server.py, wsgi.py, asgi.py at the root, in app/, in src/.
fn candidate_files(root: &Path) -> Vec<String> {
    let mut files = Vec::new();
    if root.join("manage.py").is_file() {
        if let Some(package) = django_package(root) {
            files.push(format!("{package}/wsgi.py"));
            files.push(format!("{package}/asgi.py"));
        }
    }
    for dir in ["", "app/", "src/"] {
        files.extend(ENTRY_FILES.iter().map(|f| format!("{dir}{f}")));
    }
    files.retain(|f| root.join(f).is_file());
    files
}

/// The server that serves `app`, from what the project installs, bound to 0.0.0.0:$PORT.
fn serve(app: &AppObject, deps: &[Dep]) -> Option<(String, String)> {
    let dep = |n: &str| deps.iter().find(|d| d.name == n);
    let target = format!("{}:{}", app.module, app.var);
    match app.interface {
        Interface::Asgi => {
            let fastapi_cli = dep("fastapi-cli").is_some()
                || dep("fastapi").is_some_and(|d| d.extras.iter().any(|e| e == "standard"));
            if app.framework == "FastAPI" && fastapi_cli {
                let named = if matches!(app.var.as_str(), "app" | "api") {
                    String::new()
                } else {
                    format!(" --app {}", app.var)
                };
                return Some((
                    format!("fastapi run {}{named} --port $PORT", app.file),
                    "fastapi[standard] (FastAPI's CLI)".into(),
                ));
            }
            if dep("uvicorn").is_some() {
                return Some((
                    format!("uvicorn {target} --host 0.0.0.0 --port $PORT"),
                    "uvicorn".into(),
                ));
            }
            if dep("hypercorn").is_some() {
                return Some((
                    format!("hypercorn {target} --bind 0.0.0.0:$PORT"),
                    "hypercorn".into(),
                ));
            }
            if dep("granian").is_some() {
                return Some((
                    format!("granian --interface asgi --host 0.0.0.0 --port $PORT {target}"),
                    "granian".into(),
                ));
            }
        }
        Interface::Wsgi => {
            if dep("gunicorn").is_some() {
                return Some((
                    format!("gunicorn --bind 0.0.0.0:$PORT {target}"),
                    "gunicorn".into(),
                ));
            }
            if dep("waitress").is_some() {
                return Some((
                    format!("waitress-serve --listen=0.0.0.0:$PORT {target}"),
                    "waitress".into(),
                ));
            }
            if dep("granian").is_some() {
                return Some((
                    format!("granian --interface wsgi --host 0.0.0.0 --port $PORT {target}"),
                    "granian".into(),
                ));
            }
        }
    }
    None
}

/// A Procfile `web:` line (or another platform's start command), else the app object served by
/// a server the project installs, else a file with a `__main__` block run by `python3`.
pub(super) fn start_command(
    root: &Path,
    shown_root: &Path,
    deps: &[Dep],
    manifest: &str,
    remarks: &mut Vec<Diagnostic>,
) -> Result<(String, Origin), Diagnostic> {
    if let Some(found) = super::hints::start_command(root, shown_root, remarks) {
        return Ok(found);
    }
    let files: Vec<(String, PyFile)> = candidate_files(root)
        .into_iter()
        .filter_map(|f| read_py(root, &f).map(|p| (f, p)))
        .collect();
    for (_, py) in &files {
        let Some(app) = &py.app else { continue };
        if let Some((command, server)) = serve(app, deps) {
            let what = match app.interface {
                Interface::Asgi => "an ASGI",
                Interface::Wsgi => "a WSGI",
            };
            return Ok((
                command,
                Origin::noted(
                    shown_root.join(&app.file),
                    format!(
                        "{what} app `{}` ({}), and {server} in {manifest}",
                        app.var, app.framework
                    ),
                ),
            ));
        }
    }
    if let Some((file, py)) = files.iter().find(|(_, p)| p.main_block.is_some()) {
        if let (Some(app), Some(block)) = (&py.app, &py.main_block) {
            if app.framework == "Flask" {
                if let Some(w) = flask_dev_server(shown_root, file, block) {
                    remarks.push(w);
                }
            }
        }
        return Ok((
            format!("python3 {file}"),
            Origin::noted(
                shown_root.join(file),
                "its `if __name__ == \"__main__\":` block",
            ),
        ));
    }
    if let Some(app) = files.iter().find_map(|(_, p)| p.app.as_ref()) {
        let (server, command) = match app.interface {
            Interface::Asgi => (
                "ASGI server (uvicorn, hypercorn, granian, or fastapi[standard])",
                format!(
                    "uvicorn {}:{} --host 0.0.0.0 --port $PORT",
                    app.module, app.var
                ),
            ),
            Interface::Wsgi => (
                "WSGI server (gunicorn, waitress or granian)",
                format!("gunicorn --bind 0.0.0.0:$PORT {}:{}", app.module, app.var),
            ),
        };
        let first = command.split(' ').next().unwrap_or("");
        return Err(error_at(
            codes::NO_SERVER_FOR_APP,
            shown_root,
            manifest,
            format!(
                "{} defines the {} app `{}`, but nothing serves it: no {server} in {manifest}, and {} has no `if __name__ == \"__main__\":` block",
                app.file, app.framework, app.var, app.file
            ),
        )
        .with_help(format!(
            "add `{first}` to {manifest}, or a Procfile line `web: {command}`"
        )));
    }
    if let Some((file, _)) = files.first() {
        return Err(error_at(
            codes::NO_MAIN_BLOCK,
            shown_root,
            file,
            format!(
                "{file} has no `if __name__ == \"__main__\":` block and defines no ASGI or WSGI app: `python3 {file}` would start nothing"
            ),
        )
        .with_help("add a Procfile line `web: <the command that starts your server>`, or an app object (`app = Flask(__name__)`) and a server such as gunicorn to the dependencies"));
    }
    Err(error_at(
        codes::NO_START_COMMAND,
        shown_root,
        manifest,
        format!(
            "no way to start the app: no Procfile web: line, and none of {} (at the root, in app/ or in src/)",
            ENTRY_FILES.join(", ")
        ),
    )
    .with_help("add a Procfile with `web: <command>`, or an apprunner.yaml with run.command"))
}

/// `app.run()` in the `__main__` block without a host and a port: Flask's development server on
/// 127.0.0.1:5000, which nothing outside the container reaches.
fn flask_dev_server(shown_root: &Path, file: &str, block: &str) -> Option<Diagnostic> {
    let call = block.find(".run(")?;
    let args = &block[call..];
    let args = &args[..args.find(')').unwrap_or(args.len())];
    let missing: Vec<&str> = [("host=", "host 127.0.0.1"), ("port=", "port 5000")]
        .into_iter()
        .filter(|(k, _)| !args.contains(k))
        .map(|(_, d)| d)
        .collect();
    if missing.is_empty() {
        return None;
    }
    Some(
        Diagnostic::warning(
            codes::FLASK_DEV_SERVER,
            format!(
                "{file} starts Flask's development server on its default {}: App Runner's health check cannot reach it",
                missing.join(" and ")
            ),
        )
        .at(crate::report::diagnostic::Location::file(&shown_root.join(file)))
        .with_note("in a container the app must listen on 0.0.0.0 and on $PORT (8080)")
        .with_help("add gunicorn to the dependencies (it is then served as `gunicorn --bind 0.0.0.0:$PORT …`), or call `app.run(host=\"0.0.0.0\", port=int(os.environ[\"PORT\"]))`"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_objects_and_main_blocks() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("main.py"),
            "import fastapi\n\ndef f():\n    inner = fastapi.FastAPI()\n\napi: fastapi.FastAPI = fastapi.FastAPI(title='x')\nif api == None:\n    pass\n\nif __name__ == \"__main__\":\n    import uvicorn\n    uvicorn.run(api)\n",
        )
        .unwrap();
        let py = read_py(dir.path(), "main.py").unwrap();
        let app = py.app.unwrap();
        assert_eq!((app.var.as_str(), app.framework), ("api", "FastAPI"));
        assert_eq!(app.interface, Interface::Asgi);
        assert!(py.main_block.unwrap().contains("uvicorn.run(api)"));
    }
}
