//! Package caches, dependency layers and the reuse of a stage: kept between builds, per project,
//! out of the image, and the same image tree as without them.

use crate::support::*;
use std::path::Path;

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn package_caches_persist_between_builds_and_stay_out_of_the_image() {
    let docker = docker().await;
    let _image = ImageGuard::new(image_name("cache"));
    let fixture = app_fixture("express-npm");
    let read = |f: &str| std::fs::read_to_string(fixture.join(f)).unwrap();
    let (package, lock) = (read("package.json"), read("package-lock.json"));
    let app = write_app(&[
        ("package.json", &package),
        ("package-lock.json", &lock),
        (
            "apprunner.yaml",
            "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    pre-build:\n      - test -d \"$npm_config_cache/_cacache\" && echo cache-was-there || echo cache-was-empty\n    build:\n      - npm ci\nrun:\n  command: npm start\n",
        ),
    ]);
    let first = build(&docker, app.path(), "cache").await;
    first.result.expect("builds");
    let second = build(&docker, app.path(), "cache").await;
    let image = second.result.expect("builds");
    // The first build of a fresh machine fills the cache; any later build finds it.
    assert!(
        log_has(&second.log, "[PreBuild] cache-was-there"),
        "{:#?}",
        second.log
    );
    let env = docker
        .inspect_image(&image.name.to_string())
        .await
        .unwrap()
        .config
        .unwrap()
        .env
        .unwrap();
    assert!(
        !env.iter().any(|e| e.contains("apprunner-build-cache")),
        "{env:?}"
    );
    let files = output_of(&docker, &image.name.to_string(), "ls /dev; ls -a /root").await;
    assert!(!files.contains("apprunner-build-cache"), "{files}");
}

/// Issue 9: the CA bundle's and the package cache's mount points reach no layer of the image,
/// not even as empty files or directories: in a revised build (without and with pre-run, which
/// runs in the committed stage) and in an original build (one container, committed).
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn mount_points_reach_no_layer_of_the_image() {
    let docker = docker().await;
    let check = "test -s \"$SSL_CERT_FILE\" && mkdir -p \"$npm_config_cache\" && test -w \"$npm_config_cache\" && echo mounts-there";
    for (i, yaml) in [
        format!("version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - {check}\nrun:\n  command: sleep 1000\n"),
        format!("version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - echo built\nrun:\n  pre-run:\n    - {check}\n  command: sleep 1000\n"),
        format!("version: 1.0\nruntime: nodejs12\nbuild:\n  commands:\n    build:\n      - {check}\n    post-build:\n      - {check}\nrun:\n  runtime-version: 12.22.12\n  command: sleep 1000\n"),
    ]
    .into_iter()
    .enumerate()
    {
        let app = write_app(&[("apprunner.yaml", &yaml), ("server.js", "")]);
        let b = build(&docker, app.path(), &format!("mount-points-{i}")).await;
        let built = b.result.expect("builds");
        assert!(log_has(&b.log, "] mounts-there"), "{yaml}: {:#?}", b.log);
        let paths = layer_paths(&docker, &built.name.to_string()).await;
        assert!(
            paths
                .iter()
                .any(|p| p.trim_start_matches("./").starts_with("app/server.js")),
            "the export was read: {} paths",
            paths.len()
        );
        let leaked: Vec<&String> = paths
            .iter()
            .filter(|p| p.contains("apprunner-build"))
            .collect();
        assert!(leaked.is_empty(), "{yaml}: {leaked:?}");
        remove_image(&docker, &built.name).await;
    }
}

