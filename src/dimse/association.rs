//! Opening and closing an association as requestor (DICOM PS3.8 §7.1, §7.2, §9.3), every wait
//! bounded, every step written into a [`DimseRecord`] whatever happens.
//!
//! `dicom-ul` does the A-ASSOCIATE exchange; this module adds the bounded waits, tells an
//! A-ASSOCIATE-RJ (a verdict on the peer) from a connection or timeout failure (an Error of the
//! run), and releases with a bounded wait, aborting when the A-RELEASE-RP does not come.
//!
//! Limitation of `dicom-ul` 0.10: it keeps only the accepted presentation contexts of the
//! A-ASSOCIATE-AC, so [`DimseRecord::negotiated`] lists accepted contexts (result 0) and a proposed
//! context missing from it was not accepted, for a reason the record cannot give.

use std::time::{Duration, Instant};

use dicom_ul::association::client::AsyncClientAssociation;
use dicom_ul::association::{Association, AsyncAssociation, Error as UlError};
use dicom_ul::pdu::{
    AbortRQSource, AssociationRJ, AssociationRJResult, AssociationRJServiceProviderASCEReason,
    AssociationRJServiceProviderPresentationReason, AssociationRJServiceUserReason,
    AssociationRJSource, ReadError, UserVariableItem, MAXIMUM_PDU_SIZE, MINIMUM_PDU_SIZE,
};
use dicom_ul::Pdu;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::evidence::dimse::{DimseRecord, NegotiatedContext, ProposedContext, Rejection};
use crate::transport::factory::{self, AssociationSettings};

/// Slack added to the sum of the connect and read timeouts for the whole negotiation.
const SLACK: Duration = Duration::from_secs(1);

/// The remote application entity and the local settings for one association.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    /// Host name or address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Called AE title (the peer's).
    pub called_ae: String,
    /// Calling AE title (the harness's).
    pub calling_ae: String,
    /// Longest wait for the TCP connection.
    pub connect_timeout: Duration,
    /// Longest wait for any PDU (the A-ASSOCIATE response, each DIMSE fragment, the release).
    pub read_timeout: Duration,
    /// Maximum PDU length the harness announces (PS3.8 §D.1), kept within 1018 and
    /// `dicom-ul`'s maximum.
    pub max_pdu: u32,
    /// What the harness accepts from the peer in one operation.
    pub limits: Limits,
    /// DICOM TLS (PS3.15 §B.1); `None`: plain TCP.
    pub tls: Option<PeerTls>,
}

/// The TLS side of a [`Peer`]: the profile's files (read when the association opens), or a
/// client made in memory (the ATNA scenarios' certificates).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerTls {
    /// `[tls]` / `[dimse.tls]` files.
    Files(crate::transport::tls::TlsSettings),
    /// A resolved client.
    Client(crate::transport::tls::ClientTls),
}

/// Bounds on one operation with a peer, so that a hostile or broken answer ends within the time
/// limit with bounded memory: an endless data set, endless pending responses, a slow drip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The longest one whole operation may take, from the connection to the release.
    pub timeout: Duration,
    /// The largest data set of an instance accepted (identifiers: see
    /// [`MAX_IDENTIFIER`](crate::dimse::message::MAX_IDENTIFIER)).
    pub max_data_set: u64,
    /// The most messages read for one request (responses and C-GET sub-operations).
    pub max_messages: usize,
}

impl Default for Limits {
    /// 5 minutes, 1 GiB, 20 000 messages.
    fn default() -> Limits {
        Limits {
            timeout: Duration::from_secs(300),
            max_data_set: crate::dimse::message::DEFAULT_MAX_DATA_SET,
            max_messages: 20_000,
        }
    }
}

impl Peer {
    /// `host:port`.
    pub fn address(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }

    /// `dicom://CALLED@host:port`, the URL recorded in an exchange.
    pub fn url(&self) -> String {
        format!("dicom://{}@{}:{}", self.called_ae, self.host, self.port)
    }
}

