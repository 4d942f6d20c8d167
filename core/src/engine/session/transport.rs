//! The connection under bollard: one hyper client per kind of address (unix socket, plain tcp,
//! TLS), handed to bollard as its custom transport. Every engine call passes here, so this is
//! the one place calls are timed for `--debug`; only the method, the path and the names of
//! query parameters are logged, never a body, a header (registry credentials travel in
//! `X-Registry-Auth`) or a parameter's value.

use super::discover::{Endpoint, Found, TlsFiles};
use crate::engine::EngineError;
use bollard::{BollardRequest, Docker};
use hyper_util::client::legacy::connect::{Connect, HttpConnector};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::sync::Arc;
use std::time::Instant;

/// Seconds a plain request may take (request and response headers).
pub(crate) const REQUEST_TIMEOUT: u64 = 120;

/// A client for the engine `found` names; nothing is sent yet.
pub(crate) fn client(found: &Found) -> Result<Docker, EngineError> {
    let docker = match (&found.endpoint, &found.tls) {
        // bollard's own unix addresses: the socket's path, hex-encoded, as the URI's host.
        (Endpoint::Unix(path), _) => through(
            hyperlocal::UnixConnector,
            format!("unix://{}", hex::encode(path)),
        ),
        (Endpoint::Tcp(authority), None) => {
            through(HttpConnector::new(), format!("http://{authority}"))
        }
        (Endpoint::Tcp(authority), Some(tls)) => {
            let mut http = HttpConnector::new();
            http.enforce_http(false);
            let https = hyper_rustls::HttpsConnectorBuilder::new()
                .with_tls_config(tls_config(tls)?)
                .https_only()
                .enable_http1()
                .wrap_connector(http);
            through(https, format!("https://{authority}"))
        }
    };
    docker.map_err(|source| EngineError::Connect {
        host: found.described(),
        source,
        help: None,
    })
}

/// bollard on a hyper client of `connector`, each call timed.
fn through<C>(connector: C, address: String) -> Result<Docker, bollard::errors::Error>
where
    C: Connect + Clone + Send + Sync + 'static,
{
    // No idle connections kept, as bollard's own transports do: an engine restart then never
    // meets a stale one.
    let client = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(0)
        .build(connector);
    let call = move |request: BollardRequest| {
        let client = client.clone();
        async move {
            let method = request.method().clone();
            let path = shown(request.uri().path(), request.uri().query());
            let started = Instant::now();
            let answer = client.request(request).await;
            // The time to the engine's answer (its headers): a streamed body (a pull's progress, a
            // container's output, an archive) goes on after it.
            let took = started.elapsed();
            match &answer {
                Ok(response) => tracing::debug!(
                    status = response.status().as_u16(),
                    ?took,
                    "engine {method} {path}"
                ),
                Err(e) => tracing::debug!(error = %e, ?took, "engine {method} {path}"),
            }
            answer.map_err(bollard::errors::Error::from)
        }
    };
    Docker::connect_with_custom_transport(
        call,
        Some(address),
        REQUEST_TIMEOUT,
        bollard::API_DEFAULT_VERSION,
    )
}

/// The path, and the names of the query's parameters without their values: a value may be an
/// image's config change or a filter, and a log shows what was called, not with what.
fn shown(path: &str, query: Option<&str>) -> String {
    match query {
        Some(q) if !q.is_empty() => {
            let names: Vec<&str> = q
                .split('&')
                .map(|p| p.split('=').next().unwrap_or(""))
                .collect();
            format!("{path}?{}", names.join("&"))
        }
        _ => path.to_string(),
    }
}

/// Why a PEM file cannot be read, in words that never quote the file: some of the parser's
/// errors carry a line of it.
fn pem_problem(e: pem::Error) -> String {
    match e {
        pem::Error::Io(e) => e.to_string(),
        pem::Error::NoItemsFound => "no PEM item of the expected kind in it".into(),
        _ => "not a well-formed PEM file".into(),
    }
}

/// TLS as the docker CLI sets it up (docker/cli `cli/context/docker/load.go`, `tlsConfig`): the
/// engine is verified against `ca.pem` alone when there is one, else the system's roots; the
/// client certificate is sent when both halves exist. File problems name the file, never its
/// contents.
fn tls_config(tls: &TlsFiles) -> Result<rustls::ClientConfig, EngineError> {
    let unusable = |path: &std::path::Path, why: String| {
        EngineError::Settings(format!("cannot use {}: {why}", path.display()))
    };
    let mut roots = rustls::RootCertStore::empty();
    match &tls.ca {
        Some(ca) => {
            let certs = CertificateDer::pem_file_iter(ca)
                .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                .map_err(|e| unusable(ca, pem_problem(e)))?;
            if certs.is_empty() {
                return Err(unusable(ca, "no PEM certificate in it".into()));
            }
            for cert in certs {
                roots.add(cert).map_err(|e| unusable(ca, e.to_string()))?;
            }
        }
        None => {
            roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
        }
    }
    // ring, named here rather than left to rustls's process default: it builds with a C compiler
    // alone (aws-lc-rs wants cmake). Deprecated for lacking post-quantum key exchange, which a
    // Docker engine's TLS (Go's) does not need.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| EngineError::Settings(format!("TLS: {e}")))?
        .with_root_certificates(roots);
    let mut config = match (&tls.cert, &tls.key) {
        (Some(cert), Some(key)) => {
            let chain = CertificateDer::pem_file_iter(cert)
                .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                .map_err(|e| unusable(cert, pem_problem(e)))?;
            let private =
                PrivateKeyDer::from_pem_file(key).map_err(|e| unusable(key, pem_problem(e)))?;
            builder
                .with_client_auth_cert(chain, private)
                .map_err(|e| unusable(key, e.to_string()))?
        }
        _ => builder.with_no_client_auth(),
    };
    // No session resumption, as the CLI's Go client (no ClientSessionCache): each call is a new
    // connection, and a server with client verification may refuse a resumed one (OpenSSL's
    // "session id context uninitialized").
    config.resumption = rustls::client::Resumption::disabled();
    Ok(config)
}

#[cfg(test)]
mod tests {
    #[test]
    fn calls_are_shown_without_values() {
        assert_eq!(super::shown("/v1.41/_ping", None), "/v1.41/_ping");
        assert_eq!(
            super::shown(
                "/v1.41/commit",
                Some("container=x&changes=ENV%20A%3Dsecret")
            ),
            "/v1.41/commit?container&changes"
        );
    }
}
