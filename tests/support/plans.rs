//! What detection derives from a project without apprunner.yaml, as the user reads it: the plan as
//! `plan` prints it, or the diagnostics of a project that does not plan.

use super::project::{app_fixture, load, project_dir, report, write_app};

/// The plan as `apprunner-build plan` prints it, run from inside the fixture.
pub fn plan_view(name: &str) -> String {
    let loaded = load(&app_fixture(name));
    let report = report(&loaded);
    let mut plan = loaded
        .plan
        .unwrap_or_else(|| panic!("{name} should plan:\n{report}"));
    plan.source_root = name.into();
    format!("{report}{}", apprunner_build::plan::render(&plan))
}

/// The diagnostics of a fixture that does not plan.
pub fn rejected(name: &str) -> String {
    let loaded = load(&app_fixture(name));
    assert!(loaded.plan.is_none(), "{name} should be rejected");
    report(&loaded)
}

/// A project's files: path and contents.
pub type Files<'a> = &'a [(&'a str, &'a [u8])];

/// The plan of a project written into a temporary directory, as `plan` prints it.
pub fn plan_of(files: &[(&str, &[u8])]) -> String {
    let dir = project_dir(files);
    let loaded = load(dir.path());
    let report = report(&loaded);
    let plan = loaded
        .plan
        .unwrap_or_else(|| panic!("should plan:\n{report}"));
    format!("{report}{}", apprunner_build::plan::render(&plan))
}

/// The diagnostics of a project written into a temporary directory that does not plan.
pub fn report_of(files: &[(&str, &[u8])]) -> String {
    let dir = project_dir(files);
    let loaded = load(dir.path());
    assert!(loaded.plan.is_none(), "should be rejected");
    report(&loaded)
}

/// A FastAPI app, `app`.
pub const FASTAPI: &[u8] = b"from fastapi import FastAPI\n\napp = FastAPI()\n";
/// A Flask app, `app`.
pub const FLASK: &[u8] = b"from flask import Flask\napp = Flask(__name__)\n";

/// The `start command:` line of the plan of an app written from `files`: the command and where
/// it came from.
pub fn start_of(files: &[(&str, &str)]) -> String {
    let dir = write_app(files);
    let loaded = load(dir.path());
    let report = report(&loaded);
    let plan = loaded
        .plan
        .unwrap_or_else(|| panic!("should plan:\n{report}"));
    let view = apprunner_build::plan::render(&plan);
    view.lines()
        .find_map(|l| l.trim().strip_prefix("start command: "))
        .unwrap_or_else(|| panic!("no start command:\n{view}"))
        .to_string()
}

/// [`report_of`] for text files.
pub fn rejected_app(files: &[(&str, &str)]) -> String {
    let dir = write_app(files);
    let loaded = load(dir.path());
    assert!(loaded.plan.is_none(), "should be rejected");
    report(&loaded)
}
