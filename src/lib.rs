//! apprunner-build: build AWS App Runner source-code services (Python, Node.js) into container images.
//!
//! The steps, each with its own error type: [`config`] reads `apprunner.yaml` (or flags),
//! [`runtime`] resolves the requested runtime version against the [`catalog`], [`plan`] computes a
//! pure, printable build plan. All user-facing error text is written in [`errors`].

// Errors carry the located source line they point at; they are built once per run, not in hot paths.
#![allow(clippy::result_large_err)]

pub mod catalog;
pub mod cli;
pub mod config;
pub mod detect;
pub mod diagnostic;
pub mod engine;
pub mod errors;
pub mod log;
pub mod nodejs;
pub mod plan;
pub mod project;
pub mod runtime;
pub mod suggest;
