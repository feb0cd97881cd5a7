//! Identity rules: is this answer the answer to *this* request?
//!
//! A registry answer can be well formed and complete in count yet hold an entry of another
//! patient, another status or another format; a repository can return another document than the
//! one asked, under another repository or community id; a registry can hand back other metadata
//! than it was given. These functions compare the SUT's message with the harness's own request
//! (or with what the harness registered) and say, one line per breach, what is about something
//! else. The checks of [`super`] turn them into verdicts.

use std::cmp::Ordering;
use std::collections::BTreeSet;

use crate::model::ebrim::{
    self as e, AdhocQueryRequest, Code, DocumentEntry, Message, QueryParam,
    RetrieveDocumentSetResponse,
};

/// The values of one query slot, unquoted: the items of a list `('a','b')`, a single quoted
/// value `'a'`, or a bare value (a DTM) as it is. Repeated `Value` elements add up.
pub(crate) fn slot_values(p: &QueryParam) -> Vec<String> {
    let mut out = Vec::new();
    for raw in &p.values {
        let v = raw.trim();
        if v.starts_with('(') {
            out.extend(e::parse_query_list(v).unwrap_or_default());
        } else if let Some(inner) = unquote(v) {
            out.push(inner);
        } else if !v.is_empty() {
            out.push(v.to_string());
        }
    }
    out
}

/// `'a''b'` as `a'b`; None when the value is not one quoted string.
fn unquote(v: &str) -> Option<String> {
    let inner = v.strip_prefix('\'')?.strip_suffix('\'')?;
    Some(inner.replace("''", "'"))
}

/// A code item of a query: `code^^scheme` (HL7 CE) or `code^^^scheme`; the scheme is the last
/// non-empty component after the code.
fn code_item(item: &str) -> (String, Option<String>) {
    let mut parts = item.split('^');
    let code = parts.next().unwrap_or("").trim().to_string();
    let scheme = parts
        .rfind(|p| !p.trim().is_empty())
        .map(|s| s.trim().to_string());
    (code, scheme)
}

fn code_matches(c: &Code, item: &str) -> bool {
    let (code, scheme) = code_item(item);
    c.code == code && scheme.is_none_or(|s| c.scheme.as_deref() == Some(s.as_str()))
}

fn show_code(c: Option<&Code>) -> String {
    match c {
        Some(c) => format!("{}^^{}", c.code, c.scheme.as_deref().unwrap_or("")),
        None => "(none)".into(),
    }
}

