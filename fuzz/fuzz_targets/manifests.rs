//! The project files detection reads, one kind at a time: the first byte picks the file, the rest
//! is its content. It is written into an empty directory, with the few files that make detection
//! read it (a lockfile is read only when a version is requested; a version file only beside the
//! manifest of its language), and the project is loaded as `plan` loads it: detection, resolution
//! against the shipped catalog, the plan, dependency layers and the lint; then every diagnostic
//! is rendered.
#![no_main]

use apprunner_build::project::{self, ProjectArgs};
use apprunner_build::report::{errors, log};
use apprunner_build::resolve::catalog::Catalog;
use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::OnceLock;

const PACKAGE_JSON: &str = r#"{"name":"app","scripts":{"start":"node server.js"}}"#;
const REQUIREMENTS: &str = "flask==3.0.0\ngunicorn\n";
const UV_PYPROJECT: &str = "[project]\nname = \"app\"\nversion = \"0.1.0\"\nrequires-python = \">=3.12\"\ndependencies = [\"fastapi\"]\n";
const POETRY_PYPROJECT: &str = "[tool.poetry]\nname = \"app\"\nversion = \"0.1.0\"\n\n[tool.poetry.dependencies]\npython = \"^3.12\"\nflask = \"*\"\n";

/// The file each first byte names (modulo the count), and the files written beside it.
const KINDS: &[(&str, &[(&str, &str)])] = &[
    ("package.json", &[]),
    ("pyproject.toml", &[]),
    ("Pipfile", &[]),
    ("requirements.txt", &[]),
    (".nvmrc", &[("package.json", PACKAGE_JSON)]),
    (".node-version", &[("package.json", PACKAGE_JSON)]),
    (".python-version", &[("requirements.txt", REQUIREMENTS)]),
    ("runtime.txt", &[("requirements.txt", REQUIREMENTS)]),
    ("uv.lock", &[("pyproject.toml", UV_PYPROJECT)]),
    ("poetry.lock", &[("pyproject.toml", POETRY_PYPROJECT)]),
    (
        "Pipfile.lock",
        &[("Pipfile", "[packages]\nflask = \"*\"\n")],
    ),
    ("Procfile", &[("requirements.txt", REQUIREMENTS)]),
    ("package-lock.json", &[("package.json", PACKAGE_JSON)]),
    ("tsconfig.json", &[("package.json", PACKAGE_JSON)]),
];

fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(Catalog::shipped)
}

fuzz_target!(|data: &[u8]| {
    let Some((&kind, content)) = data.split_first() else {
        return;
    };
    let (name, beside) = KINDS[usize::from(kind) % KINDS.len()];
    let dir = tempfile::tempdir().expect("a temporary directory");
    for (other, text) in beside {
        std::fs::write(dir.path().join(other), text).expect("a companion file is written");
    }
    std::fs::write(dir.path().join(name), content).expect("the fuzzed file is written");
    let args = ProjectArgs {
        dir: dir.path().to_path_buf(),
        shown_dir: Some(PathBuf::new()),
        dependency_layers: true,
        ..Default::default()
    };
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 25).expect("a date");
    let loaded = project::load(&args, catalog(), today);
    let _ = errors::render_all(&loaded.diagnostics);
    for d in loaded.diagnostics.iter() {
        let _ = log::diagnostic_json(d);
    }
    if let Some(plan) = loaded.plan {
        let json = serde_json::to_string(&plan).expect("a plan serialises");
        assert!(!json.is_empty());
    }
});
