//! Test data: in `load` mode ([`crate::config::TestDataMode::Load`]) the harness puts its fixture
//! studies on the SUT once per run, before the scenarios that need them: the images with STOW-RS
//! (RAD-108) or C-STORE, the manifests registered with RAD-68, the MHD documents published with
//! ITI-65 (the Patient found or created first). Each loader returns the exchanges it made, which the steps
//! record, and a [`TestDataError`] that says whether the harness failed to load (an Error) or the
//! SUT refused a conformant load (its breach, judged by the check the steps name).

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;
use serde_json::Value;

use crate::actors::dicomweb::DicomwebClient;
use crate::actors::dimse_scu::{
    copies_sent, rejection_as_failure, store_file_outcomes, DimseScu, StoreFile, StoreOutcome,
};
use crate::actors::mhd::MhdClient;
use crate::actors::stow_rs;
use crate::actors::xds::{self as xds_actor, XdsClient};
use crate::checks::soap_message::SutMessage;
use crate::evidence::{Exchange, TransportFailure};
use crate::model::dicom_json;
use crate::model::ebrim::{self as e, Message};
use crate::model::fixtures::mhd::Catalogue;
use crate::model::fixtures::{FixtureInstance, Fixtures};
use crate::transaction::Transaction;

/// Why the test data is not on the SUT.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TestDataError {
    /// A fixture file could not be read.
    #[error("cannot read fixture {path}: {message}")]
    UnreadableFixture {
        /// The fixture's path in the index.
        path: String,
        /// Why.
        message: String,
    },
    /// A fixture manifest could not be read.
    #[error("cannot read {path}: {message}")]
    UnreadableManifest {
        /// The manifest's path in the index.
        path: String,
        /// Why.
        message: String,
    },
    /// The STOW-RS of a study did not complete (the network or the harness).
    #[error("loading study {alias}: {message}")]
    StowFailed {
        /// The study.
        alias: String,
        /// How the exchange ended.
        message: String,
    },
    /// The SUT's STOW-RS answer says the study is not all on it.
    #[error("loading study {alias} with STOW-RS: {why}; the test data is not on the SUT")]
    StowRefused {
        /// The study.
        alias: String,
        /// The answer.
        why: String,
    },
    /// The RAD-68 submission of a manifest could not be built.
    #[error("{0}")]
    Submission(String),
    /// The RAD-68 could not be sent.
    #[error("{0}")]
    NotSent(String),
    /// The RAD-68 of a manifest did not complete (the network or the harness).
    #[error("registering the manifest of {alias} with RAD-68 failed; the test data is not on the SUT: {why}")]
    Rad68Failed {
        /// The study.
        alias: String,
        /// How the exchange ended.
        why: String,
    },
    /// The affinity domain does not know the test patients: configuration.
    #[error("registering the manifest of {alias} with RAD-68 failed; the test data is not on the SUT: XDSUnknownPatientId; register the test patients in the affinity domain, or set [xds] patient_id_authority to its assigning authority")]
    Rad68UnknownPatient {
        /// The study.
        alias: String,
    },
    /// The SUT refused the conformant RAD-68 of a manifest: its breach.
    #[error(
        "registering the manifest of {alias} with RAD-68 failed; the test data is not on the SUT"
    )]
    Rad68Refused {
        /// The study.
        alias: String,
    },
    /// The MHD catalogue has no bundle for a study.
    #[error("no provide bundle for study {alias}")]
    NoBundle {
        /// The study.
        alias: String,
    },
    /// The catalogue has no such test patient.
    #[error("no test patient {pid}")]
    NoPatient {
        /// The patient id.
        pid: String,
    },
    /// The test patient could not be created on the SUT.
    #[error("could not create test patient {pid}: HTTP {status}")]
    PatientNotCreated {
        /// The patient id.
        pid: String,
        /// The HTTP status, or `(no answer)`.
        status: String,
    },
    /// The ITI-65 of a study's documents did not complete (the network or the harness).
    #[error("ITI-65 of the documents of {alias} failed: {why}")]
    Iti65Failed {
        /// The study.
        alias: String,
        /// How the exchange ended.
        why: String,
    },
    /// The SUT refused the conformant ITI-65 of a study's documents: its breach.
    #[error("HTTP {status} to the ITI-65 of the documents of {alias}: {answer}")]
    Iti65Refused {
        /// The study.
        alias: String,
        /// The HTTP status (empty when none).
        status: String,
        /// The head of the answer.
        answer: String,
    },
}

