//! Dependency layers ([`Step::Install`]): the key over the install's inputs, the look-up of an
//! image labelled with it, and, when there is none, the install over only its files, committed
//! and tagged `apprunner-build-cache/deps:<key>`. The plan decides what is split and why.

use crate::engine::caches::layer_store::{self as store, CacheKey, Kept};
use crate::engine::containers::exec;
use crate::engine::containers::stages::Need;
use crate::engine::image::direct::Support;
use crate::engine::image::written::{read_files, WhiteoutNames};
use crate::engine::session::docker::{long, OWNER_LABEL};
use crate::engine::walk::{secs, Walk};
use crate::engine::EngineError;
use crate::input::files::read_project_bytes;
use crate::plan::Stage;
use crate::plan::Step;
use bollard::models::{ContainerConfig, ImageConfig};
use bollard::query_parameters::{
    CommitContainerOptionsBuilder, DownloadFromContainerOptionsBuilder,
    UploadToContainerOptionsBuilder,
};
use futures_util::TryStreamExt;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Read;
use std::sync::Arc;
use std::time::Instant;

/// The repository cache images are tagged in: `docker images apprunner-build-cache/deps` lists
/// them, `docker rmi` removes them.
pub const LAYER_REPOSITORY: &str = "apprunner-build-cache/deps";
/// The label that holds a cache image's key.
pub const LAYER_KEY_LABEL: &str = "apprunner-build.layer-key";
/// What an install step runs, and over what.
#[derive(Clone, Copy)]
struct Install<'a> {
    /// The stage whose `path` the manifests come from (`None`: the source).
    from: Option<&'a str>,
    path: &'a str,
    runs: &'a [Step],
}

/// The most of one manifest that is read.
const FILE_CAP: u64 = 16 * 1024 * 1024;

