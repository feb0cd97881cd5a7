//! DICOM TLS (PS3.15 §B.1: the association runs over a TLS connection) for the harness's DIMSE
//! code, both roles.
//!
//! `dicom-ul` 0.10 negotiates an association over a `TcpStream` it opens or is given, and the
//! harness's DIMSE code is written against that type. Rather than fork both, TLS is terminated
//! next to it, the way `stunnel` sits in front of many PACS: the TLS connection to (or from) the
//! peer is made here, with the harness's own certificates, verification, cause names and records,
//! and its plaintext is relayed over a loopback TCP connection to the unchanged association code.
//! On the wire towards the SUT it is DICOM over TLS; inside the process the bytes take one more
//! hop through loopback.
//!
//! - [`connect`]: the SCU side. The handshake completes (or fails with its cause) before the
//!   association is requested; the loopback port it returns takes the plain association. A TLS
//!   failure that only shows after the handshake (TLS 1.3 servers judge the client certificate
//!   after the client's Finished) is kept in [`ClientRelay::late_failure`].
//! - [`serve`]: the SCP side. Each TLS connection accepted on the public listener is
//!   handshaken (recorded in a [`HandshakeLog`]) and relayed to the plain SCP listening on
//!   loopback; [`Relayed`] tells the SCP, by the loopback address of the relay's connection, who
//!   the real peer was and what it presented.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::pki_types::ServerName;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio_rustls::{TlsAcceptor, TlsConnector};

use super::certs::TlsRecord;
use super::listener::{handshake, HandshakeLog, HANDSHAKE_TIMEOUT};
use super::ClientTls;

/// Why the TLS connection to the peer could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RelayError {
    /// No TCP connection.
    #[error("cannot connect to {address}: {message}")]
    Connect {
        /// `host:port`.
        address: String,
        /// Why.
        message: String,
    },
    /// The TLS handshake failed.
    #[error("the TLS handshake with {address} failed: {cause}")]
    Handshake {
        /// `host:port`.
        address: String,
        /// Why, in words (unknown CA, name mismatch, expired, alert).
        cause: String,
    },
    /// The configuration or the loopback side failed.
    #[error("{0}")]
    Local(String),
}

/// The TLS connection of an SCU, relayed to a loopback port.
#[derive(Debug)]
pub struct ClientRelay {
    /// Where the plain association connects.
    pub local: SocketAddr,
    /// The session: version, suite, the peer's certificates, the one the harness presented.
    pub record: TlsRecord,
    late: Arc<Mutex<Option<String>>>,
}

impl ClientRelay {
    /// A TLS failure that came after the handshake (an alert on the first read).
    pub fn late_failure(&self) -> Option<String> {
        self.late.lock().ok().and_then(|g| g.clone())
    }
}

