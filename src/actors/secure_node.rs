//! The harness as the TLS client of a Secure Node (ITI-19 Authenticate Node): which endpoints of
//! the SUT speak TLS, the certificates the harness offers them (good and bad), and the requests
//! it makes to see whether a server served a client it should have refused.
//!
//! Against the embedded reference the harness starts a second reference that speaks only TLS,
//! with a test PKI made for the run (ECDSA P-256, `rcgen`): a CA both sides trust, a server
//! certificate for `localhost` and `127.0.0.1`, client certificates required. A SUT profile names
//! its own: `https://` endpoints and the `[tls]` files; the expired client certificate needs a
//! CA the SUT trusts and its key (`[tls] ca_key_file`).

use std::sync::Arc;

use crate::config::{Config, Timeouts};
use crate::reference::{Fault, ReferenceOptions, ReferenceServer};
use crate::transport::tls::pki::{Authority, Request, TestPki, Usage};
use crate::transport::tls::{ClientAuth, ClientTls, ServerTls, TlsError, Versions};

/// What the harness asks of a TLS endpoint to see whether it serves a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ask {
    /// An HTTP request (a QIDO-RS search, the FHIR CapabilityStatement, an ITI-18 query): data
    /// when served.
    Http(HttpAsk),
    /// Request an association and send a C-ECHO: accepted when served.
    Echo {
        /// The SUT's AE title.
        called_ae: String,
        /// The harness's AE title.
        calling_ae: String,
    },
}

/// An HTTP request of [`Ask::Http`]: a GET, or a POST of `body` when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpAsk {
    /// The URL.
    pub url: String,
    /// The Content-Type and body of a POST.
    pub post: Option<(String, String)>,
}

impl HttpAsk {
    /// A GET of `url`.
    pub fn get(url: String) -> Ask {
        Ask::Http(HttpAsk { url, post: None })
    }

    /// The request to send.
    pub fn request(&self) -> crate::transport::http::Request {
        use crate::transport::http::Request;
        match &self.post {
            None => Request::get(self.url.clone(), None),
            Some((content_type, body)) => Request {
                method: reqwest::Method::POST,
                url: self.url.clone(),
                headers: vec![("Content-Type".to_string(), content_type.clone())],
                body: bytes::Bytes::from(body.clone()),
            },
        }
    }
}

/// One TLS endpoint of the SUT and the request that shows whether it serves a client.
#[derive(Debug, Clone)]
pub struct SecureEndpoint {
    /// `DICOMweb`, `MHD`, `DIMSE`.
    pub name: &'static str,
    /// What is asked of it.
    pub ask: Ask,
    /// Host and port, for the ClientHello probes.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// The harness's good TLS client for it (trusted CAs, client certificate, name checks).
    pub good: ClientTls,
    /// The curl options repeating `good`.
    pub repro: String,
}

/// What the ATNA scenarios know of the SUT's TLS servers.
pub struct SecureNodeTarget {
    /// The endpoints that speak TLS.
    pub endpoints: Vec<SecureEndpoint>,
    /// A CA the SUT trusts for clients, with its key, when the harness has one.
    pub trusted_ca: Option<Authority>,
    /// A CA the SUT does not trust.
    pub untrusted: Authority,
    /// Timeouts of the requests.
    pub timeouts: Timeouts,
    /// The TLS reference started for an embedded run (kept running until the run ends).
    pub server: Option<ReferenceServer>,
}

impl std::fmt::Debug for SecureNodeTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecureNodeTarget")
            .field("endpoints", &self.endpoints)
            .finish()
    }
}

/// The patient of the ITI-18 query the harness asks an XDS registry over TLS: one no registry
/// knows, so that a served query says only that the handshake let the client through.
const PROBE_PATIENT: &str = "IHE-HARNESS-ATNA-PROBE";

/// The ITI-18 FindDocuments query that shows whether an XDS registry serves a client: a SOAP
/// request answered (an AdhocQueryResponse, even empty) is served.
fn registry_ask(registry_url: &str, authority: &str) -> Ask {
    let q = crate::model::ebrim::AdhocQueryRequest::find_documents(
        &format!("{PROBE_PATIENT}^^^&{authority}&ISO"),
        &[crate::model::ebrim::STATUS_APPROVED],
        &[],
        "ObjectRef",
    );
    let (content_type, body) = crate::actors::xds::soap_request(
        registry_url,
        crate::model::ebrim::ACTION_STORED_QUERY,
        &crate::transport::soap::message_id_from(
            format!("{registry_url} {}", crate::evidence::now_rfc3339()).as_bytes(),
        ),
        &q.to_xml(),
        false,
        &[],
    );
    Ask::Http(HttpAsk {
        url: registry_url.to_string(),
        post: Some((content_type, String::from_utf8_lossy(&body).into_owned())),
    })
}

