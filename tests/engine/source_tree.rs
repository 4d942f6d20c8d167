//! The source tree copied into /app: odd file names, `.dockerignore`, a file that changes during
//! the upload, and a secrets file inside the source.

use crate::support::*;
use apprunner_build::engine::EngineError;
use apprunner_build::report::exit;

/// Issue 9: file names are uploaded as they are; a name full of `\..\` lands inside /app, never
/// outside (even when longer than a tar header holds).
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn file_names_with_backslashes_and_dots_land_inside_app() {
    let docker = docker().await;
    let long = format!("{}\\..\\..\\..\\usr\\local\\bin\\pwned", "x".repeat(120));
    let app = write_app(&[
        (
            "apprunner.yaml",
            "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - echo built\nrun:\n  command: sleep 1000\n",
        ),
        ("a\\..\\..\\x", "short"),
        (&long, "long"),
        ("a\\b", "backslash"),
    ]);
    let b = build(&docker, app.path(), "names").await;
    let built = b.result.expect("builds");
    let out = output_of(
        &docker,
        &built.name.to_string(),
        "ls -1 /app; test -e /usr/local/bin/pwned && echo PWNED; test -e /x && echo ROOT-X; test -e /app/a/b && echo SPLIT; echo done",
    )
    .await;
    assert!(out.contains("a\\..\\..\\x\n"), "{out}");
    assert!(out.contains(&format!("{long}\n")), "{out}");
    assert!(out.contains("a\\b\n"), "{out}");
    assert!(
        !out.contains("PWNED") && !out.contains("ROOT-X") && !out.contains("SPLIT"),
        "{out}"
    );
    assert!(out.contains("done"), "{out}");
    remove_image(&docker, &built.name).await;
}

/// Issue 9: a `.dockerignore` that leaves out every file says so in the log.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn a_dockerignore_that_leaves_out_everything_is_a_logged_warning() {
    let docker = docker().await;
    let app = write_app(&[
        (
            "apprunner.yaml",
            "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - echo built\nrun:\n  command: sleep 1000\n",
        ),
        ("server.js", ""),
        (".dockerignore", "*\n"),
    ]);
    let b = build(&docker, app.path(), "ignore-all").await;
    let built = b.result.expect("builds");
    assert!(
        log_has(
            &b.log,
            "[AppRunner] Warning: .dockerignore leaves out every file of the source"
        ),
        "{:#?}",
        b.log
    );
    remove_image(&docker, &built.name).await;
}

