//! On each engine, each app built twice from scratch (`--no-cache`, two tags): both images answer
//! over HTTP, and they hold the same `/app` tree (paths, types, modes, owners, sizes, link targets,
//! contents) and the same config.

use crate::engine::*;
use crate::support::*;

#[derive(Clone, Copy)]
enum App {
    /// examples/python-hello, the App Runner guide's example.
    GuidesExample,
    /// tests/fixtures/apps/express-npm.
    Express,
    /// tests/fixtures/apps/py-django-static: Django with manifest static files.
    Django,
}

impl App {
    fn name(self) -> &'static str {
        match self {
            App::GuidesExample => "python-hello",
            App::Express => "express",
            App::Django => "django",
        }
    }

    fn source(self) -> std::path::PathBuf {
        match self {
            App::GuidesExample => example().to_path_buf(),
            App::Express => app_fixture("express-npm"),
            App::Django => app_fixture("py-django-static"),
        }
    }

    /// What the app answers on GET /, checked.
    fn check_answer(self, page: &str) {
        match self {
            App::GuidesExample => assert_eq!(page, "Hello, world!\n"),
            App::Express => assert!(
                page.starts_with("Hello from Express on Node.js v22."),
                "{page}"
            ),
            // The page links site.css by its hashed name (collectstatic ran with manifest storage).
            App::Django => {
                let hashed = page
                    .split("/static/site.")
                    .nth(1)
                    .and_then(|rest| rest.split(".css").next())
                    .unwrap_or("");
                assert!(
                    hashed.len() == 12 && hashed.chars().all(|c| c.is_ascii_hexdigit()),
                    "a hashed site.css: {page}"
                );
            }
        }
    }
}

/// The image's whole config as JSON (Env, Cmd, Entrypoint, WorkingDir, ExposedPorts, Labels, User,
/// Hostname, …), with its OS and architecture. Nothing is left out: on every engine, two builds of
/// the same source agree in all of it.
async fn config(engine: &Engine, image: &str) -> serde_json::Value {
    let inspect = engine.docker.inspect_image(image).await.unwrap();
    serde_json::json!({
        "Config": inspect.config,
        "Os": inspect.os,
        "Architecture": inspect.architecture,
    })
}

async fn built_twice_alike(which: Which, app: App) {
    let Some(engine) = engine(which).await else {
        return;
    };
    let _shared = match which {
        Which::Classic => Some(CLASSIC.read().await),
        _ => None,
    };
    // A copy of the source: builds keep state per project directory.
    let copy = copy_tree(&app.source());
    let mut images = Images::new(&engine);
    let mut trees = Vec::new();
    let mut configs = Vec::new();
    for n in 1..=2 {
        let tag = images.name(format!(
            "apprunner-build-test/engines-{}-{}:{}-{n}",
            which.label(),
            app.name(),
            std::process::id()
        ));
        let out = build_on(&engine, copy.path(), &tag).await;
        assert!(
            out.status.success(),
            "{} build {n} of {}:\n{}",
            which.label(),
            app.name(),
            text(&out)
        );
        let page = answer(&engine.docker, &tag, &[], 8080).await;
        app.check_answer(&page);
        trees.push(app_tree(&engine.docker, &tag).await);
        configs.push(config(&engine, &tag).await);
    }
    assert!(
        trees[0].lines().count() > 2,
        "{}: /app is listed: {}",
        app.name(),
        trees[0]
    );
    assert!(
        trees[0] == trees[1],
        "{} on {}: the two builds' /app differ:\n{}",
        app.name(),
        which.label(),
        difference(&trees[0], &trees[1])
    );
    assert_eq!(
        configs[0],
        configs[1],
        "{} on {}: the two builds' configs differ",
        app.name(),
        which.label()
    );
}

macro_rules! on_each_engine {
    ($($app:ident: $variant:expr;)*) => {$(
        mod $app {
            use super::*;

            #[tokio::test(flavor = "multi_thread")]
            #[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
            async fn on_docker20() {
                built_twice_alike(Which::Docker20, $variant).await;
            }

            #[tokio::test(flavor = "multi_thread")]
            #[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
            async fn on_docker26_classic() {
                built_twice_alike(Which::Classic, $variant).await;
            }

            #[tokio::test(flavor = "multi_thread")]
            #[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
            async fn on_docker26_containerd() {
                built_twice_alike(Which::Containerd, $variant).await;
            }
        }
    )*};
}

on_each_engine! {
    the_guides_example: App::GuidesExample;
    express: App::Express;
    django: App::Django;
}
