//! DIMSE messages over an upper-layer association (DICOM PS3.7 §9, PS3.8 §9.3.5): a command set
//! and an optional data set, each sent as P-DATA-TF fragments no larger than the peer's maximum
//! PDU length, and read back with a timeout on every PDU.
//!
//! Data sets are streamed: a file is sent in fragments read from disk, and a received data set is
//! kept in memory only up to a limit, then spilled to a file, its SHA-256 computed on the way.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use dicom_ul::association::AsyncAssociation;
use dicom_ul::pdu::{PDataValue, PDataValueType};
use dicom_ul::Pdu;
use sha2::Digest;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

use super::command::{self, Command, CommandError};

/// Overhead of one PDV item in a P-DATA-TF variable field: item length (4), presentation
/// context id (1), message control header (1).
const PDV_OVERHEAD: u32 = 6;
/// A command set larger than this is refused (a real one is a few hundred bytes).
const MAX_COMMAND: usize = 64 * 1024;
/// Fragment size used when the peer sets no maximum (0 = unlimited).
const DEFAULT_FRAGMENT: u32 = 64 * 1024;

/// Errors of the DIMSE layer. A peer's protocol violation is kept apart from a transport failure.
#[derive(Debug, thiserror::Error)]
pub enum DimseError {
    /// No PDU arrived within the read timeout.
    #[error("no PDU within {0} ms")]
    Timeout(u128),
    /// The upper layer failed (connection reset, malformed PDU).
    #[error("upper layer: {0}")]
    Ul(String),
    /// The peer aborted the association.
    #[error("the peer aborted the association (A-ABORT)")]
    Aborted,
    /// The peer asked to release the association.
    #[error("the peer asked to release the association (A-RELEASE-RQ)")]
    ReleaseRequested,
    /// The operation's deadline passed (the peer kept sending, or kept the harness waiting, for
    /// longer than the whole operation may take).
    #[error("the operation did not end within its time limit")]
    Deadline,
    /// The peer broke the DIMSE protocol (fragments out of order, a bad command set).
    #[error("protocol violation: {0}")]
    Protocol(String),
    /// A command set that cannot be read.
    #[error("command set: {0}")]
    Command(#[from] CommandError),
    /// Local file I/O.
    #[error("file: {0}")]
    Io(#[from] std::io::Error),
}

impl DimseError {
    /// True when the peer, not the harness or the network, is at fault.
    pub fn is_peer_fault(&self) -> bool {
        matches!(self, DimseError::Protocol(_) | DimseError::Command(_))
    }
}

/// A received data set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataSet {
    /// Held in memory.
    Memory(Vec<u8>),
    /// Spilled to a file.
    File {
        /// Where.
        path: PathBuf,
        /// Size in bytes.
        size: u64,
    },
}

impl DataSet {
    /// Size in bytes.
    pub fn len(&self) -> u64 {
        match self {
            DataSet::Memory(v) => v.len() as u64,
            DataSet::File { size, .. } => *size,
        }
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes (read from the file if spilled).
    pub fn bytes(&self) -> std::io::Result<Vec<u8>> {
        match self {
            DataSet::Memory(v) => Ok(v.clone()),
            DataSet::File { path, .. } => std::fs::read(path),
        }
    }
}

/// A received DIMSE message.
#[derive(Debug, Clone)]
pub struct Received {
    /// Presentation context it came on.
    pub pc_id: u8,
    /// The decoded command set.
    pub command: Command,
    /// Size of the encoded command set.
    pub command_len: usize,
    /// The data set, if one followed.
    pub data: Option<DataSet>,
    /// SHA-256 of the data set, lower-case hex.
    pub data_sha256: Option<String>,
    /// P-DATA-TF PDUs read.
    pub pdus: u32,
    /// Largest P-DATA-TF variable field read.
    pub largest_pdu: u32,
    /// Time from the first to the last PDU.
    pub elapsed: Duration,
    /// When the message's first PDU was read (the time to a first byte of a sub-operation).
    pub first_pdu_at: Instant,
    /// When its last PDU was read (the message complete).
    pub last_pdu_at: Instant,
}

/// What `send` did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct SendStats {
    /// PDUs sent.
    pub pdus: u32,
    /// Largest P-DATA-TF variable field sent.
    pub largest_pdu: u32,
    /// Data set bytes sent.
    pub data_bytes: u64,
    /// SHA-256 of a data set sent from a file, digested as it was read to be sent (one read of
    /// the file, not two).
    #[serde(skip)]
    pub data_sha256: Option<[u8; 32]>,
}

/// The data set to send.
#[derive(Debug, Clone, Copy)]
pub enum Outgoing<'a> {
    /// No data set.
    None,
    /// Bytes in memory (already in the presentation context's transfer syntax).
    Bytes(&'a [u8]),
    /// The bytes of a file from `offset` on (a PS3.10 file's data set, after its meta group).
    File {
        /// The file.
        path: &'a Path,
        /// Where the data set starts.
        offset: u64,
    },
}

/// Largest PDV data length for a peer's maximum PDU length.
pub fn fragment_len(peer_max_pdu: u32) -> usize {
    let max = if peer_max_pdu == 0 {
        DEFAULT_FRAGMENT
    } else {
        peer_max_pdu
    };
    max.saturating_sub(PDV_OVERHEAD).max(1) as usize
}

async fn send_pdv<A>(
    assoc: &mut A,
    pc_id: u8,
    value_type: PDataValueType,
    is_last: bool,
    data: Vec<u8>,
    stats: &mut SendStats,
) -> Result<(), DimseError>
where
    A: AsyncAssociation<TcpStream> + Send,
{
    let len = data.len() as u32 + PDV_OVERHEAD;
    stats.pdus += 1;
    stats.largest_pdu = stats.largest_pdu.max(len);
    let pdu = Pdu::PData {
        data: vec![PDataValue {
            presentation_context_id: pc_id,
            value_type,
            is_last,
            data,
        }],
    };
    AsyncAssociation::send(assoc, &pdu)
        .await
        .map_err(|e| DimseError::Ul(super::association::error_chain(&e)))
}

/// Send a command set and its data set, fragmented by the peer's maximum PDU length.
pub async fn send<A>(
    assoc: &mut A,
    pc_id: u8,
    cmd: &Command,
    data: Outgoing<'_>,
) -> Result<SendStats, DimseError>
where
    A: AsyncAssociation<TcpStream> + Send,
{
    let frag = fragment_len(assoc.peer_max_pdu_length());
    let mut stats = SendStats::default();
    let encoded = command::encode(cmd);
    let chunks: Vec<&[u8]> = encoded.chunks(frag).collect();
    let n = chunks.len();
    for (i, c) in chunks.into_iter().enumerate() {
        send_pdv(
            assoc,
            pc_id,
            PDataValueType::Command,
            i + 1 == n,
            c.to_vec(),
            &mut stats,
        )
        .await?;
    }
    match data {
        Outgoing::None => {}
        Outgoing::Bytes(b) => {
            if b.is_empty() {
                send_pdv(
                    assoc,
                    pc_id,
                    PDataValueType::Data,
                    true,
                    Vec::new(),
                    &mut stats,
                )
                .await?;
            }
            let chunks: Vec<&[u8]> = b.chunks(frag).collect();
            let n = chunks.len();
            for (i, c) in chunks.into_iter().enumerate() {
                stats.data_bytes += c.len() as u64;
                send_pdv(
                    assoc,
                    pc_id,
                    PDataValueType::Data,
                    i + 1 == n,
                    c.to_vec(),
                    &mut stats,
                )
                .await?;
            }
        }
        Outgoing::File { path, offset } => {
            let mut f = tokio::fs::File::open(path).await?;
            let total = f.metadata().await?.len().saturating_sub(offset);
            if offset > 0 {
                use tokio::io::AsyncSeekExt;
                f.seek(std::io::SeekFrom::Start(offset)).await?;
            }
            let mut sent = 0u64;
            let mut digest = crate::transport::digest::Sha256::new();
            loop {
                let want = (frag as u64).min(total - sent) as usize;
                let mut buf = vec![0u8; want];
                f.read_exact(&mut buf).await?;
                digest.update(&buf);
                sent += want as u64;
                stats.data_bytes += want as u64;
                let last = sent >= total;
                send_pdv(assoc, pc_id, PDataValueType::Data, last, buf, &mut stats).await?;
                if last {
                    break;
                }
            }
            stats.data_sha256 = Some(digest.finish());
        }
    }
    Ok(stats)
}

/// The largest identifier (a C-FIND, C-MOVE or C-GET response data set) accepted whatever the
/// data set limit: an identifier holds the keys asked for, and a final C-MOVE/C-GET response's
/// Failed SOP Instance UID List of tens of thousands of UIDs stays far below it.
pub const MAX_IDENTIFIER: u64 = 4 * 1024 * 1024;

/// The default largest data set accepted (an instance, C-STORE-RQ).
pub const DEFAULT_MAX_DATA_SET: u64 = 1024 * 1024 * 1024;

/// Where received data sets go, and how much a peer may send.
#[derive(Debug, Clone)]
pub struct ReceiveOptions {
    /// The longest wait for one PDU.
    pub read_timeout: Duration,
    /// Data sets up to this size stay in memory; larger ones are spilled to `spool`.
    pub max_in_memory: usize,
    /// Folder for spilled data sets.
    pub spool: PathBuf,
    /// The largest data set of a C-STORE-RQ accepted; other data sets (identifiers) are held to
    /// the smaller of this and [`MAX_IDENTIFIER`]. Past it the message is a protocol violation of
    /// the peer: a data set that does not end (PS3.8 §9.3.5: its last fragment is flagged).
    pub max_data_set: u64,
    /// When the whole operation must have ended: no PDU is awaited past it.
    pub deadline: Option<tokio::time::Instant>,
}

impl ReceiveOptions {
    /// In memory up to 16 MiB, spilled to the system's temporary folder beyond, up to
    /// [`DEFAULT_MAX_DATA_SET`]; no deadline.
    pub fn new(read_timeout: Duration) -> ReceiveOptions {
        ReceiveOptions {
            read_timeout,
            max_in_memory: 16 * 1024 * 1024,
            spool: std::env::temp_dir(),
            max_data_set: DEFAULT_MAX_DATA_SET,
            deadline: None,
        }
    }
}

enum Sink {
    Memory(Vec<u8>),
    /// A spill file, removed when the sink is dropped unless [`Sink::finish`] keeps it.
    File(tempfile::NamedTempFile, u64),
}

impl Sink {
    fn len(&self) -> u64 {
        match self {
            Sink::Memory(v) => v.len() as u64,
            Sink::File(_, size) => *size,
        }
    }

