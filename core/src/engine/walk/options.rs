//! What a build is asked to do beyond the plan (the command line's options), and what it made.

use crate::engine::containers::confine::Limits;
use crate::engine::image::held::HeldLayers;
use crate::engine::image::name::ImageName;
use crate::engine::source::SourceSummary;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct BuildOptions {
    pub image: ImageName,
    /// `--network`: the network build containers join.
    pub network: Option<String>,
    /// `--ca-bundle`: mounted read-only into build containers only.
    pub ca_bundle: Option<PathBuf>,
    /// Return the existing image when it is up to date instead of building (off with `--no-cache`).
    pub reuse_image: bool,
    /// Keep package-manager caches (pip, npm, yarn, pnpm, uv, poetry) in a volume between builds
    /// (off with `--no-cache`).
    pub package_cache: bool,
    /// Reuse dependency layers ([`crate::plan::Step::Install`]) whose inputs are unchanged (off with
    /// `--no-cache`: they are installed again, and the cache images replaced).
    pub layer_cache: bool,
    /// Steps that run no command (adding the source, copying /app, the final config) are written
    /// as layers without a container when the engine takes them (off: always a container).
    pub write_layers: bool,
    /// Where dependency layers' snapshots of /app (and, exported, the layers) are kept between
    /// builds.
    pub layer_dir: PathBuf,
    /// Write each dependency install as a layer of our own into `layer_dir` (from the
    /// container's changes), so that another machine's engine can load it: `--cache-dir` given,
    /// or `SOURCE_DATE_EPOCH` set. Otherwise the install's container is committed (faster).
    pub export_layers: bool,
    /// Paths relative to the source root left out of the source copied into the image: local
    /// files that happen to sit in the tree, such as the `--secrets-file` of this run.
    pub exclude: Vec<PathBuf>,
    /// `--memory`, `--cpus`, `--command-timeout`: for build containers and their commands.
    pub limits: Limits,
}

/// Where the tool keeps what outlives a build on this machine: `$XDG_CACHE_HOME/apprunner-build`,
/// else `~/.cache/apprunner-build`, else a directory under the system's temporary directory.
pub fn default_cache_dir() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("apprunner-build")
}

#[derive(Debug, Clone)]
pub struct BuiltImage {
    pub id: String,
    pub name: ImageName,
    pub size: u64,
    pub total: Duration,
    /// Time spent in the user's commands; the rest is the engine's overhead.
    pub commands: Duration,
    pub source: SourceSummary,
    /// The image the application stage starts from (the plan's reference).
    pub base: String,
    /// The layers and configs this build wrote: an export takes them from these files.
    pub held: HeldLayers,
    /// The existing image was already what this build would make: nothing was built.
    pub up_to_date: bool,
    /// What each step did (none when the image was up to date).
    pub steps: Vec<super::record::StepRecord>,
}
