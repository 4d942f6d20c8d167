//! Bad input gets located, actionable errors (snapshots of the whole message), never a panic.

mod support;

use apprunner_build::input::config::{ApiSettings, EnvVar};
use apprunner_build::input::{ConfigurationSource, InputArgs};
use apprunner_build::plan::ImageEnv;
use apprunner_build::plan::PhaseName;
use apprunner_build::project::ProjectArgs;
use support::{load, project_dir, report, MINIMAL};

fn check(yaml: &str) -> String {
    let dir = project_dir(&[("apprunner.yaml", yaml.as_bytes())]);
    let loaded = load(dir.path());
    assert!(
        loaded.plan.is_none(),
        "expected the file to be rejected:\n{yaml}"
    );
    report(&loaded)
}

#[test]
fn unknown_keys_get_a_suggestion() {
    insta::assert_snapshot!(check(
        "version: 1.0\nruntime: python311\nbuild:\n  comands:\n    build:\n      - pip install -r requirements.txt\nrun:\n  comand: python server.py\n  port: 8000\n"
    ));
}

#[test]
fn wrong_types_are_located() {
    insta::assert_snapshot!(check(&format!(
        "{MINIMAL}  network:\n    port: abc\n  env: NAME=value\n"
    )));
}

#[test]
fn port_out_of_range() {
    let out = check(&format!("{MINIMAL}  network:\n    port: 70000\n"));
    assert!(
        out.contains("apprunner.yaml:10:11") && out.contains("70000"),
        "{out}"
    );
}

#[test]
fn missing_required_keys_are_all_reported() {
    insta::assert_snapshot!(check(
        "build:\n  env:\n    - name: A\n      value: b\nrun:\n  network:\n    port: 8000\n"
    ));
}

#[test]
fn reserved_and_duplicate_variable_names() {
    insta::assert_snapshot!(check(&format!(
        "{MINIMAL}  env:\n    - name: PORT\n      value: 9000\n    - name: AWSAPPRUNNER_X\n      value: a\n    - name: MODE\n      value: a\n    - name: MODE\n      value: b\n"
    )));
}

#[test]
fn build_env_names_are_checked_too() {
    let out = check(
        "version: 1.0\nruntime: python311\nbuild:\n  commands:\n    build:\n      - make\n  env:\n    - name: A\n      value: 1\n    - name: A\n      value: 2\nrun:\n  command: x\n",
    );
    assert!(
        out.contains("`A` is defined more than once in `build.env`")
            && out.contains("first defined on line 8"),
        "{out}"
    );
}

#[test]
fn a_command_yaml_reads_as_a_mapping() {
    insta::assert_snapshot!(check(
        "version: 1.0\nruntime: nodejs22\nbuild:\n  commands:\n    build:\n      - echo \"Node version: $(node --version)\"\n      - - nested\nrun:\n  command: npm start\n"
    ));
}

#[test]
fn impossible_runtime_version() {
    insta::assert_snapshot!(check("version: 1.0\nruntime: python3\nbuild:\n  commands:\n    build:\n      - pip install -r requirements.txt\nrun:\n  runtime-version: 4.1\n  command: python app.py\n"));
}

#[test]
fn runtime_version_not_in_catalog_lists_the_versions() {
    let out = check("version: 1.0\nruntime: nodejs18\nbuild:\n  commands:\n    build:\n      - npm ci\nrun:\n  runtime-version: 18.20.1\n  command: npm start\n");
    assert!(
        out.contains("18.19.0, 18.19.1, 18.20.2") && out.contains("apprunner.yaml:8:20"),
        "{out}"
    );
}

#[test]
fn runtime_version_must_look_like_a_version() {
    let out = check("version: 1.0\nruntime: python311\nbuild:\n  commands:\n    build:\n      - make\nrun:\n  runtime-version: latest\n  command: x\n");
    assert!(
        out.contains("`latest`") && out.contains("major[.minor[.patch]]"),
        "{out}"
    );
}

#[test]
fn pre_run_only_with_the_revised_build() {
    insta::assert_snapshot!(check("version: 1.0\nruntime: nodejs16\nbuild:\n  commands:\n    build:\n      - npm ci\nrun:\n  pre-run:\n    - node migrate.js\n  command: npm start\n"));
}

#[test]
fn malformed_secret_references() {
    insta::assert_snapshot!(check(&format!(
        "{MINIMAL}  secrets:\n    - name: DB_PASSWORD\n      value-from: arn:aws:secretsmanager:us-east-1:42:secret:db\n    - name: TOKEN\n      value-from: \"my token\"\n    - name: KEY\n"
    )));
}

