//! Image names as given with `-t NAME[:TAG]`, checked against Docker's reference grammar
//! (distribution/reference) before anything runs:
//!
//! ```text
//! name       := [domain '/'] path-component ['/' path-component]*     (at most 255 characters)
//! domain     := host [':' port]         host := domain-name | '[' IPv6 ']'
//! domain-name := component ['.' component]*   component := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
//! path-component := [a-z0-9]+ (separator [a-z0-9]+)*   separator := '.' | '_' | '__' | '-'+
//! tag        := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
//! ```
//!
//! A digest (`NAME@sha256:…`) names existing content, not a name a build can give its image:
//! it is refused with a message that says so.

use crate::engine::EngineError;

/// Docker's limit on a repository name (registry included, tag not).
const NAME_MAX: usize = 255;
const TAG_MAX: usize = 128;

/// `NAME[:TAG]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageName {
    pub repo: String,
    pub tag: String,
}

impl ImageName {
    pub fn parse(text: &str) -> Result<Self, EngineError> {
        let (repo, tag) =
            check(text).map_err(|why| EngineError::InvalidImageName(format!("`{text}`: {why}")))?;
        Ok(Self {
            repo: repo.to_string(),
            tag: tag.unwrap_or("latest").to_string(),
        })
    }
}

/// The name and tag of `text`, or why it is not `NAME[:TAG]`.
fn check(text: &str) -> Result<(&str, Option<&str>), String> {
    if text.is_empty() {
        return Err("the name is empty".into());
    }
    if let Some((name, digest)) = text.split_once('@') {
        let what = if is_digest(digest) {
            "a digest"
        } else {
            "`@…` (a malformed digest)"
        };
        return Err(format!(
            "{what} names an existing image's content and cannot be given to a new image: use NAME[:TAG], e.g. -t {}",
            if name.is_empty() { "my-app:latest" } else { name }
        ));
    }
    // A colon after the last slash is a tag; one before it is a registry port.
    let (name, tag) = match text.rfind(':') {
        Some(i) if !text[i..].contains('/') => (&text[..i], Some(&text[i + 1..])),
        _ => (text, None),
    };
    if let Some(tag) = tag {
        check_tag(tag)?;
    }
    if name.len() > NAME_MAX {
        return Err(format!(
            "the name is {} characters long; Docker allows at most {NAME_MAX}",
            name.len()
        ));
    }
    let parts: Vec<&str> = name.split('/').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(if name.is_empty() {
            "the name before the tag is empty".into()
        } else {
            "empty path component (`//`, or a leading or trailing `/`)".into()
        });
    }
    let path = if parts.len() > 1 && !is_path_component(parts[0]) {
        if !is_domain(parts[0]) {
            return Err(format!(
                "`{}` is neither a registry (host[:port]) nor a lowercase name component",
                parts[0]
            ));
        }
        &parts[1..]
    } else {
        &parts[..]
    };
    for part in path {
        if !is_path_component(part) {
            let why = if part.contains(':') {
                "only one tag, after the last `/`".to_string()
            } else if part.chars().any(|c| c.is_ascii_uppercase()) {
                "repository names must be lowercase".to_string()
            } else {
                "each component is lowercase letters and digits, joined by `.`, `_`, `__` or `-`"
                    .to_string()
            };
            return Err(format!("`{part}`: {why}"));
        }
    }
    Ok((name, tag))
}

fn check_tag(tag: &str) -> Result<(), String> {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut chars = tag.chars();
    let ok = chars.next().is_some_and(word)
        && chars.all(|c| word(c) || c == '.' || c == '-')
        && tag.len() <= TAG_MAX;
    if ok {
        Ok(())
    } else {
        Err(format!(
            "the tag `{tag}` must be 1 to {TAG_MAX} letters, digits, `_`, `.` or `-`, not starting with `.` or `-`"
        ))
    }
}

/// `[a-z0-9]+ (separator [a-z0-9]+)*` with separator `.`, `_`, `__` or `-`+.
fn is_path_component(s: &str) -> bool {
    let b = s.as_bytes();
    let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    let mut i = 0;
    loop {
        let start = i;
        while i < b.len() && alnum(b[i]) {
            i += 1;
        }
        if i == start {
            return false;
        }
        if i == b.len() {
            return true;
        }
        match b[i] {
            b'.' => i += 1,
            b'_' if b.get(i + 1) == Some(&b'_') => i += 2,
            b'_' => i += 1,
            b'-' => {
                while b.get(i) == Some(&b'-') {
                    i += 1;
                }
            }
            _ => return false,
        }
    }
}

/// `host[:port]`, host a domain name (components of letters, digits and inner `-`, joined by
/// `.`) or a bracketed IPv6 address.
fn is_domain(s: &str) -> bool {
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let Some((addr, after)) = rest.split_once(']') else {
            return false;
        };
        if addr.is_empty() || !addr.chars().all(|c| c.is_ascii_hexdigit() || c == ':') {
            return false;
        }
        match after {
            "" => return true,
            p => match p.strip_prefix(':') {
                Some(port) => ("", Some(port)),
                None => return false,
            },
        }
    } else {
        match s.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()));
    let host_ok = s.starts_with('[')
        || host.split('.').all(|c| {
            let b = c.as_bytes();
            !b.is_empty()
                && b.iter().all(|x| x.is_ascii_alphanumeric() || *x == b'-')
                && b[0] != b'-'
                && b[b.len() - 1] != b'-'
        });
    port_ok && host_ok
}

