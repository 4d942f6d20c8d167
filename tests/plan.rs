//! The plan is a pure value: computed from files alone, with every setting in place.

mod support;

use apprunner_build::input::config::EnvVar;
use apprunner_build::plan::{self, BuildPlan, ImageEnv, PhaseName, Step};
use support::{load, project_dir};

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
    let commands = |phase| p.commands(phase).collect::<Vec<_>>();
    assert_eq!(commands(PhaseName::PreBuild), ["npm ci"]);
    assert_eq!(commands(PhaseName::Build), ["npm run build"]);
    assert_eq!(commands(PhaseName::PostBuild), ["npm test"]);
    assert_eq!(commands(PhaseName::PreRun), ["node migrate.js"]);
    assert_eq!(p.image.port, 8000);
    assert_eq!(p.image.start_command(), Some("node server.js"));
    let set = |name: &str, value: &str| ImageEnv::Set {
        name: name.into(),
        value: value.into(),
    };
    assert_eq!(
        p.image.env,
        [
            set("LOG_LEVEL", "info"),
            set("PORT", "8000"),
            set("APP_PORT", "8000")
        ]
    );
    assert_eq!(p.image.secret_names(), ["DB_PASSWORD"]);
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
    assert!(p.image.labels["apprunner-build.config-digest"].starts_with("sha256:"));
}

/// App Runner's revised build, step by step: build.env on every command, pre-run in the runtime
/// stage after /app is copied, post-build in the build stage after the copy, commit last.
#[test]
fn the_revised_build_as_stages_and_steps() {
    let dir = project_dir(&[("apprunner.yaml", FULL.as_bytes())]);
    let p = load(dir.path()).plan.expect("valid");
    let stages: Vec<(&str, &str)> = p
        .stages
        .iter()
        .map(|s| (s.name.as_str(), s.image.as_str()))
        .collect();
    assert_eq!(
        stages,
        [("build", "node:22.20.0"), ("runtime", "node:22.20.0-slim")]
    );
    let env = vec![EnvVar {
        name: "NODE_ENV".into(),
        value: "production".into(),
    }];
    let run = |stage: &str, phase, command: &str| Step::Run {
        stage: stage.into(),
        phase,
        command: command.into(),
        workdir: "/app".into(),
        env: env.clone(),
        hint: None,
    };
    assert_eq!(
        p.steps,
        [
            Step::CopySource {
                stage: "build".into(),
                path: "/app".into()
            },
            run("build", PhaseName::PreBuild, "npm ci"),
            run("build", PhaseName::Build, "npm run build"),
            Step::CopyFromStage {
                stage: "runtime".into(),
                from: "build".into(),
                path: "/app".into()
            },
            run("build", PhaseName::PostBuild, "npm test"),
            run("runtime", PhaseName::PreRun, "node migrate.js"),
            Step::Commit {
                stage: "runtime".into()
            },
        ]
    );
    p.check().expect("a computed plan is always executable");
}

