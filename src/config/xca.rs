//! The `[xca]` table: a SUT that is an IHE XCA Responding Gateway, to which the harness, as an
//! Initiating Gateway, sends ITI-38 Cross Gateway Query and ITI-39 Cross Gateway Retrieve.
//!
//! ```toml
//! [xca]
//! responding_gateway_query_url = "https://rg.example/xca/query"        # ITI-38
//! responding_gateway_retrieve_url = "https://rg.example/xca/retrieve"  # ITI-39
//! home_community_ids = ["urn:oid:1.3.6.1.4.1.21367.13.70.201"]         # the communities it represents
//!
//! [xca.tls]                              # overrides [tls] for this endpoint
//! server_name = "rg.example"
//! ```
//! The first of `home_community_ids` is the community the harness names in its requests (ITI TF-2
//! §3.38.4.1.2.1, §3.39.4.1.2). Each is an OID in URI syntax, `urn:oid:…` (ITI TF-2 §3.38.4.1.2.1).
//!
//! A SUT that is an Initiating Gateway with the XDS Affinity Domain Option names its ITI-18 and
//! ITI-43 endpoints; the harness plays the Document Consumer in front of it and the Responding
//! Gateways of two communities behind it ([`COMMUNITIES`]), which the gateway must be set up to
//! call on the simulator's HTTP listener (`[simulator] bind` / `public_url`):
//! ```toml
//! [xca]
//! initiating_gateway_query_url = "https://ig.example/xds/registry"      # ITI-18
//! initiating_gateway_retrieve_url = "https://ig.example/xds/repository" # ITI-43
//! # community A, urn:oid:1.3.6.1.4.1.21367.13.70.101: <simulator>/xca/community-a/responding-gateway/{query,retrieve}
//! # community B, urn:oid:1.3.6.1.4.1.21367.13.70.102: <simulator>/xca/community-b/responding-gateway/{query,retrieve}
//! ```

use std::path::Path;

use serde::Deserialize;

use super::{invalid, ConfigError, Timeouts};
use crate::transport::tls::TlsSettings;

/// The name of the table.
pub const TABLE: &str = "xca";

/// The keys of the table (besides `tls`).
pub const KEYS: &[&str] = &[
    "responding_gateway_query_url",
    "responding_gateway_retrieve_url",
    "home_community_ids",
    "connect_timeout_ms",
    "read_timeout_ms",
    "timeout_ms",
    "initiating_gateway_query_url",
    "initiating_gateway_retrieve_url",
];

/// The homeCommunityId of the embedded reference's Responding Gateway (a value of the NIST test
/// communities' arc).
pub const DEFAULT_HOME_COMMUNITY_ID: &str = "urn:oid:1.3.6.1.4.1.21367.13.70.201";

/// A homeCommunityId no gateway of the harness's test communities represents (NIST 15815).
pub const UNKNOWN_HOME_COMMUNITY_ID: &str = "urn:oid:1.2.555.6.7.8";

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawXca {
    responding_gateway_query_url: Option<String>,
    responding_gateway_retrieve_url: Option<String>,
    home_community_ids: Option<Vec<String>>,
    connect_timeout_ms: Option<u64>,
    read_timeout_ms: Option<u64>,
    timeout_ms: Option<u64>,
    initiating_gateway_query_url: Option<String>,
    initiating_gateway_retrieve_url: Option<String>,
}

/// The homeCommunityId of the harness's simulated community A, behind a SUT Initiating Gateway
/// (the NIST test communities' arc).
pub const COMMUNITY_A: &str = "urn:oid:1.3.6.1.4.1.21367.13.70.101";

/// The homeCommunityId of the harness's simulated community B.
pub const COMMUNITY_B: &str = "urn:oid:1.3.6.1.4.1.21367.13.70.102";

