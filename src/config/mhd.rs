//! The MHD part of the SUT profile: the SUT's FHIR endpoint as Document Recipient and Document
//! Responder (`[mhd]`), and the MADO and report options it claims.
//!
//! ```toml
//! [mhd]
//! base_url = "http://127.0.0.1:18080/fhir"  # ITI-65 POST target and ITI-66/67 search base
//! comprehensive = false                      # claims the Comprehensive Metadata option
//! manifest_format = "both"                   # kos | fhir | both: the MADO manifests it publishes
//! code_table = "mado-ti"                     # mado-ti | dicom-final: the MADO code table
//! patient_id_system = "urn:oid:1.3.6.1.4.1.21367.13.20.1000"
//! accession_system = "urn:oid:1.3.6.1.4.1.21367.13.20.2000"
//! eu_imaging_api = true   # claims the HL7 Europe Imaging Report Document Access Provider
//! ```
//! With `[test_data] mode = "load"` the harness first publishes the fixture documents to the SUT
//! with ITI-65 (a Background step), as it stores the fixture studies with STOW-RS.

use std::path::Path;

use serde::Deserialize;

use super::{invalid, ConfigError, Timeouts};
use crate::config::xds::DEFAULT_PATIENT_AUTHORITY;

/// The accession number issuer of the fixture studies.
pub const DEFAULT_ACCESSION_SYSTEM: &str = "urn:oid:1.3.6.1.4.1.21367.13.20.2000";

/// Which MADO manifest formats the SUT publishes (MADO X.1: a Content Creator can produce both
/// and is configured to publish either).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManifestFormat {
    /// DICOM KOS only.
    Kos,
    /// FHIR Bundle only.
    Fhir,
    /// Both, related by `transforms`.
    Both,
}

impl ManifestFormat {
    /// Does the SUT publish the KOS format?
    pub fn kos(self) -> bool {
        matches!(self, ManifestFormat::Kos | ManifestFormat::Both)
    }

    /// Does the SUT publish the FHIR format?
    pub fn fhir(self) -> bool {
        matches!(self, ManifestFormat::Fhir | ManifestFormat::Both)
    }
}

/// The MADO code table in use (the Trial Implementation's temporary codes or the CP-2595 codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeTable {
    /// `MADOTEMP…` codes of scheme `99IHE`.
    MadoTi,
    /// The DICOM codes of CP-2595.
    DicomFinal,
}

impl From<crate::model::mado::CodeTable> for CodeTable {
    fn from(t: crate::model::mado::CodeTable) -> CodeTable {
        match t {
            crate::model::mado::CodeTable::MadoTi => CodeTable::MadoTi,
            crate::model::mado::CodeTable::DicomFinal => CodeTable::DicomFinal,
        }
    }
}

/// The SUT's MHD endpoint.
#[derive(Debug, Clone)]
pub struct Mhd {
    /// FHIR base URL, without a trailing slash.
    pub base_url: String,
    /// Comprehensive Metadata option claimed.
    pub comprehensive: bool,
    /// MADO manifest formats published.
    pub manifest_format: ManifestFormat,
    /// MADO code table.
    pub code_table: CodeTable,
    /// Whether the profile names the code table (`code_table`); otherwise the run's profile pack
    /// decides it ([`crate::packs`]).
    pub code_table_set: bool,
    /// Patient identifier system (`urn:oid:…`).
    pub patient_id_system: String,
    /// Accession number issuer (`urn:oid:…`).
    pub accession_system: String,
    /// Timeouts of each exchange.
    pub timeouts: Timeouts,
    /// TLS settings (`[tls]` with this endpoint's `tls` table over it), used with `https://` URLs.
    pub tls: Option<crate::transport::tls::TlsSettings>,
    /// The SUT claims the HL7 Europe Imaging Report Document Access Provider
    /// (`eu_imaging_api = true`): its CapabilityStatement is judged against that actor's
    /// (EUAPI-01, EUAPI-02).
    pub eu_imaging_api: bool,
}

impl Mhd {
    /// The embedded reference's Document Recipient/Responder at `base`.
    pub fn embedded(base: &str) -> Mhd {
        Mhd {
            base_url: base.trim_end_matches('/').to_string(),
            // The reference Recipient validates and accepts Comprehensive bundles too.
            comprehensive: true,
            manifest_format: ManifestFormat::Both,
            code_table: CodeTable::MadoTi,
            code_table_set: false,
            patient_id_system: format!("urn:oid:{DEFAULT_PATIENT_AUTHORITY}"),
            accession_system: DEFAULT_ACCESSION_SYSTEM.into(),
            timeouts: Timeouts::default(),
            tls: None,
            // The reference serves the HL7 Europe imaging API's Document Access Provider.
            eu_imaging_api: true,
        }
    }
}