/// Issue 9: a file that shrinks while it is being uploaded fails the build with an error that
/// names it (it used to corrupt the stream into a confusing truncated-archive error).
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn a_file_that_shrinks_during_the_upload_is_named() {
    let docker = docker().await;
    let app = write_app(&[(
        "apprunner.yaml",
        "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - echo built\nrun:\n  command: sleep 1000\n",
    )]);
    let big = app.path().join("big.bin");
    // Sparse: a gigabyte to read, nothing on disk.
    std::fs::File::create(&big)
        .unwrap()
        .set_len(1 << 30)
        .unwrap();
    // Truncate it as soon as this process (the tar writer) has it open.
    let watched = big.canonicalize().unwrap();
    let truncator = std::thread::spawn(move || {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        while std::time::Instant::now() < deadline {
            let open = std::fs::read_dir("/proc/self/fd")
                .unwrap()
                .flatten()
                .any(|fd| std::fs::read_link(fd.path()).is_ok_and(|t| t == watched));
            if open {
                std::thread::sleep(std::time::Duration::from_millis(50));
                std::fs::OpenOptions::new()
                    .write(true)
                    .open(&watched)
                    .unwrap()
                    .set_len(1000)
                    .unwrap();
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        false
    });
    let b = build(&docker, app.path(), "shrinks").await;
    assert!(
        truncator.join().unwrap(),
        "the file was opened and truncated"
    );
    let e = b.result.expect_err("the build fails");
    let message = e.to_string();
    assert!(matches!(e, EngineError::Source { .. }), "{message}");
    assert!(
        message.contains("`big.bin` shrank while it was being read"),
        "{message}"
    );
    assert!(b.leftovers.is_empty(), "{:?}", b.leftovers);
}

/// `build --run --secrets-file FILE` with FILE inside the source tree: the file is left out of
/// the source copied into the image (and the log says so); the app still gets the secret.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn a_secrets_file_inside_the_source_stays_out_of_the_image() {
    let app = write_app(&[
        (
            "apprunner.yaml",
            "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - echo ok\nrun:\n  command: node check.js\n  secrets:\n    - name: API_TOKEN\n      value-from: arn:aws:secretsmanager:us-east-1:123456789012:secret:token\n",
        ),
        (
            "check.js",
            "const fs = require('fs');\nconsole.log(fs.existsSync('/app/secrets.env') ? 'SECRETS_FILE_IN_APP' : 'NO_SECRETS_FILE', process.env.API_TOKEN.length);\nprocess.exit(3);\n",
        ),
        ("secrets.env", "API_TOKEN=do-not-ship-me\n"),
        ("keep.txt", "kept\n"),
    ]);
    let tag = format!("apprunner-build-test/secrets-file:{}", std::process::id());
    let _image = ImageGuard::new(&tag);
    let out = cli()
        .arg("build")
        .arg(app.path())
        .args(["-t", &tag, "--run", "-p", "0", "--secrets-file"])
        .arg(app.path().join("secrets.env"))
        .args(["--ca-bundle", "/etc/ssl/certs/ca-certificates.crt"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(exit::APP_EXITED.into()),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("secrets.env is inside the source directory: it is left out of the source copied into the image."),
        "{stdout}"
    );
    assert!(stdout.contains("NO_SECRETS_FILE 14"), "{stdout}");
    let docker = docker().await;
    let listing = output_of(&docker, &tag, "ls -A /app").await;
    assert!(
        listing.lines().any(|l| l.trim() == "keep.txt")
            && !listing.lines().any(|l| l.contains("secrets.env")),
        "{listing}"
    );
    let contents = output_of(&docker, &tag, "cat /app/* 2>/dev/null").await;
    assert!(!contents.contains("do-not-ship-me"), "{contents}");
}

/// Issue 19: App Runner builds the committed tree, so in a git work tree what git ignores (a
/// `.env` holding a secret, a local `.venv`) never reaches /app, and the log says what was left
/// out; an edit of such a file leaves the image up to date; `--include-git-ignored` takes it.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn git_ignored_files_stay_out_of_the_image_as_app_runner_never_sees_them() {
    let docker = docker().await;
    let app = write_app(&[
        (
            "apprunner.yaml",
            "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - echo built\nrun:\n  command: node server.js\n",
        ),
        ("server.js", "console.log('hi')\n"),
        (".gitignore", ".env\n.venv/\n"),
        (".env", "DB_PASSWORD=hunter2-in-env\n"),
        (".venv/bin/python", "#!/bin/sh\n"),
    ]);
    let init = std::process::Command::new("git")
        .args(["init", "-q"])
        .arg(app.path())
        .status()
        .expect("git is installed");
    assert!(init.success());
    let tag = format!("apprunner-build-test/git-ignored:{}", std::process::id());
    let _image = ImageGuard::new(&tag);

    let log = build_with(app.path(), &tag, &[]);
    assert!(
        log.contains(
            "Left out 2 entries that git ignores, as App Runner builds only the committed tree: .env, .venv (--include-git-ignored builds them)."
        ),
        "{log}"
    );
    let listing = output_of(&docker, &tag, "ls -A /app; cat /app/.env 2>&1; echo done").await;
    assert!(
        listing.contains("server.js") && listing.contains(".gitignore"),
        "{listing}"
    );
    assert!(
        !listing.contains(".venv") && !listing.contains("hunter2"),
        "{listing}"
    );

    // The up-to-date check sees the same files: an edit git ignores changes nothing.
    std::fs::write(app.path().join(".env"), "DB_PASSWORD=changed\n").unwrap();
    let log = build_with(app.path(), &tag, &[]);
    assert!(log.contains("is up to date"), "{log}");

    let log = build_with(app.path(), &tag, &["--include-git-ignored"]);
    assert!(!log.contains("that git ignores"), "{log}");
    let listing = output_of(&docker, &tag, "cat /app/.env; ls /app/.venv/bin").await;
    assert!(
        listing.contains("DB_PASSWORD=changed") && listing.contains("python"),
        "{listing}"
    );
}
