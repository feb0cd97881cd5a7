//! One run, end to end: resolve the SUT (a profile, or the embedded reference started on loopback),
//! load the fixtures, run the selected Gherkin scenarios with cucumber, collect every scenario's
//! findings and evidence, and write the reports. The three stages (load, run, write) only meet here.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cucumber::tag::Ext as _;
use cucumber::World as _;

use crate::actors::dicomweb::DicomwebClient;
use crate::actors::dimse_scu::DimseScu;
use crate::actors::xds::XdsClient;
use crate::assets::{AssetError, Materialised};
use crate::checks::{self, Finding, Outcome};
use crate::config::{Config, ConfigError};
use crate::model::fixtures::{FixtureError, Fixtures};
use crate::packs::Pack;
use crate::reference::{
    Fault, InboundLimits, ReferenceError, ReferenceOptions, ReferenceServer, FHIR_PATH, XDS_PATH,
};
use crate::report::evidence_dir::EvidenceWriter;
use crate::report::{self, ReportError, RunMeta, ScenarioRecord, Summary};
use crate::transport::http::HttpError;
use crate::world::{install_context, HarnessWorld, RunContext, Simulator};

/// Print a line to stdout, ignoring a closed pipe (`ihe-harness run | head` must not panic).
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

/// Errors that stop a run before or after the scenarios: exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// The SUT profile is wrong.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The fixtures cannot be loaded.
    #[error(transparent)]
    Fixtures(#[from] FixtureError),
    /// The tag expression does not parse.
    #[error(
        "invalid --tags expression {}: {message}",
        crate::evidence::quote(expr)
    )]
    Tags {
        /// The expression.
        expr: String,
        /// The parser's message.
        message: String,
    },
    /// The features folder is missing or holds no feature.
    #[error("features: {0}")]
    Features(String),
    /// The compiled-in files could not be written out.
    #[error(transparent)]
    Assets(#[from] AssetError),
    /// The embedded reference did not start.
    #[error("embedded reference: {0}")]
    Reference(#[from] ReferenceError),
    /// The HTTP client could not be built.
    #[error(transparent)]
    Http(#[from] HttpError),
    /// The reports could not be written.
    #[error(transparent)]
    Report(#[from] ReportError),
    /// The profile pack asked for does not exist.
    #[error(transparent)]
    Pack(#[from] crate::packs::PackError),
}

/// What `ihe-harness run` was asked to do, resolved.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// SUT profile; None runs against the embedded reference.
    pub sut: Option<PathBuf>,
    /// Tag expression.
    pub tags: Option<String>,
    /// The feature files.
    pub features: FeatureSource,
    /// Report folder.
    pub report_dir: PathBuf,
    /// Scenarios run at once.
    pub concurrency: usize,
    /// Stop at the first failed scenario.
    pub fail_fast: bool,
    /// Run only shard `i` of `n` (1-based).
    pub shard: Option<(u32, u32)>,
    /// Force strict mode on.
    pub strict: bool,
    /// Fixture folder; None uses the studies compiled into the binary.
    pub fixtures: Option<PathBuf>,
    /// Faults injected into the embedded reference (self-tests only).
    pub faults: Vec<Fault>,
    /// The profile pack (`name` or `name@version`); None: the profile's `[options] pack`, else
    /// the default ([`crate::packs`]).
    pub pack: Option<String>,
}

/// Where a run or a listing reads its feature files from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeatureSource {
    /// The feature files compiled into the binary ([`crate::assets`]).
    Embedded,
    /// The `.feature` files under a folder (`--features`).
    Folder(PathBuf),
}

impl FeatureSource {
    /// `--features`, if given, else the compiled-in files.
    pub fn from_option(folder: Option<PathBuf>) -> FeatureSource {
        folder.map_or(FeatureSource::Embedded, FeatureSource::Folder)
    }
}

impl std::fmt::Display for FeatureSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FeatureSource::Embedded => f.write_str("the feature files compiled into the harness"),
            FeatureSource::Folder(p) => write!(f, "{}", p.display()),
        }
    }
}

/// cucumber's parser for a [`FeatureSource`]: a folder through cucumber's own parser, the
/// compiled-in files from memory.
struct SourceParser;

