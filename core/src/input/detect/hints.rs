//! Start commands other platforms' files name, for every language: a Procfile `web:` line
//! (Heroku), else `deploy.startCommand` in railway.json / railway.toml (Railway), else the
//! `startCommand` of render.yaml's web service (Render). A Procfile `release:` line is reported as
//! not run: App Runner has no release phase.

use crate::input::files::ProjectFiles;
use crate::input::origin::Origin;
use crate::report::codes;
use crate::report::diagnostic::{Diagnostic, Location, Position, SourceText};
use std::path::Path;

/// The start command a platform file names, if any, and remarks about those files.
pub(super) fn start_command(
    project: &ProjectFiles,
    shown_root: &Path,
    remarks: &mut Vec<Diagnostic>,
) -> Option<(String, Origin)> {
    let procfile = procfile(project, shown_root, remarks);
    procfile
        .or_else(|| railway_json(project, shown_root))
        .or_else(|| railway_toml(project, shown_root))
        .or_else(|| render_yaml(project, shown_root))
}

/// `web: COMMAND`; a `release:` line gets a warning.
fn procfile(
    project: &ProjectFiles,
    shown_root: &Path,
    remarks: &mut Vec<Diagnostic>,
) -> Option<(String, Origin)> {
    let text = project.peek("Procfile")?;
    let shown = shown_root.join("Procfile");
    let source = SourceText::new(&shown, text.as_str());
    let mut web = None;
    for (i, line) in text.lines().enumerate() {
        let Some((kind, command)) = line.split_once(':') else {
            continue;
        };
        let (kind, command) = (kind.trim(), command.trim());
        if kind == "web" && web.is_none() && !command.is_empty() {
            web = Some((
                command.to_string(),
                Origin::File {
                    path: shown.clone(),
                    key: Some("the web: line".into()),
                    note: Some(format!("line {}", i + 1)),
                },
            ));
        } else if kind == "release" {
            remarks.push(
                Diagnostic::warning(
                    codes::PROCFILE_RELEASE_NOT_RUN,
                    format!("the Procfile's release: line is not run: `{command}`"),
                )
                .at(Location::at(
                    &source,
                    Position {
                        line: i + 1,
                        column: 1,
                    },
                    line.trim_end().chars().count(),
                ))
                .with_note("App Runner has no release phase: only the web process starts, and nothing runs between the build and the start")
                .with_help("run it as part of the start command (`web: python3 manage.py migrate && gunicorn …`), or from an apprunner.yaml's run.pre-run"),
            );
        }
    }
    web
}

/// Railway's `{"deploy": {"startCommand": "…"}}`.
fn railway_json(project: &ProjectFiles, shown_root: &Path) -> Option<(String, Origin)> {
    let text = project.peek("railway.json")?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    let command = json.get("deploy")?.get("startCommand")?.as_str()?.trim();
    (!command.is_empty()).then(|| {
        (
            command.to_string(),
            Origin::key(shown_root.join("railway.json"), "deploy.startCommand"),
        )
    })
}

/// Railway's `[deploy] startCommand = "…"`.
fn railway_toml(project: &ProjectFiles, shown_root: &Path) -> Option<(String, Origin)> {
    let text = project.peek("railway.toml")?;
    let table: toml::Table = text.parse().ok()?;
    let command = table.get("deploy")?.get("startCommand")?.as_str()?.trim();
    (!command.is_empty()).then(|| {
        (
            command.to_string(),
            Origin::key(shown_root.join("railway.toml"), "deploy.startCommand"),
        )
    })
}

/// Render's blueprint: the first service of `type: web` with a `startCommand`.
fn render_yaml(project: &ProjectFiles, shown_root: &Path) -> Option<(String, Origin)> {
    let text = project.peek("render.yaml")?;
    let doc = marked_yaml::parse_yaml(0, text).ok()?;
    let services = doc.as_mapping()?.get_sequence("services")?;
    services.iter().enumerate().find_map(|(i, service)| {
        let service = service.as_mapping()?;
        if service.get_scalar("type")?.as_str() != "web" {
            return None;
        }
        let command = service.get_scalar("startCommand")?.as_str().trim();
        (!command.is_empty()).then(|| {
            (
                command.to_string(),
                Origin::key(
                    shown_root.join("render.yaml"),
                    format!("services[{i}].startCommand"),
                ),
            )
        })
    })
}
