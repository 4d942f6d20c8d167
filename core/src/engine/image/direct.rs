//! Steps that run no command, done without a container when the stage has none yet: the source
//! and another stage's /app become written layers ([`crate::engine::image::written`]) on the image the stage
//! would start from, and the commit of such a stage writes the final config over that image.
//! The first time the engine refuses a written image, the build says so and goes on with
//! containers for the rest of the build.

use crate::engine::caches::layer_store::touch_tag;
use crate::engine::caches::scope::LAYER_REPOSITORY;
use crate::engine::containers::stage_state::StageState;
use crate::engine::image::config::final_config;
use crate::engine::image::held::HeldLayers;
use crate::engine::image::layer::Layer;
use crate::engine::image::oci_layout;
use crate::engine::image::rebase::{rebase_archive, WhiteoutNames};
use crate::engine::image::tagging::tag_cache_image;
use crate::engine::image::written::{self, NewImage};
use crate::engine::session::docker::long;
use crate::engine::shown::{secs, size};
use crate::engine::source::{self, SourceSummary};
use crate::engine::walk::context::BuildContext;
use crate::engine::EngineError;
use crate::plan::Stage;
use bollard::models::{ImageConfig, ImageInspect};
use bollard::query_parameters::DownloadFromContainerOptionsBuilder;
use futures_util::TryStreamExt;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// Whether the engine takes written images.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Support {
    /// Not tried yet: the first load decides.
    Untried,
    Works,
    /// Refused once (or turned off): containers do every step.
    Refused,
}

/// A first written image bigger than this asks the engine which image store it has before it is
/// sent, rather than being sent in the form the store may refuse and then again.
const ASK_FIRST: u64 = 8 * 1024 * 1024;

/// Whether the engine keeps images in the containerd image store (`docker info`'s driver
/// status says `driver-type: io.containerd.snapshotter.v1`).
async fn containerd_store(docker: &bollard::Docker) -> bool {
    docker.info().await.is_ok_and(|info| {
        info.driver_status.unwrap_or_default().iter().any(|pair| {
            pair.first().is_some_and(|k| k == "driver-type")
                && pair.get(1).is_some_and(|v| v.contains("containerd"))
        })
    })
}

/// The state of written layers in one build.
pub(crate) struct WrittenLayers {
    support: Support,
    /// The engine takes written images as OCI image layouts over the base's manifest (the
    /// containerd image store), not as `docker load` archives.
    oci: bool,
    /// The build's temporary layer files.
    dir: tempfile::TempDir,
    /// Every image loaded so far: its config and layers, for writing the image out.
    held: HeldLayers,
}

/// What a copy of another stage's /app is made from.
pub(crate) enum AppOf {
    /// The layers that stage's /app is known to be made of.
    Layers(Vec<Arc<Layer>>),
    /// That stage's container.
    Container(String),
}

impl WrittenLayers {
    pub(crate) fn new(enabled: bool) -> std::io::Result<Self> {
        Ok(WrittenLayers {
            support: if enabled {
                Support::Untried
            } else {
                Support::Refused
            },
            oci: false,
            dir: tempfile::Builder::new()
                .prefix("apprunner-build-layers-")
                .tempdir()?,
            held: HeldLayers::default(),
        })
    }

    /// A dependency layer taken from the engine: see [`HeldLayers::may_be_kept`].
    pub(crate) fn may_be_kept(&mut self, layer_dir: &Path, key: &str) {
        self.held.may_be_kept(layer_dir, key);
    }

    /// The layers and configs this build wrote, with the directory of its own layer files.
    pub(crate) fn into_held(self) -> HeldLayers {
        let mut held = self.held;
        held.keep_dir(self.dir);
        held
    }
}

impl WrittenLayers {
    pub(crate) fn support(&self) -> Support {
        self.support
    }

    /// Whether written images go to this engine as OCI image layouts (the containerd image
    /// store).
    pub(crate) fn as_oci(&self) -> bool {
        self.oci && self.support == Support::Works
    }

