//! XCA checks of a Document Consumer (the SUT) that calls the harness's Initiating Gateway, with
//! the communities A and B behind it: what the consumer sends after it found entries that came
//! with `home` (IHE ITI TF-2 Rev. 20.0).
//!
//! The scenario knows which `home` each entry came with ([`XcaConsumerExpect::homes`]): read by the
//! step from the gateway's answers to the consumer's own stored queries, so the checks stay pure.
//! - XCA-08: a stored query that names entries by id (GetDocuments, GetRelatedDocuments,
//!   GetAssociations, …: no patient id) names in `AdhocQuery/@home` the community those entries
//!   came with. ITI TF-2 §3.18.4.1.2.3.8, as the Gazelle assertion ITI18-MU-018 states it: the
//!   homeCommunityId "shall be specified" when the consumer received it with the entry the query
//!   names. Reading: one query names one community, so a query naming entries of two
//!   communities cannot satisfy it for both and fails.
//! - XCA-09: each DocumentRequest of a Retrieve Document Set for a document whose entry came with
//!   `home` carries HomeCommunityId, equal to it (§3.43.4.1.2: "If the homeCommunityId value is
//!   specified in the DocumentEntry … the Document Consumer shall specify the homeCommunityId").
//!
//! Entries the gateway never returned (ids the scenario cannot place) are not judged.

use std::collections::{BTreeMap, BTreeSet};

use super::soap_message::SutMessage;
use super::{Check, Level, Subject, Verdict};
use crate::evidence::Direction;
use crate::model::ebrim::{AdhocQueryResponse, Message};
use crate::transaction::Transaction;

/// What a consumer-across-communities scenario knows.
#[derive(Debug, Clone, Default)]
pub struct XcaConsumerExpect {
    /// The `home` each entry came with, by its uniqueId and by its entryUUID; empty when the
    /// scenario is no such scenario.
    pub homes: BTreeMap<String, String>,
}

impl XcaConsumerExpect {
    /// Note the `home` of every ExtrinsicObject, RegistryPackage and ObjectRef of an answer the
    /// consumer received.
    pub fn learn(&mut self, answer: &AdhocQueryResponse) {
        let o = &answer.objects;
        let home_of = |h: &Option<String>| {
            h.as_deref()
                .map(str::trim)
                .filter(|h| !h.is_empty())
                .map(str::to_string)
        };
        for eo in o.extrinsic_objects.iter().chain(&o.registry_packages) {
            let Some(h) = home_of(&eo.home) else { continue };
            if let Some(id) = eo.id.as_deref().map(str::trim).filter(|i| !i.is_empty()) {
                self.homes.insert(id.to_string(), h.clone());
            }
            let uid = eo
                .external_identifiers
                .iter()
                .filter(|x| {
                    matches!(
                        x.scheme.as_deref().map(str::trim),
                        Some(crate::model::ebrim::DE_UNIQUE_ID | crate::model::ebrim::SS_UNIQUE_ID)
                    )
                })
                .filter_map(|x| x.value.as_deref().map(str::trim))
                .find(|v| !v.is_empty());
            if let Some(uid) = uid {
                self.homes.insert(uid.to_string(), h);
            }
        }
        for r in &o.object_refs {
            if let (Some(id), Some(h)) = (r.id.as_deref().map(str::trim), home_of(&r.home)) {
                if !id.is_empty() {
                    self.homes.insert(id.to_string(), h);
                }
            }
        }
    }
}

