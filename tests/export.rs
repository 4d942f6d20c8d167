//! `export ecs|kubernetes|cloudrun`: golden files of the guide's example services
//! (`tests/fixtures/guide/`), and the output checked against each platform's own schema, offline,
//! by `scripts/validate-export.py`: botocore's ECS model for both operations, kubernetes-validate,
//! and Knative Serving's models. The schema checks need the Python venv that scripts/test.sh
//! makes and names in APPRUNNER_TEST_PYVALIDATORS; without it they say so and pass, except where
//! `CI` is set, where they fail.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use support::shipped_cli;

const GUIDE: &str = "tests/fixtures/guide";
const TARGETS: [&str; 3] = ["ecs", "kubernetes", "cloudrun"];
const IMAGE: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1";

fn guide_services() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(GUIDE)
        .unwrap()
        .flatten()
        .filter(|e| e.path().join("apprunner.yaml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// What each service is exported with, besides `--image`: the one with secrets gets every
/// service setting, so that each reaches the output.
fn settings(service: &str) -> Vec<&'static str> {
    match service {
        "with-secrets" => vec![
            "--cpu",
            "0.25 vCPU",
            "--memory",
            "4 GB",
            "--health-check",
            "http:/health",
            "--healthy-threshold",
            "2",
            "--unhealthy-threshold",
            "12",
            "--instance-role",
            "arn:aws:iam::123456789012:role/app-instance",
            "--execution-role",
            "arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
            "--infrastructure-role",
            "arn:aws:iam::123456789012:role/ecsInfrastructureRoleForExpressServices",
        ],
        _ => vec![],
    }
}

fn export(target: &str, service: &str, extra: &[&str]) -> Output {
    shipped_cli()
        .args([
            "export",
            target,
            &format!("{GUIDE}/{service}"),
            "--image",
            IMAGE,
        ])
        .args(settings(service))
        .args(extra)
        .output()
        .unwrap()
}

fn shown(out: &Output) -> String {
    format!(
        "exit: {:?}\n--- stdout\n{}--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn golden_files_of_the_guide_services() {
    for service in guide_services() {
        let mut all = String::new();
        for target in TARGETS {
            all.push_str(&format!("===== export {target}\n"));
            all.push_str(&shown(&export(target, &service, &[])));
        }
        insta::assert_snapshot!(service.clone(), all);
    }
}

#[test]
fn an_invalid_file_gets_validate_diagnostics_and_exit_code() {
    let dir = format!("{GUIDE}/nodejs-grunt");
    let validate = shipped_cli().args(["validate", &dir]).output().unwrap();
    for target in TARGETS {
        let out = export(target, "nodejs-grunt", &[]);
        assert_eq!(out.status.code(), Some(1), "{}", shown(&out));
        assert_eq!(out.stderr, validate.stderr, "{target}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn flag_values_are_checked() {
    let out = export("ecs", "python-minimal", &["--cpu", "3 vCPU"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("[AR810]") && err.contains("3 vCPU"), "{err}");
}

#[test]
fn an_output_directory_gets_the_files_and_the_notes() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("k8s");
    let out = export(
        "kubernetes",
        "with-secrets",
        &["--output-dir", out_dir.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", shown(&out));
    let files: Vec<String> = ["deployment.yaml", "service.yaml", "NOTES.txt"]
        .iter()
        .map(|f| std::fs::read_to_string(out_dir.join(f)).unwrap())
        .collect();
    assert!(files[0].contains("secretKeyRef") && files[0].contains("kubectl create secret"));
    assert!(
        files[2].contains("[AR812]") && files[2].contains("[AR814]"),
        "{}",
        files[2]
    );
    // The printed form is the files, joined.
    let printed = export("kubernetes", "with-secrets", &[]);
    assert_eq!(
        String::from_utf8_lossy(&printed.stdout),
        format!("{}---\n{}", files[0], files[1])
    );
    // A file where the directory should be: AR816, exit 2.
    let blocked = dir.path().join("file");
    std::fs::write(&blocked, "").unwrap();
    let out = export(
        "ecs",
        "python-minimal",
        &["--output-dir", blocked.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("error[AR816]"));
}

/// The venv's python, or `None` (said) when scripts/test.sh did not make it; under CI, a failure.
fn validators() -> Option<PathBuf> {
    let why = match std::env::var("APPRUNNER_TEST_PYVALIDATORS") {
        Ok(dir) if !dir.is_empty() => {
            let python = Path::new(&dir).join("bin/python");
            if python.is_file() {
                return Some(python);
            }
            format!("{} has no Python", python.display())
        }
        _ => "APPRUNNER_TEST_PYVALIDATORS is unset".to_string(),
    };
    let why = format!(
        "{why}: the schema checks need the venv scripts/test.sh makes (botocore, kubernetes-validate, cloudcoil-models-knative-serving)"
    );
    if std::env::var("CI").is_ok_and(|v| !["", "0", "false"].contains(&v.as_str())) {
        panic!("{why}; CI runs them");
    }
    eprintln!("skipped: {why}");
    None
}

fn validate(python: &Path, target: &str, dir: &Path) -> Output {
    Command::new(python)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/validate-export.py"))
        .arg(target)
        .arg(dir)
        .output()
        .unwrap()
}

#[test]
fn every_export_passes_its_platforms_schema() {
    let Some(python) = validators() else { return };
    let tmp = tempfile::tempdir().unwrap();
    // The guide's services, and variants that reach the other branches: an HTTP check, a size
    // that is rounded, defaults everywhere (no --image).
    let mut runs: Vec<(String, Vec<&str>)> = guide_services()
        .into_iter()
        .filter(|s| s != "nodejs-grunt")
        .map(|s| (s, vec![]))
        .collect();
    runs.push((
        "nodejs-extended".into(),
        vec![
            "--health-check",
            "http:/",
            "--cpu",
            "4096",
            "--memory",
            "2048",
        ],
    ));
    for (i, (service, extra)) in runs.iter().enumerate() {
        for target in TARGETS {
            let dir = tmp.path().join(format!("{i}-{target}"));
            let mut args = extra.clone();
            args.extend(["--output-dir", dir.to_str().unwrap()]);
            let out = export(target, service, &args);
            assert_eq!(out.status.code(), Some(0), "{}", shown(&out));
            let checked = validate(&python, target, &dir);
            let said = shown(&checked);
            assert_eq!(checked.status.code(), Some(0), "{service} {target}: {said}");
            eprintln!(
                "{service} {target}:\n{}",
                String::from_utf8_lossy(&checked.stdout)
            );
        }
    }
}

#[test]
fn the_schema_checks_catch_a_wrong_field() {
    let Some(python) = validators() else { return };
    let tmp = tempfile::tempdir().unwrap();
    // One mistake per file, each of a kind the schema knows: an unknown field, a wrong type.
    let breaks: [(&str, &str, &str, &str); 4] = [
        (
            "ecs",
            "task-definition.json",
            "\"essential\": true",
            "\"essential\": \"yes\"",
        ),
        (
            "ecs",
            "express-gateway-service.json",
            "\"serviceName\"",
            "\"service\"",
        ),
        ("kubernetes", "deployment.yaml", "workingDir:", "workDir:"),
        (
            "cloudrun",
            "service.yaml",
            "containerPort: 8000",
            "containerPort: \"8000\"",
        ),
    ];
    for (target, file, from, to) in breaks {
        let dir = tmp.path().join(format!("{target}-{file}"));
        let out = export(
            target,
            "with-secrets",
            &["--output-dir", dir.to_str().unwrap()],
        );
        assert_eq!(out.status.code(), Some(0), "{}", shown(&out));
        let path = dir.join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{file} has no {from}");
        std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
        let checked = validate(&python, target, &dir);
        assert_eq!(
            checked.status.code(),
            Some(1),
            "{file}: {}",
            shown(&checked)
        );
        assert!(String::from_utf8_lossy(&checked.stderr).contains(&format!("invalid: {file}")));
    }
}

#[test]
fn the_api_settings_flags_describe_a_service_without_apprunner_yaml() {
    let dir = tempfile::tempdir().unwrap();
    let out = shipped_cli()
        .current_dir(dir.path())
        .args(["export", "kubernetes", "--configuration-source", "api"])
        .args(["--runtime", "nodejs22", "--start-command", "node server.js"])
        .args(["--port", "3000", "--runtime-env", "NODE_ENV=production"])
        .args(["--image", IMAGE])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", shown(&out));
    let yaml = String::from_utf8_lossy(&out.stdout);
    for want in [
        "containerPort: 3000",
        "name: \"NODE_ENV\"\n              value: \"production\"",
        "- \"node server.js\"",
    ] {
        assert!(yaml.contains(want), "{want} not in:\n{yaml}");
    }
    // The file-only checks hold for flags too: a start command alone is refused as validate refuses it.
    let out = shipped_cli()
        .current_dir(dir.path())
        .args([
            "export",
            "ecs",
            "--configuration-source",
            "api",
            "--start-command",
            "x",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", shown(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("[AR130]"));
}
