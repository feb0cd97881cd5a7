//! Wire-level transports. They speak HTTP and multipart/related and know nothing of conformance:
//! checks judge what these modules record. [`factory`] builds every connection the harness and
//! its reference open or accept (HTTP clients, DICOM association options, TLS) from the profile; [`tls`] holds
//! the TLS configurations of both roles.

pub mod digest;
pub mod factory;
pub mod http;
pub mod media_type;
pub mod multipart;
pub mod soap;
pub mod syslog;
pub mod tls;

/// Install the process-wide TLS crypto provider (ring) once; later calls are no-ops.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
