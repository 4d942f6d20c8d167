//! What does not carry over from App Runner, and what the output leaves to the user: each is a
//! diagnostic, shown on stderr and written beside the files, never dropped in silence.

use crate::report::codes;
use crate::report::diagnostic::Diagnostic;

/// App Runner's service settings outside apprunner.yaml that no target here takes as they are.
/// `export` cannot see them (they live in the App Runner service), so each is said whether or not
/// the service uses it, with what the target offers instead.
pub fn not_carried(vpc: &str, domains: &str, scaling: &str) -> Vec<Diagnostic> {
    [
        ("VPC connector (outgoing traffic to a VPC)", vpc),
        ("custom domains", domains),
        (
            "auto scaling configuration (concurrency per instance, minimum and maximum instances)",
            scaling,
        ),
    ]
    .into_iter()
    .map(|(what, instead)| {
        Diagnostic::note(
            codes::EXPORT_NOT_CARRIED,
            format!("does not carry over: App Runner's {what}"),
        )
        .with_note("it is a setting of the App Runner service, not of apprunner.yaml: export cannot read it")
        .with_help(format!("if the service uses it: {instead}"))
    })
    .collect()
}

/// An App Runner setting the target has no place for at all.
pub fn dropped(what: impl Into<String>, instead: impl Into<String>) -> Diagnostic {
    Diagnostic::note(codes::EXPORT_NOT_CARRIED, what).with_help(instead)
}

/// No `--image`: the name `build` gives, which only this machine's engine has.
pub fn local_image(name: &str) -> Diagnostic {
    Diagnostic::warning(
        codes::EXPORT_VALUE_TO_FILL,
        format!("no --image: the output names `{name}`, the image `apprunner-build build` makes here"),
    )
    .with_note("the target pulls the image from a registry, where this name is not")
    .with_help("push the image (`apprunner-build build -t REGISTRY/NAME:TAG --push`) and export again with `--image REGISTRY/NAME:TAG`")
}

/// A role the output holds as a placeholder.
pub fn placeholder(field: &str, placeholder: &str, flag: &str, why: &str) -> Diagnostic {
    Diagnostic::warning(
        codes::EXPORT_VALUE_TO_FILL,
        format!("`{field}` is the placeholder `{placeholder}`"),
    )
    .with_note(why.to_string())
    .with_help(format!(
        "pass {flag} ARN, or replace the placeholder before using the file"
    ))
}

/// A part of the health check the target holds differently.
pub fn health_changed(message: impl Into<String>, note: impl Into<String>) -> Diagnostic {
    Diagnostic::warning(codes::EXPORT_HEALTH_CHECK_CHANGED, message).with_note(note)
}

/// CPU and memory raised to a size the target offers.
pub fn size_rounded(asked: &str, got: &str, target: &str) -> Diagnostic {
    Diagnostic::warning(
        codes::EXPORT_SIZE_ROUNDED,
        format!(
            "{asked} is not a {target} size: the output asks for {got}, the smallest that holds it"
        ),
    )
    .with_help("pass --cpu and --memory of a size the target offers to choose another")
}

/// Secrets the user creates on the target before the service starts; values never appear.
pub fn secrets_to_create(message: String, how: String, sources: Vec<String>) -> Diagnostic {
    let mut d = Diagnostic::note(codes::EXPORT_SECRETS_TO_CREATE, message);
    for source in sources {
        d = d.with_note(source);
    }
    d.with_help(how)
}
