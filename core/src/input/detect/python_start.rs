//! How a Python app without a start command is started: a Procfile or another platform's start
//! command, else the application object (or app factory) found in the entry files, in the `app/`
//! and `src/` packages and in the package named after the project, served by the server the
//! project installs, bound to 0.0.0.0:$PORT; else a file whose `__main__` block starts it.

use super::dockerfile::DockerfileStart;
use super::error_at;
use super::python_app::{read_py, AppObject, Interface, PyFile, Source, Target};
use super::python_project::{django_package, Dep};
use crate::input::files::ProjectFiles;
use crate::input::origin::Origin;
use crate::report::codes;
use crate::report::diagnostic::Diagnostic;
use std::path::Path;

/// The names an app's entry file goes by; application.py is Elastic Beanstalk's.
const ENTRY_FILES: &[&str] = &[
    "main.py",
    "app.py",
    "application.py",
    "server.py",
    "wsgi.py",
    "asgi.py",
];

/// A package that may hold the app, besides `app/` and `src/`: the one named after the project.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Package {
    /// Relative to the project root: `my_service`, `src/my_service`.
    dir: String,
    /// `src` for `src/my_service`: see [`AppObject::import_root`].
    import_root: Option<String>,
}

/// The packages named after the project, that exist: `[project] name` (`my-service` →
/// `my_service/`, or `src/my_service/`), Poetry's `packages = [{ include = "…", from = "…" }]`,
/// then `[tool.poetry] name`. `app` and `src` are searched anyway.
fn project_packages(project: &ProjectFiles, pyproject: Option<&toml::Table>) -> Vec<Package> {
    let Some(pyproject) = pyproject else {
        return vec![];
    };
    let poetry = pyproject.get("tool").and_then(|t| t.get("poetry"));
    // `My-Service` → `My_Service/`, else `my_service/` (a package's name is usually the
    // project's, normalized), at the root or in src/ (where Poetry also looks by itself).
    let named = |name: Option<&str>| {
        let name = name.map(|n| n.replace(['-', '.'], "_"));
        let names = name
            .iter()
            .flat_map(|n| [n.clone(), n.to_ascii_lowercase()]);
        names
            .flat_map(|n| [(None, n.clone()), (Some("src".to_string()), n)])
            .collect::<Vec<_>>()
    };
    let mut wanted = named(
        pyproject
            .get("project")
            .and_then(|p| p.get("name"))
            .and_then(|n| n.as_str()),
    );
    let includes = poetry
        .and_then(|p| p.get("packages"))
        .and_then(|p| p.as_array())
        .into_iter()
        .flatten();
    for package in includes {
        let Some(include) = package.get("include").and_then(|i| i.as_str()) else {
            continue;
        };
        let from = package.get("from").and_then(|f| f.as_str());
        wanted.push((
            from.map(|f| f.trim_end_matches('/').to_string()),
            include.into(),
        ));
    }
    wanted.extend(named(
        poetry.and_then(|p| p.get("name")).and_then(|n| n.as_str()),
    ));
    let mut packages: Vec<Package> = Vec::new();
    for (from, name) in wanted {
        // Names that are Python identifiers (and `from` made of them), so a path never leaves the
        // project: `../x` is no package.
        let ident = |s: &str| {
            !s.is_empty()
                && !s.starts_with(|c: char| c.is_ascii_digit())
                && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        };
        if !ident(&name) || from.as_deref().is_some_and(|f| !f.split('/').all(ident)) {
            continue;
        }
        let dir = match &from {
            Some(from) => format!("{from}/{name}"),
            None => name,
        };
        let package = Package {
            dir,
            import_root: from,
        };
        if !matches!(package.dir.as_str(), "app" | "src")
            && project.is_dir(&package.dir)
            && !packages.contains(&package)
        {
            packages.push(package);
        }
    }
    packages
}

/// The files that may hold the app, in order: Django's project package (with manage.py), then
/// the entry files at the root, in app/, in src/ and in the project's packages; a package's
/// `__init__.py` after its entry files. A module-level `create_app` counts in the root entry
/// files and in `__init__.py`.
fn candidate_files(project: &ProjectFiles, packages: &[Package]) -> Vec<Source> {
    let mut files = Vec::new();
    if project.is_file("manage.py") {
        if let Some(package) = django_package(project) {
            files.push(Source::new(format!("{package}/wsgi.py")));
            files.push(Source::new(format!("{package}/asgi.py")));
        }
    }
    let root_files = ENTRY_FILES.iter().map(|f| Source {
        factory: true,
        ..Source::new(*f)
    });
    files.extend(root_files);
    let dirs = [("app", None, true), ("src", None, false)]
        .into_iter()
        .chain(
            packages
                .iter()
                .map(|p| (p.dir.as_str(), p.import_root.clone(), true)),
        );
    for (dir, import_root, init) in dirs {
        let names = ENTRY_FILES
            .iter()
            .copied()
            .chain(init.then_some("__init__.py"));
        files.extend(names.map(|f| Source {
            import_root: import_root.clone(),
            factory: f == "__init__.py",
            ..Source::new(format!("{dir}/{f}"))
        }));
    }
    // A Django project package may also be the project's package: each file once.
    let mut seen = std::collections::HashSet::new();
    files.retain(|f| seen.insert(f.file.clone()) && project.is_file(&f.file));
    files
}

