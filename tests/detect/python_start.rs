//! Python projects: the entry point and the server that starts it (FastAPI, Flask and its
//! factories, Django, WSGI/ASGI files, scripts with a main block, Streamlit), and the errors when
//! there is none.

use crate::support::*;

#[test]
fn python_fastapi_and_django_entry_points() {
    assert!(
        plan_view("py-fastapi").contains("command: uvicorn main:app --host 0.0.0.0 --port $PORT")
    );
    assert!(plan_view("py-django")
        .contains("command: gunicorn --bind 0.0.0.0:$PORT mysite.wsgi:application"));
}

#[test]
fn python_without_an_entry_point() {
    insta::assert_snapshot!(rejected("py-no-entry"));
}

#[test]
fn fastapi_standard_in_an_app_package_runs_with_fastapi_run() {
    let view = plan_view("py-fastapi-standard");
    assert!(
        view.contains("command: fastapi run app/main.py --port $PORT"),
        "{view}"
    );
    assert!(
        view.contains("from app/main.py (an ASGI app `app` (FastAPI), and fastapi[standard] (FastAPI's CLI) in requirements.txt)"),
        "{view}"
    );
}

#[test]
fn each_installed_server_serves_the_app_on_port() {
    let cases: &[(&str, &[u8], &str)] = &[
        ("main.py", FASTAPI, "hypercorn"),
        ("main.py", FASTAPI, "granian"),
        ("app.py", FLASK, "waitress"),
        ("app.py", FLASK, "granian"),
        ("app.py", FLASK, "gunicorn"),
    ];
    let expected = [
        "hypercorn main:app --bind 0.0.0.0:$PORT",
        "granian --interface asgi --host 0.0.0.0 --port $PORT main:app",
        "waitress-serve --listen=0.0.0.0:$PORT app:app",
        "granian --interface wsgi --host 0.0.0.0 --port $PORT app:app",
        "gunicorn --bind 0.0.0.0:$PORT app:app",
    ];
    for ((file, text, server), command) in cases.iter().zip(expected) {
        let requirements = format!("fastapi\nflask\n{server}==1.0\n");
        let view = plan_of(&[(file, text), ("requirements.txt", requirements.as_bytes())]);
        assert!(
            view.contains(&format!("command: {command}")),
            "{server}: {view}"
        );
    }
    let view = plan_view("py-hypercorn");
    assert!(
        view.contains("command: hypercorn main:app --bind 0.0.0.0:$PORT"),
        "{view}"
    );
}

#[test]
fn apps_in_src_and_other_names_are_found() {
    let view = plan_of(&[
        ("src/__init__.py", b""),
        (
            "src/server.py",
            b"import quart\n\nservice: quart.Quart = quart.Quart(__name__)\n",
        ),
        (
            "pyproject.toml",
            b"[project]\nname = \"x\"\nversion = \"1\"\ndependencies = [\"quart\", \"Uvicorn[standard]>=0.30\"]\n",
        ),
    ]);
    assert!(
        view.contains("command: uvicorn src.server:service --host 0.0.0.0 --port $PORT"),
        "{view}"
    );
    let view = plan_of(&[
        ("api.py", b""),
        (
            "main.py",
            b"import fastapi\napi = fastapi.FastAPI(title=\"x\")\n",
        ),
        ("requirements.txt", b"fastapi-cli\nfastapi\n"),
    ]);
    assert!(
        view.contains("command: fastapi run main.py --port $PORT"),
        "{view}"
    );
    let view = plan_of(&[
        ("main.py", b"import fastapi\nservice = fastapi.FastAPI()\n"),
        ("requirements.txt", b"fastapi[standard]\n"),
    ]);
    assert!(
        view.contains("command: fastapi run main.py --app service --port $PORT"),
        "{view}"
    );
}

#[test]
fn an_app_without_a_server_or_main_block_is_an_error_with_the_fix() {
    insta::assert_snapshot!(rejected("py-no-server"));
}

