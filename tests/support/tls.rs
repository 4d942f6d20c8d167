//! Certificates for the tests' TLS peers (an engine's TLS front, a registry), made by `openssl`:
//! a real CA and real handshakes.

use std::path::Path;
use std::process::{Child, Command, Stdio};

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

/// `socat` relaying TLS on a loopback port to the engine's socket; stopped when dropped.
pub struct TlsFront {
    child: Child,
    pub port: u16,
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The TLS front for the engine at `socket`, or `None` (said) without socat, unless CI is set.
pub fn tls_front(certs: &Path, socket: &str) -> Option<TlsFront> {
    if Command::new("socat").arg("-V").output().is_err() {
        let why = "socat is not installed (scripts/test.sh installs it)";
        if std::env::var("CI").is_ok_and(|v| !["", "0", "false"].contains(&v.as_str())) {
            panic!("{why}; CI runs every engine's tests");
        }
        eprintln!("skipped: {why}");
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cert = |f: &str| certs.join(f).display().to_string();
    let listen = format!(
        "openssl-listen:{port},bind=127.0.0.1,reuseaddr,fork,cert={},key={},cafile={},verify=1",
        cert("server.pem"),
        cert("server-key.pem"),
        cert("ca.pem")
    );
    let child = Command::new("socat")
        .args([listen, format!("unix-connect:{socket}")])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let front = TlsFront { child, port };
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some(front);
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("socat did not listen on {port}");
}