/// App Runner's original build in its six steps, with what deployment logs show beyond the guide:
/// post-build before the second build run, /app taken before post-build, no build.env the second
/// time.
#[test]
fn the_original_build_runs_the_build_commands_twice() {
    let yaml = "version: 1.0\nruntime: python3\nbuild:\n  commands:\n    pre-build:\n      - yum install -y gcc\n    build:\n      - pip install -r requirements.txt\n    post-build:\n      - python -m pytest\n  env:\n    - name: MODE\n      value: ci\nrun:\n  command: python app.py\n";
    let dir = project_dir(&[("apprunner.yaml", yaml.as_bytes())]);
    let p = load(dir.path()).plan.expect("valid");
    let stages: Vec<(&str, &str)> = p
        .stages
        .iter()
        .map(|s| (s.name.as_str(), s.image.as_str()))
        .collect();
    assert_eq!(
        stages,
        [
            ("build", p.runtime.build_image.as_str()),
            ("runtime", p.runtime.image.as_str())
        ]
    );
    let kinds: Vec<String> = p
        .steps
        .iter()
        .map(|s| match s {
            Step::CopySource { .. } => "copy-source".to_string(),
            Step::Run {
                stage, phase, env, ..
            } => format!("{stage}:{phase}:{}", env.len()),
            Step::CopyFromStage { from, stage, .. } => format!("copy {from}->{stage}"),
            Step::Announce { .. } => "announce".to_string(),
            Step::Commit { stage } => format!("commit {stage}"),
            Step::Install { stage, .. } => format!("install {stage}"),
            Step::Setup { stage, .. } => format!("setup {stage}"),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "copy-source",
            "build:pre-build:1",
            "build:build:1",
            "copy build->runtime",
            "build:post-build:1",
            "announce",
            "runtime:build:0",
            "commit runtime"
        ]
    );
    let Step::Run { hint, .. } = &p.steps[6] else {
        unreachable!()
    };
    assert!(hint
        .as_deref()
        .unwrap()
        .contains("App Runner's build would fail the same way"));
    p.check().expect("executable");
}

/// `plan --json` reads back into the same plan, and a damaged plan is refused before it runs.
#[test]
fn a_saved_plan_reads_back_and_is_checked() {
    let dir = project_dir(&[("apprunner.yaml", FULL.as_bytes())]);
    let p = load(dir.path()).plan.expect("valid");
    let json = serde_json::to_string_pretty(&p).unwrap();
    let back: BuildPlan = serde_json::from_str(&json).unwrap();
    assert_eq!(back, p);

    let mut unknown_stage = p.clone();
    unknown_stage.steps[1] = Step::Run {
        stage: "tests".into(),
        phase: PhaseName::Build,
        command: "true".into(),
        workdir: "/app".into(),
        env: vec![],
        hint: None,
    };
    assert_eq!(
        unknown_stage.check().unwrap_err().to_string(),
        "step 2 names stage `tests`, which the plan does not declare"
    );
    let mut no_commit = p.clone();
    no_commit.steps.pop();
    assert_eq!(
        no_commit.check().unwrap_err().to_string(),
        "the plan commits 0 images; it must commit exactly one"
    );
    let mut copy_first = p.clone();
    copy_first.steps.swap(0, 3);
    assert!(copy_first
        .check()
        .unwrap_err()
        .to_string()
        .contains("copies from stage `build` before any step has run in it"));
    let mut future = p;
    future.format = 99;
    assert!(future
        .check()
        .unwrap_err()
        .to_string()
        .contains("plan format 99"));
}

/// The plan carries the `.dockerignore` rules it was made with (the engine reads no
/// `.dockerignore`): in its JSON as the file's rule lines, read back and checked as patterns.
#[test]
fn a_plan_carries_its_dockerignore_rules() {
    let dir = project_dir(&[
        ("apprunner.yaml", FULL.as_bytes()),
        (
            ".dockerignore",
            b"# tests\nnode_modules\n\n/build/\n!build/keep.txt\n",
        ),
    ]);
    let p = load(dir.path()).plan.expect("valid");
    assert!(p.excludes.excludes("node_modules/x/index.js"));
    assert!(p.excludes.excludes("build/out.bin") && !p.excludes.excludes("build/keep.txt"));
    let json = serde_json::to_value(&p).unwrap();
    assert_eq!(
        json["excludes"],
        serde_json::json!(["node_modules", "/build/", "!build/keep.txt"])
    );
    let back: BuildPlan = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(back, p);

    let mut damaged = json;
    damaged["excludes"][1] = "src/[".into();
    let e = serde_json::from_value::<BuildPlan>(damaged)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("exclude rule 2 is not a .dockerignore pattern: "),
        "{e}"
    );

    // Without a .dockerignore there is nothing to carry, and the JSON is what it always was.
    let plain = project_dir(&[("apprunner.yaml", FULL.as_bytes())]);
    let json = serde_json::to_value(load(plain.path()).plan.expect("valid")).unwrap();
    assert!(json.get("excludes").is_none(), "{json}");
}

