//! The reference's DIMSE SCP: association negotiation, the message loop, Verification (PS3.4
//! Annex A) and Storage (PS3.4 Annex B); Query/Retrieve is in [`super::query_retrieve`], and what
//! every service does on an association (messages, evidence, C-CANCEL) in [`super::session`].
//!
//! It serves two purposes, like the XDS actors of [`crate::reference::xds`]. As the default system under
//! test it answers the harness's DIMSE SCU strictly by the text (DICOM 2024 edition, PS3.4, PS3.7,
//! PS3.8). As a simulator it receives what a SUT acting as SCU sends (C-STORE of new instances,
//! C-FIND/C-MOVE/C-GET of the fixtures): every DIMSE operation is recorded as an inbound
//! [`Exchange`](crate::evidence::Exchange) in the same [`Inbox`](crate::evidence::inbox::Inbox) the XDS endpoints feed, with a
//! [`DimseRecord`] holding the negotiation and the messages, and each association is recorded
//! once more when it ends, with how it ended.
//!
//! Negotiation: only the called AE title of the reference is accepted (PS3.8 9.3.4: otherwise
//! A-ASSOCIATE-RJ, permanent, source 1 service-user, reason 7 called-AE-title-not-recognized).
//! Accepted abstract syntaxes are Verification, the six Patient/Study Root FIND/MOVE/GET SOP
//! Classes and [`STORAGE_SOP_CLASSES`]; for each context the first proposed transfer syntax that
//! is one of [`TRANSFER_SYNTAXES`] is accepted (PS3.8 9.3.3.2: exactly one per context). The SCP
//! role of a storage SOP Class is granted when the requestor asks for it (PS3.7 D.3.3.4), which
//! C-GET needs.
//!
//! Protocol errors: a message on a presentation context that was not accepted ends the
//! association with A-ABORT (source service-provider, reason 6 unexpected-PDU-parameter; PS3.8
//! 9.3.5.1 allows only accepted context ids and PS3.8 9.2 state table action AA-8 aborts); a request
//! whose command field is unknown, or is not a service of the context's SOP Class, is answered
//! with status 0211 Unrecognized Operation (PS3.7 Annex C.5); a request whose Affected SOP Class
//! UID is not the context's abstract syntax with 0122 SOP Class Not Supported (PS3.7 Annex C.5).
//! Every read has the configured timeout: a peer that stalls mid-association is aborted within it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use dicom_core::Tag;
use dicom_dictionary_std::{tags, uids};
use dicom_encoding::TransferSyntaxIndex;
use dicom_object::FileMetaTableBuilder;
use dicom_transfer_syntax_registry::TransferSyntaxRegistry;
use dicom_ul::association::server::{AccessControl, Negotiation};
use dicom_ul::association::AsyncAssociation;
use dicom_ul::pdu::{
    AbortRQServiceProviderReason, AbortRQSource, AssociationRJServiceUserReason, AssociationRQ,
    RequestorRoles, UserIdentity, UserVariableItem,
};
use dicom_ul::Pdu;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

use crate::dimse::command::{field, status, Command};
use crate::dimse::message::{DataSet, DimseError, Outgoing, ReceiveOptions, Received};
use crate::evidence::dimse::{DimseRecord, NegotiatedContext, ProposedContext};
use crate::evidence::{Body, Direction};
use crate::reference::dimse::query_retrieve;
pub use crate::reference::dimse::session::DimseConfig;
use crate::reference::dimse::session::{
    dimse_exchange, now_rfc3339, rejection_of, until_shutdown, Context, ExchangeParts, OpStart,
    Outcome, Session, Summary,
};
use crate::reference::faults::Fault;
use crate::reference::state::Shared;
use crate::transport::factory::{self, AssociationSettings};
use crate::transport::http::shell_quote;

/// The reference SCP's default AE title.
pub const DEFAULT_AE_TITLE: &str = "IHE_REFERENCE";

/// Default longest wait for one PDU from a peer.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// How much longer than the DIMSE timeout the upper layer waits.
const UL_TIMEOUT_MARGIN: Duration = Duration::from_secs(2);

/// Maximum PDU length the SCP announces.
const MAX_PDU: u32 = 65_536;

/// Bytes of a request data set kept in an exchange's request body.
const KEEP_BODY: usize = 64 * 1024;

/// The largest A-ASSOCIATE-RQ the SCP peeks at for its evidence.
const MAX_ASSOCIATE_RQ: usize = 1024 * 1024;

