//! `--user` as a step of the plan, limits refused when malformed, and SECURITY.md's list of
//! capabilities: no engine needed.

use crate::support::*;
use apprunner_build::engine::confine;
use apprunner_build::plan::user::RunAs;
use apprunner_build::plan::{self, labels, BuildPlan, Step};
use apprunner_build::project::ProjectArgs;
use apprunner_build::report::exit;
use std::path::Path;

/// `--user` is in the plan: a setup step of the committed stage after its last command, shown by
/// `plan` and kept by `plan --json`; the engine only carries it out.
#[test]
fn user_is_a_setup_step_the_plan_lists_and_prints() {
    let app = write_app(&[("apprunner.yaml", MINIMAL), ("server.py", "")]);
    let loaded = load_args(ProjectArgs {
        dir: app.path().to_path_buf(),
        user: Some(RunAs::Name("app".into())),
        ..Default::default()
    });
    let plan = loaded.plan.expect("valid");
    let at = plan
        .steps
        .iter()
        .position(|s| matches!(s, Step::Setup { .. }))
        .expect("a setup step");
    assert!(matches!(plan.steps[at + 1], Step::Commit { .. }));
    let Step::Setup { stage, command, .. } = &plan.steps[at] else {
        unreachable!()
    };
    assert_eq!(stage, "runtime");
    assert!(command.contains("useradd") && command.ends_with("chown -R app: /app"));
    assert_eq!(plan.image.user.as_deref(), Some("app"));
    assert_eq!(plan.image.labels[labels::USER], "app");
    let shown = plan::render(&plan);
    assert!(
        shown.contains("[runtime] setup, as root: id -u app"),
        "{shown}"
    );
    assert!(shown.contains("  user:    app"), "{shown}");
    let json = serde_json::to_string(&plan).unwrap();
    assert!(json.contains("\"step\":\"setup\""), "{json}");
    assert_eq!(serde_json::from_str::<BuildPlan>(&json).unwrap(), plan);

    // The command line: `plan --user`, and values refused before anything runs.
    let out = shipped_cli()
        .args(["plan", "--user", "1000"])
        .arg(app.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(
        stdout.contains("setup, as root: chown -R 1000 /app"),
        "{stdout}"
    );
    for bad in ["root", "0", "app:app", "a;b"] {
        let out = shipped_cli()
            .args(["plan", "--user", bad])
            .arg(app.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(exit::USAGE.into()),
            "{bad}: {stderr}"
        );
        assert!(stderr.contains("[AR702]"), "{bad}: {stderr}");
    }
    // An image runs as it was built.
    let out = shipped_cli()
        .args([
            "run",
            "apprunner-build-test/no-such-image:1",
            "--user",
            "app",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(exit::USAGE.into()), "{stderr}");
    assert!(
        stderr.contains("[AR702]") && stderr.contains("build DIR --user NAME"),
        "{stderr}"
    );
    // A saved plan already says who the image runs as.
    let out = shipped_cli()
        .args(["build", "--plan", "p.json", "--user", "app"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(exit::USAGE.into()), "{out:?}");
}

#[test]
fn bad_memory_cpus_and_timeouts_are_refused_with_a_code() {
    let app = write_app(&[("apprunner.yaml", MINIMAL)]);
    for (flag, value, says) in [
        ("--memory", "lots", "not a size"),
        ("--memory", "1m", "smallest limit"),
        ("--cpus", "0", "0.01"),
        ("--command-timeout", "0s", "above 0"),
        ("--command-timeout", "ten minutes", "not a duration"),
    ] {
        let out = shipped_cli()
            .args(["build", flag, value])
            .arg(app.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(exit::USAGE.into()), "{stderr}");
        assert!(
            stderr.contains("[AR702]") && stderr.contains(says),
            "{flag} {value}: {stderr}"
        );
    }
}

/// SECURITY.md's tables are the code's lists: each capability kept or dropped, with its reason.
#[test]
fn security_md_lists_every_capability_with_its_reason() {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("SECURITY.md")).unwrap();
    for (cap, why) in confine::KEPT_CAPABILITIES
        .iter()
        .chain(confine::DROPPED_CAPABILITIES)
    {
        assert!(
            doc.contains(&format!("| `{cap}` | {why} |")),
            "SECURITY.md lacks the row for {cap}: | `{cap}` | {why} |"
        );
    }
    assert!(doc.contains(&format!("A pids limit of {}", confine::PIDS_LIMIT)));
}
