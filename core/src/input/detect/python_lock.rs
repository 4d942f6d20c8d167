//! The wheels a Python lockfile lists, for resolution to choose a runtime they install on
//! ([`crate::resolve::wheels`]). Only lockfiles that name files do: `uv.lock` (`wheels = [{ url =
//! "…/NAME-VER-TAGS.whl" }]`, or `path`/`filename` for local and other indexes) and `poetry.lock`
//! (`files = [{ file = "NAME-VER-TAGS.whl" }]`, or before lock format 2.0 the `[metadata.files]`
//! table). Pipfile.lock holds hashes only. Nothing is downloaded: the names are all there is.

use super::python_project::read_toml;
use crate::input::files::ProjectFiles;
use crate::report::diagnostic::Diagnostic;
use crate::resolve::wheels::{LockTool, LockedPackage, LockedWheels, WheelTags};
use std::path::Path;

/// A lockfile lists every file of every locked release: a large project's runs to megabytes, far
/// from this.
const LOCKFILE_CAP: u64 = 32 * 1024 * 1024;

/// The wheels that `tool`'s lockfile at `root` lists; `Ok(None)` when there is no such file. A
/// lockfile that may not be read, or is not TOML, is an error, as the install would fail on it too.
pub(super) fn locked_wheels(
    project: &ProjectFiles,
    shown_root: &Path,
    tool: LockTool,
) -> Result<Option<LockedWheels>, Diagnostic> {
    let name = match tool {
        LockTool::Uv => "uv.lock",
        LockTool::Poetry => "poetry.lock",
    };
    let Some(lock) = read_toml(project, shown_root, name, LOCKFILE_CAP)? else {
        return Ok(None);
    };
    let packages = match tool {
        LockTool::Uv => uv_packages(&lock),
        LockTool::Poetry => poetry_packages(&lock),
    };
    Ok(Some(LockedWheels {
        lockfile: shown_root.join(name),
        tool,
        packages,
    }))
}

/// uv.lock's `[[package]]` entries: each wheel is a table with a `url` (an index), a `path` (a
/// local directory or file) or a `filename` (with `path`, for `--find-links`).
fn uv_packages(lock: &toml::Table) -> Vec<LockedPackage> {
    packages(lock)
        .map(|(name, version, package)| {
            let wheels = array_of_tables(package, "wheels")
                .filter_map(|wheel| {
                    ["filename", "url", "path"]
                        .iter()
                        .find_map(|key| wheel.get(*key)?.as_str())
                })
                .filter_map(|location| WheelTags::from_file_name(file_name(location)))
                .collect();
            LockedPackage {
                name,
                version,
                wheels,
            }
        })
        .collect()
}

/// poetry.lock's `[[package]]` entries with their `files`; a lockfile from before format 2.0 lists
/// the files in `[metadata.files]`, by package name.
fn poetry_packages(lock: &toml::Table) -> Vec<LockedPackage> {
    let metadata_files = lock
        .get("metadata")
        .and_then(|m| m.get("files"))
        .and_then(|f| f.as_table());
    packages(lock)
        .map(|(name, version, package)| {
            let files: Vec<&toml::Table> = match package.get("files") {
                Some(_) => array_of_tables(package, "files").collect(),
                None => metadata_files
                    .and_then(|files| files.get(&name))
                    .and_then(|list| list.as_array())
                    .map(|list| list.iter().filter_map(|f| f.as_table()).collect())
                    .unwrap_or_default(),
            };
            let wheels = files
                .iter()
                .filter_map(|f| f.get("file")?.as_str())
                .filter_map(|file| WheelTags::from_file_name(file_name(file)))
                .collect();
            LockedPackage {
                name,
                version,
                wheels,
            }
        })
        .collect()
}

/// Every `[[package]]` with a name: its name, version (empty when not given: a source tree) and
/// table. Entries of another shape are skipped; they name no wheels.
fn packages(lock: &toml::Table) -> impl Iterator<Item = (String, String, &toml::Table)> {
    lock.get("package")
        .and_then(|p| p.as_array())
        .into_iter()
        .flatten()
        .filter_map(|p| p.as_table())
        .filter_map(|p| {
            let name = p.get("name")?.as_str()?.to_string();
            let version = p
                .get("version")
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string();
            Some((name, version, p))
        })
}

fn array_of_tables<'t>(table: &'t toml::Table, key: &str) -> impl Iterator<Item = &'t toml::Table> {
    table
        .get(key)
        .and_then(|v| v.as_array())
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_table())
}

