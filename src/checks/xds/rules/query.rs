//! ITI-18 Registry Stored Query: the request (ITI TF-2 3.18.4.1.2) and the response (3.18.4.1.3).

use std::collections::HashMap;

use super::*;
use crate::model::ebrim::*;

struct QueryShape {
    id: &'static str,
    required: &'static [&'static str],
    one_of: &'static [&'static [&'static str]],
}

const QUERY_SHAPES: &[QueryShape] = &[
    QueryShape {
        id: SQ_FIND_DOCUMENTS,
        required: &["$XDSDocumentEntryPatientId", "$XDSDocumentEntryStatus"],
        one_of: &[],
    },
    QueryShape {
        id: SQ_FIND_DOCUMENTS_BY_REFERENCE_ID,
        required: &[
            "$XDSDocumentEntryPatientId",
            "$XDSDocumentEntryStatus",
            "$XDSDocumentEntryReferenceIdList",
        ],
        one_of: &[],
    },
    QueryShape {
        id: SQ_FIND_SUBMISSION_SETS,
        required: &["$XDSSubmissionSetPatientId", "$XDSSubmissionSetStatus"],
        one_of: &[],
    },
    QueryShape {
        id: SQ_FIND_FOLDERS,
        required: &["$XDSFolderPatientId", "$XDSFolderStatus"],
        one_of: &[],
    },
    QueryShape {
        id: SQ_GET_ALL,
        required: &[
            "$patientId",
            "$XDSDocumentEntryStatus",
            "$XDSSubmissionSetStatus",
            "$XDSFolderStatus",
        ],
        one_of: &[],
    },
    QueryShape {
        id: SQ_GET_DOCUMENTS,
        required: &[],
        one_of: &[&[
            "$XDSDocumentEntryEntryUUID",
            "$XDSDocumentEntryUniqueId",
            "$XDSDocumentEntryLogicalID",
        ]],
    },
    QueryShape {
        id: SQ_GET_DOCUMENTS_AND_ASSOCIATIONS,
        required: &[],
        one_of: &[&["$XDSDocumentEntryEntryUUID", "$XDSDocumentEntryUniqueId"]],
    },
    QueryShape {
        id: SQ_GET_FOLDERS,
        required: &[],
        one_of: &[&[
            "$XDSFolderEntryUUID",
            "$XDSFolderUniqueId",
            "$XDSFolderLogicalID",
        ]],
    },
    QueryShape {
        id: SQ_GET_ASSOCIATIONS,
        required: &["$uuid"],
        one_of: &[],
    },
    QueryShape {
        id: SQ_GET_SUBMISSION_SETS,
        required: &["$uuid"],
        one_of: &[],
    },
    QueryShape {
        id: SQ_GET_SUBMISSION_SET_AND_CONTENTS,
        required: &[],
        one_of: &[&["$XDSSubmissionSetEntryUUID", "$XDSSubmissionSetUniqueId"]],
    },
    QueryShape {
        id: SQ_GET_FOLDER_AND_CONTENTS,
        required: &[],
        one_of: &[&["$XDSFolderEntryUUID", "$XDSFolderUniqueId"]],
    },
    QueryShape {
        id: SQ_GET_FOLDERS_FOR_DOCUMENT,
        required: &[],
        one_of: &[&["$XDSDocumentEntryEntryUUID", "$XDSDocumentEntryUniqueId"]],
    },
    QueryShape {
        id: SQ_GET_RELATED_DOCUMENTS,
        required: &["$AssociationTypes"],
        one_of: &[&["$XDSDocumentEntryEntryUUID", "$XDSDocumentEntryUniqueId"]],
    },
];

