use super::entries::*;
use super::*;
use sha2::{Digest, Sha256};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// The exclusions a plan made for `root` carries: its `.dockerignore` rules (outside git).
fn rules(root: &Path) -> SourceFilter {
    let files = crate::input::files::ProjectFiles::new(root, Path::new(""));
    let rules = files.ignore_rules().expect("a readable .dockerignore");
    SourceFilter::new(root, rules.clone(), false)
}

fn listing(root: &Path) -> Vec<(String, tar::EntryType, u32, String)> {
    let mut buf = Vec::new();
    write_tar(root, "app", rules(root), &[], &mut buf).unwrap();
    let mut archive = tar::Archive::new(&buf[..]);
    archive
        .entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let path = String::from_utf8_lossy(&e.path_bytes()).into_owned();
            let kind = e.header().entry_type();
            let mode = e.header().mode().unwrap();
            let link = e
                .link_name_bytes()
                .map(|l| String::from_utf8_lossy(&l).into_owned())
                .unwrap_or_default();
            let mut body = String::new();
            e.read_to_string(&mut body).unwrap();
            (path, kind, mode, if link.is_empty() { body } else { link })
        })
        .collect()
}

#[cfg(unix)]
#[test]
fn archive_keeps_modes_and_links_and_leaves_out_git_and_ignored() {
    use std::os::unix::fs::{symlink, PermissionsExt};
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.txt"), "do not upload").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("server.py"), "print('hi')\n").unwrap();
    std::fs::set_permissions(
        root.join("server.py"),
        std::fs::Permissions::from_mode(0o640),
    )
    .unwrap();
    std::fs::write(root.join("run.sh"), "#!/bin/sh\n").unwrap();
    std::fs::set_permissions(root.join("run.sh"), std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::create_dir_all(root.join(".git/objects")).unwrap();
    std::fs::write(root.join(".git/config"), "[core]").unwrap();
    std::fs::create_dir_all(root.join("node_modules/x")).unwrap();
    std::fs::write(root.join("node_modules/x/i.js"), "").unwrap();
    std::fs::write(root.join(".dockerignore"), "node_modules\n").unwrap();
    symlink(outside.path().join("secret.txt"), root.join("leak")).unwrap();
    symlink(outside.path(), root.join("leakdir")).unwrap();
    symlink("server.py", root.join("main.py")).unwrap();

    let entries = listing(root);
    let names: Vec<&str> = entries.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(
        names,
        [
            "app",
            "app/.dockerignore",
            "app/leak",
            "app/leakdir",
            "app/main.py",
            "app/run.sh",
            "app/server.py"
        ]
    );
    let get = |n: &str| entries.iter().find(|e| e.0 == n).unwrap();
    assert_eq!(get("app/run.sh").2, 0o755);
    assert_eq!(get("app/server.py").2, 0o640);
    assert_eq!(get("app/leak").1, tar::EntryType::Symlink);
    assert!(
        !entries.iter().any(|e| e.3.contains("do not upload")),
        "nothing from outside the root"
    );
    assert_eq!(get("app/main.py").3, "server.py");
}

#[test]
fn excluded_paths_stay_out_of_the_archive_and_its_digest() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("server.py"), "").unwrap();
    std::fs::write(root.join("secrets.env"), "TOKEN=s3cret\n").unwrap();
    std::fs::create_dir(root.join("conf")).unwrap();
    std::fs::write(root.join("conf/secrets.env"), "TOKEN=s3cret\n").unwrap();
    let exclude = [PathBuf::from("conf/secrets.env")];
    let mut buf = Vec::new();
    let with = write_tar(root, "app", rules(root), &exclude, &mut buf).unwrap();
    let names: Vec<String> = tar::Archive::new(&buf[..])
        .entries()
        .unwrap()
        .map(|e| String::from_utf8_lossy(&e.unwrap().path_bytes()).into_owned())
        .collect();
    assert_eq!(
        names,
        ["app", "app/conf", "app/secrets.env", "app/server.py"]
    );
    assert_eq!(with.files, 2);
    std::fs::remove_file(root.join("conf/secrets.env")).unwrap();
    let without = write_tar(root, "app", rules(root), &[], io::sink()).unwrap();
    assert_eq!(with.digest, without.digest, "as if the file were not there");
}

