fn main() {
    std::process::exit(apprunner_build::cli::main());
}
