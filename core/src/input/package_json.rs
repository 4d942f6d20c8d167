//! What a Node.js project's files say: `engines.node` in package.json.

use super::version::{MalformedVersion, RequestedVersion, VersionOrigin};
use crate::input::files;
use crate::input::files::ProjectFiles;
use crate::report::codes;
use crate::report::diagnostic::{Diagnostic, Location, Position, SourceText};
use std::path::Path;

/// The most of a package.json that is read: real ones are a few kilobytes.
pub const MAX_PACKAGE_JSON_SIZE: u64 = 4 * 1024 * 1024;

/// A package.json that was read and parsed.
#[derive(Debug, Clone)]
pub struct PackageJson {
    pub source: SourceText,
    pub json: serde_json::Value,
}

impl PackageJson {
    /// `Ok(None)` when there is no package.json in `root`.
    pub fn read(project: &ProjectFiles, shown_root: &Path) -> Result<Option<Self>, Diagnostic> {
        let shown = shown_root.join("package.json");
        let text = match project.text("package.json", MAX_PACKAGE_JSON_SIZE) {
            Ok(Some(text)) => text,
            Ok(None) => return Ok(None),
            Err(files::Refusal::Unreadable(e)) => {
                return Err(Diagnostic::error(
                    codes::PACKAGE_JSON_UNREADABLE,
                    format!("cannot read package.json: {e}"),
                )
                .at(Location::file(&shown)))
            }
            Err(refused) => return Err(refused.diagnostic(&shown)),
        };
        let source = SourceText::new(&shown, text);
        match serde_json::from_str::<serde_json::Value>(&source.text) {
            Ok(json) => Ok(Some(Self { source, json })),
            Err(e) => Err(Diagnostic::error(
                codes::PACKAGE_JSON_INVALID,
                format!("package.json is not valid JSON: {e}"),
            )
            .at(Location::at(
                &source,
                Position {
                    line: e.line().max(1),
                    column: e.column().max(1),
                },
                1,
            ))
            .with_help("fix the JSON syntax (npm would fail on it too)")),
        }
    }

    /// `scripts.NAME`, when present and a string.
    pub fn script(&self, name: &str) -> Option<&str> {
        self.json.get("scripts")?.get(name)?.as_str()
    }

    /// `engines.node`, when present and a string.
    pub fn engines_node(&self) -> Option<&str> {
        self.json.get("engines")?.get("node")?.as_str()
    }

    /// The requirement `engines.node` makes, located in the file.
    pub fn node_request(&self) -> Option<Result<RequestedVersion, MalformedVersion>> {
        let range = self.engines_node()?;
        let location = self.locate_engines_node();
        let origin = VersionOrigin::EnginesNode {
            path: self.source.path.clone(),
            line: location.as_ref().and_then(|l| l.position).map(|p| p.line),
        };
        Some(RequestedVersion::from_npm_range(range, origin, location))
    }

    /// serde_json keeps no positions: find the `"node"` key that follows `"engines"`.
    fn locate_engines_node(&self) -> Option<Location> {
        let text = &*self.source.text;
        let engines = text.find("\"engines\"")?;
        let node = engines + text[engines..].find("\"node\"")?;
        let line = text[..node].matches('\n').count() + 1;
        let column = text[..node]
            .rsplit('\n')
            .next()
            .map_or(0, |l| l.chars().count())
            + 1;
        let width = text[node..]
            .split('\n')
            .next()
            .unwrap_or("")
            .trim_end_matches([',', '\r'])
            .chars()
            .count();
        Some(Location::at(&self.source, Position { line, column }, width))
    }
}
