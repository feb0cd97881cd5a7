//! The TLS part of the SUT profile (IHE ITI TF-2 §3.19, ITI-19 Authenticate Node).
//!
//! ```toml
//! [tls]                          # every endpoint of the profile
//! ca_file = "pki/ca.pem"         # the CAs trusted for the SUT's server certificates
//! cert_file = "pki/client.pem"   # the harness's client certificate (chain, leaf first)
//! key_file = "pki/client.key"    # its private key
//! # server_name = "sut.example"  # the name verified (and sent as SNI) instead of the host
//! # verify_server_name = true
//! # ca_key_file = "pki/ca.key"  # the key of ca_file's CA, when the SUT trusts it for clients
//! #                             # too (a test PKI): lets the ATNA scenarios issue an expired
//! #                             # client certificate from it
//!
//! [xds.tls]                      # the same keys, for one endpoint: they override [tls]
//! server_name = "registry.example"
//!
//! [dimse]
//! tls = true                     # DICOM TLS (PS3.15 §B.1) on the SUT's port
//!
//! [simulator.tls]                # the harness's own servers
//! cert_file = "pki/server.pem"
//! key_file = "pki/server.key"
//! ca_file = "pki/ca.pem"         # CAs of the client certificates accepted
//! require_client_cert = true     # the default when ca_file is given
//! ```
//! HTTP endpoints speak TLS when their URL is `https://`; relative paths are read from the
//! profile's folder. Every file is read when the profile is loaded, so a missing or unusable one
//! is a configuration error before any scenario runs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{invalid, Config, ConfigError};
use crate::transport::tls::{ClientTls, ServerTls, TlsSettings};

/// The keys of a `[tls]` table.
pub const KEYS: &[&str] = &[
    "ca_file",
    "cert_file",
    "key_file",
    "server_name",
    "verify_server_name",
    "require_client_cert",
    "ca_key_file",
];

/// The tables that may hold a `tls` table of their own.
const ENDPOINTS: &[&str] = &["dicomweb", "xds", "mhd", "dimse", "simulator"];

#[derive(Debug, Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
struct RawTls {
    ca_file: Option<String>,
    cert_file: Option<String>,
    key_file: Option<String>,
    server_name: Option<String>,
    verify_server_name: Option<bool>,
    require_client_cert: Option<bool>,
    ca_key_file: Option<String>,
}

impl RawTls {
    /// `self` with `over`'s keys where it has them.
    fn overlaid(&self, over: &RawTls) -> RawTls {
        RawTls {
            ca_file: over.ca_file.clone().or_else(|| self.ca_file.clone()),
            cert_file: over.cert_file.clone().or_else(|| self.cert_file.clone()),
            key_file: over.key_file.clone().or_else(|| self.key_file.clone()),
            server_name: over
                .server_name
                .clone()
                .or_else(|| self.server_name.clone()),
            verify_server_name: over.verify_server_name.or(self.verify_server_name),
            require_client_cert: over.require_client_cert.or(self.require_client_cert),
            ca_key_file: over
                .ca_key_file
                .clone()
                .or_else(|| self.ca_key_file.clone()),
        }
    }
}

/// The TLS tables of a profile, taken out of it before the rest is read.
#[derive(Debug, Default)]
pub(super) struct Extracted {
    global: Option<RawTls>,
    per: BTreeMap<String, RawTls>,
    dimse_on: Option<bool>,
}

fn raw(value: toml::Value, path: &Path, key: &str) -> Result<RawTls, ConfigError> {
    let Some(table) = value.as_table() else {
        return Err(invalid(path, key, "must be a table"));
    };
    for k in table.keys() {
        if !KEYS.contains(&k.as_str()) {
            return Err(ConfigError::UnknownKey {
                path: path.to_path_buf(),
                key: format!("{key}.{k}"),
                hint: super::hint(k, KEYS),
            });
        }
    }
    value
        .try_into()
        .map_err(|e: toml::de::Error| invalid(path, key, e.message().to_string()))
}

