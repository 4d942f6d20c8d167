//! The form of a `run.secrets[].value-from` reference (never its value).

/// Ok when `reference` looks like a Secrets Manager ARN, an SSM parameter ARN or a bare parameter name.
pub fn check_secret_reference(reference: &str) -> Result<(), String> {
    if let Some(rest) = reference.strip_prefix("arn:") {
        return check_arn(rest);
    }
    if reference.is_empty() {
        return Err("it is empty".into());
    }
    if reference.len() > 2048 {
        return Err("a parameter name is at most 2048 characters".into());
    }
    match reference
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "_.-/".contains(*c)))
    {
        Some(c) => Err(format!(
            "a parameter name may hold letters, digits and `_ . - /` only, not `{c}`"
        )),
        None => Ok(()),
    }
}

fn check_arn(rest: &str) -> Result<(), String> {
    // arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE
    let parts: Vec<&str> = rest.splitn(5, ':').collect();
    let [partition, service, region, account, resource] = parts[..] else {
        return Err("an ARN has the form arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE".into());
    };
    if !matches!(partition, "aws" | "aws-cn" | "aws-us-gov") {
        return Err(format!(
            "unknown partition `{partition}` (expected aws, aws-cn or aws-us-gov)"
        ));
    }
    if !is_region(region) {
        return Err(format!("`{region}` is not a region name such as us-east-1"));
    }
    if account.len() != 12 || !account.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!("`{account}` is not a 12-digit account ID"));
    }
    match service {
        "secretsmanager" => match resource.strip_prefix("secret:") {
            Some(name) if !name.is_empty() => Ok(()),
            _ => Err("a Secrets Manager ARN ends in `:secret:NAME`".into()),
        },
        "ssm" => match resource.strip_prefix("parameter") {
            Some(name) if name.len() > 1 && name.starts_with('/') => Ok(()),
            _ => Err("an SSM parameter ARN ends in `:parameter/NAME`".into()),
        },
        other => Err(format!(
            "service `{other}` holds no secrets App Runner can read (expected secretsmanager or ssm)"
        )),
    }
}

fn is_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    parts.len() >= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::check_secret_reference as check;

    #[test]
    fn accepts_the_three_forms() {
        assert!(
            check("arn:aws:secretsmanager:us-east-1:123456789012:secret:db-pass-AbCdEf").is_ok()
        );
        assert!(
            check("arn:aws:secretsmanager:eu-west-1:123456789012:secret:db:password::").is_ok()
        );
        assert!(check("arn:aws:ssm:us-gov-west-1:123456789012:parameter/app/db").is_ok());
        assert!(check("arn:aws-cn:ssm:cn-north-1:123456789012:parameter/x").is_ok());
        assert!(check("/app/prod/db_password").is_ok());
        assert!(check("db-password").is_ok());
    }

    #[test]
    fn rejects_malformed_references() {
        assert!(check("arn:aws:secretsmanager:us-east-1:1234:secret:x")
            .unwrap_err()
            .contains("12-digit"));
        assert!(check("arn:aws:s3:us-east-1:123456789012:bucket")
            .unwrap_err()
            .contains("s3"));
        assert!(check("arn:aws:ssm:us-east-1:123456789012:parameter")
            .unwrap_err()
            .contains("parameter/NAME"));
        assert!(check("arn:aws:ssm:useast1:123456789012:parameter/x")
            .unwrap_err()
            .contains("region"));
        assert!(check("arn:aws:secretsmanager")
            .unwrap_err()
            .contains("form"));
        assert!(check("my secret").unwrap_err().contains("not ` `"));
        assert!(check("").is_err());
    }
}
