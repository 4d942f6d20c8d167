//! apprunner.yaml as bytes: the checks made before YAML (encoding, BOM, emptiness, tabs), then
//! the reader and validator, then the rendering of every diagnostic, as `validate` shows them.
#![no_main]

use apprunner_build::input::config;
use apprunner_build::report::diagnostic::Diagnostics;
use apprunner_build::report::{errors, log};
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let found = match config::from_bytes(data.to_vec(), Path::new("apprunner.yaml")) {
        Ok(file) => {
            let parsed = config::parse(&file.source);
            let mut all = file.found;
            all.extend(parsed.diagnostics);
            all
        }
        Err(found) => found,
    };
    show(&found);
});

fn show(found: &Diagnostics) {
    let _ = errors::render_all(found);
    for d in found.iter() {
        let _ = log::diagnostic_json(d);
    }
}
