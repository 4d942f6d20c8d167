//! What a JavaScript or TypeScript file loads: `require("x")`, `import … from "x"`, `import("x")`,
//! `export … from "x"`, each with its line. Type-only imports load nothing at run time and are left
//! out; a `require`/`import()` whose module is computed is reported as dynamic. A small lexer
//! (comments, strings, templates, regular expressions) is enough: the aim is the module names, not
//! the program.

/// One module a file loads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Load {
    /// A literal module name: `./config/env`, `dotenv`, `node:fs`.
    Module { specifier: String, line: usize },
    /// `require(name)` or `import(name)` with a computed name: it may load anything.
    Computed { line: usize },
}

#[derive(Debug, Clone, PartialEq)]
enum Tok<'a> {
    Ident(&'a str),
    /// A string literal, or a template without substitutions.
    Str(String),
    /// A template with `${…}`: not a module name.
    Template,
    Punct(char),
}

#[derive(Debug, Clone)]
struct Token<'a> {
    tok: Tok<'a>,
    line: usize,
}

/// Every module `text` loads, in order.
pub(super) fn loads(text: &str) -> Vec<Load> {
    let tokens = lex(text);
    let mut found = Vec::new();
    let at = |i: usize| tokens.get(i).map(|t| &t.tok);
    for (i, token) in tokens.iter().enumerate() {
        let after_dot = i > 0 && at(i - 1) == Some(&Tok::Punct('.'));
        match token.tok {
            Tok::Ident("require") if !after_dot && at(i + 1) == Some(&Tok::Punct('(')) => {
                found.push(call_argument(&tokens, i + 2, token.line));
            }
            Tok::Ident("import") if !after_dot => match at(i + 1) {
                Some(Tok::Punct('(')) => found.push(call_argument(&tokens, i + 2, token.line)),
                Some(Tok::Str(s)) => found.push(Load::Module {
                    specifier: s.clone(),
                    line: token.line,
                }),
                Some(Tok::Punct('.')) => {} // import.meta
                _ => {
                    if let Some(specifier) = from_clause(&tokens, i + 1) {
                        found.push(Load::Module {
                            specifier,
                            line: token.line,
                        });
                    }
                }
            },
            Tok::Ident("export") if !after_dot => {
                if matches!(at(i + 1), Some(Tok::Punct('{' | '*'))) {
                    if let Some(specifier) = from_clause(&tokens, i + 1) {
                        found.push(Load::Module {
                            specifier,
                            line: token.line,
                        });
                    }
                }
            }
            _ => {}
        }
    }
    found
}

/// `("x")` → the module `x`; anything else between the parentheses is computed.
fn call_argument(tokens: &[Token], i: usize, line: usize) -> Load {
    match (
        tokens.get(i).map(|t| &t.tok),
        tokens.get(i + 1).map(|t| &t.tok),
    ) {
        (Some(Tok::Str(s)), Some(Tok::Punct(')' | ','))) => Load::Module {
            specifier: s.clone(),
            line,
        },
        _ => Load::Computed { line },
    }
}

/// The module of `import … from "x"` / `export { … } from "x"` starting after the keyword;
/// `None` for a type-only one (`import type …`, `import { type A, type B } …`, `export type …`)
/// or when no `from` follows within the statement.
fn from_clause(tokens: &[Token], start: usize) -> Option<String> {
    let at = |i: usize| tokens.get(i).map(|t| &t.tok);
    // `import type X from`, `import type { A } from`, `import type * as n from`; but
    // `import type from "x"` and `import type, { a } from "x"` import a binding named `type`.
    if at(start) == Some(&Tok::Ident("type"))
        && !matches!(at(start + 1), Some(Tok::Ident("from") | Tok::Punct(',')))
    {
        return None;
    }
    let mut i = start;
    let mut in_braces = false;
    let mut brace_items = 0;
    let mut type_items = 0;
    let mut outside_braces = 0;
    let mut item_start = true;
    while let Some(tok) = at(i) {
        match tok {
            Tok::Ident("from") if !in_braces => {
                let Some(Tok::Str(s)) = at(i + 1) else {
                    return None;
                };
                let only_types =
                    brace_items > 0 && type_items == brace_items && outside_braces == 0;
                return (!only_types).then(|| s.clone());
            }
            Tok::Punct('{') => {
                in_braces = true;
                item_start = true;
            }
            Tok::Punct('}') => in_braces = false,
            Tok::Punct(',') => item_start = true,
            Tok::Punct(';') => return None,
            Tok::Ident(word) if in_braces && item_start => {
                brace_items += 1;
                if *word == "type" && matches!(at(i + 1), Some(Tok::Ident(_))) {
                    type_items += 1;
                }
                item_start = false;
            }
            Tok::Ident(_) | Tok::Punct('*') if !in_braces => outside_braces += 1,
            Tok::Str(_) | Tok::Template => return None,
            _ => {}
        }
        i += 1;
        if i > start + 400 {
            return None;
        }
    }
    None
}

