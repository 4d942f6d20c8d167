use super::options::{collect_secrets_from, port_env};
use super::service::{shown_address, url_host};
use super::*;
use std::collections::HashMap;

#[test]
fn the_network_env_variable_is_the_one_set_to_the_port_right_after_port() {
    let env = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let with = env(&[("PATH", "/bin"), ("PORT", "8000"), ("APP_PORT", "8000")]);
    assert_eq!(port_env(&with, 8000).as_deref(), Some("APP_PORT"));
    let without = env(&[("PORT", "8000"), ("OTHER", "x")]);
    assert_eq!(port_env(&without, 8000), None);
    assert_eq!(port_env(&env(&[("A", "8000")]), 8000), None);
}

#[test]
fn publish_takes_a_port_or_an_address_and_a_port() {
    let local = |port| Publish {
        ip: Publish::DEFAULT_IP,
        port,
    };
    assert_eq!(Publish::parse("8080"), Ok(local(8080)));
    assert_eq!(Publish::parse("0"), Ok(local(0)));
    assert_eq!(
        Publish::parse("0.0.0.0:8080").unwrap().ip.to_string(),
        "0.0.0.0"
    );
    assert_eq!(Publish::parse("[::1]:80").unwrap().ip.to_string(), "::1");
    assert!(Publish::parse("localhost:80")
        .unwrap_err()
        .contains("not an IP address"));
    assert!(Publish::parse("70000").unwrap_err().contains("not a port"));
    assert_eq!(url_host(Publish::DEFAULT_IP, 80), "localhost:80");
    assert_eq!(url_host("0.0.0.0".parse().unwrap(), 80), "localhost:80");
    assert_eq!(url_host("10.1.2.3".parse().unwrap(), 80), "10.1.2.3:80");
    assert_eq!(
        shown_address("0.0.0.0".parse().unwrap(), 80),
        "every interface (0.0.0.0), port 80"
    );
}

#[test]
fn root_is_an_empty_user_root_or_uid_0_with_or_without_a_group() {
    for root in ["", "root", "0", "00", "root:root", "0:0", ":1000"] {
        assert!(is_root_user(root), "{root:?}");
    }
    for other in ["app", "1000", "node:node", "1000:0", "rooted"] {
        assert!(!is_root_user(other), "{other:?}");
    }
}

#[test]
fn a_nul_in_a_secret_value_is_refused_naming_the_secret_not_the_value() {
    let given = HashMap::from([("API_TOKEN".to_string(), "abc\0def-value".to_string())]);
    let e = collect_secrets(&["API_TOKEN".to_string()], &given, &[]).unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, RunError::BadSecret { .. }), "{text}");
    assert!(text.contains("API_TOKEN") && text.contains("NUL"), "{text}");
    assert!(!text.contains("def-value"), "{text}");
}

#[test]
fn the_environment_gives_only_the_secrets_named_with_secret() {
    let wanted = ["GITHUB_TOKEN".to_string(), "API_KEY".to_string()];
    let env = |name: &str| (name == "GITHUB_TOKEN").then(|| "ghp_host_token".to_string());
    let file = HashMap::from([("API_KEY".to_string(), "from-file".to_string())]);
    // The image asks; the environment has it; nobody named it: not given.
    match collect_secrets_from(&wanted, &file, &[], env) {
        Err(RunError::MissingSecrets(names)) => assert_eq!(names, ["GITHUB_TOKEN"]),
        other => panic!("{other:?}"),
    }
    let given = collect_secrets_from(&wanted, &file, &["GITHUB_TOKEN".to_string()], env).unwrap();
    assert_eq!(
        given,
        [
            ("GITHUB_TOKEN".to_string(), "ghp_host_token".to_string()),
            ("API_KEY".to_string(), "from-file".to_string())
        ]
    );
}
