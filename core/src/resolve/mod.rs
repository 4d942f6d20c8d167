//! Resolve: the runtime catalog (`runtimes/*.toml`) and requested → resolved versions.

pub mod catalog;
pub mod runtime;