/// Storage SOP Classes the SCP accepts: those of the fixtures and the common image, SR and
/// document classes (PS3.4 B.5).
pub const STORAGE_SOP_CLASSES: &[&str] = &[
    uids::COMPUTED_RADIOGRAPHY_IMAGE_STORAGE,
    uids::DIGITAL_X_RAY_IMAGE_STORAGE_FOR_PRESENTATION,
    uids::DIGITAL_X_RAY_IMAGE_STORAGE_FOR_PROCESSING,
    uids::DIGITAL_MAMMOGRAPHY_X_RAY_IMAGE_STORAGE_FOR_PRESENTATION,
    uids::DIGITAL_MAMMOGRAPHY_X_RAY_IMAGE_STORAGE_FOR_PROCESSING,
    uids::CT_IMAGE_STORAGE,
    uids::ENHANCED_CT_IMAGE_STORAGE,
    uids::MR_IMAGE_STORAGE,
    uids::ENHANCED_MR_IMAGE_STORAGE,
    uids::ULTRASOUND_IMAGE_STORAGE,
    uids::ULTRASOUND_MULTI_FRAME_IMAGE_STORAGE,
    uids::SECONDARY_CAPTURE_IMAGE_STORAGE,
    uids::MULTI_FRAME_SINGLE_BIT_SECONDARY_CAPTURE_IMAGE_STORAGE,
    uids::MULTI_FRAME_GRAYSCALE_BYTE_SECONDARY_CAPTURE_IMAGE_STORAGE,
    uids::MULTI_FRAME_GRAYSCALE_WORD_SECONDARY_CAPTURE_IMAGE_STORAGE,
    uids::MULTI_FRAME_TRUE_COLOR_SECONDARY_CAPTURE_IMAGE_STORAGE,
    uids::NUCLEAR_MEDICINE_IMAGE_STORAGE,
    uids::POSITRON_EMISSION_TOMOGRAPHY_IMAGE_STORAGE,
    uids::X_RAY_ANGIOGRAPHIC_IMAGE_STORAGE,
    uids::X_RAY_RADIOFLUOROSCOPIC_IMAGE_STORAGE,
    uids::RT_IMAGE_STORAGE,
    uids::VL_PHOTOGRAPHIC_IMAGE_STORAGE,
    uids::GRAYSCALE_SOFTCOPY_PRESENTATION_STATE_STORAGE,
    uids::BASIC_TEXT_SR_STORAGE,
    uids::ENHANCED_SR_STORAGE,
    uids::COMPREHENSIVE_SR_STORAGE,
    uids::KEY_OBJECT_SELECTION_DOCUMENT_STORAGE,
    uids::ENCAPSULATED_PDF_STORAGE,
];

/// Transfer syntaxes the SCP accepts: the uncompressed little endian ones and those the fixtures
/// are stored in, plus the other common lossless and lossy image compressions. Deflate and the
/// retired big endian syntax are not accepted.
pub const TRANSFER_SYNTAXES: &[&str] = &[
    uids::EXPLICIT_VR_LITTLE_ENDIAN,
    uids::IMPLICIT_VR_LITTLE_ENDIAN,
    uids::JPEG_BASELINE8_BIT,
    uids::JPEG_EXTENDED12_BIT,
    uids::JPEG_LOSSLESS,
    uids::JPEG_LOSSLESS_SV1,
    uids::JPEGLS_LOSSLESS,
    uids::JPEGLS_NEAR_LOSSLESS,
    uids::JPEG2000_LOSSLESS,
    uids::JPEG2000,
    uids::RLE_LOSSLESS,
];

/// The Query/Retrieve SOP Classes the SCP provides (PS3.4 C.6.1, C.6.2).
pub const QR_SOP_CLASSES: &[&str] = &[
    uids::PATIENT_ROOT_QUERY_RETRIEVE_INFORMATION_MODEL_FIND,
    uids::PATIENT_ROOT_QUERY_RETRIEVE_INFORMATION_MODEL_MOVE,
    uids::PATIENT_ROOT_QUERY_RETRIEVE_INFORMATION_MODEL_GET,
    uids::STUDY_ROOT_QUERY_RETRIEVE_INFORMATION_MODEL_FIND,
    uids::STUDY_ROOT_QUERY_RETRIEVE_INFORMATION_MODEL_MOVE,
    uids::STUDY_ROOT_QUERY_RETRIEVE_INFORMATION_MODEL_GET,
];

/// The running DIMSE listener of a reference server.
#[derive(Debug)]
pub struct DimseListener {
    addr: SocketAddr,
    task: JoinHandle<()>,
    relay: Option<JoinHandle<()>>,
    handshakes: Option<Arc<crate::transport::tls::listener::HandshakeLog>>,
}

impl DimseListener {
    /// Bind and start accepting associations; the listener and every association stop when the
    /// server's shutdown signal turns true.
    pub async fn start(
        bind: SocketAddr,
        state: Shared,
        mut config: DimseConfig,
    ) -> std::io::Result<DimseListener> {
        let public = TcpListener::bind(bind).await?;
        let addr = public.local_addr()?;
        // A destination given with port 0 is this SCP itself, at the address it was given.
        for dest in config.move_destinations.values_mut() {
            if dest.port() == 0 {
                *dest = addr;
            }
        }
        // DICOM TLS: the public listener handshakes and relays each connection to the plain SCP
        // on loopback (see `transport::tls::relay`).
        let (listener, relay, handshakes) = match config.tls.clone() {
            None => (public, None, None),
            Some(tls) => {
                let plain = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
                let plain_addr = plain.local_addr()?;
                let log = Arc::new(crate::transport::tls::listener::HandshakeLog::default());
                let relay = tokio::spawn(crate::transport::tls::relay::serve(
                    public,
                    tls,
                    plain_addr,
                    log.clone(),
                    config.relayed.clone(),
                ));
                (plain, Some(relay), Some(log))
            }
        };
        let task = tokio::spawn(accept_loop(listener, state, Arc::new(config)));
        Ok(DimseListener {
            addr,
            task,
            relay,
            handshakes,
        })
    }

