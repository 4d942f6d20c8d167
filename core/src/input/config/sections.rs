//! The `build:` and `run:` sections of apprunner.yaml: commands, env, network, secrets.

use super::yaml::{
    describe, is_null, Walker, BUILD_KEYS, COMMAND_KEYS, NOTHING_TO_BUILD, RUN_KEYS,
};
use super::{BuildSection, RunSection, DEFAULT_PORT};
use crate::report::codes;
use crate::report::diagnostic::{Diagnostic, Location};
use marked_yaml::types::{MarkedSequenceNode, Node};

impl Walker<'_> {
    pub(super) fn build(&mut self, node: &Node, key: Option<Location>) -> Option<BuildSection> {
        if let Node::Scalar(s) = node {
            if is_null(s) {
                self.no_build_commands(
                    "`build` is empty",
                    self.empty_loc(s.span()),
                    &BuildSection::default(),
                );
                return Some(BuildSection::default());
            }
        }
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
                    Diagnostic::error(codes::WRONG_TYPE, "`build.commands` must be a mapping of phases, but it is a list")
                        .at_opt(self.loc(seq.span(), None))
                        .with_help("put the commands under a phase:\n  build:\n    commands:\n      build:\n        - pip install -r requirements.txt"),
                );
            }
            Some(Node::Scalar(s)) if is_null(s) => {
                self.no_build_commands(
                    "`build.commands` is empty",
                    self.empty_loc(s.span()),
                    &BuildSection::default(),
                );
            }
            Some(n) => {
                let commands_key = self.key_loc_of(map, "commands");
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
                        let phase = cmds.get_node("build");
                        // An empty or null phase builds as little as a missing one: said alike.
                        let empty = match phase {
                            None => Some(("`build.commands` has no `build` phase", commands_key)),
                            Some(Node::Scalar(s)) if is_null(s) => Some((
                                "`build.commands.build` is empty",
                                self.key_loc_of(cmds, "build"),
                            )),
                            Some(Node::Sequence(seq)) if seq.is_empty() => Some((
                                "`build.commands.build` is an empty list",
                                self.key_loc_of(cmds, "build"),
                            )),
                            Some(b) => {
                                section.build = self
                                    .command_list(Some(b), "build.commands.build")
                                    .unwrap_or_else(|| {
                                        ok = false;
                                        vec![]
                                    });
                                None
                            }
                        };
                        if let Some((what, at)) = empty {
                            self.no_build_commands(what, at, &section);
                        }
                    }
                    None => ok = false,
                }
            }
            None => {
                self.no_build_commands("`build` has no `commands`", key, &BuildSection::default())
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

    /// No `build` phase to run, however it is written (no `build` section, no `commands`, no
    /// `build` phase, or one that is null or an empty list). One rule, one severity: a warning.
    /// App Runner's guide marks `build.commands.build` "Required", but App Runner is known to
    /// build a file that has pre-build and no `build` phase (conformance file 049, a deployed
    /// nodejs12 service), and its API's build command (`CodeConfigurationValues.BuildCommand`) is
    /// optional. Whether it builds a file with no `build` section at all is not known: no real
    /// file shows it either way, so it gets the severity of the case that is known.
    pub(super) fn no_build_commands(
        &mut self,
        what: &str,
        at: Option<Location>,
        others: &BuildSection,
    ) {
        let runs = match (others.pre_build.is_empty(), others.post_build.is_empty()) {
            (true, true) => "the build runs no commands",
            (false, true) => "only pre-build runs",
            (true, false) => "only post-build runs",
            (false, false) => "only pre-build and post-build run",
        };
        self.err(
            Diagnostic::warning(codes::NO_BUILD_COMMANDS, format!("{what}: {runs}"))
                .at_opt(at.or_else(|| Some(Location::file(&self.src.path))))
                .with_note("App Runner's guide marks the `build` phase as required, yet App Runner builds files without one: a warning, not an error")
                .with_help(format!("add the `build` phase (`build:` → `commands:` → `build:`) with the commands that build your application; {NOTHING_TO_BUILD}")),
        );
    }

    /// A list of shell commands. `None` node: absent (fine). Returns None when anything is wrong.
    pub(super) fn command_list(&mut self, node: Option<&Node>, what: &str) -> Option<Vec<String>> {
        let node = match node {
            None => return Some(vec![]),
            Some(Node::Scalar(s)) if is_null(s) => return Some(vec![]),
            Some(n) => n,
        };
        let seq: &MarkedSequenceNode = match node {
            Node::Sequence(seq) => seq,
            Node::Scalar(s) => {
                self.err(
                    Diagnostic::error(
                        codes::WRONG_TYPE,
                        format!("`{what}` must be a list of commands, but it is a single value"),
                    )
                    .at_opt(self.loc(s.span(), Some(s.as_str())))
                    .with_help(format!(
                        "write each command on its own line starting with `- `:\n  - {}",
                        s.as_str()
                    )),
                );
                return None;
            }
            other => {
                let d = Diagnostic::error(
                    codes::WRONG_TYPE,
                    format!(
                        "`{what}` must be a list of commands, but it is {}",
                        describe(other)
                    ),
                )
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
                        Diagnostic::error(codes::COMMAND_READ_AS_MAPPING, format!("a command in `{what}` is not a string: YAML read it as a mapping"))
                            .at_opt(self.node_loc(item))
                            .with_note("an unquoted `: ` (colon and space) makes YAML read the text before it as a key")
                            .with_help(format!("quote the whole command: - '{}'", line.replace('\'', "'\"'\"'"))),
                    );
                }
                other => {
                    ok = false;
                    let d = Diagnostic::error(
                        codes::WRONG_TYPE,
                        format!(
                            "a command in `{what}` must be a string, but it is {}",
                            describe(other)
                        ),
                    )
                    .at_opt(self.node_loc(other));
                    self.err(d);
                }
            }
        }
        ok.then_some(out)
    }

    pub(super) fn run(&mut self, node: &Node, key: Option<Location>) -> Option<RunSection> {
        let map = self.expect_mapping(node, "run", "`run:` holds `command:` and optionally `runtime-version`, `pre-run`, `network`, `env`, `secrets`")?;
        self.unknown_keys(map, RUN_KEYS, "run");
        let mut ok = true;
        if let Some(n) = map.get_node("runtime-version") {
            ok &= self.scalar(n, "run.runtime-version").is_some();
        }
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
        let mut port_known = true;
        let (port, port_env) = match map.get_node("network") {
            Some(n) => self.network(n).unwrap_or_else(|| {
                ok = false;
                port_known = false;
                (DEFAULT_PORT, None)
            }),
            None => (DEFAULT_PORT, None),
        };
        // Where the service port is written (None: the default, 8080).
        let port_at = map
            .get_mapping("network")
            .and_then(|n| n.get_node("port"))
            .and_then(|n| self.node_loc(n));
        let env = match map.get_node("env") {
            Some(n) => self
                .env_list(n, "run.env", Some((port_known.then_some(port), port_at)))
                .unwrap_or_else(|| {
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
                    Diagnostic::error(
                        codes::DUPLICATE_VARIABLE,
                        format!(
                            "`{}` is both `run.network.env` and a variable in `run.env`",
                            clash.name
                        ),
                    )
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
            pre_run,
            command,
            port,
            port_env,
            env,
            secrets,
            path_prepend: vec![],
        })
    }
}
