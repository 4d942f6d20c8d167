//! Running a built image the way App Runner runs it: PORT set, secrets given at start, the
//! application's output in the log, and a health check before the service counts as live.

mod error;
mod health;
mod health_check;
mod options;
mod output;
mod service;
#[cfg(test)]
mod tests;

pub use error::{RunError, Tail};
pub use health::monitor;
pub use health_check::{HealthCheck, HealthProtocol};
pub use options::{
    check_secret_value, collect_secrets, image_run_config, ImageRunConfig, Publish, RunOptions,
};
pub use output::{OutputHandle, Started, APPLICATION};
pub use service::{is_root_user, start, wait_exit};
