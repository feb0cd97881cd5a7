//! What the reference MHD Document Responder holds at start: for each fixture study, the
//! documents the eHN use cases need, published as MHD DocumentReferences with their Binaries and
//! one SubmissionSet List per study.
//!
//! | study | published |
//! |---|---|
//! | CT-CHEST | MADO KOS manifest, its FHIR manifest twin, final report |
//! | MR-BRAIN | MADO KOS manifest, FHIR manifest, preliminary report (superseded) and final report |
//! | DX-CHEST | final report only (report-only access, UC5) |
//! | US-ABDOMEN | MADO KOS manifest only (no FHIR twin: a FHIR `Accept` is answered 406), final report |
//!
//! The DocumentReferences follow the MADO envelope (`MadoDicomKosDocumentReference`,
//! `MadoFhirDocumentReference`; standards: IHE RAD MADO, MHD-documentreference) and the HL7 Europe
//! report `MhdDocumentReference` (type LOINC 85430-7, category Medical-Imaging).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use base64::Engine;
use bytes::Bytes;
use serde_json::{json, Value};

use super::search::{BODY_SITE_EXT, MODALITY_EXT};
use super::MhdStore;
use crate::config::xds::{DEFAULT_IMAGING_SOURCE_ID, DEFAULT_PATIENT_AUTHORITY};
use crate::model::fhir::{DCMUID_SYSTEM, DCM_SYSTEM, LOINC, SNOMED};
use crate::model::fixtures::{FixtureStudy, Fixtures};
use crate::model::{imaging_report, kos, mado};
use crate::reference::faults::Fault;

/// The patient identifier system of the reference's affinity domain.
pub fn patient_system() -> String {
    format!("urn:oid:{DEFAULT_PATIENT_AUTHORITY}")
}

/// The accession number issuer of the fixture studies.
pub const ACCESSION_SYSTEM: &str = "urn:oid:1.3.6.1.4.1.21367.13.20.2000";
/// The eEHRxF priority category code system.
pub const PRIORITY_CATEGORY: &str =
    "http://hl7.eu/fhir/eu-health-data-api/CodeSystem/eehrxf-document-priority-category-cs";
/// LOINC code of a diagnostic imaging study (manifest DocumentReference type).
pub const MANIFEST_TYPE: &str = "18748-4";
/// LOINC code of a diagnostic imaging report.
pub const REPORT_TYPE: &str = "85430-7";
/// Media type of a DICOM manifest.
pub const DICOM: &str = "application/dicom";
/// The MADO FHIR manifest format code.
pub const MADO_FHIR_FORMAT: &str = "urn:ihe:rad:MADO:fhir-manifest:2026";

/// What each fixture study publishes.
#[derive(Debug, Clone, Copy)]
struct Publish {
    kos: bool,
    fhir: bool,
    preliminary_report: bool,
    report: bool,
}

fn publish(alias: &str) -> Publish {
    match alias {
        "CT-CHEST" => Publish {
            kos: true,
            fhir: true,
            preliminary_report: false,
            report: true,
        },
        "MR-BRAIN" => Publish {
            kos: true,
            fhir: true,
            preliminary_report: true,
            report: true,
        },
        "DX-CHEST" => Publish {
            kos: false,
            fhir: false,
            preliminary_report: false,
            report: true,
        },
        _ => Publish {
            kos: true,
            fhir: false,
            preliminary_report: false,
            report: true,
        },
    }
}

/// The id stem of a study (`ct-chest`).
pub fn stem(alias: &str) -> String {
    alias.to_ascii_lowercase()
}

/// The Patient resource id of a fixture patient.
pub fn patient_id(patient: &str) -> String {
    patient.to_ascii_lowercase()
}

/// DocumentReference ids of a study's documents.
pub fn kos_docref_id(alias: &str) -> String {
    format!("kos-{}", stem(alias))
}
/// The FHIR manifest DocumentReference id.
pub fn fhir_docref_id(alias: &str) -> String {
    format!("fhirm-{}", stem(alias))
}
/// The (final) report DocumentReference id.
pub fn report_docref_id(alias: &str) -> String {
    format!("report-{}", stem(alias))
}
/// The superseded preliminary report DocumentReference id.
pub fn preliminary_docref_id(alias: &str) -> String {
    format!("report-{}-prelim", stem(alias))
}

