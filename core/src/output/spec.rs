//! `--output`: where the built image goes, in the spelling of `docker buildx build --output`.

use std::path::PathBuf;

/// Where the built image goes. The engine always has it (the build runs there); the others are
/// written from it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Output {
    /// `type=docker`: the engine's image, named; nothing more is written.
    #[default]
    Docker,
    /// `type=oci,dest=DIR` (an OCI image layout) or `dest=FILE.tar` (a tar of one).
    Oci { dest: PathBuf },
    /// `type=docker-archive,dest=FILE`: what `docker load` reads.
    DockerArchive { dest: PathBuf },
}

/// Why an `--output` value is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutputSpecError {
    #[error("`{0}` is not KEY=VALUE")]
    NotKeyValue(String),
    #[error("unknown key `{0}` (the keys are `type` and `dest`)")]
    UnknownKey(String),
    #[error("`{0}` is given twice")]
    Repeated(String),
    #[error("unknown output type `{0}` (the types are docker, oci and docker-archive)")]
    UnknownType(String),
    #[error("type={0} needs dest=PATH")]
    NoDest(&'static str),
    #[error("type=docker writes no file: dest= does not go with it")]
    DestWithDocker,
    #[error("`dest` is empty")]
    EmptyDest,
}

impl std::str::FromStr for Output {
    type Err = OutputSpecError;

    /// `type=oci,dest=out`, or a bare `docker`/`oci`/`docker-archive` type.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut kind = None;
        let mut dest = None;
        for field in text.split(',') {
            let (key, value) = match field.split_once('=') {
                Some(pair) => pair,
                // The type alone, as buildx takes it (`--output oci` needs dest= too).
                None if kind.is_none() && !field.is_empty() && !text.contains('=') => {
                    ("type", field)
                }
                None => return Err(OutputSpecError::NotKeyValue(field.to_string())),
            };
            let slot = match key.trim() {
                "type" => &mut kind,
                "dest" => &mut dest,
                other => return Err(OutputSpecError::UnknownKey(other.to_string())),
            };
            if slot.replace(value.to_string()).is_some() {
                return Err(OutputSpecError::Repeated(key.to_string()));
            }
        }
        if dest.as_deref() == Some("") {
            return Err(OutputSpecError::EmptyDest);
        }
        let dest = dest.map(PathBuf::from);
        match kind.as_deref().unwrap_or("docker") {
            "docker" => match dest {
                None => Ok(Output::Docker),
                Some(_) => Err(OutputSpecError::DestWithDocker),
            },
            "oci" => dest
                .map(|dest| Output::Oci { dest })
                .ok_or(OutputSpecError::NoDest("oci")),
            "docker-archive" => dest
                .map(|dest| Output::DockerArchive { dest })
                .ok_or(OutputSpecError::NoDest("docker-archive")),
            other => Err(OutputSpecError::UnknownType(other.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Output, OutputSpecError};
    use std::path::PathBuf;

    #[test]
    fn output_values_read_as_buildx_spells_them() {
        let oci = |d: &str| Output::Oci {
            dest: PathBuf::from(d),
        };
        assert_eq!("type=oci,dest=out".parse(), Ok(oci("out")));
        assert_eq!("dest=out.tar,type=oci".parse(), Ok(oci("out.tar")));
        assert_eq!("docker".parse(), Ok(Output::Docker));
        assert_eq!("type=docker".parse(), Ok(Output::Docker));
        assert_eq!(
            "type=docker-archive,dest=img.tar".parse(),
            Ok(Output::DockerArchive {
                dest: PathBuf::from("img.tar")
            })
        );
        assert_eq!(
            "type=oci".parse::<Output>(),
            Err(OutputSpecError::NoDest("oci"))
        );
        assert_eq!(
            "type=tar,dest=x".parse::<Output>(),
            Err(OutputSpecError::UnknownType("tar".into()))
        );
        assert_eq!(
            "type=oci,dest=a,dest=b".parse::<Output>(),
            Err(OutputSpecError::Repeated("dest".into()))
        );
        assert_eq!(
            "type=oci,out=a".parse::<Output>(),
            Err(OutputSpecError::UnknownKey("out".into()))
        );
        assert_eq!(
            "type=docker,dest=a".parse::<Output>(),
            Err(OutputSpecError::DestWithDocker)
        );
        assert_eq!(
            "type=oci,dest=".parse::<Output>(),
            Err(OutputSpecError::EmptyDest)
        );
        assert_eq!(
            "type=oci,x".parse::<Output>(),
            Err(OutputSpecError::NotKeyValue("x".into()))
        );
    }
}