impl TestDataError {
    /// Whether the SUT refused a conformant load (its breach) rather than the harness, the
    /// network or the configuration failing.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            TestDataError::Rad68Refused { .. } | TestDataError::Iti65Refused { .. }
        )
    }
}

/// Store every fixture study into the SUT's DICOMweb origin server with STOW-RS, one request per
/// study, at most `requests` at once ([`stow_rs::store_batches`]: each body read from the fixture
/// files as it is sent); the exchanges go to `exchanges`, in the order of the studies. The first
/// study (in that order) not stored is the one reported; every request is made all the same.
pub async fn load_dicomweb(
    fixtures: &Fixtures,
    c: &DicomwebClient,
    requests: usize,
    exchanges: &mut Vec<Exchange>,
) -> Result<(), TestDataError> {
    let studies = fixtures.studies();
    let mut batches = Vec::new();
    for study in &studies {
        let mut files = Vec::new();
        for inst in &study.instances {
            let file = fixtures.file(inst);
            if let Err(e) = std::fs::metadata(&file) {
                return Err(TestDataError::UnreadableFixture {
                    path: inst.path.clone(),
                    message: e.to_string(),
                });
            }
            files.push(file);
        }
        batches.push(files);
    }
    let answers = stow_rs::store_batches(c, None, &batches, requests).await;
    let mut result = Ok(());
    for (study, ex) in studies.iter().zip(answers) {
        if result.is_ok() {
            if let Some(f) = &ex.failure {
                result = Err(TestDataError::StowFailed {
                    alias: study.alias.to_string(),
                    message: f.message.clone(),
                });
            } else if let Some(why) = refused_stow(&ex) {
                result = Err(TestDataError::StowRefused {
                    alias: study.alias.to_string(),
                    why,
                });
            }
        }
        exchanges.push(ex);
    }
    result
}

/// Store every fixture instance into the SUT's DICOM archive with C-STORE over `associations`
/// associations at once ([`by_study`]: each study's instances in index order on one
/// association, so an archive that answers in arrival order answers the same way run after run;
/// 1, one association), the Explicit VR Little Endian twin where the SUT does not accept a file's
/// transfer syntax; each association's exchange goes to `exchanges`, in order. An association
/// the SUT rejected is the harness's failure to load ([`rejection_as_failure`]); a failure keeps
/// its kind (a Fail of PEER-01 for a peer that closed instead of answering) and names the
/// association and the fixture files it left without a C-STORE-RSP. The first failed association
/// (in order) is the one reported; the others' evidence is kept all the same. Loaded: the SOP
/// Instance UIDs of the instances the SUT took as their Explicit VR Little Endian twin.
pub async fn load_dimse(
    fixtures: &Fixtures,
    scu: &DimseScu,
    associations: usize,
    exchanges: &mut Vec<Exchange>,
) -> Result<BTreeSet<String>, TransportFailure> {
    let files: Vec<StoreFile> = fixtures
        .instances
        .iter()
        .map(|i| StoreFile {
            path: fixtures.file(i),
            fallback: i.ele_path.as_ref().map(|p| fixtures.dir.join(p)),
        })
        .collect();
    let runs = scu
        .store_shares(&files, by_study(fixtures, associations))
        .await;
    let n = runs.len();
    let mut result = Ok(BTreeSet::new());
    for (k, (share, mut ex)) in runs.into_iter().enumerate() {
        rejection_as_failure(&mut ex);
        let mine: Vec<StoreFile> = share.iter().map(|&i| files[i].clone()).collect();
        if let Ok(copies) = &mut result {
            let sent = copies_sent(&ex, &mine);
            for (&i, copy) in share.iter().zip(sent) {
                if copy {
                    copies.insert(fixtures.instances[i].sop_uid.clone());
                }
            }
        }
        if let (Some(f), Ok(_)) = (&ex.failure, &result) {
            let undone: Vec<String> = mine
                .iter()
                .zip(store_file_outcomes(&ex, &mine))
                .filter(|(_, o)| *o == StoreOutcome::NoResponse)
                .map(|(f, _)| {
                    f.path
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default()
                })
                .collect();
            let association = if n > 1 {
                format!(" (association {} of {n})", k + 1)
            } else {
                String::new()
            };
            result = Err(TransportFailure {
                kind: f.kind.clone(),
                message: format!(
                    "loading the test studies with C-STORE failed{association}: {}; {} of its {} instances without a C-STORE-RSP{}",
                    f.message,
                    undone.len(),
                    mine.len(),
                    listed(&undone)
                ),
            });
        }
        exchanges.push(ex);
    }
    result
}

