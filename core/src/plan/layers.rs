//! Dependency layers: when a stage's commands begin with recognised install commands, the plan
//! runs them first over a tree that holds only the manifests and lockfiles they read
//! ([`Step::Install`]), and only then adds the source. The engine keeps the result as an image
//! keyed by those files, the base image, the commands and their env, so a source edit that leaves
//! the manifests alone reuses the install.
//!
//! The split is made only where the result equals running the commands over the whole source, as
//! App Runner does; otherwise the plan keeps the plain order and says why, in one line.

pub use super::installs::Tree;
use super::installs::{ignored, recognise, Kind};
use super::{BuildPlan, Step};
use crate::input::files::ProjectFiles;

/// How an announcement of the plain order begins.
pub const PLAIN_ORDER: &str = "Dependencies installed with the source";

/// What the leading commands of one stage read, when they can run before the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    /// How many leading commands form the install.
    pub commands: usize,
    /// The files they read, relative to the source root, sorted.
    pub files: Vec<String>,
}

/// The leading install commands of `commands` and the files they read, or why the plain order
/// is kept.
pub fn split(files: &ProjectFiles, commands: &[&str], tree: Tree) -> Result<Split, String> {
    let mut read: Vec<String> = Vec::new();
    let mut taken = 0;
    let mut installs = 0;
    for command in commands {
        match recognise(files, command, tree)? {
            Some(Kind::Setup) => {}
            Some(Kind::Install(names)) => {
                installs += 1;
                read.extend(names);
            }
            None => break,
        }
        taken += 1;
    }
    if tree == Tree::Source {
        ignored(files, &read)?;
    }
    if installs == 0 {
        let first = commands.first().copied().unwrap_or_default();
        return Err(format!("`{first}` is not a recognised install command"));
    }
    read.sort();
    read.dedup();
    Ok(Split {
        commands: taken,
        files: read,
    })
}

/// Split every stage whose commands begin with an install: [`Step::Install`] before the step that
/// brings in /app, and an announcement of the path taken when it is the plain one. `files` is the
/// plan's source, which the install commands read.
pub fn apply(plan: &mut BuildPlan, files: &ProjectFiles) {
    let stages: Vec<String> = plan.stages.iter().map(|s| s.name.clone()).collect();
    for stage in stages {
        apply_stage(plan, files, &stage);
    }
}

fn apply_stage(plan: &mut BuildPlan, files: &ProjectFiles, stage: &str) {
    // The step that brings /app into the stage, and the commands that follow in this stage.
    let Some(entry) = plan.steps.iter().position(|s| {
        matches!(s, Step::CopySource { stage: st, .. } | Step::CopyFromStage { stage: st, .. } if st == stage)
    }) else {
        return;
    };
    let (tree, from, path) = match &plan.steps[entry] {
        Step::CopySource { path, .. } => (Tree::Source, None, path.clone()),
        Step::CopyFromStage { from, path, .. } => {
            (Tree::OtherStage, Some(from.clone()), path.clone())
        }
        _ => unreachable!("matched above"),
    };
    let runs: Vec<usize> = plan
        .steps
        .iter()
        .enumerate()
        .skip(entry + 1)
        .filter(|(_, s)| s.stage() == stage)
        .take_while(|(_, s)| matches!(s, Step::Run { .. } | Step::Announce { .. }))
        .filter(|(_, s)| matches!(s, Step::Run { .. }))
        .map(|(i, _)| i)
        .collect();
    if runs.is_empty() {
        return;
    }
    let commands: Vec<&str> = runs
        .iter()
        .map(|&i| match &plan.steps[i] {
            Step::Run { command, .. } => command.as_str(),
            _ => unreachable!(),
        })
        .collect();
    let decided = split(files, &commands, tree).and_then(|split| {
        // One env and workdir for the whole install: the key has one of each.
        let first = &plan.steps[runs[0]];
        let same = runs[..split.commands]
            .iter()
            .all(|&i| match (&plan.steps[i], first) {
                (
                    Step::Run { env, workdir, .. },
                    Step::Run {
                        env: e0,
                        workdir: w0,
                        ..
                    },
                ) => env == e0 && workdir == w0,
                _ => false,
            });
        if same {
            Ok(split)
        } else {
            Err("the install commands run with different env or directories".into())
        }
    });
    match decided {
        Ok(split) => {
            let taken: Vec<usize> = runs[..split.commands].to_vec();
            let reason = if split.files.is_empty() {
                "the install reads no project file".to_string()
            } else {
                format!("the install reads only {}", split.files.join(", "))
            };
            let mut install_runs: Vec<Step> =
                taken.iter().map(|&i| plan.steps[i].clone()).collect();
            for &i in taken.iter().rev() {
                plan.steps.remove(i);
            }
            install_runs.shrink_to_fit();
            plan.steps.insert(
                entry,
                Step::Install {
                    stage: stage.to_string(),
                    from,
                    path,
                    files: split.files,
                    runs: install_runs,
                    reason,
                },
            );
        }
        // A stage that installs nothing has no path to choose: nothing to say.
        Err(_) if !commands.iter().any(|c| installs_something(files, c, tree)) => {}
        Err(why) => {
            plan.steps.insert(
                entry,
                Step::Announce {
                    stage: stage.to_string(),
                    message: format!("{PLAIN_ORDER} in the {stage} stage: {why}."),
                },
            );
        }
    }
}

