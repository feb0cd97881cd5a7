//! The DIMSE stand-in: a modality storing a series into the harness's Storage SCP (C-STORE) with
//! the harness's own Storage SCU.

use std::net::SocketAddr;
use std::path::PathBuf;

use super::StandInError;
use crate::actors::dimse_scu::DimseScu;
use crate::evidence::Exchange;

/// The calling AE title of the stand-in modality.
const MODALITY_AE: &str = "BUILTIN_MODALITY";

/// What the DIMSE stand-in is asked to do.
#[derive(Debug, Clone, Copy)]
pub struct DimseAsked<'a> {
    /// The harness's Storage SCP, when it listens.
    pub scp: Option<SocketAddr>,
    /// The AE title of the harness's Storage SCP.
    pub scp_ae: &'a str,
    /// The files the modality stores.
    pub files: &'a [PathBuf],
}

/// Play the DIMSE stand-in `name` (only `modality_stores`): store the files into the harness's
/// Storage SCP. Returns the stand-in's own exchange.
pub async fn play_dimse(name: &str, asked: DimseAsked<'_>) -> Result<Exchange, StandInError> {
    if name != "modality_stores" {
        return Err(StandInError::Unknown(name.to_string()));
    }
    let Some(addr) = asked.scp else {
        return Err(StandInError::NoScp);
    };
    let mut cfg = crate::config::Dimse::embedded(addr.port());
    cfg.called_ae = asked.scp_ae.to_string();
    cfg.calling_ae = MODALITY_AE.into();
    Ok(DimseScu::from_config(&cfg).store(asked.files).await)
}
