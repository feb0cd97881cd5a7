//! STOW-RS Sender: IHE RAD-108 Store (DICOM PS3.18 §10.5). Builds a multipart/related request of
//! DICOM PS3.10 objects (type="application/dicom") and posts it to /studies or /studies/{study}:
//! from parts held in memory ([`store`]), or from files read while the request goes out
//! ([`store_files`]), several requests at once ([`store_batches`]). [`instance_outcomes`] reads
//! what became of each instance from the Store Instances Response (PS3.18 §10.5.3).

use std::path::{Path, PathBuf};

use bytes::Bytes;
use futures_util::StreamExt;

use crate::actors::dicomweb::DicomwebClient;
use crate::actors::dimse_scu::dataset;
use crate::checks::SentInstance;
use crate::evidence::Exchange;
use crate::model::dicom_json;
use crate::transaction::Transaction;
use crate::transport::http::{FileBody, Meta, Request};
use crate::transport::multipart::{close_delimiter, next_part_head, part_head};

/// One part to send.
#[derive(Debug, Clone)]
pub struct StowPart {
    /// The part's Content-Type.
    pub content_type: String,
    /// The part body.
    pub body: Bytes,
}

/// The boundary the sender uses: fixed, so that evidence is reproducible, and long enough not to
/// occur in DICOM data by chance.
pub const BOUNDARY: &str = "ihe-harness-stow-7d1c3a90b2e44f5a";

/// Build the request body.
pub fn body(parts: &[StowPart]) -> Bytes {
    let mut out = Vec::new();
    for (i, p) in parts.iter().enumerate() {
        let headers = [("Content-Type", p.content_type.as_str())];
        if i == 0 {
            out.extend_from_slice(&part_head(BOUNDARY, &headers));
        } else {
            out.extend_from_slice(&next_part_head(BOUNDARY, &headers));
        }
        out.extend_from_slice(&p.body);
    }
    out.extend_from_slice(&close_delimiter(BOUNDARY));
    Bytes::from(out)
}

/// POST the parts; `study` selects /studies/{study}.
pub async fn store(client: &DicomwebClient, study: Option<&str>, parts: &[StowPart]) -> Exchange {
    let (meta, mut req) = request(client, study);
    req.body = body(parts);
    client.http.exchange(meta, req).await
}

/// The request to /studies or /studies/{study}, without its body.
fn request(client: &DicomwebClient, study: Option<&str>) -> (Meta, Request) {
    let url = match study {
        Some(s) => client.url(&format!("studies/{s}")),
        None => client.url("studies"),
    };
    let req = Request {
        method: reqwest::Method::POST,
        url,
        headers: vec![
            (
                "Content-Type".into(),
                format!("multipart/related; type=\"application/dicom\"; boundary={BOUNDARY}"),
            ),
            ("Accept".into(), "application/dicom+json".into()),
        ],
        body: Bytes::new(),
    };
    let meta = Meta {
        transaction: Transaction::Rad108,
        operation: if study.is_some() {
            "Store Instances (study)".into()
        } else {
            "Store Instances".into()
        },
        actor: "STOW-RS Sender (Image Source)",
    };
    (meta, req)
}

/// The multipart/related body of `files`, one application/dicom part each, read from disk as it
/// is sent.
pub fn file_body(files: &[PathBuf]) -> std::io::Result<FileBody> {
    let mut fb = FileBody::new();
    let headers = [("Content-Type", "application/dicom")];
    for (i, f) in files.iter().enumerate() {
        if i == 0 {
            fb.push_bytes(part_head(BOUNDARY, &headers));
        } else {
            fb.push_bytes(next_part_head(BOUNDARY, &headers));
        }
        fb.push_file(f)?;
    }
    fb.push_bytes(close_delimiter(BOUNDARY));
    Ok(fb)
}

/// POST `files` (PS3.10 files) in one request whose body is read from disk as it goes out (never
/// held whole); a file that cannot be read is the exchange's `io` failure, nothing sent.
pub async fn store_files(
    client: &DicomwebClient,
    study: Option<&str>,
    files: &[PathBuf],
) -> Exchange {
    let (meta, req) = request(client, study);
    match file_body(files) {
        Ok(fb) => client.http.exchange_streamed(meta, req, fb).await,
        Err(e) => {
            let mut ex = Exchange::synthetic(&req.url, &[], 0, &[], b"");
            ex.transaction = meta.transaction;
            ex.operation = meta.operation;
            ex.actor = meta.actor.into();
            ex.request.method = "POST".into();
            ex.response = None;
            ex.failure = Some(crate::evidence::TransportFailure {
                kind: "io".into(),
                message: format!("cannot read the files to store: {e}"),
            });
            ex
        }
    }
}