impl cucumber::Parser<FeatureSource> for SourceParser {
    type Cli = cucumber::parser::basic::Cli;
    type Output = futures_util::stream::Iter<
        std::vec::IntoIter<cucumber::parser::Result<cucumber::gherkin::Feature>>,
    >;

    fn parse(self, input: FeatureSource, cli: Self::Cli) -> Self::Output {
        use cucumber::feature::Ext as _;
        match input {
            FeatureSource::Folder(dir) => cucumber::parser::Basic::new().parse(dir, cli),
            FeatureSource::Embedded => futures_util::stream::iter(
                crate::assets::features()
                    .into_iter()
                    .map(|f| Ok(f?.expand_examples()?))
                    .collect::<Vec<_>>(),
            ),
        }
    }
}

/// The result of a run.
#[derive(Debug)]
pub struct RunOutcome {
    /// Counts.
    pub summary: Summary,
    /// Every scenario.
    pub records: Vec<ScenarioRecord>,
}

impl RunOutcome {
    /// Exit code: 1 if any scenario failed, else 2 if any errored, else 0.
    pub fn exit_code(&self) -> u8 {
        if self.summary.failed > 0 {
            1
        } else if self.summary.errors > 0 {
            2
        } else {
            0
        }
    }
}

/// Parse a cucumber tag expression (`@a and not @b`).
pub fn parse_tags(expr: &str) -> Result<cucumber::gherkin::tagexpr::TagOperation, HarnessError> {
    expr.parse()
        .map_err(|e: peg_error::Error| HarnessError::Tags {
            expr: expr.to_string(),
            message: e.to_string(),
        })
}

mod peg_error {
    /// The error type of gherkin's tag-expression parser.
    pub type Error = <cucumber::gherkin::tagexpr::TagOperation as std::str::FromStr>::Err;
}

/// Does shard `i` of `n` run this scenario? Scenarios are dealt by a stable hash of file and line,
/// so every scenario lands in exactly one shard and the split does not change between runs.
pub fn in_shard(shard: Option<(u32, u32)>, file: &str, line: usize) -> bool {
    let Some((i, n)) = shard else {
        return true;
    };
    // FNV-1a: stable across platforms and releases, unlike the std hasher.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in file.bytes().chain(line.to_le_bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h % u64::from(n) == u64::from(i - 1)
}

/// Tags of a scenario as the filter and the reports see them: feature, rule and scenario tags.
pub fn scenario_tags(
    feature: &cucumber::gherkin::Feature,
    rule: Option<&cucumber::gherkin::Rule>,
    scenario: &cucumber::gherkin::Scenario,
) -> Vec<String> {
    let mut tags: Vec<String> = feature.tags.clone();
    if let Some(r) = rule {
        tags.extend(r.tags.iter().cloned());
    }
    tags.extend(scenario.tags.iter().cloned());
    tags.dedup();
    tags
}

fn relative(path: Option<&PathBuf>, base: &Path) -> String {
    path.map(|p| {
        p.strip_prefix(base)
            .map(|r| r.display().to_string())
            .unwrap_or_else(|_| p.display().to_string())
    })
    .unwrap_or_default()
}

