//! The Python project as detection and the start command read it: its TOML manifests, the
//! dependencies it declares, and where a Django project's package is. Shared by `python`
//! (the settings), `python_start` (the server) and `python_lock` (the lockfiles).

use super::error_at;
use crate::input::files::ProjectFiles;
use crate::report::codes;
use crate::report::diagnostic::Diagnostic;
use crate::resolve::wheels::normalize;
use std::path::Path;

/// The TOML file `name` (at most `cap` bytes), `Ok(None)` when there is none.
pub(super) fn read_toml(
    project: &ProjectFiles,
    shown_root: &Path,
    name: &str,
    cap: u64,
) -> Result<Option<toml::Table>, Diagnostic> {
    let Some(text) = project.file(name, cap)? else {
        return Ok(None);
    };
    text.parse::<toml::Table>().map(Some).map_err(|e| {
        error_at(
            codes::INVALID_TOML,
            shown_root,
            name,
            format!("{name} is not valid TOML: {}", e.message()),
        )
    })
}

/// A declared dependency: its normalized name and extras (`fastapi[standard]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Dep {
    pub(super) name: String,
    pub(super) extras: Vec<String>,
}

/// `fastapi[standard]>=0.115 ; python_version>"3.8"` → fastapi with extra standard.
fn parse_requirement(spec: &str) -> Option<Dep> {
    let spec = spec.trim();
    let end = spec
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.'))
        .unwrap_or(spec.len());
    let name = normalize(&spec[..end]);
    if name.is_empty() {
        return None;
    }
    let rest = spec[end..].trim_start();
    let extras = match rest.strip_prefix('[').and_then(|r| r.split_once(']')) {
        Some((list, _)) => list.split(',').map(|e| normalize(e.trim())).collect(),
        None => vec![],
    };
    Some(Dep { name, extras })
}

/// Every place dependencies are declared: requirements.txt, PEP 621, Poetry, Pipfile.
pub(super) fn dependencies(
    project: &ProjectFiles,
    pyproject: Option<&toml::Table>,
    pipfile: Option<&toml::Table>,
) -> Vec<Dep> {
    let mut deps = Vec::new();
    if let Some(text) = project.peek("requirements.txt") {
        deps.extend(
            text.lines()
                .map(|l| l.split('#').next().unwrap_or(""))
                .filter(|l| !l.trim().starts_with('-'))
                .filter_map(parse_requirement),
        );
    }
    if let Some(list) =
        pyproject.and_then(|p| p.get("project")?.get("dependencies")?.as_array().cloned())
    {
        deps.extend(
            list.iter()
                .filter_map(|v| v.as_str())
                .filter_map(parse_requirement),
        );
    }
    let tables = [
        pyproject.and_then(|p| {
            p.get("tool")?
                .get("poetry")?
                .get("dependencies")?
                .as_table()
                .cloned()
        }),
        pipfile.and_then(|p| p.get("packages")?.as_table().cloned()),
    ];
    for table in tables.into_iter().flatten() {
        for (name, value) in table {
            let extras = value
                .get("extras")
                .and_then(|e| e.as_array())
                .map(|a| a.iter().filter_map(|e| e.as_str()).map(normalize).collect())
                .unwrap_or_default();
            deps.push(Dep {
                name: normalize(&name),
                extras,
            });
        }
    }
    deps
}

/// The Django project package: the directory beside manage.py that holds wsgi.py.
pub(super) fn django_package(project: &ProjectFiles) -> Option<String> {
    let mut packages: Vec<String> = project
        .entries("")
        .into_iter()
        .map(|(name, _)| name)
        .filter(|name| {
            project.is_file(format!("{name}/wsgi.py")) || project.is_file(format!("{name}/asgi.py"))
        })
        .collect();
    packages.sort();
    packages.into_iter().next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirements_with_extras_markers_and_odd_spelling() {
        let dep = |s: &str| parse_requirement(s).unwrap();
        assert_eq!(
            dep("FastAPI[standard, all]>=0.115 ; python_version > '3.8'"),
            Dep {
                name: "fastapi".into(),
                extras: vec!["standard".into(), "all".into()],
            }
        );
        assert_eq!(dep("fastapi_cli==0.0.5").name, "fastapi-cli");
        assert_eq!(dep("Zope.Interface").name, "zope-interface");
        assert!(dep("uvicorn").extras.is_empty());
        assert_eq!(parse_requirement("   "), None);
    }
}
