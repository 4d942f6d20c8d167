//! The `.dockerignore` of the source root: which files stay out of the image.

use crate::input::dockerignore::IgnoreRules;
use crate::input::files::read_project_text;
use std::io;
use std::path::Path;

/// The most of a `.dockerignore` that is read.
pub const MAX_DOCKERIGNORE_SIZE: u64 = 1024 * 1024;

/// The root's `.dockerignore` rules (none without the file). A file that cannot be read safely
/// (one that leads out of the root, a FIFO, one too large) or a bad line is an error that says
/// why.
pub(super) fn rules(root: &Path) -> io::Result<IgnoreRules> {
    match read_project_text(root, ".dockerignore", MAX_DOCKERIGNORE_SIZE) {
        Ok(Some(text)) => IgnoreRules::parse(&text).map_err(io::Error::other),
        Ok(None) => Ok(IgnoreRules::default()),
        Err(refused) => {
            let d = refused.diagnostic(Path::new(".dockerignore"));
            Err(io::Error::new(io::ErrorKind::InvalidData, d.message))
        }
    }
}
