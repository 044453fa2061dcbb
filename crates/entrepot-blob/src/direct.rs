//! The file writer under staging: buffered at first, then direct I/O (`O_DIRECT`) once a file is large.
//!
//! Copying a large layer into the page cache costs more CPU than hashing it (about 1 CPU-second per GiB on
//! the 2-core reference machine, against 0.7 for sha256), and the push waits for that copy. Past
//! `direct_after` bytes the writer therefore hands the device aligned buffers itself. Direct I/O wants the
//! file offset, the length and the memory address aligned, so the writer copies the body into one aligned
//! buffer, writes it each time it is full, and when it finishes writes the aligned part of what is left; the
//! last few bytes (less than [`ALIGN`]) go through the page cache. Small files (metadata, manifests, most
//! packages) never switch, so they stay cached for the reads that follow them.
//!
//! A blob written that way is not in the page cache: `warm.rs` reads it back once it is published, and reads
//! take what is not cached with direct I/O too (`read.rs`).
//!
//! Where direct I/O is refused (a filesystem without it, an alignment the device rejects), the writer goes on
//! buffered: the bytes are the same, only the CPU cost differs.

use std::fs::File;
use std::io::{self, IoSlice, Write};

use bytes::Bytes;

/// Alignment of direct writes: the page size, a multiple of every common logical block size.
pub(crate) const ALIGN: usize = 4096;

/// A file being written from a stream of chunks, switching to direct I/O past a threshold.
pub(crate) struct BlobWriter {
    file: File,
    /// Bytes in the file plus bytes carried in the aligned buffer.
    offset: u64,
    /// Switch to direct I/O once `offset` reaches this; `None` once that is impossible or not wanted.
    direct_after: Option<u64>,
    direct: Option<Aligned>,
}

impl BlobWriter {
    /// `file` is positioned at its end, `len` bytes long.
    pub(crate) fn new(file: File, len: u64, direct_after: Option<u64>) -> Self {
        Self {
            file,
            offset: len,
            direct_after: direct_after.filter(|_| cfg!(target_os = "linux")),
            direct: None,
        }
    }

    pub(crate) fn file(&self) -> &File {
        &self.file
    }

    /// Whether writes now bypass the page cache (nothing is left for a background flush to start).
    pub(crate) fn is_direct(&self) -> bool {
        self.direct.is_some()
    }

    /// Appends `chunks`; once direct, what does not fill the aligned buffer reaches the file with the next
    /// batch or in [`Self::finish`]. On error the file holds a prefix of what was given, as with any failed write.
    pub(crate) fn write(&mut self, chunks: &[Bytes]) -> io::Result<()> {
        let mut rest: Vec<&[u8]> = chunks.iter().map(|c| &c[..]).collect();
        let len: u64 = rest.iter().map(|c| c.len() as u64).sum();
        if self.direct.is_none()
            && let Some(after) = self.direct_after
            && self.offset.saturating_add(len) > after
        {
            // Up to the next aligned offset through the page cache, then direct.
            let pad = self.offset.max(after).next_multiple_of(ALIGN as u64) - self.offset;
            let head = split_off_front(&mut rest, usize::try_from(pad).unwrap_or(usize::MAX));
            write_all_vectored(&mut self.file, &head)?;
            self.offset += head.iter().map(|c| c.len() as u64).sum::<u64>();
            if self.offset.is_multiple_of(ALIGN as u64) {
                self.switch_to_direct();
            }
        }
        if self.direct.is_none() {
            write_all_vectored(&mut self.file, &rest)?;
            self.offset += rest.iter().map(|c| c.len() as u64).sum::<u64>();
            return Ok(());
        }
        for mut chunk in rest {
            while !chunk.is_empty() {
                let Some(aligned) = self.direct.as_mut() else {
                    // Direct I/O was refused on the way: the rest goes through the page cache.
                    self.file.write_all(chunk)?;
                    self.offset += chunk.len() as u64;
                    break;
                };
                let n = aligned.push(chunk);
                let full = aligned.is_full();
                chunk = &chunk[n..];
                self.offset += n as u64;
                if full {
                    self.write_direct()?;
                }
            }
        }
        Ok(())
    }

    /// Writes what is carried and leaves the file buffered again, so that it can be synced, read and
    /// appended to (a later request of the same upload session) like any other.
    pub(crate) fn finish(&mut self) -> io::Result<()> {
        self.write_direct()?;
        let Some(aligned) = self.direct.as_mut() else {
            return Ok(());
        };
        let tail = aligned.filled().to_vec();
        aligned.clear();
        self.direct = None;
        set_direct(&self.file, false)?;
        self.file.write_all(&tail)
    }

