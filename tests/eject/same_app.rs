//! The ejected Dockerfile, built by Docker's classic builder, against our build of the same plan:
//! the same `/app` (paths, types, modes, owners, sizes, contents) and the same answer over HTTP.
//!
//! Both builds get `SOURCE_DATE_EPOCH` in build.env (a build argument in the Dockerfile), as a
//! user wanting comparable builds would set it: without it, the `.pyc` files pip and Python write
//! embed the time they were compiled, and pip's `RECORD` files list their hashes, so two
//! installs differ file by file whatever builds them (/work/shared/notes/reproducible.md). No other
//! normalisation is applied: file times are not compared (Docker's `COPY` and our copy keep the
//! source files' own; what commands write gets the time they ran).

use super::classic;
use super::support::*;
use apprunner_build::input::config::EnvVar;
use apprunner_build::plan::eject::{self, EjectOptions};
use apprunner_build::plan::{BuildPlan, Step};
use std::path::Path;

const CA: &str = "/etc/ssl/certs/ca-certificates.crt";

/// build.env for every command of the plan, as `build.env` (or `--build-env`) gives it.
fn with_build_env(plan: &mut BuildPlan, name: &str, value: &str) {
    fn add(step: &mut Step, var: &EnvVar) {
        match step {
            Step::Run { env, .. } => env.push(var.clone()),
            Step::Install { runs, .. } => runs.iter_mut().for_each(|r| add(r, var)),
            _ => {}
        }
    }
    let var = EnvVar {
        name: name.into(),
        value: value.into(),
    };
    plan.steps.iter_mut().for_each(|s| add(s, &var));
}

/// Build `dir` both ways; their /app trees and answers must be the same.
async fn same_app(dir: &Path, test: &str, answer_has: &str) {
    let docker = docker().await;
    let mut plan = plan_with(dir, true);
    with_build_env(&mut plan, "SOURCE_DATE_EPOCH", "1700000000");

    let ours = build_plan_in(&docker, &plan, &test_options(test)).await;
    let _layers = layer_guards(&ours.log);
    let _ours_image = ImageGuard::new(image_name(test));
    let ours = ours.result.expect("our build of the plan succeeds");

    // The eject, as `plan --dockerfile --ca-bundle FILE` writes it into the source directory
    // (after our build, which therefore did not copy these files).
    let options = EjectOptions { ca_bundle: true };
    let dockerfile = eject::dockerfile(&plan, &options).unwrap();
    std::fs::write(dir.join(eject::DOCKERFILE), &dockerfile).unwrap();
    std::fs::write(
        dir.join(eject::DOCKERIGNORE),
        eject::dockerignore(&plan, &[], &options),
    )
    .unwrap();
    std::fs::copy(CA, dir.join(eject::CA_FILE)).unwrap();
    let tag = format!("apprunner-build-test/eject-{test}:{}", std::process::id());
    let theirs = classic::build(&docker, dir, &tag).await;

    let ours_tree = classic::app_tree(&docker, &ours.name.to_string()).await;
    let theirs_tree = classic::app_tree(&docker, &theirs.tag).await;
    let only = |a: &str, b: &str| -> Vec<String> {
        a.lines()
            .filter(|l| !b.lines().any(|m| m == *l))
            .map(String::from)
            .take(20)
            .collect()
    };
    assert!(
        ours_tree == theirs_tree,
        "/app differs.\nonly in ours: {:#?}\nonly in the Dockerfile's: {:#?}\nthe Dockerfile:\n{dockerfile}",
        only(&ours_tree, &theirs_tree),
        only(&theirs_tree, &ours_tree)
    );
    // The first listing's lines start with the entry's type, one letter.
    let entries = ours_tree
        .lines()
        .filter(|l| l.split(' ').next().is_some_and(|t| t.len() == 1))
        .count();
    eprintln!("{test}: the same /app, {entries} entries");

    let port = plan.image.port;
    let ours_answer = answer(&docker, &ours.name.to_string(), &[], port).await;
    let theirs_answer = answer(&docker, &theirs.tag, &[], port).await;
    assert!(ours_answer.contains(answer_has), "{ours_answer}");
    assert_eq!(ours_answer, theirs_answer);

    // The image's configuration: the same command, directory, port and environment.
    let config = |image: String| {
        let docker = docker.clone();
        async move {
            let c = docker.inspect_image(&image).await.unwrap().config.unwrap();
            let mut ports: Vec<String> = c.exposed_ports.unwrap_or_default().into_iter().collect();
            ports.sort();
            (
                c.cmd,
                c.entrypoint.filter(|e| !e.is_empty()),
                c.working_dir,
                c.env,
                ports,
                c.user,
            )
        }
    };
    assert_eq!(
        config(ours.name.to_string()).await,
        config(theirs.tag.clone()).await
    );
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn the_guides_example_ejected_builds_the_same_app() {
    let dir = copy_tree(example());
    same_app(dir.path(), "eject-python-hello", "Hello, world!").await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn the_express_fixture_ejected_builds_the_same_app() {
    let dir = copy_tree(&app_fixture("express-npm"));
    same_app(dir.path(), "eject-express", "Hello from Express").await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn a_django_app_ejected_builds_the_same_app() {
    // The fixture, with a view to answer and a static file for collectstatic to collect.
    let dir = copy_tree(&app_fixture("py-django"));
    let root = dir.path();
    std::fs::write(
        root.join("mysite/urls.py"),
        "from django.http import HttpResponse\nfrom django.urls import path\n\n\ndef hello(request):\n    return HttpResponse(\"Hello from Django\\n\")\n\n\nurlpatterns = [path(\"\", hello)]\n",
    )
    .unwrap();
    let settings = std::fs::read_to_string(root.join("mysite/settings.py")).unwrap();
    std::fs::write(
        root.join("mysite/settings.py"),
        settings + "STATICFILES_DIRS = [BASE_DIR / \"assets\"]\n",
    )
    .unwrap();
    std::fs::create_dir(root.join("assets")).unwrap();
    std::fs::write(root.join("assets/site.css"), "body { color: teal; }\n").unwrap();
    same_app(root, "eject-django", "Hello from Django").await;
}
