//! Each DIMSE check passes on a conformant record and fails on a broken one.

use std::collections::{BTreeMap, BTreeSet};

use super::*;
use crate::checks::{evaluate, Expect, Outcome, Subject};
use crate::dimse::command::Command;
use crate::evidence::dimse::{NegotiatedContext, ProposedContext, Rejection};
use crate::transaction::Transaction;

const FIND: &str = "1.2.840.10008.5.1.4.1.2.2.1";
const MOVE: &str = "1.2.840.10008.5.1.4.1.2.2.2";
const CT: &str = "1.2.840.10008.5.1.4.1.1.2";
const ELE: &str = "1.2.840.10008.1.2.1";

fn msg(flow: Flow, c: Command, summary: &[(&str, &str)]) -> MessageRecord {
    MessageRecord {
        flow,
        pc_id: 1,
        data_len: c.has_data_set().then_some(10),
        data_sha256: None,
        data_summary: summary
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        command: c,
        pdus: 1,
        largest_pdu: 100,
        at_ms: 0,
        pdus_at: None,
    }
}

fn rsp(rq: &Command, st: u16, data: bool) -> Command {
    Command::response_to(rq, st, data)
}

fn record(sop_class: &str, messages: Vec<MessageRecord>) -> DimseRecord {
    DimseRecord {
        peer: "127.0.0.1:104".into(),
        calling_ae: "IHE_HARNESS".into(),
        called_ae: "PACS".into(),
        proposed: vec![ProposedContext {
            id: 1,
            abstract_syntax: sop_class.into(),
            transfer_syntaxes: vec![ELE.into()],
        }],
        negotiated: vec![NegotiatedContext {
            id: 1,
            abstract_syntax: sop_class.into(),
            result: 0,
            transfer_syntax: ELE.into(),
        }],
        messages,
        ended: "released".into(),
        ..DimseRecord::default()
    }
}

fn exchange(r: DimseRecord) -> Exchange {
    let mut ex = Exchange::synthetic("dicom://PACS@127.0.0.1:104", &[], 0, &[], b"");
    ex.transaction = Transaction::Dimse;
    ex.dimse = Some(Box::new(r));
    ex
}

fn outcome(id: &str, ex: &Exchange, x: &DimseExpect, followups: &[Exchange]) -> Outcome {
    let check = CHECKS.iter().find(|c| c.id == id).unwrap();
    let expect = Expect {
        dimse: x.clone(),
        ..Expect::default()
    };
    evaluate(
        check,
        &Subject {
            exchange: ex,
            expect: &expect,
            strict: true,
            followups,
        },
    )
    .outcome
}

/// A C-FIND at STUDY level answered with `uids` then `final_status`.
fn find(uids: &[&str], extra_key: bool, final_status: Option<u16>) -> Exchange {
    let rq = Command::request(field::C_FIND_RQ, FIND, 1, true);
    let mut m = vec![msg(Flow::Sent, rq.clone(), &[])];
    for u in uids {
        let mut keys = vec![
            ("QueryRetrieveLevel", "STUDY"),
            ("StudyInstanceUID", *u),
            ("PatientID", "P1"),
        ];
        if extra_key {
            keys.push(("PatientBirthDate", "19700101"));
        }
        m.push(msg(Flow::Received, rsp(&rq, status::PENDING, true), &keys));
    }
    if let Some(st) = final_status {
        m.push(msg(Flow::Received, rsp(&rq, st, false), &[]));
    }
    exchange(record(FIND, m))
}

#[test]
fn find_checks() {
    let x = DimseExpect {
        statuses: vec![status::SUCCESS],
        requested_keys: vec![
            "QueryRetrieveLevel".into(),
            "StudyInstanceUID".into(),
            "PatientID".into(),
        ],
        matches: Some((
            "StudyInstanceUID".into(),
            BTreeSet::from(["1.1".to_string(), "1.2".to_string()]),
        )),
        ..DimseExpect::default()
    };
    let good = find(&["1.1", "1.2"], false, Some(status::SUCCESS));
    for id in [
        "DIM-01", "DIM-03", "DIM-04", "DIM-05", "DIM-06", "DIM-09", "DIM-10",
    ] {
        assert_eq!(outcome(id, &good, &x, &[]), Outcome::Pass, "{id}");
    }
    let no_final = find(&["1.1", "1.2"], false, None);
    assert_eq!(outcome("DIM-04", &no_final, &x, &[]), Outcome::Fail);
    assert_eq!(outcome("DIM-03", &no_final, &x, &[]), Outcome::Fail);
    let extra = find(&["1.1", "1.2"], true, Some(status::SUCCESS));
    assert_eq!(outcome("DIM-05", &extra, &x, &[]), Outcome::Fail);
    let wrong = find(&["1.1", "9.9"], false, Some(status::SUCCESS));
    assert_eq!(outcome("DIM-06", &wrong, &x, &[]), Outcome::Fail);
    // With the test data known: an entity outside it may be the SUT's own matching data (not
    // judged), one of the test data that does not match fails, a missing match fails.
    let known = DimseExpect {
        known: Some(BTreeSet::from([
            "1.1".to_string(),
            "1.2".to_string(),
            "1.3".to_string(),
        ])),
        ..x.clone()
    };
    let more = find(&["1.1", "1.2", "7.7"], false, Some(status::SUCCESS));
    assert_eq!(outcome("DIM-06", &more, &known, &[]), Outcome::Pass);
    let not_matching = find(&["1.1", "1.2", "1.3"], false, Some(status::SUCCESS));
    assert_eq!(outcome("DIM-06", &not_matching, &known, &[]), Outcome::Fail);
    let missing = find(&["1.1", "7.7"], false, Some(status::SUCCESS));
    assert_eq!(outcome("DIM-06", &missing, &known, &[]), Outcome::Fail);
    let failed = find(&[], false, Some(0xC000));
    assert_eq!(outcome("DIM-03", &failed, &x, &[]), Outcome::Fail);
}