/// A server that serves an app object or factory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Server {
    FastapiCli,
    Uvicorn,
    Hypercorn,
    Granian,
    Gunicorn,
    Waitress,
}

impl Server {
    /// The server the project installs for `app` and what provides it, if any.
    fn for_app(app: &AppObject, deps: &[Dep]) -> Option<(Server, &'static str)> {
        let dep = |n: &str| deps.iter().any(|d| d.name == n);
        let fastapi_standard = deps
            .iter()
            .any(|d| d.name == "fastapi" && d.extras.iter().any(|e| e == "standard"));
        let factory = matches!(app.target, Target::Factory(_));
        let found = match app.interface {
            // FastAPI's CLI takes no factory; the uvicorn fastapi[standard] brings serves one.
            Interface::Asgi => [
                (
                    Server::FastapiCli,
                    "fastapi[standard] (FastAPI's CLI)",
                    app.framework == Some("FastAPI")
                        && !factory
                        && (fastapi_standard || dep("fastapi-cli")),
                ),
                (Server::Uvicorn, "uvicorn", dep("uvicorn")),
                (
                    Server::Uvicorn,
                    "uvicorn (from fastapi[standard])",
                    factory && fastapi_standard,
                ),
                (Server::Hypercorn, "hypercorn", dep("hypercorn")),
                (Server::Granian, "granian", dep("granian")),
            ]
            .into_iter()
            .find(|(.., installed)| *installed),
            Interface::Wsgi => [
                (Server::Gunicorn, "gunicorn", dep("gunicorn")),
                (Server::Waitress, "waitress", dep("waitress")),
                (Server::Granian, "granian", dep("granian")),
            ]
            .into_iter()
            .find(|(.., installed)| *installed),
        };
        found.map(|(server, provided_by, _)| (server, provided_by))
    }

    /// The package to add for it.
    fn package(self) -> &'static str {
        match self {
            Server::FastapiCli => "fastapi[standard]",
            Server::Uvicorn => "uvicorn",
            Server::Hypercorn => "hypercorn",
            Server::Granian => "granian",
            Server::Gunicorn => "gunicorn",
            Server::Waitress => "waitress",
        }
    }

    /// The command that serves `app` on 0.0.0.0:$PORT; a factory is called the server's way.
    fn command(self, app: &AppObject) -> String {
        let target = app.target();
        let factory = matches!(app.target, Target::Factory(_));
        let line = match (self, factory) {
            (Server::FastapiCli, _) => {
                let named = match &app.target {
                    Target::Object(var) if !matches!(var.as_str(), "app" | "api") => {
                        format!(" --app {var}")
                    }
                    _ => String::new(),
                };
                // It finds the module from the file itself, whatever the import root.
                return format!("fastapi run {}{named} --port $PORT", app.file);
            }
            (Server::Uvicorn, false) => format!("uvicorn {target} --host 0.0.0.0 --port $PORT"),
            (Server::Uvicorn, true) => {
                format!("uvicorn --factory {target} --host 0.0.0.0 --port $PORT")
            }
            (Server::Hypercorn, false) => format!("hypercorn {target} --bind 0.0.0.0:$PORT"),
            (Server::Hypercorn, true) => format!("hypercorn '{target}()' --bind 0.0.0.0:$PORT"),
            (Server::Granian, _) => format!(
                "granian --interface {} --host 0.0.0.0 --port $PORT {}{target}",
                app.interface.name().to_ascii_lowercase(),
                if factory { "--factory " } else { "" }
            ),
            (Server::Gunicorn, false) => format!("gunicorn --bind 0.0.0.0:$PORT {target}"),
            (Server::Gunicorn, true) => format!("gunicorn --bind 0.0.0.0:$PORT '{target}()'"),
            (Server::Waitress, false) => format!("waitress-serve --listen=0.0.0.0:$PORT {target}"),
            (Server::Waitress, true) => {
                format!("waitress-serve --listen=0.0.0.0:$PORT --call {target}")
            }
        };
        match &app.import_root {
            Some(dir) => format!("PYTHONPATH={dir} {line}"),
            None => line,
        }
    }
}

