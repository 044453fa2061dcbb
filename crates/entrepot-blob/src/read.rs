//! Streaming a blob file: from the page cache where its pages are there, with direct I/O where they are not,
//! one chunk ahead of the consumer.
//!
//! A large blob is written around the page cache (`direct.rs`), so a pull may find none of it, part of it, or
//! all of it cached, depending on earlier reads and memory pressure. A buffered read of a cold file runs at the
//! kernel's readahead pace (about 300 MB/s on the benchmark machine) and copies every byte once more; a direct
//! read of a few MiB at a time runs at the device's speed (1.1–2.5 GB/s there) into the buffer that is sent.
//! So each chunk is first asked of the page cache without waiting (`preadv2(RWF_NOWAIT)`, which answers with
//! the cached prefix, or `EAGAIN`), and what is missing is read directly: a pull never waits on buffered
//! readahead, nor goes slower than the disk. nginx's `directio` makes the same choice for large files.
//!
//! While the consumer sends one chunk, the next is already being read, on the blocking pool: disk and network
//! overlap, and no thread is held while a slow client drains its socket.

use std::fs::File;
use std::io;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt;
use tokio::task::JoinHandle;

use crate::direct::ALIGN;
use crate::staging::blocking;
use crate::store::ByteStream;

/// Size of the reads: large enough for the device's full speed with direct I/O and few blocking-pool hops,
/// small enough to start an answer quickly and keep two in memory per stream.
pub(crate) const READ_CHUNK: usize = 2 << 20;

/// Steps of the non-blocking reads from the page cache: what readahead may read twice at the end of a cached run.
const CACHED_STEP: usize = 256 << 10;

/// An open blob file: a descriptor through the page cache, and one with `O_DIRECT` for large files where
/// the filesystem allows it.
pub(crate) struct BlobFile {
    cached: File,
    direct: Option<File>,
}

impl BlobFile {
    /// Opens `path`, with a direct descriptor too when `direct` is set (a large file) and the filesystem has
    /// direct I/O. Returns the file and its size.
    pub(crate) fn open(path: &Path, direct: impl FnOnce(u64) -> bool) -> io::Result<(Self, u64)> {
        let cached = File::open(path)?;
        let size = cached.metadata()?.len();
        let direct = if direct(size) {
            open_direct(path)
        } else {
            None
        };
        if direct.is_some() {
            // A non-blocking read that meets a missing page still starts readahead, and sequential reads grow its
            // window to several MiB past what was asked, all of which the direct reads then read again. Random
            // access limits it to the pages asked for.
            advise_random(&cached);
        }
        Ok((Self { cached, direct }, size))
    }

    /// Reads up to `want` bytes at `offset`, at least one unless `offset` is at the end of the file; fewer than
    /// `want` when only a prefix of the range is in the page cache (the rest is the next call's).
    fn read_chunk(&self, offset: u64, want: usize) -> io::Result<Bytes> {
        // One allocation serves both ways: the bytes at `offset` land at `lead` past an aligned start, where
        // a direct read from the aligned offset below puts them too.
        let lead = (offset % ALIGN as u64) as usize;
        let span = (lead + want).next_multiple_of(ALIGN);
        let mut mem = Buffer::take(span + ALIGN);
        let start = (ALIGN - mem.as_ptr() as usize % ALIGN) % ALIGN;
        let at = start + lead;
        let n = match self.direct {
            Some(ref direct) => {
                // A non-blocking read that meets a missing page still reads the rest of what it asked for into the
                // cache, which the direct read would then read again. So a step is read from the cache only when
                // one-byte probes (which bring in at most their own page) find its first and last bytes there.
                let mut n = 0;
                while n < want {
                    let step = (want - n).min(CACHED_STEP);
                    let (from, to) = (at + n, at + n + step);
                    let first = offset + n as u64;
                    if !(n > 0 || is_cached(&self.cached, &mut mem[from..from + 1], first)?)
                        || !is_cached(&self.cached, &mut mem[to - 1..to], first + step as u64 - 1)?
                    {
                        break;
                    }
                    let got = read_cached(&self.cached, &mut mem[from..to], first)?.unwrap_or(0);
                    n += got;
                    if got < step {
                        break;
                    }
                }
                if n > 0 {
                    n
                } else {
                    // Nothing of it is cached (or the end of the file, which the direct read reports alike).
                    pread(direct, &mut mem[start..start + span], offset - lead as u64)?
                        .saturating_sub(lead)
                        .min(want)
                }
            }
            None => pread(&self.cached, &mut mem[at..at + want], offset)?,
        };
        Ok(Bytes::from_owner(mem).slice(at..at + n))
    }
}

