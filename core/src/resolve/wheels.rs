//! The wheels a Python lockfile pins, as a requirement on the runtime: which CPython versions can
//! install every locked package from a wheel rather than build it from source.
//!
//! A lockfile resolved for `requires-python = ">=3.12"` may pin a release whose wheels stop at an
//! older CPython than the newest runtime (pydantic-core 2.20.1 has wheels up to cp313): on
//! python314 the install would compile it (with Rust, for pydantic-core) and most likely fail.
//! Input reads the file names out of `uv.lock` or `poetry.lock` ([`LockedWheels`]); resolution asks
//! [`LockedWheels::missing_for`] of each candidate runtime. Nothing here reads files or asks an
//! index: the lockfile already names every file the install may download.
//!
//! Compatibility is judged for the images the catalog names: CPython on Debian (glibc 2.36 at the
//! oldest) on x86_64, as pip and uv judge it there (PEP 425 tags, PEP 600 `manylinux_2_N`).

use std::fmt;
use std::path::PathBuf;

/// The glibc of Debian bookworm (2.36), the oldest base of the extension runtimes' images: a
/// `manylinux_2_N` wheel with a larger N may not install on one of them, so it does not count.
/// Images on a newer Debian only install more; the bound errs towards an older Python, never
/// towards a build from source.
const GLIBC_MINOR: u32 = 36;

/// A CPython release line, `3.13`: what a wheel's tags are checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct CPython {
    pub major: u32,
    pub minor: u32,
}

impl CPython {
    /// The interpreter tag of this line, `cp313`, as wheels and messages name it.
    pub fn tag(self) -> String {
        format!("cp{}{}", self.major, self.minor)
    }
}

/// A wheel's python tag (PEP 425): the interpreter it is for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum PythonTag {
    /// `cp313`: CPython 3.13 only (with its own ABI), or from 3.13 on (with `abi3`).
    CPython { major: u32, minor: u32 },
    /// `py3`, `py2`, `py310`: any implementation of that major, from that minor on.
    Generic { major: u32, minor: Option<u32> },
    /// PyPy (`pp310`), Jython, IronPython, anything else: never CPython.
    Other,
}

impl PythonTag {
    fn parse(tag: &str) -> Self {
        let digits = |rest: &str| -> Option<(u32, Option<u32>)> {
            let mut chars = rest.chars();
            let major = chars.next()?.to_digit(10)?;
            let minor = chars.as_str();
            if minor.is_empty() {
                return Some((major, None));
            }
            minor
                .chars()
                .all(|c| c.is_ascii_digit())
                .then(|| minor.parse().ok().map(|m| (major, Some(m))))?
        };
        if let Some(rest) = tag.strip_prefix("cp") {
            if let Some((major, Some(minor))) = digits(rest) {
                return PythonTag::CPython { major, minor };
            }
        } else if let Some(rest) = tag.strip_prefix("py") {
            if let Some((major, minor)) = digits(rest) {
                return PythonTag::Generic { major, minor };
            }
        }
        PythonTag::Other
    }
}

/// A wheel's ABI tag (PEP 425/PEP 384).
#[derive(Debug, Clone, PartialEq, Eq)]
enum AbiTag {
    /// `none`: no compiled extension, or one that uses no Python ABI.
    None,
    /// `abi3`: the stable ABI, for every CPython from the python tag's version on.
    Abi3,
    /// `cp313`, `cp37m`, `cp313t`: one CPython version's ABI, with its build flags (`t`:
    /// free-threaded, `m`: pymalloc before 3.8, `d`: debug).
    CPython {
        major: u32,
        minor: u32,
        flags: String,
    },
    Other,
}

impl AbiTag {
    fn parse(tag: &str) -> Self {
        match tag {
            "none" => return AbiTag::None,
            "abi3" => return AbiTag::Abi3,
            _ => {}
        }
        let Some(rest) = tag.strip_prefix("cp") else {
            return AbiTag::Other;
        };
        let digits_end = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let (digits, flags) = rest.split_at(digits_end);
        let mut chars = digits.chars();
        let (Some(major), minor) = (chars.next().and_then(|c| c.to_digit(10)), chars.as_str())
        else {
            return AbiTag::Other;
        };
        match minor.parse() {
            Ok(minor) => AbiTag::CPython {
                major,
                minor,
                flags: flags.to_string(),
            },
            Err(_) => AbiTag::Other,
        }
    }
}