/// A Procfile `web:` line (or another platform's start command), else the app object served by
/// a server the project installs, else a file with a `__main__` block run by `python3`.
pub(super) fn start_command(
    project: &ProjectFiles,
    shown_root: &Path,
    deps: &[Dep],
    manifest: &str,
    pyproject: Option<&toml::Table>,
    remarks: &mut Vec<Diagnostic>,
) -> Result<(String, Origin), Diagnostic> {
    if let Some(found) = super::hints::start_command(project, shown_root, remarks) {
        return Ok(found);
    }
    let packages = project_packages(project, pyproject);
    let files: Vec<(Source, PyFile)> = candidate_files(project, &packages)
        .into_iter()
        .filter_map(|s| read_py(project, &s).map(|p| (s, p)))
        .collect();
    for (_, py) in &files {
        let Some(app) = &py.app else { continue };
        if let Some((server, provided_by)) = Server::for_app(app, deps) {
            return Ok((
                server.command(app),
                Origin::noted(
                    shown_root.join(&app.file),
                    format!("{}, and {provided_by} in {manifest}", app.summary()),
                ),
            ));
        }
    }
    let script = files
        .iter()
        .find(|(s, p)| p.main.is_some() && !s.is_package_init());
    if let Some((source, py)) = script {
        return Ok(run_script(
            shown_root,
            &source.file,
            py,
            "its `if __name__ == \"__main__\":` block",
            remarks,
        ));
    }
    // Any root file whose `__main__` block serves its app on $PORT. Reached only when every rule
    // above found nothing, where detection used to end in an error (AR302, AR308 or AR309): no
    // project that planned before starts differently. Only when one file qualifies: of two, which
    // one the app is cannot be told.
    let servers = root_servers(project);
    if let [(file, py)] = servers.as_slice() {
        return Ok(run_script(
            shown_root,
            file,
            py,
            "the only root file with an app and a `__main__` block that serves it on $PORT",
            remarks,
        ));
    }
    if let Some(found) = streamlit_app(project, shown_root, deps, manifest) {
        return Ok(found);
    }
    let dockerfile = super::dockerfile::dockerfile_start(project);
    let mut error = no_start_command(shown_root, manifest, &files, &packages, dockerfile.as_ref());
    if servers.len() > 1 {
        let names: Vec<&str> = servers.iter().map(|(f, _)| f.as_str()).collect();
        error = error.with_note(format!(
            "{} each serve an app on $PORT from their `if __name__ == \"__main__\":` block: a Procfile line `web: python3 {}` says which one is the app",
            names.join(", "),
            names[0]
        ));
    }
    if let Some(d) = &dockerfile {
        error = error.with_note(d.note());
    }
    Err(error)
}

/// `python3 FILE`, with a warning when it starts Flask's development server on its defaults.
fn run_script(
    shown_root: &Path,
    file: &str,
    py: &PyFile,
    why: &str,
    remarks: &mut Vec<Diagnostic>,
) -> (String, Origin) {
    if let (Some(app), Some(main)) = (&py.app, &py.main) {
        if app.framework == Some("Flask") {
            remarks.extend(flask_dev_server(shown_root, file, &main.text));
        }
    }
    (
        format!("python3 {file}"),
        Origin::noted(shown_root.join(file), why),
    )
}

/// More root files than this, and the root is no small app's: none is picked by its `__main__`
/// block.
const ROOT_FILES_READ: usize = 64;

/// The `.py` files at the root with an app (object, factory, or `app = <a call>`) and a
/// `__main__` block that serves on $PORT, by name.
fn root_servers(project: &ProjectFiles) -> Vec<(String, PyFile)> {
    let mut names: Vec<String> = project
        .entries("")
        .into_iter()
        .map(|(name, _)| name)
        .filter(|n| n.ends_with(".py"))
        .collect();
    if names.len() > ROOT_FILES_READ {
        return vec![];
    }
    names.sort();
    names
        .into_iter()
        .filter_map(|name| {
            let source = Source {
                factory: true,
                ..Source::new(name.clone())
            };
            read_py(project, &source).map(|py| (name, py))
        })
        .filter(|(_, py)| py.has_app() && py.main.as_ref().is_some_and(|m| m.serves_on_port))
        .collect()
}

