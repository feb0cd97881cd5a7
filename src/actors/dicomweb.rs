//! The DICOMweb user agent shared by the RAD-107, RAD-108 and RAD-129 initiators: one service root
//! (PS3.18 §8.2, the "Base URI" of the origin server) and one HTTP client with its authentication.

use crate::config::{Dicomweb, Limits};
use crate::transport::factory::{self, HttpSettings};
use crate::transport::http::{HttpClient, HttpError};

/// A DICOMweb user agent bound to one origin server.
#[derive(Debug, Clone)]
pub struct DicomwebClient {
    /// The HTTP client.
    pub http: HttpClient,
    /// The service root, without trailing slash.
    pub base: String,
}

impl DicomwebClient {
    /// Build a client for the endpoint of a SUT profile, reading within `limits`.
    pub fn new(endpoint: &Dicomweb, limits: &Limits) -> Result<DicomwebClient, HttpError> {
        Ok(DicomwebClient {
            http: factory::http_client(
                &HttpSettings::new(endpoint.auth.clone(), endpoint.timeouts)
                    .with_limits(limits)
                    .with_tls_settings(endpoint.tls.as_ref())?,
            )?,
            base: endpoint.base_url.trim_end_matches('/').to_string(),
        })
    }

    /// `base/path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}/{}", self.base, path.trim_start_matches('/'))
    }
}