/// The fixture instances (indices into `fixtures.instances`) dealt to at most `associations`
/// shares a study at a time: each study whole and in index order, the largest study first to the
/// share with the fewest instances so far (the first such share on a tie). The same fixtures give
/// the same shares, and every share sends its studies' instances in the order of the index.
pub fn by_study(fixtures: &Fixtures, associations: usize) -> Vec<Vec<usize>> {
    let mut studies: Vec<(&str, Vec<usize>)> = Vec::new();
    for (i, inst) in fixtures.instances.iter().enumerate() {
        match studies.iter_mut().find(|(uid, _)| *uid == inst.study_uid) {
            Some((_, members)) => members.push(i),
            None => studies.push((&inst.study_uid, vec![i])),
        }
    }
    // Stable: studies of the same size keep their index order.
    studies.sort_by_key(|(_, members)| std::cmp::Reverse(members.len()));
    let n = associations.clamp(1, studies.len().max(1));
    let mut shares: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (_, members) in studies {
        if let Some(share) = shares.iter_mut().min_by_key(|s| s.len()) {
            share.extend(members);
        }
    }
    shares.retain(|s| !s.is_empty());
    shares
}

/// `: a, b, c` (the first ten, then how many more), or nothing for none.
fn listed(names: &[String]) -> String {
    match names.len() {
        0 => String::new(),
        n if n <= 10 => format!(": {}", names.join(", ")),
        n => format!(": {}, … ({} more)", names[..10].join(", "), n - 10),
    }
}

/// Why the STOW-RS answer to the loading of a test study says the study is not all on the SUT,
/// or `None` when it is: 200, or 202 whose failures (if any) are all duplicates of instances the
/// SUT holds from an earlier run (0111H, Duplicate SOP Instance, PS3.7 Annex C), as are those of
/// a 409. Warnings (202) leave the instances stored.
pub fn refused_stow(ex: &Exchange) -> Option<String> {
    const DUPLICATE: u64 = 0x0111;
    let status = ex.status()?;
    if status == 200 {
        return None;
    }
    let reasons: Vec<Option<u64>> = stow_rs::response_data_set(ex)
        .and_then(|ds| dicom_json::values(&ds, 0x0008_1198).cloned())
        .unwrap_or_default()
        .iter()
        .map(|item| {
            dicom_json::values(item, 0x0008_1197)
                .and_then(|v| v.first())
                .and_then(serde_json::Value::as_u64)
        })
        .collect();
    let all_duplicates = reasons.iter().all(|r| *r == Some(DUPLICATE));
    match status {
        202 | 409 if all_duplicates && (status == 202 || !reasons.is_empty()) => None,
        _ => {
            let listed: Vec<String> = reasons
                .iter()
                .map(|r| match r {
                    Some(code) => format!("{code:04X}H"),
                    None => "no reason".to_string(),
                })
                .collect();
            Some(if listed.is_empty() {
                format!("answered {status}")
            } else {
                format!(
                    "answered {status}, {} instance(s) refused ({})",
                    listed.len(),
                    listed.join(", ")
                )
            })
        }
    }
}

