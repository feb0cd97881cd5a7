//! The DIMSE part of the SUT profile: the SUT's DICOM application entity (`[dimse]`).
//!
//! ```toml
//! [dimse]
//! host = "127.0.0.1"
//! port = 4242
//! called_ae = "ORTHANC"        # the SUT's AE title
//! calling_ae = "IHE_HARNESS"   # the harness's AE title
//! move_destination = "IHE_HARNESS"   # the AE title the SUT knows for the harness's Storage SCP
//! timeout_ms = 300000          # one whole operation, association to release
//! max_dataset_bytes = 1073741824   # the largest instance accepted (identifiers: 4 MiB)
//! max_responses = 20000        # the most messages read for one request
//! tls = true                   # DICOM TLS (PS3.15 §B.1), files from [tls] / [dimse.tls]
//! ```
//! The harness's own SCP (the C-MOVE destination, and the SCP a modality SUT stores to) listens on
//! `[simulator] dimse_bind` with AE title `[simulator] ae_title`.

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use super::{invalid, ConfigError};

/// The AE title of the harness.
pub const DEFAULT_CALLING_AE: &str = "IHE_HARNESS";
/// The AE title of the embedded reference's SCP.
pub const REFERENCE_AE: &str = "IHE_REFERENCE";
/// The maximum PDU length the harness announces.
pub const DEFAULT_MAX_PDU: u32 = 16384;

/// The SUT's DICOM application entity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dimse {
    /// Host name or address.
    pub host: String,
    /// Port.
    pub port: u16,
    /// The SUT's AE title.
    pub called_ae: String,
    /// The harness's AE title.
    pub calling_ae: String,
    /// The AE title the SUT knows for the harness's Storage SCP (C-MOVE destination).
    pub move_destination: String,
    /// TCP connect timeout.
    pub connect_timeout: Duration,
    /// The longest wait for one PDU.
    pub read_timeout: Duration,
    /// The maximum PDU length the harness announces.
    pub max_pdu: u32,
    /// The whole-operation time limit, the largest data set and the most messages accepted.
    pub limits: crate::dimse::association::Limits,
    /// DICOM TLS (PS3.15 §B.1), when `[dimse] tls = true` or a `[dimse.tls]` table says so.
    pub tls: Option<crate::transport::tls::TlsSettings>,
}

impl Dimse {
    /// The embedded reference's SCP at `port` on loopback.
    pub fn embedded(port: u16) -> Dimse {
        Dimse {
            host: "127.0.0.1".into(),
            port,
            called_ae: REFERENCE_AE.into(),
            calling_ae: DEFAULT_CALLING_AE.into(),
            move_destination: DEFAULT_CALLING_AE.into(),
            connect_timeout: Duration::from_secs(5),
            read_timeout: Duration::from_secs(15),
            max_pdu: DEFAULT_MAX_PDU,
            limits: crate::dimse::association::Limits::default(),
            tls: None,
        }
    }
}

#[derive(Debug, Deserialize, Default)]
pub(super) struct RawDimse {
    host: Option<String>,
    port: Option<u16>,
    called_ae: Option<String>,
    calling_ae: Option<String>,
    move_destination: Option<String>,
    connect_timeout_ms: Option<u64>,
    read_timeout_ms: Option<u64>,
    max_pdu: Option<u32>,
    timeout_ms: Option<u64>,
    max_dataset_bytes: Option<u64>,
    max_responses: Option<usize>,
}

/// AE titles: 1 to 16 characters of the default repertoire, no backslash or control characters
/// (PS3.5 §6.2, AE value representation).
pub fn valid_ae(ae: &str) -> bool {
    !ae.trim().is_empty()
        && ae.len() <= 16
        && ae.bytes().all(|b| (0x20..0x7f).contains(&b) && b != b'\\')
}

