//! Whether an existing image already is what a build would produce, and if not, why not.
//!
//! The key is what the image was built from: the source tree, the configuration, the resolved
//! runtime and this tool's version, all recorded as labels on the image.

use crate::engine::caches::source_index::SourceIndex;
use crate::engine::source::{self, SourceSummary};
use crate::plan::{labels, BuildPlan};
use bollard::Docker;
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageKey {
    pub source: String,
    pub config: String,
    pub runtime: String,
    pub engine: String,
    /// The whole plan's digest: a saved plan edited under the same tag is another image.
    pub plan: String,
    /// Each stage's image id in the engine (`stage=id,…`): a runtime image retagged, or another
    /// image for the same version in the catalog, is another base.
    pub bases: String,
    /// `--user` (empty: none given, the base image's user).
    pub user: String,
}

impl ImageKey {
    pub fn for_plan(plan: &BuildPlan, source_digest: &str, bases: String) -> Self {
        let label = |k: &str| plan.image.labels.get(k).cloned().unwrap_or_default();
        Self {
            source: format!("sha256:{source_digest}"),
            config: label(labels::CONFIG_DIGEST),
            runtime: format!(
                "{} {}",
                label(labels::RUNTIME),
                label(labels::RUNTIME_VERSION)
            ),
            engine: label(labels::TOOL_VERSION),
            plan: plan.digest(),
            bases,
            user: label(labels::USER),
        }
    }

    pub fn from_labels(l: &HashMap<String, String>) -> Option<Self> {
        Some(Self {
            source: l.get(labels::SOURCE_DIGEST)?.clone(),
            config: l.get(labels::CONFIG_DIGEST)?.clone(),
            runtime: format!(
                "{} {}",
                l.get(labels::RUNTIME)?,
                l.get(labels::RUNTIME_VERSION)?
            ),
            engine: l.get(labels::TOOL_VERSION)?.clone(),
            // An image from before these labels is rebuilt once.
            plan: l.get(labels::PLAN_DIGEST).cloned().unwrap_or_default(),
            bases: l.get(labels::BASE_IMAGES).cloned().unwrap_or_default(),
            // Images from before --user have no such label: built without it.
            user: l.get(labels::USER).cloned().unwrap_or_default(),
        })
    }