/// Why an association could not be used. [`AssociationError::is_verdict`] tells the peer's
/// answers (judged by checks) from failures of the network or the harness (an Error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssociationError {
    /// The peer answered A-ASSOCIATE-RJ.
    #[error("association rejected: {}", .0.text)]
    Rejected(Rejection),
    /// The peer accepted the association but none of the presentation contexts.
    #[error("the peer accepted no presentation context")]
    NoContextAccepted,
    /// The peer broke the upper layer protocol during the negotiation.
    #[error("protocol violation: {0}")]
    Violation(String),
    /// No TCP connection.
    #[error("cannot connect to {address}: {message}")]
    Connect {
        /// `host:port`.
        address: String,
        /// Why.
        message: String,
    },
    /// A bounded wait ran out.
    #[error("{0}")]
    Timeout(String),
    /// The peer aborted or closed the connection during the negotiation.
    #[error("{0}")]
    Aborted(String),
    /// Another failure of the upper layer or of the harness.
    #[error("{0}")]
    Transport(String),
    /// The DICOM TLS connection could not be made (PS3.15 §B.1): the cause in words.
    #[error("{0}")]
    Tls(String),
}

impl AssociationError {
    /// True when the error is the peer's answer (a verdict for the checks), not a failure.
    pub fn is_verdict(&self) -> bool {
        matches!(
            self,
            AssociationError::Rejected(_)
                | AssociationError::NoContextAccepted
                | AssociationError::Violation(_)
        )
    }

    /// The failure kind for [`TransportFailure`](crate::evidence::TransportFailure), `None` for
    /// a verdict.
    pub fn failure_kind(&self) -> Option<&'static str> {
        match self {
            AssociationError::Connect { .. } => Some("connect"),
            AssociationError::Timeout(_) => Some("timeout"),
            AssociationError::Aborted(_) => Some("aborted"),
            AssociationError::Transport(_) => Some("protocol"),
            AssociationError::Tls(_) => Some("tls"),
            _ => None,
        }
    }
}

/// The error and its causes, `: `-separated (`dicom-ul` errors display only their top level).
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.ends_with(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}

/// Map an A-ASSOCIATE-RJ to its numeric result, source and reason (PS3.8 §9.3.4).
pub fn rejection(rj: &AssociationRJ) -> Rejection {
    use AssociationRJServiceProviderASCEReason as Acse;
    use AssociationRJServiceProviderPresentationReason as Pres;
    use AssociationRJServiceUserReason as User;
    let result = match rj.result {
        AssociationRJResult::Permanent => 1,
        AssociationRJResult::Transient => 2,
    };
    let (source, reason, source_text) = match &rj.source {
        AssociationRJSource::ServiceUser(r) => (
            1,
            match r {
                User::NoReasonGiven => 1,
                User::ApplicationContextNameNotSupported => 2,
                User::CallingAETitleNotRecognized => 3,
                User::CalledAETitleNotRecognized => 7,
                User::Reserved(x) => *x,
            },
            "service-user",
        ),
        AssociationRJSource::ServiceProviderASCE(r) => (
            2,
            match r {
                Acse::NoReasonGiven => 1,
                Acse::ProtocolVersionNotSupported => 2,
            },
            "service-provider (ACSE)",
        ),
        AssociationRJSource::ServiceProviderPresentation(r) => (
            3,
            match r {
                Pres::TemporaryCongestion => 1,
                Pres::LocalLimitExceeded => 2,
                Pres::Reserved(x) => *x,
            },
            "service-provider (presentation)",
        ),
    };
    let kind = if result == 1 {
        "permanent"
    } else {
        "transient"
    };
    Rejection {
        result,
        source,
        reason,
        text: format!("{kind}, {source_text}: {}", rj.source),
    }
}

/// The source (and reason) of an A-ABORT in words (PS3.8 §9.3.8).
fn abort_source(source: &AbortRQSource) -> String {
    match source {
        AbortRQSource::ServiceUser => "source: service-user".into(),
        AbortRQSource::Reserved => "source: reserved".into(),
        AbortRQSource::ServiceProvider(reason) => {
            format!("source: service-provider, reason {}", reason.clone() as u8)
        }
    }
}