/// Issue 9: one project's package cache is not another's: each source directory (and runtime)
/// builds with its own volume, and the same directory finds its own again.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn each_project_builds_with_its_own_package_cache_volume() {
    let docker = docker().await;
    let files = [(
        "apprunner.yaml",
        "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - mkdir -p \"$npm_config_cache\"; test -f \"$npm_config_cache/poison\" && echo POISONED || echo clean; touch \"$npm_config_cache/poison\"\nrun:\n  command: sleep 1000\n",
    )];
    let one = write_app(&files);
    let two = write_app(&files);
    let volume_of = |log: &[String]| {
        log.iter()
            .find_map(|l| {
                l.split("Package caches in volume ")
                    .nth(1)
                    .map(|r| r.split(' ').next().unwrap().to_string())
            })
            .unwrap_or_else(|| panic!("the volume is logged: {log:#?}"))
    };
    let first = build(&docker, one.path(), "cache-one").await;
    let first_image = first.result.expect("builds");
    let second = build(&docker, two.path(), "cache-two").await;
    let second_image = second.result.expect("builds");
    assert_ne!(volume_of(&first.log), volume_of(&second.log));
    assert!(log_has(&second.log, "[Build] clean"), "{:#?}", second.log);
    // A new file: the build commands run again (an unchanged stage would be reused).
    std::fs::write(one.path().join("edited.txt"), "x").unwrap();
    let again = build(&docker, one.path(), "cache-one").await;
    again.result.expect("builds");
    assert_eq!(volume_of(&first.log), volume_of(&again.log));
    assert!(
        log_has(&again.log, "[Build] POISONED"),
        "the same project finds its cache again"
    );
    for v in [volume_of(&first.log), volume_of(&second.log)] {
        let labels = docker.inspect_volume(&v).await.unwrap().labels;
        assert!(
            labels.contains_key("apprunner-build.cache-for"),
            "{labels:?}"
        );
        let _ = docker
            .remove_volume(&v, None::<bollard::query_parameters::RemoveVolumeOptions>)
            .await;
    }
    remove_image(&docker, &first_image.name).await;
    remove_image(&docker, &second_image.name).await;
}

/// `apprunner-build cache ls|prune`: a build's package-cache volume is listed with its project,
/// and pruned once the project directory is gone.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn cache_volumes_are_listed_and_pruned_when_their_project_is_gone() {
    // An engine answers (the CLI below needs it).
    docker().await;
    let app = write_app(&[(
        "apprunner.yaml",
        "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - echo ok\nrun:\n  command: node -e 1\n",
    )]);
    let tag = image_name("cache-ls").to_string();
    let _image = ImageGuard::new(&tag);
    // Built as `.` from inside the project; listed and pruned from elsewhere (`/`): the volume
    // is labelled with the project's canonical path, not with the `.` it was typed as.
    let built = cli()
        .current_dir(app.path())
        .args(["build", "-t", &tag, "."])
        .output()
        .unwrap();
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stdout)
    );
    let project = app.path().canonicalize().unwrap();
    let listed = |out: &std::process::Output| String::from_utf8_lossy(&out.stdout).to_string();
    let cli = || {
        let mut c = cli();
        c.current_dir("/");
        c
    };
    let ls = cli().args(["cache", "ls"]).output().unwrap();
    let line = listed(&ls)
        .lines()
        .find(|l| l.ends_with(&project.display().to_string()))
        .map(String::from)
        .unwrap_or_else(|| panic!("the volume is listed: {}", listed(&ls)));
    let volume = line.split_whitespace().next().unwrap().to_string();
    assert!(line.contains("nodejs22 22.21.1"), "{line}");

    let kept = cli().args(["cache", "prune"]).output().unwrap();
    assert!(
        !listed(&kept).contains(&volume),
        "the project exists: {}",
        listed(&kept)
    );
    drop(app);
    let pruned = cli().args(["cache", "prune"]).output().unwrap();
    assert!(pruned.status.success());
    assert!(
        listed(&pruned).contains(&format!("removed {volume}")),
        "{}",
        listed(&pruned)
    );
    let ls = cli().args(["cache", "ls"]).output().unwrap();
    assert!(!listed(&ls).contains(&volume), "{}", listed(&ls));
}

