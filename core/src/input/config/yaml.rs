//! Walking the YAML tree of `apprunner.yaml`, collecting every problem with its position.

use super::{AppRunnerConfig, ConfigOrigin, Parsed, RuntimeRequest, Spanned};
use crate::report::codes;
use crate::report::diagnostic::{Diagnostic, Diagnostics, Location, Position, SourceText};
use marked_yaml::loader::LoadError;
use marked_yaml::types::{MarkedMappingNode, MarkedScalarNode, Node};
use marked_yaml::{parse_yaml_with_options, LoaderOptions, Span};

/// For messages; the catalog (which this module does not read) is the authority.
pub(super) const APP_RUNNER_RUNTIMES: &str =
    "python3, python311, nodejs12, nodejs14, nodejs16, nodejs18, nodejs22";

/// The no-op App Runner users write when there is nothing to build.
pub(super) const NOTHING_TO_BUILD: &str = "if there is nothing to build, write a command that does nothing:\n  build:\n    commands:\n      build:\n        - echo \"no build\"";

const TOP_KEYS: &[&str] = &["version", "runtime", "build", "run"];
pub(super) const BUILD_KEYS: &[&str] = &["commands", "env"];
pub(super) const COMMAND_KEYS: &[&str] = &["pre-build", "build", "post-build"];
pub(super) const RUN_KEYS: &[&str] = &[
    "runtime-version",
    "pre-run",
    "command",
    "network",
    "env",
    "secrets",
];
pub(super) const NETWORK_KEYS: &[&str] = &["port", "env"];
pub(super) const ENV_KEYS: &[&str] = &["name", "value"];
pub(super) const SECRET_KEYS: &[&str] = &["name", "value-from"];

/// Keys people put in the wrong section, and where they belong.
const MISPLACED: &[(&str, &str)] = &[
    ("runtime", "`runtime` belongs at the top level of the file"),
    ("runtime-version", "`runtime-version` belongs under `run:`"),
    ("port", "the port goes under `run:` as `network:` → `port:`"),
    ("network", "`network:` belongs under `run:`"),
    ("command", "the start command is `run.command`"),
    ("start", "the start command is `run.command`"),
    ("start-command", "the start command is `run.command`"),
    ("build-command", "build commands go under `build:` → `commands:` → `build:`"),
    ("environment", "variables are `build.env` (for the build) or `run.env` (at run time)"),
    ("environment_variables", "variables are `build.env` (for the build) or `run.env` (at run time)"),
    ("pre-run", "`pre-run` belongs under `run:`"),
    ("secrets", "`secrets` belongs under `run:`"),
    ("env", "`env` belongs under `build:` or `run:`"),
    ("dockerfile", "a Dockerfile is not used by source-code services; build an image and use an image-based service instead"),
];

pub(super) fn parse(source: &SourceText) -> Parsed {
    let mut w = Walker {
        src: source,
        diags: Diagnostics::default(),
    };
    // prevent_coercion marks quoted scalars, so `""` (a value) differs from an empty key (no value).
    let options = LoaderOptions::default()
        .error_on_duplicate_keys(true)
        .prevent_coercion(true);
    let foreign = |d: Diagnostic| Parsed {
        config: None,
        runtime: RuntimeRequest::default(),
        diagnostics: Diagnostics(vec![d]),
    };
    if let Some(d) = super::foreign::dockerfile(source) {
        return foreign(d);
    }
    let root = match parse_yaml_with_options(0, &*source.text, options) {
        Ok(root) => root,
        Err(e) => {
            w.load_error(e);
            return Parsed {
                config: None,
                runtime: RuntimeRequest::default(),
                diagnostics: w.diags,
            };
        }
    };
    if let Some(d) = super::foreign::other_yaml(source, &root, |n| w.node_loc(n)) {
        return foreign(d);
    }
    let config = w.top(&root);
    let runtime = w.runtime_request(&root);
    let diagnostics = w.diags;
    Parsed {
        config: if diagnostics.has_errors() {
            None
        } else {
            config
        },
        runtime,
        diagnostics,
    }
}

pub(super) struct Walker<'a> {
    pub(super) src: &'a SourceText,
    pub(super) diags: Diagnostics,
}

