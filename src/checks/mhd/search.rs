//! The ITI-66 and ITI-67 search checks: the request (MHD-11, MHD-12), the answer's type, bundle
//! and matches (MHD-13, MHD-14), and every result about the patient and parameters asked, across
//! its pages (MHD-18), with the identifier and patient matching they share.

use super::*;

pub(super) fn search_request_rule(
    s: &Subject<'_>,
    transaction: Transaction,
    need_code: bool,
) -> Verdict {
    let ex = s.exchange;
    if ex.transaction != transaction || ex.direction != Direction::Inbound {
        return Verdict::na(format!("not an inbound {transaction} request"));
    }
    let params = request_params(ex);
    let has = |name: &str| params.iter().any(|(k, _)| param_base(k) == name);
    let mut p = Vec::new();
    if !(has("patient")
        || has("patient.identifier")
        || params.iter().any(|(k, _)| k == "patient:identifier"))
    {
        p.push("no patient or patient.identifier".to_string());
    }
    if !has("status") {
        p.push("no status".into());
    }
    if need_code && !has("code") {
        p.push("no code".into());
    }
    for (k, v) in &params {
        if param_base(k) == "status" && v.contains('|') {
            p.push(format!(
                "status token {} has a system (code only)",
                shown(Some(v))
            ));
        }
    }
    let expected = if need_code {
        "patient or patient.identifier, code and status (code only)"
    } else {
        "patient or patient.identifier and status (code only)"
    };
    fails(p, expected)
}

pub(super) fn mhd_11(s: &Subject<'_>) -> Verdict {
    search_request_rule(s, Transaction::Iti67, false)
}

pub(super) fn mhd_12(s: &Subject<'_>) -> Verdict {
    search_request_rule(s, Transaction::Iti66, true)
}

pub(super) fn is_search_response(ex: &Exchange) -> bool {
    matches!(ex.transaction, Transaction::Iti66 | Transaction::Iti67)
        && ex.direction == Direction::Outbound
}

/// Did the harness ask for XML (`_format` or Accept)?
pub(super) fn asked_xml(ex: &Exchange) -> bool {
    let fmt = request_params(ex)
        .into_iter()
        .find(|(k, _)| k == "_format")
        .map(|(_, v)| v.to_ascii_lowercase());
    if let Some(f) = fmt {
        return f.contains("xml");
    }
    ex.request
        .header("accept")
        .is_some_and(|a| a.contains("xml") && !a.contains("json"))
}

pub(super) fn mhd_13(s: &Subject<'_>) -> Verdict {
    let ex = s.exchange;
    if !is_search_response(ex) {
        return Verdict::na("not an ITI-66/67 response");
    }
    let status = ex.status().unwrap_or(0);
    let post = ex.request.method.eq_ignore_ascii_case("POST");
    let xml_wanted = asked_xml(ex);
    let what = format!(
        "{} {} answered in {}",
        if post { "POST _search" } else { "GET" },
        ex.transaction,
        if xml_wanted { "FHIR XML" } else { "FHIR JSON" }
    );
    if !(200..300).contains(&status) {
        // Every search the harness sends is valid (ITI TF-2 3.66.4.1.2, 3.67.4.1.2): a Responder
        // shall answer GET and POST `_search`, in JSON and XML. Refusing one (400, 404, 405,
        // 406, 415, 501, ...) is not supporting it, unless the scenario asked for that status.
        if s.expect.status.contains(&status) {
            return Verdict::na(format!("HTTP {status}, which the scenario expects"));
        }
        return Verdict::fail(format!("{what} supported"), format!("HTTP {status}"));
    }
    let ct = ex
        .response
        .as_ref()
        .and_then(|r| r.header("content-type"))
        .unwrap_or("");
    let ok = if xml_wanted {
        is_xml_type(ct)
    } else {
        is_json_type(ct)
    };
    if ok {
        Verdict::Pass
    } else {
        Verdict::fail(
            what,
            format!("Content-Type {}", if ct.is_empty() { "(none)" } else { ct }),
        )
    }
}