/// A wheel's platform tag: only what decides Linux x86_64 with glibc is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
enum PlatformTag {
    /// `any`: pure Python.
    Any,
    /// `linux_x86_64`: built on some Linux, no promise about glibc (private indexes have them;
    /// pip and uv install them on Linux).
    LinuxX86_64,
    /// `manylinux1_x86_64`, `manylinux2010_x86_64`, `manylinux2014_x86_64`,
    /// `manylinux_2_N_x86_64`: needs glibc 2.`glibc_minor` or newer.
    Manylinux { glibc_minor: u32 },
    /// Another architecture or system: musllinux, macOS, Windows, aarch64, i686, …
    Other,
}

impl PlatformTag {
    fn parse(tag: &str) -> Self {
        let glibc_minor = match tag {
            "any" => return PlatformTag::Any,
            "linux_x86_64" => return PlatformTag::LinuxX86_64,
            // PEP 600's legacy aliases.
            "manylinux1_x86_64" => Some(5),
            "manylinux2010_x86_64" => Some(12),
            "manylinux2014_x86_64" => Some(17),
            _ => tag
                .strip_prefix("manylinux_2_")
                .and_then(|rest| rest.strip_suffix("_x86_64"))
                .and_then(|minor| minor.parse().ok()),
        };
        match glibc_minor {
            Some(glibc_minor) => PlatformTag::Manylinux { glibc_minor },
            None => PlatformTag::Other,
        }
    }

    /// Installs on the runtime images: Linux, x86_64, glibc 2.36.
    fn installs_here(&self) -> bool {
        match self {
            PlatformTag::Any | PlatformTag::LinuxX86_64 => true,
            PlatformTag::Manylinux { glibc_minor } => *glibc_minor <= GLIBC_MINOR,
            PlatformTag::Other => false,
        }
    }
}

/// The tags of one wheel file. Each part may be a compressed set (`cp312.cp313`,
/// `manylinux_2_17_x86_64.manylinux2014_x86_64`): the wheel supports every combination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WheelTags {
    python: Vec<PythonTag>,
    abi: Vec<AbiTag>,
    platform: Vec<PlatformTag>,
}

impl WheelTags {
    /// The tags of a wheel's file name, `NAME-VERSION[-BUILD]-PYTHON-ABI-PLATFORM.whl`; `None` for
    /// anything else (an sdist, a name that is not a wheel's).
    pub fn from_file_name(file_name: &str) -> Option<Self> {
        let stem = file_name.strip_suffix(".whl")?;
        // The name and version never hold `-` in a wheel's file name (PEP 427 escapes it as `_`),
        // so the tags are the last three fields, after a name, a version and an optional build tag.
        let fields: Vec<&str> = stem.split('-').collect();
        let [.., python, abi, platform] = fields[..] else {
            return None;
        };
        if !(5..=6).contains(&fields.len()) || fields.iter().any(|f| f.is_empty()) {
            return None;
        }
        let split = |set: &str| set.split('.').map(str::to_string).collect::<Vec<_>>();
        Some(Self {
            python: split(python).iter().map(|t| PythonTag::parse(t)).collect(),
            abi: split(abi).iter().map(|t| AbiTag::parse(t)).collect(),
            platform: split(platform)
                .iter()
                .map(|t| PlatformTag::parse(t))
                .collect(),
        })
    }

    /// Whether pip or uv would install this wheel on `python` in the runtime images.
    pub fn installs_on(&self, python: CPython) -> bool {
        self.platform.iter().any(PlatformTag::installs_here)
            && self
                .python
                .iter()
                .any(|p| self.abi.iter().any(|a| interpreter_fits(p, a, python)))
    }

    /// Whether this wheel is for Linux x86_64 with glibc and for some CPython 3: a package with no
    /// such wheel (`pywin32`, a macOS-only one) is either not installed here at all (its lockfile
    /// entry is behind a platform marker) or built from source on every runtime alike, so it says
    /// nothing about which runtime to choose.
    fn is_for_this_platform(&self) -> bool {
        self.platform.iter().any(PlatformTag::installs_here)
            && self.python.iter().any(|p| match p {
                PythonTag::CPython { major, .. } | PythonTag::Generic { major, .. } => *major == 3,
                PythonTag::Other => false,
            })
    }
}

