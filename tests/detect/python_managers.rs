//! Python projects: the installer (pip, Pipenv, Poetry, uv) from their files, and what the image
//! gets (PYTHONUNBUFFERED, collectstatic).

use crate::support::*;

#[test]
fn python_requirements_txt_with_gunicorn() {
    insta::assert_snapshot!(plan_view("py-requirements"));
}

#[test]
fn python_pipfile() {
    let view = plan_view("py-pipfile");
    assert!(
        view.contains("build: pip3 install pipenv")
            && view.contains("build: PIPENV_VENV_IN_PROJECT=1 pipenv install --deploy"),
        "{view}"
    );
    assert!(
        view.contains(
            "start command: `python3 main.py` — from main.py (its `if __name__ == \"__main__\":` block)"
        ),
        "{view}"
    );
}

#[test]
fn python_poetry_fastapi() {
    insta::assert_snapshot!(plan_view("py-poetry"));
}

#[test]
fn python_uv_with_requires_python() {
    let view = plan_view("py-uv");
    assert!(
        view.contains("build: UV_PYTHON_DOWNLOADS=never uv sync --locked --no-dev"),
        "{view}"
    );
    assert!(
        view.contains("Runtime:       python314"),
        "requires-python >=3.12 is beyond App Runner's python311: {view}"
    );
    assert!(view.contains("not an App Runner runtime"), "{view}");
}

#[test]
fn python_procfile_and_runtime_txt() {
    let view = plan_view("py-procfile");
    assert!(
        view.contains("command: gunicorn --workers 2 --bind 0.0.0.0:$PORT project.wsgi"),
        "{view}"
    );
    assert!(
        view.contains("the web: line in Procfile (line 1)"),
        "{view}"
    );
    assert!(view.contains("Runtime:       python311 3.11.9"), "{view}");
    assert!(view.contains("3.11.9 (runtime.txt)"), "{view}");
}

#[test]
fn python_images_get_pythonunbuffered() {
    let view = plan_view("py-requirements");
    assert!(view.contains("env:     PYTHONUNBUFFERED=1"), "{view}");
}

#[test]
fn uv_runs_pinned_and_locked_with_the_images_python() {
    let view = plan_view("uv-flask");
    assert!(view.contains("build: pip3 install uv==0.13.9"), "{view}");
    assert!(
        view.contains("build: UV_PYTHON_DOWNLOADS=never uv sync --locked --no-dev"),
        "{view}"
    );
}

#[test]
fn django_collects_static_files_and_release_is_not_run() {
    let view = plan_view("py-django");
    assert!(
        view.contains("build: [ \"$DISABLE_COLLECTSTATIC\" = 1 ] || .venv/bin/python3 manage.py collectstatic --noinput"),
        "{view}"
    );
    assert!(view.contains("from mysite/settings.py"), "{view}");
    let view = plan_of(&[
        ("manage.py", b"import django\n"),
        ("mysite/wsgi.py", b"application = get_wsgi_application()\n"),
        ("mysite/settings.py", b"INSTALLED_APPS = []\n"),
        ("requirements.txt", b"django\ngunicorn\n"),
        (
            "Procfile",
            b"release: python3 manage.py migrate\nweb: gunicorn mysite.wsgi\n",
        ),
    ]);
    assert!(!view.contains("collectstatic"), "no STATIC_ROOT: {view}");
    assert!(
        view.contains(
            "warning[AR312]: the Procfile's release: line is not run: `python3 manage.py migrate`"
        ) && view.contains("--> Procfile:1:1"),
        "{view}"
    );
}