#[test]
fn malformed_yaml() {
    insta::assert_snapshot!(check("version: 1.0\nruntime: python311\nbuild:\n  commands:\n    build:\n      - pip install\n     - broken indentation\nrun:\n  command: \"unterminated\n"));
}

#[test]
fn duplicate_keys() {
    let out = check(&format!("{MINIMAL}  command: python other.py\n"));
    assert!(
        out.contains("`command` appears twice") && out.contains("first written on line 8"),
        "{out}"
    );
}

#[test]
fn tabs_in_indentation() {
    insta::assert_snapshot!(check("version: 1.0\nruntime: python311\nbuild:\n\tcommands:\n    build:\n      - make\nrun:\n\tcommand: x\n"));
}

#[test]
fn byte_order_mark() {
    let mut bytes = vec![0xEF, 0xBB, 0xBF];
    bytes.extend_from_slice(MINIMAL.as_bytes());
    let dir = project_dir(&[("apprunner.yaml", &bytes)]);
    let loaded = load(dir.path());
    assert!(loaded.plan.is_none());
    insta::assert_snapshot!(report(&loaded));
}

#[test]
fn non_utf8_bytes() {
    let mut bytes = b"version: 1.0\nruntime: python311\nrun:\n  command: caf".to_vec();
    bytes.extend_from_slice(&[0xE9, b'\n']);
    let dir = project_dir(&[("apprunner.yaml", &bytes)]);
    insta::assert_snapshot!(report(&load(dir.path())));
}

#[test]
fn empty_file() {
    for text in ["", "\n\n", "# only a comment\n"] {
        let out = check(text);
        assert!(out.contains("the file is empty"), "{out}");
    }
}

#[test]
fn file_over_one_mebibyte() {
    let big = format!("{MINIMAL}# {}\n", "x".repeat(1024 * 1024));
    let out = check(&big);
    assert!(
        out.contains("at most 1 MiB") && out.contains("apprunner.yaml"),
        "{out}"
    );
}

#[test]
fn top_level_must_be_a_mapping() {
    for text in ["just a string\n", "- a\n- list\n"] {
        let out = check(text);
        assert!(
            out.contains("must be a mapping") && out.contains("apprunner.yaml:1:1"),
            "{out}"
        );
    }
}

#[test]
fn apprunner_yml_is_not_read() {
    let dir = project_dir(&[("apprunner.yml", MINIMAL.as_bytes())]);
    let loaded = load(dir.path());
    assert!(loaded.plan.is_none());
    insta::assert_snapshot!(report(&loaded));
}

/// A misnamed file is still read: its own problems come out in the same run as the rename.
#[test]
fn a_misnamed_file_is_checked_too() {
    let yaml = MINIMAL.replace("python311", "pyhton311") + "  network:\n    prot: 8000\n";
    for name in ["apprunner.yml", "AppRunner.yaml", "Apprunner.YML"] {
        let dir = project_dir(&[(name, yaml.as_bytes())]);
        let loaded = load(dir.path());
        assert!(loaded.plan.is_none());
        let out = report(&loaded);
        assert!(
            out.contains(&format!("error[AR100]: found `{name}`"))
                && out.contains(&format!("rename it: mv {name} apprunner.yaml"))
                && out.contains(&format!("--> {name}:10:5"))
                && out.contains("unknown key `prot`")
                && out.contains("did you mean `python311`?"),
            "{name}: {out}"
        );
    }
    let dir = project_dir(&[("apprunner.yml", yaml.as_bytes())]);
    insta::assert_snapshot!(report(&load(dir.path())));
}

/// Next to apprunner.yaml, a misnamed file is ignored, as App Runner ignores it: a warning.
#[test]
fn apprunner_yml_next_to_apprunner_yaml_is_ignored_with_a_warning() {
    let dir = project_dir(&[
        ("apprunner.yaml", MINIMAL.as_bytes()),
        ("apprunner.yml", b"version: 1.0\n"),
    ]);
    let loaded = load(dir.path());
    let out = report(&loaded);
    assert!(loaded.plan.is_some(), "{out}");
    assert!(
        out.contains("warning[AR136]: `apprunner.yml` is ignored")
            && out.contains("--> apprunner.yml"),
        "{out}"
    );
}