/// Connect to `host:port` over TLS with `tls`, then relay it to a fresh loopback port that accepts
/// one connection within `timeout`.
pub async fn connect(
    host: &str,
    port: u16,
    tls: &ClientTls,
    timeout: Duration,
) -> Result<ClientRelay, RelayError> {
    crate::transport::install_crypto_provider();
    let address = format!("{host}:{port}");
    let config = tls.config().map_err(|e| RelayError::Local(e.to_string()))?;
    let name = ServerName::try_from(tls.name_for(host))
        .map_err(|e| RelayError::Local(format!("{host} is not a server name: {e}")))?;
    let tcp = match tokio::time::timeout(timeout, TcpStream::connect((host, port))).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            return Err(RelayError::Connect {
                address,
                message: e.to_string(),
            })
        }
        Err(_) => {
            return Err(RelayError::Connect {
                address,
                message: format!("no TCP connection within {} ms", timeout.as_millis()),
            })
        }
    };
    let _ = tcp.set_nodelay(true);
    let connector = TlsConnector::from(Arc::new(config));
    let stream = match tokio::time::timeout(timeout, connector.connect(name, tcp)).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            return Err(RelayError::Handshake {
                address,
                cause: super::cause_in_chain(&e).unwrap_or_else(|| e.to_string()),
            })
        }
        Err(_) => {
            return Err(RelayError::Handshake {
                address,
                cause: format!(
                    "timeout: no completed handshake within {} ms",
                    timeout.as_millis()
                ),
            })
        }
    };
    let mut record = TlsRecord::of_connection(stream.get_ref().1);
    record.server_name = Some(tls.name_for(host));
    record.own_certificate = tls
        .identity
        .as_ref()
        .and_then(|i| i.chain.first())
        .map(|c| super::certs::summarize(c));
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| RelayError::Local(format!("loopback relay: {e}")))?;
    let local = listener
        .local_addr()
        .map_err(|e| RelayError::Local(format!("loopback relay: {e}")))?;
    let late = Arc::new(Mutex::new(None));
    let late_task = late.clone();
    tokio::spawn(async move {
        let Ok(Ok((mut plain, _))) = tokio::time::timeout(timeout, listener.accept()).await else {
            return;
        };
        let _ = plain.set_nodelay(true);
        let mut stream = stream;
        if let Err(e) = tokio::io::copy_bidirectional(&mut plain, &mut stream).await {
            if let Some(cause) = super::cause_in_chain(&e) {
                if let Ok(mut g) = late_task.lock() {
                    *g = Some(cause);
                }
            }
        }
    });
    Ok(ClientRelay {
        local,
        record,
        late,
    })
}

/// Who came through the SCP relay: by the loopback address of the relay's connection to the
/// plain SCP, the real peer and its TLS session.
#[derive(Debug, Default)]
pub struct Relayed {
    map: Mutex<HashMap<SocketAddr, (SocketAddr, TlsRecord)>>,
}

impl Relayed {
    /// The real peer and TLS session behind a loopback connection, taken out of the table.
    pub fn take(&self, loopback: &SocketAddr) -> Option<(SocketAddr, TlsRecord)> {
        self.map.lock().ok().and_then(|mut m| m.remove(loopback))
    }

    fn put(&self, loopback: SocketAddr, peer: SocketAddr, tls: TlsRecord) {
        if let Ok(mut m) = self.map.lock() {
            // A peer that never sends anything leaves its entry; keep the table bounded.
            if m.len() > 10_000 {
                m.clear();
            }
            m.insert(loopback, (peer, tls));
        }
    }
}

/// Accept TLS connections on `public`, handshake each (recorded in `log`), and relay it to the
/// plain SCP at `plain`, telling it who came through `relayed`. Runs until `public` fails for
/// good or the task is dropped.
pub async fn serve(
    public: TcpListener,
    config: Arc<rustls::ServerConfig>,
    plain: SocketAddr,
    log: Arc<HandshakeLog>,
    relayed: Arc<Relayed>,
) {
    let acceptor = TlsAcceptor::from(config);
    loop {
        let (sock, remote) = match public.accept().await {
            Ok(x) => x,
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let acceptor = acceptor.clone();
        let log = log.clone();
        let relayed = relayed.clone();
        tokio::spawn(async move {
            let _ = sock.set_nodelay(true);
            let Some(mut tls) = handshake(&acceptor, sock, remote, &log, HANDSHAKE_TIMEOUT).await
            else {
                return;
            };
            let record = log
                .all()
                .into_iter()
                .rev()
                .find(|h| h.remote == remote.to_string())
                .map(|h| h.tls)
                .unwrap_or_default();
            let Ok(socket) = TcpSocket::new_v4() else {
                return;
            };
            if socket.bind(SocketAddr::from(([127, 0, 0, 1], 0))).is_err() {
                return;
            }
            let Ok(loopback) = socket.local_addr() else {
                return;
            };
            relayed.put(loopback, remote, record);
            let Ok(mut inner) = socket.connect(plain).await else {
                return;
            };
            let _ = inner.set_nodelay(true);
            let _ = tokio::io::copy_bidirectional(&mut tls, &mut inner).await;
        });
    }
}
