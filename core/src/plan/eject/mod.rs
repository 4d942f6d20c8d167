//! `plan --dockerfile`: leaving apprunner-build. The plan becomes a Dockerfile and a
//! `.dockerignore` that build the same `/app` with `docker build`, the classic builder or
//! BuildKit. Both are rendered from the plan value alone (and, for the `.dockerignore`, the list
//! of what git ignores, which the plan carries only as a yes or no): no project file is read here.

mod dockerfile;
mod text;

pub use dockerfile::dockerfile;

use super::BuildPlan;

/// The files an eject writes, beside each other in the build context's root.
pub const DOCKERFILE: &str = "Dockerfile";
pub const DOCKERIGNORE: &str = ".dockerignore";
/// `--ca-bundle`: the bundle's copy in the build context, which the build's stages copy to
/// [`CA_IN_STAGE`].
pub const CA_FILE: &str = ".apprunner-build-ca.crt";
/// Outside `/app`, so that the copy of `/app` between stages never carries it.
pub const CA_IN_STAGE: &str = "/tmp/apprunner-build-ca.crt";

/// What the user asked the eject for, beyond the plan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EjectOptions {
    /// `--ca-bundle`: install steps trust [`CA_FILE`] (a TLS-intercepting proxy), as `build
    /// --ca-bundle` makes them.
    pub ca_bundle: bool,
}

/// A plan a Dockerfile cannot express.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EjectError {
    /// A Dockerfile instruction is one line: `ENV` and `LABEL` cannot hold a line break.
    #[error("{what} holds a line break, which a Dockerfile's {instruction} cannot hold")]
    LineBreak {
        what: String,
        instruction: &'static str,
    },
}

/// The `.dockerignore` that leaves out what the plan's source copy leaves out: `.git` at any
/// depth, the plan's own `.dockerignore` lines, then (when the plan leaves out what git ignores)
/// `git_ignored`, the entries git ignored when this was written, and the files the eject writes.
/// The later lines win over the plan's `!` lines, as git's rules do in a build.
pub fn dockerignore(plan: &BuildPlan, git_ignored: &[String], options: &EjectOptions) -> String {
    let mut out = String::from(
        "# Written by `apprunner-build plan --dockerfile`: what the plan leaves out of the source.\n\
         # Docker reads this file from the build context's root (the directory `docker build` is given).\n",
    );
    let lines: Vec<String> = plan.excludes.clone().into();
    if !lines.is_empty() {
        out.push_str("\n# The project's .dockerignore when the plan was made.\n");
        for line in lines {
            out.push_str(&line);
            out.push('\n');
        }
    }
    if plan.leaves_out_git_ignored {
        out.push_str(&format!(
            "\n# What git ignored when this file was written ({} entr{}): App Runner builds only the committed\n\
             # tree, and Docker reads no .gitignore. A file git ignores later is not listed: add it, or eject again.\n",
            git_ignored.len(),
            if git_ignored.len() == 1 { "y" } else { "ies" }
        ));
        for path in git_ignored {
            out.push_str(&text::ignore_literal(path));
            out.push('\n');
        }
    }
    out.push_str(
        "\n# Never part of the app: git's own directory, and the files the eject wrote.\n**/.git\n",
    );
    out.push_str(&format!("/{DOCKERFILE}\n/{DOCKERIGNORE}\n"));
    if options.ca_bundle {
        out.push_str(&format!(
            "# {CA_FILE} is sent (the stages copy it to /tmp) and removed from /app after the source copy.\n"
        ));
    }
    out
}
