//! `--user NAME|UID`: the image runs as a user other than root, who owns /app. The plan says how:
//! a [`Step::Setup`] in the committed stage, after its last command, creates the user (a name
//! the image does not have yet) and gives it /app, as root; the image's `User` is then that user.
//! The engine runs the step as it runs any other, and decides nothing.

use super::{labels, BuildPlan, Step, APP_DIR};
use std::fmt;

/// Who the image runs as: a user name, or a numeric UID (used as it is: no account is made for
/// it, as `docker run --user 1000` makes none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunAs {
    Name(String),
    Uid(u32),
}

/// The longest user name `useradd` takes on Debian and the busybox `adduser` on Alpine.
const NAME_MAX: usize = 32;

impl RunAs {
    /// `NAME` (lowercase letters, digits, `_` and `-`, not starting with a digit or `-`, as
    /// Debian's `useradd` takes them) or a `UID`; never root, and never with a group: the group is
    /// the user's own.
    pub fn parse(text: &str) -> Result<Self, String> {
        let root = || {
            format!("`--user {text}` is root: the point of --user is a user who is not; give a name (e.g. --user app) or a UID other than 0")
        };
        if text.contains(':') {
            return Err(format!(
                "`--user {text}`: give a user name or UID only, without a group (the image runs with the user's own group)"
            ));
        }
        if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
            return match text.parse::<u32>() {
                Ok(0) => Err(root()),
                Ok(uid) => Ok(RunAs::Uid(uid)),
                Err(_) => Err(format!(
                    "`--user {text}`: a UID is at most {} (2^32 - 1)",
                    u32::MAX
                )),
            };
        }
        if text == "root" {
            return Err(root());
        }
        let mut bytes = text.bytes();
        let first_ok = bytes
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b == b'_');
        let rest_ok =
            bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if !first_ok || !rest_ok || text.len() > NAME_MAX {
            return Err(format!(
                "`--user {}` is not a user name useradd takes: lowercase letters, digits, `_` and `-`, starting with a letter or `_`, at most {NAME_MAX} characters (or give a UID)",
                text.escape_debug()
            ));
        }
        Ok(RunAs::Name(text.to_string()))
    }

    /// The shell command, run as root, that makes the user (when the image has none by that name)
    /// and gives it /app. Debian's `useradd` first, then busybox's `adduser` (Alpine); the home
    /// is /app, which the user owns, so that tools that write to `$HOME` (npm's logs) can.
    pub fn setup_command(&self) -> String {
        match self {
            RunAs::Uid(uid) => format!("chown -R {uid} {APP_DIR}"),
            RunAs::Name(name) => format!(
                "id -u {name} >/dev/null 2>&1 || useradd --system --user-group --home-dir {APP_DIR} --no-create-home --shell /usr/sbin/nologin {name} || adduser -S -D -H -h {APP_DIR} -s /sbin/nologin {name}; chown -R {name}: {APP_DIR}"
            ),
        }
    }
}

impl fmt::Display for RunAs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunAs::Name(name) => f.write_str(name),
            RunAs::Uid(uid) => write!(f, "{uid}"),
        }
    }
}

/// Make the plan's image run as `user`: the setup step before the commit, in the committed stage
/// (after its last command, so that /app is complete), then the image's `User`, and a label that
/// says so (the up-to-date check compares it).
pub fn apply(plan: &mut BuildPlan, user: &RunAs) {
    let Some(at) = plan
        .steps
        .iter()
        .position(|s| matches!(s, Step::Commit { .. }))
    else {
        return;
    };
    let stage = plan.steps[at].stage().to_string();
    let purpose = match user {
        RunAs::Name(name) => format!(
            "--user {name}: create the user {name} unless the image has one, and give it {APP_DIR}; the image runs as {name}"
        ),
        RunAs::Uid(uid) => {
            format!("--user {uid}: give UID {uid} {APP_DIR}; the image runs as {uid}")
        }
    };
    plan.steps.insert(
        at,
        Step::Setup {
            stage,
            command: user.setup_command(),
            purpose,
        },
    );
    plan.image.user = Some(user.to_string());
    plan.image
        .labels
        .insert(labels::USER.to_string(), user.to_string());
}

#[cfg(test)]
mod tests {
    use super::RunAs;

    #[test]
    fn names_and_uids_are_taken_root_and_groups_are_not() {
        assert_eq!(RunAs::parse("app"), Ok(RunAs::Name("app".into())));
        assert_eq!(RunAs::parse("_svc-1"), Ok(RunAs::Name("_svc-1".into())));
        assert_eq!(RunAs::parse("1000"), Ok(RunAs::Uid(1000)));
        for bad in ["root", "0", "000"] {
            let e = RunAs::parse(bad).unwrap_err();
            assert!(e.contains("is root"), "{bad}: {e}");
        }
        assert!(RunAs::parse("app:app")
            .unwrap_err()
            .contains("without a group"));
        for bad in [
            "App",
            "-x",
            "1app",
            "a b",
            "a;rm -rf /",
            "",
            &"a".repeat(33),
        ] {
            let e = RunAs::parse(bad).unwrap_err();
            assert!(e.contains("not a user name"), "{bad}: {e}");
        }
        assert!(RunAs::parse("4294967296").unwrap_err().contains("at most"));
    }

    #[test]
    fn the_setup_command_makes_a_named_user_and_only_chowns_for_a_uid() {
        let named = RunAs::Name("app".into()).setup_command();
        assert!(
            named.starts_with("id -u app >/dev/null 2>&1 || useradd "),
            "{named}"
        );
        assert!(named.ends_with("; chown -R app: /app"), "{named}");
        assert_eq!(RunAs::Uid(1000).setup_command(), "chown -R 1000 /app");
    }
}