/// The checks.
pub const CHECKS: &[Check] = &[
    Check {
        id: "XCA-08",
        requirement: "IHE ITI TF-2 §3.18.4.1.2.3.8 (Gazelle ITI18-MU-018: a Document Consumer \
                      shall specify the homeCommunityId in a stored query naming an entry it \
                      received with one)",
        requirements: &["ITI2-3.18.4.1.2.3.8"],
        level: Level::Shall,
        actor: "Document Consumer (ITI-18, across communities)",
        title: "A stored query that names entries by id names in `home` the community they came \
                with",
        eval: id_query_names_home,
    },
    Check {
        id: "XCA-09",
        requirement: "IHE ITI TF-2 §3.43.4.1.2 (if the homeCommunityId is specified in the \
                      DocumentEntry, the Document Consumer shall specify it in the \
                      DocumentRequest)",
        requirements: &["ITI2-3.43.4.1.2-XCA"],
        level: Level::Shall,
        actor: "Document Consumer (ITI-43, across communities)",
        title: "Each DocumentRequest for a document whose entry came with `home` carries that \
                HomeCommunityId",
        eval: retrieve_names_home,
    },
];

/// Parameters that name a patient: such a query needs no `home` (§3.18.4.1.2.3.8 concerns
/// queries by id).
const PATIENT_PARAMS: &[&str] = &[
    "$XDSDocumentEntryPatientId",
    "$XDSSubmissionSetPatientId",
    "$XDSFolderPatientId",
    "$patientId",
];

/// The consumer's request in an inbound exchange of `transaction`, or why it is not judged.
fn request(s: &Subject<'_>, transaction: Transaction) -> Result<Message, Verdict> {
    let ex = s.exchange;
    if ex.transaction != transaction || ex.direction != Direction::Inbound {
        return Err(Verdict::na(format!(
            "not a {transaction} request of the SUT's Document Consumer"
        )));
    }
    if s.expect.xca_consumer.homes.is_empty() {
        return Err(Verdict::na(
            "the consumer received no entry with home in this scenario",
        ));
    }
    let msg = SutMessage::of(ex).map_err(|why| Verdict::na(why.to_string()))?;
    msg.message()
        .map_err(|why| Verdict::na(format!("no ebXML message to judge: {why}")))
}

/// The items of parameter values, unquoted: `('a','b')` and `'a'` alike.
fn items(values: &[String]) -> Vec<String> {
    values
        .iter()
        .flat_map(|v| {
            let v = v.trim();
            let inner = v
                .strip_prefix('(')
                .and_then(|x| x.strip_suffix(')'))
                .unwrap_or(v);
            inner
                .split(',')
                .map(|i| i.trim().trim_matches('\'').trim().to_string())
                .collect::<Vec<_>>()
        })
        .filter(|i| !i.is_empty())
        .collect()
}

