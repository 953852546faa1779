//! Delivery to the application through a directory: when the gateway has an inbox
//! (`AS2_INBOX_DIR`), every payload received is also written there, atomically (temporary
//! file, fsync, hard link under the final name, which never replaces a file), as
//! `<tenant>/<mode>/<station AS2 ID>/<partner AS2 ID>/<Message-ID>__<filename>`, every part
//! sanitised ([`safe_name`]) and the file name at most 255 bytes (a SHA-256 when longer).
//! Directories are created `0700` and files `0600`: payloads are business documents, readable
//! only by the gateway's user (the application runs as that user, or is given access by the
//! operator).
//!
//! A Message-ID delivered again never replaces its file (see [`Inbox::deliver`]).

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use as2_domain::Mode;
use sha2::{Digest, Sha256};

/// The longest file name most file systems take, in bytes.
pub const MAX_FILE_NAME: usize = 255;

/// How many different payloads one Message-ID may leave in the inbox before delivery fails.
const MAX_COPIES: u32 = 100;

/// The inbox directory.
#[derive(Debug, Clone)]
pub struct Inbox {
    root: PathBuf,
}

/// One received payload and where it comes from.
#[derive(Debug, Clone, Copy)]
pub struct Delivery<'a> {
    /// The receiving tenant (`tnt_000001`).
    pub tenant: &'a str,
    /// The mode the message was received in.
    pub mode: Mode,
    /// Our station's AS2 ID (`AS2-To`).
    pub station_as2_id: &'a str,
    /// The partner's AS2 ID (`AS2-From`).
    pub partner_as2_id: &'a str,
    /// The AS2 Message-ID, with or without its angle brackets.
    pub message_id: &'a str,
    /// The file name the partner gave, if any.
    pub filename: Option<&'a str>,
}

/// Keeps `[A-Za-z0-9._@-]`, replaces the rest with `_` (no path separators, no `..` alone);
/// at most 200 characters.
pub fn safe_name(value: &str) -> String {
    let mut name = sanitise(value);
    name.truncate(200);
    name
}

/// [`safe_name`] without the length limit (the result is ASCII).
fn sanitise(value: &str) -> String {
    let cleaned: String = value
        .trim()
        .trim_matches(['<', '>'])
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '@' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    match cleaned.trim_matches('.') {
        "" => "_".to_owned(),
        _ => cleaned,
    }
}

