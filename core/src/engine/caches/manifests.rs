//! A dependency install's manifests (`requirements.txt`, `package.json`, a lock file): read
//! from the source or from another stage's /app, and put into the install's container as a tar.

use crate::engine::image::direct::AppOf;
use crate::engine::image::rebase::read_files;
use crate::engine::session::docker::long;
use crate::engine::walk::context::BuildContext;
use crate::engine::EngineError;
use crate::input::files::read_project_bytes;
use bollard::query_parameters::{
    DownloadFromContainerOptionsBuilder, UploadToContainerOptionsBuilder,
};
use futures_util::TryStreamExt;
use std::io::Read;

/// The most of one manifest that is read.
const FILE_CAP: u64 = 16 * 1024 * 1024;

/// Each file's bytes (`None`: absent), from the source or from another stage's `path`.
pub(super) async fn read(
    ctx: &BuildContext<'_>,
    from: Option<(&str, AppOf)>,
    path: &str,
    files: &[String],
) -> Result<Vec<(String, Option<Vec<u8>>)>, EngineError> {
    let mut out = Vec::new();
    let Some((from, app)) = from else {
        for name in files {
            let bytes =
                read_project_bytes(&ctx.plan.source_root, name, FILE_CAP).map_err(|refused| {
                    EngineError::Source {
                        root: ctx.plan.source_root.clone(),
                        source: std::io::Error::other(
                            refused.diagnostic(std::path::Path::new(name)).message,
                        ),
                    }
                })?;
            out.push((name.clone(), bytes));
        }
        return Ok(out);
    };
    let container = match app {
        AppOf::Layers(layers) => {
            return read_files(&layers, path, files, FILE_CAP).map_err(|source| {
                EngineError::Source {
                    root: format!("{path} of the {from} stage").into(),
                    source,
                }
            })
        }
        AppOf::Container(container) => container,
    };
    for name in files {
        let full = format!("{}/{name}", path.trim_end_matches('/'));
        let options = DownloadFromContainerOptionsBuilder::new()
            .path(&full)
            .build();
        let chunks: Result<Vec<_>, _> = ctx
            .docker
            .download_from_container(&container, Some(options))
            .try_collect()
            .await;
        let bytes = match chunks {
            Err(_) => None,
            Ok(chunks) => {
                let tar: Vec<u8> = chunks.concat();
                first_file(&tar).map_err(|e| EngineError::Source {
                    root: full.clone().into(),
                    source: e,
                })?
            }
        };
        out.push((name.clone(), bytes));
    }
    Ok(out)
}

/// Copy a tar of files under `path` into the container through the archive API.
pub(super) async fn upload_tar(
    ctx: &BuildContext<'_>,
    container: &str,
    path: &str,
    tar: Vec<u8>,
) -> Result<(), EngineError> {
    let options = UploadToContainerOptionsBuilder::new().path("/").build();
    long(ctx.docker)
        .upload_to_container(container, Some(options), bollard::body_full(tar.into()))
        .await
        .map_err(EngineError::docker(format!(
            "uploading the dependency manifests to {path}"
        )))
}

/// The present files under `path`, as regular files, in a tar rooted at `/`.
pub(super) fn manifests_tar(
    ctx: &BuildContext<'_>,
    path: &str,
    contents: &[(String, Option<Vec<u8>>)],
) -> Result<Vec<u8>, EngineError> {
    let mut builder = tar::Builder::new(Vec::new());
    let prefix = path.trim_start_matches('/').trim_end_matches('/');
    let mut dir = tar::Header::new_gnu();
    dir.set_entry_type(tar::EntryType::Directory);
    dir.set_mode(0o755);
    dir.set_size(0);
    let io = |e: std::io::Error| EngineError::Source {
        root: ctx.plan.source_root.clone(),
        source: e,
    };
    builder
        .append_data(&mut dir, format!("{prefix}/"), std::io::empty())
        .map_err(io)?;
    for (name, bytes) in contents {
        let Some(bytes) = bytes else { continue };
        // Directories on the way (a requirements file in a subdirectory).
        let mut at = String::new();
        for part in name
            .split('/')
            .collect::<Vec<_>>()
            .iter()
            .rev()
            .skip(1)
            .rev()
        {
            at = if at.is_empty() {
                part.to_string()
            } else {
                format!("{at}/{part}")
            };
            let mut d = dir.clone();
            builder
                .append_data(&mut d, format!("{prefix}/{at}/"), std::io::empty())
                .map_err(io)?;
        }
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_mode(0o644);
        h.set_size(bytes.len() as u64);
        builder
            .append_data(&mut h, format!("{prefix}/{name}"), bytes.as_slice())
            .map_err(io)?;
    }
    builder.into_inner().map_err(io)
}

/// The first regular file's bytes in a tar (the engine's archive of one path).
fn first_file(tar: &[u8]) -> std::io::Result<Option<Vec<u8>>> {
    let mut archive = tar::Archive::new(tar);
    let Some(entry) = archive.entries()?.next() else {
        return Ok(None);
    };
    let mut entry = entry?;
    if !entry.header().entry_type().is_file() {
        return Err(std::io::Error::other(
            "a dependency manifest that is not a regular file (a symlink?) in the other stage",
        ));
    }
    let mut bytes = Vec::new();
    entry.read_to_end(&mut bytes)?;
    Ok(Some(bytes))
}
