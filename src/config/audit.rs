//! The `[audit_repository]` table: a SUT that is an IHE ATNA Audit Record Repository (ARR), to
//! which the harness, as a Secure Node, sends audit messages (ITI-20 Record Audit Event, the
//! receiving side judged) and, when the SUT offers it, searches them (ITI-81 Retrieve ATNA Audit
//! Event, RESTful ATNA).
//!
//! ```toml
//! [audit_repository]
//! syslog_tls = "arr.example:6514"        # syslog over TLS (RFC 5425)
//! syslog_udp = "arr.example:514"         # syslog over UDP (RFC 5426)
//! fhir = "https://arr.example/fhir"      # FHIR base: the AuditEvent feed and ITI-81
//! query = true                           # the ARR answers ITI-81 searches at `fhir`
//! send_own_audits = false                # audit every transaction the harness initiates
//!
//! [audit_repository.tls]                 # overrides [tls] for this endpoint
//! server_name = "arr.example"
//! ```
//! The TLS client settings are `[tls]` overlaid by `[audit_repository.tls]`, as for every other
//! endpoint; an `https://` FHIR base uses them too.

use std::path::Path;

use serde::Deserialize;

use super::{invalid, ConfigError};
use crate::transport::tls::{ClientTls, TlsError, TlsSettings};

/// The name of the table.
pub const TABLE: &str = "audit_repository";

/// The keys of the table (besides `tls`).
pub const KEYS: &[&str] = &[
    "syslog_tls",
    "syslog_udp",
    "fhir",
    "query",
    "send_own_audits",
];

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAudit {
    syslog_tls: Option<String>,
    syslog_udp: Option<String>,
    fhir: Option<String>,
    query: Option<bool>,
    send_own_audits: Option<bool>,
}

/// The SUT's Audit Record Repository, resolved.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuditRepository {
    /// `host:port` of its syslog/TLS listener.
    pub syslog_tls: Option<String>,
    /// `host:port` of its syslog/UDP listener.
    pub syslog_udp: Option<String>,
    /// Its FHIR base (no trailing slash): `POST [base]/AuditEvent`, `GET [base]/AuditEvent?…`.
    pub fhir: Option<String>,
    /// It answers ITI-81 at `fhir`.
    pub query: bool,
    /// The harness audits each transaction it initiates to this repository.
    pub send_own_audits: bool,
    /// The TLS client settings (`[tls]` overlaid by `[audit_repository.tls]`).
    pub tls: Option<TlsSettings>,
    /// A TLS client given directly (the embedded reference's test PKI), before `tls`.
    pub client: Option<ClientTls>,
}

impl AuditRepository {
    /// The TLS client of this endpoint: the one given, the profile's files, or the system's
    /// trust store with no client certificate.
    pub fn client_tls(&self) -> Result<ClientTls, TlsError> {
        if let Some(c) = &self.client {
            return Ok(c.clone());
        }
        match &self.tls {
            Some(s) => ClientTls::from_settings(s),
            None => Ok(ClientTls::default()),
        }
    }

    /// The host of a `host:port` address (brackets of an IPv6 literal removed).
    pub fn host_of(addr: &str) -> &str {
        let host = addr.rsplit_once(':').map(|(h, _)| h).unwrap_or(addr);
        host.trim_start_matches('[').trim_end_matches(']')
    }
}

/// The table as taken out of the profile, before TLS is resolved.
pub(super) type Extracted = super::TableWithTls<RawAudit>;

/// Take `[audit_repository]` (and its `tls` table) out of the profile.
pub(super) fn extract(table: &mut toml::Table, path: &Path) -> Result<Extracted, ConfigError> {
    super::extract_table(table, path, TABLE, KEYS)
}

fn address(path: &Path, key: &str, v: Option<String>) -> Result<Option<String>, ConfigError> {
    let Some(v) = v else {
        return Ok(None);
    };
    let v = v.trim().to_string();
    match v.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0) => {
            Ok(Some(v))
        }
        _ => Err(invalid(
            path,
            &format!("{TABLE}.{key}"),
            format!("{v} is not host:port"),
        )),
    }
}

