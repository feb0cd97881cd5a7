//! The C-STORE sub-operations of the reference's C-MOVE SCP (PS3.4 C.4.2.3): a small client
//! association from the reference's AE title to the move destination, and the choice of
//! presentation context and bytes for each instance, shared with C-GET.
//!
//! The sub-association proposes, for each SOP Class to send, one context per stored transfer
//! syntax that is not uncompressed, and one context offering Explicit then Implicit VR Little
//! Endian (PS3.8 9.3.2.2). An instance goes on the context of its stored transfer syntax when the
//! destination accepted it (its data set as stored, byte for byte); else on Explicit VR Little
//! Endian from the archive's Explicit VR Little Endian copy; else on Implicit VR Little Endian,
//! transcoded from that copy. Without any of those the sub-operation fails. Each C-STORE-RQ
//! carries Move Originator AE Title and Message ID (PS3.7 9.3.1.1). The association is recorded
//! as an outbound exchange in the reference's inbox.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dicom_dictionary_std::uids;
use dicom_ul::association::AsyncClientAssociation;
use tokio::net::TcpStream;

use crate::dimse::command::{field, status, Command};
use crate::dimse::message::{self, Outgoing, ReceiveOptions};
use crate::evidence::dimse::{
    DimseRecord, Flow, MessageRecord, NegotiatedContext, ProposedContext,
};
use crate::evidence::{Body, Direction, Exchange};
use crate::reference::dimse::session::{self, Context, ExchangeParts};
use crate::reference::store::archive::Instance;
use crate::reference::store::part10;
use crate::transport::factory::{self, AssociationSettings};
use crate::transport::http::shell_quote;

/// Why an instance cannot be sent in a C-STORE sub-operation: the reason the sub-operation fails
/// with.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The stored file cannot be read.
    #[error("{}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The stored file has no file meta group the data set can be found after.
    #[error("{} has no well-formed file meta group", .0.display())]
    NoMetaGroup(PathBuf),
    /// Transcoding to Implicit VR Little Endian failed.
    #[error("{0}")]
    Transcode(#[from] part10::LayoutError),
    /// The transcoded file has no file meta group.
    #[error("the transcoded file has no meta group")]
    TranscodedWithoutMeta,
    /// The destination accepted no context the instance can be sent on.
    #[error("no accepted presentation context for {sop_class} in {stored_ts} or a transfer syntax it can be sent in")]
    NoContext {
        /// The instance's SOP Class.
        sop_class: String,
        /// Its stored transfer syntax.
        stored_ts: String,
    },
}

/// At most this many presentation contexts are proposed (PS3.8 9.3.2.2: ids 1-255, odd).
const MAX_CONTEXTS: usize = 128;

/// The end of the file meta group of a PS3.10 file held in `bytes` (preamble, `DICM`, group
/// 0002 in Explicit VR Little Endian, PS3.10 7.1): where the data set starts.
pub fn meta_end(bytes: &[u8]) -> Option<usize> {
    if bytes.get(128..132)? != b"DICM" {
        return None;
    }
    let mut i = 132usize;
    loop {
        let head = match bytes.get(i..i + 8) {
            Some(h) => h,
            // The file ends after its meta group: an empty data set.
            None if i == bytes.len() => return Some(i),
            None => return None,
        };
        if u16::from_le_bytes([head[0], head[1]]) != 0x0002 {
            return Some(i);
        }
        let vr = &head[4..6];
        let long = matches!(
            vr,
            b"OB" | b"OD" | b"OF" | b"OL" | b"OV" | b"OW" | b"SQ" | b"UC" | b"UN" | b"UR" | b"UT"
        );
        let (header, len) = if long {
            let l = bytes.get(i + 8..i + 12)?;
            (
                12usize,
                u32::from_le_bytes([l[0], l[1], l[2], l[3]]) as usize,
            )
        } else {
            (8usize, u16::from_le_bytes([head[6], head[7]]) as usize)
        };
        i = i.checked_add(header)?.checked_add(len)?;
        if i > bytes.len() {
            return None;
        }
    }
}

/// Where the data set of a PS3.10 file starts (the meta group is read from its first 64 KiB).
pub fn dataset_offset(path: &Path) -> Result<u64, PlanError> {
    let read = |source| PlanError::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut f = std::fs::File::open(path).map_err(read)?;
    let mut head = Vec::with_capacity(64 * 1024);
    (&mut f)
        .take(64 * 1024)
        .read_to_end(&mut head)
        .map_err(read)?;
    meta_end(&head)
        .map(|o| o as u64)
        .ok_or_else(|| PlanError::NoMetaGroup(path.to_path_buf()))
}

