//! TLS on every transport: IHE ITI TF-2 §3.19 (ITI-19 Authenticate Node) asks secure nodes for
//! mutual TLS, with BCP 195 (RFC 9325, RFC 8996) as its floor: TLS 1.2 or 1.3, no SSL 3.0 /
//! TLS 1.0 / TLS 1.1, AEAD suites with forward secrecy. This module builds the `rustls`
//! configurations of both roles from the profile's `[tls]` keys (or from certificates made on the
//! fly, see [`pki`]), says in words why a handshake failed, and describes the certificates a peer
//! presented for the evidence ([`certs`]).
//!
//! The transport factory ([`crate::transport::factory`]) is the only caller outside this module:
//! every HTTP client, every DICOM association and every listener of the harness gets its TLS
//! from here.
//!
//! | File | What it holds |
//! |---|---|
//! | `mod.rs` | settings, client and server configurations, handshake failure causes |
//! | `certs.rs` | PEM loading, certificate summaries for the evidence |
//! | `listener.rs` | a TLS listener for the harness's HTTP servers that records every handshake |
//! | `pki.rs` | a test PKI made on the fly (CA, server, client, expired, untrusted, wrong name) |
//! | `probe.rs` | hand-written ClientHellos offering only what BCP 195 forbids |
//! | `relay.rs` | DICOM TLS for both roles of the DIMSE code, relayed over loopback |

pub mod certs;
pub mod listener;
pub mod pki;
pub mod probe;
pub mod relay;

use std::path::PathBuf;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::WebPkiClientVerifier;
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};

pub use certs::{CertificateSummary, TlsRecord};

/// What a profile says about TLS for one endpoint (`[tls]`, overridden per endpoint by
/// `[dicomweb.tls]`, `[xds.tls]`, `[mhd.tls]`, `[dimse.tls]`), or for the harness's own servers
/// (`[simulator.tls]`). Paths are PEM files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    /// The CAs trusted for the peer's certificate: the SUT's server certificate (client side) or
    /// the SUT's client certificates (server side). `None`: the system's trust store (client
    /// side); no client certificate accepted (server side).
    pub ca_file: Option<PathBuf>,
    /// This side's certificate chain, leaf first.
    pub cert_file: Option<PathBuf>,
    /// This side's private key (PKCS#8, PKCS#1 or SEC1).
    pub key_file: Option<PathBuf>,
    /// The name verified in the SUT's certificate and sent as SNI, when the URL or host is an
    /// address or another name (client side).
    pub server_name: Option<String>,
    /// Whether the SUT's certificate must name the host (client side). On by default.
    pub verify_server_name: bool,
    /// Whether a client must present a certificate from `ca_file` (server side). On by default
    /// when `ca_file` is given.
    pub require_client_cert: bool,
    /// The private key of `ca_file`'s CA, when the SUT trusts that CA for clients too (a test
    /// PKI): the ATNA scenarios issue an expired client certificate from it.
    pub ca_key_file: Option<PathBuf>,
}

impl Default for TlsSettings {
    fn default() -> Self {
        TlsSettings {
            ca_file: None,
            cert_file: None,
            key_file: None,
            server_name: None,
            verify_server_name: true,
            require_client_cert: true,
            ca_key_file: None,
        }
    }
}

/// Why a TLS configuration could not be built: always the configuration's fault (an Error).
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A PEM file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A PEM file holds nothing usable.
    #[error("{path}: {what}")]
    Pem {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        what: String,
    },
    /// A certificate without its key or the other way round.
    #[error("a TLS certificate needs its private key and a key needs its certificate: give both cert_file and key_file")]
    Incomplete,
    /// A server needs a certificate.
    #[error("a TLS server needs cert_file and key_file")]
    NoServerIdentity,
    /// `rustls` refused the configuration (e.g. a key that does not match the certificate).
    #[error("TLS configuration refused: {0}")]
    Rustls(#[from] rustls::Error),
    /// The trusted CAs could not be used.
    #[error("TLS trust store refused: {0}")]
    Verifier(String),
    /// A certificate could not be made.
    #[error("cannot make a test certificate: {0}")]
    Generate(String),
}

/// A certificate chain (leaf first) and its private key.
pub struct Identity {
    /// The chain, leaf first.
    pub chain: Vec<CertificateDer<'static>>,
    /// The private key of the leaf.
    pub key: PrivateKeyDer<'static>,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("certificates", &self.chain.len())
            .field("key", &"<redacted>")
            .finish()
    }
}

