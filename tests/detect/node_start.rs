//! Node.js projects: the start command, from package.json's scripts, `main`, a Procfile, or
//! apprunner.yaml when there is one.

use crate::support::*;

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
fn a_procfile_starts_a_node_app_too() {
    let view = plan_of(&[
        ("package.json", br#"{"scripts":{"start":"node a.js"}}"#),
        (
            "Procfile",
            b"web: node --enable-source-maps dist/server.js\n",
        ),
    ]);
    assert!(
        view.contains("start command: `node --enable-source-maps dist/server.js` — from the web: line in Procfile (line 1)"),
        "{view}"
    );
}

/// Issue 16: the Node.js start order: scripts.start, scripts["start:prod"], server.js, main,
/// index.js, app.js; a file must exist.
#[test]
fn node_start_order() {
    let cases: &[(Files, &str)] = &[
        (
            &[("package.json", br#"{"scripts":{"start":"node a.js","start:prod":"node dist/main"}}"#), ("server.js", b"")],
            "start command: `npm start` — from scripts.start in package.json",
        ),
        (
            &[("package.json", br#"{"scripts":{"build":"nest build","start:prod":"node dist/main"}}"#), ("server.js", b"")],
            "start command: `npm run start:prod` — from scripts[\"start:prod\"] in package.json (no scripts.start; the production start of NestJS and TypeScript templates)",
        ),
        (
            &[("package.json", br#"{"main":"lib/app.js"}"#), ("server.js", b""), ("lib/app.js", b"")],
            "start command: `node server.js` — from server.js (npm's default when there is no scripts.start)",
        ),
        (
            &[("package.json", br#"{"main":"./lib/app.js"}"#), ("lib/app.js", b""), ("index.js", b"")],
            "start command: `node lib/app.js` — from main in package.json (no scripts.start or server.js)",
        ),
        (
            &[("package.json", br#"{"main":"dist/index.js"}"#), ("index.js", b""), ("app.js", b"")],
            "start command: `node index.js` — from index.js (no scripts.start, server.js or main in package.json)",
        ),
        (
            &[("package.json", br#"{"name":"x"}"#), ("app.js", b"")],
            "start command: `node app.js` — from app.js (no scripts.start, server.js or main in package.json)",
        ),
    ];
    for (files, start) in cases {
        let view = plan_of(files);
        assert!(view.contains(start), "{view}");
    }
}