#[test]
fn association_checks() {
    let mut r = record(FIND, vec![]);
    r.negotiated[0].result = 3;
    r.messages.push(msg(
        Flow::Sent,
        Command::request(field::C_FIND_RQ, FIND, 1, true),
        &[],
    ));
    let ex = exchange(r);
    assert_eq!(
        outcome("DIM-01", &ex, &DimseExpect::default(), &[]),
        Outcome::Fail
    );
    let mut rejected = record(FIND, vec![]);
    rejected.negotiated.clear();
    rejected.rejection = Some(Rejection {
        result: 1,
        source: 1,
        reason: 7,
        text: "called AE title not recognized".into(),
    });
    let rj = exchange(rejected);
    let want = DimseExpect {
        rejection: Some(vec![(1, 7)]),
        ..DimseExpect::default()
    };
    assert_eq!(outcome("DIM-02", &rj, &want, &[]), Outcome::Pass);
    let other = DimseExpect {
        rejection: Some(vec![(1, 3)]),
        ..DimseExpect::default()
    };
    assert_eq!(outcome("DIM-02", &rj, &other, &[]), Outcome::Fail);
    let accepted = find(&[], false, Some(0));
    assert_eq!(outcome("DIM-02", &accepted, &want, &[]), Outcome::Fail);
    assert_eq!(
        outcome("DIM-01", &rj, &DimseExpect::default(), &[]),
        Outcome::Fail
    );
}

/// A C-MOVE with pendings (remaining counts) and a final response with `completed`/`failed`.
fn moved(remaining: &[u16], final_status: u16, completed: u16, failed: u16) -> Exchange {
    let mut rq = Command::request(field::C_MOVE_RQ, MOVE, 1, true);
    rq.move_destination = Some("IHE_HARNESS".into());
    let mut m = vec![msg(Flow::Sent, rq.clone(), &[])];
    for r in remaining {
        let mut p = rsp(&rq, status::PENDING, false);
        p.remaining = Some(*r);
        m.push(msg(Flow::Received, p, &[]));
    }
    let mut f = rsp(&rq, final_status, false);
    f.completed = Some(completed);
    f.failed = Some(failed);
    f.warning = Some(0);
    m.push(msg(Flow::Received, f, &[]));
    exchange(record(MOVE, m))
}

fn stored(uids: &[(&str, &str)]) -> Exchange {
    let mut m = Vec::new();
    for (i, (u, sha)) in uids.iter().enumerate() {
        let mut rq = Command::request(field::C_STORE_RQ, CT, i as u16 + 1, true);
        rq.affected_sop_instance = Some(u.to_string());
        let mut rec = msg(Flow::Received, rq, &[]);
        rec.data_sha256 = Some(sha.to_string());
        m.push(rec);
    }
    exchange(record(CT, m))
}

