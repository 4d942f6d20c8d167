//! `build --plan FILE`: a saved plan is built as written, and an edited or damaged one is refused.

use crate::support::*;
use apprunner_build::report::exit;

/// `build --plan FILE` builds exactly the saved plan: a step added to the JSON by hand runs, in
/// its place, and the engine runs no command the plan does not list.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn a_saved_plan_is_built_exactly_as_written() {
    let app = write_app(&[
        (
            "apprunner.yaml",
            "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - echo built > built.txt\n    post-build:\n      - echo checked\nrun:\n  pre-run:\n    - echo prepared > prepared.txt\n  command: node server.js\n",
        ),
        ("server.js", "console.log('hi')\n"),
    ]);
    let out = cli()
        .args(["plan", "--json"])
        .arg(app.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let steps = plan["steps"].as_array_mut().unwrap();
    let commit = steps.len() - 1;
    assert_eq!(steps[commit]["step"], "commit");
    steps.insert(
        commit,
        serde_json::json!({
            "step": "run", "stage": "runtime", "phase": "pre-run",
            "command": "echo from-the-saved-plan > /app/marker",
            "workdir": "/app", "env": []
        }),
    );
    let expected: Vec<String> = steps
        .iter()
        .filter(|s| s["step"] == "run")
        .map(|s| {
            format!(
                "Executing '{}' command: {}",
                s["phase"].as_str().unwrap(),
                s["command"].as_str().unwrap()
            )
        })
        .collect();
    let file = app.path().join("saved-plan.json");
    std::fs::write(&file, serde_json::to_vec_pretty(&plan).unwrap()).unwrap();
    let tag = format!("apprunner-build-test/saved-plan:{}", std::process::id());
    let _image = ImageGuard::new(&tag);
    // The source is the directory named on the command line, the one the plan was made for.
    let out = cli()
        .args(["build", "--no-cache", "-t", &tag, "--plan"])
        .arg(&file)
        .arg(app.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    let executed: Vec<String> = stdout
        .lines()
        .filter_map(|l| l.split("[AppRunner] ").nth(1))
        .filter(|l| l.starts_with("Executing '"))
        .map(String::from)
        .collect();
    assert_eq!(executed, expected, "{stdout}");
    let docker = docker().await;
    let files = output_of(
        &docker,
        &tag,
        "cat /app/marker /app/built.txt /app/prepared.txt",
    )
    .await;
    assert_eq!(
        files.trim(),
        "from-the-saved-plan\nbuilt\nprepared",
        "{files}"
    );

    // A plan whose source is elsewhere (`/etc`, the host's) is refused, not copied into /app;
    // and so is one that sets the engine's own labels (an owner would make later builds remove
    // the containers of the image as leftovers).
    for (edit, says) in [
        (
            serde_json::json!({ "source_root": "/etc" }),
            "the plan was made for the source in `/etc`, but this build reads",
        ),
        (
            serde_json::json!({ "image": { "labels": { "apprunner-build.owner": "1@host" } } }),
            "the image label `apprunner-build.owner` is apprunner-build's own",
        ),
    ] {
        let mut edited = plan.clone();
        merge(&mut edited, &edit);
        std::fs::write(&file, serde_json::to_vec(&edited).unwrap()).unwrap();
        let out = cli()
            .args(["build", "-t", &tag, "--plan"])
            .arg(&file)
            .arg(app.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(exit::INVALID_INPUT.into()),
            "{stderr}"
        );
        assert!(stderr.contains(says), "{stderr}");
        assert!(
            !String::from_utf8_lossy(&out.stdout).contains("Executing"),
            "{stderr}"
        );
    }

    // A damaged plan is refused before anything runs.
    plan["steps"][1]["stage"] = "nowhere".into();
    std::fs::write(&file, serde_json::to_vec(&plan).unwrap()).unwrap();
    let out = cli()
        .args(["build", "-t", &tag, "--plan"])
        .arg(&file)
        .arg(app.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(exit::INVALID_INPUT.into()));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("step 2 names stage `nowhere`"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
