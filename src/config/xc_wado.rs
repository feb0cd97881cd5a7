//! The `[xc_wado]` table: a SUT that is an XC-WADO Responding Imaging Gateway, to which the
//! harness, as the Initiating Imaging Gateway of another community, sends Cross-community
//! WADO-RS Retrieve (RAD-160) for images of the SUT's community.
//!
//! ```toml
//! [xc_wado]
//! responding_gateway_base = "https://rig.example/wado-rs"          # the gateway's XC-WADO root
//! home_community_id = "urn:oid:1.3.6.1.4.1.21367.13.70.201"         # the community it answers for
//! retrieve_location_uid = "1.3.6.1.4.1.21367.13.71.201.1"           # where the test studies are
//!
//! [xc_wado.tls]                          # overrides [tls] for this endpoint
//! server_name = "rig.example"
//! ```
//! The harness addresses a study as IHE RAD MADO Rev 1.1 Appendix XA (Fig. XA-2) shows it, with
//! the Retrieve Location UID of the community's image source:
//! `{responding_gateway_base}/homeCommunityId/{OID}/RetrieveLocationUID/{UID}/studies/{StudyUID}`,
//! followed by PS3.18's series and instance segments. The appendix prints `study/`; PS3.18 §10.4.1
//! names the resource `studies/`, which the harness sends (the appendix is an example of URL
//! values, not a grammar).

use std::path::Path;

use serde::Deserialize;

use super::{invalid, ConfigError, Timeouts};
use crate::transport::tls::TlsSettings;

/// The name of the table.
pub const TABLE: &str = "xc_wado";

/// The keys of the table (besides `tls`).
pub const KEYS: &[&str] = &[
    "responding_gateway_base",
    "home_community_id",
    "retrieve_location_uid",
    "connect_timeout_ms",
    "read_timeout_ms",
    "timeout_ms",
];

/// The Retrieve Location UID of the embedded reference's image source (the NIST test arc of the
/// Responding Imaging Gateway's sources).
pub const DEFAULT_RETRIEVE_LOCATION_UID: &str = "1.3.6.1.4.1.21367.13.71.201.1";

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawXcWado {
    responding_gateway_base: Option<String>,
    home_community_id: Option<String>,
    retrieve_location_uid: Option<String>,
    connect_timeout_ms: Option<u64>,
    read_timeout_ms: Option<u64>,
    timeout_ms: Option<u64>,
}

/// The SUT's XC-WADO Responding Imaging Gateway, resolved.
#[derive(Debug, Clone)]
pub struct XcWado {
    /// The gateway's XC-WADO root, without a trailing slash.
    pub base: String,
    /// The community the gateway answers for, `urn:oid:…`.
    pub home_community_id: String,
    /// The Retrieve Location UID of the community's image source holding the test studies.
    pub retrieve_location_uid: String,
    /// Timeouts of each exchange.
    pub timeouts: Timeouts,
    /// TLS client settings (`[tls]` overlaid by `[xc_wado.tls]`), used with an `https://` base.
    pub tls: Option<TlsSettings>,
}

impl XcWado {
    /// The reference's XC-WADO Responding Imaging Gateway at `base`.
    pub fn embedded(base: &str) -> XcWado {
        XcWado {
            base: base.trim_end_matches('/').to_string(),
            home_community_id: super::xca::DEFAULT_HOME_COMMUNITY_ID.into(),
            retrieve_location_uid: DEFAULT_RETRIEVE_LOCATION_UID.into(),
            timeouts: Timeouts::default(),
            tls: None,
        }
    }

    /// The WADO-RS service root of the test studies through the gateway:
    /// `{base}/homeCommunityId/{OID}/RetrieveLocationUID/{UID}` (MADO App. XA, Fig. XA-2).
    pub fn service_root(&self) -> String {
        let oid = self
            .home_community_id
            .strip_prefix("urn:oid:")
            .unwrap_or(&self.home_community_id);
        format!(
            "{}/homeCommunityId/{oid}/RetrieveLocationUID/{}",
            self.base, self.retrieve_location_uid
        )
    }
}