/// The bytes of one C-STORE sub-operation.
#[derive(Debug, Clone)]
pub enum PayloadData {
    /// The data set of a PS3.10 file, from `offset` on.
    File {
        /// The file.
        path: PathBuf,
        /// Where its data set starts.
        offset: u64,
    },
    /// A data set in memory.
    Bytes(Vec<u8>),
}

/// How one instance is sent: context, transfer syntax and bytes.
#[derive(Debug, Clone)]
pub struct Payload {
    /// The presentation context.
    pub pc_id: u8,
    /// Its transfer syntax.
    pub transfer_syntax: String,
    /// The data set.
    pub data: PayloadData,
}

impl Payload {
    /// The data set as a message layer [`Outgoing`].
    pub fn outgoing(&self) -> Outgoing<'_> {
        match &self.data {
            PayloadData::File { path, offset } => Outgoing::File {
                path,
                offset: *offset,
            },
            PayloadData::Bytes(b) => Outgoing::Bytes(b),
        }
    }
}

/// Choose the context and bytes for `inst` among accepted `contexts` (blocking: it may read and
/// transcode a file). `Err` says why it cannot be sent.
pub fn plan(inst: &Instance, contexts: &[Context]) -> Result<Payload, PlanError> {
    let for_class: Vec<&Context> = contexts
        .iter()
        .filter(|c| c.abstract_syntax == inst.sop_class)
        .collect();
    let stored_ts = inst.stored.transfer_syntax();
    let file = |c: &Context, path: &Path| -> Result<Payload, PlanError> {
        Ok(Payload {
            pc_id: c.id,
            transfer_syntax: c.transfer_syntax.clone(),
            data: PayloadData::File {
                path: path.to_path_buf(),
                offset: dataset_offset(path)?,
            },
        })
    };
    if let Some(c) = for_class.iter().find(|c| c.transfer_syntax == stored_ts) {
        return file(c, &inst.stored.path);
    }
    if let Some(ele) = inst.explicit_le() {
        if let Some(c) = for_class
            .iter()
            .find(|c| c.transfer_syntax == uids::EXPLICIT_VR_LITTLE_ENDIAN)
        {
            return file(c, &ele.path);
        }
        if let Some(c) = for_class
            .iter()
            .find(|c| c.transfer_syntax == uids::IMPLICIT_VR_LITTLE_ENDIAN)
        {
            let bytes = part10::transcode(&ele.path, uids::IMPLICIT_VR_LITTLE_ENDIAN)?;
            let offset = meta_end(&bytes).ok_or(PlanError::TranscodedWithoutMeta)?;
            return Ok(Payload {
                pc_id: c.id,
                transfer_syntax: c.transfer_syntax.clone(),
                data: PayloadData::Bytes(bytes[offset..].to_vec()),
            });
        }
    }
    Err(PlanError::NoContext {
        sop_class: inst.sop_class.clone(),
        stored_ts: stored_ts.to_string(),
    })
}

/// The presentation contexts to propose for sending `instances` (abstract syntax, transfer
/// syntaxes).
pub fn proposals(instances: &[Arc<Instance>]) -> Vec<(String, Vec<String>)> {
    let mut by_class: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for i in instances {
        by_class
            .entry(i.sop_class.as_str())
            .or_default()
            .insert(i.stored.transfer_syntax());
    }
    let mut out = Vec::new();
    for (class, stored) in by_class {
        for ts in stored {
            if ts != uids::EXPLICIT_VR_LITTLE_ENDIAN && ts != uids::IMPLICIT_VR_LITTLE_ENDIAN {
                out.push((class.to_string(), vec![ts.to_string()]));
            }
        }
        out.push((
            class.to_string(),
            vec![
                uids::EXPLICIT_VR_LITTLE_ENDIAN.to_string(),
                uids::IMPLICIT_VR_LITTLE_ENDIAN.to_string(),
            ],
        ));
    }
    out.truncate(MAX_CONTEXTS);
    out
}

/// The result of one C-STORE sub-operation, as the C-MOVE/C-GET counts see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubResult {
    /// Status 0000.
    Completed,
    /// A warning status (0001, Bxxx).
    Warning(u16),
    /// A failure status, or the instance could not be sent.
    Failed(String),
}

impl SubResult {
    /// Classify a C-STORE-RSP status (PS3.4 B.2.3).
    pub fn of_status(s: u16) -> SubResult {
        match status::category(s) {
            "success" => SubResult::Completed,
            "warning" => SubResult::Warning(s),
            _ => SubResult::Failed(format!("C-STORE-RSP status {s:04X}")),
        }
    }
}