/// Resolve the table with the profile's `[tls]`.
pub(super) fn resolve(
    x: Extracted,
    tls: &super::tls::Extracted,
    path: &Path,
) -> Result<Option<AuditRepository>, ConfigError> {
    let Some(raw) = x.raw else {
        return Ok(None);
    };
    let fhir = match raw.fhir {
        Some(u) if u.starts_with("http://") || u.starts_with("https://") => {
            Some(u.trim_end_matches('/').to_string())
        }
        Some(u) => {
            return Err(invalid(
                path,
                &format!("{TABLE}.fhir"),
                format!("{u} is not an http:// or https:// URL"),
            ))
        }
        None => None,
    };
    let query = raw.query.unwrap_or(false);
    if query && fhir.is_none() {
        return Err(invalid(
            path,
            &format!("{TABLE}.query"),
            "ITI-81 is searched at the FHIR base: give `fhir` too",
        ));
    }
    let r = AuditRepository {
        syslog_tls: address(path, "syslog_tls", raw.syslog_tls)?,
        syslog_udp: address(path, "syslog_udp", raw.syslog_udp)?,
        fhir,
        query,
        send_own_audits: raw.send_own_audits.unwrap_or(false),
        tls: super::tls::client_for_table(tls, x.tls, &format!("{TABLE}.tls"), path)?,
        client: None,
    };
    if r.syslog_tls.is_none() && r.syslog_udp.is_none() && r.fhir.is_none() {
        return Err(invalid(
            path,
            TABLE,
            "names no way to reach the repository: give syslog_tls, syslog_udp or fhir",
        ));
    }
    Ok(Some(r))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("/p/sut.toml"), &|_| None)
    }

    #[test]
    fn the_table_is_read_with_its_defaults() {
        let c = parse(
            "[audit_repository]\nsyslog_tls = \"arr:6514\"\nsyslog_udp = \"arr:514\"\nfhir = \"https://arr/fhir/\"\nquery = true\n",
        )
        .expect("profile");
        let a = c.audit_repository.expect("table");
        assert_eq!(a.syslog_tls.as_deref(), Some("arr:6514"));
        assert_eq!(a.syslog_udp.as_deref(), Some("arr:514"));
        assert_eq!(a.fhir.as_deref(), Some("https://arr/fhir"));
        assert!(a.query);
        assert!(!a.send_own_audits);
        assert_eq!(a.tls, None);
        assert_eq!(AuditRepository::host_of("arr:6514"), "arr");
        assert_eq!(AuditRepository::host_of("[::1]:6514"), "::1");
        assert!(parse("").expect("empty").audit_repository.is_none());
    }

    #[test]
    fn mistakes_are_configuration_errors() {
        let e = parse("[audit_repository]\nsyslog_tsl = \"arr:6514\"\n").expect_err("typo");
        assert!(e.to_string().contains("syslog_tls"), "{e}");
        let e = parse("[audit_repository]\nsyslog_tls = \"arr\"\n").expect_err("no port");
        assert!(e.to_string().contains("host:port"), "{e}");
        let e = parse("[audit_repository]\nfhir = \"arr/fhir\"\n").expect_err("no scheme");
        assert!(e.to_string().contains("http"), "{e}");
        let e = parse("[audit_repository]\nsyslog_udp = \"arr:514\"\nquery = true\n")
            .expect_err("query without fhir");
        assert!(e.to_string().contains("fhir"), "{e}");
        let e = parse("[audit_repository]\nquery = false\n").expect_err("nothing to reach");
        assert!(e.to_string().contains("syslog_tls"), "{e}");
    }

    #[test]
    fn the_tls_table_overlays_the_global_one() {
        let pki = crate::transport::tls::pki::TestPki::new().expect("pki");
        let dir = tempfile::tempdir().expect("tmp");
        std::fs::write(dir.path().join("ca.pem"), &pki.ca.cert_pem).expect("ca");
        std::fs::write(dir.path().join("c.pem"), &pki.client.cert_pem).expect("cert");
        std::fs::write(dir.path().join("c.key"), &pki.client.key_pem).expect("key");
        let c = Config::parse(
            "[tls]\nca_file = \"ca.pem\"\ncert_file = \"c.pem\"\nkey_file = \"c.key\"\n\
             [audit_repository]\nsyslog_tls = \"127.0.0.1:6514\"\n\
             [audit_repository.tls]\nserver_name = \"arr.example\"\n",
            &dir.path().join("p.toml"),
            &|_| None,
        )
        .expect("profile");
        let a = c.audit_repository.expect("table");
        let s = a.tls.clone().expect("tls");
        assert_eq!(s.server_name.as_deref(), Some("arr.example"));
        assert_eq!(s.cert_file, Some(dir.path().join("c.pem")));
        let client = a.client_tls().expect("client");
        assert!(client.identity.is_some());
        let e = Config::parse(
            "[audit_repository]\nsyslog_tls = \"h:1\"\n[audit_repository.tls]\nca_file = \"missing.pem\"\n",
            &dir.path().join("p.toml"),
            &|_| None,
        )
        .expect_err("missing file");
        assert!(e.to_string().contains("missing.pem"), "{e}");
    }
}