/// A read buffer that goes back to [`POOL`] when the last `Bytes` sliced from it is dropped.
///
/// Without the pool, every chunk is a fresh multi-MiB allocation: the allocator maps it, the kernel faults in
/// and zeroes each page, and the direct read pins them again; on the benchmark machine that zeroing alone was an
/// eighth of a pull's CPU time. A reused buffer is already mapped. Its stale bytes are never seen: a chunk
/// exposes only the bytes its read wrote.
struct Buffer(Option<Box<[u8]>>);

/// Buffers kept for reuse: enough for a few streams reading one chunk ahead each, a few MiB in all.
static POOL: std::sync::Mutex<Vec<Box<[u8]>>> = std::sync::Mutex::new(Vec::new());
const POOL_KEEP: usize = 6;
const POOLED_LEN: usize = READ_CHUNK + 2 * ALIGN;

impl Buffer {
    /// A buffer of at least `len` bytes. Small ones are not pooled: a caller may keep a small blob's bytes, and
    /// they must not hold a pooled buffer's MiBs.
    fn take(len: usize) -> Self {
        if !(READ_CHUNK / 2..=POOLED_LEN).contains(&len) {
            return Self(Some(vec![0u8; len].into_boxed_slice()));
        }
        let pooled = POOL.lock().unwrap_or_else(|e| e.into_inner()).pop();
        Self(Some(
            pooled.unwrap_or_else(|| vec![0u8; POOLED_LEN].into_boxed_slice()),
        ))
    }
}

impl std::ops::Deref for Buffer {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.0.as_deref().unwrap_or_default()
    }
}

impl std::ops::DerefMut for Buffer {
    fn deref_mut(&mut self) -> &mut [u8] {
        self.0.as_deref_mut().unwrap_or_default()
    }
}

impl AsRef<[u8]> for Buffer {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

impl Drop for Buffer {
    fn drop(&mut self) {
        if let Some(mem) = self.0.take().filter(|mem| mem.len() == POOLED_LEN) {
            let mut pool = POOL.lock().unwrap_or_else(|e| e.into_inner());
            if pool.len() < POOL_KEEP {
                pool.push(mem);
            }
        }
    }
}

/// Streams `range` of `file`, reading one chunk ahead.
pub(crate) fn file_stream(file: BlobFile, range: Range<u64>) -> ByteStream {
    struct State {
        file: Arc<BlobFile>,
        /// Where the chunk being read, or to be read next, starts.
        offset: u64,
        end: u64,
        ahead: Option<JoinHandle<io::Result<Bytes>>>,
    }
    impl State {
        fn read_next(&mut self) -> JoinHandle<io::Result<Bytes>> {
            let file = self.file.clone();
            let (offset, want) = (self.offset, (self.end - self.offset).min(READ_CHUNK as u64));
            tokio::task::spawn_blocking(move || file.read_chunk(offset, want as usize))
        }
    }
    let state = State {
        file: Arc::new(file),
        offset: range.start,
        end: range.end,
        ahead: None,
    };
    futures_util::stream::try_unfold(state, |mut state| async move {
        if state.offset >= state.end {
            return Ok(None);
        }
        let read = match state.ahead.take() {
            Some(read) => read,
            None => state.read_next(),
        };
        let chunk = read.await.map_err(io::Error::other)??;
        if chunk.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "blob file shorter than its size",
            ));
        }
        state.offset += chunk.len() as u64;
        if state.offset < state.end {
            state.ahead = Some(state.read_next());
        }
        Ok(Some((chunk, state)))
    })
    .boxed()
}

/// Opens `path` in a blocking-pool hop; see [`BlobFile::open`].
pub(crate) async fn open(
    path: std::path::PathBuf,
    direct: impl FnOnce(u64) -> bool + Send + 'static,
) -> io::Result<(BlobFile, u64)> {
    blocking(move || BlobFile::open(&path, direct)).await
}

