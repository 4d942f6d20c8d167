//! Files that are something else under the name apprunner.yaml: a Dockerfile, a docker-compose
//! file, a Kubernetes manifest. One message that says what the file is beats a list of unknown
//! keys.

use crate::report::codes;
use crate::report::diagnostic::{Diagnostic, Location, Position, SourceText};
use marked_yaml::types::Node;

const IMAGE_SERVICE: &str = "a service built from a Dockerfile is an image-based App Runner service: build the image, push it to Amazon ECR, and create the service from the image (no apprunner.yaml)";

/// A Dockerfile: its first instruction (after comments, parser directives and `ARG`) is `FROM`.
pub(super) fn dockerfile(src: &SourceText) -> Option<Diagnostic> {
    let (index, line) = src.text.split('\n').enumerate().find(|(_, l)| {
        let t = l.trim();
        !t.is_empty() && !t.starts_with('#') && !t.to_ascii_uppercase().starts_with("ARG ")
    })?;
    let t = line.trim_start();
    if !t.to_ascii_uppercase().starts_with("FROM ") {
        return None;
    }
    let column = line.chars().count() - t.chars().count() + 1;
    Some(
        Diagnostic::error(codes::NOT_AN_APPRUNNER_FILE, "this file is a Dockerfile, not an apprunner.yaml")
            .at(Location::at(
                src,
                Position {
                    line: index + 1,
                    column,
                },
                t.trim_end().chars().count(),
            ))
            .with_note(IMAGE_SERVICE)
            .with_help("rename this file to Dockerfile; for a source-code service, write an apprunner.yaml with `version`, `runtime`, `build` and `run` instead"),
    )
}

/// A docker-compose file (`services:` at the top, no `runtime:`) or a Kubernetes manifest
/// (`apiVersion:` and `kind:`).
pub(super) fn other_yaml(
    src: &SourceText,
    root: &Node,
    at: impl Fn(&Node) -> Option<Location>,
) -> Option<Diagnostic> {
    let map = root.as_mapping()?;
    if map.get_node("runtime").is_some() {
        return None;
    }
    let key = |name: &str| map.keys().find(|k| k.as_str() == name);
    let located = |name: &str| {
        key(name).map(|k| {
            let width = k.as_str().chars().count();
            at(&Node::Scalar(k.clone()))
                .map(|mut l| {
                    l.width = width;
                    l
                })
                .unwrap_or_else(|| Location::file(&src.path))
        })
    };
    if let Some(services) = located("services") {
        return Some(
            Diagnostic::error(codes::NOT_AN_APPRUNNER_FILE, "this file is a docker-compose file, not an apprunner.yaml")
                .at(services)
                .with_note("App Runner runs one container per service and does not read compose files")
                .with_note(IMAGE_SERVICE)
                .with_help("rename this file (e.g. compose.yaml); for a source-code service, write an apprunner.yaml with `version`, `runtime`, `build` and `run`"),
        );
    }
    if let (Some(api), Some(_)) = (located("apiVersion"), key("kind")) {
        return Some(
            Diagnostic::error(codes::NOT_AN_APPRUNNER_FILE, "this file is a Kubernetes manifest, not an apprunner.yaml")
                .at(api)
                .with_note("App Runner does not read Kubernetes manifests")
                .with_help("rename this file; for a source-code service, write an apprunner.yaml with `version`, `runtime`, `build` and `run`"),
        );
    }
    None
}