#[test]
fn move_checks() {
    let x = DimseExpect {
        statuses: vec![status::SUCCESS],
        instances: Some(BTreeMap::from([
            ("1.1".to_string(), vec![(ELE.to_string(), "a".to_string())]),
            ("1.2".to_string(), vec![(ELE.to_string(), "b".to_string())]),
        ])),
        ..DimseExpect::default()
    };
    let good = moved(&[1, 0], status::SUCCESS, 2, 0);
    let arrived = stored(&[("1.1", "a"), ("1.2", "b")]);
    for id in ["DIM-03", "DIM-07", "DIM-08", "DIM-09"] {
        assert_eq!(
            outcome(id, &good, &x, std::slice::from_ref(&arrived)),
            Outcome::Pass,
            "{id}"
        );
    }
    assert_eq!(
        outcome("DIM-07", &moved(&[0, 1], status::SUCCESS, 2, 0), &x, &[]),
        Outcome::Fail
    );
    assert_eq!(
        outcome("DIM-07", &moved(&[1], status::SUCCESS, 1, 0), &x, &[]),
        Outcome::Fail
    );
    assert_eq!(
        outcome("DIM-07", &moved(&[1], status::SUCCESS, 1, 1), &x, &[]),
        Outcome::Fail
    );
    // Other bytes with the same image: the SCP may have coerced attributes (PS3.4 §B.4.1.3), a
    // SHOULD-level finding of DIM-19; another image under the UID is DIM-08's Fail.
    let changed = stored(&[("1.1", "a"), ("1.2", "CHANGED")]);
    assert_eq!(
        outcome("DIM-08", &good, &x, std::slice::from_ref(&changed)),
        Outcome::Pass
    );
    assert_eq!(outcome("DIM-19", &good, &x, &[changed]), Outcome::Fail);
    assert_eq!(
        outcome("DIM-19", &good, &x, std::slice::from_ref(&arrived)),
        Outcome::Pass
    );
    let with_image = DimseExpect {
        pixel_data: BTreeMap::from([("1.2".to_string(), vec![(ELE.to_string(), "p".to_string())])]),
        ..x.clone()
    };
    let image = |sha: &str| {
        let mut ex = stored(&[("1.1", "a"), ("1.2", "CHANGED")]);
        ex.dimse.as_mut().unwrap().messages[1].data_summary = vec![
            ("TransferSyntaxUID".to_string(), ELE.to_string()),
            ("PixelDataSHA256".to_string(), sha.to_string()),
        ];
        ex
    };
    assert_eq!(
        outcome("DIM-08", &good, &with_image, &[image("p")]),
        Outcome::Pass
    );
    assert_eq!(
        outcome("DIM-08", &good, &with_image, &[image("q")]),
        Outcome::Fail
    );
    let foreign = stored(&[("1.1", "a"), ("1.2", "b"), ("9.9", "c")]);
    assert_eq!(outcome("DIM-08", &good, &x, &[foreign]), Outcome::Fail);
    let missing = stored(&[("1.1", "a")]);
    assert_eq!(outcome("DIM-08", &good, &x, &[missing]), Outcome::Fail);
}

#[test]
fn cancel_store_echo_and_protocol_checks() {
    let cancelled = DimseExpect {
        cancelled: true,
        ..DimseExpect::default()
    };
    // A C-CANCEL-RQ after the first pending response; the final response `late` ms after it.
    let with_cancel = |mut ex: Exchange, late: u64| -> Exchange {
        let r = ex.dimse.as_mut().unwrap();
        let mut cancel = Command::request(field::C_CANCEL_RQ, FIND, 1, false);
        cancel.responded_to = Some(1);
        r.messages.insert(2, msg(Flow::Sent, cancel, &[]));
        let n = r.messages.len();
        r.messages[n - 1].at_ms = late;
        ex
    };
    let c = with_cancel(find(&["1.1"], false, Some(status::CANCEL)), 10);
    assert_eq!(outcome("DIM-11", &c, &cancelled, &[]), Outcome::Pass);
    let failed = with_cancel(find(&["1.1", "1.2"], false, Some(0xC000)), 10);
    assert_eq!(outcome("DIM-11", &failed, &cancelled, &[]), Outcome::Fail);
    // 0000 right after the cancel crossed it; 0000 seconds later means it was ignored.
    let quick = with_cancel(find(&["1.1", "1.2"], false, Some(0)), 10);
    let slow = with_cancel(find(&["1.1", "1.2"], false, Some(0)), 5000);
    assert_eq!(outcome("DIM-11", &quick, &cancelled, &[]), Outcome::Pass);
    assert_eq!(outcome("DIM-11", &slow, &cancelled, &[]), Outcome::Fail);
    // No pending response came before the final one: no C-CANCEL was sent, nothing to judge.
    let at_once = moved(&[], status::SUCCESS, 1, 0);
    assert_eq!(
        outcome("DIM-11", &at_once, &cancelled, &[]),
        Outcome::NotApplicable
    );

    let mut rq = Command::request(field::C_STORE_RQ, CT, 1, true);
    rq.affected_sop_instance = Some("1.1".into());
    let ok = exchange(record(
        CT,
        vec![
            msg(Flow::Sent, rq.clone(), &[]),
            msg(Flow::Received, rsp(&rq, status::SUCCESS, false), &[]),
        ],
    ));
    assert_eq!(
        outcome("DIM-12", &ok, &DimseExpect::default(), &[]),
        Outcome::Pass
    );
    assert_eq!(
        outcome("DIM-09", &ok, &DimseExpect::default(), &[]),
        Outcome::Pass
    );
    let refused = exchange(record(
        CT,
        vec![
            msg(Flow::Sent, rq.clone(), &[]),
            msg(Flow::Received, rsp(&rq, 0x0110, false), &[]),
        ],
    ));
    assert_eq!(
        outcome("DIM-12", &refused, &DimseExpect::default(), &[]),
        Outcome::Fail
    );
    let mut other_instance = rsp(&rq, status::SUCCESS, false);
    other_instance.affected_sop_instance = Some("9.9".into());
    let wrong = exchange(record(
        CT,
        vec![
            msg(Flow::Sent, rq.clone(), &[]),
            msg(Flow::Received, other_instance, &[]),
        ],
    ));
    assert_eq!(
        outcome("DIM-09", &wrong, &DimseExpect::default(), &[]),
        Outcome::Fail
    );

    let mut broken = record(FIND, vec![]);
    broken.ended = "protocol violation: data fragment before the command set".into();
    assert_eq!(
        outcome("DIM-10", &exchange(broken), &DimseExpect::default(), &[]),
        Outcome::Fail
    );
    let mut stray = find(&["1.1"], false, Some(0));
    if let Some(r) = stray.dimse.as_mut() {
        r.messages[1].pc_id = 3;
    }
    assert_eq!(
        outcome("DIM-10", &stray, &DimseExpect::default(), &[]),
        Outcome::Fail
    );
    let http = Exchange::synthetic("http://x", &[], 200, &[], b"");
    assert_eq!(
        outcome(
            "DIM-03",
            &http,
            &DimseExpect {
                statuses: vec![0],
                ..DimseExpect::default()
            },
            &[]
        ),
        Outcome::NotApplicable
    );
}

