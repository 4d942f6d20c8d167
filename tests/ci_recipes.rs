//! The CI recipes in `docs/ci/`, run as their CI would run them: the files are parsed, and their
//! shell steps run in order in a git checkout of the guide's example, with the variables those CIs
//! set. What a CI provides and this machine does not is stood in for, and only that:
//! - the install step (`cargo install --git URL`) puts this build's binary first on PATH, the one
//!   `cargo install --path .` would make;
//! - the registry (ghcr.io, GitLab's) is the local one on 127.0.0.1:5000;
//! - GitLab's `docker:dind` service over TLS is a TLS front with client certificates in front of
//!   this machine's engine, and its alias `docker` is 127.0.0.1;
//! - the service's port 8080 is a free port here;
//! - steps that run an action (`uses:`) are checked, not run.
//!
//! Run with scripts/test.sh.

mod support;

use marked_yaml::types::{MarkedMappingNode, Node};
use std::path::Path;
use std::process::Command;
use support::*;

fn recipe(name: &str) -> Node {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs/ci")
        .join(name);
    marked_yaml::parse_yaml(0, std::fs::read_to_string(&path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn scalar(map: &MarkedMappingNode, key: &str) -> String {
    map.get_scalar(key)
        .unwrap_or_else(|| panic!("no `{key}`"))
        .as_str()
        .to_string()
}

/// A git checkout of the guide's example, as a CI job starts in.
fn checkout() -> (tempfile::TempDir, String) {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/python-hello");
    let dir = copy_app(&example, &[]);
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .arg("-C")
            .arg(dir.path())
            .args(["-c", "user.name=ci", "-c", "user.email=ci@example.com"])
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "the service"]);
    let sha = git(&["rev-parse", "HEAD"]);
    (dir, sha)
}

/// A directory holding `apprunner-build` (this build's binary) for PATH.
fn installed() -> tempfile::TempDir {
    let bin = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(
        env!("CARGO_BIN_EXE_apprunner-build"),
        bin.path().join("apprunner-build"),
    )
    .unwrap();
    bin
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Run `script` with bash as the CI does (`-e`, and pipefail as GitHub's default shell), in
/// `dir`, with `env`; its output.
fn bash(script: &str, dir: &Path, env: &[(String, String)]) -> String {
    let out = Command::new("bash")
        .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", script])
        .current_dir(dir)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{script}\n---\n{text}");
    text
}

/// The environment every step gets: the test catalog, the proxy's CA, this binary first on
/// PATH, a home of the job's own.
fn base_env(bin: &Path, home: &Path) -> Vec<(String, String)> {
    let path = std::env::var("PATH").unwrap_or_default();
    vec![
        (
            "APPRUNNER_BUILD_CATALOG".into(),
            test_catalog().display().to_string(),
        ),
        (
            "APPRUNNER_BUILD_CA_BUNDLE".into(),
            "/etc/ssl/certs/ca-certificates.crt".into(),
        ),
        ("PATH".into(), format!("{}:{path}", bin.display())),
        ("HOME".into(), home.display().to_string()),
        (
            "DOCKER_CONFIG".into(),
            home.join(".docker").display().to_string(),
        ),
        ("CI".into(), "true".into()),
    ]
}

fn check_metadata(dir: &Path, image: &str) {
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("metadata.json")).unwrap()).unwrap();
    assert_eq!(meta["pushed"][0]["reference"], image, "{meta}");
    assert!(meta["pushed"][0]["digest"]
        .as_str()
        .is_some_and(|d| d.starts_with("sha256:")));
    assert_eq!(
        std::fs::read_to_string(dir.join("image-id")).unwrap(),
        meta["image"]["id"].as_str().unwrap()
    );
}

#[test]
#[ignore = "needs a Docker engine, the fixture images and the local registry: run scripts/test.sh"]
fn the_github_actions_workflow_builds_tests_and_pushes() {
    let doc = recipe("github-actions.yml");
    let top = doc.as_mapping().unwrap();
    let (dir, sha) = checkout();
    let (bin, home) = (installed(), tempfile::tempdir().unwrap());
    let port = free_port().to_string();
    let expand = |text: &str| {
        text.replace("${{ github.repository }}", "org/service")
            .replace("${{ github.sha }}", &sha)
            .replace("${{ github.actor }}", "ci-bot")
            .replace("${{ secrets.GITHUB_TOKEN }}", "ghs_test-token")
            .replace("ghcr.io", "127.0.0.1:5000")
            .replace("8080", &port)
    };
    let mut env = base_env(bin.path(), home.path());
    env.extend([
        ("GITHUB_ACTIONS".into(), "true".into()),
        ("GITHUB_SHA".into(), sha.clone()),
        ("GITHUB_REPOSITORY".into(), "org/service".into()),
        ("GITHUB_WORKSPACE".into(), dir.path().display().to_string()),
        ("RUNNER_OS".into(), "Linux".into()),
    ]);
    for (key, value) in top.get_mapping("env").unwrap().iter() {
        env.push((
            key.as_str().to_string(),
            expand(value.as_scalar().unwrap().as_str()),
        ));
    }
    let image = format!("127.0.0.1:5000/org/service:{sha}");
    assert!(env.iter().any(|(k, v)| k == "IMAGE" && *v == image));
    let steps = top
        .get_mapping("jobs")
        .and_then(|j| j.get_mapping("image"))
        .and_then(|j| j.get_sequence("steps"))
        .unwrap();
    let mut ran = Vec::new();
    for step in steps.iter() {
        let step = step.as_mapping().unwrap();
        if let Some(action) = step.get_scalar("uses") {
            let with = step.get_mapping("with");
            match action.as_str().split('@').next().unwrap() {
                "actions/cache" => {
                    let with = with.unwrap();
                    assert_eq!(scalar(with, "path"), "~/.cache/apprunner-build");
                    assert!(scalar(with, "key").contains("hashFiles("));
                }
                "actions/upload-artifact" => {
                    assert_eq!(scalar(with.unwrap(), "path"), "metadata.json")
                }
                "actions/checkout" => {}
                other => panic!("an action the test does not know: {other}"),
            }
            continue;
        }
        let run = scalar(step, "run");
        if run.contains("cargo install") {
            assert!(run.contains("--locked --git https://"), "{run}");
            continue;
        }
        ran.push(bash(&expand(&run), dir.path(), &env));
    }
    assert_eq!(ran.len(), 4, "build, test, login, push");
    assert!(
        ran[1].contains("the image answers: Hello, world!"),
        "{}",
        ran[1]
    );
    check_metadata(dir.path(), &image);
    let _image = ImageGuard::new(&image);
}

#[test]
#[ignore = "needs a Docker engine, the fixture images, the local registry and socat: run scripts/test.sh"]
fn the_gitlab_job_builds_tests_and_pushes_through_a_tls_engine() {
    let doc = recipe("gitlab-ci.yml");
    let job = doc.as_mapping().unwrap().get_mapping("image").unwrap();
    let certs = tempfile::tempdir().unwrap();
    certificates_for(certs.path(), "127.0.0.1");
    let Some(front) = tls_front(certs.path(), "/var/run/docker.sock") else {
        return;
    };
    let (dir, sha) = checkout();
    let (bin, home) = (installed(), tempfile::tempdir().unwrap());
    let port = free_port().to_string();
    let mut vars = vec![
        ("GITLAB_CI".to_string(), "true".to_string()),
        ("CI_COMMIT_SHA".into(), sha.clone()),
        ("CI_PROJECT_DIR".into(), dir.path().display().to_string()),
        ("CI_REGISTRY".into(), "127.0.0.1:5000".into()),
        (
            "CI_REGISTRY_IMAGE".into(),
            "127.0.0.1:5000/group/service".into(),
        ),
        ("CI_REGISTRY_USER".into(), "gitlab-ci-token".into()),
        ("CI_REGISTRY_PASSWORD".into(), "glcbt-test-token".into()),
    ];
    // GitLab expands `$NAME` in a variable's value from the variables before it.
    for (key, value) in job.get_mapping("variables").unwrap().iter() {
        let mut value = value.as_scalar().unwrap().as_str().to_string();
        for (name, known) in vars.clone().iter().rev() {
            value = value.replace(&format!("${name}"), known);
        }
        let value = match key.as_str() {
            "DOCKER_HOST" => {
                assert_eq!(value, "tcp://docker:2376");
                format!("tcp://127.0.0.1:{}", front.port)
            }
            "DOCKER_CERT_PATH" => certs.path().display().to_string(),
            "SERVICE_URL" => value.replace("docker:8080", &format!("127.0.0.1:{port}")),
            _ => value,
        };
        vars.push((key.as_str().to_string(), value));
    }
    let image = format!("127.0.0.1:5000/group/service:{sha}");
    assert!(vars.iter().any(|(k, v)| k == "IMAGE" && *v == image));
    let lines = |key: &str| -> Vec<String> {
        job.get_sequence(key)
            .unwrap()
            .iter()
            .map(|l| l.as_scalar().unwrap().as_str().to_string())
            .collect()
    };
    let before = lines("before_script");
    assert!(before
        .iter()
        .all(|l| l.contains("cargo install --locked --git https://")));
    // One shell session for the whole job, as GitLab's runner runs it.
    let script = lines("script").join("\n").replace("8080", &port);
    let mut env = base_env(bin.path(), home.path());
    env.extend(vars);
    let out = bash(&script, dir.path(), &env);
    assert!(
        out.contains(&format!(
            "at tcp://127.0.0.1:{} (DOCKER_HOST, TLS)",
            front.port
        )),
        "{out}"
    );
    assert!(out.contains("the image answers: Hello, world!"), "{out}");
    assert!(out.contains("credentials: auths in"), "{out}");
    check_metadata(dir.path(), &image);
    let listed = |map: &MarkedMappingNode, key: &str| -> Vec<String> {
        map.get_sequence(key)
            .unwrap()
            .iter()
            .map(|n| n.as_scalar().unwrap().as_str().to_string())
            .collect()
    };
    let cache = job.get_mapping("cache").unwrap();
    assert_eq!(listed(cache, "paths"), [".apprunner-build-cache/"]);
    assert!(
        listed(cache.get_mapping("key").unwrap(), "files").contains(&"package-lock.json".into())
    );
    assert_eq!(
        listed(job.get_mapping("artifacts").unwrap(), "paths"),
        ["metadata.json"]
    );
    let _image = ImageGuard::new(&image);
}
