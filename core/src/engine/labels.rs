//! Every label the tool reads or writes, in one place: the plan's on the image (re-exported from
//! [`crate::plan::labels`], where the plan sets them) and the engine's own on containers, cache
//! images and volumes. An image, container or volume is the tool's when its labels say so.

pub use crate::plan::labels::*;

/// On every container this tool creates: the process that made it, as `pid=N start=T
/// place=DIGEST` (see `session::docker::Owner`). A committed image would inherit it (the engine
/// merges a container's labels into the image), so the final image gets it empty.
pub const OWNER: &str = "apprunner-build.owner";
/// On a dependency layer's cache image: its key.
pub const LAYER_KEY: &str = "apprunner-build.layer-key";
/// On a kept stage state's image: its key.
pub const STAGE_KEY: &str = "apprunner-build.stage-key";
/// On a package-cache volume: the project directory it serves (absolute and canonical).
pub const CACHE_FOR: &str = "apprunner-build.cache-for";
/// On a package-cache volume: the runtime and version it serves ("python 3.11"); the same key as
/// the image's runtime label.
pub const VOLUME_RUNTIME: &str = RUNTIME;

/// Where a build names the images it has on the way (a stage's written layers) while it uses
/// them: `apprunner-build-work:OWNER-N` (`Owner::tag`). The build removes its names at the end;
/// after a SIGKILL, the next build's sweep does. A name, not a label: a label would change the
/// image's id, by which a stage's state is keyed.
pub(crate) const WORK_REPOSITORY: &str = "apprunner-build-work";