impl Walk<'_> {
    pub(crate) async fn install(&mut self, step: &Step) -> Result<(), EngineError> {
        let Step::Install {
            stage,
            from,
            path,
            files,
            runs,
            ..
        } = step
        else {
            unreachable!("called for Install steps only")
        };
        let t = Instant::now();
        let install = Install {
            from: from.as_deref(),
            path,
            runs,
        };
        let stage_def = self
            .plan
            .stage(stage)
            .expect("checked: every step names a declared stage")
            .clone();
        let contents = self.install_files(from.as_deref(), path, files).await?;
        let base = self.images[&stage_def.image].id.clone().unwrap_or_default();
        let key = self.layer_key(&base, path, &contents, runs);
        let tag = format!("{LAYER_REPOSITORY}:{}", &key[..32]);
        let fresh = !self.containers.contains_key(stage);
        let unchanged = if files.is_empty() {
            "same commands".to_string()
        } else {
            format!("{} unchanged", files.join(", "))
        };
        if let Some(id) = self.made_layers.get(&key).cloned() {
            self.log.app_runner(format!(
                "Dependencies from this build's {tag} (the same install, on the same image) in the {stage} stage."
            ));
            self.reuse_layer(stage, id, &key, from.is_none());
            return Ok(());
        }
        if fresh && self.opts.layer_cache {
            if let Ok(found) = self.docker.inspect_image(&tag).await {
                let label = found
                    .config
                    .as_ref()
                    .and_then(|c| c.labels.as_ref())
                    .and_then(|l| l.get(LAYER_KEY_LABEL));
                if label == Some(&key) {
                    self.log.app_runner(format!(
                        "Dependencies from cache ({unchanged}): {} in the {stage} stage.",
                        tag
                    ));
                    self.reuse_layer(stage, found.id.unwrap_or_default(), &key, from.is_none());
                    return Ok(());
                }
            }
        }
        if fresh
            && self.opts.layer_cache
            && self.load_from_layer_dir(&stage_def, &key, &tag).await?
        {
            self.log.app_runner(format!(
                "Dependencies from the cache directory ({unchanged}): {tag} in the {stage} stage."
            ));
            return Ok(());
        }
        self.log.app_runner(format!(
            "Installing dependencies over only {} in the {stage} stage, kept as {tag} for later builds.",
            if files.is_empty() { "an empty directory".to_string() } else { files.join(", ") }
        ));
        if self.opts.export_layers && self.direct.support == Support::Untried {
            self.probe(&stage_def).await?;
        }
        let id = if self.opts.export_layers && self.direct.support == Support::Works {
            self.install_written(&stage_def, install, &contents, &key)
                .await?
        } else {
            self.install_committed(&stage_def, install, &contents, &key)
                .await?
        };
        self.tag_layer(&id, &tag).await?;
        // The stage goes on from the layer, as a later build's would; the install's container is
        // removed with the build's others.
        self.containers.remove(stage);
        self.start_from.insert(stage.clone(), id.clone());
        self.made_layers.insert(key, id);
        self.log.app_runner(format!(
            "Dependencies installed and kept in {}.",
            secs(t.elapsed())
        ));
        Ok(())
    }

    /// The install ([`Walk::run_install`]), its changes written as a layer (kept in the layer
    /// directory) over the stage's image.
    async fn install_written(
        &mut self,
        stage: &Stage,
        install: Install<'_>,
        contents: &[(String, Option<Vec<u8>>)],
        key: &str,
    ) -> Result<String, EngineError> {
        let Install { from, path, .. } = install;
        let container = self.run_install(stage, install, contents).await?;
        let dir = &self.opts.layer_dir;
        let aside = store::aside(dir, key, Kept::Deps);
        let layer = self.changes_layer(&container, aside.clone()).await;
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
                self.log.app_runner(format!(
                    "Warning: cannot keep the dependency layer in {} ({source}): it is committed in the engine instead, and a later build on another engine installs again.",
                    dir.display()
                ));
                return self.commit_install(stage, &container, install, key).await;
            }
            Err(e) => {
                let _ = std::fs::remove_file(&aside);
                return Err(e);
            }
        };
        if from.is_none() {
            self.snapshot_app(&stage.name, &container, path, key)
                .await?;
        }
        let config = self.layer_config(stage, key);
        let id = self
            .write_onto(stage, vec![Arc::new(layer)], Some(config), "dependencies")
            .await?
            .expect("the engine took a written image before this one");
        Ok(id)
    }

    /// The install ([`Walk::run_install`]) committed as the layer.
    async fn install_committed(
        &mut self,
        stage: &Stage,
        install: Install<'_>,
        contents: &[(String, Option<Vec<u8>>)],
        key: &str,
    ) -> Result<String, EngineError> {
        let container = self.run_install(stage, install, contents).await?;
        self.commit_install(stage, &container, install, key).await
    }

    /// The install's container, committed as the dependency layer (and its /app kept as a
    /// snapshot where it can be).
    async fn commit_install(
        &mut self,
        stage: &Stage,
        container: &str,
        install: Install<'_>,
        key: &str,
    ) -> Result<String, EngineError> {
        let Install { from, path, .. } = install;
        let labels = HashMap::from([
            (LAYER_KEY_LABEL.to_string(), key.to_string()),
            (OWNER_LABEL.to_string(), String::new()),
        ]);
        let options = CommitContainerOptionsBuilder::new()
            .container(container)
            .comment("apprunner-build dependency layer")
            .build();
        let config = ContainerConfig {
            labels: Some(labels),
            ..Default::default()
        };
        let id = long(self.docker)
            .commit_container(options, config)
            .await
            .map_err(EngineError::docker("committing the dependency layer"))?
            .id;
        // After the commit: reading /app through the archive API may add mount points to the
        // container, which is not committed again.
        if from.is_none() {
            self.snapshot_app(&stage.name, container, path, key).await?;
        }
        Ok(id)
    }

    /// The manifests put into a container of the stage with the build's mounts, and the install's
    /// commands run there; the container. The manifests go in through `tar` on a command's
    /// standard input: the engine's archive API would make the mounts' mount points part of the
    /// container's layer (an image without a working `tar` gets them through the archive API, in
    /// a container without mounts, and the commands run in one with them).
    async fn run_install(
        &mut self,
        stage: &Stage,
        install: Install<'_>,
        contents: &[(String, Option<Vec<u8>>)],
    ) -> Result<String, EngineError> {
        let manifests = self.manifests_tar(install.path, contents)?;
        let container = self.container(stage, Need::Mounts).await?;
        let (code, said) = exec::feed(
            self.docker,
            &container,
            &["tar", "-x", "-f", "-", "-C", "/"],
            manifests.clone(),
        )
        .await?;
        if code != 0 {
            self.log.app_runner(format!(
                "The {} stage's image has no working `tar` ({}): the manifests are copied through the engine's archive API.",
                stage.name,
                said.trim()
            ));
            let container = self.container(stage, Need::NoMounts).await?;
            self.upload_tar(&container, install.path, manifests).await?;
        }
        for run in install.runs {
            Box::pin(self.step(run)).await?;
        }
        Ok(self.containers[&stage.name].id.clone())
    }

    /// The stage image's config with the layer's key as a label: how the layer is found again.
    fn layer_config(&self, stage: &Stage, key: &str) -> ImageConfig {
        let mut config = self.images[&stage.image].config.clone().unwrap_or_default();
        config
            .labels
            .get_or_insert_with(HashMap::new)
            .insert(LAYER_KEY_LABEL.to_string(), key.to_string());
        config
    }

    /// A written image of no new layer over the stage's image: whether the engine takes written
    /// images, asked before an install that would otherwise have to be redone.
    async fn probe(&mut self, stage: &Stage) -> Result<(), EngineError> {
        if let Some(id) = self
            .write_onto(stage, vec![], None, "a probe of written layers")
            .await?
        {
            self.cleanup.add_image(&id);
        }
        Ok(())
    }

    /// The layer for `key` loaded from the layer directory, when it is there: the install is
    /// skipped on an engine that has never seen it (a fresh CI runner with a restored cache).
    async fn load_from_layer_dir(
        &mut self,
        stage: &Stage,
        key: &str,
        tag: &str,
    ) -> Result<bool, EngineError> {
        if self.direct.support == Support::Refused {
            return Ok(false);
        }
        let layer = match store::find(&self.opts.layer_dir, key, Kept::Deps) {
            store::Found::Layer(layer) => layer,
            store::Found::Absent => return Ok(false),
            store::Found::Unusable(why) => {
                self.log.app_runner(format!(
                    "The cache directory's dependency layer {tag} is not used: {why}. It is removed, and the install runs."
                ));
                return Ok(false);
            }
        };
        let config = self.layer_config(stage, key);
        let Some(id) = self
            .write_onto(stage, vec![Arc::new(layer)], Some(config), "dependencies")
            .await?
        else {
            return Ok(false);
        };
        self.tag_layer(&id, tag).await?;
        let over_source = !matches!(
            self.plan.steps.get(self.at),
            Some(Step::Install { from: Some(_), .. })
        );
        self.reuse_layer(&stage.name, id, key, over_source);
        Ok(true)
    }

    pub(crate) async fn tag_layer(&self, id: &str, tag: &str) -> Result<(), EngineError> {
        // Tagged, it is the cache's: not a leftover of this build.
        self.cleanup.keep_image(id);
        crate::engine::image::tagging::retag_cache(self.docker, id, tag, self.began).await
    }

    /// Start `stage` from the dependency layer `id`; for an install over the source, its /app
    /// is then the layer's snapshot, when the snapshot is on disk.
    fn reuse_layer(&mut self, stage: &str, id: String, key: &str, over_source: bool) {
        self.start_from.insert(stage.to_string(), id.clone());
        self.made_layers.insert(key.to_string(), id);
        store::touch(&self.opts.layer_dir, key);
        if over_source {
            match store::find(&self.opts.layer_dir, key, Kept::App) {
                store::Found::Layer(layer) => {
                    self.app_layers
                        .insert(stage.to_string(), vec![Arc::new(layer)]);
                }
                store::Found::Absent => {}
                store::Found::Unusable(why) => self.log.app_runner(format!(
                    "The cache directory's snapshot of /app for {} is not used: {why}. It is removed; /app is copied with a container.",
                    &key[..32]
                )),
            }
        }
    }

    /// Keep the install container's `path` as a layer file: a later copy of this stage's /app
    /// (into the runtime image) is then written from it, without a container.
    async fn snapshot_app(
        &mut self,
        stage: &str,
        container: &str,
        path: &str,
        key: &str,
    ) -> Result<(), EngineError> {
        let dir = self.opts.layer_dir.clone();
        let aside = store::aside(&dir, key, Kept::App);
        let kept = match self.archive_of(container, path, aside.clone(), false).await {
            Ok((layer, WhiteoutNames(false))) => {
                store::keep(&dir, key, Kept::App, layer).map_err(|e| e.to_string())
            }
            Ok((_, WhiteoutNames(true))) => Err(
                "a name in it begins with `.wh.`, which a layer would read as a deletion".into(),
            ),
            Err(e) => Err(e.to_string()),
        };
        match kept {
            Ok(kept) => {
                self.app_layers
                    .insert(stage.to_string(), vec![Arc::new(kept)]);
            }
            Err(e) => {
                let _ = std::fs::remove_file(&aside);
                self.log.app_runner(format!(
                    "Warning: cannot keep a snapshot of {path} in {} ({e}): later builds copy it with a container.",
                    dir.display()
                ));
            }
        }
        Ok(())
    }

    /// Each file's bytes (`None`: absent), from the source or from another stage's `path`.
    async fn install_files(
        &mut self,
        from: Option<&str>,
        path: &str,
        files: &[String],
    ) -> Result<Vec<(String, Option<Vec<u8>>)>, EngineError> {
        let mut out = Vec::new();
        let Some(from) = from else {
            for name in files {
                let bytes = read_project_bytes(&self.plan.source_root, name, FILE_CAP).map_err(
                    |refused| EngineError::Source {
                        root: self.plan.source_root.clone(),
                        source: std::io::Error::other(
                            refused.diagnostic(std::path::Path::new(name)).message,
                        ),
                    },
                )?;
                out.push((name.clone(), bytes));
            }
            return Ok(out);
        };
        if let Some(layers) = self.known_app(from) {
            return read_files(&layers, path, files, FILE_CAP).map_err(|source| {
                EngineError::Source {
                    root: format!("{path} of the {from} stage").into(),
                    source,
                }
            });
        }
        let from_stage = self
            .plan
            .stage(from)
            .expect("checked: every step names a declared stage")
            .clone();
        let container = self.container(&from_stage, Need::NoMounts).await?;
        for name in files {
            let full = format!("{}/{name}", path.trim_end_matches('/'));
            let options = DownloadFromContainerOptionsBuilder::new()
                .path(&full)
                .build();
            let chunks: Result<Vec<_>, _> = self
                .docker
                .download_from_container(&container, Some(options))
                .try_collect()
                .await;
            let bytes = match chunks {
                Err(_) => None,
                Ok(chunks) => {
                    let tar: Vec<u8> = chunks.concat();
                    first_file(&tar).map_err(|e| EngineError::Source {
                        root: full.clone().into(),
                        source: e,
                    })?
                }
            };
            out.push((name.clone(), bytes));
        }
        Ok(out)
    }

    /// sha256 over the tool's version, the project (a layer is never another project's: its
    /// package cache could have fed the install), the stage's image, where the files go and what
    /// they hold, and each command with its phase, directory and env (the plan's: the CA bundle's
    /// and the package caches' variables change where tools look, not what they install, and are
    /// left out so that `--no-cache` replaces the same layer).
    fn layer_key(
        &self,
        base: &str,
        path: &str,
        contents: &[(String, Option<Vec<u8>>)],
        runs: &[Step],
    ) -> String {
        let mut key = CacheKey::new(&self.project_scope());
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

    /// Copy a tar of files under `path` into the container through the archive API.
    async fn upload_tar(
        &self,
        container: &str,
        path: &str,
        tar: Vec<u8>,
    ) -> Result<(), EngineError> {
        let options = UploadToContainerOptionsBuilder::new().path("/").build();
        long(self.docker)
            .upload_to_container(container, Some(options), bollard::body_full(tar.into()))
            .await
            .map_err(EngineError::docker(format!(
                "uploading the dependency manifests to {path}"
            )))
    }

    /// The present files under `path`, as regular files, in a tar rooted at `/`.
    fn manifests_tar(
        &self,
        path: &str,
        contents: &[(String, Option<Vec<u8>>)],
    ) -> Result<Vec<u8>, EngineError> {
        let mut builder = tar::Builder::new(Vec::new());
        let prefix = path.trim_start_matches('/').trim_end_matches('/');
        let mut dir = tar::Header::new_gnu();
        dir.set_entry_type(tar::EntryType::Directory);
        dir.set_mode(0o755);
        dir.set_size(0);
        let io = |e: std::io::Error| EngineError::Source {
            root: self.plan.source_root.clone(),
            source: e,
        };
        builder
            .append_data(&mut dir, format!("{prefix}/"), std::io::empty())
            .map_err(io)?;
        for (name, bytes) in contents {
            let Some(bytes) = bytes else { continue };
            // Directories on the way (a requirements file in a subdirectory).
            let mut at = String::new();
            for part in name
                .split('/')
                .collect::<Vec<_>>()
                .iter()
                .rev()
                .skip(1)
                .rev()
            {
                at = if at.is_empty() {
                    part.to_string()
                } else {
                    format!("{at}/{part}")
                };
                let mut d = dir.clone();
                builder
                    .append_data(&mut d, format!("{prefix}/{at}/"), std::io::empty())
                    .map_err(io)?;
            }
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(tar::EntryType::Regular);
            h.set_mode(0o644);
            h.set_size(bytes.len() as u64);
            builder
                .append_data(&mut h, format!("{prefix}/{name}"), bytes.as_slice())
                .map_err(io)?;
        }
        builder.into_inner().map_err(io)
    }
}

/// The first regular file's bytes in a tar (the engine's archive of one path).
fn first_file(tar: &[u8]) -> std::io::Result<Option<Vec<u8>>> {
    let mut archive = tar::Archive::new(tar);
    let Some(entry) = archive.entries()?.next() else {
        return Ok(None);
    };
    let mut entry = entry?;
    if !entry.header().entry_type().is_file() {
        return Err(std::io::Error::other(
            "a dependency manifest that is not a regular file (a symlink?) in the other stage",
        ));
    }
    let mut bytes = Vec::new();
    entry.read_to_end(&mut bytes)?;
    Ok(Some(bytes))
}