/// Run the suite.
pub async fn run(opts: RunOptions) -> Result<RunOutcome, HarnessError> {
    let started_at = crate::evidence::now_rfc3339();
    let t0 = Instant::now();
    // The compiled-in studies, written out for the run (removed when it ends), unless a folder
    // replaces them.
    let (fixtures_dir, _materialised) = match &opts.fixtures {
        Some(dir) => (dir.clone(), None),
        None => {
            let m = Materialised::fixture_studies()?;
            (m.dir(crate::assets::FIXTURE_STUDIES), Some(m))
        }
    };
    let fixtures = Fixtures::load(&fixtures_dir)?;
    let filter = match &opts.tags {
        Some(t) => Some(parse_tags(t)?),
        None => None,
    };
    if let FeatureSource::Folder(dir) = &opts.features {
        if !dir.is_dir() {
            return Err(HarnessError::Features(format!(
                "{} is not a folder",
                dir.display()
            )));
        }
    }
    let mut reference = None;
    // The embedded Audit Record Repository of the ARR scenarios, alive for the run.
    let mut _embedded_arr = None;
    let mut config = match &opts.sut {
        Some(path) => Config::load(path)?,
        None => {
            // The reference's SCP is both the SUT's Q/R SCP and the C-MOVE destination: moves go
            // to its own AE title, and its Storage SCP records what arrives.
            // The reference's SCP binds a free port, and its own AE title names it as a move
            // destination (port 0: the address it binds).
            let own = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
            // No profile: the run's limits are the defaults, and so are the simulators'.
            let mut ro = ReferenceOptions::new(&fixtures_dir)
                .with_dimse_bind(own)
                .with_ae_title(crate::config::dimse::REFERENCE_AE)
                .with_move_destination(crate::config::dimse::REFERENCE_AE, own)
                .with_inbound_limits(InboundLimits::new(
                    &crate::config::Limits::default(),
                    crate::config::xds::Simulator::default().trigger_timeout,
                ));
            for f in &opts.faults {
                ro = ro.with_fault(*f);
            }
            // No profile: the pack is the command line's or the default.
            ro = ro.with_mado_code_table(Pack::resolve(opts.pack.as_deref())?.mado_code_table);
            let server = ReferenceServer::start(ro).await?;
            let mut c = Config::embedded_with_xds(&server.dicomweb_base(), &server.xds_base());
            c.mhd = Some(crate::config::Mhd::embedded(&server.fhir_base()));
            c.xca = Some(crate::config::xca::Xca::embedded(&server.xca_base()));
            c.xc_wado = Some(crate::config::xc_wado::XcWado::embedded(
                &server.xc_wado_base(),
            ));
            c.xca_i = Some(crate::config::xca_i::XcaI::embedded(&server.xcai_base()));
            if let Some(addr) = server.dimse_addr() {
                let mut d = crate::config::Dimse::embedded(addr.port());
                d.move_destination = crate::config::dimse::REFERENCE_AE.into();
                c.dimse = Some(d);
                c.simulator.ae_title = crate::config::dimse::REFERENCE_AE.into();
                c.triggers.insert(
                    "modality_stores".into(),
                    crate::config::Trigger::Builtin("modality_stores".into()),
                );
                for t in [
                    "qr_scu_finds",
                    "qr_scu_moves",
                    "qr_scu_gets",
                    "dicomweb_client_searches",
                    "dicomweb_client_retrieves",
                    "dicomweb_client_stores",
                    "qr_scu_cancels_find",
                ] {
                    c.triggers
                        .insert(t.into(), crate::config::Trigger::Builtin(t.into()));
                }
            }
            reference = Some(server);
            let arr =
                crate::reference::atna::EmbeddedArr::start(&opts.faults.iter().copied().collect())
                    .await?;
            c.audit_repository = Some(arr.config());
            _embedded_arr = Some(arr);
            c
        }
    };
    if opts.strict {
        config.strict = true;
    }
    // The profile pack: the command line's, the profile's, or the default. It decides the MADO
    // code table wherever the profile does not name one.
    let pack = Pack::resolve(opts.pack.as_deref().or(config.pack.as_deref()))?;
    if let Some(m) = config.mhd.as_mut() {
        if !m.code_table_set {
            m.code_table = pack.mado_code_table.into();
        }
    }
    let mado_code_table = match config.mhd.as_ref().map(|m| m.code_table) {
        Some(crate::config::mhd::CodeTable::DicomFinal) => {
            crate::model::mado::CodeTable::DicomFinal
        }
        Some(crate::config::mhd::CodeTable::MadoTi) => crate::model::mado::CodeTable::MadoTi,
        None => pack.mado_code_table,
    };
    // The simulated XDS actors the SUT calls: the embedded reference itself, or (for a SUT with
    // XDS endpoints or triggers) a reference server started as simulator on `[simulator] bind`.
    let mut simulator_server = None;
    let simulator = match &reference {
        Some(server) => Some(Simulator {
            xds_base: server.xds_base(),
            inbox: server.inbox(),
            dimse_addr: server.dimse_addr(),
            fhir_base: server.fhir_base(),
            cert_switch: server.cert_switch(),
            dimse_handshakes: server.dimse_handshakes(),
            http_handshakes: server.handshakes(),
            dicomweb_base: server.origin_base(),
            xca_base: server.xca_base(),
            xca_simulation: Some(server.xca_simulation()),
        }),
        None if config.xds.is_some()
            || config.dimse.is_some()
            || !config.triggers.is_empty()
            || config
                .xca
                .as_ref()
                .is_some_and(|x| x.ig_query_url.is_some() || x.ig_retrieve_url.is_some())
            || config.xca_i.as_ref().is_some_and(|x| x.iig_url.is_some()) =>
        {
            let mut ro = ReferenceOptions::new(&fixtures_dir)
                .with_mado_code_table(mado_code_table)
                .with_bind(config.simulator.bind)
                .with_ae_title(config.simulator.ae_title.clone())
                .with_inbound_limits(InboundLimits::new(
                    &config.limits,
                    config.simulator.trigger_timeout,
                ));
            if let Some(b) = config.simulator.dimse_bind {
                // Its own AE title is a move destination: a Query/Retrieve SCU SUT asked to move
                // to the harness (`qr_scu_moves`) names it.
                let mut own = b;
                if own.ip().is_unspecified() {
                    own.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
                }
                ro = ro
                    .with_dimse_bind(b)
                    .with_move_destination(config.simulator.ae_title.clone(), own);
            }
            if let Some(t) = &config.simulator.tls {
                let tls = crate::transport::tls::ServerTls::from_settings(t)
                    .map_err(crate::reference::ReferenceError::from)?;
                ro = ro.with_tls(tls);
            }
            let server = ReferenceServer::start(ro).await?;
            let xds_base = match &config.simulator.public_url {
                Some(u) => format!("{u}{}", XDS_PATH),
                None => server.xds_base(),
            };
            let fhir_base = match &config.simulator.public_url {
                Some(u) => format!("{u}{}", FHIR_PATH),
                None => server.fhir_base(),
            };
            let dicomweb_base = match &config.simulator.public_url {
                Some(u) => format!(
                    "{u}{}{}",
                    crate::reference::dicomweb::origin::ORIGIN_PATH,
                    crate::reference::dicomweb::web::SERVICE_PATH
                ),
                None => server.origin_base(),
            };
            let sim = Simulator {
                xds_base,
                inbox: server.inbox(),
                dimse_addr: server.dimse_addr(),
                fhir_base,
                cert_switch: server.cert_switch(),
                dimse_handshakes: server.dimse_handshakes(),
                http_handshakes: server.handshakes(),
                dicomweb_base,
                xca_base: match &config.simulator.public_url {
                    Some(u) => format!("{u}{}", crate::reference::xca::XCA_PATH),
                    None => server.xca_base(),
                },
                xca_simulation: Some(server.xca_simulation()),
            };
            simulator_server = Some(server);
            Some(sim)
        }
        None => None,
    };
    let limits = config.limits;
    let xds = match &config.xds {
        Some(x) => Some(Arc::new(XdsClient::new(x, &limits)?)),
        None => None,
    };
    let mhd = match &config.mhd {
        Some(m) => Some(crate::actors::mhd::MhdClient::new(
            crate::transport::factory::http_client(
                &crate::transport::factory::HttpSettings::new(
                    crate::config::Auth::None,
                    m.timeouts,
                )
                .with_limits(&limits)
                .with_tls_settings(m.tls.as_ref())
                .map_err(crate::transport::http::HttpError::from)?,
            )?,
            &m.base_url,
        )),
        None => None,
    };
    let mhd_catalogue = crate::model::fixtures::mhd::catalogue(
        &fixtures,
        &crate::model::fixtures::mhd::Alterations {
            code_table: mado_code_table,
            ..Default::default()
        },
    );
    let dicomweb = match &config.dicomweb {
        Some(d) => Some(DicomwebClient::new(d, &limits)?),
        None => None,
    };
    say!(
        "ihe-harness {}: SUT {} ({}){}, pack {}",
        env!("CARGO_PKG_VERSION"),
        config.sut_name,
        config
            .dicomweb
            .as_ref()
            .map(|d| d.base_url.as_str())
            .unwrap_or("no DICOMweb endpoint"),
        if config.strict { ", strict" } else { "" },
        pack.id()
    );
    let ctx = Arc::new(RunContext {
        config: config.clone(),
        fixtures,
        dicomweb,
        xds,
        simulator,
        dimse: config.dimse.as_ref().map(DimseScu::from_config),
        faults: if opts.sut.is_none() {
            opts.faults.iter().copied().collect()
        } else {
            Default::default()
        },
        dimse_data: tokio::sync::OnceCell::new(),
        xds_data: tokio::sync::OnceCell::new(),
        submitted: Mutex::new(Vec::new()),
        test_data: tokio::sync::OnceCell::new(),
        results: Mutex::new(Vec::new()),
        mhd,
        mhd_catalogue,
        mhd_data: tokio::sync::OnceCell::new(),
        fixtures_dir: fixtures_dir.clone(),
        secure_node: tokio::sync::OnceCell::new(),
        audit_listeners: tokio::sync::OnceCell::new(),
    });
    install_context(ctx.clone());

    std::fs::create_dir_all(&opts.report_dir).map_err(|source| ReportError::Write {
        path: opts.report_dir.clone(),
        source,
    })?;
    // Each scenario's evidence is written when it ends, and its bodies then leave memory.
    let evidence = Arc::new(Mutex::new(EvidenceSink {
        writer: EvidenceWriter::create(&opts.report_dir, &config.limits)?,
        error: None,
    }));
    let evidence_in_hook = evidence.clone();
    // The progress bar on a terminal: scenarios selected (the shard's share of them).
    let total = crate::listing::scenarios(&opts.features, opts.tags.as_deref())
        .map(|list| {
            let base = std::env::current_dir().unwrap_or_default();
            list.iter()
                .filter(|s| in_shard(opts.shard, &relative(Some(&s.file), &base), s.line))
                .count()
        })
        .unwrap_or(0);
    let progress = Arc::new(Progress::new(total as u64));
    let progress_in_hook = progress.clone();
    let features_base = std::env::current_dir().unwrap_or_default();
    let shard_base = features_base.clone();
    let shard = opts.shard;
    // How each step ended, for the reports.
    let step_log = report::step_log::StepLog::default();
    // cucumber's own writer would print its own verdicts (a not-applicable scenario is a failed
    // step to it); the harness prints one line per scenario from the findings instead.
    let mut cucumber = HarnessWorld::cucumber::<PathBuf>()
        .with_parser(SourceParser)
        .with_writer(step_log.writer(report::step_log::Silent))
        .with_cli(cucumber::cli::Opts::<_, _, _, cucumber::cli::Empty>::default())
        .max_concurrent_scenarios(opts.concurrency.max(1))
        .fail_on_skipped()
        .after(move |feature, rule, scenario, event, world| {
            let base = features_base.clone();
            let evidence = evidence_in_hook.clone();
            let progress = progress_in_hook.clone();
            Box::pin(async move {
                let mut world = world;
                if let Some(w) = world.as_deref_mut() {
                    crate::steps::atna_arr::finish_own_audits(w).await;
                }
                collect(
                    &base, &evidence, &progress, feature, rule, scenario, event, world,
                );
            })
        });
    if opts.fail_fast {
        cucumber = cucumber.fail_fast();
    }
    cucumber
        .filter_run(opts.features.clone(), move |feature, rule, scenario| {
            let tags = scenario_tags(feature, rule, scenario);
            let file = relative(feature.path.as_ref(), &shard_base);
            in_shard(shard, &file, scenario.position.line)
                && filter.as_ref().map(|f| f.eval(tags.iter())).unwrap_or(true)
        })
        .await;
    progress.finish();

    let mut records = ctx
        .results
        .lock()
        .map(|mut g| std::mem::take(&mut *g))
        .unwrap_or_default();
    records.sort_by(|a, b| (&a.feature_file, a.line).cmp(&(&b.feature_file, b.line)));
    step_log.fill(&mut records);
    if let Some(server) = reference {
        server.shutdown().await;
    }
    if let Some(server) = simulator_server {
        server.shutdown().await;
    }
    let meta = RunMeta {
        harness_version: env!("CARGO_PKG_VERSION").to_string(),
        sut: config.sut_name.clone(),
        profile: config
            .profile_path
            .as_ref()
            .map(|p| p.display().to_string()),
        tags: opts.tags.clone(),
        pack: pack.clone(),
        started_at,
        duration: t0.elapsed(),
    };
    let evidence_error = evidence
        .lock()
        .map(|mut g| g.error.take())
        .unwrap_or_default();
    report::write_summaries(&opts.report_dir, &meta, &records)?;
    if let Some(claims) = config.claims.as_ref().filter(|c| !c.is_empty()) {
        report::statement::write_for_run(
            &opts.report_dir,
            &meta,
            claims,
            &records,
            &opts.features,
        )?;
    } else {
        // No claims: no statement, and none of an earlier run left to be taken for this one's.
        report::statement::remove(&opts.report_dir)?;
    }
    // Last of the writers: the digest of every file the others left.
    report::manifest::write(&opts.report_dir)?;
    if let Some(e) = evidence_error {
        return Err(e.into());
    }
    let summary = Summary::of(&records);
    if records.is_empty() && opts.shard.is_none() {
        return Err(HarnessError::Features(format!(
            "no scenario in {} matches the tag expression {}",
            opts.features,
            crate::evidence::quote(opts.tags.as_deref().unwrap_or(""))
        )));
    }
    print_findings(&records);
    say!(
        "reports: {}/report.html, {}/junit.xml, {}/results.json, {}/evidence/, {}/{}, {}/{}{}",
        opts.report_dir.display(),
        opts.report_dir.display(),
        opts.report_dir.display(),
        opts.report_dir.display(),
        opts.report_dir.display(),
        report::gitb_tar::FILE,
        opts.report_dir.display(),
        report::manifest::FILE,
        if config.claims.as_ref().is_some_and(|c| !c.is_empty()) {
            format!(
                ", {}/{}",
                opts.report_dir.display(),
                report::statement::HTML_FILE
            )
        } else {
            String::new()
        }
    );
    say!("{}", summary.breakdown_line());
    say!("{}", summary.closing_line());
    Ok(RunOutcome { summary, records })
}

