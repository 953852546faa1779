//! The `openssl` command for interop tests: whether it is on `PATH` (a test may skip without
//! it on a developer's machine, never when `CI` is set).

use std::process::Command;

/// Whether `openssl` runs; `what` names the test for the skip notice.
///
/// # Panics
/// When it does not and `CI` is set: the interop checks must run in CI.
#[allow(clippy::print_stderr, reason = "a skipped test says so")]
pub fn available(what: &str) -> bool {
    let ok = Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok || std::env::var_os("CI").is_none(),
        "`openssl` is not on PATH and CI is set: {what} must run in CI"
    );
    if !ok {
        eprintln!("NOTICE: `openssl` is not on PATH; skipping {what} (a failure when CI is set)");
    }
    ok
}
