//! `build --provenance FILE`: an in-toto statement (v1) with a SLSA provenance predicate (v1) for
//! the built image. The subject is what a verifier can name: the pushed manifest's digest, else the
//! OCI layout's, else the engine's image id. It records the builder, the source (git remote, commit
//! and whether the tree was dirty, from the image's labels), the configuration and plan digests,
//! the base images by digest, the resolved runtime with its origin, and every manifest and lockfile
//! the dependency installs read, with its digest. No build.env value or secret is in it.

use super::CliError;
use apprunner_build::engine::{BuiltImage, Session};
use apprunner_build::input::source_facts;
use apprunner_build::plan::{labels, BuildPlan, Step};
use sha2::{Digest, Sha256};

/// Where this builder's build type is described.
const BUILD_TYPE: &str =
    "https://github.com/apprunner-build/apprunner-build/blob/main/README.md#what-a-build-records";

/// The statement for `built`; `written` holds what `--output` and `--push` reported, and
/// `started`/`finished` bound the build.
pub(crate) async fn statement(
    session: &Session,
    plan: &BuildPlan,
    built: &BuiltImage,
    written: &[(&'static str, String)],
    started: chrono::DateTime<chrono::Utc>,
) -> Result<serde_json::Value, CliError> {
    let field = |name: &str| {
        written
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    };
    let (name, digest) = match (
        field("pushed"),
        field("pushed_digest"),
        field("manifest_digest"),
    ) {
        (Some(reference), Some(digest), _) => (reference.to_string(), digest.to_string()),
        (_, _, Some(digest)) => (built.name.to_string(), digest.to_string()),
        _ => (built.name.to_string(), built.id.clone()),
    };
    let image_labels = &plan.image.labels;
    let mut dependencies = Vec::new();
    if let Some(revision) = image_labels.get(source_facts::REVISION) {
        let commit = revision.trim_end_matches("-dirty");
        let mut source = serde_json::json!({
            "name": "source",
            "digest": { "gitCommit": commit },
            "annotations": { "dirty": revision.ends_with("-dirty") },
        });
        if let Some(remote) = image_labels.get(source_facts::SOURCE) {
            source["uri"] = format!("git+{remote}@{commit}").into();
        }
        dependencies.push(source);
    }
    for stage in &plan.stages {
        if let Ok(image) = session.docker().inspect_image(&stage.image).await {
            let mut digest = serde_json::Map::new();
            if let Some(id) = image.id.as_deref().and_then(|i| i.strip_prefix("sha256:")) {
                digest.insert("sha256".into(), id.into());
            }
            let pulled = image
                .repo_digests
                .unwrap_or_default()
                .into_iter()
                .next()
                .and_then(|d| d.split_once('@').map(|(_, d)| d.to_string()));
            dependencies.push(serde_json::json!({
                "name": stage.image,
                "digest": digest,
                "annotations": { "stage": stage.name, "registryDigest": pulled },
            }));
        }
    }
    for file in install_inputs(plan) {
        if let Ok(bytes) = std::fs::read(plan.source_root.join(&file)) {
            dependencies.push(serde_json::json!({
                "name": file,
                "digest": { "sha256": hex::encode(Sha256::digest(&bytes)) },
            }));
        }
    }
    let (algorithm, hex) = digest.split_once(':').unwrap_or(("sha256", &digest));
    Ok(serde_json::json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{ "name": name, "digest": { algorithm: hex } }],
        "predicateType": "https://slsa.dev/provenance/v1",
        "predicate": {
            "buildDefinition": {
                "buildType": BUILD_TYPE,
                "externalParameters": {
                    "configDigest": image_labels.get(labels::CONFIG_DIGEST),
                    "planDigest": plan.digest(),
                    "runtime": {
                        "name": plan.runtime.name,
                        "version": plan.runtime.version.to_string(),
                        "buildProcess": plan.runtime.build_process,
                        "origin": plan.runtime.reason,
                    },
                },
                "internalParameters": { "imageId": built.id, "upToDate": built.up_to_date },
                "resolvedDependencies": dependencies,
            },
            "runDetails": {
                "builder": {
                    "id": "https://github.com/apprunner-build/apprunner-build",
                    "version": { "apprunner-build": env!("CARGO_PKG_VERSION") },
                },
                "metadata": {
                    "startedOn": started.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    "finishedOn": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                },
            },
        },
    }))
}

/// The files the plan's dependency installs read (manifests, lockfiles), in order, each once: from
/// the source, or from another stage's /app, which holds the source's.
fn install_inputs(plan: &BuildPlan) -> Vec<String> {
    let mut files: Vec<String> = Vec::new();
    for step in &plan.steps {
        if let Step::Install { files: f, .. } = step {
            for file in f {
                if !files.contains(file) {
                    files.push(file.clone());
                }
            }
        }
    }
    files
}
