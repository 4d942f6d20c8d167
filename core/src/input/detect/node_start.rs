//! How a Node.js app starts: the start command when nothing else names one, and what a start
//! command runs (the files `node` runs, the modules it preloads, the packages whose binaries it
//! calls), which decides whether devDependencies may be pruned.

use crate::input::files::ProjectFiles;
use crate::input::origin::Origin;
use crate::input::package_json::PackageJson;
use std::path::Path;

/// The start command from package.json and the files npm knows, in order: `scripts.start`;
/// `scripts["start:prod"]` (NestJS's and many TypeScript templates' production start, run after
/// the build); `server.js` (npm's own default for `npm start`); `main`; `index.js`; `app.js`.
/// The files must exist.
pub(super) fn from_package(
    project: &ProjectFiles,
    shown_root: &Path,
    package: &PackageJson,
) -> Option<(String, Origin)> {
    let path = &package.source.path;
    if package.script("start").is_some() {
        return Some(("npm start".into(), Origin::key(path, "scripts.start")));
    }
    if package.script("start:prod").is_some() {
        return Some((
            "npm run start:prod".into(),
            Origin::File {
                path: path.clone(),
                key: Some("scripts[\"start:prod\"]".into()),
                note: Some(
                    "no scripts.start; the production start of NestJS and TypeScript templates"
                        .into(),
                ),
            },
        ));
    }
    if project.is_file("server.js") {
        return Some((
            "node server.js".into(),
            Origin::noted(
                shown_root.join("server.js"),
                "npm's default when there is no scripts.start",
            ),
        ));
    }
    if let Some(main) = package.json.get("main").and_then(|m| m.as_str()) {
        let file = main.trim_start_matches("./");
        if !file.is_empty() && project.is_file(file) {
            return Some((
                format!("node {}", shell_word(file)),
                Origin::File {
                    path: path.clone(),
                    key: Some("main".into()),
                    note: Some("no scripts.start or server.js".into()),
                },
            ));
        }
    }
    for file in ["index.js", "app.js"] {
        if project.is_file(file) {
            return Some((
                format!("node {file}"),
                Origin::noted(
                    shown_root.join(file),
                    "no scripts.start, server.js or main in package.json",
                ),
            ));
        }
    }
    None
}

