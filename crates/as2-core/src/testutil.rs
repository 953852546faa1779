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

/// A deterministic generator (splitmix64 from a seed): the same bytes on every run, so
/// that two builds from the same seed can be compared byte for byte. Not secure.
#[derive(Debug)]
pub(crate) struct SeededRandom(std::sync::Mutex<u64>);

impl crate::crypto::SecureRandom for SeededRandom {
    fn fill(&self, dest: &mut [u8]) -> Result<(), crate::crypto::GetRandomFailed> {
        let mut state = self.0.lock().map_err(|_| crate::crypto::GetRandomFailed)?;
        for chunk in dest.chunks_mut(8) {
            *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = *state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
        }
        Ok(())
    }
}

/// A provider whose randomness is seeded (leaked: tests only) and whose keys are the
/// RustCrypto ones.
pub(crate) fn seeded_provider(seed: u64) -> crate::crypto::CryptoProvider {
    crate::crypto::CryptoProvider {
        secure_random: Box::leak(Box::new(SeededRandom(std::sync::Mutex::new(seed)))),
        ..*P
    }
}
