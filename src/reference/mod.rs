//! The embedded reference: the harness's default system under test, and the simulators a SUT that
//! acts first (a client, a source, a modality) calls.
//!
//! It serves the fixture studies on one HTTP port over DICOMweb (PS3.18: WADO-RS, IHE RAD-107;
//! QIDO-RS, RAD-129; STOW-RS, RAD-108) below `/dicom-web`, XDS-I.b (Document Registry, Document
//! Repository and Imaging Document Source) below `/xds` and MHD (Document Recipient and Responder)
//! below `/fhir`, and, when asked, over DIMSE on a port of its own. It is conformant and strict
//! about requests. Every conformance check of the harness must pass against it; to show that each
//! check can also fail, tests switch on one [`Fault`] at a time, each breaking exactly one rule.
//!
//! This module is the facade the harness (runner, world, steps, the binary) uses: [`ReferenceServer`]
//! started with [`ReferenceOptions`], [`Fault`], and the few names the options and the endpoints'
//! URLs need ([`Duplicates`], [`InboundLimits`], [`XDS_PATH`], [`FHIR_PATH`]). What the judge shares
//! with the reference lives outside it: the inbox in [`crate::evidence::inbox`], what the fixture
//! studies publish over MHD in [`crate::model::fixtures::mhd`], FHIR search matching in
//! [`crate::model::fhir::search`]. The protocol folders stay public for the integration tests.
//!
//! Module map:
//! - [`store`]: what every protocol serves from: the archive (the in-memory index of studies, series
//!   and instances; files stay on disk), where values lie in stored files and Implicit/Explicit VR
//!   transcoding, and the spool folder of received instances;
//! - [`dicomweb`]: the DICOMweb origin server: WADO-RS retrieval, metadata, bulk data and rendered
//!   resources, QIDO-RS search and matching, STOW-RS, Accept negotiation and HTTP plumbing;
//! - [`dimse`]: the DIMSE SCP (Verification, Storage, Query/Retrieve FIND/MOVE/GET, PS3.4
//!   Annexes A-C) and the C-STORE sub-operations of C-MOVE and C-GET;
//! - [`xds`]: the XDS-I.b Document Registry, Document Repository and Imaging Document Source;
//! - [`mhd`]: the MHD Document Recipient and Document Responder, and what they publish at start;
//! - [`inbound`]: how the simulators read a SUT's request within the run's `[limits]`, and record it;
//! - [`state`]: the state every handler shares (archive, spool, protocol stores, inbox, faults);
//! - [`faults`]: the fault switch;
//! - [`atna`]: the Audit Record Repository the ARR scenarios test (syslog/TLS, UDP, the FHIR feed,
//!   ITI-81 over what it received), started by the run beside the reference.

pub mod atna;
pub mod dicomweb;
pub mod dimse;
pub mod faults;
pub mod inbound;
pub mod mhd;
pub mod state;
pub mod store;
pub mod xc_wado;
pub mod xca;
pub mod xcai;
pub mod xds;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::Router;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::evidence::inbox::Inbox;

pub use dicomweb::stow::Duplicates;
pub use faults::{Fault, UnknownFault};
pub use inbound::InboundLimits;
pub use mhd::FHIR_PATH;
pub use xds::XDS_PATH;

use state::{AppState, Shared};
use store::archive::{Archive, ArchiveError};
use store::spool::Spool;

/// Default time the stall faults wait.
pub const DEFAULT_STALL: Duration = Duration::from_secs(3600);