/// The association from the reference to a move destination.
pub struct SubAssociation {
    assoc: Option<AsyncClientAssociation<TcpStream>>,
    contexts: Vec<Context>,
    record: DimseRecord,
    t0: Instant,
    started_at: String,
    next_id: u16,
    recv: ReceiveOptions,
    url: String,
    broken: Option<String>,
    files: Vec<PathBuf>,
    first_failure: Option<u16>,
}

fn ms(t0: Instant) -> u64 {
    t0.elapsed().as_millis() as u64
}

impl SubAssociation {
    /// Open the association from `calling` to `dest_ae` at `addr` for `instances`. On failure the
    /// error carries the reason and the outbound exchange that records the attempt.
    pub async fn open(
        calling: &str,
        dest_ae: &str,
        addr: SocketAddr,
        instances: &[Arc<Instance>],
        timeout: Duration,
        spool: &Path,
        tls: Option<&crate::transport::tls::ClientTls>,
    ) -> Result<SubAssociation, (String, Exchange)> {
        let t0 = Instant::now();
        let started_at = session::now_rfc3339();
        let proposed = proposals(instances);
        let mut record = DimseRecord {
            peer: addr.to_string(),
            calling_ae: calling.to_string(),
            called_ae: dest_ae.to_string(),
            proposed: proposed
                .iter()
                .enumerate()
                .map(|(i, (a, t))| ProposedContext {
                    id: (2 * i + 1) as u8,
                    abstract_syntax: a.clone(),
                    transfer_syntaxes: t.clone(),
                })
                .collect(),
            ..DimseRecord::default()
        };
        let url = format!("dicom://{dest_ae}@{addr}");
        let mut options = factory::client_association(&AssociationSettings {
            local_ae: calling.to_string(),
            peer_ae: Some(dest_ae.to_string()),
            max_pdu: None,
            strict: None,
            connect_timeout: Some(timeout),
            read_timeout: timeout,
            write_timeout: timeout,
        });
        for (a, t) in proposed {
            options = options.with_presentation_context(a, t);
        }
        // DICOM TLS: the handshake with the destination, then the association through a loopback
        // relay (`transport::tls::relay`), as the harness's SCU does.
        let mut connect_to = addr;
        if let Some(tls) = tls {
            use crate::transport::tls::relay::{self, RelayError};
            match relay::connect(&addr.ip().to_string(), addr.port(), tls, timeout).await {
                Ok(r) => {
                    record.tls = Some(r.record.clone());
                    connect_to = r.local;
                }
                Err(e) => {
                    let reason = match &e {
                        RelayError::Handshake { cause, .. } => {
                            record.tls = Some(crate::transport::tls::TlsRecord {
                                failure: Some(cause.clone()),
                                ..Default::default()
                            });
                            format!("the TLS handshake with {dest_ae} at {addr} failed: {cause}")
                        }
                        RelayError::Connect { message, .. } => {
                            format!("cannot connect to {dest_ae} at {addr}: {message}")
                        }
                        RelayError::Local(m) => format!("TLS relay to {dest_ae} at {addr}: {m}"),
                    };
                    record.ended = reason.clone();
                    let ex = outbound(&url, started_at, t0, None, record);
                    return Err((reason, ex));
                }
            }
        }
        let assoc = match options.establish_async(connect_to).await {
            Ok(mut a) => {
                let _ = a.inner_stream().set_nodelay(true);
                a
            }
            Err(e) => {
                if let dicom_ul::association::Error::Rejected { association_rj, .. } = &e {
                    record.rejection = Some(session::rejection_of(association_rj));
                }
                let reason = format!("cannot associate with {dest_ae} at {addr}: {e}");
                record.ended = reason.clone();
                let ex = outbound(&url, started_at, t0, None, record);
                return Err((reason, ex));
            }
        };
        record.local_max_pdu = dicom_ul::association::Association::local_max_pdu_length(&assoc);
        record.peer_max_pdu = dicom_ul::association::Association::peer_max_pdu_length(&assoc);
        let contexts: Vec<Context> =
            dicom_ul::association::Association::presentation_contexts(&assoc)
                .iter()
                .map(|c| Context {
                    id: c.id,
                    abstract_syntax: c.abstract_syntax.clone(),
                    transfer_syntax: c.transfer_syntax.clone(),
                })
                .collect();
        record.negotiated = contexts
            .iter()
            .map(|c| NegotiatedContext {
                id: c.id,
                abstract_syntax: c.abstract_syntax.clone(),
                result: 0,
                transfer_syntax: c.transfer_syntax.clone(),
            })
            .collect();
        Ok(SubAssociation {
            assoc: Some(assoc),
            contexts,
            record,
            t0,
            started_at,
            next_id: 0,
            recv: ReceiveOptions {
                spool: spool.to_path_buf(),
                ..ReceiveOptions::new(timeout)
            },
            url,
            broken: None,
            files: Vec::new(),
            first_failure: None,
        })
    }