    /// Whether a step of a stage that runs no command can be a written layer: the stage has no
    /// container yet, and the engine has not refused one.
    pub(crate) fn writes_directly(&self, state: &StageState) -> bool {
        self.support != Support::Refused && !state.has_container()
    }

    /// The image `stage` would start a container from now.
    async fn start_image(
        ctx: &BuildContext<'_>,
        state: &StageState,
        stage: &Stage,
    ) -> Result<ImageInspect, EngineError> {
        match state.start_from() {
            None => Ok(ctx.image_of(stage).clone()),
            Some(id) => ctx
                .docker
                .inspect_image(id)
                .await
                .map_err(EngineError::docker(format!("inspecting {id}"))),
        }
    }

    pub(crate) fn temporary_layer(&self, ctx: &BuildContext<'_>, what: &str) -> PathBuf {
        self.dir.path().join(format!("{what}-{}.tar", ctx.at))
    }

    /// Load `layers` (and `config`) over the image `stage` would start from. `Ok(None)`: the
    /// engine refused the first written image, and the caller does the step in a container.
    pub(crate) async fn write_onto(
        &mut self,
        ctx: &BuildContext<'_>,
        state: &StageState,
        stage: &Stage,
        layers: Vec<Arc<Layer>>,
        config: Option<ImageConfig>,
        created_by: &str,
    ) -> Result<Option<String>, EngineError> {
        let mut base = Self::start_image(ctx, state, stage).await?;
        let mut layers = layers;
        // A kept layer (a dependency layer's /app) under others: loaded once as an image of its
        // own, found by tag later, so that its bytes are not sent again with every source edit.
        if layers.len() > 1 && !layers[0].temporary {
            let kept = layers.remove(0);
            match self.kept_base(ctx, &base, kept).await? {
                Some(with_kept) => base = with_kept,
                None => return Ok(None),
            }
        }
        self.load_over(ctx, &base, layers, config, created_by).await
    }

    /// `base` with the kept layer on top, found by its tag or loaded and tagged.
    async fn kept_base(
        &mut self,
        ctx: &BuildContext<'_>,
        base: &ImageInspect,
        kept: Arc<Layer>,
    ) -> Result<Option<ImageInspect>, EngineError> {
        let mut h = Sha256::new();
        h.update(base.id.as_deref().unwrap_or_default());
        h.update(b"\0");
        h.update(&kept.diff_id);
        let tag = format!(
            "{LAYER_REPOSITORY}:app-{}",
            &hex::encode(h.finalize())[..28]
        );
        if let Ok(found) = ctx.docker.inspect_image(&tag).await {
            touch_tag(&ctx.opts.layer_dir, &tag);
            return Ok(Some(found));
        }
        let Some(id) = self
            .load_over(ctx, base, vec![kept], None, "a dependency layer's /app")
            .await?
        else {
            return Ok(None);
        };
        tag_cache_image(ctx.docker, ctx.cleanup, &id, &tag, ctx.began).await?;
        touch_tag(&ctx.opts.layer_dir, &tag);
        ctx.docker
            .inspect_image(&id)
            .await
            .map(Some)
            .map_err(EngineError::docker(format!("inspecting {tag}")))
    }

