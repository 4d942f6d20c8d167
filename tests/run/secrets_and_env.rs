//! Secrets and local values for `run`: given from files and flags, shown nowhere, asked for by name
//! only, and refused before anything starts when malformed.

use crate::support::*;
use apprunner_build::report::exit;
use std::process::Stdio;

const SECRET: &str = "s3cr3t-value-7f3a9c";

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn a_secret_from_a_file_reaches_the_app_and_nowhere_else() {
    let app = write_app(&[
        (
            "apprunner.yaml",
            "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - echo no dependencies\nrun:\n  command: node server.js\n  secrets:\n    - name: API_TOKEN\n      value-from: arn:aws:secretsmanager:us-east-1:123456789012:secret:api-token\n",
        ),
        (
            "server.js",
            "console.log('token is ' + process.env.API_TOKEN);\nconst e = process.env;\nrequire('http').createServer((q, s) => s.end(`${e.API_TOKEN} ${e.FROM_FILE} ${e.FROM_FLAG}`)).listen(e.PORT);\n",
        ),
        ("secrets.env", &format!("API_TOKEN={SECRET}\n")),
        ("local.env", "# local values\nFROM_FILE=file-value\n"),
    ]);
    let dir = app.path().to_str().unwrap();
    let tag = format!("apprunner-build-test/run-secret:{}", std::process::id());
    let _image = ImageGuard::new(&tag);

    // Missing: one error, before anything is built or started.
    let out = run_cmd(&[dir, "-t", &tag])
        .env_remove("API_TOKEN")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(exit::USAGE.into()), "{stdout}");
    assert!(
        stdout.contains("Missing secret value(s) for API_TOKEN"),
        "{stdout}"
    );
    assert!(!stdout.contains("Starting to build"), "{stdout}");

    let env_file = app.path().join("local.env");
    let secrets_file = app.path().join("secrets.env");
    let mut child = spawn(
        run_cmd(&[
            dir,
            "-t",
            &tag,
            "-p",
            "0",
            "--secrets-file",
            secrets_file.to_str().unwrap(),
            "--env-file",
            env_file.to_str().unwrap(),
            "--env",
            "FROM_FLAG=flag-value",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped()),
    );
    let lines = read_until(&mut child, "live at http://localhost:");
    assert_eq!(
        get(live_port(&lines)),
        format!("{SECRET} file-value flag-value"),
        "the app got the secret and the local values"
    );
    let (_, rest) = interrupt(&mut child, "-INT");
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    let all = format!("{}\n{rest}\n{stderr}", lines.join("\n"));
    assert!(all.contains("[Application] token is ********"), "{all}");
    assert!(
        !all.contains(SECRET),
        "the value appears nowhere in the output:\n{all}"
    );

    let docker = docker().await;
    let inspect = docker.inspect_image(&tag).await.unwrap();
    assert!(!format!("{inspect:?}").contains(SECRET), "nor in the image");
}

/// Issue 9: the secret names come from the image's label, so the environment must not answer them
/// unasked; `--secret NAME` asks.
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
#[tokio::test(flavor = "multi_thread")]
async fn an_image_cannot_collect_a_secret_from_the_environment_unless_named() {
    let app = write_app(&[
        (
            "apprunner.yaml",
            "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - echo ok\nrun:\n  command: node app.js\n  secrets:\n    - name: GITHUB_TOKEN\n      value-from: arn:aws:secretsmanager:us-east-1:123456789012:secret:gh\n",
        ),
        (
            "app.js",
            "const t = process.env.GITHUB_TOKEN;\nconsole.log(t === undefined ? 'no token' : 'token of length ' + t.length);\nprocess.exit(4);\n",
        ),
    ]);
    let tag = format!(
        "apprunner-build-test/run-label-secret:{}",
        std::process::id()
    );
    build_tagged(app.path(), &tag);
    let token = "ghp_hostTokenValue123";
    let run = |extra: &[&str]| {
        let mut c = cli();
        c.args(["run", &tag, "-p", "0", "--health-interval", "1"])
            .args(extra)
            .env("GITHUB_TOKEN", token);
        c.output().unwrap()
    };

    // The label asks for GITHUB_TOKEN, the environment has it: not given, nothing started.
    let out = run(&[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(exit::USAGE.into()), "{stdout}");
    assert!(
        stdout.contains("Missing secret value(s) for GITHUB_TOKEN:"),
        "{stdout}"
    );
    assert!(
        stdout.contains("--secrets-file FILE") && stdout.contains("--secret NAME"),
        "both ways are named: {stdout}"
    );
    assert!(!stdout.contains("[Application]"), "{stdout}");

    // A value on the command line is refused, and not repeated.
    let out = run(&["--secret", "GITHUB_TOKEN=inline-value"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(exit::USAGE.into()), "{stderr}");
    assert!(
        stderr.contains("shell history and process lists"),
        "{stderr}"
    );
    assert!(!stderr.contains("inline-value"), "{stderr}");

    // Named with --secret: given.
    let out = run(&["--secret", "GITHUB_TOKEN"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(exit::APP_EXITED.into()), "{stdout}");
    assert!(
        stdout.contains(&format!("[Application] token of length {}", token.len())),
        "{stdout}"
    );
    let docker = docker().await;
    remove_named(&docker, &tag).await;
}

/// Issue 9: a bad variable name or a NUL in a value is refused, saying where and why, before
/// anything is built or started.
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
#[test]
fn bad_local_env_values_are_refused_before_anything_starts() {
    let app = write_app(&[
        (
            "apprunner.yaml",
            "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - echo ok\nrun:\n  command: node -e 1\n",
        ),
        ("nul.env", "OK=1\nB=x\0y\n"),
        ("name.env", "# local\nA B=1\n"),
    ]);
    let dir = app.path().to_str().unwrap();
    let tag = format!("apprunner-build-test/run-bad-env:{}", std::process::id());
    let cases: [(&[&str], &[&str]); 3] = [
        (
            &["--env", "A B=1"],
            &["error[AR702]: `--env A B=…`: `A B` is not a valid variable name"],
        ),
        (
            &["--env-file", "nul.env"],
            &[
                "error[AR702]: the value of B contains a NUL byte",
                "--> nul.env:2:1",
            ],
        ),
        (
            &["--env-file", "name.env"],
            &[
                "error[AR702]: `A B` is not a valid variable name",
                "--> name.env:2:1",
            ],
        ),
    ];
    for (args, expected) in cases {
        let out = run_cmd(&[dir, "-t", &tag])
            .args(args)
            .current_dir(app.path())
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(exit::USAGE.into()),
            "{args:?}: {stderr}"
        );
        for expected in expected {
            assert!(stderr.contains(expected), "{args:?}: {stderr}");
        }
        assert!(stdout.is_empty(), "nothing was built or started: {stdout}");
    }
}
