//! Dependency layers ([`Step::Install`]): the key over the install's inputs, the look-up of an
//! image labelled with it, and, when there is none, the install over only its files, committed
//! and tagged `apprunner-build-cache/deps:<key>`. The plan decides what is split and why; the
//! walk runs the install's commands between [`put_manifests`] and [`DependencyLayers::keep`].

use crate::engine::caches::layer_store::{self as store, changes_layer, CacheKey, Kept};
use crate::engine::caches::manifests;
use crate::engine::caches::scope::LAYER_REPOSITORY;
use crate::engine::containers::exec;
use crate::engine::containers::mounts::Mounts;
use crate::engine::containers::stage_state::Stages;
use crate::engine::containers::stages::{container, Need};
use crate::engine::image::direct::{archive_of, AppOf, Support, WrittenLayers};
use crate::engine::image::rebase::WhiteoutNames;
use crate::engine::image::tagging::tag_cache_image;
use crate::engine::labels;
use crate::engine::session::docker::long;
use crate::engine::shown::secs;
use crate::engine::walk::context::BuildContext;
use crate::engine::walk::record::CacheDecision;
use crate::engine::EngineError;
use crate::plan::{Stage, Step};
use bollard::models::{ContainerConfig, ImageConfig};
use bollard::query_parameters::CommitContainerOptionsBuilder;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

/// One install step, its inputs read and keyed.
pub(crate) struct Install<'p> {
    stage: &'p Stage,
    /// The stage whose `path` the manifests come from (`None`: the source).
    from: Option<&'p str>,
    path: &'p str,
    files: &'p [String],
    contents: Vec<(String, Option<Vec<u8>>)>,
    key: String,
    tag: String,
    started: Instant,
    /// Whether the install's changes are written as a layer of the tool's (else committed).
    written: bool,
}

impl<'p> Install<'p> {
    /// The install's manifests read (from the source, or from `from`'s /app as given), and its
    /// key and tag.
    pub(crate) async fn read(
        ctx: &BuildContext<'_>,
        stage: &'p Stage,
        from: Option<(&'p str, AppOf)>,
        path: &'p str,
        files: &'p [String],
        runs: &[Step],
    ) -> Result<Install<'p>, EngineError> {
        let started = Instant::now();
        let from_name = from.as_ref().map(|(name, _)| *name);
        let contents = manifests::read(ctx, from, path, files).await?;
        let base = crate::engine::image::config::base_content(ctx.image_of(stage));
        let key = layer_key(ctx, &base, path, &contents, runs);
        let tag = format!("{LAYER_REPOSITORY}:{}", &key[..32]);
        Ok(Install {
            stage,
            from: from_name,
            path,
            files,
            contents,
            key,
            tag,
            started,
            written: false,
        })
    }
}

/// The dependency layers this build made or found, by key: a second stage with the same key
/// (the original build's second run, on the same image) reuses the first's.
#[derive(Default)]
pub(crate) struct DependencyLayers {
    made: HashMap<String, String>,
}