/// A Dockerfile with tabs is still recognised as a Dockerfile.
#[test]
fn a_dockerfile_with_tabs_is_a_dockerfile() {
    let out = check("FROM node:22\nRUN apt-get update && \\\n\tapt-get install -y curl\nCMD [\"node\", \"server.js\"]\n");
    assert!(
        out.contains("this file is a Dockerfile") && !out.contains("AR106"),
        "{out}"
    );
}

/// `git mv` only where git can do it.
#[test]
fn the_rename_uses_git_mv_inside_a_checkout() {
    let dir = project_dir(&[
        (".git/HEAD", b"ref: refs/heads/main\n"),
        ("services/api/apprunner.yml", MINIMAL.as_bytes()),
    ]);
    let out = report(&support::load_args(ProjectArgs {
        dir: dir.path().to_path_buf(),
        source_directory: Some("services/api".into()),
        ..Default::default()
    }));
    assert!(
        out.contains("rename it: git mv services/api/apprunner.yml services/api/apprunner.yaml"),
        "{out}"
    );
}

#[test]
fn no_configuration_at_all() {
    let dir = project_dir(&[("server.py", b"print(1)\n")]);
    let out = report(&load(dir.path()));
    assert!(
        out.contains("no apprunner.yaml") && out.contains("--runtime"),
        "{out}"
    );
}

#[test]
fn unsupported_and_unknown_runtimes() {
    let with = |rt: &str| check(&MINIMAL.replace("python311", rt));
    assert!(with("ruby31").contains("an App Runner runtime that apprunner-build does not build"));
    assert!(with("docker").contains("image-based"));
    assert!(with("pyhton311").contains("did you mean `python311`?"));
    assert!(with("python3.11").contains("write `runtime: python311`"));
}

/// `Nodejs12` and `Nodejs 12` are in deployed repositories: accepted, with the exact spelling.
#[test]
fn a_runtime_spelt_with_other_case_or_spaces_is_accepted_with_a_warning() {
    for (written, exact) in [
        ("Nodejs12", "nodejs12"),
        ("Nodejs 12", "nodejs12"),
        ("PYTHON311", "python311"),
    ] {
        let dir = project_dir(&[(
            "apprunner.yaml",
            MINIMAL.replace("python311", written).as_bytes(),
        )]);
        let loaded = load(dir.path());
        let out = report(&loaded);
        assert_eq!(
            loaded.plan.as_ref().map(|p| p.runtime.name.as_str()),
            Some(exact),
            "{out}"
        );
        assert!(
            out.contains(&format!(
                "warning[AR209]: runtime `{written}` is read as `{exact}`"
            )) && out.contains(&format!("write `runtime: {exact}`"))
                && out.contains("apprunner.yaml:2:10"),
            "{out}"
        );
    }
    // Anything else stays an error with a suggestion.
    let out = check(&MINIMAL.replace("python311", "Nodejs-12x"));
    assert!(out.contains("error[AR200]"), "{out}");
}

/// Near-misses of App Runner runtimes this tool does not build, and Dockerfile services.
#[test]
fn near_misses_of_runtimes_this_tool_does_not_build() {
    let with = |rt: &str| check(&MINIMAL.replace("python311", rt));
    let out = with("ruby 3.1");
    assert!(
        out.contains("`ruby31`") && out.contains("does not build"),
        "{out}"
    );
    let out = with("java11");
    assert!(
        out.contains("write `runtime: corretto11`") && out.contains("does not build"),
        "{out}"
    );
    let out = with("java21");
    assert!(
        out.contains("`corretto11`") && out.contains("`corretto8`"),
        "{out}"
    );
    let out = with("Go 1");
    assert!(
        out.contains("error[AR201]") && out.contains("App Runner spells it `go1`"),
        "{out}"
    );
    for docker in ["dockerfile", "Dockerfile", "DOCKER"] {
        let out = with(docker);
        assert!(
            out.contains("build an image") && out.contains("image-based App Runner service"),
            "{docker}: {out}"
        );
    }
}

#[test]
fn unsupported_version_numbers_of_the_file() {
    let out = check(&MINIMAL.replace("version: 1.0", "version: 1.10"));
    assert!(
        out.contains("`1.10`") && out.contains("version: 1.0"),
        "{out}"
    );
    for ok in ["version: 1", "version: \"1.0\""] {
        let dir = project_dir(&[(
            "apprunner.yaml",
            MINIMAL.replace("version: 1.0", ok).as_bytes(),
        )]);
        assert!(load(dir.path()).plan.is_some(), "{ok}");
    }
}

