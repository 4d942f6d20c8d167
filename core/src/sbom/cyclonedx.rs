//! The CycloneDX 1.5 document (through the `cyclonedx-bom` crate): the image as the subject,
//! each Python and npm package a library component with its purl and the path it was found at,
//! and the base's OS a component of its own whose components are its dpkg packages.

use super::packages::{Ecosystem, Found, OsRelease, Package};
use cyclonedx_bom::models::component::{
    Classification, ComponentEvidence, Occurrence, Occurrences,
};
use cyclonedx_bom::models::tool::{Tool, Tools};
use cyclonedx_bom::prelude::*;

/// The image the SBOM describes.
pub(super) struct Subject<'a> {
    pub name: &'a str,
    pub id: &'a str,
}

/// The document for `found` in the image `subject`, checked against the crate's 1.5 rules.
pub(super) fn document(subject: &Subject, found: &Found) -> Result<Bom, String> {
    let mut components = Vec::new();
    let mut os_packages = Vec::new();
    for package in &found.packages {
        match package.ecosystem {
            Ecosystem::Python | Ecosystem::Npm => components.push(library(package)?),
            Ecosystem::Deb => os_packages.push(deb(package, found.os.as_ref())?),
        }
    }
    if found.os.is_some() || !os_packages.is_empty() {
        let os = found.os.clone().unwrap_or_else(|| OsRelease {
            id: "debian".into(),
            version_id: None,
        });
        let mut component = Component::new(
            Classification::OperatingSystem,
            &os.id,
            os.version_id.as_deref().unwrap_or(""),
            Some(format!("os:{}", os.id)),
        );
        if os.version_id.is_none() {
            component.version = None;
        }
        if !os_packages.is_empty() {
            component.components = Some(Components(os_packages));
        }
        components.push(component);
    }
    let mut metadata = Metadata::new().map_err(|e| e.to_string())?;
    metadata.tools = Some(Tools::List(vec![Tool::new(
        "apprunner-build",
        "apprunner-build",
        env!("CARGO_PKG_VERSION"),
    )]));
    metadata.component = Some(Component::new(
        Classification::Container,
        subject.name,
        subject.id,
        Some("image".into()),
    ));
    let bom = Bom {
        spec_version: SpecVersion::V1_5,
        metadata: Some(metadata),
        components: Some(Components(components)),
        ..Bom::default()
    };
    let checked = bom.validate_version(SpecVersion::V1_5);
    if checked.has_errors() {
        return Err(format!(
            "the SBOM does not pass CycloneDX 1.5's rules: {checked:?}"
        ));
    }
    Ok(bom)
}

fn library(package: &Package) -> Result<Component, String> {
    let purl = match package.ecosystem {
        Ecosystem::Python => format!(
            "pkg:pypi/{}@{}",
            encode(&pypi_name(&package.name)),
            encode(&package.version)
        ),
        _ => {
            let name = match package.name.split_once('/') {
                Some((scope, name)) => format!("{}/{}", encode(scope), encode(name)),
                None => encode(&package.name),
            };
            format!("pkg:npm/{name}@{}", encode(&package.version))
        }
    };
    let mut component = Component::new(
        Classification::Library,
        &package.name,
        &package.version,
        // Paths are unique in the image; one package may be installed at several.
        Some(package.path.clone()),
    );
    component.purl = Some(purl.parse().map_err(|()| purl.clone())?);
    component.evidence = Some(ComponentEvidence {
        licenses: None,
        copyright: None,
        occurrences: Some(Occurrences(vec![Occurrence::new(&package.path)])),
        callstack: None,
        identity: None,
    });
    Ok(component)
}

fn deb(package: &Package, os: Option<&OsRelease>) -> Result<Component, String> {
    let vendor = os.map(|o| o.id.as_str()).unwrap_or("debian");
    let mut qualifiers = Vec::new();
    if let Some(arch) = &package.arch {
        qualifiers.push(format!("arch={}", encode(arch)));
    }
    if let Some(version) = os.and_then(|o| o.version_id.as_deref()) {
        qualifiers.push(format!("distro={}", encode(&format!("{vendor}-{version}"))));
    }
    let mut purl = format!(
        "pkg:deb/{}/{}@{}",
        encode(vendor),
        encode(&package.name),
        encode(&package.version)
    );
    if !qualifiers.is_empty() {
        purl = format!("{purl}?{}", qualifiers.join("&"));
    }
    let mut component = Component::new(
        Classification::Library,
        &package.name,
        &package.version,
        Some(purl.clone()),
    );
    component.purl = Some(purl.parse().map_err(|()| purl.clone())?);
    Ok(component)
}

/// PyPI's normalized name (PEP 503), as the purl spec wants for `pypi`.
fn pypi_name(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// A purl segment, percent-encoded but for the unreserved characters.
fn encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'-' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn package(ecosystem: Ecosystem, name: &str, version: &str, path: &str) -> Package {
        Package {
            ecosystem,
            name: name.into(),
            version: version.into(),
            path: path.into(),
            arch: Some("amd64".into()).filter(|_| ecosystem == Ecosystem::Deb),
        }
    }

    #[test]
    fn purls_are_the_spec_s_for_each_type_and_the_os_holds_its_packages() {
        let found = Found {
            packages: vec![
                package(Ecosystem::Python, "Zope.Interface", "6.0+local", "/sp/z"),
                package(
                    Ecosystem::Npm,
                    "@types/node",
                    "22.0.0",
                    "/app/node_modules/@types/node",
                ),
                package(
                    Ecosystem::Deb,
                    "libc6",
                    "1:2.36-9+deb12u1",
                    "/var/lib/dpkg/status",
                ),
            ],
            os: Some(OsRelease {
                id: "debian".into(),
                version_id: Some("12".into()),
            }),
            rpm_databases: vec![],
        };
        let bom = document(
            &Subject {
                name: "app:1",
                id: "sha256:ab",
            },
            &found,
        )
        .unwrap();
        let mut json = Vec::new();
        bom.output_as_json_v1_5(&mut json).unwrap();
        let json: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(json["specVersion"], "1.5");
        let c = &json["components"];
        assert_eq!(c[0]["purl"], "pkg:pypi/zope-interface@6.0%2Blocal");
        assert_eq!(c[0]["evidence"]["occurrences"][0]["location"], "/sp/z");
        assert_eq!(c[1]["purl"], "pkg:npm/%40types/node@22.0.0");
        assert_eq!(c[2]["type"], "operating-system");
        assert_eq!(
            c[2]["components"][0]["purl"],
            "pkg:deb/debian/libc6@1%3A2.36-9%2Bdeb12u1?arch=amd64&distro=debian-12"
        );
        assert_eq!(json["metadata"]["component"]["type"], "container");
    }
}