/// The matched resources of a searchset (search.mode absent or `match`), with their types.
pub(super) fn matches<'a>(bundle: &'a Value, rt: &str) -> Vec<&'a Value> {
    arr(bundle, "entry")
        .iter()
        .filter(|e| {
            e.get("search")
                .and_then(|x| str_at(x, "mode"))
                .is_none_or(|m| m == "match")
        })
        .filter_map(|e| e.get("resource"))
        .filter(|r| str_at(r, "resourceType") == Some(rt))
        .collect()
}

pub(super) fn mhd_14(s: &Subject<'_>) -> Verdict {
    let ex = s.exchange;
    if !is_search_response(ex) {
        return Verdict::na("not an ITI-66/67 response");
    }
    let no_match = s
        .expect
        .mhd
        .known_matches
        .as_ref()
        .is_some_and(BTreeSet::is_empty);
    let status = ex.status().unwrap_or(0);
    let expected = "HTTP 200 with a searchset Bundle (empty when nothing matches)";
    if !(200..300).contains(&status) {
        // The harness's searches are valid: whatever matches, the answer is a searchset
        // (ITI TF-2 3.66.4.2.2, 3.67.4.2.2).
        return Verdict::fail(expected, format!("HTTP {status}"));
    }
    let b = match sut_resource(ex) {
        Ok(b) => b,
        Err(v) => return v,
    };
    let mut p = Vec::new();
    if status != 200 {
        p.push(format!("HTTP {status}"));
    }
    if str_at(&b, "resourceType") != Some("Bundle") || str_at(&b, "type") != Some("searchset") {
        p.push(format!(
            "a {} of type {}",
            str_at(&b, "resourceType").unwrap_or("<none>"),
            str_at(&b, "type").unwrap_or("<absent>")
        ));
    }
    if no_match {
        let rt = if ex.transaction == Transaction::Iti66 {
            "List"
        } else {
            "DocumentReference"
        };
        let n = matches(&b, rt).len();
        if n > 0 {
            p.push(format!("{n} {rt}s for a search that matches nothing"));
        }
        if let Some(t) = b.get("total").and_then(Value::as_u64).filter(|t| *t > 0) {
            p.push(format!("total {t}"));
        }
    }
    fails(p, expected)
}

pub(super) fn token_matches(value: &str, codes: &[(&str, &str)]) -> bool {
    value.split(',').any(|t| match t.split_once('|') {
        Some(("", code)) => codes.iter().any(|(s, c)| s.is_empty() && *c == code),
        Some((sys, "")) => codes.iter().any(|(s, _)| *s == sys),
        Some((sys, code)) => codes.iter().any(|(s, c)| *s == sys && *c == code),
        None => codes.iter().any(|(_, c)| *c == t),
    })
}

pub(super) fn strip_oid(s: &str) -> &str {
    s.strip_prefix("urn:oid:").unwrap_or(s)
}

pub(super) fn patient_matches(value: &str, subject: Option<&Value>) -> bool {
    let Some(r) = subject.and_then(|s| str_at(s, "reference")) else {
        // A search by patient matches only resources that reference the patient.
        return false;
    };
    let want = canonical_reference(value);
    let want = if want.contains('/') {
        want
    } else {
        format!("Patient/{value}")
    };
    canonical_reference(r) == want
}

/// A `patient.identifier` token against a subject: by the identifier it carries, or by the
/// Patient it references (`refs`: the SUT's Patients with that identifier, when looked up).
pub(super) fn patient_identifier_matches(
    value: &str,
    subject: Option<&Value>,
    refs: Option<&BTreeSet<String>>,
) -> bool {
    let Some(subject) = subject else {
        return false;
    };
    if let Some(i) = subject.get("identifier") {
        let sys = str_at(i, "system").unwrap_or("");
        let val = str_at(i, "value").unwrap_or("");
        return token_matches(value, &[(sys, val)]);
    }
    match (str_at(subject, "reference"), refs) {
        (Some(r), Some(refs)) => refs.contains(&canonical_reference(r)),
        // Neither an identifier nor a known Patient: the harness cannot tell.
        _ => true,
    }
}

