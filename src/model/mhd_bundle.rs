//! ITI-65 Provide Document Bundle builder (IHE ITI TF-2 3.65.4.1.2; MHD 4.2.x, standards.md §9.3).
//!
//! [`build_provide_bundle`] turns a [`ProvideSpec`] into a deterministic FHIR R4 `transaction`
//! Bundle: the SubmissionSet List, one DocumentReference and one Binary per document (all POST,
//! `urn:uuid:` fullUrls), and, for a replacement, the PATCH that supersedes the old
//! DocumentReference. `attachment.size` and `attachment.hash` (SHA-1, base64) are computed from
//! the bytes. With `comprehensive`, the elements of the Comprehensive profiles are added (contained
//! author and sourcePatientInfo, securityLabel, facilityType, practiceSetting, designationType).

use base64::Engine;
use serde_json::{json, Value};

use super::fhir::{CodeableConcept, Coding, Extension, Identifier, RFC3986};

/// Canonical URL prefix of the MHD StructureDefinitions.
pub const MHD_SD: &str = "https://profiles.ihe.net/ITI/MHD/StructureDefinition/";
/// Minimal ProvideBundle profile.
pub const PROFILE_MINIMAL: &str =
    "https://profiles.ihe.net/ITI/MHD/StructureDefinition/IHE.MHD.Minimal.ProvideBundle";
/// Comprehensive ProvideBundle profile.
pub const PROFILE_COMPREHENSIVE: &str =
    "https://profiles.ihe.net/ITI/MHD/StructureDefinition/IHE.MHD.Comprehensive.ProvideBundle";
/// UnContained Comprehensive ProvideBundle profile.
pub const PROFILE_UNCONTAINED: &str = "https://profiles.ihe.net/ITI/MHD/StructureDefinition/IHE.MHD.UnContained.Comprehensive.ProvideBundle";
/// The MHD list type code system.
pub const MHD_LIST_TYPES: &str = "https://profiles.ihe.net/ITI/MHD/CodeSystem/MHDlistTypes";
/// The MHD identifier type code system (`entryUUID`, `uniqueId`).
pub const MHD_IDENTIFIER_TYPE: &str =
    "https://profiles.ihe.net/ITI/MHD/CodeSystem/IHE.MHD.MHDIdentifierType";
/// The sourceId extension.
pub const EXT_SOURCE_ID: &str = "https://profiles.ihe.net/ITI/MHD/StructureDefinition/ihe-sourceId";
/// The designationType extension.
pub const EXT_DESIGNATION_TYPE: &str =
    "https://profiles.ihe.net/ITI/MHD/StructureDefinition/ihe-designationType";
/// The R5 DocumentReference.modality extension used by MADO.
pub const EXT_MODALITY: &str =
    "http://hl7.org/fhir/5.0/StructureDefinition/extension-DocumentReference.modality";
/// The R5 DocumentReference.bodySite extension used by MADO.
pub const EXT_BODY_SITE: &str =
    "http://hl7.org/fhir/5.0/StructureDefinition/extension-DocumentReference.bodySite";
/// HL7 v3 Confidentiality code system.
pub const CONFIDENTIALITY: &str = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality";

/// One document of a Provide Document Bundle.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DocumentSpec {
    /// The document's bytes (Binary.data).
    pub bytes: Vec<u8>,
    /// MIME type (`application/dicom`).
    pub content_type: String,
    /// formatCode.
    pub format: Coding,
    /// typeCode.
    pub type_: CodeableConcept,
    /// classCode.
    pub category: CodeableConcept,
    /// uniqueId, `urn:oid:…`.
    pub master_identifier: String,
    /// entryUUID (`urn:uuid:…`); derived from the uniqueId when empty.
    pub entry_uuid: String,
    /// fullUrl of the Binary (`urn:uuid:…`); derived from the uniqueId when empty.
    pub binary_uuid: String,
    /// referenceIdList (`context.related` identifiers), e.g. the Study Instance UID.
    pub related: Vec<Identifier>,
    /// Extensions (MADO modality, bodySite).
    pub extensions: Vec<Extension>,
    /// `context.period.start`.
    pub period_start: Option<String>,
    /// `attachment.language`.
    pub language: String,
    /// `attachment.creation`.
    pub creation: String,
    /// `attachment.title`.
    pub title: Option<String>,
    /// `relatesTo`: (code, target reference, e.g. `DocumentReference/123`). A `replaces` also
    /// adds the PATCH superseding the target (ITI TF-2 3.65.4.1.2.3).
    pub relates_to: Option<(String, String)>,
    /// securityLabel (Comprehensive; `N` when None).
    pub security_label: Option<CodeableConcept>,
    /// `context.facilityType` (Comprehensive; a default when None).
    pub facility_type: Option<CodeableConcept>,
    /// `context.practiceSetting` (Comprehensive; a default when None).
    pub practice_setting: Option<CodeableConcept>,
    /// `context.event` codes.
    pub event: Vec<CodeableConcept>,
}