/// Register the manifest of every fixture study that has one with RAD-68; a manifest the
/// registry already holds (XDSDuplicateUniqueIdInRegistry, from an earlier run) is on the SUT.
pub async fn load_xds(
    fixtures: &Fixtures,
    c: &XdsClient,
    exchanges: &mut Vec<Exchange>,
) -> Result<(), TestDataError> {
    for s in fixtures.studies() {
        let Some(k) = s.instances.iter().find(|i| i.kos) else {
            continue;
        };
        let insts: Vec<FixtureInstance> = s.instances.iter().map(|i| (*i).clone()).collect();
        let bytes = match tokio::fs::read(fixtures.file(k)).await {
            Ok(b) => b,
            Err(err) => {
                return Err(TestDataError::UnreadableManifest {
                    path: k.path.clone(),
                    message: err.to_string(),
                })
            }
        };
        let (pnr, atts) = xds_actor::manifest_submission(&c.cfg, &bytes, &insts, None)
            .map_err(|err| TestDataError::Submission(err.to_string()))?;
        let ex = c
            .provide_and_register(&pnr, &atts, "load test data")
            .await
            .map_err(|err| TestDataError::NotSent(err.to_string()))?;
        let answer = SutMessage::of(&ex).ok().and_then(|m| m.message().ok());
        let codes: Vec<String> = match &answer {
            Some(Message::RegistryResponse(r)) => r
                .errors
                .iter()
                .filter_map(|er| er.error_code.clone())
                .collect(),
            _ => Vec::new(),
        };
        let ok = matches!(&answer, Some(Message::RegistryResponse(r))
            if r.status.as_deref() == Some(e::RESPONSE_SUCCESS))
            || codes.iter().any(|c| c == "XDSDuplicateUniqueIdInRegistry");
        let failure = ex.failure.as_ref().map(|f| f.message.clone());
        exchanges.push(ex);
        if !ok {
            let alias = s.alias.to_string();
            return Err(match failure {
                // The network or the harness: an Error.
                Some(why) => TestDataError::Rad68Failed { alias, why },
                // The affinity domain does not know the test patients: configuration.
                None if codes.iter().any(|c| c == "XDSUnknownPatientId") => {
                    TestDataError::Rad68UnknownPatient { alias }
                }
                // A conformant submission refused: the SUT's breach.
                None => TestDataError::Rad68Refused { alias },
            });
        }
    }
    Ok(())
}

/// Publish the documents of every study of the MHD catalogue with ITI-65, each patient's
/// Patient found or created once first.
pub async fn load_mhd(
    fixtures: &Fixtures,
    catalogue: &Catalogue,
    c: &MhdClient,
    exchanges: &mut Vec<Exchange>,
) -> Result<(), TestDataError> {
    let mut aliases: Vec<String> = catalogue.docs.iter().map(|d| d.alias.clone()).collect();
    aliases.dedup();
    let mut patients: BTreeMap<String, String> = BTreeMap::new();
    for alias in aliases {
        // The shared Patient first (found, or created once), then the study's documents.
        let pid = fixtures
            .study(&alias)
            .and_then(|s| s.instances.first().map(|i| i.patient_id.clone()))
            .unwrap_or_default();
        let reference = match patients.get(&pid) {
            Some(r) => r.clone(),
            None => {
                let r = ensure_patient(c, catalogue, &pid).await?;
                patients.insert(pid.clone(), r.clone());
                r
            }
        };
        let Some(bundle) = catalogue.provide_bundle(&alias, Some(&reference)) else {
            return Err(TestDataError::NoBundle { alias });
        };
        let ex = c.provide_bundle(&bundle, false).await;
        let status = ex.status();
        let answer: String = ex
            .response
            .as_ref()
            .map(|r| r.body.text_lossy())
            .unwrap_or_default()
            .chars()
            .take(400)
            .collect();
        let failure = ex.failure.as_ref().map(|f| f.message.clone());
        exchanges.push(ex);
        match (status, failure) {
            (Some(200), _) => {}
            (_, Some(why)) => return Err(TestDataError::Iti65Failed { alias, why }),
            (status, None) => {
                return Err(TestDataError::Iti65Refused {
                    alias,
                    status: status.map(|s| s.to_string()).unwrap_or_default(),
                    answer,
                })
            }
        }
    }
    Ok(())
}

/// `Patient/{id}` of fixture patient `pid` on the SUT: found by identifier, or created.
async fn ensure_patient(
    c: &MhdClient,
    cat: &Catalogue,
    pid: &str,
) -> Result<String, TestDataError> {
    let Some(patient) = cat.patient(pid) else {
        return Err(TestDataError::NoPatient {
            pid: pid.to_string(),
        });
    };
    let token = format!(
        "{}|{pid}",
        patient
            .pointer("/identifier/0/system")
            .and_then(Value::as_str)
            .unwrap_or("")
    );
    let found = c.find_patient(&token, crate::actors::mhd::SOURCE).await;
    if let Some(reference) = crate::actors::mhd::first_patient(&found) {
        return Ok(reference);
    }
    let mut body = patient.clone();
    if let Some(o) = body.as_object_mut() {
        o.remove("id");
    }
    let created = c
        .http
        .exchange(
            crate::transport::http::Meta {
                transaction: Transaction::Fhir,
                operation: "load test patient".into(),
                actor: crate::actors::mhd::SOURCE,
            },
            crate::transport::http::Request {
                method: reqwest::Method::POST,
                url: c.url("Patient"),
                headers: vec![("Content-Type".into(), crate::model::fhir::FHIR_JSON.into())],
                body: Bytes::from(serde_json::to_vec(&body).unwrap_or_default()),
            },
        )
        .await;
    created
        .response
        .as_ref()
        .and_then(|r| serde_json::from_slice::<Value>(&r.body.kept).ok())
        .and_then(|b| {
            b.get("id")
                .and_then(Value::as_str)
                .map(|id| format!("Patient/{id}"))
        })
        .ok_or_else(|| TestDataError::PatientNotCreated {
            pid: pid.to_string(),
            status: created
                .status()
                .map(|s| s.to_string())
                .unwrap_or_else(|| "(no answer)".into()),
        })
}