#[test]
fn digest_changes_with_content_only() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.txt"), "one").unwrap();
    let d1 = write_tar(dir.path(), "app", rules(dir.path()), &[], io::sink()).unwrap();
    let d2 = write_tar(dir.path(), "app", rules(dir.path()), &[], io::sink()).unwrap();
    assert_eq!(d1.digest, d2.digest);
    std::fs::write(dir.path().join("a.txt"), "two").unwrap();
    let d3 = write_tar(dir.path(), "app", rules(dir.path()), &[], io::sink()).unwrap();
    assert_ne!(d1.digest, d3.digest);
    assert_eq!((d3.files, d3.bytes), (1, 3));
}

/// Each entry's raw name, as written in the archive (GNU long names resolved).
fn raw_names(root: &Path) -> Vec<Vec<u8>> {
    let mut buf = Vec::new();
    write_tar(root, "app", rules(root), &[], &mut buf).unwrap();
    let mut archive = tar::Archive::new(&buf[..]);
    archive
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path_bytes().into_owned())
        .collect()
}

#[cfg(unix)]
#[test]
fn names_are_written_as_raw_bytes_never_translated() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("a\\b"), "backslash").unwrap();
    // Longer than a tar header's 100 bytes: written with a GNU long name.
    let long = format!("{}\\..\\..\\..\\usr\\local\\bin\\pwned", "x".repeat(120));
    std::fs::write(root.join(&long), "long").unwrap();
    std::fs::create_dir(root.join("d\\..\\..")).unwrap();
    std::fs::write(root.join("d\\..\\..").join("in"), "nested").unwrap();
    std::fs::write(root.join(OsStr::from_bytes(b"n\xff")), "ff").unwrap();
    std::fs::write(root.join(OsStr::from_bytes(b"n\xfe")), "fe").unwrap();
    std::os::unix::fs::symlink(OsStr::from_bytes(b"t\xff\\x"), root.join("link")).unwrap();
    let names = raw_names(root);
    let want: Vec<Vec<u8>> = vec![
        b"app".to_vec(),
        b"app/a\\b".to_vec(),
        b"app/d\\..\\..".to_vec(),
        b"app/link".to_vec(),
        b"app/n\xfe".to_vec(),
        b"app/n\xff".to_vec(),
        format!("app/{long}").into_bytes(),
        b"app/d\\..\\../in".to_vec(),
    ];
    assert_eq!(names, want);
    for n in &names {
        assert!(
            !n.split(|b| *b == b'/').any(|seg| seg == b".."),
            "{}",
            String::from_utf8_lossy(n)
        );
    }
    let entries = listing(root);
    let link = entries.iter().find(|e| e.0 == "app/link").unwrap();
    assert_eq!(link.3, String::from_utf8_lossy(b"t\xff\\x"));
    // Two names that differ only in bytes that are not UTF-8 do not collide in the digest.
    let one = write_tar(root, "app", rules(root), &[], io::sink())
        .unwrap()
        .digest;
    std::fs::remove_file(root.join(OsStr::from_bytes(b"n\xfe"))).unwrap();
    std::fs::write(root.join(OsStr::from_bytes(b"n\xfd")), "fe").unwrap();
    assert_ne!(
        one,
        write_tar(root, "app", rules(root), &[], io::sink())
            .unwrap()
            .digest
    );
}

#[test]
fn a_path_with_a_dotdot_component_is_refused_and_named() {
    let e = archive_path(Path::new("app"), Path::new("src/../../etc/passwd")).unwrap_err();
    assert!(e.to_string().contains("src/../../etc/passwd"), "{e}");
    assert!(e.to_string().contains("`..`"), "{e}");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.txt"), "x").unwrap();
    let e = write_tar(dir.path(), "app/../usr", rules(dir.path()), &[], io::sink()).unwrap_err();
    assert!(e.to_string().contains("app/../usr"), "{e}");
}

#[test]
fn a_long_link_target_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let target = format!("{}/{}", "t".repeat(90), "u".repeat(90));
    #[cfg(unix)]
    std::os::unix::fs::symlink(&target, dir.path().join("l")).unwrap();
    #[cfg(unix)]
    {
        let entries = listing(dir.path());
        assert_eq!(entries[1].0, "app/l");
        assert_eq!(entries[1].3, target);
    }
}

