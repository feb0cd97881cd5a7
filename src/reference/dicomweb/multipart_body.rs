//! Streaming `multipart/related` response bodies (RFC 2387, RFC 2046 5.1.1) for WADO-RS (PS3.18 8.7.3.5).
//!
//! A study can be gigabytes: parts are read from their files in 64 KiB chunks by a producer task and sent
//! through a small channel, so memory stays bounded whatever the size. Each part carries its
//! `Content-Type` and `Content-Length` headers. The producer stops when the client goes away or the server
//! shuts down. Two faults act on the framing here: ending after the first part without the close
//! delimiter, and stalling after the first part.

use std::io::SeekFrom;
use std::path::PathBuf;
use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio::sync::{mpsc, watch};

use crate::transport::multipart::{close_delimiter, next_part_head, part_head};

const CHUNK: usize = 64 * 1024;

/// Where the bytes of one part come from.
#[derive(Debug, Clone)]
pub enum PartSource {
    /// A byte range of a file.
    File {
        /// File.
        path: PathBuf,
        /// Start of the range.
        offset: u64,
        /// Length of the range.
        length: u64,
    },
    /// Several byte ranges of one file, sent back to back (encapsulated pixel data fragments).
    Ranges {
        /// File.
        path: PathBuf,
        /// `(offset, length)` ranges.
        ranges: Vec<(u64, u64)>,
    },
    /// Bytes already in memory.
    Memory(Bytes),
}

impl PartSource {
    /// Number of bytes the part holds.
    pub fn len(&self) -> u64 {
        match self {
            PartSource::File { length, .. } => *length,
            PartSource::Ranges { ranges, .. } => ranges.iter().map(|(_, l)| *l).sum(),
            PartSource::Memory(b) => b.len() as u64,
        }
    }

    /// True when the part is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One body part: its media type and its bytes.
#[derive(Debug, Clone)]
pub struct Part {
    /// The part's `Content-Type` header value.
    pub content_type: String,
    /// The part's bytes.
    pub source: PartSource,
}

/// A whole multipart body to stream.
#[derive(Debug, Clone)]
pub struct MultipartBody {
    /// The boundary (also in the response `Content-Type`).
    pub boundary: String,
    /// The parts, in order.
    pub parts: Vec<Part>,
    /// Fault: stop after the first part, without the close delimiter.
    pub truncate_after_first: bool,
    /// Fault: wait this long after the first part before going on.
    pub stall_after_first: Option<Duration>,
}

type Chunk = Result<Bytes, std::io::Error>;

impl MultipartBody {
    /// A body with these parts and no faults.
    pub fn new(boundary: String, parts: Vec<Part>) -> MultipartBody {
        MultipartBody {
            boundary,
            parts,
            truncate_after_first: false,
            stall_after_first: None,
        }
    }

    /// Turn into a streaming response body. `shutdown` ends the stream early when it turns true.
    pub fn into_body(self, shutdown: watch::Receiver<bool>) -> Body {
        let (tx, rx) = mpsc::channel::<Chunk>(4);
        tokio::spawn(produce(self, tx, shutdown));
        let stream = futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|chunk| (chunk, rx))
        });
        Body::from_stream(stream)
    }
}

/// Send one chunk; false when the receiver is gone or the server is shutting down.
async fn send(
    tx: &mpsc::Sender<Chunk>,
    shutdown: &mut watch::Receiver<bool>,
    chunk: Chunk,
) -> bool {
    if *shutdown.borrow() {
        return false;
    }
    tokio::select! {
        r = tx.send(chunk) => r.is_ok(),
        _ = shutdown.changed() => false,
    }
}

