//! Reading large blobs back into the page cache once they are published, on a background thread.
//!
//! A blob past the direct-I/O threshold is written around the page cache (`direct.rs`), yet a layer just pushed
//! is typically pulled soon after (a CI job pushes, a deployment pulls). From the cache a pull runs at memory
//! speed (2.3–3.4 GB/s measured on the 2-core dev VM); from the disk, even with direct reads, at the device's
//! (1.1–2.5 GB/s there, and less while another push writes). So once such a blob is published, the [`Warmer`]
//! asks the kernel to read it back: the device does the copy, and the push did not wait for it. The thread then
//! touches every page it brought in (see `touch`), at the lowest CPU priority. Reads (`read.rs`) take what is
//! cached and read the rest directly, so a pull that starts before the warming ends is not slower for it.

use std::fs::File;
use std::io;
use std::num::NonZeroU64;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::mpsc::{self, SyncSender, TrySendError};

/// Blobs waiting to be read back; past this, warming is skipped (it is only ever a speed-up).
const WARM_QUEUE: usize = 16;
/// Readahead sizes are 128 KiB to a few MiB; a step larger than the device's would leave gaps.
const WARM_STEP: u64 = 1 << 20;
/// Rounds of asking, the first pass included; the last waits about a second.
#[cfg(target_os = "linux")]
const WARM_ROUNDS: u32 = 6;

/// Reads published blobs back into the page cache, one at a time, on a thread started on first use.
#[derive(Debug, Default)]
pub(crate) struct Warmer {
    queue: OnceLock<Option<SyncSender<PathBuf>>>,
}

impl Warmer {
    /// Queues `path` to be read back; returns whether it was queued.
    pub(crate) fn warm(&self, path: PathBuf) -> bool {
        let queue = self.queue.get_or_init(|| {
            let (tx, rx) = mpsc::sync_channel::<PathBuf>(WARM_QUEUE);
            let spawned = std::thread::Builder::new()
                .name("blob-warm".into())
                .spawn(move || {
                    lowest_priority();
                    // Ends when the store, and with it the sender, is dropped.
                    while let Ok(path) = rx.recv() {
                        if let Err(e) = read_through(&path) {
                            tracing::debug!(path = %path.display(), error = %e, "could not warm a blob");
                        }
                    }
                });
            spawned.is_ok().then_some(tx)
        });
        match queue.as_ref().map(|tx| tx.try_send(path)) {
            Some(Ok(())) => true,
            Some(Err(TrySendError::Full(_) | TrySendError::Disconnected(_))) | None => false,
        }
    }
}

