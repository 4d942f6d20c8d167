//! `--strategy target`: a pip install the revised build would lose installs into `/app/packages`
//! instead (`pip3 install --target ./packages`, under /app, which reaches the runtime image), and
//! `run.env` gets `PYTHONPATH=/app/packages` so that the application finds it.

use super::text::{Text, Written};
use super::words::{command_words, python3_names};
use super::Edit;
use marked_yaml::types::{MarkedMappingNode, MarkedScalarNode};

pub(super) const DIR: &str = "./packages";
pub(super) const PYTHONPATH: &str = "/app/packages";

/// The token of a `pip install` with `--target ./packages` after `install` (and `pip3`),
/// or `None` when it is not one pip install that names no target of its own.
pub(super) fn rewrite(text: &Text, w: &Written, value: &str) -> Option<String> {
    let inner = w.range.start + usize::from(w.quote.is_some());
    let token = &text.text[inner..inner + value.len()];
    let renamed = python3_names(token).map_or(token.to_string(), |(r, _)| r);
    if renamed.contains("--target") || renamed.contains(" -t ") || renamed.contains("--prefix") {
        return None;
    }
    let pips: Vec<_> = command_words(&renamed)
        .into_iter()
        .filter(|(_, word)| word.rsplit('/').next().unwrap_or(word).starts_with("pip"))
        .collect();
    let [(range, _)] = pips.as_slice() else {
        return None;
    };
    let rest = &renamed[range.end..];
    let install = rest.strip_prefix(" install")?;
    let at = range.end + " install".len();
    if !(install.is_empty() || install.starts_with(' ')) {
        return None;
    }
    Some(format!(
        "{} --target {DIR}{}",
        &renamed[..at],
        &renamed[at..]
    ))
}

/// The edit that puts `PYTHONPATH=/app/packages` first in `run.env` (made after `run:` when
/// missing, with `child` the indentation of run's keys and `dash` the list's); `None` when run.env
/// is not a block list or already sets PYTHONPATH.
pub(super) fn pythonpath(
    text: &Text,
    run_key: &MarkedScalarNode,
    run: &MarkedMappingNode,
    child: &str,
    dash: &str,
) -> Option<Edit> {
    let reason = format!("run.env PYTHONPATH={PYTHONPATH}: the application imports what `--target {DIR}` installed there");
    match run.get_sequence("env") {
        Some(list) => {
            let set = list.iter().any(|i| {
                i.as_mapping()
                    .and_then(|m| m.get_scalar("name"))
                    .is_some_and(|n| n.as_str() == "PYTHONPATH")
            });
            if set {
                return None;
            }
            let first = list.iter().next()?.as_mapping()?;
            let key = first
                .keys()
                .min_by_key(|k| k.span().start().map(|m| m.character()))?;
            let m = key.span().start()?;
            let line = text.line_range(m.line());
            let start = text.offset(m.line(), m.column())?;
            let prefix = &text.text[line.start..start];
            if prefix.trim() != "-" {
                return None;
            }
            let under = " ".repeat(prefix.chars().count());
            let lines = format!("{prefix}name: PYTHONPATH\n{under}value: {PYTHONPATH}\n");
            Some(Edit {
                range: line.start..line.start,
                replacement: lines,
                reason,
            })
        }
        None if run.get_node("env").is_some() => None,
        None => {
            let m = run_key.span().start()?;
            let at = text.line_range(m.line()).end;
            let under = " ".repeat(dash.chars().count());
            let lines =
                format!("{child}env:\n{dash}name: PYTHONPATH\n{under}value: {PYTHONPATH}\n");
            Some(Edit {
                range: at..at,
                replacement: lines,
                reason,
            })
        }
    }
}
