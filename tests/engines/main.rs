//! The engines the tool is tested on, each with real builds: the machine's Docker 20.10 (the
//! default socket), and Docker 26 with classic overlay2 and with the containerd image store
//! (`scripts/start-engine26.sh`; `scripts/test.sh` starts both and names them in
//! `APPRUNNER_TEST_ENGINE26_CLASSIC` and `APPRUNNER_TEST_ENGINE26_CONTAINERD`).
//!
//! `two_builds`: on each engine, the guide's example, the Express fixture and a Django app are
//! built twice from scratch; both answer over HTTP and both have the same `/app` tree and the same
//! config. `restart`: the engine restarts mid-build (on Docker 26 classic, which only these tests
//! use): the build says so, and the next build sweeps what it left.
//!
//! `tls`: the machine's engine behind a TLS front that verifies client certificates
//! (`DOCKER_TLS_VERIFY`, `DOCKER_CERT_PATH`). `contexts`: Docker contexts (`currentContext`,
//! `DOCKER_CONTEXT`) pointing at Docker 26 and at the machine's engine.
//!
//! `reproducible`: with `SOURCE_DATE_EPOCH`, one source gives one manifest digest on all three.
//!
//! Run with scripts/test.sh; `scripts/test.sh --test engines -- two_builds::` runs one topic.

#[path = "../support/mod.rs"]
mod support;

mod contexts;
mod engine;
mod reproducible;
mod restart;
mod tls;
mod two_builds;
