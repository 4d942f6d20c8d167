//! Amazon ECS on Fargate: a task definition (the input of `RegisterTaskDefinition`) and an ECS
//! Express Mode service (the input of `CreateExpressGatewayService`), both as JSON that
//! `aws ecs register-task-definition --cli-input-json` and `aws ecs create-express-gateway-service
//! --cli-input-json` read. Field names are the ECS API's; tests check them against botocore's model.

use super::fargate::{self, Size};
use super::{carry, probes, ExportFile, Exported, Service};
use crate::engine::run::HealthProtocol;
use crate::report::diagnostic::Diagnostics;
use serde_json::{json, Value};

/// Placeholders for the roles ECS needs and App Runner does not: its own service roles.
const EXECUTION_ROLE_PLACEHOLDER: &str = "<execution-role-arn>";
const INFRASTRUCTURE_ROLE_PLACEHOLDER: &str = "<infrastructure-role-arn>";

/// ECS's limits on a container health check (seconds; retries).
const INTERVAL: (u64, u64) = (5, 300);
const TIMEOUT: (u64, u64) = (2, 60);
const RETRIES: (u32, u32) = (1, 10);

pub fn export(service: &Service, mut diagnostics: Diagnostics) -> Exported {
    let size = fargate::fargate_size(service.size);
    if size != service.size {
        diagnostics.push(carry::size_rounded(
            &shown(service.size),
            &shown(size),
            "Fargate",
        ));
    }
    let execution_role = execution_role(service, &mut diagnostics);
    let task = task_definition(service, size, &execution_role, &mut diagnostics);
    let express = express_service(service, size, &execution_role, &mut diagnostics);
    diagnostics.0.extend(carry::not_carried(
        "set the subnets and security groups: the task definition's service (networkConfiguration), or Express Mode's networkConfiguration",
        "point the domain at the load balancer (Express Mode gives the service a URL; a domain of your own goes through Route 53 and ACM)",
        "Express Mode's scalingTarget (minTaskCount, maxTaskCount, a metric such as REQUEST_COUNT_PER_TARGET), or Application Auto Scaling for a service of the task definition",
    ));
    diagnostics.push(carry::dropped(
        "App Runner's application logs in CloudWatch: the task definition has no logConfiguration",
        "add a logConfiguration (the awslogs driver, with a log group and region) to the container; Express Mode's primaryContainer.awsLogsConfiguration names a log group",
    ));
    let pretty = |v: &Value| serde_json::to_string_pretty(v).expect("JSON values serialize") + "\n";
    Exported {
        stdout: pretty(&json!({
            "RegisterTaskDefinition": task,
            "CreateExpressGatewayService": express,
        })),
        files: vec![
            ExportFile {
                name: "task-definition.json",
                text: pretty(&task),
            },
            ExportFile {
                name: "express-gateway-service.json",
                text: pretty(&express),
            },
        ],
        diagnostics,
    }
}

/// `1024` CPU units and `2048` MiB as App Runner writes them.
fn shown(size: Size) -> String {
    format!(
        "{} / {}",
        fargate::show_cpu(size.cpu),
        fargate::show_memory(size.memory)
    )
}

/// The execution role, given or a placeholder: ECS pulls an image from ECR, sends logs and reads
/// secrets with it (App Runner used its own access role and the instance role).
fn execution_role(service: &Service, diagnostics: &mut Diagnostics) -> String {
    match &service.execution_role {
        Some(role) => role.clone(),
        None => {
            diagnostics.push(carry::placeholder(
                "executionRoleArn",
                EXECUTION_ROLE_PLACEHOLDER,
                "--execution-role",
                "ECS pulls the image from ECR, sends logs and reads run.secrets with the task execution role (secretsmanager:GetSecretValue, ssm:GetParameters)",
            ));
            EXECUTION_ROLE_PLACEHOLDER.into()
        }
    }
}

fn environment(service: &Service) -> Value {
    service
        .variables(true)
        .iter()
        .map(|v| json!({"name": v.name, "value": v.value}))
        .collect()
}

/// App Runner's references are ECS's `valueFrom` forms as they are: a Secrets Manager ARN (with
/// a `:json-key:version-stage:version-id` suffix), an SSM parameter ARN, or a parameter name.
fn secrets(service: &Service) -> Value {
    service
        .secrets
        .iter()
        .map(|s| json!({"name": s.name, "valueFrom": s.value_from}))
        .collect()
}

