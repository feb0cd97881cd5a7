//! The cucumber World: one per scenario, small on purpose.
//!
//! It holds a handle on the run (configuration, fixtures, clients), the scenario's evidence log, the
//! findings the checks produced, and typed per-domain state. Behaviour lives in the actors and checks.

use std::sync::{Arc, Mutex, RwLock};

use crate::actors::dicomweb::DicomwebClient;
use crate::checks::{Expect, Finding, QidoLevel};
use crate::config::Config;
use crate::evidence::{EvidenceLog, Exchange};
use crate::model::fixtures::Fixtures;
use crate::report::ScenarioRecord;

/// What every scenario of a run shares.
#[derive(Debug)]
pub struct RunContext {
    /// The resolved SUT profile.
    pub config: Config,
    /// The fixture studies.
    pub fixtures: Fixtures,
    /// DICOMweb user agent, when the SUT has a DICOMweb endpoint.
    pub dicomweb: Option<DicomwebClient>,
    /// Set once the test data is on the SUT (load mode stores it once per run).
    pub test_data: tokio::sync::OnceCell<Result<(), String>>,
    /// Finished scenarios, in completion order.
    pub results: Mutex<Vec<ScenarioRecord>>,
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

/// DICOMweb state of a scenario.
#[derive(Debug, Default)]
pub struct DicomwebState {
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
}

/// The World.
#[derive(Debug, cucumber::World)]
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
    /// When the scenario started.
    pub started: std::time::Instant,
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
            started: std::time::Instant::now(),
        })
    }
}
