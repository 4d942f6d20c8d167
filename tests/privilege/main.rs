//! Least privilege, nothing leaked (issue 17 §5 and §4): build containers are confined whatever the
//! options and never get the engine's socket; limits on memory and time fail a build plainly;
//! `--network host` and images that run as root are said; `--user` is a step of the plan; and the
//! final image holds nothing of the machine that built it. The engine tests run with
//! scripts/test.sh (they need the fixture images). One topic a module.

#[path = "../support/mod.rs"]
mod support;

mod confinement;
mod image_contents;
mod limits;
mod plan_and_flags;
