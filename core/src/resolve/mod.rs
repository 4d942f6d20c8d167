//! Resolve: the runtime catalog (`runtimes/*.toml`) and requested → resolved versions, under the
//! version requests and, for Python, the wheels a lockfile pins.

pub mod catalog;
mod messages;
pub mod runtime;
pub mod wheels;
