//! Every real apprunner.yaml in the conformance corpus gets the verdict its manifest gives.

mod support;

use apprunner_build::report::diagnostic::Severity;
use std::path::Path;

struct Case {
    id: String,
    verdict: String,
    reason: String,
}

fn manifest() -> Vec<Case> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/conformance");
    std::fs::read_to_string(root.join("manifest.tsv"))
        .unwrap()
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            Case {
                id: cols[0].to_string(),
                verdict: cols[1].to_string(),
                reason: cols.get(6).unwrap_or(&"").to_string(),
            }
        })
        .collect()
}

#[test]
fn every_conformance_file_gets_its_verdict() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/conformance/files");
    let cases = manifest();
    assert!(
        cases.len() >= 80,
        "the manifest lists {} files",
        cases.len()
    );
    let mut failures = Vec::new();
    for case in &cases {
        let text = std::fs::read(root.join(format!("{}.yaml", case.id))).unwrap();
        let dir = support::project_dir(&[("apprunner.yaml", &text)]);
        let loaded = support::load(dir.path());
        let report = support::report(&loaded);
        let errors: Vec<_> = loaded.diagnostics.iter().filter(|d| d.is_error()).collect();
        let problem = match case.verdict.as_str() {
            "valid" => {
                if loaded.plan.is_none() {
                    Some("expected valid".to_string())
                } else if case.reason.contains("PORT in run.env")
                    && !report.contains("warning[AR124]")
                {
                    Some("PORT equal to the service port is a warning".to_string())
                } else if case.reason.contains("extension")
                    && !report.contains("not an App Runner runtime")
                {
                    Some("an extension runtime must be called out".to_string())
                } else {
                    None
                }
            }
            "invalid" | "unsupported" => {
                if loaded.plan.is_some() || errors.is_empty() {
                    Some(format!("expected {}", case.verdict))
                } else if errors.iter().any(|e| e.location.is_none())
                    && errors.iter().all(|e| e.location.is_none())
                {
                    Some("no error is located".to_string())
                } else if case.verdict == "unsupported" && !report.contains("does not build") {
                    Some("must say apprunner-build does not build this runtime".to_string())
                } else {
                    None
                }
            }
            "unsure" if case.reason.contains("runtime spelled") => (!report
                .contains("write `runtime: "))
            .then(|| "a respelt runtime needs the exact spelling".to_string()),
            "unsure" => loaded
                .diagnostics
                .iter()
                .all(|d| d.severity == Severity::Note)
                .then(|| "an unsure case needs a message that explains the choice".to_string()),
            other => Some(format!("unknown verdict {other}")),
        };
        if let Some(p) = problem {
            failures.push(format!(
                "{} ({}: {}): {p}\n{report}",
                case.id, case.verdict, case.reason
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} files:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
