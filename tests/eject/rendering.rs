//! The ejected files as text: what each plan step becomes, where build.env goes, and what the
//! command refuses. No engine.

use super::support::*;
use apprunner_build::plan::eject::{self, EjectOptions};
use apprunner_build::plan::BuildPlan;

const ORIGINAL: &str = "version: 1.0
runtime: python3
build:
  commands:
    pre-build:
      - echo pre
    build:
      - pip3 install -r requirements.txt
    post-build:
      - echo \"post $STAGE\" > /tmp/post
  env:
    - name: STAGE
      value: \"build $x\"
run:
  command: python3 app.py
  network:
    port: 8080
    env: APP_PORT
  env:
    - name: GREETING
      value: 'say \"hi\"'
";

fn plan_of_app(files: &[(&str, &str)]) -> BuildPlan {
    let dir = write_app(files);
    let loaded = load(dir.path());
    let text = report(&loaded);
    loaded.plan.unwrap_or_else(|| panic!("{text}"))
}

fn original() -> BuildPlan {
    plan_of_app(&[
        ("apprunner.yaml", ORIGINAL),
        ("requirements.txt", "flask\n"),
        ("app.py", "print(1)\n"),
    ])
}

/// The Dockerfile's stages in order: (`FROM` line, the lines up to the next one).
fn stages(dockerfile: &str) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for line in dockerfile.lines() {
        if line.starts_with("FROM ") {
            out.push((line.to_string(), Vec::new()));
        } else if let Some(last) = out.last_mut() {
            last.1.push(line.to_string());
        }
    }
    out
}

#[test]
fn the_original_build_runs_the_build_commands_twice_and_post_build_where_it_cannot_reach_the_image()
{
    let plan = original();
    let file = eject::dockerfile(&plan, &EjectOptions::default()).unwrap();
    let stages = stages(&file);
    let froms: Vec<&str> = stages.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(
        froms,
        [
            "FROM python:3.8.20 AS build",
            "FROM build AS build-2",
            "FROM python:3.8.20 AS runtime"
        ],
        "{file}"
    );
    let runs = |i: usize| -> Vec<&str> {
        stages[i]
            .1
            .iter()
            .filter(|l| l.starts_with("RUN "))
            .map(String::as_str)
            .collect()
    };
    assert_eq!(
        runs(0),
        ["RUN echo pre", "RUN pip3 install -r requirements.txt"]
    );
    // Post-build continues the build stage after the runtime stage took its /app.
    assert_eq!(runs(1), ["RUN echo \"post $STAGE\" > /tmp/post"]);
    assert!(file.contains("COPY --from=build /app /app"), "{file}");
    // The second run, in the runtime image, without build.env.
    assert!(
        runs(2).contains(&"RUN pip3 install -r requirements.txt"),
        "{file}"
    );
    let args = |i: usize| stages[i].1.iter().filter(|l| l.starts_with("ARG ")).count();
    assert_eq!((args(0), args(1), args(2)), (1, 1, 0), "{file}");
    assert!(file.contains("ARG STAGE=\"build \\$x\""), "{file}");
    // BuildKit would skip the post-build stage: the file says how to run it.
    assert!(file.contains("--target build-2"), "{file}");
    // The image's configuration, last.
    let last = &stages[2].1;
    for line in [
        "ENV GREETING=\"say \\\"hi\\\"\"",
        "ENV PORT=\"8080\"",
        "ENV APP_PORT=\"8080\"",
        "EXPOSE 8080",
        "ENTRYPOINT []",
        "CMD [\"/bin/sh\", \"-c\", \"python3 app.py\"]",
    ] {
        assert!(last.iter().any(|l| l == line), "{line} missing:\n{file}");
    }
    assert!(
        file.contains("Debian-based stand-ins for App Runner's"),
        "{file}"
    );
    assert!(file.contains("no build secrets"), "{file}");
}

#[test]
fn a_build_env_value_is_an_argument_of_the_stage_that_reads_it_and_a_setup_step_does_not_get_it() {
    let mut plan = original();
    apprunner_build::plan::user::apply(
        &mut plan,
        &apprunner_build::plan::user::RunAs::parse("app").unwrap(),
    );
    let file = eject::dockerfile(&plan, &EjectOptions::default()).unwrap();
    assert!(
        file.contains("USER root\nWORKDIR /\nRUN id -u app"),
        "{file}"
    );
    assert!(file
        .trim_end()
        .ends_with("CMD [\"/bin/sh\", \"-c\", \"python3 app.py\"]"));
    assert!(file.contains("\nUSER app\n"), "{file}");
}

#[test]
fn a_command_docker_would_read_otherwise_is_written_in_the_exec_form() {
    let plan = plan_of_app(&[
        (
            "apprunner.yaml",
            "version: 1.0\nruntime: python311\nbuild:\n  commands:\n    build:\n      - |\n        echo one\n        echo two \\\\\n      - '[ -f x ] || echo none'\n      - cat <<EOF\nrun:\n  command: python3 app.py\n",
        ),
        ("app.py", "print(1)\n"),
    ]);
    let file = eject::dockerfile(&plan, &EjectOptions::default()).unwrap();
    assert!(
        file.contains("RUN [\"/bin/sh\", \"-c\", \"echo one\\necho two \\\\\\\\\\n\"]"),
        "{file}"
    );
    assert!(
        file.contains("RUN [\"/bin/sh\", \"-c\", \"[ -f x ] || echo none\"]"),
        "{file}"
    );
    assert!(
        file.contains("RUN [\"/bin/sh\", \"-c\", \"cat <<EOF\"]"),
        "{file}"
    );
}