#[test]
fn bang_re_includes_a_file_inside_an_excluded_directory() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("build/sub")).unwrap();
    std::fs::write(root.join("build/out.bin"), "x").unwrap();
    std::fs::write(root.join("build/sub/keep.txt"), "keep").unwrap();
    std::fs::write(root.join("build/sub/other.txt"), "other").unwrap();
    std::fs::create_dir_all(root.join("node_modules/x")).unwrap();
    std::fs::write(root.join("node_modules/x/README.md"), "").unwrap();
    std::fs::write(root.join("server.py"), "").unwrap();
    std::fs::write(
        root.join(".dockerignore"),
        "build\nnode_modules\n!build/sub/keep.txt\n!**/*.md\n",
    )
    .unwrap();
    let names: Vec<String> = listing(root).into_iter().map(|e| e.0).collect();
    assert_eq!(
        names,
        [
            "app",
            "app/.dockerignore",
            "app/server.py",
            "app/build",
            "app/build/sub",
            "app/build/sub/keep.txt"
        ],
        "as with Docker, an excluded directory is searched only for what a `!` pattern names inside it"
    );
}

#[test]
fn a_dockerignore_that_leaves_out_everything_warns() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("server.py"), "").unwrap();
    std::fs::write(dir.path().join(".dockerignore"), "*.pyc\n").unwrap();
    let s = write_tar(dir.path(), "app", rules(dir.path()), &[], io::sink()).unwrap();
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    for lines in ["*\n", "*\n!.dockerignore\n", "**\n"] {
        std::fs::write(dir.path().join(".dockerignore"), lines).unwrap();
        let s = write_tar(dir.path(), "app", rules(dir.path()), &[], io::sink()).unwrap();
        assert_eq!(s.warnings.len(), 1, "{lines}: {:?}", s.warnings);
        assert!(
            s.warnings[0].contains(".dockerignore leaves out every file"),
            "{:?}",
            s.warnings
        );
    }
}

#[test]
fn a_file_that_shrinks_or_fails_while_read_is_an_error_naming_it() {
    let mut digest = Sha256::new();
    let rel = Path::new("data/big.bin");
    let mut short = Exact {
        inner: &b"only ten b"[..],
        left: 20,
        expected: 20,
        rel,
        digest: &mut digest,
    };
    let e = io::copy(&mut short, &mut io::sink()).unwrap_err();
    assert!(e.to_string().contains("`data/big.bin` shrank"), "{e}");
    assert!(e.to_string().contains("20 bytes expected, 10 there"), "{e}");

    struct Failing;
    impl Read for Failing {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(io::Error::other("Input/output error"))
        }
    }
    let mut failing = Exact {
        inner: Failing,
        left: 5,
        expected: 5,
        rel,
        digest: &mut digest,
    };
    let e = io::copy(&mut failing, &mut io::sink()).unwrap_err();
    assert!(
        e.to_string()
            .contains("`data/big.bin` could not be read: Input/output error"),
        "{e}"
    );
    // A file that grew is read up to the size it had when opened.
    let mut grown = Exact {
        inner: &b"0123456789"[..],
        left: 4,
        expected: 4,
        rel,
        digest: &mut digest,
    };
    let mut out = Vec::new();
    io::copy(&mut grown, &mut out).unwrap();
    assert_eq!(out, b"0123");
}

#[test]
fn in_a_git_work_tree_what_git_ignores_stays_out_and_is_counted() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join(".git/info")).unwrap();
    std::fs::write(root.join(".gitignore"), ".env\n.venv/\n").unwrap();
    std::fs::write(root.join(".env"), "DB_PASSWORD=hunter2\n").unwrap();
    std::fs::create_dir_all(root.join(".venv/bin")).unwrap();
    std::fs::write(root.join(".venv/bin/python"), "").unwrap();
    std::fs::write(root.join("app.py"), "print(1)\n").unwrap();
    let mut buf = Vec::new();
    let filter = SourceFilter::new(root, Default::default(), true);
    let s = write_tar(root, "app", filter, &[], &mut buf).unwrap();
    let names: Vec<String> = tar::Archive::new(&buf[..])
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["app", "app/.gitignore", "app/app.py"]);
    assert_eq!(s.git_left_out.count, 2);
    assert_eq!(s.git_left_out.first, [".env", ".venv"]);
    // --include-git-ignored: the plan does not ask for git's rules.
    let all = write_tar(
        root,
        "app",
        SourceFilter::new(root, Default::default(), false),
        &[],
        io::sink(),
    )
    .unwrap();
    assert_eq!((all.files, all.git_left_out.count), (4, 0));
}
