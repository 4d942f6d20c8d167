//! Kubernetes: a Deployment (one replica, as App Runner's minimum) and a ClusterIP Service in front
//! of it. `run.secrets` become `secretKeyRef`s to one Secret that the user creates from their own
//! values; the comment at the top of the Deployment and a note say how.

use super::{carry, yaml, ExportFile, Exported, Service};
use crate::engine::run::HealthProtocol;
use crate::report::diagnostic::Diagnostics;
use serde_json::{json, Value};

const NAME_LABEL: &str = "app.kubernetes.io/name";

pub fn export(service: &Service, mut diagnostics: Diagnostics) -> Exported {
    let secret = format!("{}-secrets", service.name);
    let mut comment = vec![format!(
        "{}: exported from App Runner by apprunner-build",
        service.name
    )];
    if !service.secrets.is_empty() {
        let how = format!(
            "kubectl create secret generic {secret} --from-env-file=secrets.env (secrets.env: one NAME=VALUE line per key listed, the file `apprunner-build run --secrets-file` reads)"
        );
        let sources: Vec<String> = service
            .secrets
            .iter()
            .map(|s| format!("key {} ← {}", secret_key(&s.name), s.value_from))
            .collect();
        comment.push(format!(
            "Before applying: create the Secret {secret}, whose values this file never holds:"
        ));
        comment.push(format!("  {how}"));
        comment.extend(sources.iter().map(|s| format!("  {s}")));
        diagnostics.push(carry::secrets_to_create(
            format!(
                "run.secrets become keys of the Secret `{secret}`, which the Deployment reads and which you create"
            ),
            how,
            sources,
        ));
    }
    if let Some(role) = &service.instance_role {
        diagnostics.push(carry::dropped(
            format!("the instance role `{role}` has no place in a Deployment"),
            "on EKS, give the pod a service account tied to the role (EKS Pod Identity, or IAM roles for service accounts)",
        ));
    }
    diagnostics.0.extend(carry::not_carried(
        "the cluster's network decides what pods reach; route it to the VPC there",
        "an Ingress or a Gateway with the domain and a TLS certificate (App Runner served HTTPS itself; the Service here is cluster-internal)",
        "a HorizontalPodAutoscaler for the minimum and maximum replicas; Kubernetes has no per-instance concurrency limit",
    ));
    let deployment = yaml::document(&comment, &deployment(service, &secret));
    let svc = yaml::document(&[], &service_manifest(service));
    Exported {
        stdout: format!("{deployment}---\n{svc}"),
        files: vec![
            ExportFile {
                name: "deployment.yaml",
                text: deployment,
            },
            ExportFile {
                name: "service.yaml",
                text: svc,
            },
        ],
        diagnostics,
    }
}

/// A Secret's keys may hold letters, digits, `-`, `_` and `.`; App Runner's names may hold more
/// (`app/env`).
fn secret_key(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn labels(service: &Service) -> Value {
    json!({ NAME_LABEL: service.name })
}

fn deployment(service: &Service, secret: &str) -> Value {
    let mut env: Vec<Value> = service
        .variables(true)
        .iter()
        .map(|v| json!({"name": v.name, "value": v.value}))
        .collect();
    env.extend(service.secrets.iter().map(|s| {
        json!({"name": s.name, "valueFrom": {"secretKeyRef": {"name": secret, "key": secret_key(&s.name)}}})
    }));
    // App Runner gives each instance exactly its size: requests and limits alike.
    let size = json!({
        "cpu": cpu_quantity(service.size.cpu),
        "memory": memory_quantity(service.size.memory),
    });
    let container = json!({
        "name": service.name,
        "image": service.image,
        "command": service.command_array(),
        "workingDir": crate::plan::APP_DIR,
        "ports": [{"name": "http", "containerPort": service.port, "protocol": "TCP"}],
        "env": env,
        "resources": {"requests": size, "limits": size},
        // Readiness takes traffic away as App Runner's check does; liveness replaces the
        // instance, and Kubernetes allows it only a success threshold of 1.
        "readinessProbe": probe(service, service.health.healthy_threshold),
        "livenessProbe": probe(service, 1),
    });
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": service.name, "labels": labels(service)},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels(service)},
            "template": {
                "metadata": {"labels": labels(service)},
                "spec": {"containers": [container]},
            },
        },
    })
}

fn probe(service: &Service, success_threshold: u32) -> Value {
    let h = &service.health;
    let mut probe = json!({
        "periodSeconds": h.interval.as_secs(),
        "timeoutSeconds": h.timeout.as_secs(),
        "successThreshold": success_threshold,
        "failureThreshold": h.unhealthy_threshold,
    });
    match &h.protocol {
        HealthProtocol::Tcp => probe["tcpSocket"] = json!({"port": "http"}),
        HealthProtocol::Http(path) => probe["httpGet"] = json!({"path": path, "port": "http"}),
    }
    probe
}

fn service_manifest(service: &Service) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": service.name, "labels": labels(service)},
        "spec": {
            "type": "ClusterIP",
            "selector": labels(service),
            "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
        },
    })
}

/// CPU units as a Kubernetes quantity: `1`, `250m`.
pub fn cpu_quantity(units: u32) -> String {
    if units.is_multiple_of(1024) {
        (units / 1024).to_string()
    } else {
        format!("{}m", units as u64 * 1000 / 1024)
    }
}

/// MiB as a Kubernetes quantity: `2Gi`, `512Mi`.
pub fn memory_quantity(mib: u32) -> String {
    if mib.is_multiple_of(1024) {
        format!("{}Gi", mib / 1024)
    } else {
        format!("{mib}Mi")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities() {
        assert_eq!(cpu_quantity(256), "250m");
        assert_eq!(cpu_quantity(2048), "2");
        assert_eq!(memory_quantity(512), "512Mi");
        assert_eq!(memory_quantity(3072), "3Gi");
        assert_eq!(secret_key("app/env"), "app_env");
    }
}