#[test]
fn the_ca_bundle_stays_outside_app_and_only_when_asked_for() {
    let plan = original();
    let plain = eject::dockerfile(&plan, &EjectOptions::default()).unwrap();
    assert!(!plain.contains(eject::CA_FILE), "{plain}");
    let with = eject::dockerfile(&plan, &EjectOptions { ca_bundle: true }).unwrap();
    assert!(
        with.contains("COPY .apprunner-build-ca.crt /tmp/apprunner-build-ca.crt"),
        "{with}"
    );
    assert!(
        with.contains("ARG PIP_CERT=/tmp/apprunner-build-ca.crt"),
        "{with}"
    );
    assert!(with.contains("ARG npm_config_cafile=/tmp/apprunner-build-ca.crt"));
    assert!(
        with.contains("RUN rm -f '/app/.apprunner-build-ca.crt'"),
        "{with}"
    );
    assert!(!with.contains("ENV PIP_CERT"), "{with}");
    let ignore = eject::dockerignore(&plan, &[], &EjectOptions { ca_bundle: true });
    assert!(
        !ignore.lines().any(|l| l == "/.apprunner-build-ca.crt"),
        "{ignore}"
    );
}

#[test]
fn the_dockerignore_holds_the_plans_lines_then_what_git_ignored_escaped_then_the_eject_files() {
    let mut plan = plan_of_app(&[
        ("apprunner.yaml", MINIMAL),
        ("requirements.txt", "flask\n"),
        ("server.py", "print(1)\n"),
        (".dockerignore", "*.log\n!keep.log\n"),
    ]);
    plan.leaves_out_git_ignored = true;
    let git = vec![
        ".env".to_string(),
        "a[1]*.txt".to_string(),
        "!odd".to_string(),
    ];
    let text = eject::dockerignore(&plan, &git, &EjectOptions::default());
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .collect();
    assert_eq!(
        lines,
        [
            "*.log",
            "!keep.log",
            "/.env",
            "/a\\[1\\]\\*.txt",
            "/!odd",
            "**/.git",
            "/Dockerfile",
            "/.dockerignore"
        ]
    );
    // Read back with Docker's rules, each line means the path it names.
    let rules = apprunner_build::input::dockerignore::IgnoreRules::parse(&text).unwrap();
    for (path, out) in [
        ("a[1]*.txt", true),
        ("a1x.txt", false),
        ("!odd", true),
        ("keep.log", false),
        ("x.log", true),
        ("sub/.git", true),
        ("Dockerfile", true),
        ("server.py", false),
    ] {
        assert_eq!(rules.excludes(path), out, "{path}");
    }
}

#[test]
fn the_command_writes_both_files_and_replaces_none_without_force() {
    let dir = write_app(&[
        ("apprunner.yaml", MINIMAL),
        ("requirements.txt", "flask\n"),
        ("server.py", "print(1)\n"),
        ("Dockerfile", "FROM mine\n"),
    ]);
    let out = shipped_cli()
        .args(["plan", "--dockerfile"])
        .arg(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("error[AR800]"), "{stderr}");
    assert!(stderr.contains("Dockerfile is already there"), "{stderr}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("Dockerfile")).unwrap(),
        "FROM mine\n"
    );
    assert!(
        !dir.path().join(".dockerignore").exists(),
        "nothing is written"
    );

    let elsewhere = tempfile::tempdir().unwrap();
    let out = shipped_cli()
        .args(["plan", "--dockerfile", "--output-dir"])
        .arg(elsewhere.path())
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written = std::fs::read_to_string(elsewhere.path().join("Dockerfile")).unwrap();
    assert!(
        written.contains("FROM python:3.11.14 AS build"),
        "{written}"
    );
    assert!(elsewhere.path().join(".dockerignore").exists());

    let out = shipped_cli()
        .args(["plan", "--dockerfile", "--force"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("Dockerfile")).unwrap(),
        written
    );
}

#[test]
fn in_a_git_work_tree_the_dockerignore_lists_what_git_ignores() {
    let dir = write_app(&[
        ("apprunner.yaml", MINIMAL),
        ("requirements.txt", "flask\n"),
        ("server.py", "print(1)\n"),
        (".gitignore", ".env\nnode_modules/\n*.pyc\n"),
        (".env", "SECRET=1\n"),
        ("node_modules/x/index.js", "\n"),
        ("pkg/__pycache__/a.pyc", "\n"),
    ]);
    let init = std::process::Command::new("git")
        .args(["init", "-q"])
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(init.success());
    let out = shipped_cli()
        .args(["plan", "--dockerfile"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("3 git-ignored entries listed"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let ignore = std::fs::read_to_string(dir.path().join(".dockerignore")).unwrap();
    let listed: Vec<&str> = ignore
        .lines()
        .skip_while(|l| !l.starts_with("# What git ignored"))
        .filter(|l| l.starts_with('/'))
        .take(3)
        .collect();
    assert_eq!(
        listed,
        ["/.env", "/node_modules", "/pkg/__pycache__/a.pyc"],
        "{ignore}"
    );
}
