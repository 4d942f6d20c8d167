//! Requested → resolved runtime versions: App Runner's locking rules and npm ranges.
#![allow(clippy::result_large_err)]

mod support;

use apprunner_build::input::config::Spanned;
use apprunner_build::input::version::{RequestedVersion, VersionOrigin};
use apprunner_build::report::diagnostic::Severity;
use apprunner_build::resolve::catalog::Catalog;
use apprunner_build::resolve::runtime::{self, ResolveError};

fn yaml_origin() -> VersionOrigin {
    VersionOrigin::ConfigRuntimeVersion {
        path: "apprunner.yaml".into(),
        line: Some(9),
    }
}

fn engines_origin() -> VersionOrigin {
    VersionOrigin::EnginesNode {
        path: "package.json".into(),
        line: Some(4),
    }
}

fn resolve(
    runtime: &str,
    yaml: Option<&str>,
    engines: Option<&str>,
) -> Result<runtime::Resolution, ResolveError> {
    let catalog = Catalog::shipped();
    let rt = catalog.get(runtime).unwrap();
    let mut requests = Vec::new();
    if let Some(v) = yaml {
        requests.push(RequestedVersion::from_runtime_version(
            &Spanned::bare(v.to_string()),
            yaml_origin(),
        )?);
    }
    if let Some(r) = engines {
        requests.push(RequestedVersion::from_npm_range(r, engines_origin(), None)?);
    }
    runtime::resolve(&catalog, rt, &requests, support::today())
}

fn version(runtime: &str, yaml: Option<&str>, engines: Option<&str>) -> String {
    resolve(runtime, yaml, engines)
        .unwrap()
        .runtime
        .version
        .to_string()
}

#[test]
fn app_runner_locking_rules() {
    assert_eq!(version("python3", None, None), "3.8.20");
    assert_eq!(version("python3", Some("3.7"), None), "3.7.16");
    assert_eq!(version("python3", Some("3.8.16"), None), "3.8.16");
    assert_eq!(version("python3", Some("3"), None), "3.8.20");
    assert_eq!(version("python311", Some("3.11"), None), "3.11.14");
    assert_eq!(version("nodejs18", Some("18"), None), "18.20.8");
    assert_eq!(version("nodejs22", None, None), "22.21.1");
}

#[test]
fn npm_ranges_from_engines_node() {
    assert_eq!(version("nodejs18", None, Some("^18.19.0")), "18.20.8");
    assert_eq!(version("nodejs18", None, Some("~18.19.0")), "18.19.1");
    assert_eq!(version("nodejs16", None, Some("16.x")), "16.20.2");
    assert_eq!(version("nodejs16", None, Some("16.17.x")), "16.17.1");
    assert_eq!(
        version("nodejs14", None, Some("12.x || 14.20.x")),
        "14.20.1"
    );
    assert_eq!(version("nodejs22", None, Some(">=18")), "22.21.1");
    assert_eq!(version("nodejs22", None, Some(">=22.14 <22.17")), "22.16.0");
    assert_eq!(version("nodejs12", None, Some("v12.21.0")), "12.21.0");
    assert_eq!(
        version("nodejs12", None, Some("12.21.0 - 12.22.0")),
        "12.21.0"
    );
}

/// `<=` over a partial version is an X-range to npm (`<=20` allows every 20.x); node-semver 2.2
/// alone reads `<=20` as `<=20.0.0-0`, which no 20.x meets.
#[test]
fn at_most_a_partial_version_allows_its_whole_line() {
    assert_eq!(version("nodejs20", None, Some("<=20")), "20.19.6");
    assert_eq!(version("nodejs20", None, Some(">=18 <=20")), "20.19.6");
    assert_eq!(version("nodejs20", None, Some("<= 20.x")), "20.19.6");
    assert_eq!(version("nodejs22", None, Some("<=22.14")), "22.14.0");
    assert_eq!(version("nodejs22", None, Some("<=*")), "22.21.1");
    assert_eq!(version("nodejs18", None, Some("<=16 || <=18")), "18.20.8");
    // A full version is an exact bound, as before.
    assert_eq!(version("nodejs18", None, Some("<=18.19.1")), "18.19.1");
    assert!(matches!(
        resolve("nodejs22", None, Some("<=21")),
        Err(ResolveError::VersionNotOffered { .. })
    ));
}

