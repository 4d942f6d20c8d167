//! The binary: exit codes and output of validate, plan and runtimes.

mod support;

use std::path::Path;
use std::process::Command;
use support::{example, shipped_cli, signal};

#[test]
fn validate_exits_0_on_a_valid_file_and_1_with_located_errors() {
    let out = shipped_cli()
        .arg("validate")
        .arg(example())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("is valid: python311 3.11.14"));

    let dir = support::project_dir(&[(
        "apprunner.yaml",
        b"version: 1.0\nruntime: python311\nrun:\n  comand: x\n",
    )]);
    let out = shipped_cli()
        .current_dir(dir.path())
        .arg("validate")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("apprunner.yaml:4:3") && err.contains("did you mean `command`?"),
        "{err}"
    );
}

#[test]
fn plan_prints_a_human_view_and_json() {
    let out = shipped_cli().arg("plan").arg(example()).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("Runtime:       python311 3.11.14 (revised build)"),
        "{text}"
    );
    assert!(
        text.contains("port:    8080 (in PORT and APP_PORT)"),
        "{text}"
    );

    let out = shipped_cli()
        .arg("plan")
        .arg("--json")
        .arg(example())
        .output()
        .unwrap();
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(plan["runtime"]["name"], "python311");
    assert_eq!(plan["runtime"]["version"], "3.11.14");
    assert_eq!(plan["runtime"]["build_process"], "revised");
    assert_eq!(plan["format"], 2);
    // The example is in this repository's work tree (when it is one): what git ignores is left
    // out, as App Runner builds the committed tree.
    let in_git = Path::new(env!("CARGO_MANIFEST_DIR")).join(".git").exists();
    assert_eq!(
        plan["leaves_out_git_ignored"].as_bool().unwrap_or(false),
        in_git
    );
    assert_eq!(plan["stages"][0]["name"], "build");
    assert_eq!(plan["stages"][1]["name"], "runtime");
    // Dependency layers are on by default: the pre-run install runs over requirements.txt alone
    // (it writes outside /app), before /app is copied in; the build command is no install (and,
    // with no install in the build stage, there is no path to announce there).
    assert_eq!(plan["steps"][0]["step"], "copy-source");
    assert_eq!(plan["steps"][1]["step"], "run");
    assert_eq!(plan["steps"][1]["phase"], "build");
    assert_eq!(plan["steps"][1]["command"], "python3 -m compileall -q .");
    assert_eq!(plan["steps"][2]["step"], "install");
    assert_eq!(plan["steps"][2]["stage"], "runtime");
    assert_eq!(plan["steps"][2]["files"][0], "requirements.txt");
    assert_eq!(plan["steps"][2]["runs"][0]["phase"], "pre-run");
    assert_eq!(
        plan["steps"][2]["runs"][0]["command"],
        "pip3 install -r requirements.txt"
    );
    assert_eq!(plan["steps"][3]["step"], "copy-from-stage");
    assert_eq!(plan["steps"][4]["step"], "commit");
    // Without them, the steps as App Runner lists them.
    let out = shipped_cli()
        .args(["plan", "--json", "--no-dependency-layers"])
        .arg(example())
        .output()
        .unwrap();
    let plain: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let kinds: Vec<&str> = plain["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["step"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["copy-source", "run", "copy-from-stage", "run", "commit"]
    );
    assert_eq!(plain["steps"][3]["phase"], "pre-run");
    assert_eq!(plan["image"]["env"][1]["name"], "PORT");
    assert_eq!(plan["image"]["env"][2]["name"], "APP_PORT");
    assert_eq!(
        plan["image"]["labels"]["apprunner-build.runtime-version"],
        "3.11.14"
    );
}

