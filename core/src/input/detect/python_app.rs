//! What a Python file holds, read the way a careful reader skims it (there is no Python parser
//! here: the shapes below are the ones the frameworks document): a module-level application
//! object or app factory, and the `if __name__ == "__main__":` block with what it runs.

use crate::input::files::ProjectFiles;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Interface {
    Asgi,
    Wsgi,
}

impl Interface {
    pub(super) fn name(self) -> &'static str {
        match self {
            Interface::Asgi => "ASGI",
            Interface::Wsgi => "WSGI",
        }
    }
}

/// How a server reaches the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Target {
    /// A module-level object: `app = FastAPI()`.
    Object(String),
    /// A module-level function that returns one, for the server to call: `def create_app():`.
    Factory(String),
}

/// A module-level application object (or app factory), and how it is imported.
#[derive(Debug, Clone)]
pub(super) struct AppObject {
    /// Relative to the project root: `app/main.py`.
    pub(super) file: String,
    /// `app.main`
    pub(super) module: String,
    /// Where the module is imported from when that is not the project root: `src` for a package
    /// in src/ (Poetry's `from = "src"`), which the server then gets on PYTHONPATH.
    pub(super) import_root: Option<String>,
    pub(super) target: Target,
    /// `Flask`; None for an object that a call to the app's own code builds (`application =
    /// create_app()` in wsgi.py): the file does not say which framework.
    pub(super) framework: Option<&'static str>,
    pub(super) interface: Interface,
}

impl AppObject {
    /// `app.main:app`, or `app:create_app` for a factory (each server has its own way to say
    /// "call it").
    pub(super) fn target(&self) -> String {
        match &self.target {
            Target::Object(name) | Target::Factory(name) => format!("{}:{name}", self.module),
        }
    }

    /// For a plan's origin: "an ASGI app `app` (FastAPI)", "a WSGI app factory `create_app`
    /// (Flask)", "a WSGI app `application` (built by a call)".
    pub(super) fn summary(&self) -> String {
        let article = match self.interface {
            Interface::Asgi => "an",
            Interface::Wsgi => "a",
        };
        let framework = self.framework.unwrap_or("built by a call");
        format!(
            "{article} {} {} ({framework})",
            self.interface.name(),
            self.what()
        )
    }

    /// For a message: "the FastAPI app `app`", "the Flask app factory `create_app`", "the WSGI
    /// app `application`".
    pub(super) fn describe(&self) -> String {
        format!(
            "the {} {}",
            self.framework.unwrap_or(self.interface.name()),
            self.what()
        )
    }

    fn what(&self) -> String {
        match &self.target {
            Target::Object(name) => format!("app `{name}`"),
            Target::Factory(name) => format!("app factory `{name}`"),
        }
    }
}

/// A file that may hold the app, and how it is imported.
#[derive(Debug, Clone)]
pub(super) struct Source {
    /// Relative to the project root: `src/my_service/main.py`.
    pub(super) file: String,
    /// See [`AppObject::import_root`].
    pub(super) import_root: Option<String>,
    /// Whether a module-level `def create_app(` makes the file an app: in the root entry files
    /// and in a package's `__init__.py`, where Flask's documentation puts it.
    pub(super) factory: bool,
}

impl Source {
    pub(super) fn new(file: impl Into<String>) -> Self {
        Source {
            file: file.into(),
            import_root: None,
            factory: false,
        }
    }

    /// `app/__init__.py`: importable as its package, never run as a script.
    pub(super) fn is_package_init(&self) -> bool {
        self.file == "__init__.py" || self.file.ends_with("/__init__.py")
    }

    /// `src/my_service/main.py` imported from `src` → `my_service.main`; `app/__init__.py` →
    /// `app`.
    fn module(&self) -> String {
        let path = self.file.trim_end_matches(".py");
        let path = path.strip_suffix("/__init__").unwrap_or(path);
        let path = match &self.import_root {
            Some(r) => path
                .strip_prefix(r.as_str())
                .and_then(|p| p.strip_prefix('/'))
                .unwrap_or(path),
            None => path,
        };
        path.replace('/', ".")
    }
}

/// What a Python file holds.
pub(super) struct PyFile {
    pub(super) app: Option<AppObject>,
    /// A module-level `app` or `application` assigned from a call to the app's own code (`app =
    /// create_app()`): an app, though not one this file shows the framework of.
    built: bool,
    pub(super) main: Option<MainBlock>,
}