    /// Send one instance and wait for its C-STORE-RSP.
    pub async fn store(
        &mut self,
        inst: &Arc<Instance>,
        originator_ae: &str,
        originator_id: Option<u16>,
    ) -> SubResult {
        let result = self.try_store(inst, originator_ae, originator_id).await;
        if let SubResult::Failed(_) = &result {
            if self.first_failure.is_none() {
                self.first_failure = Some(status::UNABLE_TO_PROCESS);
            }
        }
        result
    }

    async fn try_store(
        &mut self,
        inst: &Arc<Instance>,
        originator_ae: &str,
        originator_id: Option<u16>,
    ) -> SubResult {
        if let Some(b) = &self.broken {
            return SubResult::Failed(b.clone());
        }
        let contexts = self.contexts.clone();
        let i = inst.clone();
        let payload = match tokio::task::spawn_blocking(move || plan(&i, &contexts)).await {
            Ok(Ok(p)) => p,
            Ok(Err(reason)) => return SubResult::Failed(reason.to_string()),
            Err(e) => return SubResult::Failed(format!("internal error: {e}")),
        };
        self.next_id = self.next_id.wrapping_add(1).max(1);
        let id = self.next_id;
        let mut cmd = Command::request(field::C_STORE_RQ, &inst.sop_class, id, true);
        cmd.affected_sop_instance = Some(inst.sop_uid.clone());
        cmd.move_originator_ae = Some(originator_ae.to_string());
        cmd.move_originator_id = originator_id;
        let Some(assoc) = self.assoc.as_mut() else {
            return SubResult::Failed("the association is closed".into());
        };
        let sent = match message::send(assoc, payload.pc_id, &cmd, payload.outgoing()).await {
            Ok(s) => s,
            Err(e) => {
                let reason = format!("sending C-STORE-RQ failed: {e}");
                self.broken = Some(reason.clone());
                return SubResult::Failed(reason);
            }
        };
        self.files.push(match &payload.data {
            PayloadData::File { path, .. } => path.clone(),
            PayloadData::Bytes(_) => inst.stored.path.clone(),
        });
        self.record.messages.push(MessageRecord {
            flow: Flow::Sent,
            pc_id: payload.pc_id,
            command: cmd.clone(),
            data_len: Some(sent.data_bytes),
            data_sha256: None,
            data_summary: session::store_summary(&cmd, &payload.transfer_syntax),
            pdus: sent.pdus,
            largest_pdu: sent.largest_pdu,
            at_ms: ms(self.t0),
            pdus_at: None,
        });
        let rx = match message::receive(assoc, &self.recv).await {
            Ok(rx) => rx,
            Err(e) => {
                let reason = format!("no C-STORE-RSP: {e}");
                self.broken = Some(reason.clone());
                return SubResult::Failed(reason);
            }
        };
        self.record.messages.push(MessageRecord {
            flow: Flow::Received,
            pc_id: rx.pc_id,
            command: rx.command.clone(),
            data_len: rx.data.as_ref().map(|d| d.len()),
            data_sha256: rx.data_sha256.clone(),
            data_summary: Vec::new(),
            pdus: rx.pdus,
            largest_pdu: rx.largest_pdu,
            at_ms: ms(self.t0),
            pdus_at: Some((rx.first_pdu_at, rx.last_pdu_at)),
        });
        if rx.command.field != field::C_STORE_RSP || rx.command.responded_to != Some(id) {
            let reason = format!(
                "{} received instead of the C-STORE-RSP to message {id}",
                rx.command.name()
            );
            self.broken = Some(reason.clone());
            return SubResult::Failed(reason);
        }
        let st = rx.command.status.unwrap_or(status::UNABLE_TO_PROCESS);
        if st != status::SUCCESS && self.first_failure.is_none() {
            self.first_failure = Some(st);
        }
        SubResult::of_status(st)
    }

