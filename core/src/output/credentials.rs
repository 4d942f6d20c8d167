//! Registry credentials as the docker CLI finds them (docker/cli `config/configfile`): the config
//! is `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`; for a registry, its
//! `credHelpers` entry wins, else `credsStore`, else the `auths` entry (`auth` or
//! `identitytoken`). A helper runs as `docker-credential-NAME get` with the server on its stdin,
//! through the `docker_credential` crate, so `docker login` and `docker-credential-ecr-login` both
//! just work. Which source was used is kept apart from the secret, so that errors can name it.

use crate::engine::session::docker_config;
use bollard::auth::DockerCredentials;
use docker_credential::{CredentialRetrievalError, DockerCredential};
use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;

/// Docker Hub's key in the config, as `docker login` writes it.
const DOCKER_HUB: &str = "https://index.docker.io/v1/";

/// Where the credentials for a registry come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `credHelpers`: the helper's name (`docker-credential-NAME`).
    Helper(String),
    /// `credsStore`: the store's name.
    Store(String),
    /// The config's `auths` entry.
    Auths,
    /// None: the push goes without credentials.
    Nothing,
}

/// The credentials for one registry, and where they came from.
pub struct Found {
    pub registry: String,
    pub source: Source,
    /// The config file read, if there is one.
    pub config: Option<PathBuf>,
    pub credentials: Option<DockerCredentials>,
}

impl fmt::Display for Found {
    /// The source, never the secret.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let config = self
            .config
            .as_ref()
            .map_or("no docker config".to_string(), |p| p.display().to_string());
        match &self.source {
            Source::Helper(name) => write!(
                f,
                "credHelpers in {config}: docker-credential-{name} for {}",
                self.registry
            ),
            Source::Store(name) => write!(
                f,
                "credsStore in {config}: docker-credential-{name} for {}",
                self.registry
            ),
            Source::Auths => write!(f, "auths in {config} for {}", self.registry),
            Source::Nothing => write!(f, "no credentials for {} ({config})", self.registry),
        }
    }
}

/// Credentials could not be had from the source the config names.
#[derive(Debug, thiserror::Error)]
#[error("{source_named}: {why}")]
pub struct CredentialError {
    pub source_named: String,
    pub why: String,
}

#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Config {
    #[serde(default)]
    auths: HashMap<String, serde_json::Value>,
    creds_store: Option<String>,
    #[serde(default)]
    cred_helpers: HashMap<String, String>,
}

/// The registry a repository is pushed to, as the config keys it: the first path component
/// when it is a host (has a `.` or `:`, or is `localhost`), else Docker Hub.
pub fn registry_of(repository: &str) -> String {
    match repository.split_once('/') {
        Some((first, _)) if first.contains(['.', ':']) || first == "localhost" => {
            if first == "docker.io" || first == "index.docker.io" {
                DOCKER_HUB.to_string()
            } else {
                first.to_string()
            }
        }
        _ => DOCKER_HUB.to_string(),
    }
}

/// The docker CLI's config file: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
pub fn config_path() -> Option<PathBuf> {
    docker_config::dir(&|name| std::env::var(name).ok()).map(|dir| dir.join("config.json"))
}

/// The credentials for `registry`.
pub fn find(registry: &str) -> Result<Found, CredentialError> {
    let path = config_path().filter(|p| p.is_file());
    let mut found = Found {
        registry: registry.to_string(),
        source: Source::Nothing,
        config: path.clone(),
        credentials: None,
    };
    let Some(path) = path else {
        return Ok(found);
    };
    let text = std::fs::read(&path).map_err(|e| CredentialError {
        source_named: path.display().to_string(),
        why: format!("cannot be read: {e}"),
    })?;
    let config: Config = serde_json::from_slice(&text).map_err(|e| CredentialError {
        source_named: path.display().to_string(),
        why: format!("is not a docker config: {e}"),
    })?;
    // Each source is asked alone, in Docker's order: a config holding only it.
    let only = if let Some(helper) = config.cred_helpers.get(registry) {
        found.source = Source::Helper(helper.clone());
        serde_json::json!({ "credHelpers": { registry: helper } })
    } else if let Some(store) = &config.creds_store {
        found.source = Source::Store(store.clone());
        serde_json::json!({ "credsStore": store })
    } else if config.auths.keys().any(|k| same_registry(k, registry)) {
        found.source = Source::Auths;
        serde_json::json!({ "auths": config.auths })
    } else {
        return Ok(found);
    };
    let asked =
        docker_credential::get_credential_from_reader(only.to_string().as_bytes(), registry);
    let credential = match asked {
        Ok(credential) => credential,
        // A store that knows nothing of this registry: no credentials, as Docker pushes then.
        Err(CredentialRetrievalError::NoCredentialConfigured) => return Ok(found),
        Err(e) => {
            return Err(CredentialError {
                source_named: found.to_string(),
                why: described(&e),
            })
        }
    };
    found.credentials = Some(match credential {
        DockerCredential::IdentityToken(token) => DockerCredentials {
            identitytoken: Some(token),
            serveraddress: Some(registry.to_string()),
            ..Default::default()
        },
        DockerCredential::UsernamePassword(username, password) => DockerCredentials {
            username: Some(username),
            password: Some(password),
            serveraddress: Some(registry.to_string()),
            ..Default::default()
        },
    });
    Ok(found)
}

/// Whether a config key names `registry` (keys may be URLs: `https://host/v1/`).
fn same_registry(key: &str, registry: &str) -> bool {
    let host = |s: &str| {
        let s = s
            .trim_start_matches("https://")
            .trim_start_matches("http://");
        s.split('/').next().unwrap_or(s).to_string()
    };
    key == registry || host(key) == host(registry)
}

/// The crate's error, without what a helper printed (which may hold anything).
fn described(e: &CredentialRetrievalError) -> String {
    match e {
        CredentialRetrievalError::HelperFailure { helper, .. } => {
            format!("{helper} failed (it is on PATH, and `{helper} get` exits non-zero)")
        }
        CredentialRetrievalError::HelperCommunicationError => {
            "the helper could not be run: is it on PATH?".to_string()
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::registry_of;

    #[test]
    fn the_registry_is_the_first_component_when_it_is_a_host() {
        assert_eq!(registry_of("127.0.0.1:5000/app"), "127.0.0.1:5000");
        assert_eq!(
            registry_of("123.dkr.ecr.eu-west-1.amazonaws.com/app"),
            "123.dkr.ecr.eu-west-1.amazonaws.com"
        );
        assert_eq!(registry_of("localhost/app"), "localhost");
        assert_eq!(registry_of("library/app"), "https://index.docker.io/v1/");
        assert_eq!(registry_of("app"), "https://index.docker.io/v1/");
        assert_eq!(
            registry_of("docker.io/me/app"),
            "https://index.docker.io/v1/"
        );
    }
}
