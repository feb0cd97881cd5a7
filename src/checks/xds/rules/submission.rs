//! ITI-41 / RAD-68 / ITI-42 / ITI-57 submission metadata (ITI TF-3 4.1-4.3, RAD TF-2 4.68).

use std::collections::{HashMap, HashSet};

use super::*;
use crate::model::ebrim::*;

const CODED_DE_SCHEMES: &[(&str, &str)] = &[
    (DE_CLASS_CODE, "classCode"),
    (DE_CONFIDENTIALITY_CODE, "confidentialityCode"),
    (DE_EVENT_CODE, "eventCodeList"),
    (DE_FORMAT_CODE, "formatCode"),
    (
        DE_HEALTHCARE_FACILITY_TYPE_CODE,
        "healthcareFacilityTypeCode",
    ),
    (DE_PRACTICE_SETTING_CODE, "practiceSettingCode"),
    (DE_TYPE_CODE, "typeCode"),
    (SS_CONTENT_TYPE_CODE, "contentTypeCode"),
    (FOLDER_CODE_LIST, "codeList"),
];

const KNOWN_IDENTIFIERS: &[(&str, &str)] = &[
    (DE_PATIENT_ID, NAME_DE_PATIENT_ID),
    (DE_UNIQUE_ID, NAME_DE_UNIQUE_ID),
    (SS_PATIENT_ID, NAME_SS_PATIENT_ID),
    (SS_SOURCE_ID, NAME_SS_SOURCE_ID),
    (SS_UNIQUE_ID, NAME_SS_UNIQUE_ID),
    (FOLDER_PATIENT_ID, NAME_FOLDER_PATIENT_ID),
    (FOLDER_UNIQUE_ID, NAME_FOLDER_UNIQUE_ID),
];

/// Which transaction a submission is judged as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubmissionKind {
    /// ITI-41 Provide and Register (documents expected alongside the metadata).
    Iti41,
    /// RAD-68: ITI-41 plus the XDS-I.b manifest rules.
    Rad68,
    /// ITI-42 Register, or ITI-41/RAD-68 metadata inspected without its documents.
    MetadataOnly {
        /// Apply the XDS-I.b manifest rules.
        imaging: bool,
    },
    /// ITI-57 Update Document Set.
    Iti57,
}