#[test]
fn a_script_without_a_main_block_is_an_error() {
    let out = report_of(&[
        ("main.py", b"print('hi')\n"),
        ("requirements.txt", b"requests\n"),
    ]);
    assert!(
        out.contains("error[AR309]: main.py has no `if __name__ == \"__main__\":` block")
            && out.contains("--> main.py")
            && out.contains("Procfile line `web: "),
        "{out}"
    );
}

#[test]
fn flasks_dev_server_on_its_defaults_is_a_warning() {
    let view = plan_view("py-flask-dev");
    assert!(view.contains("command: python3 app.py"), "{view}");
    assert!(
        view.contains("warning[AR310]: app.py starts Flask's development server on its default host 127.0.0.1 and port 5000"),
        "{view}"
    );
    let view = plan_of(&[
        (
            "app.py",
            b"import os\nfrom flask import Flask\napp = Flask(__name__)\nif __name__ == \"__main__\":\n    app.run(host=\"0.0.0.0\", port=int(os.environ[\"PORT\"]))\n",
        ),
        ("requirements.txt", b"flask\n"),
    ]);
    assert!(!view.contains("AR310"), "{view}");
}

#[test]
fn start_errors_point_at_files_that_exist() {
    let out = report_of(&[
        (
            "pyproject.toml",
            b"[project]\nname = \"x\"\nversion = \"1\"\n\n[tool.uv]\n",
        ),
        ("uv.lock", b"version = 1\n"),
    ]);
    assert!(
        out.contains("error[AR302]") && out.contains("--> pyproject.toml"),
        "{out}"
    );
    assert!(!out.contains("requirements.txt"), "{out}");
    let out = report_of(&[
        ("Pipfile", b"[packages]\nfastapi = \"*\"\n"),
        ("main.py", FASTAPI),
    ]);
    assert!(
        out.contains("error[AR308]") && out.contains("--> Pipfile"),
        "{out}"
    );
}

const FASTAPI_ON_PORT: &str = "import os\nimport uvicorn\nfrom fastapi import FastAPI\n\napp = FastAPI()\n\nif __name__ == \"__main__\":\n    uvicorn.run(app, host=\"0.0.0.0\", port=int(os.environ[\"PORT\"]))\n";

#[test]
fn a_root_file_whose_main_block_serves_its_app_on_port_runs_with_python3() {
    assert_eq!(
        start_of(&[
            ("service.py", FASTAPI_ON_PORT),
            ("requirements.txt", "fastapi\nuvicorn\n"),
        ]),
        "`python3 service.py` — from service.py (the only root file with an app and a `__main__` block that serves it on $PORT)"
    );
    let waitress = "import os\nfrom flask import Flask\nfrom waitress import serve\n\nweb = Flask(__name__)\n\nif __name__ == \"__main__\":\n    serve(web, host=\"0.0.0.0\", port=os.getenv(\"PORT\"))\n";
    let factory = "import os\nfrom shop import create_app\n\napp = create_app()\nPORT = int(os.environ.get('PORT', 8080))\n\ndef main():\n    app.run(host='0.0.0.0', port=PORT)\n\nif __name__ == '__main__':\n    main()\n";
    for (file, text) in [("run_waitress.py", waitress), ("manage_app.py", factory)] {
        let start = start_of(&[(file, text), ("requirements.txt", "flask\nwaitress\n")]);
        assert!(
            start.starts_with(&format!("`python3 {file}` — from {file} (")),
            "{start}"
        );
    }
    // Where a plan was found before, it stays: an entry file's `__main__` block comes first.
    assert_eq!(
        start_of(&[
            ("service.py", FASTAPI_ON_PORT),
            (
                "main.py",
                "import service\nif __name__ == '__main__':\n    service.start()\n"
            ),
            ("requirements.txt", "fastapi\nuvicorn\n"),
        ]),
        "`python3 main.py` — from main.py (its `if __name__ == \"__main__\":` block)"
    );
    let out = rejected_app(&[
        ("service.py", FASTAPI_ON_PORT),
        ("other.py", FASTAPI_ON_PORT),
        ("requirements.txt", "fastapi\nuvicorn\n"),
    ]);
    assert!(
        out.contains("error[AR302]")
            && out.contains("= note: other.py, service.py each serve an app on $PORT from their `if __name__ == \"__main__\":` block: a Procfile line `web: python3 other.py` says which one is the app"),
        "{out}"
    );
    let out = rejected_app(&[
        ("service.py", "from fastapi import FastAPI\napp = FastAPI()\nif __name__ == '__main__':\n    uvicorn.run(app, port=8000)\n"),
        ("requirements.txt", "fastapi\n"),
    ]);
    assert!(
        out.contains("error[AR302]"),
        "a fixed port is not $PORT: {out}"
    );
}

