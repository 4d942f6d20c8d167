//! Issue 24: files modelled on real apprunner.yaml files whose messages fell short (snapshots of
//! the whole report). Every problem in one run, and no false alarms.

mod support;

use support::{load, report, write_app};

/// The whole report for a project of `files`.
fn check(files: &[(&str, &str)]) -> String {
    report(&load(write_app(files).path()))
}

/// Pasted from a web page: indented with no-break spaces (U+00A0), which look like spaces.
#[test]
fn no_break_spaces_in_indentation() {
    let yaml = "version: 1.0\nruntime: python311\nbuild:\n  commands:\n\u{a0}\u{a0}\u{a0}\u{a0}build:\n      - pip3 install -r requirements.txt\nrun:\n\u{a0}\u{a0}command: python3 app.py\n";
    insta::assert_snapshot!(check(&[("apprunner.yaml", yaml)]));
}

/// A version python3 does not offer must not hide what is wrong whatever the version: `pre-run`
/// with the original build, the end of support, the plan's warnings.
#[test]
fn an_unresolved_version_does_not_stop_the_other_checks() {
    let yaml = "version: 1.0\nruntime: python3\nbuild:\n  commands:\n    pre-build:\n      - yum install -y postgresql-devel\n    build:\n      - pip install -r requirements.txt\nrun:\n  runtime-version: 3.11\n  pre-run:\n    - python manage.py migrate\n  command: gunicorn -b 0.0.0.0:8080 app.wsgi\n";
    insta::assert_snapshot!(check(&[("apprunner.yaml", yaml)]));
}

/// An empty `build` phase is a missing one.
#[test]
fn an_empty_build_phase() {
    let yaml = "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    # the Dockerfile does the work\n    build: []\nrun:\n  command: node index.js\n  network:\n    port: 8787\n";
    insta::assert_snapshot!(check(&[("apprunner.yaml", yaml)]));
}

/// A `build` phase whose value is null is a missing one.
#[test]
fn a_null_build_phase() {
    let yaml = "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    pre-build:\n      - npm ci\n    build:\n    # post-build:\nrun:\n  command: node index.js\n";
    insta::assert_snapshot!(check(&[("apprunner.yaml", yaml)]));
}

/// No `build` section and a `build.commands` without `build` phase break one rule of the guide:
/// one severity for both.
#[test]
fn no_build_section_and_no_build_phase_have_one_severity() {
    let no_section = "version: 1.0\nruntime: nodejs22\nrun:\n  command: node index.js\n";
    let no_phase = "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    pre-build:\n      - npm install\nrun:\n  command: npm start\n";
    insta::assert_snapshot!(format!(
        "{}\n---\n{}",
        check(&[("apprunner.yaml", no_section)]),
        check(&[("apprunner.yaml", no_phase)])
    ));
}
