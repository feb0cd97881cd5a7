//! The ITI-65 Document Source rules (MHD-01..08, MHD-10) as a pure validator over a Bundle.

use std::collections::{BTreeSet, HashMap, HashSet};

use serde_json::Value;

use super::json::*;
use super::rules::*;
use super::{v, Violation};
use crate::model::mhd_bundle::{
    sha1_base64, EXT_DESIGNATION_TYPE, EXT_SOURCE_ID, MHD_LIST_TYPES, PROFILE_COMPREHENSIVE,
    PROFILE_MINIMAL, PROFILE_UNCONTAINED,
};

/// The entries of a Bundle indexed by fullUrl and by `Type/id`, and the PATCH targets that set
/// `superseded`: reference resolution in constant time, so judging stays linear in the entries.
pub(super) struct Index<'a> {
    entries: &'a [Value],
    by_url: HashMap<&'a str, usize>,
    by_ref: HashMap<String, usize>,
    superseded: HashSet<String>,
}

impl<'a> Index<'a> {
    fn new(bundle: &'a Value) -> Index<'a> {
        let entries = arr(bundle, "entry");
        let mut by_url = HashMap::new();
        let mut by_ref = HashMap::new();
        let mut superseded = HashSet::new();
        for (i, e) in entries.iter().enumerate() {
            if let Some(u) = str_at(e, "fullUrl") {
                by_url.entry(u).or_insert(i);
                if !u.starts_with("urn:") {
                    by_ref.entry(canonical_reference(u)).or_insert(i);
                }
            }
            if let Some(r) = e.get("resource") {
                if let (Some(rt), Some(id)) = (str_at(r, "resourceType"), str_at(r, "id")) {
                    by_ref.entry(format!("{rt}/{id}")).or_insert(i);
                }
            }
            if method(e) == "PATCH" && e.get("resource").is_some_and(sets_superseded) {
                if let Some(u) = e.get("request").and_then(|q| str_at(q, "url")) {
                    superseded.insert(canonical_reference(u));
                }
            }
        }
        Index {
            entries,
            by_url,
            by_ref,
            superseded,
        }
    }

    /// The entry a reference resolves to (fullUrl, or `Type/id` against relative fullUrls).
    fn resolve(&self, reference: &str) -> Option<(usize, &'a Value)> {
        let i = self.by_url.get(reference).copied().or_else(|| {
            if reference.starts_with("urn:") || reference.is_empty() {
                None
            } else {
                self.by_ref.get(&canonical_reference(reference)).copied()
            }
        })?;
        self.entries.get(i).map(|e| (i, e))
    }
}

/// Judge an ITI-65 Provide Document Bundle against the Document Source rules MHD-01..08 and
/// MHD-10 (MHD-06 only when `comprehensive`). `content_type` is the request's Content-Type, if
/// known. Bounded work: linear in the number of entries (references resolve through a hash index),
/// base64 decoding bounded by the body size.
pub fn validate_provide_bundle(
    bundle: &Value,
    content_type: Option<&str>,
    comprehensive: bool,
) -> Vec<Violation> {
    let mut out = Vec::new();
    // MHD-01.
    if let Some(ct) = content_type {
        let m = media_type(ct);
        if m != "application/fhir+json" && m != "application/fhir+xml" {
            out.push(v(
                &MHD_01,
                "Content-Type",
                format!(
                    "Content-Type is {}, not application/fhir+json or application/fhir+xml",
                    shown(Some(ct))
                ),
            ));
        }
    }
    if str_at(bundle, "resourceType") != Some("Bundle") {
        out.push(v(
            &MHD_01,
            "Bundle",
            format!(
                "the body is a {}, not a Bundle",
                shown(str_at(bundle, "resourceType"))
            ),
        ));
        return out;
    }
    if str_at(bundle, "type") != Some("transaction") {
        out.push(v(
            &MHD_01,
            "Bundle.type",
            format!(
                "Bundle.type is {}, not transaction",
                shown(str_at(bundle, "type"))
            ),
        ));
    }
    let profiles: Vec<&str> = bundle
        .get("meta")
        .map(|m| arr(m, "profile").iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let known = [PROFILE_MINIMAL, PROFILE_COMPREHENSIVE, PROFILE_UNCONTAINED];
    if !profiles
        .iter()
        .any(|p| known.contains(&p.split('|').next().unwrap_or(p)))
    {
        out.push(v(
            &MHD_01,
            "Bundle.meta.profile",
            format!(
                "meta.profile [{}] names no MHD ProvideBundle profile",
                profiles.join(", ")
            ),
        ));
    }
    let uncontained = profiles.iter().any(|p| p.starts_with(PROFILE_UNCONTAINED));
    let index = Index::new(bundle);
    submission_set_rules(bundle, comprehensive, &mut out);
    let mut subjects: Vec<(String, String)> = Vec::new();
    for (i, e) in entries(bundle) {
        let Some(r) = e.get("resource") else { continue };
        let at = format!("Bundle.entry[{i}].resource");
        match resource_type(e) {
            "DocumentReference" if method(e) != "PATCH" => {
                document_reference_rules(&index, r, &at, comprehensive, uncontained, &mut out);
                identifier_rules(r, &at, false, &mut out);
                replace_rules(&index, r, &at, &mut out);
                if let Some(k) = r.get("subject").and_then(subject_key) {
                    subjects.push((format!("{at}.subject"), k));
                }
            }
            "List" => {
                identifier_rules(r, &at, is_submission_set(r), &mut out);
                if let Some(k) = r.get("subject").and_then(subject_key) {
                    subjects.push((format!("{at}.subject"), k));
                }
            }
            _ => {}
        }
    }
    // MHD-08: one patient, and a Patient.
    if let Some((_, first)) = subjects.first() {
        for (at, k) in &subjects {
            if k != first {
                out.push(v(
                    &MHD_08,
                    at.clone(),
                    format!("subject {k} differs from {first}"),
                ));
            }
        }
        for (at, k) in &subjects {
            let is_patient = if k.starts_with("urn:") {
                index
                    .resolve(k)
                    .is_none_or(|(_, e)| resource_type(e) == "Patient")
            } else if k.starts_with('#') || k.contains('|') {
                true
            } else {
                k.starts_with("Patient/")
            };
            if !is_patient {
                out.push(v(
                    &MHD_08,
                    at.clone(),
                    format!("subject {k} is not a Patient"),
                ));
            }
        }
    }
    out
}

pub(super) fn submission_set_rules(bundle: &Value, comprehensive: bool, out: &mut Vec<Violation>) {
    let sets: Vec<(usize, &Value)> = entries(bundle)
        .filter(|(_, e)| {
            resource_type(e) == "List" && e.get("resource").is_some_and(is_submission_set)
        })
        .collect();
    if sets.len() != 1 {
        out.push(v(
            &MHD_02,
            "Bundle.entry",
            format!(
                "{} SubmissionSet Lists (code submissionset); exactly 1 is required",
                sets.len()
            ),
        ));
    }
    for (i, e) in sets {
        let at = format!("Bundle.entry[{i}].resource");
        let Some(l) = e.get("resource") else { continue };
        if method(e) != "POST" {
            out.push(v(
                &MHD_02,
                format!("Bundle.entry[{i}].request.method"),
                format!("request.method is {}, not POST", shown(Some(method(e)))),
            ));
        }
        if !l
            .get("code")
            .is_some_and(|c| has_coding(c, MHD_LIST_TYPES, "submissionset"))
        {
            out.push(v(
                &MHD_02,
                format!("{at}.code"),
                format!("code is not {MHD_LIST_TYPES}#submissionset"),
            ));
        }
        for (key, want) in [("mode", "working"), ("status", "current")] {
            if str_at(l, key) != Some(want) {
                out.push(v(
                    &MHD_02,
                    format!("{at}.{key}"),
                    format!("{key} is {}, not {want}", shown(str_at(l, key))),
                ));
            }
        }
        if !present(l, "date") {
            out.push(v(&MHD_02, format!("{at}.date"), "date is absent (1..1)"));
        }
        let exts = arr(l, "extension");
        let source = exts
            .iter()
            .filter(|x| str_at(x, "url") == Some(EXT_SOURCE_ID))
            .count();
        let source_ok = exts.iter().any(|x| {
            str_at(x, "url") == Some(EXT_SOURCE_ID)
                && x.get("valueIdentifier")
                    .is_some_and(|i| present(i, "value"))
        });
        if source != 1 || !source_ok {
            out.push(v(
                &MHD_02,
                format!("{at}.extension('{EXT_SOURCE_ID}')"),
                format!(
                    "{source} sourceId extensions with a valueIdentifier; exactly 1 is required"
                ),
            ));
        }
        if comprehensive {
            if !present(l, "subject") {
                out.push(v(
                    &MHD_06,
                    format!("{at}.subject"),
                    "SubmissionSet.subject is absent",
                ));
            }
            if !exts
                .iter()
                .any(|x| str_at(x, "url") == Some(EXT_DESIGNATION_TYPE))
            {
                out.push(v(
                    &MHD_06,
                    format!("{at}.extension('{EXT_DESIGNATION_TYPE}')"),
                    "SubmissionSet designationType extension is absent",
                ));
            }
        }
    }
}

pub(super) fn document_reference_rules(
    bundle: &Index<'_>,
    r: &Value,
    at: &str,
    comprehensive: bool,
    uncontained: bool,
    out: &mut Vec<Violation>,
) {
    let master = r.get("masterIdentifier").and_then(|m| str_at(m, "value"));
    if master.is_none_or(|m| m.trim().is_empty()) {
        out.push(v(
            &MHD_03,
            format!("{at}.masterIdentifier"),
            "masterIdentifier is absent",
        ));
    }
    if let Some(m) = master {
        for (j, id) in arr(r, "identifier").iter().enumerate() {
            if identifier_kind(id) == Some("uniqueId")
                && id.get("type").is_some()
                && str_at(id, "value") != Some(m)
            {
                out.push(v(
                    &MHD_03,
                    format!("{at}.identifier[{j}]"),
                    format!(
                        "identifier[uniqueId] {} differs from masterIdentifier {}",
                        shown(str_at(id, "value")),
                        shown(Some(m))
                    ),
                ));
            }
        }
    }
    match str_at(r, "status") {
        Some("current") | Some("superseded") => {}
        other => out.push(v(
            &MHD_03,
            format!("{at}.status"),
            format!("status is {}, not current or superseded", shown(other)),
        )),
    }
    if present(r, "docStatus") {
        out.push(v(
            &MHD_03,
            format!("{at}.docStatus"),
            "docStatus is present (0..0)",
        ));
    }
    if present(r, "modifierExtension") {
        out.push(v(
            &MHD_03,
            format!("{at}.modifierExtension"),
            "modifierExtension is present (0..0)",
        ));
    }
    let content = arr(r, "content");
    if content.len() != 1 {
        out.push(v(
            &MHD_03,
            format!("{at}.content"),
            format!("{} content elements; exactly 1 is required", content.len()),
        ));
    }
    for (j, c) in content.iter().enumerate() {
        let cat = format!("{at}.content[{j}].attachment");
        let Some(a) = c.get("attachment") else {
            out.push(v(&MHD_03, cat, "attachment is absent"));
            continue;
        };
        if !present(a, "contentType") {
            out.push(v(
                &MHD_03,
                format!("{cat}.contentType"),
                "contentType is absent",
            ));
        }
        if present(a, "data") {
            out.push(v(
                &MHD_03,
                format!("{cat}.data"),
                "attachment.data is present (0..0)",
            ));
        }
        let Some(url) = str_at(a, "url").filter(|u| !u.trim().is_empty()) else {
            out.push(v(&MHD_03, format!("{cat}.url"), "attachment.url is absent"));
            continue;
        };
        binary_rules(bundle, a, url, &cat, out);
        if comprehensive {
            for key in ["language", "creation"] {
                if !present(a, key) {
                    out.push(v(
                        &MHD_06,
                        format!("{cat}.{key}"),
                        format!("attachment.{key} is absent"),
                    ));
                }
            }
            if !present(c, "format") {
                out.push(v(
                    &MHD_06,
                    format!("{at}.content[{j}].format"),
                    "content.format is absent",
                ));
            }
        }
    }
    if comprehensive {
        comprehensive_rules(r, at, uncontained, out);
    }
}

pub(super) fn binary_rules(
    bundle: &Index<'_>,
    a: &Value,
    url: &str,
    at: &str,
    out: &mut Vec<Violation>,
) {
    let points_at_bundle =
        url.starts_with("urn:uuid:") || url.starts_with("Binary/") || url.contains("/Binary/");
    let target = bundle.resolve(url);
    let Some((ti, te)) = target else {
        if points_at_bundle {
            out.push(v(
                &MHD_04,
                format!("{at}.url"),
                format!(
                    "attachment.url {} resolves to no entry of the Bundle",
                    shown(Some(url))
                ),
            ));
        }
        return;
    };
    let Some(res) = te.get("resource") else {
        out.push(v(
            &MHD_04,
            format!("{at}.url"),
            format!("entry {ti} has no resource"),
        ));
        return;
    };
    match str_at(res, "resourceType") {
        Some("Binary") => {
            let Some(data) = str_at(res, "data") else {
                return; // on-demand or otherwise without data: size/hash unverifiable.
            };
            let Some(bytes) = b64_decode(data) else {
                out.push(v(
                    &MHD_05,
                    format!("Bundle.entry[{ti}].resource.data"),
                    "Binary.data is not valid base64",
                ));
                return;
            };
            match a.get("size").and_then(Value::as_u64) {
                None => out.push(v(
                    &MHD_05,
                    format!("{at}.size"),
                    format!("size is absent; the Binary holds {} bytes", bytes.len()),
                )),
                Some(s) if s != bytes.len() as u64 => out.push(v(
                    &MHD_05,
                    format!("{at}.size"),
                    format!(
                        "size {s} differs from the {} bytes of the Binary",
                        bytes.len()
                    ),
                )),
                Some(_) => {}
            }
            let actual = sha1_base64(&bytes);
            match str_at(a, "hash") {
                None => out.push(v(
                    &MHD_05,
                    format!("{at}.hash"),
                    format!("hash is absent; SHA-1 of the Binary is {actual}"),
                )),
                Some(h) if !same_hash(h, &actual) => {
                    let hex_digest = hex::encode(
                        ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &bytes)
                            .as_ref(),
                    );
                    let note = if b64_decode(h)
                        .is_some_and(|d| d.eq_ignore_ascii_case(hex_digest.as_bytes()))
                    {
                        " (the declared hash is the base64 of the hex digest, not of the 20 digest bytes)"
                    } else {
                        ""
                    };
                    out.push(v(
                        &MHD_05,
                        format!("{at}.hash"),
                        format!("hash {h} differs from the SHA-1 of the Binary, {actual}{note}"),
                    ))
                }
                Some(_) => {}
            }
        }
        Some("Bundle") => {
            if present(a, "hash") || present(a, "size") {
                out.push(v(
                    &MHD_05,
                    at.to_string(),
                    "hash/size given for a FHIR Document Bundle (they shall be omitted)",
                ));
            }
        }
        other => out.push(v(
            &MHD_04,
            format!("{at}.url"),
            format!(
                "attachment.url {} resolves to a {}, not a Binary",
                shown(Some(url)),
                other.unwrap_or("resource without resourceType")
            ),
        )),
    }
}

pub(super) fn comprehensive_rules(
    r: &Value,
    at: &str,
    uncontained: bool,
    out: &mut Vec<Violation>,
) {
    for key in ["type", "category", "subject", "securityLabel", "context"] {
        if !present(r, key) {
            out.push(v(
                &MHD_06,
                format!("{at}.{key}"),
                format!("{key} is absent"),
            ));
        }
    }
    if let Some(ctx) = r.get("context") {
        for key in ["facilityType", "practiceSetting", "sourcePatientInfo"] {
            if !present(ctx, key) {
                out.push(v(
                    &MHD_06,
                    format!("{at}.context.{key}"),
                    format!("context.{key} is absent"),
                ));
            }
        }
    }
    if uncontained {
        return;
    }
    let contained: BTreeSet<String> = arr(r, "contained")
        .iter()
        .filter_map(|c| str_at(c, "id"))
        .map(|id| format!("#{id}"))
        .collect();
    let mut refs: Vec<(String, &str)> = Vec::new();
    if let Some(s) = r
        .get("context")
        .and_then(|c| c.get("sourcePatientInfo"))
        .and_then(|s| str_at(s, "reference"))
    {
        refs.push((format!("{at}.context.sourcePatientInfo"), s));
    }
    for (j, a) in arr(r, "author").iter().enumerate() {
        if let Some(s) = str_at(a, "reference") {
            refs.push((format!("{at}.author[{j}]"), s));
        }
    }
    if let Some(s) = r.get("authenticator").and_then(|a| str_at(a, "reference")) {
        refs.push((format!("{at}.authenticator"), s));
    }
    for (path, s) in refs {
        if !contained.contains(s) {
            out.push(v(
                &MHD_06,
                path,
                format!(
                    "reference {} is not to a contained resource",
                    shown(Some(s))
                ),
            ));
        }
    }
}

pub(super) fn identifier_rules(
    r: &Value,
    at: &str,
    submission_set: bool,
    out: &mut Vec<Violation>,
) {
    let mut unique = 0;
    for (j, id) in arr(r, "identifier").iter().enumerate() {
        let value = str_at(id, "value").unwrap_or("");
        match identifier_kind(id) {
            Some("entryUUID") if !value.starts_with("urn:uuid:") => out.push(v(
                &MHD_07,
                format!("{at}.identifier[{j}]"),
                format!(
                    "entryUUID {} does not start with urn:uuid: (mhd-startswithuuid)",
                    shown(Some(value))
                ),
            )),
            Some("uniqueId") if submission_set => {
                unique += 1;
                if !value.starts_with("urn:oid:") {
                    out.push(v(
                        &MHD_07,
                        format!("{at}.identifier[{j}]"),
                        format!(
                            "SubmissionSet uniqueId {} does not start with urn:oid: (mhd-startswithoid)",
                            shown(Some(value))
                        ),
                    ));
                }
            }
            _ => {}
        }
    }
    if submission_set && unique == 0 {
        out.push(v(
            &MHD_07,
            format!("{at}.identifier"),
            "SubmissionSet has no uniqueId identifier",
        ));
    }
}

pub(super) fn replace_rules(index: &Index<'_>, r: &Value, at: &str, out: &mut Vec<Violation>) {
    for (j, rel) in arr(r, "relatesTo").iter().enumerate() {
        if str_at(rel, "code") != Some("replaces") {
            continue;
        }
        let Some(target) = rel.get("target").and_then(|t| str_at(t, "reference")) else {
            continue;
        };
        // The replaced DocumentReference is PATCHed to superseded (ITI TF-2 3.65.4.1.2.3), or,
        // when it is created in the same bundle, created already superseded.
        let created_superseded = index.resolve(target).is_some_and(|(_, e)| {
            method(e) == "POST"
                && e.get("resource")
                    .is_some_and(|t| str_at(t, "status") == Some("superseded"))
        });
        if !created_superseded && !index.superseded.contains(&canonical_reference(target)) {
            out.push(v(
                &MHD_10,
                format!("{at}.relatesTo[{j}]"),
                format!("no PATCH entry of {target} setting status to superseded"),
            ));
        }
    }
}

pub(super) fn sets_superseded(patch: &Value) -> bool {
    if str_at(patch, "resourceType") == Some("Binary") {
        return str_at(patch, "data")
            .and_then(b64_decode)
            .is_some_and(|b| String::from_utf8_lossy(&b).contains("superseded"));
    }
    // A Parameters FHIRPath Patch: any part valued `superseded`. Bounded by the resource size.
    patch.to_string().contains("\"superseded\"")
}