/// A C-FIND at `level` with `keys`, answered by identifiers `answers`, then 0000.
fn find_with(keys: &[(&str, &str)], answers: &[&[(&str, &str)]]) -> Exchange {
    let rq = Command::request(field::C_FIND_RQ, FIND, 1, true);
    let mut m = vec![msg(Flow::Sent, rq.clone(), keys)];
    for a in answers {
        m.push(msg(Flow::Received, rsp(&rq, status::PENDING, true), a));
    }
    m.push(msg(Flow::Received, rsp(&rq, status::SUCCESS, false), &[]));
    exchange(record(FIND, m))
}

#[test]
fn find_answers_are_about_what_was_asked() {
    let x = DimseExpect::default();
    let series_keys = [
        ("QueryRetrieveLevel", "SERIES"),
        ("StudyInstanceUID", "1.1"),
        ("SeriesInstanceUID", ""),
        ("Modality", ""),
    ];
    let good = find_with(
        &series_keys,
        &[&[
            ("QueryRetrieveLevel", "SERIES"),
            ("StudyInstanceUID", "1.1"),
            ("SeriesInstanceUID", "1.1.1"),
            ("Modality", "CT"),
        ]],
    );
    assert_eq!(outcome("DIM-15", &good, &x, &[]), Outcome::Pass);
    assert_eq!(outcome("DIM-16", &good, &x, &[]), Outcome::Pass);
    // Seen in the field: a series query answered with studies.
    let other_level = find_with(
        &series_keys,
        &[&[
            ("QueryRetrieveLevel", "STUDY"),
            ("StudyInstanceUID", "1.1"),
            ("SeriesInstanceUID", ""),
            ("Modality", ""),
        ]],
    );
    assert_eq!(outcome("DIM-15", &other_level, &x, &[]), Outcome::Fail);
    let other_study = find_with(
        &series_keys,
        &[&[
            ("QueryRetrieveLevel", "SERIES"),
            ("StudyInstanceUID", "9.9"),
            ("SeriesInstanceUID", "9.9.1"),
            ("Modality", "CT"),
        ]],
    );
    assert_eq!(outcome("DIM-15", &other_study, &x, &[]), Outcome::Pass);
    assert_eq!(outcome("DIM-16", &other_study, &x, &[]), Outcome::Fail);
    let patient_keys = [
        ("QueryRetrieveLevel", "STUDY"),
        ("PatientID", "P1"),
        ("PatientName", "Doe*"),
        ("StudyInstanceUID", ""),
    ];
    let other_patient = find_with(
        &patient_keys,
        &[&[
            ("QueryRetrieveLevel", "STUDY"),
            ("PatientID", "P2"),
            ("PatientName", "DOE^JOHN"),
            ("StudyInstanceUID", "1.1"),
        ]],
    );
    assert_eq!(outcome("DIM-16", &other_patient, &x, &[]), Outcome::Fail);
    let same_patient = find_with(
        &patient_keys,
        &[&[
            ("QueryRetrieveLevel", "STUDY"),
            ("PatientID", "P1"),
            ("PatientName", "DOE^JOHN"),
            ("StudyInstanceUID", "1.1"),
        ]],
    );
    assert_eq!(outcome("DIM-16", &same_patient, &x, &[]), Outcome::Pass);
    let nameless = find_with(
        &patient_keys,
        &[&[
            ("QueryRetrieveLevel", "STUDY"),
            ("PatientID", "P1"),
            ("StudyInstanceUID", ""),
        ]],
    );
    assert_eq!(outcome("DIM-15", &nameless, &x, &[]), Outcome::Fail);
    let unreadable = find_with(&patient_keys, &[&[("(undecodable)", "truncated")]]);
    assert_eq!(outcome("DIM-15", &unreadable, &x, &[]), Outcome::Fail);
    assert_eq!(
        outcome("DIM-15", &moved(&[0], 0, 1, 0), &x, &[]),
        Outcome::NotApplicable
    );
}

