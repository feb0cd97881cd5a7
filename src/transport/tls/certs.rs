//! Certificates in and out: PEM files read (bounded), and what the evidence says about the
//! certificates a peer presented and the session it negotiated.

use std::io::Read;
use std::path::Path;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::TlsError;

/// The largest PEM file read (a chain of a few certificates is a few kilobytes).
const MAX_PEM: u64 = 1 << 20;

fn read_pem(path: &Path) -> Result<Vec<u8>, TlsError> {
    let file = std::fs::File::open(path).map_err(|source| TlsError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut buf = Vec::new();
    file.take(MAX_PEM + 1)
        .read_to_end(&mut buf)
        .map_err(|source| TlsError::Read {
            path: path.to_path_buf(),
            source,
        })?;
    if buf.len() as u64 > MAX_PEM {
        return Err(TlsError::Pem {
            path: path.to_path_buf(),
            what: format!("larger than {MAX_PEM} bytes: not a PEM certificate or key file"),
        });
    }
    Ok(buf)
}

/// The certificates of a PEM file, in file order.
pub fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = read_pem(path)?;
    parse_certs(&pem).map_err(|what| TlsError::Pem {
        path: path.to_path_buf(),
        what,
    })
}

/// The certificates of PEM text.
pub fn parse_certs(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    let mut out = Vec::new();
    for c in CertificateDer::pem_slice_iter(pem) {
        out.push(c.map_err(|e| format!("not a PEM certificate ({e})"))?);
    }
    if out.is_empty() {
        return Err("no CERTIFICATE section".into());
    }
    Ok(out)
}

/// The first private key of a PEM file (PKCS#8, PKCS#1 or SEC1).
pub fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let pem = read_pem(path)?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|e| TlsError::Pem {
        path: path.to_path_buf(),
        what: format!("no private key ({e})"),
    })
}

/// A certificate as the evidence shows it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CertificateSummary {
    /// The subject's distinguished name.
    pub subject: String,
    /// The issuer's distinguished name.
    pub issuer: String,
    /// Validity start (RFC 3339).
    pub not_before: String,
    /// Validity end (RFC 3339).
    pub not_after: String,
    /// The DNS names and addresses of the subjectAltName extension.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
    /// SHA-256 of the DER encoding, hex.
    pub sha256: String,
    /// The certificate in PEM.
    pub pem: String,
}

/// Describe a DER certificate; one that cannot be parsed still gets its digest and PEM.
pub fn summarize(der: &[u8]) -> CertificateSummary {
    let sha256 = hex::encode(Sha256::digest(der));
    let pem = to_pem(der);
    match x509_parser::parse_x509_certificate(der) {
        Ok((_, cert)) => {
            let rfc3339 = |t: x509_parser::time::ASN1Time| {
                t.to_datetime()
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default()
            };
            let mut names = Vec::new();
            if let Ok(Some(san)) = cert.subject_alternative_name() {
                for n in &san.value.general_names {
                    match n {
                        x509_parser::extensions::GeneralName::DNSName(d) => {
                            names.push(d.to_string())
                        }
                        x509_parser::extensions::GeneralName::IPAddress(ip) => {
                            names.push(ip_text(ip))
                        }
                        _ => {}
                    }
                }
            }
            CertificateSummary {
                subject: cert.subject().to_string(),
                issuer: cert.issuer().to_string(),
                not_before: rfc3339(cert.validity().not_before),
                not_after: rfc3339(cert.validity().not_after),
                names,
                sha256,
                pem,
            }
        }
        Err(e) => CertificateSummary {
            subject: format!("(not a parsable X.509 certificate: {e})"),
            issuer: String::new(),
            not_before: String::new(),
            not_after: String::new(),
            names: Vec::new(),
            sha256,
            pem,
        },
    }
}

fn ip_text(b: &[u8]) -> String {
    match b.len() {
        4 => std::net::Ipv4Addr::new(b[0], b[1], b[2], b[3]).to_string(),
        16 => {
            let mut a = [0u8; 16];
            a.copy_from_slice(b);
            std::net::Ipv6Addr::from(a).to_string()
        }
        _ => hex::encode(b),
    }
}

/// PEM text of a DER certificate.
pub fn to_pem(der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

/// The TLS side of one exchange in the evidence: what was negotiated and who presented what.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, Default)]
pub struct TlsRecord {
    /// `TLSv1.3`, `TLSv1.2`, when the handshake completed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The negotiated cipher suite (IANA name), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cipher_suite: Option<String>,
    /// The server name sent (SNI) or received.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_name: Option<String>,
    /// The certificates the peer presented, leaf first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub peer_certificates: Vec<CertificateSummary>,
    /// The certificate this side presented (its leaf), when it presented one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub own_certificate: Option<CertificateSummary>,
    /// Why the handshake failed, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
}

/// `TLSv1.3` for a `rustls` version.
pub fn version_name(v: rustls::ProtocolVersion) -> String {
    match v {
        rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3".into(),
        rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2".into(),
        rustls::ProtocolVersion::TLSv1_1 => "TLSv1.1".into(),
        rustls::ProtocolVersion::TLSv1_0 => "TLSv1.0".into(),
        rustls::ProtocolVersion::SSLv3 => "SSLv3".into(),
        other => format!("0x{:04x}", u16::from(other)),
    }
}

impl TlsRecord {
    /// What a completed `rustls` connection negotiated and was shown.
    pub fn of_connection(c: &rustls::CommonState) -> TlsRecord {
        TlsRecord {
            version: c.protocol_version().map(version_name),
            cipher_suite: c
                .negotiated_cipher_suite()
                .and_then(|s| s.suite().as_str().map(str::to_string)),
            server_name: None,
            peer_certificates: c
                .peer_certificates()
                .map(|cs| cs.iter().map(|d| summarize(d)).collect())
                .unwrap_or_default(),
            own_certificate: None,
            failure: None,
        }
    }
}
