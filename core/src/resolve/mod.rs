//! Resolve: the runtime catalog (`runtimes/*.toml`) and requested → resolved versions, under the
//! version requests and, for Python, the wheels a lockfile pins.

pub mod catalog;
mod messages;
pub mod resolution;
pub mod runtime;
mod wheel_fit;
pub mod wheels;
