//! The cryptographic floor of moving `n` bytes through AS2 signed + encrypted, measured in
//! the same run as the transfer it is compared with: SHA-256 twice (the sender's signature
//! digest, the receiver's), AES-256-CBC encrypt and decrypt, with the crates the codec uses
//! (`sha2`, `aes`, `cbc`), over a 64 MiB buffer reused so memory does not enter it.

use std::time::Instant;

use aes::Aes256;
use cipher::array::Array;
use cipher::consts::U16;
use cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit};
use sha2::{Digest, Sha256};

/// The buffer each pass works on.
const WINDOW: usize = 64 << 20;

/// Seconds of the symmetric floor for `bytes` bytes: two SHA-256 passes, one AES-256-CBC
/// encryption and one decryption.
pub(crate) fn symmetric_secs(bytes: u64) -> f64 {
    let mut buffer = vec![0x5au8; WINDOW];
    let passes = bytes.div_ceil(WINDOW as u64);
    let started = Instant::now();
    for _ in 0..2 {
        let mut hash = Sha256::new();
        for _ in 0..passes {
            hash.update(&buffer);
        }
        std::hint::black_box(hash.finalize());
    }
    let (key, iv) = ([7u8; 32], [9u8; 16]);
    let mut encryptor = cbc::Encryptor::<Aes256>::new(&key.into(), &iv.into());
    for _ in 0..passes {
        let (blocks, _) = Array::<u8, U16>::slice_as_chunks_mut(&mut buffer);
        encryptor.encrypt_blocks(blocks);
    }
    let mut decryptor = cbc::Decryptor::<Aes256>::new(&key.into(), &iv.into());
    for _ in 0..passes {
        let (blocks, _) = Array::<u8, U16>::slice_as_chunks_mut(&mut buffer);
        decryptor.decrypt_blocks(blocks);
    }
    std::hint::black_box(&buffer);
    started.elapsed().as_secs_f64()
}
