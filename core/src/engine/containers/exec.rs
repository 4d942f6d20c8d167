//! Running one shell command in a container, streaming its output into the build log.

use crate::engine::EngineError;
use crate::report::log::{BuildLog, LineSplitter, Stream};
use bollard::container::LogOutput;
use bollard::exec::{CreateExecOptions, StartExecResults};
use bollard::Docker;
use futures_util::StreamExt;
use std::time::Duration;

/// A shell command to run in a container.
pub(crate) struct Shell<'a> {
    /// Run through `/bin/sh -c`.
    pub(crate) command: &'a str,
    pub(crate) workdir: &'a str,
    /// NAME=VALUE, for this command only.
    pub(crate) env: &'a [String],
    /// `None`: the container's user.
    pub(crate) user: Option<&'a str>,
}

/// Run `shell`; every line it prints is logged under `prefix`. Returns the exit code (non-zero is
/// not an error here: the caller decides).
pub(crate) async fn run(
    docker: &Docker,
    container: &str,
    shell: &Shell<'_>,
    prefix: &str,
    log: &BuildLog,
) -> Result<i64, EngineError> {
    // A build with a fixed time gives its commands that time too: Python then writes hash-based
    // `.pyc` files, and other tools their fixed timestamps (reproducible-builds.org's convention).
    let epoch = crate::engine::source::source_date_epoch()
        .filter(|_| {
            !shell
                .env
                .iter()
                .any(|v| v.starts_with("SOURCE_DATE_EPOCH="))
        })
        .map(|e| format!("SOURCE_DATE_EPOCH={e}"));
    let env: Vec<&str> = shell
        .env
        .iter()
        .map(String::as_str)
        .chain(epoch.as_deref())
        .collect();
    let options = CreateExecOptions {
        cmd: Some(vec!["/bin/sh", "-c", shell.command]),
        env: Some(env),
        working_dir: Some(shell.workdir),
        user: shell.user,
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        tty: Some(false),
        ..Default::default()
    };
    let (exec, started) = start(docker, container, options, "a command").await?;
    if let StartExecResults::Attached { mut output, .. } = started {
        let mut lines = OutputLines::default();
        while let Some(chunk) = output.next().await {
            let chunk = chunk.map_err(EngineError::docker("reading command output"))?;
            for (stream, line) in lines.push(chunk) {
                log.line(prefix, stream, &line);
            }
        }
        for (stream, line) in lines.finish() {
            log.line(prefix, stream, &line);
        }
    }
    exit_code(docker, &exec).await
}

/// Create and start an exec (`what` names it in errors); its id and its streams.
async fn start(
    docker: &Docker,
    container: &str,
    options: CreateExecOptions<&str>,
    what: &str,
) -> Result<(String, StartExecResults), EngineError> {
    let exec = docker
        .create_exec(container, options)
        .await
        .map_err(EngineError::docker(format!(
            "creating {what} in the build container"
        )))?;
    let started = docker
        .start_exec(&exec.id, None)
        .await
        .map_err(EngineError::docker(format!(
            "starting {what} in the build container"
        )))?;
    Ok((exec.id, started))
}

/// The exit code of a finished exec: its output stream ends a moment before the engine records
/// the code.
async fn exit_code(docker: &Docker, exec: &str) -> Result<i64, EngineError> {
    loop {
        let inspect = docker
            .inspect_exec(exec)
            .await
            .map_err(EngineError::docker("reading a command's exit code"))?;
        if inspect.running != Some(true) {
            return Ok(inspect.exit_code.unwrap_or(-1));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Whole lines from a container's multiplexed output, per stream (chunks are not line-aligned).
#[derive(Default)]
pub(crate) struct OutputLines {
    out: LineSplitter,
    err: LineSplitter,
}

impl OutputLines {
    pub(crate) fn push(&mut self, chunk: LogOutput) -> Vec<(Stream, String)> {
        let (splitter, stream, bytes) = match chunk {
            LogOutput::StdOut { message } | LogOutput::Console { message } => {
                (&mut self.out, Stream::Stdout, message)
            }
            LogOutput::StdErr { message } => (&mut self.err, Stream::Stderr, message),
            LogOutput::StdIn { .. } => return vec![],
        };
        splitter
            .push(&bytes)
            .into_iter()
            .map(|l| (stream, l))
            .collect()
    }

    /// What is left when the output ends.
    pub(crate) fn finish(&mut self) -> Vec<(Stream, String)> {
        [
            (Stream::Stdout, self.out.finish()),
            (Stream::Stderr, self.err.finish()),
        ]
        .into_iter()
        .filter_map(|(stream, rest)| rest.map(|r| (stream, r)))
        .collect()
    }
}

/// Run `argv` (no shell) with `input` on its standard input; its exit code and what it printed.
/// Used to put files into a container without the engine's archive API, which would make the
/// mount points of the build's mounts part of the container's layer.
pub(crate) async fn feed(
    docker: &Docker,
    container: &str,
    argv: &[&str],
    input: Vec<u8>,
) -> Result<(i64, String), EngineError> {
    use tokio::io::AsyncWriteExt;
    let options = CreateExecOptions {
        cmd: Some(argv.to_vec()),
        attach_stdin: Some(true),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        tty: Some(false),
        ..Default::default()
    };
    let (exec, started) = start(docker, container, options, "a copy").await?;
    let mut said = String::new();
    if let StartExecResults::Attached {
        mut output,
        input: mut stdin,
    } = started
    {
        let write = async {
            stdin.write_all(&input).await?;
            stdin.shutdown().await
        };
        let read = async {
            while let Some(chunk) = output.next().await {
                if let Ok(chunk) = chunk {
                    said.push_str(&String::from_utf8_lossy(&chunk.into_bytes()));
                }
            }
        };
        let (written, ()) = tokio::join!(write, read);
        written.map_err(|e| EngineError::Source {
            root: container.into(),
            source: e,
        })?;
    }
    Ok((exit_code(docker, &exec).await?, said))
}
