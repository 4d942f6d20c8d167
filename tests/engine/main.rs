//! End to end on a real Docker engine: real apps built into real images, started, and asked over
//! HTTP. Run with scripts/test.sh (it starts dockerd and builds the fixture runtime images); each
//! module is one topic, and `scripts/test.sh --test engine -- caches_and_layers::` runs one.

#[path = "../support/mod.rs"]
mod support;

mod build_phases;
mod caches_and_layers;
mod cleanup;
mod docker_host;
mod image_names;
mod node_apps;
mod python_apps;
mod runtime_images;
mod saved_plans;
mod source_tree;
