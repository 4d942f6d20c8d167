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
