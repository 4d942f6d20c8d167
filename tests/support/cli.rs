//! The `apprunner-build` binary as the tests run it: with the test catalog or the shipped one, and
//! as a child process that is stopped if its test fails, read line by line.

use super::engine::test_catalog;
use super::interrupt::signal;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command};
use std::time::Duration;

/// The command with the test catalog (the fixture runtime images): for the tests that build.
pub fn cli() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_apprunner-build"));
    c.env("APPRUNNER_BUILD_CATALOG", test_catalog());
    c
}

/// The command with the shipped catalog: for checks that come before any engine or image (these run
/// in a plain `cargo test`).
pub fn shipped_cli() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_apprunner-build"));
    c.env_remove("APPRUNNER_BUILD_CATALOG");
    c
}

/// `apprunner-build run ARGS`, with the test's CA bundle and health checks 1 s apart.
pub fn run_cmd(args: &[&str]) -> Command {
    let mut c = cli();
    c.arg("run").args(args);
    c.args([
        "--ca-bundle",
        "/etc/ssl/certs/ca-certificates.crt",
        "--health-interval",
        "1",
    ]);
    c
}

/// `apprunner-build build -t TAG DIR`, which must succeed: for tests that time or probe only the run.
pub fn build_tagged(dir: &Path, tag: &str) {
    build_with(dir, tag, &[]);
}

/// `build -t TAG ARGS DIR`: its stdout and stderr, after asserting that it succeeded.
pub fn build_with(dir: &Path, tag: &str, args: &[&str]) -> String {
    let out = cli()
        .args(["build", "-t", tag])
        .args(args)
        .arg(dir)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    text
}

/// A child process stopped (SIGINT, then SIGKILL 2 s later) if the test fails before it is, so a
/// failure cannot hang the suite.
pub struct Guarded(Child);

impl std::ops::Deref for Guarded {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for Guarded {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        if self.0.try_wait().ok().flatten().is_none() {
            signal(self.0.id(), "-INT");
            std::thread::sleep(Duration::from_secs(2));
            let _ = self.0.kill();
        }
    }
}

/// Start `cmd` as a [`Guarded`] child.
pub fn spawn(cmd: &mut Command) -> Guarded {
    Guarded(cmd.spawn().unwrap())
}

/// Read the child's stdout until a line contains `needle`; returns every line read.
pub fn read_until(child: &mut Child, needle: &str) -> Vec<String> {
    let stdout = child.stdout.as_mut().unwrap();
    let mut lines = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        let done = line.contains(needle);
        lines.push(line);
        if done {
            break;
        }
    }
    lines
}

/// The port of the URL `run` printed (`… live at http://localhost:PORT/`).
pub fn live_port(lines: &[String]) -> u16 {
    let line = lines
        .iter()
        .find(|l| l.contains("live at http://localhost:"))
        .expect("the URL is printed");
    line.split("localhost:")
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}