/// MADO options the reference uses for a study.
pub fn mado_options() -> mado::MadoOptions {
    mado::MadoOptions {
        retrieve_location_uid: DEFAULT_IMAGING_SOURCE_ID.into(),
        issuer_of_patient_id: DEFAULT_PATIENT_AUTHORITY.into(),
        ..mado::MadoOptions::default()
    }
}

/// One published document: its DocumentReference (ids relative, `attachment.url` =
/// `Binary/{id}`) and its bytes.
#[derive(Debug, Clone)]
pub struct PublishedDoc {
    /// Fixture study alias.
    pub alias: String,
    /// `kos`, `fhir`, `report` or `preliminary-report`.
    pub kind: &'static str,
    /// The DocumentReference.
    pub docref: Value,
    /// Media type of the document.
    pub content_type: String,
    /// The document.
    pub bytes: Bytes,
}

impl PublishedDoc {
    /// The DocumentReference id.
    pub fn id(&self) -> &str {
        self.docref.get("id").and_then(Value::as_str).unwrap_or("")
    }

    /// `masterIdentifier.value`.
    pub fn master_identifier(&self) -> &str {
        self.docref
            .pointer("/masterIdentifier/value")
            .and_then(Value::as_str)
            .unwrap_or("")
    }

    /// `status`.
    pub fn status(&self) -> &str {
        self.docref
            .get("status")
            .and_then(Value::as_str)
            .unwrap_or("")
    }
}

/// What the reference publishes: Patients, documents and one SubmissionSet per study.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    /// Patient resources.
    pub patients: Vec<Value>,
    /// Documents, study by study.
    pub docs: Vec<PublishedDoc>,
    /// SubmissionSet Lists.
    pub submission_sets: Vec<Value>,
}

impl Catalogue {
    /// The Patient resource of fixture patient `patient_id`.
    pub fn patient(&self, patient_id: &str) -> Option<&Value> {
        self.patients
            .iter()
            .find(|p| p.pointer("/identifier/0/value").and_then(Value::as_str) == Some(patient_id))
    }

    /// The identifiers of the Patient a `Patient/{id}` reference names.
    pub fn patient_identifiers(&self, reference: &str) -> Vec<crate::model::fhir::Identifier> {
        let id = reference.rsplit('/').next().unwrap_or(reference);
        self.patients
            .iter()
            .find(|p| p.get("id").and_then(Value::as_str) == Some(id))
            .and_then(|p| p.get("identifier").cloned())
            .and_then(|i| serde_json::from_value(i).ok())
            .unwrap_or_default()
    }

    /// The documents whose DocumentReference matches ITI-67 `params`.
    pub fn matching(&self, params: &[(String, String)]) -> Vec<&PublishedDoc> {
        let ids = |r: &str| self.patient_identifiers(r);
        self.docs
            .iter()
            .filter(|d| super::search::document_reference_matches(&d.docref, params, &ids))
            .collect()
    }

    /// The document of `kind` of study `alias`.
    pub fn doc(&self, alias: &str, kind: &str) -> Option<&PublishedDoc> {
        self.docs
            .iter()
            .find(|d| d.alias == alias && d.kind == kind)
    }
}

/// Build the catalogue from the fixtures, with the reference's faults applied.
pub fn catalogue(fixtures: &Fixtures, faults: &BTreeSet<Fault>) -> Catalogue {
    let mut c = Catalogue::default();
    let mut patients = BTreeSet::new();
    for study in fixtures.studies() {
        if let Some(first) = study.instances.first() {
            if patients.insert(first.patient_id.clone()) {
                c.patients
                    .push(patient(&first.patient_id, first.patient_name.as_deref()));
            }
        }
        publish_study(&mut c, &fixtures.dir, &study, faults);
    }
    c
}

/// Load the fixtures and build the store.
pub fn preload(dir: &Path, faults: &BTreeSet<Fault>) -> MhdStore {
    let store = MhdStore::default();
    let Ok(fixtures) = Fixtures::load(dir) else {
        return store;
    };
    let c = catalogue(&fixtures, faults);
    for p in c.patients {
        store.put(p);
    }
    for d in c.docs {
        store.put_binary(d.id(), &d.content_type, d.bytes.clone());
        store.put(d.docref);
    }
    for l in c.submission_sets {
        store.put(l);
    }
    store
}