    async fn load_over(
        &mut self,
        ctx: &BuildContext<'_>,
        base: &ImageInspect,
        layers: Vec<Arc<Layer>>,
        config: Option<ImageConfig>,
        created_by: &str,
    ) -> Result<Option<String>, EngineError> {
        if self.support == Support::Refused {
            return Ok(None);
        }
        let created = match (source::source_date_epoch(), &config) {
            (Some(epoch), _) => chrono::DateTime::from_timestamp(epoch as i64, 0)
                .unwrap_or_default()
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            // An image on the way (no config of its own): its base's time, so that the same
            // layers over the same base are the same image, and a stage's state can be keyed by it.
            (None, None) => base
                .created
                .clone()
                .unwrap_or_else(|| "1970-01-01T00:00:00Z".into()),
            // To the nanosecond: replacing a name's image compares creation times.
            (None, Some(_)) => {
                chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
            }
        };
        let base_history = match &base.id {
            Some(id) => written::history_of(
                ctx.docker.image_history(id).await.unwrap_or_default(),
                base.root_fs
                    .as_ref()
                    .and_then(|r| r.layers.as_ref())
                    .map_or(0, Vec::len),
            ),
            None => vec![],
        };
        let image = NewImage {
            base,
            layers,
            config,
            created_by: format!("apprunner-build: {created_by}"),
            created,
            base_history,
        };
        let (config_bytes, config_id) = written::image_config(&image);
        let new_layers = image.layers.clone();
        let first = self.support == Support::Untried;
        if first && image.layers.iter().map(|l| l.size).sum::<u64>() > ASK_FIRST {
            // Not sent twice to an engine that would refuse the first form.
            self.oci = containerd_store(ctx.docker).await;
        }
        let loaded = if self.oci {
            self.load_oci(ctx, image.clone()).await
        } else {
            written::load(ctx.docker, image.clone()).await
        };
        let id = match loaded {
            Ok(id) => id,
            Err(e) if first => {
                let refused = match e {
                    EngineError::Docker { source, .. } => source.to_string(),
                    other => other.to_string(),
                };
                let other_form = if self.oci {
                    None
                } else {
                    self.oci = true;
                    Some(self.load_oci(ctx, image).await)
                };
                match other_form {
                    Some(Ok(id)) => id,
                    Some(Err(e)) => {
                        self.support = Support::Refused;
                        ctx.log.app_runner(format!(
                            "This engine does not take written layers ({refused}; as an OCI image layout: {e}): every step uses a container."
                        ));
                        return Ok(None);
                    }
                    None => {
                        self.support = Support::Refused;
                        ctx.log.app_runner(format!(
                            "This engine does not take written layers ({refused}): every step uses a container."
                        ));
                        return Ok(None);
                    }
                }
            }
            Err(e) => return Err(e),
        };
        if first && self.oci {
            ctx.log.app_runner(
                "This engine keeps images in the containerd image store: written layers are loaded as OCI image layouts.",
            );
        }
        self.support = Support::Works;
        if id == config_id {
            self.held.add(&id, config_bytes, &new_layers);
        }
        ctx.cleanup.add_image(&id);
        Ok(Some(id))
    }

    /// [`oci_layout::load`] over the base's manifest (learned once per base image), named while
    /// used.
    async fn load_oci(
        &self,
        ctx: &BuildContext<'_>,
        image: NewImage<'_>,
    ) -> Result<String, EngineError> {
        let dir = ctx.opts.layer_dir.with_file_name("oci-manifests");
        let manifest = oci_layout::base_manifest(ctx.docker, image.base, &dir).await?;
        let name = crate::engine::session::owner::work_name();
        let id = oci_layout::load(ctx.docker, image, &manifest, &name, &dir).await?;
        ctx.cleanup.add_intermediate(&name);
        Ok(id)
    }

