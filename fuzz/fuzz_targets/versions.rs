//! Version text as users write it, each line (and the whole input) read every way it can be: an
//! npm range (`engines.node`), App Runner's `runtime-version`, PEP 440 (`requires-python`) and a
//! version file; then resolved against the shipped catalog, by the first line as a runtime name
//! and by each language's best runtime. A resolved version satisfies every request that applies
//! to it (but a Python version file's exact patch, which detection relaxes to its minor line).
#![no_main]

use apprunner_build::report::diagnostic::{Diagnostic, Spanned};
use apprunner_build::report::errors;
use apprunner_build::resolve::catalog::{Catalog, Language};
use apprunner_build::input::version::{MalformedVersion, RequestedVersion, VersionOrigin};
use apprunner_build::input::version_text::{pep440_to_range, version_file_range};
use apprunner_build::resolve::runtime::{self, Resolution, ResolveError, RuntimeChoice};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

/// Lines read; each adds up to five requests, and every resolution checks them all.
const MAX_LINES: usize = 6;

fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(Catalog::shipped)
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut requests = Vec::new();
    for piece in std::iter::once(&*text).chain(text.lines().take(MAX_LINES)) {
        read_all_ways(piece, &mut requests);
    }
    let catalog = catalog();
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 25).expect("a date");
    let first_line = text.lines().next().unwrap_or_default();
    let mut choices = vec![
        RuntimeChoice::Named(Spanned::bare(first_line.to_string())),
        RuntimeChoice::BestOf {
            language: Language::Nodejs,
            default: "nodejs22".into(),
        },
        RuntimeChoice::BestOf {
            language: Language::Python,
            default: "python311".into(),
        },
    ];
    if let Some(&pick) = data.first() {
        let names = catalog.names();
        let name = names[usize::from(pick) % names.len()].to_string();
        choices.push(RuntimeChoice::Named(Spanned::bare(name)));
    }
    for choice in &choices {
        let requests: Vec<RequestedVersion> = match choice {
            RuntimeChoice::BestOf { language, .. } => requests
                .iter()
                .filter(|r| r.origin.language() == Some(*language))
                .cloned()
                .collect(),
            RuntimeChoice::Named(_) => requests.clone(),
        };
        match runtime::resolve_choice(catalog, choice, &requests, None, today) {
            Ok(resolution) => satisfies_all(&resolution, &requests),
            Err(e) => show(e),
        }
    }
});

fn read_all_ways(piece: &str, requests: &mut Vec<RequestedVersion>) {
    let engines = VersionOrigin::EnginesNode {
        path: "package.json".into(),
        line: Some(1),
    };
    keep(
        RequestedVersion::from_npm_range(piece, engines, None),
        requests,
    );
    let config = VersionOrigin::ConfigRuntimeVersion {
        path: "apprunner.yaml".into(),
        line: Some(1),
    };
    keep(
        RequestedVersion::from_runtime_version(&Spanned::bare(piece.to_string()), config),
        requests,
    );
    if let Some(range) = pep440_to_range(piece) {
        let origin = VersionOrigin::RequiresPython {
            path: "pyproject.toml".into(),
        };
        keep(
            RequestedVersion::from_npm_range(&range, origin, None),
            requests,
        );
    }
    if let Some(range) = version_file_range(piece) {
        for (file, language) in [
            (".nvmrc", Language::Nodejs),
            (".python-version", Language::Python),
        ] {
            let origin = VersionOrigin::VersionFile {
                path: file.into(),
                language,
            };
            keep(
                RequestedVersion::from_npm_range(&range, origin, None),
                requests,
            );
        }
    }
}

fn keep(read: Result<RequestedVersion, MalformedVersion>, requests: &mut Vec<RequestedVersion>) {
    match read {
        Ok(request) => requests.push(request),
        Err(e) => show(e.into()),
    }
}

fn show(e: ResolveError) {
    let d: Diagnostic = e.into();
    let _ = errors::render(&d);
}

fn satisfies_all(resolution: &Resolution, requests: &[RequestedVersion]) {
    let resolved = &resolution.runtime;
    for r in requests {
        let applies = r.origin.language().is_none_or(|l| l == resolved.language);
        let relaxed = matches!(
            r.origin,
            VersionOrigin::VersionFile {
                language: Language::Python,
                ..
            }
        );
        assert!(
            !applies || relaxed || r.allows(&resolved.version),
            "{} {} was resolved, but {} ({}) does not allow it",
            resolved.name,
            resolved.version,
            r.text,
            r.origin
        );
    }
}