#[test]
fn engines_node_conflict_names_both_origins() {
    let dir = project_dir(&[
        (
            "apprunner.yaml",
            b"version: 1.0\nruntime: nodejs18\nbuild:\n  commands:\n    build:\n      - npm ci\nrun:\n  runtime-version: 18.19.1\n  command: npm start\n",
        ),
        ("package.json", b"{\n  \"name\": \"app\",\n  \"engines\": {\n    \"node\": \">=18.20\"\n  }\n}\n"),
    ]);
    let loaded = load(dir.path());
    assert!(loaded.plan.is_none());
    insta::assert_snapshot!(report(&loaded));
}

#[test]
fn source_directory_is_the_config_and_build_root() {
    let dir = project_dir(&[("services/api/apprunner.yaml", MINIMAL.as_bytes())]);
    let loaded = support::load_args(ProjectArgs {
        dir: dir.path().to_path_buf(),
        source_directory: Some("services/api".into()),
        ..Default::default()
    });
    let plan = loaded.plan.expect("valid");
    assert!(plan.source_root.ends_with("services/api"));
    assert_eq!(
        plan.config_file.unwrap(),
        std::path::Path::new("services/api/apprunner.yaml")
    );

    let loaded = support::load_args(ProjectArgs {
        dir: dir.path().to_path_buf(),
        source_directory: Some("services/web".into()),
        ..Default::default()
    });
    let out = report(&loaded);
    assert!(
        out.contains("source directory") && out.contains("services/web"),
        "{out}"
    );
}

fn api(settings: ApiSettings) -> InputArgs {
    InputArgs {
        source: Some(ConfigurationSource::Api),
        settings,
    }
}

fn env(name: &str, value: &str) -> EnvVar {
    EnvVar {
        name: name.into(),
        value: value.into(),
    }
}

#[test]
fn flags_stand_in_for_the_file() {
    let dir = project_dir(&[("server.py", b"")]);
    let settings = ApiSettings {
        runtime: Some("python311".into()),
        build_command: Some("pip install -r requirements.txt".into()),
        start_command: Some("python server.py".into()),
        port: Some(8000),
        env: vec![env("NAME", "Ada")],
        build_env: vec![],
    };
    let loaded = support::load_args(ProjectArgs {
        dir: dir.path().to_path_buf(),
        input: api(settings),
        ..Default::default()
    });
    let plan = loaded.plan.expect("valid");
    assert_eq!(plan.image.port, 8000);
    assert!(
        matches!(&plan.image.env[0], ImageEnv::Set { name, value } if name == "NAME" && value == "Ada"),
        "{:?}",
        plan.image.env
    );
    assert!(plan.config_file.is_none());

    let loaded = support::load_args(ProjectArgs {
        dir: dir.path().to_path_buf(),
        input: api(ApiSettings {
            build_command: Some("make".into()),
            env: vec![env("PORT", "1")],
            ..Default::default()
        }),
        ..Default::default()
    });
    assert!(loaded.plan.is_none());
    insta::assert_snapshot!(report(&loaded));
}

/// With apprunner.yaml present, settings flags are an error unless the source is the API: they
/// never silently replace the file (`build --run --runtime-env X=1` once discarded it).
#[test]
fn settings_flags_never_silently_replace_apprunner_yaml() {
    let dir = project_dir(&[("apprunner.yaml", MINIMAL.as_bytes())]);
    let flags = ApiSettings {
        runtime: Some("nodejs22".into()),
        start_command: Some("node server.js".into()),
        env: vec![env("X", "1")],
        ..Default::default()
    };
    let loaded = support::load_args(ProjectArgs {
        dir: dir.path().to_path_buf(),
        input: InputArgs {
            source: None,
            settings: flags.clone(),
        },
        ..Default::default()
    });
    assert!(loaded.plan.is_none());
    let out = report(&loaded);
    assert!(out.contains("--configuration-source api"), "{out}");

    let loaded = support::load_args(ProjectArgs {
        dir: dir.path().to_path_buf(),
        input: api(flags),
        ..Default::default()
    });
    let plan = loaded
        .plan
        .as_ref()
        .expect("the API settings are the whole configuration");
    assert_eq!(plan.runtime.name, "nodejs22");
    assert!(plan.config_file.is_none());
    assert!(
        report(&loaded).contains("apprunner.yaml is ignored: the configuration source is the API"),
        "{}",
        report(&loaded)
    );
}