    /// The TLS handshakes clients attempted, when the SCP speaks DICOM TLS.
    pub fn handshakes(&self) -> Option<Arc<crate::transport::tls::listener::HandshakeLog>> {
        self.handshakes.clone()
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Wait up to `grace` for the listener and its associations to end (after the shutdown
    /// signal), then drop them.
    pub async fn stopped(self, grace: Duration) {
        if let Some(r) = &self.relay {
            r.abort();
        }
        let mut task = self.task;
        if tokio::time::timeout(grace, &mut task).await.is_err() {
            task.abort();
        }
    }
}

async fn accept_loop(listener: TcpListener, state: Shared, config: Arc<DimseConfig>) {
    let mut shutdown = state.shutdown_signal();
    let mut tasks = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((socket, peer)) => {
                    tasks.spawn(association(socket, peer, state.clone(), config.clone()));
                }
                // A failed accept (descriptor exhaustion) must not end the listener.
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            },
            _ = until_shutdown(&mut shutdown) => break,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
        }
    }
    drop(listener);
    // Associations see the same signal and abort; wait for them to record how they ended.
    while tasks.join_next().await.is_some() {}
}

/// Access control: the called AE title must be the SCP's (PS3.8 9.3.4, reason 7), unless the
/// `dimse-accept-any-ae` fault is on.
struct CalledAeTitle {
    accept_any: bool,
}

impl AccessControl for CalledAeTitle {
    fn check_access(
        &self,
        this_ae_title: &str,
        _calling_ae_title: &str,
        called_ae_title: &str,
        _user_identity: Option<&UserIdentity>,
    ) -> Result<(), AssociationRJServiceUserReason> {
        if self.accept_any || ae_title(this_ae_title) == ae_title(called_ae_title) {
            Ok(())
        } else {
            Err(AssociationRJServiceUserReason::CalledAETitleNotRecognized)
        }
    }
}

/// Role selection: a requestor may take the SCP role for a storage SOP Class (for C-GET); the
/// roles it asks for are granted as asked (PS3.7 D.3.3.4). Other SOP Classes get no role item, so
/// the defaults apply.
struct StorageRoles;

impl Negotiation for StorageRoles {
    fn negotiate_roles(
        &self,
        sop_class_uid: &str,
        scu_role: bool,
        scp_role: bool,
    ) -> Option<RequestorRoles> {
        STORAGE_SOP_CLASSES
            .contains(&trim_uid(sop_class_uid))
            .then_some(RequestorRoles {
                scu: scu_role,
                scp: scp_role,
            })
    }
}

/// An AE title without its padding. PS3.8 §9.3.2 pads AE titles with spaces, which are not
/// significant; some SCUs pad with NUL bytes instead, which the SCP accepts alike rather than
/// refuse an association over padding.
pub(crate) fn ae_title(title: &str) -> &str {
    title.trim_matches(|c: char| c == ' ' || c == '\0')
}

/// An AE title as a message shows it: its text, and how many NUL bytes padded it, if any.
fn shown_ae(title: &str) -> String {
    let nuls = title.bytes().filter(|b| *b == 0).count();
    match nuls {
        0 => format!("`{}`", ae_title(title)),
        n => format!("`{}` (padded with {n} NUL bytes)", ae_title(title)),
    }
}

fn trim_uid(uid: &str) -> &str {
    uid.trim_end_matches(['\0', ' '])
}

/// What the first bytes of a connection were.
enum Peeked {
    /// An A-ASSOCIATE-RQ, left on the socket for the acceptor.
    Request(Box<AssociationRQ>),
    /// Something else: the acceptor answers it.
    Other,
    /// Nothing within the timeout, or the peer closed.
    Nothing,
}

