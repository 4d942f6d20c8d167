use super::*;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// `find` with these variables set, and these paths existing.
fn found(vars: &[(&str, &str)], existing: &[&Path]) -> Result<Found, EngineError> {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let existing: Vec<PathBuf> = existing.iter().map(|p| p.to_path_buf()).collect();
    let var = move |k: &str| vars.get(k).cloned();
    let exists = move |p: &Path| existing.iter().any(|e| e == p);
    find(&Env {
        var: &var,
        exists: &exists,
    })
}

fn message(e: EngineError) -> String {
    match e {
        EngineError::Unsupported(m) | EngineError::Settings(m) => m,
        other => panic!("{other:?}"),
    }
}

/// A DOCKER_CONFIG holding `config.json` and contexts (name, meta.json's docker endpoint).
fn config_dir(current: Option<&str>, contexts: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    if let Some(c) = current {
        std::fs::write(
            dir.path().join("config.json"),
            format!(r#"{{"currentContext":"{c}"}}"#),
        )
        .unwrap();
    }
    for (name, endpoint) in contexts {
        let id = hex::encode(Sha256::digest(name.as_bytes()));
        let meta = dir.path().join("contexts/meta").join(id);
        std::fs::create_dir_all(&meta).unwrap();
        std::fs::write(
            meta.join("meta.json"),
            format!(r#"{{"Name":"{name}","Metadata":{{}},"Endpoints":{{"docker":{endpoint}}}}}"#),
        )
        .unwrap();
    }
    dir
}

#[test]
fn the_default_socket_when_nothing_is_set() {
    let f = found(&[("HOME", "/nonexistent")], &[Path::new(DEFAULT_SOCKET)]).unwrap();
    assert_eq!(
        f.described(),
        "unix:///var/run/docker.sock (default socket)"
    );
}

#[test]
fn the_rootless_socket_when_the_default_one_is_absent() {
    let rootless = Path::new("/run/user/1000/docker.sock");
    let vars = [
        ("HOME", "/nonexistent"),
        ("XDG_RUNTIME_DIR", "/run/user/1000"),
    ];
    let f = found(&vars, &[rootless]).unwrap();
    assert_eq!(
        f.described(),
        "unix:///run/user/1000/docker.sock (rootless socket: /var/run/docker.sock is absent)"
    );
    // The machine's socket wins when both exist.
    let f = found(&vars, &[rootless, Path::new(DEFAULT_SOCKET)]).unwrap();
    assert_eq!(f.address(), "unix:///var/run/docker.sock");
    // Neither: the default, and the message says what else was tried.
    let f = found(&vars, &[]).unwrap();
    assert_eq!(
        f.described(),
        "unix:///var/run/docker.sock (default socket; no rootless socket at /run/user/1000/docker.sock either)"
    );
}

#[test]
fn docker_host_wins_over_contexts() {
    let config = config_dir(Some("ci"), &[("ci", r#"{"Host":"unix:///ci.sock"}"#)]);
    let dir = config.path().to_str().unwrap();
    let f = found(
        &[
            ("DOCKER_HOST", "tcp://10.0.0.5:2375"),
            ("DOCKER_CONTEXT", "ci"),
            ("DOCKER_CONFIG", dir),
        ],
        &[],
    )
    .unwrap();
    assert_eq!(f.described(), "tcp://10.0.0.5:2375 (DOCKER_HOST)");
}

#[test]
fn docker_context_then_the_current_context() {
    let config = config_dir(
        Some("ci"),
        &[
            ("ci", r#"{"Host":"unix:///ci.sock","SkipTLSVerify":false}"#),
            ("other", r#"{"Host":"tcp://builder:2375"}"#),
        ],
    );
    let dir = config.path().to_str().unwrap();
    let f = found(&[("DOCKER_CONFIG", dir)], &[]).unwrap();
    assert_eq!(
        f.described(),
        format!("unix:///ci.sock (context ci, currentContext in {dir}/config.json)")
    );
    let f = found(&[("DOCKER_CONFIG", dir), ("DOCKER_CONTEXT", "other")], &[]).unwrap();
    assert_eq!(
        f.described(),
        "tcp://builder:2375 (context other, DOCKER_CONTEXT)"
    );
    // `default` is the environment's engine, as in the CLI.
    let f = found(
        &[("DOCKER_CONFIG", dir), ("DOCKER_CONTEXT", "default")],
        &[Path::new(DEFAULT_SOCKET)],
    )
    .unwrap();
    assert_eq!(
        f.described(),
        "unix:///var/run/docker.sock (context default, DOCKER_CONTEXT: default socket)"
    );
    // HOME/.docker when DOCKER_CONFIG is unset.
    let home = tempfile::tempdir().unwrap();
    std::fs::rename(config.path(), home.path().join(".docker")).unwrap();
    let f = found(&[("HOME", home.path().to_str().unwrap())], &[]).unwrap();
    assert_eq!(f.address(), "unix:///ci.sock");
}

#[test]
fn a_missing_or_unusable_context_is_refused_by_name() {
    let config = config_dir(
        None,
        &[
            ("ssh", r#"{"Host":"ssh://me@builder"}"#),
            (
                "insecure",
                r#"{"Host":"tcp://b:2376","SkipTLSVerify":true}"#,
            ),
        ],
    );
    let dir = config.path().to_str().unwrap();
    let refused = |name: &str| {
        message(found(&[("DOCKER_CONFIG", dir), ("DOCKER_CONTEXT", name)], &[]).unwrap_err())
    };
    let e = refused("gone");
    assert!(e.starts_with("context \"gone\": context not found"), "{e}");
    let e = refused("ssh");
    assert!(
        e.contains("meta.json: Endpoints.docker.Host=ssh://me@builder: ssh://"),
        "{e}"
    );
    let e = refused("insecure");
    assert!(e.contains("SkipTLSVerify"), "{e}");
}

#[test]
fn an_unreadable_config_is_a_warning_and_the_default_is_used() {
    let config = tempfile::tempdir().unwrap();
    std::fs::write(config.path().join("config.json"), "{oops").unwrap();
    let f = found(
        &[("DOCKER_CONFIG", config.path().to_str().unwrap())],
        &[Path::new(DEFAULT_SOCKET)],
    )
    .unwrap();
    assert_eq!(f.how, "default socket");
    assert!(f.notes[0].contains("config.json"), "{:?}", f.notes);
}

#[test]
fn tls_follows_docker_tls_verify_and_docker_cert_path() {
    let certs = Path::new("/certs");
    let (ca, cert, key) = (
        certs.join("ca.pem"),
        certs.join("cert.pem"),
        certs.join("key.pem"),
    );
    let vars = [
        ("DOCKER_HOST", "tcp://127.0.0.1:2376"),
        ("DOCKER_TLS_VERIFY", "1"),
        ("DOCKER_CERT_PATH", "/certs"),
    ];
    let f = found(&vars, &[&ca, &cert, &key]).unwrap();
    assert_eq!(f.described(), "tcp://127.0.0.1:2376 (DOCKER_HOST, TLS)");
    let tls = f.tls.unwrap();
    assert_eq!(
        (tls.ca, tls.cert, tls.key),
        (Some(ca.clone()), Some(cert), Some(key))
    );
    // No client certificate without both halves; the engine decides whether that will do.
    let tls = found(&vars, &[&ca]).unwrap().tls.unwrap();
    assert_eq!((tls.cert, tls.key), (None, None));
    // No CA: refused, naming the file.
    let e = message(found(&vars, &[]).unwrap_err());
    assert!(e.contains("no /certs/ca.pem"), "{e}");
    // `0` turns TLS on too: the CLI reads "set and not empty".
    let zero = [vars[0], ("DOCKER_TLS_VERIFY", "0"), vars[2]];
    assert!(found(&zero, &[&ca]).unwrap().tls.is_some());
    // Without DOCKER_CERT_PATH: the configuration directory.
    let f = found(
        &[vars[0], vars[1], ("DOCKER_CONFIG", "/cfg")],
        &[Path::new("/cfg/ca.pem")],
    )
    .unwrap();
    assert_eq!(f.tls.unwrap().dir, Path::new("/cfg"));
    // Without DOCKER_HOST: the CLI's TLS address.
    let f = found(&[vars[1], vars[2]], &[&ca]).unwrap();
    assert_eq!(f.address(), "tcp://localhost:2376");
    // TLS without verification is refused.
    let e = message(found(&[vars[0], ("DOCKER_TLS", "1")], &[]).unwrap_err());
    assert!(e.contains("DOCKER_TLS_VERIFY=1"), "{e}");
}

#[test]
fn addresses_are_parsed_and_the_unsupported_refused_by_name() {
    let unix = |p: &str| Ok(Endpoint::Unix(p.into()));
    let tcp = |u: &str| Ok(Endpoint::Tcp(u.into()));
    let parse = |h: &str| endpoint(h, "DOCKER_HOST");
    assert_eq!(
        parse("unix:///run/user/1000/docker.sock"),
        unix("/run/user/1000/docker.sock")
    );
    assert_eq!(parse("tcp://10.0.0.5:2375"), tcp("10.0.0.5:2375"));
    assert_eq!(parse("tcp://engine.local:2375/"), tcp("engine.local:2375"));
    assert_eq!(parse("tcp://engine"), tcp("engine:2375"));
    assert_eq!(parse("tcp://[::1]:2375"), tcp("[::1]:2375"));
    assert_eq!(parse("127.0.0.1:2375"), tcp("127.0.0.1:2375"));
    for (host, says) in [
        (
            "ssh://me@builder",
            "ssh:// connections to the engine are not supported",
        ),
        (
            "npipe:////./pipe/docker_engine",
            "npipe:// connections to the engine are not supported",
        ),
        ("fd://", "fd:// connections to the engine are not supported"),
        ("https://h:2376", "tcp://HOST:PORT with DOCKER_TLS_VERIFY=1"),
        ("tcp://h:2375/path", "a path or query (`/path`)"),
        ("tcp://h:2375?x=1", "a path or query (`?x=1`)"),
        ("tcp://h:port", "`port` is not a port number"),
        ("tcp://", "is not an engine address"),
        ("not a host", "is not an engine address"),
        ("unix://", "needs an absolute socket path"),
        ("unix://relative.sock", "needs an absolute socket path"),
    ] {
        let e = parse(host).expect_err(host);
        assert!(e.contains(says), "{host}: {e}");
        assert!(e.starts_with(&format!("DOCKER_HOST={host}")), "{e}");
        if !host.starts_with("unix") {
            assert!(
                e.contains("unix://") && e.contains("tcp://"),
                "names what is supported: {e}"
            );
        }
    }
}
