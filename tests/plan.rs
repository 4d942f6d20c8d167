//! The plan is a pure value: computed from files alone, with every setting in place.

mod common;

use apprunner_build::plan::{self, PhaseName};
use common::{load, project_dir};

const FULL: &str = r#"version: 1.0
runtime: nodejs22
build:
  commands:
    pre-build:
      - npm ci
    build:
      - npm run build
    post-build:
      - npm test
  env:
    - name: NODE_ENV
      value: production
run:
  runtime-version: 22.20
  pre-run:
    - node migrate.js
  command: node server.js
  network:
    port: 8000
    env: APP_PORT
  env:
    - name: LOG_LEVEL
      value: info
  secrets:
    - name: DB_PASSWORD
      value-from: arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf
"#;

#[test]
fn every_setting_reaches_the_plan() {
    let dir = project_dir(&[("apprunner.yaml", FULL.as_bytes())]);
    let p = load(dir.path()).plan.expect("valid");
    assert_eq!(p.runtime.name, "nodejs22");
    assert_eq!(p.runtime.version.to_string(), "22.20.0");
    assert_eq!(p.runtime.image, "node:22.20.0-slim");
    assert_eq!(p.runtime.build_image, "node:22.20.0");
    assert_eq!(p.phase(PhaseName::PreBuild).unwrap().commands, ["npm ci"]);
    assert_eq!(
        p.phase(PhaseName::Build).unwrap().commands,
        ["npm run build"]
    );
    assert_eq!(
        p.phase(PhaseName::PostBuild).unwrap().commands,
        ["npm test"]
    );
    assert_eq!(p.pre_run, ["node migrate.js"]);
    assert_eq!(p.build_env[0].name, "NODE_ENV");
    assert_eq!(p.run.port, 8000);
    assert_eq!(p.run.port_env.as_deref(), Some("APP_PORT"));
    assert_eq!(p.run.secrets, ["DB_PASSWORD"]);
    assert!(
        p.runtime
            .reason
            .contains("22.20 (run.runtime-version in apprunner.yaml line 15)"),
        "{}",
        p.runtime.reason
    );
    let json = serde_json::to_string(&p).unwrap();
    assert!(
        !json.contains("arn:aws:secretsmanager"),
        "secret references stay out of the plan"
    );
    assert!(p.labels["apprunner-build.config-digest"].starts_with("sha256:"));
}

#[test]
fn human_view_snapshot() {
    let dir = project_dir(&[("apprunner.yaml", FULL.as_bytes())]);
    let mut p = load(dir.path()).plan.expect("valid");
    p.source_root = "app".into();
    insta::assert_snapshot!(plan::render(&p));
}

#[test]
fn defaults_port_8080_and_no_optional_phases() {
    let dir = project_dir(&[("apprunner.yaml", common::MINIMAL.as_bytes())]);
    let p = load(dir.path()).plan.expect("valid");
    assert_eq!(p.run.port, 8080);
    assert_eq!(p.run.port_env, None);
    assert_eq!(p.phases.len(), 1);
    assert!(p.pre_run.is_empty());
}

#[test]
fn revised_build_warns_when_installs_land_outside_app() {
    let yaml = |runtime: &str, cmd: &str| {
        format!("version: 1.0\nruntime: {runtime}\nbuild:\n  commands:\n    build:\n      - {cmd}\nrun:\n  command: x\n")
    };
    let warned = |runtime: &str, cmd: &str| {
        let dir = project_dir(&[("apprunner.yaml", yaml(runtime, cmd).as_bytes())]);
        let loaded = load(dir.path());
        assert!(loaded.plan.is_some());
        common::report(&loaded).contains("only /app is copied into the runtime image")
    };
    assert!(warned("python311", "pip install -r requirements.txt"));
    assert!(warned("python311", "python -m pip install flask"));
    assert!(warned("nodejs22", "npm install -g typescript"));
    assert!(!warned(
        "python311",
        "pip install --target ./packages -r requirements.txt"
    ));
    assert!(!warned(
        "python311",
        "python -m venv .venv && .venv/bin/pip install -r requirements.txt"
    ));
    assert!(!warned("nodejs22", "npm ci"));
    assert!(
        !warned("python311", "pip install poetry"),
        "a build tool is needed only at build time"
    );
    assert!(!warned("python311", "pip install --upgrade pip"));
    assert!(!warned(
        "nodejs22",
        "corepack enable 2>/dev/null || npm install -g pnpm@9.15.0"
    ));
    assert!(
        !warned("python3", "pip install -r requirements.txt"),
        "the original build keeps it"
    );
}
