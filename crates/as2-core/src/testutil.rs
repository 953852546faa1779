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

/// The provider the unit tests use.
pub(crate) const P: &crate::crypto::CryptoProvider = &crate::crypto::rust_crypto::DEFAULT_PROVIDER;

/// The provider's generator, for the calls that take one.
pub(crate) const R: &dyn crate::crypto::SecureRandom = P.secure_random;

/// The time now, for the calls that take one (tests may read the clock).
#[allow(clippy::disallowed_methods, reason = "tests read the clock")]
pub(crate) fn now() -> std::time::SystemTime {
    std::time::SystemTime::now()
}
