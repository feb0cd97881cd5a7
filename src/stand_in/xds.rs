//! The XDS-I.b stand-ins: an Imaging Document Source submitting a manifest (RAD-68), a Document
//! Consumer querying (ITI-18) or retrieving the manifest (ITI-43), an Imaging Document Consumer
//! retrieving the images (RAD-69).

use super::StandInError;
use crate::actors::xds::{doc_request, imaging_request, manifest_submission, XdsClient};
use crate::evidence::Exchange;
use crate::model::ebrim::{self as e, AdhocQueryRequest, RetrieveDocumentSetRequest};
use crate::model::fixtures::{FixtureInstance, Fixtures};
use crate::model::kos;

/// Explicit VR Little Endian, the transfer syntax the stand-in imaging consumer asks for.
const ELE: &str = "1.2.840.10008.1.2.1";

/// What an XDS-I.b stand-in is asked about.
#[derive(Debug, Clone, Copy)]
pub struct XdsAsked<'a> {
    /// The fixture manifest of the study.
    pub manifest: &'a FixtureInstance,
    /// Every instance of the study.
    pub study: &'a [FixtureInstance],
    /// The DICOM patient id a consumer queries for.
    pub query_patient: &'a str,
    /// The fixture studies.
    pub fixtures: &'a Fixtures,
}

/// Play the XDS-I.b stand-in `name` with client `c` (bound to the simulators): a source submits
/// a fresh copy of the manifest to `endpoint` (`submitted` is told its uniqueId before it is
/// sent), a consumer queries, retrieves the manifest or retrieves the images it references.
/// Returns the stand-in's own exchange.
pub async fn play_xds(
    c: &XdsClient,
    name: &str,
    endpoint: &str,
    asked: &XdsAsked<'_>,
    submitted: &mut dyn FnMut(&str),
) -> Result<Exchange, StandInError> {
    let k = asked.manifest;
    let cfg = &c.cfg;
    match name {
        "source_submits_manifest" => {
            let bytes = tokio::fs::read(asked.fixtures.file(k))
                .await
                .map_err(|err| StandInError::FixtureUnreadable(err.to_string()))?;
            let (fresh, fresh_uid) = crate::test_data::fresh_manifest(&bytes, &k.sop_uid);
            submitted(&fresh_uid);
            let (pnr, atts) = manifest_submission(cfg, &fresh, asked.study, None)
                .map_err(|err| StandInError::NotSent(err.to_string()))?;
            Ok(
                c.provide_and_register_to(endpoint, &pnr, &atts, "builtin source")
                    .await,
            )
        }
        "consumer_queries" => {
            let q = AdhocQueryRequest::find_documents(
                &cfg.patient_cx(asked.query_patient),
                &[e::STATUS_APPROVED],
                &[(e::KOS_FORMAT_CODE, e::KOS_FORMAT_CODING_SCHEME)],
                "LeafClass",
            );
            c.stored_query(&q, "builtin consumer")
                .await
                .map_err(|err| StandInError::NotSent(err.to_string()))
        }
        "consumer_retrieves_manifest" => {
            let r = RetrieveDocumentSetRequest {
                documents: vec![doc_request(&cfg.repository_unique_id, &k.sop_uid)],
            };
            c.retrieve_documents(&r, "builtin document consumer")
                .await
                .map_err(|err| StandInError::NotSent(err.to_string()))
        }
        "consumer_retrieves" => {
            let Ok(bytes) = tokio::fs::read(asked.fixtures.file(k)).await else {
                return Err(StandInError::FixtureUnreadable(k.path.clone()));
            };
            let Ok(m) = kos::parse(&bytes) else {
                return Err(StandInError::ManifestUnreadable(k.path.clone()));
            };
            let triples: Vec<(String, String, String)> = m
                .evidence
                .iter()
                .map(|r| {
                    (
                        r.study_uid.clone(),
                        r.series_uid.clone(),
                        r.sop_instance.clone(),
                    )
                })
                .collect();
            let repo = m
                .evidence
                .first()
                .and_then(|r| r.retrieve_location_uid.clone())
                .unwrap_or_default();
            let r = imaging_request(&triples, &repo, &[ELE.to_string()]);
            c.retrieve_imaging(&r, "builtin imaging consumer")
                .await
                .map_err(|err| StandInError::NotSent(err.to_string()))
        }
        other => Err(StandInError::Unknown(other.to_string())),
    }
}

/// What the stand-in Document Consumer across communities leaves out (faults of the reference).
#[derive(Debug, Clone, Copy, Default)]
pub struct AcrossFaults {
    /// Its GetDocuments names no `home`.
    pub drops_home: bool,
    /// Its Retrieve Document Set names no HomeCommunityId.
    pub retrieve_no_home: bool,
}

/// Play the Document Consumer across communities with client `c`, bound to an Initiating
/// Gateway (its registry is the gateway's ITI-18 endpoint, its repository the ITI-43 one): find
/// the patient's manifests, ask for the asked manifest by uniqueId naming the `home` its entry
/// came with (ITI TF-2 §3.18.4.1.2.3.8), then retrieve it with that HomeCommunityId
/// (§3.43.4.1.2). Returns its exchanges in the order sent.
pub async fn play_xca_consumer(
    c: &XdsClient,
    asked: &XdsAsked<'_>,
    faults: AcrossFaults,
) -> Result<Vec<Exchange>, StandInError> {
    let cfg = &c.cfg;
    let k = asked.manifest;
    let operation = "builtin document consumer across communities";
    let find = AdhocQueryRequest::find_documents(
        &cfg.patient_cx(asked.query_patient),
        &[e::STATUS_APPROVED],
        &[(e::KOS_FORMAT_CODE, e::KOS_FORMAT_CODING_SCHEME)],
        "LeafClass",
    );
    let found = c
        .stored_query(&find, operation)
        .await
        .map_err(|err| StandInError::NotSent(err.to_string()))?;
    let entry = crate::checks::soap_message::SutMessage::of(&found)
        .ok()
        .and_then(|m| m.message().ok())
        .and_then(|m| match m {
            e::Message::AdhocQueryResponse(r) => r
                .objects
                .extrinsic_objects
                .iter()
                .map(|eo| eo.document_entry())
                .find(|d| d.unique_id.as_deref().map(str::trim) == Some(k.sop_uid.as_str())),
            _ => None,
        });
    let home = entry
        .as_ref()
        .and_then(|d| d.home_community_id.clone())
        .filter(|h| !h.trim().is_empty());
    let repository = entry
        .as_ref()
        .and_then(|d| d.repository_unique_id.clone())
        .unwrap_or_else(|| cfg.repository_unique_id.clone());
    let mut get = AdhocQueryRequest::get_documents_by_unique_id(&[&k.sop_uid], "LeafClass");
    get.home = home.clone().filter(|_| !faults.drops_home);
    let got = c
        .stored_query(&get, operation)
        .await
        .map_err(|err| StandInError::NotSent(err.to_string()))?;
    let mut request = doc_request(&repository, &k.sop_uid);
    request.home_community_id = home.filter(|_| !faults.retrieve_no_home);
    let r = RetrieveDocumentSetRequest {
        documents: vec![request],
    };
    let retrieved = c
        .retrieve_documents(&r, operation)
        .await
        .map_err(|err| StandInError::NotSent(err.to_string()))?;
    Ok(vec![found, got, retrieved])
}