    /// The application image from the stage's container, as a layer the tool writes of the
    /// container's changes over the image it was created from, with the final config: sorted
    /// entries and clamped times, where a commit would keep the times the commands left. Used
    /// when the build's time is fixed (`SOURCE_DATE_EPOCH`), so that the image is reproducible.
    pub(crate) async fn write_container_commit(
        &mut self,
        ctx: &BuildContext<'_>,
        stage: &Stage,
        container: &str,
        created_from: &str,
        source: Option<&SourceSummary>,
    ) -> Result<Option<String>, EngineError> {
        if self.support == Support::Refused {
            return Ok(None);
        }
        let t = Instant::now();
        let at = self.dir.path().join(format!("container-{}.tar", ctx.at));
        let mut layer =
            crate::engine::caches::layer_store::changes_layer(ctx.docker, container, at).await?;
        layer.temporary = true;
        let base = ctx
            .docker
            .inspect_image(created_from)
            .await
            .map_err(EngineError::docker(format!("inspecting {created_from}")))?;
        let config = application_config(ctx, stage, source);
        let Some(id) = self
            .load_over(
                ctx,
                &base,
                vec![Arc::new(layer)],
                Some(config),
                "the application image",
            )
            .await?
        else {
            return Ok(None);
        };
        ctx.log.app_runner(format!(
            "Wrote the application image from the {} stage's container (its changes as a layer, times clamped to SOURCE_DATE_EPOCH) in {}.",
            stage.name,
            secs(t.elapsed())
        ));
        Ok(Some(id))
    }

    /// Load the layers added to `stage` since its image was last loaded, before a container
    /// starts from it. What the engine refused is returned, to be copied into the container.
    pub(crate) async fn materialize(
        &mut self,
        ctx: &BuildContext<'_>,
        state: &mut StageState,
        stage: &Stage,
    ) -> Result<Vec<Arc<Layer>>, EngineError> {
        let layers = state.take_pending();
        if layers.is_empty() {
            return Ok(vec![]);
        }
        match self
            .write_onto(
                ctx,
                state,
                stage,
                layers.clone(),
                None,
                "layers of this stage",
            )
            .await?
        {
            Some(id) => {
                // Named while used, so that a build killed now leaves it to the next one's sweep.
                let work_name = crate::engine::session::owner::work_name();
                super::tagging::name(ctx.docker, &id, &work_name).await?;
                ctx.cleanup.add_intermediate(&work_name);
                state.loaded(id);
                Ok(vec![])
            }
            None => Ok(layers),
        }
    }

    /// The source as a layer over the stage's image, loaded with the stage's next load.
    pub(crate) async fn write_source(
        &self,
        ctx: &BuildContext<'_>,
        state: &mut StageState,
        path: &str,
    ) -> Result<SourceSummary, EngineError> {
        let t = Instant::now();
        let root = ctx.plan.source_root.clone();
        let prefix = path.trim_start_matches('/').to_string();
        let exclude = ctx.opts.exclude.clone();
        let filter = source::SourceFilter::of_plan(ctx.plan);
        let file = self.temporary_layer(ctx, "source");
        let tar_root = root.clone();
        let written = tokio::task::spawn_blocking(move || {
            Layer::write(file, true, |out| {
                source::write_tar(&tar_root, &prefix, filter, &exclude, out)
            })
        })
        .await
        .map_err(|e| EngineError::Source {
            root: root.clone(),
            source: std::io::Error::other(e),
        })?;
        let (layer, summary) = written.map_err(|source| EngineError::Source { root, source })?;
        state.add_source(Arc::new(layer));
        for warning in &summary.warnings {
            ctx.log.app_runner(format!("Warning: {warning}."));
        }
        if let Some(line) = summary.git_left_out.line() {
            ctx.log.app_runner(line);
        }
        ctx.log.app_runner(format!(
            "Added the source ({} file{}, {}) to {path} as a layer in {}.",
            summary.files,
            if summary.files == 1 { "" } else { "s" },
            size(summary.bytes),
            secs(t.elapsed())
        ));
        Ok(summary)
    }

