//! Which engine to use, found the way the docker CLI finds it (docker/cli
//! `cli/command/cli.go`, `resolveContextName`): `DOCKER_HOST`, then `DOCKER_CONTEXT`, then the
//! configuration's `currentContext`, then the default socket. One step beyond the CLI: when the
//! default socket is absent, the rootless engine's socket, said in the log.
//!
//! Pure over the environment and the file system it is given, so that every route is unit-tested.

use super::docker_config::{self, ContextEndpoint};
use crate::engine::EngineError;
use std::path::{Path, PathBuf};

pub(crate) const DEFAULT_SOCKET: &str = "/var/run/docker.sock";
/// The CLI's address when TLS is asked for and no host is named (docker `opts.DefaultTLSHost`).
const DEFAULT_TLS_HOST: &str = "tcp://localhost:2376";
const SUPPORTED: &str = "supported: unix:///path/to/docker.sock and tcp://HOST:PORT";

/// Where the engine listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Endpoint {
    /// A unix socket's path.
    Unix(String),
    /// `host:port`.
    Tcp(String),
}

/// The TLS material of a connection: the engine is always verified (against `ca`, else the
/// system's roots); the client certificate is sent when both `cert` and `key` exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TlsFiles {
    /// `DOCKER_CERT_PATH` (or its default), or the context's TLS directory.
    pub dir: PathBuf,
    pub ca: Option<PathBuf>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
}

/// The engine to connect to, and how it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Found {
    pub endpoint: Endpoint,
    pub tls: Option<TlsFiles>,
    /// For the log's first line: `DOCKER_HOST`, `context ci, DOCKER_CONTEXT`, `default socket`…
    pub how: String,
    /// Warnings for the log, after its first line (an unreadable `config.json`).
    pub notes: Vec<String>,
}

impl Found {
    /// `unix:///path` or `tcp://host:port`.
    pub fn address(&self) -> String {
        match &self.endpoint {
            Endpoint::Unix(path) => format!("unix://{path}"),
            Endpoint::Tcp(authority) => format!("tcp://{authority}"),
        }
    }

    /// `tcp://127.0.0.1:2376 (DOCKER_HOST, TLS)`.
    pub fn described(&self) -> String {
        let tls = if self.tls.is_some() { ", TLS" } else { "" };
        format!("{} ({}{tls})", self.address(), self.how)
    }
}

/// What the process sees: its environment and which paths exist.
pub(crate) struct Env<'a> {
    pub var: &'a dyn Fn(&str) -> Option<String>,
    pub exists: &'a dyn Fn(&Path) -> bool,
}

impl Env<'_> {
    /// A variable that is set and not empty: the CLI tests `os.Getenv(…) != ""` throughout.
    fn set(&self, name: &str) -> Option<String> {
        (self.var)(name).filter(|v| !v.is_empty())
    }
}

/// The engine this process's environment and files name; nothing is connected. Also for the
/// checks that must know where it listens (a build never mounts its socket).
pub(crate) fn from_environment() -> Result<Found, EngineError> {
    find(&Env {
        var: &|name| std::env::var(name).ok(),
        exists: &|path| path.exists(),
    })
}

pub(crate) fn find(env: &Env) -> Result<Found, EngineError> {
    let mut notes = vec![];
    if let Some(host) = env.set("DOCKER_HOST") {
        let endpoint = endpoint(&host, "DOCKER_HOST").map_err(EngineError::Unsupported)?;
        return with_env_tls(env, endpoint, "DOCKER_HOST".into(), notes);
    }
    let config_dir = docker_config::dir(env.var);
    let named = match env.set("DOCKER_CONTEXT") {
        Some(name) => Some((name, "DOCKER_CONTEXT".to_string())),
        None => config_dir.as_deref().and_then(|dir| {
            let (current, warning) = docker_config::current_context(dir);
            notes.extend(warning.map(|w| {
                format!("Warning: the docker CLI's configuration cannot be read, so its current context is not used: {w}")
            }));
            current.map(|c| {
                let how = format!("currentContext in {}", dir.join("config.json").display());
                (c, how)
            })
        }),
    };
    match named {
        // `default` is the CLI's name for "no context": the environment decides.
        Some((name, how)) if name != "default" => {
            let Some(dir) = config_dir else {
                return Err(EngineError::Settings(format!(
                    "context \"{name}\" ({how}): neither DOCKER_CONFIG nor HOME is set, so the docker CLI's configuration cannot be found"
                )));
            };
            let context = docker_config::context(&dir, &name).map_err(EngineError::Settings)?;
            from_context(&name, &how, context, notes)
        }
        Some((_, how)) => default_endpoint(env, format!("context default, {how}"), notes),
        None => default_endpoint(env, String::new(), notes),
    }
}

