//! Python apps on a real engine: the guide's example and detected Flask, FastAPI and Django apps,
//! built and asked over HTTP.

use crate::support::*;

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn the_guides_python_example_answers_hello() {
    let docker = docker().await;
    let _image = ImageGuard::new(image_name("python-hello"));
    // As `--no-cache` builds: every command runs, whatever earlier runs kept.
    let b = build_plan_with(&docker, &plan_for(example()), "python-hello", false).await;
    let built = b.result.expect("the example builds");
    let image = built.name.to_string();
    let app = start(&docker, &image, &[], None).await;
    assert_eq!(http_get(&app, 8080).await, "Hello, world!\n");
    stop(&docker, &app).await;
    let app = start(&docker, &image, &["NAME=Ada"], None).await;
    assert_eq!(http_get(&app, 8080).await, "Hello, Ada!\n");
    stop(&docker, &app).await;

    // The CA bundle served the build and is nowhere in the image: not the file, not the variables.
    let inspect = docker.inspect_image(&image).await.unwrap();
    let env = inspect.config.unwrap().env.unwrap();
    assert!(
        !env.iter()
            .any(|e| e.contains("apprunner-build-ca") || e.starts_with("PIP_CERT")),
        "{env:?}"
    );
    let files = output_of(
        &docker,
        &image,
        "ls -la /dev; find / -xdev -name '*apprunner-build-ca*' 2>/dev/null; echo done",
    )
    .await;
    assert!(!files.contains("apprunner-build-ca"), "{files}");
    assert!(log_has(
        &b.log,
        "[AppRunner] Starting to build your application source code."
    ));
    assert!(
        log_has(&b.log, "[PreRun] Successfully installed"),
        "pip's output is logged under [PreRun]: {:#?}",
        b.log
    );
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn a_requirements_txt_only_flask_app_answers() {
    let docker = docker().await;
    let _image = ImageGuard::new(image_name("flask"));
    let b = build_copy(&docker, &app_fixture("py-requirements"), "flask").await;
    let built = b.result.expect("builds");
    let image = built.name.to_string();
    assert_eq!(
        answer(&docker, &image, &["NAME=Ada"], 8080).await,
        "Hello from Flask, Ada!\n"
    );
    let env = docker
        .inspect_image(&image)
        .await
        .unwrap()
        .config
        .unwrap()
        .env
        .unwrap();
    assert!(
        env.iter().any(|e| e.starts_with("PATH=/app/.venv/bin:")),
        "{env:?}"
    );
}

/// Issue 11: a FastAPI app in an `app/` package with `fastapi[standard]` starts with
/// `fastapi run`, and one with hypercorn with hypercorn; both bound to 0.0.0.0:$PORT, with
/// PYTHONUNBUFFERED in the image.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn fastapi_apps_start_with_the_server_they_install() {
    let docker = docker().await;
    for (fixture, expected) in [
        ("py-fastapi-standard", "{\"hello\":\"fastapi run\"}"),
        ("py-hypercorn", "{\"hello\":\"hypercorn\"}"),
    ] {
        let _image = ImageGuard::new(image_name(fixture));
        let b = build_copy(&docker, &app_fixture(fixture), fixture).await;
        let built = b
            .result
            .unwrap_or_else(|e| panic!("{fixture}: {e}\n{:#?}", b.log));
        let image = built.name.to_string();
        assert_eq!(
            answer(&docker, &image, &[], 8080).await,
            expected,
            "{fixture}"
        );
        let config = docker.inspect_image(&image).await.unwrap().config.unwrap();
        let cmd = config.cmd.unwrap().join(" ");
        let server = if fixture == "py-hypercorn" {
            "hypercorn main:app --bind 0.0.0.0:$PORT"
        } else {
            "fastapi run app/main.py --port $PORT"
        };
        assert!(cmd.ends_with(server), "{fixture}: {cmd}");
        let env = config.env.unwrap();
        assert!(env.iter().any(|e| e == "PYTHONUNBUFFERED=1"), "{env:?}");
    }
}

/// Issue 11: a Django project with `django.contrib.staticfiles`, a STATIC_ROOT and manifest
/// storage gets `collectstatic` after the install, so `{% static %}` finds the manifest and the
/// page answers with the hashed file name (without it, the template fails with a 500).
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs a Docker engine and the fixture images: run scripts/test.sh"]
async fn a_django_app_with_manifest_static_files_answers() {
    let docker = docker().await;
    let _image = ImageGuard::new(image_name("django-static"));
    let b = build_copy(&docker, &app_fixture("py-django-static"), "django-static").await;
    let built = b.result.unwrap_or_else(|e| panic!("{e}\n{:#?}", b.log));
    assert!(
        log_has(&b.log, "manage.py collectstatic --noinput"),
        "{:#?}",
        b.log
    );
    let page = answer(&docker, &built.name.to_string(), &[], 8080).await;
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
