//! The XDS-I.b part of the SUT profile: the SUT's endpoints (`[xds]`), where the harness's
//! simulated actors listen for the SUT's own calls (`[simulator]`), and how the harness makes the
//! SUT act (`[triggers]`).
//!
//! ```toml
//! [xds]
//! registry_url = "http://pacs:8080/xds/registry"           # ITI-18 Registry Stored Query
//! repository_url = "http://pacs:8080/xds/repository"       # ITI-41/RAD-68 and ITI-43
//! imaging_source_url = "http://pacs:8080/xds/imaging"      # RAD-69
//! repository_unique_id = "1.3.6.1.4.1.21367.13.80.120"     # of the Document Repository
//! imaging_source_unique_id = "1.3.6.1.4.1.21367.13.80.110" # the KOS Retrieve Location UID
//! patient_id_authority = "1.3.6.1.4.1.21367.13.20.1000"    # affinity domain assigning authority
//!
//! [simulator]
//! bind = "0.0.0.0:8181"
//! public_url = "http://harness.example:8181"
//!
//! [triggers]
//! source_submits_manifest = "ssh pacs send-manifest --study {study_uid} --to {endpoint}"
//! consumer_queries = "prompt: query the registry at {endpoint} for patient {patient_id}"
//! ```

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::{invalid, ConfigError, Timeouts};

/// The assigning authority of patient ids in the reference's affinity domain.
pub const DEFAULT_PATIENT_AUTHORITY: &str = "1.3.6.1.4.1.21367.13.20.1000";
/// The reference Imaging Document Source's repositoryUniqueId: the Retrieve Location UID
/// (0040,E011) of the fixture manifests.
pub const DEFAULT_IMAGING_SOURCE_ID: &str = "1.3.6.1.4.1.21367.13.80.110";
/// The reference Document Repository's repositoryUniqueId.
pub const DEFAULT_REPOSITORY_ID: &str = "1.3.6.1.4.1.21367.13.80.120";
/// The sourceId the harness puts in the SubmissionSets it sends (RAD-68).
pub const DEFAULT_SOURCE_ID: &str = "1.3.6.1.4.1.21367.13.80.130";

/// The actions the harness can ask of the SUT, each the name of a trigger.
pub const TRIGGERS: &[&str] = &[
    "source_submits_manifest",
    "consumer_queries",
    "consumer_retrieves_manifest",
    "consumer_retrieves",
    "modality_stores",
    "source_provides_bundle",
    "consumer_finds_documents",
    "consumer_finds_lists",
    "audit_source_sends",
    "qr_scu_finds",
    "qr_scu_moves",
    "qr_scu_gets",
    "dicomweb_client_searches",
    "dicomweb_client_retrieves",
    "dicomweb_client_stores",
    "qr_scu_cancels_find",
    "consumer_queries_across",
];

/// The SUT's XDS-I.b endpoints.
#[derive(Debug, Clone)]
pub struct Xds {
    /// Document Registry endpoint (ITI-18).
    pub registry_url: Option<String>,
    /// Document Repository endpoint (ITI-41, RAD-68, ITI-43).
    pub repository_url: Option<String>,
    /// Imaging Document Source endpoint (RAD-69).
    pub imaging_source_url: Option<String>,
    /// repositoryUniqueId of the Document Repository.
    pub repository_unique_id: String,
    /// repositoryUniqueId of the Imaging Document Source (the KOS Retrieve Location UID).
    pub imaging_source_unique_id: String,
    /// Assigning authority (OID) of the affinity domain's patient ids.
    pub patient_id_authority: String,
    /// sourceId of the submissions the harness sends.
    pub source_id: String,
    /// homeCommunityId, when the endpoints are behind a gateway.
    pub home_community_id: Option<String>,
    /// Affinity-domain code sets (None: the documented default set).
    pub affinity_domain: Option<PathBuf>,
    /// Timeouts of each SOAP exchange.
    pub timeouts: Timeouts,
    /// TLS settings (`[tls]` with this endpoint's `tls` table over it), used with `https://` URLs.
    pub tls: Option<crate::transport::tls::TlsSettings>,
}

