//! The words of a command line that are programs (first word, and after `;`, `&&`, `||`, `|`,
//! `sudo`, `then`, `do`), with where they are: the same rule as the python311 lint (`AR403`), so
//! that what `upgrade` renames is exactly what that warning names.

use std::ops::Range;

/// Each word in command position, with its byte range in `command`.
pub(super) fn command_words(command: &str) -> Vec<(Range<usize>, &str)> {
    let mut found = Vec::new();
    let mut next_is_command = true;
    let mut at = 0;
    for word in command.split(char::is_whitespace) {
        let start = at;
        at += word.len() + 1;
        if word.is_empty() {
            continue;
        }
        let is_command = next_is_command;
        next_is_command =
            matches!(word, ";" | "&&" | "||" | "|" | "sudo" | "then" | "do") || word.ends_with(';');
        let bare = word.trim_end_matches(';');
        if is_command && !bare.is_empty() {
            found.push((start..start + bare.len(), bare));
        }
    }
    found
}

/// `command` with `pip` and `python` in command position renamed `pip3` and `python3`, and the
/// names renamed; `None` when there is none.
pub(super) fn python3_names(command: &str) -> Option<(String, Vec<&'static str>)> {
    let mut out = command.to_string();
    let mut renamed = Vec::new();
    // From the end, so that earlier ranges stay valid.
    for (range, word) in command_words(command).into_iter().rev() {
        let name = match word {
            "pip" => "pip",
            "python" => "python",
            _ => continue,
        };
        out.insert(range.end, '3');
        if !renamed.contains(&name) {
            renamed.insert(0, name);
        }
    }
    (!renamed.is_empty()).then_some((out, renamed))
}

/// Whether `command` runs Python: what needs packages a pip install put there.
pub(super) fn runs_python(command: &str) -> bool {
    command_words(command).iter().any(|(_, w)| {
        let base = w.rsplit('/').next().unwrap_or(w);
        base.starts_with("python") || base.ends_with(".py")
    }) || command.split_whitespace().any(|w| w.ends_with(".py"))
}

/// Whether `command` uses a package `install` put on the PATH (`npm install -g typescript`, then
/// `tsc` is not known; `npx` and the package's own name are).
pub(super) fn uses_global_package(command: &str, install: &str) -> bool {
    let packages: Vec<&str> = install
        .split_whitespace()
        .skip_while(|w| !matches!(*w, "install" | "add" | "i"))
        .skip(1)
        .filter(|w| !w.starts_with('-'))
        .map(|w| {
            // `@scope/name@1.2` → `name`; `name@1` → `name`.
            let w = w.rsplit('/').next().unwrap_or(w);
            w.split('@').find(|p| !p.is_empty()).unwrap_or(w)
        })
        .collect();
    command_words(command)
        .iter()
        .any(|(_, w)| *w == "npx" || packages.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renames_only_programs() {
        let (out, names) =
            python3_names("pip install -r requirements.txt && python -m pip list").unwrap();
        assert_eq!(
            out,
            "pip3 install -r requirements.txt && python3 -m pip list"
        );
        assert_eq!(names, ["pip", "python"]);
        assert!(python3_names("pip3 install x; echo python").is_none());
    }

    #[test]
    fn later_commands_that_need_packages() {
        assert!(runs_python("python3 manage.py collectstatic"));
        assert!(!runs_python("echo done"));
        assert!(uses_global_package(
            "pm2 start app.js",
            "npm install -g pm2@5"
        ));
        assert!(!uses_global_package("echo hi", "npm install -g pm2"));
    }
}
