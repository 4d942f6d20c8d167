//! Input: what the user gave — `apprunner.yaml`, App Runner's API settings as flags, or a project
//! without either (detection) — read into settings and version requests with their origins.

pub mod config;
pub mod detect;
pub mod package_json;
