//! The SUT as Query/Retrieve SCU (DIMSCU-01..03): the C-FIND, C-MOVE and C-GET requests the
//! harness's SCP received from it, judged against what the trigger asked the SUT to send.
//!
//! The harness's SCP accepts no SOP Class Extended Negotiation, so no relational query or retrieve
//! is ever negotiated with it: the baseline (hierarchical) rules of PS3.4 §C.4.1.2.1, §C.4.2.2.1
//! and §C.4.3.2.1 apply, and a request must carry a single value of the unique key of each level
//! above its Query/Retrieve Level.

use dicom_dictionary_std::uids;

use super::{record, value_of, Subject, Verdict};
use crate::dimse::command::field;
use crate::evidence::dimse::{DimseRecord, Flow, MessageRecord};

/// What the SUT was asked to send to the harness's SCP.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AskedRequest {
    /// The request command field (C-FIND-RQ, C-MOVE-RQ or C-GET-RQ).
    pub field: u16,
    /// The Query/Retrieve Level asked for.
    pub level: String,
    /// The keys the request must carry with these values (keyword, value).
    pub keys: Vec<(String, String)>,
    /// C-MOVE: the Move Destination asked for.
    pub destination: Option<String>,
    /// C-GET: the SOP Classes of the instances it retrieves, which its association must propose
    /// with the SCP role.
    pub storage_classes: Vec<String>,
    /// The SUT was asked to cancel the request after its first response (DIMSCU-04).
    pub cancel: bool,
}

/// The Query/Retrieve information model and service of a SOP Class.
fn model_of(sop_class: &str) -> Option<(bool, u16)> {
    // (patient root, request field)
    Some(match sop_class {
        uids::PATIENT_ROOT_QUERY_RETRIEVE_INFORMATION_MODEL_FIND => (true, field::C_FIND_RQ),
        uids::PATIENT_ROOT_QUERY_RETRIEVE_INFORMATION_MODEL_MOVE => (true, field::C_MOVE_RQ),
        uids::PATIENT_ROOT_QUERY_RETRIEVE_INFORMATION_MODEL_GET => (true, field::C_GET_RQ),
        uids::STUDY_ROOT_QUERY_RETRIEVE_INFORMATION_MODEL_FIND => (false, field::C_FIND_RQ),
        uids::STUDY_ROOT_QUERY_RETRIEVE_INFORMATION_MODEL_MOVE => (false, field::C_MOVE_RQ),
        uids::STUDY_ROOT_QUERY_RETRIEVE_INFORMATION_MODEL_GET => (false, field::C_GET_RQ),
        _ => return None,
    })
}

/// The levels of a model, top down, with the unique key of each (PS3.4 §C.6.1.1, §C.6.2.1).
fn levels(patient_root: bool) -> &'static [(&'static str, &'static str)] {
    if patient_root {
        &[
            ("PATIENT", "PatientID"),
            ("STUDY", "StudyInstanceUID"),
            ("SERIES", "SeriesInstanceUID"),
            ("IMAGE", "SOPInstanceUID"),
        ]
    } else {
        &[
            ("STUDY", "StudyInstanceUID"),
            ("SERIES", "SeriesInstanceUID"),
            ("IMAGE", "SOPInstanceUID"),
        ]
    }
}

/// The request the SUT sent (the first received request of the operation).
fn request(r: &DimseRecord) -> Option<&MessageRecord> {
    r.messages
        .iter()
        .find(|m| m.flow == Flow::Received && m.command.field & 0x8000 == 0)
}

/// Is this value a single value, without wildcards (PS3.4 §C.2.2.2.1 single value matching)?
fn single(v: &str) -> bool {
    !v.is_empty() && !v.contains(['\\', '*', '?'])
}

