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

pub mod dimse;
pub mod mhd;
pub mod xds;

pub use dimse::Dimse;
pub use mhd::Mhd;
pub use xds::{Simulator, Trigger, Xds, TRIGGERS};

/// Every environment variable the harness reads, with what it is for.
pub const ENV_VARS: &[(&str, &str)] = &[
    (
        "IHE_HARNESS_FIXTURES",
        "folder of the fixture studies (default: fixtures/studies beside the features folder)",
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
    ("test_data", &["mode", "studies"]),
    ("options", &["strict"]),
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
}

#[derive(Debug, Deserialize, Default)]
struct RawOptions {
    strict: Option<bool>,
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

/// The DICOMweb endpoint of the SUT.
#[derive(Debug, Clone)]
pub struct Dicomweb {
    /// The service root, without a trailing slash (`http://host/dicom-web`).
    pub base_url: String,
    /// Authentication.
    pub auth: Auth,
    /// Timeouts.
    pub timeouts: Timeouts,
}

/// Whether the harness loads its fixture studies into the SUT or finds them there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestDataMode {
    /// A Background step stores the fixture studies with STOW-RS (once per run).
    Load,
    /// The SUT already holds the fixture studies.
    Preloaded,
}

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
    /// Judge SHOULD-level requirements and open status codes strictly.
    pub strict: bool,
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
            }),
            test_data: TestDataMode::Preloaded,
            studies: Vec::new(),
            strict: false,
            xds: None,
            dimse: None,
            mhd: None,
            simulator: Simulator::default(),
            triggers: Default::default(),
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
        check_keys(&value, path)?;
        let raw: RawProfile =
            toml::Value::Table(value)
                .try_into()
                .map_err(|e: toml::de::Error| ConfigError::Parse {
                    path: path.to_path_buf(),
                    message: e.message().to_string(),
                })?;
        resolve(raw, path, env)
    }
}

fn invalid(path: &Path, key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        path: path.to_path_buf(),
        key: key.into(),
        message: message.into(),
    }
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
    Ok(Config {
        sut_name,
        profile_path: Some(path.to_path_buf()),
        dicomweb,
        test_data,
        studies: td.studies.unwrap_or_default(),
        strict: raw.options.and_then(|o| o.strict).unwrap_or(false),
        xds: raw.xds.map(|x| xds::resolve(x, path)).transpose()?,
        dimse: raw.dimse.map(|d| dimse::resolve(d, path)).transpose()?,
        mhd: raw.mhd.map(|m| mhd::resolve(m, path)).transpose()?,
        simulator: xds::resolve_simulator(raw.simulator.unwrap_or_default(), path)?,
        triggers: xds::resolve_triggers(raw.triggers.unwrap_or_default(), path)?,
    })
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
    let mut timeouts = Timeouts::default();
    if let Some(ms) = d.connect_timeout_ms {
        timeouts.connect = Duration::from_millis(ms);
    }
    if let Some(ms) = d.read_timeout_ms {
        timeouts.read = Duration::from_millis(ms);
    }
    if let Some(ms) = d.timeout_ms {
        timeouts.total = Duration::from_millis(ms);
    }
    if timeouts.connect.is_zero() || timeouts.read.is_zero() || timeouts.total.is_zero() {
        return Err(invalid(path, "dicomweb", "timeouts must be greater than 0"));
    }
    Ok(Dicomweb {
        base_url: base_url.trim_end_matches('/').to_string(),
        auth,
        timeouts,
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
    fn secrets_are_not_debug_printed() {
        let c = parse(
            "[dicomweb]\nbase_url = \"http://x\"\nusername = \"u\"\npassword = \"topsecret\"\n",
        )
        .unwrap();
        assert!(!format!("{c:?}").contains("topsecret"));
    }
}