/// A Streamlit app: with `streamlit` among the dependencies, the root file that imports it (the
/// only one, or `streamlit_app.py`, Streamlit Community Cloud's default), run by `streamlit run`
/// on 0.0.0.0:$PORT without its first-run prompt. It has no app object or `__main__` block to
/// find.
fn streamlit_app(
    project: &ProjectFiles,
    shown_root: &Path,
    deps: &[Dep],
    manifest: &str,
) -> Option<(String, Origin)> {
    deps.iter().find(|d| d.name == "streamlit")?;
    let mut names: Vec<String> = project
        .entries("")
        .into_iter()
        .map(|(name, _)| name)
        .filter(|n| n.ends_with(".py"))
        .collect();
    if names.len() > ROOT_FILES_READ {
        return None;
    }
    names.sort();
    let importing: Vec<String> = names
        .into_iter()
        .filter(|n| {
            project.peek(n).is_some_and(|text| {
                text.lines().any(|l| {
                    let l = l.trim_start();
                    l.starts_with("import streamlit") || l.starts_with("from streamlit")
                })
            })
        })
        .collect();
    let file = match importing.as_slice() {
        [only] => only.clone(),
        several => several.iter().find(|n| *n == "streamlit_app.py")?.clone(),
    };
    Some((
        format!(
            "streamlit run {file} --server.port $PORT --server.address 0.0.0.0 --server.headless true"
        ),
        Origin::noted(
            shown_root.join(&file),
            format!("it imports streamlit, and streamlit is in {manifest}"),
        ),
    ))
}

/// Why nothing starts the app (AR308, AR309, AR302), with the Dockerfile's command as the
/// `web:` line to write when there is one.
fn no_start_command(
    shown_root: &Path,
    manifest: &str,
    files: &[(Source, PyFile)],
    packages: &[Package],
    dockerfile: Option<&DockerfileStart>,
) -> Diagnostic {
    if let Some(app) = files.iter().find_map(|(_, p)| p.app.as_ref()) {
        let (server, names) = match app.interface {
            Interface::Asgi => (
                Server::Uvicorn,
                "ASGI server (uvicorn, hypercorn, granian, or fastapi[standard])",
            ),
            Interface::Wsgi => (
                Server::Gunicorn,
                "WSGI server (gunicorn, waitress or granian)",
            ),
        };
        let web = dockerfile.map_or_else(|| server.command(app), |d| d.command.clone());
        return error_at(
            codes::NO_SERVER_FOR_APP,
            shown_root,
            manifest,
            format!(
                "{} defines {}, but nothing serves it: no {names} in {manifest}, and {} has no `if __name__ == \"__main__\":` block",
                app.file,
                app.describe(),
                app.file
            ),
        )
        .with_help(format!(
            "add `{}` to {manifest}, or a Procfile line `web: {web}`",
            server.package()
        ));
    }
    if let Some((source, _)) = files.iter().find(|(s, _)| !s.is_package_init()) {
        let file = &source.file;
        let web = dockerfile.map_or("<the command that starts your server>", |d| &d.command);
        return error_at(
            codes::NO_MAIN_BLOCK,
            shown_root,
            file,
            format!(
                "{file} has no `if __name__ == \"__main__\":` block and defines no ASGI or WSGI app: `python3 {file}` would start nothing"
            ),
        )
        .with_help(format!("add a Procfile line `web: {web}`, or an app object (`app = Flask(__name__)`) and a server such as gunicorn to the dependencies"));
    }
    let mut dirs: Vec<String> = ["app", "src"]
        .iter()
        .map(|d| d.to_string())
        .chain(packages.iter().map(|p| p.dir.clone()))
        .map(|d| format!("in {d}/"))
        .collect();
    let last = dirs.pop().unwrap_or_default();
    let help = match dockerfile {
        Some(d) => format!(
            "add a Procfile line `web: {}`, or an apprunner.yaml with run.command",
            d.command
        ),
        None => {
            "add a Procfile with `web: <command>`, or an apprunner.yaml with run.command".into()
        }
    };
    error_at(
        codes::NO_START_COMMAND,
        shown_root,
        manifest,
        format!(
            "no way to start the app: no Procfile web: line, and none of {} (at the root, {} or {last})",
            ENTRY_FILES.join(", "),
            dirs.join(", ")
        ),
    )
    .with_help(help)
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
    fn packages_named_after_the_project() {
        let dir = tempfile::tempdir().unwrap();
        for d in ["my_service", "src/svc", "lib/tool", "app", "my_tool"] {
            std::fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        let packages = |toml: &str| {
            let table: toml::Table = toml.parse().unwrap();
            project_packages(&ProjectFiles::new(dir.path(), Path::new("")), Some(&table))
                .into_iter()
                .map(|p| (p.dir, p.import_root))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            packages("[project]\nname = \"my-service\"\n"),
            [("my_service".into(), None)]
        );
        assert_eq!(
            packages("[tool.poetry]\nname = \"x\"\npackages = [{ include = \"tool\", from = \"lib\" }, { include = \"../etc\" }]\n"),
            [("lib/tool".into(), Some("lib".into()))]
        );
        assert_eq!(
            packages("[tool.poetry]\nname = \"svc\"\n"),
            [("src/svc".into(), Some("src".into()))],
            "Poetry finds src/NAME by itself"
        );
        assert!(
            packages("[project]\nname = \"app\"\n").is_empty(),
            "app/ is searched anyway"
        );
        assert_eq!(
            packages("[project]\nname = \"My.Tool\"\n"),
            [("my_tool".into(), None)]
        );
    }
}
