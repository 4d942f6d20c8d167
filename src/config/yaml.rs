//! Walking the YAML tree of `apprunner.yaml`, collecting every problem with its position.

use super::{
    check_env_names, check_secret_reference, AppRunnerConfig, BuildSection, ConfigOrigin, EnvVar,
    Parsed, RunSection, RuntimeHints, Secret, Spanned, DEFAULT_PORT,
};
use crate::diagnostic::{Diagnostic, Diagnostics, Location, Position, SourceText};
use marked_yaml::loader::LoadError;
use marked_yaml::types::{MarkedMappingNode, MarkedScalarNode, MarkedSequenceNode, Node};
use marked_yaml::{parse_yaml_with_options, LoaderOptions, Span};

const TOP_KEYS: &[&str] = &["version", "runtime", "build", "run"];
const BUILD_KEYS: &[&str] = &["commands", "env"];
const COMMAND_KEYS: &[&str] = &["pre-build", "build", "post-build"];
const RUN_KEYS: &[&str] = &[
    "runtime-version",
    "pre-run",
    "command",
    "network",
    "env",
    "secrets",
];
const NETWORK_KEYS: &[&str] = &["port", "env"];
const ENV_KEYS: &[&str] = &["name", "value"];
const SECRET_KEYS: &[&str] = &["name", "value-from"];

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
    ("health_check", "App Runner's health check is set on the service, not in apprunner.yaml"),
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
    let root = match parse_yaml_with_options(0, &*source.text, options) {
        Ok(root) => root,
        Err(e) => {
            w.load_error(e);
            return Parsed {
                config: None,
                diagnostics: w.diags,
                hints: Default::default(),
            };
        }
    };
    let config = w.top(&root);
    let hints = w.hints(&root);
    let diagnostics = w.diags.sorted();
    Parsed {
        config: if diagnostics.has_errors() {
            None
        } else {
            config
        },
        diagnostics,
        hints,
    }
}

struct Walker<'a> {
    src: &'a SourceText,
    diags: Diagnostics,
}

fn describe(node: &Node) -> &'static str {
    match node {
        Node::Mapping(_) => "a mapping",
        Node::Sequence(_) => "a list",
        Node::Scalar(s) if is_null(s) => "empty",
        Node::Scalar(_) => "a single value",
    }
}

fn is_null(s: &MarkedScalarNode) -> bool {
    s.may_coerce() && matches!(s.as_str(), "" | "~" | "null" | "Null" | "NULL")
}

