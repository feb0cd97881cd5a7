//! Simulated IHE actors. Each module plays one role of one transaction over the real wire format.
//! Initiators (the harness calls the SUT) live here for DICOMweb: the WADO-RS Requester (RAD-107),
//! the QIDO-RS Requester (RAD-129) and the STOW-RS Sender (RAD-108). They build requests, hand them
//! to the transport, and return the recorded [`Exchange`](crate::evidence::Exchange); judging is left
//! to the checks.

pub mod audit_repository;
pub mod audit_source;
pub mod dicomweb;
pub mod dimse_scu;
pub mod mhd;
pub mod move_receiver;
pub mod qido_rs;
pub mod secure_node;
pub mod stow_rs;
pub mod wado_rs;
pub mod xca_i;
pub mod xds;
