//! Node.js projects: production defaults, and devDependencies pruned after the build unless the app
//! needs them at run time.

use crate::support;
use crate::support::*;

#[test]
fn node_production_defaults_and_devdependencies_pruned() {
    let dev = br#"{"scripts":{"start":"node a.js"},"devDependencies":{"typescript":"5"}}"#;
    for (lockfile, prune) in [
        ("package-lock.json", "npm prune --omit=dev"),
        ("pnpm-lock.yaml", "pnpm prune --prod"),
        (
            "yarn.lock",
            "yarn install --production --frozen-lockfile --ignore-scripts --prefer-offline",
        ),
    ] {
        let view = plan_of(&[("package.json", dev), (lockfile, b"")]);
        assert!(
            view.contains(&format!(
                "prune devDependencies: `{prune}` — from devDependencies in package.json"
            )),
            "{lockfile}: {view}"
        );
        assert!(view.contains("env:     NODE_ENV=production"), "{view}");
    }
    let view = plan_of(&[
        (
            "package.json",
            br#"{"scripts":{"start":"NODE_ENV=staging node a.js"},"devDependencies":{"nodemon":"3"}}"#,
        ),
        ("package-lock.json", b"{}"),
    ]);
    assert!(
        !view.contains("NODE_ENV=production") && !view.contains("prune"),
        "{view}"
    );
    assert!(view.contains("sets NODE_ENV=staging"), "{view}");
}

/// Issue 16: the TypeScript Express app that loads dotenv (a devDependency) from
/// src/config/env.ts: followed from `node dist/index.js` through tsconfig's outDir → rootDir, it
/// keeps devDependencies, with the place and the fix.
#[test]
fn a_dev_dependency_loaded_at_run_time_keeps_dev_dependencies() {
    let package: &[u8] = br#"{ "name": "ts-express",
  "scripts": { "build": "tsc", "start": "node dist/index.js" },
  "dependencies": { "express": "4.21.2" },
  "devDependencies": { "dotenv": "16.4.5", "typescript": "5.6.3", "@types/express": "4.17.21" } }"#;
    let files: &[(&str, &[u8])] = &[
        ("package.json", package),
        ("yarn.lock", b""),
        (
            "tsconfig.json",
            b"{ // the build\n  \"compilerOptions\": { \"outDir\": \"./dist\", \"rootDir\": \"./src\", },\n}\n",
        ),
        (
            "src/index.ts",
            b"import express from \"express\";\nimport type { Request } from \"express\";\nimport { port } from \"./config/env\";\nexpress().listen(port);\n",
        ),
        (
            "src/config/env.ts",
            b"// settings\nrequire(\"dotenv\").config();\nexport const port = Number(process.env.PORT);\n",
        ),
        ("src/index.test.ts", b"import request from \"supertest\";\n"),
    ];
    let view = plan_of(files);
    insta::assert_snapshot!(view
        .lines()
        .filter(|l| l.contains("prune") || l.starts_with("warning") || l.starts_with(" ") && l.contains(" = "))
        .collect::<Vec<_>>()
        .join("\n"), @r#"
    warning[AR317]: src/config/env.ts line 2 loads dotenv, which package.json lists only in devDependencies: devDependencies are not pruned
      = note: pruning would remove it, and the app would stop at start with `Cannot find module`
      = help: move "dotenv" from devDependencies to dependencies in package.json; the other devDependencies are then pruned
      prune devDependencies: `not done` — from package.json (src/config/env.ts line 2 loads dotenv, which package.json lists only in devDependencies: devDependencies are not pruned)
    "#);
    assert!(view.contains(" --> src/config/env.ts:2"), "{view}");
    assert!(!view.contains("yarn install --production"), "{view}");

    // Moved to dependencies: the rest is pruned, and the plan says what was followed.
    let fixed = String::from_utf8_lossy(package).replace(
        r#""express": "4.21.2" }"#,
        r#""express": "4.21.2", "dotenv": "16.4.5" }"#,
    );
    let mut files = files.to_vec();
    files[0] = ("package.json", fixed.as_bytes());
    let view = plan_of(&files);
    assert!(
        view.contains("prune devDependencies: `yarn install --production --frozen-lockfile --ignore-scripts --prefer-offline` — from devDependencies in package.json (no devDependency is loaded from dist/index.js (2 files followed))"),
        "{view}"
    );
    assert!(!view.contains("AR317"), "{view}");
}