async fn produce(
    body: MultipartBody,
    tx: mpsc::Sender<Chunk>,
    mut shutdown: watch::Receiver<bool>,
) {
    let MultipartBody {
        boundary,
        parts,
        truncate_after_first,
        stall_after_first,
    } = body;
    for (index, part) in parts.iter().enumerate() {
        let length = part.source.len().to_string();
        let headers = [
            ("Content-Type", part.content_type.as_str()),
            ("Content-Length", length.as_str()),
        ];
        let head = if index == 0 {
            part_head(&boundary, &headers)
        } else {
            next_part_head(&boundary, &headers)
        };
        if !send(&tx, &mut shutdown, Ok(Bytes::from(head))).await {
            return;
        }
        if !send_source(&part.source, &tx, &mut shutdown).await {
            return;
        }
        if index == 0 {
            if truncate_after_first {
                return;
            }
            if let Some(stall) = stall_after_first {
                tokio::select! {
                    _ = tokio::time::sleep(stall) => {}
                    _ = shutdown.changed() => return,
                }
            }
        }
    }
    let _ = send(
        &tx,
        &mut shutdown,
        Ok(Bytes::from(close_delimiter(&boundary))),
    )
    .await;
}

async fn send_source(
    source: &PartSource,
    tx: &mpsc::Sender<Chunk>,
    shutdown: &mut watch::Receiver<bool>,
) -> bool {
    match source {
        PartSource::Memory(b) => send(tx, shutdown, Ok(b.clone())).await,
        PartSource::File {
            path,
            offset,
            length,
        } => send_range(path, *offset, *length, tx, shutdown).await,
        PartSource::Ranges { path, ranges } => {
            for (offset, length) in ranges {
                if !send_range(path, *offset, *length, tx, shutdown).await {
                    return false;
                }
            }
            true
        }
    }
}

/// Stream a byte range of a file. A file that is shorter than announced aborts the body with an
/// error, so the client sees a broken transfer rather than a silently short part.
async fn send_range(
    path: &PathBuf,
    offset: u64,
    length: u64,
    tx: &mpsc::Sender<Chunk>,
    shutdown: &mut watch::Receiver<bool>,
) -> bool {
    let mut file = match tokio::fs::File::open(path).await {
        Ok(f) => f,
        Err(e) => {
            let _ = send(tx, shutdown, Err(e)).await;
            return false;
        }
    };
    if let Err(e) = file.seek(SeekFrom::Start(offset)).await {
        let _ = send(tx, shutdown, Err(e)).await;
        return false;
    }
    let mut remaining = length;
    while remaining > 0 {
        let want = remaining.min(CHUNK as u64) as usize;
        let mut buf = vec![0u8; want];
        match file.read(&mut buf).await {
            Ok(0) => {
                let e = std::io::Error::new(
                    std::io::ErrorKind::UnexpectedEof,
                    format!("{} is shorter than its index says", path.display()),
                );
                let _ = send(tx, shutdown, Err(e)).await;
                return false;
            }
            Ok(n) => {
                buf.truncate(n);
                remaining -= n as u64;
                if !send(tx, shutdown, Ok(Bytes::from(buf))).await {
                    return false;
                }
            }
            Err(e) => {
                let _ = send(tx, shutdown, Err(e)).await;
                return false;
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    async fn collect(body: MultipartBody) -> Vec<u8> {
        let (_tx, rx) = watch::channel(false);
        let mut stream = body.into_body(rx).into_data_stream();
        let mut out = Vec::new();
        while let Some(chunk) = stream.next().await {
            out.extend_from_slice(&chunk.unwrap());
        }
        out
    }

    #[tokio::test]
    async fn writes_parts_with_lengths_and_close_delimiter() {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut f, b"0123456789").unwrap();
        let body = MultipartBody::new(
            "b".into(),
            vec![
                Part {
                    content_type: "application/octet-stream".into(),
                    source: PartSource::File {
                        path: f.path().to_path_buf(),
                        offset: 2,
                        length: 3,
                    },
                },
                Part {
                    content_type: "application/octet-stream".into(),
                    source: PartSource::Ranges {
                        path: f.path().to_path_buf(),
                        ranges: vec![(0, 1), (9, 1)],
                    },
                },
            ],
        );
        let out = collect(body.clone()).await;
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "--b\r\nContent-Type: application/octet-stream\r\nContent-Length: 3\r\n\r\n234\
             \r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Length: 2\r\n\r\n09\r\n--b--\r\n"
        );
        let truncated = collect(MultipartBody {
            truncate_after_first: true,
            ..body
        })
        .await;
        assert!(truncated.ends_with(b"234"));
    }
}
