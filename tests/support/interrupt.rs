//! Signals to a child process, and what it does then: for the tests of Ctrl-C (SIGINT), SIGTERM and
//! SIGKILL.

use std::io::Read;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// Send `signal` (as `kill` spells it: `-INT`, `-TERM`, `-KILL`) to the process `pid`; whether it
/// was sent.
pub fn signal(pid: u32, signal: &str) -> bool {
    Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .unwrap()
        .success()
}

/// Send `signal` to `child` and wait for it to exit; a child that is still there after 30 s is
/// killed, so that one that ignored the signal fails its test rather than hanging it. Its exit code
/// (-1 when a signal ended it) and the rest of its stdout (when piped).
pub fn interrupt(child: &mut Child, signal: &str) -> (i32, String) {
    self::signal(child.id(), signal);
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    if child.try_wait().unwrap().is_none() {
        let _ = child.kill();
    }
    let status = child.wait().unwrap();
    let mut rest = String::new();
    if let Some(stdout) = child.stdout.as_mut() {
        stdout.read_to_string(&mut rest).unwrap();
    }
    (status.code().unwrap_or(-1), rest)
}
