//! The source tree as a tar stream for `/app`: `.git` left out, the plan's exclusions honoured
//! (`.dockerignore`'s rules and, in a git work tree, what git ignores: `filter.rs`), symlinks
//! kept as symlinks (never followed, so nothing outside the root is read), modes kept, entries
//! sorted; and a digest of what was sent.
//!
//! Names go into the archive as the file system's raw bytes: nothing is translated (a `\` in a
//! name stays a `\`, a name that is not UTF-8 stays what it is), names longer than a tar header
//! holds use GNU long-name entries, and a path with a `..` component is refused, so that nothing
//! can land outside the destination directory.

mod entries;
mod filter;
#[cfg(test)]
mod tests;
mod walk;

pub(crate) use entries::source_date_epoch;
pub use filter::{GitLeftOut, SourceFilter};
pub(crate) use walk::digest;
pub use walk::{write_tar, SourceSummary};
