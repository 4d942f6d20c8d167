//! The packages found in the image's files: Python distributions (`*.dist-info/METADATA` under
//! a `site-packages` or `dist-packages` directory), npm packages (the `package.json` at the top
//! of each `node_modules/NAME` or `node_modules/@SCOPE/NAME`, with a name and a version), and the
//! OS packages dpkg's status file lists as installed, with the OS `os-release` names.

use std::collections::BTreeMap;

pub(super) const DPKG_STATUS: &str = "var/lib/dpkg/status";
const OS_RELEASE: [&str; 2] = ["etc/os-release", "usr/lib/os-release"];
/// rpm's databases (Amazon Linux 2023's sqlite, Amazon Linux 2's BerkeleyDB): found, not read.
pub(super) const RPM_DATABASES: [&str; 2] = ["var/lib/rpm/rpmdb.sqlite", "var/lib/rpm/Packages"];

/// Which ecosystem a package is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Ecosystem {
    Python,
    Npm,
    Deb,
}

/// A package found in the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    pub ecosystem: Ecosystem,
    pub name: String,
    pub version: String,
    /// Where it was found, absolute in the image (a dpkg package: the status file).
    pub path: String,
    /// dpkg's architecture, for its purl.
    pub arch: Option<String>,
}

/// The image's operating system, from `os-release`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OsRelease {
    pub id: String,
    pub version_id: Option<String>,
}

/// The files [`found`] reads: given to the layer scan so that only they are kept.
pub(super) fn wanted(path: &str) -> bool {
    path == DPKG_STATUS
        || OS_RELEASE.contains(&path)
        || RPM_DATABASES.contains(&path)
        || python_metadata(path)
        || npm_manifest(path).is_some()
}

fn python_metadata(path: &str) -> bool {
    let mut parts = path.rsplit('/');
    parts.next() == Some("METADATA")
        && parts.next().is_some_and(|d| d.ends_with(".dist-info"))
        && parts
            .next()
            .is_some_and(|d| d == "site-packages" || d == "dist-packages")
}

/// The package directory's name (`name` or `@scope/name`) when `path` is its `package.json`.
fn npm_manifest(path: &str) -> Option<String> {
    let dir = path.strip_suffix("/package.json")?;
    let mut parts = dir.rsplit('/');
    let last = parts.next()?;
    match parts.next()? {
        "node_modules" if !last.starts_with('@') && !last.starts_with('.') => {
            Some(last.to_string())
        }
        scope if scope.starts_with('@') && parts.next()? == "node_modules" => {
            Some(format!("{scope}/{last}"))
        }
        _ => None,
    }
}

/// What the image's files hold: its packages (sorted by ecosystem, then path), its OS, and
/// which rpm databases it has.
#[derive(Debug, Default)]
pub struct Found {
    pub packages: Vec<Package>,
    pub os: Option<OsRelease>,
    pub rpm_databases: Vec<String>,
}

pub(super) fn found(files: &BTreeMap<String, Vec<u8>>) -> Found {
    let mut out = Found::default();
    for (path, content) in files {
        let text = String::from_utf8_lossy(content);
        let at = format!("/{path}");
        if path == DPKG_STATUS {
            out.packages.extend(dpkg(&text, &at));
        } else if OS_RELEASE.contains(&path.as_str()) {
            // etc/ sorts before usr/: /etc/os-release wins, as systemd reads it.
            if out.os.is_none() {
                out.os = os_release(&text);
            }
        } else if RPM_DATABASES.contains(&path.as_str()) {
            out.rpm_databases.push(at);
        } else if python_metadata(path) {
            out.packages.extend(python(&text, &at));
        } else if npm_manifest(path).is_some() {
            out.packages.extend(npm(content, &at));
        }
    }
    out.packages
        .sort_by(|a, b| (a.ecosystem, &a.path, &a.name).cmp(&(b.ecosystem, &b.path, &b.name)));
    out
}

/// `Name` and `Version` of a distribution's METADATA (email headers, up to the first blank line).
fn python(text: &str, path: &str) -> Option<Package> {
    let mut name = None;
    let mut version = None;
    for line in text.lines().take_while(|l| !l.trim().is_empty()) {
        if let Some(v) = line.strip_prefix("Name:") {
            name.get_or_insert(v.trim().to_string());
        } else if let Some(v) = line.strip_prefix("Version:") {
            version.get_or_insert(v.trim().to_string());
        }
    }
    Some(Package {
        ecosystem: Ecosystem::Python,
        name: name.filter(|n| !n.is_empty())?,
        version: version.filter(|v| !v.is_empty())?,
        path: path.to_string(),
        arch: None,
    })
}

