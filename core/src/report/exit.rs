//! The process's exit codes, one per kind of failure; the README lists them.

/// Everything worked (for `validate`: the configuration is valid).
pub const OK: u8 = 0;
/// The input is wrong: apprunner.yaml, the settings flags, the project's files, a catalog or a
/// saved plan. Nothing was built or started.
pub const INVALID_INPUT: u8 = 1;
/// The command line is wrong, or a file it names cannot be read or written (clap uses 2 too).
pub const USAGE: u8 = 2;
/// A pre-build, build, post-build or pre-run command exited non-zero.
pub const BUILD_COMMAND_FAILED: u8 = 3;
/// The Docker engine cannot be reached, an image cannot be pulled, or an engine call failed.
pub const ENGINE_FAILED: u8 = 4;
/// `run`: the application exited (its own code is in the log).
pub const APP_EXITED: u8 = 5;
/// `run`: the application did not pass its health check.
pub const APP_UNHEALTHY: u8 = 6;
/// `build --push`: the image was built (and stays in the engine) but not pushed.
pub const PUSH_FAILED: u8 = 7;
/// Stopped by SIGINT or SIGTERM, after removing the containers (128 + SIGINT, as shells report).
pub const INTERRUPTED: u8 = 130;

/// Every code with its name, for documentation checks.
pub const ALL: &[(&str, u8)] = &[
    ("OK", OK),
    ("INVALID_INPUT", INVALID_INPUT),
    ("USAGE", USAGE),
    ("BUILD_COMMAND_FAILED", BUILD_COMMAND_FAILED),
    ("ENGINE_FAILED", ENGINE_FAILED),
    ("APP_EXITED", APP_EXITED),
    ("APP_UNHEALTHY", APP_UNHEALTHY),
    ("PUSH_FAILED", PUSH_FAILED),
    ("INTERRUPTED", INTERRUPTED),
];
