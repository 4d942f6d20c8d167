//! The saved plan `build --plan FILE` reads: the calls of the CLI's `read_plan` (JSON into a
//! `BuildPlan`, then its check). A plan that passes is written and read back unchanged, as
//! `plan --json` and `build --plan` do.
#![no_main]

use apprunner_build::plan::BuildPlan;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // read_plan reads the file as a string first.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(plan) = serde_json::from_str::<BuildPlan>(text) else {
        return;
    };
    if plan.check().is_err() {
        return;
    }
    let saved = serde_json::to_string_pretty(&plan).expect("a plan serialises");
    let again: BuildPlan = serde_json::from_str(&saved).expect("a saved plan reads back");
    assert_eq!(again, plan, "a plan changed on the way through its file");
    again.check().expect("a plan read back still checks");
});