/// A C-GET of series `1.1.1` of study `1.1`, with sub-operations (command UID, data set summary).
fn got(subs: &[(&str, &[(&str, &str)])]) -> Exchange {
    let get = "1.2.840.10008.5.1.4.1.2.2.3";
    let rq = Command::request(field::C_GET_RQ, get, 7, true);
    let mut m = vec![msg(
        Flow::Sent,
        rq.clone(),
        &[
            ("QueryRetrieveLevel", "SERIES"),
            ("StudyInstanceUID", "1.1"),
            ("SeriesInstanceUID", "1.1.1"),
        ],
    )];
    for (i, (uid, summary)) in subs.iter().enumerate() {
        let mut st = Command::request(field::C_STORE_RQ, CT, i as u16 + 1, true);
        st.affected_sop_instance = Some(uid.to_string());
        m.push(msg(Flow::Received, st, summary));
    }
    let mut f = rsp(&rq, status::SUCCESS, false);
    f.completed = Some(subs.len() as u16);
    m.push(msg(Flow::Received, f, &[]));
    exchange(record(get, m))
}

#[test]
fn retrieved_instances_are_those_the_request_selected() {
    let x = DimseExpect::default();
    let good = got(&[(
        "1.1.1.1",
        &[
            ("SOPClassUID", CT),
            ("SOPInstanceUID", "1.1.1.1"),
            ("StudyInstanceUID", "1.1"),
            ("SeriesInstanceUID", "1.1.1"),
            ("TransferSyntaxUID", ELE),
        ],
    )]);
    assert_eq!(outcome("DIM-17", &good, &x, &[]), Outcome::Pass);
    let foreign = got(&[(
        "2.2.2.2",
        &[
            ("SOPClassUID", CT),
            ("SOPInstanceUID", "2.2.2.2"),
            ("StudyInstanceUID", "2.2"),
            ("SeriesInstanceUID", "2.2.2"),
        ],
    )]);
    assert_eq!(outcome("DIM-17", &foreign, &x, &[]), Outcome::Fail);
    let mislabelled = got(&[(
        "1.1.1.1",
        &[
            ("SOPClassUID", CT),
            ("SOPInstanceUID", "1.1.1.2"),
            ("StudyInstanceUID", "1.1"),
            ("SeriesInstanceUID", "1.1.1"),
        ],
    )]);
    assert_eq!(outcome("DIM-17", &mislabelled, &x, &[]), Outcome::Fail);
    let unreadable = got(&[("1.1.1.1", &[("(undecodable)", "truncated")])]);
    assert_eq!(outcome("DIM-17", &unreadable, &x, &[]), Outcome::Fail);
    assert_eq!(
        outcome("DIM-17", &got(&[]), &x, &[]),
        Outcome::NotApplicable
    );
    // A SUT asked to store a series: the step says which.
    let pushed = DimseExpect {
        selects: vec![("SeriesInstanceUID".into(), vec!["9.9".into()])],
        ..DimseExpect::default()
    };
    assert_eq!(outcome("DIM-17", &good, &pushed, &[]), Outcome::Fail);
    // Byte identity is judged in the transfer syntax the source holds; another one is not
    // compared byte for byte.
    let want = DimseExpect {
        instances: Some(BTreeMap::from([(
            "1.1.1.1".to_string(),
            vec![(ELE.to_string(), "a".to_string())],
        )])),
        ..DimseExpect::default()
    };
    let mut implicit = got(&[("1.1.1.1", &[("TransferSyntaxUID", "1.2.840.10008.1.2")])]);
    implicit.dimse.as_mut().unwrap().messages[1].data_sha256 = Some("other".into());
    assert_eq!(outcome("DIM-08", &implicit, &want, &[]), Outcome::Pass);
    assert_eq!(outcome("DIM-19", &implicit, &want, &[]), Outcome::Pass);
    let mut changed = got(&[("1.1.1.1", &[("TransferSyntaxUID", ELE)])]);
    changed.dimse.as_mut().unwrap().messages[1].data_sha256 = Some("other".into());
    assert_eq!(outcome("DIM-19", &changed, &want, &[]), Outcome::Fail);
    // Images are compared in the syntax they came in: a native image is the same bytes in
    // Implicit and Explicit VR Little Endian.
    let pixels = DimseExpect {
        pixel_data: BTreeMap::from([(
            "1.1.1.1".to_string(),
            vec![
                (ELE.to_string(), "p".to_string()),
                ("1.2.840.10008.1.2".to_string(), "p".to_string()),
            ],
        )]),
        ..want
    };
    let image = |ts: &'static str, sha: &'static str| {
        got(&[(
            "1.1.1.1",
            &[("TransferSyntaxUID", ts), ("PixelDataSHA256", sha)],
        )])
    };
    assert_eq!(
        outcome("DIM-08", &image(ELE, "p"), &pixels, &[]),
        Outcome::Pass
    );
    assert_eq!(
        outcome("DIM-08", &image("1.2.840.10008.1.2", "p"), &pixels, &[]),
        Outcome::Pass
    );
    assert_eq!(
        outcome("DIM-08", &image(ELE, "q"), &pixels, &[]),
        Outcome::Fail
    );
    // A syntax the source is not held in (a lossy image decoded by the SCP): not compared.
    assert_eq!(
        outcome(
            "DIM-08",
            &image("1.2.840.10008.1.2.4.50", "q"),
            &pixels,
            &[]
        ),
        Outcome::Pass
    );
}

