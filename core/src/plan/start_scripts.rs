//! The scripts a start command runs (`sh setup.sh && streamlit run app.py`), and what they say of
//! the port: a Streamlit app's `setup.sh` writes `port = $PORT` into the config file the server
//! reads, so the server's default is not the port it listens on. Pure: the caller reads the files.

/// The script files `command` runs, as paths from /app (where the start command runs):
/// `sh setup.sh`, `bash ./run.sh`, `. ./env.sh`, `source env.sh`, `./setup.sh`.
pub(super) fn run_by(command: &str) -> Vec<String> {
    let mut scripts = Vec::new();
    for simple in command.split(['\n', ';', '&', '|']) {
        let words: Vec<&str> = simple
            .split_whitespace()
            .map(|w| w.trim_matches(|c| c == '"' || c == '\''))
            .skip_while(|w| w.split_once('=').is_some_and(|(n, _)| is_name(n)) || *w == "exec")
            .collect();
        let Some(first) = words.first() else { continue };
        let program = first.rsplit('/').next().unwrap_or(first);
        let script = match program {
            "sh" | "bash" | "dash" | "zsh" => {
                // `sh -c '…'` runs the text that follows, not a file.
                if words.contains(&"-c") {
                    continue;
                }
                words[1..].iter().find(|w| !w.starts_with('-'))
            }
            "source" | "." => words.get(1),
            _ if first.starts_with("./") || first.ends_with(".sh") => Some(first),
            _ => None,
        };
        if let Some(script) = script {
            let script = script.strip_prefix("/app/").unwrap_or(script);
            let script = script.trim_start_matches("./");
            if !script.is_empty() && !scripts.iter().any(|s| s == script) {
                scripts.push(script.to_string());
            }
        }
    }
    scripts
}

/// Whether a script passes App Runner's port on (`port = $PORT`, `--server.port ${PORT}`).
pub(super) fn reads_port(text: &str) -> bool {
    code_lines(text).any(|(_, line)| line.contains("$PORT") || line.contains("${PORT"))
}

/// The first literal port a script sets for the server: a config line `port = 8501` (what
/// Streamlit's `config.toml` holds), or a server's port variable (`STREAMLIT_SERVER_PORT=8501`);
/// with its 1-based line and the text.
pub(super) fn literal_port(text: &str) -> Option<(usize, u16, String)> {
    const VARIABLES: &[&str] = &["STREAMLIT_SERVER_PORT", "FLASK_RUN_PORT", "UVICORN_PORT"];
    code_lines(text).find_map(|(n, line)| {
        // `echo "port = 8501"`, `port = 8501\n\` inside an echoed block: the setting itself.
        let setting = line
            .trim()
            .trim_start_matches("echo ")
            .trim_start_matches(['"', '\'', ' ']);
        let value = setting
            .strip_prefix("port")
            .or_else(|| {
                let at = VARIABLES
                    .iter()
                    .find_map(|v| setting.find(&format!("{v}=")))?;
                let rest = &setting[at..];
                rest.find('=').map(|i| &rest[i..])
            })?
            .trim_start()
            .strip_prefix('=')?
            .trim_start()
            .trim_start_matches(['"', '\'']);
        let digits: String = value.chars().take_while(char::is_ascii_digit).collect();
        let port = digits.parse().ok()?;
        // An echoed block's line ends in `\n\`: the setting is what comes before.
        let shown = line.trim().trim_end_matches('\\').trim_end_matches("\\n");
        Some((n, port, shown.trim_end().to_string()))
    })
}

/// The lines of a shell script with their 1-based numbers, comments left out.
fn code_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, line)| (i + 1, line))
        .filter(|(_, line)| !line.trim_start().starts_with('#'))
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !s.starts_with(|c: char| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::{literal_port, reads_port, run_by};

    #[test]
    fn scripts_a_start_command_runs() {
        assert_eq!(run_by("sh setup.sh && streamlit run app.py"), ["setup.sh"]);
        assert_eq!(
            run_by("bash -e ./run.sh; . ./env.sh && source /app/more.sh"),
            ["run.sh", "env.sh", "more.sh"]
        );
        assert_eq!(run_by("PORT_X=1 ./start.sh"), ["start.sh"]);
        assert_eq!(
            run_by("/usr/local/bin/setup.sh"),
            ["/usr/local/bin/setup.sh"]
        );
        assert!(run_by("sh -c 'streamlit run app.py'").is_empty());
        assert!(run_by("gunicorn app:app").is_empty());
    }

    #[test]
    fn ports_a_script_sets() {
        let setup = "mkdir -p ~/.streamlit/\necho \"\\\n[server]\\n\\\nport = $PORT\\n\\\n\" > ~/.streamlit/config.toml\n";
        assert!(reads_port(setup));
        assert!(!reads_port("# port = $PORT\necho hi\n"));
        assert_eq!(
            literal_port("echo \"[server]\"\nport = 8501\\n\\\n"),
            Some((2, 8501, "port = 8501".to_string()))
        );
        assert_eq!(
            literal_port("export STREAMLIT_SERVER_PORT=8502\n").map(|f| (f.0, f.1)),
            Some((1, 8502))
        );
        assert_eq!(literal_port("export DB_PORT=5432\nreport = 1\n"), None);
    }
}