impl DependencyLayers {
    /// Start the stage from the install's layer when this build, the engine or the layer
    /// directory has it: `true`, and the install is done.
    pub(crate) async fn reuse(
        &mut self,
        ctx: &BuildContext<'_>,
        stages: &mut Stages,
        written: &mut WrittenLayers,
        install: &Install<'_>,
    ) -> Result<CacheDecision, EngineError> {
        let stage = &install.stage.name;
        let (key, tag) = (&install.key, &install.tag);
        let fresh = !stages.of(stage).has_container();
        let unchanged = if install.files.is_empty() {
            "same commands".to_string()
        } else {
            format!("{} unchanged", install.files.join(", "))
        };
        let over_source = install.from.is_none();
        if let Some(id) = self.made.get(key).cloned() {
            ctx.log.app_runner(format!(
                "Dependencies from this build's {tag} (the same install, on the same image) in the {stage} stage."
            ));
            written.may_be_kept(&ctx.opts.layer_dir, key);
            self.reuse_layer(ctx, stages, stage, id, key, over_source);
            return Ok(CacheDecision::Hit {
                from: format!("this build's {tag}"),
            });
        }
        if fresh && ctx.opts.layer_cache {
            if let Ok(found) = ctx.docker.inspect_image(tag).await {
                let label = found
                    .config
                    .as_ref()
                    .and_then(|c| c.labels.as_ref())
                    .and_then(|l| l.get(labels::LAYER_KEY));
                if label == Some(key) {
                    ctx.log.app_runner(format!(
                        "Dependencies from cache ({unchanged}): {} in the {stage} stage.",
                        tag
                    ));
                    written.may_be_kept(&ctx.opts.layer_dir, key);
                    self.reuse_layer(
                        ctx,
                        stages,
                        stage,
                        found.id.unwrap_or_default(),
                        key,
                        over_source,
                    );
                    return Ok(CacheDecision::Hit {
                        from: format!("the engine's {tag}"),
                    });
                }
            }
        }
        if fresh
            && ctx.opts.layer_cache
            && self
                .load_from_layer_dir(ctx, stages, written, install)
                .await?
        {
            ctx.log.app_runner(format!(
                "Dependencies from the cache directory ({unchanged}): {tag} in the {stage} stage."
            ));
            return Ok(CacheDecision::Hit {
                from: format!("the cache directory's {tag}"),
            });
        }
        Ok(CacheDecision::Miss {
            why: if !ctx.opts.layer_cache {
                "--no-cache".to_string()
            } else if !fresh {
                "the stage already has a container (an earlier step ran a command)".to_string()
            } else {
                let inputs = if install.files.is_empty() {
                    "the commands".to_string()
                } else {
                    format!("{} and the commands", install.files.join(", "))
                };
                format!("no layer has this key: {inputs}, on this image, are new to the engine and the cache directory")
            },
        })
    }

    /// Say the install runs, and decide how its result is kept: written as a layer of the
    /// tool's when layers are exported and the engine takes written images (asked now, before an
    /// install that would otherwise have to be redone), else committed.
    pub(crate) async fn announce(
        &self,
        ctx: &BuildContext<'_>,
        stages: &Stages,
        written: &mut WrittenLayers,
        install: &mut Install<'_>,
    ) -> Result<(), EngineError> {
        let files = install.files;
        ctx.log.app_runner(format!(
            "Installing dependencies over only {} in the {} stage, kept as {} for later builds.",
            if files.is_empty() {
                "an empty directory".to_string()
            } else {
                files.join(", ")
            },
            install.stage.name,
            install.tag
        ));
        if ctx.opts.export_layers && written.support() == Support::Untried {
            // A written image of no new layer over the stage's image.
            if let Some(id) = written
                .write_onto(
                    ctx,
                    stages.of(&install.stage.name),
                    install.stage,
                    vec![],
                    None,
                    "a probe of written layers",
                )
                .await?
            {
                // Only the answer is wanted: removed now, so that a build killed later leaves
                // no probe behind.
                let options = bollard::query_parameters::RemoveImageOptionsBuilder::new().build();
                if ctx
                    .docker
                    .remove_image(&id, Some(options), None)
                    .await
                    .is_err()
                {
                    ctx.cleanup.add_image(&id);
                }
            }
        }
        // On the containerd image store a commit is slow (0.7–1 s here) and its manifest can only
        // be learned from an archive of the whole image (4–5 s): the install is written there.
        install.written =
            (ctx.opts.export_layers || written.as_oci()) && written.support() == Support::Works;
        Ok(())
    }