/// Issue 16: what else keeps devDependencies: a binary the start command runs (nodemon), one it
/// preloads (`node -r dotenv/config`), ts-node's typescript, a module loaded by a computed name;
/// and a framework's start, where the project's own files are read.
#[test]
fn dev_dependencies_the_start_command_needs_are_kept() {
    let cases: &[(&str, Files, &str)] = &[
        (
            "nodemon",
            &[
                ("package.json", br#"{"scripts":{"start":"nodemon server.js"},"devDependencies":{"nodemon":"3"}}"#),
                ("server.js", b"require('http');\n"),
            ],
            "warning[AR317]: scripts.start runs nodemon, which package.json lists only in devDependencies: devDependencies are not pruned",
        ),
        (
            "preload",
            &[
                ("package.json", br#"{"scripts":{"start":"node -r dotenv/config server.js"},"devDependencies":{"dotenv":"16"}}"#),
                ("server.js", b"require('http');\n"),
            ],
            "warning[AR317]: scripts.start preloads dotenv (`node -r`), which package.json lists only in devDependencies",
        ),
        (
            "ts-node",
            &[
                ("package.json", br#"{"scripts":{"start":"ts-node src/main.ts"},"dependencies":{"ts-node":"10"},"devDependencies":{"typescript":"5"}}"#),
                ("src/main.ts", b"import http from 'http';\n"),
            ],
            "warning[AR317]: scripts.start runs ts-node, which needs typescript, listed only in devDependencies",
        ),
        (
            "computed",
            &[
                ("package.json", br#"{"scripts":{"start":"node server.js"},"devDependencies":{"ms":"2"}}"#),
                ("server.js", b"const plugins = ['a'];\n\nplugins.map((p) => require(p));\n"),
            ],
            "warning[AR317]: server.js line 3 loads a module whose name is computed at run time (`require(name)`)",
        ),
        (
            "next",
            &[
                ("package.json", br#"{"scripts":{"start":"next start"},"dependencies":{"next":"15","react":"19"},"devDependencies":{"@next/bundle-analyzer":"15","tailwindcss":"4"}}"#),
                ("next.config.js", b"const withAnalyzer = require('@next/bundle-analyzer')();\nmodule.exports = withAnalyzer({});\n"),
                ("tailwind.config.js", b"module.exports = require('tailwindcss/defaultConfig');\n"),
                ("app/page.tsx", b"import React from 'react';\n"),
            ],
            "warning[AR317]: next.config.js line 1 loads @next/bundle-analyzer, which package.json lists only in devDependencies",
        ),
    ];
    for (name, files, warning) in cases {
        let view = plan_of(files);
        assert!(view.contains(warning), "{name}: {view}");
        assert!(
            view.contains("prune devDependencies: `not done`")
                && !view.contains("build: npm prune"),
            "{name}: {view}"
        );
    }
    // A framework's start with only build tools in devDependencies: the project's files are read,
    // build-tool configurations aside, and the prune goes ahead.
    let view = plan_of(&[
        ("package.json", br#"{"scripts":{"start":"next start"},"dependencies":{"next":"15","react":"19"},"devDependencies":{"tailwindcss":"4","eslint":"9"}}"#),
        ("tailwind.config.js", b"module.exports = require('tailwindcss/defaultConfig');\n"),
        ("app/page.tsx", b"import React from 'react';\n"),
    ]);
    assert!(
        view.contains("prune devDependencies: `npm prune --omit=dev` — from devDependencies in package.json (no devDependency is loaded by the project's 1 source files (scripts.start runs `next`, which loads the app's files itself; tests and build-tool configurations aside))"),
        "{view}"
    );
}

/// Issue 16: npm 6 (nodejs12/14) spells the prune `--production`; Yarn 2+ prunes with
/// `workspaces focus` where Yarn 4 or the plugin provides it, and says why not otherwise.
#[test]
fn prune_commands_follow_the_runtime_and_the_yarn_version() {
    let npm = |engines: &str| {
        let package = format!(
            r#"{{"engines":{{"node":"{engines}"}},"scripts":{{"start":"node a.js"}},"devDependencies":{{"ms":"2"}}}}"#
        );
        plan_of(&[("package.json", package.as_bytes()), ("a.js", b"")])
    };
    for (engines, prune) in [
        ("12.x", "npm prune --production"),
        ("14.x", "npm prune --production"),
        ("16.x", "npm prune --omit=dev"),
        ("22.x", "npm prune --omit=dev"),
    ] {
        let view = npm(engines);
        assert!(
            view.contains(&format!("build: {prune}")),
            "{engines}: {view}"
        );
    }
    // A build command flag replaces the detected build commands, the prune with them.
    let dir = support::project_dir(&[
        (
            "package.json",
            br#"{"scripts":{"start":"node a.js"},"devDependencies":{"ms":"2"}}"#,
        ),
        ("a.js", b""),
    ]);
    let loaded = support::load_args(apprunner_build::project::ProjectArgs {
        dir: dir.path().to_path_buf(),
        input: apprunner_build::input::InputArgs {
            source: None,
            settings: apprunner_build::input::config::ApiSettings {
                build_command: Some("npm ci && npm run build".into()),
                ..Default::default()
            },
        },
        ..Default::default()
    });
    let view = apprunner_build::plan::render(&loaded.plan.unwrap());
    assert!(!view.contains("prune"), "{view}");

    let berry = |package: &str, yarnrc: &str| {
        plan_of(&[
            ("package.json", package.as_bytes()),
            ("yarn.lock", b""),
            (".yarnrc.yml", yarnrc.as_bytes()),
            ("a.js", b""),
        ])
    };
    let focus = "build: yarn workspaces focus --all --production";
    let view = berry(
        r#"{"packageManager":"yarn@4.5.3","scripts":{"start":"node a.js"},"devDependencies":{"ms":"2"}}"#,
        "nodeLinker: node-modules\n",
    );
    assert!(view.contains(focus), "{view}");
    let view = berry(
        r#"{"scripts":{"start":"node a.js"},"devDependencies":{"ms":"2"}}"#,
        "yarnPath: .yarn/releases/yarn-3.8.7.cjs\nplugins:\n  - path: .yarn/plugins/@yarnpkg/plugin-workspace-tools.cjs\n",
    );
    assert!(view.contains(focus), "{view}");
    let view = berry(
        r#"{"packageManager":"yarn@3.8.7","scripts":{"start":"node a.js"},"devDependencies":{"ms":"2"}}"#,
        "nodeLinker: node-modules\n",
    );
    assert!(
        view.contains("prune devDependencies: `not done` — from package.json (Yarn 3 prunes with `yarn workspaces focus --production`, from the workspace-tools plugin, which .yarnrc.yml does not list"),
        "{view}"
    );
}
