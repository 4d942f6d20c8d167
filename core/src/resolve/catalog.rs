//! The runtime catalog: which runtimes and versions exist, and the images that provide them.
//!
//! The data lives in `runtimes/*.toml`; the shipped files are compiled in so the binary works from
//! anywhere, and `--catalog FILE` (or `APPRUNNER_BUILD_CATALOG`) layers a file on top: a runtime it
//! names replaces the shipped one of that name whole (air-gapped mirrors, test images).

use chrono::NaiveDate;
use node_semver::Version;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

const SHIPPED: &[(&str, &str)] = &[
    (
        "runtimes/python.toml",
        include_str!("../../../runtimes/python.toml"),
    ),
    (
        "runtimes/nodejs.toml",
        include_str!("../../../runtimes/nodejs.toml"),
    ),
    (
        "runtimes/unsupported.toml",
        include_str!("../../../runtimes/unsupported.toml"),
    ),
];

pub const CATALOG_ENV: &str = "APPRUNNER_BUILD_CATALOG";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Python,
    Nodejs,
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Language::Python => "Python",
            Language::Nodejs => "Node.js",
        })
    }
}

/// App Runner's two build processes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BuildProcess {
    /// Commands run in the runtime image, which becomes the application image.
    Original,
    /// Build in a build image; copy only /app into a fresh runtime image where pre-run runs.
    Revised,
}

