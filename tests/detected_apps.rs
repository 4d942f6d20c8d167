//! Projects without apprunner.yaml, built on a real Docker engine and asked over HTTP: what
//! detection derives must serve the app, not only plan. Run with scripts/test.sh.

mod support;

use apprunner_build::input::config::{ApiSettings, EnvVar};
use apprunner_build::input::InputArgs;
use apprunner_build::project::{self, ProjectArgs};
use apprunner_build::resolve::catalog::Catalog;
use support::*;

/// A plain HTTP server that says `what` and whether `ms` (a devDependency) is still installed.
const SERVER: &str = r#"let ms = "pruned";
try {
  require.resolve("ms");
  ms = "kept";
} catch (e) {}
require("http")
  .createServer((q, s) => s.end(`WHAT ${ms} ${process.env.NODE_ENV}\n`))
  .listen(process.env.PORT);
"#;

fn server(what: &str) -> String {
    SERVER.replace("WHAT", what)
}

/// Issue 16: a TypeScript Express app that loads dotenv at run time, listed only in
/// devDependencies. Pruning would remove it and the app would crash at start; it is kept, with a
/// warning, and the app answers.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn a_typescript_app_that_loads_a_dev_dependency_at_run_time_answers() {
    let app = write_app(&[
        (
            "package.json",
            r#"{ "name": "ts-express", "version": "1.0.0", "private": true,
  "scripts": { "build": "tsc", "start": "node dist/index.js" },
  "dependencies": { "express": "4.21.2" },
  "devDependencies": { "dotenv": "16.4.5", "typescript": "5.6.3", "@types/express": "4.17.21", "@types/node": "22.9.0" } }
"#,
        ),
        (
            "tsconfig.json",
            "{\n  // compiled into dist/\n  \"compilerOptions\": { \"target\": \"ES2020\", \"module\": \"commonjs\", \"outDir\": \"dist\", \"rootDir\": \"src\", \"esModuleInterop\": true, \"strict\": true, },\n}\n",
        ),
        (
            "src/index.ts",
            "import express from \"express\";\nimport type { Request, Response } from \"express\";\nimport { port } from \"./config/env\";\n\nconst app = express();\napp.get(\"/\", (_req: Request, res: Response) => { res.send(\"Hello from TypeScript\\n\"); });\napp.listen(port);\n",
        ),
        (
            "src/config/env.ts",
            "// Settings from the environment (and .env on a laptop).\nrequire(\"dotenv\").config();\nexport const port = Number(process.env.PORT || 8080);\n",
        ),
    ]);
    let loaded = load(app.path());
    let found = report(&loaded);
    assert!(
        found.contains("warning[AR317]: src/config/env.ts line 2 loads dotenv"),
        "{found}"
    );
    let docker = docker().await;
    let _image = ImageGuard::new(image_name("ts-dotenv"));
    let b = build(&docker, app.path(), "ts-dotenv").await;
    let built = b.result.unwrap_or_else(|e| panic!("{e}\n{:#?}", b.log));
    assert!(!log_has(&b.log, "npm prune"), "{:#?}", b.log);
    assert_eq!(
        answer(&docker, &built.name.to_string(), &[], 8080).await,
        "Hello from TypeScript\n"
    );
}

/// Issue 16: npm 6 (nodejs12, the original build) prunes with `--production`; `--omit=dev` would
/// keep every devDependency there.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn npm_6_prunes_dev_dependencies_in_its_own_spelling() {
    let app = write_app(&[
        (
            "package.json",
            r#"{ "name": "node12-devdeps", "version": "1.0.0", "private": true, "engines": { "node": "12.x" }, "scripts": { "start": "node server.js" }, "devDependencies": { "ms": "2.1.3" } }"#,
        ),
        ("server.js", &server("node12")),
    ]);
    let docker = docker().await;
    let _image = ImageGuard::new(image_name("node12-prune"));
    let b = build(&docker, app.path(), "node12-prune").await;
    let built = b.result.unwrap_or_else(|e| panic!("{e}\n{:#?}", b.log));
    assert!(
        log_has(&b.log, "Executing 'build' command: npm prune --production"),
        "{:#?}",
        b.log
    );
    assert_eq!(
        answer(&docker, &built.name.to_string(), &[], 8080).await,
        "node12 pruned production\n"
    );
}

