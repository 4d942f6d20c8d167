//! Whose a container is: every container this tool makes is labelled with the process that made
//! it, so that a later run can remove those whose maker is provably gone.

use crate::engine::labels;
use std::collections::HashMap;

/// Every container this tool makes is named `apprunner-build-<pid>-<stage>-<n>`, for people to
/// recognise; sweeping relies on the [`labels::OWNER`] label, not on the name.
pub(crate) const CONTAINER_PREFIX: &str = "apprunner-build-";

pub(crate) fn container_name(stage: &str) -> String {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() % 1_000_000_000);
    format!("{CONTAINER_PREFIX}{}-{stage}-{n}", std::process::id())
}

/// The labels for a container this process creates.
pub(crate) fn owner_labels() -> HashMap<String, String> {
    let value = match Owner::of_this_process() {
        Some(owner) => owner.value(),
        // Without /proc, no owner can be proven gone: such a container is never swept.
        None => format!("pid={}", std::process::id()),
    };
    HashMap::from([(labels::OWNER.to_string(), value)])
}

/// The process that made a container: its pid and start time (field 22 of `/proc/PID/stat`, which
/// tells a reused pid apart), and where the pid means something: the host name, the boot
/// (`/proc/sys/kernel/random/boot_id`) and the pid namespace (`/proc/self/ns/pid`), kept as a
/// digest ([`Owner::place`]). A build in another pid namespace sharing the engine (CI jobs on one
/// runner), on another machine, or before a reboot, is never judged from here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Owner {
    pub(crate) pid: u32,
    pub(crate) start_time: u64,
    /// [`Owner::place`] of the host, boot and pid namespace.
    pub(crate) place: String,
}

/// What `/proc` says about a pid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// Running, started at this time.
    Started(u64),
    /// No such process.
    Absent,
    /// Cannot tell (no permission, no /proc).
    Unknown,
}

impl Owner {
    pub(crate) fn of_this_process() -> Option<Self> {
        static THIS: std::sync::OnceLock<Option<Owner>> = std::sync::OnceLock::new();
        THIS.get_or_init(|| {
            let pid = std::process::id();
            let Lookup::Started(start_time) = start_time(pid) else {
                return None;
            };
            let read = |p: &str| {
                std::fs::read_to_string(p)
                    .ok()
                    .map(|t| t.trim().to_string())
                    .filter(|t| !t.is_empty() && !t.contains(char::is_whitespace))
            };
            let pid_ns = std::fs::read_link("/proc/self/ns/pid")
                .ok()?
                .to_string_lossy()
                .to_string();
            Some(Owner {
                pid,
                start_time,
                place: Owner::place(
                    &read("/proc/sys/kernel/random/boot_id")?,
                    &pid_ns,
                    &read("/proc/sys/kernel/hostname")?,
                ),
            })
        })
        .clone()
    }

    /// Where a pid means something, as a digest of the boot id, the pid namespace and the host
    /// name: equal for builds on the same machine, boot and namespace, and telling nothing of
    /// them. The label is seen by whoever shares the engine, and a committed image keeps its
    /// container's labels in its `container_config` (Docker 20.10): the machine's name and boot
    /// id would otherwise ship in the application image.
    pub(crate) fn place(boot_id: &str, pid_ns: &str, host: &str) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for field in [boot_id, pid_ns, host] {
            h.update(field.as_bytes());
            h.update(b"\0");
        }
        hex::encode(&h.finalize()[..16])
    }

    pub(crate) fn value(&self) -> String {
        format!(
            "pid={} start={} place={}",
            self.pid, self.start_time, self.place
        )
    }

    /// The owner as an image tag (`N-T-PLACE`): images have no labels of their own to spare
    /// (a label would change the image's id, by which a stage's state is keyed), so an image on
    /// the way is owned through a tag of [`labels::WORK_REPOSITORY`].
    pub(crate) fn tag(&self) -> String {
        format!("{}-{}-{}", self.pid, self.start_time, self.place)
    }

    /// [`Owner::tag`] back, from a tag that may carry a `-N` counter after it.
    pub(crate) fn from_tag(tag: &str) -> Option<Self> {
        let mut fields = tag.split('-');
        let pid = fields.next()?.parse().ok()?;
        let start_time = fields.next()?.parse().ok()?;
        let place = fields.next().filter(|p| !p.is_empty())?.to_string();
        Some(Owner {
            pid,
            start_time,
            place,
        })
    }

    pub(crate) fn parse(value: &str) -> Option<Self> {
        let mut fields: HashMap<&str, &str> = HashMap::new();
        for field in value.split(' ') {
            let (k, v) = field.split_once('=')?;
            fields.insert(k, v);
        }
        let text = |k: &str| {
            fields
                .get(k)
                .filter(|v| !v.is_empty())
                .map(|v| v.to_string())
        };
        // Labels from before the digest name the boot, namespace and host in clear.
        let place = match text("place") {
            Some(place) => place,
            None => Owner::place(&text("boot")?, &text("pidns")?, &text("host")?),
        };
        Some(Owner {
            pid: fields.get("pid")?.parse().ok()?,
            start_time: fields.get("start")?.parse().ok()?,
            place,
        })
    }

    /// Provably gone, as seen from `here`: same host, boot and pid namespace, and its pid is absent
    /// or belongs to a process started at another time.
    pub(crate) fn gone(&self, here: &Owner, lookup: impl Fn(u32) -> Lookup) -> bool {
        if self.place != here.place {
            return false;
        }
        match lookup(self.pid) {
            Lookup::Absent => true,
            Lookup::Started(t) => t != self.start_time,
            Lookup::Unknown => false,
        }
    }
}

