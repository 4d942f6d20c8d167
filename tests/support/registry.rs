//! Container registries for the push tests: Debian's `docker-registry` behind TLS with a test CA
//! and htpasswd basic auth, on an address the engine does not treat as insecure (the bridge's
//! gateway, not loopback, which Docker exempts from TLS checks), trusted the way Docker trusts a
//! registry (`/etc/docker/certs.d/HOST:PORT/ca.crt`); and a docker config directory with the
//! credentials a test gives, in any of the forms `docker login` and credential helpers leave.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Registry {
    child: Child,
    /// `HOST:PORT`.
    pub addr: String,
    dir: tempfile::TempDir,
    trusted: Option<PathBuf>,
}

impl Registry {
    /// A TLS registry with one user, listening on `host`.
    pub fn tls_with_login(host: &str, user: &str, password: &str) -> Registry {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        super::tls::certificates_for(d, host);
        let hash = bcrypt::hash(password, 4).unwrap();
        std::fs::write(d.join("htpasswd"), format!("{user}:{hash}\n")).unwrap();
        let port = std::net::TcpListener::bind(format!("{host}:0"))
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr = format!("{host}:{port}");
        std::fs::write(
            d.join("config.yml"),
            format!(
                "version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {root}/data\nhttp:\n  addr: {addr}\n  tls:\n    certificate: {root}/server.pem\n    key: {root}/server-key.pem\nauth:\n  htpasswd:\n    realm: test\n    path: {root}/htpasswd\n",
                root = d.display()
            ),
        )
        .unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(d.join("config.yml"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(d.join("registry.log")).unwrap())
            .spawn()
            .expect("docker-registry is installed (scripts/start-registry.sh installs it)");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(&addr).is_err() {
            assert!(Instant::now() < deadline, "the registry did not listen");
            std::thread::sleep(Duration::from_millis(100));
        }
        Registry {
            child,
            addr,
            dir,
            trusted: None,
        }
    }

    /// The engine trusts the registry's CA from now on, as `docker push` would.
    pub fn trust(&mut self) {
        let at = PathBuf::from("/etc/docker/certs.d").join(&self.addr);
        std::fs::create_dir_all(&at).unwrap();
        std::fs::copy(self.dir.path().join("ca.pem"), at.join("ca.crt")).unwrap();
        self.trusted = Some(at);
    }

    /// The manifest digest the registry holds for `repo:tag`, if it holds one.
    pub fn digest_of(&self, repo: &str, tag: &str, user: &str, password: &str) -> Option<String> {
        let out = Command::new("curl")
            .args(["-sSI", "--cacert"])
            .arg(self.dir.path().join("ca.pem"))
            .args(["-u", &format!("{user}:{password}")])
            .args([
                "-H",
                "Accept: application/vnd.docker.distribution.manifest.v2+json",
            ])
            .arg(format!("https://{}/v2/{repo}/manifests/{tag}", self.addr))
            .output()
            .unwrap();
        digest_header(&String::from_utf8_lossy(&out.stdout))
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(at) = &self.trusted {
            let _ = std::fs::remove_dir_all(at);
        }
    }
}

/// The `Docker-Content-Digest` of an HTTP response's headers.
pub fn digest_header(headers: &str) -> Option<String> {
    headers.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.eq_ignore_ascii_case("docker-content-digest")
            .then(|| value.trim().to_string())
    })
}

/// A docker config directory holding `config` as its `config.json`.
pub fn docker_config(config: serde_json::Value) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.json"), config.to_string()).unwrap();
    dir
}

/// A credential helper `docker-credential-NAME` in `dir` that answers `get` with these
/// credentials for any server, following the helper protocol (the server on stdin, JSON out).
pub fn credential_helper(dir: &Path, name: &str, user: &str, secret: &str) {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(format!("docker-credential-{name}"));
    std::fs::write(
        &path,
        format!(
            "#!/bin/sh\n[ \"$1\" = get ] || exit 1\nread -r server\nprintf '{{\"ServerURL\":\"%s\",\"Username\":\"{user}\",\"Secret\":\"{secret}\"}}\\n' \"$server\"\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}
