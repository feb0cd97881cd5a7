//! The SUT profile: what the system under test is, where it listens and how strictly to judge it.
//!
//! Configuration is read in two stages (as ripgrep does): a raw TOML document is first checked key by
//! key against the schema below, so that an unknown key is a configuration error with a "did you mean"
//! hint instead of being silently ignored, and is then resolved into a [`Config`] with every default
//! filled in. The binary maps a [`ConfigError`] to exit code 2.
//!
//! Environment variables read by the harness are declared here and nowhere else: see [`ENV_VARS`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

pub mod audit;
pub mod claims;
pub mod dimse;
pub mod mhd;
pub mod performance;
pub mod tls;
pub mod xc_wado;
pub mod xca;
pub mod xca_i;
pub mod xds;

pub use dimse::Dimse;
pub use mhd::Mhd;
pub use xds::{Simulator, Trigger, Xds, TRIGGERS};

/// Every environment variable the harness reads, with what it is for.
pub const ENV_VARS: &[(&str, &str)] = &[
    (
        "IHE_HARNESS_FIXTURES",
        "folder of the fixture studies, as --fixtures (default: those compiled into the harness)",
    ),
    (
        "<password_env>, <bearer_token_env>",
        "the variables a SUT profile names for its secrets; their values are never written out",
    ),
];

/// Errors of the configuration stage.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The profile file could not be read.
    #[error("cannot read SUT profile {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The profile is not valid TOML or has a value of the wrong type.
    #[error("SUT profile {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// A key the schema does not know.
    #[error("SUT profile {path}: unknown key `{key}`{hint}")]
    UnknownKey {
        /// The file.
        path: PathBuf,
        /// Dotted key.
        key: String,
        /// ", did you mean `…`?" or empty.
        hint: String,
    },
    /// A value is present but not acceptable.
    #[error("SUT profile {path}: `{key}`: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Dotted key.
        key: String,
        /// Why.
        message: String,
    },
}

/// The schema: every table and the keys it allows. Used for the unknown-key check and its hints.
const SCHEMA: &[(&str, &[&str])] = &[
    ("sut", &["name", "description"]),
    (
        "dicomweb",
        &[
            "base_url",
            "username",
            "password",
            "password_env",
            "bearer_token_env",
            "connect_timeout_ms",
            "read_timeout_ms",
            "timeout_ms",
        ],
    ),
    ("test_data", &["mode", "studies", "parallel"]),
    ("options", &["strict", "pack"]),
    (
        "limits",
        &[
            "max_body_bytes",
            "max_parsed_nodes",
            "max_parts",
            "evidence_bytes_per_exchange",
            "evidence_bytes_per_run",
        ],
    ),
    (
        "xds",
        &[
            "registry_url",
            "repository_url",
            "imaging_source_url",
            "repository_unique_id",
            "imaging_source_unique_id",
            "patient_id_authority",
            "source_id",
            "home_community_id",
            "affinity_domain",
            "connect_timeout_ms",
            "read_timeout_ms",
            "timeout_ms",
        ],
    ),
    (
        "simulator",
        &[
            "bind",
            "public_url",
            "trigger_timeout_ms",
            "dimse_bind",
            "ae_title",
            "audit_bind",
            "audit_udp_bind",
            "audit_fhir_bind",
        ],
    ),
    ("mhd", mhd::KEYS),
    (
        "dimse",
        &[
            "host",
            "port",
            "called_ae",
            "calling_ae",
            "move_destination",
            "connect_timeout_ms",
            "read_timeout_ms",
            "max_pdu",
            "timeout_ms",
            "max_dataset_bytes",
            "max_responses",
        ],
    ),
    ("triggers", xds::TRIGGERS),
];

#[derive(Debug, Deserialize, Default)]
struct RawProfile {
    sut: Option<RawSut>,
    dicomweb: Option<RawDicomweb>,
    test_data: Option<RawTestData>,
    options: Option<RawOptions>,
    limits: Option<RawLimits>,
    xds: Option<xds::RawXds>,
    dimse: Option<dimse::RawDimse>,
    mhd: Option<mhd::RawMhd>,
    simulator: Option<xds::RawSimulator>,
    triggers: Option<std::collections::BTreeMap<String, String>>,
}

