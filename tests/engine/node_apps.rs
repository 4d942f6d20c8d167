//! Node.js apps on a real engine: the port variables, and detected npm, pnpm and yarn apps (with a
//! uv app built from its lockfile too) installed from their lockfiles, pruned and asked over HTTP.

use crate::support::*;

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn nodejs18_answers_on_the_configured_port_with_the_port_variable() {
    let docker = docker().await;
    let app = write_app(&[
        (
            "apprunner.yaml",
            "version: 1.0\nruntime: nodejs18\nbuild:\n  commands:\n    build:\n      - npm install\nrun:\n  command: node server.js\n  network:\n    port: 8000\n    env: APP_PORT\n",
        ),
        ("package.json", r#"{"name":"hello18","version":"1.0.0","private":true}"#),
        (
            "server.js",
            "require('http').createServer((q, s) => s.end(`node ${process.version} PORT=${process.env.PORT} APP_PORT=${process.env.APP_PORT}\\n`)).listen(process.env.PORT);\n",
        ),
    ]);
    let _image = ImageGuard::new(image_name("node18"));
    let built = build(&docker, app.path(), "node18")
        .await
        .result
        .expect("builds");
    assert_eq!(
        answer(&docker, &built.name.to_string(), &[], 8000).await,
        "node v18.20.8 PORT=8000 APP_PORT=8000\n"
    );
    let inspect = docker
        .inspect_image(&built.name.to_string())
        .await
        .unwrap()
        .config
        .unwrap();
    assert_eq!(inspect.exposed_ports.unwrap(), vec!["8000/tcp".to_string()]);
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn a_package_json_only_express_app_installed_with_npm_ci_answers() {
    let docker = docker().await;
    let _image = ImageGuard::new(image_name("express"));
    let b = build_copy(&docker, &app_fixture("express-npm"), "express").await;
    let built = b.result.expect("builds");
    assert!(
        log_has(&b.log, "Executing 'build' command: npm ci"),
        "{:#?}",
        b.log
    );
    assert!(
        log_has(&b.log, "[Build] added "),
        "npm ci installed from the registry: {:#?}",
        b.log
    );
    assert_eq!(
        answer(&docker, &built.name.to_string(), &[], 8080).await,
        "Hello from Express on Node.js v22.21.1\n"
    );
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn a_pnpm_app_gets_pnpm_from_corepack_and_answers() {
    let docker = docker().await;
    let _image = ImageGuard::new(image_name("pnpm"));
    let b = build_copy(&docker, &app_fixture("pnpm-ms"), "pnpm").await;
    let built = b.result.expect("builds");
    assert!(
        log_has(
            &b.log,
            "Executing 'build' command: pnpm install --frozen-lockfile"
        ),
        "{:#?}",
        b.log
    );
    assert_eq!(
        answer(&docker, &built.name.to_string(), &[], 8080).await,
        "pnpm 1m\n"
    );
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn a_yarn_app_and_a_uv_app_from_their_lockfiles_answer() {
    let docker = docker().await;
    for (fixture, expected) in [("yarn-ms", "yarn 2m\n"), ("uv-flask", "Hello from uv\n")] {
        let _image = ImageGuard::new(image_name(fixture));
        let b = build_copy(&docker, &app_fixture(fixture), fixture).await;
        let built = b
            .result
            .unwrap_or_else(|e| panic!("{fixture}: {e}\n{:#?}", b.log));
        assert_eq!(
            answer(&docker, &built.name.to_string(), &[], 8080).await,
            expected,
            "{fixture}"
        );
    }
}

/// Issue 11: package-lock.json beside yarn.lock: yarn installs (yarn.lock comes first), the
/// image answers, and NODE_ENV=production is in its environment.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn two_lockfiles_install_with_the_one_that_comes_first() {
    let docker = docker().await;
    let _image = ImageGuard::new(image_name("two-lockfiles"));
    let b = build_copy(&docker, &app_fixture("two-lockfiles-yarn"), "two-lockfiles").await;
    let built = b.result.unwrap_or_else(|e| panic!("{e}\n{:#?}", b.log));
    assert!(
        log_has(
            &b.log,
            "Executing 'build' command: yarn install --frozen-lockfile"
        ),
        "{:#?}",
        b.log
    );
    assert!(!log_has(&b.log, "npm ci"), "{:#?}", b.log);
    let image = built.name.to_string();
    assert_eq!(answer(&docker, &image, &[], 8080).await, "yarn 2m\n");
    let env = docker
        .inspect_image(&image)
        .await
        .unwrap()
        .config
        .unwrap()
        .env
        .unwrap();
    assert!(env.iter().any(|e| e == "NODE_ENV=production"), "{env:?}");
}

/// Issue 11: without `packageManager`, pnpm's major follows pnpm-lock.yaml's `lockfileVersion`
/// ('9.0': pnpm 9), installed with npm since corepack would pick its own default.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn pnpm_follows_the_lockfile_version_without_package_manager() {
    let docker = docker().await;
    let _image = ImageGuard::new(image_name("pnpm-lockfile"));
    let b = build_copy(&docker, &app_fixture("pnpm-lockfile-only"), "pnpm-lockfile").await;
    let built = b.result.unwrap_or_else(|e| panic!("{e}\n{:#?}", b.log));
    assert!(
        log_has(
            &b.log,
            "Executing 'pre-build' command: npm install -g pnpm@9"
        ),
        "{:#?}",
        b.log
    );
    assert_eq!(
        answer(&docker, &built.name.to_string(), &[], 8080).await,
        "pnpm 1m\n"
    );
}

/// Issue 11: a Node.js app's devDependencies are installed for the build and pruned after it, and
/// the app runs with NODE_ENV=production.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn node_dev_dependencies_are_pruned_and_node_env_is_production() {
    let docker = docker().await;
    let _image = ImageGuard::new(image_name("devdeps"));
    let b = build_copy(&docker, &app_fixture("npm-devdeps"), "devdeps").await;
    let built = b.result.unwrap_or_else(|e| panic!("{e}\n{:#?}", b.log));
    assert!(
        log_has(&b.log, "Executing 'build' command: npm prune --omit=dev"),
        "{:#?}",
        b.log
    );
    assert_eq!(
        answer(&docker, &built.name.to_string(), &[], 8080).await,
        "pruned production\n"
    );
}
