//! The MHD stand-ins: a Document Source publishing a manifest (ITI-65), a Document Consumer
//! searching for the patient's submission sets (ITI-66) or documents (ITI-67). Each request
//! carries an `X-Request-Id` header that marks it among concurrent ones.

use bytes::Bytes;

use super::StandInError;
use crate::actors::mhd::{form_body, CONSUMER, SOURCE};
use crate::model::fhir::FHIR_JSON;
use crate::model::fixtures::mhd as mhd_content;
use crate::model::mhd_bundle::{build_provide_bundle, DocumentSpec, ProvideSpec, MHD_LIST_TYPES};
use crate::transaction::Transaction;
use crate::transport::factory::{http_client, HttpSettings};
use crate::transport::http::{Meta, Request};

/// The stand-in that publishes a document (it needs [`MhdAsked::document`]).
pub const SOURCE_PROVIDES_BUNDLE: &str = "source_provides_bundle";

/// What an MHD stand-in is asked about.
#[derive(Debug, Clone)]
pub struct MhdAsked<'a> {
    /// The `X-Request-Id` of the stand-in's request.
    pub marker: &'a str,
    /// The patient identifier (value) a consumer searches for or a source publishes for.
    pub patient: &'a str,
    /// The system of the patient identifier.
    pub patient_system: &'a str,
    /// For [`SOURCE_PROVIDES_BUNDLE`]: the document with fresh identifiers and the uniqueId of
    /// its submission set.
    pub document: Option<(DocumentSpec, String)>,
}

/// Play the MHD stand-in `name` against the Document Recipient/Responder at `base`.
pub async fn play_mhd(name: &str, base: &str, asked: MhdAsked<'_>) -> Result<(), StandInError> {
    let http = http_client(&HttpSettings::new(
        crate::config::Auth::None,
        crate::config::Timeouts::default(),
    ))
    .map_err(|e| StandInError::NotSent(e.to_string()))?;
    let meta = |transaction: Transaction, actor: &'static str| Meta {
        transaction,
        operation: "built-in stand-in for the SUT".into(),
        actor,
    };
    let base = base.trim_end_matches('/');
    let marker = asked.marker.to_string();
    let patient = asked.patient;
    let patient_param = (
        "patient.identifier".to_string(),
        format!("{}|{patient}", asked.patient_system),
    );
    match name {
        SOURCE_PROVIDES_BUNDLE => {
            let Some((doc, submission_uid)) = asked.document else {
                return Err(StandInError::NotSent("no document to publish".into()));
            };
            let spec = ProvideSpec {
                patient: format!("Patient/{}", mhd_content::patient_id(patient)),
                submission_set_unique_id: format!("urn:oid:{submission_uid}"),
                source_id: format!("urn:oid:{}", crate::config::xds::DEFAULT_SOURCE_ID),
                date: doc.creation.clone(),
                documents: vec![doc],
                ..ProvideSpec::default()
            };
            let bundle = build_provide_bundle(&spec);
            let req = Request {
                method: reqwest::Method::POST,
                url: base.to_string(),
                headers: vec![
                    ("Content-Type".into(), FHIR_JSON.into()),
                    ("X-Request-Id".into(), marker),
                ],
                body: Bytes::from(serde_json::to_vec(&bundle).unwrap_or_default()),
            };
            let _ = http.exchange(meta(Transaction::Iti65, SOURCE), req).await;
        }
        "consumer_finds_lists" => {
            let params = vec![
                patient_param,
                (
                    "code".to_string(),
                    format!("{MHD_LIST_TYPES}|submissionset"),
                ),
                ("status".to_string(), "current".to_string()),
            ];
            let mut req = Request::get(
                format!("{base}/List?{}", form_body(&params)),
                Some(FHIR_JSON),
            );
            req.headers.push(("X-Request-Id".into(), marker));
            let _ = http.exchange(meta(Transaction::Iti66, CONSUMER), req).await;
        }
        "consumer_finds_documents" => {
            let params = vec![patient_param, ("status".into(), "current".into())];
            let mut req = Request::get(
                format!("{base}/DocumentReference?{}", form_body(&params)),
                Some(FHIR_JSON),
            );
            req.headers.push(("X-Request-Id".into(), marker));
            let _ = http.exchange(meta(Transaction::Iti67, CONSUMER), req).await;
        }
        other => return Err(StandInError::NoSuchStandIn(other.to_string())),
    }
    Ok(())
}
