//! The reference's XDS-I.b actors: Document Registry (ITI-18), Document Repository (ITI-41/RAD-68,
//! ITI-43) and Imaging Document Source (RAD-69), over SOAP 1.2 with WS-Addressing and MTOM/XOP.
//!
//! They serve two purposes. As the default system under test they answer the harness's Document
//! Consumer, Imaging Document Consumer and Imaging Document Source, strictly by the text. As
//! simulators they receive the calls of a SUT that plays one of those initiators: every inbound
//! message is recorded in the [`Inbox`](crate::evidence::inbox::Inbox), where the scenario that triggered the SUT finds and judges
//! it with the same checks.
//!
//! At start the registry holds one manifest DocumentEntry per fixture study, built from the
//! fixture KOS by the same code that builds the harness's RAD-68 submissions; the repository
//! holds the KOS files; RAD-69 is answered from the reference archive. Responses are built in
//! memory: the fixture studies are small, and the reference is not the harness's client side,
//! which streams.
//!
//! The Document Registry itself is [`registry`](mod@registry). This file holds the repository's
//! and registry's content as preloaded and the WADO-RS upstream of the Imaging Document Source;
//! `endpoint.rs` reads, records and dispatches every SOAP request and packages the answer,
//! `query.rs` answers ITI-18, `repository.rs` ITI-41 / RAD-68 and ITI-43, and
//! `imaging_source.rs` RAD-69.

pub mod registry;

pub(crate) mod endpoint;
pub(crate) mod imaging_source;
mod query;
mod repository;

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

use axum::extract::DefaultBodyLimit;
use axum::routing::post;
use axum::Router;
use bytes::Bytes;
use dicom_dictionary_std::tags;

use crate::config::xds::{
    DEFAULT_IMAGING_SOURCE_ID, DEFAULT_PATIENT_AUTHORITY, DEFAULT_REPOSITORY_ID,
};
use crate::model::ebrim::{self as e, ProvideAndRegisterRequest};
use crate::model::{kos, xds_metadata};
use crate::reference::faults::Fault;
use crate::reference::state::Shared;
use crate::reference::store::archive::{Archive, Instance};
use crate::transport::soap::{self, MtomLimits};
use endpoint::{imaging_source, registry, repository};
use registry::Registry;

/// Implicit VR Little Endian.
const IMPLICIT_VR_LE: &str = "1.2.840.10008.1.2";

/// Paths of the endpoints below the server root.
pub const XDS_PATH: &str = "/xds";

/// The Document Registry, Document Repository and Imaging Document Source endpoints below
/// [`XDS_PATH`].
pub fn routes() -> Router<Shared> {
    Router::new()
        .route(&format!("{XDS_PATH}/registry"), post(registry))
        .route(&format!("{XDS_PATH}/repository"), post(repository))
        .route(&format!("{XDS_PATH}/imaging-source"), post(imaging_source))
        // Read within the run's [limits] by the handlers (reference::inbound).
        .layer(DefaultBodyLimit::disable())
}

/// A document held by the repository.
#[derive(Debug, Clone)]
pub struct StoredDocument {
    /// mimeType.
    pub mime_type: String,
    /// Bytes.
    pub bytes: Bytes,
}

/// The XDS state of the reference server.
#[derive(Debug)]
pub struct XdsStore {
    registry: Mutex<Registry>,
    repository: Mutex<BTreeMap<String, StoredDocument>>,
    /// repositoryUniqueId of the Document Repository.
    pub repository_unique_id: String,
    /// repositoryUniqueId of the Imaging Document Source.
    pub imaging_source_unique_id: String,
    /// Patient id assigning authority (OID).
    pub patient_authority: String,
}

impl XdsStore {
    /// Preload the registry and the repository with one manifest per fixture study.
    pub fn preload(archive: &Archive, faults: &std::collections::BTreeSet<Fault>) -> XdsStore {
        let authority = DEFAULT_PATIENT_AUTHORITY.to_string();
        let mut patients = std::collections::BTreeSet::new();
        let mut manifests = Vec::new();
        for (study_uid, study) in archive.sorted_studies() {
            let mut modalities = BTreeMap::new();
            for inst in study.instances() {
                if let Some(p) = inst.text(tags::PATIENT_ID) {
                    patients.insert(format!("{p}^^^&{authority}&ISO"));
                }
                if inst.sop_class != kos::KOS_SOP_CLASS {
                    if let Some(m) = inst.text(tags::MODALITY) {
                        modalities.insert(inst.series_uid.clone(), m);
                    }
                }
            }
            for inst in study.instances() {
                if inst.sop_class == kos::KOS_SOP_CLASS {
                    manifests.push((study_uid.clone(), inst.clone(), modalities.clone()));
                }
            }
        }
        let mut registry = Registry::new(patients);
        let mut repository = BTreeMap::new();
        let codes = xds_metadata::AffinityDomain::default_set();
        for (_study, inst, modalities) in manifests {
            let Ok(bytes) = std::fs::read(&inst.stored.path) else {
                continue;
            };
            let Ok(manifest) = kos::parse(&bytes) else {
                continue;
            };
            let pid = inst.text(tags::PATIENT_ID).unwrap_or_default();
            let ctx = xds_metadata::SubmissionContext::for_manifest(
                &format!("{pid}^^^&{authority}&ISO"),
                crate::config::xds::DEFAULT_SOURCE_ID,
                manifest.sop_instance_uid.as_deref().unwrap_or(""),
                modalities,
            );
            let mut pnr = xds_metadata::manifest_submission(&bytes, &manifest, &ctx, &codes);
            apply_metadata_faults(&mut pnr, faults);
            let docs: Vec<(String, Vec<u8>)> = pnr
                .documents
                .iter()
                .filter_map(|d| d.id.clone())
                .map(|id| (id, bytes.clone()))
                .collect();
            let unique_id = pnr
                .submit
                .objects
                .extrinsic_objects
                .first()
                .and_then(|o| o.identifier(e::DE_UNIQUE_ID));
            if registry
                .register(&pnr.submit, Some(DEFAULT_REPOSITORY_ID), &docs)
                .is_ok()
            {
                if let Some(u) = unique_id {
                    repository.insert(
                        u,
                        StoredDocument {
                            mime_type: e::MIME_DICOM.into(),
                            bytes: Bytes::from(bytes),
                        },
                    );
                }
            }
        }
        XdsStore {
            registry: Mutex::new(registry),
            repository: Mutex::new(repository),
            repository_unique_id: DEFAULT_REPOSITORY_ID.into(),
            imaging_source_unique_id: DEFAULT_IMAGING_SOURCE_ID.into(),
            patient_authority: authority,
        }
    }

