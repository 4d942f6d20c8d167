//! Image names as given with `-t NAME[:TAG]`.

use super::EngineError;

/// `NAME[:TAG]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageName {
    pub repo: String,
    pub tag: String,
}

impl ImageName {
    pub fn parse(text: &str) -> Result<Self, EngineError> {
        let bad = || EngineError::InvalidImageName(text.to_string());
        // A colon after the last slash is a tag; one before it is a registry port.
        let (repo, tag) = match text.rfind(':') {
            Some(i) if !text[i..].contains('/') => (&text[..i], &text[i + 1..]),
            _ => (text, "latest"),
        };
        let repo_ok = !repo.is_empty()
            && repo
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-/:".contains(c));
        let tag_ok = !tag.is_empty()
            && tag.len() <= 128
            && tag
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
        if repo_ok && tag_ok {
            Ok(Self {
                repo: repo.to_string(),
                tag: tag.to_string(),
            })
        } else {
            Err(bad())
        }
    }
}

impl std::fmt::Display for ImageName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.repo, self.tag)
    }
}

#[cfg(test)]
mod tests {
    use super::ImageName;

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
}
