//! Node.js projects: the package manager (npm, yarn 1 and berry, pnpm and its version) chosen from
//! the lockfiles and `packageManager`.

use crate::support::*;

#[test]
fn npm_with_lockfile() {
    insta::assert_snapshot!(plan_view("express-npm"));
}

#[test]
fn npm_without_lockfile_starts_server_js() {
    let view = plan_view("npm-no-lockfile");
    assert!(
        view.contains("install: `npm install` — from the default: no lockfile"),
        "{view}"
    );
    assert!(
        view.contains("start command: `node server.js` — from server.js (npm's default"),
        "{view}"
    );
    assert!(view.contains("Runtime:       nodejs22 22.21.1"), "{view}");
}

#[test]
fn yarn_1() {
    insta::assert_snapshot!(plan_view("yarn1"));
}

#[test]
fn yarn_berry() {
    let view = plan_view("yarn-berry");
    assert!(
        view.contains("pre-build: corepack enable")
            && view.contains("build: yarn install --immutable"),
        "{view}"
    );
    assert!(
        view.contains(
            "package manager version: `yarn@4.5.3` — from packageManager in package.json"
        ),
        "{view}"
    );
}

#[test]
fn pnpm() {
    insta::assert_snapshot!(plan_view("pnpm"));
}

#[test]
fn two_lockfiles() {
    insta::assert_snapshot!(plan_view("two-lockfiles"));
}

#[test]
fn package_manager_chooses_among_lockfiles_and_an_error_only_when_it_contradicts_all() {
    let view = plan_of(&[
        (
            "package.json",
            br#"{"packageManager":"npm@10.9.0","scripts":{"start":"node a.js"}}"#,
        ),
        ("package-lock.json", b"{}"),
        ("pnpm-lock.yaml", b"lockfileVersion: '9.0'\n"),
    ]);
    assert!(
        view.contains("install: `npm ci` — from package-lock.json"),
        "{view}"
    );
    assert!(
        view.contains(
            "warning[AR303]: pnpm-lock.yaml is ignored: npm installs from package-lock.json"
        ),
        "{view}"
    );
    let out = report_of(&[
        (
            "package.json",
            br#"{"packageManager":"pnpm@9.15.0","scripts":{"start":"node a.js"}}"#,
        ),
        ("package-lock.json", b"{}"),
        ("yarn.lock", b""),
    ]);
    assert!(
        out.contains("error[AR304]: packageManager in package.json says pnpm@9.15.0, but the only lockfiles are yarn.lock and package-lock.json, none of them pnpm's"),
        "{out}"
    );
    let view = plan_of(&[
        ("package.json", br#"{"scripts":{"start":"node a.js"}}"#),
        ("yarn.lock", b""),
        (".yarnrc.yml", b"nodeLinker: node-modules\n"),
        ("pnpm-lock.yaml", b"lockfileVersion: '9.0'\n"),
    ]);
    assert!(
        view.contains("install: `pnpm install --frozen-lockfile`"),
        "{view}"
    );
    assert!(
        view.contains("warning[AR303]: yarn.lock is ignored"),
        "{view}"
    );
}

#[test]
fn pnpms_version_follows_the_lockfile_without_package_manager() {
    for (lockfile_version, pnpm) in [("'9.0'", "pnpm@9"), ("'6.0'", "pnpm@8"), ("5.4", "pnpm@7")] {
        let lock = format!("lockfileVersion: {lockfile_version}\n");
        let view = plan_of(&[
            ("package.json", br#"{"scripts":{"start":"node a.js"}}"#),
            ("pnpm-lock.yaml", lock.as_bytes()),
        ]);
        assert!(
            view.contains(&format!("pre-build: npm install -g {pnpm}"))
                && view.contains(&format!(
                    "package manager version: `{pnpm}` — from lockfileVersion {} in pnpm-lock.yaml (no packageManager field)",
                    lockfile_version.trim_matches('\'')
                )),
            "{lockfile_version}: {view}"
        );
    }
    let view = plan_view("pnpm");
    assert!(
        view.contains("pre-build: corepack enable 2>/dev/null || npm install -g pnpm@9.15.0"),
        "packageManager still wins: {view}"
    );
}