/// No host named: the CLI's TLS default when TLS is asked for, else the default socket, else the
/// rootless engine's.
fn default_endpoint(env: &Env, how: String, notes: Vec<String>) -> Result<Found, EngineError> {
    let join = |what: &str| match how.as_str() {
        "" => what.to_string(),
        how => format!("{how}: {what}"),
    };
    if env.set("DOCKER_TLS_VERIFY").is_some() || env.set("DOCKER_TLS").is_some() {
        let endpoint = endpoint(DEFAULT_TLS_HOST, "the TLS default").expect("a valid address");
        let how = join("DOCKER_TLS_VERIFY without DOCKER_HOST: the docker CLI's TLS address");
        return with_env_tls(env, endpoint, how, notes);
    }
    let default = Path::new(DEFAULT_SOCKET);
    let rootless = env
        .set("XDG_RUNTIME_DIR")
        .map(|dir| Path::new(&dir).join("docker.sock"));
    let (path, what) = match rootless {
        Some(r) if !(env.exists)(default) && (env.exists)(&r) => (
            r.display().to_string(),
            format!("rootless socket: {DEFAULT_SOCKET} is absent"),
        ),
        Some(r) if !(env.exists)(default) => (
            DEFAULT_SOCKET.to_string(),
            format!(
                "default socket; no rootless socket at {} either",
                r.display()
            ),
        ),
        _ => (DEFAULT_SOCKET.to_string(), "default socket".to_string()),
    };
    Ok(Found {
        endpoint: Endpoint::Unix(path),
        tls: None,
        how: join(&what),
        notes,
    })
}

/// `DOCKER_TLS_VERIFY` (any non-empty value, `0` too, as the CLI reads it) turns TLS on with the
/// engine verified, from `DOCKER_CERT_PATH`, else the configuration directory (docker/cli
/// `cli/flags/options.go`). `ca.pem` must exist; `cert.pem` and `key.pem` are used when present.
fn with_env_tls(
    env: &Env,
    endpoint: Endpoint,
    how: String,
    notes: Vec<String>,
) -> Result<Found, EngineError> {
    let verify = env.set("DOCKER_TLS_VERIFY").is_some();
    if !verify && env.set("DOCKER_TLS").is_some() {
        return Err(EngineError::Unsupported(
            "DOCKER_TLS is set without DOCKER_TLS_VERIFY: the docker CLI would then not verify the engine's certificate, which apprunner-build never does; set DOCKER_TLS_VERIFY=1 and put the engine's CA in DOCKER_CERT_PATH/ca.pem".into(),
        ));
    }
    if !verify {
        return Ok(Found {
            endpoint,
            tls: None,
            how,
            notes,
        });
    }
    let dir = env
        .set("DOCKER_CERT_PATH")
        .map(PathBuf::from)
        .or_else(|| docker_config::dir(env.var))
        .ok_or_else(|| {
            EngineError::Settings(
                "DOCKER_TLS_VERIFY is set, but neither DOCKER_CERT_PATH, DOCKER_CONFIG nor HOME is: the certificates cannot be found".into(),
            )
        })?;
    let ca = dir.join("ca.pem");
    if !(env.exists)(&ca) {
        return Err(EngineError::Settings(format!(
            "DOCKER_TLS_VERIFY is set, but there is no {}: the engine's certificate cannot be verified (DOCKER_CERT_PATH names the directory of ca.pem, cert.pem and key.pem)",
            ca.display()
        )));
    }
    let tls = tls_files(env.exists, dir, Some(ca));
    tls_endpoint(endpoint, tls, how, notes, "DOCKER_HOST")
}

