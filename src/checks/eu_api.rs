//! The HL7 Europe imaging API (Imaging Report IG 1.0.0-ballot, R4): what a Document Access
//! Provider's CapabilityStatement must declare.
//!
//! The IG's `EehrxfImagingDocumentAccessProvider` CapabilityStatement (kind `requirements`) groups
//! an MHD Document Responder, a PDQm Supplier and IUA, and marks each resource, interaction and
//! search parameter with the `capabilitystatement-expectation` extension: SHALL, SHOULD or MAY.
//! A SUT that claims the actor (`[mhd] eu_imaging_api = true`) answers `GET [base]/metadata` (the
//! FHIR R4 `capabilities` interaction, http.html §3.1.0.10) with a CapabilityStatement whose
//! server `rest` entry declares them:
//! - EUAPI-01 (SHALL): DocumentReference `read`, `search-type`, search parameters `patient` and
//!   `category`; Binary `read`; Patient `read`, `search-type`, search parameter `identifier`.
//! - EUAPI-02 (SHOULD): DocumentReference search parameters `type`, `date`, `status`,
//!   `identifier`, `bodysite`, `modality`; Patient `family`, `given`, `birthdate`; and `_id` on
//!   DocumentReference and Patient.
//!
//! Reading: `_id` is SHALL in the IG, but it is a parameter FHIR defines for every resource
//! (R4 search.html §3.1.1.5.1) and servers commonly leave such parameters out of their
//! statement; an undeclared `_id` is not evidence the server lacks it, so it is judged with the
//! SHOULD items. A parameter counts as declared in `rest.resource.searchParam` of its resource
//! or in `rest.searchParam` (parameters for all resources). The statement's `kind`, `instantiates`
//! and security section are not judged.

use serde_json::Value;

use crate::checks::{Check, Level, Subject, Verdict};

const ACTOR: &str = "HL7 Europe Imaging Report Document Access Provider";

const REQ: &str = "HL7 Europe Imaging Report IG 1.0.0-ballot §CapabilityStatement-EehrxfImagingDocumentAccessProvider (capabilitystatement-expectation)";

/// What one resource of the statement must declare: interactions and search parameters.
struct Needs {
    resource: &'static str,
    interactions: &'static [&'static str],
    params: &'static [&'static str],
}

const SHALL: &[Needs] = &[
    Needs {
        resource: "DocumentReference",
        interactions: &["read", "search-type"],
        params: &["patient", "category"],
    },
    Needs {
        resource: "Binary",
        interactions: &["read"],
        params: &[],
    },
    Needs {
        resource: "Patient",
        interactions: &["read", "search-type"],
        params: &["identifier"],
    },
];

const SHOULD: &[Needs] = &[
    Needs {
        resource: "DocumentReference",
        interactions: &[],
        params: &[
            "_id",
            "type",
            "date",
            "status",
            "identifier",
            "bodysite",
            "modality",
        ],
    },
    Needs {
        resource: "Patient",
        interactions: &[],
        params: &["_id", "family", "given", "birthdate"],
    },
];

/// The checks of the family.
#[rustfmt::skip]
pub const CHECKS: &[Check] = &[
    Check { id: "EUAPI-01", requirement: REQ, requirements: &["EUIMG-EehrxfImagingDocumentAccessProvider"], level: Level::Shall, actor: ACTOR, title: "The CapabilityStatement declares what the imaging Document Access Provider SHALL support (DocumentReference read and search by patient and category, Binary read, Patient read and search by identifier)", eval: euapi_01 },
    Check { id: "EUAPI-02", requirement: REQ, requirements: &["EUIMG-EehrxfImagingDocumentAccessProvider.should"], level: Level::Should, actor: ACTOR, title: "The CapabilityStatement declares what the imaging Document Access Provider SHOULD support (type, date, status, identifier, bodysite and modality searches; Patient demographics; _id)", eval: euapi_02 },
];

/// The CapabilityStatement of a `GET [base]/metadata` answer, or why there is none to judge.
fn statement(s: &Subject<'_>) -> Result<Value, Verdict> {
    let ex = s.exchange;
    let path = ex.request.url.split(['?', '#']).next().unwrap_or_default();
    if !path.trim_end_matches('/').ends_with("/metadata") {
        return Err(Verdict::na(
            "not a capabilities interaction (GET [base]/metadata)",
        ));
    }
    let Some(r) = &ex.response else {
        return Err(Verdict::na("no answer to judge"));
    };
    if r.status != 200 {
        return Err(Verdict::fail(
            "HTTP 200 and the server's CapabilityStatement (FHIR R4 http.html, capabilities)",
            format!("HTTP {}", r.status),
        ));
    }
    if !r.body.complete {
        return Err(Verdict::na("the answer was not read whole"));
    }
    let v: Value = serde_json::from_slice(&r.body.kept).map_err(|e| {
        Verdict::fail(
            "a CapabilityStatement in FHIR JSON",
            format!("a body that is not JSON ({e})"),
        )
    })?;
    if v["resourceType"] != "CapabilityStatement" {
        return Err(Verdict::fail(
            "a CapabilityStatement",
            format!(
                "resourceType {}",
                v["resourceType"].as_str().unwrap_or("(none)")
            ),
        ));
    }
    Ok(v)
}