/// Validate ITI-41 / RAD-68 / ITI-42 / ITI-57 submission metadata. `documents` are the
/// `xdsb:Document` elements of a ProvideAndRegister request (checked for one-to-one pairing under
/// [`SubmissionKind::Iti41`] and [`SubmissionKind::Rad68`]).
pub fn validate_submission(
    req: &SubmitObjectsRequest,
    documents: Option<&[Document]>,
    kind: SubmissionKind,
) -> Vec<Violation> {
    let mut out = Vec::new();
    let list = &req.objects;
    let imaging = matches!(
        kind,
        SubmissionKind::Rad68 | SubmissionKind::MetadataOnly { imaging: true }
    );

    // EBRIM-01: schema order.
    for o in list.extrinsic_objects.iter().chain(&list.registry_packages) {
        for issue in &o.order_issues {
            out.push(Violation::of(
                &EBRIM_01,
                format!("{} {}: {issue}", kind_name(o.kind), show(o.id.as_deref())),
            ));
        }
    }
    for a in &list.associations {
        for issue in &a.order_issues {
            out.push(Violation::of(
                &EBRIM_01,
                format!("Association {}: {issue}", show(a.id.as_deref())),
            ));
        }
    }

    // EBRIM-02: whitespace in scheme/node URIs.
    let mut uri_refs: Vec<&str> = Vec::new();
    for o in list.extrinsic_objects.iter().chain(&list.registry_packages) {
        uri_refs.extend(o.object_type.as_deref());
        for c in &o.classifications {
            uri_refs.extend(c.scheme.as_deref());
            uri_refs.extend(c.node.as_deref());
        }
        for e in &o.external_identifiers {
            uri_refs.extend(e.scheme.as_deref());
        }
    }
    for c in &list.classifications {
        uri_refs.extend(c.scheme.as_deref());
        uri_refs.extend(c.node.as_deref());
    }
    for u in uri_refs {
        if u.bytes().any(|b| b.is_ascii_whitespace()) {
            out.push(Violation::of(
                &EBRIM_02,
                format!("reference {} contains whitespace", show(Some(u))),
            ));
        }
    }

    // ITI41-01: exactly one SubmissionSet.
    let ss_packages = list.submission_set_packages();
    if ss_packages.len() != 1 {
        out.push(Violation::of(
            &ITI41_01,
            format!("found {} SubmissionSet RegistryPackages", ss_packages.len()),
        ));
    }

    // ITI41-02: objectType.
    for o in &list.extrinsic_objects {
        let ok = match kind {
            SubmissionKind::Iti57 => {
                scheme_is(o.object_type.as_deref(), DOC_ENTRY_STABLE)
                    || scheme_is(o.object_type.as_deref(), DOC_ENTRY_ON_DEMAND)
            }
            _ => scheme_is(o.object_type.as_deref(), DOC_ENTRY_STABLE),
        };
        if !ok {
            out.push(Violation::of(
                &ITI41_02,
                format!(
                    "ExtrinsicObject {} has objectType {}",
                    show(o.id.as_deref()),
                    show(o.object_type.as_deref())
                ),
            ));
        }
    }

    // ITI41-03: Document pairing.
    if matches!(kind, SubmissionKind::Iti41 | SubmissionKind::Rad68) {
        let docs = documents.unwrap_or(&[]);
        let doc_ids: Vec<&str> = docs.iter().filter_map(|d| d.id.as_deref()).collect();
        for o in &list.extrinsic_objects {
            if let Some(id) = o.id.as_deref() {
                if !doc_ids.contains(&id) {
                    out.push(Violation::of(
                        &ITI41_03,
                        format!(
                            "DocumentEntry {} has no Document (XDSMissingDocument)",
                            show(Some(id))
                        ),
                    ));
                }
            }
        }
        for d in docs {
            let paired = d.id.as_deref().is_some_and(|id| {
                list.extrinsic_objects
                    .iter()
                    .any(|o| o.id.as_deref() == Some(id))
            });
            if !paired {
                out.push(Violation::of(
                    &ITI41_03,
                    format!(
                        "Document {} has no DocumentEntry (XDSMissingDocumentMetadata)",
                        show(d.id.as_deref())
                    ),
                ));
            }
        }
    }

    // ITI41-04: unique ids and uniqueIds.
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for id in list
        .extrinsic_objects
        .iter()
        .chain(&list.registry_packages)
        .filter_map(|o| o.id.as_deref())
        .chain(list.associations.iter().filter_map(|a| a.id.as_deref()))
    {
        *seen.entry(id).or_default() += 1;
    }
    let mut dup: Vec<&str> = seen
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(k, _)| *k)
        .collect();
    dup.sort_unstable();
    for id in dup {
        out.push(Violation::of(
            &ITI41_04,
            format!("id {} is used more than once", show(Some(id))),
        ));
    }
    let entries: Vec<(&RegistryObject, DocumentEntry)> = list
        .extrinsic_objects
        .iter()
        .map(|o| (o, o.document_entry()))
        .collect();
    let mut uids: HashSet<&str> = HashSet::new();
    for (_, de) in &entries {
        if let Some(u) = de.unique_id.as_deref() {
            if !uids.insert(u) {
                out.push(Violation::of(
                    &ITI41_04,
                    format!("DocumentEntry uniqueId {} appears more than once (XDSRepositoryDuplicateUniqueIdInMessage)", show(Some(u))),
                ));
            }
        }
    }

    // ITI57-01: logical ids unique.
    if kind == SubmissionKind::Iti57 {
        let mut lids: HashSet<&str> = HashSet::new();
        for o in list.extrinsic_objects.iter().chain(&list.registry_packages) {
            if let Some(l) = o.lid.as_deref() {
                if !lids.insert(l) {
                    out.push(Violation::of(
                        &ITI57_01,
                        format!("logical id {} appears more than once", show(Some(l))),
                    ));
                }
            }
        }
    }

    // ITI41-05 / 06 / 10 / 14 / 15 / 16 per DocumentEntry.
    for (o, de) in &entries {
        let who = format!("DocumentEntry {}", show(o.id.as_deref()));
        let mut missing: Vec<&str> = Vec::new();
        if de.mime_type.as_deref().is_none_or(str::is_empty) {
            missing.push("mimeType");
        }
        if de.creation_time.is_none() {
            missing.push("creationTime");
        }
        if de.language_code.is_none() {
            missing.push("languageCode");
        }
        if de.patient_id.is_none() {
            missing.push("patientId");
        }
        if de.source_patient_id.is_none() {
            missing.push("sourcePatientId");
        }
        if de.unique_id.as_deref().is_none_or(str::is_empty) {
            missing.push("uniqueId");
        }
        if de.confidentiality_codes.is_empty() {
            missing.push("confidentialityCode");
        }
        for (scheme, name) in [
            (DE_CLASS_CODE, "classCode"),
            (DE_FORMAT_CODE, "formatCode"),
            (
                DE_HEALTHCARE_FACILITY_TYPE_CODE,
                "healthcareFacilityTypeCode",
            ),
            (DE_PRACTICE_SETTING_CODE, "practiceSettingCode"),
            (DE_TYPE_CODE, "typeCode"),
        ] {
            match o.classified(scheme).count() {
                0 => missing.push(name),
                1 => {}
                n => out.push(Violation::of(
                    &ITI41_05,
                    format!("{who}: {name} appears {n} times"),
                )),
            }
        }
        if !missing.is_empty() {
            out.push(Violation::of(
                &ITI41_05,
                format!("{who}: missing {}", missing.join(", ")),
            ));
        }
        if o.classified(DE_LIMITED_METADATA).next().is_some() {
            out.push(Violation::of(
                &ITI41_05,
                format!("{who}: limitedMetadata is prohibited in XDS"),
            ));
        }
        if de.unique_id.as_deref().is_some_and(|u| u.len() > 128) {
            out.push(Violation::of(
                &ITI41_05,
                format!("{who}: uniqueId longer than 128 characters"),
            ));
        }
        let mut r2: Vec<&str> = Vec::new();
        if de.authors.is_empty() {
            r2.push("author");
        }
        if de.service_start_time.is_none() {
            r2.push("serviceStartTime");
        }
        if de.service_stop_time.is_none() {
            r2.push("serviceStopTime");
        }
        if !r2.is_empty() {
            out.push(Violation::of(
                &ITI41_06,
                format!("{who}: missing {}", r2.join(", ")),
            ));
        }
        if let Some(v) = de.patient_id.as_deref() {
            if !is_xds_cx(v) {
                out.push(Violation::of(
                    &ITI41_10,
                    format!("{who}: patientId {} is not id^^^&OID&ISO", show(Some(v))),
                ));
            }
        }
        if let Some(v) = de.source_patient_id.as_deref() {
            if !is_cx_with_authority(v) {
                out.push(Violation::of(
                    &ITI41_10,
                    format!(
                        "{who}: sourcePatientId {} has no id or no assigning authority",
                        show(Some(v))
                    ),
                ));
            }
        }
        for name in ["creationTime", "serviceStartTime", "serviceStopTime"] {
            for v in slot_all(&o.slots, name) {
                if !is_dtm(&v) {
                    out.push(Violation::of(
                        &ITI41_14,
                        format!("{who}: {name} {} is not a DTM", show(Some(&v))),
                    ));
                }
            }
        }
        if de.title.as_deref().is_some_and(|t| t.chars().count() > 128) {
            out.push(Violation::of(
                &ITI41_15,
                format!("{who}: title longer than 128 characters"),
            ));
        }
        if imaging {
            let fc = de.format_code.as_ref();
            let is_kos_format = fc.is_some_and(|c| {
                c.code == KOS_FORMAT_CODE && c.scheme.as_deref() == Some(KOS_FORMAT_CODING_SCHEME)
            });
            let is_dicom = de.mime_type.as_deref() == Some(MIME_DICOM);
            if is_dicom || fc.is_some_and(|c| c.code == KOS_FORMAT_CODE) {
                if !is_dicom {
                    out.push(Violation::of(
                        &ITI41_16,
                        format!(
                            "{who}: manifest mimeType is {}, expected application/dicom",
                            show(de.mime_type.as_deref())
                        ),
                    ));
                }
                if !is_kos_format {
                    out.push(Violation::of(&ITI41_16, format!(
                        "{who}: formatCode is {}^{}, expected {KOS_FORMAT_CODE}^{KOS_FORMAT_CODING_SCHEME}",
                        fc.map(|c| c.code.as_str()).unwrap_or("(absent)"),
                        fc.and_then(|c| c.scheme.as_deref()).unwrap_or("(absent)")
                    )));
                }
            }
        }
    }

    // ITI41-23 / 10 / 14 per SubmissionSet.
    for p in &ss_packages {
        let ss = p.submission_set();
        let who = format!("SubmissionSet {}", show(p.id.as_deref()));
        let mut missing: Vec<&str> = Vec::new();
        if ss.unique_id.is_none() {
            missing.push("uniqueId");
        }
        if ss.source_id.is_none() {
            missing.push("sourceId");
        }
        if ss.patient_id.is_none() {
            missing.push("patientId");
        }
        if ss.submission_time.is_none() {
            missing.push("submissionTime");
        }
        if ss.content_type_code.is_none() {
            missing.push("contentTypeCode");
        }
        if !missing.is_empty() {
            out.push(Violation::of(
                &ITI41_23,
                format!("{who}: missing {}", missing.join(", ")),
            ));
        }
        if p.classified(SS_LIMITED_METADATA).next().is_some() {
            out.push(Violation::of(
                &ITI41_23,
                format!("{who}: limitedMetadata is prohibited in XDS"),
            ));
        }
        if let Some(v) = ss.patient_id.as_deref() {
            if !is_xds_cx(v) {
                out.push(Violation::of(
                    &ITI41_10,
                    format!("{who}: patientId {} is not id^^^&OID&ISO", show(Some(v))),
                ));
            }
        }
        for v in slot_all(&p.slots, "submissionTime") {
            if !is_dtm(&v) {
                out.push(Violation::of(
                    &ITI41_14,
                    format!("{who}: submissionTime {} is not a DTM", show(Some(&v))),
                ));
            }
        }
        // ITI41-09: patient ids agree.
        if let Some(sp) = ss.patient_id.as_deref() {
            for (o, de) in &entries {
                if let Some(dp) = de.patient_id.as_deref() {
                    if dp != sp {
                        out.push(Violation::of(&ITI41_09, format!(
                            "DocumentEntry {} patientId {} differs from SubmissionSet patientId {} (XDSPatientIdDoesNotMatch)",
                            show(o.id.as_deref()), show(Some(dp)), show(Some(sp)))));
                    }
                }
            }
            for f in list.folder_packages() {
                if let Some(fp) = f.folder().patient_id.as_deref() {
                    if fp != sp {
                        out.push(Violation::of(
                            &ITI41_09,
                            format!(
                                "Folder {} patientId {} differs from SubmissionSet patientId {}",
                                show(f.id.as_deref()),
                                show(Some(fp)),
                                show(Some(sp))
                            ),
                        ));
                    }
                }
            }
        }
    }

    // ITI41-07: coded classifications; ITI41-08: external identifiers; ITI41-25: uplinks.
    let ids = list.ids();
    let resolves = |r: &str| ids.contains(r) || r.starts_with("urn:uuid:");
    for o in list.extrinsic_objects.iter().chain(&list.registry_packages) {
        let who = format!("{} {}", kind_name(o.kind), show(o.id.as_deref()));
        for c in &o.classifications {
            check_coded(c, &who, &mut out);
            if c.classified_object.is_some() && c.classified_object != o.id {
                out.push(Violation::of(
                    &ITI41_25,
                    format!(
                        "{who}: nested Classification {} has classifiedObject {}",
                        show(c.id.as_deref()),
                        show(c.classified_object.as_deref())
                    ),
                ));
            }
        }
        for e in &o.external_identifiers {
            check_identifier(e, o.id.as_deref(), &who, &mut out);
        }
    }
    for c in &list.classifications {
        check_coded(c, "RegistryObjectList", &mut out);
        match c.classified_object.as_deref() {
            None => out.push(Violation::of(
                &ITI41_25,
                format!(
                    "Classification {} has no classifiedObject",
                    show(c.id.as_deref())
                ),
            )),
            Some(r) if !resolves(r) => out.push(Violation::of(
                &ITI41_25,
                format!(
                    "Classification {} classifiedObject {} names no object in the submission",
                    show(c.id.as_deref()),
                    show(Some(r))
                ),
            )),
            Some(_) => {}
        }
    }

    // ITI41-24, ITI41-13, ITI41-25 for associations.
    let ss_ids: Vec<&str> = ss_packages.iter().filter_map(|p| p.id.as_deref()).collect();
    for a in &list.associations {
        let who = format!("Association {}", show(a.id.as_deref()));
        if a.association_type.is_none() || a.source_object.is_none() || a.target_object.is_none() {
            out.push(Violation::of(
                &ITI41_24,
                format!("{who}: associationType, sourceObject and targetObject are required"),
            ));
        }
        if a.target_object.is_some()
            && (a.target_object == a.source_object || a.target_object == a.id)
        {
            out.push(Violation::of(
                &ITI41_24,
                format!(
                    "{who}: targets itself ({})",
                    show(a.target_object.as_deref())
                ),
            ));
        }
        for r in [a.source_object.as_deref(), a.target_object.as_deref()]
            .into_iter()
            .flatten()
        {
            if !resolves(r) {
                out.push(Violation::of(
                    &ITI41_25,
                    format!(
                        "{who}: reference {} names no object in the submission",
                        show(Some(r))
                    ),
                ));
            }
        }
        let is_ss_to_de = scheme_is(a.association_type.as_deref(), ASSOC_HAS_MEMBER)
            && a.source_object
                .as_deref()
                .is_some_and(|s| ss_ids.contains(&s))
            && a.target_object.as_deref().is_some_and(|t| {
                list.extrinsic_objects
                    .iter()
                    .any(|o| o.id.as_deref() == Some(t))
            });
        if is_ss_to_de {
            let status = slot_first(&a.slots, "SubmissionSetStatus");
            if status.as_deref() != Some("Original") {
                out.push(Violation::of(&ITI41_13, format!(
                    "{who}: SubmissionSetStatus is {}, expected \"Original\" for a DocumentEntry in this submission",
                    show(status.as_deref()))));
            }
        }
    }
    for o in &list.extrinsic_objects {
        let member = list.associations.iter().any(|a| {
            scheme_is(a.association_type.as_deref(), ASSOC_HAS_MEMBER)
                && a.source_object
                    .as_deref()
                    .is_some_and(|s| ss_ids.contains(&s))
                && a.target_object.is_some()
                && a.target_object == o.id
        });
        if !member && !ss_ids.is_empty() {
            out.push(Violation::of(
                &ITI41_24,
                format!(
                    "DocumentEntry {} is not a HasMember of the SubmissionSet",
                    show(o.id.as_deref())
                ),
            ));
        }
    }
    out
}