/// What to provide in one ITI-65 transaction.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProvideSpec {
    /// The patient: a literal reference (`Patient/123`, an absolute URL) or an identifier as
    /// `system|value`.
    pub patient: String,
    /// Claim and fill the Comprehensive Metadata profiles.
    pub comprehensive: bool,
    /// SubmissionSet uniqueId, `urn:oid:…`.
    pub submission_set_unique_id: String,
    /// SubmissionSet entryUUID and List fullUrl (`urn:uuid:…`); derived when empty.
    pub submission_set_entry_uuid: String,
    /// sourceId, `urn:oid:…`.
    pub source_id: String,
    /// SubmissionSet date (dateTime).
    pub date: String,
    /// designationType (Comprehensive; the first document's type when None).
    pub designation_type: Option<CodeableConcept>,
    /// The documents.
    pub documents: Vec<DocumentSpec>,
}

/// SHA-1 of the bytes, base64 (the FHIR `Attachment.hash`).
pub fn sha1_base64(bytes: &[u8]) -> String {
    let d = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, bytes);
    base64::engine::general_purpose::STANDARD.encode(d.as_ref())
}

/// A deterministic `urn:uuid:` (name-based, SHA-1, RFC 4122 version 5 layout) from a seed.
pub fn uuid_from(seed: &str) -> String {
    let d = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, seed.as_bytes());
    let mut b = [0u8; 16];
    for (i, x) in d.as_ref().iter().take(16).enumerate() {
        b[i] = *x;
    }
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "urn:uuid:{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// The `subject` Reference for a patient given as a reference or as `system|value`.
pub fn patient_reference(patient: &str) -> Value {
    match patient.split_once('|') {
        Some((system, value)) if !patient.contains('/') || patient.starts_with("urn:") => {
            json!({"identifier": {"system": system, "value": value}})
        }
        _ => json!({"reference": patient}),
    }
}

fn id_type(code: &str) -> Value {
    json!({"coding": [{"system": MHD_IDENTIFIER_TYPE, "code": code}]})
}

fn cc(c: &CodeableConcept) -> Value {
    serde_json::to_value(c).unwrap_or(Value::Null)
}

fn or_uuid(given: &str, seed: &str) -> String {
    if given.is_empty() {
        uuid_from(seed)
    } else {
        given.to_string()
    }
}