/// Peek at the A-ASSOCIATE-RQ without consuming it, so that the proposed contexts and roles can
/// be recorded (dicom-ul's acceptor keeps only the negotiated ones).
async fn peek_associate_rq(socket: &TcpStream, timeout: Duration) -> Peeked {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut buf = vec![0u8; 4096];
    loop {
        let n = match tokio::time::timeout_at(deadline, socket.peek(&mut buf)).await {
            Ok(Ok(n)) => n,
            _ => return Peeked::Nothing,
        };
        if n == 0 {
            return Peeked::Nothing;
        }
        if n >= 6 {
            if buf[0] != 0x01 {
                return Peeked::Other;
            }
            let want = 6 + u32::from_be_bytes([buf[2], buf[3], buf[4], buf[5]]) as usize;
            if want > MAX_ASSOCIATE_RQ {
                return Peeked::Other;
            }
            if buf.len() < want {
                buf.resize(want, 0);
                continue;
            }
            if n >= want {
                return match dicom_ul::read_pdu(
                    &buf[..want],
                    dicom_ul::pdu::MAXIMUM_PDU_SIZE,
                    false,
                ) {
                    Ok(Some(Pdu::AssociationRQ(rq))) => Peeked::Request(Box::new(rq)),
                    _ => Peeked::Other,
                };
            }
        }
        if tokio::time::Instant::now() >= deadline {
            return Peeked::Nothing;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// One association, from the A-ASSOCIATE-RQ to its end.
async fn association(socket: TcpStream, peer: SocketAddr, state: Shared, config: Arc<DimseConfig>) {
    let t0 = Instant::now();
    let started_at = now_rfc3339();
    let local = socket
        .local_addr()
        .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 0)));
    let peeked = peek_associate_rq(&socket, config.timeout).await;
    // Through the TLS relay: the real peer and what it presented.
    let (peer, tls) = match config.relayed.take(&peer) {
        Some((real, tls)) => (real, Some(tls)),
        None => (peer, None),
    };
    let mut record = DimseRecord {
        peer: peer.to_string(),
        local_max_pdu: MAX_PDU,
        tls,
        ..DimseRecord::default()
    };
    if let Peeked::Nothing = peeked {
        // A peer that connects and says nothing is dropped within the timeout; there is no
        // association to record.
        return;
    }
    // The AE titles as the peer sent them (for the reason of a refusal).
    let mut raw_called = String::new();
    if let Peeked::Request(rq) = &peeked {
        raw_called = rq.called_ae_title.clone();
        record.calling_ae = ae_title(&rq.calling_ae_title).to_string();
        record.called_ae = ae_title(&rq.called_ae_title).to_string();
        record.proposed = rq
            .presentation_contexts
            .iter()
            .map(|pc| ProposedContext {
                id: pc.id,
                abstract_syntax: trim_uid(&pc.abstract_syntax).to_string(),
                transfer_syntaxes: pc
                    .transfer_syntaxes
                    .iter()
                    .map(|t| trim_uid(t).to_string())
                    .collect(),
            })
            .collect();
        for uv in &rq.user_variables {
            match uv {
                UserVariableItem::ScuScpRoleSelectionSubItem(uid, roles) => {
                    record
                        .roles
                        .push((trim_uid(uid).to_string(), roles.scu, roles.scp));
                }
                UserVariableItem::MaxLength(l) => record.peer_max_pdu = *l,
                _ => {}
            }
        }
    }
    let mut options = factory::server_association(&AssociationSettings {
        local_ae: config.ae_title.clone(),
        peer_ae: None,
        max_pdu: Some(MAX_PDU),
        strict: None,
        connect_timeout: None,
        // The message layer's own per-PDU timeout must fire first, to end the association with
        // an A-ABORT; the upper layer's bounds negotiation and writes.
        read_timeout: config.timeout + UL_TIMEOUT_MARGIN,
        write_timeout: config.timeout + UL_TIMEOUT_MARGIN,
    })
    .ae_access_control(CalledAeTitle {
        accept_any: state.has(Fault::DimseAcceptAnyAe),
    })
    .with_negotiation(StorageRoles);
    if !state.has(Fault::DimseRefuseVerification) {
        options = options.with_abstract_syntax(uids::VERIFICATION);
    }
    if state.has(Fault::DimseAcceptUnknownClass) {
        // Accept any abstract syntax, including SOP classes the SCP cannot serve.
        options = options.promiscuous(true);
    }
    for uid in QR_SOP_CLASSES.iter().chain(STORAGE_SOP_CLASSES) {
        options = options.with_abstract_syntax(*uid);
    }
    for ts in TRANSFER_SYNTAXES {
        options = options.with_transfer_syntax(*ts);
    }
    let url = format!(
        "dicom://{}@{}",
        if record.called_ae.is_empty() {
            config.ae_title.as_str()
        } else {
            record.called_ae.as_str()
        },
        local
    );
    let _ = socket.set_nodelay(true);
    match options.establish_async(socket).await {
        Ok(assoc) => {
            record.negotiated = NegotiatedContext::all_of(assoc.presentation_contexts());
            record.peer_max_pdu = assoc.requestor_max_pdu_length();
            if record.calling_ae.is_empty() {
                record.calling_ae =
                    ae_title(dicom_ul::association::Association::peer_ae_title(&assoc)).to_string();
                record.called_ae = ae_title(assoc.called_ae_title()).to_string();
            }
            let recv = ReceiveOptions {
                spool: state.spool().dir().to_path_buf(),
                ..ReceiveOptions::new(config.timeout)
            };
            let session = Session {
                shutdown: state.shutdown_signal(),
                assoc,
                state,
                config,
                t0,
                started_at,
                record,
                recv,
                next_id: 0,
                url,
                local,
            };
            session.run().await;
        }
        Err(e) => {
            // Why, in words: the refusal must be readable in the scenario that expected the
            // association, not only as a closed connection.
            record.ended = match &e {
                dicom_ul::association::Error::Rejected { association_rj, .. } => {
                    let rj = rejection_of(association_rj);
                    let why = match (rj.source, rj.reason) {
                        (1, 7) => format!(
                            "the called AE title {} is not this SCP's `{}`",
                            shown_ae(&raw_called),
                            config.ae_title
                        ),
                        _ => rj.text.clone(),
                    };
                    record.rejection = Some(rj);
                    format!("rejected: {why}")
                }
                other => format!(
                    "closed during negotiation: {}",
                    crate::dimse::association::error_chain(other)
                ),
            };
            record.dcmtk = echoscu_line(&record, local);
            let ex = dimse_exchange(ExchangeParts {
                operation: "association".into(),
                method: "A-ASSOCIATE-RQ".into(),
                url,
                direction: Direction::Inbound,
                started_at,
                started: t0,
                first_response: None,
                status: None,
                body: Body::default(),
                record,
            });
            state.inbox().push(ex);
        }
    }
}

fn echoscu_line(record: &DimseRecord, local: SocketAddr) -> String {
    format!(
        "echoscu -aet {} -aec {} {} {}",
        shell_quote(&record.calling_ae),
        shell_quote(&record.called_ae),
        local.ip(),
        local.port()
    )
}

