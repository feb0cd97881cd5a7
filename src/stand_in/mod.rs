//! The built-in stand-ins for a SUT that acts first: against the embedded reference, a profile's
//! trigger `builtin:<name>` ([`crate::trigger::Triggered::Builtin`]) has the harness's own
//! conformant actors play the SUT's part, so that the scenarios where a SUT calls the simulators
//! run (and prove their checks can fail, with the faults meant for the stand-ins) without one.
//!
//! - [`xds`]: an XDS-I.b Imaging Document Source submitting a manifest (RAD-68), a Document
//!   Consumer querying (ITI-18) or retrieving the manifest (ITI-43), an Imaging Document Consumer
//!   retrieving the images (RAD-69).
//! - [`mhd`]: an MHD Document Source publishing a manifest (ITI-65), a Document Consumer
//!   searching for submission sets (ITI-66) or documents (ITI-67).
//! - [`dimse`]: a modality storing a series into the harness's Storage SCP (C-STORE).
//! - [`dicomweb`]: a DICOMweb user agent searching, retrieving from and storing into the harness's
//!   origin server (QIDO-RS, WADO-RS, STOW-RS).

pub mod dicomweb;
pub mod dimse;
pub mod mhd;
pub mod xds;

pub use dimse::{play_dimse, play_qr_scu, DimseAsked, QrAsked};
pub use mhd::{play_mhd, MhdAsked};
pub use xds::{play_xca_consumer, AcrossFaults};
pub use xds::{play_xds, XdsAsked};

/// Why a stand-in could not play its part: the harness's failure, an Error.
#[derive(Debug, thiserror::Error)]
pub enum StandInError {
    /// A fixture file could not be read.
    #[error("{0}")]
    FixtureUnreadable(String),
    /// A fixture manifest (at this path) does not parse.
    #[error("{0}")]
    ManifestUnreadable(String),
    /// The stand-in's request could not be built or sent.
    #[error("{0}")]
    NotSent(String),
    /// No stand-in has this name.
    #[error("{0}")]
    Unknown(String),
    /// No stand-in of the profile has this name.
    #[error("no built-in stand-in for `{0}`")]
    NoSuchStandIn(String),
    /// The harness's Storage SCP, which a stand-in modality stores to, is not listening.
    #[error("the harness's SCP is not listening")]
    NoScp,
}

impl StandInError {
    /// The title of the harness error a step reports.
    pub fn title(&self) -> &'static str {
        match self {
            StandInError::FixtureUnreadable(_) => "fixture unreadable",
            StandInError::ManifestUnreadable(_) => "fixture manifest unreadable",
            StandInError::NotSent(_) => "builtin trigger",
            StandInError::Unknown(_) => "unknown builtin trigger",
            StandInError::NoSuchStandIn(_) => "builtin trigger",
            StandInError::NoScp => "no Storage SCP",
        }
    }
}