/// One python/ABI tag pair against a CPython line.
fn interpreter_fits(python_tag: &PythonTag, abi: &AbiTag, python: CPython) -> bool {
    match (python_tag, abi) {
        // cp313-cp313 and cp313-none: that version only. Free-threaded (`cp313t`) and debug builds
        // are other interpreters; `m` was the default build's flag up to 3.7.
        (
            PythonTag::CPython { major, minor },
            AbiTag::CPython {
                major: am,
                minor: an,
                flags,
            },
        ) => {
            (*major, *minor) == (python.major, python.minor)
                && (*am, *an) == (python.major, python.minor)
                && (flags.is_empty() || (flags == "m" && python.minor <= 7))
        }
        (PythonTag::CPython { major, minor }, AbiTag::None) => {
            (*major, *minor) == (python.major, python.minor)
        }
        // cp38-abi3: every CPython from 3.8 on.
        (PythonTag::CPython { major, minor }, AbiTag::Abi3) => {
            *major == python.major && *minor <= python.minor
        }
        // py3-none, py2.py3-none, py38-none: pure Python from that version on.
        (PythonTag::Generic { major, minor }, AbiTag::None) => {
            *major == python.major && minor.is_none_or(|m| m <= python.minor)
        }
        _ => false,
    }
}

/// The tool whose lockfile it is: it says how to move one package.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockTool {
    Uv,
    Poetry,
}

impl LockTool {
    /// The command that locks `package` at its newest allowed release, installing nothing.
    pub fn upgrade_command(self, package: &str) -> String {
        match self {
            LockTool::Uv => format!("uv lock --upgrade-package {package}"),
            LockTool::Poetry => format!("poetry update --lock {package}"),
        }
    }

    /// The command that locks every package at its newest allowed release, installing nothing.
    pub fn upgrade_all_command(self) -> &'static str {
        match self {
            LockTool::Uv => "uv lock --upgrade",
            LockTool::Poetry => "poetry update --lock",
        }
    }
}

/// One `[[package]]` of a lockfile: its name, version and the wheels it lists (an sdist-only
/// package lists none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedPackage {
    pub name: String,
    pub version: String,
    pub wheels: Vec<WheelTags>,
}

/// Every package a lockfile pins with the wheels it may install from, in lockfile order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockedWheels {
    /// The lockfile as shown to the user (`uv.lock`).
    pub lockfile: PathBuf,
    pub tool: LockTool,
    pub packages: Vec<LockedPackage>,
}

/// The locked packages a CPython line has no wheel for: the first in lockfile order, and how many
/// more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingWheels {
    pub python: CPython,
    /// The package's name as locked.
    pub name: String,
    /// Every version the lockfile holds of it (uv locks one per resolution fork).
    pub versions: Vec<String>,
    pub others: usize,
    pub lockfile: PathBuf,
}

impl fmt::Display for MissingWheels {
    /// `uv.lock has no cp314 wheel for pydantic-core 2.20.1 and 2 other packages`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} has no {} wheel for {} {}",
            self.lockfile.display(),
            self.python.tag(),
            self.name,
            self.versions.join(" or ")
        )?;
        match self.others {
            0 => Ok(()),
            1 => write!(f, " and 1 other package"),
            n => write!(f, " and {n} other packages"),
        }
    }
}

impl LockedWheels {
    /// Whether any package counts: without one, the lockfile says nothing about the runtime.
    pub fn constrains(&self) -> bool {
        !self.counted().is_empty()
    }

    /// The packages that `python` has no wheel for, `None` when it has one for all. A package
    /// locked at several versions (uv's forks by Python version) needs a wheel in one of them.
    pub fn missing_for(&self, python: CPython) -> Option<MissingWheels> {
        let missing: Vec<Vec<&LockedPackage>> = self
            .counted()
            .into_iter()
            .filter(|versions| {
                !versions
                    .iter()
                    .any(|p| p.wheels.iter().any(|w| w.installs_on(python)))
            })
            .collect();
        let first = missing.first()?;
        Some(MissingWheels {
            python,
            name: first[0].name.clone(),
            versions: first.iter().map(|p| p.version.clone()).collect(),
            others: missing.len() - 1,
            lockfile: self.lockfile.clone(),
        })
    }

