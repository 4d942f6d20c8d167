//! Report: located diagnostics, the build log in App Runner's format, and every user-facing message.

pub mod diagnostic;
pub mod errors;
pub mod exit;
pub mod log;
pub mod suggest;
