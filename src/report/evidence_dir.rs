//! The evidence folder: `<report-dir>/evidence/<feature>/<line>-<scenario>/`, one JSON record per
//! exchange (request and response headers, status, sizes, digests, timings, multipart part summaries),
//! the bytes kept of each body, and `repro.sh` with a command that repeats every request.
//!
//! A run writes each scenario's evidence as soon as the scenario ends ([`EvidenceWriter`]) and then
//! lets go of its bodies, so memory does not grow with the number of scenarios. What is written is
//! bounded too, whatever the SUT sent: each body keeps at most `[limits]
//! evidence_bytes_per_exchange` bytes (its head), and the run at most `[limits]
//! evidence_bytes_per_run`. A body not kept whole is written as `…excerpt`, and its JSON record says
//! so next to the size and SHA-256 of the whole body.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{slug, ReportError, ScenarioRecord};
use crate::config::Limits;
use crate::evidence::{Body, Direction, Exchange};

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    std::fs::write(path, bytes).map_err(|source| ReportError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes the evidence of a run scenario by scenario, within the run's limits.
#[derive(Debug)]
pub struct EvidenceWriter {
    dir: PathBuf,
    per_exchange: u64,
    run_limit: u64,
    left: u64,
}

/// What became of one body.
struct Kept {
    file: Option<String>,
    note: Option<String>,
}

impl EvidenceWriter {
    /// Start the evidence folder of a run under `dir` (any earlier one is removed).
    pub fn create(dir: &Path, limits: &Limits) -> Result<EvidenceWriter, ReportError> {
        let root = dir.join("evidence");
        if root.exists() {
            std::fs::remove_dir_all(&root).map_err(|source| ReportError::Write {
                path: root.clone(),
                source,
            })?;
        }
        Ok(EvidenceWriter {
            dir: dir.to_path_buf(),
            per_exchange: limits.evidence_per_exchange,
            run_limit: limits.evidence_per_run,
            left: limits.evidence_per_run,
        })
    }

    /// Body bytes written so far.
    pub fn written(&self) -> u64 {
        self.run_limit - self.left
    }

    /// Write one scenario's evidence, fill `record.evidence` with its paths (relative to the report
    /// folder) and drop its exchanges: their bytes are on disk now.
    pub fn write_scenario(&mut self, r: &mut ScenarioRecord) -> Result<(), ReportError> {
        let rel = format!(
            "evidence/{}/{:04}-{}",
            slug(&r.feature),
            r.line,
            slug(&r.scenario)
        );
        let sdir = self.dir.join(&rel);
        std::fs::create_dir_all(&sdir).map_err(|source| ReportError::Write {
            path: sdir.clone(),
            source,
        })?;
        let mut repro = String::from(
            "#!/bin/sh\n# Repeats the requests of this scenario. Credentials come from the environment.\ncd \"$(dirname \"$0\")\"\n",
        );
        let mut paths = Vec::new();
        for ex in &r.exchanges {
            let stem = format!("{:02}-{}", ex.seq, slug(ex.transaction.id()));
            let mut record = serde_json::to_value(ex).map_err(|e| ReportError::Serialize {
                what: "exchange",
                message: e.to_string(),
            })?;
            // The JSON record first, then the bodies it describes.
            let mut files = vec![format!("{rel}/{stem}.json")];
            // The transfer a failure cut: the SUT's answer, or the SUT's request to a simulator.
            let inbound = ex.direction == Direction::Inbound;
            let request = self.keep(
                &sdir,
                &format!("{stem}-request"),
                &ex.request.body,
                inbound && ex.failure.is_some(),
            )?;
            annotate(&mut record, "/request/body", &request);
            if let Some(resp) = &ex.response {
                let response = self.keep(
                    &sdir,
                    &format!("{stem}-response"),
                    &resp.body,
                    !inbound && ex.failure.is_some(),
                )?;
                annotate(&mut record, "/response/body", &response);
                files.extend(response.file.map(|f| format!("{rel}/{f}")));
            }
            if let Some(mp) = &ex.multipart {
                for (k, part) in mp.parts.iter().enumerate() {
                    if let Some(doc) = &part.document {
                        // The evidence names files by SHA-256; a part's own digest is its identity
                        // digest, so a document kept whole is digested again (it is small).
                        let body = Body::from_bytes(doc.clone());
                        let mut kept =
                            self.keep(&sdir, &format!("{stem}-part{:03}", k + 1), &body, false)?;
                        // A part kept whole keeps the name it always had.
                        if let Some(f) = kept.file.as_ref().filter(|f| f.ends_with(".body")) {
                            let name = format!("{stem}-part{:03}.dcm", k + 1);
                            rename(&sdir, f, &name)?;
                            kept.file = Some(name);
                        }
                        annotate(&mut record, &format!("/multipart/parts/{k}"), &kept);
                        files.extend(kept.file.map(|f| format!("{rel}/{f}")));
                    }
                }
            }
            // Files a DIMSE command line sends that lived only during the run.
            if let Some(d) = ex.dimse.as_deref().filter(|d| !d.attachments.is_empty()) {
                let folder = sdir.join(format!("{stem}-files"));
                std::fs::create_dir_all(&folder).map_err(|source| ReportError::Write {
                    path: folder.clone(),
                    source,
                })?;
                for (name, bytes) in &d.attachments {
                    // A plain file name: the harness's own, but never a path.
                    let name: String = name
                        .chars()
                        .filter(|c| c.is_ascii_alphanumeric() || "._-".contains(*c))
                        .collect::<String>()
                        .trim_start_matches('.')
                        .to_string();
                    write_file(&folder.join(&name), bytes)?;
                    paths.push(format!("{rel}/{stem}-files/{name}"));
                }
            }
            let json = serde_json::to_vec_pretty(&record).map_err(|e| ReportError::Serialize {
                what: "exchange",
                message: e.to_string(),
            })?;
            write_file(&sdir.join(format!("{stem}.json")), &json)?;
            paths.extend(files);
            repro.push_str(&repro_entry(ex, &stem, &request));
        }
        write_file(&sdir.join("repro.sh"), repro.as_bytes())?;
        let findings =
            serde_json::to_vec_pretty(&r.findings).map_err(|e| ReportError::Serialize {
                what: "findings",
                message: e.to_string(),
            })?;
        write_file(&sdir.join("findings.json"), &findings)?;
        paths.push(format!("{rel}/findings.json"));
        r.evidence = paths;
        r.exchanges = Vec::new();
        Ok(())
    }

    /// Write the head of `body` as `<stem>.body` (whole) or `<stem>.excerpt`, within the limits.
    /// `cut` says that the transfer ended before the body did (a timeout, a close, the body limit).
    fn keep(
        &mut self,
        sdir: &Path,
        stem: &str,
        body: &Body,
        cut: bool,
    ) -> Result<Kept, ReportError> {
        if body.kept.is_empty() {
            return Ok(Kept {
                file: None,
                note: None,
            });
        }
        let of = if cut {
            "size and sha256 are those of the bytes received before the transfer ended"
        } else {
            "size and sha256 are those of the whole body"
        };
        let have = body.kept.len() as u64;
        let n = have.min(self.per_exchange).min(self.left);
        if n == 0 {
            return Ok(Kept {
                file: None,
                note: Some(format!(
                    "not kept: the evidence of this run reached its limit of {} bytes ([limits] evidence_bytes_per_run in the SUT profile); {of}",
                    self.run_limit,
                )),
            });
        }
        self.left -= n;
        let n_usize = usize::try_from(n).unwrap_or(usize::MAX);
        let whole = body.complete && !cut && n == have;
        let name = if whole {
            format!("{stem}.body")
        } else {
            format!("{stem}.excerpt")
        };
        write_file(&sdir.join(&name), &body.kept[..n_usize])?;
        let note = if whole {
            None
        } else if n < have {
            let why = if n == self.per_exchange {
                format!(
                    "the limit of {} bytes per body ([limits] evidence_bytes_per_exchange)",
                    self.per_exchange
                )
            } else {
                format!(
                    "the limit of {} bytes for the whole run ([limits] evidence_bytes_per_run)",
                    self.run_limit
                )
            };
            Some(format!(
                "{name} holds the first {n} of {} bytes, cut at {why}; {of}",
                body.size
            ))
        } else if body.complete {
            Some(format!("{name} holds all {n} bytes received; {of}"))
        } else {
            Some(format!(
                "{name} holds the first {n} of {} bytes (the harness kept no more of this body while it streamed past); {of}",
                body.size
            ))
        };
        Ok(Kept {
            file: Some(name),
            note,
        })
    }
}

fn rename(sdir: &Path, from: &str, to: &str) -> Result<(), ReportError> {
    std::fs::rename(sdir.join(from), sdir.join(to)).map_err(|source| ReportError::Write {
        path: sdir.join(to),
        source,
    })
}

/// Add `file` and `truncated` to the body object at `pointer` of an exchange record.
fn annotate(record: &mut Value, pointer: &str, kept: &Kept) {
    let Some(Value::Object(map)) = record.pointer_mut(pointer) else {
        return;
    };
    if let Some(f) = &kept.file {
        map.insert("file".into(), Value::String(f.clone()));
    }
    if let Some(n) = &kept.note {
        map.insert("truncated".into(), Value::String(n.clone()));
    }
}

fn repro_entry(ex: &Exchange, stem: &str, request: &Kept) -> String {
    let mut line = ex
        .repro
        .replace("-o response.body", &format!("-o {stem}-response.replay"))
        .replace("@files/", &format!("{stem}-files/"));
    let mut out = format!("\n# #{} {} {}\n", ex.seq, ex.transaction, ex.operation);
    match &request.file {
        Some(f) if f.ends_with(".body") => {
            line = line.replace("@request.body", &format!("@{f}"));
        }
        // A body the transport read from files as it sent it: the command rebuilds it
        // (`FileBody::shell_builder`) under the name the curl line then reads.
        _ if line.contains("} > request.body && ") => {
            line = line
                .replace(
                    "} > request.body && ",
                    &format!("}} > {stem}-request.body && "),
                )
                .replace("@request.body", &format!("@{stem}-request.body"));
        }
        _ if line.contains("@request.body") => {
            out.push_str(&format!(
                "# The request body ({} bytes, SHA-256 {}) is not kept whole in this folder: supply it as {stem}-request.body.\n",
                ex.request.body.size, ex.request.body.sha256
            ));
            line = line.replace("@request.body", &format!("@{stem}-request.body"));
        }
        _ => {}
    }
    out.push_str(&line);
    out.push('\n');
    out
}

/// Write the evidence of every scenario with the default limits; fills `record.evidence` with
/// paths relative to `dir` and drops the exchanges.
pub fn write(dir: &Path, records: &mut [ScenarioRecord]) -> Result<(), ReportError> {
    let mut w = EvidenceWriter::create(dir, &Limits::default())?;
    for r in records.iter_mut() {
        w.write_scenario(r)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::Outcome;
    use crate::evidence::TransportFailure;
    use bytes::Bytes;

    fn record(exchanges: Vec<Exchange>) -> ScenarioRecord {
        ScenarioRecord {
            feature: "Feature".into(),
            feature_file: "features/f.feature".into(),
            scenario: "Scenario".into(),
            line: 7,
            tags: Vec::new(),
            outcome: Outcome::Pass,
            reason: String::new(),
            duration: std::time::Duration::ZERO,
            findings: Vec::new(),
            exchanges,
            evidence: Vec::new(),
            steps: Vec::new(),
            metrics: Default::default(),
        }
    }

    fn big_exchange(len: usize) -> (Exchange, Vec<u8>) {
        let body: Vec<u8> = (0..len).map(|i| b"[{\"0020000D\":1},"[i % 16]).collect();
        let mut ex = Exchange::synthetic(
            "http://sut/dicom-web/studies",
            &[("Authorization", "Bearer <redacted>")],
            200,
            &[("Content-Type", "application/dicom+json")],
            &body,
        );
        ex.repro = "curl -sS -H 'Accept: application/dicom+json' -D - -o response.body 'http://sut/dicom-web/studies'".into();
        (ex, body)
    }

    fn sha(data: &[u8]) -> String {
        use sha2::Digest as _;
        hex::encode(sha2::Sha256::digest(data))
    }

    /// The folder [`record`]'s scenario is written to.
    const SCENARIO_DIR: &str = "evidence/feature/0007-scenario";

    /// Write a scenario of two exchanges, with bodies of `first` and `second` bytes, under
    /// evidence budgets of `per_exchange` and `per_run` bytes. Returns the writer, the record,
    /// and the two bodies.
    fn write_two(
        dir: &Path,
        per_exchange: u64,
        per_run: u64,
        first: usize,
        second: usize,
    ) -> (EvidenceWriter, ScenarioRecord, Vec<u8>, Vec<u8>) {
        let limits = Limits {
            max_body: 1 << 20,
            max_nodes: 100_000,
            evidence_per_exchange: per_exchange,
            evidence_per_run: per_run,
            ..Limits::default()
        };
        let mut w = EvidenceWriter::create(dir, &limits).unwrap();
        let (a, body_a) = big_exchange(first);
        let (mut b, body_b) = big_exchange(second);
        b.seq = 2;
        let mut r = record(vec![a, b]);
        w.write_scenario(&mut r).unwrap();
        (w, r, body_a, body_b)
    }

    /// The JSON record written of an exchange.
    fn written_record(sdir: &Path, name: &str) -> Value {
        serde_json::from_slice(&std::fs::read(sdir.join(name)).unwrap()).unwrap()
    }

    #[test]
    fn a_body_past_the_limit_keeps_its_head_and_says_how_large_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let (w, r, body, second_body) = write_two(dir.path(), 1000, 1500, 5000, 800);
        let sdir = dir.path().join(SCENARIO_DIR);
        let excerpt = std::fs::read(sdir.join("01-rad-107-response.excerpt")).unwrap();
        assert_eq!(excerpt, body[..1000], "the excerpt is the head of the body");
        let rec = written_record(&sdir, "01-rad-107.json");
        let b = &rec["response"]["body"];
        assert_eq!(b["size"], 5000);
        assert_eq!(b["sha256"], sha(&body));
        assert_eq!(b["file"], "01-rad-107-response.excerpt");
        let note = b["truncated"].as_str().unwrap();
        assert!(note.contains("first 1000 of 5000 bytes"), "{note}");
        assert!(note.contains("of the whole body"), "{note}");
        assert!(note.contains("evidence_bytes_per_exchange"), "{note}");
        // The run's budget has 500 bytes left: the second body is cut there.
        let second = std::fs::read(sdir.join("02-rad-107-response.excerpt")).unwrap();
        assert_eq!(second, second_body[..500]);
        let rec2 = written_record(&sdir, "02-rad-107.json");
        let note2 = rec2["response"]["body"]["truncated"].as_str().unwrap();
        assert!(note2.contains("evidence_bytes_per_run"), "{note2}");
        assert_eq!(w.written(), 1500);
        assert!(
            r.exchanges.is_empty(),
            "the bytes are on disk, not in memory"
        );
        assert!(r
            .evidence
            .iter()
            .any(|p| p.ends_with("01-rad-107-response.excerpt")));
        assert_eq!(
            rec["request"]["headers"][0],
            serde_json::json!(["Authorization", "Bearer <redacted>"]),
            "headers are written as recorded, secrets redacted"
        );
    }

    #[test]
    fn the_run_limit_leaves_records_without_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let (_, _, _, body_b) = write_two(dir.path(), 1000, 1000, 1000, 10);
        let sdir = dir.path().join(SCENARIO_DIR);
        assert!(sdir.join("01-rad-107-response.body").is_file());
        assert!(!sdir.join("02-rad-107-response.body").exists());
        let rec = written_record(&sdir, "02-rad-107.json");
        assert_eq!(rec["response"]["body"]["sha256"], sha(&body_b));
        assert!(rec["response"]["body"]["truncated"]
            .as_str()
            .unwrap()
            .contains("evidence_bytes_per_run"));
    }

    #[test]
    fn a_body_cut_in_transfer_is_an_excerpt_and_repro_names_a_missing_request_body() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = EvidenceWriter::create(dir.path(), &Limits::default()).unwrap();
        let (mut ex, _) = big_exchange(64);
        if let Some(r) = ex.response.as_mut() {
            r.body.complete = false;
        }
        ex.failure = Some(TransportFailure {
            kind: crate::checks::peer::BODY_TOO_LARGE.into(),
            message: "m".into(),
        });
        ex.request.method = "POST".into();
        ex.request.body = Body::from_bytes(Bytes::from(vec![7u8; 3 << 20]));
        ex.repro =
            "curl -sS -X POST --data-binary @request.body -D - -o response.body 'http://sut/x'"
                .into();
        let mut r = record(vec![ex]);
        w.write_scenario(&mut r).unwrap();
        let sdir = dir.path().join(SCENARIO_DIR);
        assert!(sdir.join("01-rad-107-response.excerpt").is_file());
        assert!(sdir.join("01-rad-107-request.excerpt").is_file());
        let repro = std::fs::read_to_string(sdir.join("repro.sh")).unwrap();
        assert!(repro.contains("is not kept whole"), "{repro}");
        assert!(repro.contains("@01-rad-107-request.body"), "{repro}");
    }

    #[test]
    fn a_request_body_read_from_files_is_rebuilt_by_its_command_under_the_exchange_name() {
        let dir = tempfile::tempdir().unwrap();
        let mut w = EvidenceWriter::create(dir.path(), &Limits::default()).unwrap();
        let (mut ex, _) = big_exchange(64);
        ex.request.method = "POST".into();
        ex.request.body = Body {
            size: 12,
            sha256: "ab".into(),
            kept: Bytes::new(),
            complete: false,
        };
        ex.repro = "{ printf -- '--b\\r\\n'; cat /f.dcm; } > request.body && curl -sS -X POST --data-binary @request.body -D - -o response.body 'http://sut/x'".into();
        let mut r = record(vec![ex]);
        w.write_scenario(&mut r).unwrap();
        let repro =
            std::fs::read_to_string(dir.path().join(SCENARIO_DIR).join("repro.sh")).unwrap();
        assert!(
            repro.contains("cat /f.dcm; } > 01-rad-107-request.body && curl"),
            "{repro}"
        );
        assert!(repro.contains("@01-rad-107-request.body"), "{repro}");
        assert!(!repro.contains("is not kept whole"), "{repro}");
    }
}
