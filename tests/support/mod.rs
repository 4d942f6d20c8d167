//! Helpers shared by the integration tests, one topic a module: projects loaded the way the CLI
//! loads them (`project`), what detection derives from a project (`plans`), the binary run as a
//! child process (`cli`), signals to it (`interrupt`), HTTP to what it serves (`http`), JSON it
//! prints (`json`), and, for the tests that need a real Docker engine with the fixture runtime
//! images, builds (`engine`), containers and images that are cleaned up even when a test panics
//! (`containers`), confined containers as they start (`confine`), what an image's export holds
//! (`export`), registries to push to (`registry`) and certificates for TLS peers (`tls`).
//!
//! The engine tests are `#[ignore]`d so that a plain `cargo test` passes on a machine without an
//! engine; `scripts/test.sh` runs them with `--include-ignored`.
//!
//! Every test binary includes this module (`mod support;`, or `#[path = "../support/mod.rs"] mod
//! support;` from a test folder) and uses part of it: what one binary leaves unused is no dead
//! code.
#![allow(dead_code)]

mod cli;
mod confine;
mod containers;
mod engine;
mod export;
mod http;
mod interrupt;
mod json;
mod plans;
mod project;
mod registry;
mod tls;

// Every test binary uses part of these: what one leaves unused is no unused import either.
#[allow(unused_imports)]
pub use self::{
    cli::*, confine::*, containers::*, engine::*, export::*, http::*, interrupt::*, json::*,
    plans::*, project::*, registry::*, tls::*,
};