#[derive(Debug, Deserialize, Default)]
struct RawSut {
    name: Option<String>,
    description: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
struct RawDicomweb {
    base_url: Option<String>,
    username: Option<String>,
    password: Option<String>,
    password_env: Option<String>,
    bearer_token_env: Option<String>,
    connect_timeout_ms: Option<u64>,
    read_timeout_ms: Option<u64>,
    timeout_ms: Option<u64>,
}

#[derive(Debug, Deserialize, Default)]
struct RawTestData {
    mode: Option<String>,
    studies: Option<Vec<String>>,
    parallel: Option<u64>,
}

#[derive(Debug, Deserialize, Default)]
struct RawOptions {
    strict: Option<bool>,
    pack: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
struct RawLimits {
    max_body_bytes: Option<u64>,
    max_parsed_nodes: Option<u64>,
    max_parts: Option<u64>,
    evidence_bytes_per_exchange: Option<u64>,
    evidence_bytes_per_run: Option<u64>,
}

/// How the harness authenticates to the SUT. Secrets stay in memory and are never written.
#[derive(Clone, PartialEq, Eq)]
pub enum Auth {
    /// No authentication.
    None,
    /// HTTP Basic; `password_env` names where the password came from, for reproduction commands.
    Basic {
        /// User name.
        username: String,
        /// Password.
        password: String,
        /// The environment variable the password came from, if any.
        password_env: Option<String>,
    },
    /// Bearer token from an environment variable.
    Bearer {
        /// The token.
        token: String,
        /// The variable it came from.
        token_env: String,
    },
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::None => write!(f, "None"),
            Auth::Basic { username, .. } => write!(f, "Basic({username}, <redacted>)"),
            Auth::Bearer { token_env, .. } => write!(f, "Bearer(${token_env})"),
        }
    }
}

/// Timeouts of one HTTP exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// TCP connect.
    pub connect: Duration,
    /// The longest silence tolerated while waiting for headers or the next body bytes.
    pub read: Duration,
    /// The whole exchange, body included.
    pub total: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(5),
            read: Duration::from_secs(15),
            total: Duration::from_secs(120),
        }
    }
}

impl Timeouts {
    /// The defaults, with what table `table`'s `connect_timeout_ms`, `read_timeout_ms` and
    /// `timeout_ms` keys set; a zero is a configuration error.
    pub fn from_ms(
        (connect, read, total): (Option<u64>, Option<u64>, Option<u64>),
        path: &Path,
        table: &str,
    ) -> Result<Timeouts, ConfigError> {
        let d = Timeouts::default();
        let ms = |v: Option<u64>, dflt: Duration| v.map(Duration::from_millis).unwrap_or(dflt);
        let t = Timeouts {
            connect: ms(connect, d.connect),
            read: ms(read, d.read),
            total: ms(total, d.total),
        };
        if t.connect.is_zero() || t.read.is_zero() || t.total.is_zero() {
            return Err(invalid(path, table, "timeouts must be greater than 0"));
        }
        Ok(t)
    }
}

/// How much of what a SUT sends the harness takes in, whatever the SUT sends: the limits that keep
/// a run's memory, time and evidence bounded against an endless or oversized answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest response body the harness reads to judge it (JSON, XML, FHIR, text: every body
    /// but a multipart one, whose parts stream past; for a multipart body, its XML root part), and
    /// the largest request body the simulated actors take from a SUT. A larger body is not read
    /// further and is a Fail of BODY-01: a limit of the harness, raised with `[limits]
    /// max_body_bytes`.
    pub max_body: u64,
    /// The most JSON values or XML elements of a body the harness parses to judge it: parsed, each
    /// takes up to about 200 bytes of memory, so a body of a few megabytes can take hundreds. A
    /// body with more is a Fail of BODY-01 too (`[limits] max_parsed_nodes`).
    pub max_nodes: u64,
    /// The most parts of a multipart answer the harness reads: each part's summary (headers,
    /// size, identity digest, DICOM identifiers) is kept to judge the answer, about a kilobyte, so
    /// an answer of endless empty parts would take the harness's memory; past it the answer is
    /// read no further and is a Fail of BODY-01 (`[limits] max_parts`).
    pub max_parts: u64,
    /// The bytes of each body (request and response) one exchange's evidence keeps; past it the
    /// evidence keeps the head of the body, its size and its SHA-256.
    pub evidence_per_exchange: u64,
    /// The body bytes the evidence of a whole run keeps; past it exchanges are recorded without
    /// body bytes (headers, size and SHA-256 only).
    pub evidence_per_run: u64,
}