/// Without apprunner.yaml, one flag overrides one detected setting and detection keeps the rest.
#[test]
fn a_flag_overrides_one_detected_setting() {
    let dir = project_dir(&[
        (
            "package.json",
            br#"{"name":"a","scripts":{"start":"node index.js"}}"# as &[u8],
        ),
        ("package-lock.json", b"{}"),
    ]);
    let loaded = support::load_args(ProjectArgs {
        dir: dir.path().to_path_buf(),
        input: InputArgs {
            source: None,
            settings: ApiSettings {
                start_command: Some("node worker.js --serve".into()),
                ..Default::default()
            },
        },
        ..Default::default()
    });
    let plan = loaded.plan.expect("valid");
    assert_eq!(plan.image.start_command(), Some("node worker.js --serve"));
    assert_eq!(
        plan.commands(PhaseName::Build).collect::<Vec<_>>(),
        ["npm ci"],
        "the detected install stays"
    );
    let start = plan
        .decisions
        .iter()
        .find(|d| d.setting == "start command")
        .unwrap();
    assert_eq!(start.origin.to_string(), "the --start-command flag");
    assert_eq!(
        plan.decisions
            .iter()
            .filter(|d| d.setting == "start command")
            .count(),
        1
    );
}

/// Damaged versions of every conformance file: each gets an answer, never a panic.
#[test]
fn damaged_files_never_panic() {
    let root =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/conformance/files");
    let mut checked = 0;
    for entry in std::fs::read_dir(root).unwrap() {
        let text = std::fs::read(entry.unwrap().path()).unwrap();
        let mut variants: Vec<Vec<u8>> = Vec::new();
        for cut in (1..text.len()).step_by(7) {
            variants.push(text[..cut].to_vec());
        }
        for (i, insert) in [
            &b"\t"[..],
            b": ",
            b"\xff",
            b"- ",
            b"&a ",
            b"*a",
            b"{",
            b"\"",
            b"\n  x: [1",
        ]
        .iter()
        .enumerate()
        {
            let at = (text.len() * (i + 1) / 11).min(text.len());
            let mut v = text.clone();
            v.splice(at..at, insert.iter().copied());
            variants.push(v);
        }
        for v in variants {
            let dir = project_dir(&[("apprunner.yaml", &v)]);
            let loaded = load(dir.path());
            assert!(loaded.plan.is_some() || loaded.diagnostics.has_errors());
            checked += 1;
        }
    }
    assert!(checked > 1000, "{checked} variants");
}

#[test]
fn engines_node_outside_the_yaml_runtime_names_where_the_runtime_is_set() {
    let dir = project_dir(&[
        ("apprunner.yaml", b"version: 1.0\nruntime: nodejs18\nbuild:\n  commands:\n    build:\n      - npm ci\nrun:\n  command: npm start\n"),
        ("package.json", b"{\"engines\": {\"node\": \">=20\"}}"),
    ]);
    let out = report(&load(dir.path()));
    assert!(
        out.contains(
            "nodejs18 has no version matching `>=20` (engines.node in package.json line 1)"
        ),
        "{out}"
    );
    assert!(
        out.contains("the runtime is set to nodejs18 at apprunner.yaml:2:10"),
        "{out}"
    );
    assert!(out.contains("use `runtime: nodejs22`"), "{out}");
}

/// `PORT` in `run.env`: quoting never changes the verdict. Equal to the service port: a warning;
/// different: an error naming the item and the port's line.
#[test]
fn port_in_run_env_quoting_never_changes_the_verdict() {
    for value in ["3000", "\"3000\"", "'3000'"] {
        let yaml = format!(
            "{MINIMAL}  network:\n    port: 3000\n  env:\n    - name: PORT\n      value: {value}\n"
        );
        let dir = project_dir(&[("apprunner.yaml", yaml.as_bytes())]);
        let loaded = load(dir.path());
        let out = report(&loaded);
        assert!(loaded.plan.is_some(), "{value}: {out}");
        assert!(
            out.contains("warning[AR124]") && out.contains("apprunner.yaml:12:13"),
            "{value}: {out}"
        );
    }
    for value in ["8000", "\"8000\""] {
        let out = check(&format!(
            "{MINIMAL}  network:\n    port: 3000\n  env:\n    - name: PORT\n      value: {value}\n"
        ));
        assert!(
            out.contains(
                "error[AR128]: `PORT` in `run.env` is `8000`, but the service port is 3000"
            ) && out.contains("apprunner.yaml:13:14")
                && out.contains("the service port is set at apprunner.yaml:10:11"),
            "{value}: {out}"
        );
    }
    // Without run.network.port, the service port is 8080.
    let dir = project_dir(&[(
        "apprunner.yaml",
        format!("{MINIMAL}  env:\n    - name: PORT\n      value: 8080\n").as_bytes(),
    )]);
    assert!(load(dir.path()).plan.is_some());
    let out = check(&format!(
        "{MINIMAL}  env:\n    - name: PORT\n      value: 3000\n"
    ));
    assert!(out.contains("the default port 8080"), "{out}");
    // A broken port is reported once; PORT is not compared with a port nobody wrote.
    let out = check(&format!(
        "{MINIMAL}  network:\n    port: \"<<port>>\"\n  env:\n    - name: PORT\n      value: 3000\n"
    ));
    assert!(
        out.contains("error[AR121]") && !out.contains("AR128") && out.contains("1 problem found"),
        "{out}"
    );
}

