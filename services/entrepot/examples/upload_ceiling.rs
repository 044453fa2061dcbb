//! The upload ceiling for `deploy/bench/container.sh`: what actix-web and a sha256 on its own thread do alone.
//!
//! A registry cannot acknowledge a pushed layer before it has received and hashed it. This server does only that:
//! the same HTTP stack as Entrepôt, the sha256 on a second thread fed in 1 MiB batches as Entrepôt's blob store
//! feeds it, and nothing stored. On a given machine and client no push through actix-web can beat it, so the
//! benchmark measures it in the same rounds and reports Entrepôt's push against it as well as against the
//! machine's limits (docs/benchmarks.md). It speaks just enough of the OCI upload protocol for the benchmark's two
//! clients: POST opens an upload, PATCH appends, and PUT with `?digest=` appends and closes it, answering 201
//! only when the digest matches, so a ceiling that skipped bytes would fail rather than look fast.
//!
//! `cargo run --release -p entrepot --example upload_ceiling -- 127.0.0.1:15002`

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;

use actix_web::{App, HttpResponse, HttpServer, web};
use bytes::Bytes;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

/// Bytes per batch handed to the hashing thread, as `entrepot-blob`'s `WRITE_BATCH`.
const BATCH: usize = 1 << 20;
/// Batches queued for the hashing thread, as `entrepot-blob`'s `QUEUE_BATCHES`.
const QUEUE: usize = 4;

/// An open upload: the queue into its hashing thread.
struct Upload {
    batches: mpsc::Sender<Vec<Bytes>>,
    hashed: JoinHandle<String>,
    size: u64,
}

impl Upload {
    fn start() -> Self {
        let (batches, mut queue) = mpsc::channel::<Vec<Bytes>>(QUEUE);
        let hashed = std::thread::spawn(move || {
            let mut sha256 = Sha256::new();
            while let Some(batch) = queue.blocking_recv() {
                batch.iter().for_each(|chunk| sha256.update(chunk));
            }
            hex::encode(sha256.finalize())
        });
        Self {
            batches,
            hashed,
            size: 0,
        }
    }

    /// Streams `body` to the hashing thread.
    async fn append(&mut self, mut body: web::Payload) -> actix_web::Result<()> {
        let (mut batch, mut len) = (Vec::new(), 0);
        while let Some(chunk) = body.next().await {
            let chunk = chunk?;
            len += chunk.len();
            self.size += chunk.len() as u64;
            batch.push(chunk);
            if len >= BATCH {
                self.send(std::mem::take(&mut batch)).await?;
                len = 0;
            }
        }
        self.send(batch).await
    }

    async fn send(&self, batch: Vec<Bytes>) -> actix_web::Result<()> {
        self.batches
            .send(batch)
            .await
            .map_err(|_| actix_web::error::ErrorInternalServerError("the hashing thread stopped"))
    }

    /// Waits for the hash of everything appended.
    async fn finish(self) -> actix_web::Result<String> {
        drop(self.batches);
        let hashed = self.hashed;
        web::block(move || hashed.join())
            .await?
            .map_err(|_| actix_web::error::ErrorInternalServerError("the hashing thread panicked"))
    }
}

#[derive(Default)]
struct Uploads {
    next: AtomicU64,
    open: Mutex<HashMap<u64, Upload>>,
}

impl Uploads {
    fn take(&self, id: u64) -> actix_web::Result<Upload> {
        self.open
            .lock()
            .expect("upload table poisoned")
            .remove(&id)
            .ok_or_else(|| actix_web::error::ErrorNotFound("no such upload"))
    }

    fn put_back(&self, id: u64, upload: Upload) -> HttpResponse {
        let end = upload.size.saturating_sub(1);
        self.open
            .lock()
            .expect("upload table poisoned")
            .insert(id, upload);
        HttpResponse::Accepted()
            .insert_header(("Location", format!("/upload/{id}")))
            .insert_header(("Range", format!("0-{end}")))
            .finish()
    }
}

async fn open(uploads: web::Data<Uploads>) -> HttpResponse {
    let id = uploads.next.fetch_add(1, Ordering::Relaxed);
    uploads.put_back(id, Upload::start())
}

async fn patch(
    uploads: web::Data<Uploads>,
    id: web::Path<u64>,
    body: web::Payload,
) -> actix_web::Result<HttpResponse> {
    let mut upload = uploads.take(*id)?;
    upload.append(body).await?;
    Ok(uploads.put_back(*id, upload))
}

#[derive(serde::Deserialize)]
struct Close {
    digest: String,
}

async fn close(
    uploads: web::Data<Uploads>,
    id: web::Path<u64>,
    query: web::Query<Close>,
    body: web::Payload,
) -> actix_web::Result<HttpResponse> {
    let mut upload = uploads.take(*id)?;
    upload.append(body).await?;
    let actual = format!("sha256:{}", upload.finish().await?);
    Ok(if actual == query.digest {
        HttpResponse::Created()
            .insert_header(("Location", format!("/blobs/{actual}")))
            .finish()
    } else {
        HttpResponse::BadRequest().body(format!("digest {actual}, not {}\n", query.digest))
    })
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let listen = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:15002".into());
    let uploads = web::Data::new(Uploads::default());
    HttpServer::new(move || {
        App::new()
            .app_data(uploads.clone())
            .route("/v2/", web::get().to(HttpResponse::Ok))
            .route("/v2/{name:.+}/blobs/uploads/", web::post().to(open))
            .route("/upload/{id}", web::patch().to(patch))
            .route("/upload/{id}", web::put().to(close))
    })
    .bind(listen)?
    .run()
    .await
}