/// The fixture manifest with a fresh SOP Instance UID of the same length (so the file stays a
/// valid PS3.10 object without re-encoding): a new manifest of the same study.
pub fn fresh_manifest(bytes: &[u8], sop_uid: &str) -> (Vec<u8>, String) {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let digits = format!("{:012}", nanos % 1_000_000_000_000);
    let mut fresh = sop_uid.to_string();
    let last = fresh.rfind('.').map(|i| i + 1).unwrap_or(0);
    let tail_len = (fresh.len() - last).min(12);
    if fresh.len() - last > tail_len {
        let start = fresh.len() - tail_len;
        fresh.replace_range(start.., &digits[12 - tail_len..]);
    }
    let mut out = bytes.to_vec();
    let needle = sop_uid.as_bytes();
    let mut i = 0;
    while let Some(pos) = memchr::memmem::find(&out[i..], needle) {
        let at = i + pos;
        out[at..at + needle.len()].copy_from_slice(fresh.as_bytes());
        i = at + needle.len();
    }
    (out, fresh)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stow_answer(status: u16, body: &str) -> crate::evidence::Exchange {
        crate::evidence::Exchange::synthetic(
            "http://sut/studies",
            &[],
            status,
            &[("Content-Type", "application/dicom+json")],
            body.as_bytes(),
        )
    }

    #[test]
    fn test_data_refusals_other_than_duplicates_are_reported() {
        let failed = |code: u16| {
            format!(
                r#"{{"00081198":{{"vr":"SQ","Value":[{{"00081155":{{"vr":"UI","Value":["1.2"]}},"00081197":{{"vr":"US","Value":[{code}]}}}}]}}}}"#
            )
        };
        assert_eq!(refused_stow(&stow_answer(200, "{}")), None);
        assert_eq!(refused_stow(&stow_answer(202, "{}")), None);
        assert_eq!(refused_stow(&stow_answer(409, &failed(0x0111))), None);
        let refused = refused_stow(&stow_answer(409, &failed(0xC000))).unwrap();
        assert_eq!(refused, "answered 409, 1 instance(s) refused (C000H)");
        assert!(refused_stow(&stow_answer(500, "")).is_some());
    }

    /// The DIMSE load deals whole studies, each in index order, so the archive gets every study's
    /// instances in the same order whatever the number of associations.
    #[test]
    fn the_dimse_load_keeps_each_study_on_one_association_in_index_order() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/studies");
        let fx = Fixtures::load(&dir).unwrap();
        let study_of = |i: usize| fx.instances[i].study_uid.as_str();
        for n in [1, 2, 4, 9] {
            let shares = by_study(&fx, n);
            assert!(shares.len() <= n.max(1), "{n}: {} shares", shares.len());
            let mut all: Vec<usize> = shares.concat();
            all.sort_unstable();
            assert_eq!(all, (0..fx.instances.len()).collect::<Vec<_>>(), "{n}");
            for share in &shares {
                assert!(share
                    .windows(2)
                    .all(|w| w[0] < w[1] || study_of(w[0]) != study_of(w[1])));
                let studies: std::collections::BTreeSet<&str> =
                    share.iter().map(|&i| study_of(i)).collect();
                for s in studies {
                    let on_other = shares
                        .iter()
                        .filter(|o| o.iter().any(|&i| study_of(i) == s))
                        .count();
                    assert_eq!(on_other, 1, "{n}: study {s} split");
                }
            }
            assert_eq!(shares, by_study(&fx, n), "{n}: not the same twice");
        }
        // Four studies on four associations: one each, the largest (CT-CHEST, 43) first.
        let shares = by_study(&fx, 4);
        assert_eq!(
            shares.iter().map(Vec::len).collect::<Vec<_>>(),
            [43, 33, 3, 3]
        );
    }
}