impl PyFile {
    /// An application object, an app factory, or `app = <a call>`.
    pub(super) fn has_app(&self) -> bool {
        self.app.is_some() || self.built
    }
}

/// An `if __name__ == "__main__":` block.
pub(super) struct MainBlock {
    /// The block's body.
    pub(super) text: String,
    /// It calls `.run(` or `serve(` and reads PORT from the environment: in the block, in a
    /// module-level variable it uses, or in a module-level function it calls (`main()`).
    pub(super) serves_on_port: bool,
}

/// Constructors that make an application object, by their last name.
const FRAMEWORKS: &[(&str, &str, Interface)] = &[
    ("FastAPI", "FastAPI", Interface::Asgi),
    ("Starlette", "Starlette", Interface::Asgi),
    ("Quart", "Quart", Interface::Asgi),
    ("Litestar", "Litestar", Interface::Asgi),
    ("get_asgi_application", "Django", Interface::Asgi),
    ("Flask", "Flask", Interface::Wsgi),
    ("Bottle", "Bottle", Interface::Wsgi),
    ("get_wsgi_application", "Django", Interface::Wsgi),
];

/// The frameworks' packages, for a factory file that imports one but builds the app elsewhere.
const FRAMEWORK_MODULES: &[(&str, &str, Interface)] = &[
    ("fastapi", "FastAPI", Interface::Asgi),
    ("starlette", "Starlette", Interface::Asgi),
    ("quart", "Quart", Interface::Asgi),
    ("litestar", "Litestar", Interface::Asgi),
    ("flask", "Flask", Interface::Wsgi),
    ("bottle", "Bottle", Interface::Wsgi),
];

/// The factory name Flask's documentation (and `flask run`'s discovery) uses.
const FACTORY: &str = "create_app";

pub(super) fn read_py(project: &ProjectFiles, source: &Source) -> Option<PyFile> {
    let text = project.peek(&source.file)?;
    let lines: Vec<&str> = text.lines().collect();
    let mut object = None;
    let mut built = None;
    let mut factory = false;
    let mut main = None;
    // Module-level functions (name, body) and variables that hold $PORT, for what `main` runs.
    let mut functions: Vec<(&str, String)> = Vec::new();
    let mut port_vars: Vec<&str> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if line.starts_with(char::is_whitespace) {
            continue;
        }
        if line.starts_with("if __name__") && line.contains("__main__") {
            main = Some(body(&lines[i + 1..]));
            continue;
        }
        if let Some(name) = def_name(line) {
            factory |= name == FACTORY;
            functions.push((name, body(&lines[i + 1..])));
            continue;
        }
        let Some((var, value)) = assignment(line) else {
            continue;
        };
        if reads_port(value) {
            port_vars.push(var);
        }
        let Some((callee, _)) = value.split_once('(') else {
            continue;
        };
        let callee = callee.trim();
        if callee.is_empty() || !callee.chars().all(|c| is_ident(c) || c == '.') {
            continue;
        }
        let last = callee.rsplit('.').next().unwrap_or("");
        match FRAMEWORKS.iter().find(|(c, ..)| *c == last) {
            Some(&(_, framework, interface)) if object.is_none() => {
                object = Some((var, framework, interface));
            }
            None if built.is_none() && matches!(var, "app" | "application") => built = Some(var),
            _ => {}
        }
    }
    let module = source.module();
    let app = |target, framework, interface| AppObject {
        file: source.file.clone(),
        module: module.clone(),
        import_root: source.import_root.clone(),
        target,
        framework,
        interface,
    };
    let name = source.file.rsplit('/').next().unwrap_or("");
    let app = if let Some((var, framework, interface)) = object {
        Some(app(Target::Object(var.into()), Some(framework), interface))
    } else if let (Some(var), Some(interface)) = (built, entry_interface(name)) {
        // wsgi.py and asgi.py say by their name what they hold: `application = create_app()`
        // there is the app a factory made, the usual shape of a factory's entry file.
        Some(app(Target::Object(var.into()), None, interface))
    } else if factory && source.factory {
        uses_framework(&text).map(|(framework, interface)| {
            app(Target::Factory(FACTORY.into()), Some(framework), interface)
        })
    } else {
        None
    };
    let main = main.map(|text| {
        // What the block runs: its body, and the bodies of the module-level functions it calls.
        let mut runs = text.clone();
        for (name, body) in &functions {
            if has_word(&text, &format!("{name}(")) {
                runs.push('\n');
                runs.push_str(body);
            }
        }
        let starts = runs.contains(".run(") || runs.contains("serve(");
        let port = reads_port(&runs) || port_vars.iter().any(|v| reads_var(&runs, v));
        MainBlock {
            text,
            serves_on_port: starts && port,
        }
    });
    Some(PyFile {
        app,
        built: built.is_some(),
        main,
    })
}