    /// After the install's commands ran in `container`: its result kept as the dependency layer
    /// (written or committed), tagged, and the stage goes on from it, as a later build's would;
    /// the install's container is removed with the build's others.
    pub(crate) async fn keep(
        &mut self,
        ctx: &BuildContext<'_>,
        stages: &mut Stages,
        written: &mut WrittenLayers,
        install: &Install<'_>,
        container: &str,
    ) -> Result<(), EngineError> {
        let id = if install.written {
            install_written(ctx, stages, written, install, container).await?
        } else {
            commit_install(ctx, stages, install, container).await?
        };
        tag_cache_image(ctx.docker, ctx.cleanup, &id, &install.tag, ctx.began).await?;
        stages.of_mut(&install.stage.name).installed(id.clone());
        self.made.insert(install.key.clone(), id);
        ctx.log.app_runner(format!(
            "Dependencies installed and kept in {}.",
            secs(install.started.elapsed())
        ));
        Ok(())
    }

    /// The layer for the install's key loaded from the layer directory, when it is there: the
    /// install is skipped on an engine that has never seen it (a fresh CI runner with a restored
    /// cache).
    async fn load_from_layer_dir(
        &mut self,
        ctx: &BuildContext<'_>,
        stages: &mut Stages,
        written: &mut WrittenLayers,
        install: &Install<'_>,
    ) -> Result<bool, EngineError> {
        if written.support() == Support::Refused {
            return Ok(false);
        }
        let (stage, key, tag) = (install.stage, &install.key, &install.tag);
        let layer = match store::find(&ctx.opts.layer_dir, key, Kept::Deps) {
            store::Found::Layer(layer) => layer,
            store::Found::Absent => return Ok(false),
            store::Found::Unusable(why) => {
                ctx.log.app_runner(format!(
                    "The cache directory's dependency layer {tag} is not used: {why}. It is removed, and the install runs."
                ));
                return Ok(false);
            }
        };
        let Some(id) = write_dependencies(ctx, written, stages, stage, layer, key).await? else {
            return Ok(false);
        };
        tag_cache_image(ctx.docker, ctx.cleanup, &id, tag, ctx.began).await?;
        let over_source = !matches!(
            ctx.plan.steps.get(ctx.at),
            Some(Step::Install { from: Some(_), .. })
        );
        self.reuse_layer(ctx, stages, &stage.name, id, key, over_source);
        Ok(true)
    }

    /// Start `stage` from the dependency layer `id`; for an install over the source, its /app
    /// is then the layer's snapshot, when the snapshot is on disk.
    fn reuse_layer(
        &mut self,
        ctx: &BuildContext<'_>,
        stages: &mut Stages,
        stage: &str,
        id: String,
        key: &str,
        over_source: bool,
    ) {
        self.made.insert(key.to_string(), id.clone());
        store::touch(&ctx.opts.layer_dir, key);
        let mut app = None;
        if over_source {
            match store::find(&ctx.opts.layer_dir, key, Kept::App) {
                store::Found::Layer(layer) => app = Some(Arc::new(layer)),
                store::Found::Absent => {}
                store::Found::Unusable(why) => ctx.log.app_runner(format!(
                    "The cache directory's snapshot of /app for {} is not used: {why}. It is removed; /app is copied with a container.",
                    &key[..32]
                )),
            }
        }
        stages.of_mut(stage).starts_from_dependency_layer(id, app);
    }
}

/// The manifests put into a container of the stage with the build's mounts, where the install's
/// commands run next. The manifests go in through `tar` on a command's standard input: the
/// engine's archive API would make the mounts' mount points part of the container's layer (an
/// image without a working `tar` gets them through the archive API, in a container without
/// mounts, and the commands run in one with them).
pub(crate) async fn put_manifests(
    ctx: &BuildContext<'_>,
    stages: &mut Stages,
    mounts: &mut Mounts,
    written: &mut WrittenLayers,
    install: &Install<'_>,
) -> Result<(), EngineError> {
    let stage = install.stage;
    let manifests = manifests::manifests_tar(ctx, install.path, &install.contents)?;
    let with_mounts = container(ctx, stages, mounts, written, stage, Need::Mounts).await?;
    let (code, said) = exec::feed(
        ctx.docker,
        &with_mounts,
        &["tar", "-x", "-f", "-", "-C", "/"],
        manifests.clone(),
    )
    .await?;
    if code != 0 {
        ctx.log.app_runner(format!(
            "The {} stage's image has no working `tar` ({}): the manifests are copied through the engine's archive API.",
            stage.name,
            said.trim()
        ));
        let without = container(ctx, stages, mounts, written, stage, Need::NoMounts).await?;
        manifests::upload_tar(ctx, &without, install.path, manifests).await?;
    }
    Ok(())
}