#[test]
fn runtimes_lists_the_catalog_with_end_of_support() {
    let out = shipped_cli().arg("runtimes").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("python3    Python   original build; END OF SUPPORT since 2025-12-01"),
        "{text}"
    );
    assert!(
        text.contains("nodejs24   Node.js  revised build; extension: not an App Runner runtime"),
        "{text}"
    );
    assert!(
        text.contains("versions: 22.14.0, 22.16.0, 22.17.0, 22.20.0, 22.21.1"),
        "{text}"
    );
}

#[test]
fn a_catalog_file_overrides_the_shipped_one() {
    let dir = support::project_dir(&[(
        "catalog.toml",
        b"[runtimes.python311]\nlanguage = \"python\"\nbuild_process = \"revised\"\nversions = [{ version = \"3.11.2\", image = \"mirror.local/python:3.11\" }]\n",
    )]);
    let catalog = dir.path().join("catalog.toml");
    let out = shipped_cli()
        .arg("plan")
        .arg(example())
        .arg("--catalog")
        .arg(&catalog)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("python311 3.11.2") && text.contains("mirror.local/python:3.11"),
        "{text}"
    );
    let out = shipped_cli()
        .arg("plan")
        .arg(example())
        .env("APPRUNNER_BUILD_CATALOG", &catalog)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("python311 3.11.2"));

    std::fs::write(&catalog, "[runtimes.x]\nlanguage = 3\n").unwrap();
    let out = shipped_cli()
        .arg("runtimes")
        .arg("--catalog")
        .arg(&catalog)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("catalog.toml"));
}

/// Run `validate` in `dir`; a run that takes longer than `limit` is killed and fails the test.
fn validate_within(dir: &std::path::Path, limit: std::time::Duration) -> std::process::Output {
    use std::process::Stdio;
    let mut child = shipped_cli()
        .current_dir(dir)
        .arg("validate")
        .env("PROBE_MARKER", "host-environment-value")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("validate did not return within {limit:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn mkfifo(path: &std::path::Path) {
    let made = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(made.success(), "mkfifo {}", path.display());
}

/// A repository may be anybody's: manifests that lead out of it are refused unread, FIFOs and
/// devices neither hang the tool nor feed it, and what is shown of a huge line is a window.
#[cfg(unix)]
#[test]
fn validate_reads_no_host_file_and_never_hangs_on_a_manifest() {
    use std::os::unix::fs::symlink;
    let second = std::time::Duration::from_secs(10);
    let outside = support::project_dir(&[("config", b"version: 1.0\nHOST_ONLY_LINE: 1\n")]);
    for (name, target) in [
        (
            "apprunner.yaml",
            std::path::PathBuf::from("/proc/self/environ"),
        ),
        ("apprunner.yaml", outside.path().join("config")),
        ("package.json", "/proc/self/environ".into()),
        ("package.json", "/dev/zero".into()),
    ] {
        let dir = support::project_dir(&[]);
        symlink(&target, dir.path().join(name)).unwrap();
        let out = validate_within(dir.path(), second);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{name} -> {target:?}: {err}");
        assert!(
            err.contains("error[AR313]")
                && err.contains(&format!("`{name}` is a symlink that leads outside")),
            "{name} -> {target:?}: {err}"
        );
        assert!(
            !err.contains("host-environment-value") && !err.contains("HOST_ONLY_LINE"),
            "{err}"
        );
    }
    for name in ["apprunner.yaml", "package.json"] {
        let dir = support::project_dir(&[]);
        mkfifo(&dir.path().join(name));
        let out = validate_within(dir.path(), second);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(
            err.contains("error[AR314]") && err.contains(&format!("`{name}` is a FIFO")),
            "{err}"
        );
    }
    // A one-line package.json of 3 MB with a syntax error near its end: a window of the line.
    let mut big = b"{\"name\": \"".to_vec();
    big.extend(std::iter::repeat_n(b'x', 3_000_000));
    big.extend_from_slice(b"\", oops}");
    let dir = support::project_dir(&[("package.json", &big)]);
    let out = validate_within(dir.path(), second);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("error[AR301]"),
        "{}",
        &err[..err.len().min(2000)]
    );
    assert!(err.len() < 4_000, "{} bytes of stderr", err.len());
    // Over the cap: refused before parsing.
    let mut huge = big.clone();
    huge.extend(std::iter::repeat_n(b' ', 2_000_000));
    let dir = support::project_dir(&[("package.json", &huge)]);
    let out = validate_within(dir.path(), second);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("error[AR315]") && err.contains("`package.json` is larger than 4 MiB"),
        "{}",
        &err[..err.len().min(2000)]
    );
}

