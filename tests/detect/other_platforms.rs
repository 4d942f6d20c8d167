//! Projects made for other platforms: their start commands (Heroku's Procfile and others) and a
//! Dockerfile's command suggested when nothing else says how to start.

use crate::support::*;

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

/// Issue 16: a Node.js project with nothing to start but a Dockerfile gets its CMD as the
/// suggested web: line, with $PORT in place of the port it binds.
#[test]
fn a_node_project_without_a_start_command_is_shown_its_dockerfiles() {
    let report = report_of(&[
        ("package.json", br#"{ "name": "api", "scripts": { "build": "tsc" } }"#),
        (
            "Dockerfile",
            b"FROM node:22\nWORKDIR /app\nCOPY . .\nRUN npm ci && npm run build\nEXPOSE 3000\nCMD [\"node\", \"build/server.js\", \"--port\", \"3000\"]\n",
        ),
    ]);
    assert!(
        report.contains("= help: add a Procfile line `web: node build/server.js --port $PORT`"),
        "{report}"
    );
    assert!(report.contains("the Dockerfile's CMD (line 6)"), "{report}");
}