/// The install's changes written as a layer (kept in the layer directory) over the stage's
/// image.
async fn install_written(
    ctx: &BuildContext<'_>,
    stages: &mut Stages,
    written: &mut WrittenLayers,
    install: &Install<'_>,
    container: &str,
) -> Result<String, EngineError> {
    let (stage, key) = (install.stage, &install.key);
    let dir = &ctx.opts.layer_dir;
    let aside = store::aside(dir, key, Kept::Deps);
    let layer = changes_layer(ctx.docker, container, aside.clone()).await;
    let layer = match layer.and_then(|l| {
        store::keep(dir, key, Kept::Deps, l).map_err(|source| EngineError::Source {
            root: aside.clone(),
            source,
        })
    }) {
        Ok(layer) => layer,
        // The layer directory cannot take it (a full disk, say): the install ran, and the
        // engine keeps it as it would without a cache directory.
        Err(EngineError::Source { source, .. }) => {
            let _ = std::fs::remove_file(&aside);
            ctx.log.app_runner(format!(
                "Warning: cannot keep the dependency layer in {} ({source}): it is committed in the engine instead, and a later build on another engine installs again.",
                dir.display()
            ));
            return commit_install(ctx, stages, install, container).await;
        }
        Err(e) => {
            let _ = std::fs::remove_file(&aside);
            return Err(e);
        }
    };
    if install.from.is_none() {
        snapshot_app(ctx, stages, &stage.name, container, install.path, key).await?;
    }
    let id = write_dependencies(ctx, written, stages, stage, layer, key)
        .await?
        .expect("the engine took a written image before this one");
    Ok(id)
}

/// The install's container, committed as the dependency layer (and its /app kept as a
/// snapshot where it can be).
async fn commit_install(
    ctx: &BuildContext<'_>,
    stages: &mut Stages,
    install: &Install<'_>,
    container: &str,
) -> Result<String, EngineError> {
    let labels = HashMap::from([
        (labels::LAYER_KEY.to_string(), install.key.clone()),
        (labels::OWNER.to_string(), String::new()),
    ]);
    let options = CommitContainerOptionsBuilder::new()
        .container(container)
        .comment("apprunner-build dependency layer")
        .build();
    let config = ContainerConfig {
        labels: Some(labels),
        ..Default::default()
    };
    let id = long(ctx.docker)
        .commit_container(options, config)
        .await
        .map_err(EngineError::docker("committing the dependency layer"))?
        .id;
    // After the commit: reading /app through the archive API may add mount points to the
    // container, which is not committed again.
    if install.from.is_none() {
        snapshot_app(
            ctx,
            stages,
            &install.stage.name,
            container,
            install.path,
            &install.key,
        )
        .await?;
    }
    Ok(id)
}

/// The install's `layer` written over the stage's image, labelled with its `key`; the image's id,
/// or none when the engine refuses written images.
async fn write_dependencies(
    ctx: &BuildContext<'_>,
    written: &mut WrittenLayers,
    stages: &Stages,
    stage: &Stage,
    layer: crate::engine::image::layer::Layer,
    key: &str,
) -> Result<Option<String>, EngineError> {
    let config = layer_config(ctx, stage, key);
    written
        .write_onto(
            ctx,
            stages.of(&stage.name),
            stage,
            vec![Arc::new(layer)],
            Some(config),
            "dependencies",
        )
        .await
}