/// The evidence body of a received data set: whole up to 64 KiB, else its size and digest.
fn body_of(rx: &Received) -> Body {
    let Some(data) = &rx.data else {
        return Body::default();
    };
    let sha256 = rx.data_sha256.clone().unwrap_or_default();
    match data {
        DataSet::Memory(v) if v.len() <= KEEP_BODY => Body {
            size: v.len() as u64,
            sha256,
            kept: Bytes::copy_from_slice(v),
            complete: true,
        },
        DataSet::Memory(v) => Body {
            size: v.len() as u64,
            sha256,
            kept: Bytes::copy_from_slice(&v[..KEEP_BODY]),
            complete: false,
        },
        DataSet::File { size, .. } => Body {
            size: *size,
            sha256,
            kept: Bytes::new(),
            complete: false,
        },
    }
}

impl Session {
    async fn run(mut self) {
        let mut first = true;
        let ended = loop {
            let rx = match self.receive().await {
                Ok(rx) => rx,
                Err(e) => break self.end_on(e).await,
            };
            if first && self.state.has(Fault::DimseStall) {
                self.stall().await;
                self.abort(AbortRQSource::ServiceUser).await;
                break "aborted by the harness after stalling (dimse-stall fault)".to_string();
            }
            first = false;
            if let Err(e) = self.dispatch(rx).await {
                break self.end_on(e).await;
            }
        };
        self.record.ended = ended;
        self.record.dcmtk = echoscu_line(&self.record, self.local);
        let record = std::mem::take(&mut self.record);
        let ex = dimse_exchange(ExchangeParts {
            operation: "association".into(),
            method: "A-ASSOCIATE-RQ".into(),
            url: self.url.clone(),
            direction: Direction::Inbound,
            started_at: self.started_at.clone(),
            started: self.t0,
            first_response: None,
            status: None,
            body: Body::default(),
            record,
        });
        self.state.inbox().push(ex);
    }

    /// End the association after `e`, aborting where the protocol calls for it; returns how it
    /// ended.
    async fn end_on(&mut self, e: DimseError) -> String {
        if *self.shutdown.borrow() {
            self.abort(AbortRQSource::ServiceUser).await;
            return "aborted by the harness: the reference server is shutting down".into();
        }
        match e {
            DimseError::ReleaseRequested => {
                let _ = AsyncAssociation::send(&mut self.assoc, &Pdu::ReleaseRP).await;
                "released".into()
            }
            DimseError::Aborted => "aborted by the peer".into(),
            DimseError::Timeout(ms) => {
                self.abort(AbortRQSource::ServiceUser).await;
                format!("timeout: no PDU within {ms} ms, aborted by the harness")
            }
            DimseError::Deadline => {
                self.abort(AbortRQSource::ServiceUser).await;
                "timeout: the association outlasted its time limit, aborted by the harness".into()
            }
            e @ (DimseError::Protocol(_) | DimseError::Command(_)) => {
                self.abort(AbortRQSource::ServiceProvider(
                    AbortRQServiceProviderReason::UnexpectedPduParameter,
                ))
                .await;
                format!("aborted by the harness: {e}")
            }
            DimseError::Io(e) => {
                self.abort(AbortRQSource::ServiceUser).await;
                format!("aborted by the harness: local file error: {e}")
            }
            DimseError::Ul(m) => format!("closed: {m}"),
        }
    }