/// The table as taken out of the profile, before TLS is resolved.
pub(super) type Extracted = super::TableWithTls<RawXcWado>;

/// Take `[xc_wado]` (and its `tls` table) out of the profile.
pub(super) fn extract(table: &mut toml::Table, path: &Path) -> Result<Extracted, ConfigError> {
    super::extract_table(table, path, TABLE, KEYS)
}

/// Resolve the table, with `[tls]` overlaid by `[xc_wado.tls]`.
pub(super) fn resolve(
    x: Extracted,
    tls: &super::tls::Extracted,
    path: &Path,
) -> Result<Option<XcWado>, ConfigError> {
    let Some(raw) = x.raw else {
        return Ok(None);
    };
    let key = |k: &str| format!("{TABLE}.{k}");
    let Some(base) = super::xca::http_url(
        path,
        TABLE,
        "responding_gateway_base",
        raw.responding_gateway_base,
    )?
    else {
        return Err(invalid(
            path,
            &key("responding_gateway_base"),
            "is required",
        ));
    };
    let home = raw.home_community_id.unwrap_or_default();
    if !super::xca::is_oid_urn(home.trim()) {
        return Err(invalid(
            path,
            &key("home_community_id"),
            "give the community the gateway answers for as an OID in URI syntax (urn:oid:1.2.3)",
        ));
    }
    let location = raw.retrieve_location_uid.unwrap_or_default();
    if !crate::model::ebrim::is_uid(location.trim()) {
        return Err(invalid(
            path,
            &key("retrieve_location_uid"),
            "give the Retrieve Location UID of the image source holding the test studies (a DICOM UID)",
        ));
    }
    let timeouts = Timeouts::from_ms(
        (raw.connect_timeout_ms, raw.read_timeout_ms, raw.timeout_ms),
        path,
        TABLE,
    )?;
    Ok(Some(XcWado {
        base: base.trim_end_matches('/').to_string(),
        home_community_id: home.trim().to_string(),
        retrieve_location_uid: location.trim().to_string(),
        timeouts,
        tls: super::tls::client_for_table(tls, x.tls, &key("tls"), path)?,
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
    fn the_table_is_read_into_a_service_root() {
        let c = parse(
            "[xc_wado]\nresponding_gateway_base = \"https://rig/wado-rs/\"\nhome_community_id = \"urn:oid:1.2.5.6.7.8\"\nretrieve_location_uid = \"1.2.840.9.10.11.12\"\n",
        )
        .expect("profile");
        let x = c.xc_wado.expect("table");
        assert_eq!(
            x.service_root(),
            "https://rig/wado-rs/homeCommunityId/1.2.5.6.7.8/RetrieveLocationUID/1.2.840.9.10.11.12"
        );
        assert!(parse("").expect("empty").xc_wado.is_none());
    }

    #[test]
    fn mistakes_are_configuration_errors() {
        let ok = "responding_gateway_base = \"http://rig\"\nhome_community_id = \"urn:oid:1.2\"\nretrieve_location_uid = \"1.2.3\"\n";
        assert!(parse(&format!("[xc_wado]\n{ok}")).is_ok());
        for (bad, key) in [
            (ok.replace("http://rig", "rig"), "responding_gateway_base"),
            (ok.replace("urn:oid:1.2", "1.2"), "home_community_id"),
            (ok.replace("\"1.2.3\"", "\"1.02\""), "retrieve_location_uid"),
            (
                format!("{ok}retrieve_url = \"x\"\n"),
                "retrieve_location_uid",
            ),
        ] {
            let e = parse(&format!("[xc_wado]\n{bad}")).expect_err(key);
            assert!(e.to_string().contains(key), "{e}");
        }
    }
}