    /// Writes the aligned part of the buffer, keeping the rest for later.
    fn write_direct(&mut self) -> io::Result<()> {
        let Self {
            file,
            direct,
            direct_after,
            ..
        } = self;
        let Some(aligned) = direct.as_mut() else {
            return Ok(());
        };
        let ready = aligned.len() / ALIGN * ALIGN;
        let mut done = 0;
        while done < ready {
            match file.write(&aligned.filled()[done..ready]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // Refused for this write (a short write left the rest unaligned, or the device wants another
                // alignment): go on buffered from the first byte not written.
                Err(e) if e.raw_os_error() == Some(rustix::io::Errno::INVAL.raw_os_error()) => {
                    tracing::debug!(error = %e, "direct write refused; writing through the page cache");
                    let rest = aligned.filled()[done..].to_vec();
                    *direct = None;
                    *direct_after = None;
                    set_direct(file, false)?;
                    return file.write_all(&rest);
                }
                Err(e) => return Err(e),
            }
        }
        aligned.consume(ready);
        Ok(())
    }

    fn switch_to_direct(&mut self) {
        match set_direct(&self.file, true) {
            Ok(()) => self.direct = Some(Aligned::new()),
            Err(e) => {
                tracing::debug!(error = %e, "direct I/O unavailable; writing through the page cache");
                self.direct_after = None;
            }
        }
    }
}

#[cfg(target_os = "linux")]
fn set_direct(file: &File, on: bool) -> io::Result<()> {
    use rustix::fs::{OFlags, fcntl_getfl, fcntl_setfl};
    let flags = fcntl_getfl(file)?;
    let flags = if on {
        flags | OFlags::DIRECT
    } else {
        flags.difference(OFlags::DIRECT)
    };
    Ok(fcntl_setfl(file, flags)?)
}

#[cfg(not(target_os = "linux"))]
fn set_direct(_: &File, on: bool) -> io::Result<()> {
    if on {
        Err(io::ErrorKind::Unsupported.into())
    } else {
        Ok(())
    }
}

/// Size of the aligned buffer, and of each direct write but the last. Each write waits for the device, so a
/// larger one leaves the device less idle between them, and loses less when reads share it: beside a direct
/// read, dd's 1 MiB direct writes fell from 1.2 GB/s to 704 MB/s on the dev VM, its 4 MiB ones to 1.1 GB/s.
const BUF: usize = 4 << 20;

/// A buffer whose start is [`ALIGN`]-aligned in memory, found inside a slightly larger allocation.
struct Aligned {
    mem: Vec<u8>,
    start: usize,
    len: usize,
}

impl Aligned {
    fn new() -> Self {
        let mem = vec![0; BUF + ALIGN];
        let start = (ALIGN - mem.as_ptr() as usize % ALIGN) % ALIGN;
        Self { mem, start, len: 0 }
    }

    fn len(&self) -> usize {
        self.len
    }

    fn is_full(&self) -> bool {
        self.len == BUF
    }

    fn filled(&self) -> &[u8] {
        &self.mem[self.start..self.start + self.len]
    }

    /// Copies as much of `data` as fits; returns how much that was.
    fn push(&mut self, data: &[u8]) -> usize {
        let n = data.len().min(BUF - self.len);
        let at = self.start + self.len;
        self.mem[at..at + n].copy_from_slice(&data[..n]);
        self.len += n;
        n
    }

    /// Drops the first `n` bytes, moving the rest (less than [`ALIGN`] when `n` is the aligned part) to the
    /// front.
    fn consume(&mut self, n: usize) {
        let (start, len) = (self.start, self.len);
        self.mem.copy_within(start + n..start + len, start);
        self.len -= n;
    }

    fn clear(&mut self) {
        self.len = 0;
    }
}

/// Takes up to `n` bytes off the front of `chunks`.
fn split_off_front<'a>(chunks: &mut Vec<&'a [u8]>, mut n: usize) -> Vec<&'a [u8]> {
    let mut head = Vec::new();
    let mut taken = 0;
    for chunk in chunks.iter_mut() {
        if n == 0 {
            break;
        }
        let k = chunk.len().min(n);
        head.push(&chunk[..k]);
        *chunk = &chunk[k..];
        n -= k;
        taken += usize::from(chunk.is_empty());
    }
    chunks.drain(..taken);
    head
}

