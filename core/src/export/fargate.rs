//! App Runner's CPU and memory settings, and the Fargate task size that holds them.
//!
//! App Runner takes CPU as `1024` or `1 vCPU` and memory as `2048` or `2 GB`; Fargate takes a
//! task's CPU units and MiB from a fixed table. The table below is Fargate's (Linux), as AWS lists
//! it for task definitions.

/// CPU units (1024 = 1 vCPU) and memory in MiB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size {
    pub cpu: u32,
    pub memory: u32,
}

/// App Runner's default instance: 1 vCPU, 2 GB.
pub const APP_RUNNER_DEFAULT: Size = Size {
    cpu: 1024,
    memory: 2048,
};

/// The CPU values App Runner accepts, in units.
const APP_RUNNER_CPU: &[u32] = &[256, 512, 1024, 2048, 4096];
/// The memory values App Runner accepts, in MiB.
const APP_RUNNER_MEMORY: &[u32] = &[512, 1024, 2048, 3072, 4096, 6144, 8192, 10240, 12288];

/// `1024`, `1 vCPU`, `0.25 vCPU`, `1vCPU`: App Runner's forms.
pub fn parse_cpu(text: &str) -> Result<u32, String> {
    let t = text.trim();
    let units = match t
        .strip_suffix("vCPU")
        .or_else(|| t.strip_suffix("vcpu"))
        .map(str::trim)
    {
        Some(v) => scaled(v, 1024.0),
        None => t.parse::<u32>().ok(),
    };
    match units {
        Some(u) if APP_RUNNER_CPU.contains(&u) => Ok(u),
        _ => Err(format!(
            "`{text}` is not an App Runner CPU: write 256, 512, 1024, 2048 or 4096, or 0.25, 0.5, 1, 2 or 4 vCPU"
        )),
    }
}

/// `2048`, `2 GB`, `0.5 GB`: App Runner's forms.
pub fn parse_memory(text: &str) -> Result<u32, String> {
    let t = text.trim();
    let mib = match t
        .strip_suffix("GB")
        .or_else(|| t.strip_suffix("gb"))
        .map(str::trim)
    {
        Some(v) => scaled(v, 1024.0),
        None => t.parse::<u32>().ok(),
    };
    match mib {
        Some(m) if APP_RUNNER_MEMORY.contains(&m) => Ok(m),
        _ => Err(format!(
            "`{text}` is not an App Runner memory size: write 512, 1024, 2048, 3072, 4096, 6144, 8192, 10240 or 12288, or 0.5 to 12 GB"
        )),
    }
}

fn scaled(number: &str, unit: f64) -> Option<u32> {
    let v: f64 = number.parse().ok()?;
    let scaled = v * unit;
    (v > 0.0 && scaled.fract() == 0.0 && scaled <= u32::MAX as f64).then_some(scaled as u32)
}

/// Every Fargate task size, fewest CPU units first, then least memory.
fn fargate_sizes() -> impl Iterator<Item = Size> {
    let range = |cpu: u32, from: u32, to: u32, step: u32| {
        (from..=to)
            .step_by(step as usize)
            .map(move |memory| Size { cpu, memory })
    };
    [512, 1024, 2048]
        .into_iter()
        .map(|memory| Size { cpu: 256, memory })
        .chain(range(512, 1024, 4096, 1024))
        .chain(range(1024, 2048, 8192, 1024))
        .chain(range(2048, 4096, 16384, 1024))
        .chain(range(4096, 8192, 30720, 1024))
        .chain(range(8192, 16384, 61440, 4096))
        .chain(range(16384, 32768, 122880, 8192))
}

/// The smallest Fargate size (fewest CPU units, then least memory) with at least `want`'s CPU and
/// memory. Every App Runner size fits in Fargate's largest, so there always is one.
pub fn fargate_size(want: Size) -> Size {
    fargate_sizes()
        .find(|s| s.cpu >= want.cpu && s.memory >= want.memory)
        .expect("Fargate's largest size holds every App Runner size")
}

/// `1 vCPU`, `0.25 vCPU`.
pub fn show_cpu(units: u32) -> String {
    format!("{} vCPU", units as f64 / 1024.0)
}

/// `2 GB`, `0.5 GB`.
pub fn show_memory(mib: u32) -> String {
    format!("{} GB", mib as f64 / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_app_runner_forms() {
        assert_eq!(parse_cpu("1 vCPU"), Ok(1024));
        assert_eq!(parse_cpu("0.25 vCPU"), Ok(256));
        assert_eq!(parse_cpu("2048"), Ok(2048));
        assert!(parse_cpu("3 vCPU").is_err());
        assert!(parse_cpu("1000").is_err());
        assert_eq!(parse_memory("2 GB"), Ok(2048));
        assert_eq!(parse_memory("0.5 GB"), Ok(512));
        assert_eq!(parse_memory("3072"), Ok(3072));
        assert!(parse_memory("5 GB").is_err());
        assert!(parse_memory("-1 GB").is_err());
    }

    #[test]
    fn every_app_runner_pair_has_a_fargate_size_at_least_as_large() {
        for &cpu in APP_RUNNER_CPU {
            for &memory in APP_RUNNER_MEMORY {
                let got = fargate_size(Size { cpu, memory });
                assert!(
                    got.cpu >= cpu && got.memory >= memory,
                    "{cpu}/{memory}: {got:?}"
                );
            }
        }
    }

    #[test]
    fn app_runner_combinations_are_exact_and_others_round_up() {
        // App Runner's own combinations are all Fargate sizes.
        for (cpu, memory) in [
            (256, 512),
            (256, 1024),
            (512, 1024),
            (1024, 2048),
            (1024, 3072),
            (2048, 6144),
            (4096, 12288),
        ] {
            let want = Size { cpu, memory };
            assert_eq!(fargate_size(want), want);
        }
        // 1 vCPU with 0.5 GB: Fargate's 1 vCPU starts at 2 GB.
        assert_eq!(
            fargate_size(Size {
                cpu: 1024,
                memory: 512
            }),
            Size {
                cpu: 1024,
                memory: 2048
            }
        );
        // 0.25 vCPU with 4 GB: 0.25 vCPU stops at 2 GB, so the CPU goes up.
        assert_eq!(
            fargate_size(Size {
                cpu: 256,
                memory: 4096
            }),
            Size {
                cpu: 512,
                memory: 4096
            }
        );
        // 4 vCPU with 2 GB: Fargate's 4 vCPU starts at 8 GB.
        assert_eq!(
            fargate_size(Size {
                cpu: 4096,
                memory: 2048
            }),
            Size {
                cpu: 4096,
                memory: 8192
            }
        );
    }
}