/// Why the target could not be set up: always the harness's or the configuration's fault.
#[derive(Debug, thiserror::Error)]
pub enum SecureNodeError {
    /// Certificates or TLS configurations.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The TLS reference did not start.
    #[error("the TLS reference did not start: {0}")]
    Reference(#[from] crate::reference::ReferenceError),
}

fn host_port(url: &str) -> Option<(String, u16)> {
    let u = url::Url::parse(url).ok()?;
    Some((u.host_str()?.to_string(), u.port_or_known_default()?))
}

impl SecureNodeTarget {
    /// The embedded reference over TLS, with the faults of the run that concern TLS.
    pub async fn embedded(
        fixtures_dir: &std::path::Path,
        faults: &std::collections::BTreeSet<Fault>,
    ) -> Result<SecureNodeTarget, SecureNodeError> {
        crate::transport::install_crypto_provider();
        let pki = TestPki::new()?;
        let server_cert = if faults.contains(&Fault::TlsExpiredServerCert) {
            pki.ca.issue(
                &Request::new("localhost", &["localhost", "127.0.0.1"], Usage::Server).expired(),
            )?
        } else {
            pki.server.clone()
        };
        let versions = if faults.contains(&Fault::TlsNo12) {
            Versions::Tls13
        } else if faults.contains(&Fault::TlsNo13) {
            Versions::Tls12
        } else {
            Versions::Bcp195
        };
        let tls = ServerTls {
            identity: server_cert.identity(),
            client_roots: vec![pki.ca.cert.clone()],
            client_auth: if faults.contains(&Fault::TlsNoClientAuth) {
                ClientAuth::None
            } else {
                ClientAuth::Required
            },
            versions,
        };
        let server = ReferenceServer::start(
            ReferenceOptions::new(fixtures_dir)
                .with_tls(tls)
                .with_dimse_bind(std::net::SocketAddr::from(([127, 0, 0, 1], 0))),
        )
        .await?;
        let good = ClientTls {
            roots: vec![pki.ca.cert.clone()],
            identity: Some(pki.client.identity()),
            server_name: None,
            verify_server_name: true,
            versions: Versions::Bcp195,
            verify_server: true,
        };
        let addr = server.addr();
        let host = addr.ip().to_string();
        let mut endpoints = vec![
            SecureEndpoint {
                name: "DICOMweb",
                ask: HttpAsk::get(format!("{}/studies?limit=1", server.dicomweb_base())),
                host: host.clone(),
                port: addr.port(),
                good: good.clone(),
                repro: String::new(),
            },
            SecureEndpoint {
                name: "MHD",
                ask: HttpAsk::get(format!("{}/metadata", server.fhir_base())),
                host: host.clone(),
                port: addr.port(),
                good: good.clone(),
                repro: String::new(),
            },
            SecureEndpoint {
                name: "XDS",
                ask: registry_ask(
                    &format!("{}/registry", server.xds_base()),
                    crate::config::xds::DEFAULT_PATIENT_AUTHORITY,
                ),
                host: host.clone(),
                port: addr.port(),
                good: good.clone(),
                repro: String::new(),
            },
        ];
        if let Some(d) = server.dimse_addr() {
            endpoints.push(SecureEndpoint {
                name: "DIMSE",
                ask: Ask::Echo {
                    called_ae: crate::config::dimse::REFERENCE_AE.into(),
                    calling_ae: crate::config::dimse::DEFAULT_CALLING_AE.into(),
                },
                host,
                port: d.port(),
                good,
                repro: String::new(),
            });
        }
        Ok(SecureNodeTarget {
            endpoints,
            trusted_ca: Some(pki.ca),
            untrusted: pki.untrusted,
            timeouts: Timeouts::default(),
            server: Some(server),
        })
    }

