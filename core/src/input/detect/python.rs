//! A Python app without apprunner.yaml: requirements.txt, Pipfile or pyproject.toml (PEP 621,
//! Poetry, uv). Dependencies go into a virtualenv at /app/.venv, which both App Runner build
//! processes keep (the revised build copies only /app), and /app/.venv/bin goes first on PATH.

use super::python_project::{dependencies, django_package, read_toml};
use super::{error_at, Detected};
use crate::input::config::BuildSection;
use crate::input::files::ProjectFiles;
use crate::input::origin::Origin;
use crate::input::version::{RequestedVersion, VersionOrigin};
use crate::input::version_text::pep440_to_range;
use crate::report::codes;
use crate::report::diagnostic::Diagnostic;
use crate::resolve::catalog::Language;
use crate::resolve::wheels::{LockTool, LockedWheels};
use std::path::Path;

const VENV_BIN: &str = "/app/.venv/bin";
/// uv at a known version, so a build does not change when uv does; it uses the image's Python
/// (`UV_PYTHON_DOWNLOADS=never`) and its project venv, /app/.venv.
const UV_INSTALL: &str = "pip3 install uv==0.13.9";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tool {
    Pip,
    Pipenv,
    Poetry,
    Uv,
}

pub(super) fn detect(
    project: &ProjectFiles,
    shown_root: &Path,
) -> Result<Option<Detected>, Vec<Diagnostic>> {
    let pyproject =
        read_toml(project, shown_root, "pyproject.toml", MANIFEST_CAP).map_err(|d| vec![d])?;
    let pipfile = read_toml(project, shown_root, "Pipfile", MANIFEST_CAP).map_err(|d| vec![d])?;
    let Some((tool, manifest)) = choose_tool(project, pyproject.as_ref(), pipfile.is_some()) else {
        return Ok(None);
    };
    let mut d = Detected {
        language: Language::Python,
        default_runtime: "python311",
        requests: vec![],
        build: BuildSection::default(),
        start: String::new(),
        run_env: vec![],
        path_prepend: vec![VENV_BIN.into()],
        decisions: vec![],
        remarks: vec![],
        npm_prune: None,
        locked_wheels: None,
    };
    let mut errors = Vec::new();
    match python_request(project, shown_root, pyproject.as_ref()) {
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
    // Without a version request python311 is the runtime whatever the lockfile pins, so the
    // lockfile is read only when there is one.
    if !d.requests.is_empty() {
        if let Some(tool) = manifest.lock_tool() {
            match super::python_lock::locked_wheels(project, shown_root, tool) {
                Ok(locked) => d.locked_wheels = locked.filter(LockedWheels::constrains),
                Err(e) => errors.push(e),
            }
        }
    }
    let commands = install_commands(tool, manifest);
    d.decide(
        "install",
        commands.join(" && "),
        manifest.origin(shown_root),
    );
    d.build.build = commands;
    collectstatic(project, shown_root, &mut d);
    d.run_env(
        "PYTHONUNBUFFERED",
        "1",
        Origin::default_because("print() output reaches the log at once, not when a buffer fills"),
    );
    let deps = dependencies(project, pyproject.as_ref(), pipfile.as_ref());
    let manifest_file = manifest.declares();
    match super::python_start::start_command(
        project,
        shown_root,
        &deps,
        manifest_file,
        pyproject.as_ref(),
        &mut d.remarks,
    ) {
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
        (Tool::Uv, Manifest::UvLock) => &[
            UV_INSTALL,
            "UV_PYTHON_DOWNLOADS=never uv sync --locked --no-dev",
        ],
        (Tool::Uv, _) => &[UV_INSTALL, "UV_PYTHON_DOWNLOADS=never uv sync --no-dev"],
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
    /// The file that exists and decided the tool.
    fn file(self) -> &'static str {
        match self {
            Manifest::UvLock => "uv.lock",
            Manifest::PoetryLock => "poetry.lock",
            Manifest::Pyproject(_) => "pyproject.toml",
            Manifest::PipfileLock => "Pipfile.lock",
            Manifest::Pipfile => "Pipfile",
            Manifest::Requirements => "requirements.txt",
        }
    }

    /// Where dependencies are declared: the lockfile's manifest, else the file itself.
    fn declares(self) -> &'static str {
        match self {
            Manifest::UvLock | Manifest::PoetryLock => "pyproject.toml",
            Manifest::PipfileLock => "Pipfile",
            other => other.file(),
        }
    }

    /// The tool of a lockfile that names the files it installs (uv's and Poetry's do).
    fn lock_tool(self) -> Option<LockTool> {
        match self {
            Manifest::UvLock => Some(LockTool::Uv),
            Manifest::PoetryLock => Some(LockTool::Poetry),
            _ => None,
        }
    }

    fn origin(self, shown_root: &Path) -> Origin {
        let file = shown_root.join(self.file());
        match self {
            Manifest::Pyproject(Some(table)) => Origin::key(file, table),
            _ => Origin::file(file),
        }
    }
}

/// uv, then Poetry, then pipenv, then pip: a lockfile or the tool's table decides.
fn choose_tool(
    project: &ProjectFiles,
    pyproject: Option<&toml::Table>,
    has_pipfile: bool,
) -> Option<(Tool, Manifest)> {
    let has = |f: &str| project.is_file(f);
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

/// pyproject.toml and Pipfile are a few kilobytes; anything near this is not one.
const MANIFEST_CAP: u64 = 1024 * 1024;

/// `.python-version`, then `runtime.txt`, then `requires-python` (or Poetry's `python`).
fn python_request(
    project: &ProjectFiles,
    shown_root: &Path,
    pyproject: Option<&toml::Table>,
) -> Option<Result<RequestedVersion, Diagnostic>> {
    if let Some(found) = super::version_file(
        project,
        shown_root,
        &[".python-version", "runtime.txt"],
        Language::Python,
        "3.11 or 3.11.14",
    ) {
        return Some(found);
    }
    let table = pyproject?;
    let spec = table
        .get("project")
        .and_then(|p| p.get("requires-python"))
        .or_else(|| {
            table
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

/// Django's `collectstatic` after the install, as Heroku runs it, when the settings use
/// `django.contrib.staticfiles` and set `STATIC_ROOT`. `DISABLE_COLLECTSTATIC=1` in the build's
/// environment skips it.
fn collectstatic(project: &ProjectFiles, shown_root: &Path, d: &mut Detected) {
    if !project.is_file("manage.py") {
        return;
    }
    let Some(package) = django_package(project) else {
        return;
    };
    let settings = format!("{package}/settings.py");
    let Some(text) = project.peek(&settings) else {
        return;
    };
    if !(text.contains("django.contrib.staticfiles") && text.contains("STATIC_ROOT")) {
        return;
    }
    let command =
        "[ \"$DISABLE_COLLECTSTATIC\" = 1 ] || .venv/bin/python3 manage.py collectstatic --noinput";
    d.build.build.push(command.into());
    d.decide(
        "collect static files",
        command,
        Origin::noted(
            shown_root.join(settings),
            "django.contrib.staticfiles with a STATIC_ROOT; DISABLE_COLLECTSTATIC=1 in the build's environment (--build-env) skips it",
        ),
    );
}