#[test]
fn a_response_on_another_accepted_context_is_a_protocol_breach() {
    let mut ex = find(&["1.1"], false, Some(0));
    let r = ex.dimse.as_mut().unwrap();
    r.negotiated.push(NegotiatedContext {
        id: 3,
        abstract_syntax: CT.into(),
        result: 0,
        transfer_syntax: ELE.into(),
    });
    assert_eq!(
        outcome("DIM-10", &ex, &DimseExpect::default(), &[]),
        Outcome::Pass
    );
    ex.dimse.as_mut().unwrap().messages[1].pc_id = 3;
    assert_eq!(
        outcome("DIM-10", &ex, &DimseExpect::default(), &[]),
        Outcome::Fail
    );
}

#[test]
fn what_arrived_is_judged_whatever_the_final_status() {
    let want = DimseExpect {
        instances: Some(BTreeMap::from([
            (
                "1.1.1.1".to_string(),
                vec![(ELE.to_string(), "a".to_string())],
            ),
            (
                "1.1.1.2".to_string(),
                vec![(ELE.to_string(), "b".to_string())],
            ),
        ])),
        ..DimseExpect::default()
    };
    let with_final = |st: u16, sha: &str| {
        let mut ex = got(&[("1.1.1.1", &[("TransferSyntaxUID", ELE)])]);
        let r = ex.dimse.as_mut().unwrap();
        r.messages[1].data_sha256 = Some(sha.into());
        let n = r.messages.len();
        r.messages[n - 1].command.status = Some(st);
        ex
    };
    // A failed C-GET that delivered one good instance: the status is DIM-03's finding, and the
    // instance that arrived is as it should be.
    assert_eq!(
        outcome("DIM-08", &with_final(0xC000, "a"), &want, &[]),
        Outcome::Pass
    );
    assert_eq!(
        outcome("DIM-08", &with_final(0xB000, "a"), &want, &[]),
        Outcome::Pass
    );
    // ... but a changed one is still caught.
    assert_eq!(
        outcome("DIM-19", &with_final(0xC000, "x"), &want, &[]),
        Outcome::Fail
    );
    // 0000 says everything arrived: the missing one is a Fail.
    assert_eq!(
        outcome("DIM-08", &with_final(0, "a"), &want, &[]),
        Outcome::Fail
    );
}

#[test]
fn move_sub_operations_name_their_move() {
    let x = DimseExpect::default();
    let with = |ae: Option<&str>, id: Option<u16>| {
        let mut ex = stored(&[("1.1", "a")]);
        let r = ex.dimse.as_mut().unwrap();
        r.calling_ae = "ORTHANC".into();
        r.messages[0].command.move_originator_ae = ae.map(str::to_string);
        r.messages[0].command.move_originator_id = id;
        ex
    };
    let good = moved(&[0], status::SUCCESS, 1, 0);
    assert_eq!(
        outcome("DIM-18", &good, &x, &[with(Some("IHE_HARNESS "), Some(1))]),
        Outcome::Pass
    );
    assert_eq!(
        outcome("DIM-18", &good, &x, &[with(Some("ORTHANC"), Some(1))]),
        Outcome::Fail
    );
    assert_eq!(
        outcome("DIM-18", &good, &x, &[with(None, None)]),
        Outcome::Fail
    );
    assert_eq!(
        outcome("DIM-18", &good, &x, &[with(Some("IHE_HARNESS"), Some(2))]),
        Outcome::Fail
    );
    assert_eq!(outcome("DIM-18", &good, &x, &[]), Outcome::NotApplicable);
    let level = CHECKS.iter().find(|c| c.id == "DIM-18").unwrap().level;
    assert_eq!(level, Level::Should);
}

