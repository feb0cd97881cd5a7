//! The state every handler of the reference shares: the archive, the spool, the protocol stores
//! (XDS-I.b registry and repository, MHD resources), the inbox the simulators record into, the
//! faults switched on, and the run's limits for what a SUT sends.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use tokio::sync::watch;

use crate::evidence::inbox::Inbox;
use crate::reference::dicomweb::stow::Duplicates;
use crate::reference::faults::Fault;
use crate::reference::inbound::InboundLimits;
use crate::reference::store::archive::Archive;
use crate::reference::store::spool::Spool;
use crate::reference::{mhd, xds};

/// State shared by every request handler.
#[derive(Debug)]
pub struct AppState {
    pub(super) archive: RwLock<Archive>,
    pub(super) faults: BTreeSet<Fault>,
    pub(super) stall: Duration,
    pub(super) bound: SocketAddr,
    /// `https` when the server speaks TLS, else `http`.
    pub(super) scheme: &'static str,
    pub(super) spool: Spool,
    pub(super) shutdown: watch::Receiver<bool>,
    pub(super) sequence: AtomicU64,
    pub(super) xds: xds::XdsStore,
    pub(super) inbox: Arc<Inbox>,
    pub(super) mhd: mhd::MhdStore,
    pub(super) upstream: Option<xds::Upstream>,
    pub(super) duplicates: Duplicates,
    pub(super) inbound: InboundLimits,
    pub(super) xca_simulation: Arc<crate::reference::xca::initiating_gateway::Simulation>,
    pub(super) xca_responding_gateways: Option<String>,
}

/// Handle shared by the handlers.
pub type Shared = Arc<AppState>;

impl AppState {
    /// True when the fault is switched on.
    pub fn has(&self, f: Fault) -> bool {
        self.faults.contains(&f)
    }

    /// The faults switched on.
    pub fn faults(&self) -> &BTreeSet<Fault> {
        &self.faults
    }

    /// The address the server listens on.
    pub fn bound(&self) -> SocketAddr {
        self.bound
    }

    /// `https` when the server speaks TLS, else `http`: the scheme of the URLs it writes.
    pub fn scheme(&self) -> &'static str {
        self.scheme
    }

    /// The XDS-I.b registry and repository.
    pub fn xds(&self) -> &xds::XdsStore {
        &self.xds
    }

    /// What SUTs sent to the simulators (XDS-I.b, MHD, DIMSE), in arrival order.
    pub fn inbox(&self) -> &Inbox {
        &self.inbox
    }

    /// The MHD Document Recipient/Responder store.
    pub fn mhd(&self) -> &mhd::MhdStore {
        &self.mhd
    }

    /// What the simulated communities behind a SUT Initiating Gateway do.
    pub fn xca_simulation(&self) -> &crate::reference::xca::initiating_gateway::Simulation {
        &self.xca_simulation
    }

    /// Where the Initiating Gateway finds the Responding Gateways of communities A and B (the
    /// base of their `/community-a/…` paths); `None`: its own simulated ones.
    pub fn xca_responding_gateways(&self) -> Option<&str> {
        self.xca_responding_gateways.as_deref()
    }

    /// What the simulated actors read of a SUT's request.
    pub fn inbound_limits(&self) -> &InboundLimits {
        &self.inbound
    }

    /// The DICOMweb service RAD-69 is mapped onto, if any.
    pub fn upstream(&self) -> Option<&xds::Upstream> {
        self.upstream.as_ref()
    }

    /// What STOW-RS does with a second copy of an instance the archive holds.
    pub fn duplicates(&self) -> Duplicates {
        self.duplicates
    }

    /// The spool folder.
    pub fn spool(&self) -> &Spool {
        &self.spool
    }

    /// A receiver that turns true when the server shuts down.
    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown.clone()
    }

    /// Read access to the archive (a poisoned lock is still usable: the index is never left half-written).
    pub fn archive(&self) -> RwLockReadGuard<'_, Archive> {
        self.archive.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Write access to the archive.
    pub fn archive_mut(&self) -> RwLockWriteGuard<'_, Archive> {
        self.archive.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// A fresh multipart boundary.
    pub fn boundary(&self) -> String {
        let n = self.sequence.fetch_add(1, Ordering::Relaxed);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let seed = format!("{}-{n}-{now}", std::process::id());
        crate::transport::multipart::make_boundary(seed.as_bytes())
    }

    /// The stall-before-headers fault: wait before answering a WADO-RS request.
    pub async fn stall_before_headers(&self) {
        if self.has(Fault::StallBeforeHeaders) {
            let mut rx = self.shutdown.clone();
            tokio::select! {
                _ = tokio::time::sleep(self.stall) => {}
                _ = rx.wait_for(|v| *v) => {}
            }
        }
    }

    /// The stall time for the stall faults.
    pub fn stall(&self) -> Duration {
        self.stall
    }
}
