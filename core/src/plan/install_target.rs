//! Where a build command's Python install writes: under /app, which the revised build copies into
//! the runtime image, or outside it, where it is lost. Read from the words of the commands in the
//! order they run: a `.venv` an earlier command created is where a later `uv pip install` goes.
//! Only what the words say is known; a command this does not follow counts as outside /app, as
//! before (the warning is what tells the user to check).

use crate::input::config::EnvVar;

/// What the build commands so far have set up, for the commands after them.
#[derive(Debug, Default)]
pub(super) struct Installs {
    /// A `.venv` in /app, where uv finds it (created by an earlier command).
    dot_venv: bool,
    /// `VIRTUAL_ENV` from build.env.
    virtual_env: Option<String>,
    /// build.env's `PATH` starts with a virtualenv's `bin` under /app.
    venv_path: bool,
}

/// Where the environment of one simple command points Python installs.
#[derive(Debug, Clone, Default)]
struct Scope {
    virtual_env: Option<String>,
    activated: Option<String>,
}

impl Installs {
    pub(super) fn new(build_env: &[EnvVar]) -> Self {
        let value = |name: &str| {
            build_env
                .iter()
                .find(|v| v.name == name)
                .map(|v| v.value.clone())
        };
        Installs {
            dot_venv: false,
            virtual_env: value("VIRTUAL_ENV"),
            venv_path: value("PATH")
                .and_then(|p| p.split(':').next().map(str::to_string))
                .is_some_and(|first| first.ends_with("/bin") && under_app(&first)),
        }
    }

    /// The tool (`pip` or `uv`) of an install in `command`, of more than the build's own tools,
    /// that writes outside /app; the virtualenvs it creates are remembered for the next commands.
    pub(super) fn outside_app(&mut self, command: &str) -> Option<&'static str> {
        let mut scope = Scope {
            virtual_env: self.virtual_env.clone(),
            activated: None,
        };
        let mut outside = None;
        for simple in simple_commands(command) {
            let mut words: Vec<&str> = simple.iter().map(|w| unquote(w)).collect();
            // NAME=value before a command sets it for that command; `export` for the rest.
            let mut local = scope.clone();
            let export = words.first() == Some(&"export");
            if export {
                words.remove(0);
            }
            while let Some((name, value)) = words.first().and_then(|w| w.split_once('=')) {
                if name == "VIRTUAL_ENV" {
                    local.virtual_env = Some(value.to_string());
                }
                words.remove(0);
            }
            if export || words.is_empty() {
                scope = local;
                continue;
            }
            if words.first() == Some(&"sudo") {
                words.remove(0);
            }
            let lost = match words.as_slice() {
                ["source" | ".", script, ..] if script.ends_with("/bin/activate") => {
                    scope.activated = Some(script.trim_end_matches("/bin/activate").to_string());
                    None
                }
                ["uv", "venv", args @ ..] | ["virtualenv", args @ ..] => {
                    self.created(first_operand(args, &["--python", "-p", "--prompt"]));
                    None
                }
                [py, "-m", "venv" | "virtualenv", args @ ..] if is_program(py, "python") => {
                    self.created(first_operand(args, &["--prompt"]));
                    None
                }
                ["uv", "pip", "install", args @ ..] => {
                    (!build_tools_only(args) && !self.uv_into_app(args, &local)).then_some("uv")
                }
                [pip, "install", args @ ..] if is_program(pip, "pip") => (!build_tools_only(args)
                    && !self.pip_into_app(pip, args, &local))
                .then_some("pip"),
                [py, "-m", "pip", "install", args @ ..] if is_program(py, "python") => {
                    (!build_tools_only(args) && !self.pip_into_app(py, args, &local))
                        .then_some("pip")
                }
                _ => None,
            };
            outside = outside.or(lost);
        }
        outside
    }

    /// A virtualenv created at `dir` (`None`: the tool's default, `.venv`).
    fn created(&mut self, dir: Option<&str>) {
        let dir = dir.unwrap_or(".venv");
        if matches!(
            dir.trim_end_matches('/'),
            ".venv" | "./.venv" | "/app/.venv"
        ) {
            self.dot_venv = true;
        }
    }

    /// uv installs where `--python` points, else into the active virtualenv (`VIRTUAL_ENV`), else
    /// into the `.venv` it finds in the working directory; `--system` is the system's Python.
    fn uv_into_app(&self, args: &[&str], scope: &Scope) -> bool {
        if let Some(target) = target(args) {
            return target;
        }
        if args.contains(&"--system") {
            return false;
        }
        // `--python 3.12` asks for a version, found outside /app; a path names the environment.
        if let Some(python) = option(args, &["--python", "-p"]) {
            return python.contains('/') && under_app(python);
        }
        match (&scope.virtual_env, &scope.activated) {
            (Some(env), _) | (None, Some(env)) => under_app(env),
            (None, None) => self.dot_venv,
        }
    }

    /// pip installs into the environment of the pip (or python) that runs it: one named by its
    /// path, or the first on PATH (an activated virtualenv's).
    fn pip_into_app(&self, program: &str, args: &[&str], scope: &Scope) -> bool {
        if let Some(target) = target(args) {
            return target;
        }
        if args.contains(&"--user") {
            return false;
        }
        if program.contains('/') {
            return under_app(program);
        }
        // VIRTUAL_ENV is counted as the users set it, with PATH to its bin beside it.
        scope.activated.as_deref().is_some_and(under_app)
            || scope.virtual_env.as_deref().is_some_and(under_app)
            || self.venv_path
    }
}

/// `--target`/`-t`, `--prefix` or `--root`: whether that directory is under /app.
fn target(args: &[&str]) -> Option<bool> {
    option(args, &["--target", "-t", "--prefix", "--root"]).map(under_app)
}