fn show_codes(cs: &[Code]) -> String {
    if cs.is_empty() {
        return "(none)".into();
    }
    cs.iter()
        .map(|c| show_code(Some(c)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// How an entry's DTM stands to a query's time bound, where the text decides it.
///
/// ITI TF-3 4.2.3.1.7 gives a DTM any of six precisions (`YYYY[MM[DD[hh[mm[ss]]]]]`, "as
/// precisely as possible") and ITI TF-2 3.18.4.1.2.3.3 compares `From <= time < To`, but neither
/// says how values of different precision compare. Where the digits both values have differ, the
/// order is the same under every reading (a period, its first instant, the string); where the
/// shorter value is a prefix of the longer, a registry may place the entry either side of the bound
/// (`2024` against `20240315`: before it, as its first instant or a string, or within it, as a
/// year), so the order is not decided (None). None too for a value that is not a DTM: its syntax
/// is judged elsewhere, not whether it falls in a range.
fn dtm_order(entry: &str, bound: &str) -> Option<Ordering> {
    let dtm = |v: &str| {
        let v = v.trim();
        (matches!(v.len(), 4 | 6 | 8 | 10 | 12 | 14) && v.bytes().all(|b| b.is_ascii_digit()))
            .then_some(v.to_string())
    };
    let (a, b) = (dtm(entry)?, dtm(bound)?);
    let n = a.len().min(b.len());
    match a[..n].cmp(&b[..n]) {
        Ordering::Equal if a.len() != b.len() => None,
        o => Some(o),
    }
}

/// SQL LIKE with `%` (any run) and `_` (one character), as ITI TF-2 3.18.4.1.2.3.5 uses it for
/// author names.
fn like(pattern: &str, value: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let v: Vec<char> = value.chars().collect();
    // Dynamic programming over (pattern, value) prefixes: bounded by their lengths.
    let mut row = vec![false; v.len() + 1];
    row[0] = true;
    for pc in &p {
        let mut next = vec![false; v.len() + 1];
        if *pc == '%' {
            let mut any = false;
            for j in 0..=v.len() {
                any = any || row[j];
                next[j] = any;
            }
        } else {
            for j in 1..=v.len() {
                next[j] = row[j - 1] && (*pc == '_' || *pc == v[j - 1]);
            }
        }
        row = next;
    }
    row[v.len()]
}

/// The stored queries whose answers are DocumentEntries judged against their parameters.
const ENTRY_QUERIES: &[&str] = &[
    e::SQ_FIND_DOCUMENTS,
    e::SQ_FIND_DOCUMENTS_BY_REFERENCE_ID,
    e::SQ_GET_DOCUMENTS,
    e::SQ_GET_DOCUMENTS_AND_ASSOCIATIONS,
];

/// Does the query return DocumentEntries this module can judge parameter by parameter?
pub fn judges_entries(q: &AdhocQueryRequest) -> bool {
    q.query_id
        .as_deref()
        .is_some_and(|id| ENTRY_QUERIES.contains(&id))
}

/// Why DocumentEntry `d` is not an answer to query `q`: one line per parameter it breaks
/// (ITI TF-2 3.18.4.1.2.3.7.1 FindDocuments, .7.5 GetDocuments, .7.14 FindDocumentsByReferenceId:
/// the registry returns the entries that match every parameter given).
pub fn entry_mismatches(q: &AdhocQueryRequest, d: &DocumentEntry) -> Vec<String> {
    let who = d
        .unique_id
        .clone()
        .or_else(|| d.entry_uuid.clone())
        .unwrap_or_else(|| "an entry without uniqueId".into());
    let mut out = Vec::new();
    let mut bad = |what: String| out.push(format!("{who}: {what}"));
    let single_code = |c: Option<&Code>, items: &[String]| -> bool {
        c.is_some_and(|c| items.iter().any(|i| code_matches(c, i)))
    };
    for p in &q.params {
        let values = slot_values(p);
        if values.is_empty() {
            continue;
        }
        let name = p.name.trim();
        match name {
            "$XDSDocumentEntryPatientId" => {
                let want = values[0].trim();
                if d.patient_id.as_deref().map(str::trim) != Some(want) {
                    bad(format!(
                        "patientId {}, the query asked for {want}",
                        d.patient_id.as_deref().unwrap_or("(none)")
                    ));
                }
            }
            "$XDSDocumentEntryStatus" => {
                let held = values
                    .iter()
                    .any(|v| d.availability_status.as_deref() == Some(v.as_str()));
                if !held {
                    bad(format!(
                        "status {}, the query asked for {}",
                        d.availability_status.as_deref().unwrap_or("(none)"),
                        values.join(" or ")
                    ));
                }
            }
            "$XDSDocumentEntryClassCode"
            | "$XDSDocumentEntryTypeCode"
            | "$XDSDocumentEntryPracticeSettingCode"
            | "$XDSDocumentEntryHealthcareFacilityTypeCode"
            | "$XDSDocumentEntryFormatCode" => {
                let (label, code) = match name {
                    "$XDSDocumentEntryClassCode" => ("classCode", d.class_code.as_ref()),
                    "$XDSDocumentEntryTypeCode" => ("typeCode", d.type_code.as_ref()),
                    "$XDSDocumentEntryPracticeSettingCode" => {
                        ("practiceSettingCode", d.practice_setting_code.as_ref())
                    }
                    "$XDSDocumentEntryHealthcareFacilityTypeCode" => (
                        "healthcareFacilityTypeCode",
                        d.healthcare_facility_type_code.as_ref(),
                    ),
                    _ => ("formatCode", d.format_code.as_ref()),
                };
                if !single_code(code, &values) {
                    bad(format!(
                        "{label} {}, the query asked for {}",
                        show_code(code),
                        values.join(" or ")
                    ));
                }
            }
            // Each slot of these is one AND term; its values are ORed (ITI TF-2 3.18.4.1.2.3.6).
            "$XDSDocumentEntryEventCodeList" | "$XDSDocumentEntryConfidentialityCode" => {
                let (label, codes) = if name == "$XDSDocumentEntryEventCodeList" {
                    ("eventCodeList", &d.event_codes)
                } else {
                    ("confidentialityCode", &d.confidentiality_codes)
                };
                if !codes
                    .iter()
                    .any(|c| values.iter().any(|v| code_matches(c, v)))
                {
                    bad(format!(
                        "{label} [{}] holds none of {}",
                        show_codes(codes),
                        values.join(", ")
                    ));
                }
            }
            "$XDSDocumentEntryCreationTimeFrom"
            | "$XDSDocumentEntryCreationTimeTo"
            | "$XDSDocumentEntryServiceStartTimeFrom"
            | "$XDSDocumentEntryServiceStartTimeTo"
            | "$XDSDocumentEntryServiceStopTimeFrom"
            | "$XDSDocumentEntryServiceStopTimeTo" => {
                let creation = name.contains("CreationTime");
                // CreationTimeFrom/To are ignored for an On-Demand entry (ITI TF-2
                // 3.18.4.1.2.3.7.1, note 6).
                let on_demand = d
                    .object_type
                    .as_deref()
                    .is_some_and(|t| t.trim() == e::DOC_ENTRY_ON_DEMAND);
                if creation && on_demand {
                    continue;
                }
                let (label, at) = if creation {
                    ("creationTime", d.creation_time.as_deref())
                } else if name.contains("ServiceStartTime") {
                    ("serviceStartTime", d.service_start_time.as_deref())
                } else {
                    ("serviceStopTime", d.service_stop_time.as_deref())
                };
                let Some(at) = at else {
                    // serviceStartTime and serviceStopTime may be absent, and then the parameters
                    // on them "shall not be used for deciding whether this DocumentEntry matches"
                    // (ITI TF-2 3.18.4.1.2.3.3.1); creationTime is required of a Stable entry.
                    if creation {
                        bad(format!("no {label}, the query selects on it"));
                    }
                    continue;
                };
                // From is inclusive, To exclusive (ITI TF-2 3.18.4.1.2.3.3).
                let ok = match dtm_order(at, &values[0]) {
                    None => true,
                    Some(o) if name.ends_with("From") => o != Ordering::Less,
                    Some(o) => o == Ordering::Less,
                };
                if !ok {
                    bad(format!(
                        "{label} {at} is outside the range asked ({} {})",
                        if name.ends_with("From") { "from" } else { "to" },
                        values[0]
                    ));
                }
            }
            "$XDSDocumentEntryAuthorPerson" => {
                let persons: Vec<&str> = d
                    .authors
                    .iter()
                    .filter_map(|a| a.person.as_deref())
                    .collect();
                if !persons
                    .iter()
                    .any(|p| values.iter().any(|pat| like(pat, p)))
                {
                    bad(format!(
                        "authorPerson [{}] matches none of {}",
                        persons.join(", "),
                        values.join(", ")
                    ));
                }
            }
            "$XDSDocumentEntryType" => {
                let held = values
                    .iter()
                    .any(|v| d.object_type.as_deref() == Some(v.as_str()));
                if !held {
                    bad(format!(
                        "objectType {}, the query asked for {}",
                        d.object_type.as_deref().unwrap_or("(none)"),
                        values.join(" or ")
                    ));
                }
            }
            "$XDSDocumentEntryReferenceIdList" => {
                // CXi: the id (first component) and the type (last component) identify it.
                let key = |v: &str| {
                    let id = v.split('^').next().unwrap_or("").to_string();
                    let ty = v.rsplit('^').next().unwrap_or("").to_string();
                    (id, ty)
                };
                let held: BTreeSet<(String, String)> =
                    d.reference_ids.iter().map(|r| key(r)).collect();
                if !values.iter().any(|v| held.contains(&key(v))) {
                    bad(format!(
                        "referenceIdList [{}] holds none of {}",
                        d.reference_ids.join(", "),
                        values.join(", ")
                    ));
                }
            }
            "$XDSDocumentEntryUniqueId" => {
                let held = values
                    .iter()
                    .any(|v| d.unique_id.as_deref() == Some(v.as_str()));
                if !held {
                    bad(format!(
                        "not one of the uniqueIds asked ({})",
                        values.join(", ")
                    ));
                }
            }
            "$XDSDocumentEntryEntryUUID" => {
                let held = values
                    .iter()
                    .any(|v| d.entry_uuid.as_deref().is_some_and(|u| same_uuid(u, v)));
                if !held {
                    bad(format!(
                        "entryUUID {} is not one of those asked ({})",
                        d.entry_uuid.as_deref().unwrap_or("(none)"),
                        values.join(", ")
                    ));
                }
            }
            _ => {}
        }
    }
    out
}

/// Two DTMs that differ only in precision, the longer adding zeros to the shorter.
fn same_dtm(a: &str, b: &str) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    long.starts_with(short)
        && long[short.len()..].bytes().all(|c| c == b'0')
        && short.bytes().all(|c| c.is_ascii_digit())
}

/// Two `urn:uuid:` ids name the same object: the hexadecimal digits of a UUID are "case
/// insensitive on input" (RFC 4122 §3), and so is the URN scheme (RFC 8141 §3.1).
pub fn same_uuid(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

/// What a retrieve asked for: (HomeCommunityId, RepositoryUniqueId, DocumentUniqueId).
pub fn asked_documents(req: &Message) -> Option<Vec<(Option<String>, String, String)>> {
    let docs: Vec<&e::DocumentRequest> = match req {
        Message::RetrieveDocumentSetRequest(r) => r.documents.iter().collect(),
        Message::RetrieveImagingDocumentSetRequest(r) => r
            .studies
            .iter()
            .flat_map(|s| &s.series)
            .flat_map(|s| &s.documents)
            .collect(),
        _ => return None,
    };
    Some(
        docs.into_iter()
            .map(|d| {
                (
                    d.home_community_id.clone().filter(|h| !h.trim().is_empty()),
                    d.repository_unique_id.clone().unwrap_or_default(),
                    d.document_unique_id.clone().unwrap_or_default(),
                )
            })
            .collect(),
    )
}

/// Why the documents of a retrieve response are not the ones asked (ITI TF-2 3.43.4.2.2; RAD
/// TF-2 4.69.4.2.3): a DocumentResponse names a document that was not asked for, under another
/// repository or community than asked, or comes twice.
pub fn retrieve_mismatches(
    asked: &[(Option<String>, String, String)],
    r: &RetrieveDocumentSetResponse,
) -> Vec<String> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    for d in &r.documents {
        let Some(uid) = d.document_unique_id.as_deref().map(str::trim) else {
            out.push("a DocumentResponse without DocumentUniqueId".into());
            continue;
        };
        if !seen.insert(uid.to_string()) {
            out.push(format!("{uid} is returned twice"));
        }
        let same_doc: Vec<&(Option<String>, String, String)> =
            asked.iter().filter(|(_, _, u)| u.trim() == uid).collect();
        if same_doc.is_empty() {
            out.push(format!("{uid} was not asked for"));
            continue;
        }
        let repo = d.repository_unique_id.as_deref().map(str::trim);
        let at_repo: Vec<&&(Option<String>, String, String)> = same_doc
            .iter()
            .filter(|(_, r, _)| Some(r.trim()) == repo)
            .collect();
        let Some((home, _, _)) = at_repo.first() else {
            let asked_at = same_doc
                .iter()
                .map(|(_, r, _)| r.as_str())
                .collect::<Vec<_>>()
                .join(" or ");
            out.push(match repo {
                // Required in each DocumentResponse, whatever the number of repositories asked.
                None => format!(
                    "{uid}: no RepositoryUniqueId (a required element), asked at {asked_at}"
                ),
                Some(r) => format!("{uid}: RepositoryUniqueId {r}, asked at {asked_at}"),
            });
            continue;
        };
        let got = d
            .home_community_id
            .as_deref()
            .map(str::trim)
            .filter(|h| !h.is_empty());
        match (home, got) {
            (Some(h), got) if got != Some(h.trim()) => out.push(format!(
                "{uid}: HomeCommunityId {}, asked in {h}",
                got.unwrap_or("(none)")
            )),
            // "If the homeCommunityId value is not present in the Retrieve Document Set Request
            // Message, this shall not be present" (ITI TF-2 3.43.4.2.2).
            (None, Some(got)) => out.push(format!(
                "{uid}: HomeCommunityId {got}, where the request named none (it shall then be absent)"
            )),
            _ => {}
        }
    }
    out
}

fn code_set(cs: &[Code]) -> BTreeSet<(String, String)> {
    cs.iter()
        .map(|c| (c.code.clone(), c.scheme.clone().unwrap_or_default()))
        .collect()
}

fn same_code(a: Option<&Code>, b: Option<&Code>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => a.code == b.code && a.scheme == b.scheme,
        _ => false,
    }
}

/// Where the DocumentEntry a registry returns differs from the one the harness registered
/// (ITI TF-2 3.42.4.1.3: the registry stores the metadata it accepts; 3.18.4.1.3: a query
/// returns it). Every attribute the harness registered must come back unchanged; attributes the
/// registry adds itself (entryUUID, repositoryUniqueId) are not compared, and the status of a
/// new entry must be Approved.
pub fn metadata_differences(registered: &DocumentEntry, returned: &DocumentEntry) -> Vec<String> {
    let mut out = Vec::new();
    let norm = |v: &Option<String>| v.as_deref().map(str::trim).map(str::to_string);
    let texts: [(&str, &Option<String>, &Option<String>); 12] = [
        ("patientId", &registered.patient_id, &returned.patient_id),
        ("uniqueId", &registered.unique_id, &returned.unique_id),
        ("mimeType", &registered.mime_type, &returned.mime_type),
        (
            "sourcePatientId",
            &registered.source_patient_id,
            &returned.source_patient_id,
        ),
        (
            "creationTime",
            &registered.creation_time,
            &returned.creation_time,
        ),
        (
            "serviceStartTime",
            &registered.service_start_time,
            &returned.service_start_time,
        ),
        (
            "serviceStopTime",
            &registered.service_stop_time,
            &returned.service_stop_time,
        ),
        (
            "languageCode",
            &registered.language_code,
            &returned.language_code,
        ),
        ("title", &registered.title, &returned.title),
        ("size", &registered.size, &returned.size),
        (
            "legalAuthenticator",
            &registered.legal_authenticator,
            &returned.legal_authenticator,
        ),
        ("objectType", &registered.object_type, &returned.object_type),
    ];
    for (label, a, b) in texts {
        let same = match (norm(a), norm(b)) {
            // A DTM written to another precision names the same instant when the longer value
            // only adds zeros (202601151030 and 20260115103000): ITI TF-3 4.2.3.1.7 allows six
            // precisions and does not say a registry keeps the one it was given.
            (Some(x), Some(y)) if label.ends_with("Time") => same_dtm(&x, &y),
            (x, y) => x == y,
        };
        if a.is_some() && !same {
            out.push(format!(
                "{label}: registered {}, returned {}",
                a.as_deref().unwrap_or("(none)"),
                b.as_deref().unwrap_or("(none)")
            ));
        }
    }
    let hash = |v: &Option<String>| v.as_deref().map(|h| h.trim().to_ascii_lowercase());
    if registered.hash.is_some() && hash(&registered.hash) != hash(&returned.hash) {
        out.push(format!(
            "hash: registered {}, returned {}",
            registered.hash.as_deref().unwrap_or("(none)"),
            returned.hash.as_deref().unwrap_or("(none)")
        ));
    }
    for (label, a, b) in [
        ("classCode", &registered.class_code, &returned.class_code),
        ("typeCode", &registered.type_code, &returned.type_code),
        ("formatCode", &registered.format_code, &returned.format_code),
        (
            "healthcareFacilityTypeCode",
            &registered.healthcare_facility_type_code,
            &returned.healthcare_facility_type_code,
        ),
        (
            "practiceSettingCode",
            &registered.practice_setting_code,
            &returned.practice_setting_code,
        ),
    ] {
        if a.is_some() && !same_code(a.as_ref(), b.as_ref()) {
            out.push(format!(
                "{label}: registered {}, returned {}",
                show_code(a.as_ref()),
                show_code(b.as_ref())
            ));
        }
    }
    for (label, a, b) in [
        (
            "confidentialityCode",
            &registered.confidentiality_codes,
            &returned.confidentiality_codes,
        ),
        (
            "eventCodeList",
            &registered.event_codes,
            &returned.event_codes,
        ),
    ] {
        if !a.is_empty() && code_set(a) != code_set(b) {
            out.push(format!(
                "{label}: registered [{}], returned [{}]",
                show_codes(a),
                show_codes(b)
            ));
        }
    }
    let refs =
        |v: &[String]| -> BTreeSet<String> { v.iter().map(|s| s.trim().to_string()).collect() };
    if !registered.reference_ids.is_empty()
        && refs(&registered.reference_ids) != refs(&returned.reference_ids)
    {
        out.push(format!(
            "referenceIdList: registered [{}], returned [{}]",
            registered.reference_ids.join(", "),
            returned.reference_ids.join(", ")
        ));
    }
    let persons = |d: &DocumentEntry| -> BTreeSet<String> {
        d.authors.iter().filter_map(|a| a.person.clone()).collect()
    };
    if !persons(registered).is_empty() && persons(registered) != persons(returned) {
        out.push(format!(
            "authorPerson: registered [{}], returned [{}]",
            persons(registered)
                .into_iter()
                .collect::<Vec<_>>()
                .join(", "),
            persons(returned).into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    // A newly registered entry is Approved (ITI TF-2 3.42.4.1.3).
    if returned.availability_status.as_deref() != Some(e::STATUS_APPROVED) {
        out.push(format!(
            "status {}, a newly registered entry is Approved",
            returned.availability_status.as_deref().unwrap_or("(none)")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_matches_sql_wildcards() {
        assert!(like("%Smith%", "^Smith^John"));
        assert!(like("_mith", "Smith"));
        assert!(!like("Smith", "Smithe"));
        assert!(like("%", ""));
        assert!(!like("_", ""));
    }

    /// ITI TF-2 3.18.4.1.2.3.3: From <= time < To. A bound of another precision than the entry's
    /// value decides only where their common digits differ; an absent service time does not take
    /// part in the match (3.18.4.1.2.3.3.1), nor does the creation time of an On-Demand entry
    /// (3.18.4.1.2.3.7.1 note 6).
    #[test]
    fn time_ranges_judge_only_what_the_text_decides() {
        let q = |name: &str, v: &str| AdhocQueryRequest {
            query_id: Some(e::SQ_FIND_DOCUMENTS.into()),
            params: vec![QueryParam {
                name: name.into(),
                values: vec![v.into()],
            }],
            ..AdhocQueryRequest::default()
        };
        let created = |t: Option<&str>| DocumentEntry {
            unique_id: Some("1.2.3".into()),
            creation_time: t.map(str::to_string),
            ..DocumentEntry::default()
        };
        let from = "$XDSDocumentEntryCreationTimeFrom";
        let to = "$XDSDocumentEntryCreationTimeTo";
        let ok = |name: &str, bound: &str, d: &DocumentEntry| {
            entry_mismatches(&q(name, bound), d).is_empty()
        };
        // Decided by the digits both values have.
        assert!(ok(from, "2024", &created(Some("20240315101500"))));
        assert!(!ok(from, "2024", &created(Some("20231231"))));
        assert!(ok(to, "2025", &created(Some("20240315"))));
        assert!(!ok(to, "2024", &created(Some("2025"))));
        // Same precision: From inclusive, To exclusive.
        assert!(ok(from, "20240315101500", &created(Some("20240315101500"))));
        assert!(!ok(to, "20240315101500", &created(Some("20240315101500"))));
        assert!(!ok(to, "2024", &created(Some("2024"))));
        // One value a prefix of the other: either reading is the registry's to make.
        assert!(ok(from, "20240316", &created(Some("2024"))));
        assert!(ok(to, "2024", &created(Some("20240315"))));
        assert!(ok(to, "20240315", &created(Some("2024"))));
        // A Stable entry without creationTime does not match a creation time range; an
        // On-Demand entry is not judged on it at all.
        assert!(!ok(from, "2024", &created(None)));
        let on_demand = DocumentEntry {
            object_type: Some(e::DOC_ENTRY_ON_DEMAND.into()),
            ..created(Some("2001"))
        };
        assert!(ok(from, "2024", &on_demand));
        assert!(ok(
            to,
            "2000",
            &DocumentEntry {
                creation_time: None,
                ..on_demand
            }
        ));
        // No service time: the parameters on it do not take part in the match.
        for p in [
            "$XDSDocumentEntryServiceStartTimeFrom",
            "$XDSDocumentEntryServiceStartTimeTo",
            "$XDSDocumentEntryServiceStopTimeFrom",
            "$XDSDocumentEntryServiceStopTimeTo",
        ] {
            assert!(ok(p, "2024", &created(Some("2024"))), "{p}");
        }
        let served = DocumentEntry {
            service_start_time: Some("20230101".into()),
            service_stop_time: Some("20230102".into()),
            ..created(Some("2024"))
        };
        assert!(!ok(
            "$XDSDocumentEntryServiceStartTimeFrom",
            "2024",
            &served
        ));
        assert!(!ok("$XDSDocumentEntryServiceStopTimeTo", "2022", &served));
        assert!(ok(
            "$XDSDocumentEntryServiceStopTimeTo",
            "20230103",
            &served
        ));
    }

    /// ITI TF-2 3.43.4.2.2: each DocumentResponse carries the required RepositoryUniqueId asked,
    /// and the HomeCommunityId asked, or none when none was asked.
    #[test]
    fn retrieve_echoes_repository_and_home_as_asked() {
        let answer = |home: Option<&str>, repo: Option<&str>| RetrieveDocumentSetResponse {
            registry_response: None,
            documents: vec![e::DocumentResponse {
                home_community_id: home.map(str::to_string),
                repository_unique_id: repo.map(str::to_string),
                document_unique_id: Some("1.2.3.4".into()),
                ..e::DocumentResponse::default()
            }],
        };
        let asked = |home: Option<&str>| {
            vec![(
                home.map(str::to_string),
                "1.2.3".to_string(),
                "1.2.3.4".to_string(),
            )]
        };
        let bad = |home_asked: Option<&str>, home: Option<&str>, repo: Option<&str>| {
            retrieve_mismatches(&asked(home_asked), &answer(home, repo))
        };
        assert!(bad(None, None, Some("1.2.3")).is_empty());
        assert!(bad(Some("urn:oid:9"), Some("urn:oid:9"), Some("1.2.3")).is_empty());
        assert_eq!(bad(Some("urn:oid:9"), None, Some("1.2.3")).len(), 1);
        assert_eq!(
            bad(Some("urn:oid:9"), Some("urn:oid:8"), Some("1.2.3")).len(),
            1
        );
        // A community the request did not name.
        let extra = bad(None, Some("urn:oid:9"), Some("1.2.3"));
        assert_eq!(extra.len(), 1);
        assert!(extra[0].contains("request named none"), "{extra:?}");
        // An empty element is no community.
        assert!(bad(None, Some(" "), Some("1.2.3")).is_empty());
        // The repository is required even when only one was asked.
        let missing = bad(None, None, None);
        assert_eq!(missing.len(), 1);
        assert!(missing[0].contains("no RepositoryUniqueId"), "{missing:?}");
    }

    /// A registry may give back a DTM at another precision, as long as it names the same instant.
    #[test]
    fn registered_times_compare_across_precision() {
        let entry = |t: &str| DocumentEntry {
            creation_time: Some(t.into()),
            availability_status: Some(e::STATUS_APPROVED.into()),
            ..DocumentEntry::default()
        };
        let diff = |a: &str, b: &str| metadata_differences(&entry(a), &entry(b));
        assert!(diff("202601151030", "20260115103000").is_empty());
        assert!(diff("20260115103000", "202601151030").is_empty());
        assert_eq!(diff("20260115103015", "202601151030").len(), 1);
        assert_eq!(diff("202601151030", "202601151031").len(), 1);
    }

    /// RFC 4122 §3: a UUID's hex digits are case insensitive on input.
    #[test]
    fn entry_uuids_compare_without_case() {
        let q = AdhocQueryRequest::get_documents_by_uuid(
            &["urn:uuid:6a3f2b9e-1c4d-4e5f-8a7b-9c0d1e2f3a4b"],
            "LeafClass",
        );
        let entry = |u: &str| DocumentEntry {
            entry_uuid: Some(u.into()),
            ..DocumentEntry::default()
        };
        assert!(
            entry_mismatches(&q, &entry("urn:uuid:6A3F2B9E-1C4D-4E5F-8A7B-9C0D1E2F3A4B"))
                .is_empty()
        );
        assert_eq!(
            entry_mismatches(&q, &entry("urn:uuid:00000000-1c4d-4e5f-8a7b-9c0d1e2f3a4b")).len(),
            1
        );
    }

    #[test]
    fn slot_values_unquote_lists_and_singles() {
        let p = |v: &str| QueryParam {
            name: "x".into(),
            values: vec![v.into()],
        };
        assert_eq!(slot_values(&p("('a','b''c')")), vec!["a", "b'c"]);
        assert_eq!(slot_values(&p("'P^^^&1.2&ISO'")), vec!["P^^^&1.2&ISO"]);
        assert_eq!(slot_values(&p("20260101")), vec!["20260101"]);
        assert_eq!(
            code_item("1.2.840.10008.5.1.4.1.1.88.59^^1.2.840.10008.2.6.1"),
            (
                "1.2.840.10008.5.1.4.1.1.88.59".to_string(),
                Some("1.2.840.10008.2.6.1".to_string())
            )
        );
        assert_eq!(code_item("X^^^S").1.as_deref(), Some("S"));
    }
}
