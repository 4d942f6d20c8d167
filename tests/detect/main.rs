//! Projects without apprunner.yaml: what is derived, and from where (one fixture directory per
//! case, or a project written for the test), one topic a module.

#[path = "../support/mod.rs"]
mod support;

mod node_dev_dependencies;
mod node_package_managers;
mod node_start;
mod node_versions;
mod other_platforms;
mod python_managers;
mod python_start;
mod python_versions;