impl PartialEq for Identity {
    fn eq(&self, other: &Self) -> bool {
        self.chain == other.chain && self.key.secret_der() == other.key.secret_der()
    }
}

impl Eq for Identity {}

impl Clone for Identity {
    fn clone(&self) -> Self {
        Identity {
            chain: self.chain.clone(),
            key: self.key.clone_key(),
        }
    }
}

/// The TLS versions one side offers or accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Versions {
    /// TLS 1.2 and TLS 1.3 (BCP 195, RFC 9325 §3.1.1).
    #[default]
    Bcp195,
    /// TLS 1.2 only.
    Tls12,
    /// TLS 1.3 only.
    Tls13,
}

impl Versions {
    fn list(self) -> &'static [&'static rustls::SupportedProtocolVersion] {
        static BOTH: [&rustls::SupportedProtocolVersion; 2] =
            [&rustls::version::TLS13, &rustls::version::TLS12];
        static V12: [&rustls::SupportedProtocolVersion; 1] = [&rustls::version::TLS12];
        static V13: [&rustls::SupportedProtocolVersion; 1] = [&rustls::version::TLS13];
        match self {
            Versions::Bcp195 => &BOTH,
            Versions::Tls12 => &V12,
            Versions::Tls13 => &V13,
        }
    }
}

/// The harness as TLS client of one endpoint, resolved (files read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientTls {
    /// The trusted CAs; empty: the system's trust store.
    pub roots: Vec<CertificateDer<'static>>,
    /// The client certificate offered, if any.
    pub identity: Option<Identity>,
    /// The name verified and sent as SNI instead of the URL's host.
    pub server_name: Option<String>,
    /// Whether the server's certificate must name the host.
    pub verify_server_name: bool,
    /// The versions offered.
    pub versions: Versions,
    /// Whether the server's certificate is verified at all. Off only for the ATNA attempts that
    /// judge how a server treats a bad client: the server's own certificate is judged apart
    /// (TLS-09), and must not stop the handshake before the server has judged the client.
    pub verify_server: bool,
}

/// Whether a TLS server asks for a client certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// No client certificate asked.
    None,
    /// Asked, and verified when one is presented.
    Optional,
    /// Required (ITI-19 mutual authentication).
    Required,
}

/// The harness (or the reference) as TLS server, resolved.
#[derive(Debug, Clone)]
pub struct ServerTls {
    /// The server's certificate and key.
    pub identity: Identity,
    /// The CAs of accepted client certificates.
    pub client_roots: Vec<CertificateDer<'static>>,
    /// Whether a client certificate is asked for.
    pub client_auth: ClientAuth,
    /// The versions accepted.
    pub versions: Versions,
}

impl ServerTls {
    /// The same node as a TLS client (a C-MOVE source opening its sub-associations): its own
    /// certificate, and the CAs it trusts for clients as the CAs it trusts for servers, names
    /// verified, the same versions.
    pub fn as_client(&self) -> ClientTls {
        ClientTls {
            roots: self.client_roots.clone(),
            identity: Some(self.identity.clone()),
            server_name: None,
            verify_server_name: true,
            versions: self.versions,
            verify_server: true,
        }
    }
}

impl Default for ClientTls {
    /// The system's trust store, no client certificate, names verified, TLS 1.2 and 1.3.
    fn default() -> Self {
        ClientTls {
            roots: Vec::new(),
            identity: None,
            server_name: None,
            verify_server_name: true,
            versions: Versions::Bcp195,
            verify_server: true,
        }
    }
}

impl ClientTls {
    /// Read the files a profile names.
    pub fn from_settings(s: &TlsSettings) -> Result<ClientTls, TlsError> {
        let roots = match &s.ca_file {
            Some(p) => certs::load_certs(p)?,
            None => Vec::new(),
        };
        let identity = match (&s.cert_file, &s.key_file) {
            (Some(c), Some(k)) => Some(Identity {
                chain: certs::load_certs(c)?,
                key: certs::load_key(k)?,
            }),
            (None, None) => None,
            _ => return Err(TlsError::Incomplete),
        };
        Ok(ClientTls {
            roots,
            identity,
            server_name: s.server_name.clone(),
            verify_server_name: s.verify_server_name,
            versions: Versions::Bcp195,
            verify_server: true,
        })
    }