/// Take `[tls]`, `[<endpoint>.tls]` and `[dimse] tls` out of the profile.
pub(super) fn extract(table: &mut toml::Table, path: &Path) -> Result<Extracted, ConfigError> {
    let mut out = Extracted::default();
    if let Some(v) = table.remove("tls") {
        out.global = Some(raw(v, path, "tls")?);
    }
    for ep in ENDPOINTS {
        let Some(inner) = table.get_mut(*ep).and_then(|v| v.as_table_mut()) else {
            continue;
        };
        let Some(v) = inner.remove("tls") else {
            continue;
        };
        let key = format!("{ep}.tls");
        match v {
            toml::Value::Boolean(on) if *ep == "dimse" => out.dimse_on = Some(on),
            toml::Value::Boolean(_) => {
                return Err(invalid(
                    path,
                    &key,
                    "HTTP endpoints use TLS when their URL is https://; give a [tls] table for the files",
                ))
            }
            other => {
                out.per.insert((*ep).to_string(), raw(other, path, &key)?);
            }
        }
    }
    Ok(out)
}

fn file(path: &Path, v: Option<String>) -> Option<PathBuf> {
    v.map(|f| {
        let p = PathBuf::from(f);
        if p.is_relative() {
            path.parent().map(|d| d.join(&p)).unwrap_or(p)
        } else {
            p
        }
    })
}

fn settings(r: &RawTls, path: &Path) -> TlsSettings {
    TlsSettings {
        ca_file: file(path, r.ca_file.clone()),
        cert_file: file(path, r.cert_file.clone()),
        key_file: file(path, r.key_file.clone()),
        server_name: r.server_name.clone(),
        verify_server_name: r.verify_server_name.unwrap_or(true),
        require_client_cert: r.require_client_cert.unwrap_or(true),
        ca_key_file: file(path, r.ca_key_file.clone()),
    }
}

/// The client settings of one endpoint, its files read once to fail early.
fn client(x: &Extracted, ep: &str, path: &Path) -> Result<Option<TlsSettings>, ConfigError> {
    let r = match (&x.global, x.per.get(ep)) {
        (None, None) => return Ok(None),
        (Some(g), None) => g.clone(),
        (None, Some(e)) => e.clone(),
        (Some(g), Some(e)) => g.overlaid(e),
    };
    let s = settings(&r, path);
    let key = if x.per.contains_key(ep) {
        format!("{ep}.tls")
    } else {
        "tls".into()
    };
    ClientTls::from_settings(&s).map_err(|e| invalid(path, &key, e.to_string()))?;
    Ok(Some(s))
}

/// Put the TLS settings into the resolved profile.
pub(super) fn apply(c: &mut Config, x: Extracted, path: &Path) -> Result<(), ConfigError> {
    if let Some(d) = c.dicomweb.as_mut() {
        d.tls = client(&x, "dicomweb", path)?;
    }
    if let Some(d) = c.xds.as_mut() {
        d.tls = client(&x, "xds", path)?;
    }
    if let Some(d) = c.mhd.as_mut() {
        d.tls = client(&x, "mhd", path)?;
    }
    let dimse_on = x.dimse_on.unwrap_or(x.per.contains_key("dimse"));
    match c.dimse.as_mut() {
        Some(d) if dimse_on => {
            d.tls = Some(client(&x, "dimse", path)?.unwrap_or_default());
        }
        None if dimse_on => return Err(invalid(path, "dimse.tls", "needs a [dimse] endpoint")),
        _ => {}
    }
    if let Some(r) = x.per.get("simulator") {
        let s = settings(r, path);
        ServerTls::from_settings(&s).map_err(|e| invalid(path, "simulator.tls", e.to_string()))?;
        c.simulator.tls = Some(s);
    }
    Ok(())
}

