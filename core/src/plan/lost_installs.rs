//! Which build commands install where App Runner's revised build loses the result: outside /app,
//! which is all the runtime image gets. The lint warns about them (`AR400`); `upgrade` moves them.

use super::install_target::{build_tools_only, Installs};
use crate::input::config::EnvVar;

/// What a lost install installs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LostInstall {
    /// `pip` or `uv` installs outside /app.
    Python(&'static str),
    /// `npm install -g` / `yarn global add` of more than the build's own tools.
    NpmGlobal,
}

/// Reads the pre-build and build commands in the order they run, so that a virtualenv one makes
/// is known to the next.
#[derive(Debug)]
pub struct LostInstalls {
    installs: Installs,
}

impl LostInstalls {
    pub fn new(build_env: &[EnvVar]) -> Self {
        LostInstalls {
            installs: Installs::new(build_env),
        }
    }

    /// What `command` installs where the revised build loses it, if it does.
    pub fn check(&mut self, command: &str) -> Option<LostInstall> {
        if let Some(tool) = self.installs.outside_app(command) {
            return Some(LostInstall::Python(tool));
        }
        let words: Vec<&str> = command.split_whitespace().collect();
        let npm_global = (words.contains(&"npm") || words.contains(&"yarn"))
            && (words.contains(&"-g") || words.contains(&"--global") || words.contains(&"global"))
            && !build_tools_only(
                &words[words
                    .iter()
                    .position(|w| *w == "install" || *w == "add")
                    .map_or(words.len(), |i| i + 1)..],
            );
        npm_global.then_some(LostInstall::NpmGlobal)
    }
}