/// Default of `[limits] max_body_bytes`: 4 MiB, far above the answers the scenarios ask for (a QIDO
/// result or the metadata of a fixture study is kilobytes, a rendered frame or a report document
/// rarely a megabyte), and small enough that four scenarios reading at once stay within the
/// harness's memory budget (100 MB).
pub const DEFAULT_MAX_BODY: u64 = 4 * 1024 * 1024;
/// Default of `[limits] max_parsed_nodes`: 100 000 JSON values or XML elements (the metadata of a
/// fixture study has about 12 000), about 20 MB once parsed.
pub const DEFAULT_MAX_NODES: u64 = 100_000;
/// Default of `[limits] max_parts`: 100 000 parts (a whole-body CT study holds a few thousand
/// instances), about 100 MB of part summaries at most.
pub const DEFAULT_MAX_PARTS: u64 = 100_000;
/// Default of `[limits] evidence_bytes_per_exchange`: 2 MiB.
pub const DEFAULT_EVIDENCE_PER_EXCHANGE: u64 = 2 * 1024 * 1024;
/// Default of `[limits] evidence_bytes_per_run`: 128 MiB.
pub const DEFAULT_EVIDENCE_PER_RUN: u64 = 128 * 1024 * 1024;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body: DEFAULT_MAX_BODY,
            max_nodes: DEFAULT_MAX_NODES,
            max_parts: DEFAULT_MAX_PARTS,
            evidence_per_exchange: DEFAULT_EVIDENCE_PER_EXCHANGE,
            evidence_per_run: DEFAULT_EVIDENCE_PER_RUN,
        }
    }
}

/// The DICOMweb endpoint of the SUT.
#[derive(Debug, Clone)]
pub struct Dicomweb {
    /// The service root, without a trailing slash (`http://host/dicom-web`).
    pub base_url: String,
    /// Authentication.
    pub auth: Auth,
    /// Timeouts.
    pub timeouts: Timeouts,
    /// TLS settings (`[tls]` with `[dicomweb.tls]` over it), used with an `https://` URL.
    pub tls: Option<crate::transport::tls::TlsSettings>,
}

/// Whether the harness loads its fixture studies into the SUT or finds them there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestDataMode {
    /// A Background step stores the fixture studies with STOW-RS (once per run).
    Load,
    /// The SUT already holds the fixture studies.
    Preloaded,
}

/// Transfers of the test data load at once when the profile does not say (`[test_data] parallel`).
pub const DEFAULT_TEST_DATA_PARALLEL: usize = 4;

/// The resolved SUT profile.
#[derive(Debug, Clone)]
pub struct Config {
    /// Name of the SUT, for reports.
    pub sut_name: String,
    /// The profile file, if any (None for the embedded reference).
    pub profile_path: Option<PathBuf>,
    /// DICOMweb endpoint, if the SUT has one.
    pub dicomweb: Option<Dicomweb>,
    /// Test data handling.
    pub test_data: TestDataMode,
    /// Fixture study aliases or UIDs the SUT holds (`preloaded`); empty means all fixture studies.
    pub studies: Vec<String>,
    /// How many transfers of the test data load run at once (`[test_data] parallel`): C-STORE
    /// associations, concurrent STOW-RS requests (1: one at a time).
    pub test_data_parallel: usize,
    /// Judge SHOULD-level requirements and open status codes strictly.
    pub strict: bool,
    /// The profile pack the profile asks for (`[options] pack`, `name` or `name@version`);
    /// `run --pack` overrides it ([`crate::packs`]).
    pub pack: Option<String>,
    /// Size limits on what the SUT sends and on the evidence kept.
    pub limits: Limits,
    /// XDS-I.b endpoints, if the SUT has them.
    pub xds: Option<Xds>,
    /// The SUT's DICOM application entity, if it has one.
    pub dimse: Option<Dimse>,
    /// The SUT's MHD Document Recipient/Responder, if it has one.
    pub mhd: Option<Mhd>,
    /// Where the harness's simulated actors listen for the SUT's calls.
    pub simulator: Simulator,
    /// How the harness makes the SUT act (by trigger name).
    pub triggers: std::collections::BTreeMap<String, Trigger>,
    /// The SUT's Audit Record Repository (`[audit_repository]`), if it is one.
    pub audit_repository: Option<audit::AuditRepository>,
    /// The SUT's XCA Responding Gateway (`[xca]`), if it is one.
    pub xca: Option<xca::Xca>,
    /// The SUT's XC-WADO Responding Imaging Gateway (`[xc_wado]`), if it is one.
    pub xc_wado: Option<xc_wado::XcWado>,
    /// The SUT's XCA-I Responding Imaging Gateway (`[xca_i]`), if it is one.
    pub xca_i: Option<xca_i::XcaI>,
    /// `[claims]`: the actors, transactions and options the SUT claims.
    pub claims: Option<claims::Claims>,
    /// `[performance]`: the thresholds of the @perf scenarios and the study they retrieve.
    pub performance: performance::Performance,
}

