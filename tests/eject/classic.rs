//! Docker's classic builder, through the Engine API as `docker build DIR` drives it: the context
//! is a tar the client makes, leaving out what `.dockerignore` excludes (the Dockerfile and
//! `.dockerignore` themselves are always sent: the daemon needs them, and leaves them out of
//! `COPY`), with each file's mode and time.

use super::support::*;
use apprunner_build::input::dockerignore::IgnoreRules;
use bollard::query_parameters::{BuildImageOptionsBuilder, RemoveImageOptionsBuilder};
use bollard::Docker;
use futures_util::StreamExt;
use std::path::Path;

/// The build context of `dir` as the docker CLI sends it.
pub fn context_tar(dir: &Path) -> Vec<u8> {
    let ignore = std::fs::read_to_string(dir.join(".dockerignore")).unwrap_or_default();
    let rules = IgnoreRules::parse(&ignore).expect("the ejected .dockerignore parses");
    let mut tar = tar::Builder::new(Vec::new());
    tar.follow_symlinks(false);
    let mut todo = vec![dir.to_path_buf()];
    while let Some(at) = todo.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&at)
            .unwrap()
            .map(|e| e.unwrap())
            .collect();
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let path = entry.path();
            let rel = path
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let always = rel == "Dockerfile" || rel == ".dockerignore";
            let kind = entry.file_type().unwrap();
            if kind.is_dir() {
                if !rules.excludes(&rel) {
                    tar.append_path_with_name(&path, &rel).unwrap();
                }
                todo.push(path);
            } else if always || !rules.excludes(&rel) {
                tar.append_path_with_name(&path, &rel).unwrap();
            }
        }
    }
    tar.into_inner().unwrap()
}

/// The images a classic build made: the tagged one and each step's, which the build leaves
/// untagged as its cache; removed when dropped.
pub struct Built {
    pub tag: String,
    steps: Vec<String>,
    _image: ImageGuard,
}

impl Drop for Built {
    fn drop(&mut self) {
        // Each stage's chain of step images; the last first, so that its parents go too.
        let steps = std::mem::take(&mut self.steps);
        let tag = self.tag.clone();
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let docker = docker().await;
                // The tag first: its untagged parents go with it.
                let force = RemoveImageOptionsBuilder::new().force(true).build();
                let _ = docker.remove_image(&tag, Some(force), None).await;
                for id in steps.iter().rev() {
                    let _ = docker
                        .remove_image(id, Some(RemoveImageOptionsBuilder::new().build()), None)
                        .await;
                }
            });
        })
        .join();
    }
}

/// `docker build -t TAG DIR` with the classic builder; panics with the build's output when it
/// fails.
pub async fn build(docker: &Docker, dir: &Path, tag: &str) -> Built {
    let guard = ImageGuard::new(tag);
    let options = BuildImageOptionsBuilder::default()
        .dockerfile("Dockerfile")
        .t(tag)
        .rm(true)
        .forcerm(true)
        .build();
    let mut stream = docker.build_image(
        options,
        None,
        Some(bollard::body_full(context_tar(dir).into())),
    );
    let mut output = String::new();
    let mut steps = Vec::new();
    let mut failed = None;
    while let Some(item) = stream.next().await {
        match item {
            Ok(info) => {
                if let Some(text) = info.stream {
                    if let Some(id) = text.trim().strip_prefix("---> ") {
                        if !id.contains(' ') {
                            steps.push(id.to_string());
                        }
                    }
                    output.push_str(&text);
                }
                if let Some(detail) = info.error_detail {
                    failed = Some(format!("{detail:?}"));
                }
            }
            Err(e) => failed = Some(e.to_string()),
        }
    }
    if let Some(why) = failed {
        panic!("docker build of the ejected Dockerfile failed: {why}\n{output}");
    }
    Built {
        tag: tag.to_string(),
        steps,
        _image: guard,
    }
}

/// Every entry of /app: type, mode, owner, path (and link target), each regular file's size and
/// sha256. Sorted, so that two images' listings compare line by line.
pub async fn app_tree(docker: &Docker, image: &str) -> String {
    output_of(
        docker,
        image,
        "cd /app && find . -printf '%y %m %u:%g %p %l\\n' | sort && find . -type f -printf '%s %p\\n' | sort -k2 && find . -type f -print0 | sort -z | xargs -0 sha256sum",
    )
    .await
}