/// The file name at the end of a URL or path, without a query or fragment (`#sha256=…`).
fn file_name(location: &str) -> &str {
    let location = location.split(['?', '#']).next().unwrap_or(location);
    location.rsplit(['/', '\\']).next().unwrap_or(location)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::wheels::CPython;

    const PY313: CPython = CPython {
        major: 3,
        minor: 13,
    };
    const PY314: CPython = CPython {
        major: 3,
        minor: 14,
    };

    fn parse(text: &str) -> toml::Table {
        text.parse().unwrap()
    }

    fn lock(tool: LockTool, packages: Vec<LockedPackage>) -> LockedWheels {
        LockedWheels {
            lockfile: match tool {
                LockTool::Uv => "uv.lock".into(),
                LockTool::Poetry => "poetry.lock".into(),
            },
            tool,
            packages,
        }
    }

    #[test]
    fn uv_wheels_by_url_path_or_filename() {
        let packages = uv_packages(&parse(
            r#"
version = 1

[[package]]
name = "app"
version = "0.1.0"
source = { virtual = "." }

[[package]]
name = "local-core"
version = "1.0"
source = { path = "wheels/local_core-1.0-cp313-cp313-linux_x86_64.whl" }
wheels = [
    { path = "wheels/local_core-1.0-cp313-cp313-linux_x86_64.whl" },
]

[[package]]
name = "found"
version = "2.0"
source = { registry = "wheels" }
wheels = [
    { path = "found-2.0-cp313-cp313-manylinux_2_17_x86_64.whl", filename = "found-2.0-cp313-cp313-manylinux_2_17_x86_64.whl" },
]

[[package]]
name = "hashed"
version = "3.0"
source = { registry = "https://example.test/simple" }
wheels = [
    { url = "https://example.test/files/hashed-3.0-cp313-abi3-manylinux2014_x86_64.whl#sha256=00" },
]
"#,
        ));
        let counts: Vec<(&str, usize)> = packages
            .iter()
            .map(|p| (p.name.as_str(), p.wheels.len()))
            .collect();
        assert_eq!(
            counts,
            [("app", 0), ("local-core", 1), ("found", 1), ("hashed", 1)]
        );
        let locked = lock(LockTool::Uv, packages);
        assert_eq!(locked.missing_for(PY313), None);
        assert_eq!(
            locked.missing_for(PY314).unwrap().to_string(),
            "uv.lock has no cp314 wheel for local-core 1.0 and 1 other package"
        );
    }

    #[test]
    fn poetry_files_in_each_package_or_in_metadata_files() {
        let current = poetry_packages(&parse(
            r#"
[[package]]
name = "orjson"
version = "3.10.7"
optional = false
python-versions = ">=3.8"
files = [
    {file = "orjson-3.10.7-cp313-cp313-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", hash = "sha256:00"},
    {file = "orjson-3.10.7.tar.gz", hash = "sha256:00"},
]

[metadata]
lock-version = "2.0"
"#,
        ));
        assert_eq!(current[0].wheels.len(), 1, "the sdist is no wheel");
        let old = poetry_packages(&parse(
            r#"
[[package]]
name = "orjson"
version = "3.10.7"
category = "main"
optional = false
python-versions = ">=3.8"

[metadata]
lock-version = "1.1"

[metadata.files]
orjson = [
    {file = "orjson-3.10.7-cp313-cp313-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", hash = "sha256:00"},
    {file = "orjson-3.10.7.tar.gz", hash = "sha256:00"},
]
"#,
        ));
        assert_eq!(old, current);
        assert_eq!(
            lock(LockTool::Poetry, old)
                .missing_for(PY314)
                .unwrap()
                .to_string(),
            "poetry.lock has no cp314 wheel for orjson 3.10.7"
        );
    }

    #[test]
    fn file_names_at_the_end_of_urls_and_paths() {
        assert_eq!(
            file_name("https://h/p/x-1-py3-none-any.whl"),
            "x-1-py3-none-any.whl"
        );
        assert_eq!(
            file_name("https://h/x-1-py3-none-any.whl?a=b#c"),
            "x-1-py3-none-any.whl"
        );
        assert_eq!(
            file_name(r"wheels\x-1-py3-none-any.whl"),
            "x-1-py3-none-any.whl"
        );
        assert_eq!(file_name("x-1-py3-none-any.whl"), "x-1-py3-none-any.whl");
    }
}
