//! A health check as a command run inside the container, for targets whose only health check is
//! one (an ECS task definition). The image has no curl or nc of its own, but it always has its
//! runtime's interpreter: python3 in a Python runtime, node in a Node.js one.

use crate::engine::run::HealthProtocol;

/// The `CMD-SHELL` line that passes when the check would pass: a TCP connection to the port, or
/// an HTTP GET of the path that answers below 400.
pub fn shell_check(runtime: &str, protocol: &HealthProtocol, port: u16) -> String {
    let node = runtime.starts_with("nodejs");
    match (protocol, node) {
        (HealthProtocol::Tcp, false) => format!(
            "python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", {port}), 2).close()'"
        ),
        (HealthProtocol::Tcp, true) => format!(
            "node -e 'require(\"net\").connect({port}, \"127.0.0.1\").on(\"connect\", () => process.exit(0)).on(\"error\", () => process.exit(1))'"
        ),
        // urlopen raises on an answer of 400 or more, so the exit code is the verdict.
        (HealthProtocol::Http(path), false) => format!(
            "python3 -c 'import urllib.request; urllib.request.urlopen(\"http://127.0.0.1:{port}{}\", timeout=2)'",
            shell_safe(path)
        ),
        (HealthProtocol::Http(path), true) => format!(
            "node -e 'require(\"http\").get(\"http://127.0.0.1:{port}{}\", (r) => process.exit(r.statusCode < 400 ? 0 : 1)).on(\"error\", () => process.exit(1))'",
            shell_safe(path)
        ),
    }
}

/// A path inside single and double quotes: the characters that would end either are
/// percent-encoded, which an HTTP server reads as the same path.
fn shell_safe(path: &str) -> String {
    path.replace('%', "%25")
        .replace('\'', "%27")
        .replace('"', "%22")
        .replace('\\', "%5C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_use_the_runtime_interpreter() {
        let tcp = shell_check("python311", &HealthProtocol::Tcp, 8080);
        assert!(
            tcp.starts_with("python3 -c") && tcp.contains("8080"),
            "{tcp}"
        );
        let http = shell_check("nodejs22", &HealthProtocol::Http("/it's".into()), 3000);
        assert!(
            http.starts_with("node -e") && http.contains("3000/it%27s"),
            "{http}"
        );
    }
}