/// Validate an ITI-18 request (`ITI18-01` to `ITI18-07`).
pub fn validate_query_request(q: &AdhocQueryRequest) -> Vec<Violation> {
    let mut out = Vec::new();
    let id = q.query_id.as_deref().unwrap_or("");
    if !STORED_QUERIES.iter().any(|(k, _)| *k == id) {
        out.push(Violation::of(
            &ITI18_01,
            format!(
                "AdhocQuery id {} is not a known stored query (XDSUnknownStoredQuery)",
                show(q.query_id.as_deref())
            ),
        ));
    }
    if !matches!(q.return_type.as_deref(), Some("LeafClass" | "ObjectRef")) {
        out.push(Violation::of(
            &ITI18_02,
            format!("returnType is {}", show(q.return_type.as_deref())),
        ));
    }
    let present = |n: &str| q.params.iter().any(|p| p.name == n);
    if let Some(shape) = QUERY_SHAPES.iter().find(|s| s.id == id) {
        for r in shape.required {
            if !present(r) {
                out.push(Violation::of(
                    &ITI18_03,
                    format!("required parameter {r} is missing (XDSStoredQueryMissingParam)"),
                ));
            }
        }
        for group in shape.one_of {
            let n = group.iter().filter(|g| present(g)).count();
            if n != 1 {
                out.push(Violation::of(
                    &ITI18_04,
                    format!(
                        "exactly one of {} is required, found {n} (XDSStoredQueryParamNumber)",
                        group.join(", ")
                    ),
                ));
            }
        }
    }
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for p in &q.params {
        *counts.entry(p.name.as_str()).or_default() += 1;
    }
    let mut repeated: Vec<(&str, usize)> = counts
        .into_iter()
        .filter(|(n, c)| {
            *c > 1
                && !matches!(
                    *n,
                    "$XDSDocumentEntryEventCodeList" | "$XDSDocumentEntryConfidentialityCode"
                )
        })
        .collect();
    repeated.sort_unstable();
    for (n, c) in repeated {
        out.push(Violation::of(
            &ITI18_07,
            format!("parameter {n} appears in {c} slots"),
        ));
    }
    for p in &q.params {
        let kind = QUERY_PARAMS
            .iter()
            .find(|(n, _)| *n == p.name)
            .map(|(_, k)| *k);
        let Some(kind) = kind else { continue };
        if p.values.is_empty() {
            out.push(Violation::of(&ITI18_05, format!("{} has no value", p.name)));
        }
        let single = matches!(
            kind,
            ParamKind::Single | ParamKind::PatientId | ParamKind::Time
        );
        if single && p.values.len() > 1 {
            out.push(Violation::of(
                &ITI18_05,
                format!(
                    "{} is single-valued but has {} values (XDSStoredQueryParamNumber)",
                    p.name,
                    p.values.len()
                ),
            ));
        }
        for raw in &p.values {
            let v = raw.trim();
            match kind {
                ParamKind::Single | ParamKind::PatientId => match leading_quoted(v) {
                    None => out.push(Violation::of(
                        &ITI18_05,
                        format!("{} value {} is not a quoted string", p.name, show(Some(v))),
                    )),
                    Some((s, rest)) => {
                        if !rest.is_empty() {
                            out.push(Violation::of(&ITI18_05W, format!(
                                "{} value {} has characters after its closing quote; receivers read only the quoted string", p.name, show(Some(v)))));
                        }
                        if kind == ParamKind::PatientId && !is_xds_cx(&s) {
                            out.push(Violation::of(
                                &ITI18_05W,
                                format!(
                                    "{} value {} is not a CX id^^^&OID&ISO",
                                    p.name,
                                    show(Some(&s))
                                ),
                            ));
                        }
                    }
                },
                ParamKind::Time => {
                    if let Some(s) = strip_quotes(v) {
                        let level_ok = is_dtm(&s);
                        out.push(Violation::of(
                            &ITI18_05W,
                            format!(
                                "{} value {} is quoted; timestamps are unquoted DTM",
                                p.name,
                                show(Some(v))
                            ),
                        ));
                        if !level_ok {
                            out.push(Violation::of(
                                &ITI18_05,
                                format!("{} value {} is not a DTM", p.name, show(Some(v))),
                            ));
                        }
                    } else if !is_dtm(v) {
                        out.push(Violation::of(
                            &ITI18_05,
                            format!("{} value {} is not a DTM", p.name, show(Some(v))),
                        ));
                    }
                }
                ParamKind::List | ParamKind::CodeList | ParamKind::StatusList => {
                    match parse_query_list(v) {
                        None => out.push(Violation::of(
                            &ITI18_05,
                            format!("{} value {} is not a ('...') list", p.name, show(Some(v))),
                        )),
                        Some(items) => {
                            if items.is_empty() || items.iter().any(String::is_empty) {
                                out.push(Violation::of(
                                    &ITI18_05,
                                    format!("{} value {} has an empty item", p.name, show(Some(v))),
                                ));
                            }
                            for it in &items {
                                if kind == ParamKind::CodeList
                                    && !it.is_empty()
                                    && !is_query_code(it)
                                {
                                    out.push(Violation::of(
                                        &ITI18_05,
                                        format!(
                                            "{} item {} is not code^^scheme",
                                            p.name,
                                            show(Some(it))
                                        ),
                                    ));
                                }
                                if kind == ParamKind::StatusList
                                    && !it
                                        .starts_with("urn:oasis:names:tc:ebxml-regrep:StatusType:")
                                {
                                    out.push(Violation::of(
                                        &ITI18_06,
                                        format!(
                                            "{} item {} is not a StatusType URN",
                                            p.name,
                                            show(Some(it))
                                        ),
                                    ));
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    out
}

/// Validate an ITI-18 response (`XDS-SOAP-07..14`, `ITI18-08`, `ITI18-09`). `return_type` is the
/// request's returnType when known.
pub fn validate_query_response(
    r: &AdhocQueryResponse,
    return_type: Option<&str>,
) -> Vec<Violation> {
    let mut out = validate_registry_response(&r.response);
    let o = &r.objects;
    // EBRIM-01: a registry writes its objects in schema order too.
    for x in o.extrinsic_objects.iter().chain(&o.registry_packages) {
        for issue in &x.order_issues {
            out.push(Violation::of(
                &EBRIM_01,
                format!("{} {}: {issue}", kind_name(x.kind), show(x.id.as_deref())),
            ));
        }
    }
    let leaf = !o.extrinsic_objects.is_empty()
        || !o.registry_packages.is_empty()
        || !o.associations.is_empty();
    // A LeafClass answer may add ObjectRefs for objects its objects reference (ITI TF-2
    // 3.18.4.1.2.3.1); the others name objects the answer leaves out.
    let unreferenced = o.unreferenced_refs();
    let mixes = match return_type {
        Some("ObjectRef") => leaf,
        Some("LeafClass") => false,
        _ => leaf && !unreferenced.is_empty(),
    };
    if mixes {
        out.push(Violation::of(
            &ITI18_09,
            "response mixes ObjectRef and LeafClass objects",
        ));
    }
    // ITI TF-2 3.18.4.1.2.1: LeafClass asks for the objects themselves; a reference names an
    // object without its metadata, which the consumer asked for.
    if return_type == Some("LeafClass") && !unreferenced.is_empty() {
        out.push(Violation::of(
            &ITI18_10,
            format!(
                "{} ObjectRef(s) in the answer to a LeafClass query, naming no object the answer references",
                unreferenced.len()
            ),
        ));
    }
    for e in &o.extrinsic_objects {
        let de = e.document_entry();
        let mut missing = Vec::new();
        if de.object_type.is_none() {
            missing.push("objectType");
        } else if !scheme_is(de.object_type.as_deref(), DOC_ENTRY_STABLE)
            && !scheme_is(de.object_type.as_deref(), DOC_ENTRY_ON_DEMAND)
        {
            out.push(Violation::of(
                &ITI18_08,
                format!(
                    "DocumentEntry {} objectType {} is neither stable nor on-demand",
                    show(e.id.as_deref()),
                    show(de.object_type.as_deref())
                ),
            ));
        }
        if de.availability_status.is_none() {
            missing.push("status");
        }
        let stable = scheme_is(de.object_type.as_deref(), DOC_ENTRY_STABLE);
        if stable {
            for (n, v) in [
                ("hash", &de.hash),
                ("size", &de.size),
                ("repositoryUniqueId", &de.repository_unique_id),
            ] {
                if v.is_none() {
                    missing.push(n);
                }
            }
        }
        for (n, v) in [
            ("patientId", &de.patient_id),
            ("uniqueId", &de.unique_id),
            ("mimeType", &de.mime_type),
        ] {
            if v.is_none() {
                missing.push(n);
            }
        }
        if !missing.is_empty() {
            out.push(Violation::of(
                &ITI18_08,
                format!(
                    "DocumentEntry {}: missing {}",
                    show(e.id.as_deref()),
                    missing.join(", ")
                ),
            ));
        }
    }
    out
}