fn entry_interface(file_name: &str) -> Option<Interface> {
    match file_name {
        "wsgi.py" => Some(Interface::Wsgi),
        "asgi.py" => Some(Interface::Asgi),
        _ => None,
    }
}

/// The indented lines after a block's first line.
fn body(after: &[&str]) -> String {
    after
        .iter()
        .take_while(|l| l.trim().is_empty() || l.starts_with(char::is_whitespace))
        .copied()
        .collect::<Vec<_>>()
        .join("\n")
}

/// `def main(` or `async def main(` → `main`.
fn def_name(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("async ").unwrap_or(line);
    let rest = rest.strip_prefix("def ")?.trim_start();
    let name = &rest[..rest.find('(')?];
    (!name.is_empty() && name.chars().all(is_ident)).then_some(name)
}

/// `name = value` or `name: Type = value` (not `==`, not `a.b = …`) → (name, value).
fn assignment(line: &str) -> Option<(&str, &str)> {
    let (target, value) = line.split_once('=')?;
    let var = target.split(':').next().unwrap_or("").trim();
    if var.is_empty() || !var.chars().all(is_ident) || value.starts_with('=') {
        return None;
    }
    Some((var, value.trim()))
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// `os.environ["PORT"]`, `os.environ.get('PORT', 8080)`, `os.getenv("PORT")`.
fn reads_port(text: &str) -> bool {
    ["environ[", "environ.get(", "getenv("].iter().any(|read| {
        text.match_indices(read).any(|(at, _)| {
            let arg = text[at + read.len()..].trim_start();
            arg.starts_with("\"PORT\"") || arg.starts_with("'PORT'")
        })
    })
}

/// `word` in `text` as a name of this module: no identifier character just before it (nor
/// after, when it ends in one), and no `.` (`self.main()` is not the module's `main`): `main(`
/// in `    main()`, not in `domain()`.
fn has_word(text: &str, word: &str) -> bool {
    occurrences(text, word, false).next().is_some()
}

/// The module-level variable `var` read in `text`: named, not as a keyword argument or the
/// target of an assignment (`port` in `run(port=5000)` is not the variable).
fn reads_var(text: &str, var: &str) -> bool {
    occurrences(text, var, false).any(|end| {
        let rest = text[end..].trim_start();
        !rest.starts_with('=') || rest.starts_with("==")
    })
}

/// Where each occurrence of `word` in `text` ends, with no identifier character around it;
/// `attribute` accepts it after a `.` (`flask.Flask(`).
fn occurrences<'a>(
    text: &'a str,
    word: &'a str,
    attribute: bool,
) -> impl Iterator<Item = usize> + 'a {
    let open_end = word.ends_with(is_ident);
    text.match_indices(word).filter_map(move |(at, _)| {
        let end = at + word.len();
        let before = text[..at].chars().next_back();
        let after = text[end..].chars().next();
        let joined_before = before.is_some_and(|c| is_ident(c) || (c == '.' && !attribute));
        let joined_after = open_end && after.is_some_and(is_ident);
        (!joined_before && !joined_after).then_some(end)
    })
}

