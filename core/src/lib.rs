//! apprunner-build: build AWS App Runner source-code services (Python, Node.js) into container images.
//!
//! The pipeline, one module per step, each with its own error type:
//! - [`input`]: `apprunner.yaml`, App Runner's API settings (flags) or detection → settings and
//!   version requests with their origins;
//! - [`resolve`]: the runtime catalog; requested → resolved versions;
//! - [`plan`]: a pure value listing every stage and step of the build;
//! - [`engine`]: walks the plan against a Docker Engine through bollard;
//! - [`output`]: the built image as a value, written where `--output` says;
//! - [`report`]: what every step reports with — located diagnostics and their codes, exit codes,
//!   the build log — and the rendering of diagnostics. Each step's error messages live beside its
//!   error type (`resolve::messages`, `engine::messages`).
//!
//! [`project`] runs input → resolve → plan for a directory; [`export`] writes the service it
//! describes in another platform's format;
//! [`upgrade`] moves a project off an end-of-support runtime, as edits to its files.

// Errors carry the located source line they point at; they are built once per run, not in hot paths.
#![allow(clippy::result_large_err)]

pub mod engine;
pub mod export;
pub mod input;
pub mod output;
pub mod plan;
pub mod project;
pub mod report;
pub mod resolve;
pub mod sbom;
pub mod upgrade;