/// Sort a `dicom-ul` error from the negotiation into verdicts and failures.
fn classify(e: UlError, address: &str) -> AssociationError {
    let chain = error_chain(&e);
    match e {
        UlError::Rejected { association_rj, .. } => {
            AssociationError::Rejected(rejection(&association_rj))
        }
        UlError::NoAcceptedPresentationContexts { .. } => AssociationError::NoContextAccepted,
        UlError::Connect { .. } | UlError::ToAddress { .. } => AssociationError::Connect {
            address: address.to_string(),
            message: chain,
        },
        UlError::Timeout { .. } => AssociationError::Timeout(format!(
            "no connection or no A-ASSOCIATE response from {address} in time ({chain})"
        )),
        UlError::Aborted { .. } => {
            AssociationError::Aborted(format!("{address} aborted the association (A-ABORT)"))
        }
        UlError::UnexpectedPdu { pdu, .. } => match *pdu {
            Pdu::AbortRQ { source } => AssociationError::Aborted(format!(
                "{address} answered the A-ASSOCIATE-RQ with A-ABORT ({})",
                abort_source(&source)
            )),
            other => AssociationError::Violation(format!(
                "{address} answered the A-ASSOCIATE-RQ with {}",
                other.short_description()
            )),
        },
        UlError::UnknownPdu { .. } | UlError::ProtocolVersionMismatch { .. } => {
            AssociationError::Violation(chain)
        }
        UlError::ConnectionClosed { .. } => AssociationError::Aborted(format!(
            "{address} closed the connection without answering the A-ASSOCIATE-RQ"
        )),
        UlError::ReceivePdu { source, .. } => match source {
            ReadError::ReadPdu { .. }
            | ReadError::ReadPduItem { .. }
            | ReadError::ReadPduField { .. }
            | ReadError::ReadReserved { .. } => AssociationError::Transport(chain),
            _ => AssociationError::Violation(chain),
        },
        _ => AssociationError::Transport(chain),
    }
}

