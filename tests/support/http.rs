//! HTTP to a service a test started: a container's address, or a port `run` published on this
//! machine.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

/// GET / on `addr` (`IP:PORT`) until it answers, for at most 30 s (the app may take a moment to
/// listen): the body of the response.
pub fn get_at(addr: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let attempt = (|| -> std::io::Result<String> {
            let mut s = std::net::TcpStream::connect_timeout(
                &addr.parse().unwrap(),
                Duration::from_secs(2),
            )?;
            s.set_read_timeout(Some(Duration::from_secs(5)))?;
            s.write_all(b"GET / HTTP/1.0\r\nHost: test\r\n\r\n")?;
            let mut out = String::new();
            s.read_to_string(&mut out)?;
            Ok(out)
        })();
        match attempt {
            Ok(response) if !response.is_empty() => {
                return response.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
            }
            _ if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(200)),
            other => panic!("{addr} did not answer: {other:?}"),
        }
    }
}

/// [`get_at`] on `port` of this machine (127.0.0.1).
pub fn get(port: u16) -> String {
    get_at(&format!("127.0.0.1:{port}"))
}
