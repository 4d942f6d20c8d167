//! What outlives a build to make the next one faster: dependency layers, kept stage states, the
//! layer directory and its seal, the source index, the package-cache volumes, and whether an
//! image is already up to date. Nothing here decides what a build runs.

pub mod dependency_layers;
pub mod freshness;
pub(crate) mod layer_seal;
pub(crate) mod layer_store;
pub mod maintenance;
pub(crate) mod manifests;
pub mod scope;
pub(crate) mod source_index;
pub(crate) mod stage_reuse;

pub use maintenance::{CacheVolume, KeptLayer, LAYER_UNUSED_FOR};
pub use scope::LAYER_REPOSITORY;
