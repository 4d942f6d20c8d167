//! Every message's stable code, shown as `error[AR112]` so that people can search for it; the
//! README lists them all (a test checks). AR1xx: apprunner.yaml and the settings; AR2xx: runtimes
//! and versions; AR3xx: a project's own files (detection); AR4xx: plan warnings; AR5xx: the build;
//! AR6xx: `run`; AR7xx: the command line and the files it names; AR80x: `plan --dockerfile`;
//! AR81x: `export`; AR82x: `upgrade`; AR83x: `build --sbom`.

/// A message's code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Code(pub &'static str);

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

pub const CONFIG_MISNAMED: Code = Code("AR100");
pub const CONFIG_UNREADABLE: Code = Code("AR101");
pub const CONFIG_TOO_LARGE: Code = Code("AR102");
pub const CONFIG_NOT_UTF8: Code = Code("AR103");
pub const CONFIG_EMPTY: Code = Code("AR104");
pub const CONFIG_BOM: Code = Code("AR105");
pub const YAML_TAB: Code = Code("AR106");
pub const YAML_SYNTAX: Code = Code("AR107");
pub const YAML_ANCHOR: Code = Code("AR108");
pub const YAML_TAG: Code = Code("AR109");
pub const YAML_SHAPE: Code = Code("AR110");
pub const DUPLICATE_KEY: Code = Code("AR111");
pub const UNKNOWN_KEY: Code = Code("AR112");
pub const MISSING_KEY: Code = Code("AR113");
pub const WRONG_TYPE: Code = Code("AR114");
pub const UNSUPPORTED_VERSION: Code = Code("AR115");
pub const NO_BUILD_COMMANDS: Code = Code("AR116");
pub const COMMAND_READ_AS_MAPPING: Code = Code("AR117");
pub const EMPTY_VALUE: Code = Code("AR118");
pub const MISSING_FIELD: Code = Code("AR119");
pub const EMPTY_NETWORK: Code = Code("AR120");
pub const INVALID_PORT: Code = Code("AR121");
pub const INVALID_VARIABLE_NAME: Code = Code("AR122");
pub const RESERVED_VARIABLE: Code = Code("AR123");
pub const PORT_REPEATED: Code = Code("AR124");
pub const DUPLICATE_VARIABLE: Code = Code("AR125");
pub const INVALID_SECRET_REFERENCE: Code = Code("AR126");
pub const PRE_RUN_ON_ORIGINAL: Code = Code("AR127");
pub const PORT_MISMATCH: Code = Code("AR128");
pub const SHELL_UNREADABLE_NAME: Code = Code("AR129");
pub const API_SETTING_MISSING: Code = Code("AR130");
pub const SETTINGS_WITH_CONFIG_FILE: Code = Code("AR131");
pub const CONFIG_FILE_IGNORED: Code = Code("AR132");
pub const NO_CONFIGURATION: Code = Code("AR133");
pub const NOT_A_DIRECTORY: Code = Code("AR134");
pub const NOT_AN_APPRUNNER_FILE: Code = Code("AR135");
pub const SECOND_CONFIG_FILE: Code = Code("AR136");
pub const NUL_IN_VALUE: Code = Code("AR137");
pub const SOURCE_DIRECTORY_OUTSIDE: Code = Code("AR138");
pub const YAML_INVISIBLE_CHARACTER: Code = Code("AR139");

pub const UNKNOWN_RUNTIME: Code = Code("AR200");
pub const UNSUPPORTED_RUNTIME: Code = Code("AR201");
pub const MALFORMED_VERSION: Code = Code("AR202");
pub const VERSION_NOT_OFFERED: Code = Code("AR203");
pub const VERSION_CONFLICT: Code = Code("AR204");
pub const NOT_APP_RUNNER_RUNTIME: Code = Code("AR205");
pub const END_OF_SUPPORT: Code = Code("AR206");
pub const LOCKED_PATCH: Code = Code("AR207");
pub const INVALID_CATALOG: Code = Code("AR208");
pub const RUNTIME_SPELLING: Code = Code("AR209");
pub const RUNTIME_LACKS_WHEELS: Code = Code("AR210");

pub const PACKAGE_JSON_UNREADABLE: Code = Code("AR300");
pub const PACKAGE_JSON_INVALID: Code = Code("AR301");
pub const NO_START_COMMAND: Code = Code("AR302");
pub const TWO_LOCKFILES: Code = Code("AR303");
pub const PACKAGE_MANAGER_MISMATCH: Code = Code("AR304");
pub const INVALID_VERSION_FILE: Code = Code("AR305");
pub const INVALID_TOML: Code = Code("AR306");
pub const INVALID_REQUIRES_PYTHON: Code = Code("AR307");
pub const NO_SERVER_FOR_APP: Code = Code("AR308");
pub const NO_MAIN_BLOCK: Code = Code("AR309");
pub const FLASK_DEV_SERVER: Code = Code("AR310");
pub const PATCH_NOT_IN_CATALOG: Code = Code("AR311");
pub const PROCFILE_RELEASE_NOT_RUN: Code = Code("AR312");
pub const PROJECT_FILE_OUTSIDE: Code = Code("AR313");
pub const PROJECT_FILE_NOT_REGULAR: Code = Code("AR314");
pub const PROJECT_FILE_TOO_LARGE: Code = Code("AR315");
pub const PROJECT_FILE_UNREADABLE: Code = Code("AR316");
pub const DEV_DEPENDENCY_AT_RUN_TIME: Code = Code("AR317");

