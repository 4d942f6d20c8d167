//! The build's containers: how they are confined, what they mount, how commands run in them
//! (exec), and each stage's container and state. Nothing here writes image layers itself.

pub mod confine;
pub(crate) mod exec;
pub mod mounts;
pub(crate) mod stage_state;
pub(crate) mod stages;
pub(crate) mod start;
