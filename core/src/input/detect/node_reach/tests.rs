use super::*;

fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir
}

#[test]
fn built_output_is_read_from_its_typescript_source() {
    let dir = project(&[
        (
            "tsconfig.json",
            "{\n  // the build\n  \"compilerOptions\": { \"outDir\": \"./dist\", \"rootDir\": \"./src\", },\n}\n",
        ),
        ("src/index.ts", "import express from \"express\";\nimport { env } from \"./config/env.js\";\nimport type { X } from \"./types\";\n"),
        ("src/config/env.ts", "// settings\nrequire(\"dotenv\").config();\nexport const env = process.env;\n"),
        ("src/types.ts", "import type { Y } from \"zod\";\n"),
    ]);
    let files = ProjectFiles::new(dir.path(), Path::new(""));
    let aliases = Aliases::read(&files);
    let reach = follow(&files, &["dist/index.js".into()], &aliases);
    let found: Vec<String> = reach
        .packages
        .iter()
        .map(|(n, p)| format!("{n} {}:{}", p.file, p.line))
        .collect();
    assert_eq!(
        found,
        ["express src/index.ts:1", "dotenv src/config/env.ts:2"]
    );
    assert_eq!(reach.files, 2);
}

#[test]
fn a_whole_project_scan_leaves_out_tests_and_tool_configs() {
    let dir = project(&[
        ("pages/index.tsx", "import React from 'react';\n"),
        (
            "next.config.js",
            "const withAnalyzer = require('@next/bundle-analyzer')();\n",
        ),
        (
            "jest.config.js",
            "module.exports = require('ts-jest/presets');\n",
        ),
        (
            "tailwind.config.ts",
            "import forms from '@tailwindcss/forms';\n",
        ),
        ("src/app.test.ts", "import { describe } from 'vitest';\n"),
        ("__tests__/x.js", "require('supertest');\n"),
        ("node_modules/x/index.js", "require('inside');\n"),
        ("types.d.ts", "import 'declared';\n"),
    ]);
    let reach = scan_all(
        &ProjectFiles::new(dir.path(), Path::new("")),
        &Aliases::default(),
    );
    let names: Vec<&str> = reach.packages.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["@next/bundle-analyzer", "react"]);
}

#[test]
fn module_names() {
    let aliases = Aliases {
        paths: vec![("@/".into(), "src".into())],
        out_dir: None,
    };
    let of = |s: &str| Specifier::of(s, &aliases);
    assert_eq!(
        of("@scope/pkg/sub"),
        Specifier::Package("@scope/pkg".into())
    );
    assert_eq!(of("lodash/fp"), Specifier::Package("lodash".into()));
    assert_eq!(of("node:fs"), Specifier::Builtin);
    assert_eq!(of("fs/promises"), Specifier::Builtin);
    assert_eq!(of("#db"), Specifier::Builtin);
    assert_eq!(of("@/lib/db"), Specifier::Local("src/lib/db".into()));
    assert_eq!(of("../x"), Specifier::Local("../x".into()));
}