/// The inbox file name of a Message-ID and a file name; `copy` 1 is the first payload of
/// that Message-ID, 2 and up the different payloads that came later under it. A name longer
/// than [`MAX_FILE_NAME`] becomes the SHA-256 of the long name (hex) followed by as much of
/// the end of the file name (its extension) as fits.
pub fn file_name(message_id: &str, filename: Option<&str>, copy: u32) -> String {
    let id = sanitise(message_id);
    let file = sanitise(filename.unwrap_or("payload"));
    let name = if copy <= 1 {
        format!("{id}__{file}")
    } else {
        format!("{id}__{copy}__{file}")
    };
    if name.len() <= MAX_FILE_NAME {
        return name;
    }
    let hash: String = Sha256::digest(name.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let room = MAX_FILE_NAME - hash.len() - 2;
    // `file` is ASCII: any byte offset is a character boundary
    let tail = file[file.len().saturating_sub(room)..].trim_start_matches('.');
    format!("{hash}__{tail}")
}

impl Inbox {
    /// An inbox under `root` (created `0700` when missing; an existing directory keeps the
    /// mode the operator gave it).
    ///
    /// # Errors
    /// The directory cannot be created.
    pub fn open(root: impl Into<PathBuf>) -> io::Result<Self> {
        let root = root.into();
        create_private_dir(&root)?;
        Ok(Self { root })
    }

    /// Writes one received payload, read from `payload` (streamed: the stored payload); the
    /// path of its file.
    ///
    /// A Message-ID delivered again never replaces its file:
    /// - with the same bytes (a partner's resend after a lost MDN, or after a crash before
    ///   the message was recorded) nothing is written and the existing file's path is
    ///   returned: the application sees one file;
    /// - with different bytes (a partner reusing a Message-ID, or a failed message sent
    ///   again with other content) the existing file stays as it is and the new payload gets
    ///   its own name, `<Message-ID>__2__<file>` (then `__3__`, …): nothing the application
    ///   may have read already changes, and nothing is lost.
    ///
    /// The inbox remembers nothing but its files: a file the application moved away is
    /// written again if its Message-ID is delivered again. (A Message-ID the gateway has
    /// processed is answered with its original MDN and not delivered again.)
    ///
    /// # Errors
    /// The file system failed, or the Message-ID already has [`MAX_COPIES`] different
    /// payloads; nothing partial is left under a final name.
    pub fn deliver(&self, delivery: &Delivery<'_>, payload: &mut dyn Read) -> io::Result<PathBuf> {
        let dir = self
            .root
            .join(safe_name(delivery.tenant))
            .join(delivery.mode.as_str())
            .join(safe_name(delivery.station_as2_id))
            .join(safe_name(delivery.partner_as2_id));
        create_private_dir(&dir)?;
        let temporary = dir.join(format!(".{}.part", unique()));
        let written = write_synced(&temporary, payload)
            .and_then(|()| self.link_first_free(&dir, &temporary, delivery));
        let _ = fs::remove_file(&temporary);
        let target = written?;
        File::open(&dir)?.sync_all()?;
        Ok(target)
    }

    /// Links `temporary` under the first name of the Message-ID that is free, or finds the
    /// name that already holds these bytes.
    fn link_first_free(
        &self,
        dir: &Path,
        temporary: &Path,
        delivery: &Delivery<'_>,
    ) -> io::Result<PathBuf> {
        for copy in 1..=MAX_COPIES {
            let target = dir.join(file_name(delivery.message_id, delivery.filename, copy));
            match fs::hard_link(temporary, &target) {
                Ok(()) => return Ok(target),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    if same_bytes(&target, temporary)? {
                        return Ok(target);
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Err(io::Error::other(format!(
            "the inbox already holds {MAX_COPIES} different payloads under this Message-ID"
        )))
    }
}

/// Whether the files at `a` and `b` hold the same bytes.
fn same_bytes(a: &Path, b: &Path) -> io::Result<bool> {
    let (mut a, mut b) = (File::open(a)?, File::open(b)?);
    if a.metadata()?.len() != b.metadata()?.len() {
        return Ok(false);
    }
    let (mut left, mut right) = (vec![0; 64 * 1024], vec![0; 64 * 1024]);
    loop {
        let n = read_full(&mut a, &mut left)?;
        if read_full(&mut b, &mut right[..n])? != n || left[..n] != right[..n] {
            return Ok(false);
        }
        if n < left.len() {
            return Ok(true);
        }
    }
}

/// Fills `buffer` as far as the file goes; how many bytes were read.
fn read_full(file: &mut File, buffer: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match file.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

fn write_synced(path: &Path, payload: &mut dyn Read) -> io::Result<()> {
    let mut options = File::options();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    io::copy(payload, &mut file)?;
    file.sync_all()
}

/// A name no other temporary file of this process (or another) has at the same time.
fn unique() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{nanos:x}-{}-{n}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery(message_id: &str) -> Delivery<'_> {
        Delivery {
            tenant: "tnt_000001",
            mode: Mode::Test,
            station_as2_id: "US",
            partner_as2_id: "PARTNER",
            message_id,
            filename: Some("po.edi"),
        }
    }

    fn leftovers(dir: &Path) -> usize {
        fs::read_dir(dir)
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".part"))
            .count()
    }

    #[test]
    fn names_cannot_escape_the_inbox() {
        assert_eq!(safe_name("<abc/../x@host>"), "abc_.._x@host");
        assert_eq!(safe_name(".."), "_");
        assert_eq!(safe_name("../../etc/passwd"), ".._.._etc_passwd");
        assert_eq!(safe_name(""), "_");
        assert_eq!(safe_name("INV 1.edi"), "INV_1.edi");
    }

    #[test]
    fn delivers_atomically_under_tenant_mode_station_partner_and_message_id() {
        let dir = tempfile::tempdir().unwrap();
        let inbox = Inbox::open(dir.path()).unwrap();
        let path = inbox
            .deliver(&delivery("<id-1@partner>"), &mut &b"ISA*"[..])
            .unwrap();
        assert!(
            path.ends_with("tnt_000001/test/US/PARTNER/id-1@partner__po.edi"),
            "{path:?}"
        );
        assert_eq!(fs::read(&path).unwrap(), b"ISA*");
        assert_eq!(leftovers(path.parent().unwrap()), 0);
        let mut live = delivery("<id-1@partner>");
        live.mode = Mode::Live;
        let live = inbox.deliver(&live, &mut &b"ISA*"[..]).unwrap();
        assert!(live.ends_with("tnt_000001/live/US/PARTNER/id-1@partner__po.edi"));
    }

    #[test]
    fn a_resend_never_replaces_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let inbox = Inbox::open(dir.path()).unwrap();
        let first = inbox
            .deliver(&delivery("<dup@partner>"), &mut &b"first"[..])
            .unwrap();
        // the same bytes again: the same file, nothing new
        let again = inbox
            .deliver(&delivery("<dup@partner>"), &mut &b"first"[..])
            .unwrap();
        assert_eq!(again, first);
        // other bytes under the same Message-ID: a second file, the first untouched
        let other = inbox
            .deliver(&delivery("<dup@partner>"), &mut &b"second"[..])
            .unwrap();
        assert_ne!(other, first);
        assert!(other.ends_with("dup@partner__2__po.edi"), "{other:?}");
        assert_eq!(fs::read(&first).unwrap(), b"first");
        assert_eq!(fs::read(&other).unwrap(), b"second");
        // and that one is found again too
        let third = inbox
            .deliver(&delivery("<dup@partner>"), &mut &b"second"[..])
            .unwrap();
        assert_eq!(third, other);
        let files = fs::read_dir(first.parent().unwrap()).unwrap().count();
        assert_eq!(files, 2);
    }

    #[test]
    fn long_names_become_a_hash_that_keeps_the_extension() {
        let long_id = format!("<{}@partner.example>", "x".repeat(300));
        let long_file = format!("{}.edi", "y".repeat(300));
        let name = file_name(&long_id, Some(&long_file), 1);
        assert!(name.len() <= MAX_FILE_NAME, "{}", name.len());
        assert!(name.ends_with(".edi"), "{name}");
        assert_ne!(name, file_name(&long_id, Some(&long_file), 2));
        // two long Message-IDs differing only at the end stay apart
        let other_id = format!("<{}@partner.example2>", "x".repeat(300));
        assert_ne!(name, file_name(&other_id, Some(&long_file), 1));
        assert_eq!(file_name("<a@b>", Some("c.edi"), 1), "a@b__c.edi");
        let dir = tempfile::tempdir().unwrap();
        let inbox = Inbox::open(dir.path()).unwrap();
        let mut d = delivery(&long_id);
        d.filename = Some(&long_file);
        let path = inbox.deliver(&d, &mut &b"long"[..]).unwrap();
        assert_eq!(fs::read(path).unwrap(), b"long");
    }

    #[cfg(unix)]
    #[test]
    fn files_and_directories_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("inbox");
        let inbox = Inbox::open(&root).unwrap();
        let path = inbox
            .deliver(&delivery("<p@partner>"), &mut &b"secret"[..])
            .unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        let mut d = path.parent().unwrap();
        while d != dir.path() {
            assert_eq!(mode(d), 0o700, "{d:?}");
            d = d.parent().unwrap();
        }
    }
}