/// The guide's Python example, twice with a one-line edit of server.py between: the second build
/// takes pre-run's `pip3 install -r requirements.txt` from the dependency layer, and the image
/// answers with the edit.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn a_source_edit_takes_the_dependencies_from_the_layer() {
    let docker = docker().await;
    let _image = ImageGuard::new(image_name("layers-edit"));
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/python-hello");
    // A requirements file of this run's own, so that the first build installs.
    let requirements = format!("pyramid==2.0\n# run {}\n", std::process::id());
    let app = copy_app(&example, &[("requirements.txt", &requirements)]);
    let plan = plan_with(app.path(), true);
    assert!(
        plan.steps.iter().any(|s| matches!(s,
            apprunner_build::plan::Step::Install { stage, files, .. }
                if stage == "runtime" && files == &["requirements.txt"])),
        "{:#?}",
        plan.steps
    );
    let first = build_plan(&docker, &plan, "layers-edit").await;
    let _layers = layer_guards(&first.log);
    first.result.expect("builds");
    assert!(
        log_has(
            &first.log,
            "Installing dependencies over only requirements.txt"
        ),
        "{:#?}",
        first.log
    );
    let server = std::fs::read_to_string(app.path().join("server.py")).unwrap();
    std::fs::write(
        app.path().join("server.py"),
        server.replace("\"Hello, \"", "\"Hi, \""),
    )
    .unwrap();
    let second = build_plan(&docker, &plan_with(app.path(), true), "layers-edit").await;
    let built = second.result.expect("builds");
    assert!(
        log_has(
            &second.log,
            "Dependencies from cache (requirements.txt unchanged)"
        ),
        "{:#?}",
        second.log
    );
    assert!(
        !log_has(&second.log, "Executing 'pre-run' command"),
        "{:#?}",
        second.log
    );
    assert!(second.leftovers.is_empty(), "{:?}", second.leftovers);
    // The dependency layer is one of the image's layers: no mount point reached it either.
    let paths = layer_paths(&docker, &built.name.to_string()).await;
    let leaked: Vec<&String> = paths
        .iter()
        .filter(|p| p.contains("apprunner-build"))
        .collect();
    assert!(leaked.is_empty(), "{leaked:?}");
    assert_eq!(
        answer(&docker, &built.name.to_string(), &[], 8080).await,
        "Hi, world!\n"
    );
    // --no-cache: the layer is installed again (and replaced).
    let third = build_plan_with(&docker, &plan_with(app.path(), true), "layers-edit", false).await;
    let _more_layers = layer_guards(&third.log);
    third.result.expect("builds");
    assert!(
        log_has(
            &third.log,
            "Installing dependencies over only requirements.txt"
        ),
        "{:#?}",
        third.log
    );
}

/// With dependency layers (committed, or written from the container's changes) and written
/// layers, the same image file tree as with every command run over the whole source in
/// containers, as App Runner does: a detected Python app (a virtualenv in
/// /app), an npm app (node_modules in /app), and the npm app in an original build (the build
/// commands run again in the runtime stage).
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn dependency_layers_and_written_layers_build_the_same_image_tree() {
    let docker = docker().await;
    let original = [
        ("apprunner.yaml", "version: 1.0\nruntime: nodejs12\nbuild:\n  commands:\n    build:\n      - npm install\nrun:\n  command: node index.js\n"),
        ("package.json", "{\"name\": \"original\", \"version\": \"1.0.0\", \"dependencies\": {\"ms\": \"2.1.3\"}}\n"),
        ("index.js", "require('http').createServer((q, r) => r.end(require('ms')(60000))).listen(process.env.PORT);\n"),
    ];
    for (app, test) in [
        (
            copy_app(&app_fixture("py-requirements"), &[]),
            "tree-python",
        ),
        (copy_app(&app_fixture("express-npm"), &[]), "tree-node"),
        (write_app(&original), "tree-node-original"),
    ] {
        let layered = plan_with(app.path(), true);
        assert!(
            layered
                .steps
                .iter()
                .any(|s| matches!(s, apprunner_build::plan::Step::Install { stage, .. } if stage == "build")),
            "{test}: {:#?}",
            layered.steps
        );
        let _image = ImageGuard::new(image_name(test));
        let plain =
            build_plan_opts(&docker, &plan_with(app.path(), false), test, true, false).await;
        let plain = plain.result.expect("builds");
        let plain_tree = image_tree(&docker, &plain.id).await;
        let _plain_image = ImageGuard::new(&plain.id);
        // The first installs and keeps the layer (a commit), the second starts from it, the third
        // installs again and writes the layer from the container's changes (as with --cache-dir).
        let mut guards = Vec::new();
        for round in 0..3 {
            let mut options = test_options(test);
            options.layer_cache = round != 2;
            options.export_layers = round == 2;
            let b = build_plan_in(&docker, &layered, &options).await;
            guards.extend(layer_guards(&b.log));
            let built = b.result.expect("builds");
            assert!(log_has(&b.log, "as a layer in"), "{:#?}", b.log);
            if round == 1 {
                assert!(log_has(&b.log, "Dependencies from cache"), "{:#?}", b.log);
            }
            let tree = image_tree(&docker, &built.id).await;
            assert!(tree.lines().count() > 1000, "{tree}");
            if tree != plain_tree {
                let differ: Vec<_> = tree
                    .lines()
                    .filter(|l| !plain_tree.contains(l))
                    .chain(plain_tree.lines().filter(|l| !tree.contains(l)))
                    .take(40)
                    .collect();
                panic!(
                    "{test}, round {round}: the trees differ in\n{}",
                    differ.join("\n")
                );
            }
        }
    }
}