/// `algorithm:hex`: algorithm components of letters and digits starting with a letter, joined by
/// `+`, `.`, `-` or `_`; at least 32 hex digits.
fn is_digest(s: &str) -> bool {
    let Some((alg, hex)) = s.split_once(':') else {
        return false;
    };
    let alg_ok = alg.split(['+', '.', '-', '_']).all(|c| {
        c.chars().next().is_some_and(|f| f.is_ascii_alphabetic())
            && c.chars().all(|x| x.is_ascii_alphanumeric())
    });
    alg_ok && hex.len() >= 32 && hex.chars().all(|c| c.is_ascii_hexdigit())
}

impl std::fmt::Display for ImageName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.repo, self.tag)
    }
}

#[cfg(test)]
mod tests {
    use super::ImageName;

    fn parts(text: &str) -> (String, String) {
        let n = ImageName::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        (n.repo, n.tag)
    }

    fn refused(text: &str) -> String {
        match ImageName::parse(text) {
            Ok(n) => panic!("{text} was accepted as {n}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn image_names() {
        let n = ImageName::parse("hello").unwrap();
        assert_eq!((n.repo.as_str(), n.tag.as_str()), ("hello", "latest"));
        let n = ImageName::parse("localhost:5000/team/app:v1.2").unwrap();
        assert_eq!(
            (n.repo.as_str(), n.tag.as_str()),
            ("localhost:5000/team/app", "v1.2")
        );
        let n = ImageName::parse("localhost:5000/app").unwrap();
        assert_eq!(
            (n.repo.as_str(), n.tag.as_str()),
            ("localhost:5000/app", "latest")
        );
        assert!(ImageName::parse("Hello").is_err());
        assert!(ImageName::parse("app:").is_err());
        assert!(ImageName::parse("").is_err());
    }

    #[test]
    fn dockers_reference_grammar_is_enforced() {
        for (text, repo, tag) in [
            (
                "localhost:5000/team/app:v1",
                "localhost:5000/team/app",
                "v1",
            ),
            (
                "registry.example.com/a/b-c_d.e:tag",
                "registry.example.com/a/b-c_d.e",
                "tag",
            ),
            ("a__b/c---d:_V1.0-rc", "a__b/c---d", "_V1.0-rc"),
            (
                "Registry.Example.com:443/app",
                "Registry.Example.com:443/app",
                "latest",
            ),
            ("[::1]:5000/app:1", "[::1]:5000/app", "1"),
            ("my-host/app", "my-host/app", "latest"),
            ("localhost:5000", "localhost", "5000"),
        ] {
            assert_eq!(parts(text), (repo.to_string(), tag.to_string()), "{text}");
        }
        let at_limit = format!("a/{}", "b".repeat(253));
        assert_eq!(parts(&at_limit).0, at_limit);

        for (text, why) in [
            ("../x", "`..`"),
            ("./x", "`.`"),
            ("a//b", "empty path component"),
            ("/a", "empty path component"),
            ("a/", "empty path component"),
            ("x:a:b", "only one tag"),
            ("a/b:c:d", "only one tag"),
            ("App", "must be lowercase"),
            ("team/App", "must be lowercase"),
            ("a..b", "lowercase letters and digits"),
            ("a_-b", "lowercase letters and digits"),
            ("a___b", "lowercase letters and digits"),
            ("-a", "lowercase letters and digits"),
            ("a-", "lowercase letters and digits"),
            ("-host.com/a", "neither a registry"),
            ("host:port/a", "neither a registry"),
            ("app:.v1", "the tag `.v1`"),
            ("app:-v1", "the tag `-v1`"),
            ("app:v 1", "the tag"),
            (":v1", "the name before the tag is empty"),
            ("", "the name is empty"),
        ] {
            let e = refused(text);
            assert!(e.contains(why), "{text}: {e}");
            assert!(
                e.starts_with(&format!("invalid image name `{text}`: ")),
                "{e}"
            );
        }
        let e = refused(&"a".repeat(300));
        assert!(
            e.contains("300 characters long; Docker allows at most 255"),
            "{e}"
        );
        let e = refused(&format!("a:{}", "t".repeat(129)));
        assert!(e.contains("1 to 128"), "{e}");
        assert!(ImageName::parse(&format!("a:{}", "t".repeat(128))).is_ok());
    }

    #[test]
    fn digests_are_refused_plainly() {
        let digest = format!("sha256:{}", "a".repeat(64));
        let e = refused(&format!("app@{digest}"));
        assert!(
            e.contains("a digest names an existing image's content and cannot be given to a new image: use NAME[:TAG], e.g. -t app"),
            "{e}"
        );
        let e = refused(&format!("localhost:5000/app:v1@{digest}"));
        assert!(e.contains("a digest"), "{e}");
        let e = refused("app@sha256:xyz");
        assert!(e.contains("malformed digest"), "{e}");
    }
}