#[derive(Debug, Deserialize, Default)]
pub(super) struct RawMhd {
    base_url: Option<String>,
    comprehensive: Option<bool>,
    /// No longer a setting: refused with a hint (see [`resolve`]).
    xml: Option<toml::Value>,
    manifest_format: Option<String>,
    code_table: Option<String>,
    patient_id_system: Option<String>,
    accession_system: Option<String>,
    eu_imaging_api: Option<bool>,
    connect_timeout_ms: Option<u64>,
    read_timeout_ms: Option<u64>,
    timeout_ms: Option<u64>,
}

/// The keys of `[mhd]` (`xml` is listed to be refused with its own hint, not as an unknown key).
pub(super) const KEYS: &[&str] = &[
    "base_url",
    "comprehensive",
    "xml",
    "manifest_format",
    "code_table",
    "patient_id_system",
    "accession_system",
    "eu_imaging_api",
    "connect_timeout_ms",
    "read_timeout_ms",
    "timeout_ms",
];

pub(super) fn resolve(m: RawMhd, path: &Path) -> Result<Mhd, ConfigError> {
    if m.xml.is_some() {
        // A key that would do nothing is refused rather than silently ignored.
        return Err(invalid(
            path,
            "mhd.xml",
            "is no longer a setting: a Document Responder shall support both FHIR XML and JSON (ITI TF-2 3.67.4.1.2.2), so the FHIR XML scenario runs for every Responder; remove the line",
        ));
    }
    let base_url = m
        .base_url
        .ok_or_else(|| invalid(path, "mhd.base_url", "is required"))?;
    if url::Url::parse(&base_url).is_err() {
        return Err(invalid(path, "mhd.base_url", "is not an absolute URL"));
    }
    let manifest_format = match m.manifest_format.as_deref().unwrap_or("both") {
        "kos" => ManifestFormat::Kos,
        "fhir" => ManifestFormat::Fhir,
        "both" => ManifestFormat::Both,
        other => {
            return Err(invalid(
                path,
                "mhd.manifest_format",
                format!("`{other}` is not one of kos, fhir, both"),
            ))
        }
    };
    let code_table_set = m.code_table.is_some();
    let code_table = match m.code_table.as_deref().unwrap_or("mado-ti") {
        "mado-ti" => CodeTable::MadoTi,
        "dicom-final" => CodeTable::DicomFinal,
        other => {
            return Err(invalid(
                path,
                "mhd.code_table",
                format!("`{other}` is not one of mado-ti, dicom-final"),
            ))
        }
    };
    let timeouts = Timeouts::from_ms(
        (m.connect_timeout_ms, m.read_timeout_ms, m.timeout_ms),
        path,
        "mhd",
    )?;
    Ok(Mhd {
        base_url: base_url.trim_end_matches('/').to_string(),
        comprehensive: m.comprehensive.unwrap_or(false),
        manifest_format,
        code_table,
        code_table_set,
        patient_id_system: m
            .patient_id_system
            .unwrap_or_else(|| format!("urn:oid:{DEFAULT_PATIENT_AUTHORITY}")),
        accession_system: m
            .accession_system
            .unwrap_or_else(|| DEFAULT_ACCESSION_SYSTEM.into()),
        timeouts,
        tls: None,
        eu_imaging_api: m.eu_imaging_api.unwrap_or(false),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_defaults_and_refuses_bad_values() {
        let p = Path::new("p.toml");
        let m = resolve(
            RawMhd {
                base_url: Some("http://h/fhir/".into()),
                ..RawMhd::default()
            },
            p,
        )
        .map_err(|e| e.to_string());
        let m = m.as_ref().map(|m| (m.base_url.as_str(), m.manifest_format));
        assert_eq!(m, Ok(("http://h/fhir", ManifestFormat::Both)));
        assert!(resolve(RawMhd::default(), p).is_err());
        assert!(resolve(
            RawMhd {
                base_url: Some("http://h/fhir".into()),
                manifest_format: Some("pdf".into()),
                ..RawMhd::default()
            },
            p
        )
        .is_err());
    }

    /// `xml` used to be accepted and do nothing; a key that changes nothing is refused with the
    /// reason, whatever its value.
    #[test]
    fn the_xml_key_is_refused_with_its_reason() {
        for v in [toml::Value::Boolean(false), toml::Value::Boolean(true)] {
            let e = resolve(
                RawMhd {
                    base_url: Some("http://h/fhir".into()),
                    xml: Some(v),
                    ..RawMhd::default()
                },
                Path::new("p.toml"),
            )
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
            assert!(e.contains("mhd.xml"), "{e}");
            assert!(e.contains("both FHIR XML and JSON"), "{e}");
        }
    }
}
