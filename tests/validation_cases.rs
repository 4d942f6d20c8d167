//! Issue 24: files modelled on real apprunner.yaml files whose messages fell short (snapshots of
//! the whole report). Every problem in one run, and no false alarms.

mod support;

use support::{load, report, write_app};

/// The whole report for a project of `files`.
fn check(files: &[(&str, &str)]) -> String {
    report(&load(write_app(files).path()))
}

/// A case's heading in a snapshot of several: the lines it is about.
fn labelled(lines: &str) -> String {
    let lines: Vec<String> = lines
        .lines()
        .map(|l| format!("## {}", l.trim_end()))
        .collect();
    lines.join("\n")
}

/// A report, or that there is none.
fn shown(report: &str) -> String {
    if report.trim().is_empty() {
        "(no message)\n".to_string()
    } else {
        report.to_string()
    }
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

/// `uv venv .venv` then `uv pip install`: uv installs into the `.venv` it finds in /app.
#[test]
fn installs_into_a_venv_under_app_are_not_outside_app() {
    let yaml = |commands: &str, env: &str| {
        format!("version: 1.0\nruntime: python311\nbuild:\n  commands:\n    build:\n{commands}{env}run:\n  command: .venv/bin/python3 app.py\n")
    };
    let cases = [
        yaml("      - pip3 install uv\n      - uv venv .venv\n      - uv pip install -r requirements.txt\n", ""),
        yaml("      - python3 -m venv venv\n      - venv/bin/pip install -r requirements.txt\n", ""),
        yaml("      - uv pip install --python /app/.venv/bin/python -r requirements.txt\n", ""),
        yaml("      - pip3 install --target ./packages -r requirements.txt\n      - pip3 install --prefix=/app/local flask\n", ""),
        yaml("      - uv pip install -r requirements.txt\n", "  env:\n    - name: VIRTUAL_ENV\n      value: /app/.venv\n"),
        // Still outside /app: the warning stays.
        yaml("      - uv pip install --system -r requirements.txt\n      - pip3 install --prefix /usr/local flask\n", ""),
    ];
    let reports: Vec<String> = cases
        .iter()
        .map(|yaml| {
            let build = &yaml[yaml.find("    build:\n").unwrap()..yaml.find("run:").unwrap()];
            let report = check(&[("apprunner.yaml", yaml), ("app.py", "")]);
            format!("{}\n{}", labelled(build), shown(&report))
        })
        .collect();
    insta::assert_snapshot!(reports.join("\n"));
}

/// Streamlit's `setup.sh` writes `port = $PORT` into its config: the start command binds $PORT.
#[test]
fn a_port_set_by_a_script_the_start_command_runs() {
    let yaml = "version: 1.0\nruntime: python3\nbuild:\n  commands:\n    build:\n      - pip install -r requirements.txt\nrun:\n  command: sh setup.sh && streamlit run app.py\n";
    let setup = "mkdir -p ~/.streamlit/\necho \"\\\n[server]\\n\\\nheadless = true\\n\\\nport = $PORT\\n\\\nenableCORS = false\\n\\\n\" > ~/.streamlit/config.toml\n";
    let with_script = check(&[("apprunner.yaml", yaml), ("setup.sh", setup)]);
    let literal = check(&[
        ("apprunner.yaml", yaml),
        ("setup.sh", &setup.replace("$PORT", "8501")),
    ]);
    let without_script = check(&[("apprunner.yaml", yaml)]);
    insta::assert_snapshot!(format!(
        "## setup.sh writes `port = $PORT`\n{}\n## setup.sh writes `port = 8501`\n{}\n## no setup.sh in the repository\n{}",
        shown(&with_script),
        shown(&literal),
        shown(&without_script)
    ));
}