fn pread(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    use std::os::unix::fs::FileExt;
    loop {
        match file.read_at(buf, offset) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            other => return other,
        }
    }
}

/// What of `buf.len()` bytes at `offset` the page cache has, read without waiting for the device: `Some(n)` for
/// a cached prefix of `n` bytes (0 at the end of the file), `None` when its first page is missing.
#[cfg(target_os = "linux")]
pub(crate) fn read_cached(file: &File, buf: &mut [u8], offset: u64) -> io::Result<Option<usize>> {
    use rustix::io::{Errno, ReadWriteFlags, preadv2};
    loop {
        match preadv2(
            file,
            &mut [io::IoSliceMut::new(buf)],
            offset,
            ReadWriteFlags::NOWAIT,
        ) {
            Ok(n) => return Ok(Some(n)),
            Err(Errno::AGAIN) => return Ok(None),
            Err(Errno::INTR) => {}
            // A kernel or filesystem without RWF_NOWAIT: treat every page as missing, the direct read serves.
            Err(Errno::OPNOTSUPP | Errno::NOSYS) => return Ok(None),
            Err(e) => return Err(e.into()),
        }
    }
}

/// Whether the byte at `offset` is in the page cache (`buf` is one byte, overwritten with it if so).
fn is_cached(file: &File, buf: &mut [u8], offset: u64) -> io::Result<bool> {
    Ok(read_cached(file, buf, offset)? == Some(1))
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn read_cached(_: &File, _: &mut [u8], _: u64) -> io::Result<Option<usize>> {
    Ok(None)
}

#[cfg(target_os = "linux")]
fn advise_random(file: &File) {
    use rustix::fs::{Advice, fadvise};
    if let Err(e) = fadvise(file, 0, None, Advice::Random) {
        tracing::debug!(error = %e, "could not turn readahead off for a blob read directly");
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_random(_: &File) {}

#[cfg(target_os = "linux")]
fn open_direct(path: &Path) -> Option<File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::DIRECT.bits() as i32)
        .open(path)
        .inspect_err(|e| tracing::debug!(error = %e, "direct reads unavailable; reading through the page cache"))
        .ok()
}

#[cfg(not(target_os = "linux"))]
fn open_direct(_: &Path) -> Option<File> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::TryStreamExt;

    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 + i / 4099) as u8).collect()
    }

    /// A directory on a disk-backed filesystem when there is one (direct I/O is refused on tmpfs).
    fn disk_dir() -> tempfile::TempDir {
        tempfile::Builder::new()
            .prefix("entrepot-read-")
            .tempdir_in(std::env::var_os("CARGO_TARGET_TMPDIR").unwrap_or_else(|| ".".into()))
            .or_else(|_| tempfile::tempdir())
            .unwrap()
    }

    /// Writes `data` to `path` and drops it from the page cache; returns a descriptor set for random access, so
    /// that a test's own probes do not start readahead.
    #[cfg(target_os = "linux")]
    fn write_uncached(path: &Path, data: &[u8]) -> File {
        use rustix::fs::{Advice, fadvise};
        std::fs::write(path, data).unwrap();
        let file = File::open(path).unwrap();
        file.sync_all().unwrap();
        fadvise(&file, 0, None, Advice::DontNeed).unwrap();
        advise_random(&file);
        file
    }

    async fn read_range(path: &Path, range: Range<u64>, direct: bool) -> (Vec<u8>, bool) {
        let (file, _) = open(path.to_owned(), move |_| direct).await.unwrap();
        let has_direct = file.direct.is_some();
        let chunks: Vec<Bytes> = file_stream(file, range).try_collect().await.unwrap();
        (chunks.concat(), has_direct)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_range_reads_the_same_bytes_cached_or_direct() {
        let dir = disk_dir();
        let path = dir.path().join("blob");
        let len = 2 * READ_CHUNK + 3 * ALIGN + 123;
        let data = pattern(len);
        std::fs::write(&path, &data).unwrap();
        let ranges = [
            0..len as u64,
            1..len as u64,
            4095..4097,
            5000..(READ_CHUNK as u64 + 17),
            (len - 1) as u64..len as u64,
            READ_CHUNK as u64..(2 * READ_CHUNK) as u64,
        ];
        for range in ranges {
            for direct in [false, true] {
                let (got, _) = read_range(&path, range.clone(), direct).await;
                let want = &data[range.start as usize..range.end as usize];
                assert_eq!(got.len(), want.len(), "{range:?} direct={direct}");
                assert!(got == want, "bytes differ in {range:?} direct={direct}");
            }
        }
    }

    #[cfg(target_os = "linux")]
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_file_out_of_the_page_cache_is_read_directly_and_stays_out() {
        let dir = disk_dir();
        let path = dir.path().join("blob");
        let data = pattern(3 * READ_CHUNK + 999);
        let file = write_uncached(&path, &data);
        let mut probe = [0u8; 1];
        if read_cached(&file, &mut probe, 0).unwrap().is_some() {
            eprintln!("skipped: the kernel kept the file cached after DONTNEED");
            return;
        }
        let (got, has_direct) = read_range(&path, 0..data.len() as u64, true).await;
        assert!(got == data, "bytes differ");
        if !has_direct {
            eprintln!("skipped the residency check: no direct I/O on this filesystem");
            return;
        }
        // A buffered read would have left the pages behind; the direct one did not (the probes at the start of
        // each chunk leave a few pages there).
        for at in [READ_CHUNK / 2, 3 * READ_CHUNK / 2, 5 * READ_CHUNK / 2] {
            assert_eq!(
                read_cached(&file, &mut probe, at as u64).unwrap(),
                None,
                "at {at}"
            );
        }
    }

    #[cfg(target_os = "linux")]
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_chunk_partly_cached_is_read_from_the_cache_and_then_directly() {
        let dir = disk_dir();
        let path = dir.path().join("blob");
        let data = pattern(2 * READ_CHUNK + 777);
        let file = write_uncached(&path, &data);
        // A cached run at the start of each chunk: each is read from the cache, then the rest directly; the range
        // that starts at 100 has its direct reads begin a little before the cached part ends (a direct read starts
        // on a page boundary).
        let mut buf = vec![0u8; CACHED_STEP + 1000];
        for at in [0, READ_CHUNK as u64] {
            pread(&file, &mut buf, at).unwrap();
        }
        for range in [0..data.len() as u64, 100..(READ_CHUNK as u64 + 5000)] {
            let (got, _) = read_range(&path, range.clone(), true).await;
            assert!(
                got == data[range.start as usize..range.end as usize],
                "bytes differ in {range:?}"
            );
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_chunk_kept_by_its_consumer_is_not_overwritten_by_later_reads() {
        let dir = disk_dir();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        let data = pattern(READ_CHUNK);
        std::fs::write(&a, &data).unwrap();
        std::fs::write(&b, vec![0xEE; 2 * READ_CHUNK]).unwrap();
        for direct in [false, true] {
            let (file, _) = open(a.clone(), move |_| direct).await.unwrap();
            let kept: Vec<Bytes> = file_stream(file, 0..data.len() as u64)
                .try_collect()
                .await
                .unwrap();
            // Enough reads of other bytes to take every pooled buffer several times over.
            for _ in 0..2 * POOL_KEEP {
                let (got, _) = read_range(&b, 0..2 * READ_CHUNK as u64, direct).await;
                assert!(got.iter().all(|&byte| byte == 0xEE));
            }
            assert!(
                kept.concat() == data,
                "a kept chunk changed (direct={direct})"
            );
        }
    }

    #[test]
    fn small_buffers_are_not_taken_from_the_pool() {
        let small = Buffer::take(64 << 10);
        assert_eq!(small.len(), 64 << 10);
        let large = Buffer::take(READ_CHUNK + ALIGN);
        assert_eq!(large.len(), POOLED_LEN);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_file_shorter_than_its_range_is_an_error_not_a_hang() {
        let dir = disk_dir();
        let path = dir.path().join("blob");
        std::fs::write(&path, pattern(5000)).unwrap();
        for direct in [false, true] {
            let (file, _) = open(path.clone(), move |_| direct).await.unwrap();
            let err = file_stream(file, 0..(READ_CHUNK as u64 + 1))
                .try_collect::<Vec<Bytes>>()
                .await
                .unwrap_err();
            assert!(err.to_string().contains("shorter"), "{err}");
        }
    }
}
