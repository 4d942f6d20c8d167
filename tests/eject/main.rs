//! `plan --dockerfile` (leaving apprunner-build): the Dockerfile and `.dockerignore` it writes,
//! read as text (`rendering`), and built by Docker's classic builder next to our own build of the
//! same plan (`same_app`: the same `/app`, the same answer). Run the engine half with
//! scripts/test.sh: `scripts/test.sh --test eject`.

#[path = "../support/mod.rs"]
mod support;

mod classic;
mod rendering;
mod same_app;