fn task_definition(
    service: &Service,
    size: Size,
    execution_role: &str,
    diagnostics: &mut Diagnostics,
) -> Value {
    let mut container = json!({
        "name": service.name,
        "image": service.image,
        "essential": true,
        "command": service.command_array(),
        "workingDirectory": crate::plan::APP_DIR,
        "portMappings": [{
            "name": "http",
            "containerPort": service.port,
            "protocol": "tcp",
            "appProtocol": "http",
        }],
        "environment": environment(service),
        "healthCheck": container_health_check(service, diagnostics),
    });
    if !service.secrets.is_empty() {
        container["secrets"] = secrets(service);
    }
    let mut task = json!({
        "family": service.name,
        "requiresCompatibilities": ["FARGATE"],
        "networkMode": "awsvpc",
        "cpu": size.cpu.to_string(),
        "memory": size.memory.to_string(),
        "runtimePlatform": {"operatingSystemFamily": "LINUX", "cpuArchitecture": "X86_64"},
        "executionRoleArn": execution_role,
        "containerDefinitions": [container],
    });
    if let Some(role) = &service.instance_role {
        task["taskRoleArn"] = json!(role);
    }
    task
}

/// App Runner's check as the container's own: a command in the image, ECS's interval, timeout and
/// retries (its ranges are narrower than App Runner's 1–20).
fn container_health_check(service: &Service, diagnostics: &mut Diagnostics) -> Value {
    let h = &service.health;
    let mut fitted = |what: &str, asked: u64, (low, high): (u64, u64)| {
        let got = asked.clamp(low, high);
        if got != asked {
            diagnostics.push(carry::health_changed(
                format!("the health check's {what} is {asked}, outside ECS's {low}–{high}: the task definition says {got}"),
                "ECS checks a container within these limits",
            ));
        }
        got
    };
    let interval = fitted("interval (seconds)", h.interval.as_secs(), INTERVAL);
    let timeout = fitted("timeout (seconds)", h.timeout.as_secs(), TIMEOUT);
    let retries = fitted(
        "unhealthy threshold",
        h.unhealthy_threshold.into(),
        (RETRIES.0.into(), RETRIES.1.into()),
    );
    if h.healthy_threshold != 1 {
        diagnostics.push(carry::health_changed(
            format!(
                "the health check's healthy threshold ({}) does not carry over to the task definition",
                h.healthy_threshold
            ),
            "ECS calls a container healthy after one passing check",
        ));
    }
    json!({
        "command": ["CMD-SHELL", probes::shell_check(&service.runtime, &h.protocol, service.port)],
        "interval": interval,
        "timeout": timeout,
        "retries": retries,
    })
}

fn express_service(
    service: &Service,
    size: Size,
    execution_role: &str,
    diagnostics: &mut Diagnostics,
) -> Value {
    let mut container = json!({
        "image": service.image,
        "containerPort": service.port,
        "command": service.command_array(),
        "environment": environment(service),
    });
    if !service.secrets.is_empty() {
        container["secrets"] = secrets(service);
    }
    let infrastructure_role = match &service.infrastructure_role {
        Some(role) => role.clone(),
        None => {
            diagnostics.push(carry::placeholder(
                "infrastructureRoleArn",
                INFRASTRUCTURE_ROLE_PLACEHOLDER,
                "--infrastructure-role",
                "Express Mode makes the load balancer, security groups and scaling with this role, which App Runner had no need of",
            ));
            INFRASTRUCTURE_ROLE_PLACEHOLDER.into()
        }
    };
    let mut express = json!({
        "serviceName": service.name,
        "infrastructureRoleArn": infrastructure_role,
        "executionRoleArn": execution_role,
        "primaryContainer": container,
        "cpu": size.cpu.to_string(),
        "memory": size.memory.to_string(),
    });
    if let Some(role) = &service.instance_role {
        express["taskRoleArn"] = json!(role);
    }
    let h = &service.health;
    match &h.protocol {
        HealthProtocol::Http(path) => express["healthCheckPath"] = json!(path),
        // Express Mode's default path is /ping, which few apps answer; / is the likeliest.
        HealthProtocol::Tcp => {
            express["healthCheckPath"] = json!("/");
            diagnostics.push(carry::health_changed(
                "Express Mode has no TCP health check: its load balancer checks the HTTP path `/` instead (healthCheckPath), which must answer 200",
                "without healthCheckPath Express Mode checks /ping; the task definition keeps App Runner's TCP check",
            ));
        }
    }
    diagnostics.push(carry::health_changed(
        format!(
            "Express Mode's health check has no interval, timeout or thresholds: App Runner's ({}s, {}s, healthy after {}, unhealthy after {}) do not carry over",
            h.interval.as_secs(),
            h.timeout.as_secs(),
            h.healthy_threshold,
            h.unhealthy_threshold
        ),
        "the load balancer's target group uses Express Mode's own",
    ));
    express
}