/// Issue 16: without scripts.start, `scripts["start:prod"]` starts the app (NestJS's convention),
/// and without either, package.json's `main`.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn node_apps_start_from_start_prod_or_main() {
    let docker = docker().await;
    for (name, package, file) in [
        (
            "start-prod",
            r#"{ "name": "start-prod", "version": "1.0.0", "private": true, "scripts": { "start:prod": "node dist/main.js" }, "devDependencies": { "ms": "2.1.3" } }"#,
            "dist/main.js",
        ),
        (
            "main-file",
            r#"{ "name": "main-file", "version": "1.0.0", "private": true, "main": "lib/app.js" }"#,
            "lib/app.js",
        ),
    ] {
        let app = write_app(&[("package.json", package), (file, &server(name))]);
        let _image = ImageGuard::new(image_name(name));
        let b = build(&docker, app.path(), name).await;
        let built = b.result.unwrap_or_else(|e| panic!("{e}\n{:#?}", b.log));
        // start-prod's devDependency is pruned; main-file has none to install.
        assert_eq!(
            answer(&docker, &built.name.to_string(), &[], 8080).await,
            format!("{name} pruned production\n")
        );
    }
}

/// Issue 16: `--build-env DISABLE_COLLECTSTATIC=1` reaches the build commands of a detected Django
/// project (collectstatic is skipped) and not the image.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn build_env_flag_skips_collectstatic_and_stays_out_of_the_image() {
    let app = copy_tree(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/apps/py-django-static"),
    );
    let catalog = Catalog::load(&[test_catalog()]).unwrap();
    let loaded = project::load(
        &ProjectArgs {
            dir: app.path().to_path_buf(),
            input: InputArgs {
                source: None,
                settings: ApiSettings {
                    build_env: vec![EnvVar {
                        name: "DISABLE_COLLECTSTATIC".into(),
                        value: "1".into(),
                    }],
                    ..Default::default()
                },
            },
            ..Default::default()
        },
        &catalog,
        today(),
    );
    let found = report(&loaded);
    let plan = loaded.plan.unwrap_or_else(|| panic!("{found}"));
    let docker = docker().await;
    let _image = ImageGuard::new(image_name("collectstatic-off"));
    let b = build_plan(&docker, &plan, "collectstatic-off").await;
    let built = b.result.unwrap_or_else(|e| panic!("{e}\n{:#?}", b.log));
    let image = built.name.to_string();
    let listing = output_of(&docker, &image, "ls /app; env").await;
    assert!(
        !listing.contains("staticfiles"),
        "collectstatic ran: {listing}"
    );
    assert!(!listing.contains("DISABLE_COLLECTSTATIC"), "{listing}");
}

/// Issue 16: Python entry points beyond main.py/app.py: Elastic Beanstalk's `application.py`, and
/// a Flask app factory in `app/__init__.py`, each served by gunicorn and answering.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn python_apps_start_from_application_py_or_an_app_factory() {
    let docker = docker().await;
    let requirements = "flask==3.1.0\ngunicorn==23.0.0\n";
    for (name, file, text, start, says) in [
        (
            "application-py",
            "application.py",
            "from flask import Flask\n\napplication = Flask(__name__)\n\n\n@application.route(\"/\")\ndef index():\n    return \"Hello from application.py\\n\"\n",
            "gunicorn --bind 0.0.0.0:$PORT application:application",
            "Hello from application.py\n",
        ),
        (
            "flask-factory",
            "app/__init__.py",
            "from flask import Flask\n\n\ndef create_app(config=None):\n    app = Flask(__name__)\n\n    @app.route(\"/\")\n    def index():\n        return \"Hello from create_app\\n\"\n\n    return app\n",
            "gunicorn --bind 0.0.0.0:$PORT 'app:create_app()'",
            "Hello from create_app\n",
        ),
    ] {
        let app = write_app(&[
            ("requirements.txt", requirements),
            (".python-version", "3.11\n"),
            (file, text),
        ]);
        let plan = plan_for(app.path());
        assert_eq!(plan.image.cmd.last().map(String::as_str), Some(start), "{name}");
        let _image = ImageGuard::new(image_name(name));
        let b = build_plan(&docker, &plan, name).await;
        let built = b.result.unwrap_or_else(|e| panic!("{name}: {e}\n{:#?}", b.log));
        assert_eq!(answer(&docker, &built.id, &[], 8080).await, says, "{name}");
    }
}
