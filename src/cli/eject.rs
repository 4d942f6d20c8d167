//! `plan --dockerfile`: the plan's Dockerfile and `.dockerignore` written beside each other; a
//! file already there is replaced only with `--force`.

use super::args::EjectOpts;
use super::CliError;
use apprunner_build::input::git_ignore::GitIgnore;
use apprunner_build::plan::eject::{self, EjectOptions};
use apprunner_build::plan::BuildPlan;
use apprunner_build::report::codes;
use apprunner_build::report::diagnostic::{Diagnostic, Diagnostics, Location};
use apprunner_build::report::exit;
use std::path::{Path, PathBuf};

/// The most of a CA bundle copied: real ones are a few hundred kilobytes.
const CA_CAP: u64 = 16 * 1024 * 1024;

pub fn eject(plan: &BuildPlan, opts: &EjectOpts) -> Result<u8, CliError> {
    let options = EjectOptions {
        ca_bundle: opts.ca_bundle.is_some(),
    };
    let dockerfile = eject::dockerfile(plan, &options).map_err(|e| {
        CliError::Input(Diagnostics(vec![Diagnostic::error(
            codes::EJECT_CANNOT_EXPRESS,
            format!("the plan cannot be written as a Dockerfile: {e}"),
        )
        .with_help("`apprunner-build build` builds it")]))
    })?;
    // The plan says only whether git's rules apply; Docker needs the entries themselves.
    let git_ignored = if plan.leaves_out_git_ignored {
        GitIgnore::for_root(&plan.source_root)
            .map(|mut g| g.ignored_entries())
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let ignore = eject::dockerignore(plan, &git_ignored, &options);
    let dir = opts
        .output_dir
        .clone()
        .unwrap_or_else(|| plan.source_root.clone());
    let ca = match &opts.ca_bundle {
        Some(file) => Some(read_ca(file)?),
        None => None,
    };
    let mut files: Vec<(PathBuf, Vec<u8>)> = vec![
        (dir.join(eject::DOCKERFILE), dockerfile.into_bytes()),
        (dir.join(eject::DOCKERIGNORE), ignore.into_bytes()),
    ];
    if let Some(bytes) = ca {
        files.push((dir.join(eject::CA_FILE), bytes));
    }
    // Every refusal before anything is written: never half an eject.
    if !opts.force {
        let present: Vec<&PathBuf> = files
            .iter()
            .map(|(path, _)| path)
            .filter(|path| std::fs::symlink_metadata(path).is_ok())
            .collect();
        if let Some(first) = present.first() {
            let mut d = Diagnostic::error(
                codes::EJECT_WOULD_REPLACE,
                format!("{} is already there: nothing is written", first.display()),
            )
            .at(Location::file(first))
            .with_help("`--force` replaces it; `--output-dir DIR` writes elsewhere");
            for other in &present[1..] {
                d = d.with_note(format!("{} is there too", other.display()));
            }
            return Err(CliError::Usage(Box::new(d)));
        }
    }
    for (path, bytes) in &files {
        write(path, bytes, opts.force)?;
    }
    let same_dir = match (dir.canonicalize(), plan.source_root.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => dir == plan.source_root,
    };
    println!(
        "Wrote {} and {} ({} git-ignored entr{} listed).",
        files[0].0.display(),
        files[1].0.display(),
        git_ignored.len(),
        if git_ignored.len() == 1 { "y" } else { "ies" }
    );
    if same_dir {
        println!("Build it with: docker build -t NAME {}", dir.display());
    } else {
        // Docker reads .dockerignore (and the CA copy) only from the build context's root.
        println!(
            "Docker reads .dockerignore only from the build context's root: move both files into {}, then `docker build -t NAME {}`.",
            plan.source_root.display(),
            plan.source_root.display()
        );
    }
    if opts.ca_bundle.is_some() {
        println!(
            "{} is the CA bundle's copy: install steps trust it; it stays outside /app (see the Dockerfile).",
            eject::CA_FILE
        );
    }
    Ok(exit::OK)
}

fn read_ca(file: &Path) -> Result<Vec<u8>, CliError> {
    let fail = |message: String| {
        CliError::Usage(Box::new(
            Diagnostic::error(codes::EJECT_NOT_WRITTEN, message).at(Location::file(file)),
        ))
    };
    let meta =
        std::fs::metadata(file).map_err(|e| fail(format!("cannot read the CA bundle: {e}")))?;
    if !meta.is_file() || meta.len() > CA_CAP {
        return Err(fail(format!(
            "the CA bundle is not a regular file of at most {} MiB",
            CA_CAP / (1024 * 1024)
        )));
    }
    std::fs::read(file).map_err(|e| fail(format!("cannot read the CA bundle: {e}")))
}

/// `create_new` without `--force`: a file that appeared since the check is not replaced either.
fn write(path: &Path, bytes: &[u8], force: bool) -> Result<(), CliError> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    options
        .open(path)
        .and_then(|mut f| f.write_all(bytes))
        .map_err(|e| {
            let code = if e.kind() == std::io::ErrorKind::AlreadyExists {
                codes::EJECT_WOULD_REPLACE
            } else {
                codes::EJECT_NOT_WRITTEN
            };
            CliError::Usage(Box::new(
                Diagnostic::error(code, format!("cannot write {}: {e}", path.display()))
                    .at(Location::file(path)),
            ))
        })
}
