//! The plan as a Dockerfile. A plan's stage is a container the steps come back to (post-build
//! runs in the build stage after /app was copied out of it); a Dockerfile stage is built whole
//! before another copies from it. So a plan stage is cut into Dockerfile stages ("segments")
//! wherever another stage copies from it or it is committed, each later one `FROM` the one
//! before; the segment committed is written last, since a Dockerfile's image is its last stage.

use super::text::{self, quoted};
use super::{EjectError, EjectOptions, CA_FILE, CA_IN_STAGE};
use crate::input::config::EnvVar;
use crate::plan::{BuildPlan, ImageEnv, PhaseName, Step};
use std::collections::{BTreeMap, HashMap};

/// The variables `build --ca-bundle` sets for build commands (never for the image).
const CA_VARIABLES: &[&str] = &[
    "SSL_CERT_FILE",
    "PIP_CERT",
    "REQUESTS_CA_BUNDLE",
    "NODE_EXTRA_CA_CERTS",
    "npm_config_cafile",
];

/// One Dockerfile stage.
struct Segment {
    name: String,
    stage: String,
    /// An image, or the segment this one continues.
    from: String,
    continues: Option<usize>,
    lines: Vec<String>,
    /// Segments copied from (and the one continued): written before this one.
    needs: Vec<usize>,
    /// Copied from or committed: later steps of the stage go into a new segment.
    frozen: bool,
    /// build.env values declared with `ARG` so far, by name.
    args: BTreeMap<String, String>,
    workdir: Option<String>,
    phase: Option<PhaseName>,
    ca_copied: bool,
    ca_args: bool,
}

struct Renderer<'a> {
    plan: &'a BuildPlan,
    options: &'a EjectOptions,
    segments: Vec<Segment>,
    /// Each plan stage's latest segment.
    current: HashMap<String, usize>,
    /// Announcements of a stage whose next segment is not made yet.
    pending: HashMap<String, Vec<String>>,
    committed: Option<usize>,
}

/// The Dockerfile that builds what `plan` builds.
pub fn dockerfile(plan: &BuildPlan, options: &EjectOptions) -> Result<String, EjectError> {
    let mut r = Renderer {
        plan,
        options,
        segments: Vec::new(),
        current: HashMap::new(),
        pending: HashMap::new(),
        committed: None,
    };
    for step in &plan.steps {
        r.step(step)?;
    }
    Ok(r.finish())
}