    /// Release the association (abort it if it broke) and return its outbound exchange.
    pub async fn close(mut self) -> Exchange {
        if let Some(assoc) = self.assoc.take() {
            self.record.ended = if let Some(b) = &self.broken {
                let _ = assoc.abort().await;
                format!("aborted by the harness: {b}")
            } else {
                match assoc.release().await {
                    Ok(()) => "released".into(),
                    Err(e) => format!("release failed: {e}"),
                }
            };
        }
        let (host, port) = self
            .record
            .peer
            .rsplit_once(':')
            .map(|(h, p)| (h.to_string(), p.to_string()))
            .unwrap_or_default();
        let files: Vec<String> = self
            .files
            .iter()
            .map(|p| shell_quote(&p.to_string_lossy()))
            .collect();
        self.record.dcmtk = format!(
            "storescu -aet {} -aec {} {host} {port} {}",
            shell_quote(&self.record.calling_ae),
            shell_quote(&self.record.called_ae),
            files.join(" ")
        );
        let status = Some(self.first_failure.unwrap_or(status::SUCCESS));
        outbound(&self.url, self.started_at, self.t0, status, self.record)
    }
}

fn outbound(
    url: &str,
    started_at: String,
    t0: Instant,
    status: Option<u16>,
    record: DimseRecord,
) -> Exchange {
    let operation = format!("C-MOVE sub-operations to {}", record.called_ae);
    session::dimse_exchange(ExchangeParts {
        operation,
        method: "C-STORE-RQ".into(),
        url: url.to_string(),
        direction: Direction::Outbound,
        started_at,
        started: t0,
        first_response: None,
        status,
        body: Body::default(),
        record,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::store::archive::Archive;

    fn archive() -> Archive {
        Archive::load(&crate::reference::tests::fixtures_dir()).unwrap()
    }

    fn ctx(id: u8, a: &str, t: &str) -> Context {
        Context {
            id,
            abstract_syntax: a.into(),
            transfer_syntax: t.into(),
        }
    }

    #[test]
    fn meta_end_walks_the_meta_group() {
        let a = archive();
        let inst = a
            .studies
            .values()
            .flat_map(|s| s.instances())
            .next()
            .unwrap();
        let bytes = std::fs::read(&inst.stored.path).unwrap();
        let end = meta_end(&bytes).unwrap();
        assert!(end > 132);
        assert_ne!(&bytes[end..end + 2], &[2, 0]);
        assert_eq!(dataset_offset(&inst.stored.path).unwrap(), end as u64);
        assert_eq!(meta_end(&bytes[..100]), None);
        assert_eq!(meta_end(&bytes[..end - 3]), None);
    }

    #[test]
    fn plan_prefers_the_stored_syntax_then_explicit_then_implicit() {
        let a = archive();
        let inst = a
            .studies
            .values()
            .flat_map(|s| s.instances())
            .find(|i| i.stored.transfer_syntax() == uids::RLE_LOSSLESS)
            .unwrap();
        let class = inst.sop_class.clone();
        let all = [
            ctx(1, &class, uids::RLE_LOSSLESS),
            ctx(3, &class, uids::EXPLICIT_VR_LITTLE_ENDIAN),
            ctx(5, &class, uids::IMPLICIT_VR_LITTLE_ENDIAN),
        ];
        let p = plan(&inst, &all).unwrap();
        assert_eq!(p.pc_id, 1);
        assert!(matches!(&p.data, PayloadData::File { path, .. } if path == &inst.stored.path));
        let p = plan(&inst, &all[1..]).unwrap();
        assert_eq!(p.pc_id, 3);
        let ele = inst.explicit_le().unwrap();
        assert!(matches!(&p.data, PayloadData::File { path, .. } if path == &ele.path));
        let p = plan(&inst, &all[2..]).unwrap();
        assert_eq!(p.pc_id, 5);
        assert!(matches!(&p.data, PayloadData::Bytes(b) if !b.is_empty()));
        assert!(plan(&inst, &[ctx(1, uids::CT_IMAGE_STORAGE, uids::RLE_LOSSLESS)]).is_err());
    }

    #[test]
    fn proposals_cover_stored_syntaxes_and_a_fallback() {
        let a = archive();
        let all: Vec<_> = a.studies.values().flat_map(|s| s.instances()).collect();
        let p = proposals(&all);
        assert!(p.len() <= MAX_CONTEXTS);
        for i in &all {
            assert!(p.iter().any(|(c, t)| c == &i.sop_class
                && t.contains(&uids::EXPLICIT_VR_LITTLE_ENDIAN.to_string())));
            assert!(p.iter().any(
                |(c, t)| c == &i.sop_class && t.iter().any(|t| t == i.stored.transfer_syntax())
            ));
        }
    }

    #[test]
    fn sub_results_follow_the_status_categories() {
        assert_eq!(SubResult::of_status(0), SubResult::Completed);
        assert_eq!(SubResult::of_status(0xB007), SubResult::Warning(0xB007));
        assert!(matches!(SubResult::of_status(0xA700), SubResult::Failed(_)));
    }
}