/// The framework a factory's file uses: a constructor it calls, else a package it imports.
fn uses_framework(text: &str) -> Option<(&'static str, Interface)> {
    if let Some(&(_, framework, interface)) = FRAMEWORKS
        .iter()
        .find(|(c, ..)| occurrences(text, &format!("{c}("), true).next().is_some())
    {
        return Some((framework, interface));
    }
    let imports = |line: &str, module: &str| {
        ["from ", "import "].iter().any(|kw| {
            line.strip_prefix(kw)
                .and_then(|r| r.strip_prefix(module))
                .is_some_and(|r| r.is_empty() || r.starts_with([' ', '.', ',']))
        })
    };
    text.lines().find_map(|line| {
        FRAMEWORK_MODULES
            .iter()
            .find(|(m, ..)| imports(line.trim(), m))
            .map(|&(_, framework, interface)| (framework, interface))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(file: &str, text: &str, factory: bool) -> PyFile {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
        let source = Source {
            factory,
            ..Source::new(file)
        };
        read_py(
            &ProjectFiles::new(dir.path(), std::path::Path::new("")),
            &source,
        )
        .unwrap()
    }

    #[test]
    fn app_objects_and_main_blocks() {
        let py = read(
            "main.py",
            "import fastapi\n\ndef f():\n    inner = fastapi.FastAPI()\n\napi: fastapi.FastAPI = fastapi.FastAPI(title='x')\nif api == None:\n    pass\n\nif __name__ == \"__main__\":\n    import uvicorn\n    uvicorn.run(api)\n",
            false,
        );
        let app = py.app.unwrap();
        assert_eq!(app.target, Target::Object("api".into()));
        assert_eq!(app.framework, Some("FastAPI"));
        assert_eq!(app.interface, Interface::Asgi);
        let main = py.main.unwrap();
        assert!(main.text.contains("uvicorn.run(api)"));
        assert!(!main.serves_on_port, "no $PORT");
    }

    #[test]
    fn a_main_block_serves_on_port_directly_through_a_variable_or_a_function() {
        let serves = |text: &str| read("run.py", text, false).main.unwrap().serves_on_port;
        assert!(serves(
            "if __name__ == '__main__':\n    uvicorn.run(app, host='0.0.0.0', port=int(os.environ['PORT']))\n"
        ));
        assert!(serves(
            "PORT = int(os.getenv(\"PORT\", \"8080\"))\nif __name__ == '__main__':\n    serve(app, port=PORT)\n"
        ));
        assert!(serves(
            "def main():\n    app.run(host='0.0.0.0', port=os.environ.get( 'PORT', 8080))\n\nif __name__ == '__main__':\n    main()\n"
        ));
        assert!(!serves(
            "def domain():\n    app.run(port=os.environ['PORT'])\n\nif __name__ == '__main__':\n    app.run(port=5000)\n"
        ));
        assert!(!serves(
            "if __name__ == '__main__':\n    print(os.environ['PORT'])\n"
        ));
        assert!(!serves(
            "port = os.environ['PORT']\nif __name__ == '__main__':\n    app.run(port=5000)\n"
        ));
    }

    #[test]
    fn factories_and_the_apps_they_build() {
        let py = read(
            "app/__init__.py",
            "from flask import Flask\n\ndef create_app(config=None):\n    app = Flask(__name__)\n    return app\n",
            true,
        );
        let app = py.app.unwrap();
        assert_eq!(app.target(), "app:create_app");
        assert_eq!(app.describe(), "the Flask app factory `create_app`");
        assert_eq!(app.interface, Interface::Wsgi);
        let py = read(
            "main.py",
            "from fastapi import FastAPI\nfrom .routes import router\n\ndef create_app():\n    return make(FastAPI)\n",
            true,
        );
        assert_eq!(
            py.app.unwrap().interface,
            Interface::Asgi,
            "from the import"
        );
        assert!(
            read(
                "app/main.py",
                "def create_app():\n    return Flask(__name__)\n",
                false
            )
            .app
            .is_none(),
            "only where Flask's documentation puts a factory"
        );
        let py = read(
            "wsgi.py",
            "from app import create_app\n\napplication = create_app(\"prod\")\n",
            false,
        );
        let app = py.app.unwrap();
        assert_eq!(
            (app.target(), app.framework),
            ("wsgi:application".into(), None)
        );
        assert_eq!(app.summary(), "a WSGI app `application` (built by a call)");
        let py = read("run.py", "app = create_app()\n", false);
        assert!(
            py.app.is_none() && py.has_app(),
            "only wsgi.py and asgi.py say what it is"
        );
    }

    #[test]
    fn modules_from_paths() {
        let module = |file: &str, root: Option<&str>| {
            Source {
                import_root: root.map(Into::into),
                ..Source::new(file)
            }
            .module()
        };
        assert_eq!(module("app/__init__.py", None), "app");
        assert_eq!(module("src/server.py", None), "src.server");
        assert_eq!(
            module("src/my_service/main.py", Some("src")),
            "my_service.main"
        );
    }
}