impl Renderer<'_> {
    fn step(&mut self, step: &Step) -> Result<(), EjectError> {
        match step {
            Step::Announce { stage, message } => match self.current.get(stage) {
                Some(&at) if !self.segments[at].frozen => {
                    self.segments[at].lines.push(comment(message))
                }
                _ => self
                    .pending
                    .entry(stage.clone())
                    .or_default()
                    .push(comment(message)),
            },
            Step::CopySource { stage, path } => {
                let at = self.segment(stage);
                let seg = &mut self.segments[at];
                seg.lines.push(text::copy(None, ".", path));
                if self.options.ca_bundle {
                    // The classic builder cannot leave one file of the context out of `COPY .`.
                    seg.lines.push(format!(
                        "RUN rm -f {}",
                        text::sh_quoted(&format!("{}/{CA_FILE}", path.trim_end_matches('/')))
                    ));
                }
            }
            Step::CopyFromStage { stage, from, path } => {
                let source = self.freeze(from);
                let at = self.segment(stage);
                let name = self.segments[source].name.clone();
                let seg = &mut self.segments[at];
                seg.needs.push(source);
                seg.lines
                    .push(format!("# /app as the `{from}` stage left it"));
                seg.lines.push(text::copy(Some(&name), path, path));
            }
            Step::Run {
                stage,
                phase,
                command,
                workdir,
                env,
                hint,
            } => {
                let at = self.segment(stage);
                self.run(at, *phase, command, workdir, env, hint.as_deref());
            }
            Step::Install {
                stage,
                from,
                path,
                files,
                runs,
                reason,
            } => {
                let source = from.as_ref().map(|f| self.freeze(f));
                let at = self.segment(stage);
                let source_name = source.map(|s| self.segments[s].name.clone());
                let seg = &mut self.segments[at];
                seg.lines.push(comment(&format!(
                    "Dependency layer ({reason}): the install runs over only these files, so Docker's cache keeps it while they are unchanged."
                )));
                if let Some(s) = source {
                    seg.needs.push(s);
                }
                let base = path.trim_end_matches('/');
                for file in files {
                    let file = format!("{base}/{file}");
                    let source = match &source_name {
                        Some(_) => file.as_str(),
                        None => file.strip_prefix(&format!("{base}/")).unwrap_or(&file),
                    };
                    seg.lines
                        .push(text::copy(source_name.as_deref(), source, &file));
                }
                for run in runs {
                    if let Step::Run {
                        phase,
                        command,
                        workdir,
                        env,
                        hint,
                        ..
                    } = run
                    {
                        self.run(at, *phase, command, workdir, env, hint.as_deref());
                    }
                }
            }
            Step::Setup {
                stage,
                command,
                purpose,
            } => {
                let at = self.segment(stage);
                let seg = &mut self.segments[at];
                seg.lines.push(comment(&format!(
                    "apprunner-build's own step: {purpose} (as root, in /, without build.env)"
                )));
                seg.lines.push("USER root".into());
                self.set_workdir(at, "/");
                let unset = self.unset_args(at, &[]);
                self.segments[at].lines.push(text::run(&(unset + command)));
            }
            Step::Commit { stage } => {
                let at = self.segment(stage);
                self.config(at)?;
                self.segments[at].frozen = true;
                self.committed = Some(at);
            }
        }
        Ok(())
    }

    /// The segment the stage's next step goes into: its current one, or a new one.
    fn segment(&mut self, stage: &str) -> usize {
        let previous = self.current.get(stage).copied();
        if let Some(at) = previous.filter(|&at| !self.segments[at].frozen) {
            return at;
        }
        let count = self.segments.iter().filter(|s| s.stage == stage).count();
        let mut name = text::stage_name(stage);
        if count > 0 {
            name = format!("{name}-{}", count + 1);
        }
        let image = self
            .plan
            .stage(stage)
            .map(|s| s.image.clone())
            .unwrap_or_default();
        let (from, needs, ca_copied) = match previous {
            Some(p) => (
                self.segments[p].name.clone(),
                vec![p],
                self.segments[p].ca_copied,
            ),
            None => (image, vec![], false),
        };
        let lines = self.pending.remove(stage).unwrap_or_default();
        self.segments.push(Segment {
            name,
            stage: stage.to_string(),
            from,
            continues: previous,
            lines,
            needs,
            frozen: false,
            args: BTreeMap::new(),
            workdir: None,
            phase: None,
            ca_copied,
            ca_args: false,
        });
        let at = self.segments.len() - 1;
        self.current.insert(stage.to_string(), at);
        at
    }

    /// The stage's current segment, which another is about to copy from.
    fn freeze(&mut self, stage: &str) -> usize {
        // Copied from twice with no step between: the same segment.
        let at = match self.current.get(stage) {
            Some(&at) => at,
            None => self.segment(stage),
        };
        self.segments[at].frozen = true;
        at
    }

    fn set_workdir(&mut self, at: usize, dir: &str) {
        let seg = &mut self.segments[at];
        if seg.workdir.as_deref() != Some(dir) {
            seg.lines.push(format!("WORKDIR {dir}"));
            seg.workdir = Some(dir.to_string());
        }
    }

    /// `unset A B; ` for the build arguments in scope that this command does not get.
    fn unset_args(&self, at: usize, env: &[EnvVar]) -> String {
        let extra: Vec<&str> = self.segments[at]
            .args
            .keys()
            .filter(|k| !env.iter().any(|e| &e.name == *k))
            .map(String::as_str)
            .collect();
        if extra.is_empty() {
            String::new()
        } else {
            format!("unset {}; ", extra.join(" "))
        }
    }

    fn run(
        &mut self,
        at: usize,
        phase: PhaseName,
        command: &str,
        workdir: &str,
        env: &[EnvVar],
        hint: Option<&str>,
    ) {
        let ca = self.options.ca_bundle;
        let last_stage = self.segments[at].stage == self.final_stage();
        let seg = &mut self.segments[at];
        if ca && !seg.ca_copied {
            seg.lines.push(comment(&format!(
                "--ca-bundle: the proxy's CA certificates, outside /app. The classic builder cannot mount a file, so this copy stays in the stage's layers{}; with BuildKit, `RUN --mount=type=secret,id=ca,target={CA_IN_STAGE}` keeps it out.",
                if last_stage { " (and so in the image's)" } else { "" }
            )));
            seg.lines.push(text::copy(None, CA_FILE, CA_IN_STAGE));
            seg.ca_copied = true;
        }
        if ca && !seg.ca_args {
            for name in CA_VARIABLES {
                seg.lines.push(format!("ARG {name}={CA_IN_STAGE}"));
            }
            seg.ca_args = true;
        }
        if seg.phase != Some(phase) {
            seg.lines.push(comment(&phase_comment(phase)));
            if let Some(hint) = hint {
                seg.lines.push(comment(hint));
            }
            seg.phase = Some(phase);
        }
        // build.env as build arguments, declared where a command first reads them; a line
        // break cannot be an ARG's value, so such a value is set in the command itself.
        let mut inline = String::new();
        let mut first = true;
        for var in env {
            if seg.args.get(&var.name) == Some(&var.value) {
                continue;
            }
            match quoted(&var.value) {
                Some(value) => {
                    if first {
                        seg.lines.push(comment(&args_comment(last_stage)));
                        first = false;
                    }
                    seg.lines.push(format!("ARG {}={value}", var.name));
                    seg.args.insert(var.name.clone(), var.value.clone());
                }
                None => {
                    inline.push_str(&format!(
                        "export {}={}\n",
                        var.name,
                        text::sh_quoted(&var.value)
                    ));
                }
            }
        }
        self.set_workdir(at, workdir);
        let unset = self.unset_args(at, env);
        let command = format!("{unset}{inline}{command}");
        self.segments[at].lines.push(text::run(&command));
    }

    fn final_stage(&self) -> String {
        self.plan
            .steps
            .iter()
            .find_map(|s| match s {
                Step::Commit { stage } => Some(stage.clone()),
                _ => None,
            })
            .unwrap_or_default()
    }

    /// The image's configuration, as the engine sets it on commit.
    fn config(&mut self, at: usize) -> Result<(), EjectError> {
        let image = &self.plan.image;
        let mut lines = vec![comment(
            "The image's configuration, as apprunner-build sets it on commit.",
        )];
        lines.push(format!("WORKDIR {}", image.working_dir));
        for env in &image.env {
            let (name, value) = match env {
                ImageEnv::Set { name, value } => (name, quote_or(name, value, "ENV")?),
                ImageEnv::Prepend {
                    name,
                    value,
                    otherwise,
                } => {
                    let value = quote_or(name, value, "ENV")?;
                    let otherwise = quote_or(name, otherwise, "ENV")?;
                    // Inside the quotes: `"/app/.venv/bin:${PATH:-/usr/bin}"`.
                    let v = format!(
                        "\"{}:${{{name}:-{}}}\"",
                        &value[1..value.len() - 1],
                        &otherwise[1..otherwise.len() - 1]
                    );
                    (name, v)
                }
            };
            lines.push(format!("ENV {name}={value}"));
        }
        lines.push(format!("EXPOSE {}", image.port));
        for (key, value) in &image.labels {
            lines.push(format!(
                "LABEL {}={}",
                text::json(key),
                quote_or(key, value, "LABEL")?
            ));
        }
        if let Some(user) = &image.user {
            lines.push(format!("USER {user}"));
        }
        lines.push(exec_form("ENTRYPOINT", &image.entrypoint));
        lines.push(exec_form("CMD", &image.cmd));
        self.segments[at].lines.extend(lines);
        Ok(())
    }

    /// Every segment, each after those it needs; the committed one last.
    fn finish(self) -> String {
        let count = self.segments.len();
        let mut order: Vec<usize> = Vec::new();
        let mut placed = vec![false; count];
        let needed = self.needed_by_image();
        while order.len() < count {
            let before = order.len();
            for i in 0..count {
                let last_only = Some(i) == self.committed && order.len() + 1 < count;
                if !placed[i] && !last_only && self.segments[i].needs.iter().all(|&n| placed[n]) {
                    placed[i] = true;
                    order.push(i);
                    break;
                }
            }
            if order.len() == before {
                // Only a plan that copies out of the committed stage gets here: written as is.
                let rest = (0..count).filter(|&i| !placed[i]).collect::<Vec<_>>();
                order.extend(rest);
                break;
            }
        }
        let mut out = self.header();
        for i in order {
            let seg = &self.segments[i];
            let purpose = self
                .plan
                .stage(&seg.stage)
                .map(|s| s.purpose.clone())
                .unwrap_or_default();
            out.push('\n');
            match seg.continues {
                None => out.push_str(&format!("# Stage `{}`: {purpose}.\n", seg.stage)),
                Some(p) => out.push_str(&format!(
                    "# Stage `{}` again, from where `{}` left it: what runs here does not reach the stages that copied from it.\n",
                    seg.stage, self.segments[p].name
                )),
            }
            if !needed[i] {
                out.push_str(&format!(
                    "# BuildKit builds only the stages the last one needs, so it skips this one unless asked: `--target {}`.\n",
                    seg.name
                ));
            }
            out.push_str(&format!("FROM {} AS {}\n", seg.from, seg.name));
            for line in &seg.lines {
                out.push_str(line);
                out.push('\n');
            }
        }
        out
    }

    /// Whether the committed segment needs each segment (itself included).
    fn needed_by_image(&self) -> Vec<bool> {
        let mut needed = vec![false; self.segments.len()];
        let mut todo: Vec<usize> = self.committed.into_iter().collect();
        while let Some(i) = todo.pop() {
            if !needed[i] {
                needed[i] = true;
                todo.extend(self.segments[i].needs.iter().copied());
            }
        }
        needed
    }

    fn header(&self) -> String {
        let plan = self.plan;
        let build = match plan.runtime.build_process {
            crate::resolve::catalog::BuildProcess::Original => {
                "App Runner's original build:\n# pre-build and build in the build stage, /app copied into the runtime stage, the build commands run there\n# again (without build.env), then post-build"
            }
            crate::resolve::catalog::BuildProcess::Revised => {
                "App Runner's revised build:\n# pre-build and build in the build stage, only /app copied into the runtime stage, pre-run there, then\n# post-build"
            }
        };
        let secrets = plan.image.secret_names();
        let secrets = if secrets.is_empty() {
            String::new()
        } else {
            format!(
                "# The service reads these secrets at run time, never at build time: {} (`docker run -e NAME=…`).\n",
                secrets.join(", ")
            )
        };
        format!(
            "# Written by `apprunner-build plan --dockerfile` from the plan {digest}.\n\
             # It builds what `apprunner-build build` builds: {runtime} {version}, in {build}.\n\
             # The base images are the ones this machine's catalog names: Debian-based stand-ins for App Runner's\n\
             # Amazon Linux runtime images.\n\
             # Build it from the source directory, with the .dockerignore beside it: `docker build -t NAME .` (the classic\n\
             # builder or BuildKit). build.env values are build arguments (`--build-arg NAME=VALUE` replaces one); the\n\
             # plan has no build secrets (App Runner has none: run.secrets are read at run time), so no step needs\n\
             # BuildKit's `RUN --mount=type=secret`.\n{secrets}",
            digest = plan.digest(),
            runtime = plan.runtime.name,
            version = plan.runtime.version,
        )
    }
}

