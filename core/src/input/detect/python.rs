//! A Python app without apprunner.yaml: requirements.txt, Pipfile or pyproject.toml (PEP 621,
//! Poetry, uv). Dependencies go into a virtualenv at /app/.venv, which both App Runner build
//! processes keep (the revised build copies only /app), and /app/.venv/bin goes first on PATH.

use super::{error_at, Detected};
use crate::input::config::BuildSection;
use crate::input::origin::Origin;
use crate::report::codes;
use crate::report::diagnostic::Diagnostic;
use crate::resolve::catalog::Language;
use crate::resolve::runtime::{pep440_to_range, RequestedVersion, VersionOrigin};
use std::path::Path;

const VENV_BIN: &str = "/app/.venv/bin";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tool {
    Pip,
    Pipenv,
    Poetry,
    Uv,
}

pub(super) fn detect(root: &Path, shown_root: &Path) -> Result<Option<Detected>, Vec<Diagnostic>> {
    let pyproject = read_toml(root, shown_root, "pyproject.toml")?;
    let pipfile = read_toml(root, shown_root, "Pipfile")?;
    let Some((tool, manifest)) = choose_tool(root, pyproject.as_ref(), pipfile.is_some()) else {
        return Ok(None);
    };
    let mut d = Detected {
        language: Language::Python,
        default_runtime: "python311",
        requests: vec![],
        build: BuildSection::default(),
        start: String::new(),
        path_prepend: vec![VENV_BIN.into()],
        decisions: vec![],
        remarks: vec![],
    };
    let mut errors = Vec::new();
    match python_request(root, shown_root, pyproject.as_ref()) {
        Some(Ok(request)) => {
            d.decide(
                "runtime",
                format!("Python {}", request.text),
                Origin::from(&request.origin),
            );
            d.requests.push(request);
        }
        Some(Err(e)) => errors.push(e),
        None => d.decide(
            "runtime",
            "python311",
            Origin::default_because("no .python-version, runtime.txt or requires-python"),
        ),
    }
    let commands = install_commands(tool, manifest);
    d.decide(
        "install",
        commands.join(" && "),
        manifest.origin(shown_root),
    );
    d.build.build = commands;
    let deps = dependencies(root, pyproject.as_ref(), pipfile.as_ref());
    match start_command(root, shown_root, &deps) {
        Ok((command, origin)) => {
            d.decide("start command", &command, origin);
            d.start = command;
        }
        Err(e) => errors.push(e),
    }
    if errors.is_empty() {
        Ok(Some(d))
    } else {
        Err(errors)
    }
}

/// Each tool installs into /app/.venv, which both build processes keep.
fn install_commands(tool: Tool, manifest: Manifest) -> Vec<String> {
    let commands: &[&str] = match (tool, manifest) {
        (Tool::Pip, Manifest::Requirements) => &[
            "python3 -m venv .venv",
            ".venv/bin/pip install -r requirements.txt",
        ],
        (Tool::Pip, _) => &["python3 -m venv .venv", ".venv/bin/pip install ."],
        (Tool::Pipenv, Manifest::PipfileLock) => &[
            "pip3 install pipenv",
            "PIPENV_VENV_IN_PROJECT=1 pipenv install --deploy",
        ],
        (Tool::Pipenv, _) => &[
            "pip3 install pipenv",
            "PIPENV_VENV_IN_PROJECT=1 pipenv install --skip-lock",
        ],
        (Tool::Poetry, _) => &[
            "pip3 install poetry",
            "poetry config virtualenvs.in-project true",
            "poetry install --no-root --only main",
        ],
        (Tool::Uv, Manifest::UvLock) => &["pip3 install uv", "uv sync --frozen --no-dev"],
        (Tool::Uv, _) => &["pip3 install uv", "uv sync --no-dev"],
    };
    commands.iter().map(|c| c.to_string()).collect()
}

/// The file that decided the tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Manifest {
    UvLock,
    PoetryLock,
    /// `[tool.uv]` or `[tool.poetry]`, or PEP 621 dependencies.
    Pyproject(Option<&'static str>),
    PipfileLock,
    Pipfile,
    Requirements,
}