/// Nothing installs a signal handler before the project is read: Ctrl-C ends a `validate` that
/// waits on a file (today a FIFO `.nvmrc`, which detection still opens; once it does not, the
/// process has ended by itself and the check holds all the same).
#[cfg(unix)]
#[test]
fn ctrl_c_ends_validate_while_it_reads_the_project() {
    use std::process::Stdio;
    let dir = support::project_dir(&[(
        "package.json",
        b"{\"scripts\": {\"start\": \"node server.js\"}}",
    )]);
    mkfifo(&dir.path().join(".nvmrc"));
    let mut child = shipped_cli()
        .current_dir(dir.path())
        .arg("validate")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    let sent = signal(child.id(), "-INT");
    assert!(sent);
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > std::time::Duration::from_secs(10) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("validate ignored SIGINT");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Issue 9: a version file that is a link to the host's environment is refused, never printed.
#[cfg(unix)]
#[test]
fn a_version_file_linked_to_the_host_environment_is_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("package.json"),
        r#"{"name":"a","scripts":{"start":"node index.js"}}"#,
    )
    .unwrap();
    std::os::unix::fs::symlink("/proc/self/environ", dir.path().join(".nvmrc")).unwrap();
    let out = shipped_cli()
        .arg("validate")
        .arg(dir.path())
        .env("APPRUNNER_PROBE_SECRET", "probe-value-123")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("error[AR313]") && err.contains(".nvmrc"),
        "{err}"
    );
    assert!(!err.contains("probe-value-123"), "{err}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("probe-value-123"));
}

#[test]
fn plan_json_on_an_error_writes_the_diagnostics_as_json_on_stdout() {
    let dir = support::project_dir(&[(
        "apprunner.yaml",
        b"version: 1.0\nruntime: python311\nrun:\n  comand: x\n",
    )]);
    let out = shipped_cli()
        .current_dir(dir.path())
        .args(["plan", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    assert_eq!(json["ok"], false);
    assert_eq!(json["exit_code"], 1);
    let unknown = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "AR112")
        .unwrap_or_else(|| panic!("{json}"));
    assert_eq!(unknown["severity"], "error");
    assert_eq!(unknown["location"]["path"], "apprunner.yaml");
    assert_eq!(unknown["location"]["line"], 4);
    assert!(
        unknown["message"].as_str().unwrap().contains("comand"),
        "{unknown}"
    );
    assert!(
        unknown["help"].as_str().unwrap().contains("`command`"),
        "{unknown}"
    );
    // The same text as without --json on stderr, for a person.
    assert!(String::from_utf8_lossy(&out.stderr).contains("apprunner.yaml:4:3"));

    // A catalog that cannot be read stops before any project is read: JSON all the same.
    let out = shipped_cli()
        .args(["--catalog", "/nonexistent/catalog.toml", "plan", "--json"])
        .arg(dir.path())
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["exit_code"], out.status.code().unwrap());
    assert_eq!(json["diagnostics"][0]["code"], "AR208");
}