/// Issue 12: a fresh CI runner restores the cache directory into an engine that has none of the
/// cache images (nor the last image): a source edit still skips the install, and the image runs.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn a_restored_cache_directory_skips_the_install_on_an_engine_without_the_layer() {
    let docker = docker().await;
    let app = copy_app(&app_fixture("py-requirements"), &[]);
    let cache_dir = tempfile::tempdir().unwrap();
    let mut options = test_options("restored-cache");
    options.layer_dir = cache_dir.path().join("layers");
    options.export_layers = true;
    let _image = ImageGuard::new(image_name("restored-cache"));
    let plan = plan_with(app.path(), true);
    let first = build_plan_in(&docker, &plan, &options).await;
    let _first_layers = layer_guards(&first.log);
    first.result.expect("builds");
    assert!(
        log_has(&first.log, "Installing dependencies over only"),
        "{:#?}",
        first.log
    );
    // The engine forgets the cache images and the image: as on a new runner.
    for guard in layer_guards(&first.log) {
        drop(guard);
    }
    remove_image(&docker, &image_name("restored-cache")).await;
    let edited = app.path().join("app.py");
    let mut text = std::fs::read_to_string(&edited).unwrap();
    text.push_str("\n# edited\n");
    std::fs::write(&edited, text).unwrap();
    let second = build_plan_in(&docker, &plan_with(app.path(), true), &options).await;
    let _second_layers = layer_guards(&second.log);
    let built = second.result.expect("builds");
    assert!(
        log_has(&second.log, "Dependencies from the cache directory"),
        "{:#?}",
        second.log
    );
    assert!(
        !log_has(&second.log, "Installing dependencies"),
        "{:#?}",
        second.log
    );
    let body = answer(&docker, &built.id, &[], 8080).await;
    assert_eq!(body, "Hello from Flask, world!\n");
}

/// Issue 12, reuse per stage: a change to the pre-run commands reruns only them, one to
/// post-build only it; the image has what the last pre-run made.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn a_change_to_pre_run_or_post_build_reruns_only_those_commands() {
    let docker = docker().await;
    let yaml = |pre_run: &str, post_build: &str| {
        format!(
            "version: 1.0\nruntime: python311\nbuild:\n  commands:\n    build:\n      - echo built > built.txt\n    post-build:\n      - echo {post_build}\nrun:\n  pre-run:\n    - echo {pre_run} > prerun.txt\n  command: python3 -m http.server 8080\n"
        )
    };
    // apprunner.yaml is part of /app unless .dockerignore leaves it out: then a change to it is
    // no change to the build stage's input.
    let app = write_app(&[
        ("apprunner.yaml", &yaml("A", "A")),
        ("index.html", "hi\n"),
        (".dockerignore", "apprunner.yaml\n"),
    ]);
    let _image = ImageGuard::new(image_name("per-stage"));
    let mut guards = Vec::new();
    let build_with = |pre_run: &'static str, post_build: &'static str| {
        std::fs::write(app.path().join("apprunner.yaml"), yaml(pre_run, post_build)).unwrap();
        let plan = plan_for(app.path());
        let docker = docker.clone();
        async move { build_plan(&docker, &plan, "per-stage").await }
    };
    let first = build_with("A", "A").await;
    guards.extend(layer_guards(&first.log));
    first.result.expect("builds");
    let ran = |log: &[String], phase: &str| log_has(log, &format!("Executing '{phase}' command"));

    let second = build_with("B", "A").await;
    guards.extend(layer_guards(&second.log));
    let built = second.result.expect("builds");
    assert!(!ran(&second.log, "build"), "{:#?}", second.log);
    assert!(ran(&second.log, "pre-run"), "{:#?}", second.log);
    assert!(!ran(&second.log, "post-build"), "{:#?}", second.log);
    assert!(
        log_has(&second.log, "ran before over the same inputs"),
        "{:#?}",
        second.log
    );
    assert_eq!(
        output_of(&docker, &built.id, "cat /app/prerun.txt /app/built.txt").await,
        "B\nbuilt\n"
    );

    let third = build_with("B", "C").await;
    guards.extend(layer_guards(&third.log));
    let built = third.result.expect("builds");
    assert!(!ran(&third.log, "build"), "{:#?}", third.log);
    assert!(!ran(&third.log, "pre-run"), "{:#?}", third.log);
    assert!(ran(&third.log, "post-build"), "{:#?}", third.log);
    assert!(log_has(&third.log, "[PostBuild] C"), "{:#?}", third.log);
    assert_eq!(
        output_of(&docker, &built.id, "cat /app/prerun.txt /app/built.txt").await,
        "B\nbuilt\n"
    );
}