    /// Answer one request.
    async fn dispatch(&mut self, rx: Received) -> Result<(), DimseError> {
        let mut op = self.op_start();
        let body = body_of(&rx);
        let method = rx.command.name();
        let Some(ctx) = self.contexts().into_iter().find(|c| c.id == rx.pc_id) else {
            self.push_operation(
                &op,
                "message on a context not accepted".into(),
                method,
                &Outcome::default(),
                body,
            );
            return Err(DimseError::Protocol(format!(
                "{} on presentation context {}, which was not accepted (PS3.8 9.3.5.1)",
                method, rx.pc_id
            )));
        };
        let cmd = rx.command.clone();
        if cmd.field == field::C_CANCEL_RQ {
            // No operation is outstanding: there is nothing to cancel, and nothing to answer.
            self.push_operation(
                &op,
                "C-CANCEL with no outstanding operation".into(),
                method,
                &Outcome::default(),
                body,
            );
            return Ok(());
        }
        if cmd.field & 0x8000 != 0 {
            self.push_operation(
                &op,
                "unexpected response".into(),
                method,
                &Outcome::default(),
                body,
            );
            return Err(DimseError::Protocol(format!(
                "{method} received, but the SCP sent no request"
            )));
        }
        let Some(message_id) = cmd.message_id else {
            self.push_operation(
                &op,
                "request without Message ID".into(),
                method,
                &Outcome::default(),
                body,
            );
            return Err(DimseError::Protocol(format!(
                "{method} lacks Message ID (0000,0110)"
            )));
        };
        let qr = query_retrieve::classify(&ctx.abstract_syntax);
        let service_ok = match cmd.field {
            field::C_ECHO_RQ => ctx.abstract_syntax == uids::VERIFICATION,
            field::C_STORE_RQ => STORAGE_SOP_CLASSES.contains(&ctx.abstract_syntax.as_str()),
            field::C_FIND_RQ => matches!(qr, Some((_, query_retrieve::Service::Find))),
            field::C_MOVE_RQ => matches!(qr, Some((_, query_retrieve::Service::Move))),
            field::C_GET_RQ => matches!(qr, Some((_, query_retrieve::Service::Get))),
            _ => false,
        };
        let (ends, hostport) = self.dcmtk_ends();
        if !service_ok {
            let outcome = self
                .refuse(
                    &mut op,
                    &rx,
                    UNRECOGNIZED_OPERATION,
                    "operation not supported on this presentation context",
                )
                .await?;
            let outcome = Outcome {
                dcmtk: format!(
                    "# {method} is not a service of {} here",
                    ctx.abstract_syntax
                ),
                ..outcome
            };
            self.push_operation(
                &op,
                format!("{method} (unrecognized operation)"),
                method,
                &outcome,
                body,
            );
            return Ok(());
        }
        if cmd.affected_sop_class.as_deref() != Some(ctx.abstract_syntax.as_str()) {
            let outcome = self
                .refuse(
                    &mut op,
                    &rx,
                    status::SOP_CLASS_NOT_SUPPORTED,
                    "Affected SOP Class UID is not the presentation context's abstract syntax",
                )
                .await?;
            self.push_operation(
                &op,
                format!("{method} (SOP Class mismatch)"),
                method,
                &outcome,
                body,
            );
            return Ok(());
        }
        if cmd.field == field::C_FIND_RQ && self.state.has(Fault::DimseAbortAfterFind) {
            // The fault takes the whole C-FIND-RQ, then aborts instead of answering it.
            self.push_operation(
                &op,
                "C-FIND aborted (dimse-abort-after-find fault)".into(),
                method,
                &Outcome::default(),
                body,
            );
            return Err(self.abort_association("after a C-FIND-RQ").await);
        }
        let (operation, outcome) = match cmd.field {
            field::C_ECHO_RQ => {
                let st = if self.state.has(Fault::DimseEchoWrongStatus) {
                    PROCESSING_FAILURE
                } else {
                    status::SUCCESS
                };
                let rsp = Command::response_to(&cmd, st, false);
                self.send(ctx.id, &rsp, Outgoing::None, Vec::new(), Some(&mut op))
                    .await?;
                (
                    "C-ECHO".to_string(),
                    Outcome {
                        status: Some(st),
                        dcmtk: format!("echoscu {ends} {hostport}"),
                    },
                )
            }
            field::C_STORE_RQ => {
                let outcome = self.store(rx, &ctx, &mut op).await?;
                ("C-STORE".to_string(), outcome)
            }
            _ => {
                let Some((model, service)) = qr else {
                    return Ok(());
                };
                let outcome = match service {
                    query_retrieve::Service::Find => {
                        query_retrieve::find(self, &mut op, rx, &ctx, model, message_id).await?
                    }
                    query_retrieve::Service::Move => {
                        query_retrieve::retrieve(self, &mut op, rx, &ctx, model, message_id, false)
                            .await?
                    }
                    query_retrieve::Service::Get => {
                        query_retrieve::retrieve(self, &mut op, rx, &ctx, model, message_id, true)
                            .await?
                    }
                };
                (format!("{} ({})", service.command(), model.name()), outcome)
            }
        };
        self.push_operation(&op, operation, method, &outcome, body);
        Ok(())
    }

    /// Answer a request with a failure status and no data set.
    async fn refuse(
        &mut self,
        op: &mut OpStart,
        rx: &Received,
        st: u16,
        comment: &str,
    ) -> Result<Outcome, DimseError> {
        let mut rsp = Command::response_to(&rx.command, st, false);
        // Error Comment is LO: 64 characters at most.
        rsp.error_comment = Some(comment.chars().take(64).collect());
        self.send(rx.pc_id, &rsp, Outgoing::None, Vec::new(), Some(op))
            .await?;
        Ok(Outcome {
            status: Some(st),
            dcmtk: String::new(),
        })
    }

    /// C-STORE SCP (PS3.4 B.2.3): spool, check that the data set's SOP Class and Instance UIDs
    /// are the command's, answer.
    async fn store(
        &mut self,
        rx: Received,
        ctx: &Context,
        op: &mut OpStart,
    ) -> Result<Outcome, DimseError> {
        let cmd = rx.command.clone();
        let (ends, hostport) = self.dcmtk_ends();
        let (mut st, comment, summary, spooled) = match (rx.data, cmd.affected_sop_instance.clone())
        {
            (None, _) => (
                status::UNABLE_TO_PROCESS,
                Some("C-STORE-RQ without a data set".to_string()),
                Vec::new(),
                None,
            ),
            (Some(_), None) => (
                status::UNABLE_TO_PROCESS,
                Some("C-STORE-RQ lacks Affected SOP Instance UID (0000,1000)".to_string()),
                Vec::new(),
                None,
            ),
            (Some(data), Some(instance)) => {
                let path = self.state.spool().new_path("dcm");
                let class = cmd.affected_sop_class.clone().unwrap_or_default();
                let ts = ctx.transfer_syntax.clone();
                let task = tokio::task::spawn_blocking(move || {
                    spool_and_check(&path, data, &ts, &class, &instance)
                });
                match task.await {
                    Ok(r) => r,
                    Err(e) => (
                        status::UNABLE_TO_PROCESS,
                        Some(format!("internal error: {e}")),
                        Vec::new(),
                        None,
                    ),
                }
            }
        };
        self.annotate_received(summary);
        if st == status::SUCCESS {
            if let (Some(p), Some(uid)) = (&spooled, &cmd.affected_sop_instance) {
                self.keep_in_archive(p.clone(), uid).await;
            }
        }
        if st == status::SUCCESS && self.state.has(Fault::DimseStoreWrongStatus) {
            st = PROCESSING_FAILURE;
        }
        let mut rsp = Command::response_to(&cmd, st, false);
        rsp.error_comment = comment;
        self.send(ctx.id, &rsp, Outgoing::None, Vec::new(), Some(op))
            .await?;
        let file = spooled
            .map(|p: PathBuf| shell_quote(&p.to_string_lossy()))
            .unwrap_or_else(|| "INSTANCE.dcm".into());
        Ok(Outcome {
            status: Some(st),
            dcmtk: format!("storescu {ends} {hostport} {file}"),
        })
    }
}

