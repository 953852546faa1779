//! Test helpers: the shared captures in `../shared/vectors` (read in place, never copied).

use std::path::PathBuf;

/// The vectors directory, or `None` (with a printed note) when it is absent on a developer's
/// machine without `../shared`.
///
/// # Panics
///
/// When the directory is absent and `CI` is set: CI runs beside `../shared`, so a missing
/// capture there is a broken checkout, not a reason to pass without testing.
#[allow(clippy::print_stderr, reason = "tests report skipped vectors")]
pub(crate) fn vectors() -> Option<PathBuf> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/vectors/pyas2lib-fixtures");
    if p.is_dir() {
        Some(p)
    } else if std::env::var_os("CI").is_some() {
        panic!(
            "test vectors absent at {} and CI is set: the captures of ../shared/vectors must be \
             beside the repository",
            p.display()
        );
    } else {
        eprintln!(
            "test vectors absent at {}: skipping (a failure when CI is set)",
            p.display()
        );
        None
    }
}

/// The provider the unit tests use.
pub(crate) const P: &crate::crypto::CryptoProvider = &crate::crypto::rust_crypto::DEFAULT_PROVIDER;

/// The provider's generator, for the calls that take one.
pub(crate) const R: &dyn crate::crypto::SecureRandom = P.secure_random;

/// The time now, for the calls that take one (tests may read the clock).
#[allow(clippy::disallowed_methods, reason = "tests read the clock")]
pub(crate) fn now() -> std::time::SystemTime {
    std::time::SystemTime::now()
}