fn patient(id: &str, name: Option<&str>) -> Value {
    let mut parts = name.unwrap_or("").split('^');
    let family = parts.next().unwrap_or("").to_string();
    let given: Vec<String> = parts
        .next()
        .into_iter()
        .filter(|g| !g.is_empty())
        .map(str::to_string)
        .collect();
    json!({
        "resourceType": "Patient",
        "id": patient_id(id),
        "identifier": [{"system": patient_system(), "value": id}],
        "name": [{"family": family, "given": given}]
    })
}

fn modalities(study: &FixtureStudy<'_>) -> Vec<String> {
    let mut m: Vec<String> = study
        .instances
        .iter()
        .filter(|i| !i.kos)
        .map(|i| i.modality.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    m.sort();
    m
}

fn related(study_uid: &str, accession: Option<&str>) -> Value {
    let mut r = vec![json!({"identifier": {
        "type": {"coding": [{"system": DCM_SYSTEM, "code": "110180", "display": "Study Instance UID"}]},
        "system": "urn:dicom:uid",
        "value": format!("urn:oid:{study_uid}")
    }})];
    if let Some(acc) = accession {
        r.push(json!({"identifier": {
            "type": {"coding": [
                {"system": DCM_SYSTEM, "code": "121022", "display": "Accession Number"},
                {"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "ACSN", "display": "Accession ID"}
            ]},
            "system": ACCESSION_SYSTEM,
            "value": acc
        }}));
    }
    Value::Array(r)
}

struct DocSpec<'a> {
    id: String,
    master: String,
    status: &'a str,
    type_code: (&'a str, &'a str),
    content_type: &'a str,
    format: Value,
    bytes: &'a [u8],
    period_start: String,
    relates_to: Option<(&'a str, String)>,
    imaging: bool,
}

fn docref(study: &FixtureStudy<'_>, spec: &DocSpec<'_>) -> Value {
    let first = study.instances.first();
    let patient = first.map(|i| i.patient_id.clone()).unwrap_or_default();
    let accession = first.and_then(|i| i.accession.clone());
    let region = Some(mado::target_region(study.alias));
    let mut extension = Vec::new();
    if spec.imaging {
        extension.push(json!({
            "url": MODALITY_EXT,
            "valueCodeableConcept": {"coding": modalities(study).iter().map(|m| json!({"system": DCM_SYSTEM, "code": m})).collect::<Vec<_>>()}
        }));
        if let Some((code, display)) = region {
            extension.push(json!({
                "url": BODY_SITE_EXT,
                "extension": [{"url": "concept", "valueCodeableConcept": {"coding": [{"system": SNOMED, "code": code, "display": display}]}}]
            }));
        }
    }
    let mut d = json!({
        "resourceType": "DocumentReference",
        "id": spec.id,
        "masterIdentifier": {"system": "urn:ietf:rfc:3986", "value": spec.master},
        "identifier": [
            {"use": "official", "system": "urn:ietf:rfc:3986", "value": spec.master}
        ],
        "status": spec.status,
        "type": {"coding": [{"system": LOINC, "code": spec.type_code.0, "display": spec.type_code.1}]},
        "category": [{"coding": [{"system": PRIORITY_CATEGORY, "code": "Medical-Imaging", "display": "Medical-Imaging"}]}],
        "subject": {"reference": format!("Patient/{}", patient_id(&patient))},
        "date": spec.period_start,
        "securityLabel": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "N"}]}],
        "content": [{
            "attachment": {
                "contentType": spec.content_type,
                "language": "en",
                "url": format!("Binary/{}", spec.id),
                "size": spec.bytes.len(),
                "hash": crate::model::mhd_bundle::sha1_base64(spec.bytes),
                "creation": spec.period_start
            },
            "format": spec.format
        }],
        "context": {
            "period": {"start": spec.period_start, "end": spec.period_start},
            "facilityType": {"coding": [{"system": SNOMED, "code": "22232009", "display": "Hospital"}]},
            "practiceSetting": {"coding": [{"system": SNOMED, "code": "394914008", "display": "Radiology"}]},
            "related": related(study.uid, accession.as_deref())
        }
    });
    if !extension.is_empty() {
        d["extension"] = Value::Array(extension);
    }
    if let Some((code, target)) = &spec.relates_to {
        d["relatesTo"] =
            json!([{"code": code, "target": {"reference": format!("DocumentReference/{target}")}}]);
    }
    d
}