impl fmt::Display for BuildProcess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BuildProcess::Original => "original",
            BuildProcess::Revised => "revised",
        })
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuntimeToml {
    language: Language,
    build_process: BuildProcess,
    end_of_support: Option<String>,
    #[serde(default = "yes")]
    app_runner: bool,
    versions: Vec<VersionToml>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct VersionToml {
    version: String,
    image: String,
    build_image: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogToml {
    #[serde(default)]
    runtimes: BTreeMap<String, RuntimeToml>,
    #[serde(default)]
    unsupported: BTreeMap<String, String>,
}

/// One version of a runtime and its images.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuntimeVersion {
    #[serde(serialize_with = "crate::resolve::catalog::ser_version")]
    pub version: Version,
    pub image: String,
    pub build_image: String,
}

pub(crate) fn ser_version<S: serde::Serializer>(v: &Version, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

/// The inverse of [`ser_version`], for plans read back from JSON.
pub(crate) fn de_version<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Version, D::Error> {
    let text = String::deserialize(d)?;
    Version::parse(&text).map_err(serde::de::Error::custom)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Runtime {
    pub name: String,
    pub language: Language,
    pub build_process: BuildProcess,
    pub end_of_support: Option<NaiveDate>,
    /// False for runtimes this tool offers beyond App Runner's own.
    pub app_runner: bool,
    /// Sorted ascending.
    pub versions: Vec<RuntimeVersion>,
    /// Which catalog file defined it.
    pub defined_in: String,
}

impl Runtime {
    pub fn latest(&self) -> Option<&RuntimeVersion> {
        self.versions.last()
    }

    pub fn is_past_end_of_support(&self, today: NaiveDate) -> bool {
        self.end_of_support.is_some_and(|d| today >= d)
    }

    pub fn version_list(&self) -> String {
        self.versions
            .iter()
            .map(|v| v.version.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("cannot read runtime catalog {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("runtime catalog {path} is not valid: {message}")]
    Invalid { path: String, message: String },
}

#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub runtimes: BTreeMap<String, Runtime>,
    /// App Runner runtimes this tool does not build: name → description.
    pub unsupported: BTreeMap<String, String>,
}

impl Catalog {
    /// The catalog compiled into the binary.
    pub fn shipped() -> Self {
        let mut catalog = Catalog::default();
        for (name, text) in SHIPPED {
            catalog
                .add_text(name, text)
                .unwrap_or_else(|e| panic!("the shipped catalog is broken: {e}"));
        }
        catalog
    }

    /// The shipped catalog with each of `overlays` layered on top in order.
    pub fn load(overlays: &[PathBuf]) -> Result<Self, CatalogError> {
        let mut catalog = Self::shipped();
        for path in overlays {
            catalog.add_file(path)?;
        }
        Ok(catalog)
    }

    pub fn add_file(&mut self, path: &Path) -> Result<(), CatalogError> {
        let text = std::fs::read_to_string(path).map_err(|source| CatalogError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        self.add_text(&path.display().to_string(), &text)
    }

    pub fn add_text(&mut self, name: &str, text: &str) -> Result<(), CatalogError> {
        let invalid = |message: String| CatalogError::Invalid {
            path: name.to_string(),
            message,
        };
        let parsed: CatalogToml = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        for (rt_name, rt) in parsed.runtimes {
            let mut versions = Vec::new();
            for v in rt.versions {
                let version = Version::parse(&v.version).map_err(|e| {
                    invalid(format!("runtime {rt_name}: version `{}`: {e}", v.version))
                })?;
                versions.push(RuntimeVersion {
                    version,
                    build_image: v.build_image.unwrap_or_else(|| v.image.clone()),
                    image: v.image,
                });
            }
            if versions.is_empty() {
                return Err(invalid(format!("runtime {rt_name} lists no versions")));
            }
            versions.sort_by(|a, b| a.version.cmp(&b.version));
            let end_of_support = rt
                .end_of_support
                .map(|d| {
                    NaiveDate::parse_from_str(&d, "%Y-%m-%d").map_err(|e| {
                        invalid(format!("runtime {rt_name}: end_of_support `{d}`: {e}"))
                    })
                })
                .transpose()?;
            self.unsupported.remove(&rt_name);
            self.runtimes.insert(
                rt_name.clone(),
                Runtime {
                    name: rt_name,
                    language: rt.language,
                    build_process: rt.build_process,
                    end_of_support,
                    app_runner: rt.app_runner,
                    versions,
                    defined_in: name.to_string(),
                },
            );
        }
        self.unsupported.extend(parsed.unsupported);
        Ok(())
    }

    pub fn get(&self, name: &str) -> Option<&Runtime> {
        self.runtimes.get(name)
    }

    pub fn names(&self) -> Vec<&str> {
        self.runtimes.keys().map(String::as_str).collect()
    }

    pub fn of_language(&self, language: Language) -> impl Iterator<Item = &Runtime> {
        self.runtimes
            .values()
            .filter(move |r| r.language == language)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_catalog_has_app_runners_exact_versions() {
        let c = Catalog::shipped();
        let list = |n: &str| c.get(n).unwrap().version_list();
        assert_eq!(
            list("python3"),
            "3.7.10, 3.7.15, 3.7.16, 3.8.15, 3.8.16, 3.8.20"
        );
        assert_eq!(
            list("python311"),
            "3.11.7, 3.11.8, 3.11.9, 3.11.10, 3.11.11, 3.11.12, 3.11.13, 3.11.14"
        );
        assert_eq!(list("nodejs12"), "12.21.0, 12.22.12");
        assert_eq!(
            list("nodejs14"),
            "14.19.0, 14.20.1, 14.21.1, 14.21.2, 14.21.3"
        );
        assert_eq!(
            list("nodejs16"),
            "16.17.0, 16.17.1, 16.18.1, 16.19.0, 16.19.1, 16.20.0, 16.20.1, 16.20.2"
        );
        assert_eq!(
            list("nodejs18"),
            "18.19.0, 18.19.1, 18.20.2, 18.20.3, 18.20.4, 18.20.5, 18.20.6, 18.20.7, 18.20.8"
        );
        assert_eq!(
            list("nodejs22"),
            "22.14.0, 22.16.0, 22.17.0, 22.20.0, 22.21.1"
        );
        for ext in ["python312", "python313", "nodejs20", "nodejs24"] {
            assert!(!c.get(ext).unwrap().app_runner, "{ext} is an extension");
        }
        for original in ["python3", "nodejs12", "nodejs14", "nodejs16"] {
            assert_eq!(
                c.get(original).unwrap().build_process,
                BuildProcess::Original
            );
        }
        for revised in ["python311", "nodejs18", "nodejs22"] {
            assert_eq!(c.get(revised).unwrap().build_process, BuildProcess::Revised);
        }
        // The original build runs the build commands in the runtime image too: full images there.
        assert_eq!(
            c.get("python3").unwrap().latest().unwrap().image,
            "python:3.8.20"
        );
        assert_eq!(
            c.get("python311").unwrap().latest().unwrap().image,
            "python:3.11.14-slim"
        );
        assert!(c.unsupported.contains_key("dotnet6"));
    }

    #[test]
    fn an_overlay_replaces_a_runtime_whole_and_adds_new_ones() {
        let mut c = Catalog::shipped();
        c.add_text(
            "test.toml",
            r#"
[runtimes.python311]
language = "python"
build_process = "revised"
versions = [{ version = "3.11.2", image = "local/python:3.11" }]
[runtimes.go1]
language = "python"
build_process = "original"
versions = [{ version = "1.0.0", image = "x" }]
"#,
        )
        .unwrap();
        let py = c.get("python311").unwrap();
        assert_eq!(py.version_list(), "3.11.2");
        assert_eq!(py.versions[0].build_image, "local/python:3.11");
        assert_eq!(py.defined_in, "test.toml");
        assert!(!c.unsupported.contains_key("go1"));
    }

    #[test]
    fn a_broken_overlay_says_which_file_and_what() {
        let mut c = Catalog::default();
        let e = c
            .add_text(
                "bad.toml",
                "[runtimes.x]\nlanguage = \"cobol\"\nbuild_process = \"original\"\nversions = []\n",
            )
            .unwrap_err()
            .to_string();
        assert!(e.contains("bad.toml") && e.contains("cobol"), "{e}");
        let e = c
            .add_text("v.toml", "[runtimes.x]\nlanguage = \"python\"\nbuild_process = \"original\"\nversions = [{ version = \"three\", image = \"i\" }]\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("three"), "{e}");
    }
}
