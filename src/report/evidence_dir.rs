//! The evidence folder: `<report-dir>/evidence/<feature>/<line>-<scenario>/`, one JSON record per
//! exchange (request and response headers, status, sizes, digests, timings, multipart part summaries),
//! the bytes kept of each body, and `repro.sh` with a command that repeats every request.

use std::path::Path;

use super::{slug, ReportError, ScenarioRecord};

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    std::fs::write(path, bytes).map_err(|source| ReportError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// Write the evidence of every scenario; fills `record.evidence` with paths relative to `dir`.
pub fn write(dir: &Path, records: &mut [ScenarioRecord]) -> Result<(), ReportError> {
    let root = dir.join("evidence");
    if root.exists() {
        std::fs::remove_dir_all(&root).map_err(|source| ReportError::Write {
            path: root.clone(),
            source,
        })?;
    }
    for r in records.iter_mut() {
        let rel = format!(
            "evidence/{}/{:04}-{}",
            slug(&r.feature),
            r.line,
            slug(&r.scenario)
        );
        let sdir = dir.join(&rel);
        std::fs::create_dir_all(&sdir).map_err(|source| ReportError::Write {
            path: sdir.clone(),
            source,
        })?;
        let mut repro = String::from(
            "#!/bin/sh\n# Repeats the requests of this scenario. Credentials come from the environment.\ncd \"$(dirname \"$0\")\"\n",
        );
        let mut paths = Vec::new();
        for ex in &r.exchanges {
            let stem = format!("{:02}-{}", ex.seq, slug(&ex.transaction));
            let json = serde_json::to_vec_pretty(ex).map_err(|e| ReportError::Serialize {
                what: "exchange",
                message: e.to_string(),
            })?;
            write_file(&sdir.join(format!("{stem}.json")), &json)?;
            paths.push(format!("{rel}/{stem}.json"));
            if !ex.request.body.kept.is_empty() {
                write_file(
                    &sdir.join(format!("{stem}-request.body")),
                    &ex.request.body.kept,
                )?;
            }
            if let Some(resp) = &ex.response {
                if !resp.body.kept.is_empty() {
                    let name = if resp.body.complete {
                        format!("{stem}-response.body")
                    } else {
                        format!("{stem}-response.excerpt")
                    };
                    write_file(&sdir.join(&name), &resp.body.kept)?;
                    paths.push(format!("{rel}/{name}"));
                }
            }
            if let Some(mp) = &ex.multipart {
                for (k, part) in mp.parts.iter().enumerate() {
                    if let Some(doc) = &part.document {
                        let name = format!("{stem}-part{:03}.dcm", k + 1);
                        write_file(&sdir.join(&name), doc)?;
                        paths.push(format!("{rel}/{name}"));
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
            let line = ex
                .repro
                .replace("@request.body", &format!("@{stem}-request.body"))
                .replace("-o response.body", &format!("-o {stem}-response.replay"))
                .replace("@files/", &format!("{stem}-files/"));
            repro.push_str(&format!(
                "\n# #{} {} {}\n{line}\n",
                ex.seq, ex.transaction, ex.operation
            ));
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
    }
    Ok(())
}