#[test]
fn application_py_is_an_entry_file_after_app_py() {
    let flask_app = "from flask import Flask\napplication = Flask(__name__)\n";
    assert_eq!(
        start_of(&[
            ("application.py", flask_app),
            ("server.py", FLASK_SERVER),
            ("requirements.txt", "flask\ngunicorn\n"),
        ]),
        "`gunicorn --bind 0.0.0.0:$PORT application:application` — from application.py (a WSGI app `application` (Flask), and gunicorn in requirements.txt)"
    );
    assert!(start_of(&[
        ("application.py", flask_app),
        ("app.py", "from flask import Flask\napp = Flask(__name__)\n"),
        ("requirements.txt", "flask\ngunicorn\n"),
    ])
    .starts_with("`gunicorn --bind 0.0.0.0:$PORT app:app`"));
}

const FLASK_SERVER: &str = "from flask import Flask\nserver = Flask(__name__)\n";

const FLASK_FACTORY: &str = "from flask import Flask\n\n\ndef create_app(config=None):\n    app = Flask(__name__)\n\n    @app.get(\"/\")\n    def index():\n        return \"ok\"\n\n    return app\n";

#[test]
fn flask_app_factories_are_called_by_the_server() {
    assert_eq!(
        start_of(&[
            ("app/__init__.py", FLASK_FACTORY),
            ("requirements.txt", "flask\ngunicorn\n"),
        ]),
        "`gunicorn --bind 0.0.0.0:$PORT 'app:create_app()'` — from app/__init__.py (a WSGI app factory `create_app` (Flask), and gunicorn in requirements.txt)"
    );
    assert_eq!(
        start_of(&[
            ("app.py", FLASK_FACTORY),
            ("requirements.txt", "flask\nwaitress\n"),
        ]),
        "`waitress-serve --listen=0.0.0.0:$PORT --call app:create_app` — from app.py (a WSGI app factory `create_app` (Flask), and waitress in requirements.txt)"
    );
    let asgi = "from fastapi import FastAPI\n\ndef create_app() -> FastAPI:\n    return FastAPI(title=\"x\")\n";
    assert_eq!(
        start_of(&[("main.py", asgi), ("requirements.txt", "fastapi\nuvicorn\n")]),
        "`uvicorn --factory main:create_app --host 0.0.0.0 --port $PORT` — from main.py (an ASGI app factory `create_app` (FastAPI), and uvicorn in requirements.txt)"
    );
    assert_eq!(
        start_of(&[("main.py", asgi), ("requirements.txt", "fastapi[standard]\n")]),
        "`uvicorn --factory main:create_app --host 0.0.0.0 --port $PORT` — from main.py (an ASGI app factory `create_app` (FastAPI), and uvicorn (from fastapi[standard]) in requirements.txt)"
    );
    let out = rejected_app(&[
        ("app/__init__.py", FLASK_FACTORY),
        ("requirements.txt", "flask\n"),
    ]);
    assert!(
        out.contains("error[AR308]: app/__init__.py defines the Flask app factory `create_app`, but nothing serves it")
            && out.contains("help: add `gunicorn` to requirements.txt, or a Procfile line `web: gunicorn --bind 0.0.0.0:$PORT 'app:create_app()'`"),
        "{out}"
    );
}

