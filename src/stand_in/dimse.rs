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

/// The calling AE title of the stand-in Query/Retrieve SCU.
pub const QR_SCU_AE: &str = "BUILTIN_QR_SCU";

/// What the stand-in Query/Retrieve SCU is asked to send to the harness's SCP: a C-FIND, C-MOVE
/// or C-GET (by trigger name) at `level` with `keys` (keyword tags and values, Query/Retrieve
/// Level left out).
#[derive(Debug, Clone, Copy)]
pub struct QrAsked<'a> {
    /// The harness's SCP, when it listens.
    pub scp: Option<SocketAddr>,
    /// The AE title of the harness's SCP.
    pub scp_ae: &'a str,
    /// Query/Retrieve Level.
    pub level: &'a str,
    /// The keys, as (tag, value).
    pub keys: &'a [(dicom_core::Tag, String)],
    /// C-MOVE: the Move Destination.
    pub destination: &'a str,
    /// C-GET: the SOP Class and transfer syntax of each instance it expects.
    pub storage: &'a [(&'a str, &'a str)],
    /// Fault: ask at another level than `level`.
    pub wrong_level: bool,
    /// Fault: leave the Study Instance UID out of a C-MOVE or C-GET below the study level.
    pub no_unique_key: bool,
    /// Fault: propose no Storage SOP Class (and so no SCP role) on a C-GET association.
    pub get_no_role: bool,
    /// Fault: asked to cancel its C-FIND (`qr_scu_cancels_find`), send no C-CANCEL.
    pub no_cancel: bool,
}

/// Play the Query/Retrieve SCU stand-in `name` (`qr_scu_finds`, `qr_scu_cancels_find`,
/// `qr_scu_moves`, `qr_scu_gets`)
/// against the harness's SCP. Returns the stand-in's own exchange.
pub async fn play_qr_scu(name: &str, asked: QrAsked<'_>) -> Result<Exchange, StandInError> {
    use crate::actors::dimse_scu::QueryModel;
    use dicom_dictionary_std::tags;
    let Some(addr) = asked.scp else {
        return Err(StandInError::NoScp);
    };
    let mut cfg = crate::config::Dimse::embedded(addr.port());
    cfg.called_ae = asked.scp_ae.to_string();
    cfg.calling_ae = QR_SCU_AE.into();
    let scu = DimseScu::from_config(&cfg);
    let level = if asked.wrong_level {
        // One level below the one asked (IMAGE below SERIES, SERIES below STUDY).
        match asked.level {
            "STUDY" => "SERIES",
            _ => "IMAGE",
        }
    } else {
        asked.level
    };
    let mut keys = vec![(tags::QUERY_RETRIEVE_LEVEL, level.to_string())];
    for (t, v) in asked.keys {
        let retrieve = name != "qr_scu_finds";
        if retrieve && asked.no_unique_key && *t == tags::STUDY_INSTANCE_UID && level != "STUDY" {
            continue;
        }
        keys.push((*t, v.clone()));
    }
    match name {
        "qr_scu_finds" => Ok(scu.find(QueryModel::StudyRoot, &keys, None).await),
        // A C-CANCEL after the first pending response, as `findscu --cancel 1`.
        "qr_scu_cancels_find" => {
            let cancel = if asked.no_cancel { None } else { Some(1) };
            Ok(scu.find(QueryModel::StudyRoot, &keys, cancel).await)
        }
        "qr_scu_moves" => Ok(scu
            .move_to(QueryModel::StudyRoot, &keys, asked.destination, None)
            .await),
        "qr_scu_gets" => {
            let dir = tempfile::tempdir()
                .map_err(|e| StandInError::NotSent(format!("a folder for C-GET: {e}")))?;
            let storage: &[(&str, &str)] = if asked.get_no_role {
                &[]
            } else {
                asked.storage
            };
            Ok(scu
                .get(QueryModel::StudyRoot, &keys, storage, dir.path(), None)
                .await)
        }
        other => Err(StandInError::Unknown(other.to_string())),
    }
}
