//! Resolve: the runtime catalog (`runtimes/*.toml`) and requested → resolved versions.

pub mod catalog;
mod messages;
pub mod runtime;
mod version_text;
