//! Test helpers: the shared captures in `../shared/vectors` (read in place, never copied).

use std::path::PathBuf;

/// The vectors directory, or `None` (with a printed note) when it is absent.
#[allow(clippy::print_stderr, reason = "tests report skipped vectors")]
pub(crate) fn vectors() -> Option<PathBuf> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/vectors/pyas2lib-fixtures");
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("test vectors absent at {}: skipping", p.display());
        None
    }
}
