//! `build --push`: the built image sent to its registry, a line per layer and one for the whole.

use super::CliError;
use apprunner_build::engine::{BuiltImage, Session};
use apprunner_build::output::push::{self, LayerDone, PushError};
use apprunner_build::report::diagnostic::Diagnostic;
use apprunner_build::report::log::BuildLog;
use apprunner_build::report::{codes, exit};

/// Push `built` under its name; the fields for the JSON result.
pub(crate) async fn push(
    session: &Session,
    built: &BuiltImage,
    log: &BuildLog,
) -> Result<Vec<(&'static str, String)>, CliError> {
    log.app_runner(format!("Pushing {}.", built.name));
    let mut n = 0;
    let pushed = push::push(session.docker(), &built.name, |done| {
        n += 1;
        log.app_runner(match done {
            LayerDone::Sent => format!("Layer {n} sent."),
            LayerDone::Present => format!("Layer {n} already in the registry."),
        });
    })
    .await
    .map_err(|e| failed(log, e))?;
    let digest = pushed.digest.clone().unwrap_or_default();
    log.app_runner(format!(
        "Pushed {} ({digest}): {} sent, {} already in the registry, in {:.1} s (credentials: {}).",
        pushed.reference,
        layers(pushed.sent),
        layers(pushed.present),
        pushed.took.as_secs_f64(),
        pushed.credentials
    ));
    let mut fields = vec![("pushed", pushed.reference)];
    if let Some(digest) = pushed.digest {
        fields.push(("pushed_digest", digest));
    }
    Ok(fields)
}

fn layers(n: usize) -> String {
    format!("{n} layer{}", if n == 1 { "" } else { "s" })
}

fn failed(log: &BuildLog, e: PushError) -> CliError {
    log.app_runner(format!(
        "The image was built, but not pushed: {e} [{}]",
        codes::NOT_PUSHED
    ));
    let d = Diagnostic::error(codes::NOT_PUSHED, e.to_string()).with_help(
        "the image is in the engine under its name; `docker login` to the registry (or a credHelpers entry) gives the credentials, and `build --push` again pushes it without building",
    );
    CliError::Failed(Box::new(d), exit::PUSH_FAILED)
}