/// Whether `command` is an install, split or not (one that must keep the plain order, such as
/// `pip install .`, is one).
fn installs_something(files: &ProjectFiles, command: &str, tree: Tree) -> bool {
    !matches!(
        recognise(files, command, tree),
        Ok(None) | Ok(Some(Kind::Setup))
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn app(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        dir
    }

    fn files(root: &Path, commands: &[&str], tree: Tree) -> Result<(usize, Vec<String>), String> {
        split(&project(root), commands, tree).map(|s| (s.commands, s.files))
    }

    fn refused(root: &Path, commands: &[&str], tree: Tree) -> String {
        split(&project(root), commands, tree).expect_err("falls back to the plain order")
    }

    fn project(root: &Path) -> ProjectFiles {
        ProjectFiles::new(root, Path::new(""))
    }

    const REQ: &str = "flask==3.0\n# a comment\ngunicorn  # the server\n";

    #[test]
    fn pip_with_a_requirements_file() {
        let a = app(&[("requirements.txt", REQ), ("server.py", "")]);
        for command in [
            "pip install -r requirements.txt",
            "pip3 install -r requirements.txt",
            "pip3 install --no-cache-dir -r requirements.txt",
            "python3 -m pip install -r requirements.txt",
        ] {
            assert_eq!(
                files(
                    a.path(),
                    &[command, "python3 -m compileall ."],
                    Tree::Source
                ),
                Ok((1, vec!["requirements.txt".to_string()])),
                "{command}"
            );
        }
        // What the pre-run of the guide's example does, in the runtime stage.
        assert!(split(
            &project(a.path()),
            &["pip3 install -r requirements.txt"],
            Tree::OtherStage
        )
        .is_ok());
    }

    #[test]
    fn detections_venv_form_and_included_files() {
        let a = app(&[
            (
                "requirements.txt",
                "-r requirements/base.txt\n-c constraints.txt\ndjango\n",
            ),
            ("requirements/base.txt", "-r common.txt\nrequests\n"),
            ("requirements/common.txt", "six\n"),
            ("constraints.txt", "six<2\n"),
        ]);
        assert_eq!(
            files(
                a.path(),
                &[
                    "python3 -m venv .venv",
                    ".venv/bin/pip install -r requirements.txt",
                    "echo done"
                ],
                Tree::Source
            ),
            Ok((
                2,
                vec![
                    "constraints.txt".to_string(),
                    "requirements.txt".to_string(),
                    "requirements/base.txt".to_string(),
                    "requirements/common.txt".to_string()
                ]
            ))
        );
    }

    #[test]
    fn pip_falls_back_for_local_paths_and_missing_includes() {
        let a = app(&[("requirements.txt", REQ)]);
        assert!(refused(a.path(), &["pip install ."], Tree::Source).contains("local path (.)"));
        assert!(refused(a.path(), &["pip install -e ."], Tree::Source).contains("-e"));
        assert!(refused(a.path(), &["pip install ./pkg"], Tree::Source).contains("local path"));
        for line in [
            "-e .",
            "./pkg",
            "mylib @ file:///app/mylib",
            "/abs/pkg.whl",
            "file:pkg",
        ] {
            let b = app(&[("requirements.txt", &format!("flask\n{line}\n"))]);
            assert!(
                refused(b.path(), &["pip install -r requirements.txt"], Tree::Source)
                    .contains("local path"),
                "{line}"
            );
        }
        let c = app(&[("requirements.txt", "-r dev.txt\n")]);
        assert!(
            refused(c.path(), &["pip install -r requirements.txt"], Tree::Source)
                .contains("dev.txt, which is not in the source")
        );
        let d = app(&[]);
        assert!(
            refused(d.path(), &["pip install -r requirements.txt"], Tree::Source)
                .contains("is not in the source")
        );
    }

    #[test]
    fn unrecognised_commands_keep_the_plain_order() {
        let a = app(&[("requirements.txt", REQ)]);
        for command in [
            "python3 -m compileall -q .",
            "pip install -r requirements.txt && python manage.py migrate",
            "pip install -r $REQS",
            "make deps",
        ] {
            assert!(
                refused(a.path(), &[command], Tree::Source).contains("not a recognised install"),
                "{command}"
            );
        }
        // An install after an unrecognised command is not first.
        assert!(refused(
            a.path(),
            &["echo hi", "pip install -r requirements.txt"],
            Tree::Source
        )
        .contains("`echo hi`"));
        // A setup command alone is no install.
        assert!(split(&project(a.path()), &["python3 -m venv .venv"], Tree::Source).is_err());
    }

    const PACKAGE: &str = r#"{"name":"a","dependencies":{"express":"^4"},"scripts":{"start":"node index.js","build":"tsc"}}"#;

    #[test]
    fn node_managers_read_their_manifests() {
        let a = app(&[
            ("package.json", PACKAGE),
            ("package-lock.json", "{}"),
            (".npmrc", "x=1"),
        ]);
        assert_eq!(
            files(a.path(), &["npm ci", "npm run build"], Tree::Source),
            Ok((
                1,
                vec![
                    ".npmrc".into(),
                    "package-lock.json".into(),
                    "package.json".into()
                ]
            ))
        );
        let b = app(&[("package.json", PACKAGE), ("yarn.lock", "")]);
        assert_eq!(
            files(b.path(), &["yarn install --frozen-lockfile"], Tree::Source),
            Ok((1, vec!["package.json".into(), "yarn.lock".into()]))
        );
        let c = app(&[("package.json", PACKAGE), ("pnpm-lock.yaml", "")]);
        assert_eq!(
            files(
                c.path(),
                &[
                    "corepack enable 2>/dev/null || npm install -g pnpm@9.15.0",
                    "pnpm install --frozen-lockfile"
                ],
                Tree::Source
            ),
            Ok((2, vec!["package.json".into(), "pnpm-lock.yaml".into()]))
        );
        let d = app(&[("package.json", PACKAGE)]);
        assert_eq!(
            files(d.path(), &["npm install"], Tree::Source),
            Ok((1, vec!["package.json".into()]))
        );
    }

    #[test]
    fn node_falls_back_for_scripts_local_paths_and_workspaces() {
        for script in ["preinstall", "install", "postinstall", "prepare"] {
            let p = format!(r#"{{"scripts":{{"{script}":"node x.js"}}}}"#);
            let a = app(&[("package.json", &p)]);
            assert!(refused(a.path(), &["npm install"], Tree::Source).contains(script));
        }
        for spec in ["file:../lib", "link:./lib", "./lib", "workspace:*"] {
            let p = format!(r#"{{"dependencies":{{"lib":"{spec}"}}}}"#);
            let a = app(&[("package.json", &p)]);
            assert!(
                refused(a.path(), &["npm install"], Tree::Source).contains("local path"),
                "{spec}"
            );
        }
        let pnp = app(&[
            ("package.json", PACKAGE),
            ("yarn.lock", ""),
            (".pnp.cjs", ""),
        ]);
        assert!(
            refused(pnp.path(), &["yarn install --immutable"], Tree::Source).contains(".pnp.cjs")
        );
        let w = app(&[("package.json", r#"{"workspaces":["packages/*"]}"#)]);
        assert!(refused(w.path(), &["npm install"], Tree::Source).contains("workspaces"));
        let l = app(&[("package.json", PACKAGE), ("package-lock.json", "{}")]);
        assert!(refused(l.path(), &["npm install"], Tree::Source)
            .contains("may rewrite package-lock.json"));
        let m = app(&[("package.json", PACKAGE), ("node_modules/x/index.js", "")]);
        assert!(refused(m.path(), &["npm ci"], Tree::Source).contains("node_modules"));
        assert!(refused(l.path(), &["npm ci"], Tree::OtherStage).contains("writes into /app"));
        assert!(
            refused(l.path(), &["npm install express"], Tree::Source).contains("not only flags")
        );
    }

    #[test]
    fn python_project_tools() {
        let a = app(&[
            ("Pipfile", "[packages]\nflask = \"*\"\n"),
            ("Pipfile.lock", "{}"),
        ]);
        assert_eq!(
            files(
                a.path(),
                &[
                    "pip3 install pipenv",
                    "PIPENV_VENV_IN_PROJECT=1 pipenv install --deploy"
                ],
                Tree::Source
            ),
            Ok((2, vec!["Pipfile".into(), "Pipfile.lock".into()]))
        );
        let p = app(&[
            ("pyproject.toml", "[tool.poetry]\nname = \"a\"\n"),
            ("poetry.lock", ""),
        ]);
        assert_eq!(
            files(
                p.path(),
                &[
                    "pip3 install poetry",
                    "poetry config virtualenvs.in-project true",
                    "poetry install --no-root --only main"
                ],
                Tree::Source
            ),
            Ok((3, vec!["poetry.lock".into(), "pyproject.toml".into()]))
        );
        assert!(refused(p.path(), &["poetry install"], Tree::Source).contains("--no-root"));
        let u = app(&[
            ("pyproject.toml", "[project]\nname = \"a\"\n"),
            ("uv.lock", ""),
        ]);
        assert_eq!(
            files(
                u.path(),
                &[
                    "pip3 install uv==0.13.9",
                    "UV_PYTHON_DOWNLOADS=never uv sync --locked --no-dev"
                ],
                Tree::Source
            ),
            Ok((2, vec!["pyproject.toml".into(), "uv.lock".into()]))
        );
        assert!(refused(u.path(), &["uv sync"], Tree::Source).contains("may rewrite uv.lock"));
        let b = app(&[(
            "pyproject.toml",
            "[project]\nname = \"a\"\n[build-system]\nrequires = []\n",
        )]);
        assert!(refused(b.path(), &["uv sync"], Tree::Source).contains("the project itself"));
        let l = app(&[(
            "pyproject.toml",
            "[tool.uv.sources]\nlib = { path = \"./lib\" }\n",
        )]);
        assert!(refused(l.path(), &["uv sync --frozen"], Tree::Source).contains("local path"));
        let w = app(&[("requirements.txt", REQ), (".venv/bin/python", "")]);
        assert!(refused(
            w.path(),
            &[
                "python3 -m venv .venv",
                ".venv/bin/pip install -r requirements.txt"
            ],
            Tree::Source
        )
        .contains("the source holds .venv"));
        let ignored = app(&[
            ("requirements.txt", REQ),
            (".venv/bin/python", ""),
            (".dockerignore", ".venv\n"),
        ]);
        assert!(split(
            &project(ignored.path()),
            &[
                "python3 -m venv .venv",
                ".venv/bin/pip install -r requirements.txt"
            ],
            Tree::Source
        )
        .is_ok());
        let v = app(&[("Pipfile", ""), (".venv/bin/python", "")]);
        assert!(refused(v.path(), &["pipenv install --deploy"], Tree::Source).contains(".venv"));
    }
}