impl Walker<'_> {
    fn pos(&self, span: &Span) -> Option<Position> {
        span.start().map(|m| Position {
            line: m.line(),
            column: m.column(),
        })
    }

    /// Location of a node; underlines the rest of its first line (or the scalar's text).
    fn loc(&self, span: &Span, text: Option<&str>) -> Option<Location> {
        let position = self.pos(span)?;
        let line = self.src.line(position.line).unwrap_or("");
        let rest = line.chars().skip(position.column - 1).collect::<String>();
        let width = match text {
            Some(t) if !t.contains('\n') && rest.contains(t) => t.chars().count(),
            _ => rest.trim_end().chars().count(),
        };
        Some(Location::at(self.src, position, width))
    }

    fn key_loc(&self, key: &MarkedScalarNode) -> Option<Location> {
        self.loc(key.span(), Some(key.as_str()))
    }

    fn node_loc(&self, node: &Node) -> Option<Location> {
        match node {
            Node::Scalar(s) => self.loc(s.span(), Some(s.as_str())),
            // A mapping's span starts at its first value; its first key is where a reader looks.
            Node::Mapping(m) => match m.keys().next() {
                Some(k) => self.loc(k.span(), None),
                None => self.loc(m.span(), None),
            },
            other => self.loc(other.span(), None),
        }
    }

    fn err(&mut self, d: Diagnostic) {
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
            LoadError::TopLevelMustBeMapping(m) => Diagnostic::error(
                "the file must be a mapping of keys (`version`, `runtime`, `build`, `run`)",
            )
            .at(at(m))
            .with_help("start the file with `version: 1.0` on a line of its own"),
            LoadError::TopLevelMustBeSequence(m) => Diagnostic::error("unexpected document shape").at(at(m)),
            LoadError::UnexpectedAnchor(m) => Diagnostic::error("YAML anchors and aliases (`&name`, `*name`) are not supported in apprunner.yaml")
                .at(at(m))
                .with_help("write the value out in full"),
            LoadError::MappingKeyMustBeScalar(m) => Diagnostic::error("a key must be a plain name, not a list or mapping").at(at(m)),
            LoadError::UnexpectedTag(m) => Diagnostic::error("YAML tags (such as `!Sub` or `!Ref`) are not supported in apprunner.yaml")
                .at(at(m))
                .with_note("tags belong to CloudFormation templates; App Runner reads apprunner.yaml as plain YAML")
                .with_help("write the value itself; set per-environment values with `run.env` or `run.secrets`"),
            LoadError::ScanError(m, scan) => Diagnostic::error(format!("invalid YAML: {}", scan.info()))
                .at(at(m))
                .with_help("check indentation and quoting on this line and the one before it; a value containing `: ` or starting with `*`, `&`, `!`, `{`, `[` must be quoted"),
            LoadError::DuplicateKey(inner) => {
                let first = self.pos(inner.prev_key.span()).map(|p| p.line);
                let mut d = Diagnostic::error(format!("`{}` appears twice in the same mapping", inner.key.as_str()))
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
    fn unknown_keys(&mut self, map: &MarkedMappingNode, allowed: &[&str], section: &str) {
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
            let mut d =
                Diagnostic::error(format!("unknown key `{k}` {place}")).at_opt(self.key_loc(key));
            if let Some(near) = crate::suggest::closest(k, allowed) {
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

    fn missing(&mut self, what: &str, parent: Option<Location>, help: &str) {
        let loc = parent.or_else(|| Some(Location::file(&self.src.path)));
        self.err(
            Diagnostic::error(format!("missing required key `{what}`"))
                .at_opt(loc)
                .with_help(help.to_string()),
        );
    }

    fn expect_mapping<'n>(
        &mut self,
        node: &'n Node,
        what: &str,
        help: &str,
    ) -> Option<&'n MarkedMappingNode> {
        match node {
            Node::Mapping(m) => Some(m),
            other => {
                let d = Diagnostic::error(format!(
                    "`{what}` must be a mapping, but it is {}",
                    describe(other)
                ))
                .at_opt(self.node_loc(other))
                .with_help(help.to_string());
                self.err(d);
                None
            }
        }
    }

    /// A non-empty scalar, as the text written (so `3.10` stays `3.10`).
    fn scalar(&mut self, node: &Node, what: &str) -> Option<Spanned<String>> {
        match node {
            Node::Scalar(s) if !is_null(s) => Some(Spanned::new(
                s.as_str().trim().to_string(),
                self.loc(s.span(), Some(s.as_str())),
            )),
            other => {
                let d = Diagnostic::error(format!(
                    "`{what}` must be a single value, but it is {}",
                    describe(other)
                ))
                .at_opt(self.node_loc(other));
                self.err(d);
                None
            }
        }
    }

    fn hints(&self, root: &Node) -> RuntimeHints {
        let scalar = |n: Option<&Node>| match n {
            Some(Node::Scalar(s)) if !is_null(s) => Some(Spanned::new(
                s.as_str().trim().to_string(),
                self.loc(s.span(), Some(s.as_str())),
            )),
            _ => None,
        };
        let map = root.as_mapping();
        let run = map.and_then(|m| m.get_mapping("run"));
        RuntimeHints {
            runtime: scalar(map.and_then(|m| m.get_node("runtime"))),
            runtime_version: scalar(run.and_then(|r| r.get_node("runtime-version"))),
            pre_run: run
                .and_then(|r| r.keys().find(|k| k.as_str() == "pre-run"))
                .and_then(|k| self.key_loc(k)),
        }
    }

    fn top(&mut self, root: &Node) -> Option<AppRunnerConfig> {
        let map = root.as_mapping()?;
        self.unknown_keys(map, TOP_KEYS, "");
        let version = match map.get_node("version") {
            Some(n) => self.version(n),
            None => {
                self.missing("version", None, "add `version: 1.0` as the first line");
                None
            }
        };
        let runtime = match map.get_node("runtime") {
            Some(n) => self.scalar(n, "runtime"),
            None => {
                self.missing("runtime", None, "add `runtime:` with one of python3, python311, nodejs12, nodejs14, nodejs16, nodejs18, nodejs22");
                None
            }
        };
        let build = match map.get_node("build") {
            Some(n) => self.build(n, self.key_loc(map.keys().find(|k| k.as_str() == "build")?)),
            None => {
                self.missing(
                    "build",
                    None,
                    "add a `build:` section with `commands:` → `build:` (a list of commands)",
                );
                None
            }
        };
        let run = match map.get_node("run") {
            Some(n) => self.run(n, self.key_loc(map.keys().find(|k| k.as_str() == "run")?)),
            None => {
                self.missing(
                    "run",
                    None,
                    "add a `run:` section with at least `command:` (how to start your application)",
                );
                None
            }
        };
        Some(AppRunnerConfig {
            origin: ConfigOrigin::File(self.src.clone()),
            version: version?,
            runtime: runtime?,
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
                Diagnostic::error(format!(
                    "unsupported configuration file version `{}`",
                    v.value
                ))
                .at_opt(v.location)
                .with_note("App Runner knows configuration file version 1.0 only")
                .with_help("write `version: 1.0`"),
            );
            None
        }
    }

    fn build(&mut self, node: &Node, key: Option<Location>) -> Option<BuildSection> {
        let map = self.expect_mapping(
            node,
            "build",
            "`build:` holds `commands:` and optionally `env:`",
        )?;
        self.unknown_keys(map, BUILD_KEYS, "build");
        let mut section = BuildSection::default();
        let mut ok = true;
        match map.get_node("commands") {
            Some(Node::Sequence(seq)) => {
                ok = false;
                self.err(
                    Diagnostic::error("`build.commands` must be a mapping of phases, but it is a list")
                        .at_opt(self.loc(seq.span(), None))
                        .with_help("put the commands under a phase:\n  build:\n    commands:\n      build:\n        - pip install -r requirements.txt"),
                );
            }
            Some(n) => {
                let commands_key = self.key_loc(map.keys().find(|k| k.as_str() == "commands")?);
                match self.expect_mapping(
                    n,
                    "build.commands",
                    "`commands:` holds `pre-build`, `build` and `post-build` lists",
                ) {
                    Some(cmds) => {
                        self.unknown_keys(cmds, COMMAND_KEYS, "build.commands");
                        section.pre_build = self
                            .command_list(cmds.get_node("pre-build"), "build.commands.pre-build")
                            .unwrap_or_else(|| {
                                ok = false;
                                vec![]
                            });
                        section.post_build = self
                            .command_list(cmds.get_node("post-build"), "build.commands.post-build")
                            .unwrap_or_else(|| {
                                ok = false;
                                vec![]
                            });
                        match cmds.get_node("build") {
                            Some(b) => section.build = self.command_list(Some(b), "build.commands.build").unwrap_or_else(|| { ok = false; vec![] }),
                            // App Runner's reference calls `build` required, yet files with only
                            // pre-build/post-build deploy; say so without failing them.
                            None if !section.pre_build.is_empty() || !section.post_build.is_empty() => self.err(
                                Diagnostic::warning("`build.commands` has no `build` phase; only the other phases will run")
                                    .at_opt(commands_key)
                                    .with_help("App Runner's reference lists `build` as required: add `build:` with your build commands"),
                            ),
                            None => {
                                ok = false;
                                self.missing("build.commands.build", commands_key, "add `build:` with the list of commands that build your application");
                            }
                        }
                    }
                    None => ok = false,
                }
            }
            None => {
                ok = false;
                self.missing("build.commands", key, "add `commands:` → `build:` with the list of commands that build your application");
            }
        }
        if let Some(env) = map.get_node("env") {
            match self.env_list(env, "build.env", None) {
                Some(vars) => section.env = vars,
                None => ok = false,
            }
        }
        ok.then_some(section)
    }

    /// A list of shell commands. `None` node: absent (fine). Returns None when anything is wrong.
    fn command_list(&mut self, node: Option<&Node>, what: &str) -> Option<Vec<String>> {
        let node = match node {
            None => return Some(vec![]),
            Some(Node::Scalar(s)) if is_null(s) => return Some(vec![]),
            Some(n) => n,
        };
        let seq: &MarkedSequenceNode = match node {
            Node::Sequence(seq) => seq,
            Node::Scalar(s) => {
                self.err(
                    Diagnostic::error(format!(
                        "`{what}` must be a list of commands, but it is a single value"
                    ))
                    .at_opt(self.loc(s.span(), Some(s.as_str())))
                    .with_help(format!(
                        "write each command on its own line starting with `- `:\n  - {}",
                        s.as_str()
                    )),
                );
                return None;
            }
            other => {
                let d = Diagnostic::error(format!(
                    "`{what}` must be a list of commands, but it is {}",
                    describe(other)
                ))
                .at_opt(self.node_loc(other));
                self.err(d);
                return None;
            }
        };
        let mut out = Vec::new();
        let mut ok = true;
        for item in seq.iter() {
            match item {
                Node::Scalar(s) if !is_null(s) => out.push(s.as_str().to_string()),
                Node::Mapping(_) => {
                    ok = false;
                    let line = self
                        .pos(item.span())
                        .and_then(|p| self.src.line(p.line))
                        .unwrap_or("")
                        .trim()
                        .trim_start_matches("- ")
                        .to_string();
                    self.err(
                        Diagnostic::error(format!("a command in `{what}` is not a string: YAML read it as a mapping"))
                            .at_opt(self.node_loc(item))
                            .with_note("an unquoted `: ` (colon and space) makes YAML read the text before it as a key")
                            .with_help(format!("quote the whole command: - '{}'", line.replace('\'', "'\"'\"'"))),
                    );
                }
                other => {
                    ok = false;
                    let d = Diagnostic::error(format!(
                        "a command in `{what}` must be a string, but it is {}",
                        describe(other)
                    ))
                    .at_opt(self.node_loc(other));
                    self.err(d);
                }
            }
        }
        ok.then_some(out)
    }

    /// `port`: for `run.env`, the service port, so that a quoted restatement of it as PORT is
    /// tolerated (it changes nothing) while any other PORT is an error.
    fn env_list(&mut self, node: &Node, what: &str, port: Option<u16>) -> Option<Vec<EnvVar>> {
        let items = self.item_list(
            node,
            what,
            ENV_KEYS,
            "- name: MY_VARIABLE\n  value: \"my value\"",
        )?;
        let mut vars = Vec::new();
        let mut names = Vec::new();
        let mut ok = true;
        for (map, loc) in items {
            let name = self.item_field(map, "name", what, loc.clone());
            let value = self.item_field(map, "value", what, loc.clone());
            let (Some(n), Some(v)) = (name, value) else {
                ok = false;
                continue;
            };
            let quoted = map.get_scalar("value").is_some_and(|s| !s.may_coerce());
            if let Some(port) =
                port.filter(|p| n.value == "PORT" && quoted && v.value == p.to_string())
            {
                self.err(
                    Diagnostic::warning(format!("`PORT` in `{what}` only repeats the port ({port}); App Runner sets PORT itself"))
                        .at_opt(n.location.clone())
                        .with_help("remove this item; PORT always equals `run.network.port`"),
                );
                continue;
            }
            names.push((n.value.clone(), n.location.clone()));
            vars.push(EnvVar {
                name: n.value,
                value: v.value,
            });
        }
        let before = self.diags.error_count();
        check_env_names(
            names.iter().map(|(n, l)| (n.as_str(), l.clone())),
            &format!("`{what}`"),
            &mut self.diags,
        );
        (ok && self.diags.error_count() == before).then_some(vars)
    }

    /// A list of mappings with the given keys (env and secrets items).
    fn item_list<'n>(
        &mut self,
        node: &'n Node,
        what: &str,
        keys: &[&str],
        example: &str,
    ) -> Option<Vec<(&'n MarkedMappingNode, Option<Location>)>> {
        let seq = match node {
            Node::Sequence(seq) => seq,
            Node::Scalar(s) if is_null(s) => return Some(vec![]),
            other => {
                let d = Diagnostic::error(format!(
                    "`{what}` must be a list of name/value items, but it is {}",
                    describe(other)
                ))
                .at_opt(self.node_loc(other))
                .with_help(format!(
                    "write it as:\n  {}:\n    {}",
                    what.rsplit('.').next().unwrap_or(what),
                    example.replace('\n', "\n    ")
                ));
                self.err(d);
                return None;
            }
        };
        let mut out = Vec::new();
        let mut ok = true;
        for item in seq.iter() {
            match item {
                Node::Mapping(m) => {
                    self.unknown_keys(m, keys, what);
                    out.push((m, self.node_loc(item)));
                }
                other => {
                    ok = false;
                    let d = Diagnostic::error(format!(
                        "an item of `{what}` must have {}, but it is {}",
                        keys.iter()
                            .map(|k| format!("`{k}`"))
                            .collect::<Vec<_>>()
                            .join(" and "),
                        describe(other)
                    ))
                    .at_opt(self.node_loc(other))
                    .with_help(format!("write it as:\n  {}", example.replace('\n', "\n  ")));
                    self.err(d);
                }
            }
        }
        ok.then_some(out)
    }

    fn item_field(
        &mut self,
        map: &MarkedMappingNode,
        field: &str,
        what: &str,
        item: Option<Location>,
    ) -> Option<Spanned<String>> {
        match map.get_node(field) {
            Some(Node::Scalar(s)) if is_null(s) && field == "value" => {
                // An explicitly empty value (`value: ""`) is a value; `value:` with nothing is not.
                self.err(
                    Diagnostic::error(format!("`value` of an item in `{what}` is empty"))
                        .at_opt(self.loc(s.span(), None))
                        .with_help("write `value: \"\"` for an empty string, or remove the item"),
                );
                None
            }
            Some(n) => {
                let v = self.scalar(n, &format!("{what}[].{field}"))?;
                Some(v)
            }
            None => {
                let name = map.get_scalar("name").map(|s| s.as_str().to_string());
                let mut d = Diagnostic::error(match &name {
                    Some(n) if field != "name" => format!("`{n}` in `{what}` has no `{field}`"),
                    _ => format!("an item in `{what}` has no `{field}`"),
                })
                .at_opt(item);
                if what == "run.env" || what == "build.env" {
                    d = d.with_note("apprunner.yaml must give every variable a value; values set in the App Runner console are not read from this file");
                    d = d.with_help("add `value: ...`, or for a secret use `run.secrets` with `value-from:` (a Secrets Manager or SSM ARN)");
                }
                self.err(d);
                None
            }
        }
    }

    fn run(&mut self, node: &Node, key: Option<Location>) -> Option<RunSection> {
        let map = self.expect_mapping(node, "run", "`run:` holds `command:` and optionally `runtime-version`, `pre-run`, `network`, `env`, `secrets`")?;
        self.unknown_keys(map, RUN_KEYS, "run");
        let mut ok = true;
        let runtime_version = map.get_node("runtime-version").and_then(|n| {
            let v = self.scalar(n, "run.runtime-version");
            ok &= v.is_some();
            v
        });
        let pre_run_location = map
            .keys()
            .find(|k| k.as_str() == "pre-run")
            .and_then(|k| self.key_loc(k));
        let pre_run = self
            .command_list(map.get_node("pre-run"), "run.pre-run")
            .unwrap_or_else(|| {
                ok = false;
                vec![]
            });
        let command = match map.get_node("command") {
            Some(n) => self.scalar(n, "run.command").map(|s| s.value),
            None => {
                self.missing("run.command", key, "add `command:` with how to start your application, e.g. `command: python server.py`");
                None
            }
        };
        let (port, port_env) = match map.get_node("network") {
            Some(n) => self.network(n).unwrap_or_else(|| {
                ok = false;
                (DEFAULT_PORT, None)
            }),
            None => (DEFAULT_PORT, None),
        };
        let env = match map.get_node("env") {
            Some(n) => self.env_list(n, "run.env", Some(port)).unwrap_or_else(|| {
                ok = false;
                vec![]
            }),
            None => vec![],
        };
        let secrets = match map.get_node("secrets") {
            Some(n) => self.secrets(n, &env).unwrap_or_else(|| {
                ok = false;
                vec![]
            }),
            None => vec![],
        };
        if let Some(pe) = &port_env {
            if let Some(clash) = env.iter().find(|e| &e.name == pe) {
                ok = false;
                self.err(
                    Diagnostic::error(format!(
                        "`{}` is both `run.network.env` and a variable in `run.env`",
                        clash.name
                    ))
                    .at_opt(
                        map.get_mapping("network")
                            .and_then(|n| n.get_node("env"))
                            .and_then(|n| self.node_loc(n)),
                    )
                    .with_note("App Runner sets the `run.network.env` variable to the port")
                    .with_help("remove it from `run.env`"),
                );
            }
        }
        let command = command?;
        ok.then_some(RunSection {
            runtime_version,
            pre_run,
            pre_run_location,
            command,
            port,
            port_env,
            env,
            secrets,
        })
    }

    fn network(&mut self, node: &Node) -> Option<(u16, Option<String>)> {
        let map = match node {
            Node::Scalar(s) if is_null(s) => {
                self.err(
                    Diagnostic::warning(
                        "`run.network` is empty: the defaults apply (port 8080, no extra variable)",
                    )
                    .at_opt(self.loc(s.span(), None))
                    .with_help("remove `network:`, or give it `port:` and optionally `env:`"),
                );
                return Some((DEFAULT_PORT, None));
            }
            n => self.expect_mapping(
                n,
                "run.network",
                "`network:` holds `port:` and optionally `env:`",
            )?,
        };
        self.unknown_keys(map, NETWORK_KEYS, "run.network");
        let mut ok = true;
        let port = match map.get_node("port") {
            None => DEFAULT_PORT,
            Some(n) => match self.scalar(n, "run.network.port") {
                Some(p) => match p.value.parse::<u32>() {
                    Ok(v) if (1..=65535).contains(&v) => v as u16,
                    _ => {
                        ok = false;
                        self.err(
                            Diagnostic::error(format!("`run.network.port` must be a whole number from 1 to 65535, but it is `{}`", p.value))
                                .at(p.location.unwrap_or_else(|| Location::file(&self.src.path)))
                                .with_help("write the port your application listens on, e.g. `port: 8080`"),
                        );
                        DEFAULT_PORT
                    }
                },
                None => {
                    ok = false;
                    DEFAULT_PORT
                }
            },
        };
        let env = match map.get_node("env") {
            None => None,
            Some(n) => match self.scalar(n, "run.network.env") {
                Some(name) => {
                    if let Some(why) = super::env_name_problem(&name.value) {
                        ok = false;
                        self.err(
                            Diagnostic::error(format!(
                                "invalid variable name in `run.network.env`: {why}"
                            ))
                            .at_opt(name.location),
                        );
                        None
                    } else if name.value == "PORT" {
                        self.err(
                            Diagnostic::warning("`run.network.env: PORT` changes nothing: PORT is always set to the port")
                                .at_opt(name.location)
                                .with_help("remove `env: PORT`, or name the second variable your application reads"),
                        );
                        None
                    } else if let Some(why) = super::reserved_name(&name.value) {
                        ok = false;
                        self.err(
                            Diagnostic::error(format!(
                                "`{}` in `run.network.env` is reserved",
                                name.value
                            ))
                            .at_opt(name.location)
                            .with_note(why),
                        );
                        None
                    } else {
                        Some(name.value)
                    }
                }
                None => {
                    ok = false;
                    None
                }
            },
        };
        ok.then_some((port, env))
    }

    fn secrets(&mut self, node: &Node, env: &[EnvVar]) -> Option<Vec<Secret>> {
        let items = self.item_list(node, "run.secrets", SECRET_KEYS, "- name: DB_PASSWORD\n  value-from: arn:aws:secretsmanager:us-east-1:123456789012:secret:db-password")?;
        let mut out = Vec::new();
        let mut names = Vec::new();
        let mut ok = true;
        for (map, loc) in items {
            let name = self.item_field(map, "name", "run.secrets", loc.clone());
            let from = self.item_field(map, "value-from", "run.secrets", loc);
            let (Some(name), Some(from)) = (name, from) else {
                ok = false;
                continue;
            };
            if let Err(why) = check_secret_reference(&from.value) {
                ok = false;
                self.err(
                    Diagnostic::error(format!("`value-from` of secret `{}` is not a secret reference: {why}", name.value))
                        .at_opt(from.location.clone())
                        .with_help("use a Secrets Manager ARN (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME), an SSM parameter ARN (arn:aws:ssm:REGION:ACCOUNT:parameter/NAME) or a parameter name (/my/parameter)"),
                );
            }
            if env.iter().any(|e| e.name == name.value) {
                ok = false;
                self.err(
                    Diagnostic::error(format!(
                        "`{}` is both a secret and a variable in `run.env`",
                        name.value
                    ))
                    .at_opt(name.location.clone())
                    .with_help("keep one of them"),
                );
            }
            names.push((name.value.clone(), name.location.clone()));
            out.push(Secret {
                name: name.value,
                value_from: from.value,
            });
        }
        let before = self.diags.error_count();
        check_env_names(
            names.iter().map(|(n, l)| (n.as_str(), l.clone())),
            "`run.secrets`",
            &mut self.diags,
        );
        (ok && self.diags.error_count() == before).then_some(out)
    }
}