fn submission_set(study: &FixtureStudy<'_>, items: &[String], date: &str) -> Value {
    let patient = study
        .instances
        .first()
        .map(|i| i.patient_id.clone())
        .unwrap_or_default();
    json!({
        "resourceType": "List",
        "id": format!("ss-{}", stem(study.alias)),
        "meta": {"profile": ["https://profiles.ihe.net/ITI/MHD/StructureDefinition/IHE.MHD.Minimal.SubmissionSet"]},
        "extension": [{
            "url": "https://profiles.ihe.net/ITI/MHD/StructureDefinition/ihe-sourceId",
            "valueIdentifier": {"value": format!("urn:oid:{}", crate::config::xds::DEFAULT_SOURCE_ID)}
        }],
        "identifier": [
            {"use": "usual", "system": "urn:ietf:rfc:3986", "value": format!("urn:oid:{}.1", kos_uid_root(study.uid))}
        ],
        "status": "current",
        "mode": "working",
        "code": {"coding": [{"system": "https://profiles.ihe.net/ITI/MHD/CodeSystem/MHDlistTypes", "code": "submissionset"}]},
        "subject": {"reference": format!("Patient/{}", patient_id(&patient))},
        "date": date,
        "entry": items.iter().map(|i| json!({"item": {"reference": format!("DocumentReference/{i}")}})).collect::<Vec<_>>()
    })
}

/// A UID root derived from the study UID, for documents the reference mints.
fn kos_uid_root(study_uid: &str) -> String {
    let mut root = format!("{study_uid}.9");
    root.truncate(60);
    root.trim_end_matches('.').to_string()
}

