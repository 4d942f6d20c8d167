//! Google Cloud Run: a Knative `serving.knative.dev/v1` Service, as `gcloud run services replace`
//! reads it. Cloud Run sets `PORT` itself (to `containerPort`) and refuses it in `env`; secrets
//! come from Secret Manager, which the user fills from their own values.

use super::fargate::{self, Size};
use super::kubernetes::{cpu_quantity, memory_quantity};
use super::{carry, yaml, ExportFile, Exported, Service};
use crate::engine::run::HealthProtocol;
use crate::report::diagnostic::Diagnostics;
use serde_json::{json, Value};

pub fn export(service: &Service, mut diagnostics: Diagnostics) -> Exported {
    let size = cloud_run_size(service.size);
    if size != service.size {
        diagnostics.push(
            carry::size_rounded(&shown(service.size), &shown(size), "Cloud Run")
                .with_note("Cloud Run gives less than 1 vCPU only to services that take one request at a time, and more than 4 GiB of memory needs 2 vCPU (more than 8 GiB, 4)"),
        );
    }
    let mut comment = vec![format!(
        "{}: exported from App Runner by apprunner-build",
        service.name
    )];
    if !service.secrets.is_empty() {
        let how = "for each: gcloud secrets create ID --data-file=FILE (FILE holds the value, from the source named), then give the service's service account roles/secretmanager.secretAccessor on it".to_string();
        let sources: Vec<String> = service
            .secrets
            .iter()
            .map(|s| {
                format!(
                    "Secret Manager secret {} ← {}",
                    secret_id(&s.name),
                    s.value_from
                )
            })
            .collect();
        comment.push("Before deploying: create these Secret Manager secrets, whose values this file never holds:".into());
        comment.push(format!("  {how}"));
        comment.extend(sources.iter().map(|s| format!("  {s}")));
        diagnostics.push(carry::secrets_to_create(
            "run.secrets become Secret Manager secrets (version `latest`), which you create: App Runner's AWS references do not reach Cloud Run".into(),
            how,
            sources,
        ));
    }
    if let Some(role) = &service.instance_role {
        diagnostics.push(carry::dropped(
            format!("the instance role `{role}` has no place in Cloud Run"),
            "run the service as a Google service account (serviceAccountName) with the access the application needs",
        ));
    }
    diagnostics.0.extend(carry::not_carried(
        "Direct VPC egress or a Serverless VPC Access connector (the run.googleapis.com/vpc-access-* annotations)",
        "a Cloud Run domain mapping, or a load balancer in front of the service",
        "the autoscaling.knative.dev/min-scale and max-scale annotations, and containerConcurrency",
    ));
    let probe = probe(service, &mut diagnostics);
    let text = yaml::document(&comment, &manifest(service, size, probe));
    Exported {
        stdout: text.clone(),
        files: vec![ExportFile {
            name: "service.yaml",
            text,
        }],
        diagnostics,
    }
}

fn shown(size: Size) -> String {
    format!(
        "{} / {}",
        fargate::show_cpu(size.cpu),
        fargate::show_memory(size.memory)
    )
}

/// At least 1 vCPU, and the CPU Cloud Run requires for the memory.
fn cloud_run_size(want: Size) -> Size {
    let for_memory = match want.memory {
        m if m > 8192 => 4096,
        m if m > 4096 => 2048,
        _ => 1024,
    };
    Size {
        cpu: want.cpu.max(for_memory),
        memory: want.memory,
    }
}

/// Secret Manager's IDs hold letters, digits, `-` and `_`.
fn secret_id(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Cloud Run's liveness probe takes HTTP, not TCP; a TCP check becomes the startup probe.
fn probe(service: &Service, diagnostics: &mut Diagnostics) -> (&'static str, Value) {
    let h = &service.health;
    let mut probe = json!({
        "periodSeconds": h.interval.as_secs(),
        "timeoutSeconds": h.timeout.as_secs(),
        "failureThreshold": h.unhealthy_threshold,
    });
    if h.healthy_threshold != 1 {
        diagnostics.push(carry::health_changed(
            format!(
                "the health check's healthy threshold ({}) does not carry over to Cloud Run",
                h.healthy_threshold
            ),
            "Cloud Run's probes count one passing check",
        ));
    }
    match &h.protocol {
        HealthProtocol::Http(path) => {
            probe["httpGet"] = json!({"path": path, "port": service.port});
            ("livenessProbe", probe)
        }
        HealthProtocol::Tcp => {
            probe["tcpSocket"] = json!({"port": service.port});
            diagnostics.push(carry::health_changed(
                "Cloud Run checks TCP only while an instance starts (startupProbe): App Runner's TCP check while it runs does not carry over",
                "Cloud Run's liveness probe takes HTTP or gRPC; pass --health-check http:/PATH for one",
            ));
            ("startupProbe", probe)
        }
    }
}

fn manifest(service: &Service, size: Size, (probe_kind, probe): (&str, Value)) -> Value {
    // Cloud Run sets PORT to containerPort and refuses it in env.
    let mut env: Vec<Value> = service
        .variables(false)
        .iter()
        .map(|v| json!({"name": v.name, "value": v.value}))
        .collect();
    env.extend(service.secrets.iter().map(|s| {
        json!({"name": s.name, "valueFrom": {"secretKeyRef": {"name": secret_id(&s.name), "key": "latest"}}})
    }));
    let mut container = json!({
        "image": service.image,
        "command": service.command_array(),
        "workingDir": crate::plan::APP_DIR,
        "ports": [{"name": "http1", "containerPort": service.port}],
        "resources": {"limits": {
            "cpu": cpu_quantity(size.cpu),
            "memory": memory_quantity(size.memory),
        }},
    });
    container[probe_kind] = probe;
    if !env.is_empty() {
        container["env"] = Value::Array(env);
    }
    json!({
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Service",
        "metadata": {"name": service.name},
        "spec": {"template": {"spec": {"containers": [container]}}},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_fit_cloud_run() {
        let s = |cpu, memory| Size { cpu, memory };
        assert_eq!(cloud_run_size(s(1024, 2048)), s(1024, 2048));
        assert_eq!(cloud_run_size(s(256, 512)), s(1024, 512));
        assert_eq!(cloud_run_size(s(1024, 6144)), s(2048, 6144));
        assert_eq!(cloud_run_size(s(2048, 12288)), s(4096, 12288));
        assert_eq!(secret_id("app/env"), "app_env");
    }
}
