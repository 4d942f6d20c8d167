//! Values for the container that stay on this machine: `-e`, `--env-file`, `--secrets-file` and
//! `--secret NAME`, all read and checked before anything is built or started.

use apprunner_build::engine::run::{self, RunError};
use apprunner_build::report::codes;
use apprunner_build::report::diagnostic::{Diagnostic, Location};
use std::collections::HashMap;
use std::path::Path;

/// The container's local env and the secret values a plan or image asks for.
pub struct LocalValues {
    pub env: Vec<(String, String)>,
    secrets_file: HashMap<String, String>,
    secret_names: Vec<String>,
}

impl LocalValues {
    /// Read and check `-e`, `--env-file`, `--secrets-file` and `--secret`; no message repeats
    /// a value.
    pub fn read(args: &super::args::RunArgs) -> Result<Self, Box<Diagnostic>> {
        let invalid = |why: String| Box::new(Diagnostic::error(codes::LOCAL_VALUE_INVALID, why));
        let mut env: Vec<(String, String)> = read_pairs(args.env_file.as_deref(), Names::Shell)?
            .into_iter()
            .collect();
        env.sort();
        for item in &args.env {
            env.push(parse_container_env(item).map_err(invalid)?);
        }
        let secret_names = args
            .secret
            .iter()
            .map(|item| parse_secret_name(item).map_err(invalid))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            env,
            secrets_file: read_pairs(args.secrets_file.as_deref(), Names::Secret)?,
            secret_names,
        })
    }

    /// The values of `wanted` from the secrets file or the named environment variables, never
    /// from the environment implicitly; every missing name in one error.
    pub fn secrets(&self, wanted: &[String]) -> Result<Vec<(String, String)>, RunError> {
        run::collect_secrets(wanted, &self.secrets_file, &self.secret_names)
    }

    /// `--secret` names the image does not ask for.
    pub fn unasked_secrets<'a>(&'a self, wanted: &'a [String]) -> impl Iterator<Item = &'a str> {
        self.secret_names
            .iter()
            .filter(move |n| !wanted.contains(n))
            .map(String::as_str)
    }
}

/// `-e NAME=VALUE` for the container: a name a process can read, and a value it can receive.
pub fn parse_container_env(text: &str) -> Result<(String, String), String> {
    let Some((name, value)) = text.split_once('=') else {
        return Err(format!(
            "`--env {text}` has no value: write --env {text}=VALUE"
        ));
    };
    check_pair(name, value).map_err(|why| format!("`--env {name}=…`: {why}"))?;
    Ok((name.to_string(), value.to_string()))
}

/// `--secret NAME`: a name, never a value (values on a command line leak into shell history and
/// process lists).
pub fn parse_secret_name(text: &str) -> Result<String, String> {
    match text.split_once('=') {
        Some((name, _)) => Err(format!(
            "`--secret {name}=…` puts a value on the command line, where it leaks into shell history and process lists: put {name}=VALUE in a file given with --secrets-file FILE, or set {name} in the environment and pass --secret {name}"
        )),
        None if apprunner_build::input::config::secret_name_passes(text) => Ok(text.to_string()),
        None => Err(format!("`--secret {text}`: {NAME_RULE}")),
    }
}

/// Which names a list of values may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Names {
    /// Variables a shell can read: letters, digits and `_`.
    Shell,
    /// Secret names as App Runner accepts them (`app/env` too: the application reads it from its
    /// environment even where a shell cannot).
    Secret,
}

/// Why NAME=VALUE cannot go into a process's environment, if it cannot.
pub fn check_pair(name: &str, value: &str) -> Result<(), String> {
    check_named(name, value, Names::Shell)
}

fn check_named(name: &str, value: &str, names: Names) -> Result<(), String> {
    match names {
        Names::Shell if !valid_name(name) => {
            return Err(format!("`{}` is {NAME_RULE}", name.escape_debug()));
        }
        Names::Secret if !apprunner_build::input::config::secret_name_passes(name) => {
            return Err(format!(
                "`{}` is not a secret name App Runner accepts (no `=`, spaces or control characters)",
                name.escape_debug()
            ));
        }
        _ => {}
    }
    if value.contains('\0') {
        return Err(format!(
            "the value of {name} contains a NUL byte, which no process can receive in its environment"
        ));
    }
    Ok(())
}