#[test]
fn both_origins_intersect() {
    assert_eq!(version("nodejs18", Some("18"), Some("~18.19")), "18.19.1");
    match resolve("nodejs18", Some("18.20.8"), Some("<18.20")) {
        Err(ResolveError::Conflict { requests, .. }) => {
            let origins: Vec<String> = requests.iter().map(|r| r.origin.to_string()).collect();
            assert_eq!(
                origins,
                [
                    "run.runtime-version in apprunner.yaml line 9",
                    "engines.node in package.json line 4"
                ]
            );
        }
        other => panic!("expected a conflict, got {other:?}"),
    }
}

#[test]
fn versions_not_in_the_catalog() {
    match resolve("python3", Some("3.9"), None) {
        Err(ResolveError::VersionNotOffered {
            available,
            other_runtime,
            ..
        }) => {
            assert_eq!(available, "3.7.10, 3.7.15, 3.7.16, 3.8.15, 3.8.16, 3.8.20");
            assert_eq!(other_runtime, None);
        }
        other => panic!("{other:?}"),
    }
    match resolve("python3", Some("3.11"), None) {
        Err(ResolveError::VersionNotOffered { other_runtime, .. }) => {
            assert_eq!(other_runtime.as_deref(), Some("python311"))
        }
        other => panic!("{other:?}"),
    }
    match resolve("nodejs18", None, Some("^20")) {
        Err(ResolveError::VersionNotOffered { request, .. }) => {
            assert_eq!(request.origin, engines_origin())
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        resolve("python3", Some("3.8.x"), None),
        Err(ResolveError::MalformedVersion { .. })
    ));
    assert!(matches!(
        resolve("nodejs18", None, Some("lts/*")),
        Err(ResolveError::MalformedVersion { .. })
    ));
}

#[test]
fn remarks_end_of_support_and_locked_patch() {
    let r = resolve("python3", Some("3.8.16"), None).unwrap();
    let texts: Vec<(Severity, String)> = r
        .remarks
        .iter()
        .map(|d| (d.severity, d.message.clone()))
        .collect();
    assert!(
        texts.contains(&(
            Severity::Warning,
            "python3 reached end of support on 2025-12-01".into()
        )),
        "{texts:?}"
    );
    assert!(
        texts.iter().any(|(s, m)| *s == Severity::Note
            && m.contains("3.8.16 is locked by run.runtime-version in apprunner.yaml line 9")
            && m.contains("3.8.20")),
        "{texts:?}"
    );
    let r = resolve("python311", None, None).unwrap();
    assert!(r.remarks.is_empty(), "{:?}", r.remarks);
    assert_eq!(
        r.runtime.reason,
        "the latest python311 version (no version requested)"
    );
    assert_eq!(r.runtime.image, "python:3.11.14-slim");
    assert_eq!(r.runtime.build_image, "python:3.11.14");
}

/// Property tests over the shipped catalog: random requirements made from its own versions (and
/// their neighbours, which it may lack), in every range form, from every origin. A resolved
/// version satisfies every requirement that applies to it and is the highest that does;
/// otherwise no version does, and the error names each requirement no version meets alone (or,
/// when each is met alone, every requirement), with its origin.
mod properties {
    use super::support;
    use apprunner_build::input::config::Spanned;
    use apprunner_build::input::version::{RequestedVersion, VersionOrigin};
    use apprunner_build::report::diagnostic::Diagnostic;
    use apprunner_build::report::errors;
    use apprunner_build::resolve::catalog::{Catalog, Language, Runtime};
    use apprunner_build::resolve::runtime::{self, ResolveError, RuntimeChoice};

    /// Cases per property; each resolves against every runtime of the catalog.
    const CASES: u64 = 2000;

    /// xorshift64*: the same cases on every run, so a failure is reproduced by its case number.
    struct Rng(u64);

