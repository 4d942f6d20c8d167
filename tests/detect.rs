//! Projects without apprunner.yaml: what is derived, and from where (one fixture directory per case).

mod support;

use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/apps")
        .join(name)
}

/// The plan as `apprunner-build plan` prints it, run from inside the fixture.
fn plan_view(name: &str) -> String {
    let loaded = support::load(&fixture(name));
    let report = support::report(&loaded);
    let mut plan = loaded
        .plan
        .unwrap_or_else(|| panic!("{name} should plan:\n{report}"));
    plan.source_root = name.into();
    format!("{report}{}", apprunner_build::plan::render(&plan))
}

fn rejected(name: &str) -> String {
    let loaded = support::load(&fixture(name));
    assert!(loaded.plan.is_none(), "{name} should be rejected");
    support::report(&loaded)
}

#[test]
fn npm_with_lockfile() {
    insta::assert_snapshot!(plan_view("express-npm"));
}

#[test]
fn npm_without_lockfile_starts_server_js() {
    let view = plan_view("npm-no-lockfile");
    assert!(
        view.contains("install: `npm install` — from the default: no lockfile"),
        "{view}"
    );
    assert!(
        view.contains("start command: `node server.js` — from server.js (npm's default"),
        "{view}"
    );
    assert!(view.contains("Runtime:       nodejs22 22.21.1"), "{view}");
}

#[test]
fn yarn_1() {
    insta::assert_snapshot!(plan_view("yarn1"));
}

#[test]
fn yarn_berry() {
    let view = plan_view("yarn-berry");
    assert!(
        view.contains("pre-build: corepack enable")
            && view.contains("build: yarn install --immutable"),
        "{view}"
    );
    assert!(
        view.contains(
            "package manager version: `yarn@4.5.3` — from packageManager in package.json"
        ),
        "{view}"
    );
}

#[test]
fn pnpm() {
    insta::assert_snapshot!(plan_view("pnpm"));
}

#[test]
fn engines_caret_range_picks_the_highest_match() {
    let view = plan_view("engines-caret");
    assert!(view.contains("Runtime:       nodejs18 18.20.8"), "{view}");
    assert!(
        view.contains("^18.19.0 (engines.node in package.json line 3)"),
        "{view}"
    );
    assert!(
        view.contains("warning[AR206]: nodejs18 reached end of support"),
        "{view}"
    );
}

#[test]
fn nvmrc_names_the_runtime() {
    let view = plan_view("nvmrc");
    assert!(view.contains("Runtime:       nodejs18 18.20.8"), "{view}");
    assert!(
        view.contains("runtime: `Node.js 18` — from .nvmrc"),
        "{view}"
    );
}

#[test]
fn engines_no_runtime_offers() {
    insta::assert_snapshot!(rejected("engines-impossible"));
}

#[test]
fn two_lockfiles() {
    insta::assert_snapshot!(rejected("two-lockfiles"));
}

#[test]
fn no_start_command() {
    insta::assert_snapshot!(rejected("no-start"));
}

#[test]
fn apprunner_yaml_wins_over_package_json() {
    let view = plan_view("node-with-yaml");
    assert!(view.contains("Configuration: apprunner.yaml"), "{view}");
    assert!(view.contains("command: node cluster.js"), "{view}");
    assert!(
        view.contains("nodejs18 18.20.8"),
        "engines.node narrows within the yaml's runtime: {view}"
    );
}

#[test]
fn python_requirements_txt_with_gunicorn() {
    insta::assert_snapshot!(plan_view("py-requirements"));
}

#[test]
fn python_pipfile() {
    let view = plan_view("py-pipfile");
    assert!(
        view.contains("build: pip3 install pipenv")
            && view.contains("build: PIPENV_VENV_IN_PROJECT=1 pipenv install --deploy"),
        "{view}"
    );
    assert!(
        view.contains("start command: `python3 main.py` — from main.py (an entry point by name)"),
        "{view}"
    );
}

#[test]
fn python_poetry_fastapi() {
    insta::assert_snapshot!(plan_view("py-poetry"));
}

#[test]
fn python_uv_with_requires_python() {
    let view = plan_view("py-uv");
    assert!(view.contains("build: uv sync --frozen --no-dev"), "{view}");
    assert!(
        view.contains("Runtime:       python313"),
        "requires-python >=3.12 is beyond App Runner's python311: {view}"
    );
    assert!(view.contains("not an App Runner runtime"), "{view}");
}

#[test]
fn python_procfile_and_runtime_txt() {
    let view = plan_view("py-procfile");
    assert!(
        view.contains("command: gunicorn --workers 2 --bind 0.0.0.0:$PORT project.wsgi"),
        "{view}"
    );
    assert!(
        view.contains("the web: line in Procfile (line 1)"),
        "{view}"
    );
    assert!(view.contains("Runtime:       python311 3.11.9"), "{view}");
    assert!(view.contains("3.11.9 (runtime.txt)"), "{view}");
}

#[test]
fn python_fastapi_and_django_entry_points() {
    assert!(
        plan_view("py-fastapi").contains("command: uvicorn main:app --host 0.0.0.0 --port $PORT")
    );
    assert!(plan_view("py-django").contains("command: gunicorn --bind 0.0.0.0:$PORT mysite.wsgi"));
}

#[test]
fn python_without_an_entry_point() {
    insta::assert_snapshot!(rejected("py-no-entry"));
}

#[test]
fn unreadable_version_files_are_located_errors() {
    let dir = support::project_dir(&[
        ("package.json", br#"{"scripts":{"start":"node a.js"}}"#),
        (".nvmrc", b"node\n"),
    ]);
    let out = support::report(&support::load(dir.path()));
    assert!(
        out.contains("`node` in .nvmrc is not a Node.js version") && out.contains("--> .nvmrc"),
        "{out}"
    );
    let dir = support::project_dir(&[
        ("requirements.txt", b"flask\n"),
        ("app.py", b""),
        (".python-version", b"system\n"),
    ]);
    let out = support::report(&support::load(dir.path()));
    assert!(
        out.contains("`system` in .python-version is not a Python version"),
        "{out}"
    );
}

#[test]
fn engines_node_against_runtime_version_is_a_conflict() {
    insta::assert_snapshot!(rejected("node-conflict"));
}
