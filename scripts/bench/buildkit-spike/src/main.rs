//! buildkit-spike CONTEXT_DIR TAG [--no-cache]: builds CONTEXT_DIR/Dockerfile with BuildKit through
//! bollard and prints the wall time in seconds. The context is sent as a tar, as `docker build` does.
use bollard::models::{BuildInfo, BuildInfoAux};
use bollard::query_parameters::{BuildImageOptionsBuilder, BuilderVersion};
use futures_util::StreamExt;
use std::time::Instant;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (dir, tag) = (&args[1], &args[2]);
    let no_cache = args.iter().any(|a| a == "--no-cache");
    let started = Instant::now();
    let mut tar = tar::Builder::new(Vec::new());
    tar.append_dir_all(".", dir).expect("the context");
    let body = tar.into_inner().expect("the context tar");
    let docker = bollard::Docker::connect_with_socket_defaults().expect("the engine");
    let options = BuildImageOptionsBuilder::default()
        .t(tag)
        .dockerfile("Dockerfile")
        .version(BuilderVersion::BuilderBuildKit)
        .session(&format!("spike-{}", std::process::id()))
        .nocache(no_cache)
        .build();
    let mut stream = docker.build_image(
        options,
        None,
        Some(http_body_util::Either::Left(http_body_util::Full::new(body.into()))),
    );
    let mut failed = None;
    while let Some(item) = stream.next().await {
        match item {
            Ok(BuildInfo { aux: Some(BuildInfoAux::BuildKit(status)), .. }) => {
                for v in status.vertexes {
                    if !v.error.is_empty() {
                        failed = Some(v.error);
                    }
                }
            }
            Ok(_) => {}
            Err(e) => failed = Some(e.to_string()),
        }
    }
    if let Some(e) = failed {
        eprintln!("build failed: {e}");
        std::process::exit(1);
    }
    println!("{:.3}", started.elapsed().as_secs_f64());
}
