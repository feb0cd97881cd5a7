//! The cucumber World: one per scenario, small on purpose.
//!
//! It holds a handle on the run (configuration, fixtures, clients), the scenario's evidence log, the
//! findings the checks produced, and typed per-domain state. Behaviour lives in the actors and checks.

use std::sync::{Arc, Mutex, RwLock};

use crate::actors::dicomweb::DicomwebClient;
use crate::actors::dimse_scu::DimseScu;
use crate::actors::xds::XdsClient;
use crate::checks::{Expect, Finding, QidoLevel};
use crate::config::Config;
use crate::evidence::inbox::Inbox;
use crate::evidence::{EvidenceLog, Exchange};
use crate::model::fixtures::Fixtures;
use crate::report::ScenarioRecord;

/// What every scenario of a run shares.
pub struct RunContext {
    /// The resolved SUT profile.
    pub config: Config,
    /// The fixture studies.
    pub fixtures: Fixtures,
    /// DICOMweb user agent, when the SUT has a DICOMweb endpoint.
    pub dicomweb: Option<DicomwebClient>,
    /// XDS-I.b user agent, when the SUT has XDS endpoints.
    pub xds: Option<Arc<XdsClient>>,
    /// The harness's simulated XDS actors (Registry, Repository, Imaging Document Source) that
    /// the SUT calls, when they run.
    pub simulator: Option<Simulator>,
    /// Set once the fixture manifests are registered on the SUT (load mode, once per run).
    pub xds_data: tokio::sync::OnceCell<Result<(), crate::test_data::TestDataError>>,
    /// Faults injected into the embedded reference (self-tests only; empty otherwise). The
    /// built-in stand-ins for a SUT that calls the harness honour the ones meant for them.
    pub faults: std::collections::BTreeSet<crate::reference::Fault>,
    /// DIMSE user agent, when the SUT has a DICOM application entity.
    pub dimse: Option<DimseScu>,
    /// Set once the test studies are on the SUT's DICOM archive (load mode, once per run), with
    /// the SOP Instance UIDs it took as their Explicit VR Little Endian twin; the failure that
    /// stopped the loading otherwise.
    pub dimse_data: tokio::sync::OnceCell<
        Result<std::collections::BTreeSet<String>, crate::evidence::TransportFailure>,
    >,
    /// Manifests the harness registered during the run: (DICOM patient id, study UID, uniqueId).
    pub submitted: Mutex<Vec<(String, String, String)>>,
    /// Set once the test data is on the SUT (load mode stores it once per run).
    pub test_data: tokio::sync::OnceCell<Result<(), crate::test_data::TestDataError>>,
    /// Finished scenarios, in completion order.
    pub results: Mutex<Vec<ScenarioRecord>>,
    /// MHD user agent, when the SUT has an MHD Document Recipient/Responder.
    pub mhd: Option<crate::actors::mhd::MhdClient>,
    /// The documents of the test studies as the SUT must hold them (the truth of the searches).
    pub mhd_catalogue: crate::model::fixtures::mhd::Catalogue,
    /// Set once the test documents are on the SUT (load mode, once per run).
    pub mhd_data: tokio::sync::OnceCell<Result<(), crate::test_data::TestDataError>>,
    /// The folder of the fixture studies the run uses.
    pub fixtures_dir: std::path::PathBuf,
    /// The SUT's TLS servers for the ATNA scenarios, set up by the first of them.
    pub secure_node:
        tokio::sync::OnceCell<Result<crate::actors::secure_node::SharedTarget, String>>,
    /// The harness's Audit Record Repository for the ITI-20 scenarios, started by the first of
    /// them (None: the SUT profile places no audit listener).
    pub audit_listeners: tokio::sync::OnceCell<
        Result<Option<Arc<crate::actors::audit_repository::AuditListeners>>, String>,
    >,
}

/// A few words, not the context's content: it holds every fixture and client of the run, and a
/// `{:#?}` of it (cucumber formats the World of a failed step) took seconds on the thread that
/// drives every scenario.
impl std::fmt::Debug for RunContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunContext")
            .field("sut", &self.config.sut_name)
            .field("fixture_instances", &self.fixtures.instances.len())
            .finish_non_exhaustive()
    }
}

static CONTEXT: RwLock<Option<Arc<RunContext>>> = RwLock::new(None);

/// Make `ctx` the context of the run about to start.
pub fn install_context(ctx: Arc<RunContext>) {
    if let Ok(mut g) = CONTEXT.write() {
        *g = Some(ctx);
    }
}

/// The context of the current run.
pub fn current_context() -> Option<Arc<RunContext>> {
    CONTEXT.read().ok().and_then(|g| g.clone())
}