/// Open an association with `peer`, proposing `contexts` (abstract syntax, transfer syntaxes;
/// ids 1, 3, 5… in this order) and SCP/SCU `roles` (SOP Class, SCU role, SCP role). `record`
/// receives the peer, the AE titles, the proposal, the negotiated contexts, the maximum PDU
/// lengths and, on failure, the rejection or how the attempt ended.
pub async fn open(
    peer: &Peer,
    contexts: &[(String, Vec<String>)],
    roles: &[(String, bool, bool)],
    record: &mut DimseRecord,
) -> Result<AsyncClientAssociation<TcpStream>, AssociationError> {
    record.peer = peer.address();
    record.calling_ae = peer.calling_ae.clone();
    record.called_ae = peer.called_ae.clone();
    // dicom-ul refuses to read anything with a maximum outside its bounds.
    let max_pdu = peer.max_pdu.clamp(MINIMUM_PDU_SIZE, MAXIMUM_PDU_SIZE);
    record.local_max_pdu = max_pdu;
    record.roles = roles.to_vec();
    record.proposed = contexts
        .iter()
        .enumerate()
        .map(|(i, (a, ts))| ProposedContext {
            id: (2 * i + 1) as u8,
            abstract_syntax: a.clone(),
            transfer_syntaxes: ts.clone(),
        })
        .collect();
    if contexts.is_empty() || contexts.len() > 128 {
        let e = AssociationError::Transport(format!(
            "{} presentation contexts proposed: between 1 and 128 are possible",
            contexts.len()
        ));
        record.ended = format!("not opened: {e}");
        return Err(e);
    }
    // Strict: a PDU longer than the announced maximum is refused rather than buffered whole.
    let mut options = factory::client_association(&AssociationSettings {
        local_ae: peer.calling_ae.clone(),
        peer_ae: Some(peer.called_ae.clone()),
        max_pdu: Some(max_pdu),
        strict: Some(true),
        connect_timeout: Some(peer.connect_timeout),
        read_timeout: peer.read_timeout,
        write_timeout: peer.read_timeout,
    });
    for (abstract_syntax, ts) in contexts {
        options = options.with_presentation_context(abstract_syntax.clone(), ts.clone());
    }
    for (class, scu, scp) in roles {
        options = options.with_role_selection(class.clone(), *scu, *scp);
    }
    let address = peer.address();
    let limit = peer.connect_timeout + peer.read_timeout + SLACK;
    let t0 = Instant::now();
    // DICOM TLS: the handshake first, then the association over its loopback relay.
    let relay = match &peer.tls {
        None => None,
        Some(peer_tls) => {
            let resolved = match peer_tls {
                PeerTls::Files(settings) => {
                    crate::transport::tls::ClientTls::from_settings(settings)
                }
                PeerTls::Client(c) => Ok(c.clone()),
            };
            let tls = match resolved {
                Ok(t) => t,
                Err(e) => {
                    let e = AssociationError::Transport(format!("DICOM TLS configuration: {e}"));
                    record.ended = format!("not opened: {e}");
                    return Err(e);
                }
            };
            use crate::transport::tls::relay::{self, RelayError};
            match relay::connect(
                &peer.host,
                peer.port,
                &tls,
                peer.connect_timeout + peer.read_timeout,
            )
            .await
            {
                Ok(r) => {
                    record.tls = Some(r.record.clone());
                    Some(r)
                }
                Err(e) => {
                    let err = match &e {
                        RelayError::Connect { address, message } => AssociationError::Connect {
                            address: address.clone(),
                            message: message.clone(),
                        },
                        RelayError::Handshake { cause, .. } => {
                            record.tls = Some(crate::transport::tls::TlsRecord {
                                failure: Some(cause.clone()),
                                ..Default::default()
                            });
                            AssociationError::Tls(format!("the TLS handshake failed: {cause}"))
                        }
                        RelayError::Local(m) => AssociationError::Transport(m.clone()),
                    };
                    record.ended = format!("not opened: {err}");
                    return Err(err);
                }
            }
        }
    };
    let target = match &relay {
        Some(r) => (r.local.ip().to_string(), r.local.port()),
        None => (peer.host.clone(), peer.port),
    };
    let outcome = tokio::time::timeout(
        limit,
        options.establish_async((target.0.as_str(), target.1)),
    )
    .await;
    let late_tls = relay.as_ref().and_then(|r| r.late_failure());
    let outcome = match (outcome, late_tls) {
        // TLS 1.3: the server judged the client certificate after the handshake; its alert is
        // the reason the association failed.
        (Ok(Err(_)), Some(cause)) => {
            if let Some(t) = record.tls.as_mut() {
                t.failure = Some(cause.clone());
            }
            let e = AssociationError::Tls(format!("the TLS handshake failed: {cause}"));
            record.ended = format!("not opened: {e}");
            return Err(e);
        }
        (o, _) => o,
    };
    let result = match outcome {
        Err(_) => Err(AssociationError::Timeout(format!(
            "no association with {address} within {} ms",
            limit.as_millis()
        ))),
        Ok(Err(e)) => Err(classify(e, &address)),
        Ok(Ok(mut assoc)) => {
            // Command and data PDUs go out back to back: without TCP_NODELAY, Nagle's algorithm
            // holds each small PDU for the peer's delayed ACK (about 40 ms per message).
            let _ = assoc.inner_stream().set_nodelay(true);
            Ok(assoc)
        }
    };
    match result {
        Ok(assoc) => {
            record.negotiated = NegotiatedContext::all_of(assoc.presentation_contexts());
            // The announced value (0 = unlimited), not dicom-ul's substitute for 0.
            record.peer_max_pdu = assoc
                .user_variables()
                .iter()
                .find_map(|v| match v {
                    UserVariableItem::MaxLength(l) => Some(*l),
                    _ => None,
                })
                .unwrap_or_else(|| assoc.peer_max_pdu_length());
            Ok(assoc)
        }
        Err(e) => {
            record.ended = match &e {
                AssociationError::Rejected(r) => {
                    record.rejection = Some(r.clone());
                    format!("rejected: {}", r.text)
                }
                AssociationError::NoContextAccepted => {
                    "aborted by the harness: no presentation context accepted".into()
                }
                AssociationError::Violation(m) => format!("protocol violation: {m}"),
                AssociationError::Timeout(m) => {
                    format!("timeout after {} ms: {m}", t0.elapsed().as_millis())
                }
                AssociationError::Aborted(m) => format!("aborted by the peer: {m}"),
                AssociationError::Connect { .. }
                | AssociationError::Transport(_)
                | AssociationError::Tls(_) => format!("not opened: {e}"),
            };
            Err(e)
        }
    }
}

/// The item type of the Asynchronous Operations Window Negotiation sub-item (PS3.7 §D.3.3.3,
/// Tables D.3-7 and D.3-8).
pub const ASYNC_WINDOW_ITEM: u8 = 0x53;

/// The Asynchronous Operations Window (PS3.7 §D.3.3.3): how many operations may be outstanding
/// on an association. 0 stands for unlimited; without the sub-item both are 1 (synchronous).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AsyncWindow {
    /// Maximum Number Operations Invoked.
    pub invoked: u16,
    /// Maximum Number Operations Performed.
    pub performed: u16,
}

impl AsyncWindow {
    /// The whole sub-item: type 0x53, a reserved byte, the item length 4, then the two numbers,
    /// big endian (PS3.8 §9.3.1: the fields of the upper layer PDUs are big endian).
    pub fn encode(&self) -> [u8; 8] {
        let [i0, i1] = self.invoked.to_be_bytes();
        let [p0, p1] = self.performed.to_be_bytes();
        [ASYNC_WINDOW_ITEM, 0, 0, 4, i0, i1, p0, p1]
    }

