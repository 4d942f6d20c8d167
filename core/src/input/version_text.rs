//! Versions as people write them in version files and Python metadata, turned into npm-style
//! ranges the resolver reads: `.nvmrc`'s `lts/hydrogen`, runtime.txt's `python-3.11.4`,
//! `requires-python`'s `~=3.11`.

/// A version file's content (`.nvmrc`, `.node-version`, `.python-version`): `18`, `v18.20.8`,
/// `3.11`, `lts/hydrogen`, `lts/*`, `python-3.11.4` (runtime.txt). Returns an npm-style range.
pub fn version_file_range(content: &str) -> Option<String> {
    let text = content
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))?;
    let text = text.strip_prefix("python-").unwrap_or(text);
    if let Some(codename) = text.strip_prefix("lts/") {
        const LTS: &[(&str, u32)] = &[
            ("argon", 4),
            ("boron", 6),
            ("carbon", 8),
            ("dubnium", 10),
            ("erbium", 12),
            ("fermium", 14),
            ("gallium", 16),
            ("hydrogen", 18),
            ("iron", 20),
            ("jod", 22),
            ("krypton", 24),
        ];
        return match codename.to_ascii_lowercase().as_str() {
            // The newest LTS line App Runner offers.
            "*" | "latest" => Some("22".into()),
            name => LTS
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, major)| major.to_string()),
        };
    }
    let text = text.trim_start_matches('v');
    let ok = !text.is_empty()
        && text.split('.').all(|p| {
            !p.is_empty() && (p.chars().all(|c| c.is_ascii_digit()) || p == "x" || p == "*")
        });
    ok.then(|| text.to_string())
}

/// A PEP 440 specifier set (`>=3.9,<3.13`, `~=3.11`, `==3.11.*`, `^3.11` from Poetry) as an npm
/// range node-semver reads. `!=` clauses are dropped (they only ever exclude).
pub fn pep440_to_range(spec: &str) -> Option<String> {
    let mut parts = Vec::new();
    for clause in spec.split(',').map(str::trim).filter(|c| !c.is_empty()) {
        let (op, version) = match clause.find(|c: char| c.is_ascii_digit()) {
            Some(i) => (clause[..i].trim(), clause[i..].trim()),
            None => return None,
        };
        let numbers: Vec<&str> = version.trim_end_matches(".*").split('.').collect();
        match op {
            "~=" if numbers.len() >= 2 => {
                // ~=3.11 → >=3.11 <4 ; ~=3.11.2 → >=3.11.2 <3.12
                let upper_len = numbers.len() - 1;
                let mut upper: Vec<u64> = numbers[..upper_len]
                    .iter()
                    .filter_map(|n| n.parse().ok())
                    .collect();
                // checked: a number as large as u64 allows is no Python version, and is refused.
                let last = upper.last_mut()?;
                *last = last.checked_add(1)?;
                let upper = upper
                    .iter()
                    .map(u64::to_string)
                    .collect::<Vec<_>>()
                    .join(".");
                parts.push(format!(">={version} <{upper}"));
            }
            "==" if version.ends_with(".*") => {
                parts.push(format!("{}.x", version.trim_end_matches(".*")))
            }
            "==" | "===" => parts.push(version.to_string()),
            "!=" => {}
            // PEP 440 compares a shorter version as if padded with zeros (`<=3.12` is `<=3.12.0`,
            // which 3.12.1 is not), where npm reads a partial version as an X-range (every 3.12.x).
            "<=" | ">" => parts.push(format!("{op}{}", zero_padded(version))),
            ">=" | "<" | "^" | "~" | "" => parts.push(format!("{op}{version}")),
            _ => return None,
        }
    }
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// `3` as `3.0.0`, `3.12` as `3.12.0`; anything else as it is.
fn zero_padded(version: &str) -> String {
    let parts = version.split('.').count();
    let numeric = version
        .split('.')
        .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    if numeric && parts < 3 {
        format!("{version}{}", ".0".repeat(3 - parts))
    } else {
        version.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_files() {
        assert_eq!(version_file_range("18\n").as_deref(), Some("18"));
        assert_eq!(version_file_range("v18.20.8").as_deref(), Some("18.20.8"));
        assert_eq!(version_file_range("lts/hydrogen").as_deref(), Some("18"));
        assert_eq!(version_file_range("lts/*").as_deref(), Some("22"));
        assert_eq!(
            version_file_range("python-3.11.4").as_deref(),
            Some("3.11.4")
        );
        assert_eq!(
            version_file_range("# pinned\n3.12\n").as_deref(),
            Some("3.12")
        );
        assert_eq!(version_file_range("node"), None);
        assert_eq!(version_file_range(""), None);
    }

    #[test]
    fn pep440_specifiers() {
        assert_eq!(
            pep440_to_range(">=3.9,<3.13").as_deref(),
            Some(">=3.9 <3.13")
        );
        assert_eq!(pep440_to_range("~=3.11").as_deref(), Some(">=3.11 <4"));
        assert_eq!(
            pep440_to_range("~=3.11.2").as_deref(),
            Some(">=3.11.2 <3.12")
        );
        assert_eq!(pep440_to_range("==3.11.*").as_deref(), Some("3.11.x"));
        assert_eq!(pep440_to_range(">=3.8, !=3.9.1").as_deref(), Some(">=3.8"));
        assert_eq!(pep440_to_range("^3.11").as_deref(), Some("^3.11"));
        assert_eq!(pep440_to_range("banana"), None);
        // Its upper bound overflowed u64 (a panic in debug builds, a wrong `<3.0` in release).
        assert_eq!(pep440_to_range("~=3.18446744073709551615.1"), None);
        assert_eq!(
            pep440_to_range("~=3.18446744073709551614.1").as_deref(),
            Some(">=3.18446744073709551614.1 <3.18446744073709551615")
        );
        // Compared padded with zeros, as PEP 440 does: 3.12.1 is above 3.12.
        assert_eq!(pep440_to_range("<=3.12").as_deref(), Some("<=3.12.0"));
        assert_eq!(pep440_to_range(">3.11").as_deref(), Some(">3.11.0"));
        assert_eq!(pep440_to_range(">3").as_deref(), Some(">3.0.0"));
        assert_eq!(pep440_to_range("<=3.12.4").as_deref(), Some("<=3.12.4"));
    }
}
