//! The one place the harness builds its connections: every HTTP client (the harness's user agents
//! towards a SUT, and the reference's client of an upstream DICOMweb server) and the options of
//! every DICOM association (the harness's SCU, the reference's SCP, and the reference's C-MOVE and
//! C-GET sub-operation SCU).
//!
//! Each builder takes a settings struct drawn from the SUT profile or the reference's options:
//! timeouts, authentication, AE titles, the maximum PDU length, the limits on what is read. Those
//! structs are where the settings of the connection's security (TLS) go, so that one change here
//! reaches every transport. What an operation negotiates on top (presentation contexts, roles, the
//! SCP's access control and abstract syntaxes) stays with the code that knows the operation.

use std::time::Duration;

use dicom_ul::association::client::ClientAssociationOptions;
use dicom_ul::association::server::{AcceptAny, DefaultNegotiation, ServerAssociationOptions};

use crate::config::{Auth, Limits, Timeouts};
use crate::transport::http::{HttpClient, HttpError};
use crate::transport::tls::{ClientTls, TlsError, TlsSettings};

/// How the harness reaches one HTTP endpoint of a SUT: its authentication, its timeouts and the
/// limits on what the harness reads from it to judge.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// The authentication sent with every request.
    pub auth: Auth,
    /// Connect, read and whole-exchange timeouts.
    pub timeouts: Timeouts,
    /// The largest body and the most JSON values or XML elements read to judge.
    pub limits: Limits,
    /// TLS for `https://` URLs: trusted CAs, client certificate, versions.
    pub tls: ClientTls,
    /// The curl options that repeat the TLS side (`--cacert … --cert … --key …`).
    pub tls_repro: String,
}

impl HttpSettings {
    /// An endpoint with this authentication and these timeouts, read within the default limits.
    pub fn new(auth: Auth, timeouts: Timeouts) -> HttpSettings {
        HttpSettings {
            auth,
            timeouts,
            limits: Limits::default(),
            tls: ClientTls::default(),
            tls_repro: String::new(),
        }
    }

    /// The same endpoint with the profile's TLS files (read now); `None` keeps the system's
    /// trust store and no client certificate.
    pub fn with_tls_settings(mut self, s: Option<&TlsSettings>) -> Result<HttpSettings, TlsError> {
        if let Some(s) = s {
            self.tls = ClientTls::from_settings(s)?;
            self.tls_repro = curl_tls_options(s);
        }
        Ok(self)
    }

    /// The same endpoint with TLS settings made in memory (the ATNA scenarios' certificates).
    pub fn with_tls(mut self, tls: ClientTls, repro: String) -> HttpSettings {
        self.tls = tls;
        self.tls_repro = repro;
        self
    }

    /// The same endpoint read within the profile's `[limits]`.
    pub fn with_limits(mut self, limits: &Limits) -> HttpSettings {
        self.limits = *limits;
        self
    }
}