    /// `path` of stage `from` as layers over `to`'s image, loaded with `to`'s next load: the
    /// layers `from`'s /app is known to be made of, or else an archive of it from `from`'s
    /// container. `false`: it cannot be a layer, and the caller copies it with a container.
    pub(crate) async fn write_copy(
        &self,
        ctx: &BuildContext<'_>,
        from: &Stage,
        app: AppOf,
        to: &Stage,
        to_state: &mut StageState,
        path: &str,
    ) -> Result<bool, EngineError> {
        let t = Instant::now();
        let (layers, how) = match app {
            AppOf::Layers(layers) => (layers, "as the layers it is made of"),
            AppOf::Container(container) => {
                let file = self.temporary_layer(ctx, "copy");
                let (layer, names) = archive_of(ctx, &container, path, file, true).await?;
                if names == WhiteoutNames(true) {
                    ctx.log.app_runner(format!(
                        "{path} of the {} stage has names that begin with `.wh.`, which a layer would read as deletions: it is copied with a container instead.",
                        from.name
                    ));
                    return Ok(false);
                }
                (vec![Arc::new(layer)], "as a layer")
            }
        };
        let what = format!("{path} from the {} stage", from.name);
        to_state.add_layers(layers);
        ctx.log.app_runner(format!(
            "Copied {what} into the {} stage ({}) {how} in {}.",
            to.name,
            to.image,
            secs(t.elapsed())
        ));
        Ok(true)
    }

    /// The stage's image with the plan's config, written over it: the commit of a stage that
    /// never needed a container. `None`: the engine refused it.
    pub(crate) async fn write_commit(
        &mut self,
        ctx: &BuildContext<'_>,
        state: &mut StageState,
        stage: &Stage,
        source: Option<&SourceSummary>,
    ) -> Result<Option<String>, EngineError> {
        let t = Instant::now();
        let config = application_config(ctx, stage, source);
        let layers = state.pending().to_vec();
        let Some(id) = self
            .write_onto(
                ctx,
                state,
                stage,
                layers.clone(),
                Some(config),
                "the application image",
            )
            .await?
        else {
            return Ok(None);
        };
        state.pending_written();
        ctx.log.app_runner(format!(
            "Wrote the application image ({} new layer{} and its config) in {}.",
            layers.len(),
            if layers.len() == 1 { "" } else { "s" },
            secs(t.elapsed())
        ));
        Ok(Some(id))
    }
}

/// `path` in `container` as a layer tar rooted at `/`, written to `file`; and whether a name
/// in it begins with `.wh.` (then it cannot serve as a layer).
pub(crate) async fn archive_of(
    ctx: &BuildContext<'_>,
    container: &str,
    path: &str,
    file: PathBuf,
    temporary: bool,
) -> Result<(Layer, WhiteoutNames), EngineError> {
    let options = DownloadFromContainerOptionsBuilder::new()
        .path(path)
        .build();
    let download = long(ctx.docker)
        .download_from_container(container, Some(options))
        .map_err(std::io::Error::other);
    let reader = tokio_util::io::StreamReader::new(download);
    let bridge = tokio_util::io::SyncIoBridge::new(reader);
    let parent = Path::new(path)
        .parent()
        .map_or_else(|| PathBuf::from("/"), Path::to_path_buf);
    let written = tokio::task::spawn_blocking(move || {
        Layer::write(file, temporary, |out| rebase_archive(bridge, &parent, out))
    })
    .await
    .map_err(|e| EngineError::Source {
        root: path.into(),
        source: std::io::Error::other(e),
    })?;
    written.map_err(|source| EngineError::Source {
        root: path.into(),
        source,
    })
}

/// The application image's config: the stage's own image's (not the start image's: a
/// dependency layer was committed from a container, with its idle command and key label), with
/// the plan's over it.
fn application_config(
    ctx: &BuildContext<'_>,
    stage: &Stage,
    source: Option<&SourceSummary>,
) -> ImageConfig {
    let stage_base = ctx.image_of(stage).clone();
    let plan = final_config(ctx, source, &stage_base);
    let mut config = stage_base.config.clone().unwrap_or_default();
    let mut labels = config.labels.take().unwrap_or_default();
    labels.extend(plan.labels.unwrap_or_default());
    config.labels = Some(labels);
    config.cmd = plan.cmd;
    config.entrypoint = plan.entrypoint;
    config.env = plan.env;
    config.working_dir = plan.working_dir;
    config.exposed_ports = plan.exposed_ports;
    config.user = plan.user;
    config
}