/// Tokens of `text`; comments, regular expressions and the content of templates are dropped.
fn lex(text: &str) -> Vec<Token<'_>> {
    let bytes = text.as_bytes();
    let mut tokens: Vec<Token> = Vec::new();
    let mut line = 1;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'\n' => {
                line += 1;
                i += 1;
            }
            b' ' | b'\t' | b'\r' => i += 1,
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i < bytes.len() && !(bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/')) {
                    if bytes[i] == b'\n' {
                        line += 1;
                    }
                    i += 1;
                }
                i += 2;
            }
            b'/' if regex_may_start(tokens.last().map(|t| &t.tok)) => {
                i = skip_regex(bytes, i + 1);
            }
            b'\'' | b'"' => {
                let (value, end) = string(text, i);
                tokens.push(Token {
                    tok: Tok::Str(value),
                    line,
                });
                i = end;
            }
            b'`' => {
                let start_line = line;
                let (tok, end, lines) = template(text, i);
                line += lines;
                tokens.push(Token {
                    tok,
                    line: start_line,
                });
                i = end;
            }
            c if c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80 => {
                let start = i;
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric()
                        || bytes[i] == b'_'
                        || bytes[i] == b'$'
                        || bytes[i] >= 0x80)
                {
                    i += 1;
                }
                tokens.push(Token {
                    tok: Tok::Ident(&text[start..i]),
                    line,
                });
            }
            c => {
                tokens.push(Token {
                    tok: Tok::Punct(c as char),
                    line,
                });
                i += 1;
            }
        }
    }
    tokens
}

/// After these a `/` starts a regular expression, not a division.
fn regex_may_start(previous: Option<&Tok>) -> bool {
    match previous {
        None => true,
        Some(Tok::Punct(c)) => !matches!(c, ')' | ']' | '}'),
        Some(Tok::Ident(word)) => matches!(
            *word,
            "return" | "typeof" | "case" | "do" | "else" | "in" | "of" | "new" | "delete" | "void"
        ),
        Some(_) => false,
    }
}

/// Past a regular expression's closing `/` (its flags are lexed as an identifier).
fn skip_regex(bytes: &[u8], mut i: usize) -> usize {
    let mut in_class = false;
    while i < bytes.len() && bytes[i] != b'\n' {
        match bytes[i] {
            b'\\' => i += 1,
            b'[' => in_class = true,
            b']' => in_class = false,
            b'/' if !in_class => return i + 1,
            _ => {}
        }
        i += 1;
    }
    i
}

/// A quoted string from `start` (the quote): its value, and where it ends.
fn string(text: &str, start: usize) -> (String, usize) {
    let bytes = text.as_bytes();
    let quote = bytes[start];
    let mut value = String::new();
    let mut i = start + 1;
    while i < bytes.len() && bytes[i] != quote && bytes[i] != b'\n' {
        if bytes[i] == b'\\' && i + 1 < bytes.len() {
            i += 1;
        }
        let ch = text[i..].chars().next().unwrap_or('\u{fffd}');
        value.push(ch);
        i += ch.len_utf8();
    }
    (value, i + 1)
}

/// A template from `start` (the backtick): a literal when it has no `${`, where it ends, and the
/// newlines it holds.
fn template(text: &str, start: usize) -> (Tok<'static>, usize, usize) {
    let bytes = text.as_bytes();
    let mut i = start + 1;
    let mut lines = 0;
    let mut substitutions = false;
    let mut depth = 0usize;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b'\n' => lines += 1,
            b'$' if depth == 0 && bytes.get(i + 1) == Some(&b'{') => {
                substitutions = true;
                depth = 1;
                i += 1;
            }
            b'{' if depth > 0 => depth += 1,
            b'}' if depth > 0 => depth -= 1,
            b'`' if depth == 0 => break,
            _ => {}
        }
        i += 1;
    }
    let tok = if substitutions {
        Tok::Template
    } else {
        Tok::Str(text[start + 1..i.min(text.len())].to_string())
    };
    (tok, i + 1, lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn modules(text: &str) -> Vec<String> {
        loads(text)
            .into_iter()
            .map(|l| match l {
                Load::Module { specifier, line } => format!("{specifier}@{line}"),
                Load::Computed { line } => format!("?@{line}"),
            })
            .collect()
    }

    #[test]
    fn requires_imports_and_reexports() {
        let text = r#"const dotenv = require("dotenv");
import express from 'express';
import { a, b } from "./lib/a";
import * as ns from "lodash";
import "reflect-metadata";
export { c } from "./c";
export * from "@scope/pkg/sub";
const later = await import("./lazy.js");
import fs = require("fs");
"#;
        assert_eq!(
            modules(text),
            [
                "dotenv@1",
                "express@2",
                "./lib/a@3",
                "lodash@4",
                "reflect-metadata@5",
                "./c@6",
                "@scope/pkg/sub@7",
                "./lazy.js@8",
                "fs@9"
            ]
        );
    }

    #[test]
    fn type_only_imports_load_nothing() {
        let text = r#"import type { Request } from "express";
import type Koa from "koa";
import { type A, type B } from "./types";
export type { X } from "./x";
import type from "typed-default";
import { type C, d } from "./mixed";
"#;
        assert_eq!(modules(text), ["typed-default@5", "./mixed@6"]);
    }

    #[test]
    fn comments_strings_and_regexes_hide_nothing_and_invent_nothing() {
        let text = r#"// require("commented")
/* import x from "blocked"; */
const s = "require('in-a-string')";
const r = /require\("in-a-regex"\)/g;
const t = `import("in-a-template")`;
const n = a / b; require("after-division");
require.resolve("probe-only");
"#;
        assert_eq!(modules(text), ["after-division@6"]);
    }

    #[test]
    fn computed_module_names_are_dynamic() {
        let text = "const m = require(name);\nconst p = require('./plugins/' + x);\nimport(`./${y}.js`);\nrequire(`plain`);\n";
        assert_eq!(modules(text), ["?@1", "?@2", "?@3", "plain@4"]);
    }
}