impl Xds {
    /// The reference's endpoints below `base` (`http://127.0.0.1:PORT/xds`).
    pub fn embedded(base: &str) -> Xds {
        let base = base.trim_end_matches('/');
        Xds {
            registry_url: Some(format!("{base}/registry")),
            repository_url: Some(format!("{base}/repository")),
            imaging_source_url: Some(format!("{base}/imaging-source")),
            repository_unique_id: DEFAULT_REPOSITORY_ID.into(),
            imaging_source_unique_id: DEFAULT_IMAGING_SOURCE_ID.into(),
            patient_id_authority: DEFAULT_PATIENT_AUTHORITY.into(),
            source_id: DEFAULT_SOURCE_ID.into(),
            home_community_id: None,
            affinity_domain: None,
            timeouts: Timeouts::default(),
            tls: None,
        }
    }

    /// The affinity-domain patient id (CX, ITI TF-3 4.2.3.1.7) of a DICOM Patient ID.
    pub fn patient_cx(&self, patient_id: &str) -> String {
        format!("{patient_id}^^^&{}&ISO", self.patient_id_authority)
    }
}

/// Where the harness's simulated actors (Registry, Repository, Imaging Document Source) listen.
#[derive(Debug, Clone)]
pub struct Simulator {
    /// Listening address; port 0 picks a free port.
    pub bind: SocketAddr,
    /// The base URL the SUT must call, when it differs from the bound address (NAT, proxy).
    pub public_url: Option<String>,
    /// How long a step waits for the SUT's call after a trigger.
    pub trigger_timeout: Duration,
    /// Where the harness's DICOM SCP (Storage, the C-MOVE destination) listens, if anywhere.
    pub dimse_bind: Option<SocketAddr>,
    /// The AE title of the harness's DICOM SCP.
    pub ae_title: String,
    /// TLS for the harness's servers (`[simulator.tls]`): HTTP listener, DICOM SCP and the
    /// Audit Record Repository's syslog listener.
    pub tls: Option<crate::transport::tls::TlsSettings>,
    /// Where the harness's Audit Record Repository takes syslog over TLS (RFC 5425), if anywhere.
    pub audit_bind: Option<SocketAddr>,
    /// Where the harness's Audit Record Repository takes syslog over UDP (RFC 5426), if anywhere.
    pub audit_udp_bind: Option<SocketAddr>,
    /// Where the harness's Audit Record Repository takes the FHIR Feed of RESTful ATNA (HTTPS with
    /// `[simulator.tls]`, plain HTTP without), if anywhere.
    pub audit_fhir_bind: Option<SocketAddr>,
}

impl Default for Simulator {
    fn default() -> Self {
        Simulator {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            public_url: None,
            trigger_timeout: Duration::from_secs(60),
            dimse_bind: None,
            ae_title: crate::config::dimse::DEFAULT_CALLING_AE.into(),
            tls: None,
            audit_bind: None,
            audit_udp_bind: None,
            audit_fhir_bind: None,
        }
    }
}

/// How the harness makes the SUT perform an action (send a submission, run a query).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// A command line run with `sh -c`, after the placeholders (`{patient_id}`, `{study_uid}`,
    /// `{endpoint}`, ...) are replaced.
    Command(String),
    /// A message shown to the operator, who makes the SUT act (interactive connectathon mode).
    Prompt(String),
    /// The harness's own conformant actor plays the SUT's part (embedded reference only).
    Builtin(String),
}

#[derive(Debug, Deserialize, Default)]
pub(super) struct RawXds {
    registry_url: Option<String>,
    repository_url: Option<String>,
    imaging_source_url: Option<String>,
    repository_unique_id: Option<String>,
    imaging_source_unique_id: Option<String>,
    patient_id_authority: Option<String>,
    source_id: Option<String>,
    home_community_id: Option<String>,
    affinity_domain: Option<PathBuf>,
    connect_timeout_ms: Option<u64>,
    read_timeout_ms: Option<u64>,
    timeout_ms: Option<u64>,
}

#[derive(Debug, Deserialize, Default)]
pub(super) struct RawSimulator {
    bind: Option<String>,
    public_url: Option<String>,
    trigger_timeout_ms: Option<u64>,
    dimse_bind: Option<String>,
    ae_title: Option<String>,
    audit_bind: Option<String>,
    audit_udp_bind: Option<String>,
    audit_fhir_bind: Option<String>,
}

