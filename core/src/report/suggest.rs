//! "Did you mean …?" for misspelt names.

/// The candidate closest to `input`, when it is close enough to be a likely typo.
pub fn closest<'a>(input: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let lower = input.to_ascii_lowercase().replace('_', "-");
    candidates
        .iter()
        .map(|c| (strsim::damerau_levenshtein(&lower, c), *c))
        .filter(|(d, c)| *d > 0 || lower != input.to_ascii_lowercase() || *c != input)
        .filter(|(d, c)| *d <= (c.len() / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn finds_typos_and_case_and_underscores() {
        assert_eq!(closest("comand", &["command", "env"]), Some("command"));
        assert_eq!(
            closest("pre_build", &["pre-build", "build"]),
            Some("pre-build")
        );
        assert_eq!(closest("Runtime", &["runtime", "run"]), Some("runtime"));
        assert_eq!(
            closest("post-biuld", &["pre-build", "post-build"]),
            Some("post-build")
        );
    }

    #[test]
    fn stays_quiet_when_nothing_is_close() {
        assert_eq!(closest("dockerfile", &["commands", "env"]), None);
        assert_eq!(closest("x", &["port", "env"]), None);
    }
}