fn write_all_vectored(file: &mut File, chunks: &[&[u8]]) -> io::Result<()> {
    let mut slices: Vec<IoSlice<'_>> = chunks
        .iter()
        .filter(|c| !c.is_empty())
        .map(|c| IoSlice::new(c))
        .collect();
    let mut remaining = &mut slices[..];
    while !remaining.is_empty() {
        match file.write_vectored(remaining) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut remaining, n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::OpenOptions;

    fn disk_dir() -> tempfile::TempDir {
        tempfile::tempdir().unwrap()
    }

    /// Whether this machine's temp directory takes direct I/O at all (an older tmpfs does not), so that the
    /// tests can tell a writer that should have switched from one that could not.
    fn direct_io_possible() -> bool {
        #[cfg(target_os = "linux")]
        {
            use std::os::unix::fs::OpenOptionsExt;
            let dir = disk_dir();
            OpenOptions::new()
                .write(true)
                .create_new(true)
                .custom_flags(rustix::fs::OFlags::DIRECT.bits() as i32)
                .open(dir.path().join("probe"))
                .is_ok()
        }
        #[cfg(not(target_os = "linux"))]
        false
    }

    fn pattern(len: usize, seed: u8) -> Vec<u8> {
        (0..len)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
            .collect()
    }

    /// Writes `data` in batches of irregular chunks and returns what the file holds.
    fn round_trip(start: &[u8], data: &[u8], direct_after: Option<u64>) -> (Vec<u8>, bool) {
        let dir = disk_dir();
        let path = dir.path().join("data");
        std::fs::write(&path, start).unwrap();
        let file = OpenOptions::new().append(true).open(&path).unwrap();
        let mut writer = BlobWriter::new(file, start.len() as u64, direct_after);
        let mut went_direct = false;
        let sizes = [1, 4095, 70_000, 3 << 20, 13, 65_536, 1 << 20];
        let mut at = 0;
        for (i, size) in sizes.iter().cycle().enumerate() {
            if at >= data.len() {
                break;
            }
            let batch: Vec<Bytes> = (0..=(i % 3))
                .map(|_| {
                    let end = (at + size).min(data.len());
                    let chunk = Bytes::copy_from_slice(&data[at..end]);
                    at = end;
                    chunk
                })
                .collect();
            writer.write(&batch).unwrap();
            went_direct |= writer.is_direct();
        }
        writer.finish().unwrap();
        assert!(!writer.is_direct());
        drop(writer);
        (std::fs::read(&path).unwrap(), went_direct)
    }

    #[test]
    fn large_writes_go_direct_and_keep_every_byte_in_order() {
        let data = pattern(9 << 20 | 777, 1);
        let (written, went_direct) = round_trip(b"", &data, Some(1 << 20));
        assert!(written == data, "file differs from what was written");
        assert_eq!(went_direct, direct_io_possible());
    }

    #[test]
    fn an_unaligned_start_is_padded_through_the_page_cache_first() {
        let start = pattern(5000, 2);
        let data = pattern(6 << 20, 3);
        let (written, went_direct) = round_trip(&start, &data, Some(0));
        assert_eq!(written.len(), start.len() + data.len());
        assert!(written[..start.len()] == start[..] && written[start.len()..] == data[..]);
        assert_eq!(went_direct, direct_io_possible());
    }

    #[test]
    fn small_files_and_disabled_direct_io_stay_buffered() {
        let data = pattern(3 << 20, 4);
        let (written, went_direct) = round_trip(b"", &data, None);
        assert!(written == data && !went_direct);
        let (written, went_direct) = round_trip(b"", &data[..100_000], Some(1 << 20));
        assert!(written[..] == data[..100_000] && !went_direct);
    }

    #[test]
    fn a_file_can_be_appended_to_after_a_direct_write_finished() {
        let dir = disk_dir();
        let path = dir.path().join("data");
        let first = pattern((4 << 20) + 3, 5);
        let second = pattern((2 << 20) + 4093, 6);
        std::fs::write(&path, b"").unwrap();
        let mut len = 0;
        for part in [&first, &second] {
            let file = OpenOptions::new().append(true).open(&path).unwrap();
            let mut writer = BlobWriter::new(file, len, Some(0));
            writer.write(&[Bytes::copy_from_slice(part)]).unwrap();
            writer.finish().unwrap();
            len += part.len() as u64;
        }
        let written = std::fs::read(&path).unwrap();
        assert!(written[..first.len()] == first[..] && written[first.len()..] == second[..]);
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_direct_write_leaves_the_page_cache_alone() {
        if !direct_io_possible() {
            eprintln!("skipped: no direct I/O on this filesystem");
            return;
        }
        let dir = disk_dir();
        let path = dir.path().join("blob");
        let data = pattern((6 << 20) + 5, 7);
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .unwrap();
        let mut writer = BlobWriter::new(file, 0, Some(0));
        writer.write(&[Bytes::copy_from_slice(&data)]).unwrap();
        writer.finish().unwrap();
        writer.file().sync_all().unwrap();
        drop(writer);
        let file = File::open(&path).unwrap();
        let mut byte = [0u8; 1];
        for offset in [0, 1 << 20, 5 << 20] {
            assert_eq!(
                crate::read::read_cached(&file, &mut byte, offset).unwrap(),
                None,
                "byte {offset} went through the page cache"
            );
        }
        assert!(std::fs::read(&path).unwrap() == data);
    }

    #[test]
    fn front_splitting_takes_exactly_n_bytes() {
        let (a, b, c) = (vec![1u8; 3], vec![2u8; 5], vec![3u8; 2]);
        let mut chunks: Vec<&[u8]> = vec![&a, &b, &c];
        let head = split_off_front(&mut chunks, 6);
        assert_eq!(head.concat(), [1, 1, 1, 2, 2, 2]);
        assert_eq!(chunks.concat(), [2, 2, 3, 3]);
        assert_eq!(split_off_front(&mut chunks, 10).len(), 2);
        assert!(chunks.is_empty());
    }
}
