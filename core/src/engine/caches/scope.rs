//! What scopes the caches: the project (its canonical source root) and the names cache images
//! and package-cache volumes are kept under.

use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The repository cache images are tagged in: `docker images apprunner-build-cache/deps` lists
/// them, `docker rmi` removes them.
pub const LAYER_REPOSITORY: &str = "apprunner-build-cache/deps";

/// The prefix of the named volumes that hold package-manager caches between builds (see
/// [`cache_volume`]); build containers see them under /dev (see `containers::mounts`).
pub const CACHE_VOLUME: &str = "apprunner-build-cache";

/// `path` as one name whatever directory it is given from: canonical where it exists, else
/// absolute.
pub(crate) fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path)
        .unwrap_or_else(|_| std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()))
}

/// The package-cache volume of one project and runtime: `apprunner-build-cache-<hash>`, the hash
/// over the canonical source root path and the runtime's name and version.
///
/// Who shares what: builds of the same source directory (however it is spelled: the path is
/// canonicalized) with the same runtime name and version share one volume, so a rebuild finds
/// its downloads; a different project, or the same project on another runtime or version, gets
/// a volume of its own, so that one project's build commands cannot poison another's pip, npm,
/// yarn, pnpm, uv, poetry or corepack cache. `--no-cache` mounts no volume at all.
pub fn cache_volume(source_root: &Path, runtime: &str, version: &str) -> String {
    let root = canonical(source_root);
    let mut h = Sha256::new();
    h.update(root.as_os_str().as_encoded_bytes());
    h.update(b"\0");
    h.update(runtime.as_bytes());
    h.update(b"\0");
    h.update(version.as_bytes());
    let hex = hex::encode(h.finalize());
    format!("{CACHE_VOLUME}-{}", &hex[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_project_and_runtime_gets_its_own_cache_volume() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let va = cache_volume(a.path(), "python311", "3.11.13");
        assert!(va.starts_with("apprunner-build-cache-"), "{va}");
        assert_eq!(va.len(), "apprunner-build-cache-".len() + 16);
        assert_ne!(va, cache_volume(b.path(), "python311", "3.11.13"));
        assert_ne!(va, cache_volume(a.path(), "python311", "3.11.14"));
        assert_ne!(va, cache_volume(a.path(), "nodejs22", "3.11.13"));
        // The same directory, however spelled, shares its volume.
        let spelled = a.path().join(".").join("sub").join("..");
        std::fs::create_dir(a.path().join("sub")).unwrap();
        assert_eq!(va, cache_volume(&spelled, "python311", "3.11.13"));
    }
}