/// A file name as one shell word.
fn shell_word(word: &str) -> String {
    if word
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+@".contains(c))
    {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// The package.json scripts `command` runs, directly or through others.
pub(super) fn scripts_run_by(command: &str, package: &PackageJson) -> Vec<String> {
    runs(command, "the start command", package).scripts
}

/// A program the start command runs from `node_modules/.bin`, and the package that provides it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Binary {
    pub program: String,
    pub package: String,
    /// Where the command that runs it is written: `scripts.start`, `the start command`.
    pub written_in: String,
}

/// What a start command runs.
#[derive(Debug, Clone, Default)]
pub(super) struct Runs {
    /// Files `node` (or a runner such as ts-node, tsx, nodemon) runs, relative to the root.
    pub files: Vec<String>,
    /// Modules loaded before them (`node -r dotenv/config`, `--import tsx`): the module, the
    /// flag, and where the command is written.
    pub preloads: Vec<(String, String, String)>,
    pub binaries: Vec<Binary>,
    /// package.json scripts it runs (`npm start` → `start`).
    pub scripts: Vec<String>,
    /// Set when some part cannot be followed (a shell script, `node -e`, a framework's binary
    /// that loads the app's files itself): what it is.
    pub opaque: Option<String>,
}

/// Runners that take a file to run, and whether they compile TypeScript with `typescript`.
const RUNNERS: &[(&str, &str)] = &[
    ("ts-node", "ts-node"),
    ("ts-node-dev", "ts-node-dev"),
    ("tsnd", "ts-node-dev"),
    ("tsx", "tsx"),
    ("nodemon", "nodemon"),
    ("babel-node", "@babel/node"),
    ("node-dev", "node-dev"),
    ("pm2-runtime", "pm2"),
    ("pm2", "pm2"),
    ("forever", "forever"),
    ("supervisor", "supervisor"),
];

/// Binaries whose package has another name.
const BINARY_PACKAGES: &[(&str, &str)] = &[
    ("tsc", "typescript"),
    ("nest", "@nestjs/cli"),
    ("ng", "@angular/cli"),
    ("remix-serve", "@remix-run/serve"),
    ("react-router-serve", "@react-router/serve"),
    ("sls", "serverless"),
    ("cross-env", "cross-env"),
    ("dotenv", "dotenv-cli"),
];

/// What `command` runs, following `npm start`/`npm run X`/`yarn X`/`pnpm X` into package.json's
/// scripts.
pub(super) fn runs(command: &str, written_in: &str, package: &PackageJson) -> Runs {
    let mut out = Runs::default();
    walk(command, written_in, package, "", 0, &mut out);
    out
}

fn walk(
    command: &str,
    written_in: &str,
    package: &PackageJson,
    cwd: &str,
    depth: usize,
    out: &mut Runs,
) {
    let mut cwd = cwd.to_string();
    for segment in segments(command) {
        let words = shell_words(&segment);
        let mut words: &[String] = &words;
        // `NODE_ENV=production node x`, `env A=b node x`, `exec node x`; `cross-env A=b node x`
        // and `dotenv -e .env -- node x` too, but their packages must be there at run time.
        while let Some(first) = words.first() {
            let assignment =
                first.contains('=') && !first.starts_with('-') && !first.starts_with('=');
            if matches!(first.as_str(), "cross-env" | "dotenv") {
                out.binaries.push(Binary {
                    program: first.clone(),
                    package: binary_package(first).to_string(),
                    written_in: written_in.to_string(),
                });
                words = &words[1..];
            } else if assignment
                || first.starts_with('-')
                || matches!(first.as_str(), "env" | "exec" | "nohup" | "time")
            {
                words = &words[1..];
            } else {
                break;
            }
        }
        let Some(program) = words.first() else {
            continue;
        };
        let args = &words[1..];
        match program.as_str() {
            "cd" => {
                if let Some(dir) = args.first() {
                    cwd = join(&cwd, dir);
                }
            }
            "npm" | "yarn" | "pnpm" => {
                if let Some(script) = script_of(program, args, package) {
                    if depth < 8 && !out.scripts.contains(&script) {
                        if let Some(text) = package.script(&script) {
                            out.scripts.push(script.clone());
                            let written_in = format!("scripts.{script}");
                            walk(text, &written_in, package, &cwd, depth + 1, out);
                        }
                    }
                } else if let Some(rest) = exec_of(program, args) {
                    run_program(rest, written_in, &cwd, out);
                }
            }
            "npx" => {
                let rest: Vec<String> = args
                    .iter()
                    .skip_while(|a| a.starts_with('-'))
                    .cloned()
                    .collect();
                run_program(&rest, written_in, &cwd, out);
            }
            _ => run_program(words, written_in, &cwd, out),
        }
    }
}

/// The script `npm start`, `npm run X`, `yarn X`, `pnpm run X` runs.
fn script_of(manager: &str, args: &[String], package: &PackageJson) -> Option<String> {
    let args: Vec<&str> = args
        .iter()
        .map(|a| a.as_str())
        .filter(|a| !a.starts_with('-'))
        .collect();
    match (manager, args.as_slice()) {
        (_, ["start", ..]) => Some("start".into()),
        (_, ["run" | "run-script", script, ..]) => Some(script.to_string()),
        // `yarn build`, `pnpm serve`: a script's name as the command.
        ("yarn" | "pnpm", [script, ..]) if package.script(script).is_some() => {
            Some(script.to_string())
        }
        _ => None,
    }
}

/// `npm exec X`, `pnpm exec X`, `pnpm dlx X`, `yarn dlx X`, `yarn node X`: the program and its
/// arguments.
fn exec_of<'a>(manager: &str, args: &'a [String]) -> Option<&'a [String]> {
    let first = args.first()?.as_str();
    match (manager, first) {
        ("yarn", "node") => Some(args),
        (_, "exec" | "dlx" | "x") => {
            let skip = args[1..].iter().take_while(|a| a.starts_with('-')).count();
            Some(&args[1 + skip..])
        }
        _ => None,
    }
}

fn run_program(words: &[String], written_in: &str, cwd: &str, out: &mut Runs) {
    let Some(program) = words.first() else {
        return;
    };
    let args = &words[1..];
    let name = program.rsplit('/').next().unwrap_or(program);
    match name {
        "node" | "nodejs" if !program.contains("node_modules") => node(args, written_in, cwd, out),
        "sh" | "bash" | "dash" | "zsh" => {
            out.opaque.get_or_insert(format!(
                "{written_in} runs a shell script (`{}`)",
                words.join(" ")
            ));
        }
        _ if program.starts_with('.') || program.starts_with('/') => {
            out.opaque
                .get_or_insert(format!("{written_in} runs `{program}`"));
        }
        _ => {
            if let Some((_, pkg)) = RUNNERS.iter().find(|(bin, _)| *bin == name) {
                out.binaries.push(Binary {
                    program: name.to_string(),
                    package: pkg.to_string(),
                    written_in: written_in.to_string(),
                });
                if name == "ts-node" || name == "ts-node-dev" || name == "tsnd" {
                    out.binaries.push(Binary {
                        program: name.to_string(),
                        package: "typescript".into(),
                        written_in: written_in.to_string(),
                    });
                }
                let files: Vec<String> = args
                    .iter()
                    .filter(|a| !a.starts_with('-') && has_code_extension(a))
                    .map(|a| join(cwd, a))
                    .collect();
                // A runner inside the arguments (`nodemon --exec ts-node src/x.ts`).
                for arg in args {
                    if let Some((bin, pkg)) = RUNNERS.iter().find(|(bin, _)| bin == arg) {
                        out.binaries.push(Binary {
                            program: bin.to_string(),
                            package: pkg.to_string(),
                            written_in: written_in.to_string(),
                        });
                    }
                }
                if files.is_empty() || files.iter().any(|f| f.contains("ecosystem.config")) {
                    out.opaque.get_or_insert(format!(
                        "{written_in} runs {name} without a file to follow"
                    ));
                }
                out.files.extend(
                    files
                        .into_iter()
                        .filter(|f| !f.contains("ecosystem.config")),
                );
            } else {
                out.binaries.push(Binary {
                    program: name.to_string(),
                    package: binary_package(name).to_string(),
                    written_in: written_in.to_string(),
                });
                out.opaque.get_or_insert(format!(
                    "{written_in} runs `{name}`, which loads the app's files itself"
                ));
            }
        }
    }
}