/// The simulated communities behind a SUT Initiating Gateway: homeCommunityId and the path
/// segment below `/xca` of its Responding Gateway (`/xca/community-a/responding-gateway/query`,
/// `…/retrieve`), on the simulator's HTTP listener (`[simulator] bind`).
pub const COMMUNITIES: [(&str, &str); 2] =
    [(COMMUNITY_A, "community-a"), (COMMUNITY_B, "community-b")];

/// The SUT's Responding Gateway, resolved.
#[derive(Debug, Clone, Default)]
pub struct Xca {
    /// ITI-38 endpoint.
    pub query_url: Option<String>,
    /// ITI-39 endpoint.
    pub retrieve_url: Option<String>,
    /// The homeCommunityIds the gateway represents; the first is the one the harness names.
    pub home_community_ids: Vec<String>,
    /// Timeouts of each SOAP exchange.
    pub timeouts: Timeouts,
    /// TLS client settings (`[tls]` overlaid by `[xca.tls]`), used with `https://` URLs.
    pub tls: Option<TlsSettings>,
    /// ITI-18 endpoint of the SUT's Initiating Gateway (the SUT as Initiating Gateway, with the
    /// XDS Affinity Domain Option).
    pub ig_query_url: Option<String>,
    /// ITI-43 endpoint of the SUT's Initiating Gateway.
    pub ig_retrieve_url: Option<String>,
}

impl Xca {
    /// The reference's Responding Gateway below `base` (`http://127.0.0.1:PORT/xca`).
    pub fn embedded(base: &str) -> Xca {
        let base = base.trim_end_matches('/');
        Xca {
            query_url: Some(format!("{base}/responding-gateway/query")),
            retrieve_url: Some(format!("{base}/responding-gateway/retrieve")),
            home_community_ids: vec![DEFAULT_HOME_COMMUNITY_ID.into()],
            timeouts: Timeouts::default(),
            tls: None,
            ig_query_url: Some(format!("{base}/initiating-gateway/query")),
            ig_retrieve_url: Some(format!("{base}/initiating-gateway/retrieve")),
        }
    }

    /// The `[xds]` settings of a Document Consumer calling the SUT's Initiating Gateway (ITI-18
    /// and ITI-43 to its endpoints), over the affinity-domain identifiers of `xds`.
    pub fn initiating_as_xds(&self, xds: Option<&super::Xds>) -> super::Xds {
        let mut x = self.as_xds(xds);
        x.registry_url = self.ig_query_url.clone();
        x.repository_url = self.ig_retrieve_url.clone();
        x.home_community_id = None;
        x
    }

    /// The community the harness names in its requests.
    pub fn home(&self) -> &str {
        self.home_community_ids
            .first()
            .map(String::as_str)
            .unwrap_or_default()
    }

    /// The `[xds]` settings an XDS SOAP client needs to reach these endpoints (the XCA messages
    /// are the ITI-18 and ITI-43 bodies), over the affinity-domain identifiers of `xds`.
    pub fn as_xds(&self, xds: Option<&super::Xds>) -> super::Xds {
        let mut x = xds
            .cloned()
            .unwrap_or_else(|| super::Xds::embedded("http://unused.invalid"));
        x.registry_url = self.query_url.clone();
        x.repository_url = self.retrieve_url.clone();
        x.imaging_source_url = None;
        x.home_community_id = Some(self.home().to_string());
        x.timeouts = self.timeouts;
        x.tls = self.tls.clone();
        x
    }
}

/// Is `v` an OID in URI syntax (`urn:oid:` and dot-separated arcs without leading zeros)?
pub fn is_oid_urn(v: &str) -> bool {
    let Some(oid) = v.strip_prefix("urn:oid:") else {
        return false;
    };
    let arcs: Vec<&str> = oid.split('.').collect();
    arcs.len() >= 2
        && arcs.first().is_some_and(|a| matches!(*a, "0" | "1" | "2"))
        && arcs.iter().all(|a| {
            !a.is_empty()
                && a.bytes().all(|b| b.is_ascii_digit())
                && (a.len() == 1 || !a.starts_with('0'))
        })
}