    /// The `rustls` configuration: the ring provider, BCP 195 versions and suites, the trusted
    /// CAs, the client certificate.
    pub fn config(&self) -> Result<rustls::ClientConfig, TlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut store = RootCertStore::empty();
        if self.roots.is_empty() {
            for c in system_roots() {
                let _ = store.add(c.clone());
            }
        } else {
            for c in &self.roots {
                store
                    .add(c.clone())
                    .map_err(|e| TlsError::Verifier(e.to_string()))?;
            }
        }
        let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider.clone())
            .build()
            .map_err(|e| TlsError::Verifier(e.to_string()))?;
        let verifier: Arc<dyn ServerCertVerifier> = if !self.verify_server {
            Arc::new(AnyCertificate(provider.clone()))
        } else if self.verify_server_name {
            inner
        } else {
            Arc::new(AnyName(inner))
        };
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(self.versions.list())?
            .dangerous()
            .with_custom_certificate_verifier(verifier);
        let config = match &self.identity {
            Some(id) => builder.with_client_auth_cert(id.chain.clone(), id.key.clone_key())?,
            None => builder.with_no_client_auth(),
        };
        Ok(config)
    }

    /// The name verified for `host`: the profile's `server_name`, else the host itself.
    pub fn name_for(&self, host: &str) -> String {
        self.server_name.clone().unwrap_or_else(|| host.to_string())
    }
}

impl ServerTls {
    /// Read the files of a `[simulator.tls]` table.
    pub fn from_settings(s: &TlsSettings) -> Result<ServerTls, TlsError> {
        let identity = match (&s.cert_file, &s.key_file) {
            (Some(c), Some(k)) => Identity {
                chain: certs::load_certs(c)?,
                key: certs::load_key(k)?,
            },
            (None, None) => return Err(TlsError::NoServerIdentity),
            _ => return Err(TlsError::Incomplete),
        };
        let client_roots = match &s.ca_file {
            Some(p) => certs::load_certs(p)?,
            None => Vec::new(),
        };
        let client_auth = match (client_roots.is_empty(), s.require_client_cert) {
            (true, _) => ClientAuth::None,
            (false, true) => ClientAuth::Required,
            (false, false) => ClientAuth::Optional,
        };
        Ok(ServerTls {
            identity,
            client_roots,
            client_auth,
            versions: Versions::Bcp195,
        })
    }

    /// The `rustls` configuration of the server, with a certificate that can be swapped while it
    /// runs (the ATNA scenarios where the harness presents a bad certificate to a SUT client).
    pub fn switchable_config(
        &self,
    ) -> Result<(rustls::ServerConfig, Arc<SwitchableCert>), TlsError> {
        let switch = Arc::new(SwitchableCert::new(&self.identity)?);
        let config = self.builder()?.with_cert_resolver(switch.clone());
        Ok((config, switch))
    }

    /// The `rustls` configuration of the server.
    pub fn config(&self) -> Result<rustls::ServerConfig, TlsError> {
        Ok(self
            .builder()?
            .with_single_cert(self.identity.chain.clone(), self.identity.key.clone_key())?)
    }

    fn builder(
        &self,
    ) -> Result<
        rustls::ConfigBuilder<rustls::ServerConfig, rustls::server::WantsServerCert>,
        TlsError,
    > {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = match self.client_auth {
            ClientAuth::None => WebPkiClientVerifier::no_client_auth(),
            auth => {
                let mut store = RootCertStore::empty();
                for c in &self.client_roots {
                    store
                        .add(c.clone())
                        .map_err(|e| TlsError::Verifier(e.to_string()))?;
                }
                let b =
                    WebPkiClientVerifier::builder_with_provider(Arc::new(store), provider.clone());
                let b = if auth == ClientAuth::Optional {
                    b.allow_unauthenticated()
                } else {
                    b
                };
                b.build().map_err(|e| TlsError::Verifier(e.to_string()))?
            }
        };
        Ok(rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(self.versions.list())?
            .with_client_cert_verifier(verifier))
    }
}

/// The system's trust store, read once per process.
fn system_roots() -> &'static [CertificateDer<'static>] {
    static ROOTS: std::sync::OnceLock<Vec<CertificateDer<'static>>> = std::sync::OnceLock::new();
    ROOTS.get_or_init(|| rustls_native_certs::load_native_certs().certs)
}

/// The certificate a running TLS server presents, swappable: the ATNA scenarios make the harness's
/// servers present an untrusted, expired or wrong-name certificate for one trigger, then the good
/// one again.
#[derive(Debug)]
pub struct SwitchableCert {
    good: Arc<rustls::sign::CertifiedKey>,
    current: std::sync::Mutex<Arc<rustls::sign::CertifiedKey>>,
}

fn certified(id: &Identity) -> Result<Arc<rustls::sign::CertifiedKey>, TlsError> {
    let provider = rustls::crypto::ring::default_provider();
    Ok(Arc::new(rustls::sign::CertifiedKey::from_der(
        id.chain.clone(),
        id.key.clone_key(),
        &provider,
    )?))
}