/// The package that provides a binary: mostly its own name.
fn binary_package(program: &str) -> &str {
    BINARY_PACKAGES
        .iter()
        .find(|(bin, _)| *bin == program)
        .map_or(program, |(_, pkg)| pkg)
}

/// `node [options] FILE`: `-r`/`--require`/`--import`/`--loader` preload modules.
fn node(args: &[String], written_in: &str, cwd: &str, out: &mut Runs) {
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with('-') => (f, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        match flag {
            "-r" | "--require" | "--import" | "--loader" | "--experimental-loader" => {
                let value = inline.or_else(|| {
                    i += 1;
                    args.get(i).cloned()
                });
                if let Some(module) = value {
                    out.preloads
                        .push((module, format!("node {flag}"), written_in.to_string()));
                }
            }
            "-e" | "--eval" | "-p" | "--print" => {
                out.opaque
                    .get_or_insert(format!("{written_in} runs code given to `node {flag}`"));
                return;
            }
            f if f.starts_with('-') => {}
            _ => {
                out.files.push(join(cwd, arg));
                return;
            }
        }
        i += 1;
    }
}

fn has_code_extension(word: &str) -> bool {
    let ext = word.rsplit('.').next().unwrap_or("");
    word.contains('.')
        && matches!(
            ext,
            "js" | "mjs" | "cjs" | "ts" | "mts" | "cts" | "tsx" | "jsx"
        )
}

fn join(dir: &str, path: &str) -> String {
    let path = path.trim_start_matches("./");
    if dir.is_empty() || path.starts_with('/') {
        path.to_string()
    } else {
        format!("{dir}/{path}")
    }
}

/// A command line split at `&&`, `||`, `;`, `|` and `&`, outside quotes.
fn segments(command: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    for c in command.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => {
                quote = None;
                current.push(c);
            }
            (Some(_), c) => current.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                current.push(c);
            }
            (None, '&' | '|' | ';' | '\n') => {
                if !current.trim().is_empty() {
                    out.push(std::mem::take(&mut current));
                }
                current.clear();
            }
            (None, c) => current.push(c),
        }
    }
    if !current.trim().is_empty() {
        out.push(current);
    }
    out
}

/// A command's words, quotes removed.
fn shell_words(segment: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    for c in segment.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::diagnostic::SourceText;

    fn package(json: &str) -> PackageJson {
        PackageJson {
            source: SourceText::new("package.json", json),
            json: serde_json::from_str(json).unwrap(),
        }
    }

    #[test]
    fn start_commands_are_followed_into_scripts_and_runners() {
        let p = package(
            r#"{ "scripts": {
                "start": "cross-env NODE_ENV=production npm run serve",
                "serve": "cd server && node -r dotenv/config --enable-source-maps dist/main.js",
                "dev": "nodemon --watch src --exec ts-node src/index.ts"
            } }"#,
        );
        let r = runs("npm start", "the start command", &p);
        assert_eq!(r.scripts, ["start", "serve"]);
        assert_eq!(r.files, ["server/dist/main.js"]);
        assert_eq!(
            r.preloads,
            [(
                "dotenv/config".to_string(),
                "node -r".to_string(),
                "scripts.serve".to_string()
            )]
        );
        let programs: Vec<(&str, &str)> = r
            .binaries
            .iter()
            .map(|b| (b.program.as_str(), b.package.as_str()))
            .collect();
        assert_eq!(programs, [("cross-env", "cross-env")]);
        assert!(r.opaque.is_none());

        let dev = runs("yarn dev", "the start command", &p);
        let packages: Vec<&str> = dev.binaries.iter().map(|b| b.package.as_str()).collect();
        assert_eq!(packages, ["nodemon", "ts-node"]);
        assert_eq!(dev.files, ["src/index.ts"]);
    }

    #[test]
    fn frameworks_and_scripts_cannot_be_followed() {
        let p = package(r#"{ "scripts": { "start": "next start -p $PORT" } }"#);
        let r = runs("npm start", "the start command", &p);
        assert_eq!(r.binaries[0].package, "next");
        assert!(r.files.is_empty());
        assert!(r.opaque.unwrap().contains("`next`"));
        let nest = runs("nest start", "the start command", &p);
        assert_eq!(nest.binaries[0].package, "@nestjs/cli");
        let sh = runs("sh ./start.sh", "the start command", &p);
        assert!(sh.opaque.unwrap().contains("shell script"));
        let tsnode = runs("ts-node src/main.ts", "the start command", &p);
        let packages: Vec<&str> = tsnode.binaries.iter().map(|b| b.package.as_str()).collect();
        assert_eq!(packages, ["ts-node", "typescript"]);
    }
}