/// The simulated XDS actors of a run: where the SUT must call them, and what they received.
#[derive(Debug, Clone)]
pub struct Simulator {
    /// Base URL of the XDS endpoints (`…/xds`), as the SUT must call it.
    pub xds_base: String,
    /// Inbound exchanges.
    pub inbox: Arc<Inbox>,
    /// Where the harness's DICOM SCP (Storage, C-MOVE destination) listens, if it does.
    pub dimse_addr: Option<std::net::SocketAddr>,
    /// FHIR base of the simulated MHD Document Recipient/Responder (`…/fhir`), as the SUT must
    /// call it.
    pub fhir_base: String,
    /// The certificate the simulators' TLS endpoints present, swappable (`[simulator.tls]`).
    pub cert_switch: Option<Arc<crate::transport::tls::SwitchableCert>>,
    /// The TLS handshakes SUT clients attempted with the DICOM SCP.
    pub dimse_handshakes: Option<Arc<crate::transport::tls::listener::HandshakeLog>>,
    /// The TLS handshakes SUT clients attempted with the HTTP endpoints (XDS, MHD).
    pub http_handshakes: Option<Arc<crate::transport::tls::listener::HandshakeLog>>,
    /// Service base URL of the simulated DICOMweb origin server (`…/origin/dicom-web`), as a SUT
    /// user agent must call it.
    pub dicomweb_base: String,
    /// Base URL of the simulated communities' Responding Gateways (`…/xca`), as the SUT must
    /// call them.
    pub xca_base: String,
    /// What the simulated communities behind a SUT Initiating Gateway do.
    pub xca_simulation: Option<Arc<crate::reference::xca::initiating_gateway::Simulation>>,
}

/// A document retrieved with ITI-68, with the DocumentReference that pointed at it.
#[derive(Debug, Clone)]
pub struct Retrieved {
    /// The exchange.
    pub idx: usize,
    /// The DocumentReference.
    pub docref: serde_json::Value,
    /// The document's bytes.
    pub bytes: bytes::Bytes,
}

/// MHD state of a scenario.
#[derive(Debug, Default)]
pub struct MhdState {
    /// The exchange the next Then step judges.
    pub last: Option<usize>,
    /// What it must hold.
    pub expect: Expect,
    /// The KOS manifest retrieved.
    pub kos: Option<Retrieved>,
    /// The FHIR manifest retrieved.
    pub fhir: Option<Retrieved>,
    /// The report retrieved.
    pub report: Option<Retrieved>,
    /// Instances the image source returned, by series (WADO-RS after a manifest).
    pub images: Option<std::collections::BTreeMap<String, std::collections::BTreeSet<String>>>,
    /// Series the manifest references whose retrieve was not answered with the series: what the
    /// image source holds of them is unknown.
    pub images_unanswered: Vec<String>,
    /// The document the harness provided (ITI-65).
    pub provided: Option<crate::model::fixtures::mhd::PublishedDoc>,
    /// The document the last provided one replaced.
    pub replaced: Option<crate::model::fixtures::mhd::PublishedDoc>,
    /// The `next` pages of the last search, followed (evidence indexes), judged with it.
    pub pages: Vec<usize>,
    /// Why the last search was not read to its end, when it was not (the harness's limits).
    pub cut: Option<String>,
}

/// XDS-I.b state of a scenario.
#[derive(Debug, Default)]
pub struct XdsState {
    /// Index (in the evidence log) of the exchange the next `Then` judges.
    pub last: Option<usize>,
    /// What that exchange must satisfy.
    pub expect: Expect,
    /// The DocumentEntries of the last LeafClass query.
    pub entries: Vec<crate::model::ebrim::DocumentEntry>,
    /// The manifest most recently sent or retrieved (bytes), for RAD-69 steps.
    pub manifest: Option<bytes::Bytes>,
    /// What community B behind a SUT Initiating Gateway does in the scenario's next request.
    pub xca_community_b: crate::reference::xca::initiating_gateway::Behaviour,
    /// The requests a SUT Initiating Gateway sent to the simulated communities in the last
    /// exchange (evidence indexes).
    pub xca_legs: Vec<usize>,
    /// The stored queries a SUT Document Consumer sent to the harness's Initiating Gateway before
    /// its retrieve (evidence indexes).
    pub xca_consumer_queries: Vec<usize>,
}

/// DIMSE state of a scenario.
#[derive(Debug, Default)]
pub struct DimseState {
    /// Index (in the evidence log) of the exchange the next `Then` judges.
    pub last: Option<usize>,
    /// What that exchange must satisfy.
    pub expect: Expect,
    /// The C-STOREs the harness's Storage SCP received for it (C-MOVE sub-operations, or a SUT's
    /// stores after a trigger).
    pub followups: Vec<Exchange>,
}