pub(super) fn resolve(d: RawDimse, path: &Path) -> Result<Dimse, ConfigError> {
    let host = d
        .host
        .ok_or_else(|| invalid(path, "dimse.host", "is required"))?;
    let port = d
        .port
        .ok_or_else(|| invalid(path, "dimse.port", "is required"))?;
    let called_ae = d
        .called_ae
        .ok_or_else(|| invalid(path, "dimse.called_ae", "is required"))?;
    let calling_ae = d.calling_ae.unwrap_or_else(|| DEFAULT_CALLING_AE.into());
    let move_destination = d.move_destination.unwrap_or_else(|| calling_ae.clone());
    for (key, ae) in [
        ("dimse.called_ae", &called_ae),
        ("dimse.calling_ae", &calling_ae),
        ("dimse.move_destination", &move_destination),
    ] {
        if !valid_ae(ae) {
            return Err(invalid(
                path,
                key,
                format!("`{ae}` is not an AE title (1-16 printable characters, no backslash)"),
            ));
        }
    }
    let connect_timeout = Duration::from_millis(d.connect_timeout_ms.unwrap_or(5000));
    let read_timeout = Duration::from_millis(d.read_timeout_ms.unwrap_or(15000));
    if connect_timeout.is_zero() || read_timeout.is_zero() {
        return Err(invalid(path, "dimse", "timeouts must be greater than 0"));
    }
    let max_pdu = d.max_pdu.unwrap_or(DEFAULT_MAX_PDU);
    if max_pdu != 0 && max_pdu < 4096 {
        return Err(invalid(
            path,
            "dimse.max_pdu",
            "must be 0 (unlimited) or at least 4096",
        ));
    }
    let defaults = crate::dimse::association::Limits::default();
    let limits = crate::dimse::association::Limits {
        timeout: d.timeout_ms.map_or(defaults.timeout, Duration::from_millis),
        max_data_set: d.max_dataset_bytes.unwrap_or(defaults.max_data_set),
        max_messages: d.max_responses.unwrap_or(defaults.max_messages),
    };
    if limits.timeout.is_zero() || limits.max_data_set == 0 || limits.max_messages == 0 {
        return Err(invalid(
            path,
            "dimse",
            "timeout_ms, max_dataset_bytes and max_responses must be greater than 0",
        ));
    }
    Ok(Dimse {
        host,
        port,
        called_ae,
        calling_ae,
        move_destination,
        connect_timeout,
        read_timeout,
        max_pdu,
        limits,
        tls: None,
    })
}

#[cfg(test)]
mod tests {
    use super::super::Config;
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("p.toml"), &|_| None)
    }

    #[test]
    fn dimse_profile_resolves_with_defaults() {
        let c = parse(
            "[dimse]\nhost = \"pacs\"\nport = 104\ncalled_ae = \"PACS\"\n[simulator]\ndimse_bind = \"0.0.0.0:11114\"\n",
        )
        .unwrap();
        let d = c.dimse.unwrap();
        assert_eq!(d.calling_ae, "IHE_HARNESS");
        assert_eq!(d.move_destination, "IHE_HARNESS");
        assert_eq!(d.read_timeout, Duration::from_secs(15));
        assert_eq!(d.limits, crate::dimse::association::Limits::default());
        let limited = parse(
            "[dimse]\nhost = \"pacs\"\nport = 104\ncalled_ae = \"PACS\"\ntimeout_ms = 2000\nmax_dataset_bytes = 1000\nmax_responses = 7\n",
        )
        .unwrap();
        let l = limited.dimse.unwrap().limits;
        assert_eq!(
            (l.timeout, l.max_data_set, l.max_messages),
            (Duration::from_secs(2), 1000, 7)
        );
        assert!(
            parse("[dimse]\nhost = \"h\"\nport = 104\ncalled_ae = \"A\"\nmax_responses = 0\n")
                .is_err()
        );
        assert_eq!(
            c.simulator.dimse_bind,
            Some("0.0.0.0:11114".parse().unwrap())
        );
    }

    #[test]
    fn bad_ae_titles_and_missing_keys_are_errors() {
        assert!(parse("[dimse]\nport = 104\ncalled_ae = \"X\"\n").is_err());
        assert!(parse(
            "[dimse]\nhost = \"h\"\nport = 104\ncalled_ae = \"WAY_TOO_LONG_AE_TITLE\"\n"
        )
        .is_err());
        assert!(parse("[dimse]\nhost = \"h\"\nport = 104\ncalled_ae = \"A\\\\B\"\n").is_err());
        assert!(
            parse("[dimse]\nhost = \"h\"\nport = 104\ncalled_ae = \"A\"\nmax_pdu = 100\n").is_err()
        );
        assert!(valid_ae("ORTHANC"));
        assert!(!valid_ae(""));
    }
}
