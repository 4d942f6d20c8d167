//! The final image holds nothing of the machine that built it: no CA bundle, build.env value,
//! secret, host name or build path.

use crate::support::*;
use apprunner_build::report::exit;
use futures_util::StreamExt;
use std::path::Path;
use std::process::Command;

/// The final image, exported (the engine's `docker save`, streamed) and searched through: no
/// line of the CA bundle (the host's, with the proxy's certificate the base image lacks), no
/// build.env value that run.env does not also set, no run secret value (from a secrets file
/// inside the source), no name of this machine or its users, no path of the build directory; in
/// any layer the build added, in the config, history or labels. Built and started as
/// `apprunner-build run` does, with the CA bundle, the package caches and `--user`.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn the_final_image_holds_no_ca_bundle_build_env_secret_host_name_or_build_path() {
    const BUILD_TOKEN: &str = "bt-4e1f0c9a7d5b";
    const SECRET: &str = "sk-live-93c1d7e2aa60";
    const CA: &str = "/etc/ssl/certs/ca-certificates.crt";
    let docker = docker().await;
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/python-hello");
    let app = write_app(&[
        (
            "apprunner.yaml",
            "version: 1.0\nruntime: python311\nbuild:\n  commands:\n    pre-build:\n      - test -s \"$SSL_CERT_FILE\" && test -n \"$BUILD_TOKEN\" && echo pre-build-saw-both\n    build:\n      - python3 -m compileall -q .\n    post-build:\n      - test -n \"$BUILD_TOKEN\" && echo post-build-saw-token\n  env:\n    - name: BUILD_TOKEN\n      value: \"bt-4e1f0c9a7d5b\"\n    - name: SHARED_SETTING\n      value: \"shared-2b7d\"\nrun:\n  pre-run:\n    - pip3 install -r requirements.txt\n    - test -n \"$BUILD_TOKEN\" && echo pre-run-saw-token\n  command: python3 server.py\n  env:\n    - name: SHARED_SETTING\n      value: \"shared-2b7d\"\n  secrets:\n    - name: API_KEY\n      value-from: arn:aws:secretsmanager:us-east-1:123456789012:secret:api-key\n",
        ),
        (
            "requirements.txt",
            &std::fs::read_to_string(example.join("requirements.txt")).unwrap(),
        ),
        (
            "server.py",
            &std::fs::read_to_string(example.join("server.py")).unwrap(),
        ),
        ("secrets.env", &format!("API_KEY={SECRET}\n")),
        // apprunner.yaml is the source's own file, and holds build.env's values as written: App
        // Runner ships it in /app like the rest of the repository, and so does a build here. A
        // project whose build.env must not ship leaves it out, as this one does; the tool must
        // then add the values nowhere.
        (".dockerignore", "apprunner.yaml\n"),
    ]);
    let tag = format!("apprunner-build-test/leaks:{}", std::process::id());
    let _image = ImageGuard::new(&tag);
    let mut child = cli()
        .arg("run")
        .arg(app.path())
        .args(["-t", &tag, "-p", "0", "--user", "app", "--ca-bundle", CA])
        .arg("--secrets-file")
        .arg(app.path().join("secrets.env"))
        .args(["--health-interval", "1"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = Vec::new();
    {
        use std::io::BufRead;
        let stdout = child.stdout.as_mut().unwrap();
        for line in std::io::BufReader::new(stdout).lines() {
            let line = line.unwrap();
            let done = line.contains("live at http://") || line.contains("Failed");
            lines.push(line);
            if done {
                break;
            }
        }
    }
    let (code, _) = interrupt(&mut child, "-INT");
    let shown = lines.join("\n");
    assert_eq!(code, i32::from(exit::INTERRUPTED), "{shown}");
    for said in [
        "pre-build-saw-both",
        "post-build-saw-token",
        "pre-run-saw-token",
    ] {
        assert!(shown.contains(said), "{said}: {shown}");
    }
    assert!(!shown.contains(SECRET), "{shown}");

    // What to look for.
    let host_bundle = std::fs::read_to_string(CA).unwrap();
    let plan = plan_as(app.path(), None);
    let base_bundle = output_of(&docker, &plan.runtime.image, &format!("cat {CA}")).await;
    let mut bundle_lines: Vec<&str> = host_bundle
        .lines()
        .filter(|l| l.len() >= 40 && !l.starts_with("-----") && !base_bundle.contains(*l))
        .collect();
    if bundle_lines.is_empty() {
        // The host's bundle is the base image's: any of its lines, in the build's layers.
        bundle_lines = host_bundle.lines().filter(|l| l.len() == 64).collect();
    }
    let mut needles: Vec<Needle> = bundle_lines
        .iter()
        .take(8)
        .map(|l| Needle {
            what: format!("the CA bundle's line {l}"),
            bytes: l.as_bytes().to_vec(),
            word: false,
            in_contents: true,
        })
        .collect();
    for (what, value) in [
        ("build.env BUILD_TOKEN", BUILD_TOKEN),
        ("the secret API_KEY", SECRET),
    ] {
        needles.push(Needle {
            what: what.into(),
            bytes: value.into(),
            word: false,
            in_contents: true,
        });
    }
    let dir = app.path().display().to_string();
    let real = app.path().canonicalize().unwrap().display().to_string();
    for path in [dir, real] {
        needles.push(Needle {
            what: format!("the build directory {path}"),
            bytes: path.into_bytes(),
            word: false,
            in_contents: true,
        });
    }
    let host = String::from_utf8(Command::new("hostname").output().unwrap().stdout).unwrap();
    let host = host.trim().to_string();
    assert!(!host.is_empty());
    needles.push(Needle {
        what: format!("the host name {host}"),
        in_contents: host.len() >= 4,
        bytes: host.into_bytes(),
        word: true,
    });
    // The machine's people: the user running the build unless root (every image has a root),
    // and every account of a person (UID 1000 and up, nobody aside).
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let mut users: Vec<String> = passwd
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            let uid: u32 = f.get(2)?.parse().ok()?;
            (uid >= 1000 && uid != 65534).then(|| f[0].to_string())
        })
        .collect();
    let me = String::from_utf8(Command::new("id").arg("-un").output().unwrap().stdout).unwrap();
    if me.trim() != "root" {
        users.push(me.trim().to_string());
    }
    for user in users {
        needles.push(Needle {
            what: format!("the user name {user}"),
            bytes: user.into_bytes(),
            word: true,
            in_contents: true,
        });
    }

    // Controls, which must be found: the search sees the config and the files of the build's
    // layers.
    let controls = [
        ("control: run.env's value", "shared-2b7d"),
        (
            "control: a line of server.py",
            "config.add_view(hello_world",
        ),
    ];
    for (what, value) in controls {
        needles.push(Needle {
            what: what.into(),
            bytes: value.into(),
            word: false,
            in_contents: true,
        });
    }

    // The image, exported and streamed to a file.
    let saved_dir = tempfile::tempdir().unwrap();
    let saved = saved_dir.path().join("image.tar");
    let mut file = std::fs::File::create(&saved).unwrap();
    let mut export = docker.export_image(&tag);
    while let Some(chunk) = export.next().await {
        std::io::Write::write_all(&mut file, &chunk.expect("exports")).unwrap();
    }
    drop(file);
    let base = docker.inspect_image(&plan.runtime.image).await.unwrap();
    let base_layers = base.root_fs.and_then(|r| r.layers).unwrap_or_default();
    let mut found = tokio::task::spawn_blocking({
        let saved = saved.clone();
        let needles: Vec<Needle> = needles
            .iter()
            .map(|n| Needle {
                what: n.what.clone(),
                bytes: n.bytes.clone(),
                word: n.word,
                in_contents: n.in_contents,
            })
            .collect();
        move || search_export(&saved, &base_layers, &needles)
    })
    .await
    .unwrap();

    // What the engine says of the image: config, env, labels, history.
    let inspect = docker.inspect_image(&tag).await.unwrap();
    let history = docker.image_history(&tag).await.unwrap();
    let said = format!(
        "{}\n{}",
        serde_json::to_string(&inspect).unwrap(),
        serde_json::to_string(&history).unwrap()
    );
    for n in &needles {
        if n.found_in(said.as_bytes()) {
            found.push(format!("{} in the image's inspect or history", n.what));
        }
    }
    let (seen, found): (Vec<String>, Vec<String>) =
        found.into_iter().partition(|f| f.starts_with("control: "));
    for (what, _) in controls {
        assert!(
            seen.iter().any(|f| f.starts_with(what)),
            "{what}: {seen:#?}"
        );
    }
    assert!(found.is_empty(), "{found:#?}");
}