impl Config {
    /// The profile used for the embedded reference SUT at `base_url`.
    pub fn embedded(base_url: &str) -> Config {
        Config {
            sut_name: "ihe-harness embedded reference".into(),
            profile_path: None,
            dicomweb: Some(Dicomweb {
                base_url: base_url.trim_end_matches('/').to_string(),
                auth: Auth::None,
                timeouts: Timeouts::default(),
                tls: None,
            }),
            test_data: TestDataMode::Preloaded,
            studies: Vec::new(),
            test_data_parallel: DEFAULT_TEST_DATA_PARALLEL,
            strict: false,
            pack: None,
            limits: Limits::default(),
            xds: None,
            dimse: None,
            mhd: None,
            simulator: Simulator::default(),
            triggers: Default::default(),
            audit_repository: None,
            xca: None,
            xc_wado: None,
            xca_i: None,
            claims: None,
            performance: performance::Performance::embedded(),
        }
    }

    /// The embedded profile with the reference's XDS-I.b endpoints below `xds_base`
    /// (`http://127.0.0.1:PORT/xds`), and the reference playing the SUT's part in the
    /// scenarios where the SUT calls the harness ([`Trigger::Builtin`]).
    pub fn embedded_with_xds(dicomweb_base: &str, xds_base: &str) -> Config {
        let mut c = Config::embedded(dicomweb_base);
        c.xds = Some(Xds::embedded(xds_base));
        for name in TRIGGERS {
            c.triggers
                .insert((*name).to_string(), Trigger::Builtin((*name).to_string()));
        }
        c
    }

    /// Read and resolve a profile file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path, &|name| std::env::var(name).ok())
    }

    /// Resolve a profile from its text; `env` looks up environment variables.
    pub fn parse(
        text: &str,
        path: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let value: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| ConfigError::Parse {
                path: path.to_path_buf(),
                message: e.message().to_string(),
            })?;
        let mut value = value;
        let audit = audit::extract(&mut value, path)?;
        let xca = xca::extract(&mut value, path)?;
        let xc_wado = xc_wado::extract(&mut value, path)?;
        let xca_i = xca_i::extract(&mut value, path)?;
        let tls = tls::extract(&mut value, path)?;
        let claims = claims::extract(&mut value, path)?;
        let performance = performance::extract(&mut value, path)?;
        check_keys(&value, path)?;
        let raw: RawProfile =
            toml::Value::Table(value)
                .try_into()
                .map_err(|e: toml::de::Error| ConfigError::Parse {
                    path: path.to_path_buf(),
                    message: e.message().to_string(),
                })?;
        let mut config = resolve(raw, path, env)?;
        config.audit_repository = audit::resolve(audit, &tls, path)?;
        config.xca = xca::resolve(xca, &tls, path)?;
        config.xc_wado = xc_wado::resolve(xc_wado, &tls, path)?;
        config.xca_i = xca_i::resolve(xca_i, &tls, path)?;
        tls::apply(&mut config, tls, path)?;
        config.claims = claims;
        config.performance = performance;
        Ok(config)
    }
}

fn invalid(path: &Path, key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        path: path.to_path_buf(),
        key: key.into(),
        message: message.into(),
    }
}

