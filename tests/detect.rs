//! Projects without apprunner.yaml: what is derived, and from where (one fixture directory per case).

mod support;

use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/apps")
        .join(name)
}

/// The plan as `apprunner-build plan` prints it, run from inside the fixture.
fn plan_view(name: &str) -> String {
    let loaded = support::load(&fixture(name));
    let report = support::report(&loaded);
    let mut plan = loaded
        .plan
        .unwrap_or_else(|| panic!("{name} should plan:\n{report}"));
    plan.source_root = name.into();
    format!("{report}{}", apprunner_build::plan::render(&plan))
}

fn rejected(name: &str) -> String {
    let loaded = support::load(&fixture(name));
    assert!(loaded.plan.is_none(), "{name} should be rejected");
    support::report(&loaded)
}

#[test]
fn npm_with_lockfile() {
    insta::assert_snapshot!(plan_view("express-npm"));
}

#[test]
fn npm_without_lockfile_starts_server_js() {
    let view = plan_view("npm-no-lockfile");
    assert!(
        view.contains("install: `npm install` — from the default: no lockfile"),
        "{view}"
    );
    assert!(
        view.contains("start command: `node server.js` — from server.js (npm's default"),
        "{view}"
    );
    assert!(view.contains("Runtime:       nodejs22 22.21.1"), "{view}");
}

#[test]
fn yarn_1() {
    insta::assert_snapshot!(plan_view("yarn1"));
}

#[test]
fn yarn_berry() {
    let view = plan_view("yarn-berry");
    assert!(
        view.contains("pre-build: corepack enable")
            && view.contains("build: yarn install --immutable"),
        "{view}"
    );
    assert!(
        view.contains(
            "package manager version: `yarn@4.5.3` — from packageManager in package.json"
        ),
        "{view}"
    );
}

#[test]
fn pnpm() {
    insta::assert_snapshot!(plan_view("pnpm"));
}

#[test]
fn engines_caret_range_picks_the_highest_match() {
    let view = plan_view("engines-caret");
    assert!(view.contains("Runtime:       nodejs18 18.20.8"), "{view}");
    assert!(
        view.contains("^18.19.0 (engines.node in package.json line 3)"),
        "{view}"
    );
    assert!(
        view.contains("warning[AR206]: nodejs18 reached end of support"),
        "{view}"
    );
}

#[test]
fn nvmrc_names_the_runtime() {
    let view = plan_view("nvmrc");
    assert!(view.contains("Runtime:       nodejs18 18.20.8"), "{view}");
    assert!(
        view.contains("runtime: `Node.js 18` — from .nvmrc"),
        "{view}"
    );
}

#[test]
fn engines_no_runtime_offers() {
    insta::assert_snapshot!(rejected("engines-impossible"));
}

#[test]
fn two_lockfiles() {
    insta::assert_snapshot!(plan_view("two-lockfiles"));
}

#[test]
fn no_start_command() {
    insta::assert_snapshot!(rejected("no-start"));
}