/// What the request breaks of the identifier rules common to the three services: its context, its
/// level, the unique keys above the level, the keys asked.
fn identifier_breaches(r: &DimseRecord, rq: &MessageRecord, asked: &AskedRequest) -> Vec<String> {
    let mut bad = Vec::new();
    let name = rq.command.name();
    let class = rq.command.affected_sop_class.as_deref().unwrap_or_default();
    let model = model_of(class).filter(|(_, f)| *f == rq.command.field);
    let accepted = r
        .negotiated
        .iter()
        .any(|n| n.id == rq.pc_id && n.result == 0 && n.abstract_syntax == class);
    if model.is_none() || !accepted {
        bad.push(format!(
            "the {name} names SOP Class {} on presentation context {}, which is not a negotiated Query/Retrieve context of that service",
            if class.is_empty() { "(none)" } else { class },
            rq.pc_id
        ));
    }
    let summary = &rq.data_summary;
    if let Some(why) = value_of(summary, "(undecodable)") {
        bad.push(format!("the identifier cannot be decoded: {why}"));
        return bad;
    }
    if summary.is_empty() {
        bad.push(format!("the {name} carries no identifier"));
        return bad;
    }
    let level = value_of(summary, "QueryRetrieveLevel").unwrap_or_default();
    if level.is_empty() {
        bad.push("no Query/Retrieve Level (0008,0052)".into());
    } else if level != asked.level {
        bad.push(format!(
            "Query/Retrieve Level {level}, where {} was asked for",
            asked.level
        ));
    }
    let patient_root = model.map(|(p, _)| p).unwrap_or(false);
    let all = levels(patient_root);
    if let Some(at) = all.iter().position(|(l, _)| *l == level) {
        for (above, key) in &all[..at] {
            match value_of(summary, key) {
                None => bad.push(format!(
                    "no {key}: a request at level {level} carries the unique key of the {above} level"
                )),
                Some(v) if !single(v) => bad.push(format!(
                    "{key} `{v}` is not a single value: a request at level {level} carries one value of the unique key of the {above} level"
                )),
                _ => {}
            }
        }
    } else if !level.is_empty() {
        bad.push(format!(
            "Query/Retrieve Level {level} is not a level of the {} Root model",
            if patient_root { "Patient" } else { "Study" }
        ));
    }
    for (key, want) in &asked.keys {
        match value_of(summary, key) {
            // Already said: the unique key of a level above is missing.
            None if bad.iter().any(|b| b.starts_with(&format!("no {key}:"))) => {}
            None => bad.push(format!("no {key}, where {key} `{want}` was asked for")),
            Some(v) if v != want => {
                bad.push(format!("{key} `{v}`, where {key} `{want}` was asked for"))
            }
            _ => {}
        }
    }
    bad
}

/// The received request of the kind asked, or the verdict when there is none.
fn asked_request<'a>(
    s: &Subject<'a>,
    want: &[u16],
) -> Result<(&'a DimseRecord, &'a MessageRecord, &'a AskedRequest), Verdict> {
    let Some(asked) = s.expect.dimse.asked.as_ref() else {
        return Err(Verdict::na("the scenario asked the SUT for no request"));
    };
    if !want.contains(&asked.field) {
        return Err(Verdict::na(format!(
            "the scenario asked the SUT for a {}",
            crate::dimse::command::Command {
                field: asked.field,
                ..Default::default()
            }
            .name()
        )));
    }
    let r = record(s)?;
    let Some(rq) = request(r) else {
        return Err(Verdict::fail(
            "the request the SUT was asked to send",
            format!("no request on the association ({})", r.ended),
        ));
    };
    if rq.command.field != asked.field {
        return Err(Verdict::fail(
            format!(
                "a {}",
                crate::dimse::command::Command {
                    field: asked.field,
                    ..Default::default()
                }
                .name()
            ),
            format!("a {}", rq.command.name()),
        ));
    }
    Ok((r, rq, asked))
}

/// DIMSCU-01: the C-FIND is the query asked for: a Q/R FIND context, the level asked, a single
/// value of the unique key of each level above it, the keys asked with their values.
pub(super) fn dimscu_01(s: &Subject<'_>) -> Verdict {
    let (r, rq, asked) = match asked_request(s, &[field::C_FIND_RQ]) {
        Ok(x) => x,
        Err(v) => return v,
    };
    super::fail_if_any(
        format!(
            "a C-FIND at level {} with {}",
            asked.level,
            shown_keys(&asked.keys)
        ),
        identifier_breaches(r, rq, asked),
    )
}