fn id_query_names_home(s: &Subject<'_>) -> Verdict {
    let q = match request(s, Transaction::Iti18) {
        Ok(Message::AdhocQueryRequest(q)) => q,
        Ok(_) => return Verdict::na("the request is no AdhocQueryRequest"),
        Err(v) => return v,
    };
    if q.params
        .iter()
        .any(|p| PATIENT_PARAMS.contains(&p.name.trim()))
    {
        return Verdict::na("a query by patient: home is not asked of it");
    }
    let homes = &s.expect.xca_consumer.homes;
    let mut named: BTreeMap<String, String> = BTreeMap::new();
    for p in &q.params {
        for id in items(&p.values) {
            if let Some(h) = homes.get(&id) {
                named.insert(id, h.clone());
            }
        }
    }
    if named.is_empty() {
        return Verdict::na("the query names no entry the gateway returned with home");
    }
    let needed: BTreeSet<&String> = named.values().collect();
    let asked = q.home.as_deref().map(str::trim).filter(|h| !h.is_empty());
    let query = q.query_id.as_deref().unwrap_or("(no query id)");
    let list = |m: &BTreeMap<String, String>| {
        m.iter()
            .map(|(id, h)| format!("{id} (home {h})"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match asked {
        Some(h) if needed.len() == 1 && needed.contains(&h.to_string()) => Verdict::Pass,
        Some(h) => Verdict::fail(
            format!("AdhocQuery/@home naming the community of {}", list(&named)),
            format!("stored query {query} with home {h}"),
        ),
        None => Verdict::fail(
            format!("AdhocQuery/@home naming the community of {}", list(&named)),
            format!("stored query {query} without home"),
        ),
    }
}

fn retrieve_names_home(s: &Subject<'_>) -> Verdict {
    let r = match request(s, Transaction::Iti43) {
        Ok(Message::RetrieveDocumentSetRequest(r)) => r,
        Ok(_) => return Verdict::na("the request is no RetrieveDocumentSetRequest"),
        Err(v) => return v,
    };
    let homes = &s.expect.xca_consumer.homes;
    let mut judged = 0;
    let mut bad = Vec::new();
    for d in &r.documents {
        let Some(uid) = d.document_unique_id.as_deref().map(str::trim) else {
            continue;
        };
        let Some(h) = homes.get(uid) else { continue };
        judged += 1;
        match d
            .home_community_id
            .as_deref()
            .map(str::trim)
            .filter(|x| !x.is_empty())
        {
            Some(got) if got == h => {}
            Some(got) => bad.push(format!(
                "{uid}: HomeCommunityId {got}, its entry's home {h}"
            )),
            None => bad.push(format!("{uid}: no HomeCommunityId, its entry's home {h}")),
        }
    }
    if judged == 0 {
        return Verdict::na("the request names no document the gateway returned with home");
    }
    if bad.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(
            "each DocumentRequest carries the home its DocumentEntry came with",
            bad.join("; "),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::xds::tests::inbound;
    use crate::checks::{evaluate, Expect, Outcome};
    use crate::evidence::Exchange;
    use crate::model::ebrim::{
        self as e, AdhocQueryRequest, DocumentRequest, RetrieveDocumentSetRequest,
    };
    use crate::transport::soap;

    const A: &str = "urn:oid:1.3.6.1.4.1.21367.13.70.101";
    const B: &str = "urn:oid:1.3.6.1.4.1.21367.13.70.102";

    fn outcome(id: &str, ex: &Exchange) -> Outcome {
        let check = crate::checks::by_id(id).unwrap();
        let mut expect = Expect::default();
        expect.xca_consumer.homes = [("1.2.3", A), ("urn:uuid:e1", A), ("1.2.4", B)]
            .iter()
            .map(|(i, h)| (i.to_string(), h.to_string()))
            .collect();
        evaluate(
            check,
            &Subject {
                exchange: ex,
                expect: &expect,
                strict: false,
                followups: &[],
            },
        )
        .outcome
    }

    fn sent(t: Transaction, action: &str, body_xml: &str) -> Exchange {
        let env = soap::envelope(action, "urn:uuid:1", Some("http://h/xca"), body_xml);
        inbound(t, "application/soap+xml", env.as_bytes())
    }

    fn get_documents(ids: &[&str], home: Option<&str>) -> Exchange {
        let mut q = AdhocQueryRequest::get_documents_by_unique_id(ids, "LeafClass");
        q.home = home.map(str::to_string);
        sent(Transaction::Iti18, e::ACTION_STORED_QUERY, &q.to_xml())
    }

    fn retrieve(docs: &[(&str, Option<&str>)]) -> Exchange {
        let r = RetrieveDocumentSetRequest {
            documents: docs
                .iter()
                .map(|(uid, h)| DocumentRequest {
                    home_community_id: h.map(str::to_string),
                    repository_unique_id: Some("1.3.6.1.4.1.21367.13.80.110".into()),
                    document_unique_id: Some(uid.to_string()),
                })
                .collect(),
        };
        sent(Transaction::Iti43, e::ACTION_RETRIEVE, &r.to_xml())
    }

    #[test]
    fn xca_08_passes_with_the_entrys_home_and_fails_without_or_with_another() {
        assert_eq!(
            outcome("XCA-08", &get_documents(&["1.2.3"], Some(A))),
            Outcome::Pass
        );
        assert_eq!(
            outcome("XCA-08", &get_documents(&["1.2.3"], None)),
            Outcome::Fail
        );
        assert_eq!(
            outcome("XCA-08", &get_documents(&["1.2.3"], Some(B))),
            Outcome::Fail
        );
        // Entries of two communities in one query: no single home serves both.
        assert_eq!(
            outcome("XCA-08", &get_documents(&["1.2.3", "1.2.4"], Some(A))),
            Outcome::Fail
        );
        // An entry the gateway never returned, and a query by patient, are not judged.
        assert_eq!(
            outcome("XCA-08", &get_documents(&["9.9"], None)),
            Outcome::NotApplicable
        );
        let q = AdhocQueryRequest::find_documents(
            "P1^^^&1.2.3&ISO",
            &[e::STATUS_APPROVED],
            &[],
            "LeafClass",
        );
        let ex = sent(Transaction::Iti18, e::ACTION_STORED_QUERY, &q.to_xml());
        assert_eq!(outcome("XCA-08", &ex), Outcome::NotApplicable);
        // By entryUUID too.
        let mut q = AdhocQueryRequest::get_documents_by_uuid(&["urn:uuid:e1"], "LeafClass");
        let ex = sent(Transaction::Iti18, e::ACTION_STORED_QUERY, &q.to_xml());
        assert_eq!(outcome("XCA-08", &ex), Outcome::Fail);
        q.home = Some(A.into());
        let ex = sent(Transaction::Iti18, e::ACTION_STORED_QUERY, &q.to_xml());
        assert_eq!(outcome("XCA-08", &ex), Outcome::Pass);
    }

    #[test]
    fn xca_09_passes_with_the_entrys_home_and_fails_without_or_with_another() {
        assert_eq!(
            outcome("XCA-09", &retrieve(&[("1.2.3", Some(A))])),
            Outcome::Pass
        );
        assert_eq!(
            outcome(
                "XCA-09",
                &retrieve(&[("1.2.3", Some(A)), ("1.2.4", Some(B))])
            ),
            Outcome::Pass
        );
        assert_eq!(
            outcome("XCA-09", &retrieve(&[("1.2.3", None)])),
            Outcome::Fail
        );
        assert_eq!(
            outcome("XCA-09", &retrieve(&[("1.2.4", Some(A))])),
            Outcome::Fail
        );
        assert_eq!(
            outcome("XCA-09", &retrieve(&[("9.9", None)])),
            Outcome::NotApplicable
        );
    }

    #[test]
    fn the_homes_are_learnt_from_the_answer() {
        let mut x = XcaConsumerExpect::default();
        let mut eo = crate::model::ebrim::RegistryObject {
            kind: e::ObjectKind::ExtrinsicObject,
            id: Some("urn:uuid:e1".into()),
            lid: None,
            object_type: Some(e::DOC_ENTRY_STABLE.into()),
            status: Some(e::STATUS_APPROVED.into()),
            home: Some(A.into()),
            mime_type: None,
            slots: Vec::new(),
            name: Vec::new(),
            description: Vec::new(),
            classifications: Vec::new(),
            external_identifiers: Vec::new(),
            order_issues: Vec::new(),
        };
        eo.external_identifiers
            .push(crate::model::ebrim::ExternalIdentifier {
                scheme: Some(e::DE_UNIQUE_ID.into()),
                value: Some("1.2.3".into()),
                ..Default::default()
            });
        let mut other = eo.clone();
        other.id = Some("urn:uuid:e2".into());
        other.home = None;
        let mut a = AdhocQueryResponse::default();
        a.objects.extrinsic_objects = vec![eo, other];
        x.learn(&a);
        assert_eq!(x.homes.get("1.2.3").map(String::as_str), Some(A));
        assert_eq!(x.homes.get("urn:uuid:e1").map(String::as_str), Some(A));
        assert!(!x.homes.contains_key("urn:uuid:e2"));
    }
}