/// How long [`ReferenceServer::shutdown`] waits for open connections before dropping them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Options of the reference server, built with [`ReferenceOptions::new`] and the `with_` methods.
#[derive(Debug, Clone)]
pub struct ReferenceOptions {
    /// Folder holding `index.json` and the fixture files.
    pub fixtures_dir: PathBuf,
    /// Faults to inject (empty for a conformant server).
    pub faults: BTreeSet<Fault>,
    /// Address to listen on; port 0 picks a free port.
    pub bind: SocketAddr,
    /// How long the stall faults wait.
    pub stall: Duration,
    /// A DICOMweb origin server (service root) the Imaging Document Source maps RAD-69 onto:
    /// the instances are fetched from it with WADO-RS instead of read from the fixture files.
    pub wado_upstream: Option<String>,
    /// Address of the DIMSE SCP; `None` runs no DIMSE listener.
    pub dimse_bind: Option<SocketAddr>,
    /// The DIMSE SCP's AE title (the only called AE title it accepts).
    pub ae_title: String,
    /// Move destinations known to the DIMSE SCP: AE title to address.
    pub move_destinations: BTreeMap<String, SocketAddr>,
    /// The longest wait for one PDU from a DIMSE peer.
    pub dimse_timeout: Duration,
    /// What STOW-RS does with a second copy of an instance the archive holds.
    pub duplicates: Duplicates,
    /// What the simulated actors read of a SUT's request (the run's `[limits]`).
    pub inbound: InboundLimits,
    /// TLS for the HTTP endpoints and the DICOM SCP (`[simulator.tls]`, or the ATNA
    /// scenarios' certificates); `None` serves plain HTTP and DICOM.
    pub tls: Option<crate::transport::tls::ServerTls>,
    /// The code table the published MADO manifests use (the run's profile pack).
    pub mado_code_table: crate::model::mado::CodeTable,
    /// The base of the Responding Gateways of communities A and B the Initiating Gateway calls
    /// (`…/xca`); `None`: the server's own simulated ones.
    pub xca_responding_gateways: Option<String>,
}

impl ReferenceOptions {
    /// Conformant server on `127.0.0.1:0` serving the fixtures in `fixtures_dir`.
    pub fn new(fixtures_dir: impl Into<PathBuf>) -> Self {
        ReferenceOptions {
            fixtures_dir: fixtures_dir.into(),
            faults: BTreeSet::new(),
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            stall: DEFAULT_STALL,
            wado_upstream: None,
            dimse_bind: None,
            ae_title: dimse::scp::DEFAULT_AE_TITLE.to_string(),
            move_destinations: BTreeMap::new(),
            dimse_timeout: dimse::scp::DEFAULT_TIMEOUT,
            duplicates: Duplicates::default(),
            inbound: InboundLimits::default(),
            tls: None,
            mado_code_table: Default::default(),
            xca_responding_gateways: None,
        }
    }

    /// The Initiating Gateway calls the Responding Gateways of communities A and B below `base`
    /// (`{base}/community-a/responding-gateway/query`, …).
    pub fn with_xca_responding_gateways(mut self, base: impl Into<String>) -> Self {
        self.xca_responding_gateways = Some(base.into());
        self
    }

    /// Write the published MADO manifests with this code table (the run's profile pack).
    pub fn with_mado_code_table(mut self, table: crate::model::mado::CodeTable) -> Self {
        self.mado_code_table = table;
        self
    }

    /// Serve HTTPS and DICOM TLS with this certificate and client-certificate policy.
    pub fn with_tls(mut self, tls: crate::transport::tls::ServerTls) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Read the requests of a SUT within these limits.
    pub fn with_inbound_limits(mut self, limits: InboundLimits) -> Self {
        self.inbound = limits;
        self
    }

    /// Run the DIMSE SCP on this address (port 0 picks a free port).
    pub fn with_dimse_bind(mut self, bind: SocketAddr) -> Self {
        self.dimse_bind = Some(bind);
        self
    }

    /// Set the DIMSE SCP's AE title.
    pub fn with_ae_title(mut self, ae_title: impl Into<String>) -> Self {
        self.ae_title = ae_title.into();
        self
    }

    /// Add a C-MOVE destination to the AE table; an address with port 0 names the DIMSE SCP
    /// itself, at the address it binds.
    pub fn with_move_destination(mut self, ae_title: impl Into<String>, addr: SocketAddr) -> Self {
        self.move_destinations.insert(ae_title.into(), addr);
        self
    }

