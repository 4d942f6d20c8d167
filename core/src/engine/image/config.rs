//! The image's configuration: the plan's over the stage's image, with the tool's labels (the
//! source and plan digests, the base images) that tell a later build whether it is up to date.

use crate::engine::labels;
use crate::engine::source::SourceSummary;
use crate::engine::walk::context::BuildContext;
use crate::plan::{ImageConfig, ImageEnv};
use bollard::models::{ContainerConfig, ImageInspect};
use std::collections::HashMap;

/// The plan's image configuration over the stage's image `base`: command, entrypoint, env,
/// working directory, port, user and labels (the plan's and the source digest).
pub(crate) fn final_config(
    ctx: &BuildContext<'_>,
    source: Option<&SourceSummary>,
    base: &ImageInspect,
) -> ContainerConfig {
    let image = &ctx.plan.image;
    let base_config = base.config.clone().unwrap_or_default();
    // Only the plan's own labels of the tool's: never an owner or a cache key, which would
    // make later builds take the image, or its containers, for theirs.
    let mut labels: HashMap<String, String> = image
        .labels
        .clone()
        .into_iter()
        .filter(|(k, _)| {
            !k.starts_with(labels::NAMESPACE) || labels::SET_BY_PLAN.contains(&k.as_str())
        })
        .collect();
    if let Some(summary) = source {
        labels.insert(
            labels::SOURCE_DIGEST.to_string(),
            format!("sha256:{}", summary.digest),
        );
    }
    labels.insert(labels::PLAN_DIGEST.to_string(), ctx.plan.digest());
    let bases = ctx
        .plan
        .stages
        .iter()
        .map(|s| {
            let content = ctx.images.get(&s.image).map(base_identity);
            format!("{}={}", s.name, content.unwrap_or_default())
        })
        .collect::<Vec<_>>()
        .join(",");
    labels.insert(labels::BASE_IMAGES.to_string(), bases);
    ContainerConfig {
        cmd: Some(image.cmd.clone()),
        entrypoint: Some(image.entrypoint.clone()),
        env: Some(final_env(base_config.env.unwrap_or_default(), image)),
        working_dir: Some(image.working_dir.clone()),
        exposed_ports: Some(vec![format!("{}/tcp", image.port)]),
        labels: Some(labels),
        user: Some(
            image
                .user
                .clone()
                .unwrap_or_else(|| base_config.user.unwrap_or_default()),
        ),
        ..Default::default()
    }
}

/// The base image's env with the plan's settings applied in order.
fn final_env(base: Vec<String>, image: &ImageConfig) -> Vec<String> {
    let mut env: Vec<(String, String)> = base
        .iter()
        .filter_map(|kv| {
            kv.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
        })
        .collect();
    for op in &image.env {
        let (name, value) = match op {
            ImageEnv::Set { name, value } => (name, value.clone()),
            ImageEnv::Prepend {
                name,
                value,
                otherwise,
            } => {
                let current = env.iter().find(|(k, _)| k == name).map(|(_, v)| v);
                (name, format!("{value}:{}", current.unwrap_or(otherwise)))
            }
        };
        match env.iter_mut().find(|(k, _)| k == name) {
            Some(slot) => slot.1 = value,
            None => env.push((name.clone(), value)),
        }
    }
    env.into_iter().map(|(k, v)| format!("{k}={v}")).collect()
}

/// What the stage's image is, for the up-to-date check: [`base_content`] and the rest of its
/// config that reaches the built image (labels, command, entrypoint, ports), empty and absent
/// alike. By content, not by id: the containerd image store gives the same image another id,
/// while an image with other labels or another command over the same files is another base.
pub(crate) fn base_identity(image: &bollard::models::ImageInspect) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    h.update(base_content(image).as_bytes());
    if let Some(config) = &image.config {
        let mut labels: Vec<_> = config.labels.iter().flatten().collect();
        labels.sort();
        for (k, v) in labels {
            h.update(format!("\0label {k}={v}").as_bytes());
        }
        for arg in config.cmd.iter().flatten() {
            h.update(format!("\0cmd {arg}").as_bytes());
        }
        for arg in config.entrypoint.iter().flatten() {
            h.update(format!("\0entrypoint {arg}").as_bytes());
        }
        let mut ports: Vec<_> = config.exposed_ports.iter().flatten().collect();
        ports.sort();
        for port in ports {
            h.update(format!("\0port {port}").as_bytes());
        }
    }
    format!("sha256:{}", hex::encode(h.finalize()))
}

/// What the stage's image is, by content: its layers' diff ids and the config an install sees
/// (env, working directory, user). The same image has another id in the containerd image store
/// than in the classic one (the manifest's digest there, the config's here), so a key made of
/// the id would not carry a `--cache-dir` from one to the other.
pub(crate) fn base_content(image: &bollard::models::ImageInspect) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    let layers = image.root_fs.as_ref().and_then(|r| r.layers.as_ref());
    for diff_id in layers.into_iter().flatten() {
        h.update(diff_id.as_bytes());
        h.update(b"\0");
    }
    if let Some(config) = &image.config {
        for var in config.env.iter().flatten() {
            h.update(b"env ");
            h.update(var.as_bytes());
            h.update(b"\0");
        }
        for (name, value) in [("workdir", &config.working_dir), ("user", &config.user)] {
            h.update(name.as_bytes());
            h.update(value.as_deref().unwrap_or_default().as_bytes());
            h.update(b"\0");
        }
    }
    format!("sha256:{}", hex::encode(h.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn final_env_applies_the_plan_over_the_base_in_order() {
        let image = ImageConfig {
            cmd: vec![],
            entrypoint: vec![],
            working_dir: "/app".into(),
            env: vec![
                ImageEnv::Set {
                    name: "LANG".into(),
                    value: "C.UTF-8".into(),
                },
                ImageEnv::Prepend {
                    name: "PATH".into(),
                    value: "/app/.venv/bin".into(),
                    otherwise: "/bin".into(),
                },
                ImageEnv::Prepend {
                    name: "PYTHONPATH".into(),
                    value: "/app/lib".into(),
                    otherwise: "/none".into(),
                },
            ],
            port: 8080,
            user: None,
            labels: BTreeMap::new(),
        };
        let env = final_env(vec!["PATH=/usr/bin".into(), "LANG=C".into()], &image);
        assert_eq!(
            env,
            [
                "PATH=/app/.venv/bin:/usr/bin",
                "LANG=C.UTF-8",
                "PYTHONPATH=/app/lib:/none"
            ]
        );
    }
}
