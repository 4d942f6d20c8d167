//! The docker CLI's configuration, read as the CLI reads it: the directory, `config.json`'s
//! current context, and a context's stored endpoint. Only what the engine connection needs is
//! read; nothing here is ever logged (the file also holds registry credentials).

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The CLI's configuration directory: `$DOCKER_CONFIG`, else `~/.docker` (docker/cli
/// `cli/config/config.go`, `Dir()`).
pub(crate) fn dir(var: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    match var("DOCKER_CONFIG").filter(|d| !d.is_empty()) {
        Some(d) => Some(PathBuf::from(d)),
        None => var("HOME")
            .filter(|h| !h.is_empty())
            .map(|h| Path::new(&h).join(".docker")),
    }
}

/// `config.json`'s `currentContext`. A missing file is an empty configuration; one that cannot be
/// read or parsed is too, with a warning, as the CLI does (`LoadDefaultConfigFile` prints
/// "WARNING: Error loading config file" and goes on).
pub(crate) fn current_context(dir: &Path) -> (Option<String>, Option<String>) {
    #[derive(serde::Deserialize)]
    struct ConfigFile {
        #[serde(rename = "currentContext", default)]
        current_context: Option<String>,
    }
    let path = dir.join("config.json");
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (None, None),
        Err(e) => return (None, Some(format!("{}: {e}", path.display()))),
    };
    match serde_json::from_str::<ConfigFile>(&text) {
        Ok(c) => (c.current_context.filter(|c| !c.is_empty()), None),
        // serde_json's message names a line and column, never the file's values.
        Err(e) => (None, Some(format!("{}: {e}", path.display()))),
    }
}

/// A context's docker endpoint, from `contexts/meta/<sha256 of name>/meta.json`, and its TLS
/// material's directory `contexts/tls/<sha256 of name>/docker/` (docker/cli
/// `cli/context/store`: the directories are named by the digest so that any name is a safe path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ContextEndpoint {
    /// `Endpoints.docker.Host`.
    pub host: String,
    pub skip_tls_verify: bool,
    /// Where it was read, for messages.
    pub meta: PathBuf,
    /// The TLS directory, when it holds any of `ca.pem`, `cert.pem`, `key.pem`.
    pub tls: Option<PathBuf>,
}

pub(crate) fn context(dir: &Path, name: &str) -> Result<ContextEndpoint, String> {
    let id = hex::encode(Sha256::digest(name.as_bytes()));
    let meta = dir
        .join("contexts")
        .join("meta")
        .join(&id)
        .join("meta.json");
    let text = std::fs::read_to_string(&meta).map_err(|e| match e.kind() {
        // The CLI's words: `context "NAME": context not found`.
        std::io::ErrorKind::NotFound => format!(
            "context \"{name}\": context not found (no {})",
            meta.display()
        ),
        _ => format!("context \"{name}\": {}: {e}", meta.display()),
    })?;
    #[derive(serde::Deserialize)]
    struct Meta {
        #[serde(rename = "Endpoints", default)]
        endpoints: Endpoints,
    }
    #[derive(serde::Deserialize, Default)]
    struct Endpoints {
        docker: Option<Endpoint>,
    }
    #[derive(serde::Deserialize)]
    struct Endpoint {
        #[serde(rename = "Host", default)]
        host: String,
        #[serde(rename = "SkipTLSVerify", default)]
        skip_tls_verify: bool,
    }
    let parsed: Meta = serde_json::from_str(&text)
        .map_err(|e| format!("context \"{name}\": {}: {e}", meta.display()))?;
    // The CLI's words when a context has no docker endpoint.
    let endpoint = parsed.endpoints.docker.ok_or_else(|| {
        format!(
            "context \"{name}\": cannot find docker endpoint in context ({})",
            meta.display()
        )
    })?;
    let tls = dir.join("contexts").join("tls").join(&id).join("docker");
    let has_tls = ["ca.pem", "cert.pem", "key.pem"]
        .iter()
        .any(|f| tls.join(f).is_file());
    Ok(ContextEndpoint {
        host: endpoint.host,
        skip_tls_verify: endpoint.skip_tls_verify,
        meta,
        tls: has_tls.then_some(tls),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contexts_are_found_by_the_digest_of_their_name() {
        let dir = tempfile::tempdir().unwrap();
        // As `docker context create ci` names its folders.
        let real = hex::encode(Sha256::digest(b"ci"));
        let meta = dir.path().join("contexts/meta").join(&real);
        std::fs::create_dir_all(&meta).unwrap();
        std::fs::write(
            meta.join("meta.json"),
            r#"{"Name":"ci","Metadata":{},"Endpoints":{"docker":{"Host":"unix:///run/x.sock","SkipTLSVerify":false}}}"#,
        )
        .unwrap();
        let found = context(dir.path(), "ci").unwrap();
        assert_eq!(found.host, "unix:///run/x.sock");
        assert_eq!(found.tls, None);
        let tls = dir.path().join("contexts/tls").join(&real).join("docker");
        std::fs::create_dir_all(&tls).unwrap();
        std::fs::write(tls.join("ca.pem"), "x").unwrap();
        assert_eq!(context(dir.path(), "ci").unwrap().tls, Some(tls));
        let e = context(dir.path(), "other").unwrap_err();
        assert!(e.starts_with("context \"other\": context not found"), "{e}");
    }

    #[test]
    fn config_json_names_the_current_context() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(current_context(dir.path()), (None, None));
        std::fs::write(
            dir.path().join("config.json"),
            r#"{"auths":{"r":{"auth":"c2VjcmV0"}},"currentContext":"ci"}"#,
        )
        .unwrap();
        assert_eq!(current_context(dir.path()), (Some("ci".into()), None));
        std::fs::write(dir.path().join("config.json"), "{not json").unwrap();
        let (none, warning) = current_context(dir.path());
        assert_eq!(none, None);
        assert!(warning.unwrap().contains("config.json"));
    }
}