impl Manifest {
    fn origin(self, shown_root: &Path) -> Origin {
        let file = |name: &str| shown_root.join(name);
        match self {
            Manifest::UvLock => Origin::file(file("uv.lock")),
            Manifest::PoetryLock => Origin::file(file("poetry.lock")),
            Manifest::Pyproject(Some(table)) => Origin::key(file("pyproject.toml"), table),
            Manifest::Pyproject(None) => Origin::file(file("pyproject.toml")),
            Manifest::PipfileLock => Origin::file(file("Pipfile.lock")),
            Manifest::Pipfile => Origin::file(file("Pipfile")),
            Manifest::Requirements => Origin::file(file("requirements.txt")),
        }
    }
}

/// uv, then Poetry, then pipenv, then pip: a lockfile or the tool's table decides.
fn choose_tool(
    root: &Path,
    pyproject: Option<&toml::Table>,
    has_pipfile: bool,
) -> Option<(Tool, Manifest)> {
    let has = |f: &str| root.join(f).is_file();
    let table =
        |name: &str| pyproject.is_some_and(|p| p.get("tool").and_then(|t| t.get(name)).is_some());
    Some(if has("uv.lock") {
        (Tool::Uv, Manifest::UvLock)
    } else if table("uv") {
        (Tool::Uv, Manifest::Pyproject(Some("[tool.uv]")))
    } else if has("poetry.lock") {
        (Tool::Poetry, Manifest::PoetryLock)
    } else if table("poetry") {
        (Tool::Poetry, Manifest::Pyproject(Some("[tool.poetry]")))
    } else if has_pipfile && has("Pipfile.lock") {
        (Tool::Pipenv, Manifest::PipfileLock)
    } else if has_pipfile {
        (Tool::Pipenv, Manifest::Pipfile)
    } else if has("requirements.txt") {
        (Tool::Pip, Manifest::Requirements)
    } else if pyproject.is_some() {
        (Tool::Pip, Manifest::Pyproject(None))
    } else {
        return None;
    })
}

fn read_toml(
    root: &Path,
    shown_root: &Path,
    name: &str,
) -> Result<Option<toml::Table>, Vec<Diagnostic>> {
    let Ok(text) = std::fs::read_to_string(root.join(name)) else {
        return Ok(None);
    };
    text.parse::<toml::Table>().map(Some).map_err(|e| {
        vec![error_at(
            codes::INVALID_TOML,
            shown_root,
            name,
            format!("{name} is not valid TOML: {}", e.message()),
        )]
    })
}

/// `.python-version`, then `runtime.txt`, then `requires-python` (or Poetry's `python`).
fn python_request(
    root: &Path,
    shown_root: &Path,
    pyproject: Option<&toml::Table>,
) -> Option<Result<RequestedVersion, Diagnostic>> {
    if let Some(found) = super::version_file(
        root,
        shown_root,
        &[".python-version", "runtime.txt"],
        Language::Python,
        "3.11 or 3.11.14",
    ) {
        return Some(found);
    }
    let project = pyproject?;
    let spec = project
        .get("project")
        .and_then(|p| p.get("requires-python"))
        .or_else(|| {
            project
                .get("tool")?
                .get("poetry")?
                .get("dependencies")?
                .get("python")
        })?
        .as_str()?;
    let origin = VersionOrigin::RequiresPython {
        path: shown_root.join("pyproject.toml"),
    };
    Some(match pep440_to_range(spec) {
        Some(range) => RequestedVersion::from_npm_range(&range, origin, None).map_err(Into::into),
        None => Err(error_at(
            codes::INVALID_REQUIRES_PYTHON,
            shown_root,
            "pyproject.toml",
            format!("cannot read requires-python `{spec}`"),
        )
        .with_help("use a specifier such as >=3.11 or ~=3.11")),
    })
}

/// Lower-case distribution names from every place dependencies are declared.
fn dependencies(
    root: &Path,
    pyproject: Option<&toml::Table>,
    pipfile: Option<&toml::Table>,
) -> Vec<String> {
    let mut names = Vec::new();
    let name_of = |spec: &str| {
        spec.trim()
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'))
            .next()
            .unwrap_or("")
            .to_ascii_lowercase()
    };
    if let Ok(text) = std::fs::read_to_string(root.join("requirements.txt")) {
        names.extend(
            text.lines()
                .map(|l| l.split('#').next().unwrap_or(""))
                .filter(|l| !l.trim().starts_with('-'))
                .map(name_of),
        );
    }
    if let Some(list) =
        pyproject.and_then(|p| p.get("project")?.get("dependencies")?.as_array().cloned())
    {
        names.extend(list.iter().filter_map(|v| v.as_str()).map(name_of));
    }
    let tables = [
        pyproject.and_then(|p| {
            p.get("tool")?
                .get("poetry")?
                .get("dependencies")?
                .as_table()
                .cloned()
        }),
        pipfile.and_then(|p| p.get("packages")?.as_table().cloned()),
    ];
    for table in tables.into_iter().flatten() {
        names.extend(table.keys().map(|k| k.to_ascii_lowercase()));
    }
    names.retain(|n| !n.is_empty());
    names
}

