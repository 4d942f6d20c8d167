//! JSON values written as block YAML, for the Kubernetes and Cloud Run manifests. Every string is
//! written double-quoted with JSON's escapes (a valid YAML double-quoted scalar), so no value is
//! read back as a number, a boolean or a null.

use serde_json::Value;

/// `value` (a mapping) as a YAML document, after `comment` lines written as `# …`.
pub fn document(comment: &[String], value: &Value) -> String {
    let mut out = String::new();
    for line in comment {
        out.push_str(if line.is_empty() { "#" } else { "# " });
        out.push_str(line);
        out.push('\n');
    }
    write_value(&mut out, value, 0);
    out
}

fn write_value(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (key, v) in map {
                push_indent(out, indent);
                out.push_str(&key_text(key));
                out.push(':');
                write_child(out, v, indent + 2);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for item in items {
                push_indent(out, indent);
                out.push('-');
                match item {
                    // A mapping's first key goes on the dash's line.
                    Value::Object(map) if !map.is_empty() => {
                        let mut inner = String::new();
                        write_value(&mut inner, item, indent + 2);
                        out.push(' ');
                        out.push_str(inner.trim_start());
                    }
                    _ => write_child(out, item, indent + 2),
                }
            }
        }
        scalar => {
            push_indent(out, indent);
            out.push_str(&scalar_text(scalar));
            out.push('\n');
        }
    }
}

/// After `key:` or `-`: a scalar on the same line, a collection on the lines below.
fn write_child(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            write_value(out, value, indent);
        }
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            write_value(out, value, indent);
        }
        scalar => {
            out.push(' ');
            out.push_str(&scalar_text(scalar));
            out.push('\n');
        }
    }
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::Object(_) => "{}".into(),
        Value::Array(_) => "[]".into(),
        // JSON's string, number, bool and null forms are YAML's too.
        other => other.to_string(),
    }
}

/// Keys are written plain when YAML cannot read them as anything but that string.
fn key_text(key: &str) -> String {
    let plain = key.starts_with(|c: char| c.is_ascii_alphabetic())
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
        && !matches!(
            key.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "y" | "n"
        );
    if plain {
        key.to_string()
    } else {
        Value::String(key.to_string()).to_string()
    }
}

fn push_indent(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

#[cfg(test)]
mod tests {
    use super::document;
    use serde_json::json;

    #[test]
    fn writes_block_yaml() {
        let v = json!({
            "kind": "Service",
            "spec": {"ports": [{"port": 80, "name": "http"}], "empty": [], "on": true},
            "args": ["/bin/sh", "-c", "echo \"hi\"\n"],
        });
        assert_eq!(
            document(&["made by a test".into()], &v),
            // serde_json's maps are sorted by key.
            "# made by a test\n\
             args:\n  - \"/bin/sh\"\n  - \"-c\"\n  - \"echo \\\"hi\\\"\\n\"\n\
             kind: \"Service\"\n\
             spec:\n  empty: []\n  \"on\": true\n  ports:\n    - name: \"http\"\n      port: 80\n"
        );
    }
}
