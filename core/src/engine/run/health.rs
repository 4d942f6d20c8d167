//! App Runner's health check, locally: TCP or HTTP probes of the service port, before the service
//! counts as live and while it runs.

use crate::engine::run::error::{RunError, Tail};
use crate::engine::run::health_check::{HealthCheck, HealthProtocol};
use crate::engine::run::output::{OutputHandle, Started};
use crate::report::log::BuildLog;
use std::time::Duration;

/// Check at once, then every interval, until `healthy_threshold` checks pass in a row, or fail
/// after `unhealthy_threshold` in a row fail. (The caller stops it when the application exits.)
pub(crate) async fn health(
    s: &Started,
    h: &HealthCheck,
    log: &BuildLog,
    out: &OutputHandle,
) -> Result<(), RunError> {
    let (mut passes, mut failures) = (0u32, 0u32);
    let first = tokio::time::Instant::now();
    loop {
        match probe(&h.protocol, s.probe_addr, h.timeout).await {
            Ok(()) => {
                passes += 1;
                failures = 0;
                if passes >= h.healthy_threshold {
                    log.app_runner(format!(
                        "Health check passed on {} port {}.",
                        h.protocol, s.port
                    ));
                    return Ok(());
                }
            }
            Err(e) => {
                passes = 0;
                failures += 1;
                if failures >= h.unhealthy_threshold {
                    return Err(RunError::Unhealthy {
                        protocol: h.protocol.clone(),
                        port: s.port,
                        failures,
                        last_error: e,
                        elapsed: first.elapsed(),
                        tail: Tail {
                            lines: out.tail(),
                            streamed: true,
                        },
                    });
                }
            }
        }
        tokio::time::sleep(h.interval).await;
    }
}

/// Keep checking once the service is live, as App Runner does; say when it stops passing and when
/// it recovers. Never returns: it runs until the caller stops following the application.
pub async fn monitor(
    started: &Started,
    h: &HealthCheck,
    log: &BuildLog,
) -> std::convert::Infallible {
    let mut failures = 0u32;
    let mut unhealthy = false;
    loop {
        tokio::time::sleep(h.interval).await;
        match probe(&h.protocol, started.probe_addr, h.timeout).await {
            Ok(()) => {
                if unhealthy {
                    log.app_runner(format!(
                        "Health check passes again on {} port {}.",
                        h.protocol, started.port
                    ));
                }
                failures = 0;
                unhealthy = false;
            }
            Err(e) => {
                failures += 1;
                if failures >= h.unhealthy_threshold && !unhealthy {
                    unhealthy = true;
                    log.app_runner(format!(
                        "Health check failed on protocol `{}` [Port: '{}']: {failures} checks in a row failed (last: {e}). App Runner would replace this instance.",
                        h.protocol, started.port
                    ));
                }
            }
        }
    }
}

async fn probe(
    protocol: &HealthProtocol,
    addr: std::net::SocketAddr,
    timeout: Duration,
) -> Result<(), String> {
    let connect = tokio::net::TcpStream::connect(addr);
    let mut stream = match tokio::time::timeout(timeout, connect).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return Err(e.to_string()),
        Err(_) => return Err(format!("no connection within {} s", timeout.as_secs_f64())),
    };
    match protocol {
        // Docker's port proxy accepts even when nothing listens behind it; a closed connection
        // with no byte exchanged is how that shows. Ask for one byte with a short wait.
        HealthProtocol::Tcp => tcp_alive(&mut stream).await,
        HealthProtocol::Http(path) => {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let request = format!("GET {path} HTTP/1.0\r\nHost: localhost\r\nUser-Agent: apprunner-build-health-check\r\n\r\n");
            let exchange = async {
                stream.write_all(request.as_bytes()).await?;
                let mut head = vec![0u8; 64];
                let n = stream.read(&mut head).await?;
                Ok::<_, std::io::Error>(String::from_utf8_lossy(&head[..n]).to_string())
            };
            match tokio::time::timeout(timeout, exchange).await {
                Ok(Ok(head)) => {
                    let status: u16 = head
                        .split_whitespace()
                        .nth(1)
                        .and_then(|c| c.parse().ok())
                        .unwrap_or(0);
                    if (200..400).contains(&status) {
                        Ok(())
                    } else if status == 0 {
                        Err("no HTTP answer".into())
                    } else {
                        Err(format!("HTTP status {status}"))
                    }
                }
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => Err(format!("no answer within {} s", timeout.as_secs_f64())),
            }
        }
    }
}

async fn tcp_alive(stream: &mut tokio::net::TcpStream) -> Result<(), String> {
    use tokio::io::AsyncReadExt;
    let mut byte = [0u8; 1];
    match tokio::time::timeout(Duration::from_millis(300), stream.read(&mut byte)).await {
        // Still open and silent after a moment: something accepted the connection.
        Err(_) => Ok(()),
        // The server spoke first: alive.
        Ok(Ok(n)) if n > 0 => Ok(()),
        Ok(Ok(_)) => Err("connection closed at once (nothing listening behind the port)".into()),
        Ok(Err(e)) => Err(e.to_string()),
    }
}