/// A secret name App Runner takes but a shell cannot read is a warning; one no environment can
/// hold stays an error.
#[test]
fn secret_names_a_shell_cannot_read_are_a_warning() {
    let secret = |name: &str| {
        format!("{MINIMAL}  secrets:\n    - name: {name}\n      value-from: arn:aws:secretsmanager:us-east-1:123456789012:secret:app/env\n")
    };
    let dir = project_dir(&[("apprunner.yaml", secret("app/env").as_bytes())]);
    let loaded = load(dir.path());
    let out = report(&loaded);
    assert!(loaded.plan.is_some(), "{out}");
    assert!(
        out.contains("warning[AR129]")
            && out.contains("apprunner.yaml:10:13")
            && out.contains("os.environ[\"app/env\"]"),
        "{out}"
    );
    let out = check(&secret("\"A=B\""));
    assert!(out.contains("error[AR122]"), "{out}");
}

/// The scanner stops after the mistake (here on the blank line after it); the message points at
/// the line that causes it, in plain words.
#[test]
fn a_syntax_error_points_at_its_cause() {
    insta::assert_snapshot!(check(
        "version: 1.0\nruntime: python311\nbuild:\n  commands:\n    build:\n      - pip install -r requirements.txt\nrun:\n  command: python app.py\n  ports:\n    - 80\n    -'8000:8000'\n\n"
    ));
    for (yaml, at, says) in [
        (
            "version: 1.0\nruntime: python311\nbuild:\n  commands:\n    build:\n      - make\n      -'8000:8000'\nrun:\n  command: x\n",
            "apprunner.yaml:7:7",
            "write `- '8000:8000'`",
        ),
        (
            "version: 1.0\nruntime: python311\nbuild:\n  commands:\n    build:\n      - echo a: b: c\nrun:\n  command: x\n",
            "apprunner.yaml:6:7",
            "- 'echo a: b: c'",
        ),
        (
            "version: 1.0\nruntime: python311\nbuild:\n  commands:\n    build:\n      - [make\nrun:\n  command: x\n",
            "apprunner.yaml:6:9",
            "`[` is not closed",
        ),
        (
            "version: 1.0\nruntime: python311\nbuild:\n  commands:\n    build:\n      - make\nrun:\n  command: \"x\n  network:\n    port: 8000\n",
            "apprunner.yaml:8:12",
            "a quoted value is not closed",
        ),
    ] {
        let out = check(yaml);
        assert!(
            out.contains(at) && out.contains(says) && !out.contains("parser says"),
            "{yaml}\n{out}"
        );
    }
}

/// An empty `runtime:` is reported on its own line, with the runtimes to choose from.
#[test]
fn an_empty_runtime_is_located_on_its_line() {
    let out = check(&MINIMAL.replace("runtime: python311", "runtime:   # TODO"));
    assert!(
        out.contains("`runtime` is empty")
            && out.contains("apprunner.yaml:2:1")
            && out.contains("python311, nodejs12"),
        "{out}"
    );
    // Any empty value is located at its key, not at the next line.
    let out = check(&format!("{MINIMAL}  network:\n    port:\n\n"));
    assert!(out.contains("apprunner.yaml:10:5"), "{out}");
}