/// Asks the kernel to read `path` into the page cache. `WILLNEED` reads at most the device's readahead size
/// per call, so the file is asked for in steps; the device copies into the cache, and asking costs about
/// 0.15 CPU-second per GiB (1.3 for reading it through a buffer). Last, [`touch`] reads a byte of each page.
///
/// The first pass asks for one [`WARM_WINDOW`] at a time and waits for it before asking for the next, so that
/// the device is never handed a queue of reads: the push that usually follows writes to the same device, and
/// its writes wait behind queued reads. Five windows of 16 MiB in flight made the first request of a chunked
/// push that followed a monolithic one take 0.4–0.8 s instead of 65 ms; one window of 2 MiB keeps pace with
/// that push and still leaves the layer cached when it ends (`docs/benchmarks.md`, sixth session).
/// Readahead is best effort, and the kernel drops some of it while the device is busy (a pull right after a
/// busy push read part of its layer from the disk), so later rounds ask again for the steps a non-blocking
/// probe finds missing.
#[cfg(target_os = "linux")]
fn read_through(path: &Path) -> io::Result<()> {
    use rustix::fs::{Advice, fadvise};
    let file = File::open(path)?;
    let len = file.metadata()?.len();
    let ask = |from: u64, to: u64, only_missing: bool| -> io::Result<bool> {
        let mut asked = false;
        for offset in (from..to.min(len)).step_by(WARM_STEP as usize) {
            if !only_missing || !cached(&file, offset, len)? {
                fadvise(&file, offset, NonZeroU64::new(WARM_STEP), Advice::WillNeed)?;
                asked = true;
            }
        }
        Ok(asked)
    };
    for window in (0..len).step_by(WARM_WINDOW as usize) {
        ask(window, window + WARM_WINDOW, false)?;
        // Until the window's last step is in, or long enough that it was dropped (the rounds ask again).
        let last = (window + WARM_WINDOW).min(len) - 1;
        let last_step = last - last % WARM_STEP;
        for _ in 0..WARM_WAIT_POLLS {
            if cached(&file, last_step, len)? {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }
    for round in 1..WARM_ROUNDS {
        if !ask(0, len, true)? {
            break;
        }
        // Time for what was asked to arrive before looking again.
        std::thread::sleep(std::time::Duration::from_millis(50 << round.min(4)));
    }
    touch(&file, len)
}

/// Reads one byte of every cached page of `file`.
///
/// Readahead has the device fill the pages, and the CPU has not touched them yet. On some virtual machines the
/// first touch of such a page is a fault into the hypervisor: on the dev VM (Firecracker, which takes free guest
/// memory back) the first pull of a layer warmed seconds earlier ran at 400–575 MiB/s on 2–2.8 CPU-seconds, and
/// the next pull of the same cached pages at 2.3–2.6 GB/s on 0.4. Touching the pages here moves that cost off
/// the pull, onto this thread at the lowest priority. Where pages are not faulted that way, it is a syscall per
/// page: 0.22–0.23 CPU-second per GiB of pages already touched, on the same VM.
#[cfg(target_os = "linux")]
fn touch(file: &File, len: u64) -> io::Result<()> {
    const PAGE: u64 = crate::direct::ALIGN as u64;
    let mut byte = [0u8; 1];
    let mut offset = 0;
    while offset < len {
        offset = match crate::read::read_cached(file, &mut byte, offset)? {
            Some(_) => offset + PAGE,
            // Not cached: a pull reads that step directly, into memory of its own.
            None => (offset / WARM_STEP + 1) * WARM_STEP,
        };
    }
    Ok(())
}

/// Warming only ever uses what the machine has to spare.
#[cfg(target_os = "linux")]
fn lowest_priority() {
    use rustix::{process::setpriority_process, thread::gettid};
    if let Err(e) = setpriority_process(Some(gettid()), 19) {
        tracing::debug!(error = %e, "could not lower the warming thread's priority");
    }
}

#[cfg(not(target_os = "linux"))]
fn lowest_priority() {}

/// What the first pass asks for at a time: two steps.
#[cfg(target_os = "linux")]
const WARM_WINDOW: u64 = 2 * WARM_STEP;
/// How long (in milliseconds) the first pass waits for a window before asking for the next: a window takes 2–3 ms
/// on the dev VM, and one the kernel dropped is asked for again by the later rounds.
#[cfg(target_os = "linux")]
const WARM_WAIT_POLLS: u32 = 20;

#[cfg(not(target_os = "linux"))]
fn read_through(path: &Path) -> io::Result<()> {
    let mut file = File::open(path)?;
    io::copy(&mut file, &mut io::sink()).map(drop)
}

/// Whether the first and last page of the step at `offset` are in the page cache, asked without waiting for
/// the disk.
fn cached(file: &File, offset: u64, len: u64) -> io::Result<bool> {
    let last = (offset + WARM_STEP).min(len) - 1;
    for at in [offset, last] {
        if crate::read::read_cached(file, &mut [0u8; 1], at)? != Some(1) {
            return Ok(false);
        }
    }
    Ok(true)
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn only_the_warming_thread_drops_to_the_lowest_priority() {
        use rustix::{process::getpriority_process, thread::gettid};
        let ours = || getpriority_process(Some(gettid())).unwrap();
        let before = ours();
        let warming = std::thread::spawn(move || {
            lowest_priority();
            ours()
        })
        .join()
        .unwrap();
        assert_eq!(warming, 19);
        assert_eq!(ours(), before, "the priority of the whole process changed");
    }

    #[test]
    fn warming_brings_a_file_out_of_the_page_cache_back_into_it() {
        use rustix::fs::{Advice, fadvise};
        let dir = tempfile::Builder::new()
            .prefix("entrepot-warm-")
            .tempdir_in(std::env::var_os("CARGO_TARGET_TMPDIR").unwrap_or_else(|| ".".into()))
            .or_else(|_| tempfile::tempdir())
            .unwrap();
        let path = dir.path().join("blob");
        let data: Vec<u8> = (0..(6 << 20) + 5).map(|i: usize| (i % 253) as u8).collect();
        std::fs::write(&path, &data).unwrap();
        let file = File::open(&path).unwrap();
        file.sync_all().unwrap();
        fadvise(&file, 0, None, Advice::DontNeed).unwrap();
        let len = data.len() as u64;
        let all_cached = || {
            (0..len)
                .step_by(WARM_STEP as usize)
                .all(|offset| cached(&file, offset, len).unwrap())
        };
        if all_cached() {
            eprintln!("skipped: the kernel kept the file cached after DONTNEED (tmpfs?)");
            return;
        }
        read_through(&path).unwrap();
        assert!(
            all_cached(),
            "warming left part of the file out of the page cache"
        );
        assert!(std::fs::read(&path).unwrap() == data);
    }
}
