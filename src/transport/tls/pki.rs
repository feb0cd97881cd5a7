//! A test PKI made on the fly (ECDSA P-256, `rcgen`): a trusted CA, an untrusted CA, and the
//! certificates the ATNA scenarios need, good and bad: a server certificate for the names asked,
//! a client certificate, expired ones, one from the untrusted CA, one for the wrong name. Every
//! certificate and key is PEM so it can go into the evidence and be reused by hand
//! (`curl --cert`, `openssl s_client`, DCMTK `+tls`).

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use time::{Duration, OffsetDateTime};

use super::{Identity, TlsError};

/// One certificate with its key, and the CA certificate that issued it.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The certificate.
    pub cert: CertificateDer<'static>,
    /// The certificate in PEM.
    pub cert_pem: String,
    /// The private key in PEM (PKCS#8).
    pub key_pem: String,
    key_der: Vec<u8>,
}

impl Issued {
    /// The certificate and key as a TLS identity.
    pub fn identity(&self) -> Identity {
        Identity {
            chain: vec![self.cert.clone()],
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key_der.clone())),
        }
    }
}

/// What a certificate is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Usage {
    /// A TLS server (serverAuth).
    Server,
    /// A TLS client (clientAuth).
    Client,
}

/// How a certificate is made: its subject, names, use, validity.
#[derive(Debug, Clone)]
pub struct Request {
    /// The subject's common name.
    pub common_name: String,
    /// The subjectAltName DNS names and addresses.
    pub names: Vec<String>,
    /// What it is for.
    pub usage: Usage,
    /// Validity start.
    pub not_before: OffsetDateTime,
    /// Validity end.
    pub not_after: OffsetDateTime,
}

impl Request {
    /// A certificate valid from a day ago for a year.
    pub fn new(common_name: &str, names: &[&str], usage: Usage) -> Request {
        let now = OffsetDateTime::now_utc();
        Request {
            common_name: common_name.into(),
            names: names.iter().map(|s| s.to_string()).collect(),
            usage,
            not_before: now - Duration::days(1),
            not_after: now + Duration::days(365),
        }
    }

    /// The same certificate, expired yesterday after a month of validity.
    pub fn expired(mut self) -> Request {
        let now = OffsetDateTime::now_utc();
        self.not_before = now - Duration::days(31);
        self.not_after = now - Duration::days(1);
        self
    }
}

/// A certificate authority: its certificate and its signing key.
pub struct Authority {
    /// The CA certificate.
    pub cert: CertificateDer<'static>,
    /// The CA certificate in PEM.
    pub cert_pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl std::fmt::Debug for Authority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authority")
            .field("cert_pem", &self.cert_pem)
            .finish()
    }
}

fn gen_err(e: rcgen::Error) -> TlsError {
    TlsError::Generate(e.to_string())
}

impl Authority {
    /// A new self-signed CA named `name`, valid from a day ago for ten years.
    pub fn new(name: &str) -> Result<Authority, TlsError> {
        let key = KeyPair::generate().map_err(gen_err)?;
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(gen_err)?;
        params.distinguished_name.push(DnType::CommonName, name);
        params
            .distinguished_name
            .push(DnType::OrganizationName, "ihe-harness test PKI");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::days(1);
        params.not_after = now + Duration::days(3650);
        let cert = params.self_signed(&key).map_err(gen_err)?;
        Ok(Authority {
            cert: cert.der().clone(),
            cert_pem: cert.pem(),
            issuer: Issuer::new(params, key),
        })
    }

    /// The CA of `ca_file` with the key of `ca_key_file`, when both are given.
    pub fn from_settings(s: &super::TlsSettings) -> Result<Option<Authority>, TlsError> {
        let (Some(cert), Some(key)) = (&s.ca_file, &s.ca_key_file) else {
            return Ok(None);
        };
        let read = |p: &std::path::Path| {
            std::fs::read_to_string(p).map_err(|source| TlsError::Read {
                path: p.to_path_buf(),
                source,
            })
        };
        let cert_pem = read(cert)?;
        let key = KeyPair::from_pem(&read(key)?).map_err(|e| TlsError::Pem {
            path: key.clone(),
            what: format!("not a private key rcgen can sign with ({e})"),
        })?;
        let der = super::certs::parse_certs(cert_pem.as_bytes())
            .map_err(|what| TlsError::Pem {
                path: cert.clone(),
                what,
            })?
            .remove(0);
        let issuer = Issuer::from_ca_cert_der(&der, key).map_err(gen_err)?;
        Ok(Some(Authority {
            cert: der,
            cert_pem,
            issuer,
        }))
    }

    /// Issue a certificate.
    pub fn issue(&self, req: &Request) -> Result<Issued, TlsError> {
        let key = KeyPair::generate().map_err(gen_err)?;
        let mut params = CertificateParams::new(req.names.clone()).map_err(gen_err)?;
        params
            .distinguished_name
            .push(DnType::CommonName, req.common_name.as_str());
        params
            .distinguished_name
            .push(DnType::OrganizationName, "ihe-harness test PKI");
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![match req.usage {
            Usage::Server => ExtendedKeyUsagePurpose::ServerAuth,
            Usage::Client => ExtendedKeyUsagePurpose::ClientAuth,
        }];
        params.use_authority_key_identifier_extension = true;
        params.not_before = req.not_before;
        params.not_after = req.not_after;
        let cert = params.signed_by(&key, &self.issuer).map_err(gen_err)?;
        Ok(Issued {
            cert: cert.der().clone(),
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            key_der: key.serialize_der(),
        })
    }
}

/// The test PKI of one run: the CA the peers trust, a CA nobody trusts, and the harness's good
/// server and client certificates.
#[derive(Debug)]
pub struct TestPki {
    /// The CA both sides trust.
    pub ca: Authority,
    /// A CA nobody trusts.
    pub untrusted: Authority,
    /// A server certificate for `localhost` and `127.0.0.1`.
    pub server: Issued,
    /// A client certificate.
    pub client: Issued,
}

impl TestPki {
    /// A fresh PKI.
    pub fn new() -> Result<TestPki, TlsError> {
        let ca = Authority::new("ihe-harness test CA")?;
        let untrusted = Authority::new("ihe-harness untrusted CA")?;
        let server = ca.issue(&Request::new(
            "localhost",
            &["localhost", "127.0.0.1"],
            Usage::Server,
        ))?;
        let client = ca.issue(&Request::new("ihe-harness", &[], Usage::Client))?;
        Ok(TestPki {
            ca,
            untrusted,
            server,
            client,
        })
    }
}
