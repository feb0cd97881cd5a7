//! Consistency of a MADO manifest with its FHIR twin, with its MHD envelope and with what the
//! Imaging Document Source holds (MADO Rev 1.1 §6.X.3, §X.1.1, App. A).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::fhir::entries;
use super::{Difference, Level};
use crate::model::kos::{Manifest, KOS_SOP_CLASS};
use crate::model::mado::{
    fhir_datetime, library_codes, library_series, DCMUID_SYSTEM, DICOM_UIDS_SYSTEM,
};

const TWIN: &str = "IHE RAD MADO Rev 1.1 §6.X.3 (FHIR manifest option: same content as the KOS)";
const HOLD: &str = "IHE RAD MADO Rev 1.1 §6.X.2.9 (the manifest lists all shared instances)";
const ENV: &str = "IHE RAD MADO Rev 1.1 §4.3.1 and App. A / MADO IG MadoDicomKosDocumentReference";

fn strip_oid(v: &str) -> &str {
    v.strip_prefix("urn:oid:").unwrap_or(v)
}

fn diff(
    out: &mut Vec<Difference>,
    field: &str,
    expected: impl ToString,
    found: impl ToString,
    citation: &'static str,
) {
    let (e, f) = (expected.to_string(), found.to_string());
    if e != f {
        out.push(Difference {
            field: field.to_string(),
            expected: e,
            found: f,
            citation,
            level: Level::Shall,
        });
    }
}

fn s<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn arr(v: &Value, key: &str) -> Vec<Value> {
    v.get(key)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// Series → SOP Instance UIDs referenced by a KOS.
pub fn kos_references(kos: &Manifest) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in &kos.evidence {
        out.entry(r.series_uid.clone())
            .or_default()
            .insert(r.sop_instance.clone());
    }
    out
}

fn study_of(bundle: &Value) -> Option<Value> {
    entries(bundle)
        .into_iter()
        .map(|(_, r)| r)
        .find(|r| s(r, "resourceType") == Some("ImagingStudy"))
}

/// Series → SOP Instance UIDs referenced by a FHIR manifest.
pub fn fhir_references(bundle: &Value) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    if let Some(study) = study_of(bundle) {
        for se in arr(&study, "series") {
            let set = out
                .entry(s(&se, "uid").unwrap_or("").to_string())
                .or_default();
            for i in arr(&se, "instance") {
                set.insert(s(&i, "uid").unwrap_or("").to_string());
            }
        }
    }
    out
}

fn join<'a>(it: impl IntoIterator<Item = &'a String>) -> String {
    it.into_iter().cloned().collect::<Vec<_>>().join(", ")
}