    /// Why an image with key `old` is not this one; empty when it is.
    pub fn changes_since(&self, old: &ImageKey) -> Vec<String> {
        let mut why = Vec::new();
        if self.source != old.source {
            why.push("the source changed".to_string());
        }
        if self.config != old.config {
            why.push("the configuration changed".to_string());
        }
        if self.runtime != old.runtime {
            why.push(format!(
                "the runtime changed ({} → {})",
                old.runtime, self.runtime
            ));
        }
        if self.user != old.user {
            let shown = |u: &str| match u {
                "" => "the image's own".to_string(),
                u => format!("--user {u}"),
            };
            why.push(format!(
                "the user changed ({} → {})",
                shown(&old.user),
                shown(&self.user)
            ));
        }
        if self.engine != old.engine {
            why.push(format!(
                "apprunner-build changed ({} → {})",
                old.engine, self.engine
            ));
        }
        // A configuration, runtime or version change changes the plan too: said once.
        if self.plan != old.plan && why.len() == usize::from(self.source != old.source) {
            why.push("the plan changed".to_string());
        }
        if self.bases != old.bases {
            why.push(format!(
                "a stage's image is another one ({} → {})",
                short_ids(&old.bases),
                short_ids(&self.bases)
            ));
        }
        why
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Freshness {
    /// No image by that name.
    Missing,
    /// The image by that name is what this build would produce.
    UpToDate { id: String, size: u64 },
    /// It exists but differs, for these reasons.
    Stale(Vec<String>),
}

/// Compare the image `name` with what `plan` over the current source would build.
pub async fn freshness(
    docker: &Docker,
    plan: &BuildPlan,
    name: &str,
    exclude: &[std::path::PathBuf],
    index_dir: &std::path::Path,
) -> std::io::Result<(Freshness, SourceSummary)> {
    let root = plan.source_root.clone();
    let exclude = exclude.to_vec();
    let filter = source::SourceFilter::of_plan(plan);
    let index_path = SourceIndex::path_for(index_dir, &root, "app");
    let summary = tokio::task::spawn_blocking(move || {
        let started = std::time::SystemTime::now();
        let mut index = SourceIndex::load(&index_path);
        let summary = source::digest(&root, "app", filter, &exclude, &mut index)?;
        // Not kept, the next check reads every file again: slower, not wrong.
        let _ = index.save(&index_path, started);
        Ok::<_, std::io::Error>(summary)
    })
    .await
    .map_err(std::io::Error::other)??;
    let Ok(image) = docker.inspect_image(name).await else {
        return Ok((Freshness::Missing, summary));
    };
    let mut bases = Vec::new();
    for stage in &plan.stages {
        // By content, not by id: the containerd image store gives the same image another id.
        let id = docker
            .inspect_image(&stage.image)
            .await
            .ok()
            .map(|i| crate::engine::image::config::base_identity(&i))
            .unwrap_or_default();
        bases.push(format!("{}={id}", stage.name));
    }
    let want = ImageKey::for_plan(plan, &summary.digest, bases.join(","));
    let labels = image.config.and_then(|c| c.labels).unwrap_or_default();
    let state = match ImageKey::from_labels(&labels) {
        None => Freshness::Stale(vec![format!("{name} was not built by apprunner-build")]),
        Some(have) => match want.changes_since(&have)[..] {
            [] => Freshness::UpToDate {
                id: image.id.unwrap_or_default(),
                size: image.size.unwrap_or(0).max(0) as u64,
            },
            ref why => Freshness::Stale(why.to_vec()),
        },
    };
    Ok((state, summary))
}

/// `build=sha256:0123456789ab…,runtime=…` → `build=0123456789ab, runtime=…`.
fn short_ids(bases: &str) -> String {
    if bases.is_empty() {
        return "none recorded".into();
    }
    bases
        .split(',')
        .map(|b| match b.split_once('=') {
            Some((stage, id)) => {
                let id = id.trim_start_matches("sha256:");
                format!("{stage}={}", &id[..id.len().min(12)])
            }
            None => b.to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::ImageKey;

    #[test]
    fn inequality_says_why() {
        let old = ImageKey {
            source: "sha256:a".into(),
            config: "sha256:c".into(),
            runtime: "python311 3.11.13".into(),
            engine: "0.1.0".into(),
            plan: "sha256:p".into(),
            bases: "build=sha256:0123456789abcdef,runtime=sha256:fedcba9876543210".into(),
            user: String::new(),
        };
        assert!(old.changes_since(&old).is_empty());
        let new = ImageKey {
            source: "sha256:b".into(),
            runtime: "python311 3.11.14".into(),
            plan: "sha256:q".into(),
            ..old.clone()
        };
        assert_eq!(
            new.changes_since(&old),
            [
                "the source changed",
                "the runtime changed (python311 3.11.13 → python311 3.11.14)"
            ]
        );
        // An edited saved plan, and a runtime image retagged to another image.
        let edited = ImageKey {
            plan: "sha256:q".into(),
            bases: "build=sha256:0123456789abcdef,runtime=sha256:aaaaaaaaaaaa9999".into(),
            ..old.clone()
        };
        assert_eq!(
            edited.changes_since(&old),
            [
                "the plan changed",
                "a stage's image is another one (build=0123456789ab, runtime=fedcba987654 → build=0123456789ab, runtime=aaaaaaaaaaaa)"
            ]
        );
        let as_app = ImageKey {
            user: "app".into(),
            ..old.clone()
        };
        assert_eq!(
            as_app.changes_since(&old),
            ["the user changed (the image's own → --user app)"]
        );
    }
}