#[test]
fn a_duplicate_may_be_accepted_warned_or_refused_as_a_duplicate() {
    let mut rq = Command::request(field::C_STORE_RQ, CT, 1, true);
    rq.affected_sop_instance = Some("1.1".into());
    let answered = |st: u16| {
        exchange(record(
            CT,
            vec![
                msg(Flow::Sent, rq.clone(), &[]),
                msg(Flow::Received, rsp(&rq, st, false), &[]),
            ],
        ))
    };
    let dup = DimseExpect {
        duplicates: true,
        ..DimseExpect::default()
    };
    let new = DimseExpect::default();
    for st in [0x0000, 0xB000, 0x0111] {
        assert_eq!(
            outcome("DIM-12", &answered(st), &dup, &[]),
            Outcome::Pass,
            "{st:04X}"
        );
    }
    assert_eq!(
        outcome("DIM-12", &answered(0x0111), &new, &[]),
        Outcome::Fail
    );
    assert_eq!(
        outcome("DIM-12", &answered(0xA700), &dup, &[]),
        Outcome::Fail
    );
    assert_eq!(
        outcome("DIM-12", &answered(0xC000), &dup, &[]),
        Outcome::Fail
    );
}

#[test]
fn identifiers_may_carry_what_the_response_identifier_structure_adds() {
    let x = DimseExpect {
        requested_keys: vec![
            "QueryRetrieveLevel".into(),
            "StudyInstanceUID".into(),
            "StudyDate".into(),
        ],
        ..DimseExpect::default()
    };
    let keys = [
        ("QueryRetrieveLevel", "STUDY"),
        ("StudyInstanceUID", ""),
        ("StudyDate", ""),
    ];
    // PS3.4 §C.4.1.1.3.2 specifies these beside the keys asked for.
    let extras = find_with(
        &keys,
        &[&[
            ("SpecificCharacterSet", "ISO_IR 100"),
            ("QueryRetrieveLevel", "STUDY"),
            ("StudyDate", "20260115"),
            ("TimezoneOffsetFromUTC", "+0100"),
            ("RetrieveAETitle", "PACS"),
            ("InstanceAvailability", "ONLINE"),
            ("StudyInstanceUID", "1.1"),
        ]],
    );
    assert_eq!(outcome("DIM-05", &extras, &x, &[]), Outcome::Pass);
    // Anything else was not asked for, a private element included.
    let private = find_with(
        &keys,
        &[&[
            ("QueryRetrieveLevel", "STUDY"),
            ("StudyDate", "20260115"),
            ("StudyInstanceUID", "1.1"),
            ("(0009,0010)", "VENDOR"),
        ]],
    );
    assert_eq!(outcome("DIM-05", &private, &x, &[]), Outcome::Fail);
}

#[test]
fn a_required_key_the_scp_has_no_value_for_matches_and_a_unique_key_never_is_empty() {
    let x = DimseExpect::default();
    let keys = [
        ("QueryRetrieveLevel", "STUDY"),
        ("StudyDate", "20260101-20260120"),
        ("PatientID", ""),
        ("StudyInstanceUID", ""),
    ];
    // PS3.4 §C.2.2.1.2: a study whose date the SCP does not know matches a date range.
    let unknown_date = find_with(
        &keys,
        &[&[
            ("QueryRetrieveLevel", "STUDY"),
            ("StudyDate", ""),
            ("PatientID", "P9"),
            ("StudyInstanceUID", "7.7"),
        ]],
    );
    assert_eq!(outcome("DIM-16", &unknown_date, &x, &[]), Outcome::Pass);
    let other_date = find_with(
        &keys,
        &[&[
            ("QueryRetrieveLevel", "STUDY"),
            ("StudyDate", "20250101"),
            ("PatientID", "P9"),
            ("StudyInstanceUID", "7.7"),
        ]],
    );
    assert_eq!(outcome("DIM-16", &other_date, &x, &[]), Outcome::Fail);
    // A series query names its study by a Unique key: an empty one is no match.
    let series_keys = [
        ("QueryRetrieveLevel", "SERIES"),
        ("StudyInstanceUID", "1.1"),
        ("SeriesInstanceUID", ""),
    ];
    let no_study = find_with(
        &series_keys,
        &[&[
            ("QueryRetrieveLevel", "SERIES"),
            ("StudyInstanceUID", ""),
            ("SeriesInstanceUID", "1.1.1"),
        ]],
    );
    assert_eq!(outcome("DIM-16", &no_study, &x, &[]), Outcome::Fail);
}

#[test]
fn each_entity_is_one_match() {
    let x = DimseExpect::default();
    let keys = [
        ("QueryRetrieveLevel", "STUDY"),
        ("PatientID", "P1"),
        ("StudyInstanceUID", ""),
    ];
    let study = |uid: &'static str| -> Vec<(&'static str, &'static str)> {
        vec![
            ("QueryRetrieveLevel", "STUDY"),
            ("PatientID", "P1"),
            ("StudyInstanceUID", uid),
        ]
    };
    let (a, b) = (study("1.1"), study("1.2"));
    let once = find_with(&keys, &[&a, &b]);
    assert_eq!(outcome("DIM-15", &once, &x, &[]), Outcome::Pass);
    // Seen from an SCP that answers a study-level query once per instance of each study.
    let twice = find_with(&keys, &[&a, &a, &b]);
    assert_eq!(outcome("DIM-15", &twice, &x, &[]), Outcome::Fail);
}

