//! JSON as the tests read and edit it: the JSON log and saved plans.

/// Every line is a JSON object: (for stdout) with time, prefix, stream and text.
pub fn all_json(text: &str, what: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l)
                .unwrap_or_else(|e| panic!("{what}: not JSON ({e}): {l:?}\n{text}"))
        })
        .collect()
}

/// `patch` written over `value`, object by object (a JSON merge patch without deletions).
pub fn merge(value: &mut serde_json::Value, patch: &serde_json::Value) {
    match (value, patch) {
        (serde_json::Value::Object(v), serde_json::Value::Object(p)) => {
            for (k, pv) in p {
                merge(v.entry(k.clone()).or_insert(serde_json::Value::Null), pv);
            }
        }
        (v, p) => *v = p.clone(),
    }
}
