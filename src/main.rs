//! The `apprunner-build` command line; the work is in the library (`core/`, crate `apprunner_build`).

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