/// The value of the first of `names` in `args` (`--name value`, `--name=value`).
fn option<'a>(args: &[&'a str], names: &[&str]) -> Option<&'a str> {
    args.iter().enumerate().find_map(|(i, arg)| {
        names.iter().find_map(|name| {
            if arg == name {
                args.get(i + 1).copied()
            } else {
                arg.strip_prefix(name)?.strip_prefix('=')
            }
        })
    })
}

/// The first argument that is neither a flag nor the value of one of `with_value`.
fn first_operand<'a>(args: &[&'a str], with_value: &[&str]) -> Option<&'a str> {
    let mut skip = false;
    for arg in args {
        if std::mem::take(&mut skip) {
            continue;
        }
        if arg.starts_with('-') {
            skip = with_value.contains(arg);
            continue;
        }
        return Some(arg);
    }
    None
}

/// Commands run with /app as their working directory: a relative path is under it.
fn under_app(path: &str) -> bool {
    let path = unquote(path);
    let path = path
        .strip_prefix("$PWD")
        .or_else(|| path.strip_prefix("${PWD}"))
        .or_else(|| path.strip_prefix("$(pwd)"))
        .map_or(path, |rest| rest.trim_start_matches('/'));
    path == "/app"
        || path.starts_with("/app/")
        || !(path.starts_with('/') || path.starts_with('~') || path.starts_with('$'))
}

/// `pip`, `pip3`, `pip3.11`, `/app/.venv/bin/pip` for `pip`; `python3` and the like for `python`.
fn is_program(word: &str, name: &str) -> bool {
    let base = word.rsplit('/').next().unwrap_or(word);
    base.strip_prefix(name)
        .is_some_and(|v| v.is_empty() || v.starts_with('3'))
}

/// `pip install poetry`, `pip install --upgrade pip` and the like: package managers the build
/// itself uses, not needed at run time.
pub(super) fn build_tools_only(args: &[&str]) -> bool {
    const TOOLS: &[&str] = &[
        "pipenv",
        "poetry",
        "uv",
        "pip",
        "setuptools",
        "wheel",
        "npm",
        "pnpm",
        "yarn",
        "corepack",
    ];
    let packages: Vec<&&str> = args.iter().filter(|w| !w.starts_with('-')).collect();
    !packages.is_empty()
        && packages.iter().all(|p| {
            TOOLS
                .iter()
                .any(|t| p.split(['=', '<', '>', '~', '@']).next() == Some(t))
        })
}

fn unquote(word: &str) -> &str {
    word.trim_matches(|c| c == '"' || c == '\'')
}

/// The simple commands of a command line: its words, split at `&&`, `||`, `;`, `|` and newlines.
fn simple_commands(command: &str) -> Vec<Vec<&str>> {
    command
        .split(['\n', ';', '&', '|'])
        .map(|part| part.split_whitespace().collect::<Vec<_>>())
        .filter(|words| !words.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::Installs;
    use crate::input::config::EnvVar;

    fn outside(commands: &[&str], env: &[(&str, &str)]) -> Vec<bool> {
        let env: Vec<EnvVar> = env
            .iter()
            .map(|(n, v)| EnvVar {
                name: n.to_string(),
                value: v.to_string(),
            })
            .collect();
        let mut installs = Installs::new(&env);
        commands
            .iter()
            .map(|c| installs.outside_app(c).is_some())
            .collect()
    }

    #[test]
    fn installs_under_app() {
        for commands in [
            &["uv venv .venv", "uv pip install -r requirements.txt"][..],
            &["uv venv", "uv pip install flask"],
            &["python3 -m venv .venv", "uv pip install flask"],
            &["python3 -m venv venv && . venv/bin/activate && pip install -r requirements.txt"],
            &["venv/bin/pip install -r requirements.txt"],
            &["/app/.venv/bin/python -m pip install flask"],
            &["uv pip install --python .venv/bin/python flask"],
            &["uv pip install --python=/app/.venv flask"],
            &["pip3 install --target ./packages -r requirements.txt"],
            &["pip3 install -t packages flask"],
            &["pip3 install --prefix=/app/local flask"],
            &["VIRTUAL_ENV=/app/.venv uv pip install flask"],
            &["export VIRTUAL_ENV=/app/.venv && uv pip install flask"],
            &["pip install poetry"],
        ] {
            let found = outside(commands, &[]);
            assert_eq!(found.last(), Some(&false), "{commands:?}");
        }
        assert_eq!(
            outside(
                &["uv pip install -r requirements.txt"],
                &[("VIRTUAL_ENV", "/app/.venv")]
            ),
            [false]
        );
        assert_eq!(
            outside(
                &["pip install -r requirements.txt"],
                &[("PATH", "/app/.venv/bin:/usr/local/bin:/usr/bin")]
            ),
            [false]
        );
    }

    #[test]
    fn installs_outside_app() {
        for commands in [
            &["pip install -r requirements.txt"][..],
            &["python -m pip install flask"],
            &["uv pip install -r requirements.txt"],
            &["uv venv venv", "uv pip install flask"],
            &["virtualenv venv", "uv pip install flask"],
            &["uv venv .venv", "uv pip install --system flask"],
            &["uv pip install --python 3.12 flask"],
            &["pip3 install --prefix /usr/local flask"],
            &["pip3 install --user flask"],
            &["/opt/venv/bin/pip install flask"],
            &["python3 -m venv /opt/venv && pip install flask"],
            &["VIRTUAL_ENV=/opt/venv uv pip install flask"],
            &["sudo pip3 install flask"],
        ] {
            let found = outside(commands, &[]);
            assert_eq!(found.last(), Some(&true), "{commands:?}");
        }
    }
}