/// A table of the profile taken out whole, its `tls` sub-table apart, before TLS is resolved.
#[derive(Debug)]
pub(super) struct TableWithTls<T> {
    raw: Option<T>,
    tls: Option<toml::Value>,
}

impl<T> Default for TableWithTls<T> {
    fn default() -> Self {
        TableWithTls {
            raw: None,
            tls: None,
        }
    }
}

/// Take table `name` (and its `tls` table) out of the profile: its keys must be among `keys`.
fn extract_table<T: serde::de::DeserializeOwned>(
    table: &mut toml::Table,
    path: &Path,
    name: &str,
    keys: &[&str],
) -> Result<TableWithTls<T>, ConfigError> {
    let Some(value) = table.remove(name) else {
        return Ok(TableWithTls::default());
    };
    let toml::Value::Table(mut inner) = value else {
        return Err(invalid(path, name, "must be a table"));
    };
    let tls = inner.remove("tls");
    for k in inner.keys() {
        if !keys.contains(&k.as_str()) {
            let mut known = keys.to_vec();
            known.push("tls");
            return Err(ConfigError::UnknownKey {
                path: path.to_path_buf(),
                key: format!("{name}.{k}"),
                hint: hint(k, &known),
            });
        }
    }
    let raw: T = toml::Value::Table(inner)
        .try_into()
        .map_err(|e: toml::de::Error| invalid(path, name, e.message().to_string()))?;
    Ok(TableWithTls {
        raw: Some(raw),
        tls,
    })
}

fn hint(candidate: &str, known: &[&str]) -> String {
    known
        .iter()
        .map(|k| (strsim::jaro_winkler(candidate, k), *k))
        .filter(|(score, _)| *score > 0.75)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| format!(", did you mean `{k}`?"))
        .unwrap_or_default()
}

fn check_keys(table: &toml::Table, path: &Path) -> Result<(), ConfigError> {
    let tables: Vec<&str> = SCHEMA.iter().map(|(t, _)| *t).collect();
    for (name, value) in table {
        let Some((_, keys)) = SCHEMA.iter().find(|(t, _)| t == name) else {
            return Err(ConfigError::UnknownKey {
                path: path.to_path_buf(),
                key: name.clone(),
                hint: hint(name, &tables),
            });
        };
        let Some(inner) = value.as_table() else {
            return Err(invalid(path, name, "must be a table"));
        };
        for key in inner.keys() {
            if !keys.contains(&key.as_str()) {
                return Err(ConfigError::UnknownKey {
                    path: path.to_path_buf(),
                    key: format!("{name}.{key}"),
                    hint: hint(key, keys),
                });
            }
        }
    }
    Ok(())
}

fn resolve(
    raw: RawProfile,
    path: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigError> {
    let sut = raw.sut.unwrap_or_default();
    let sut_name = sut.name.unwrap_or_else(|| {
        path.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "sut".into())
    });
    let _ = sut.description;
    let dicomweb = match raw.dicomweb {
        None => None,
        Some(d) => Some(resolve_dicomweb(d, path, env)?),
    };
    let td = raw.test_data.unwrap_or_default();
    let test_data = match td.mode.as_deref() {
        None | Some("load") => TestDataMode::Load,
        Some("preloaded") => TestDataMode::Preloaded,
        Some(other) => {
            return Err(invalid(
                path,
                "test_data.mode",
                format!(
                    "`{other}` is not one of \"load\", \"preloaded\"{}",
                    hint(other, &["load", "preloaded"])
                ),
            ))
        }
    };
    let test_data_parallel = match td.parallel {
        None => DEFAULT_TEST_DATA_PARALLEL,
        Some(n @ 1..=64) => n as usize,
        Some(n) => {
            return Err(invalid(
                path,
                "test_data.parallel",
                format!("{n} is not between 1 and 64"),
            ))
        }
    };
    let pack = raw.options.as_ref().and_then(|o| o.pack.clone());
    if let Some(p) = &pack {
        crate::packs::Pack::resolve(Some(p))
            .map_err(|e| invalid(path, "options.pack", e.to_string()))?;
    }
    Ok(Config {
        sut_name,
        profile_path: Some(path.to_path_buf()),
        dicomweb,
        test_data,
        studies: td.studies.unwrap_or_default(),
        test_data_parallel,
        strict: raw.options.as_ref().and_then(|o| o.strict).unwrap_or(false),
        pack,
        limits: resolve_limits(raw.limits.unwrap_or_default(), path)?,
        xds: raw.xds.map(|x| xds::resolve(x, path)).transpose()?,
        dimse: raw.dimse.map(|d| dimse::resolve(d, path)).transpose()?,
        mhd: raw.mhd.map(|m| mhd::resolve(m, path)).transpose()?,
        simulator: xds::resolve_simulator(raw.simulator.unwrap_or_default(), path)?,
        triggers: xds::resolve_triggers(raw.triggers.unwrap_or_default(), path)?,
        audit_repository: None,
        xca: None,
        xc_wado: None,
        xca_i: None,
        claims: None,
        performance: performance::Performance::default(),
    })
}