impl Session {
    /// Make a stored instance the archive did not hold yet retrievable (QIDO-RS, WADO-RS, C-FIND,
    /// C-MOVE, C-GET, RAD-69), with its Explicit VR Little Endian form. An instance the archive
    /// already holds keeps the copy it has: a Storage SCP may keep either (PS3.4 §B.2.3), and the
    /// harness's own C-MOVE sub-operations send instances back in another transfer syntax. A
    /// held instance is not read again (nor transcoded for its copy): the C-STORE-RSP is not held
    /// back by work whose result is dropped, which a timed C-MOVE to the harness would count as
    /// the SUT's.
    async fn keep_in_archive(&self, stored: PathBuf, sop_uid: &str) {
        if self.state.archive().contains(sop_uid) {
            return;
        }
        let copy = self.state.spool().new_path("ele.dcm");
        let Ok(Ok(inst)) = tokio::task::spawn_blocking(move || {
            crate::reference::store::archive::ingest(stored, copy)
        })
        .await
        else {
            return;
        };
        let known = self.state.archive().contains(&inst.sop_uid);
        if !known {
            self.state.archive_mut().insert(inst);
        }
    }
}

/// 0110 Processing Failure (PS3.7 Annex C.5), the status of the wrong-status faults.
pub const PROCESSING_FAILURE: u16 = 0x0110;

/// 0211 Unrecognized Operation (PS3.7 Annex C.5).
pub const UNRECOGNIZED_OPERATION: u16 = 0x0211;

/// What [`spool_and_check`] found: status, Error Comment, summary, the spooled file.
type StoreCheck = (u16, Option<String>, Summary, Option<PathBuf>);

/// Write a received instance to `path` as a PS3.10 file (its data set as received) and check it
/// (PS3.4 B.2.3): its SOP Class and Instance UIDs must be the command's Affected SOP Class and
/// Instance UIDs, else A900 Error: Data Set does not match SOP Class, and the file is removed. A
/// data set that cannot be parsed is C000 Cannot Understand. Returns (status, error comment,
/// summary, the spooled file).
fn spool_and_check(
    path: &Path,
    data: DataSet,
    ts: &str,
    class: &str,
    instance: &str,
) -> StoreCheck {
    let fail = |st: u16, msg: String, summary: Vec<(String, String)>| {
        let _ = std::fs::remove_file(path);
        (st, Some(msg.chars().take(64).collect()), summary, None)
    };
    if let Err(e) = write_part10(path, &data, ts, class, instance) {
        if let DataSet::File { path: p, .. } = &data {
            let _ = std::fs::remove_file(p);
        }
        return fail(
            status::UNABLE_TO_PROCESS,
            format!("cannot spool: {e}"),
            Vec::new(),
        );
    }
    if let DataSet::File { path: p, .. } = &data {
        let _ = std::fs::remove_file(p);
    }
    let obj = match crate::reference::store::archive::read_header(path) {
        Ok(o) => o,
        Err(e) => {
            return fail(
                status::UNABLE_TO_PROCESS,
                format!("cannot parse the data set: {e}"),
                vec![("(undecodable)".to_string(), e.to_string())],
            )
        }
    };
    let text = |tag: Tag| {
        obj.get(tag)
            .and_then(|e| e.to_str().ok())
            .map(|s| s.trim_end_matches(['\0', ' ']).to_string())
            .unwrap_or_default()
    };
    let ds_class = text(tags::SOP_CLASS_UID);
    let ds_instance = text(tags::SOP_INSTANCE_UID);
    let mut summary = vec![
        ("SOPClassUID".to_string(), ds_class.clone()),
        ("SOPInstanceUID".to_string(), ds_instance.clone()),
        ("TransferSyntaxUID".to_string(), ts.to_string()),
        ("PatientID".to_string(), text(tags::PATIENT_ID)),
        (
            "StudyInstanceUID".to_string(),
            text(tags::STUDY_INSTANCE_UID),
        ),
        (
            "SeriesInstanceUID".to_string(),
            text(tags::SERIES_INSTANCE_UID),
        ),
    ];
    if ds_class != class {
        return fail(
            status::IDENTIFIER_DOES_NOT_MATCH,
            format!("SOP Class UID {ds_class} is not the Affected SOP Class"),
            summary,
        );
    }
    if ds_instance != instance {
        return fail(
            status::IDENTIFIER_DOES_NOT_MATCH,
            format!("SOP Instance UID {ds_instance} is not the Affected SOP Instance"),
            summary,
        );
    }
    if let Some(sha) = crate::dimse::pixels::file_pixel_data_sha256(path) {
        // The image apart from the other attributes, which a sender may have coerced.
        summary.push(("PixelDataSHA256".to_string(), sha));
    }
    summary.push(("spooled".to_string(), path.to_string_lossy().into_owned()));
    (status::SUCCESS, None, summary, Some(path.to_path_buf()))
}