/// `--health-check` for a health-check mapping someone wrote (`protocol: http`, `path: /health`):
/// `http:/health`, or `tcp` (App Runner's default).
fn health_check_flag(node: Option<&Node>) -> String {
    let map = node.and_then(Node::as_mapping);
    let get = |k: &str| {
        map.and_then(|m| m.get_scalar(k))
            .map(|s| s.as_str().trim().to_string())
    };
    match get("protocol").map(|p| p.to_ascii_lowercase()).as_deref() {
        Some("http") => format!("http:{}", get("path").unwrap_or_else(|| "/".into())),
        _ => "tcp".into(),
    }
}

pub(super) fn describe(node: &Node) -> &'static str {
    match node {
        Node::Mapping(_) => "a mapping",
        Node::Sequence(_) => "a list",
        Node::Scalar(s) if is_null(s) => "empty",
        Node::Scalar(_) => "a single value",
    }
}

/// The width of a quoted scalar at the start of `text`, quotes included, when it ends on this
/// line.
fn quoted_width(text: &str) -> Option<usize> {
    let mut chars = text.chars();
    let quote = chars.next().filter(|c| *c == '"' || *c == '\'')?;
    let mut width = 1;
    let mut escaped = false;
    let mut rest = chars.peekable();
    while let Some(c) = rest.next() {
        width += 1;
        if quote == '"' {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                return Some(width);
            }
        } else if c == '\'' {
            // `''` inside single quotes is one quote.
            if rest.peek() == Some(&'\'') {
                rest.next();
                width += 1;
            } else {
                return Some(width);
            }
        }
    }
    None
}

pub(super) fn is_null(s: &MarkedScalarNode) -> bool {
    s.may_coerce() && matches!(s.as_str(), "" | "~" | "null" | "Null" | "NULL")
}