fn print_findings(records: &[ScenarioRecord]) {
    for r in records {
        if matches!(r.outcome, Outcome::Fail | Outcome::Error) {
            say!(
                "{}: {} ({}:{})",
                r.outcome,
                r.scenario,
                r.feature_file,
                r.line
            );
            for f in r
                .findings
                .iter()
                .filter(|f| f.is_failure() || f.outcome == Outcome::Error)
            {
                say!("  {}", f.message());
            }
        }
    }
}

/// One line per finished scenario: its outcome, where it is, and for anything but a pass, why.
fn progress_line(r: &ScenarioRecord) -> String {
    let mut line = format!(
        "{:<15} {}:{}  {}",
        r.outcome.as_str(),
        r.feature_file,
        r.line,
        r.scenario
    );
    let why = match r.outcome {
        Outcome::Pass => String::new(),
        Outcome::Fail => r
            .findings
            .iter()
            .filter(|f| f.is_failure())
            .map(|f| f.check.clone())
            .collect::<Vec<_>>()
            .join(", "),
        Outcome::Error => r
            .findings
            .iter()
            .find(|f| f.outcome == Outcome::Error)
            .map(
                |f| match f.check.strip_prefix("harness.").and_then(failure_in_words) {
                    Some(why) => format!("{}: {why}", f.title),
                    None => f.title.clone(),
                },
            )
            .unwrap_or_default(),
        Outcome::Skip | Outcome::NotApplicable => r.reason.clone(),
    };
    if !why.is_empty() {
        line.push_str(&format!(" ({why})"));
    }
    line
}