/// The caret under a quoted value covers the quoted text with its quotes.
#[test]
fn carets_cover_quoted_values_exactly() {
    let out = check(&format!(
        "{MINIMAL}  network:\n    port: \"80 80\"  # comment\n"
    ));
    assert!(
        out.contains("    port: \"80 80\"  # comment\n   |           ^^^^^^^\n"),
        "{out}"
    );
    let out = check(&MINIMAL.replace("version: 1.0", "version: 'it''s 2'"));
    assert!(
        out.contains("1 | version: 'it''s 2'\n  |          ^^^^^^^^^\n"),
        "{out}"
    );
}

/// A Dockerfile, a docker-compose file or a Kubernetes manifest under the name apprunner.yaml
/// gets one message that says what the file is.
#[test]
fn a_dockerfile_or_compose_file_says_what_it_is() {
    let out = check("# syntax=docker/dockerfile:1\nARG PY=3.11\nFROM python:${PY}-slim\nWORKDIR /app\nCOPY . .\nCMD [\"python\", \"app.py\"]\n");
    assert!(
        out.contains("error[AR135]: this file is a Dockerfile")
            && out.contains("apprunner.yaml:3:1")
            && out.contains("image-based App Runner service")
            && out.contains("error: 1 problem found"),
        "{out}"
    );
    insta::assert_snapshot!(check(
        "version: \"3.8\"\nservices:\n  web:\n    build: .\n    ports:\n      - \"8000:8000\"\n"
    ));
}

/// Health checks and an empty build get the hint App Runner users need.
#[test]
fn health_check_and_nothing_to_build_hints() {
    let out = check(&format!(
        "{MINIMAL}  health-check:\n    protocol: HTTP\n    path: /health\n"
    ));
    assert!(
        out.contains("apprunner.yaml:9:3")
            && out.contains("health checks are a setting of the App Runner service")
            && out.contains("apprunner-build run --health-check http:/health"),
        "{out}"
    );
    let out = check(
        "version: 1.0\nruntime: python311\nhealth_check: {}\nrun:\n  command: python app.py\n",
    );
    assert!(out.contains("--health-check tcp"), "{out}");
    assert!(
        out.contains("warning[AR116]: no `build` section") && out.contains("- echo \"no build\""),
        "{out}"
    );
}

/// A `--runtime-env` flag replaces a detected variable of the same name; it is never set twice.
#[test]
fn a_runtime_env_flag_replaces_the_detected_variable() {
    let dir = project_dir(&[
        (
            "package.json",
            br#"{"name":"a","scripts":{"start":"node index.js"}}"# as &[u8],
        ),
        ("package-lock.json", b"{}"),
    ]);
    let loaded = support::load_args(ProjectArgs {
        dir: dir.path().to_path_buf(),
        input: InputArgs {
            source: None,
            settings: ApiSettings {
                env: vec![env("NODE_ENV", "development")],
                ..Default::default()
            },
        },
        ..Default::default()
    });
    let plan = loaded.plan.expect("valid");
    let node_env: Vec<&ImageEnv> = plan
        .image
        .env
        .iter()
        .filter(|e| matches!(e, ImageEnv::Set { name, .. } if name == "NODE_ENV"))
        .collect();
    assert_eq!(
        node_env,
        [&ImageEnv::Set {
            name: "NODE_ENV".into(),
            value: "development".into()
        }]
    );
}

/// A NUL byte in a variable's value (YAML's `"\0"`, or `--runtime-env`) is refused where it is
/// written: no process can receive it in its environment.
#[test]
fn a_nul_byte_in_a_variable_value_is_refused_where_it_is_written() {
    let out = check(
        "version: 1.0\nruntime: python311\nbuild:\n  commands:\n    build:\n      - pip install -r requirements.txt\n  env:\n    - name: TOKEN\n      value: \"abc\\0def\"\nrun:\n  command: python server.py\n  env:\n    - name: GREETING\n      value: \"hi\\0\"\n    - name: FINE\n      value: \"ok\"\n",
    );
    assert_eq!(out.matches("error[AR137]").count(), 2, "{out}");
    assert!(
        out.contains("the value of `TOKEN` in `build.env` contains a NUL byte")
            && out.contains("apprunner.yaml:9:14")
            && out.contains("the value of `GREETING` in `run.env` contains a NUL byte")
            && out.contains("apprunner.yaml:14:14"),
        "{out}"
    );
    assert!(!out.contains('\0'), "the value is not printed: {out:?}");

    let dir = project_dir(&[("server.py", b"")]);
    let loaded = support::load_args(ProjectArgs {
        dir: dir.path().to_path_buf(),
        input: api(ApiSettings {
            runtime: Some("python311".into()),
            start_command: Some("python server.py".into()),
            env: vec![env("NAME", "Ada\0Lovelace")],
            ..Default::default()
        }),
        ..Default::default()
    });
    assert!(loaded.plan.is_none());
    let out = report(&loaded);
    assert!(
        out.contains("error[AR137]: the value of `NAME` in `--runtime-env` contains a NUL byte"),
        "{out}"
    );
}

