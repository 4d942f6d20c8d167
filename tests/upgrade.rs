//! `upgrade`: the diffs it prints for the cases issue 23 names (insta snapshots), `--write` keeping
//! everything outside the changed lines byte for byte, and the conformance corpus: every valid file
//! on python3 or nodejs12–18 upgrades to a file that passes validation, every invalid one gets its
//! blocking diagnostic.

mod support;

use apprunner_build::project::ProjectArgs;
use apprunner_build::resolve::catalog::Catalog;
use apprunner_build::upgrade::{self, Options, Upgrade, UpgradeError};
use std::path::{Path, PathBuf};
use support::{load, shipped_cli as cli, today, write_app};

fn upgrade_dir(dir: &Path) -> Result<Upgrade, UpgradeError> {
    let args = ProjectArgs {
        dir: dir.to_path_buf(),
        shown_dir: Some(PathBuf::new()),
        include_git_ignored: true,
        ..Default::default()
    };
    upgrade::upgrade(&args, &Catalog::shipped(), today(), &Options::default())
}

/// What the command prints: each file's diff, then the reasons.
fn printed(u: &Upgrade) -> String {
    let mut out: String = u.files.iter().map(|f| f.diff()).collect();
    for f in &u.files {
        for r in f.reasons() {
            out.push_str(&format!("# {r}\n"));
        }
    }
    for d in u.diagnostics.iter() {
        out.push_str(&format!(
            "{}[{}]: {}\n",
            format!("{:?}", d.severity).to_lowercase(),
            d.code,
            d.message
        ));
    }
    out
}

const PYTHON3_PIP: &str = "version: 1.0\nruntime: python3\nbuild:\n  commands:\n    build:\n      - pip install -r requirements.txt\nrun:\n  runtime-version: 3.8.16\n  command: python app.py\n  network:\n    port: 8080\n";

#[test]
fn python3_pip_install_moves_to_pre_run_as_pip3() {
    let dir = write_app(&[
        ("apprunner.yaml", PYTHON3_PIP),
        ("requirements.txt", "flask\n"),
        ("app.py", "print('hi')\n"),
    ]);
    let u = upgrade_dir(dir.path()).unwrap();
    insta::assert_snapshot!(printed(&u));
}

#[test]
fn nodejs16_engines_conflict_is_reported_with_the_fix() {
    let dir = write_app(&[
        (
            "apprunner.yaml",
            "version: 1.0\nruntime: nodejs16\nbuild:\n  commands:\n    build:\n      - npm ci\nrun:\n  command: node server.js\n",
        ),
        (
            "package.json",
            "{\n  \"name\": \"app\",\n  \"engines\": {\n    \"node\": \"16.x\"\n  }\n}\n",
        ),
        ("server.js", "require('http').createServer().listen(process.env.PORT)\n"),
    ]);
    let u = upgrade_dir(dir.path()).unwrap();
    insta::assert_snapshot!(printed(&u));
}

const COMMENTED: &str = "# App Runner settings for the API\nversion: 1.0\nruntime: 'python3'   # keep quoted\n\nbuild:\n  commands:\n    # dependencies first\n    pre-build:\n      - echo start\n    build:\n      - pip install -r requirements.txt # into site-packages\n      - python manage.py collectstatic --noinput\nrun:\n  # start\n  command: \"python manage.py runserver 0.0.0.0:8080\"\n  network:\n    port: 8080 # App Runner's default\n";