fn check_coded(c: &Classification, who: &str, out: &mut Vec<Violation>) {
    let Some((_, name)) = CODED_DE_SCHEMES
        .iter()
        .find(|(s, _)| scheme_is(c.scheme.as_deref(), s))
    else {
        return;
    };
    let mut problems: Vec<String> = Vec::new();
    if c.node_representation
        .as_deref()
        .is_none_or(|n| n.trim().is_empty())
    {
        problems.push("empty nodeRepresentation".into());
    }
    let schemes = slot_all(&c.slots, "codingScheme");
    if schemes.len() != 1 || schemes.iter().any(|s| s.is_empty()) {
        problems.push(format!("{} codingScheme values", schemes.len()));
    }
    if c.name.iter().all(|n| n.value.trim().is_empty()) {
        problems.push("no Name".into());
    }
    if !problems.is_empty() {
        out.push(Violation::of(
            &ITI41_07,
            format!(
                "{who}: {name} Classification {}: {}",
                show(c.id.as_deref()),
                problems.join(", ")
            ),
        ));
    }
}

fn check_identifier(
    e: &ExternalIdentifier,
    parent: Option<&str>,
    who: &str,
    out: &mut Vec<Violation>,
) {
    let mut problems: Vec<String> = Vec::new();
    if e.scheme.as_deref().is_none_or(str::is_empty) {
        problems.push("no identificationScheme".into());
    }
    if e.value.as_deref().is_none_or(|v| v.trim().is_empty()) {
        problems.push("empty value".into());
    }
    if e.registry_object.as_deref() != parent {
        problems.push(format!(
            "registryObject {} is not the parent id",
            show(e.registry_object.as_deref())
        ));
    }
    if !problems.is_empty() {
        out.push(Violation::of(
            &ITI41_08,
            format!(
                "{who}: ExternalIdentifier {}: {}",
                show(e.id.as_deref()),
                problems.join(", ")
            ),
        ));
    }
    if let Some((_, expected)) = KNOWN_IDENTIFIERS
        .iter()
        .find(|(s, _)| scheme_is(e.scheme.as_deref(), s))
    {
        if e.name.first().map(|n| n.value.as_str()) != Some(*expected) {
            out.push(Violation::of(
                &ITI41_08N,
                format!(
                    "{who}: ExternalIdentifier {} Name is {}, expected {}",
                    show(e.id.as_deref()),
                    show(e.name.first().map(|n| n.value.as_str())),
                    show(Some(expected))
                ),
            ));
        }
    }
}