/// DIMSCU-02: the C-MOVE or C-GET names what was asked: the level, one or more values of the
/// level's unique key and a single value of each above it; a C-MOVE the Move Destination asked.
pub(super) fn dimscu_02(s: &Subject<'_>) -> Verdict {
    let (r, rq, asked) = match asked_request(s, &[field::C_MOVE_RQ, field::C_GET_RQ]) {
        Ok(x) => x,
        Err(v) => return v,
    };
    let mut bad = identifier_breaches(r, rq, asked);
    let class = rq.command.affected_sop_class.as_deref().unwrap_or_default();
    let patient_root = model_of(class).is_some_and(|(p, _)| p);
    if let Some((_, key)) = levels(patient_root).iter().find(|(l, _)| *l == asked.level) {
        match value_of(&rq.data_summary, key) {
            Some(v) if !v.is_empty() && !v.contains(['*', '?']) => {}
            Some(v) if !v.is_empty() => bad.push(format!(
                "{key} `{v}` has wildcards: a retrieve names the entities by their unique key"
            )),
            _ if value_of(&rq.data_summary, "(undecodable)").is_some()
                || rq.data_summary.is_empty() => {}
            _ => bad.push(format!(
                "no value of {key}: a retrieve at level {} names the entities by their unique key",
                asked.level
            )),
        }
    }
    if let Some(dest) = &asked.destination {
        let got = rq
            .command
            .move_destination
            .as_deref()
            .map(|d| d.trim_matches([' ', '\0']));
        match got {
            Some(d) if d == dest.trim() => {}
            Some(d) => bad.push(format!(
                "Move Destination `{d}`, where `{dest}` was asked for"
            )),
            None => bad.push("no Move Destination (0000,0600)".into()),
        }
    }
    super::fail_if_any(
        format!(
            "a {} at level {} with {}{}",
            rq.command.name(),
            asked.level,
            shown_keys(&asked.keys),
            asked
                .destination
                .as_ref()
                .map(|d| format!(", to `{d}`"))
                .unwrap_or_default()
        ),
        bad,
    )
}

/// DIMSCU-03: the C-GET association proposes each Storage SOP Class of the instances retrieved,
/// with an SCP/SCU Role Selection item giving the SCU the SCP role.
pub(super) fn dimscu_03(s: &Subject<'_>) -> Verdict {
    let (r, _, asked) = match asked_request(s, &[field::C_GET_RQ]) {
        Ok(x) => x,
        Err(v) => return v,
    };
    if asked.storage_classes.is_empty() {
        return Verdict::na("no instance to retrieve");
    }
    let mut bad = Vec::new();
    for class in &asked.storage_classes {
        if !r.proposed.iter().any(|p| &p.abstract_syntax == class) {
            bad.push(format!("no presentation context proposed for {class}"));
        }
        if !r.roles.iter().any(|(c, _, scp)| c == class && *scp) {
            bad.push(format!(
                "no SCP/SCU Role Selection item with the SCP role for {class}"
            ));
        }
    }
    super::fail_if_any(
        "a presentation context and the SCP role (SCP/SCU Role Selection) proposed for each Storage SOP Class retrieved",
        bad,
    )
}

