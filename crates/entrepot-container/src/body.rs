//! Request bodies as the blob store wants them: `Send` byte streams, with an idle timeout.
//!
//! actix's payload lives on its worker thread (it is not `Send`), while the blob store takes a `Send` stream. A
//! small task on the worker forwards the chunks through a bounded channel, so memory stays at a few chunks
//! whatever the blob's size, and back-pressure reaches the client when the disk is slower than the network.
//! A client that stops sending for the idle timeout gets its body ended with an error; what arrived stays
//! appended to the upload session, which the client may resume.

use std::io;
use std::time::Duration;

use actix_web::web;
use bytes::{Bytes, BytesMut};
use entrepot_blob::ByteStream;
use futures_util::StreamExt;
use tokio::sync::mpsc;

/// Chunks in flight between the socket and the blob store.
const CHANNEL_DEPTH: usize = 16;

/// Streams the payload into a `Send` stream.
pub fn stream(mut payload: web::Payload, idle: Duration) -> ByteStream {
    let (tx, mut rx) = mpsc::channel::<io::Result<Bytes>>(CHANNEL_DEPTH);
    actix_web::rt::spawn(async move {
        loop {
            let item = match tokio::time::timeout(idle, payload.next()).await {
                Ok(None) => break,
                Ok(Some(item)) => item.map_err(|error| io::Error::other(error.to_string())),
                Err(_) => Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("no request body data for {} s", idle.as_secs()),
                )),
            };
            let failed = item.is_err();
            if tx.send(item).await.is_err() || failed {
                break;
            }
        }
    });
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx)).boxed()
}

/// Why a body could not be read whole.
#[derive(Debug)]
pub enum ReadError {
    TooLarge,
    Io(io::Error),
}

/// Reads a small body (a manifest) whole, refusing it as soon as it passes `limit` bytes.
pub async fn read_limited(
    mut payload: web::Payload,
    limit: u64,
    idle: Duration,
) -> Result<Bytes, ReadError> {
    let mut body = BytesMut::new();
    loop {
        let next = tokio::time::timeout(idle, payload.next())
            .await
            .map_err(|_| ReadError::Io(io::Error::from(io::ErrorKind::TimedOut)))?;
        let Some(chunk) = next else { break };
        let chunk = chunk.map_err(|error| ReadError::Io(io::Error::other(error.to_string())))?;
        if (body.len() + chunk.len()) as u64 > limit {
            return Err(ReadError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}