impl SwitchableCert {
    /// Presenting `good`.
    pub fn new(good: &Identity) -> Result<SwitchableCert, TlsError> {
        let good = certified(good)?;
        Ok(SwitchableCert {
            current: std::sync::Mutex::new(good.clone()),
            good,
        })
    }

    /// Present `id` from the next handshake on.
    pub fn present(&self, id: &Identity) -> Result<(), TlsError> {
        let c = certified(id)?;
        if let Ok(mut g) = self.current.lock() {
            *g = c;
        }
        Ok(())
    }

    /// Present the good certificate again.
    pub fn restore(&self) {
        if let Ok(mut g) = self.current.lock() {
            *g = self.good.clone();
        }
    }
}

impl rustls::server::ResolvesServerCert for SwitchableCert {
    fn resolve(
        &self,
        _hello: rustls::server::ClientHello<'_>,
    ) -> Option<Arc<rustls::sign::CertifiedKey>> {
        self.current.lock().ok().map(|g| g.clone())
    }
}

/// A verifier that checks the chain and the validity but accepts any name
/// (`verify_server_name = false`).
#[derive(Debug)]
struct AnyName(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for AnyName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// A verifier that takes any server certificate but still checks the handshake signatures
/// (the ATNA bad-client attempts, see [`ClientTls::verify_server`]).
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// What a `rustls` error means, in words a tester reads: unknown CA, name mismatch, expired,
/// handshake alert.
pub fn cause(e: &rustls::Error) -> String {
    use rustls::Error as E;
    match e {
        E::InvalidCertificate(c) => match c {
            CertificateError::UnknownIssuer => {
                "unknown CA: the peer's certificate is not issued by a trusted CA".into()
            }
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                "expired: the peer's certificate is past its validity".into()
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                "not yet valid: the peer's certificate validity starts later".into()
            }
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                "name mismatch: the peer's certificate does not name the host".into()
            }
            CertificateError::Revoked => "revoked: the peer's certificate is revoked".into(),
            CertificateError::BadSignature => {
                "bad signature: the peer's certificate signature does not verify".into()
            }
            other => format!("invalid peer certificate: {other}"),
        },
        E::AlertReceived(a) => format!(
            "handshake alert: the peer sent the TLS alert {}",
            alert_name(*a)
        ),
        E::NoCertificatesPresented => "no certificate: the peer presented none".into(),
        E::PeerIncompatible(_) => format!("no TLS version or cipher suite in common ({e})"),
        E::InvalidMessage(_) | E::InappropriateMessage { .. } => {
            format!("not TLS: the peer's answer is not a TLS handshake ({e})")
        }
        other => format!("TLS failure: {other}"),
    }
}

/// The RFC 8446 §6 name of an alert (`bad_certificate`).
pub fn alert_name(a: rustls::AlertDescription) -> String {
    let code = u8::from(a);
    let name = match code {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        22 => "record_overflow",
        40 => "handshake_failure",
        42 => "bad_certificate",
        43 => "unsupported_certificate",
        44 => "certificate_revoked",
        45 => "certificate_expired",
        46 => "certificate_unknown",
        47 => "illegal_parameter",
        48 => "unknown_ca",
        49 => "access_denied",
        50 => "decode_error",
        51 => "decrypt_error",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        90 => "user_canceled",
        109 => "missing_extension",
        110 => "unsupported_extension",
        112 => "unrecognized_name",
        113 => "bad_certificate_status_response",
        115 => "unknown_psk_identity",
        116 => "certificate_required",
        120 => "no_application_protocol",
        _ => return format!("{code}"),
    };
    name.to_string()
}

/// The TLS cause somewhere in an error's chain (a `rustls` error, possibly inside an
/// `io::Error`), or a handshake the peer cut short; `None` when TLS is not the cause.
pub fn cause_in_chain(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(r) = err.downcast_ref::<rustls::Error>() {
            return Some(cause(r));
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if io.to_string().contains("tls handshake eof") {
                return Some(
                    "handshake refused: the peer closed the connection during the TLS handshake"
                        .into(),
                );
            }
            // `io::Error::source` skips the error it wraps (it returns that error's source):
            // descend into the wrapped error itself, which may be another `io::Error`.
            if let Some(inner) = io.get_ref() {
                cur = Some(inner as &(dyn std::error::Error + 'static));
                continue;
            }
        }
        cur = err.source();
    }
    None
}

#[cfg(test)]
mod tests;