    /// The packages that count, grouped by normalized name in lockfile order: those with a wheel
    /// for Linux x86_64 and CPython 3 in some locked version. Packages without wheels (sdists,
    /// git or path sources, the project itself) and packages only for other systems do not.
    fn counted(&self) -> Vec<Vec<&LockedPackage>> {
        let mut groups: Vec<(String, Vec<&LockedPackage>)> = Vec::new();
        for package in &self.packages {
            let key = normalize(&package.name);
            match groups.iter_mut().find(|(k, _)| *k == key) {
                Some((_, versions)) => versions.push(package),
                None => groups.push((key, vec![package])),
            }
        }
        groups
            .into_iter()
            .map(|(_, versions)| versions)
            .filter(|versions| {
                versions
                    .iter()
                    .any(|p| p.wheels.iter().any(WheelTags::is_for_this_platform))
            })
            .collect()
    }
}

/// PEP 503: `Pydantic_Core` and `pydantic-core` are one package (lower case, runs of `-`, `_`,
/// `.` as one `-`).
pub(crate) fn normalize(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PY312: CPython = CPython {
        major: 3,
        minor: 12,
    };
    const PY313: CPython = CPython {
        major: 3,
        minor: 13,
    };
    const PY314: CPython = CPython {
        major: 3,
        minor: 14,
    };

    fn tags(name: &str) -> WheelTags {
        WheelTags::from_file_name(name).unwrap_or_else(|| panic!("{name} is a wheel"))
    }

    fn on(name: &str) -> Vec<u32> {
        (7..=14)
            .filter(|&minor| tags(name).installs_on(CPython { major: 3, minor }))
            .collect()
    }

    #[test]
    fn only_wheels_have_tags() {
        assert_eq!(
            WheelTags::from_file_name("pydantic_core-2.20.1.tar.gz"),
            None
        );
        assert_eq!(WheelTags::from_file_name("x-py3-none-any.zip"), None);
        assert_eq!(WheelTags::from_file_name("py3-none-any.whl"), None);
        assert_eq!(WheelTags::from_file_name("none-any.whl"), None);
        assert!(WheelTags::from_file_name("flask-3.1.0-py3-none-any.whl").is_some());
    }

    #[test]
    fn a_cpython_wheel_installs_on_its_own_version_only() {
        let name =
            "pydantic_core-2.20.1-cp313-cp313-manylinux_2_17_x86_64.manylinux2014_x86_64.whl";
        assert_eq!(on(name), [13]);
        assert!(tags(name).installs_on(PY313) && !tags(name).installs_on(PY314));
        // cp313-none: compiled without the Python ABI, still for 3.13 alone.
        assert_eq!(on("x-1.0-cp313-none-manylinux2014_x86_64.whl"), [13]);
        // Before 3.8 the default build's ABI was `m`.
        assert_eq!(on("x-1.0-cp37-cp37m-manylinux1_x86_64.whl"), [7]);
    }

    #[test]
    fn compressed_tag_sets_support_every_combination() {
        assert_eq!(
            on("x-1.0-cp312.cp313-cp312.cp313-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"),
            [12, 13]
        );
        // A platform set where only one member fits still fits.
        assert_eq!(
            on("x-1.0-cp312-cp312-macosx_11_0_arm64.manylinux_2_28_x86_64.whl"),
            [12]
        );
    }

    #[test]
    fn abi3_covers_every_later_cpython() {
        assert_eq!(
            on("cryptography-43.0.0-cp39-abi3-manylinux_2_28_x86_64.whl"),
            [9, 10, 11, 12, 13, 14]
        );
        assert!(tags("x-1.0-cp312-abi3-manylinux2014_x86_64.whl").installs_on(PY312));
    }

    #[test]
    fn free_threaded_and_debug_builds_are_other_interpreters() {
        assert!(on("x-1.0-cp313-cp313t-manylinux_2_17_x86_64.whl").is_empty());
        assert!(on("x-1.0-cp314-cp314t-manylinux_2_17_x86_64.whl").is_empty());
        assert!(on("x-1.0-cp313-cp313d-manylinux_2_17_x86_64.whl").is_empty());
    }

    #[test]
    fn manylinux_is_bounded_by_the_images_glibc() {
        assert_eq!(on("x-1.0-cp313-cp313-manylinux_2_36_x86_64.whl"), [13]);
        assert!(on("x-1.0-cp313-cp313-manylinux_2_39_x86_64.whl").is_empty());
        assert_eq!(on("x-1.0-cp313-cp313-manylinux1_x86_64.whl"), [13]);
        assert_eq!(on("x-1.0-cp313-cp313-manylinux2010_x86_64.whl"), [13]);
        assert_eq!(on("x-1.0-cp313-cp313-linux_x86_64.whl"), [13]);
    }

    #[test]
    fn other_systems_and_interpreters_never_install() {
        for name in [
            "x-1.0-cp313-cp313-musllinux_1_1_x86_64.whl",
            "x-1.0-cp313-cp313-manylinux_2_17_aarch64.manylinux2014_aarch64.whl",
            "x-1.0-cp313-cp313-manylinux_2_5_i686.manylinux1_i686.whl",
            "x-1.0-cp313-cp313-macosx_10_12_x86_64.whl",
            "x-1.0-cp313-none-win_amd64.whl",
            "x-1.0-pp310-pypy310_pp73-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        ] {
            assert!(on(name).is_empty(), "{name}");
        }
    }

    #[test]
    fn pure_python_wheels_install_from_their_version_on() {
        assert_eq!(on("flask-3.1.0-py3-none-any.whl").len(), 8);
        assert_eq!(on("six-1.16.0-py2.py3-none-any.whl").len(), 8);
        assert_eq!(on("x-1.0-py312-none-any.whl"), [12, 13, 14]);
        assert!(on("x-1.0-py2-none-any.whl").is_empty());
        // A build tag between the version and the tags.
        assert_eq!(on("x-1.0-1build-py3-none-any.whl").len(), 8);
    }

    fn package(name: &str, version: &str, wheels: &[&str]) -> LockedPackage {
        LockedPackage {
            name: name.into(),
            version: version.into(),
            wheels: wheels.iter().map(|w| tags(w)).collect(),
        }
    }

    fn locked(packages: Vec<LockedPackage>) -> LockedWheels {
        LockedWheels {
            lockfile: "uv.lock".into(),
            tool: LockTool::Uv,
            packages,
        }
    }

    #[test]
    fn the_first_package_without_a_wheel_is_named_with_the_count_of_others() {
        let lock = locked(vec![
            package("flask", "3.1.0", &["flask-3.1.0-py3-none-any.whl"]),
            package("pydantic-core", "2.20.1", &[
                "pydantic_core-2.20.1-cp313-cp313-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            ]),
            package("markupsafe", "2.1.5", &["MarkupSafe-2.1.5-cp313-cp313-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"]),
            package("uvloop", "0.20.0", &["uvloop-0.20.0-cp313-cp313-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"]),
            package("sdist-only", "1.0", &[]),
        ]);
        assert!(lock.constrains());
        assert_eq!(lock.missing_for(PY313), None);
        let missing = lock.missing_for(PY314).unwrap();
        assert_eq!(
            missing.to_string(),
            "uv.lock has no cp314 wheel for pydantic-core 2.20.1 and 2 other packages"
        );
    }

    #[test]
    fn a_package_locked_twice_needs_a_wheel_in_one_version() {
        let lock = locked(vec![
            package(
                "numpy",
                "1.26.4",
                &["numpy-1.26.4-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"],
            ),
            package(
                "numpy",
                "2.1.0",
                &["numpy-2.1.0-cp313-cp313-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"],
            ),
        ]);
        assert_eq!(lock.missing_for(PY312), None);
        assert_eq!(lock.missing_for(PY313), None);
        assert_eq!(
            lock.missing_for(PY314).unwrap().to_string(),
            "uv.lock has no cp314 wheel for numpy 1.26.4 or 2.1.0"
        );
    }

    #[test]
    fn packages_without_linux_wheels_do_not_count() {
        let lock = locked(vec![
            package("pywin32", "306", &["pywin32-306-cp312-cp312-win_amd64.whl"]),
            package("sdist-only", "1.0", &[]),
        ]);
        assert!(!lock.constrains());
        assert_eq!(lock.missing_for(PY314), None);
    }
}