fn from_context(
    name: &str,
    how: &str,
    context: ContextEndpoint,
    notes: Vec<String>,
) -> Result<Found, EngineError> {
    let how = format!("context {name}, {how}");
    let named = format!("{}: Endpoints.docker.Host", context.meta.display());
    if context.skip_tls_verify {
        return Err(EngineError::Unsupported(format!(
            "context \"{name}\" ({}) says SkipTLSVerify: apprunner-build always verifies the engine's certificate; give the context its CA (docker context update {name} --docker \"host=…,ca=CA.pem,cert=…,key=…\")",
            context.meta.display()
        )));
    }
    // A context without a host talks to the default socket, as the CLI's client does.
    let endpoint = if context.host.is_empty() {
        Endpoint::Unix(DEFAULT_SOCKET.into())
    } else {
        endpoint(&context.host, &named).map_err(EngineError::Unsupported)?
    };
    let Some(dir) = context.tls else {
        return Ok(Found {
            endpoint,
            tls: None,
            how,
            notes,
        });
    };
    let ca = Some(dir.join("ca.pem")).filter(|p| p.is_file());
    let tls = tls_files(&|p: &Path| p.is_file(), dir, ca);
    tls_endpoint(endpoint, tls, how, notes, &named)
}

fn tls_files(exists: &dyn Fn(&Path) -> bool, dir: PathBuf, ca: Option<PathBuf>) -> TlsFiles {
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    // The CLI sends a client certificate only when it has both halves (`Endpoint.tlsConfig`).
    let pair = exists(&cert) && exists(&key);
    TlsFiles {
        dir,
        ca,
        cert: pair.then_some(cert),
        key: pair.then_some(key),
    }
}

fn tls_endpoint(
    endpoint: Endpoint,
    tls: TlsFiles,
    how: String,
    notes: Vec<String>,
    named: &str,
) -> Result<Found, EngineError> {
    if let Endpoint::Unix(path) = &endpoint {
        return Err(EngineError::Unsupported(format!(
            "{named}=unix://{path} with TLS material ({}): TLS is supported over tcp:// only",
            tls.dir.display()
        )));
    }
    Ok(Found {
        endpoint,
        tls: Some(tls),
        how,
        notes,
    })
}

/// What an engine address names, or why it cannot be used; `named` says where it was read
/// (`DOCKER_HOST`, a context's file). As with the docker CLI, `HOST:PORT` without a scheme means
/// tcp, and a tcp address without a port means 2375 (`opts.ParseTCPAddr` with
/// `DefaultTCPHost`). Anything else is refused by name rather than silently replaced by the
/// local socket: `ssh://`, `npipe://`, `fd://`, `https://`, a tcp URL with a path or query.
pub(crate) fn endpoint(host: &str, named: &str) -> Result<Endpoint, String> {
    let (scheme, rest) = host.split_once("://").unwrap_or(("tcp", host));
    match scheme {
        "unix" => {
            if rest.starts_with('/') && rest.len() > 1 {
                Ok(Endpoint::Unix(rest.to_string()))
            } else {
                Err(format!(
                    "{named}={host}: a unix:// address needs an absolute socket path, e.g. unix://{DEFAULT_SOCKET}"
                ))
            }
        }
        "tcp" | "http" => {
            let (authority, path) = match rest.find(['/', '?', '#']) {
                Some(i) => (&rest[..i], &rest[i..]),
                None => (rest, ""),
            };
            if !path.is_empty() && path != "/" {
                return Err(format!(
                    "{named}={host}: a path or query (`{path}`) after the address is not supported ({SUPPORTED})"
                ));
            }
            let valid = !authority.is_empty()
                && authority
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-_:[]".contains(c));
            if !valid {
                return Err(format!(
                    "{named}={host} is not an engine address ({SUPPORTED})"
                ));
            }
            let port = match authority.rsplit_once(']') {
                Some((_, after)) => after.strip_prefix(':'),
                None => authority.split_once(':').map(|(_, p)| p),
            };
            match port {
                None => Ok(Endpoint::Tcp(format!("{authority}:2375"))),
                Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => {
                    Ok(Endpoint::Tcp(authority.to_string()))
                }
                Some(p) => Err(format!(
                    "{named}={host}: `{p}` is not a port number ({SUPPORTED})"
                )),
            }
        }
        "https" => Err(format!(
            "{named}={host}: write TLS engines as the docker CLI does, tcp://HOST:PORT with DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH ({SUPPORTED})"
        )),
        "ssh" => Err(format!(
            "{named}={host}: ssh:// connections to the engine are not supported ({SUPPORTED}); forward the remote socket instead, e.g. ssh -L /tmp/docker.sock:{DEFAULT_SOCKET} HOST, then DOCKER_HOST=unix:///tmp/docker.sock"
        )),
        other => Err(format!(
            "{named}={host}: {other}:// connections to the engine are not supported ({SUPPORTED})"
        )),
    }
}

#[cfg(test)]
mod tests;
