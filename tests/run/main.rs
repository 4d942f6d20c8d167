//! `apprunner-build run` on a real engine: the service answers, secrets stay secret, failures
//! explain themselves. Run with scripts/test.sh; `scripts/test.sh --test run -- secrets_and_env::`
//! runs one module.

#[path = "../support/mod.rs"]
mod support;

mod failures;
mod leftovers;
mod secrets_and_env;
mod serving;