pub const INSTALL_OUTSIDE_APP: Code = Code("AR400");
pub const SECOND_RUN_WITHOUT_BUILD_ENV: Code = Code("AR401");
pub const AMAZON_LINUX_TOOL: Code = Code("AR402");
pub const PYTHON311_BARE_NAME: Code = Code("AR403");
pub const PORT_NOT_SERVICE_PORT: Code = Code("AR404");
pub const LISTENS_ON_LOCALHOST: Code = Code("AR405");
pub const PORT_UNDETERMINED: Code = Code("AR406");

pub const ENGINE_UNREACHABLE: Code = Code("AR500");
pub const PULL_FAILED: Code = Code("AR501");
pub const ENGINE_CALL_FAILED: Code = Code("AR502");
pub const SOURCE_UNREADABLE: Code = Code("AR503");
pub const CA_BUNDLE_UNUSABLE: Code = Code("AR504");
pub const COMMAND_FAILED: Code = Code("AR505");
pub const INVALID_IMAGE_NAME: Code = Code("AR506");
pub const INVALID_PLAN: Code = Code("AR507");
pub const INTERRUPTED: Code = Code("AR508");
pub const ENGINE_UNSUPPORTED: Code = Code("AR509");
pub const LEFTOVER_NOT_REMOVED: Code = Code("AR510");
pub const HOST_NETWORK: Code = Code("AR511");
pub const COMMAND_TIMED_OUT: Code = Code("AR512");
pub const COMMAND_OUT_OF_MEMORY: Code = Code("AR513");
pub const SETUP_FAILED: Code = Code("AR514");
pub const ENGINE_SETTINGS: Code = Code("AR515");

pub const MISSING_SECRETS: Code = Code("AR600");
pub const NO_SUCH_IMAGE: Code = Code("AR601");
pub const APP_EXITED: Code = Code("AR602");
pub const APP_UNHEALTHY: Code = Code("AR603");
pub const RUN_ENGINE_CALL_FAILED: Code = Code("AR604");
pub const BAD_SECRET_VALUE: Code = Code("AR605");
pub const PORT_IN_USE: Code = Code("AR606");
pub const RUNS_AS_ROOT: Code = Code("AR607");

pub const LOG_FILE_UNWRITABLE: Code = Code("AR700");
pub const LOCAL_FILE_UNREADABLE: Code = Code("AR701");
pub const LOCAL_VALUE_INVALID: Code = Code("AR702");
pub const PLAN_FILE_UNREADABLE: Code = Code("AR703");
pub const PLAN_SOURCE_ELSEWHERE: Code = Code("AR704");
pub const OUTPUT_INVALID: Code = Code("AR705");
pub const OUTPUT_NOT_WRITTEN: Code = Code("AR706");
pub const NOT_PUSHED: Code = Code("AR707");

pub const EJECT_WOULD_REPLACE: Code = Code("AR800");
pub const EJECT_CANNOT_EXPRESS: Code = Code("AR801");
pub const EJECT_NOT_WRITTEN: Code = Code("AR802");
/// `export`: a flag's value that cannot be used (`--cpu`, `--memory`, `--image`, `--name`).
pub const EXPORT_VALUE_INVALID: Code = Code("AR810");
/// `export`: CPU and memory raised to the nearest size the target offers (warning).
pub const EXPORT_SIZE_ROUNDED: Code = Code("AR811");
/// `export`: an App Runner setting the target has no place for (note).
pub const EXPORT_NOT_CARRIED: Code = Code("AR812");
/// `export`: a part of the health check the target holds differently, or not at all (warning).
pub const EXPORT_HEALTH_CHECK_CHANGED: Code = Code("AR813");
/// `export`: secrets to create on the target before the service starts (note).
pub const EXPORT_SECRETS_TO_CREATE: Code = Code("AR814");
/// `export`: a value the output holds as a placeholder or a local name, to fill in (warning).
pub const EXPORT_VALUE_TO_FILL: Code = Code("AR815");
/// `export`: the output directory cannot be written.
pub const EXPORT_NOT_WRITTEN: Code = Code("AR816");
/// `upgrade`: the project already uses the runtime it would move to (note).
pub const UPGRADE_NOTHING_TO_DO: Code = Code("AR820");
/// `upgrade --to`: no such runtime, another language's, or one past end of support too.
pub const UPGRADE_TARGET_INVALID: Code = Code("AR821");
/// `upgrade`: `engines.node` in package.json does not allow the new runtime's version (warning;
/// the diff proposes the edit).
pub const UPGRADE_ENGINES_CONFLICT: Code = Code("AR822");
/// `upgrade`: a change with no place the parser located (a block scalar, a flow list): to make
/// by hand (warning).
pub const UPGRADE_BY_HAND: Code = Code("AR823");
/// `upgrade --write`: a file cannot be written.
pub const UPGRADE_NOT_WRITTEN: Code = Code("AR824");
/// `build --sbom`: the SBOM could not be made or written (the image was built).
pub const SBOM_NOT_WRITTEN: Code = Code("AR830");
/// `build --sbom`: the image has an rpm database, which is not read: its OS packages are not listed (warning).
pub const SBOM_RPM_NOT_READ: Code = Code("AR831");