/// The table as taken out of the profile, before TLS is resolved.
pub(super) type Extracted = super::TableWithTls<RawXca>;

/// Take `[xca]` (and its `tls` table) out of the profile.
pub(super) fn extract(table: &mut toml::Table, path: &Path) -> Result<Extracted, ConfigError> {
    super::extract_table(table, path, TABLE, KEYS)
}

fn url(path: &Path, key: &str, v: Option<String>) -> Result<Option<String>, ConfigError> {
    http_url(path, TABLE, key, v)
}

/// The `http://` or `https://` URL of `table.key`, if the profile gives one.
pub(super) fn http_url(
    path: &Path,
    table: &str,
    key: &str,
    v: Option<String>,
) -> Result<Option<String>, ConfigError> {
    match v {
        Some(u) if u.starts_with("http://") || u.starts_with("https://") => Ok(Some(u)),
        Some(u) => Err(invalid(
            path,
            &format!("{table}.{key}"),
            format!("{u} is not an http:// or https:// URL"),
        )),
        None => Ok(None),
    }
}

/// The homeCommunityIds of `table.home_community_ids`, trimmed, each an OID in URI syntax; when
/// `required` is given, none is a configuration error that says why they are needed.
pub(super) fn community_ids(
    path: &Path,
    table: &str,
    v: Option<Vec<String>>,
    required: Option<&str>,
) -> Result<Vec<String>, ConfigError> {
    let key = format!("{table}.home_community_ids");
    let ids: Vec<String> = v
        .unwrap_or_default()
        .into_iter()
        .map(|h| h.trim().to_string())
        .collect();
    if let (true, Some(why)) = (ids.is_empty(), required) {
        return Err(invalid(
            path,
            &key,
            format!("give the homeCommunityIds the gateway represents ({why})"),
        ));
    }
    if let Some(bad) = ids.iter().find(|h| !is_oid_urn(h)) {
        return Err(invalid(
            path,
            &key,
            format!("{bad} is not an OID in URI syntax (urn:oid:1.2.3)"),
        ));
    }
    Ok(ids)
}

