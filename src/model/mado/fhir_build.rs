//! The FHIR twin of a MADO KOS: a MadoFhirBundle `document` Bundle (MADO IG
//! fhir-imaging-manifest; resources shaped as the IG's generated examples).

use serde_json::{json, Value};

use super::library::{library_codes, library_series};
use super::{
    MadoOptions, ANATOMICAL_REGION_EXT, DCM_SYSTEM, DICOM_UIDS_SYSTEM, MADO_FHIR_BUNDLE,
    RETRIEVE_LOCATION_UID_EXT, URN_DICOM_UID,
};
use crate::model::kos::Manifest;

fn uuid(seed: &str, what: &str) -> String {
    crate::model::mhd_bundle::uuid_from(&format!("{seed}/{what}"))
}

/// `YYYYMMDD` + `HHMMSS[.frac]` + `+hhmm` as a FHIR dateTime; `None` without a valid date.
pub fn fhir_datetime(date: Option<&str>, time: Option<&str>, tz: Option<&str>) -> Option<String> {
    let d = date?.trim();
    if d.len() != 8 || !d.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut out = format!("{}-{}-{}", &d[0..4], &d[4..6], &d[6..8]);
    let t: String = time.unwrap_or("").trim().chars().take(6).collect();
    if t.len() == 6 && t.bytes().all(|b| b.is_ascii_digit()) {
        out.push_str(&format!("T{}:{}:{}", &t[0..2], &t[2..4], &t[4..6]));
        let z = tz.unwrap_or("+0000").trim();
        if z.len() == 5
            && (z.starts_with('+') || z.starts_with('-'))
            && z[1..].bytes().all(|b| b.is_ascii_digit())
        {
            out.push_str(&format!("{}:{}", &z[0..3], &z[3..5]));
        } else {
            out.push('Z');
        }
    }
    Some(out)
}

fn urn_oid(uid: &str) -> String {
    format!("urn:oid:{uid}")
}

