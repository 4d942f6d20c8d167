//! Certificates for the tests' TLS peers (an engine's TLS front, a registry), made by `openssl`:
//! a real CA and real handshakes.

use std::path::Path;
use std::process::Command;

fn run(dir: &Path, args: &[&str]) {
    let out = Command::new(args[0])
        .args(&args[1..])
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// In `dir`: a test CA (`ca.pem`), a server certificate for the IP address `host`
/// (`server.pem`, `server-key.pem`) and a client certificate (`cert.pem`, `key.pem`, as
/// DOCKER_CERT_PATH holds them), all made by `openssl`.
pub fn certificates_for(dir: &Path, host: &str) {
    let req = |key: &str, out: &str, cn: &str| {
        run(
            dir,
            &[
                "openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", out,
                "-subj", cn,
            ],
        );
    };
    run(
        dir,
        &[
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca-key.pem",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=test-ca",
        ],
    );
    req("server-key.pem", "server.csr", &format!("/CN={host}"));
    std::fs::write(dir.join("ext"), format!("subjectAltName=IP:{host}\n")).unwrap();
    let sign = |csr: &str, out: &str, ext: &str| {
        run(
            dir,
            &[
                "openssl",
                "x509",
                "-req",
                "-in",
                csr,
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca-key.pem",
                "-CAcreateserial",
                "-out",
                out,
                "-days",
                "2",
                "-extfile",
                ext,
            ],
        );
    };
    sign("server.csr", "server.pem", "ext");
    req("key.pem", "client.csr", "/CN=client");
    std::fs::write(dir.join("cext"), "extendedKeyUsage=clientAuth\n").unwrap();
    sign("client.csr", "cert.pem", "cext");
}
