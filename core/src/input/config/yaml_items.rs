//! The list-shaped and nested parts of `apprunner.yaml`: variables, secrets, the network.

use super::yaml::{describe, is_null, Walker, ENV_KEYS, NETWORK_KEYS, SECRET_KEYS};
use super::{check_env_names, check_secret_reference, EnvVar, Secret, Spanned, DEFAULT_PORT};
use crate::report::codes;
use crate::report::diagnostic::{Diagnostic, Location};
use marked_yaml::types::{MarkedMappingNode, Node};

/// A variable's value with a NUL byte (YAML's `"\0"`): no process can receive it in its
/// environment, so the build or the service would fail, or get the value cut short.
pub(super) fn nul_in_value(name: &str, what: &str, at: Option<Location>) -> Diagnostic {
    Diagnostic::error(
        codes::NUL_IN_VALUE,
        format!(
            "the value of `{}` in `{what}` contains a NUL byte",
            name.escape_debug()
        ),
    )
    .at_opt(at)
    .with_note("no process can receive a NUL byte in its environment: the value would be cut short or the command would fail")
    .with_help("remove the NUL (`\\0`) from the value")
}

impl Walker<'_> {
    /// `port`: for `run.env`, the service port (None: `run.network` is broken, already reported)
    /// and where it is written (None: the default). A `PORT` item equal to it is harmless (App
    /// Runner sets PORT anyway): a warning, however it is quoted. Any other `PORT` is an error
    /// that names both lines.
    pub(super) fn env_list(
        &mut self,
        node: &Node,
        what: &str,
        port: Option<(Option<u16>, Option<Location>)>,
    ) -> Option<Vec<EnvVar>> {
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
            if let (Some((port, port_at)), "PORT") = (&port, n.value.as_str()) {
                if let Some(port) = port {
                    ok &= self.port_item(what, &n, &v, *port, port_at.clone());
                }
                continue;
            }
            if v.value.contains('\0') {
                self.diags
                    .push(nul_in_value(&n.value, what, v.location.clone()));
                ok = false;
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

    /// `PORT` in `run.env`: a warning when it equals the service port (`3000` and `"3000"` alike),
    /// else an error at the item that names the port's line. Returns false on an error.
    fn port_item(
        &mut self,
        what: &str,
        name: &Spanned<String>,
        value: &Spanned<String>,
        port: u16,
        port_at: Option<Location>,
    ) -> bool {
        let service_port = match port_at.as_ref().and_then(|l| l.position) {
            Some(p) => format!("`run.network.port` ({port}, line {})", p.line),
            None => format!("the default port {port} (no `run.network.port`)"),
        };
        if value.value.trim().parse::<u32>().ok() == Some(u32::from(port)) {
            self.err(
                Diagnostic::warning(
                    codes::PORT_REPEATED,
                    format!("`PORT` in `{what}` only repeats the service port ({port}); App Runner sets PORT itself"),
                )
                .at_opt(name.location.clone())
                .with_note(format!("the service port is {service_port}"))
                .with_help("remove this item; PORT always equals the service port"),
            );
            return true;
        }
        let mut d = Diagnostic::error(
            codes::PORT_MISMATCH,
            format!(
                "`PORT` in `{what}` is `{}`, but the service port is {port}",
                value.value
            ),
        )
        .at_opt(value.location.clone())
        .with_note(format!(
            "App Runner sets PORT to the service port, {service_port}; this value would be overridden, and the health check goes to port {port}"
        ));
        if let Some(at) = &port_at {
            d = d.with_note(format!("the service port is set at {}", at.short()));
        }
        self.err(d.with_help(match port_at {
            Some(_) => "remove this item, and set `run.network.port` to the port your application listens on".to_string(),
            None => "remove this item, and add `network:` → `port:` under `run:` with the port your application listens on".to_string(),
        }));
        false
    }

    /// A list of mappings with the given keys (env and secrets items).
    pub(super) fn item_list<'n>(
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
                let d = Diagnostic::error(
                    codes::WRONG_TYPE,
                    format!(
                        "`{what}` must be a list of name/value items, but it is {}",
                        describe(other)
                    ),
                )
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
                    let d = Diagnostic::error(
                        codes::WRONG_TYPE,
                        format!(
                            "an item of `{what}` must have {}, but it is {}",
                            keys.iter()
                                .map(|k| format!("`{k}`"))
                                .collect::<Vec<_>>()
                                .join(" and "),
                            describe(other)
                        ),
                    )
                    .at_opt(self.node_loc(other))
                    .with_help(format!("write it as:\n  {}", example.replace('\n', "\n  ")));
                    self.err(d);
                }
            }
        }
        ok.then_some(out)
    }

    pub(super) fn item_field(
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
                    Diagnostic::error(
                        codes::EMPTY_VALUE,
                        format!("`value` of an item in `{what}` is empty"),
                    )
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
                let mut d = Diagnostic::error(
                    codes::MISSING_FIELD,
                    match &name {
                        Some(n) if field != "name" => format!("`{n}` in `{what}` has no `{field}`"),
                        _ => format!("an item in `{what}` has no `{field}`"),
                    },
                )
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

    pub(super) fn network(&mut self, node: &Node) -> Option<(u16, Option<String>)> {
        let map = match node {
            Node::Scalar(s) if is_null(s) => {
                self.err(
                    Diagnostic::warning(
                        codes::EMPTY_NETWORK,
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
                            Diagnostic::error(codes::INVALID_PORT, format!("`run.network.port` must be a whole number from 1 to 65535, but it is `{}`", p.value))
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
                            Diagnostic::error(
                                codes::INVALID_VARIABLE_NAME,
                                format!("invalid variable name in `run.network.env`: {why}"),
                            )
                            .at_opt(name.location),
                        );
                        None
                    } else if name.value == "PORT" {
                        self.err(
                            Diagnostic::warning(codes::PORT_REPEATED, "`run.network.env: PORT` changes nothing: PORT is always set to the port")
                                .at_opt(name.location)
                                .with_help("remove `env: PORT`, or name the second variable your application reads"),
                        );
                        None
                    } else if let Some(why) = super::reserved_name(&name.value) {
                        ok = false;
                        self.err(
                            Diagnostic::error(
                                codes::RESERVED_VARIABLE,
                                format!("`{}` in `run.network.env` is reserved", name.value),
                            )
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

    pub(super) fn secrets(&mut self, node: &Node, env: &[EnvVar]) -> Option<Vec<Secret>> {
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
                    Diagnostic::error(codes::INVALID_SECRET_REFERENCE, format!("`value-from` of secret `{}` is not a secret reference: {why}", name.value))
                        .at_opt(from.location.clone())
                        .with_help("use a Secrets Manager ARN (arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME), an SSM parameter ARN (arn:aws:ssm:REGION:ACCOUNT:parameter/NAME) or a parameter name (/my/parameter)"),
                );
            }
            if env.iter().any(|e| e.name == name.value) {
                ok = false;
                self.err(
                    Diagnostic::error(
                        codes::DUPLICATE_VARIABLE,
                        format!(
                            "`{}` is both a secret and a variable in `run.env`",
                            name.value
                        ),
                    )
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