fn resolve_limits(l: RawLimits, path: &Path) -> Result<Limits, ConfigError> {
    let d = Limits::default();
    let limits = Limits {
        max_body: l.max_body_bytes.unwrap_or(d.max_body),
        max_nodes: l.max_parsed_nodes.unwrap_or(d.max_nodes),
        max_parts: l.max_parts.unwrap_or(d.max_parts),
        evidence_per_exchange: l
            .evidence_bytes_per_exchange
            .unwrap_or(d.evidence_per_exchange),
        evidence_per_run: l.evidence_bytes_per_run.unwrap_or(d.evidence_per_run),
    };
    // An answer of 0 bytes can always be judged; below a kilobyte not even an error page fits.
    if limits.max_body < 1024 {
        return Err(invalid(
            path,
            "limits.max_body_bytes",
            "must be at least 1024 (bytes)",
        ));
    }
    if limits.max_nodes < 1000 {
        return Err(invalid(
            path,
            "limits.max_parsed_nodes",
            "must be at least 1000",
        ));
    }
    // A study retrieve of one series of a few instances must fit.
    if limits.max_parts < 100 {
        return Err(invalid(path, "limits.max_parts", "must be at least 100"));
    }
    if limits.evidence_per_exchange > limits.evidence_per_run {
        return Err(invalid(
            path,
            "limits.evidence_bytes_per_exchange",
            format!(
                "{} is more than evidence_bytes_per_run ({})",
                limits.evidence_per_exchange, limits.evidence_per_run
            ),
        ));
    }
    Ok(limits)
}