/// Identifiers of `context.related`.
pub(super) fn related_identifiers(r: &Value) -> Vec<&Value> {
    r.get("context")
        .map(|c| arr(c, "related"))
        .unwrap_or(&[])
        .iter()
        .filter_map(|x| x.get("identifier"))
        .collect()
}

pub(super) fn identifier_token_matches(value: &str, ids: &[&Value]) -> bool {
    value.split(',').any(|t| {
        let (sys, want) = match t.split_once('|') {
            Some((s, v)) => (Some(s), v),
            None => (None, t),
        };
        ids.iter().any(|i| {
            let v = str_at(i, "value").unwrap_or("");
            sys.is_none_or(|s| s.is_empty() || str_at(i, "system") == Some(s))
                && (v == want || strip_oid(v) == strip_oid(want))
        })
    })
}

pub(super) fn typed_as(i: &Value, codes: &[&str]) -> bool {
    i.get("type")
        .is_some_and(|t| codings(t).any(|(_, c)| codes.contains(&c)))
}

/// Why `r` does not match the search parameter `(k, value)`, if it does not (None when it matches
/// or the parameter is not verified).
pub(super) fn mismatch(
    r: &Value,
    k: &str,
    value: &str,
    patient_refs: Option<&BTreeSet<String>>,
) -> Option<String> {
    let context = r.get("context");
    let cc_in = |v: Option<&Value>| {
        v.is_some_and(|c| token_matches(value, &codings(c).collect::<Vec<_>>()))
    };
    let ok = match param_base(k) {
        "patient" | "subject" => patient_matches(value, r.get("subject")),
        "patient.identifier" | "subject.identifier" => {
            patient_identifier_matches(value, r.get("subject"), patient_refs)
        }
        "status" => value.split(',').any(|st| str_at(r, "status") == Some(st)),
        "type" => cc_in(r.get("type")),
        "category" => arr(r, "category").iter().any(|c| cc_in(Some(c))),
        "code" => cc_in(r.get("code")),
        "format" => arr(r, "content")
            .iter()
            .filter_map(|c| c.get("format"))
            .any(|f| {
                token_matches(
                    value,
                    &[(
                        str_at(f, "system").unwrap_or(""),
                        str_at(f, "code").unwrap_or(""),
                    )],
                )
            }),
        "setting" => cc_in(context.and_then(|c| c.get("practiceSetting"))),
        "facility" => cc_in(context.and_then(|c| c.get("facilityType"))),
        "event" => context
            .map(|c| arr(c, "event"))
            .unwrap_or(&[])
            .iter()
            .any(|e| cc_in(Some(e))),
        "security-label" => arr(r, "securityLabel").iter().any(|c| cc_in(Some(c))),
        "modality" => token_matches(value, &modality_codes(r)),
        "study-instance-uid" => value.split(',').any(|t| {
            let want = strip_oid(t.rsplit('|').next().unwrap_or(t));
            study_uids(r).iter().any(|u| strip_oid(u) == want)
        }),
        "accession-number" => {
            let ids: Vec<&Value> = related_identifiers(r)
                .into_iter()
                .filter(|i| typed_as(i, &["ACSN", "121022"]))
                .collect();
            identifier_token_matches(value, &ids)
        }
        "related" => identifier_token_matches(value, &related_identifiers(r)),
        // DocumentReference.date (ITI-67) and List.date (ITI-66), IHE DocumentReference-Creation
        // (content.attachment.creation), context.period: ranges compared as FHIR R4 search
        // §3.1.1.4.7 does; only a value that matches under no reading of what R4 leaves open (the
        // zone of a value without one) is not a match.
        "period" | "date" | "creation" => {
            search_date::resource_matches(r, param_base(k), value) != Some(DateMatch::Never)
        }
        "identifier" => value.split(',').any(|t| {
            let want = t.rsplit('|').next().unwrap_or(t);
            identifier_values(r)
                .iter()
                .any(|v| v == want || strip_oid(v) == strip_oid(want))
        }),
        _ => true,
    };
    (!ok).then(|| {
        format!(
            "{} does not match {k}={value}",
            identifier_values(r)
                .first()
                .cloned()
                .unwrap_or_else(|| "<unidentified>".into())
        )
    })
}

