//! What an image's export (`docker save`) holds: strings looked for in its config, history, labels
//! and in the files of its layers.

use std::path::Path;

/// Whether `needle` occurs in `hay` as a whole word: not inside a longer name.
pub fn has_word(hay: &[u8], needle: &[u8]) -> bool {
    let part = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-';
    hay.windows(needle.len()).enumerate().any(|(i, w)| {
        w == needle
            && (i == 0 || !part(hay[i - 1]))
            && hay.get(i + needle.len()).is_none_or(|b| !part(*b))
    })
}

pub fn has(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// What must not be in the image, and how it is looked for.
pub struct Needle {
    pub what: String,
    pub bytes: Vec<u8>,
    /// Matched as a whole word (names), else anywhere.
    pub word: bool,
    /// Looked for in file contents too (a short host name would match words in packages' files:
    /// it is looked for in names, headers, config and history only).
    pub in_contents: bool,
}

impl Needle {
    pub fn found_in(&self, hay: &[u8]) -> bool {
        if self.word {
            has_word(hay, &self.bytes)
        } else {
            has(hay, &self.bytes)
        }
    }
}

/// Where each needle was found in the image's export: the config, history and labels (all of the
/// image), and the names, headers and contents of the files in every layer the build added (the
/// runtime image's own layers are the base's: they hold the base's own CA bundle). The export's
/// manifest.json names each layer's file and the config, whose `rootfs.diff_ids` say which layers
/// are the base's.
pub fn search_export(export: &Path, base_layers: &[String], needles: &[Needle]) -> Vec<String> {
    use std::io::Read;
    fn each_entry(export: &Path, mut visit: impl FnMut(&str, &mut dyn Read)) {
        let mut outer = tar::Archive::new(std::fs::File::open(export).unwrap());
        for entry in outer.entries().unwrap() {
            let mut entry = entry.unwrap();
            if entry.header().entry_type() != tar::EntryType::Regular {
                continue;
            }
            let name = entry.path().unwrap().display().to_string();
            visit(&name, &mut entry);
        }
    }
    let entries = |visit: &mut dyn FnMut(&str, &mut dyn Read)| each_entry(export, visit);
    let read_all = |r: &mut dyn Read| {
        let mut bytes = Vec::new();
        r.read_to_end(&mut bytes).unwrap();
        bytes
    };
    // Pass 1: which layer files are the build's.
    let mut manifest: Option<serde_json::Value> = None;
    entries(&mut |name, r| {
        if name == "manifest.json" {
            manifest = Some(serde_json::from_slice(&read_all(r)).unwrap());
        }
    });
    let manifest = manifest.expect("the export has a manifest.json");
    let config_path = manifest[0]["Config"].as_str().unwrap().to_string();
    let layer_paths: Vec<String> = manifest[0]["Layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_string())
        .collect();
    let mut config: Option<serde_json::Value> = None;
    entries(&mut |name, r| {
        if name == config_path {
            config = Some(serde_json::from_slice(&read_all(r)).unwrap());
        }
    });
    let config = config.expect("the export has the image's config");
    let diff_ids = config["rootfs"]["diff_ids"].as_array().unwrap().clone();
    assert_eq!(diff_ids.len(), layer_paths.len());
    let added: Vec<String> = layer_paths
        .iter()
        .zip(&diff_ids)
        .filter(|(_, id)| !base_layers.iter().any(|b| Some(b.as_str()) == id.as_str()))
        .map(|(p, _)| p.clone())
        .collect();
    assert!(added.len() >= 2, "the build added layers: {added:?}");

    // Pass 2: everything but the base's layers.
    let mut found = Vec::new();
    let mut searched = 0;
    entries(&mut |name, r| {
        let is_layer = layer_paths.iter().any(|p| p == name);
        if is_layer && !added.iter().any(|p| p == name) {
            return;
        }
        let bytes = read_all(r);
        if !is_layer {
            // manifest.json, the config (env, labels, history), each layer's json, VERSION.
            for n in needles {
                if n.found_in(&bytes) {
                    found.push(format!("{} in {name}", n.what));
                }
            }
            return;
        }
        searched += 1;
        let mut layer = tar::Archive::new(&bytes[..]);
        for file in layer.entries().unwrap() {
            let mut file = file.unwrap();
            let path = String::from_utf8_lossy(&file.path_bytes()).into_owned();
            let header = file.header().clone();
            let mut fields: Vec<u8> = file.path_bytes().to_vec();
            fields.push(b'\n');
            fields.extend(
                file.link_name_bytes()
                    .map(|l| l.to_vec())
                    .unwrap_or_default(),
            );
            fields.push(b'\n');
            fields.extend(header.username_bytes().unwrap_or_default());
            fields.push(b'\n');
            fields.extend(header.groupname_bytes().unwrap_or_default());
            for n in needles {
                if n.found_in(&fields) {
                    found.push(format!(
                        "{} in the name or header of {path} ({name})",
                        n.what
                    ));
                }
            }
            let contents = read_all(&mut file);
            for n in needles.iter().filter(|n| n.in_contents) {
                if n.found_in(&contents) {
                    found.push(format!("{} in {path} ({name})", n.what));
                }
            }
        }
    });
    assert_eq!(searched, added.len(), "every added layer was searched");
    found
}