fn publish_study(
    c: &mut Catalogue,
    dir: &Path,
    study: &FixtureStudy<'_>,
    faults: &BTreeSet<Fault>,
) {
    let p = publish(study.alias);
    let date = study
        .instances
        .first()
        .and_then(|i| i.study_date.clone())
        .unwrap_or_else(|| "20260101".into());
    let mut items = Vec::new();
    let opts = mado_options();
    // The MADO manifest describes the study; with the mado-kos-legacy fault the bytes published
    // are the fixture's XDS-I.b manifest instead, under the same DocumentReference.
    let kos_bytes = if p.kos {
        mado::build_mado_kos(study, &opts).ok()
    } else {
        None
    };
    let legacy = faults
        .contains(&Fault::MadoKosLegacy)
        .then(|| {
            study
                .instances
                .iter()
                .find(|i| i.kos)
                .and_then(|i| std::fs::read(dir.join(&i.path)).ok())
        })
        .flatten();
    let manifest = kos_bytes.as_deref().and_then(|b| kos::parse(b).ok());
    // The study date and time as the manifest states them, with its Timezone Offset From UTC.
    let period_start = manifest
        .as_ref()
        .and_then(|m| {
            mado::fhir_datetime(
                m.study.date.as_deref().or(Some(&date)),
                m.study.time.as_deref(),
                m.timezone_offset_from_utc.as_deref(),
            )
        })
        .or_else(|| mado::fhir_datetime(Some(&date), Some("090000"), None))
        .unwrap_or_else(|| date.clone());
    if let (Some(bytes), Some(m)) = (&kos_bytes, &manifest) {
        let sop = m.sop_instance_uid.clone().unwrap_or_default();
        let id = kos_docref_id(study.alias);
        let relates = p.fhir.then(|| ("transforms", fhir_docref_id(study.alias)));
        let d = docref(
            study,
            &DocSpec {
                id: id.clone(),
                master: format!("urn:oid:{sop}"),
                status: "current",
                type_code: (MANIFEST_TYPE, "Diagnostic imaging study"),
                content_type: DICOM,
                format: json!({"system": DCMUID_SYSTEM, "code": kos::KOS_SOP_CLASS, "display": "Key Object Selection Document"}),
                bytes,
                period_start: period_start.clone(),
                relates_to: relates,
                imaging: true,
            },
        );
        c.docs.push(PublishedDoc {
            alias: study.alias.to_string(),
            kind: "kos",
            docref: d,
            content_type: DICOM.into(),
            bytes: Bytes::from(legacy.clone().unwrap_or_else(|| bytes.clone())),
        });
        items.push(id.clone());
        if p.fhir {
            let mut bundle = mado::fhir_manifest(m, &opts);
            if faults.contains(&Fault::MadoFhirMissingInstance) {
                drop_last_instance(&mut bundle);
            }
            let fbytes = serde_json::to_vec_pretty(&bundle).unwrap_or_default();
            let fid = fhir_docref_id(study.alias);
            let d = docref(
                study,
                &DocSpec {
                    id: fid.clone(),
                    master: format!("urn:oid:{}.2", kos_uid_root(study.uid)),
                    status: "current",
                    type_code: (MANIFEST_TYPE, "Diagnostic imaging study"),
                    content_type: crate::model::fhir::FHIR_JSON,
                    format: json!({"system": crate::model::fhir::IHE_FORMATCODE, "code": MADO_FHIR_FORMAT, "display": "MADO FHIR imaging study manifest"}),
                    bytes: &fbytes,
                    period_start: period_start.clone(),
                    relates_to: Some(("transforms", id.clone())),
                    imaging: true,
                },
            );
            c.docs.push(PublishedDoc {
                alias: study.alias.to_string(),
                kind: "fhir",
                docref: d,
                content_type: crate::model::fhir::FHIR_JSON.into(),
                bytes: Bytes::from(fbytes),
            });
            items.push(fid);
        }
    }
    let reports: Vec<(&str, String, &str)> = [
        (
            p.preliminary_report,
            "preliminary",
            preliminary_docref_id(study.alias),
            "superseded",
        ),
        (p.report, "final", report_docref_id(study.alias), "current"),
    ]
    .into_iter()
    .filter(|(on, ..)| *on)
    .map(|(_, status, id, doc_status)| (status, id, doc_status))
    .collect();
    for (status, id, doc_status) in reports {
        let ropts = imaging_report::ReportOptions {
            status: status.into(),
            patient_id_system: patient_system(),
            accession_system: ACCESSION_SYSTEM.into(),
            ..imaging_report::ReportOptions::default()
        };
        let mut bundle = imaging_report::report_for_study(study, &ropts);
        apply_report_faults(&mut bundle, faults);
        let rbytes = serde_json::to_vec_pretty(&bundle).unwrap_or_default();
        let d = docref(
            study,
            &DocSpec {
                id: id.clone(),
                master: format!(
                    "urn:oid:{}.{}",
                    kos_uid_root(study.uid),
                    if status == "final" { 3 } else { 4 }
                ),
                status: doc_status,
                type_code: (REPORT_TYPE, "Diagnostic imaging report"),
                content_type: crate::model::fhir::FHIR_JSON,
                format: json!({"system": "http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/formatcode", "code": "urn:ihe:iti:xds-sd:text:2008", "display": "FHIR document"}),
                bytes: &rbytes,
                period_start: period_start.clone(),
                relates_to: (status == "final" && p.preliminary_report)
                    .then(|| ("replaces", preliminary_docref_id(study.alias))),
                imaging: false,
            },
        );
        c.docs.push(PublishedDoc {
            alias: study.alias.to_string(),
            kind: if status == "final" {
                "report"
            } else {
                "preliminary-report"
            },
            docref: d,
            content_type: crate::model::fhir::FHIR_JSON.into(),
            bytes: Bytes::from(rbytes),
        });
        items.push(id);
    }
    c.submission_sets
        .push(submission_set(study, &items, &period_start));
}

fn drop_last_instance(bundle: &mut Value) {
    let Some(entries) = bundle.get_mut("entry").and_then(Value::as_array_mut) else {
        return;
    };
    for e in entries {
        if e.pointer("/resource/resourceType").and_then(Value::as_str) == Some("ImagingStudy") {
            if let Some(instances) = e
                .pointer_mut("/resource/series/0/instance")
                .and_then(Value::as_array_mut)
            {
                instances.pop();
            }
        }
    }
}