    fn write(&mut self, data: &[u8], opts: &ReceiveOptions) -> Result<(), DimseError> {
        match self {
            Sink::Memory(v) => {
                if v.len() + data.len() > opts.max_in_memory {
                    let mut f = tempfile::Builder::new()
                        .prefix("ihe-harness-dimse-")
                        .tempfile_in(&opts.spool)?;
                    f.write_all(v)?;
                    f.write_all(data)?;
                    let size = (v.len() + data.len()) as u64;
                    *self = Sink::File(f, size);
                } else {
                    v.extend_from_slice(data);
                }
            }
            Sink::File(f, size) => {
                f.write_all(data)?;
                *size += data.len() as u64;
            }
        }
        Ok(())
    }

    fn finish(self) -> Result<DataSet, DimseError> {
        match self {
            Sink::Memory(v) => Ok(DataSet::Memory(v)),
            Sink::File(f, size) => {
                let (_, path) = f.keep().map_err(|e| DimseError::Io(e.error))?;
                Ok(DataSet::File { path, size })
            }
        }
    }
}

/// Read the next DIMSE message: command fragments, then data fragments when the command says a
/// data set follows. Every PDU must arrive within the read timeout.
pub async fn receive<A>(assoc: &mut A, opts: &ReceiveOptions) -> Result<Received, DimseError>
where
    A: AsyncAssociation<TcpStream> + Send,
{
    let t0 = Instant::now();
    let mut cmd_buf: Vec<u8> = Vec::new();
    let mut command: Option<Command> = None;
    let mut pc: Option<u8> = None;
    let mut sink: Option<Sink> = None;
    let mut hasher = sha2::Sha256::new();
    let mut pdus = 0u32;
    let mut largest = 0u32;
    let mut limit = opts.max_data_set.min(MAX_IDENTIFIER);
    let mut first_at: Option<Instant> = None;
    loop {
        // Each PDU within the read timeout, and none past the operation's deadline.
        let now = tokio::time::Instant::now();
        let wait = match opts.deadline {
            Some(d) if d <= now => return Err(DimseError::Deadline),
            Some(d) => opts.read_timeout.min(d - now),
            None => opts.read_timeout,
        };
        let pdu = match tokio::time::timeout(wait, AsyncAssociation::receive(assoc)).await {
            Err(_) if wait < opts.read_timeout => return Err(DimseError::Deadline),
            Err(_) => return Err(DimseError::Timeout(opts.read_timeout.as_millis())),
            Ok(Err(e)) => return Err(DimseError::Ul(super::association::error_chain(&e))),
            Ok(Ok(p)) => p,
        };
        let at = Instant::now();
        let first = *first_at.get_or_insert(at);
        let items = match pdu {
            Pdu::PData { data } => data,
            Pdu::AbortRQ { .. } => return Err(DimseError::Aborted),
            Pdu::ReleaseRQ => return Err(DimseError::ReleaseRequested),
            other => {
                return Err(DimseError::Protocol(format!(
                    "unexpected {} during a DIMSE message",
                    other.short_description()
                )))
            }
        };
        pdus += 1;
        largest = largest.max(
            items
                .iter()
                .map(|i| i.data.len() as u32 + PDV_OVERHEAD)
                .sum(),
        );
        for item in items {
            if let Some(p) = pc {
                if p != item.presentation_context_id {
                    return Err(DimseError::Protocol(format!(
                        "fragment on presentation context {} within a message on context {p}",
                        item.presentation_context_id
                    )));
                }
            }
            pc = Some(item.presentation_context_id);
            match item.value_type {
                PDataValueType::Command => {
                    if command.is_some() {
                        return Err(DimseError::Protocol(
                            "command fragment after the last command fragment".into(),
                        ));
                    }
                    if cmd_buf.len() + item.data.len() > MAX_COMMAND {
                        return Err(DimseError::Protocol(format!(
                            "command set longer than {MAX_COMMAND} bytes"
                        )));
                    }
                    cmd_buf.extend_from_slice(&item.data);
                    if item.is_last {
                        let c = command::decode(&cmd_buf)?;
                        if !c.has_data_set() {
                            return Ok(Received {
                                pc_id: item.presentation_context_id,
                                command_len: cmd_buf.len(),
                                command: c,
                                data: None,
                                data_sha256: None,
                                pdus,
                                largest_pdu: largest,
                                elapsed: t0.elapsed(),
                                first_pdu_at: first,
                                last_pdu_at: at,
                            });
                        }
                        if c.field == super::command::field::C_STORE_RQ {
                            limit = opts.max_data_set;
                        }
                        command = Some(c);
                        sink = Some(Sink::Memory(Vec::new()));
                    }
                }
                PDataValueType::Data => {
                    let Some(s) = sink.as_mut() else {
                        return Err(DimseError::Protocol(
                            "data fragment before the command set was complete, or for a command without a data set".into(),
                        ));
                    };
                    if s.len().saturating_add(item.data.len() as u64) > limit {
                        return Err(DimseError::Protocol(format!(
                            "the data set of the {} grew past {limit} bytes without its last fragment \
                             (the harness's limit; [dimse] max_dataset_bytes for instances)",
                            command.as_ref().map_or("message", |c| c.name())
                        )));
                    }
                    hasher.update(&item.data);
                    s.write(&item.data, opts)?;
                    if item.is_last {
                        let data = match sink.take() {
                            Some(s) => Some(s.finish()?),
                            None => None,
                        };
                        let command = command.take().ok_or_else(|| {
                            DimseError::Protocol("data set without a command".into())
                        })?;
                        return Ok(Received {
                            pc_id: item.presentation_context_id,
                            command_len: cmd_buf.len(),
                            command,
                            data,
                            data_sha256: Some(hex::encode(hasher.finalize())),
                            pdus,
                            largest_pdu: largest,
                            elapsed: t0.elapsed(),
                            first_pdu_at: first,
                            last_pdu_at: at,
                        });
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragments_fit_the_peer_maximum() {
        assert_eq!(fragment_len(16384), 16378);
        assert_eq!(fragment_len(0), 65530);
        assert_eq!(fragment_len(3), 1);
    }
}