    pub(crate) fn registry(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn repository(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, StoredDocument>> {
        self.repository
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// Break the preloaded metadata as the metadata faults say.
fn apply_metadata_faults(
    pnr: &mut ProvideAndRegisterRequest,
    faults: &std::collections::BTreeSet<Fault>,
) {
    for eo in &mut pnr.submit.objects.extrinsic_objects {
        if faults.contains(&Fault::XdsMetadataUniqueIdNotSop) {
            for x in &mut eo.external_identifiers {
                if x.scheme.as_deref() == Some(e::DE_UNIQUE_ID) {
                    x.value = x.value.as_ref().map(|v| format!("{v}.99"));
                }
            }
        }
        if faults.contains(&Fault::XdsMetadataWrongSourcePatient) {
            for s in &mut eo.slots {
                if s.name == "sourcePatientId" {
                    s.values = vec!["SOMEONE-ELSE^^^&1.2.3.4&ISO".into()];
                }
            }
        }
        if faults.contains(&Fault::XdsMetadataNoStudyReference) {
            for s in &mut eo.slots {
                if s.name == e::SLOT_REFERENCE_ID_LIST {
                    s.values
                        .retain(|v| !v.ends_with(e::REFERENCE_ID_STUDY_INSTANCE_UID));
                }
            }
        }
        if faults.contains(&Fault::XdsMetadataNoModality) {
            eo.classifications
                .retain(|c| c.scheme.as_deref() != Some(e::DE_EVENT_CODE));
        }
    }
}

/// A DICOMweb origin server the Imaging Document Source maps RAD-69 onto (WADO-RS, RAD-107).
#[derive(Debug, Clone)]
pub struct Upstream {
    base: String,
    client: reqwest::Client,
}

impl Upstream {
    /// A client for the service root `base`.
    pub fn new(base: String) -> Upstream {
        Upstream {
            base,
            client: crate::transport::factory::upstream_client(&Default::default()),
        }
    }

    /// The service root.
    pub(crate) fn base(&self) -> &str {
        &self.base
    }

    /// The HTTP client that calls it.
    pub(crate) fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// One instance in transfer syntax `ts` (`*`: as stored), with the syntax it came in.
    async fn instance(&self, inst: &Instance, ts: &str) -> Option<(String, Vec<u8>)> {
        let url = format!(
            "{}/studies/{}/series/{}/instances/{}",
            self.base, inst.study_uid, inst.series_uid, inst.sop_uid
        );
        let accept = format!("multipart/related; type=\"application/dicom\"; transfer-syntax={ts}");
        let resp = self
            .client
            .get(&url)
            .header("Accept", accept)
            .send()
            .await
            .ok()?;
        if !resp.status().is_success() {
            return None;
        }
        let ct = resp
            .headers()
            .get("content-type")?
            .to_str()
            .ok()?
            .to_string();
        let body = resp.bytes().await.ok()?;
        let m = soap::parse_mtom(&ct, &body, &MtomLimits::default()).ok()?;
        let head = crate::model::dicom_part::sniff(&m.root).ok()?;
        Some((head.transfer_syntax?.to_string(), m.root))
    }

    /// The instance in the first requested syntax the upstream can give: as stored when that is
    /// asked for, else in each requested syntax in turn.
    async fn encode_for(&self, inst: &Instance, wanted: &[String]) -> Option<(String, Vec<u8>)> {
        if let Some((ts, bytes)) = self.instance(inst, "*").await {
            if wanted.contains(&ts) {
                return Some((ts, bytes));
            }
        }
        for ts in wanted {
            if ts == IMPLICIT_VR_LE {
                continue; // not a DICOMweb transfer syntax (PS3.18 8.7.3.5.2)
            }
            if let Some((got, bytes)) = self.instance(inst, ts).await {
                if &got == ts {
                    return Some((got, bytes));
                }
            }
        }
        None
    }
}