/// Procfile `web:`, else an entry point a person would pick.
fn start_command(
    root: &Path,
    shown_root: &Path,
    deps: &[String],
) -> Result<(String, Origin), Diagnostic> {
    let has_dep = |n: &str| deps.iter().any(|d| d == n);
    procfile_web(root, shown_root)
        .or_else(|| has_dep("uvicorn").then(|| asgi_app(root, shown_root)).flatten())
        .or_else(|| has_dep("gunicorn").then(|| django(root, shown_root)).flatten())
        .or_else(|| has_dep("gunicorn").then(|| wsgi_app(root, shown_root)).flatten())
        .or_else(|| entry_point(root, shown_root))
        .ok_or_else(|| {
            error_at(
                codes::NO_START_COMMAND,
                shown_root,
                "requirements.txt",
                "no way to start the app: no Procfile web: line and no app.py, main.py or server.py",
            )
            .with_help("add a Procfile with `web: <command>`, or an apprunner.yaml with run.command")
        })
}

fn procfile_web(root: &Path, shown_root: &Path) -> Option<(String, Origin)> {
    let text = std::fs::read_to_string(root.join("Procfile")).ok()?;
    text.lines().enumerate().find_map(|(i, line)| {
        let cmd = line.trim().strip_prefix("web:")?;
        Some((
            cmd.trim().to_string(),
            Origin::File {
                path: shown_root.join("Procfile"),
                key: Some("the web: line".into()),
                note: Some(format!("line {}", i + 1)),
            },
        ))
    })
}

/// A FastAPI or Starlette app, served by uvicorn.
fn asgi_app(root: &Path, shown_root: &Path) -> Option<(String, Origin)> {
    ["main.py", "app.py", "server.py"]
        .into_iter()
        .find_map(|file| {
            let text = std::fs::read_to_string(root.join(file)).ok()?;
            (text.contains("FastAPI(") || text.contains("Starlette(")).then(|| {
                let module = file.trim_end_matches(".py");
                (
                    format!("uvicorn {module}:app --host 0.0.0.0 --port $PORT"),
                    Origin::noted(
                        shown_root.join(file),
                        "an ASGI app, and uvicorn in the dependencies",
                    ),
                )
            })
        })
}

/// Django: manage.py and a project package with wsgi.py, served by gunicorn.
fn django(root: &Path, shown_root: &Path) -> Option<(String, Origin)> {
    if !root.join("manage.py").is_file() {
        return None;
    }
    let project = std::fs::read_dir(root)
        .ok()?
        .flatten()
        .find(|e| e.path().join("wsgi.py").is_file())?;
    let name = project.file_name().to_string_lossy().to_string();
    Some((
        format!("gunicorn --bind 0.0.0.0:$PORT {name}.wsgi"),
        Origin::noted(
            shown_root.join(&name).join("wsgi.py"),
            "Django's WSGI module, and gunicorn in the dependencies",
        ),
    ))
}

/// A module-level `app` or `application`, served by gunicorn.
fn wsgi_app(root: &Path, shown_root: &Path) -> Option<(String, Origin)> {
    ["app.py", "wsgi.py", "main.py", "server.py"]
        .into_iter()
        .find_map(|file| {
            let text = std::fs::read_to_string(root.join(file)).ok()?;
            let var = ["app", "application"]
                .into_iter()
                .find(|v| text.contains(&format!("{v} = ")) || text.contains(&format!("{v}=")))?;
            let module = file.trim_end_matches(".py");
            Some((
                format!("gunicorn --bind 0.0.0.0:$PORT {module}:{var}"),
                Origin::noted(
                    shown_root.join(file),
                    format!("a WSGI app `{var}`, and gunicorn in the dependencies"),
                ),
            ))
        })
}

fn entry_point(root: &Path, shown_root: &Path) -> Option<(String, Origin)> {
    ["app.py", "main.py", "server.py"]
        .into_iter()
        .find(|file| root.join(file).is_file())
        .map(|file| {
            (
                format!("python3 {file}"),
                Origin::noted(shown_root.join(file), "an entry point by name"),
            )
        })
}