/// The FHIR manifest twin of `kos`: a `document` Bundle with Composition first, Patient,
/// ImagingStudy (MadoImagingStudy), one MadoWadoEndpoint per series, the creator Device, its
/// Organization and the ServiceRequest of the accession. Bundle.identifier is the KOS SOP
/// Instance UID as `urn:oid:`, so the two formats name the same manifest.
pub fn fhir_manifest(kos: &Manifest, opts: &MadoOptions) -> Value {
    let sop = kos.sop_instance_uid.clone().unwrap_or_default();
    let study_uid = kos.study.instance_uid.clone().unwrap_or_default();
    let tz = kos.timezone_offset_from_utc.as_deref();
    let timestamp = fhir_datetime(kos.content_date.as_deref(), kos.content_time.as_deref(), tz)
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_string());
    let [comp_url, pat_url, study_url, dev_url, org_url, req_url] = [
        "composition",
        "patient",
        "study",
        "device",
        "organization",
        "request",
    ]
    .map(|w| uuid(&sop, w));
    let series = library_series(kos);
    let (modalities, regions) = library_codes(kos);
    let pid_system = kos
        .patient
        .issuer_qualifiers
        .first()
        .and_then(|q| q.universal_entity_id.as_deref())
        .map(urn_oid);
    let acc_system = kos
        .study
        .accession_issuers
        .first()
        .and_then(|q| q.universal_entity_id.as_deref())
        .map(urn_oid);
    let accession = kos.study.accession_number.clone();
    let acc_identifier = accession.as_ref().map(|a| {
        let mut id = json!({
            "type": {"coding": [
                {"system": DCM_SYSTEM, "code": "121022", "display": "Accession Number"},
                {"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "ACSN", "display": "Accession Id"}
            ]},
            "value": a
        });
        if let Some(s) = &acc_system {
            id["system"] = json!(s);
        }
        id
    });

    let mut endpoints = Vec::new();
    let mut fhir_series = Vec::new();
    let mut sections = Vec::new();
    for (n, s) in series.iter().enumerate() {
        let ep_url = uuid(&sop, &format!("endpoint-{}", s.uid));
        let mut ep = json!({
            "resourceType": "Endpoint",
            "extension": [{"url": RETRIEVE_LOCATION_UID_EXT, "valueString": s.retrieve_location_uid.clone().unwrap_or_else(|| opts.retrieve_location_uid.clone())}],
            "status": "active",
            "connectionType": {"system": "http://terminology.hl7.org/CodeSystem/endpoint-connection-type", "code": "dicom-wado-rs"},
            "name": format!("WADO-RS endpoint of series {}", n + 1),
            "payloadType": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/endpoint-payload-type", "code": "none", "display": "None"}]}],
            "payloadMimeType": ["application/dicom"],
        });
        match s.retrieve_url.clone().or_else(|| opts.retrieve_url.clone()) {
            Some(url) => ep["address"] = json!(url),
            None => {
                ep["address"] = json!("http://notapplicable");
                ep["_address"] = json!({"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason", "valueCode": "unknown"}]});
            }
        }
        endpoints.push(json!({"fullUrl": ep_url, "resource": ep}));
        let mut fs = json!({
            "uid": s.uid,
            "numberOfInstances": s.instances.len(),
            "endpoint": [{"reference": ep_url, "type": "Endpoint"}],
            "instance": s.instances.iter().map(|i| {
                let mut v = json!({"uid": i.sop_instance, "sopClass": {"system": DICOM_UIDS_SYSTEM, "code": urn_oid(&i.sop_class)}});
                if let Some(n) = i.number { v["number"] = json!(n); }
                v
            }).collect::<Vec<_>>(),
        });
        if let Some(num) = s.number {
            fs["number"] = json!(num);
        }
        if let Some(m) = &s.modality {
            fs["modality"] = json!({"system": DCM_SYSTEM, "code": m});
        }
        if let Some(d) = &s.description {
            fs["description"] = json!(d);
        }
        fhir_series.push(fs);
        sections.push(json!({
            "title": format!("Series {}", s.number.unwrap_or(n as i64 + 1)),
            "entry": [{"reference": ep_url, "type": "Endpoint"}]
        }));
    }

    let mut patient = json!({"resourceType": "Patient"});
    if let Some(id) = &kos.patient.id {
        let mut ident = json!({"value": id});
        if let Some(s) = &pid_system {
            ident["system"] = json!(s);
        }
        patient["identifier"] = json!([ident]);
    }
    if let Some(name) = &kos.patient.name {
        let mut parts = name.split('^');
        let family = parts.next().unwrap_or("");
        let given: Vec<&str> = parts.take(1).filter(|g| !g.is_empty()).collect();
        patient["name"] = json!([{"family": family, "given": given}]);
    }
    if let Some(g) = kos.patient.sex.as_deref().and_then(|s| match s {
        "M" => Some("male"),
        "F" => Some("female"),
        "O" => Some("other"),
        _ => None,
    }) {
        patient["gender"] = json!(g);
    }
    if let Some(b) = fhir_datetime(kos.patient.birth_date.as_deref(), None, None) {
        patient["birthDate"] = json!(b);
    }

    let n_instances: usize = series.iter().map(|s| s.instances.len()).sum();
    let mut study = json!({
        "resourceType": "ImagingStudy",
        "identifier": [{
            "type": {"coding": [{"system": DCM_SYSTEM, "code": "110180", "display": "Study Instance UID"}]},
            "system": URN_DICOM_UID,
            "value": urn_oid(&study_uid)
        }],
        "status": "available",
        "modality": modalities.iter().map(|m| json!({"system": DCM_SYSTEM, "code": m})).collect::<Vec<_>>(),
        "subject": {"reference": pat_url, "type": "Patient"},
        "numberOfSeries": series.len(),
        "numberOfInstances": n_instances,
        "series": fhir_series,
    });
    if let Some(region) = regions.first() {
        study["extension"] = json!([{"url": ANATOMICAL_REGION_EXT, "valueCodeableConcept": {"coding": [{"system": "http://snomed.info/sct", "code": region.0, "display": region.2}]}}]);
    }
    if let Some(started) = fhir_datetime(kos.study.date.as_deref(), kos.study.time.as_deref(), tz) {
        study["started"] = json!(started);
    }
    if let Some(id) = &acc_identifier {
        study["basedOn"] =
            json!([{"reference": req_url, "type": "ServiceRequest", "identifier": id}]);
    }
    if let Some(d) = &kos.study.description {
        study["description"] = json!(d);
    }

    let org_name = kos
        .equipment
        .institution_name
        .clone()
        .unwrap_or_else(|| opts.institution_name.clone());
    let composition = json!({
        "resourceType": "Composition",
        "status": "final",
        "type": {"coding": [{"system": "http://loinc.org", "code": "18748-4", "display": "Diagnostic imaging Study"}]},
        "subject": {"reference": pat_url, "type": "Patient"},
        "date": timestamp,
        "author": [{"reference": dev_url, "type": "Device"}, {"reference": org_url, "type": "Organization"}],
        "title": format!("Imaging manifest of study {study_uid}"),
        "event": [{"detail": [{"reference": study_url, "type": "ImagingStudy"}]}],
        "section": sections,
    });
    let device = json!({
        "resourceType": "Device",
        "manufacturer": kos.equipment.manufacturer.clone().unwrap_or_else(|| opts.manufacturer.clone()),
        "deviceName": [{"name": opts.manufacturer, "type": "user-friendly-name"}],
        "type": {"coding": [{"system": "https://profiles.ihe.net/RAD/MADO/CodeSystem/MadoDeviceType", "code": "mado-creator", "display": "MADO Creator"}]},
        "owner": {"reference": org_url, "type": "Organization"},
    });
    let org = json!({"resourceType": "Organization", "name": org_name});
    let mut entries = vec![
        json!({"fullUrl": comp_url, "resource": composition}),
        json!({"fullUrl": pat_url, "resource": patient}),
        json!({"fullUrl": study_url, "resource": study}),
    ];
    entries.extend(endpoints);
    entries.push(json!({"fullUrl": dev_url, "resource": device}));
    entries.push(json!({"fullUrl": org_url, "resource": org}));
    if let Some(id) = acc_identifier {
        entries.push(json!({"fullUrl": req_url, "resource": {
            "resourceType": "ServiceRequest",
            "identifier": [id],
            "status": "completed",
            "intent": "order",
            "subject": {"reference": pat_url, "type": "Patient"},
        }}));
    }
    json!({
        "resourceType": "Bundle",
        "meta": {"profile": [MADO_FHIR_BUNDLE]},
        "identifier": {"system": "urn:ietf:rfc:3986", "value": urn_oid(&sop)},
        "type": "document",
        "timestamp": timestamp,
        "entry": entries,
    })
}