    /// Set the longest wait for one PDU from a DIMSE peer.
    pub fn with_dimse_timeout(mut self, timeout: Duration) -> Self {
        self.dimse_timeout = timeout;
        self
    }

    /// Map RAD-69 onto this DICOMweb service root.
    pub fn with_wado_upstream(mut self, base: impl Into<String>) -> Self {
        self.wado_upstream = Some(base.into().trim_end_matches('/').to_string());
        self
    }

    /// Switch on one fault.
    pub fn with_fault(mut self, f: Fault) -> Self {
        self.faults.insert(f);
        self
    }

    /// Listen on this address.
    pub fn with_bind(mut self, bind: SocketAddr) -> Self {
        self.bind = bind;
        self
    }

    /// Set how long the stall faults wait.
    pub fn with_stall(mut self, stall: Duration) -> Self {
        self.stall = stall;
        self
    }

    /// Choose what STOW-RS does with a second copy of an instance the archive holds: replace it
    /// (the default) or refuse it, both conformant (PS3.4 §B.2.3, PS3.18 §10.5.3).
    pub fn with_duplicates(mut self, duplicates: Duplicates) -> Self {
        self.duplicates = duplicates;
        self
    }
}

/// Errors starting the reference server.
#[derive(Debug, thiserror::Error)]
pub enum ReferenceError {
    /// The fixtures could not be loaded.
    #[error("cannot load the reference archive: {0}")]
    Archive(#[from] ArchiveError),
    /// The spool folder for STOW-RS could not be created.
    #[error("cannot create the spool folder {path}: {source}")]
    Spool {
        /// Folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The listening socket could not be opened.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// Address asked for.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The fixture loading task failed.
    #[error("fixture loading task failed: {0}")]
    Task(String),
    /// The TLS configuration could not be built.
    #[error(transparent)]
    Tls(#[from] crate::transport::tls::TlsError),
}

/// Every protocol's routes on one port: DICOMweb (with its fault hooks), XDS-I.b and MHD.
fn router(state: Shared) -> Router {
    dicomweb::routes(state.clone())
        .merge(xds::routes())
        .merge(xca::routes())
        .merge(xc_wado::routes())
        .merge(xcai::routes())
        .merge(mhd::routes())
        .merge(dicomweb::origin::routes())
        .with_state(state)
}

/// A running reference server. Stop it with [`ReferenceServer::shutdown`].
#[derive(Debug)]
pub struct ReferenceServer {
    addr: SocketAddr,
    state: Shared,
    stop: watch::Sender<bool>,
    task: JoinHandle<std::io::Result<()>>,
    dimse: Option<dimse::scp::DimseListener>,
    handshakes: Option<Arc<crate::transport::tls::listener::HandshakeLog>>,
    cert_switch: Option<Arc<crate::transport::tls::SwitchableCert>>,
}

impl ReferenceServer {
    /// Load the fixtures, bind, and serve on the current tokio runtime.
    pub async fn start(opts: ReferenceOptions) -> Result<ReferenceServer, ReferenceError> {
        let dir = opts.fixtures_dir.clone();
        let faults = opts.faults.clone();
        let table = opts.mado_code_table;
        let (archive, xds, mhd) = tokio::task::spawn_blocking(move || {
            Archive::load(&dir).map(|a| {
                let x = xds::XdsStore::preload(&a, &faults);
                let m = mhd::MhdStore::preload(&dir, &faults, table);
                (a, x, m)
            })
        })
        .await
        .map_err(|e| ReferenceError::Task(e.to_string()))??;
        let spool = Spool::create().map_err(|e| ReferenceError::Spool {
            path: e.path,
            source: e.source,
        })?;
        let listener = tokio::net::TcpListener::bind(opts.bind)
            .await
            .map_err(|source| ReferenceError::Bind {
                addr: opts.bind,
                source,
            })?;
        let addr = listener
            .local_addr()
            .map_err(|source| ReferenceError::Bind {
                addr: opts.bind,
                source,
            })?;
        let (stop, shutdown) = watch::channel(false);
        let state = Arc::new(AppState {
            archive: RwLock::new(archive),
            faults: opts.faults,
            stall: opts.stall,
            bound: addr,
            scheme: if opts.tls.is_some() { "https" } else { "http" },
            spool,
            shutdown: shutdown.clone(),
            sequence: AtomicU64::new(0),
            xds,
            inbox: Arc::new(Inbox::default()),
            mhd,
            upstream: opts.wado_upstream.clone().map(xds::Upstream::new),
            duplicates: opts.duplicates,
            inbound: opts.inbound,
            xca_simulation: Default::default(),
            xca_responding_gateways: opts.xca_responding_gateways.clone(),
        });
        state.inbox.set_budget(opts.inbound.inbox_bytes);
        // One certificate for every TLS endpoint, swappable while the server runs.
        let (server_tls, cert_switch) = match &opts.tls {
            Some(t) => {
                crate::transport::install_crypto_provider();
                let (config, switch) = t.switchable_config()?;
                (Some(Arc::new(config)), Some(switch))
            }
            None => (None, None),
        };
        let dimse = match opts.dimse_bind {
            Some(bind) => Some(
                dimse::scp::DimseListener::start(
                    bind,
                    state.clone(),
                    dimse::scp::DimseConfig {
                        ae_title: opts.ae_title.clone(),
                        move_destinations: opts.move_destinations.clone(),
                        timeout: opts.dimse_timeout,
                        tls: server_tls.clone(),
                        relayed: Default::default(),
                        move_tls: opts.tls.as_ref().map(|t| t.as_client()),
                    },
                )
                .await
                .map_err(|source| ReferenceError::Bind { addr: bind, source })?,
            ),
            None => None,
        };
        let app = router(state.clone());
        let mut signal = shutdown;
        let stopped = async move {
            let _ = signal.wait_for(|v| *v).await;
        };
        let (task, handshakes) = match &server_tls {
            None => (
                tokio::spawn(async move {
                    axum::serve(listener, app)
                        .with_graceful_shutdown(stopped)
                        .await
                }),
                None,
            ),
            Some(tls) => {
                let tls_listener =
                    crate::transport::tls::listener::TlsListener::new(listener, tls.clone())
                        .map_err(|source| ReferenceError::Bind {
                            addr: opts.bind,
                            source,
                        })?;
                let log = tls_listener.log();
                (
                    tokio::spawn(async move {
                        axum::serve(tls_listener, app)
                            .with_graceful_shutdown(stopped)
                            .await
                    }),
                    Some(log),
                )
            }
        };
        Ok(ReferenceServer {
            addr,
            state,
            stop,
            task,
            dimse,
            handshakes,
            cert_switch,
        })
    }

    /// The DICOMweb service base URL, `http://127.0.0.1:PORT/dicom-web`.
    pub fn dicomweb_base(&self) -> String {
        format!(
            "{}://{}{}",
            self.state.scheme(),
            self.addr,
            dicomweb::web::SERVICE_PATH
        )
    }

    /// The service base URL of the recorded origin server a SUT user agent calls,
    /// `http://127.0.0.1:PORT/origin/dicom-web`.
    pub fn origin_base(&self) -> String {
        format!(
            "{}://{}{}{}",
            self.state.scheme(),
            self.addr,
            dicomweb::origin::ORIGIN_PATH,
            dicomweb::web::SERVICE_PATH
        )
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The address of the DIMSE SCP, when one was asked for.
    pub fn dimse_addr(&self) -> Option<SocketAddr> {
        self.dimse.as_ref().map(|d| d.addr())
    }

    /// The XC-WADO Responding Imaging Gateway's root, `http://127.0.0.1:PORT/xc-wado/responding-gateway`.
    pub fn xc_wado_base(&self) -> String {
        format!(
            "{}://{}{}",
            self.state.scheme(),
            self.addr,
            xc_wado::XC_WADO_PATH
        )
    }

    /// The XCA Responding Gateway's base URL, `http://127.0.0.1:PORT/xca`.
    pub fn xca_base(&self) -> String {
        format!("{}://{}{}", self.state.scheme(), self.addr, xca::XCA_PATH)
    }

    /// The XCA-I Responding Imaging Gateway's base URL, `http://127.0.0.1:PORT/xca-i`.
    pub fn xcai_base(&self) -> String {
        format!("{}://{}{}", self.state.scheme(), self.addr, xcai::XCAI_PATH)
    }

    /// What the simulated communities behind a SUT Initiating Gateway do.
    pub fn xca_simulation(&self) -> Arc<crate::reference::xca::initiating_gateway::Simulation> {
        self.state.xca_simulation.clone()
    }

    /// The XDS-I.b endpoints' base URL, `http://127.0.0.1:PORT/xds`.
    pub fn xds_base(&self) -> String {
        format!("{}://{}{}", self.state.scheme(), self.addr, xds::XDS_PATH)
    }

    /// The MHD FHIR base URL, `http://127.0.0.1:PORT/fhir`.
    pub fn fhir_base(&self) -> String {
        format!("{}://{}{}", self.state.scheme(), self.addr, mhd::FHIR_PATH)
    }

    /// The TLS handshakes clients attempted with the HTTP endpoints, when the server speaks TLS.
    pub fn handshakes(&self) -> Option<Arc<crate::transport::tls::listener::HandshakeLog>> {
        self.handshakes.clone()
    }

    /// The TLS handshakes clients attempted with the DICOM SCP, when it speaks DICOM TLS.
    pub fn dimse_handshakes(&self) -> Option<Arc<crate::transport::tls::listener::HandshakeLog>> {
        self.dimse.as_ref().and_then(|d| d.handshakes())
    }

    /// The certificate every TLS endpoint presents, swappable, when the server speaks TLS.
    pub fn cert_switch(&self) -> Option<Arc<crate::transport::tls::SwitchableCert>> {
        self.cert_switch.clone()
    }

    /// The inbound exchanges of the simulators (XDS-I.b, MHD, DIMSE).
    pub fn inbox(&self) -> Arc<Inbox> {
        self.state.inbox.clone()
    }

    /// Stop accepting connections, end responses in progress (stalls included), wait briefly for
    /// connections to close, and remove the spool folder.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let mut task = self.task;
        if tokio::time::timeout(SHUTDOWN_GRACE, &mut task)
            .await
            .is_err()
        {
            task.abort();
        }
        if let Some(d) = self.dimse {
            d.stopped(SHUTDOWN_GRACE).await;
        }
        self.state.spool.remove();
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The fixture set: `IHE_HARNESS_FIXTURES` if set, else `fixtures/studies` of the crate.
    pub fn fixtures_dir() -> PathBuf {
        std::env::var_os("IHE_HARNESS_FIXTURES")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/studies"))
    }

    /// An HTTP client for the tests.
    pub fn client() -> reqwest::Client {
        let _ = rustls::crypto::ring::default_provider().install_default();
        reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client")
    }

    /// Start a server with these faults.
    pub async fn start(faults: &[Fault]) -> ReferenceServer {
        let mut opts = ReferenceOptions::new(fixtures_dir()).with_stall(Duration::from_secs(2));
        for f in faults {
            opts = opts.with_fault(*f);
        }
        ReferenceServer::start(opts).await.expect("server starts")
    }

    #[tokio::test]
    async fn starts_serves_404_elsewhere_and_stops() {
        let server = start(&[]).await;
        let base = server.dicomweb_base();
        assert!(base.starts_with("http://127.0.0.1:"));
        let r = client()
            .get(format!("{base}/nowhere"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
        let spool = server.state.spool.dir().to_path_buf();
        assert!(spool.is_dir());
        server.shutdown().await;
        assert!(!spool.exists());
    }

    #[tokio::test]
    async fn missing_fixtures_is_an_error() {
        let err = ReferenceServer::start(ReferenceOptions::new("/nonexistent/fixtures"))
            .await
            .unwrap_err();
        assert!(matches!(err, ReferenceError::Archive(_)));
    }
}