fn comment(text: &str) -> String {
    // A line break in a message would end the comment: each line is one.
    text.lines()
        .map(|l| format!("# {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn phase_comment(phase: PhaseName) -> String {
    match phase {
        PhaseName::PreBuild => "pre-build commands".into(),
        PhaseName::Build => "build commands".into(),
        PhaseName::PostBuild => {
            "post-build commands: after /app was copied out of this stage, so nothing it does reaches the image".into()
        }
        PhaseName::PreRun => "pre-run commands, in the runtime stage".into(),
    }
}

fn args_comment(last_stage: bool) -> String {
    let whence = if last_stage {
        "this is the image's stage, so `docker history` of the image shows them (in the RUN lines), though its environment does not"
    } else {
        "only /app leaves this stage, so the image does not hold them, though `docker history` of this stage shows them"
    };
    format!("build.env, for the commands below and the rest of this stage: {whence}.")
}

fn quote_or(what: &str, value: &str, instruction: &'static str) -> Result<String, EjectError> {
    quoted(value).ok_or_else(|| EjectError::LineBreak {
        what: what.to_string(),
        instruction,
    })
}

fn exec_form(instruction: &str, args: &[String]) -> String {
    let items: Vec<String> = args.iter().map(|a| text::json(a)).collect();
    format!("{instruction} [{}]", items.join(", "))
}