#[test]
fn apprunner_yaml_wins_over_package_json() {
    let view = plan_view("node-with-yaml");
    assert!(view.contains("Configuration: apprunner.yaml"), "{view}");
    assert!(view.contains("command: node cluster.js"), "{view}");
    assert!(
        view.contains("nodejs18 18.20.8"),
        "engines.node narrows within the yaml's runtime: {view}"
    );
}

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
fn unreadable_version_files_are_located_errors() {
    let dir = support::project_dir(&[
        ("package.json", br#"{"scripts":{"start":"node a.js"}}"#),
        (".nvmrc", b"node\n"),
    ]);
    let out = support::report(&support::load(dir.path()));
    assert!(
        out.contains("`node` in .nvmrc is not a Node.js version") && out.contains("--> .nvmrc"),
        "{out}"
    );
    let dir = support::project_dir(&[
        ("requirements.txt", b"flask\n"),
        ("app.py", b""),
        (".python-version", b"system\n"),
    ]);
    let out = support::report(&support::load(dir.path()));
    assert!(
        out.contains("`system` in .python-version is not a Python version"),
        "{out}"
    );
}

#[test]
fn engines_node_against_runtime_version_is_a_conflict() {
    insta::assert_snapshot!(rejected("node-conflict"));
}

/// The plan of a project written into a temporary directory.
fn plan_of(files: &[(&str, &[u8])]) -> String {
    let dir = support::project_dir(files);
    let loaded = support::load(dir.path());
    let report = support::report(&loaded);
    let plan = loaded
        .plan
        .unwrap_or_else(|| panic!("should plan:\n{report}"));
    format!("{report}{}", apprunner_build::plan::render(&plan))
}

fn report_of(files: &[(&str, &[u8])]) -> String {
    let dir = support::project_dir(files);
    let loaded = support::load(dir.path());
    assert!(loaded.plan.is_none(), "should be rejected");
    support::report(&loaded)
}

const FASTAPI: &[u8] = b"from fastapi import FastAPI\n\napp = FastAPI()\n";
const FLASK: &[u8] = b"from flask import Flask\napp = Flask(__name__)\n";

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

#[test]
fn a_procfile_starts_a_node_app_too() {
    let view = plan_of(&[
        ("package.json", br#"{"scripts":{"start":"node a.js"}}"#),
        (
            "Procfile",
            b"web: node --enable-source-maps dist/server.js\n",
        ),
    ]);
    assert!(
        view.contains("start command: `node --enable-source-maps dist/server.js` — from the web: line in Procfile (line 1)"),
        "{view}"
    );
}

#[test]
fn other_platforms_start_commands_are_used_without_a_procfile() {
    let cases: &[(&str, &[u8], &str)] = &[
        (
            "railway.json",
            br#"{"deploy": {"startCommand": "node web.js"}}"#,
            "from deploy.startCommand in railway.json",
        ),
        (
            "railway.toml",
            b"[deploy]\nstartCommand = \"node web.js\"\n",
            "from deploy.startCommand in railway.toml",
        ),
        (
            "render.yaml",
            b"services:\n  - type: worker\n    startCommand: node worker.js\n  - type: web\n    name: site\n    startCommand: node web.js\n",
            "from services[1].startCommand in render.yaml",
        ),
    ];
    for (file, text, origin) in cases {
        let view = plan_of(&[("package.json", b"{}"), (file, text)]);
        assert!(
            view.contains(&format!("start command: `node web.js` — {origin}")),
            "{file}: {view}"
        );
    }
    let view = plan_of(&[
        ("requirements.txt", b"flask\n"),
        (
            "railway.json",
            br#"{"deploy": {"startCommand": "gunicorn app:app"}}"#,
        ),
        ("Procfile", b"web: python3 serve.py\n"),
    ]);
    assert!(
        view.contains("command: python3 serve.py"),
        "the Procfile wins: {view}"
    );
}

#[test]
fn package_manager_chooses_among_lockfiles_and_an_error_only_when_it_contradicts_all() {
    let view = plan_of(&[
        (
            "package.json",
            br#"{"packageManager":"npm@10.9.0","scripts":{"start":"node a.js"}}"#,
        ),
        ("package-lock.json", b"{}"),
        ("pnpm-lock.yaml", b"lockfileVersion: '9.0'\n"),
    ]);
    assert!(
        view.contains("install: `npm ci` — from package-lock.json"),
        "{view}"
    );
    assert!(
        view.contains(
            "warning[AR303]: pnpm-lock.yaml is ignored: npm installs from package-lock.json"
        ),
        "{view}"
    );
    let out = report_of(&[
        (
            "package.json",
            br#"{"packageManager":"pnpm@9.15.0","scripts":{"start":"node a.js"}}"#,
        ),
        ("package-lock.json", b"{}"),
        ("yarn.lock", b""),
    ]);
    assert!(
        out.contains("error[AR304]: packageManager in package.json says pnpm@9.15.0, but the only lockfiles are yarn.lock and package-lock.json, none of them pnpm's"),
        "{out}"
    );
    let view = plan_of(&[
        ("package.json", br#"{"scripts":{"start":"node a.js"}}"#),
        ("yarn.lock", b""),
        (".yarnrc.yml", b"nodeLinker: node-modules\n"),
        ("pnpm-lock.yaml", b"lockfileVersion: '9.0'\n"),
    ]);
    assert!(
        view.contains("install: `pnpm install --frozen-lockfile`"),
        "{view}"
    );
    assert!(
        view.contains("warning[AR303]: yarn.lock is ignored"),
        "{view}"
    );
}

#[test]
fn node_production_defaults_and_devdependencies_pruned() {
    let dev = br#"{"scripts":{"start":"node a.js"},"devDependencies":{"typescript":"5"}}"#;
    for (lockfile, prune) in [
        ("package-lock.json", "npm prune --omit=dev"),
        ("pnpm-lock.yaml", "pnpm prune --prod"),
        (
            "yarn.lock",
            "yarn install --production --frozen-lockfile --ignore-scripts --prefer-offline",
        ),
    ] {
        let view = plan_of(&[("package.json", dev), (lockfile, b"")]);
        assert!(
            view.contains(&format!(
                "prune devDependencies: `{prune}` — from devDependencies in package.json"
            )),
            "{lockfile}: {view}"
        );
        assert!(view.contains("env:     NODE_ENV=production"), "{view}");
    }
    let view = plan_of(&[
        (
            "package.json",
            br#"{"scripts":{"start":"NODE_ENV=staging node a.js"},"devDependencies":{"nodemon":"3"}}"#,
        ),
        ("package-lock.json", b"{}"),
    ]);
    assert!(
        !view.contains("NODE_ENV=production") && !view.contains("prune"),
        "{view}"
    );
    assert!(view.contains("sets NODE_ENV=staging"), "{view}");
}

#[test]
fn an_exact_python_patch_the_catalog_lacks_takes_the_newest_of_its_minor() {
    for (file, text) in [
        ("runtime.txt", "python-3.12.7\n"),
        (".python-version", "3.12.7\n"),
    ] {
        let view = plan_of(&[
            ("requirements.txt", b"flask\ngunicorn\n"),
            ("app.py", FLASK),
            (file, text.as_bytes()),
        ]);
        assert!(
            view.contains("Runtime:       python312 3.12.12"),
            "{file}: {view}"
        );
        assert!(
            view.contains(&format!("warning[AR311]: {file} asks for Python 3.12.7, which no runtime offers: using python312 3.12.12, the newest 3.12 patch"))
                && view.contains(&format!("--> {file}"))
                && view.contains(if file == "runtime.txt" {
                    "help: write python-3.12 there"
                } else {
                    "help: write 3.12 there"
                }),
            "{file}: {view}"
        );
    }
    let view = plan_of(&[
        ("requirements.txt", b"flask\ngunicorn\n"),
        ("app.py", FLASK),
        ("runtime.txt", b"python-3.11.9\n"),
    ]);
    assert!(
        view.contains("Runtime:       python311 3.11.9") && !view.contains("AR311"),
        "a patch the catalog holds stays exact: {view}"
    );
}

#[test]
fn python_minor_pins_and_requires_python() {
    for (file, text, runtime) in [
        ("runtime.txt", "python-3.12\n", "python312 3.12.12"),
        (".python-version", "3.10\n", "python310 3.10.19"),
        (".python-version", "3.14\n", "python314 3.14.2"),
    ] {
        let view = plan_of(&[
            ("requirements.txt", b"flask\ngunicorn\n"),
            ("app.py", FLASK),
            (file, text.as_bytes()),
        ]);
        assert!(
            view.contains(&format!("Runtime:       {runtime}")),
            "{text}: {view}"
        );
    }
    let view = plan_of(&[
        (
            "pyproject.toml",
            b"[project]\nname = \"x\"\nversion = \"1\"\nrequires-python = \">=3.10\"\ndependencies = [\"flask\", \"gunicorn\"]\n",
        ),
        ("app.py", FLASK),
    ]);
    assert!(
        view.contains("Runtime:       python311 3.11.14") && !view.contains("AR205"),
        "the App Runner runtime when it satisfies: {view}"
    );
}

#[test]
fn pnpms_version_follows_the_lockfile_without_package_manager() {
    for (lockfile_version, pnpm) in [("'9.0'", "pnpm@9"), ("'6.0'", "pnpm@8"), ("5.4", "pnpm@7")] {
        let lock = format!("lockfileVersion: {lockfile_version}\n");
        let view = plan_of(&[
            ("package.json", br#"{"scripts":{"start":"node a.js"}}"#),
            ("pnpm-lock.yaml", lock.as_bytes()),
        ]);
        assert!(
            view.contains(&format!("pre-build: npm install -g {pnpm}"))
                && view.contains(&format!(
                    "package manager version: `{pnpm}` — from lockfileVersion {} in pnpm-lock.yaml (no packageManager field)",
                    lockfile_version.trim_matches('\'')
                )),
            "{lockfile_version}: {view}"
        );
    }
    let view = plan_view("pnpm");
    assert!(
        view.contains("pre-build: corepack enable 2>/dev/null || npm install -g pnpm@9.15.0"),
        "packageManager still wins: {view}"
    );
}

/// The `start command:` line of the plan of an app written from `files`: the command and where
/// it came from.
fn start_of(files: &[(&str, &str)]) -> String {
    let dir = support::write_app(files);
    let loaded = support::load(dir.path());
    let report = support::report(&loaded);
    let plan = loaded
        .plan
        .unwrap_or_else(|| panic!("should plan:\n{report}"));
    let view = apprunner_build::plan::render(&plan);
    view.lines()
        .find_map(|l| l.trim().strip_prefix("start command: "))
        .unwrap_or_else(|| panic!("no start command:\n{view}"))
        .to_string()
}

fn rejected_app(files: &[(&str, &str)]) -> String {
    let dir = support::write_app(files);
    let loaded = support::load(dir.path());
    assert!(loaded.plan.is_none(), "should be rejected");
    support::report(&loaded)
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

#[test]
fn without_a_start_command_the_dockerfiles_command_is_suggested() {
    let out = rejected_app(&[
        ("requirements.txt", "flask\ngunicorn\n"),
        ("web/routes.py", "from flask import Flask\napp = Flask(__name__)\n"),
        (
            "Dockerfile",
            "FROM python:3.12-slim\nWORKDIR /code\nCOPY . .\nRUN pip install -r requirements.txt\nEXPOSE 8000\nCMD [\"gunicorn\", \"-b\", \"0.0.0.0:8000\", \"web.routes:app\"]\n",
        ),
    ]);
    assert_eq!(
        out,
        "error[AR302]: no way to start the app: no Procfile web: line, and none of main.py, app.py, application.py, server.py, wsgi.py, asgi.py (at the root, in app/ or in src/)
 --> requirements.txt
  = note: the suggested web: line is the Dockerfile's CMD (line 6), with $PORT in place of its port 8000: App Runner sends requests to $PORT (8080)
  = help: add a Procfile line `web: gunicorn -b 0.0.0.0:$PORT web.routes:app`, or an apprunner.yaml with run.command

error: 1 problem found
"
    );
    let out = rejected_app(&[
        ("requirements.txt", "fastapi\n"),
        ("main.py", "from fastapi import FastAPI\napp = FastAPI()\n"),
        (
            "Dockerfile",
            "FROM python:3.12\nRUN pip install uvicorn\nENTRYPOINT [\"uvicorn\"]\nCMD [\"main:app\", \"--host\", \"0.0.0.0\", \"--port\", \"80\"]\n",
        ),
    ]);
    assert!(
        out.contains("error[AR308]")
            && out.contains("= note: the suggested web: line is the Dockerfile's ENTRYPOINT and CMD (lines 3 and 4), with $PORT in place of its port 80")
            && out.contains("= help: add `uvicorn` to requirements.txt, or a Procfile line `web: uvicorn main:app --host 0.0.0.0 --port $PORT`"),
        "{out}"
    );
    let out = rejected_app(&[
        ("requirements.txt", "requests\n"),
        ("main.py", "print('hi')\n"),
        (
            "Dockerfile",
            "FROM python:3.12\nCMD python main.py --serve\n",
        ),
    ]);
    assert!(
        out.contains("error[AR309]")
            && out.contains("= note: the suggested web: line is the Dockerfile's CMD (line 2): check that it listens on $PORT (8080), where App Runner sends requests")
            && out.contains("= help: add a Procfile line `web: python main.py --serve`, or an app object"),
        "{out}"
    );
}