fn shown_keys(keys: &[(String, String)]) -> String {
    if keys.is_empty() {
        return "no key".into();
    }
    keys.iter()
        .map(|(k, v)| format!("{k} `{v}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// DIMSCU-04: a request the SUT was asked to cancel is cancelled with a C-CANCEL-RQ whose Message
/// ID Being Responded To is the request's Message ID (PS3.7 §9.3.2.3 for C-FIND). The record of
/// the whole association (a follow-up, recorded at its end) is read when there is one: a C-CANCEL
/// that crossed the final response arrives after the operation's own record was taken.
pub(super) fn dimscu_04(s: &Subject<'_>) -> Verdict {
    let Some(asked) = s.expect.dimse.asked.as_ref() else {
        return Verdict::na("the scenario asked the SUT for no request");
    };
    if !asked.cancel {
        return Verdict::na("the scenario asked the SUT to cancel nothing");
    }
    let whole = s.followups.iter().find_map(|e| e.dimse.as_deref());
    let r = match whole {
        Some(r) => r,
        None => match record(s) {
            Ok(r) => r,
            Err(v) => return v,
        },
    };
    let name = crate::dimse::command::Command {
        field: asked.field,
        ..Default::default()
    }
    .name()
    .to_string();
    let Some(rq) = r.received(asked.field).next() else {
        return Verdict::fail(
            format!("the {name} the SUT was asked to send, then cancel"),
            format!("no {name} on the association ({})", r.ended),
        );
    };
    let id = rq.command.message_id;
    let shown = id.map(|i| i.to_string()).unwrap_or_else(|| "(none)".into());
    let expected = format!(
        "a C-CANCEL-RQ whose Message ID Being Responded To is {shown}, the Message ID of the {name}, as the SUT was asked to cancel"
    );
    let cancels: Vec<&MessageRecord> = r.received(field::C_CANCEL_RQ).collect();
    if cancels.is_empty() {
        return Verdict::fail(expected, "no C-CANCEL-RQ on the association");
    }
    let wrong: Vec<String> = cancels
        .iter()
        .filter(|c| id.is_none() || c.command.responded_to != id)
        .map(|c| {
            c.command
                .responded_to
                .map(|i| format!("a C-CANCEL-RQ for Message ID {i}"))
                .unwrap_or_else(|| "a C-CANCEL-RQ without Message ID Being Responded To".into())
        })
        .collect();
    if wrong.is_empty() {
        Verdict::Pass
    } else {
        Verdict::fail(expected, wrong.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::dimse::DimseExpect;
    use crate::checks::{evaluate, Expect, Outcome};
    use crate::dimse::command::Command;
    use crate::evidence::dimse::{NegotiatedContext, ProposedContext};
    use crate::evidence::Exchange;
    use crate::transaction::Transaction;

    const STUDY: &str = "1.2.3";
    const SERIES: &str = "1.2.3.4";
    const CT: &str = "1.2.840.10008.5.1.4.1.1.2";
    const ELE: &str = "1.2.840.10008.1.2.1";

    fn exchange(class: &str, field: u16, keys: &[(&str, &str)], dest: Option<&str>) -> Exchange {
        let mut c = Command::request(field, class, 1, true);
        c.move_destination = dest.map(str::to_string);
        let mut r = DimseRecord {
            calling_ae: "VIEWER".into(),
            called_ae: "HARNESS".into(),
            proposed: vec![ProposedContext {
                id: 1,
                abstract_syntax: class.into(),
                transfer_syntaxes: vec![ELE.into()],
            }],
            negotiated: vec![NegotiatedContext {
                id: 1,
                abstract_syntax: class.into(),
                result: 0,
                transfer_syntax: ELE.into(),
            }],
            ended: "open".into(),
            ..DimseRecord::default()
        };
        r.messages.push(MessageRecord {
            flow: Flow::Received,
            pc_id: 1,
            command: c,
            data_len: Some(10),
            data_sha256: None,
            data_summary: keys
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            pdus: 1,
            largest_pdu: 100,
            at_ms: 0,
            pdus_at: None,
        });
        if field == field::C_GET_RQ {
            r.proposed.push(ProposedContext {
                id: 3,
                abstract_syntax: CT.into(),
                transfer_syntaxes: vec![ELE.into()],
            });
            r.roles.push((CT.into(), false, true));
        }
        let mut ex = Exchange::synthetic("dicom://HARNESS@127.0.0.1:104", &[], 0, &[], b"");
        ex.transaction = Transaction::Dimse;
        ex.dimse = Some(Box::new(r));
        ex
    }

    fn outcome(id: &str, ex: &Exchange, asked: &AskedRequest) -> Outcome {
        let check = super::super::CHECKS.iter().find(|c| c.id == id).unwrap();
        let expect = Expect {
            dimse: DimseExpect {
                asked: Some(asked.clone()),
                ..DimseExpect::default()
            },
            ..Expect::default()
        };
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

    fn series_find() -> AskedRequest {
        AskedRequest {
            field: field::C_FIND_RQ,
            level: "SERIES".into(),
            keys: vec![("StudyInstanceUID".into(), STUDY.into())],
            ..AskedRequest::default()
        }
    }

    #[test]
    fn dimscu_01_passes_the_series_query_asked_and_fails_a_wrong_one() {
        let find = uids::STUDY_ROOT_QUERY_RETRIEVE_INFORMATION_MODEL_FIND;
        let good = exchange(
            find,
            field::C_FIND_RQ,
            &[
                ("QueryRetrieveLevel", "SERIES"),
                ("StudyInstanceUID", STUDY),
                ("SeriesInstanceUID", ""),
            ],
            None,
        );
        assert_eq!(outcome("DIMSCU-01", &good, &series_find()), Outcome::Pass);
        // Another level; then no study at series level; then a wildcard for the study.
        for keys in [
            vec![("QueryRetrieveLevel", "IMAGE"), ("StudyInstanceUID", STUDY)],
            vec![("QueryRetrieveLevel", "SERIES"), ("SeriesInstanceUID", "")],
            vec![
                ("QueryRetrieveLevel", "SERIES"),
                ("StudyInstanceUID", "1.2.*"),
            ],
            vec![("QueryRetrieveLevel", "BOGUS"), ("StudyInstanceUID", STUDY)],
        ] {
            let bad = exchange(find, field::C_FIND_RQ, &keys, None);
            assert_eq!(
                outcome("DIMSCU-01", &bad, &series_find()),
                Outcome::Fail,
                "{keys:?}"
            );
        }
        // A C-FIND on a MOVE context is not a query of the model.
        let wrong_class = exchange(
            uids::STUDY_ROOT_QUERY_RETRIEVE_INFORMATION_MODEL_MOVE,
            field::C_FIND_RQ,
            &[
                ("QueryRetrieveLevel", "SERIES"),
                ("StudyInstanceUID", STUDY),
            ],
            None,
        );
        assert_eq!(
            outcome("DIMSCU-01", &wrong_class, &series_find()),
            Outcome::Fail
        );
    }

    fn series_retrieve(field: u16) -> AskedRequest {
        AskedRequest {
            field,
            level: "SERIES".into(),
            keys: vec![
                ("StudyInstanceUID".into(), STUDY.into()),
                ("SeriesInstanceUID".into(), SERIES.into()),
            ],
            destination: (field == field::C_MOVE_RQ).then(|| "HARNESS".to_string()),
            storage_classes: if field == field::C_GET_RQ {
                vec![CT.into()]
            } else {
                Vec::new()
            },
            cancel: false,
        }
    }

    #[test]
    fn dimscu_02_passes_the_move_asked_and_fails_a_wrong_one() {
        let mv = uids::STUDY_ROOT_QUERY_RETRIEVE_INFORMATION_MODEL_MOVE;
        let keys = [
            ("QueryRetrieveLevel", "SERIES"),
            ("StudyInstanceUID", STUDY),
            ("SeriesInstanceUID", SERIES),
        ];
        let asked = series_retrieve(field::C_MOVE_RQ);
        let good = exchange(mv, field::C_MOVE_RQ, &keys, Some("HARNESS  "));
        assert_eq!(outcome("DIMSCU-02", &good, &asked), Outcome::Pass);
        let other_dest = exchange(mv, field::C_MOVE_RQ, &keys, Some("ELSEWHERE"));
        assert_eq!(outcome("DIMSCU-02", &other_dest, &asked), Outcome::Fail);
        let no_study = exchange(
            mv,
            field::C_MOVE_RQ,
            &[
                ("QueryRetrieveLevel", "SERIES"),
                ("SeriesInstanceUID", SERIES),
            ],
            Some("HARNESS"),
        );
        assert_eq!(outcome("DIMSCU-02", &no_study, &asked), Outcome::Fail);
        let wildcard = exchange(
            mv,
            field::C_MOVE_RQ,
            &[
                ("QueryRetrieveLevel", "SERIES"),
                ("StudyInstanceUID", STUDY),
                ("SeriesInstanceUID", "*"),
            ],
            Some("HARNESS"),
        );
        assert_eq!(outcome("DIMSCU-02", &wildcard, &asked), Outcome::Fail);
        // A C-FIND where a C-MOVE was asked for.
        let find = exchange(
            uids::STUDY_ROOT_QUERY_RETRIEVE_INFORMATION_MODEL_FIND,
            field::C_FIND_RQ,
            &keys,
            None,
        );
        assert_eq!(outcome("DIMSCU-02", &find, &asked), Outcome::Fail);
        assert_eq!(outcome("DIMSCU-01", &good, &asked), Outcome::NotApplicable);
    }

    #[test]
    fn dimscu_03_passes_a_get_with_the_scp_role_and_fails_one_without() {
        let get = uids::STUDY_ROOT_QUERY_RETRIEVE_INFORMATION_MODEL_GET;
        let keys = [
            ("QueryRetrieveLevel", "SERIES"),
            ("StudyInstanceUID", STUDY),
            ("SeriesInstanceUID", SERIES),
        ];
        let asked = series_retrieve(field::C_GET_RQ);
        let good = exchange(get, field::C_GET_RQ, &keys, None);
        assert_eq!(outcome("DIMSCU-02", &good, &asked), Outcome::Pass);
        assert_eq!(outcome("DIMSCU-03", &good, &asked), Outcome::Pass);
        let mut no_role = good.clone();
        if let Some(r) = no_role.dimse.as_deref_mut() {
            r.roles.clear();
        }
        assert_eq!(outcome("DIMSCU-03", &no_role, &asked), Outcome::Fail);
        let mut scu_role_only = good.clone();
        if let Some(r) = scu_role_only.dimse.as_deref_mut() {
            r.roles = vec![(CT.into(), true, false)];
        }
        assert_eq!(outcome("DIMSCU-03", &scu_role_only, &asked), Outcome::Fail);
    }

    #[test]
    fn dimscu_04_passes_a_cancel_of_the_find_and_fails_none_or_another_id() {
        let find = uids::STUDY_ROOT_QUERY_RETRIEVE_INFORMATION_MODEL_FIND;
        let asked = AskedRequest {
            cancel: true,
            ..series_find()
        };
        let with_cancel = |responded_to: Option<u16>| {
            let mut ex = exchange(
                find,
                field::C_FIND_RQ,
                &[("QueryRetrieveLevel", "SERIES")],
                None,
            );
            if let Some(r) = ex.dimse.as_mut() {
                let mut c = Command::request(field::C_CANCEL_RQ, find, 2, false);
                c.message_id = None;
                c.responded_to = responded_to;
                r.messages.push(MessageRecord {
                    flow: Flow::Received,
                    pc_id: 1,
                    command: c,
                    data_len: None,
                    data_sha256: None,
                    data_summary: Vec::new(),
                    pdus: 1,
                    largest_pdu: 20,
                    at_ms: 5,
                    pdus_at: None,
                });
            }
            ex
        };
        // The C-FIND-RQ of `exchange` has Message ID 1.
        assert_eq!(
            outcome("DIMSCU-04", &with_cancel(Some(1)), &asked),
            Outcome::Pass
        );
        assert_eq!(
            outcome("DIMSCU-04", &with_cancel(Some(7)), &asked),
            Outcome::Fail
        );
        assert_eq!(
            outcome("DIMSCU-04", &with_cancel(None), &asked),
            Outcome::Fail
        );
        let none = exchange(
            find,
            field::C_FIND_RQ,
            &[("QueryRetrieveLevel", "SERIES")],
            None,
        );
        assert_eq!(outcome("DIMSCU-04", &none, &asked), Outcome::Fail);
        // Not asked to cancel: not applicable.
        assert_eq!(
            outcome("DIMSCU-04", &none, &series_find()),
            Outcome::NotApplicable
        );
    }
}