/// What a variable name may be.
pub const NAME_RULE: &str =
    "not a valid variable name (letters, digits and _, not starting with a digit)";

pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// NAME=VALUE lines (`#` comments, blank lines, optional quotes, optional `export `).
fn read_pairs(
    path: Option<&Path>,
    names: Names,
) -> Result<HashMap<String, String>, Box<Diagnostic>> {
    let Some(path) = path else {
        return Ok(HashMap::new());
    };
    let text = std::fs::read_to_string(path).map_err(|e| {
        Box::new(
            Diagnostic::error(
                codes::LOCAL_FILE_UNREADABLE,
                format!("cannot read {}: {e}", path.display()),
            )
            .at(Location::file(path)),
        )
    })?;
    parse_pairs(&text, names).map_err(|(line, why)| {
        Box::new(
            Diagnostic::error(codes::LOCAL_VALUE_INVALID, why).at(Location::file_line(path, line)),
        )
    })
}

pub(crate) fn parse_pairs(
    text: &str,
    names: Names,
) -> Result<HashMap<String, String>, (usize, String)> {
    let mut pairs = HashMap::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((name, value)) = line.split_once('=') else {
            return Err((i + 1, "expected NAME=VALUE".into()));
        };
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
            .unwrap_or(value);
        let name = name.trim();
        check_named(name, value, names).map_err(|why| (i + 1, why))?;
        pairs.insert(name.to_string(), value.to_string());
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::{parse_container_env, parse_pairs, parse_secret_name, Names};

    #[test]
    fn bad_names_and_nul_values_are_refused_saying_where_and_why() {
        let e = parse_container_env("A B=1").unwrap_err();
        assert!(e.contains("`A B` is not a valid variable name"), "{e}");
        let e = parse_container_env("A=x\0y").unwrap_err();
        assert!(e.contains("value of A contains a NUL byte"), "{e}");
        assert_eq!(
            parse_container_env("_A1=x=y").unwrap(),
            ("_A1".into(), "x=y".into())
        );
        let (line, why) = parse_pairs("A=1\nB=x\0y\n", Names::Shell).unwrap_err();
        assert_eq!(line, 2);
        assert!(why.contains("value of B contains a NUL byte"), "{why}");
        let (line, why) = parse_pairs("# c\n\nA B=1\n", Names::Shell).unwrap_err();
        assert_eq!(line, 3);
        assert!(why.contains("`A B` is not a valid variable name"), "{why}");
    }

    #[test]
    fn secret_flags_take_names_and_refuse_values() {
        assert_eq!(parse_secret_name("GITHUB_TOKEN").unwrap(), "GITHUB_TOKEN");
        assert_eq!(parse_secret_name("_A1").unwrap(), "_A1");
        let e = parse_secret_name("API_TOKEN=hunter2").unwrap_err();
        assert!(e.contains("shell history and process lists"), "{e}");
        assert!(
            e.contains("--secrets-file FILE") && e.contains("--secret API_TOKEN"),
            "{e}"
        );
        assert!(!e.contains("hunter2"), "the value is not repeated: {e}");
        assert!(parse_secret_name("A B").is_err());
        // App Runner accepts names a shell cannot read; the application still gets them.
        assert_eq!(parse_secret_name("app/env").unwrap(), "app/env");
        assert_eq!(
            parse_pairs("app/env=x\n", Names::Secret).unwrap()["app/env"],
            "x"
        );
        assert!(parse_pairs("app/env=x\n", Names::Shell).is_err());
    }

    #[test]
    fn env_files() {
        let p = parse_pairs(
            "# secrets\nA=1\nexport B = \"two words\"\nC='x=y'\n\n",
            Names::Shell,
        )
        .unwrap();
        assert_eq!(p["A"], "1");
        assert_eq!(p["B"], "two words");
        assert_eq!(p["C"], "x=y");
        assert_eq!(
            parse_pairs("A=1\nnonsense\n", Names::Shell).unwrap_err().0,
            2
        );
    }
}