/// Field 22 of `/proc/PID/stat`: when the process started, in clock ticks since boot.
pub(crate) fn start_time(pid: u32) -> Lookup {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The command name (field 2, in parentheses) may hold spaces: count after its `)`.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(19)?.parse().ok())
            .map_or(Lookup::Unknown, Lookup::Started),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Lookup::Absent,
        Err(_) => Lookup::Unknown,
    }
}

/// A [`labels::WORK_REPOSITORY`] name for an image this build has on the way: unique in the
/// process.
pub(crate) fn work_name() -> String {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let owner = Owner::of_this_process().map_or_else(
        || format!("{}-0-none", std::process::id()),
        |owner| owner.tag(),
    );
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{}:{owner}-{n}", labels::WORK_REPOSITORY)
}

#[cfg(test)]
mod tests {
    use super::{start_time, Lookup, Owner};

    #[test]
    fn an_owner_reads_back_from_its_tag() {
        let owner = Owner {
            pid: 4242,
            start_time: 987654,
            place: Owner::place("b-1", "pid:[4026531836]", "runner"),
        };
        let name = format!("{}-17", owner.tag());
        assert_eq!(Owner::from_tag(&name), Some(owner.clone()));
        assert!(
            name.len() <= 128 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
            "a valid tag: {name}"
        );
        assert_eq!(Owner::from_tag("4242-987654-"), None);
        assert_eq!(Owner::from_tag("x-1-abc"), None);
    }

    #[test]
    fn an_owner_is_gone_only_when_provably_so() {
        let here = Owner {
            pid: 100,
            start_time: 5000,
            place: Owner::place("b-1", "pid:[4026531836]", "runner"),
        };
        let parsed = Owner::parse(&here.value()).unwrap();
        assert_eq!(parsed, here);
        assert!(
            !here.value().contains("runner") && !here.value().contains("b-1"),
            "the label names neither the host nor the boot: {}",
            here.value()
        );
        // A label written before the digest.
        assert_eq!(
            Owner::parse("pid=100 start=5000 boot=b-1 pidns=pid:[4026531836] host=runner"),
            Some(here.clone())
        );
        assert_eq!(
            Owner::parse("pid=7"),
            None,
            "an incomplete label is never swept"
        );
        assert_eq!(
            Owner::parse(""),
            None,
            "nor an emptied one (the final image's)"
        );
        let owner = Owner {
            pid: 42,
            start_time: 900,
            ..here.clone()
        };
        assert!(owner.gone(&here, |_| Lookup::Absent));
        assert!(owner.gone(&here, |_| Lookup::Started(901)), "pid reused");
        assert!(
            !owner.gone(&here, |_| Lookup::Started(900)),
            "still running"
        );
        assert!(!owner.gone(&here, |_| Lookup::Unknown));
        for other in [
            Owner {
                place: Owner::place("b-1", "pid:[4026532000]", "runner"),
                ..owner.clone()
            },
            Owner {
                place: Owner::place("b-2", "pid:[4026531836]", "runner"),
                ..owner.clone()
            },
            Owner {
                place: Owner::place("b-1", "pid:[4026531836]", "other"),
                ..owner.clone()
            },
        ] {
            assert!(!other.gone(&here, |_| Lookup::Absent), "{other:?}");
        }
    }

    #[test]
    fn this_process_has_a_start_time() {
        let me = Owner::of_this_process().expect("Linux has /proc");
        assert_eq!(start_time(me.pid), Lookup::Started(me.start_time));
        assert_eq!(start_time(u32::MAX), Lookup::Absent);
    }
}
