//! Benchmark: write and read throughput of the filesystem store for one large blob.
//!
//! `cargo bench -p entrepot-blob --bench throughput`
//! Set `BLOB_BENCH_MIB` to change the blob size (default 1024) and `BLOB_BENCH_DIR` to
//! put the store on a real disk instead of the system temp directory.

use std::time::Instant;

use bytes::Bytes;
use entrepot_blob::{BlobStore, ByteStream, FsBlobStore, PutOptions, UploadOptions};
use futures_util::{StreamExt, TryStreamExt};
use sha2::Digest as _;

/// 64 KiB chunks, the size an HTTP server typically hands over.
fn body(mib: usize) -> ByteStream {
    let chunk = Bytes::from(
        (0..64 * 1024)
            .map(|i| (i * 7 % 251) as u8)
            .collect::<Vec<u8>>(),
    );
    futures_util::stream::iter((0..mib * 16).map(move |_| Ok(chunk.clone()))).boxed()
}

fn rate(mib: usize, started: Instant) -> String {
    format!(
        "{:>7.0} MiB/s",
        mib as f64 / started.elapsed().as_secs_f64()
    )
}

async fn fs_put_read_throughput() {
    let mib: usize = std::env::var("BLOB_BENCH_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    let dir = match std::env::var_os("BLOB_BENCH_DIR") {
        Some(base) => tempfile::TempDir::new_in(base).unwrap(),
        None => tempfile::TempDir::new().unwrap(),
    };
    let store = FsBlobStore::open(dir.path()).await.unwrap();

    // Baseline: the bare sha256 speed of this CPU.
    let data = vec![7u8; 64 << 20];
    let started = Instant::now();
    std::hint::black_box(sha2::Sha256::digest(&data));
    println!("sha256 alone        {}", rate(64, started));
    let started = Instant::now();
    std::hint::black_box(sha2::Sha512::digest(&data));
    println!("sha512 alone        {}", rate(64, started));

    // The first run also pays for fresh page-cache (or tmpfs) pages; the second is steady state.
    for run in ["cold", "warm"] {
        let started = Instant::now();
        let out = store.put(body(mib), PutOptions::new()).await.unwrap();
        println!("put sha256 ({run})   {}", rate(mib, started));
        store.delete(&out.info.sha256).await.unwrap();
    }

    let started = Instant::now();
    let out = store
        .put(body(mib), PutOptions::new().with_sha512())
        .await
        .unwrap();
    println!("put sha256+sha512   {}", rate(mib, started));

    let started = Instant::now();
    let n = store
        .open(&out.info.sha256, None)
        .await
        .unwrap()
        .stream
        .try_fold(0usize, |n, b| async move { Ok(n + b.len()) })
        .await
        .unwrap();
    assert_eq!(n, mib << 20);
    println!("read                {}", rate(mib, started));
    store.delete(&out.info.sha256).await.unwrap();

    let started = Instant::now();
    let id = store.start_upload(UploadOptions::default()).await.unwrap();
    store.append_upload(&id, 0, body(mib)).await.unwrap();
    store.commit_upload(&id, PutOptions::new()).await.unwrap();
    println!("upload+commit       {}", rate(mib, started));
}

fn main() {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
        .block_on(fs_put_read_throughput());
}