/// [`store_files`] of each batch, at most `requests` at once (at least one); the exchanges in the
/// order of the batches. A server that spends a fixed time on each request (its database, a
/// disk sync) is then waited for `requests` times at once instead of once per batch in turn.
pub async fn store_batches(
    client: &DicomwebClient,
    study: Option<&str>,
    batches: &[Vec<PathBuf>],
    requests: usize,
) -> Vec<Exchange> {
    futures_util::stream::iter(batches.iter().map(|b| store_files(client, study, b)))
        .buffered(requests.max(1))
        .collect()
        .await
}

/// What the harness sends as a PS3.10 file: its SOP Class and Instance UID (File Meta group) and
/// its Study and Series Instance UID (read from the head of its data set), for judging the Store
/// Instances Response about it.
pub fn sent_instance(path: &Path) -> Result<SentInstance, String> {
    use std::io::{Read as _, Seek as _};
    let head = dataset::read_head(path).map_err(|e| format!("{}: {e}", path.display()))?;
    // The identifying attributes come first in a data set: a few KiB hold them, unless long
    // elements precede them; then the identity prefix is read.
    let mut ids = Vec::new();
    for limit in [16 * 1024, dataset::IDENTITY_PREFIX] {
        let mut prefix = Vec::new();
        let read = std::fs::File::open(path).and_then(|mut f| {
            f.seek(std::io::SeekFrom::Start(head.data_offset))?;
            f.take(limit as u64).read_to_end(&mut prefix)
        });
        read.map_err(|e| format!("{}: {e}", path.display()))?;
        ids = dataset::identity(
            &prefix,
            &head.transfer_syntax,
            head.data_len <= prefix.len() as u64,
        );
        if !ids.iter().any(|(k, _)| k == "(undecodable)") {
            break;
        }
    }
    let get = |k: &str| {
        ids.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    // The study is what a Retrieve URL of the response is judged against (DW-24).
    let study = get("StudyInstanceUID");
    if study.is_empty() {
        return Err(format!(
            "{}: no Study Instance UID (0020,000D) readable in its data set",
            path.display()
        ));
    }
    Ok(SentInstance {
        sop_class: head.sop_class,
        sop_instance: head.sop_instance,
        study,
        series: get("SeriesInstanceUID"),
    })
}

/// What became of one instance of a STOW-RS request, by the Store Instances Response (PS3.18
/// §10.5.3, Annex I).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StowOutcome {
    /// In the Referenced SOP Sequence (0008,1199): stored, with its Warning Reason (0008,1196)
    /// if it has one (Table I.2-1: stored, with coercion or elements discarded).
    Stored {
        /// The Warning Reason.
        warning: Option<u16>,
    },
    /// In the Failed SOP Sequence (0008,1198), with its Failure Reason (0008,1197) if readable.
    Failed {
        /// The Failure Reason.
        reason: Option<u16>,
    },
    /// Not stored, without an item of its own: an answer other than 200, 202 and 409 refuses the
    /// whole request (400, 415, 503, ...), and so does a 409 that does not list it (PS3.18
    /// Table 10.5.3-1: 409, no instance was stored).
    Refused {
        /// The HTTP status.
        status: u16,
    },
    /// In neither sequence of a 200 or 202: the response does not account for it (DW-10).
    Unlisted,
    /// No response: the exchange failed (the network, the harness).
    NoResponse,
}