/// Compare a KOS with its FHIR twin: Bundle.identifier, study UID, accession, patient id,
/// modalities, series and instance UIDs and counts.
pub fn compare_kos_fhir(kos: &Manifest, fhir: &Value) -> Vec<Difference> {
    let mut out = Vec::new();
    let sop = kos.sop_instance_uid.clone().unwrap_or_default();
    let bid = fhir
        .get("identifier")
        .and_then(|i| s(i, "value"))
        .unwrap_or("");
    diff(&mut out, "Bundle.identifier", &sop, strip_oid(bid), TWIN);
    let Some(study) = study_of(fhir) else {
        diff(&mut out, "ImagingStudy", "1 ImagingStudy", "none", TWIN);
        return out;
    };
    let suid = arr(&study, "identifier")
        .iter()
        .find(|i| s(i, "system") == Some("urn:dicom:uid"))
        .and_then(|i| s(i, "value"))
        .map(strip_oid)
        .unwrap_or("")
        .to_string();
    diff(
        &mut out,
        "ImagingStudy.identifier (Study Instance UID)",
        kos.study.instance_uid.clone().unwrap_or_default(),
        suid,
        TWIN,
    );
    let acc = arr(&study, "basedOn")
        .iter()
        .filter_map(|b| b.get("identifier"))
        .find_map(|i| s(i, "value"))
        .unwrap_or("")
        .to_string();
    diff(
        &mut out,
        "ImagingStudy.basedOn.identifier (Accession Number)",
        kos.study.accession_number.clone().unwrap_or_default(),
        acc,
        TWIN,
    );
    let entries = entries(fhir);
    let pid = study
        .get("subject")
        .and_then(|r| s(r, "reference"))
        .and_then(|r| super::fhir::resolve(&entries, r))
        .map(|p| {
            arr(p, "identifier")
                .iter()
                .filter_map(|i| s(i, "value"))
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let kpid = kos.patient.id.clone().unwrap_or_default();
    if !pid.contains(&kpid) {
        diff(&mut out, "Patient.identifier", &kpid, pid.join(", "), TWIN);
    }
    let (mods, _) = library_codes(kos);
    let kmods: BTreeSet<String> = mods.into_iter().collect();
    let fmods: BTreeSet<String> = arr(&study, "modality")
        .iter()
        .filter_map(|c| s(c, "code"))
        .map(str::to_string)
        .collect();
    diff(
        &mut out,
        "ImagingStudy.modality",
        join(&kmods),
        join(&fmods),
        TWIN,
    );
    let series = library_series(kos);
    diff(
        &mut out,
        "ImagingStudy.numberOfSeries",
        series.len(),
        study
            .get("numberOfSeries")
            .map(|v| v.to_string())
            .unwrap_or_default(),
        TWIN,
    );
    let total: usize = series.iter().map(|s| s.instances.len()).sum();
    diff(
        &mut out,
        "ImagingStudy.numberOfInstances",
        total,
        study
            .get("numberOfInstances")
            .map(|v| v.to_string())
            .unwrap_or_default(),
        TWIN,
    );
    let k = kos_references(kos);
    let f = fhir_references(fhir);
    diff(
        &mut out,
        "ImagingStudy.series.uid",
        join(k.keys()),
        join(f.keys()),
        TWIN,
    );
    for (series_uid, instances) in &k {
        let other = f.get(series_uid).cloned().unwrap_or_default();
        diff(
            &mut out,
            &format!("series {series_uid} instance uids"),
            join(instances),
            join(&other),
            TWIN,
        );
    }
    let fseries = arr(&study, "series");
    for ls in &series {
        if let Some(fs) = fseries
            .iter()
            .find(|x| s(x, "uid") == Some(ls.uid.as_str()))
        {
            if let Some(m) = &ls.modality {
                diff(
                    &mut out,
                    &format!("series {} modality", ls.uid),
                    m,
                    fs.get("modality").and_then(|c| s(c, "code")).unwrap_or(""),
                    TWIN,
                );
            }
            diff(
                &mut out,
                &format!("series {} numberOfInstances", ls.uid),
                ls.instances.len(),
                fs.get("numberOfInstances")
                    .map(|v| v.to_string())
                    .unwrap_or_default(),
                TWIN,
            );
        }
    }
    out
}

/// Compare what a manifest references (series → SOP Instance UIDs, from [`kos_references`] or
/// [`fhir_references`]) with what the Image Source holds: every referenced instance is held, and
/// every held instance of a referenced series is referenced.
pub fn compare_with_holdings(
    referenced: &BTreeMap<String, BTreeSet<String>>,
    held: &BTreeMap<String, BTreeSet<String>>,
) -> Vec<Difference> {
    let mut out = Vec::new();
    for (series, refs) in referenced {
        let Some(h) = held.get(series) else {
            diff(
                &mut out,
                &format!("series {series}"),
                "held by the Image Source",
                "not held",
                HOLD,
            );
            continue;
        };
        for sop in refs.difference(h) {
            diff(
                &mut out,
                &format!("series {series} instance {sop}"),
                "held by the Image Source",
                "referenced but not held",
                HOLD,
            );
        }
        for sop in h.difference(refs) {
            diff(
                &mut out,
                &format!("series {series} instance {sop}"),
                "referenced by the manifest",
                "held but not referenced",
                HOLD,
            );
        }
    }
    out
}

/// Compare an MHD DocumentReference (MadoDicomKosDocumentReference) with the KOS it describes.
pub fn compare_docref(docref: &Value, kos: &Manifest) -> Vec<Difference> {
    let mut out = Vec::new();
    let sop = kos.sop_instance_uid.clone().unwrap_or_default();
    if let Some(m) = docref.get("masterIdentifier").and_then(|m| s(m, "value")) {
        diff(
            &mut out,
            "DocumentReference.masterIdentifier",
            &sop,
            strip_oid(m),
            ENV,
        );
    }
    let study = kos.study.instance_uid.clone().unwrap_or_default();
    let related: Vec<String> = docref
        .get("context")
        .map(|c| arr(c, "related"))
        .unwrap_or_default()
        .iter()
        .filter_map(|r| r.get("identifier"))
        .filter(|i| s(i, "system") == Some("urn:dicom:uid"))
        .filter_map(|i| s(i, "value"))
        .map(|v| strip_oid(v).to_string())
        .collect();
    if !related.contains(&study) {
        diff(
            &mut out,
            "DocumentReference.context.related (study-instance-uid)",
            &study,
            related.join(", "),
            ENV,
        );
    }
    let (mods, _) = library_codes(kos);
    let kmods: BTreeSet<String> = mods.into_iter().collect();
    let dmods: BTreeSet<String> = arr(docref, "extension")
        .iter()
        .filter(|e| {
            s(e, "url").is_some_and(|u| u.ends_with("extension-DocumentReference.modality"))
        })
        .flat_map(|e| {
            e.get("valueCodeableConcept")
                .map(|c| arr(c, "coding"))
                .unwrap_or_default()
        })
        .filter_map(|c| s(&c, "code").map(str::to_string))
        .collect();
    if !dmods.is_empty() || !kmods.is_empty() {
        diff(
            &mut out,
            "DocumentReference modality extension",
            join(&kmods),
            join(&dmods),
            ENV,
        );
    }
    if let Some(start) = docref
        .get("context")
        .and_then(|c| c.get("period"))
        .and_then(|p| s(p, "start"))
    {
        let expected = fhir_datetime(kos.study.date.as_deref(), kos.study.time.as_deref(), None)
            .unwrap_or_default();
        // Compare the local date and time; the offset may be written either way.
        let local: String = start.chars().take(expected.len().min(19)).collect();
        let exp: String = expected.chars().take(19).collect();
        diff(
            &mut out,
            "DocumentReference.context.period.start",
            exp,
            local,
            ENV,
        );
    }
    for c in arr(docref, "content") {
        let ct = c
            .get("attachment")
            .and_then(|a| s(a, "contentType"))
            .unwrap_or("");
        diff(
            &mut out,
            "content.attachment.contentType",
            "application/dicom",
            ct,
            ENV,
        );
        let fmt = c.get("format");
        let system = fmt.and_then(|f| s(f, "system")).unwrap_or("");
        let code = fmt.and_then(|f| s(f, "code")).unwrap_or("");
        diff(&mut out, "content.format.code", KOS_SOP_CLASS, code, ENV);
        if system == DICOM_UIDS_SYSTEM {
            out.push(Difference {
                field: "content.format.system".to_string(),
                expected: DCMUID_SYSTEM.to_string(),
                found: system.to_string(),
                citation: ENV,
                level: Level::Should,
            });
        } else {
            diff(
                &mut out,
                "content.format.system",
                DCMUID_SYSTEM,
                system,
                ENV,
            );
        }
    }
    out
}