#[test]
fn wsgi_and_asgi_files_hold_the_app_a_call_builds() {
    assert_eq!(
        start_of(&[
            ("wsgi.py", "from app import create_app\n\napplication = create_app(\"prod\")\n"),
            ("app/__init__.py", "def create_app(name):\n    return make(name)\n"),
            ("requirements.txt", "flask\ngunicorn\n"),
        ]),
        "`gunicorn --bind 0.0.0.0:$PORT wsgi:application` — from wsgi.py (a WSGI app `application` (built by a call), and gunicorn in requirements.txt)"
    );
    assert_eq!(
        start_of(&[
            ("src/asgi.py", "from .factory import make_app\napp = make_app()\n"),
            ("requirements.txt", "starlette\nhypercorn\n"),
        ]),
        "`hypercorn src.asgi:app --bind 0.0.0.0:$PORT` — from src/asgi.py (an ASGI app `app` (built by a call), and hypercorn in requirements.txt)"
    );
}

#[test]
fn the_package_named_after_the_project_is_searched() {
    assert_eq!(
        start_of(&[
            (
                "pyproject.toml",
                "[project]\nname = \"my-service\"\nversion = \"1\"\ndependencies = [\"fastapi\", \"uvicorn\"]\n",
            ),
            ("my_service/__init__.py", ""),
            ("my_service/main.py", "from fastapi import FastAPI\napp = FastAPI()\n"),
        ]),
        "`uvicorn my_service.main:app --host 0.0.0.0 --port $PORT` — from my_service/main.py (an ASGI app `app` (FastAPI), and uvicorn in pyproject.toml)"
    );
    assert_eq!(
        start_of(&[
            (
                "pyproject.toml",
                "[tool.poetry]\nname = \"billing-api\"\nversion = \"1\"\npackages = [{ include = \"billing\", from = \"src\" }]\n\n[tool.poetry.dependencies]\npython = \"^3.11\"\nflask = \"*\"\ngunicorn = \"*\"\n",
            ),
            ("src/billing/__init__.py", FLASK_FACTORY),
        ]),
        "`PYTHONPATH=src gunicorn --bind 0.0.0.0:$PORT 'billing:create_app()'` — from src/billing/__init__.py (a WSGI app factory `create_app` (Flask), and gunicorn in pyproject.toml)"
    );
    assert_eq!(
        start_of(&[
            (
                "pyproject.toml",
                "[tool.poetry]\nname = \"shop\"\nversion = \"1\"\n\n[tool.poetry.dependencies]\nflask = \"*\"\nwaitress = \"*\"\n",
            ),
            ("shop/wsgi.py", "from flask import Flask\napp = Flask(__name__)\n"),
        ]),
        "`waitress-serve --listen=0.0.0.0:$PORT shop.wsgi:app` — from shop/wsgi.py (a WSGI app `app` (Flask), and waitress in pyproject.toml)"
    );
    let out = rejected_app(&[
        (
            "pyproject.toml",
            "[project]\nname = \"tools\"\nversion = \"1\"\ndependencies = [\"flask\"]\n",
        ),
        ("tools/__init__.py", ""),
    ]);
    assert!(
        out.contains("(at the root, in app/, in src/ or in tools/)"),
        "{out}"
    );
}

/// Issue 16: a Streamlit app (streamlit in the requirements, a root file that imports it) runs
/// with `streamlit run` on $PORT; of several such files, streamlit_app.py.
#[test]
fn a_streamlit_app_runs_with_streamlit_run() {
    let view = plan_of(&[
        ("requirements.txt", b"altair\npandas\nstreamlit\n"),
        (
            "streamlit_app.py",
            b"import streamlit as st\nst.write('hi')\n",
        ),
        ("helpers.py", b"import pandas\n"),
    ]);
    assert!(
        view.contains("start command: `streamlit run streamlit_app.py --server.port $PORT --server.address 0.0.0.0 --server.headless true` — from streamlit_app.py (it imports streamlit, and streamlit is in requirements.txt)"),
        "{view}"
    );
    let view = plan_of(&[
        ("requirements.txt", b"streamlit==1.40\n"),
        (
            "dashboard.py",
            b"from streamlit import write\nwrite('hi')\n",
        ),
    ]);
    assert!(view.contains("`streamlit run dashboard.py "), "{view}");
}