fn url_key(path: &Path, key: &str, v: Option<String>) -> Result<Option<String>, ConfigError> {
    let Some(v) = v else { return Ok(None) };
    let parsed = url::Url::parse(&v).map_err(|e| invalid(path, key, format!("not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(invalid(path, key, "scheme must be http or https"));
    }
    Ok(Some(v))
}

fn oid_key(
    path: &Path,
    key: &str,
    v: Option<String>,
    default: &str,
) -> Result<String, ConfigError> {
    let v = v.unwrap_or_else(|| default.to_string());
    if crate::model::ebrim::is_oid(&v) {
        Ok(v)
    } else {
        Err(invalid(path, key, format!("`{v}` is not an OID")))
    }
}

pub(super) fn resolve(x: RawXds, path: &Path) -> Result<Xds, ConfigError> {
    let registry_url = url_key(path, "xds.registry_url", x.registry_url)?;
    let repository_url = url_key(path, "xds.repository_url", x.repository_url)?;
    let imaging_source_url = url_key(path, "xds.imaging_source_url", x.imaging_source_url)?;
    if registry_url.is_none() && repository_url.is_none() && imaging_source_url.is_none() {
        return Err(invalid(
            path,
            "xds",
            "give at least one of registry_url, repository_url, imaging_source_url",
        ));
    }
    let timeouts = Timeouts::from_ms(
        (x.connect_timeout_ms, x.read_timeout_ms, x.timeout_ms),
        path,
        "xds",
    )?;
    let affinity_domain = x.affinity_domain.map(|p| match path.parent() {
        Some(dir) if p.is_relative() => dir.join(p),
        _ => p,
    });
    Ok(Xds {
        registry_url,
        repository_url,
        imaging_source_url,
        repository_unique_id: oid_key(
            path,
            "xds.repository_unique_id",
            x.repository_unique_id,
            DEFAULT_REPOSITORY_ID,
        )?,
        imaging_source_unique_id: oid_key(
            path,
            "xds.imaging_source_unique_id",
            x.imaging_source_unique_id,
            DEFAULT_IMAGING_SOURCE_ID,
        )?,
        patient_id_authority: oid_key(
            path,
            "xds.patient_id_authority",
            x.patient_id_authority,
            DEFAULT_PATIENT_AUTHORITY,
        )?,
        source_id: oid_key(path, "xds.source_id", x.source_id, DEFAULT_SOURCE_ID)?,
        home_community_id: x.home_community_id,
        affinity_domain,
        timeouts,
        tls: None,
    })
}

pub(super) fn resolve_simulator(s: RawSimulator, path: &Path) -> Result<Simulator, ConfigError> {
    let mut sim = Simulator::default();
    if let Some(b) = s.bind {
        sim.bind = b.parse().map_err(|_| {
            invalid(
                path,
                "simulator.bind",
                format!("`{b}` is not an address:port"),
            )
        })?;
    }
    sim.public_url = url_key(path, "simulator.public_url", s.public_url)?
        .map(|u| u.trim_end_matches('/').to_string());
    if let Some(ms) = s.trigger_timeout_ms {
        if ms == 0 {
            return Err(invalid(
                path,
                "simulator.trigger_timeout_ms",
                "must be greater than 0",
            ));
        }
        sim.trigger_timeout = Duration::from_millis(ms);
    }
    if let Some(b) = s.dimse_bind {
        sim.dimse_bind = Some(b.parse().map_err(|_| {
            invalid(
                path,
                "simulator.dimse_bind",
                format!("`{b}` is not an address:port"),
            )
        })?);
    }
    if let Some(ae) = s.ae_title {
        if !crate::config::dimse::valid_ae(&ae) {
            return Err(invalid(
                path,
                "simulator.ae_title",
                format!("`{ae}` is not an AE title"),
            ));
        }
        sim.ae_title = ae;
    }
    for (key, raw, slot) in [
        ("simulator.audit_bind", s.audit_bind, &mut sim.audit_bind),
        (
            "simulator.audit_udp_bind",
            s.audit_udp_bind,
            &mut sim.audit_udp_bind,
        ),
        (
            "simulator.audit_fhir_bind",
            s.audit_fhir_bind,
            &mut sim.audit_fhir_bind,
        ),
    ] {
        if let Some(b) = raw {
            *slot = Some(
                b.parse()
                    .map_err(|_| invalid(path, key, format!("`{b}` is not an address:port")))?,
            );
        }
    }
    Ok(sim)
}

pub(super) fn resolve_triggers(
    raw: BTreeMap<String, String>,
    path: &Path,
) -> Result<BTreeMap<String, Trigger>, ConfigError> {
    let mut out = BTreeMap::new();
    for (name, text) in raw {
        let key = format!("triggers.{name}");
        let text = text.trim();
        let trigger = if let Some(p) = text.strip_prefix("prompt:") {
            Trigger::Prompt(p.trim().to_string())
        } else if text.starts_with("builtin:") {
            return Err(invalid(
                path,
                &key,
                "builtin triggers belong to the embedded reference; give a command or `prompt: …`",
            ));
        } else if text.is_empty() {
            return Err(invalid(path, &key, "is empty"));
        } else {
            Trigger::Command(text.to_string())
        };
        out.insert(name, trigger);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::Config;
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("/p/sut.toml"), &|_| None)
    }

    #[test]
    fn audit_listener_addresses_resolve() {
        let c = parse(
            "[simulator]\naudit_bind = \"0.0.0.0:6514\"\naudit_udp_bind = \"127.0.0.1:5514\"\naudit_fhir_bind = \"127.0.0.1:8443\"\n[triggers]\naudit_source_sends = \"audit-to {audit_host} {audit_port} {audit_udp_port}\"\n",
        )
        .unwrap();
        assert_eq!(
            c.simulator.audit_bind,
            Some("0.0.0.0:6514".parse().unwrap())
        );
        assert_eq!(
            c.simulator.audit_udp_bind,
            Some("127.0.0.1:5514".parse().unwrap())
        );
        assert_eq!(
            c.simulator.audit_fhir_bind,
            Some("127.0.0.1:8443".parse().unwrap())
        );
        assert!(c.triggers.contains_key("audit_source_sends"));
        let e = parse("[simulator]\naudit_fhir_bind = \"https://x\"\n").unwrap_err();
        assert!(e.to_string().contains("simulator.audit_fhir_bind"), "{e}");
        let e = parse("[simulator]\naudit_bind = \"syslog\"\n").unwrap_err();
        assert!(e.to_string().contains("simulator.audit_bind"), "{e}");
        assert_eq!(Simulator::default().audit_udp_bind, None);
    }

    #[test]
    fn xds_profile_resolves_with_defaults() {
        let c = parse(
            r#"
[xds]
registry_url = "http://r/xds/registry"
affinity_domain = "codes.toml"
read_timeout_ms = 500
[simulator]
bind = "0.0.0.0:8181"
public_url = "http://harness:8181/"
[triggers]
source_submits_manifest = "send {study_uid} {endpoint}"
consumer_queries = "prompt: query {patient_id}"
"#,
        )
        .unwrap();
        let x = c.xds.unwrap();
        assert_eq!(x.registry_url.as_deref(), Some("http://r/xds/registry"));
        assert_eq!(x.imaging_source_unique_id, DEFAULT_IMAGING_SOURCE_ID);
        assert_eq!(x.affinity_domain, Some(PathBuf::from("/p/codes.toml")));
        assert_eq!(x.timeouts.read, Duration::from_millis(500));
        assert_eq!(x.patient_cx("P1"), "P1^^^&1.3.6.1.4.1.21367.13.20.1000&ISO");
        assert_eq!(
            c.simulator.public_url.as_deref(),
            Some("http://harness:8181")
        );
        assert_eq!(
            c.triggers.get("consumer_queries"),
            Some(&Trigger::Prompt("query {patient_id}".into()))
        );
        assert!(matches!(
            c.triggers.get("source_submits_manifest"),
            Some(Trigger::Command(_))
        ));
    }

    #[test]
    fn xds_mistakes_are_configuration_errors() {
        assert!(parse("[xds]\n").is_err());
        assert!(parse("[xds]\nregistry_url = \"ftp://x\"\n").is_err());
        assert!(
            parse("[xds]\nregistry_url = \"http://x\"\nrepository_unique_id = \"abc\"\n").is_err()
        );
        assert!(parse("[simulator]\nbind = \"nowhere\"\n").is_err());
        assert!(parse("[triggers]\nconsumer_queries = \"builtin:x\"\n").is_err());
        let e = parse("[triggers]\nsource_submit_manifest = \"x\"\n").unwrap_err();
        assert!(e.to_string().contains("did you mean"), "{e}");
    }
}