/// Build the ITI-65 `transaction` Bundle for `spec` (deterministic: the same spec gives the same
/// Bundle).
pub fn build_provide_bundle(spec: &ProvideSpec) -> Value {
    let subject = patient_reference(&spec.patient);
    let ss_uuid = or_uuid(
        &spec.submission_set_entry_uuid,
        &format!("ss:{}", spec.submission_set_unique_id),
    );
    let mut entries = Vec::new();
    let mut doc_entries = Vec::new();
    let mut items = Vec::new();
    let mut patches = Vec::new();
    for d in &spec.documents {
        let dr_uuid = or_uuid(&d.entry_uuid, &format!("dr:{}", d.master_identifier));
        let bin_uuid = or_uuid(&d.binary_uuid, &format!("bin:{}", d.master_identifier));
        items.push(json!({"item": {"reference": dr_uuid}}));
        let mut attachment = json!({
            "contentType": d.content_type,
            "url": bin_uuid,
            "size": d.bytes.len(),
            "hash": sha1_base64(&d.bytes),
        });
        if !d.language.is_empty() {
            attachment["language"] = json!(d.language);
        }
        if let Some(t) = &d.title {
            attachment["title"] = json!(t);
        }
        if !d.creation.is_empty() {
            attachment["creation"] = json!(d.creation);
        }
        let mut dr = serde_json::Map::new();
        dr.insert("resourceType".into(), json!("DocumentReference"));
        let profile = if spec.comprehensive {
            "IHE.MHD.Comprehensive.DocumentReference"
        } else {
            "IHE.MHD.Minimal.DocumentReference"
        };
        dr.insert(
            "meta".into(),
            json!({"profile": [format!("{MHD_SD}{profile}")]}),
        );
        if spec.comprehensive {
            dr.insert(
                "contained".into(),
                json!([
                    {"resourceType": "Practitioner", "id": "author",
                     "name": [{"family": "Harness", "given": ["IHE"]}]},
                    {"resourceType": "Patient", "id": "sourcePatientInfo",
                     "identifier": [source_patient_identifier(&spec.patient)]}
                ]),
            );
        }
        if !d.extensions.is_empty() {
            dr.insert(
                "extension".into(),
                serde_json::to_value(&d.extensions).unwrap_or(json!([])),
            );
        }
        dr.insert(
            "masterIdentifier".into(),
            json!({"system": RFC3986, "value": d.master_identifier}),
        );
        dr.insert(
            "identifier".into(),
            json!([
                {"use": "official", "type": id_type("entryUUID"), "system": RFC3986, "value": dr_uuid},
                {"use": "usual", "type": id_type("uniqueId"), "system": RFC3986, "value": d.master_identifier}
            ]),
        );
        dr.insert("status".into(), json!("current"));
        if !d.type_.coding.is_empty() || d.type_.text.is_some() {
            dr.insert("type".into(), cc(&d.type_));
        }
        if !d.category.coding.is_empty() || d.category.text.is_some() {
            dr.insert("category".into(), json!([cc(&d.category)]));
        }
        dr.insert("subject".into(), subject.clone());
        if spec.comprehensive {
            dr.insert("author".into(), json!([{"reference": "#author"}]));
        }
        if let Some((code, target)) = &d.relates_to {
            dr.insert(
                "relatesTo".into(),
                json!([{"code": code, "target": {"reference": target}}]),
            );
            if code == "replaces" {
                patches.push(target.clone());
            }
        }
        if spec.comprehensive {
            let sl = d
                .security_label
                .clone()
                .unwrap_or_else(|| CodeableConcept::code(CONFIDENTIALITY, "N", "normal"));
            dr.insert("securityLabel".into(), json!([cc(&sl)]));
        }
        let mut content = json!({"attachment": attachment});
        if d.format.code.is_some() {
            content["format"] = serde_json::to_value(&d.format).unwrap_or(Value::Null);
        }
        dr.insert("content".into(), json!([content]));
        let mut context = serde_json::Map::new();
        if !d.event.is_empty() {
            context.insert(
                "event".into(),
                Value::Array(d.event.iter().map(cc).collect()),
            );
        }
        if let Some(start) = &d.period_start {
            context.insert("period".into(), json!({"start": start}));
        }
        if spec.comprehensive {
            let ft = d.facility_type.clone().unwrap_or_else(|| {
                CodeableConcept::code(super::fhir::SNOMED, "22232009", "Hospital")
            });
            let ps = d.practice_setting.clone().unwrap_or_else(|| {
                CodeableConcept::code(super::fhir::SNOMED, "394914008", "Radiology")
            });
            context.insert("facilityType".into(), cc(&ft));
            context.insert("practiceSetting".into(), cc(&ps));
            context.insert(
                "sourcePatientInfo".into(),
                json!({"reference": "#sourcePatientInfo"}),
            );
        } else {
            if let Some(ft) = &d.facility_type {
                context.insert("facilityType".into(), cc(ft));
            }
            if let Some(ps) = &d.practice_setting {
                context.insert("practiceSetting".into(), cc(ps));
            }
        }
        if !d.related.is_empty() {
            let rel: Vec<Value> = d
                .related
                .iter()
                .map(|i| json!({"identifier": serde_json::to_value(i).unwrap_or(Value::Null)}))
                .collect();
            context.insert("related".into(), Value::Array(rel));
        }
        if !context.is_empty() {
            dr.insert("context".into(), Value::Object(context));
        }
        doc_entries.push(json!({
            "fullUrl": dr_uuid,
            "resource": Value::Object(dr),
            "request": {"method": "POST", "url": "DocumentReference"}
        }));
        doc_entries.push(json!({
            "fullUrl": bin_uuid,
            "resource": {
                "resourceType": "Binary",
                "contentType": d.content_type,
                "data": base64::engine::general_purpose::STANDARD.encode(&d.bytes)
            },
            "request": {"method": "POST", "url": "Binary"}
        }));
    }
    // SubmissionSet.
    let ss_profile = if spec.comprehensive {
        "IHE.MHD.Comprehensive.SubmissionSet"
    } else {
        "IHE.MHD.Minimal.SubmissionSet"
    };
    let mut extension = vec![json!({
        "url": EXT_SOURCE_ID,
        "valueIdentifier": {"value": spec.source_id}
    })];
    if spec.comprehensive {
        let dt = spec
            .designation_type
            .clone()
            .or_else(|| spec.documents.first().map(|d| d.type_.clone()))
            .unwrap_or_default();
        extension.insert(
            0,
            json!({"url": EXT_DESIGNATION_TYPE, "valueCodeableConcept": cc(&dt)}),
        );
    }
    let mut list = json!({
        "resourceType": "List",
        "meta": {"profile": [format!("{MHD_SD}{ss_profile}")]},
        "extension": extension,
        "identifier": [
            {"use": "official", "type": id_type("entryUUID"), "system": RFC3986, "value": ss_uuid},
            {"use": "usual", "type": id_type("uniqueId"), "system": RFC3986, "value": spec.submission_set_unique_id}
        ],
        "status": "current",
        "mode": "working",
        "code": {"coding": [{"system": MHD_LIST_TYPES, "code": "submissionset"}]},
        "subject": subject,
        "date": spec.date,
        "entry": items,
    });
    if spec.comprehensive {
        if let Some(o) = list.as_object_mut() {
            o.insert(
                "contained".into(),
                json!([{"resourceType": "Practitioner", "id": "author",
                        "name": [{"family": "Harness", "given": ["IHE"]}]}]),
            );
            o.insert("source".into(), json!({"reference": "#author"}));
        }
    }
    entries.push(json!({
        "fullUrl": ss_uuid,
        "resource": list,
        "request": {"method": "POST", "url": "List"}
    }));
    for target in patches {
        entries.push(json!({
            "fullUrl": uuid_from(&format!("patch:{target}")),
            "resource": {
                "resourceType": "Parameters",
                "parameter": [{
                    "name": "operation",
                    "part": [
                        {"name": "type", "valueCode": "replace"},
                        {"name": "path", "valueString": "DocumentReference.status"},
                        {"name": "value", "valueCode": "superseded"}
                    ]
                }]
            },
            "request": {"method": "PATCH", "url": target}
        }));
    }
    entries.extend(doc_entries);
    let profile = if spec.comprehensive {
        PROFILE_COMPREHENSIVE
    } else {
        PROFILE_MINIMAL
    };
    json!({
        "resourceType": "Bundle",
        "meta": {"profile": [profile]},
        "type": "transaction",
        "timestamp": spec.date,
        "entry": entries,
    })
}