/// The outcome of each of `sent` (the instances of one request, in its order) from the exchange's
/// status and Store Instances Response.
pub fn instance_outcomes(ex: &Exchange, sent: &[SentInstance]) -> Vec<StowOutcome> {
    const FAILED: u32 = 0x0008_1198;
    const REFERENCED: u32 = 0x0008_1199;
    const SOP_INSTANCE: u32 = 0x0008_1155;
    const FAILURE_REASON: u32 = 0x0008_1197;
    const WARNING_REASON: u32 = 0x0008_1196;
    let status = match (ex.failure.as_ref(), ex.status()) {
        (None, Some(s)) => s,
        _ => return vec![StowOutcome::NoResponse; sent.len()],
    };
    if !matches!(status, 200 | 202 | 409) {
        return vec![StowOutcome::Refused { status }; sent.len()];
    }
    let ds = response_data_set(ex).unwrap_or_default();
    let items = |tag: u32| dicom_json::values(&ds, tag).cloned().unwrap_or_default();
    let reason = |item: &serde_json::Value, tag: u32| {
        dicom_json::values(item, tag)
            .and_then(|v| v.first())
            .and_then(serde_json::Value::as_u64)
            .and_then(|c| u16::try_from(c).ok())
    };
    let (referenced, failed) = (items(REFERENCED), items(FAILED));
    let find = |list: &[serde_json::Value], uid: &str| {
        list.iter()
            .find(|i| dicom_json::first_string(i, SOP_INSTANCE).as_deref() == Some(uid))
            .cloned()
    };
    sent.iter()
        .map(|inst| {
            if let Some(item) = find(&failed, &inst.sop_instance) {
                return StowOutcome::Failed {
                    reason: reason(&item, FAILURE_REASON),
                };
            }
            if let Some(item) = find(&referenced, &inst.sop_instance) {
                return StowOutcome::Stored {
                    warning: reason(&item, WARNING_REASON),
                };
            }
            if status == 409 {
                StowOutcome::Refused { status }
            } else {
                StowOutcome::Unlisted
            }
        })
        .collect()
}

