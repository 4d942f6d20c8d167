//! Each stage's state during a build, in one type: its container, the image it starts from, and
//! the layers known to make it up. Every change goes through a method named for the event, so
//! that what belongs together (a reused state replacing a container, say) changes together.

use crate::engine::image::layer::Layer;
use std::collections::HashMap;
use std::sync::Arc;

/// A stage's container.
#[derive(Debug, Clone)]
pub(crate) struct Slot {
    pub(crate) id: String,
    /// Whether it has the build's mounts (CA bundle, package cache).
    pub(crate) mounted: bool,
    /// The image it was created from: its changes are over this image.
    pub(crate) image: String,
}

/// One stage's state.
#[derive(Debug, Default)]
pub(crate) struct StageState {
    /// The stage's container, once started.
    container: Option<Slot>,
    /// The image the stage's container starts from instead of the stage's own: a dependency
    /// layer, a kept state, or written layers loaded over either.
    start_from: Option<String>,
    /// The container is as it was started from `start_from` (only read from since).
    pristine: bool,
    /// Without a container: layers added since the image was last loaded, loaded together with
    /// the next step that needs the image (a container, the commit).
    pending: Vec<Arc<Layer>>,
    /// Without a container: the layers its /app is known to be made of (a dependency layer's
    /// snapshot, then the source), so that a copy of it needs no container.
    app_layers: Option<Vec<Arc<Layer>>>,
}

/// The state of no stage yet.
static FRESH: StageState = StageState {
    container: None,
    start_from: None,
    pristine: false,
    pending: Vec::new(),
    app_layers: None,
};

impl StageState {
    pub(crate) fn container(&self) -> Option<&Slot> {
        self.container.as_ref()
    }

    pub(crate) fn has_container(&self) -> bool {
        self.container.is_some()
    }

    pub(crate) fn start_from(&self) -> Option<&str> {
        self.start_from.as_deref()
    }

    pub(crate) fn pending(&self) -> &[Arc<Layer>] {
        &self.pending
    }

    /// Whether the stage's state is one the tool knows exactly: no container, or one only read
    /// from since it started from `start_from`.
    pub(crate) fn known_exactly(&self) -> bool {
        self.container.is_none() || self.pristine
    }

    /// The layers the stage's /app is made of, when known: the stage has no container, and all
    /// of its /app came from layers the tool holds.
    pub(crate) fn known_app(&self) -> Option<Vec<Arc<Layer>>> {
        if self.container.is_some() {
            return None;
        }
        self.app_layers.clone()
    }

    /// A container started (or moved to one with other mounts): `pristine` when it started from
    /// exactly `start_from`.
    pub(crate) fn started(&mut self, slot: Slot, pristine: bool) {
        self.container = Some(slot);
        if pristine {
            self.pristine = true;
        }
    }

    /// A step is about to change the container.
    pub(crate) fn touched(&mut self) {
        self.pristine = false;
    }

    /// The container was stopped (a command ran past its time): it is no longer the stage's.
    fn container_lost(&mut self) {
        self.container = None;
    }

    /// The pending layers, taken to be loaded.
    pub(crate) fn take_pending(&mut self) -> Vec<Arc<Layer>> {
        std::mem::take(&mut self.pending)
    }

    /// The pending layers were loaded into the image the stage now starts from.
    pub(crate) fn loaded(&mut self, image: String) {
        self.start_from = Some(image);
    }

    /// The pending layers are part of the written final image.
    pub(crate) fn pending_written(&mut self) {
        self.pending.clear();
    }

    /// Layers copied from another stage, to be loaded with the next load.
    pub(crate) fn add_layers(&mut self, layers: Vec<Arc<Layer>>) {
        self.pending.extend(layers);
    }

    /// The source as a layer: loaded with the next load, and part of /app when /app is known.
    pub(crate) fn add_source(&mut self, layer: Arc<Layer>) {
        self.pending.push(layer.clone());
        if let Some(known) = &mut self.app_layers {
            known.push(layer);
        }
    }

    /// The stage goes on from a dependency layer it installed: its container is left for the
    /// cleanup.
    pub(crate) fn installed(&mut self, layer_image: String) {
        self.container = None;
        self.start_from = Some(layer_image);
    }

    /// The stage starts from a dependency layer found (or made earlier in this build); with its
    /// /app's snapshot, when the layer is over the source and the snapshot is on disk.
    pub(crate) fn starts_from_dependency_layer(&mut self, image: String, app: Option<Arc<Layer>>) {
        self.start_from = Some(image);
        if let Some(app) = app {
            self.app_layers = Some(vec![app]);
        }
    }

    /// The /app of the install that made the stage's dependency layer, kept as a layer.
    pub(crate) fn app_snapshot(&mut self, app: Arc<Layer>) {
        self.app_layers = Some(vec![app]);
    }

    /// A kept state of the stage's next commands is reused: the stage goes on from its image,
    /// and what was there before (a container only read from, layers waiting) is dropped.
    pub(crate) fn reuse_kept(&mut self, image: String) {
        self.start_from = Some(image);
        self.container = None;
        self.pristine = false;
        self.pending.clear();
        self.app_layers = None;
    }

    /// The stage's state after its commands was committed as a kept image: when the stage still
    /// has its container, what follows can be keyed by that image.
    pub(crate) fn kept_as(&mut self, image: String) {
        if self.container.is_some() {
            self.start_from = Some(image);
            self.pristine = true;
        }
    }
}

/// Every stage's state, by stage name.
#[derive(Debug, Default)]
pub(crate) struct Stages(HashMap<String, StageState>);

impl Stages {
    pub(crate) fn of(&self, stage: &str) -> &StageState {
        self.0.get(stage).unwrap_or(&FRESH)
    }

    pub(crate) fn of_mut(&mut self, stage: &str) -> &mut StageState {
        self.0.entry(stage.to_string()).or_default()
    }

    /// Whether any stage starts from an image of the tool's (a dependency layer, a kept state,
    /// written layers) instead of its own.
    pub(crate) fn any_start_from(&self) -> bool {
        self.0.values().any(|s| s.start_from.is_some())
    }

    /// The container `id` was stopped: whichever stage had it has none now.
    pub(crate) fn container_lost(&mut self, id: &str) {
        for state in self.0.values_mut() {
            if state.container.as_ref().is_some_and(|slot| slot.id == id) {
                state.container_lost();
            }
        }
    }
}
