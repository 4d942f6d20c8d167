//! Node.js projects: the runtime and version from `engines.node`, `.nvmrc` and `.node-version`, and
//! the errors when they cannot be met or read.

use crate::support;
use crate::support::*;

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