/// The stage image's config with the layer's key as a label: how the layer is found again.
fn layer_config(ctx: &BuildContext<'_>, stage: &Stage, key: &str) -> ImageConfig {
    let mut config = ctx.image_of(stage).config.clone().unwrap_or_default();
    config
        .labels
        .get_or_insert_with(HashMap::new)
        .insert(labels::LAYER_KEY.to_string(), key.to_string());
    config
}

/// Keep the install container's `path` as a layer file: a later copy of this stage's /app
/// (into the runtime image) is then written from it, without a container.
async fn snapshot_app(
    ctx: &BuildContext<'_>,
    stages: &mut Stages,
    stage: &str,
    container: &str,
    path: &str,
    key: &str,
) -> Result<(), EngineError> {
    let dir = ctx.opts.layer_dir.clone();
    let aside = store::aside(&dir, key, Kept::App);
    let kept = match archive_of(ctx, container, path, aside.clone(), false).await {
        Ok((layer, WhiteoutNames(false))) => {
            store::keep(&dir, key, Kept::App, layer).map_err(|e| e.to_string())
        }
        Ok((_, WhiteoutNames(true))) => {
            Err("a name in it begins with `.wh.`, which a layer would read as a deletion".into())
        }
        Err(e) => Err(e.to_string()),
    };
    match kept {
        Ok(kept) => stages.of_mut(stage).app_snapshot(Arc::new(kept)),
        Err(e) => {
            let _ = std::fs::remove_file(&aside);
            ctx.log.app_runner(format!(
                "Warning: cannot keep a snapshot of {path} in {} ({e}): later builds copy it with a container.",
                dir.display()
            ));
        }
    }
    Ok(())
}

/// sha256 over the tool's version, the project (a layer is never another project's: its
/// package cache could have fed the install), the stage's image by content
/// ([`crate::engine::image::config::base_content`]), where the files go and what they hold, and each command with its phase, directory and env (the plan's: the CA bundle's
/// and the package caches' variables change where tools look, not what they install, and are
/// left out so that `--no-cache` replaces the same layer).
fn layer_key(
    ctx: &BuildContext<'_>,
    base: &str,
    path: &str,
    contents: &[(String, Option<Vec<u8>>)],
    runs: &[Step],
) -> String {
    let mut key = CacheKey::new(&ctx.project_scope);
    key.field(base.as_bytes());
    key.field(path.as_bytes());
    for (name, bytes) in contents {
        key.field(name.as_bytes());
        match bytes {
            Some(b) => key.field(&Sha256::digest(b)),
            None => key.field(b"absent"),
        }
    }
    for run in runs {
        key.run(run);
    }
    key.finish()
}

#[cfg(test)]
mod tests {
    use crate::engine::image::config::base_content;
    use bollard::models::{ImageConfig, ImageInspect, ImageInspectRootFs};

    fn image(id: &str, layers: &[&str], env: &[&str]) -> ImageInspect {
        ImageInspect {
            id: Some(id.into()),
            root_fs: Some(ImageInspectRootFs {
                typ: "layers".into(),
                layers: Some(layers.iter().map(|l| l.to_string()).collect()),
            }),
            config: Some(ImageConfig {
                env: Some(env.iter().map(|e| e.to_string()).collect()),
                working_dir: Some("/app".into()),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn one_image_in_two_stores_is_one_base_and_its_content_tells_bases_apart() {
        let classic = image("sha256:config", &["sha256:a", "sha256:b"], &["PATH=/bin"]);
        let containerd = image("sha256:manifest", &["sha256:a", "sha256:b"], &["PATH=/bin"]);
        assert_eq!(base_content(&classic), base_content(&containerd));
        let other_layer = image("sha256:config", &["sha256:a", "sha256:c"], &["PATH=/bin"]);
        let other_env = image(
            "sha256:config",
            &["sha256:a", "sha256:b"],
            &["PATH=/usr/bin"],
        );
        assert_ne!(base_content(&classic), base_content(&other_layer));
        assert_ne!(base_content(&classic), base_content(&other_env));
    }
}
