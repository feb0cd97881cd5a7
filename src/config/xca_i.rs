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
//! initiating_imaging_gateway_url = "https://iig.example/rad69"        # RAD-69, the SUT as IIG
//!
//! [xca_i.tls]                            # overrides [tls] for this endpoint
//! server_name = "rig.example"
//! ```
//! The first of `home_community_ids` is the community the harness names in every DocumentRequest
//! (RAD-75 carries HomeCommunityId in each, Gazelle RAD75-001 → RAD TF-2 §4.69.4.1.2); the first
//! of `imaging_source_unique_ids` is the RepositoryUniqueId the harness asks the test images at
//! when no manifest names one (default: the Retrieve Location UID of the test manifests).
//!
//! A SUT that is an Initiating Imaging Gateway gives `initiating_imaging_gateway_url`, its RAD-69
//! endpoint (the table may name it alone): the harness sends it RAD-69 naming the communities A
//! and B of [`super::xca::COMMUNITIES`], whose Responding Imaging Gateways it simulates on the
//! simulator (`/xca-i/community-a/responding-imaging-gateway`, `…/community-b/…`).

use std::path::Path;

use serde::Deserialize;

use super::xca::{community_ids, http_url};
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
    "initiating_imaging_gateway_url",
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
    initiating_imaging_gateway_url: Option<String>,
}

/// The SUT's Responding Imaging Gateway, resolved.
#[derive(Debug, Clone, Default)]
pub struct XcaI {
    /// RAD-75 endpoint (empty when the SUT is only an Initiating Imaging Gateway).
    pub url: String,
    /// The homeCommunityIds the gateway represents; the first is the one the harness names.
    pub home_community_ids: Vec<String>,
    /// The RepositoryUniqueIds of the Imaging Document Sources behind the gateway (may be empty).
    pub imaging_source_unique_ids: Vec<String>,
    /// Timeouts of each SOAP exchange.
    pub timeouts: Timeouts,
    /// TLS client settings (`[tls]` overlaid by `[xca_i.tls]`), used with `https://` URLs.
    pub tls: Option<TlsSettings>,
    /// RAD-69 endpoint of the SUT's Initiating Imaging Gateway.
    pub iig_url: Option<String>,
}

impl XcaI {
    /// The reference's Responding Imaging Gateway below `base` (`http://127.0.0.1:PORT/xca-i`).
    pub fn embedded(base: &str) -> XcaI {
        let base = base.trim_end_matches('/');
        XcaI {
            url: format!("{base}/responding-imaging-gateway"),
            home_community_ids: vec![super::xca::DEFAULT_HOME_COMMUNITY_ID.into()],
            imaging_source_unique_ids: vec![super::xds::DEFAULT_IMAGING_SOURCE_ID.into()],
            timeouts: Timeouts::default(),
            tls: None,
            iig_url: Some(format!("{base}/initiating-imaging-gateway")),
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

    /// The `[xds]` settings of an Imaging Document Consumer calling the SUT's Initiating Imaging
    /// Gateway (RAD-69 to `iig_url`), over the affinity-domain identifiers of `xds`.
    pub fn initiating_as_xds(&self, xds: Option<&super::Xds>) -> super::Xds {
        let mut x = self.as_xds(xds);
        x.imaging_source_url = self.iig_url.clone();
        x.imaging_source_unique_id = xds.map_or_else(
            || super::xds::DEFAULT_IMAGING_SOURCE_ID.to_string(),
            |d| d.imaging_source_unique_id.clone(),
        );
        x.home_community_id = None;
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
    let iig_url = http_url(
        path,
        TABLE,
        "initiating_imaging_gateway_url",
        raw.initiating_imaging_gateway_url,
    )?;
    let url = match http_url(
        path,
        TABLE,
        "responding_imaging_gateway_url",
        raw.responding_imaging_gateway_url,
    )? {
        Some(u) => u,
        None if iig_url.is_some() => String::new(),
        None => {
            return Err(invalid(
                path,
                TABLE,
                "names no gateway endpoint: give responding_imaging_gateway_url (a Responding \
                 Imaging Gateway) or initiating_imaging_gateway_url (an Initiating Imaging Gateway)",
            ))
        }
    };
    let ids = community_ids(
        path,
        TABLE,
        raw.home_community_ids,
        (!url.is_empty()).then_some("RAD-75 names one in every DocumentRequest"),
    )?;
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
        iig_url,
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
        let e =
            parse("[xca_i]\ninitiating_imaging_gateway_url = \"iig\"\n").expect_err("no scheme");
        assert!(
            e.to_string().contains("initiating_imaging_gateway_url"),
            "{e}"
        );
    }

    #[test]
    fn an_initiating_imaging_gateway_needs_no_community() {
        let c = parse("[xca_i]\ninitiating_imaging_gateway_url = \"http://iig/rad69\"\n")
            .expect("profile");
        let x = c.xca_i.expect("table");
        assert!(x.url.is_empty());
        assert_eq!(x.iig_url.as_deref(), Some("http://iig/rad69"));
        let as_xds = x.initiating_as_xds(None);
        assert_eq!(
            as_xds.imaging_source_url.as_deref(),
            Some("http://iig/rad69")
        );
        assert_eq!(as_xds.home_community_id, None);
    }
}