/// The client settings of a table that [`extract`] does not know (`[audit_repository]`):
/// `[tls]` overlaid by the table's own `tls` table, its files read once to fail early.
pub(super) fn client_for_table(
    x: &Extracted,
    own: Option<toml::Value>,
    key: &str,
    path: &Path,
) -> Result<Option<TlsSettings>, ConfigError> {
    let own = own.map(|v| raw(v, path, key)).transpose()?;
    let r = match (&x.global, own) {
        (None, None) => return Ok(None),
        (Some(g), None) => g.clone(),
        (None, Some(e)) => e,
        (Some(g), Some(e)) => g.overlaid(&e),
    };
    let s = settings(&r, path);
    ClientTls::from_settings(&s).map_err(|e| invalid(path, key, e.to_string()))?;
    Ok(Some(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::tls::pki::TestPki;

    fn pki_dir() -> tempfile::TempDir {
        let pki = TestPki::new().expect("pki");
        let dir = tempfile::tempdir().expect("tmp");
        for (n, t) in [
            ("ca.pem", &pki.ca.cert_pem),
            ("client.pem", &pki.client.cert_pem),
            ("client.key", &pki.client.key_pem),
            ("server.pem", &pki.server.cert_pem),
            ("server.key", &pki.server.key_pem),
        ] {
            std::fs::write(dir.path().join(n), t).expect("write");
        }
        dir
    }

    fn parse(dir: &Path, text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, &dir.join("p.toml"), &|_| None)
    }

    #[test]
    fn the_global_table_reaches_every_endpoint_and_an_endpoint_table_overrides_it() {
        let dir = pki_dir();
        let c = parse(
            dir.path(),
            "[tls]\nca_file = \"ca.pem\"\ncert_file = \"client.pem\"\nkey_file = \"client.key\"\n\
             [dicomweb]\nbase_url = \"https://sut:8443/dicom-web\"\n\
             [dicomweb.tls]\nserver_name = \"sut.example\"\n\
             [dimse]\nhost = \"sut\"\nport = 2762\ncalled_ae = \"SUT\"\ntls = true\n\
             [simulator.tls]\ncert_file = \"server.pem\"\nkey_file = \"server.key\"\nca_file = \"ca.pem\"\n",
        )
        .expect("profile");
        let d = c.dicomweb.expect("dicomweb").tls.expect("tls");
        assert_eq!(d.server_name.as_deref(), Some("sut.example"));
        assert_eq!(d.ca_file, Some(dir.path().join("ca.pem")));
        assert_eq!(d.cert_file, Some(dir.path().join("client.pem")));
        let m = c.dimse.expect("dimse").tls.expect("dimse tls");
        assert_eq!(m.server_name, None);
        let s = c.simulator.tls.expect("simulator tls");
        assert!(s.require_client_cert);
    }

    #[test]
    fn dimse_is_plain_unless_asked_and_bad_files_are_configuration_errors() {
        let dir = pki_dir();
        let c = parse(
            dir.path(),
            "[tls]\nca_file = \"ca.pem\"\n[dimse]\nhost = \"sut\"\nport = 104\ncalled_ae = \"SUT\"\n",
        )
        .expect("profile");
        assert_eq!(c.dimse.expect("dimse").tls, None);
        let e = parse(
            dir.path(),
            "[tls]\nca_file = \"missing.pem\"\n[dicomweb]\nbase_url = \"https://x\"\n",
        )
        .expect_err("missing file");
        assert!(e.to_string().contains("missing.pem"), "{e}");
        let e = parse(
            dir.path(),
            "[tls]\ncert_file = \"client.pem\"\n[dicomweb]\nbase_url = \"https://x\"\n",
        )
        .expect_err("cert without key");
        assert!(e.to_string().contains("key_file"), "{e}");
        let e = parse(dir.path(), "[tls]\nca_fil = \"ca.pem\"\n").expect_err("typo");
        assert!(e.to_string().contains("ca_file"), "{e}");
        let e = parse(
            dir.path(),
            "[dicomweb]\nbase_url = \"https://x\"\ntls = true\n",
        )
        .expect_err("bool on http");
        assert!(e.to_string().contains("https://"), "{e}");
        let e =
            parse(dir.path(), "[simulator.tls]\nca_file = \"ca.pem\"\n").expect_err("no identity");
        assert!(e.to_string().contains("cert_file"), "{e}");
    }
}