impl Walker<'_> {
    pub(super) fn pos(&self, span: &Span) -> Option<Position> {
        span.start().map(|m| Position {
            line: m.line(),
            column: m.column(),
        })
    }

    /// Location of a node; underlines the rest of its first line (or the scalar's text, with its
    /// quotes when it is quoted).
    pub(super) fn loc(&self, span: &Span, text: Option<&str>) -> Option<Location> {
        let position = self.pos(span)?;
        let line = self.src.line(position.line).unwrap_or("");
        let rest = line.chars().skip(position.column - 1).collect::<String>();
        let width = match (quoted_width(&rest), text) {
            (Some(w), _) => w,
            (None, Some(t)) if !t.contains('\n') && rest.contains(t) => t.chars().count(),
            _ => rest.trim_end().chars().count(),
        };
        Some(Location::at(self.src, position, width))
    }

    /// Where an empty value (`runtime:` with nothing after it) is: its key. The parser places an
    /// empty scalar at the next token, often lines below; the key is on the last line before it
    /// that holds anything but a comment.
    pub(super) fn empty_loc(&self, span: &Span) -> Option<Location> {
        let at = self.pos(span)?;
        let mut line_no = at.line.min(self.src.text.split('\n').count());
        loop {
            let line = self.src.line(line_no)?;
            let upto = if line_no == at.line {
                line.chars().take(at.column - 1).collect::<String>()
            } else {
                line.to_string()
            };
            let content = upto.split(" #").next().unwrap_or("");
            let trimmed = content.trim_start();
            if !trimmed.is_empty() && !trimmed.starts_with('#') {
                let indent = content.chars().count() - trimmed.chars().count();
                let item = trimmed.strip_prefix("- ").map_or(0, |_| 2);
                let key = trimmed[item..].split(':').next().unwrap_or("").trim_end();
                let column = indent + item + 1;
                return Some(Location::at(
                    self.src,
                    Position {
                        line: line_no,
                        column,
                    },
                    key.chars().count(),
                ));
            }
            line_no = line_no.checked_sub(1).filter(|l| *l > 0)?;
        }
    }

    pub(super) fn key_loc(&self, key: &MarkedScalarNode) -> Option<Location> {
        self.loc(key.span(), Some(key.as_str()))
    }

    pub(super) fn node_loc(&self, node: &Node) -> Option<Location> {
        match node {
            Node::Scalar(s) if is_null(s) => self.empty_loc(s.span()),
            Node::Scalar(s) => self.loc(s.span(), Some(s.as_str())),
            // A mapping's span starts at its first value; its first key is where a reader looks.
            Node::Mapping(m) => match m.keys().next() {
                Some(k) => self.loc(k.span(), None),
                None => self.loc(m.span(), None),
            },
            other => self.loc(other.span(), None),
        }
    }

    pub(super) fn err(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    fn load_error(&mut self, e: LoadError) {
        let at = |m: &marked_yaml::Marker| {
            Location::at(
                self.src,
                Position {
                    line: m.line(),
                    column: m.column(),
                },
                1,
            )
        };
        let d = match &e {
            LoadError::TopLevelMustBeMapping(m) => Diagnostic::error(codes::YAML_SHAPE,
                "the file must be a mapping of keys (`version`, `runtime`, `build`, `run`)",
            )
            .at(at(m))
            .with_help("start the file with `version: 1.0` on a line of its own"),
            LoadError::TopLevelMustBeSequence(m) => Diagnostic::error(codes::YAML_SHAPE, "unexpected document shape").at(at(m)),
            LoadError::UnexpectedAnchor(m) => Diagnostic::error(codes::YAML_ANCHOR, "YAML anchors and aliases (`&name`, `*name`) are not supported in apprunner.yaml")
                .at(at(m))
                .with_help("write the value out in full"),
            LoadError::MappingKeyMustBeScalar(m) => Diagnostic::error(codes::YAML_SHAPE, "a key must be a plain name, not a list or mapping").at(at(m)),
            LoadError::UnexpectedTag(m) => Diagnostic::error(codes::YAML_TAG, "YAML tags (such as `!Sub` or `!Ref`) are not supported in apprunner.yaml")
                .at(at(m))
                .with_note("tags belong to CloudFormation templates; App Runner reads apprunner.yaml as plain YAML")
                .with_help("write the value itself; set per-environment values with `run.env` or `run.secrets`"),
            LoadError::ScanError(m, scan) => {
                super::syntax::syntax_error(self.src, m.line(), m.column(), scan.info())
            }
            LoadError::DuplicateKey(inner) => {
                let first = self.pos(inner.prev_key.span()).map(|p| p.line);
                let mut d = Diagnostic::error(codes::DUPLICATE_KEY, format!("`{}` appears twice in the same mapping", inner.key.as_str()))
                    .at_opt(self.key_loc(&inner.key))
                    .with_help("keep one of them; YAML does not merge repeated keys");
                if let Some(l) = first {
                    d = d.with_note(format!("first written on line {l}"));
                }
                d
            }
        };
        self.err(d);
    }

    /// Report keys of `map` not in `allowed`, with a suggestion. `section` is e.g. "run.network".
    pub(super) fn unknown_keys(
        &mut self,
        map: &MarkedMappingNode,
        allowed: &[&str],
        section: &str,
    ) {
        for key in map.keys() {
            let k = key.as_str();
            if allowed.contains(&k) {
                continue;
            }
            let place = if section.is_empty() {
                "at the top level".to_string()
            } else {
                format!("in `{section}`")
            };
            let mut d = Diagnostic::error(codes::UNKNOWN_KEY, format!("unknown key `{k}` {place}"))
                .at_opt(self.key_loc(key));
            let squashed = k.to_ascii_lowercase().replace(['_', '-'], "");
            if squashed == "healthcheck" {
                d = d
                    .with_note("health checks are a setting of the App Runner service (console, API or CLI: HealthCheckConfiguration), not of apprunner.yaml")
                    .with_help(format!(
                        "remove it from the file and set it on the service; to try it locally: apprunner-build run --health-check {}",
                        health_check_flag(map.get_node(k))
                    ));
            } else if let Some(near) = crate::report::suggest::closest(k, allowed) {
                d = d.with_help(format!("did you mean `{near}`?"));
            } else if let Some((_, hint)) =
                MISPLACED.iter().find(|(m, _)| m.eq_ignore_ascii_case(k))
            {
                d = d.with_help(*hint);
            } else {
                d = d.with_note(format!(
                    "keys allowed here: {}",
                    allowed
                        .iter()
                        .map(|a| format!("`{a}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            self.err(d);
        }
    }

    /// The value of a required top-level key, or a "missing" error.
    pub(super) fn required<'n>(
        &mut self,
        map: &'n MarkedMappingNode,
        key: &str,
        help: &str,
    ) -> Option<&'n Node> {
        let node = map.get_node(key);
        if node.is_none() {
            self.missing(key, None, help);
        }
        node
    }

    pub(super) fn key_loc_of(&self, map: &MarkedMappingNode, key: &str) -> Option<Location> {
        map.keys()
            .find(|k| k.as_str() == key)
            .and_then(|k| self.key_loc(k))
    }

    pub(super) fn missing(&mut self, what: &str, parent: Option<Location>, help: &str) {
        let loc = parent.or_else(|| Some(Location::file(&self.src.path)));
        self.err(
            Diagnostic::error(codes::MISSING_KEY, format!("missing required key `{what}`"))
                .at_opt(loc)
                .with_help(help.to_string()),
        );
    }

    pub(super) fn expect_mapping<'n>(
        &mut self,
        node: &'n Node,
        what: &str,
        help: &str,
    ) -> Option<&'n MarkedMappingNode> {
        match node {
            Node::Mapping(m) => Some(m),
            other => {
                let d = Diagnostic::error(
                    codes::WRONG_TYPE,
                    format!("`{what}` must be a mapping, but it is {}", describe(other)),
                )
                .at_opt(self.node_loc(other))
                .with_help(help.to_string());
                self.err(d);
                None
            }
        }
    }

    /// A non-empty scalar, as the text written (so `3.10` stays `3.10`).
    pub(super) fn scalar(&mut self, node: &Node, what: &str) -> Option<Spanned<String>> {
        match node {
            Node::Scalar(s) if !is_null(s) => Some(Spanned::new(
                s.as_str().trim().to_string(),
                self.loc(s.span(), Some(s.as_str())),
            )),
            other => {
                let d = Diagnostic::error(
                    codes::WRONG_TYPE,
                    format!(
                        "`{what}` must be a single value, but it is {}",
                        describe(other)
                    ),
                )
                .at_opt(self.node_loc(other));
                self.err(d);
                None
            }
        }
    }

    /// The runtime settings, read loosely: their type errors are reported by [`Self::top`].
    fn runtime_request(&self, root: &Node) -> RuntimeRequest {
        let scalar = |n: Option<&Node>| match n {
            Some(Node::Scalar(s)) if !is_null(s) => Some(Spanned::new(
                s.as_str().trim().to_string(),
                self.loc(s.span(), Some(s.as_str())),
            )),
            _ => None,
        };
        let map = root.as_mapping();
        let run = map.and_then(|m| m.get_mapping("run"));
        RuntimeRequest {
            runtime: scalar(map.and_then(|m| m.get_node("runtime"))),
            runtime_version: scalar(run.and_then(|r| r.get_node("runtime-version"))),
            pre_run_at: run
                .and_then(|r| r.keys().find(|k| k.as_str() == "pre-run"))
                .and_then(|k| self.key_loc(k)),
        }
    }

    fn top(&mut self, root: &Node) -> Option<AppRunnerConfig> {
        let map = root.as_mapping()?;
        self.unknown_keys(map, TOP_KEYS, "");
        let version = self
            .required(map, "version", "add `version: 1.0` as the first line")
            .and_then(|n| self.version(n));
        let runtime = self
            .required(
                map,
                "runtime",
                &format!("add `runtime:` with one of {APP_RUNNER_RUNTIMES}"),
            )
            .and_then(|n| match n {
                Node::Scalar(s) if is_null(s) => {
                    self.err(
                        Diagnostic::error(codes::EMPTY_VALUE, "`runtime` is empty")
                            .at_opt(self.empty_loc(s.span()))
                            .with_note(format!(
                                "App Runner's Python and Node.js runtimes: {APP_RUNNER_RUNTIMES}"
                            ))
                            .with_help("write the runtime after `runtime:`, e.g. `runtime: python311` or `runtime: nodejs22`"),
                    );
                    None
                }
                n => self.scalar(n, "runtime"),
            });
        let build = match map.get_node("build") {
            Some(n) => self.build(n, self.key_loc_of(map, "build")),
            None => {
                self.no_build_commands("no `build` section", None, &super::BuildSection::default());
                Some(super::BuildSection::default())
            }
        };
        let run = self
            .required(
                map,
                "run",
                "add a `run:` section with at least `command:` (how to start your application)",
            )
            .and_then(|n| self.run(n, self.key_loc_of(map, "run")));
        runtime?;
        Some(AppRunnerConfig {
            origin: ConfigOrigin::File(self.src.clone()),
            version: version?,
            build: build?,
            run: run?,
        })
    }

    fn version(&mut self, node: &Node) -> Option<String> {
        let v = self.scalar(node, "version")?;
        if matches!(v.value.as_str(), "1.0" | "1") {
            Some("1.0".into())
        } else {
            self.err(
                Diagnostic::error(
                    codes::UNSUPPORTED_VERSION,
                    format!("unsupported configuration file version `{}`", v.value),
                )
                .at_opt(v.location)
                .with_note("App Runner knows configuration file version 1.0 only")
                .with_help("write `version: 1.0`"),
            );
            None
        }
    }
}
