//! The image: layers written without a container, their config, names and tags. Nothing here
//! starts a container.

pub(crate) mod config;
pub(crate) mod diff;
pub(crate) mod direct;
pub mod held;
pub(crate) mod layer;
pub mod name;
pub(crate) mod oci_layout;
pub(crate) mod rebase;
pub(crate) mod tagging;
pub(crate) mod written;