fn resolve_dicomweb(
    d: RawDicomweb,
    path: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Dicomweb, ConfigError> {
    let base_url = d
        .base_url
        .ok_or_else(|| invalid(path, "dicomweb.base_url", "is required"))?;
    let parsed = url::Url::parse(&base_url)
        .map_err(|e| invalid(path, "dicomweb.base_url", format!("not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(invalid(
            path,
            "dicomweb.base_url",
            "scheme must be http or https",
        ));
    }
    let auth = match (d.username, d.bearer_token_env) {
        (Some(_), Some(_)) => {
            return Err(invalid(
                path,
                "dicomweb",
                "give either username (basic auth) or bearer_token_env, not both",
            ))
        }
        (Some(username), None) => {
            let password = match (&d.password, &d.password_env) {
                (Some(p), None) => p.clone(),
                (None, Some(var)) => env(var).ok_or_else(|| {
                    invalid(
                        path,
                        "dicomweb.password_env",
                        format!("environment variable {var} is not set"),
                    )
                })?,
                (None, None) => String::new(),
                (Some(_), Some(_)) => {
                    return Err(invalid(
                        path,
                        "dicomweb",
                        "give password or password_env, not both",
                    ))
                }
            };
            Auth::Basic {
                username,
                password,
                password_env: d.password_env,
            }
        }
        (None, Some(var)) => Auth::Bearer {
            token: env(&var).ok_or_else(|| {
                invalid(
                    path,
                    "dicomweb.bearer_token_env",
                    format!("environment variable {var} is not set"),
                )
            })?,
            token_env: var,
        },
        (None, None) => Auth::None,
    };
    let timeouts = Timeouts::from_ms(
        (d.connect_timeout_ms, d.read_timeout_ms, d.timeout_ms),
        path,
        "dicomweb",
    )?;
    Ok(Dicomweb {
        base_url: base_url.trim_end_matches('/').to_string(),
        auth,
        timeouts,
        tls: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("p.toml"), &|v| {
            (v == "PW").then(|| "s3cret".to_string())
        })
    }

    #[test]
    fn full_profile_resolves() {
        let c = parse(
            r#"
[sut]
name = "Orthanc"
[dicomweb]
base_url = "http://127.0.0.1:8042/dicom-web/"
username = "alice"
password_env = "PW"
read_timeout_ms = 2000
[test_data]
mode = "preloaded"
[options]
strict = true
"#,
        )
        .unwrap();
        assert_eq!(c.sut_name, "Orthanc");
        let d = c.dicomweb.unwrap();
        assert_eq!(d.base_url, "http://127.0.0.1:8042/dicom-web");
        assert_eq!(d.timeouts.read, Duration::from_secs(2));
        assert!(matches!(d.auth, Auth::Basic { ref password, .. } if password == "s3cret"));
        assert_eq!(c.test_data, TestDataMode::Preloaded);
        assert!(c.strict);
    }

    #[test]
    fn the_test_data_load_runs_four_transfers_at_once_unless_the_profile_says() {
        assert_eq!(
            parse("[dicomweb]\nbase_url = \"http://x\"\n")
                .unwrap()
                .test_data_parallel,
            DEFAULT_TEST_DATA_PARALLEL
        );
        let c = parse("[test_data]\nparallel = 1\n").unwrap();
        assert_eq!(c.test_data_parallel, 1);
        for bad in ["0", "65"] {
            let e = parse(&format!("[test_data]\nparallel = {bad}\n")).unwrap_err();
            assert!(e.to_string().contains("test_data.parallel"), "{e}");
        }
    }

    #[test]
    fn unknown_key_has_hint() {
        let e = parse("[dicomweb]\nbase_ulr = \"http://x\"\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "SUT profile p.toml: unknown key `dicomweb.base_ulr`, did you mean `base_url`?"
        );
        let e = parse("[dicomwbe]\nbase_url = \"http://x\"\n").unwrap_err();
        assert!(e.to_string().contains("did you mean `dicomweb`?"), "{e}");
    }

    #[test]
    fn bad_values_are_errors() {
        assert!(parse("[dicomweb]\nbase_url = \"ftp://x\"\n").is_err());
        assert!(parse("[dicomweb]\n").is_err());
        assert!(parse("[test_data]\nmode = \"lod\"\n")
            .unwrap_err()
            .to_string()
            .contains("did you mean `load`"));
        assert!(
            parse("[dicomweb]\nbase_url = \"http://x\"\nbearer_token_env = \"NOPE\"\n").is_err()
        );
        assert!(parse("[options]\nstrict = \"yes\"\n").is_err());
    }

    #[test]
    fn limits_have_defaults_and_are_checked() {
        let c = parse("").unwrap();
        assert_eq!(c.limits, Limits::default());
        let c = parse(
            "[limits]\nmax_body_bytes = 65_536\nmax_parsed_nodes = 5000\nmax_parts = 500\nevidence_bytes_per_exchange = 1024\nevidence_bytes_per_run = 4096\n",
        )
        .unwrap();
        assert_eq!(c.limits.max_body, 65_536);
        assert_eq!(c.limits.max_nodes, 5000);
        assert_eq!(c.limits.max_parts, 500);
        assert_eq!(c.limits.evidence_per_exchange, 1024);
        assert_eq!(c.limits.evidence_per_run, 4096);
        assert!(parse("[limits]\nmax_body_bytes = 10\n").is_err());
        assert!(parse("[limits]\nmax_parsed_nodes = 10\n").is_err());
        assert!(parse("[limits]\nmax_parts = 99\n").is_err());
        assert!(
            parse("[limits]\nevidence_bytes_per_exchange = 9\nevidence_bytes_per_run = 8\n")
                .is_err()
        );
        assert!(parse("[limits]\nmax_body = 10\n")
            .unwrap_err()
            .to_string()
            .contains("did you mean `max_body_bytes`"));
    }

    #[test]
    fn secrets_are_not_debug_printed() {
        let c = parse(
            "[dicomweb]\nbase_url = \"http://x\"\nusername = \"u\"\npassword = \"topsecret\"\n",
        )
        .unwrap();
        assert!(!format!("{c:?}").contains("topsecret"));
    }
}
