//! Report: located diagnostics with their codes, exit codes, the build log in App Runner's format,
//! and the rendering of every message. A problem in the user's input is written where it is found
//! (as a [`diagnostic::Diagnostic`]); typed errors of the later steps become messages in [`errors`].

pub mod codes;
pub mod diagnostic;
pub mod errors;
pub mod exit;
pub mod log;
pub mod suggest;