    impl Rng {
        fn new(case: u64) -> Self {
            Rng(case.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
        }
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    /// A version of `language` from the catalog, or one of its neighbours.
    fn version(catalog: &Catalog, language: Language, rng: &mut Rng) -> (u64, u64, u64) {
        let all: Vec<(u64, u64, u64)> = catalog
            .of_language(language)
            .flat_map(|r| r.versions.iter())
            .map(|v| (v.version.major, v.version.minor, v.version.patch))
            .collect();
        let (major, minor, patch) = all[rng.below(all.len())];
        match rng.below(8) {
            0 => (major + 1, 0, 0),
            1 => (major, minor + 1, 0),
            2 => (major, minor, patch + 1),
            3 => (major.saturating_sub(1), minor, patch),
            _ => (major, minor, patch),
        }
    }

    /// An npm range around catalog versions, in one of the forms people write.
    fn npm_range(catalog: &Catalog, language: Language, rng: &mut Rng) -> String {
        let (major, minor, patch) = version(catalog, language, rng);
        let (other, other_minor, _) = version(catalog, language, rng);
        match rng.below(12) {
            0 => format!("{major}.{minor}.{patch}"),
            1 => format!("{major}.{minor}"),
            2 => format!("{major}"),
            3 => format!("^{major}.{minor}.{patch}"),
            4 => format!("~{major}.{minor}"),
            5 => format!(">={major}.{minor}"),
            6 => format!("<{major}.{minor}.{patch}"),
            7 => format!(">={major}.{minor} <{other}.{other_minor}"),
            8 => format!("{major}.x || {other}.x"),
            9 => format!("{major}.{minor}.x"),
            10 => format!("<={major}"),
            _ => format!(">{major}.{minor}.{patch}"),
        }
    }

    /// One requirement from one of the origins that can ask for a version of `language`.
    fn request(catalog: &Catalog, language: Language, rng: &mut Rng) -> RequestedVersion {
        let text = npm_range(catalog, language, rng);
        let origin = match (language, rng.below(3)) {
            (_, 0) => {
                // runtime-version takes digits only: `3`, `3.11`, `3.11.4`.
                let (major, minor, patch) = version(catalog, language, rng);
                let digits = match rng.below(3) {
                    0 => format!("{major}"),
                    1 => format!("{major}.{minor}"),
                    _ => format!("{major}.{minor}.{patch}"),
                };
                let origin = VersionOrigin::ConfigRuntimeVersion {
                    path: "apprunner.yaml".into(),
                    line: Some(9),
                };
                return RequestedVersion::from_runtime_version(&Spanned::bare(digits), origin)
                    .unwrap();
            }
            (Language::Nodejs, 1) => VersionOrigin::EnginesNode {
                path: "package.json".into(),
                line: Some(4),
            },
            (Language::Nodejs, _) => VersionOrigin::VersionFile {
                path: ".nvmrc".into(),
                language,
            },
            (Language::Python, _) => VersionOrigin::RequiresPython {
                path: "pyproject.toml".into(),
            },
        };
        RequestedVersion::from_npm_range(&text, origin, None).unwrap()
    }

    fn requests(catalog: &Catalog, language: Language, rng: &mut Rng) -> Vec<RequestedVersion> {
        let count = 1 + rng.below(3);
        (0..count)
            .map(|_| request(catalog, language, rng))
            .collect()
    }

    fn language(rng: &mut Rng) -> Language {
        [Language::Nodejs, Language::Python][rng.below(2)]
    }

    /// The error names each requirement no version of `runtimes` meets alone, with its origin;
    /// when each is met alone, all of them.
    fn names_the_unmet(
        e: ResolveError,
        runtimes: &[&Runtime],
        requests: &[RequestedVersion],
        case: u64,
    ) {
        let met_alone = |r: &RequestedVersion| {
            runtimes
                .iter()
                .any(|rt| rt.versions.iter().any(|v| r.allows(&v.version)))
        };
        let unmet: Vec<&RequestedVersion> = requests.iter().filter(|r| !met_alone(r)).collect();
        let named = if unmet.is_empty() {
            requests.iter().collect()
        } else {
            unmet
        };
        let d: Diagnostic = e.into();
        let shown = errors::render(&d);
        for r in named {
            assert!(
                shown.contains(&r.text) && shown.contains(&r.origin.to_string()),
                "case {case}: the error does not name `{}` ({}):\n{shown}",
                r.text,
                r.origin
            );
        }
    }

    #[test]
    fn a_named_runtime_resolves_to_its_highest_version_allowed_by_every_requirement() {
        let catalog = Catalog::shipped();
        for case in 0..CASES {
            let mut rng = Rng::new(case);
            let language = language(&mut rng);
            let requests = requests(&catalog, language, &mut rng);
            for rt in catalog.of_language(language) {
                let choice = RuntimeChoice::Named(Spanned::bare(rt.name.clone()));
                let allowed_by_all: Vec<_> = rt
                    .versions
                    .iter()
                    .filter(|v| requests.iter().all(|r| r.allows(&v.version)))
                    .collect();
                match runtime::resolve_choice(&catalog, &choice, &requests, None, support::today())
                {
                    Ok(resolution) => {
                        let highest = allowed_by_all.last().map(|v| &v.version);
                        assert_eq!(
                            Some(&resolution.runtime.version),
                            highest,
                            "case {case}: {} under {:?}",
                            rt.name,
                            requests.iter().map(|r| &r.text).collect::<Vec<_>>()
                        );
                    }
                    Err(e) => {
                        assert!(
                            allowed_by_all.is_empty(),
                            "case {case}: {} failed, but {} is allowed by every requirement",
                            rt.name,
                            allowed_by_all[0].version
                        );
                        names_the_unmet(e, &[rt], &requests, case);
                    }
                }
            }
        }
    }

    #[test]
    fn detection_resolves_to_a_version_every_requirement_allows_preferring_app_runner() {
        let catalog = Catalog::shipped();
        for case in 0..CASES {
            let mut rng = Rng::new(case);
            let language = language(&mut rng);
            // Detection reads only its language's files; no apprunner.yaml.
            let requests: Vec<RequestedVersion> = requests(&catalog, language, &mut rng)
                .into_iter()
                .filter(|r| r.origin.language() == Some(language))
                .collect();
            let runtimes: Vec<&Runtime> = catalog.of_language(language).collect();
            let fits = |rt: &&Runtime| {
                rt.versions
                    .iter()
                    .any(|v| requests.iter().all(|r| r.allows(&v.version)))
            };
            let choice = RuntimeChoice::BestOf {
                language,
                default: match language {
                    Language::Nodejs => "nodejs22".into(),
                    Language::Python => "python311".into(),
                },
            };
            match runtime::resolve_choice(&catalog, &choice, &requests, None, support::today()) {
                Ok(resolution) => {
                    let resolved = &resolution.runtime;
                    for r in &requests {
                        assert!(
                            r.allows(&resolved.version),
                            "case {case}: {} {} does not satisfy `{}` ({})",
                            resolved.name,
                            resolved.version,
                            r.text,
                            r.origin
                        );
                    }
                    let app_runner_fits = runtimes.iter().filter(|rt| rt.app_runner).any(fits);
                    assert!(
                        resolved.app_runner || !app_runner_fits,
                        "case {case}: {} chosen over an App Runner runtime that fits",
                        resolved.name
                    );
                }
                Err(e) => {
                    assert!(
                        !runtimes.iter().any(fits),
                        "case {case}: no runtime chosen, but one fits {:?}",
                        requests.iter().map(|r| &r.text).collect::<Vec<_>>()
                    );
                    names_the_unmet(e, &runtimes, &requests, case);
                }
            }
        }
    }
}

#[test]
fn every_requirement_no_version_meets_is_named_in_one_error() {
    let catalog = Catalog::shipped();
    let requests = [
        RequestedVersion::from_runtime_version(&Spanned::bare("3.9".into()), yaml_origin())
            .unwrap(),
        RequestedVersion::from_npm_range("^3.12", engines_origin(), None).unwrap(),
    ];
    let python3 = catalog.get("python3").unwrap();
    let e = runtime::resolve(&catalog, python3, &requests, support::today()).unwrap_err();
    let d: apprunner_build::report::diagnostic::Diagnostic = e.into();
    assert!(
        d.message
            .contains("`3.9` (run.runtime-version in apprunner.yaml line 9)"),
        "{}",
        d.message
    );
    assert!(
        d.notes
            .iter()
            .any(|n| n == "no version matches `^3.12` (engines.node in package.json line 4) either"),
        "{:?}",
        d.notes
    );
}