    /// The window from the value of the sub-item (what follows its length field, as `dicom-ul`
    /// keeps an item it does not know: `UserVariableItem::Unknown(0x53, value)`); `None` when
    /// the value is not the 4 bytes the standard gives it.
    pub fn decode(value: &[u8]) -> Option<AsyncWindow> {
        match value {
            [i0, i1, p0, p1] => Some(AsyncWindow {
                invoked: u16::from_be_bytes([*i0, *i1]),
                performed: u16::from_be_bytes([*p0, *p1]),
            }),
            _ => None,
        }
    }

    /// The window among the user information items of an A-ASSOCIATE-AC or -RQ, if present
    /// and well formed.
    pub fn find(items: &[UserVariableItem]) -> Option<AsyncWindow> {
        items.iter().find_map(|v| match v {
            UserVariableItem::Unknown(ASYNC_WINDOW_ITEM, value) => AsyncWindow::decode(value),
            _ => None,
        })
    }

    /// How many requests the association-requestor may have outstanding, given what it
    /// proposed (`proposed_invoked`, 0 = unlimited) and the A-ASSOCIATE-AC's window (`None`:
    /// no sub-item, synchronous). In the A-ASSOCIATE-AC, Maximum Number Operations Invoked is,
    /// for an acceptor in the SCP role, the number of outstanding operations it allows the
    /// requestor to invoke, at most what the requestor proposed (PS3.7 §D.3.3.3, §D.3.3.3.2);
    /// 0 (unlimited) on either side leaves the other's bound, and two unlimited sides are bounded
    /// by `cap`.
    pub fn requestor_limit(
        proposed_invoked: u16,
        granted: Option<AsyncWindow>,
        cap: usize,
    ) -> usize {
        let Some(ac) = granted else {
            return 1;
        };
        let bound = |n: u16| (n != 0).then_some(usize::from(n));
        match (bound(proposed_invoked), bound(ac.invoked)) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => cap,
        }
        .clamp(1, cap.max(1))
    }
}

/// The bounded wait for the peer during close and abort.
fn wait_of(assoc: &AsyncClientAssociation<TcpStream>) -> Duration {
    assoc.read_timeout().unwrap_or(Duration::from_secs(10))
}

/// Release the association (A-RELEASE-RQ, then wait for A-RELEASE-RP within the read timeout;
/// P-DATA still arriving is skipped) and set `record.ended`: `released`, `aborted by the peer`,
/// or, when no A-RELEASE-RP comes in time, `timeout: …` after an abort by the harness.
pub async fn close(mut assoc: AsyncClientAssociation<TcpStream>, record: &mut DimseRecord) {
    let wait = wait_of(&assoc);
    let deadline = tokio::time::Instant::now() + wait;
    if let Err(e) = AsyncAssociation::send(&mut assoc, &Pdu::ReleaseRQ).await {
        record.ended = format!("closed: A-RELEASE-RQ not sent ({})", error_chain(&e));
        let _ = tokio::time::timeout(wait, assoc.inner_stream().shutdown()).await;
        return;
    }
    let mut skipped = 0u32;
    loop {
        let pdu = tokio::time::timeout_at(deadline, AsyncAssociation::receive(&mut assoc)).await;
        match pdu {
            Ok(Ok(Pdu::ReleaseRP)) => {
                record.ended = if skipped == 0 {
                    "released".into()
                } else {
                    format!("released ({skipped} P-DATA-TF skipped while releasing)")
                };
                let _ = tokio::time::timeout(wait, assoc.inner_stream().shutdown()).await;
                return;
            }
            Ok(Ok(Pdu::PData { .. })) => skipped += 1,
            Ok(Ok(Pdu::AbortRQ { source })) => {
                record.ended = format!(
                    "aborted by the peer during release ({})",
                    abort_source(&source)
                );
                return;
            }
            Ok(Ok(other)) => {
                let why = format!(
                    "protocol violation: {} in answer to A-RELEASE-RQ",
                    other.short_description()
                );
                abort(assoc, record, &why).await;
                return;
            }
            Ok(Err(e)) => {
                record.ended = format!(
                    "closed: the connection failed during release ({})",
                    error_chain(&e)
                );
                return;
            }
            Err(_) => {
                let why = format!("timeout: no A-RELEASE-RP within {} ms", wait.as_millis());
                abort(assoc, record, &why).await;
                return;
            }
        }
    }
}

