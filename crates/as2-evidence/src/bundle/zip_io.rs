//! The bundle's container: a zip of its six files, deflated, every file time 1980-01-01 so
//! that the same files always give the same bytes; read back within size limits.

use std::io::{Cursor, Read as _, Write as _};

use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use super::{BundleError, Files, MANIFEST, MDN, SIGNER_CHAIN, TIMELINE, TIMESTAMP, TSA_CHAIN};

/// The largest file a bundle may hold (an MDN is at most 4 MiB).
pub(super) const MAX_FILE_BYTES: u64 = 8 << 20;
/// The most entries a bundle read back may have.
const MAX_ENTRIES: usize = 16;

impl Files {
    /// The zip of the six files, in a fixed order.
    ///
    /// # Errors
    /// [`BundleError::Zip`] when the zip writer fails (it writes to memory).
    pub fn to_zip(&self) -> Result<Vec<u8>, BundleError> {
        let zip_err = |e: zip::result::ZipError| BundleError::Zip(e.to_string());
        let io_err = |e: std::io::Error| BundleError::Zip(e.to_string());
        let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
        let options = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .last_modified_time(zip::DateTime::default())
            .unix_permissions(0o644);
        for (name, bytes) in self.named() {
            writer.start_file(name, options).map_err(zip_err)?;
            writer.write_all(bytes).map_err(io_err)?;
        }
        Ok(writer.finish().map_err(zip_err)?.into_inner())
    }

    /// The files of a bundle zip.
    ///
    /// # Errors
    /// Not a zip, more than 16 entries, a file over 8 MiB, or a missing file.
    pub fn from_zip(zip: &[u8]) -> Result<Self, BundleError> {
        let mut archive =
            ZipArchive::new(Cursor::new(zip)).map_err(|e| BundleError::Zip(e.to_string()))?;
        if archive.len() > MAX_ENTRIES {
            return Err(BundleError::Zip(format!(
                "{} entries (a bundle has 6)",
                archive.len()
            )));
        }
        let mut read = |name: &'static str| -> Result<Vec<u8>, BundleError> {
            let file = archive.by_name(name).map_err(|e| match e {
                zip::result::ZipError::FileNotFound => BundleError::Missing(name),
                other => BundleError::Zip(other.to_string()),
            })?;
            let mut bytes = Vec::new();
            file.take(MAX_FILE_BYTES + 1)
                .read_to_end(&mut bytes)
                .map_err(|e| BundleError::Zip(format!("{name}: {e}")))?;
            if bytes.len() as u64 > MAX_FILE_BYTES {
                return Err(BundleError::TooLarge(name.to_owned()));
            }
            Ok(bytes)
        };
        Ok(Self {
            manifest: read(MANIFEST)?,
            mdn: read(MDN)?,
            signer_chain: read(SIGNER_CHAIN)?,
            timeline: read(TIMELINE)?,
            timestamp: read(TIMESTAMP)?,
            tsa_chain: read(TSA_CHAIN)?,
        })
    }

    /// Each file with its name, in the order of the zip.
    pub fn named(&self) -> [(&'static str, &[u8]); 6] {
        [
            (MANIFEST, &self.manifest),
            (MDN, &self.mdn),
            (SIGNER_CHAIN, &self.signer_chain),
            (TIMELINE, &self.timeline),
            (TIMESTAMP, &self.timestamp),
            (TSA_CHAIN, &self.tsa_chain),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files() -> Files {
        Files {
            manifest: b"{}".to_vec(),
            mdn: b"Content-Type: text/plain\r\n\r\nbody\0\xff".to_vec(),
            signer_chain: b"-----BEGIN CERTIFICATE-----".to_vec(),
            timeline: b"[]".to_vec(),
            timestamp: vec![0x30, 0x00],
            tsa_chain: Vec::new(),
        }
    }

    #[test]
    fn the_same_files_give_the_same_zip_and_read_back_byte_for_byte() {
        let zip = files().to_zip().unwrap();
        assert_eq!(zip, files().to_zip().unwrap());
        assert_eq!(Files::from_zip(&zip).unwrap(), files());
    }

    #[test]
    fn a_missing_file_is_named_and_garbage_is_not_a_zip() {
        let mut writer = ZipWriter::new(Cursor::new(Vec::new()));
        writer
            .start_file(MANIFEST, SimpleFileOptions::default())
            .unwrap();
        let zip = writer.finish().unwrap().into_inner();
        assert!(matches!(
            Files::from_zip(&zip),
            Err(BundleError::Missing(MDN))
        ));
        assert!(matches!(
            Files::from_zip(b"not a zip"),
            Err(BundleError::Zip(_))
        ));
    }
}