#[test]
fn a_final_response_may_leave_the_counts_out() {
    let x = DimseExpect {
        instances: Some(BTreeMap::from([
            ("1.1".to_string(), vec![(ELE.to_string(), "a".to_string())]),
            ("1.2".to_string(), vec![(ELE.to_string(), "b".to_string())]),
        ])),
        ..DimseExpect::default()
    };
    // PS3.4 §C.4.2.1.7-9: Success "may contain" the counts.
    let mut bare = moved(&[1, 0], status::SUCCESS, 0, 0);
    if let Some(r) = bare.dimse.as_deref_mut() {
        if let Some(f) = r.messages.last_mut() {
            f.command.completed = None;
            f.command.failed = None;
            f.command.warning = None;
        }
    }
    assert_eq!(outcome("DIM-07", &bare, &x, &[]), Outcome::Pass);
    // Counts that are there must add up.
    let short = moved(&[1, 0], status::SUCCESS, 1, 0);
    assert_eq!(outcome("DIM-07", &short, &x, &[]), Outcome::Fail);
}

#[test]
fn a_match_of_the_test_data_carries_its_values() {
    let x = DimseExpect {
        matches: Some((
            "SeriesInstanceUID".into(),
            BTreeSet::from(["1.1.1".to_string()]),
        )),
        values: BTreeMap::from([(
            "1.1.1".to_string(),
            vec![
                ("Modality".to_string(), "CT".to_string()),
                ("SeriesNumber".to_string(), "2".to_string()),
            ],
        )]),
        ..DimseExpect::default()
    };
    let keys = [
        ("QueryRetrieveLevel", "SERIES"),
        ("StudyInstanceUID", "1.1"),
        ("SeriesInstanceUID", ""),
        ("Modality", ""),
        ("SeriesNumber", ""),
    ];
    let series = |modality: &'static str, number: &'static str| {
        find_with(
            &keys,
            &[&[
                ("QueryRetrieveLevel", "SERIES"),
                ("StudyInstanceUID", "1.1"),
                ("SeriesInstanceUID", "1.1.1"),
                ("Modality", modality),
                ("SeriesNumber", number),
            ]],
        )
    };
    assert_eq!(
        outcome("DIM-06", &series("CT", "02"), &x, &[]),
        Outcome::Pass
    );
    // No value is the SCP having none to send (§C.4.1.1.3.2 note 2).
    assert_eq!(outcome("DIM-06", &series("", ""), &x, &[]), Outcome::Pass);
    // The right series with another series' values.
    assert_eq!(
        outcome("DIM-06", &series("MR", "2"), &x, &[]),
        Outcome::Fail
    );
    assert_eq!(
        outcome("DIM-06", &series("CT", "102"), &x, &[]),
        Outcome::Fail
    );
}

#[test]
fn a_move_the_harness_refused_to_receive_is_not_failed_for_its_status() {
    let x = DimseExpect {
        statuses: vec![status::SUCCESS],
        refused_by_harness: 1,
        ..DimseExpect::default()
    };
    let warned = moved(&[1, 0], status::SUB_OPERATIONS_FAILED, 0, 2);
    assert_eq!(outcome("DIM-03", &warned, &x, &[]), Outcome::NotApplicable);
    let judged = DimseExpect {
        refused_by_harness: 0,
        ..x
    };
    assert_eq!(outcome("DIM-03", &warned, &judged, &[]), Outcome::Fail);
}

#[test]
fn a_request_that_must_be_refused_is_refused_and_should_name_the_reason() {
    let x = DimseExpect {
        refused_as: Some(status::MOVE_DESTINATION_UNKNOWN),
        reason: "Refused: Move Destination unknown".into(),
        ..DimseExpect::default()
    };
    let answered = |st: u16| moved(&[], st, 0, 0);
    let a801 = answered(status::MOVE_DESTINATION_UNKNOWN);
    assert_eq!(outcome("DIM-03", &a801, &x, &[]), Outcome::Pass);
    assert_eq!(outcome("DIM-20", &a801, &x, &[]), Outcome::Pass);
    // Refused, with a status that names another cause: DIM-20 only (a SHOULD).
    let c000 = answered(status::UNABLE_TO_PROCESS);
    assert_eq!(outcome("DIM-03", &c000, &x, &[]), Outcome::Pass);
    assert_eq!(outcome("DIM-20", &c000, &x, &[]), Outcome::Fail);
    // Not refused at all.
    let ok = answered(status::SUCCESS);
    assert_eq!(outcome("DIM-03", &ok, &x, &[]), Outcome::Fail);
    assert_eq!(
        outcome("DIM-20", &ok, &DimseExpect::default(), &[]),
        Outcome::NotApplicable
    );
}