pub(super) fn identifier_values(r: &Value) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    if let Some(m) = r.get("masterIdentifier").and_then(|m| str_at(m, "value")) {
        out.push(m.to_string());
    }
    out.extend(
        arr(r, "identifier")
            .iter()
            .filter_map(|i| str_at(i, "value"))
            .map(str::to_string),
    );
    out
}

/// The pages of a search: the first answer, then the `next` pages the harness followed.
pub(super) fn search_pages<'a>(s: &'a Subject<'_>) -> Vec<&'a Exchange> {
    std::iter::once(s.exchange)
        .chain(s.followups.iter().filter(|f| is_search_response(f)))
        .collect()
}

pub(super) fn has_next(bundle: &Value) -> bool {
    arr(bundle, "link")
        .iter()
        .any(|l| str_at(l, "relation") == Some("next"))
}

pub(super) fn mhd_18(s: &Subject<'_>) -> Verdict {
    let ex = s.exchange;
    if !is_search_response(ex) {
        return Verdict::na("not an ITI-66/67 response");
    }
    let e = &s.expect.mhd;
    let expected = "exactly the resources matching the search parameters";
    if !ex.status().is_some_and(|st| (200..300).contains(&st)) {
        // No result: the resources that match were not returned (MHD-13/14 judge the status).
        return match &e.known_matches {
            Some(known) if !known.is_empty() => Verdict::fail(
                expected,
                format!(
                    "HTTP {} without the {} matching resources",
                    ex.status().unwrap_or(0),
                    known.len()
                ),
            ),
            _ => Verdict::na("not a successful search"),
        };
    }
    let rt = if ex.transaction == Transaction::Iti66 {
        "List"
    } else {
        "DocumentReference"
    };
    let mut p = Vec::new();
    let mut returned: BTreeSet<String> = BTreeSet::new();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut more = false;
    for (n, page) in search_pages(s).into_iter().enumerate() {
        let b = match sut_resource(page) {
            Ok(b) => b,
            Err(v) if n == 0 => return v,
            Err(_) => {
                p.push(format!("page {} is not a readable FHIR Bundle", n + 1));
                continue;
            }
        };
        more = has_next(&b);
        for r in matches(&b, rt) {
            for (k, v) in &e.search {
                if k.starts_with('_') {
                    continue;
                }
                if let Some(m) = mismatch(r, k, v, e.patient_refs.as_ref()) {
                    p.push(m);
                }
            }
            // The pages of one search hold distinct resources (FHIR R4 §3.1.1.6 paging).
            let key = str_at(r, "id")
                .map(|id| format!("{rt}/{id}"))
                .or_else(|| identifier_values(r).first().cloned());
            if let Some(key) = key {
                if !seen.insert(key.clone()) {
                    p.push(format!("{key} is returned twice (page {})", n + 1));
                }
            }
            returned.extend(
                identifier_values(r)
                    .iter()
                    .map(|v| strip_oid(v).to_string()),
            );
        }
    }
    // Pages not followed to the end cannot say what is missing.
    if let Some(known) = &e.known_matches {
        if !more {
            for k in known {
                if !returned.contains(strip_oid(k)) {
                    p.push(format!("{k} is missing from the result"));
                }
            }
        }
    }
    for k in &e.must_not_match {
        if returned.contains(strip_oid(k)) {
            p.push(format!("{k} is in the result but does not match"));
        }
    }
    p.truncate(20);
    fails(p, expected)
}