fn rewrite_accession(v: &mut Value) {
    match v {
        Value::Object(o) => {
            if o.get("system").and_then(Value::as_str) == Some(ACCESSION_SYSTEM) {
                o.insert("value".into(), Value::String("ACC99999".into()));
            }
            o.values_mut().for_each(rewrite_accession);
        }
        Value::Array(a) => a.iter_mut().for_each(rewrite_accession),
        _ => {}
    }
}

fn apply_report_faults(bundle: &mut Value, faults: &BTreeSet<Fault>) {
    let Some(entries) = bundle.get_mut("entry").and_then(Value::as_array_mut) else {
        return;
    };
    for e in entries.iter_mut() {
        let rt = e
            .pointer("/resource/resourceType")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let Some(r) = e.get_mut("resource").and_then(Value::as_object_mut) else {
            continue;
        };
        if faults.contains(&Fault::ReportNoImpression) {
            if rt == "DiagnosticReport" {
                r.remove("conclusion");
                r.remove("conclusionCode");
            }
            if rt == "Composition" {
                if let Some(sections) = r.get_mut("section").and_then(Value::as_array_mut) {
                    sections.retain(|s| {
                        s.pointer("/code/coding/0/code").and_then(Value::as_str) != Some("19005-8")
                    });
                }
            }
        }
        if faults.contains(&Fault::ReportWrongAccession) {
            // Every accession identifier of the report, wherever it sits.
            for v in r.values_mut() {
                rewrite_accession(v);
            }
        }
        if faults.contains(&Fault::ReportStatusMismatch) && rt == "DiagnosticReport" {
            r.insert("status".into(), Value::String("preliminary".into()));
        }
    }
}

/// The Minimal ProvideBundle profile (IHE ITI MHD).
pub const MINIMAL_PROVIDE_BUNDLE: &str =
    "https://profiles.ihe.net/ITI/MHD/StructureDefinition/IHE.MHD.Minimal.ProvideBundle";

impl Catalogue {
    /// An ITI-65 transaction that publishes the documents of study `alias` to another Document
    /// Recipient: the Patient by conditional create, the SubmissionSet, each DocumentReference and
    /// its Binary, with `urn:uuid:` references between them (ITI TF-2 §3.65.4.1.2).
    ///
    /// With `patient_reference` (`Patient/123` on the Recipient), the subject points at that
    /// shared Patient and the bundle carries no Patient entry (ITI TF-2 §3.65.4.1.2.2 prefers a
    /// server reference).
    pub fn provide_bundle(&self, alias: &str, patient_reference: Option<&str>) -> Option<Value> {
        let docs: Vec<&PublishedDoc> = self.docs.iter().filter(|d| d.alias == alias).collect();
        let first = docs.first()?;
        let subject = first
            .docref
            .pointer("/subject/reference")
            .and_then(Value::as_str)?
            .to_string();
        let patient = self
            .patients
            .iter()
            .find(|p| {
                p.get("id")
                    .and_then(Value::as_str)
                    .map(|id| format!("Patient/{id}") == subject)
                    .unwrap_or(false)
            })?
            .clone();
        let pid = patient
            .pointer("/identifier/0/value")
            .and_then(Value::as_str)?
            .to_string();
        let mut map: BTreeMap<String, String> = BTreeMap::new();
        map.insert(
            subject.clone(),
            patient_reference
                .map(str::to_string)
                .unwrap_or_else(|| crate::model::mhd_bundle::uuid_from(&format!("patient/{pid}"))),
        );
        for d in &docs {
            map.insert(
                format!("DocumentReference/{}", d.id()),
                crate::model::mhd_bundle::uuid_from(&format!("docref/{}", d.id())),
            );
            map.insert(
                format!("Binary/{}", d.id()),
                crate::model::mhd_bundle::uuid_from(&format!("binary/{}", d.id())),
            );
        }
        let rewrite = |mut v: Value| {
            rewrite_strings(&mut v, &map);
            v
        };
        let mut entries = Vec::new();
        let ss = self
            .submission_sets
            .iter()
            .find(|l| l.get("id").and_then(Value::as_str) == Some(&format!("ss-{}", stem(alias))))?
            .clone();
        let mut ss = rewrite(ss);
        if let Some(o) = ss.as_object_mut() {
            o.remove("id");
            if let Some(ids) = o.get_mut("identifier").and_then(Value::as_array_mut) {
                ids.push(json!({"use": "official", "system": "urn:ietf:rfc:3986", "value": crate::model::mhd_bundle::uuid_from(&format!("ss/{alias}"))}));
            }
        }
        entries.push(json!({
            "fullUrl": crate::model::mhd_bundle::uuid_from(&format!("ss/{alias}/full")),
            "resource": ss,
            "request": {"method": "POST", "url": "List"}
        }));
        for d in &docs {
            let mut r = rewrite(d.docref.clone());
            if let Some(o) = r.as_object_mut() {
                o.remove("id");
            }
            entries.push(json!({
                "fullUrl": map.get(&format!("DocumentReference/{}", d.id())),
                "resource": r,
                "request": {"method": "POST", "url": "DocumentReference"}
            }));
            entries.push(json!({
                "fullUrl": map.get(&format!("Binary/{}", d.id())),
                "resource": {
                    "resourceType": "Binary",
                    "contentType": d.content_type,
                    "data": base64::engine::general_purpose::STANDARD.encode(&d.bytes)
                },
                "request": {"method": "POST", "url": "Binary"}
            }));
        }
        if patient_reference.is_none() {
            let mut p = patient;
            if let Some(o) = p.as_object_mut() {
                o.remove("id");
            }
            let system = p
                .pointer("/identifier/0/system")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            entries.push(json!({
                "fullUrl": map.get(&subject),
                "resource": p,
                "request": {"method": "POST", "url": "Patient", "ifNoneExist": format!("identifier={system}|{pid}")}
            }));
        }
        Some(json!({
            "resourceType": "Bundle",
            "meta": {"profile": [MINIMAL_PROVIDE_BUNDLE]},
            "type": "transaction",
            "entry": entries
        }))
    }
}