/// What `cs` leaves out of `needs`, one phrase per item.
fn missing(cs: &Value, needs: &[Needs]) -> Vec<String> {
    let servers: Vec<&Value> = cs["rest"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["mode"] == "server")
        .collect();
    let names = |v: &Value, key: &str, field: &str| -> Vec<String> {
        v[key]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|x| x[field].as_str())
            .map(str::to_string)
            .collect()
    };
    let common: Vec<String> = servers
        .iter()
        .flat_map(|r| names(r, "searchParam", "name"))
        .collect();
    let mut out = Vec::new();
    for n in needs {
        let resources: Vec<&Value> = servers
            .iter()
            .flat_map(|r| r["resource"].as_array().into_iter().flatten())
            .filter(|res| res["type"] == n.resource)
            .collect();
        if resources.is_empty() {
            out.push(format!("no {} resource", n.resource));
            continue;
        }
        let interactions: Vec<String> = resources
            .iter()
            .flat_map(|r| names(r, "interaction", "code"))
            .collect();
        let params: Vec<String> = resources
            .iter()
            .flat_map(|r| names(r, "searchParam", "name"))
            .chain(common.iter().cloned())
            .collect();
        for i in n.interactions {
            if !interactions.iter().any(|x| x == i) {
                out.push(format!("{} {i}", n.resource));
            }
        }
        for p in n.params {
            if !params.iter().any(|x| x == p) {
                out.push(format!("{} search parameter {p}", n.resource));
            }
        }
    }
    out
}

fn judge(s: &Subject<'_>, needs: &[Needs], expected: &str) -> Verdict {
    let cs = match statement(s) {
        Ok(cs) => cs,
        Err(v) => return v,
    };
    let m = missing(&cs, needs);
    if m.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(expected, format!("not declared: {}", m.join(", ")))
    }
}

fn euapi_01(s: &Subject<'_>) -> Verdict {
    judge(
        s,
        SHALL,
        "a server CapabilityStatement declaring DocumentReference read and search-type with patient and category, Binary read, Patient read and search-type with identifier",
    )
}

fn euapi_02(s: &Subject<'_>) -> Verdict {
    match statement(s) {
        // A missing or broken statement is EUAPI-01's breach; this check judges only what one says.
        Err(Verdict::Fail { .. }) => Verdict::na("no CapabilityStatement (judged by EUAPI-01)"),
        Err(v) => v,
        Ok(_) => judge(
            s,
            SHOULD,
            "the search parameters the imaging Document Access Provider SHOULD support declared (type, date, status, identifier, bodysite, modality, _id; Patient family, given, birthdate, _id)",
        ),
    }
}

/// The reference's CapabilityStatement declares all of it; `drop` leaves one DocumentReference
/// search parameter out (the faults that prove EUAPI-01 and EUAPI-02 can fail).
pub fn document_reference_params(drop: Option<&str>) -> Vec<Value> {
    [
        "patient",
        "_id",
        "category",
        "type",
        "date",
        "status",
        "identifier",
        "bodysite",
        "modality",
        "period",
        "format",
        "setting",
        "facility",
        "event",
        "related",
        "patient.identifier",
    ]
    .into_iter()
    .filter(|p| Some(*p) != drop)
    .map(|p| serde_json::json!({"name": p, "type": param_type(p)}))
    .collect()
}

