//! The C-MOVE destination of `retrieve --dimse --move`: a Storage SCP (PS3.4 §B.2.3) that takes
//! any number of associations at once (a SUT serving several C-MOVEs opens one sub-association
//! per move, PS3.4 §C.4.2.3.1), writes the data set of every C-STORE-RQ as a PS3.10 file under its
//! folder (large data sets reach the disk as they arrive: the message layer spools them), answers
//! 0000 Success, or A700 Refused: Out of Resources when the file cannot be written, and notes each
//! instance under the Move Originator Message ID (0000,1031) the SUT gave it, so that every
//! instance of a move is counted once.
//!
//! Unlike the reference's SCP (the scenarios' C-MOVE destination, which judges and archives what
//! arrives), it keeps no evidence and no archive: it is the receiving end of a transfer tool.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use dicom_dictionary_std::uids;
use dicom_ul::association::AsyncAssociation;
use dicom_ul::Pdu;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

use crate::actors::dimse_scu::dataset;
use crate::dimse::command::{field, status, Command};
use crate::dimse::message::{self, DataSet, DimseError, Outgoing, ReceiveOptions};
use crate::reference::dimse::scp::{STORAGE_SOP_CLASSES, TRANSFER_SYNTAXES};
use crate::transport::factory::{self, AssociationSettings};

/// C-STORE status "Refused: Out of Resources" (PS3.4 §B.2.3).
const OUT_OF_RESOURCES: u16 = 0xA700;
/// The maximum PDU length the receiver announces.
const MAX_PDU: u32 = 65_536;

/// One instance received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arrival {
    /// Affected SOP Instance UID (0000,1000) of the C-STORE-RQ.
    pub sop_instance: String,
    /// The file written, or why none was.
    pub file: Result<PathBuf, String>,
    /// Move Originator Application Entity Title (0000,1030), if the SUT gave one.
    pub originator_ae: Option<String>,
}

/// What arrived, by Move Originator Message ID (`None`: sub-operations that name no originator).
pub type Arrivals = BTreeMap<Option<u16>, Vec<Arrival>>;

/// A running receiver; it stops (every association with it) when dropped.
#[derive(Debug)]
pub struct MoveReceiver {
    addr: SocketAddr,
    arrivals: Arc<Mutex<Arrivals>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for MoveReceiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl MoveReceiver {
    /// Listen on `bind` as `ae_title`, writing instances under `dir` (which must exist); each
    /// association waits at most `timeout` for a PDU.
    pub async fn start(
        bind: SocketAddr,
        ae_title: &str,
        dir: &Path,
        timeout: Duration,
    ) -> std::io::Result<MoveReceiver> {
        let listener = TcpListener::bind(bind).await?;
        let addr = listener.local_addr()?;
        let arrivals = Arc::new(Mutex::new(Arrivals::new()));
        let shared = Arc::new(Shared {
            ae_title: ae_title.to_string(),
            dir: dir.to_path_buf(),
            timeout,
            arrivals: arrivals.clone(),
            count: Default::default(),
        });
        let task = tokio::spawn(accept_loop(listener, shared));
        Ok(MoveReceiver {
            addr,
            arrivals,
            task,
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// What arrived so far.
    pub fn arrivals(&self) -> Arrivals {
        self.arrivals
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The instances of the move whose C-MOVE-RQ had Message ID `id`, taken out of the record.
    pub fn take(&self, id: u16) -> Vec<Arrival> {
        self.arrivals
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&Some(id))
            .unwrap_or_default()
    }
}

struct Shared {
    ae_title: String,
    dir: PathBuf,
    timeout: Duration,
    arrivals: Arc<Mutex<Arrivals>>,
    /// Instances received, for the names of files whose SOP Instance UID cannot name them.
    count: std::sync::atomic::AtomicUsize,
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut tasks = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((socket, _)) => {
                    tasks.spawn(association(socket, shared.clone()));
                }
                // A failed accept (descriptor exhaustion) must not end the listener.
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            },
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
        }
    }
}

/// One association: C-STORE-RQ and C-ECHO-RQ answered until the peer releases or aborts, or
/// stalls past the timeout.
async fn association(socket: TcpStream, shared: Arc<Shared>) {
    let _ = socket.set_nodelay(true);
    let mut options = factory::server_association(&AssociationSettings {
        local_ae: shared.ae_title.clone(),
        peer_ae: None,
        max_pdu: Some(MAX_PDU),
        strict: None,
        connect_timeout: None,
        read_timeout: shared.timeout,
        write_timeout: shared.timeout,
    })
    .with_abstract_syntax(uids::VERIFICATION);
    for uid in STORAGE_SOP_CLASSES {
        options = options.with_abstract_syntax(*uid);
    }
    for ts in TRANSFER_SYNTAXES {
        options = options.with_transfer_syntax(*ts);
    }
    let Ok(mut assoc) = options.establish_async(socket).await else {
        return;
    };
    let opts = ReceiveOptions {
        spool: shared.dir.clone(),
        ..ReceiveOptions::new(shared.timeout)
    };
    loop {
        let rx = match message::receive(&mut assoc, &opts).await {
            Ok(rx) => rx,
            Err(DimseError::ReleaseRequested) => {
                let _ = AsyncAssociation::send(&mut assoc, &Pdu::ReleaseRP).await;
                return;
            }
            Err(_) => return,
        };
        let st = match rx.command.field {
            field::C_ECHO_RQ => status::SUCCESS,
            field::C_STORE_RQ => {
                let ts = assoc
                    .presentation_contexts()
                    .iter()
                    .find(|p| p.id == rx.pc_id)
                    .map(|p| p.transfer_syntax.clone())
                    .unwrap_or_default();
                store(&shared, &rx.command, rx.data, &ts).await
            }
            // Nothing else is offered; answer as PS3.7 §C.5 says of an unknown operation.
            _ => 0x0211,
        };
        let rsp = Command::response_to(&rx.command, st, false);
        if message::send(&mut assoc, rx.pc_id, &rsp, Outgoing::None)
            .await
            .is_err()
        {
            return;
        }
    }
}

/// Write one received instance and note it; the status to answer.
async fn store(shared: &Shared, cmd: &Command, data: Option<DataSet>, ts: &str) -> u16 {
    let instance = cmd.affected_sop_instance.clone().unwrap_or_default();
    let class = cmd.affected_sop_class.clone().unwrap_or_default();
    let file = match data {
        None => Err("C-STORE-RQ without a data set".to_string()),
        Some(data) => {
            let n = shared
                .count
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let name = dataset::file_name(Some(&instance), n + 1);
            let path = shared.dir.join(name);
            let (p, i, t) = (path.clone(), instance.clone(), ts.to_string());
            let written = tokio::task::spawn_blocking(move || {
                let r = dataset::write_part10(&p, &class, &i, &t, &data);
                if let DataSet::File { path: spooled, .. } = &data {
                    let _ = std::fs::remove_file(spooled);
                }
                r
            })
            .await;
            match written {
                Ok(Ok(_)) => Ok(path),
                Ok(Err(e)) => Err(e.to_string()),
                Err(e) => Err(e.to_string()),
            }
        }
    };
    let st = if file.is_ok() {
        status::SUCCESS
    } else {
        OUT_OF_RESOURCES
    };
    shared
        .arrivals
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .entry(cmd.move_originator_id)
        .or_default()
        .push(Arrival {
            sop_instance: instance,
            file,
            originator_ae: cmd.move_originator_ae.clone(),
        });
    st
}