/// DICOMweb state of a scenario.
#[derive(Debug, Default)]
pub struct DicomwebState {
    /// The XC-WADO gateway's service root the retrieve steps address instead of the SUT's
    /// DICOMweb endpoint, once a scenario chose it.
    pub gateway: Option<crate::actors::dicomweb::DicomwebClient>,
    /// Index (in the evidence log) of the exchange the next `Then` judges.
    pub last: Option<usize>,
    /// What that exchange must satisfy.
    pub expect: Expect,
    /// BulkDataURI dereferences made after the last metadata retrieve.
    pub followups: Vec<Exchange>,
    /// Result UIDs of the last unpaged query, for paging checks.
    pub unpaged: Option<Vec<String>>,
    /// Level of the last query.
    pub level: Option<QidoLevel>,
    /// Retrieves made from a manifest's references, each with what it must return.
    pub crosswalk: Vec<(usize, Expect)>,
    /// Re-identified copies of fixture instances the scenario stored, by the fixture's SOP
    /// Instance UID: later steps of the scenario address the copy.
    pub copies: std::collections::BTreeMap<String, crate::model::fixtures::FixtureInstance>,
    /// The SUT as user agent: what it was asked for and the requests it sent.
    pub user_agent: Option<crate::steps::dicomweb::UaSeen>,
}

/// The World.
#[derive(cucumber::World)]
#[world(init = Self::new)]
pub struct HarnessWorld {
    /// The run.
    pub ctx: Arc<RunContext>,
    /// Every exchange of the scenario.
    pub evidence: EvidenceLog,
    /// Every check result of the scenario.
    pub findings: Vec<Finding>,
    /// DICOMweb state.
    pub dicomweb: DicomwebState,
    /// XDS-I.b state.
    pub xds: XdsState,
    /// DIMSE state.
    pub dimse: DimseState,
    /// MHD state.
    pub mhd: MhdState,
    /// When the scenario started.
    pub started: std::time::Instant,
    /// ATNA state.
    pub atna: AtnaState,
    /// The Audit Record Repository scenarios' state (the SUT is the repository).
    pub arr: crate::steps::atna_arr::ArrState,
    /// Figures the scenario measured (a @perf scenario's timings), by name, for the reports.
    pub metrics: std::collections::BTreeMap<String, f64>,
    /// While a load run records: per exchange (its index in `evidence`), the checks that passed
    /// on it and the expectation they were judged against, to judge its replayed answers with.
    pub replay_checks: Vec<crate::load::ReplayChecks>,
}

/// The ATNA state of a scenario: the TLS endpoint chosen and the check the last attempt asks.
#[derive(Debug, Default)]
pub struct AtnaState {
    /// The endpoint's name (`DICOMweb`).
    pub endpoint: Option<String>,
    /// The exchange of the last attempt, the checks that judge it and what they expect.
    pub last: Option<(usize, Vec<&'static str>, crate::checks::tls::TlsExpect)>,
    /// The bad certificate the harness's server is to present, in words.
    pub server_bad: Option<String>,
    /// The check that judges the SUT client shown it.
    pub server_check: Option<&'static str>,
    /// The harness's server that presents it (`DICOM SCP`, `MHD Document Recipient`).
    pub server_role: Option<String>,
    /// ITI-20: the syslog transport the scenario's audit comes over (`TLS`, `UDP`).
    pub audit_transport: Option<String>,
    /// ITI-20: the exchange of the audit received and what is expected of it.
    pub audit_last: Option<(usize, crate::checks::atna::AtnaExpect)>,
}

/// A summary (exchanges and findings counted, not shown): the bodies of a scenario's exchanges can
/// be large, and cucumber formats the World of every failed step.
impl std::fmt::Debug for HarnessWorld {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HarnessWorld")
            .field("ctx", &self.ctx)
            .field("exchanges", &self.evidence.exchanges().len())
            .field("findings", &self.findings.len())
            .finish_non_exhaustive()
    }
}

/// The World could not be created: no run context was installed.
#[derive(Debug, thiserror::Error)]
#[error("no run context installed")]
pub struct NoContext;

impl HarnessWorld {
    fn new() -> Result<Self, NoContext> {
        let ctx = current_context().ok_or(NoContext)?;
        Ok(HarnessWorld {
            ctx,
            evidence: EvidenceLog::default(),
            findings: Vec::new(),
            dicomweb: DicomwebState::default(),
            xds: XdsState::default(),
            dimse: DimseState::default(),
            mhd: MhdState::default(),
            atna: AtnaState::default(),
            arr: Default::default(),
            started: std::time::Instant::now(),
            metrics: Default::default(),
            replay_checks: Vec::new(),
        })
    }
}