/// Why a received instance could not be written as a PS3.10 file.
#[derive(Debug, thiserror::Error)]
enum StoreFileError {
    /// The negotiated transfer syntax is not in the registry.
    #[error("unknown transfer syntax {0}")]
    UnknownTransferSyntax(String),
    /// The file meta group cannot be built or written.
    #[error("{0}")]
    Meta(Box<dicom_object::meta::Error>),
    /// The file cannot be written.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// Write preamble, file meta group and the data set bytes as received.
fn write_part10(
    path: &Path,
    data: &DataSet,
    ts: &str,
    class: &str,
    instance: &str,
) -> Result<(), StoreFileError> {
    use std::io::Write as _;
    if TransferSyntaxRegistry.get(ts).is_none() {
        return Err(StoreFileError::UnknownTransferSyntax(ts.to_string()));
    }
    let meta = FileMetaTableBuilder::new()
        .media_storage_sop_class_uid(class)
        .media_storage_sop_instance_uid(instance)
        .transfer_syntax(ts)
        .implementation_class_uid(dicom_object::IMPLEMENTATION_CLASS_UID)
        .build()
        .map_err(|e| StoreFileError::Meta(Box::new(e)))?;
    let file = std::fs::File::create(path)?;
    let mut out = std::io::BufWriter::new(file);
    out.write_all(&[0u8; 128])?;
    out.write_all(b"DICM")?;
    meta.write(&mut out)
        .map_err(|e| StoreFileError::Meta(Box::new(e)))?;
    match data {
        DataSet::Memory(v) => out.write_all(v)?,
        DataSet::File { path: p, .. } => {
            let mut f = std::fs::File::open(p)?;
            std::io::copy(&mut f, &mut out)?;
        }
    }
    Ok(out.flush()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn called_ae_title_is_checked_unless_the_fault_is_on() {
        let strict = CalledAeTitle { accept_any: false };
        assert!(strict
            .check_access("IHE_REFERENCE", "SCU", "IHE_REFERENCE ", None)
            .is_ok());
        // Padded with NUL bytes instead of spaces, as some SCUs do.
        assert!(strict
            .check_access("IHE_REFERENCE", "SCU\0\0", "IHE_REFERENCE\0\0\0", None)
            .is_ok());
        assert_eq!(
            shown_ae("HARNESS\0\0"),
            "`HARNESS` (padded with 2 NUL bytes)"
        );
        assert_eq!(
            strict.check_access("IHE_REFERENCE", "SCU", "OTHER", None),
            Err(AssociationRJServiceUserReason::CalledAETitleNotRecognized)
        );
        let lax = CalledAeTitle { accept_any: true };
        assert!(lax
            .check_access("IHE_REFERENCE", "SCU", "OTHER", None)
            .is_ok());
    }

    #[test]
    fn storage_roles_are_granted_as_asked_for_storage_classes_only() {
        let r = StorageRoles.negotiate_roles(uids::CT_IMAGE_STORAGE, false, true);
        assert_eq!(
            r,
            Some(RequestorRoles {
                scu: false,
                scp: true
            })
        );
        assert_eq!(
            StorageRoles.negotiate_roles(uids::VERIFICATION, true, true),
            None
        );
    }

    #[test]
    fn spool_checks_uids_against_the_command() {
        let dir = tempfile::tempdir().unwrap();
        let fixtures = crate::reference::tests::fixtures_dir();
        let archive = crate::reference::store::archive::Archive::load(&fixtures).unwrap();
        let inst = archive
            .studies
            .values()
            .flat_map(|s| s.instances())
            .find(|i| i.stored.transfer_syntax() == crate::reference::store::part10::EXPLICIT_VR_LE)
            .unwrap();
        let bytes = std::fs::read(&inst.stored.path).unwrap();
        let offset = crate::reference::dimse::sub_operations::meta_end(&bytes).unwrap();
        let data = DataSet::Memory(bytes[offset..].to_vec());
        let good = dir.path().join("good.dcm");
        let (st, c, summary, spooled) = spool_and_check(
            &good,
            data.clone(),
            uids::EXPLICIT_VR_LITTLE_ENDIAN,
            &inst.sop_class,
            &inst.sop_uid,
        );
        assert_eq!(st, status::SUCCESS, "{c:?}");
        assert_eq!(spooled.as_deref(), Some(good.as_path()));
        assert!(summary
            .iter()
            .any(|(k, v)| k == "SOPInstanceUID" && v == &inst.sop_uid));
        let bad = dir.path().join("bad.dcm");
        let (st, comment, _, spooled) = spool_and_check(
            &bad,
            data,
            uids::EXPLICIT_VR_LITTLE_ENDIAN,
            &inst.sop_class,
            "1.2.3.4",
        );
        assert_eq!(st, status::IDENTIFIER_DOES_NOT_MATCH);
        assert!(comment.is_some() && spooled.is_none() && !bad.exists());
    }
}