/// `--source-directory` is a path from the repository root, as App Runner reads it: `/backend`
/// is `backend`, not the host's `/backend`; only a path that leads out of the repository is
/// refused, located.
#[test]
fn source_directory_is_a_path_from_the_repository_root() {
    let dir = project_dir(&[("backend/apprunner.yaml", MINIMAL.as_bytes())]);
    let with = |sub: &str| {
        support::load_args(ProjectArgs {
            dir: dir.path().to_path_buf(),
            source_directory: Some(sub.into()),
            ..Default::default()
        })
    };
    for sub in [
        "/backend",
        "backend",
        "backend/",
        "./backend",
        "/backend/../backend",
    ] {
        let loaded = with(sub);
        let out = report(&loaded);
        let plan = loaded.plan.unwrap_or_else(|| panic!("{sub}: {out}"));
        assert_eq!(plan.source_root, dir.path().join("backend"), "{sub}");
        assert_eq!(
            plan.config_file.unwrap(),
            std::path::Path::new("backend/apprunner.yaml"),
            "{sub}"
        );
    }
    let outside = project_dir(&[("apprunner.yaml", MINIMAL.as_bytes())]);
    #[cfg(unix)]
    std::os::unix::fs::symlink(outside.path(), dir.path().join("linked")).unwrap();
    let escapes = [
        ("..", "climbs above the repository root"),
        ("backend/../../x", "climbs above the repository root"),
        ("/../etc", "climbs above the repository root"),
        #[cfg(unix)]
        ("linked", "leads through a symlink out of the repository"),
    ];
    for (sub, why) in escapes {
        let loaded = with(sub);
        assert!(loaded.plan.is_none(), "{sub}");
        let out = report(&loaded);
        assert!(
            out.contains("error[AR138]")
                && out.contains(&format!("source directory `{sub}` {why}"))
                && out.contains(" --> "),
            "{sub}: {out}"
        );
    }
}

/// `--build-env` is apprunner.yaml's `build.env` for a project without one: the build commands get
/// it, the image does not; next to apprunner.yaml it is refused like every settings flag.
#[test]
fn build_env_flag_reaches_the_build_commands_only() {
    let dir = project_dir(&[
        ("requirements.txt", b"gunicorn\n"),
        (
            "app.py",
            b"from flask import Flask\napp = Flask(__name__)\n",
        ),
    ]);
    let with = |build_env: Vec<EnvVar>| {
        support::load_args(ProjectArgs {
            dir: dir.path().to_path_buf(),
            input: InputArgs {
                source: None,
                settings: ApiSettings {
                    build_env,
                    ..Default::default()
                },
            },
            ..Default::default()
        })
    };
    let loaded = with(vec![env("DISABLE_COLLECTSTATIC", "1")]);
    let found = report(&loaded);
    let plan = loaded.plan.unwrap_or_else(|| panic!("{found}"));
    let view = apprunner_build::plan::render(&plan);
    assert!(
        view.contains("build env: `DISABLE_COLLECTSTATIC` — from the --build-env flag")
            && view.contains("build env (every command): DISABLE_COLLECTSTATIC=1"),
        "{view}"
    );
    assert!(
        !plan
            .image
            .env
            .iter()
            .any(|e| matches!(e, ImageEnv::Set { name, .. } if name == "DISABLE_COLLECTSTATIC")),
        "{:?}",
        plan.image.env
    );

    let loaded = with(vec![env("AWSAPPRUNNER_X", "1"), env("1BAD", "x")]);
    assert!(loaded.plan.is_none());
    let found = report(&loaded);
    assert!(
        found.contains("error[AR123]") && found.contains("`--build-env`") && found.contains("1BAD"),
        "{found}"
    );

    std::fs::write(dir.path().join("apprunner.yaml"), MINIMAL).unwrap();
    let loaded = with(vec![env("DISABLE_COLLECTSTATIC", "1")]);
    assert!(loaded.plan.is_none());
    assert!(
        report(&loaded).contains("error[AR131]"),
        "{}",
        report(&loaded)
    );
}
