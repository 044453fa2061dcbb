//! Incremental sha256 (+ optional sha512) hashing and verification against expectations.
//!
//! sha2 0.10 selects SHA-NI for sha256 and AVX2 for sha512 at run time on x86_64, so no
//! feature flag is needed for hardware speed there. sha512 is the slower of the two, so when
//! both are wanted on a large enough batch it runs on a scoped second thread: asking for
//! sha512 then costs a second core rather than half the throughput.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use sha2::{Digest as _, Sha256, Sha512};

use crate::digest::{Digest, DigestAlgorithm};
use crate::error::BlobError;
use crate::store::{BlobInfo, PutOptions};

/// Below this a thread spawn costs more than it saves.
const PARALLEL_MIN: usize = 256 * 1024;

/// Read size when rehashing a file from disk.
const REHASH_BUF: usize = 1 << 20;

#[derive(Clone)]
pub(crate) struct Hasher {
    sha256: Sha256,
    sha512: Option<Sha512>,
    size: u64,
}

impl Hasher {
    pub(crate) fn new(sha512: bool) -> Self {
        Self {
            sha256: Sha256::new(),
            sha512: sha512.then(Sha512::new),
            size: 0,
        }
    }

    /// Bytes hashed so far.
    pub(crate) fn size(&self) -> u64 {
        self.size
    }

    pub(crate) fn has_sha512(&self) -> bool {
        self.sha512.is_some()
    }

    /// Feeds `chunks` in order to every enabled hash.
    pub(crate) fn update<B: AsRef<[u8]> + Sync>(&mut self, chunks: &[B]) {
        let len: usize = chunks.iter().map(|c| c.as_ref().len()).sum();
        self.size += len as u64;
        let Self { sha256, sha512, .. } = self;
        let Some(sha512) = sha512 else {
            chunks.iter().for_each(|c| sha256.update(c.as_ref()));
            return;
        };
        let mut done_in_parallel = false;
        if len >= PARALLEL_MIN {
            done_in_parallel = std::thread::scope(|scope| {
                let side = std::thread::Builder::new()
                    .name("blob-sha512".into())
                    .spawn_scoped(scope, || {
                        chunks.iter().for_each(|c| sha512.update(c.as_ref()))
                    });
                chunks.iter().for_each(|c| sha256.update(c.as_ref()));
                match side {
                    Ok(handle) => {
                        if let Err(panic) = handle.join() {
                            std::panic::resume_unwind(panic);
                        }
                        true
                    }
                    // Could not get a thread (resource limits): fall back to one core.
                    Err(_) => false,
                }
            });
        } else {
            chunks.iter().for_each(|c| sha256.update(c.as_ref()));
        }
        if !done_in_parallel {
            chunks.iter().for_each(|c| sha512.update(c.as_ref()));
        }
    }

    pub(crate) fn finish(self) -> BlobInfo {
        BlobInfo {
            sha256: hex::encode(self.sha256.finalize()),
            sha512: self.sha512.map(|h| hex::encode(h.finalize())),
            size: self.size,
        }
    }
}

/// Hashes a whole file from the start (used when the incremental state of an upload was
/// lost to a restart). Blocking.
pub(crate) fn hash_file(path: &Path, sha512: bool) -> io::Result<Hasher> {
    let mut file = File::open(path)?;
    let mut hasher = Hasher::new(sha512);
    let mut buf = vec![0u8; REHASH_BUF];
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => return Ok(hasher),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&[&buf[..n]]);
    }
}

/// Checks `info` against the expectations in `opts`; size first since it is the cheaper
/// and more telling mismatch.
pub(crate) fn verify(info: &BlobInfo, opts: &PutOptions) -> Result<(), BlobError> {
    if let Some(expected) = opts.size
        && expected != info.size
    {
        return Err(BlobError::SizeMismatch {
            expected,
            actual: info.size,
        });
    }
    let Some(expected) = &opts.digest else {
        return Ok(());
    };
    let actual_hex = match expected.algorithm() {
        DigestAlgorithm::Sha256 => Some(info.sha256.as_str()),
        DigestAlgorithm::Sha512 => info.sha512.as_deref(),
    };
    match actual_hex {
        Some(hex) if hex == expected.hex() => Ok(()),
        Some(hex) => Err(BlobError::DigestMismatch {
            expected: expected.clone(),
            actual: Digest::new(expected.algorithm(), hex)?,
        }),
        None => Err(BlobError::Io(io::Error::other(
            "sha512 verification requested but sha512 was not computed",
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HELLO_SHA256: &str = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

    #[test]
    fn chunking_does_not_change_the_digest() {
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i * 31 % 251) as u8).collect();
        let mut whole = Hasher::new(true);
        whole.update(&[&data[..]]);
        let mut pieces = Hasher::new(true);
        for chunk in data.chunks(7919) {
            pieces.update(&[chunk]);
        }
        let mut batched = Hasher::new(true);
        batched.update(&data.chunks(100_000).collect::<Vec<_>>());
        let (a, b, c) = (whole.finish(), pieces.finish(), batched.finish());
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert_eq!(a.size, 3_000_000);
    }

    #[test]
    fn known_vectors() {
        let mut h = Hasher::new(true);
        h.update(&[b"hello"]);
        let info = h.finish();
        assert_eq!(info.sha256, HELLO_SHA256);
        assert_eq!(
            info.sha512.as_deref(),
            Some(
                "9b71d224bd62f3785d96d46ad3ea3d73319bfbc2890caadae2dff72519673ca7\
                 2323c3d99ba5c11d7c7acc6e14b8c5da0c4663475c2e5c3adef46f73bcdec043"
            )
        );
    }

    #[test]
    fn verify_checks_size_then_digest() {
        let mut h = Hasher::new(false);
        h.update(&[b"hello"]);
        let info = h.finish();
        let good = Digest::sha256(HELLO_SHA256).unwrap();
        assert!(
            verify(
                &info,
                &PutOptions::new().expect_digest(good.clone()).expect_size(5)
            )
            .is_ok()
        );
        assert!(matches!(
            verify(&info, &PutOptions::new().expect_digest(good).expect_size(4)),
            Err(BlobError::SizeMismatch {
                expected: 4,
                actual: 5
            })
        ));
        let bad = Digest::sha256("0".repeat(64)).unwrap();
        assert!(matches!(
            verify(&info, &PutOptions::new().expect_digest(bad)),
            Err(BlobError::DigestMismatch { .. })
        ));
    }
}