/// A `.dockerignore` that cannot be read stops the plan, located: the build would copy
/// something other than what the plan was checked against.
#[test]
fn an_unreadable_dockerignore_is_a_located_error() {
    let dir = project_dir(&[
        ("apprunner.yaml", FULL.as_bytes()),
        (".dockerignore", b"*.pyc\nsrc/[\n"),
    ]);
    let loaded = load(dir.path());
    assert!(loaded.plan.is_none());
    let d = loaded
        .diagnostics
        .iter()
        .find(|d| d.is_error())
        .expect("an error");
    assert_eq!(d.code.to_string(), "AR316");
    assert!(
        d.message.starts_with(".dockerignore line 2: "),
        "{}",
        d.message
    );
    let at = d.location.as_ref().expect("located");
    assert!(at.path.ends_with(".dockerignore"), "{at:?}");
    assert_eq!(at.position.map(|p| p.line), Some(2));
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
    let dir = project_dir(&[("apprunner.yaml", support::MINIMAL.as_bytes())]);
    let p = load(dir.path()).plan.expect("valid");
    assert_eq!(p.image.port, 8080);
    assert_eq!(
        p.image.env,
        [ImageEnv::Set {
            name: "PORT".into(),
            value: "8080".into()
        }]
    );
    assert_eq!(p.commands(PhaseName::Build).count(), 1);
    assert_eq!(p.commands(PhaseName::PreBuild).count(), 0);
    assert_eq!(p.commands(PhaseName::PreRun).count(), 0);
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
        support::report(&loaded).contains("only /app is copied into the runtime image")
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

/// Issue 10: what works differently under App Runner than it looks, said at plan time and located.
#[test]
fn commands_app_runner_runs_differently_are_warned_about() {
    let report_for = |yaml: &str| {
        let dir = project_dir(&[("apprunner.yaml", yaml.as_bytes())]);
        let loaded = load(dir.path());
        assert!(loaded.plan.is_some(), "{}", support::report(&loaded));
        support::report(&loaded)
    };
    let original = report_for("version: 1.0\nruntime: nodejs16\nbuild:\n  commands:\n    pre-build:\n      - sudo yum install -y gcc\n    build:\n      - npm run build -- --mode $MODE\n  env:\n    - name: MODE\n      value: ci\nrun:\n  command: node server.js\n");
    assert!(original.contains("warning[AR401]: 'build' command `npm run build -- --mode $MODE` uses MODE from build.env"), "{original}");
    assert!(
        original.contains("apprunner.yaml:8:9"),
        "located: {original}"
    );
    assert!(
        original.contains("warning[AR402]: 'pre-build' command `sudo yum install -y gcc` runs yum"),
        "{original}"
    );
    let revised = report_for("version: 1.0\nruntime: python311\nbuild:\n  commands:\n    build:\n      - python -m compileall .\nrun:\n  command: python3 app.py\n");
    assert!(revised.contains("warning[AR403]: 'build' command `python -m compileall .` calls `python`: use `python3` with python311"), "{revised}");
    let clean = report_for("version: 1.0\nruntime: python311\nbuild:\n  commands:\n    build:\n      - python3 -m compileall . && .venv/bin/pip --version || true\nrun:\n  command: python3 app.py\n");
    assert!(!clean.contains("AR40"), "{clean}");
}

/// Issue 10: a start command that listens on another port than the service port — the most
/// common reason an App Runner health check fails — is a located warning.
#[test]
fn a_start_command_on_another_port_is_warned_about_where_it_is_written() {
    let dir = project_dir(&[(
        "apprunner.yaml",
        b"version: 1.0\nruntime: python311\nbuild:\n  commands:\n    build:\n      - pip3 install -r requirements.txt\nrun:\n  command: gunicorn --bind 0.0.0.0:8000 app:app\n" as &[u8],
    )]);
    let loaded = load(dir.path());
    let report = support::report(&loaded);
    assert!(loaded.plan.is_some(), "{report}");
    assert!(report.contains("warning[AR404]"), "{report}");
    assert!(
        report.contains("8000") && report.contains("8080"),
        "{report}"
    );
    assert!(report.contains("apprunner.yaml:8:12"), "located: {report}");
}

/// The plan of `files` with `--dependency-layers`, and without.
fn layered_and_plain(files: &[(&str, &[u8])]) -> (BuildPlan, BuildPlan) {
    let dir = project_dir(files);
    let with = |dependency_layers| {
        let loaded = support::load_args(apprunner_build::project::ProjectArgs {
            dir: dir.path().to_path_buf(),
            dependency_layers,
            ..Default::default()
        });
        let report = support::report(&loaded);
        loaded.plan.unwrap_or_else(|| panic!("{report}"))
    };
    (with(true), with(false))
}

fn shape(plan: &BuildPlan) -> Vec<String> {
    plan.steps
        .iter()
        .map(|s| match s {
            Step::CopySource { stage, .. } => format!("{stage}: copy-source"),
            Step::CopyFromStage { stage, from, .. } => format!("{stage}: copy from {from}"),
            Step::Run { stage, command, .. } => format!("{stage}: run {command}"),
            Step::Announce { stage, message } => format!("{stage}: say {message}"),
            Step::Commit { stage } => format!("{stage}: commit"),
            Step::Setup { stage, command, .. } => format!("{stage}: setup {command}"),
            Step::Install {
                stage,
                from,
                files,
                runs,
                ..
            } => format!(
                "{stage}: install {} from {} with {}",
                files.join(","),
                from.as_deref().unwrap_or("source"),
                runs.len()
            ),
        })
        .collect()
}

const HELLO_YAML: &[u8] = b"version: 1.0\nruntime: python311\nbuild:\n  commands:\n    build:\n      - python3 -m compileall -q .\nrun:\n  pre-run:\n    - pip3 install -r requirements.txt\n  command: python3 server.py\n";

#[test]
fn dependency_layers_split_the_guides_example_in_the_runtime_stage() {
    let (layered, plain) = layered_and_plain(&[
        ("apprunner.yaml", HELLO_YAML),
        ("requirements.txt", b"pyramid==2.0\n"),
        ("server.py", b""),
    ]);
    assert_eq!(
        shape(&layered),
        [
            // The build stage installs nothing: no path to announce.
            "build: copy-source",
            "build: run python3 -m compileall -q .",
            "runtime: install requirements.txt from build with 1",
            "runtime: copy from build",
            "runtime: commit",
        ]
    );
    layered.check().unwrap();
    assert_eq!(layered.unlayered(), plain);
    assert!(plan::render(&layered).contains("dependency layer"));
    // Saved and read back, it is the same plan.
    let json = serde_json::to_string(&layered).unwrap();
    assert_eq!(serde_json::from_str::<BuildPlan>(&json).unwrap(), layered);
}

#[test]
fn dependency_layers_in_both_runs_of_the_original_build() {
    let (layered, plain) = layered_and_plain(&[
        (
            "apprunner.yaml",
            b"version: 1.0\nruntime: python3\nbuild:\n  commands:\n    build:\n      - pip3 install -r requirements.txt\n      - python3 -m compileall -q .\nrun:\n  command: python3 server.py\n",
        ),
        ("requirements.txt", b"pyramid==2.0\n"),
    ]);
    let shape = shape(&layered);
    assert_eq!(
        shape[0],
        "build: install requirements.txt from source with 1"
    );
    assert_eq!(shape[1], "build: copy-source");
    assert!(
        shape.contains(&"runtime: install requirements.txt from build with 1".to_string()),
        "{shape:#?}"
    );
    layered.check().unwrap();
    assert_eq!(layered.unlayered(), plain);
}

#[test]
fn dependency_layers_keep_the_plain_order_where_the_copy_would_overwrite() {
    let (layered, plain) = layered_and_plain(&[
        (
            "apprunner.yaml",
            b"version: 1.0\nruntime: nodejs12\nbuild:\n  commands:\n    build:\n      - npm ci\nrun:\n  command: node index.js\n",
        ),
        ("package.json", br#"{"dependencies":{"express":"4.21.2"}}"#),
        ("package-lock.json", b"{}"),
    ]);
    let shape = shape(&layered);
    assert_eq!(
        shape[0],
        "build: install package-lock.json,package.json from source with 1"
    );
    assert!(
        shape.iter().any(|s| s.starts_with("runtime: say Dependencies installed with the source in the runtime stage: `npm ci` writes into /app (node_modules)")),
        "{shape:#?}"
    );
    assert_eq!(layered.unlayered(), plain);
}

/// Issue 19: in a git work tree, a file git ignores is absent to detection as it is to App Runner
/// (a git-ignored lockfile does not make the install `npm ci`), and the plan says what it leaves
/// out; `--include-git-ignored` sees everything.
#[test]
fn in_a_git_work_tree_git_ignored_files_are_absent_to_the_plan() {
    let dir = project_dir(&[
        (
            "package.json",
            br#"{"name":"x","version":"1.0.0","scripts":{"start":"node server.js"}}"#,
        ),
        (
            "package-lock.json",
            br#"{"lockfileVersion":3,"packages":{}}"#,
        ),
        (".gitignore", b"package-lock.json\n"),
        ("server.js", b""),
    ]);
    let init = std::process::Command::new("git")
        .args(["init", "-q"])
        .arg(dir.path())
        .status()
        .expect("git is installed");
    assert!(init.success());
    let load_with = |include_git_ignored| {
        support::load_args(apprunner_build::project::ProjectArgs {
            dir: dir.path().to_path_buf(),
            include_git_ignored,
            ..Default::default()
        })
        .plan
        .expect("a plan")
    };
    let installs = |plan: &BuildPlan| {
        plan.steps
            .iter()
            .filter_map(|s| match s {
                Step::Run { command, .. } => Some(command.clone()),
                _ => None,
            })
            .collect::<Vec<_>>()
    };
    let plan = load_with(false);
    assert!(plan.leaves_out_git_ignored);
    assert_eq!(installs(&plan), ["npm install"]);
    assert!(
        plan::render(&plan).contains("  left out:    what git ignores"),
        "{}",
        plan::render(&plan)
    );
    let plan = load_with(true);
    assert!(!plan.leaves_out_git_ignored);
    assert_eq!(installs(&plan), ["npm ci"]);
}

/// Issue 19: a directory's listing, as detection reads it, leaves out what git ignores too.
#[test]
fn a_listing_in_a_git_work_tree_leaves_out_what_git_ignores() {
    let dir = project_dir(&[
        ("server.py", b""),
        ("scratch.py", b""),
        (".gitignore", b"scratch.py\n"),
    ]);
    let init = std::process::Command::new("git")
        .args(["init", "-q"])
        .arg(dir.path())
        .status()
        .expect("git is installed");
    assert!(init.success());
    let mut files = apprunner_build::input::files::ProjectFiles::new(dir.path(), dir.path());
    let names = |files: &apprunner_build::input::files::ProjectFiles| {
        files
            .entries("")
            .into_iter()
            .map(|(name, _)| name)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(&files),
        [".git", ".gitignore", "scratch.py", "server.py"]
    );
    files.leave_out_git_ignored();
    assert_eq!(names(&files), [".git", ".gitignore", "server.py"]);
    assert!(!files.is_file("scratch.py"));
}
