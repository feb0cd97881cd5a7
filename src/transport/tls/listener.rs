//! A TLS listener for the harness's HTTP servers (the embedded reference and `serve`): it accepts
//! TCP connections, runs each handshake in its own task (a slow or silent client holds up no one),
//! hands completed connections to `axum`, and records every handshake, completed or failed, with
//! the certificates the client presented, for the evidence and for the ATNA checks ("did the
//! client go on after being shown a bad certificate?").

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

use super::certs::TlsRecord;

/// The longest a client may take to complete its handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// One handshake a client attempted.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Handshake {
    /// The client's address.
    pub remote: String,
    /// When the connection was accepted (RFC 3339).
    pub at: String,
    /// What was negotiated and presented, or why it failed.
    pub tls: TlsRecord,
}

impl Handshake {
    /// Whether the handshake completed.
    pub fn completed(&self) -> bool {
        self.tls.failure.is_none()
    }
}

/// The handshakes seen by one listener, in order.
#[derive(Debug, Default)]
pub struct HandshakeLog {
    entries: Mutex<Vec<Handshake>>,
}

/// At most this many handshakes are kept (a load run or a scanner must not grow memory).
const MAX_KEPT: usize = 10_000;

impl HandshakeLog {
    fn push(&self, h: Handshake) {
        if let Ok(mut v) = self.entries.lock() {
            if v.len() < MAX_KEPT {
                v.push(h);
            }
        }
    }

    /// Every handshake so far.
    pub fn all(&self) -> Vec<Handshake> {
        self.entries.lock().map(|v| v.clone()).unwrap_or_default()
    }

    /// The handshakes after the first `from`.
    pub fn since(&self, from: usize) -> Vec<Handshake> {
        self.entries
            .lock()
            .map(|v| v.iter().skip(from).cloned().collect())
            .unwrap_or_default()
    }

    /// How many handshakes were seen.
    pub fn len(&self) -> usize {
        self.entries.lock().map(|v| v.len()).unwrap_or(0)
    }

    /// Whether none was seen.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Run one server-side handshake on an accepted connection, bounded, and record it.
pub async fn handshake(
    acceptor: &TlsAcceptor,
    tcp: TcpStream,
    remote: SocketAddr,
    log: &HandshakeLog,
    timeout: Duration,
) -> Option<TlsStream<TcpStream>> {
    let at = crate::evidence::now_rfc3339();
    let outcome = tokio::time::timeout(timeout, acceptor.accept(tcp)).await;
    let (stream, tls) = match outcome {
        Ok(Ok(s)) => {
            let (_, conn) = s.get_ref();
            let mut rec = TlsRecord::of_connection(conn);
            rec.server_name = conn.server_name().map(str::to_string);
            (Some(s), rec)
        }
        Ok(Err(e)) => (
            None,
            TlsRecord {
                failure: Some(
                    super::cause_in_chain(&e).unwrap_or_else(|| format!("TLS handshake: {e}")),
                ),
                ..TlsRecord::default()
            },
        ),
        Err(_) => (
            None,
            TlsRecord {
                failure: Some(format!(
                    "timeout: the client did not complete the TLS handshake within {} ms",
                    timeout.as_millis()
                )),
                ..TlsRecord::default()
            },
        ),
    };
    log.push(Handshake {
        remote: remote.to_string(),
        at,
        tls,
    });
    stream
}

/// A TLS listener `axum::serve` can run on.
pub struct TlsListener {
    incoming: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
    log: Arc<HandshakeLog>,
}

impl std::fmt::Debug for TlsListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsListener")
            .field("local", &self.local)
            .finish()
    }
}

impl TlsListener {
    /// Wrap a bound TCP listener: every accepted connection gets a TLS handshake with `config`.
    pub fn new(
        tcp: TcpListener,
        config: Arc<rustls::ServerConfig>,
    ) -> std::io::Result<TlsListener> {
        let local = tcp.local_addr()?;
        let log = Arc::new(HandshakeLog::default());
        let (tx, rx) = mpsc::channel(64);
        let acceptor = TlsAcceptor::from(config);
        let task_log = log.clone();
        tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    a = tcp.accept() => a,
                    _ = tx.closed() => break,
                };
                let (sock, remote) = match accepted {
                    Ok(x) => x,
                    Err(_) => {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let acceptor = acceptor.clone();
                let log = task_log.clone();
                let tx = tx.clone();
                tokio::spawn(async move {
                    if let Some(s) =
                        handshake(&acceptor, sock, remote, &log, HANDSHAKE_TIMEOUT).await
                    {
                        let _ = tx.send((s, remote)).await;
                    }
                });
            }
        });
        Ok(TlsListener {
            incoming: rx,
            local,
            log,
        })
    }

    /// The handshakes this listener has seen.
    pub fn log(&self) -> Arc<HandshakeLog> {
        self.log.clone()
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.incoming.recv().await {
            Some(x) => x,
            // The accepting task ended: nothing will come any more.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}