fn rewrite_strings(v: &mut Value, map: &BTreeMap<String, String>) {
    match v {
        Value::String(s) => {
            if let Some(to) = map.get(s.as_str()) {
                *s = to.clone();
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| rewrite_strings(x, map)),
        Value::Object(o) => o.values_mut().for_each(|x| rewrite_strings(x, map)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalogue_of_fixtures() -> Catalogue {
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/studies");
        let f = Fixtures::load(&dir).expect("fixtures");
        catalogue(&f, &BTreeSet::new())
    }

    #[test]
    fn every_study_publishes_what_the_table_says() {
        let c = catalogue_of_fixtures();
        let kinds = |alias: &str| -> Vec<&str> {
            c.docs
                .iter()
                .filter(|d| d.alias == alias)
                .map(|d| d.kind)
                .collect()
        };
        assert_eq!(kinds("CT-CHEST"), ["kos", "fhir", "report"]);
        assert_eq!(
            kinds("MR-BRAIN"),
            ["kos", "fhir", "preliminary-report", "report"]
        );
        assert_eq!(kinds("DX-CHEST"), ["report"]);
        assert_eq!(kinds("US-ABDOMEN"), ["kos", "report"]);
        // Every KOS DocumentReference names its manifest's SOP Instance UID.
        for d in c.docs.iter().filter(|d| d.kind == "kos") {
            let m = kos::parse(&d.bytes).expect("MADO KOS parses");
            assert_eq!(
                d.master_identifier(),
                format!("urn:oid:{}", m.sop_instance_uid.unwrap_or_default())
            );
        }
    }

    #[test]
    fn load_mode_bundles_pass_the_recipient_validator() {
        let c = catalogue_of_fixtures();
        for alias in ["CT-CHEST", "MR-BRAIN", "DX-CHEST", "US-ABDOMEN"] {
            for patient in [None, Some("Patient/123")] {
                let b = c.provide_bundle(alias, patient).expect("bundle");
                let v = crate::checks::mhd::validate_provide_bundle(
                    &b,
                    Some(crate::model::fhir::FHIR_JSON),
                    false,
                );
                assert!(v.is_empty(), "{alias} {patient:?}: {v:#?}");
            }
        }
    }
}