#[test]
fn write_keeps_comments_and_quoting_outside_changed_lines() {
    let dir = write_app(&[
        ("apprunner.yaml", COMMENTED),
        ("requirements.txt", "django\n"),
        (
            "manage.py",
            "import django\nif __name__ == \"__main__\":\n    pass\n",
        ),
    ]);
    let out = cli()
        .args(["upgrade", "--write"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = std::fs::read_to_string(dir.path().join("apprunner.yaml")).unwrap();
    insta::assert_snapshot!(after);
    // Every line that no edit touched is there, byte for byte, in the same order.
    let changed = [
        "runtime:",
        "- pip install",
        "python manage.py collectstatic",
        "command:",
    ];
    let kept: Vec<&str> = COMMENTED
        .lines()
        .filter(|l| !changed.iter().any(|c| l.contains(c)))
        .collect();
    let mut rest = after.lines();
    for line in kept {
        assert!(
            rest.any(|l| l == line),
            "`{line}` is gone or moved:\n{after}"
        );
    }
    let loaded = load(dir.path());
    assert!(loaded.plan.is_some(), "{}", support::report(&loaded));
}

#[test]
fn nothing_is_written_without_write() {
    let dir = write_app(&[
        ("apprunner.yaml", PYTHON3_PIP),
        ("requirements.txt", "flask\n"),
        ("app.py", ""),
    ]);
    let out = cli().arg("upgrade").arg(dir.path()).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("+runtime: python311"));
    let text = std::fs::read_to_string(dir.path().join("apprunner.yaml")).unwrap();
    assert_eq!(text, PYTHON3_PIP);
}

#[test]
fn without_apprunner_yaml_the_nvmrc_changes() {
    let dir = write_app(&[
        (
            "package.json",
            "{\n  \"name\": \"app\",\n  \"scripts\": { \"start\": \"node server.js\" }\n}\n",
        ),
        ("package-lock.json", "{\"lockfileVersion\": 3}\n"),
        (".nvmrc", "v16\n"),
        (
            "server.js",
            "require('http').createServer().listen(process.env.PORT)\n",
        ),
    ]);
    let u = upgrade_dir(dir.path()).unwrap();
    insta::assert_snapshot!(printed(&u));
}

#[test]
fn an_invalid_file_gets_its_blocking_diagnostic_and_exit_1() {
    let dir = write_app(&[(
        "apprunner.yaml",
        "version: 1.0\nruntime: python3\nrun:\n  comand: python app.py\n",
    )]);
    let out = cli().arg("upgrade").arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("AR112"));
    assert!(out.stdout.is_empty());
}

/// The corpus files whose runtime is python3 or nodejs12–18.
fn old_runtime_cases() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/conformance");
    std::fs::read_to_string(root.join("manifest.tsv"))
        .unwrap()
        .lines()
        .skip(1)
        .filter_map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            let old = matches!(
                cols.get(2),
                Some(&("python3" | "nodejs12" | "nodejs14" | "nodejs16" | "nodejs18"))
            );
            old.then(|| (cols[0].to_string(), cols[1].to_string()))
        })
        .collect()
}

#[test]
fn conformance_files_on_old_runtimes_upgrade_and_validate() {
    let files = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/conformance/files");
    let cases = old_runtime_cases();
    let (mut upgraded, mut blocked, mut failures) = (0, 0, Vec::new());
    for (id, verdict) in &cases {
        let text = std::fs::read(files.join(format!("{id}.yaml"))).unwrap();
        let dir = support::project_dir(&[("apprunner.yaml", &text)]);
        match (verdict.as_str(), upgrade_dir(dir.path())) {
            ("valid", Ok(u)) => {
                let Some(change) = u.files.first() else {
                    failures.push(format!("{id}: no diff"));
                    continue;
                };
                let after = support::project_dir(&[("apprunner.yaml", change.after().as_bytes())]);
                let loaded = load(after.path());
                match &loaded.plan {
                    Some(plan) if plan.runtime.name == u.to => upgraded += 1,
                    _ => failures.push(format!(
                        "{id}: upgraded file fails:\n{}\n{}",
                        change.diff(),
                        support::report(&loaded)
                    )),
                }
            }
            ("invalid", Err(UpgradeError::Input(found))) if found.has_errors() => blocked += 1,
            (verdict, other) => {
                failures.push(format!("{id} ({verdict}): {:?}", other.map(|u| u.to)))
            }
        }
    }
    eprintln!("conformance: {upgraded} valid upgraded and validated, {blocked} invalid with their blocking diagnostic, of {}", cases.len());
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert_eq!((upgraded, blocked), (29, 18));
}

#[test]
fn strategy_target_installs_under_app_with_pythonpath() {
    let dir = write_app(&[
        ("apprunner.yaml", PYTHON3_PIP),
        ("requirements.txt", "flask\n"),
        ("app.py", "print('hi')\n"),
    ]);
    let args = ProjectArgs {
        dir: dir.path().to_path_buf(),
        shown_dir: Some(PathBuf::new()),
        include_git_ignored: true,
        ..Default::default()
    };
    let options = Options {
        strategy: upgrade::Strategy::Target,
        ..Default::default()
    };
    let u = upgrade::upgrade(&args, &Catalog::shipped(), today(), &options).unwrap();
    insta::assert_snapshot!(printed(&u));
    let after = support::project_dir(&[("apprunner.yaml", u.files[0].after().as_bytes())]);
    let loaded = load(after.path());
    let report = support::report(&loaded);
    assert!(
        loaded.plan.is_some() && !report.contains("AR400"),
        "{report}"
    );
}