    /// The `https://` endpoints of a SUT profile.
    pub fn from_config(config: &Config) -> Result<SecureNodeTarget, SecureNodeError> {
        let mut endpoints = Vec::new();
        let mut trusted_ca = None;
        let mut add = |name: &'static str,
                       base: &str,
                       ask: Ask,
                       tls: Option<&crate::transport::tls::TlsSettings>|
         -> Result<(), SecureNodeError> {
            if !base.starts_with("https://") {
                return Ok(());
            }
            let Some((host, port)) = host_port(base) else {
                return Ok(());
            };
            let good = match tls {
                Some(s) => ClientTls::from_settings(s)?,
                None => ClientTls::default(),
            };
            if trusted_ca.is_none() {
                if let Some(s) = tls {
                    trusted_ca = Authority::from_settings(s)?;
                }
            }
            endpoints.push(SecureEndpoint {
                name,
                ask,
                host,
                port,
                good,
                repro: tls
                    .map(crate::transport::factory::curl_tls_options)
                    .unwrap_or_default(),
            });
            Ok(())
        };
        let get =
            |base: &str, path: &str| HttpAsk::get(format!("{}{path}", base.trim_end_matches('/')));
        if let Some(d) = &config.dicomweb {
            add(
                "DICOMweb",
                &d.base_url,
                get(&d.base_url, "/studies?limit=1"),
                d.tls.as_ref(),
            )?;
        }
        if let Some(m) = &config.mhd {
            add(
                "MHD",
                &m.base_url,
                get(&m.base_url, "/metadata"),
                m.tls.as_ref(),
            )?;
        }
        if let Some(x) = &config.xds {
            if let Some(r) = &x.registry_url {
                let ask = registry_ask(r, &x.patient_id_authority);
                add("XDS", r, ask, x.tls.as_ref())?;
            }
        }
        if let Some(d) = config.dimse.as_ref() {
            if let Some(s) = &d.tls {
                let good = ClientTls::from_settings(s)?;
                if trusted_ca.is_none() {
                    trusted_ca = Authority::from_settings(s)?;
                }
                endpoints.push(SecureEndpoint {
                    name: "DIMSE",
                    ask: Ask::Echo {
                        called_ae: d.called_ae.clone(),
                        calling_ae: d.calling_ae.clone(),
                    },
                    host: d.host.clone(),
                    port: d.port,
                    good,
                    repro: String::new(),
                });
            }
        }
        Ok(SecureNodeTarget {
            endpoints,
            trusted_ca,
            untrusted: Authority::new("ihe-harness untrusted CA")?,
            timeouts: Timeouts::default(),
            server: None,
        })
    }

    /// The endpoint named `name` (`DICOMweb`), if it speaks TLS.
    pub fn endpoint(&self, name: &str) -> Option<&SecureEndpoint> {
        self.endpoints
            .iter()
            .find(|e| e.name.eq_ignore_ascii_case(name))
    }
}

/// The bad client certificates of the scenarios.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadClient {
    /// No certificate at all.
    None,
    /// One from a CA the SUT does not trust.
    Untrusted,
    /// An expired one from a CA the SUT trusts.
    Expired,
}

impl BadClient {
    /// In words.
    pub fn describe(self) -> &'static str {
        match self {
            BadClient::None => "no client certificate",
            BadClient::Untrusted => "a client certificate from an untrusted CA",
            BadClient::Expired => "an expired client certificate from a trusted CA",
        }
    }
}

/// The client for a bad-certificate attempt on `endpoint`, or why the harness cannot make one.
pub fn bad_client(
    target: &SecureNodeTarget,
    endpoint: &SecureEndpoint,
    bad: BadClient,
) -> Result<ClientTls, String> {
    let mut c = endpoint.good.clone();
    c.verify_server = false;
    c.identity = match bad {
        BadClient::None => None,
        BadClient::Untrusted => Some(
            target
                .untrusted
                .issue(&Request::new("ihe-harness untrusted client", &[], Usage::Client))
                .map_err(|e| e.to_string())?
                .identity(),
        ),
        BadClient::Expired => match &target.trusted_ca {
            Some(ca) => Some(
                ca.issue(&Request::new("ihe-harness expired client", &[], Usage::Client).expired())
                    .map_err(|e| e.to_string())?
                    .identity(),
            ),
            None => {
                return Err("the profile gives no CA the SUT trusts with its key ([tls] ca_key_file), so the harness cannot issue an expired client certificate the SUT would otherwise accept".into())
            }
        },
    };
    Ok(c)
}

/// Shared form of the target, as the run keeps it.
pub type SharedTarget = Arc<SecureNodeTarget>;
