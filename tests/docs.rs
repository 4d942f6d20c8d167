//! The README tells the truth about codes and layout: every message code and exit code in the
//! source is listed, and the layout section names every module of the pipeline.

use apprunner_build::report::exit;
use std::path::Path;

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap()
}

fn sources(dir: &Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(std::fs::read_to_string(path).unwrap());
        }
    }
}

#[test]
fn every_message_code_is_in_the_readme() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut texts = Vec::new();
    sources(&root.join("core/src"), &mut texts);
    sources(&root.join("src"), &mut texts);
    let mut codes: Vec<String> = texts
        .iter()
        .flat_map(|t| {
            t.match_indices("Code(\"AR")
                .map(move |(i, _)| t[i + 6..i + 11].to_string())
        })
        .collect();
    codes.sort();
    let count = codes.len();
    codes.dedup();
    assert_eq!(codes.len(), count, "every code is defined once");
    assert!(codes.len() > 50, "found {} codes", codes.len());
    let readme = readme();
    let missing: Vec<&String> = codes
        .iter()
        .filter(|c| !readme.contains(&format!("`{c}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "codes missing from README.md: {missing:?}"
    );
}

#[test]
fn every_exit_code_is_in_the_readme() {
    let readme = readme();
    for (name, code) in exit::ALL {
        assert!(
            readme.contains(&format!("| {code} | `{name}` |")),
            "exit code {code} ({name}) is not in README.md's table"
        );
    }
}

#[test]
fn the_layout_section_names_every_module() {
    let readme = readme();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("core/src");
    for entry in std::fs::read_dir(&root).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if name == "lib.rs" {
            continue;
        }
        let shown = format!("core/src/{}", name.trim_end_matches(".rs"));
        assert!(
            readme.contains(&shown),
            "README.md's layout does not name {shown}"
        );
    }
}
