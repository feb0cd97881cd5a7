//! The `[xca_i]` table: a SUT that is an IHE XCA-I Responding Imaging Gateway, to which the
//! harness, as an Initiating Imaging Gateway, sends RAD-75 Cross Gateway Retrieve Imaging Document
//! Set.
//!
//! ```toml
//! [xca_i]
//! responding_imaging_gateway_url = "https://rig.example/rad75"         # RAD-75
//! home_community_ids = ["urn:oid:1.3.6.1.4.1.21367.13.70.201"]         # the communities it represents
//! imaging_source_unique_ids = ["1.3.6.1.4.1.21367.13.71.201.1"]        # its Imaging Document Sources
//!
//! [xca_i.tls]                            # overrides [tls] for this endpoint
//! server_name = "rig.example"
//! ```
//! The first of `home_community_ids` is the community the harness names in every DocumentRequest
//! (RAD-75 carries HomeCommunityId in each, Gazelle RAD75-001 → RAD TF-2 §4.69.4.1.2); the first
//! of `imaging_source_unique_ids` is the RepositoryUniqueId the harness asks the test images at
//! when no manifest names one (default: the Retrieve Location UID of the test manifests).

use std::path::Path;

use serde::Deserialize;

use super::xca::is_oid_urn;
use super::{invalid, ConfigError, Timeouts};
use crate::transport::tls::TlsSettings;

/// The name of the table.
pub const TABLE: &str = "xca_i";

/// The keys of the table (besides `tls`).
pub const KEYS: &[&str] = &[
    "responding_imaging_gateway_url",
    "home_community_ids",
    "imaging_source_unique_ids",
    "connect_timeout_ms",
    "read_timeout_ms",
    "timeout_ms",
];

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawXcaI {
    responding_imaging_gateway_url: Option<String>,
    home_community_ids: Option<Vec<String>>,
    imaging_source_unique_ids: Option<Vec<String>>,
    connect_timeout_ms: Option<u64>,
    read_timeout_ms: Option<u64>,
    timeout_ms: Option<u64>,
}

/// The SUT's Responding Imaging Gateway, resolved.
#[derive(Debug, Clone, Default)]
pub struct XcaI {
    /// RAD-75 endpoint.
    pub url: String,
    /// The homeCommunityIds the gateway represents; the first is the one the harness names.
    pub home_community_ids: Vec<String>,
    /// The RepositoryUniqueIds of the Imaging Document Sources behind the gateway (may be empty).
    pub imaging_source_unique_ids: Vec<String>,
    /// Timeouts of each SOAP exchange.
    pub timeouts: Timeouts,
    /// TLS client settings (`[tls]` overlaid by `[xca_i.tls]`), used with `https://` URLs.
    pub tls: Option<TlsSettings>,
}

impl XcaI {
    /// The reference's Responding Imaging Gateway below `base` (`http://127.0.0.1:PORT/xca-i`).
    pub fn embedded(base: &str) -> XcaI {
        XcaI {
            url: format!("{}/responding-imaging-gateway", base.trim_end_matches('/')),
            home_community_ids: vec![super::xca::DEFAULT_HOME_COMMUNITY_ID.into()],
            imaging_source_unique_ids: vec![super::xds::DEFAULT_IMAGING_SOURCE_ID.into()],
            timeouts: Timeouts::default(),
            tls: None,
        }
    }

    /// The community the harness names in its requests.
    pub fn home(&self) -> &str {
        self.home_community_ids
            .first()
            .map(String::as_str)
            .unwrap_or_default()
    }

    /// The `[xds]` settings an XDS SOAP client needs to reach the gateway (RAD-75 carries the
    /// RAD-69 body), over the affinity-domain identifiers of `xds`.
    pub fn as_xds(&self, xds: Option<&super::Xds>) -> super::Xds {
        let mut x = xds
            .cloned()
            .unwrap_or_else(|| super::Xds::embedded("http://unused.invalid"));
        x.registry_url = None;
        x.repository_url = None;
        x.imaging_source_url = Some(self.url.clone());
        if let Some(id) = self.imaging_source_unique_ids.first() {
            x.imaging_source_unique_id = id.clone();
        }
        x.home_community_id = Some(self.home().to_string());
        x.timeouts = self.timeouts;
        x.tls = self.tls.clone();
        x
    }
}

/// The table as taken out of the profile, before TLS is resolved.
pub(super) type Extracted = super::TableWithTls<RawXcaI>;

/// Take `[xca_i]` (and its `tls` table) out of the profile.
pub(super) fn extract(table: &mut toml::Table, path: &Path) -> Result<Extracted, ConfigError> {
    super::extract_table(table, path, TABLE, KEYS)
}