/// The Store Instances Response of a STOW-RS answer (PS3.18 §10.5.3.2): one data set, tolerated
/// wrapped in a one-item array; `None` without a JSON body.
pub fn response_data_set(ex: &Exchange) -> Option<serde_json::Value> {
    ex.response
        .as_ref()
        .and_then(|r| r.json())
        .map(|v| match v {
            serde_json::Value::Array(mut a) if a.len() == 1 => a.remove(0),
            other => other,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(uid: &str) -> SentInstance {
        SentInstance {
            sop_class: "1.2.840.10008.5.1.4.1.1.2".into(),
            sop_instance: uid.into(),
            study: "1.2.3".into(),
            series: "1.2.3.4".into(),
        }
    }

    fn answer(status: u16, body: &str) -> Exchange {
        Exchange::synthetic(
            "http://sut/dicom-web/studies",
            &[],
            status,
            &[("Content-Type", "application/dicom+json")],
            body.as_bytes(),
        )
    }

    #[test]
    fn each_instance_is_judged_by_its_own_entry_of_the_response() {
        let item = |uid: &str, tag: &str, code: Option<u16>| {
            let reason = code
                .map(|c| format!(r#","{tag}":{{"vr":"US","Value":[{c}]}}"#))
                .unwrap_or_default();
            format!(r#"{{"00081155":{{"vr":"UI","Value":["{uid}"]}}{reason}}}"#)
        };
        let body = format!(
            r#"[{{"00081199":{{"vr":"SQ","Value":[{},{}]}},"00081198":{{"vr":"SQ","Value":[{},{}]}}}}]"#,
            item("1.1", "", None),
            item("1.2", "00081196", Some(0xB000)),
            item("1.3", "00081197", Some(0xA700)),
            item("1.4", "00081197", None),
        );
        let all = [
            sent("1.1"),
            sent("1.2"),
            sent("1.3"),
            sent("1.4"),
            sent("1.5"),
        ];
        assert_eq!(
            instance_outcomes(&answer(202, &body), &all),
            vec![
                StowOutcome::Stored { warning: None },
                StowOutcome::Stored {
                    warning: Some(0xB000)
                },
                StowOutcome::Failed {
                    reason: Some(0xA700)
                },
                StowOutcome::Failed { reason: None },
                StowOutcome::Unlisted,
            ]
        );
        // 409: nothing stored; an instance without an item is refused with the request.
        let refused = format!(
            r#"{{"00081198":{{"vr":"SQ","Value":[{}]}}}}"#,
            item("1.1", "00081197", Some(0x0111))
        );
        assert_eq!(
            instance_outcomes(&answer(409, &refused), &all[..2]),
            vec![
                StowOutcome::Failed {
                    reason: Some(0x0111)
                },
                StowOutcome::Refused { status: 409 },
            ]
        );
        // Another status refuses the whole request, whatever its body says.
        assert_eq!(
            instance_outcomes(&answer(415, &body), &all[..1]),
            vec![StowOutcome::Refused { status: 415 }]
        );
        // No answer: nothing is known of any instance.
        let mut failed = answer(200, &body);
        failed.failure = Some(crate::evidence::TransportFailure {
            kind: "timeout".into(),
            message: "no answer".into(),
        });
        assert_eq!(
            instance_outcomes(&failed, &all[..2]),
            vec![StowOutcome::NoResponse; 2]
        );
    }

    #[test]
    fn a_body_read_from_files_is_the_body_built_in_memory_and_its_command_rebuilds_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let contents: Vec<Vec<u8>> = vec![
            b"DICM first\r\n--not-a-boundary 100% \\ 'quoted'".to_vec(),
            (0u8..=255).collect(),
        ];
        let files: Vec<PathBuf> = contents
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let p = dir.path().join(format!("f{i}.dcm"));
                std::fs::write(&p, c).expect("write");
                p
            })
            .collect();
        let parts: Vec<StowPart> = contents
            .iter()
            .map(|c| StowPart {
                content_type: "application/dicom".into(),
                body: Bytes::from(c.clone()),
            })
            .collect();
        let want = body(&parts);
        let fb = file_body(&files).expect("file body");
        assert_eq!(fb.len(), want.len() as u64);
        let script = fb.shell_builder();
        let status = std::process::Command::new("sh")
            .arg("-c")
            .arg(&script)
            .current_dir(dir.path())
            .status()
            .expect("sh runs");
        assert!(status.success(), "{script}");
        let rebuilt = std::fs::read(dir.path().join("request.body")).expect("request.body");
        assert_eq!(rebuilt, want.to_vec(), "{script}");
        assert!(file_body(&[dir.path().join("missing.dcm")]).is_err());
    }

    #[tokio::test]
    async fn a_streamed_request_goes_whole_with_its_length_and_digest_in_the_evidence() {
        let server = crate::reference::tests::start(&[]).await;
        let config = crate::config::Config::embedded(&server.dicomweb_base());
        let endpoint = config.dicomweb.as_ref().expect("endpoint");
        let client = DicomwebClient::new(endpoint, &config.limits).expect("client");
        let fixtures = crate::reference::tests::fixtures_dir();
        let files: Vec<PathBuf> =
            crate::actors::dimse_scu::dicom_files(&[fixtures
                .join("CTH-0001/2.25.901357362012641252499446609424852094/02_CT_JPEGLossless")])
            .into_iter()
            .filter(|p| !p.to_string_lossy().ends_with(".ele.dcm"))
            .take(3)
            .collect();
        assert_eq!(files.len(), 3);
        let ex = store_files(&client, None, &files).await;
        assert!(ex.failure.is_none(), "{:?}", ex.failure);
        assert_eq!(ex.status(), Some(200));
        let parts: Vec<StowPart> = files
            .iter()
            .map(|f| StowPart {
                content_type: "application/dicom".into(),
                body: Bytes::from(std::fs::read(f).expect("fixture")),
            })
            .collect();
        let whole = body(&parts);
        assert_eq!(ex.request.body.size, whole.len() as u64);
        use sha2::Digest;
        assert_eq!(
            ex.request.body.sha256,
            hex::encode(sha2::Sha256::digest(&whole))
        );
        assert!(ex.request.body.kept.is_empty(), "the body is not held");
        assert!(ex.repro.contains("cat "), "{}", ex.repro);
        let sent: Vec<SentInstance> = files
            .iter()
            .map(|f| sent_instance(f).expect("readable"))
            .collect();
        assert_eq!(
            instance_outcomes(&ex, &sent),
            vec![StowOutcome::Stored { warning: None }; 3]
        );
        // A file that cannot be read: an `io` failure, nothing sent.
        let missing = store_files(&client, None, &[fixtures.join("missing.dcm")]).await;
        assert_eq!(missing.failure.map(|f| f.kind), Some("io".to_string()));
        server.shutdown().await;
    }
}
