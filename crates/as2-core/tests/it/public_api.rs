//! A tidy check of the public API's foreign types, standing in for cargo-check-external-types
//! (which needs a nightly toolchain): every dependency crate named in a public signature
//! (`pub fn`, `pub` fields, `pub type`) of `src/` is in
//! `[package.metadata.cargo_check_external_types]`, and every crate listed there is
//! re-exported from `src/lib.rs`, so an embedder can name the same versions. It reads lines,
//! not types: a signature spread over several lines is checked line by line, and a type
//! imported with `use` and named bare is not seen (docs/DEPENDENCIES.md gives the manual
//! check for that).
#![allow(
    clippy::disallowed_methods,
    clippy::disallowed_types,
    reason = "a tidy test reads the crate's own sources"
)]

use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs")
            && !path.to_string_lossy().ends_with("_tests.rs")
        {
            out.push(path);
        }
    }
}

/// The crate names (with `_`) of `[dependencies]`.
fn dependencies(manifest: &str) -> Vec<String> {
    let section = manifest
        .split("[dependencies]")
        .nth(1)
        .unwrap()
        .split("\n[")
        .next()
        .unwrap();
    section
        .lines()
        .filter_map(|l| l.split('.').next())
        .filter(|n| !n.trim().is_empty() && !n.starts_with('#'))
        .map(|n| n.trim().replace('-', "_"))
        .collect()
}

/// The crate names of `allowed_external_types`.
fn allowed(manifest: &str) -> Vec<String> {
    let list = manifest
        .split("allowed_external_types = [")
        .nth(1)
        .unwrap()
        .split(']')
        .next()
        .unwrap();
    list.split(',')
        .filter_map(|e| {
            e.trim()
                .trim_matches('"')
                .split("::")
                .next()
                .map(str::to_owned)
        })
        .filter(|e| !e.is_empty())
        .collect()
}

#[test]
fn foreign_types_in_public_signatures_are_allowed_and_reexported() {
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let deps = dependencies(&manifest);
    let allowed = allowed(&manifest);
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    let mut bad = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        // the unit tests at the end of a file are not API
        let text = text.split("#[cfg(test)]").next().unwrap();
        for (n, line) in text.lines().enumerate() {
            let l = line.trim_start();
            let public = (l.starts_with("pub fn")
                || l.starts_with("pub type")
                || (l.starts_with("pub ") && l.contains(": ") && !l.starts_with("pub use")))
                && !l.starts_with("pub(");
            if !public {
                continue;
            }
            for dep in &deps {
                if l.contains(&format!("{dep}::")) && !allowed.contains(dep) {
                    bad.push(format!("{}:{}: {dep} in {l}", file.display(), n + 1));
                }
            }
        }
    }
    assert!(
        bad.is_empty(),
        "foreign types not allowed:\n{}",
        bad.join("\n")
    );

    let lib = std::fs::read_to_string(root().join("src/lib.rs")).unwrap();
    for krate in &allowed {
        // const_oid's types are der's (`der::asn1::ObjectIdentifier`)
        let reexported = krate == "const_oid"
            || lib.contains(&format!("pub use ::{krate} as"))
            || lib.lines().filter(|l| l.starts_with("pub use {")).any(|l| {
                l.contains(&format!(" {krate},"))
                    || l.contains(&format!("{{{krate},"))
                    || l.contains(&format!(" {krate}}}"))
            });
        assert!(
            reexported,
            "{krate} is allowed but not re-exported from lib.rs"
        );
    }
}