fn source_patient_identifier(patient: &str) -> Value {
    match patient.split_once('|') {
        Some((system, value)) => json!({"system": system, "value": value}),
        None => json!({"value": patient.rsplit('/').next().unwrap_or(patient)}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn spec(comprehensive: bool) -> ProvideSpec {
        ProvideSpec {
            patient: "Patient/123".into(),
            comprehensive,
            submission_set_unique_id: "urn:oid:1.2.3.4.5".into(),
            source_id: "urn:oid:1.2.3".into(),
            date: "2026-01-02T03:04:05Z".into(),
            documents: vec![DocumentSpec {
                bytes: b"hello".to_vec(),
                content_type: "application/dicom".into(),
                master_identifier: "urn:oid:1.2.3.4.6".into(),
                language: "en".into(),
                creation: "2026-01-02T03:04:05Z".into(),
                ..DocumentSpec::default()
            }],
            ..ProvideSpec::default()
        }
    }

    #[test]
    fn deterministic_with_hash_and_size() {
        let a = build_provide_bundle(&spec(false));
        let b = build_provide_bundle(&spec(false));
        assert_eq!(a, b);
        assert_eq!(a["type"], "transaction");
        assert_eq!(a["meta"]["profile"][0], PROFILE_MINIMAL);
        let att = &a["entry"][1]["resource"]["content"][0]["attachment"];
        assert_eq!(att["size"], 5);
        assert_eq!(att["hash"], "qvTGHdzF6KLavt4PO0gs2a6pQ00=");
        assert_eq!(att["url"], a["entry"][2]["fullUrl"]);
        assert!(uuid_from("x").starts_with("urn:uuid:"));
        assert_eq!(uuid_from("x").len(), 45);
    }

    #[test]
    fn replace_adds_patch() {
        let mut s = spec(true);
        s.documents[0].relates_to = Some(("replaces".into(), "DocumentReference/old".into()));
        let b = build_provide_bundle(&s);
        assert_eq!(b["entry"][1]["request"]["method"], "PATCH");
        assert_eq!(b["meta"]["profile"][0], PROFILE_COMPREHENSIVE);
    }
}