/// Resolve the table, with `[tls]` overlaid by `[xca.tls]`.
pub(super) fn resolve(
    x: Extracted,
    tls: &super::tls::Extracted,
    path: &Path,
) -> Result<Option<Xca>, ConfigError> {
    let Some(raw) = x.raw else {
        return Ok(None);
    };
    let query_url = url(
        path,
        "responding_gateway_query_url",
        raw.responding_gateway_query_url,
    )?;
    let retrieve_url = url(
        path,
        "responding_gateway_retrieve_url",
        raw.responding_gateway_retrieve_url,
    )?;
    let ig_query_url = url(
        path,
        "initiating_gateway_query_url",
        raw.initiating_gateway_query_url,
    )?;
    let ig_retrieve_url = url(
        path,
        "initiating_gateway_retrieve_url",
        raw.initiating_gateway_retrieve_url,
    )?;
    let responding = query_url.is_some() || retrieve_url.is_some();
    if !responding && ig_query_url.is_none() && ig_retrieve_url.is_none() {
        return Err(invalid(
            path,
            TABLE,
            "names no gateway endpoint: give responding_gateway_query_url or \
             responding_gateway_retrieve_url (a Responding Gateway), or \
             initiating_gateway_query_url or initiating_gateway_retrieve_url (an Initiating \
             Gateway)",
        ));
    }
    let ids = community_ids(
        path,
        TABLE,
        raw.home_community_ids,
        responding.then_some("ITI TF-2 §3.38.4.1.2.1"),
    )?;
    let timeouts = Timeouts::from_ms(
        (raw.connect_timeout_ms, raw.read_timeout_ms, raw.timeout_ms),
        path,
        TABLE,
    )?;
    Ok(Some(Xca {
        query_url,
        retrieve_url,
        home_community_ids: ids,
        timeouts,
        tls: super::tls::client_for_table(tls, x.tls, &format!("{TABLE}.tls"), path)?,
        ig_query_url,
        ig_retrieve_url,
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
            "[xca]\nresponding_gateway_query_url = \"http://rg/q\"\nresponding_gateway_retrieve_url = \"https://rg/r\"\nhome_community_ids = [\"urn:oid:1.2.3\", \"urn:oid:1.2.4\"]\n",
        )
        .expect("profile");
        let x = c.xca.expect("table");
        assert_eq!(x.query_url.as_deref(), Some("http://rg/q"));
        assert_eq!(x.retrieve_url.as_deref(), Some("https://rg/r"));
        assert_eq!(x.home(), "urn:oid:1.2.3");
        assert_eq!(x.home_community_ids.len(), 2);
        let as_xds = x.as_xds(None);
        assert_eq!(as_xds.registry_url.as_deref(), Some("http://rg/q"));
        assert_eq!(as_xds.home_community_id.as_deref(), Some("urn:oid:1.2.3"));
        assert!(parse("").expect("empty").xca.is_none());
    }

    #[test]
    fn mistakes_are_configuration_errors() {
        let e = parse("[xca]\nresponding_gateway_qeury_url = \"http://rg/q\"\n").expect_err("typo");
        assert!(
            e.to_string().contains("responding_gateway_query_url"),
            "{e}"
        );
        let e = parse("[xca]\nresponding_gateway_query_url = \"rg/q\"\nhome_community_ids = [\"urn:oid:1.2\"]\n")
            .expect_err("no scheme");
        assert!(e.to_string().contains("http"), "{e}");
        let e = parse("[xca]\nresponding_gateway_query_url = \"http://rg/q\"\n")
            .expect_err("no community");
        assert!(e.to_string().contains("home_community_ids"), "{e}");
        let e = parse("[xca]\nresponding_gateway_query_url = \"http://rg/q\"\nhome_community_ids = [\"1.2.3\"]\n")
            .expect_err("bare OID");
        assert!(e.to_string().contains("urn:oid"), "{e}");
        let e = parse("[xca]\nhome_community_ids = [\"urn:oid:1.2.3\"]\n").expect_err("no url");
        assert!(e.to_string().contains("endpoint"), "{e}");
    }

    #[test]
    fn an_initiating_gateway_needs_no_community() {
        let c = parse(
            "[xca]\ninitiating_gateway_query_url = \"http://ig/q\"\ninitiating_gateway_retrieve_url = \"http://ig/r\"\n",
        )
        .expect("profile");
        let x = c.xca.expect("table");
        assert_eq!(x.ig_query_url.as_deref(), Some("http://ig/q"));
        assert!(x.query_url.is_none());
        let as_xds = x.initiating_as_xds(None);
        assert_eq!(as_xds.registry_url.as_deref(), Some("http://ig/q"));
        assert_eq!(as_xds.repository_url.as_deref(), Some("http://ig/r"));
        let e = parse("[xca]\ninitiating_gateway_query_url = \"ig/q\"\n").expect_err("no scheme");
        assert!(e.to_string().contains("http"), "{e}");
        assert!(COMMUNITIES.iter().all(|(h, _)| is_oid_urn(h)));
    }

    #[test]
    fn oid_urns() {
        assert!(is_oid_urn("urn:oid:1.3.6.1.4.1.21367.13.70.201"));
        assert!(!is_oid_urn("1.3.6"));
        assert!(!is_oid_urn("urn:oid:1.03"));
        assert!(!is_oid_urn("urn:oid:3.1"));
        assert!(!is_oid_urn("urn:oid:1..2"));
        assert!(!is_oid_urn("urn:oid:"));
    }
}