/// The progress bar of a run on a terminal (stderr): scenarios done of the total, the pass /
/// FAIL / ERROR counts so far and the elapsed time. The one-line-per-scenario output goes to
/// stdout above it (the bar is taken down while a line is printed, so the two never mix). When
/// stderr is not a terminal (CI, a pipe, a file) there is no bar at all.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    counts: Mutex<(usize, usize, usize)>,
}

impl Progress {
    fn new(total: u64) -> Progress {
        use std::io::IsTerminal as _;
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::with_draw_target(
                Some(total),
                indicatif::ProgressDrawTarget::stderr(),
            );
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "[{elapsed_precise}] {bar:30} {pos}/{len} scenarios  {msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar.set_message("0 pass, 0 FAIL, 0 ERROR");
            bar.enable_steady_tick(Duration::from_secs(1));
            bar
        });
        Progress {
            bar,
            counts: Mutex::new((0, 0, 0)),
        }
    }

    /// Print a scenario's line and move the bar on.
    fn scenario_done(&self, line: &str, outcome: Outcome) {
        let Some(bar) = &self.bar else {
            say!("{line}");
            return;
        };
        bar.suspend(|| say!("{line}"));
        let msg = self.counts.lock().ok().map(|mut c| {
            match outcome {
                Outcome::Pass => c.0 += 1,
                Outcome::Fail => c.1 += 1,
                Outcome::Error => c.2 += 1,
                Outcome::Skip | Outcome::NotApplicable => {}
            }
            format!("{} pass, {} FAIL, {} ERROR", c.0, c.1, c.2)
        });
        bar.inc(1);
        if let Some(m) = msg {
            bar.set_message(m);
        }
    }

    /// Take the bar down before the closing lines.
    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// The run's evidence writer, and the first error it met (reported when the run ends).