/// Abort the association (A-ABORT, source service-user) and close the connection, with a
/// bounded wait; `record.ended` becomes `{why}; aborted by the harness`.
pub async fn abort(
    mut assoc: AsyncClientAssociation<TcpStream>,
    record: &mut DimseRecord,
    why: &str,
) {
    let wait = wait_of(&assoc);
    let pdu = Pdu::AbortRQ {
        source: AbortRQSource::ServiceUser,
    };
    let _ = tokio::time::timeout(wait, AsyncAssociation::send(&mut assoc, &pdu)).await;
    let _ = tokio::time::timeout(wait, assoc.inner_stream().shutdown()).await;
    record.ended = if why.is_empty() {
        "aborted by the harness".into()
    } else {
        format!("{why}; aborted by the harness")
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejection_codes_follow_ps3_8() {
        let rj = AssociationRJ {
            result: AssociationRJResult::Permanent,
            source: AssociationRJSource::ServiceUser(
                AssociationRJServiceUserReason::CalledAETitleNotRecognized,
            ),
        };
        let r = rejection(&rj);
        assert_eq!((r.result, r.source, r.reason), (1, 1, 7));
        assert!(
            r.text.contains("called AE title not recognized"),
            "{}",
            r.text
        );
        let rj = AssociationRJ {
            result: AssociationRJResult::Transient,
            source: AssociationRJSource::ServiceProviderPresentation(
                AssociationRJServiceProviderPresentationReason::TemporaryCongestion,
            ),
        };
        assert_eq!(
            (
                rejection(&rj).result,
                rejection(&rj).source,
                rejection(&rj).reason
            ),
            (2, 3, 1)
        );
    }

    #[test]
    fn verdicts_are_not_failures() {
        assert!(AssociationError::NoContextAccepted.is_verdict());
        assert_eq!(AssociationError::NoContextAccepted.failure_kind(), None);
        let t = AssociationError::Timeout("x".into());
        assert!(!t.is_verdict());
        assert_eq!(t.failure_kind(), Some("timeout"));
    }

    #[test]
    fn async_window_sub_item_round_trips() {
        let w = AsyncWindow {
            invoked: 16,
            performed: 0x0102,
        };
        let item = w.encode();
        // PS3.7 Table D.3-7: type, reserved, length 4, invoked, performed (big endian).
        assert_eq!(item, [0x53, 0, 0, 4, 0, 16, 1, 2]);
        assert_eq!(AsyncWindow::decode(&item[4..]), Some(w));
        assert_eq!(AsyncWindow::decode(&item[3..]), None, "a wrong length");
        assert_eq!(AsyncWindow::decode(&[]), None);
        let items = vec![
            UserVariableItem::MaxLength(16384),
            UserVariableItem::Unknown(0x53, item[4..].to_vec()),
        ];
        assert_eq!(AsyncWindow::find(&items), Some(w));
        assert_eq!(AsyncWindow::find(&items[..1]), None);
    }

    #[test]
    fn the_requestor_limit_follows_the_acceptors_window() {
        let ac = |invoked, performed| Some(AsyncWindow { invoked, performed });
        // No sub-item in the AC: synchronous (PS3.7 §D.3.3.3).
        assert_eq!(AsyncWindow::requestor_limit(8, None, 64), 1);
        assert_eq!(AsyncWindow::requestor_limit(8, ac(4, 1), 64), 4);
        assert_eq!(AsyncWindow::requestor_limit(8, ac(0, 1), 64), 8);
        assert_eq!(AsyncWindow::requestor_limit(0, ac(0, 1), 64), 64);
        assert_eq!(AsyncWindow::requestor_limit(8, ac(1, 8), 64), 1);
    }

    #[tokio::test]
    async fn nothing_listening_is_a_connect_error() {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let peer = Peer {
            host: "127.0.0.1".into(),
            port,
            called_ae: "ANY".into(),
            calling_ae: "HARNESS".into(),
            connect_timeout: Duration::from_secs(2),
            read_timeout: Duration::from_secs(2),
            max_pdu: 16384,
            limits: Limits::default(),
            tls: None,
        };
        let mut rec = DimseRecord::default();
        let ctx = vec![(
            "1.2.840.10008.1.1".to_string(),
            vec!["1.2.840.10008.1.2".to_string()],
        )];
        let e = open(&peer, &ctx, &[], &mut rec).await.unwrap_err();
        assert_eq!(e.failure_kind(), Some("connect"), "{e}");
        assert_eq!(rec.proposed[0].id, 1);
        assert!(rec.ended.starts_with("not opened"), "{}", rec.ended);
    }
}