fn npm(content: &[u8], path: &str) -> Option<Package> {
    #[derive(serde::Deserialize)]
    struct Manifest {
        name: Option<serde_json::Value>,
        version: Option<serde_json::Value>,
    }
    let manifest: Manifest = serde_json::from_slice(content).ok()?;
    let text = |v: Option<serde_json::Value>| match v {
        Some(serde_json::Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
        _ => None,
    };
    Some(Package {
        ecosystem: Ecosystem::Npm,
        name: text(manifest.name)?,
        version: text(manifest.version)?,
        path: path.trim_end_matches("/package.json").to_string(),
        arch: None,
    })
}

/// The packages dpkg's status file lists as installed (`Status: install ok installed`).
fn dpkg(text: &str, path: &str) -> Vec<Package> {
    let mut out = Vec::new();
    for paragraph in text.split("\n\n") {
        let field = |name: &str| {
            paragraph.lines().find_map(|l| {
                l.strip_prefix(name)
                    .and_then(|rest| rest.strip_prefix(':'))
                    .map(|v| v.trim().to_string())
            })
        };
        let installed = field("Status").is_some_and(|s| s.ends_with(" installed"));
        if let (true, Some(name), Some(version)) = (installed, field("Package"), field("Version")) {
            out.push(Package {
                ecosystem: Ecosystem::Deb,
                name,
                version,
                path: path.to_string(),
                arch: field("Architecture"),
            });
        }
    }
    out
}

fn os_release(text: &str) -> Option<OsRelease> {
    let value = |key: &str| {
        text.lines().find_map(|l| {
            l.strip_prefix(key)
                .and_then(|rest| rest.strip_prefix('='))
                .map(|v| v.trim().trim_matches(|c| c == '"' || c == '\'').to_string())
        })
    };
    Some(OsRelease {
        id: value("ID").filter(|id| !id.is_empty())?,
        version_id: value("VERSION_ID"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wanted_files_are_metadata_top_level_package_json_and_the_os_databases() {
        let yes = [
            "app/.venv/lib/python3.11/site-packages/pyramid-2.0.dist-info/METADATA",
            "usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA",
            "app/node_modules/express/package.json",
            "app/node_modules/@types/node/package.json",
            "app/node_modules/a/node_modules/b/package.json",
            "var/lib/dpkg/status",
            "var/lib/rpm/rpmdb.sqlite",
            "etc/os-release",
        ];
        let no = [
            "app/node_modules/express/lib/package.json",
            "app/node_modules/.bin/package.json",
            "app/package.json",
            "app/pyramid-2.0.dist-info/METADATA",
            "var/lib/dpkg/status-old",
        ];
        for path in yes {
            assert!(wanted(path), "{path}");
        }
        for path in no {
            assert!(!wanted(path), "{path}");
        }
    }

    #[test]
    fn each_format_gives_its_packages() {
        let mut files = BTreeMap::new();
        let mut put = |path: &str, text: &str| files.insert(path.to_string(), text.into());
        put(
            "sp/site-packages/WebOb-1.8.dist-info/METADATA",
            "Metadata-Version: 2.1\nName: WebOb\nVersion: 1.8.7\n\nName: not a header\n",
        );
        put(
            "app/node_modules/@scope/pkg/package.json",
            r#"{"name": "@scope/pkg", "version": "1.2.3"}"#,
        );
        put(
            "app/node_modules/nameless/package.json",
            r#"{"version": "1"}"#,
        );
        put(
            DPKG_STATUS,
            "Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2.36-9\n\nPackage: gone\nStatus: deinstall ok config-files\nVersion: 1\n",
        );
        put(
            "etc/os-release",
            "NAME=\"Debian\"\nID=debian\nVERSION_ID=\"12\"\n",
        );
        put("var/lib/rpm/Packages", "");
        let found = found(&files);
        let got: Vec<_> = found
            .packages
            .iter()
            .map(|p| {
                (
                    p.ecosystem,
                    p.name.as_str(),
                    p.version.as_str(),
                    p.path.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    Ecosystem::Python,
                    "WebOb",
                    "1.8.7",
                    "/sp/site-packages/WebOb-1.8.dist-info/METADATA"
                ),
                (
                    Ecosystem::Npm,
                    "@scope/pkg",
                    "1.2.3",
                    "/app/node_modules/@scope/pkg"
                ),
                (Ecosystem::Deb, "libc6", "2.36-9", "/var/lib/dpkg/status"),
            ]
        );
        assert_eq!(found.packages[2].arch.as_deref(), Some("amd64"));
        let os = found.os.unwrap();
        assert_eq!(
            (os.id.as_str(), os.version_id.as_deref()),
            ("debian", Some("12"))
        );
        assert_eq!(found.rpm_databases, ["/var/lib/rpm/Packages"]);
    }
}