/// A saved plan is read only when it is a regular file of at most 16 MiB: `/dev/zero` or a FIFO
/// is refused at once (they would read without end, or block), before any engine is asked.
#[test]
fn a_saved_plan_that_is_no_regular_file_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("plan.json");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let big = dir.path().join("big.json");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(16 * 1024 * 1024 + 1)
        .unwrap();
    for (file, says) in [
        (std::path::Path::new("/dev/zero"), "not a regular file"),
        (fifo.as_path(), "not a regular file"),
        (big.as_path(), "larger than 16 MiB"),
    ] {
        let started = std::time::Instant::now();
        let out = shipped_cli()
            .args(["build", "--plan"])
            .arg(file)
            .env("DOCKER_HOST", "unix:///nonexistent.sock")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains("error[AR703]") && stderr.contains(says),
            "{stderr}"
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }
}

/// The `.dockerignore` rules a saved plan carries are checked when it is read: a rule that is no
/// pattern is refused, located in the plan file, before any engine is asked.
#[test]
fn a_saved_plan_with_a_damaged_exclude_rule_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("apprunner.yaml"),
        "version: 1.0\nruntime: python311\nbuild:\n  commands:\n    build:\n      - echo built\nrun:\n  command: python3 app.py\n",
    )
    .unwrap();
    std::fs::write(dir.path().join(".dockerignore"), "*.pyc\n").unwrap();
    let out = shipped_cli()
        .args(["plan", "--json"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["excludes"], serde_json::json!(["*.pyc"]));
    json["excludes"][0] = "src/[".into();
    let file = dir.path().join("plan.json");
    std::fs::write(&file, serde_json::to_string_pretty(&json).unwrap()).unwrap();
    let out = shipped_cli()
        .args(["build", "--plan"])
        .arg(&file)
        .arg(dir.path())
        .env("DOCKER_HOST", "unix:///nonexistent.sock")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("error[AR703]")
            && stderr.contains("exclude rule 1 is not a .dockerignore pattern")
            && stderr.contains("plan.json"),
        "{stderr}"
    );
}

/// The image says where it came from: the git remote without its credentials, the commit (with
/// `-dirty` once a tracked file changes), the app's version, and `SOURCE_DATE_EPOCH` as its time.
#[test]
fn plan_labels_the_image_with_its_source_revision_and_version() {
    let dir = support::project_dir(&[
        (
            "apprunner.yaml",
            &b"version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - echo hi\nrun:\n  command: node index.js\n"[..],
        ),
        ("package.json", &br#"{"name": "app", "version": "1.4.2"}"#[..]),
        ("index.js", &b"console.log(1)\n"[..]),
    ]);
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .arg("-C")
            .arg(dir.path())
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .output()
            .expect("git is installed");
        assert!(out.status.success(), "git {args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    git(&["init", "-q"]);
    git(&[
        "remote",
        "add",
        "origin",
        "https://me:ghp_t0ken@github.com/org/app.git",
    ]);
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "first"]);
    let head = git(&["rev-parse", "HEAD"]);
    let labels = |epoch: Option<&str>| {
        let mut c = shipped_cli();
        c.args(["plan", "--json"]).arg(dir.path());
        match epoch {
            Some(e) => c.env("SOURCE_DATE_EPOCH", e),
            None => c.env_remove("SOURCE_DATE_EPOCH"),
        };
        let out = c.output().unwrap();
        assert!(out.status.success(), "{out:?}");
        let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        plan["image"]["labels"].clone()
    };
    let clean = labels(Some("1700000000"));
    assert_eq!(
        clean["org.opencontainers.image.source"],
        "https://github.com/org/app.git"
    );
    assert_eq!(clean["org.opencontainers.image.revision"], head.as_str());
    assert_eq!(clean["org.opencontainers.image.version"], "1.4.2");
    assert_eq!(
        clean["org.opencontainers.image.created"],
        "2023-11-14T22:13:20Z"
    );
    assert!(!clean.to_string().contains("ghp_t0ken"));

    std::fs::write(dir.path().join("index.js"), "console.log(2)\n").unwrap();
    let dirty = labels(None);
    assert_eq!(
        dirty["org.opencontainers.image.revision"],
        format!("{head}-dirty").as_str()
    );
    assert!(dirty.get("org.opencontainers.image.created").is_none());
}