struct EvidenceSink {
    writer: EvidenceWriter,
    error: Option<ReportError>,
}

/// A transport failure's kind, as the progress line says it.
fn failure_in_words(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "connect" => "no connection",
        "timeout" => "timed out",
        "read" => "the answer could not be read",
        "request" => "the request could not be sent",
        "config" => "configuration",
        _ => return None,
    })
}

#[allow(clippy::too_many_arguments)]
fn collect(
    base: &Path,
    evidence: &Mutex<EvidenceSink>,
    progress: &Progress,
    feature: &cucumber::gherkin::Feature,
    rule: Option<&cucumber::gherkin::Rule>,
    scenario: &cucumber::gherkin::Scenario,
    event: &cucumber::event::ScenarioFinished,
    world: Option<&mut HarnessWorld>,
) {
    use cucumber::event::ScenarioFinished as SF;
    let Some(ctx) = crate::world::current_context() else {
        return;
    };
    let (mut findings, exchanges, duration, metrics, replay_checks) = match world {
        Some(w) => (
            std::mem::take(&mut w.findings),
            w.evidence.take(),
            w.started.elapsed(),
            std::mem::take(&mut w.metrics),
            std::mem::take(&mut w.replay_checks),
        ),
        None => (
            Vec::new(),
            Vec::new(),
            Duration::ZERO,
            Default::default(),
            Vec::new(),
        ),
    };
    let mut reason = String::new();
    match event {
        SF::StepPassed => {}
        SF::StepSkipped => {
            reason = "a step has no definition in this harness version".into();
            findings.push(Finding::harness_error("undefined step", reason.clone()));
        }
        SF::BeforeHookFailed(_) => {
            reason = "the before hook failed".into();
            findings.push(Finding::harness_error("before hook failed", reason.clone()));
        }
        SF::StepFailed(_, _, err) => {
            // A step that stopped the scenario has said why in a finding (Fail, Error, Skip or
            // NotApplicable); only an unexplained stop is a harness error.
            let decided = findings
                .iter()
                .any(|f| f.is_failure() || !matches!(f.outcome, Outcome::Pass | Outcome::Fail));
            if !decided {
                reason = format!("{err}");
                findings.push(Finding::harness_error("step failed", reason.clone()));
            }
        }
    }
    let outcome = checks::scenario_outcome(&findings);
    if outcome == Outcome::NotApplicable && reason.is_empty() {
        reason = findings
            .iter()
            .map(|f| f.expected.clone())
            .next()
            .unwrap_or_default();
    }
    let mut record = ScenarioRecord {
        feature: feature.name.clone(),
        feature_file: relative(feature.path.as_ref(), base),
        scenario: scenario.name.clone(),
        line: scenario.position.line,
        tags: scenario_tags(feature, rule, scenario),
        outcome,
        reason,
        duration,
        findings,
        exchanges,
        evidence: Vec::new(),
        steps: report::step_log::steps_of(feature, rule, scenario),
        metrics,
    };
    // Load mode records the requests before the evidence writer drops the bodies.
    crate::load::capture(&record.exchanges, replay_checks);
    if let Ok(mut sink) = evidence.lock() {
        if let Err(e) = sink.writer.write_scenario(&mut record) {
            sink.error.get_or_insert(e);
        }
    }
    progress.scenario_done(&progress_line(&record), record.outcome);
    let Ok(mut results) = ctx.results.lock() else {
        return;
    };
    results.push(record);
}

#[cfg(test)]
mod tests {
    use super::in_shard;

    #[test]
    fn every_scenario_lands_in_exactly_one_shard() {
        for line in 1..200 {
            let hits = (1..=4)
                .filter(|i| in_shard(Some((*i, 4)), "features/dicomweb/x.feature", line))
                .count();
            assert_eq!(hits, 1);
            assert!(in_shard(None, "f", line));
        }
    }
}