fn param_type(p: &str) -> &'static str {
    match p {
        "patient" | "related" => "reference",
        "date" | "period" => "date",
        _ => "token",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Expect;
    use crate::evidence::Exchange;
    use serde_json::json;

    fn cs(doc_params: Vec<Value>, common: &[&str]) -> Value {
        json!({
            "resourceType": "CapabilityStatement",
            "rest": [{
                "mode": "server",
                "searchParam": common.iter().map(|n| json!({"name": n, "type": "token"})).collect::<Vec<_>>(),
                "resource": [
                    {"type": "DocumentReference", "interaction": [{"code": "read"}, {"code": "search-type"}], "searchParam": doc_params},
                    {"type": "Binary", "interaction": [{"code": "read"}]},
                    {"type": "Patient", "interaction": [{"code": "read"}, {"code": "search-type"}],
                     "searchParam": [{"name": "_id"}, {"name": "identifier"}, {"name": "family"}, {"name": "given"}, {"name": "birthdate"}]}
                ]
            }]
        })
    }

    fn verdicts(url: &str, status: u16, body: &[u8]) -> (Verdict, Verdict) {
        let ex = Exchange::synthetic(
            url,
            &[],
            status,
            &[("content-type", "application/fhir+json")],
            body,
        );
        let expect = Expect::default();
        let s = Subject {
            exchange: &ex,
            expect: &expect,
            strict: false,
            followups: &[],
        };
        (euapi_01(&s), euapi_02(&s))
    }

    fn fails(v: &Verdict, needle: &str) -> bool {
        matches!(v, Verdict::Fail { actual, .. } if actual.contains(needle))
    }

    #[test]
    fn a_full_statement_passes_both() {
        let body = cs(document_reference_params(None), &[]).to_string();
        let (a, b) = verdicts("http://h/fhir/metadata", 200, body.as_bytes());
        assert_eq!((a, b), (Verdict::Pass, Verdict::Pass));
    }

    #[test]
    fn a_missing_shall_parameter_fails_the_shall_check() {
        let body = cs(document_reference_params(Some("category")), &[]).to_string();
        let (a, b) = verdicts("http://h/fhir/metadata", 200, body.as_bytes());
        assert!(
            fails(&a, "DocumentReference search parameter category"),
            "{a:?}"
        );
        assert_eq!(b, Verdict::Pass);
    }

    #[test]
    fn a_missing_should_parameter_fails_only_the_should_check() {
        let body = cs(document_reference_params(Some("modality")), &[]).to_string();
        let (a, b) = verdicts("http://h/fhir/metadata", 200, body.as_bytes());
        assert_eq!(a, Verdict::Pass);
        assert!(
            fails(&b, "DocumentReference search parameter modality"),
            "{b:?}"
        );
    }

    #[test]
    fn parameters_for_all_resources_count_for_each() {
        let params = document_reference_params(Some("_id"));
        let body = cs(params.clone(), &[]).to_string();
        let (_, b) = verdicts("http://h/fhir/metadata", 200, body.as_bytes());
        assert!(fails(&b, "DocumentReference search parameter _id"), "{b:?}");
        let body = cs(params, &["_id"]).to_string();
        let (_, b) = verdicts("http://h/fhir/metadata", 200, body.as_bytes());
        assert_eq!(b, Verdict::Pass);
    }

    #[test]
    fn a_statement_without_resources_fails_and_other_answers_are_judged() {
        // What a FHIR server that declares only its system interactions answers.
        let bare = json!({"resourceType": "CapabilityStatement", "rest": [{"mode": "server", "interaction": [{"code": "transaction"}]}]});
        let (a, b) = verdicts("http://h/fhir/metadata", 200, bare.to_string().as_bytes());
        assert!(fails(&a, "no DocumentReference resource"), "{a:?}");
        assert!(fails(&a, "no Binary resource"), "{a:?}");
        assert!(fails(&b, "no Patient resource"), "{b:?}");
        // A client-mode statement declares nothing a server supports.
        let client = json!({"resourceType": "CapabilityStatement", "rest": [{"mode": "client", "resource": [{"type": "Binary", "interaction": [{"code": "read"}]}]}]});
        let (a, _) = verdicts("http://h/fhir/metadata", 200, client.to_string().as_bytes());
        assert!(fails(&a, "no Binary resource"), "{a:?}");
        let (a, b) = verdicts("http://h/fhir/metadata", 404, b"{}");
        assert!(fails(&a, "HTTP 404"), "{a:?}");
        assert!(matches!(b, Verdict::NotApplicable(_)), "{b:?}");
        let (a, _) = verdicts("http://h/fhir/metadata", 200, b"<html/>");
        assert!(fails(&a, "not JSON"), "{a:?}");
        let (a, _) = verdicts(
            "http://h/fhir/metadata",
            200,
            br#"{"resourceType":"Bundle"}"#,
        );
        assert!(fails(&a, "resourceType Bundle"), "{a:?}");
        let (a, b) = verdicts("http://h/fhir/DocumentReference?patient=x", 200, b"{}");
        assert!(matches!(a, Verdict::NotApplicable(_)), "{a:?}");
        assert!(matches!(b, Verdict::NotApplicable(_)), "{b:?}");
    }
}