/// The recording HTTP client of the harness towards one SUT endpoint. Redirects are not followed
/// (a redirect is the SUT's answer, judged as such); every request goes out on a connection of its
/// own (see [`crate::transport::http`]), so none is kept idle.
pub fn http_client(settings: &HttpSettings) -> Result<HttpClient, HttpError> {
    crate::transport::install_crypto_provider();
    let mut builder = reqwest::Client::builder();
    // The profile's TLS (trusted CAs, client certificate, versions); without it reqwest's own
    // rustls set-up, which verifies against the platform's trust store when a URL is https.
    if settings.tls != ClientTls::default() {
        builder = builder.tls_backend_preconfigured(settings.tls.config()?);
    }
    let client = builder
        .tls_info(true)
        .connect_timeout(settings.timeouts.connect)
        .redirect(reqwest::redirect::Policy::none())
        // One connection per request (see the module documentation of `http`): nothing to keep
        // idle.
        .pool_max_idle_per_host(0)
        .user_agent(concat!("ihe-harness/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| HttpError::Build(e.to_string()))?;
    Ok(HttpClient::from_parts(
        client,
        settings.auth.clone(),
        settings.timeouts,
        &settings.limits,
    )
    .with_tls_repro(settings.tls_repro.clone()))
}

/// The client of a load run's virtual users (`ihe-harness load`): one pool of kept-alive
/// connections shared by all of them, as a real user agent keeps its connections (the recording
/// client opens one per request, to record each), with the endpoint's TLS and timeouts.
pub fn load_client(settings: &HttpSettings, users: usize) -> Result<reqwest::Client, HttpError> {
    crate::transport::install_crypto_provider();
    let mut builder = reqwest::Client::builder();
    if settings.tls != ClientTls::default() {
        builder = builder.tls_backend_preconfigured(settings.tls.config()?);
    }
    builder
        .connect_timeout(settings.timeouts.connect)
        .timeout(settings.timeouts.total)
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(users.clamp(1, 1024))
        .user_agent(concat!("ihe-harness/", env!("CARGO_PKG_VERSION"), " load"))
        .build()
        .map_err(|e| HttpError::Build(e.to_string()))
}

/// The curl options that use the same TLS files (`--cacert`, `--cert`, `--key`, and
/// `--connect-to`-free name checking off when the profile turns it off).
pub fn curl_tls_options(s: &TlsSettings) -> String {
    let q = |p: &std::path::Path| crate::transport::http::shell_quote(&p.display().to_string());
    let mut out = String::new();
    if let Some(ca) = &s.ca_file {
        out.push_str(&format!(" --cacert {}", q(ca)));
    }
    if let Some(c) = &s.cert_file {
        out.push_str(&format!(" --cert {}", q(c)));
    }
    if let Some(k) = &s.key_file {
        out.push_str(&format!(" --key {}", q(k)));
    }
    if !s.verify_server_name {
        out.push_str(" --insecure");
    }
    out
}

/// How the reference reaches the DICOMweb origin server it maps RAD-69 onto.
#[derive(Debug, Clone)]
pub struct UpstreamSettings {
    /// The longest one whole request may take.
    pub timeout: Duration,
}

impl Default for UpstreamSettings {
    fn default() -> Self {
        UpstreamSettings {
            timeout: Duration::from_secs(120),
        }
    }
}

/// The reference's plain client of an upstream DICOMweb server (reqwest's defaults otherwise:
/// redirects followed, connections kept); a client that cannot be built falls back to reqwest's
/// default one, as the upstream is only asked on the way to an answer.
pub fn upstream_client(settings: &UpstreamSettings) -> reqwest::Client {
    crate::transport::install_crypto_provider();
    reqwest::Client::builder()
        .timeout(settings.timeout)
        .build()
        .unwrap_or_default()
}

/// One side of a DICOM association: the AE titles, the maximum PDU length announced, whether a
/// PDU longer than it is refused, and the timeouts. A setting left `None` keeps `dicom-ul`'s
/// default.
#[derive(Debug, Clone)]
pub struct AssociationSettings {
    /// The AE title of this side: the calling AE of an SCU, the AE title of an SCP.
    pub local_ae: String,
    /// The called AE title (an SCU only).
    pub peer_ae: Option<String>,
    /// The maximum PDU length announced (PS3.8 §D.1).
    pub max_pdu: Option<u32>,
    /// Whether a PDU longer than the announced maximum is refused rather than buffered whole.
    pub strict: Option<bool>,
    /// The longest wait for the TCP connection (an SCU only).
    pub connect_timeout: Option<Duration>,
    /// The longest wait for a PDU.
    pub read_timeout: Duration,
    /// The longest a PDU may take to send.
    pub write_timeout: Duration,
}

/// The options of an association the harness or the reference requests (SCU); the caller adds
/// the presentation contexts and role selections of its operation.
pub fn client_association(settings: &AssociationSettings) -> ClientAssociationOptions<'static> {
    let mut options = ClientAssociationOptions::new().calling_ae_title(settings.local_ae.clone());
    if let Some(called) = &settings.peer_ae {
        options = options.called_ae_title(called.clone());
    }
    if let Some(max_pdu) = settings.max_pdu {
        options = options.max_pdu_length(max_pdu);
    }
    if let Some(strict) = settings.strict {
        options = options.strict(strict);
    }
    if let Some(connect) = settings.connect_timeout {
        options = options.connection_timeout(connect);
    }
    options
        .read_timeout(settings.read_timeout)
        .write_timeout(settings.write_timeout)
}

/// The options of an association the reference accepts (SCP); the caller adds its access
/// control, negotiation, abstract and transfer syntaxes.
pub fn server_association(
    settings: &AssociationSettings,
) -> ServerAssociationOptions<'static, AcceptAny, DefaultNegotiation> {
    let mut options = ServerAssociationOptions::new().ae_title(settings.local_ae.clone());
    if let Some(max_pdu) = settings.max_pdu {
        options = options.max_pdu_length(max_pdu);
    }
    if let Some(strict) = settings.strict {
        options = options.strict(strict);
    }
    options
        .read_timeout(settings.read_timeout)
        .write_timeout(settings.write_timeout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_http_client_keeps_the_settings_it_was_built_from() {
        let timeouts = Timeouts {
            connect: Duration::from_secs(1),
            read: Duration::from_secs(2),
            total: Duration::from_secs(3),
        };
        let limits = Limits {
            max_body: 10,
            ..Limits::default()
        };
        let c = http_client(&HttpSettings::new(Auth::None, timeouts).with_limits(&limits))
            .expect("client");
        assert_eq!(c.timeouts(), timeouts);
        assert_eq!(c.max_body(), 10);
    }

    #[test]
    fn association_settings_left_out_keep_the_defaults() {
        let s = AssociationSettings {
            local_ae: "HARNESS".into(),
            peer_ae: Some("PEER".into()),
            max_pdu: None,
            strict: None,
            connect_timeout: None,
            read_timeout: Duration::from_secs(1),
            write_timeout: Duration::from_secs(1),
        };
        let _ = client_association(&s);
        let _ = server_association(&s);
    }
}