/// Resolve the table, with `[tls]` overlaid by `[xca_i.tls]`.
pub(super) fn resolve(
    x: Extracted,
    tls: &super::tls::Extracted,
    path: &Path,
) -> Result<Option<XcaI>, ConfigError> {
    let Some(raw) = x.raw else {
        return Ok(None);
    };
    let url = match raw.responding_imaging_gateway_url {
        Some(u) if u.starts_with("http://") || u.starts_with("https://") => u,
        Some(u) => {
            return Err(invalid(
                path,
                &format!("{TABLE}.responding_imaging_gateway_url"),
                format!("{u} is not an http:// or https:// URL"),
            ))
        }
        None => {
            return Err(invalid(
                path,
                TABLE,
                "names no gateway endpoint: give responding_imaging_gateway_url",
            ))
        }
    };
    let ids: Vec<String> = raw
        .home_community_ids
        .unwrap_or_default()
        .into_iter()
        .map(|h| h.trim().to_string())
        .collect();
    if ids.is_empty() {
        return Err(invalid(
            path,
            &format!("{TABLE}.home_community_ids"),
            "give the homeCommunityIds the gateway represents (RAD-75 names one in every DocumentRequest)",
        ));
    }
    if let Some(bad) = ids.iter().find(|h| !is_oid_urn(h)) {
        return Err(invalid(
            path,
            &format!("{TABLE}.home_community_ids"),
            format!("{bad} is not an OID in URI syntax (urn:oid:1.2.3)"),
        ));
    }
    let sources: Vec<String> = raw
        .imaging_source_unique_ids
        .unwrap_or_default()
        .into_iter()
        .map(|h| h.trim().to_string())
        .collect();
    if let Some(bad) = sources.iter().find(|s| !crate::model::ebrim::is_uid(s)) {
        return Err(invalid(
            path,
            &format!("{TABLE}.imaging_source_unique_ids"),
            format!("{bad} is not an OID (1.2.3)"),
        ));
    }
    let timeouts = Timeouts::from_ms(
        (raw.connect_timeout_ms, raw.read_timeout_ms, raw.timeout_ms),
        path,
        TABLE,
    )?;
    Ok(Some(XcaI {
        url,
        home_community_ids: ids,
        imaging_source_unique_ids: sources,
        timeouts,
        tls: super::tls::client_for_table(tls, x.tls, &format!("{TABLE}.tls"), path)?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("/p/sut.toml"), &|_| None)
    }

    #[test]
    fn the_table_is_read() {
        let c = parse(
            "[xca_i]\nresponding_imaging_gateway_url = \"https://rig/rad75\"\nhome_community_ids = [\"urn:oid:1.2.3\"]\nimaging_source_unique_ids = [\"1.2.9\"]\n",
        )
        .expect("profile");
        let x = c.xca_i.expect("table");
        assert_eq!(x.url, "https://rig/rad75");
        assert_eq!(x.home(), "urn:oid:1.2.3");
        let as_xds = x.as_xds(None);
        assert_eq!(
            as_xds.imaging_source_url.as_deref(),
            Some("https://rig/rad75")
        );
        assert_eq!(as_xds.imaging_source_unique_id, "1.2.9");
        assert!(parse("").expect("empty").xca_i.is_none());
    }

    #[test]
    fn mistakes_are_configuration_errors() {
        let e =
            parse("[xca_i]\nresponding_imaging_gateway_uri = \"http://rig\"\n").expect_err("typo");
        assert!(
            e.to_string().contains("responding_imaging_gateway_url"),
            "{e}"
        );
        let e = parse("[xca_i]\nhome_community_ids = [\"urn:oid:1.2.3\"]\n").expect_err("no url");
        assert!(e.to_string().contains("endpoint"), "{e}");
        let e = parse("[xca_i]\nresponding_imaging_gateway_url = \"http://rig\"\n")
            .expect_err("no community");
        assert!(e.to_string().contains("home_community_ids"), "{e}");
        let e = parse("[xca_i]\nresponding_imaging_gateway_url = \"http://rig\"\nhome_community_ids = [\"1.2.3\"]\n")
            .expect_err("bare OID");
        assert!(e.to_string().contains("urn:oid"), "{e}");
        let e = parse("[xca_i]\nresponding_imaging_gateway_url = \"rig\"\nhome_community_ids = [\"urn:oid:1.2.3\"]\n")
            .expect_err("no scheme");
        assert!(e.to_string().contains("http"), "{e}");
    }
}
