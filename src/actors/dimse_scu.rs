//! DIMSE SCU actors: Verification SCU (C-ECHO, PS3.7 §9.1.5), Query/Retrieve SCU (C-FIND,
//! C-MOVE, C-GET, PS3.4 Annex C) and Storage SCU (C-STORE, PS3.4 Annex B), over one association
//! each, on the [`message`](crate::dimse::message) layer.
//!
//! Each operation returns the recorded [`Exchange`]: `request.method` is the request command
//! (`C-FIND-RQ`), `request.url` is `dicom://CALLED@host:port`, `response.status` is the final
//! DIMSE status (absent when no final response came), and the
//! [`DimseRecord`](crate::evidence::dimse::DimseRecord) holds the
//! negotiation and every message. Nothing panics and every wait is bounded by the peer's read
//! timeout. `failure` is set when the network or the harness failed (`connect`, `timeout`,
//! `aborted` during negotiation or between requests, `protocol` for an upper-layer failure that
//! cannot be pinned on the peer, `io` for local files, `request` for input the harness cannot
//! send), and as `peer-closed` ([`PEER_CLOSED`](crate::checks::peer::PEER_CLOSED)) when the peer
//! took a whole request and then aborted the association or closed the connection instead of
//! answering it (a Fail of PEER-01). The peer's answers, including an A-ASSOCIATE-RJ and protocol
//! violations (`dimse.ended` = `protocol violation: …`), are evidence for the checks. For C-STORE, instances not sent (their transfer syntax was not
//! accepted; the harness does not transcode) are listed as `not-sent` entries of
//! `request.headers`. [`rejection_as_failure`] makes an association the SUT rejected where the
//! scenario needs one such a failure (an Error that says why), for the steps and the test data.

pub mod dataset;
mod session;

use std::path::{Path, PathBuf};
use std::time::Duration;

use dicom_core::Tag;
use dicom_dictionary_std::{tags, uids};

use crate::dimse::association::{self, Peer};
use crate::dimse::command::{field, status, Command};
use crate::dimse::message::Outgoing;
use crate::evidence::Exchange;
use session::{GetSink, Meta, Request, Session};

/// A presentation context to propose: abstract syntax, transfer syntaxes.
pub type Context = (String, Vec<String>);
/// An SCP/SCU Role Selection item: SOP Class, SCU role, SCP role.
pub type Role = (String, bool, bool);

/// Explicit VR Little Endian.
pub const EXPLICIT_VR_LE: &str = uids::EXPLICIT_VR_LITTLE_ENDIAN;
/// Implicit VR Little Endian, the default transfer syntax (PS3.5 §10.1).
pub const IMPLICIT_VR_LE: &str = uids::IMPLICIT_VR_LITTLE_ENDIAN;
/// The Query/Retrieve information model (PS3.4 §C.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryModel {
    /// Study Root.
    StudyRoot,
    /// Patient Root.
    PatientRoot,
}

impl QueryModel {
    /// The C-FIND SOP Class.
    pub fn find_class(self) -> &'static str {
        match self {
            QueryModel::StudyRoot => uids::STUDY_ROOT_QUERY_RETRIEVE_INFORMATION_MODEL_FIND,
            QueryModel::PatientRoot => uids::PATIENT_ROOT_QUERY_RETRIEVE_INFORMATION_MODEL_FIND,
        }
    }

    /// The C-MOVE SOP Class.
    pub fn move_class(self) -> &'static str {
        match self {
            QueryModel::StudyRoot => uids::STUDY_ROOT_QUERY_RETRIEVE_INFORMATION_MODEL_MOVE,
            QueryModel::PatientRoot => uids::PATIENT_ROOT_QUERY_RETRIEVE_INFORMATION_MODEL_MOVE,
        }
    }

    /// The C-GET SOP Class.
    pub fn get_class(self) -> &'static str {
        match self {
            QueryModel::StudyRoot => uids::STUDY_ROOT_QUERY_RETRIEVE_INFORMATION_MODEL_GET,
            QueryModel::PatientRoot => uids::PATIENT_ROOT_QUERY_RETRIEVE_INFORMATION_MODEL_GET,
        }
    }

    /// The DCMTK option selecting the model (`-S`, `-P`).
    pub fn dcmtk_flag(self) -> &'static str {
        match self {
            QueryModel::StudyRoot => "-S",
            QueryModel::PatientRoot => "-P",
        }
    }
}

/// A DIMSE SCU talking to one peer.
#[derive(Debug, Clone)]
pub struct DimseScu {
    /// The peer and the local settings.
    pub peer: Peer,
    /// The AE title the peer knows for the harness's Storage SCP (the C-MOVE destination).
    pub move_destination: String,
    /// The port of the harness's Storage SCP, where the peer sends a move to `move_destination`:
    /// the command line that repeats such a move starts a DCMTK `storescp` there.
    pub move_receiver: Option<u16>,
}

fn uncompressed() -> Vec<String> {
    vec![EXPLICIT_VR_LE.to_string(), IMPLICIT_VR_LE.to_string()]
}

/// The Query/Retrieve Level (0008,0052) among the keys.
fn level(keys: &[(Tag, String)]) -> String {
    keys.iter()
        .find(|(t, _)| *t == tags::QUERY_RETRIEVE_LEVEL)
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| "(no level)".into())
}

/// A word for a POSIX shell, quoted only when it needs it.
fn word(s: &str) -> String {
    let plain = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._,=/:@+-".contains(&b));
    if plain {
        s.to_string()
    } else {
        crate::transport::http::shell_quote(s)
    }
}

/// `-k Keyword=value` options (`-k Keyword` for a universal match).
fn dcmtk_keys(keys: &[(Tag, String)]) -> Vec<String> {
    keys.iter()
        .flat_map(|(t, v)| {
            let mut k = dataset::keyword(*t);
            if k.starts_with('(') {
                k = format!("{:04x},{:04x}", t.group(), t.element());
            }
            let arg = if v.is_empty() { k } else { format!("{k}={v}") };
            ["-k".to_string(), word(&arg)]
        })
        .collect()
}

/// The DCMTK command line for `tool` with the peer's AEs, timeouts and PDU size.
fn dcmtk(peer: &Peer, tool: &str, options: &[String], files: &[String]) -> String {
    let secs = |d: Duration| d.as_millis().div_ceil(1000).max(1);
    let mut parts = vec![
        tool.to_string(),
        "-aet".into(),
        word(&peer.calling_ae),
        "-aec".into(),
        word(&peer.called_ae),
        "-to".into(),
        secs(peer.connect_timeout).to_string(),
        "-ta".into(),
        secs(peer.read_timeout).to_string(),
        "-td".into(),
        secs(peer.read_timeout).to_string(),
    ];
    if (4096..=131_072).contains(&peer.max_pdu) {
        parts.push("-pdu".into());
        parts.push(peer.max_pdu.to_string());
    }
    parts.extend(options.iter().cloned());
    parts.push(word(&peer.host));
    parts.push(peer.port.to_string());
    parts.extend(files.iter().map(|f| word(f)));
    parts.join(" ")
}

/// A file to store, as read from its File Meta group.
struct StoreItem {
    path: PathBuf,
    head: dataset::FileHead,
}

impl DimseScu {
    /// A SCU for `peer`.
    pub fn new(peer: Peer) -> DimseScu {
        let move_destination = peer.calling_ae.clone();
        DimseScu {
            peer,
            move_destination,
            move_receiver: None,
        }
    }

    /// A SCU for the `[dimse]` table of a SUT profile.
    pub fn from_config(d: &crate::config::Dimse) -> DimseScu {
        DimseScu {
            peer: Peer {
                host: d.host.clone(),
                port: d.port,
                called_ae: d.called_ae.clone(),
                calling_ae: d.calling_ae.clone(),
                connect_timeout: d.connect_timeout,
                read_timeout: d.read_timeout,
                max_pdu: d.max_pdu,
                limits: d.limits,
                tls: d.tls.clone().map(crate::dimse::association::PeerTls::Files),
            },
            move_destination: d.move_destination.clone(),
            move_receiver: None,
        }
    }

    /// C-ECHO on Verification (1.2.840.10008.1.1).
    pub async fn echo(&self) -> Exchange {
        self.echo_proposing(&[]).await
    }

    /// C-ECHO on an association that also proposes `extra` presentation contexts (abstract
    /// syntax, transfer syntaxes), to see which the SCP accepts.
    pub async fn echo_proposing(&self, extra: &[(String, Vec<String>)]) -> Exchange {
        let mut s = Session::new(&self.peer);
        let mut contexts = vec![(uids::VERIFICATION.to_string(), uncompressed())];
        contexts.extend(extra.iter().cloned());
        let rq = Request {
            field: field::C_ECHO_RQ,
            class: uids::VERIFICATION,
            keys: None,
            move_destination: None,
            cancel_after: None,
        };
        s.request(&contexts, &[], &rq, None).await;
        s.finish(Meta {
            operation: "C-ECHO".into(),
            actor: "Verification SCU",
            method: "C-ECHO-RQ",
            repro: dcmtk(&self.peer, "echoscu", &[], &[]),
        })
    }

    /// C-FIND with `keys` (Query/Retrieve Level included), the identifier encoded in the
    /// accepted transfer syntax; with `cancel_after`, C-CANCEL-RQ after that many pending
    /// responses.
    pub async fn find(
        &self,
        model: QueryModel,
        keys: &[(Tag, String)],
        cancel_after: Option<usize>,
    ) -> Exchange {
        let mut s = Session::new(&self.peer);
        let contexts = vec![(model.find_class().to_string(), uncompressed())];
        let rq = Request {
            field: field::C_FIND_RQ,
            class: model.find_class(),
            keys: Some(keys),
            move_destination: None,
            cancel_after,
        };
        s.request(&contexts, &[], &rq, None).await;
        let mut options = vec![model.dcmtk_flag().to_string()];
        if let Some(n) = cancel_after {
            options.extend(["--cancel".to_string(), n.to_string()]);
        }
        options.extend(dcmtk_keys(keys));
        s.finish(Meta {
            operation: format!("C-FIND {}", level(keys)),
            actor: "Query/Retrieve SCU (C-FIND)",
            method: "C-FIND-RQ",
            repro: dcmtk(&self.peer, "findscu", &options, &[]),
        })
    }

    /// C-MOVE of what `keys` select to `destination_ae`; pending responses carry the
    /// sub-operation counts.
    pub async fn move_to(
        &self,
        model: QueryModel,
        keys: &[(Tag, String)],
        destination_ae: &str,
        cancel_after: Option<usize>,
    ) -> Exchange {
        let mut s = Session::new(&self.peer);
        let contexts = vec![(model.move_class().to_string(), uncompressed())];
        let rq = Request {
            field: field::C_MOVE_RQ,
            class: model.move_class(),
            keys: Some(keys),
            move_destination: Some(destination_ae),
            cancel_after,
        };
        s.request(&contexts, &[], &rq, None).await;
        let mut options = vec![
            model.dcmtk_flag().to_string(),
            "-aem".into(),
            word(destination_ae),
        ];
        if let Some(n) = cancel_after {
            options.extend(["--cancel".to_string(), n.to_string()]);
        }
        options.extend(dcmtk_keys(keys));
        let mut repro = dcmtk(&self.peer, "movescu", &options, &[]);
        if let (Some(port), true) = (self.move_receiver, destination_ae == self.move_destination) {
            // The move needs its destination listening: a DCMTK storescp in the harness's place,
            // into a folder beside the script, stopped after the move.
            repro = format!(
                "mkdir -p move-received; storescp -aet {} -od move-received +xa {port} & receiver=$!; sleep 1; {repro}; kill $receiver",
                word(destination_ae)
            );
        }
        s.finish(Meta {
            operation: format!("C-MOVE {} to {destination_ae}", level(keys)),
            actor: "Query/Retrieve SCU (C-MOVE)",
            method: "C-MOVE-RQ",
            repro,
        })
    }

    /// C-GET of what `keys` select: proposes the Q/R GET context, storage contexts for the
    /// instances expected (`storage`: SOP Class and stored transfer syntax of each; see
    /// [`get_contexts`]) and one SCP/SCU Role Selection item per SOP Class taking the SCP role
    /// (PS3.7 §D.3.3.4). The C-STORE sub-operations are written into `store_dir` as PS3.10 files,
    /// answered 0000 and recorded (what the data set says it is, transfer syntax, size, SHA-256).
    pub async fn get(
        &self,
        model: QueryModel,
        keys: &[(Tag, String)],
        storage: &[(&str, &str)],
        store_dir: &Path,
        cancel_after: Option<usize>,
    ) -> Exchange {
        let mut s = Session::new(&self.peer);
        let (contexts, roles) = get_contexts(model, storage);
        let rq = Request {
            field: field::C_GET_RQ,
            class: model.get_class(),
            keys: Some(keys),
            move_destination: None,
            cancel_after,
        };
        let mut sink = GetSink {
            dir: store_dir,
            received: 0,
        };
        s.request(&contexts, &roles, &rq, Some(&mut sink)).await;
        // The instances go into a folder beside the script (the harness's own is temporary).
        let mut options = vec![
            model.dcmtk_flag().to_string(),
            "-od".into(),
            "get-received".into(),
        ];
        options.extend(dcmtk_keys(keys));
        let mut repro = format!(
            "mkdir -p get-received; {}",
            dcmtk(&self.peer, "getscu", &options, &[])
        );
        if let Some(n) = cancel_after {
            repro.push_str(&format!(
                "  # then C-CANCEL-RQ after {n} pending responses (getscu has no option for it)"
            ));
        }
        s.finish(Meta {
            operation: format!("C-GET {} ({} received)", level(keys), sink.received),
            actor: "Query/Retrieve SCU (C-GET)",
            method: "C-GET-RQ",
            repro,
        })
    }

    /// C-STORE of `files` on one association, each data set sent as stored (after its File
    /// Meta group) when its transfer syntax is accepted; a file whose syntax is not accepted is
    /// not transcoded but listed as `not-sent` in `request.headers`. The final status is 0000
    /// when every sent instance got 0000, else the first failure, else the first warning.
    pub async fn store(&self, files: &[PathBuf]) -> Exchange {
        let files: Vec<StoreFile> = files
            .iter()
            .map(|p| StoreFile {
                path: p.clone(),
                fallback: None,
            })
            .collect();
        self.store_files(&files).await
    }

    /// [`store`](Self::store), where a file may have an uncompressed copy of the same instance
    /// (`fallback`, the fixtures' Explicit VR Little Endian copies): when the SCP accepts the
    /// stored transfer syntax the file goes as stored, else the copy goes in its own. An SCP may
    /// accept only some transfer syntaxes (PS3.8 §9.3.3.2); the harness does not transcode, but
    /// it offers what it holds.
    pub async fn store_files(&self, files: &[StoreFile]) -> Exchange {
        let mut s = Session::new(&self.peer);
        // The files the command line sends: each as sent (its copy when that went instead).
        let mut names: Vec<String> = files.iter().map(|f| absolute(&f.path)).collect();
        let meta = |s: &Session<'_>, sent: usize, names: &[String]| Meta {
            operation: format!(
                "C-STORE {} instances{}",
                files.len(),
                if sent < files.len() && s.failure.is_none() {
                    format!(" ({} not sent)", files.len() - sent)
                } else {
                    String::new()
                }
            ),
            actor: "Storage SCU",
            method: "C-STORE-RQ",
            repro: dcmtk(&self.peer, "storescu", &["-R".to_string()], names),
        };
        let mut items = Vec::new();
        for f in files {
            let mut heads = Vec::new();
            for p in std::iter::once(&f.path).chain(f.fallback.as_ref()) {
                let path = p.clone();
                let head = tokio::task::spawn_blocking(move || dataset::read_head(&path))
                    .await
                    .unwrap_or_else(|e| Err(e.into()));
                match head {
                    Ok(head) => heads.push(StoreItem {
                        path: p.clone(),
                        head,
                    }),
                    Err(e) => {
                        s.fail("request", format!("cannot read {}: {e}", p.display()));
                        s.record.ended = "not opened: an input file cannot be read".into();
                        let m = meta(&s, 0, &names);
                        return s.finish(m);
                    }
                }
            }
            items.push(heads);
        }
        let all: Vec<&StoreItem> = items.iter().flatten().collect();
        let contexts = store_contexts(&all);
        let Some(mut assoc) = s.open(&contexts, &[]).await else {
            let m = meta(&s, 0, &names);
            return s.finish(m);
        };
        let mut sent = 0usize;
        let mut statuses = Vec::new();
        for (i, versions) in items.iter().enumerate() {
            let accepted_for = |item: &StoreItem| {
                assoc
                    .presentation_contexts()
                    .iter()
                    .find(|p| {
                        p.abstract_syntax == item.head.sop_class
                            && p.transfer_syntax == item.head.transfer_syntax
                    })
                    .map(|p| p.id)
            };
            let chosen = versions
                .iter()
                .find_map(|item| accepted_for(item).map(|pc| (item, pc)));
            let Some((item, pc_id)) = chosen else {
                let Some(h) = versions.first().map(|v| &v.head) else {
                    continue;
                };
                let accepted: Vec<String> = assoc
                    .presentation_contexts()
                    .iter()
                    .filter(|p| p.abstract_syntax == h.sop_class)
                    .map(|p| p.transfer_syntax.clone())
                    .collect();
                s.notes.push((
                    "not-sent".into(),
                    format!(
                        "{} ({}): stored in {}; accepted for {}: [{}] (not transcoded)",
                        files[i].path.display(),
                        h.sop_instance,
                        h.transfer_syntax,
                        h.sop_class,
                        accepted.join(", ")
                    ),
                ));
                continue;
            };
            let h = &item.head;
            names[i] = absolute(&item.path);
            if item.path != files[i].path {
                s.notes.push((
                    "sent-copy".into(),
                    format!(
                        "{} ({}): its {} copy {}, the stored {} not being accepted",
                        files[i].path.display(),
                        h.sop_instance,
                        h.transfer_syntax,
                        item.path.display(),
                        versions[0].head.transfer_syntax
                    ),
                ));
            }
            let message_id = (i % usize::from(u16::MAX)) as u16 + 1;
            let mut cmd = Command::request(field::C_STORE_RQ, &h.sop_class, message_id, true);
            cmd.affected_sop_instance = Some(h.sop_instance.clone());
            let summary = vec![
                ("SOPClassUID".to_string(), h.sop_class.clone()),
                ("SOPInstanceUID".to_string(), h.sop_instance.clone()),
                ("TransferSyntaxUID".to_string(), h.transfer_syntax.clone()),
                ("File".to_string(), item.path.display().to_string()),
            ];
            let data = Outgoing::File {
                path: &item.path,
                offset: h.data_offset,
            };
            if let Err(e) = s.send(&mut assoc, pc_id, &cmd, data, None, summary).await {
                s.end_with(assoc, e, &format!("sending C-STORE-RQ {}", h.sop_instance))
                    .await;
                s.status = worst(&statuses);
                let m = meta(&s, sent, &names);
                return s.finish(m);
            }
            sent += 1;
            match s.store_response(&mut assoc, message_id).await {
                Ok(st) => statuses.push(st),
                Err((e, during)) => {
                    s.end_with(assoc, e, &during).await;
                    s.status = worst(&statuses);
                    let m = meta(&s, sent, &names);
                    return s.finish(m);
                }
            }
        }
        association::close(assoc, &mut s.record).await;
        s.status = worst(&statuses);
        let m = meta(&s, sent, &names);
        s.finish(m)
    }
}

impl DimseScu {
    /// C-STORE of `files` over `associations` associations at once (at least one, at most one
    /// per file), the files dealt round-robin: file `i` goes on association `i % n`. Each
    /// association is a [`store`](Self::store) of its share, every file still streamed from disk;
    /// a receiver that spends a fixed time per instance (an archive's database, a disk sync) is
    /// then waited for `n` times at once instead of once per instance in turn. Returns, per
    /// association, the indices into `files` of its share and its exchange.
    pub async fn store_parallel(
        &self,
        files: &[StoreFile],
        associations: usize,
    ) -> Vec<(Vec<usize>, Exchange)> {
        let n = associations.clamp(1, files.len().max(1));
        let shares: Vec<Vec<usize>> = (0..n)
            .map(|k| (k..files.len()).step_by(n).collect())
            .collect();
        self.store_shares(files, shares).await
    }

    /// C-STORE of `files` over one association per share, all at once: each share (indices into
    /// `files`) is a [`store`](Self::store) of its files in the share's order. Returns, per
    /// association, its share and its exchange.
    pub async fn store_shares(
        &self,
        files: &[StoreFile],
        shares: Vec<Vec<usize>>,
    ) -> Vec<(Vec<usize>, Exchange)> {
        let runs = shares.iter().map(|share| {
            let mine: Vec<StoreFile> = share.iter().map(|&i| files[i].clone()).collect();
            async move { self.store_files(&mine).await }
        });
        let exchanges = futures_util::future::join_all(runs).await;
        shares.into_iter().zip(exchanges).collect()
    }
}

/// What became of one file of a C-STORE exchange: the status of its C-STORE-RSP, or why it has
/// none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreOutcome {
    /// The C-STORE-RSP status (PS3.4 §B.2.3).
    Status(u16),
    /// Not sent: its transfer syntax was not accepted (the harness does not transcode).
    NotSent,
    /// Sent (or about to be) when the association failed or was dropped: no response.
    NoResponse,
}

/// The outcome of each of `files` (the files of one [`DimseScu::store`], in its order) from the
/// exchange's record: the C-STORE-RQ that carried the file (its `File` summary) and the
/// C-STORE-RSP whose Message ID Being Responded To is that request's Message ID.
pub fn store_outcomes(ex: &Exchange, files: &[PathBuf]) -> Vec<StoreOutcome> {
    let files: Vec<StoreFile> = files.iter().cloned().map(StoreFile::from).collect();
    store_file_outcomes(ex, &files)
}

/// [`store_outcomes`] of the files of a [`DimseScu::store_files`]: a file whose uncompressed
/// copy went in its place is judged by the answer to the copy.
pub fn store_file_outcomes(ex: &Exchange, files: &[StoreFile]) -> Vec<StoreOutcome> {
    use crate::evidence::dimse::Flow;
    let not_sent: Vec<&str> = ex
        .request
        .headers
        .iter()
        .filter(|(k, _)| k == "not-sent")
        .map(|(_, v)| v.as_str())
        .collect();
    let Some(rec) = ex.dimse.as_deref() else {
        return vec![StoreOutcome::NoResponse; files.len()];
    };
    let sent = sent_files(rec);
    files
        .iter()
        .map(|f| {
            let shown = f.path.display().to_string();
            let copy = f.fallback.as_ref().map(|p| p.display().to_string());
            if not_sent
                .iter()
                .any(|v| v.starts_with(&format!("{shown} (")))
            {
                return StoreOutcome::NotSent;
            }
            let id = sent
                .iter()
                .find(|(file, _)| *file == shown || Some(file) == copy.as_ref())
                .and_then(|(_, id)| *id);
            let status = id.and_then(|id| {
                rec.messages
                    .iter()
                    .filter(|m| {
                        m.flow == Flow::Received
                            && m.command.field == field::C_STORE_RSP
                            && m.command.responded_to == Some(id)
                    })
                    .find_map(|m| m.command.status)
            });
            status.map_or(StoreOutcome::NoResponse, StoreOutcome::Status)
        })
        .collect()
}

/// The file each C-STORE-RQ of `rec` carried (its `File` summary), with the request's Message ID.
fn sent_files(rec: &crate::evidence::dimse::DimseRecord) -> Vec<(String, Option<u16>)> {
    use crate::evidence::dimse::Flow;
    rec.messages
        .iter()
        .filter(|m| m.flow == Flow::Sent && m.command.field == field::C_STORE_RQ)
        .map(|m| {
            let file = m
                .data_summary
                .iter()
                .find(|(k, _)| k == "File")
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            (file, m.command.message_id)
        })
        .collect()
}

/// For each of `files` (the files of one [`DimseScu::store_files`]), whether its uncompressed
/// copy went in its place: a C-STORE-RQ carried the copy.
pub fn copies_sent(ex: &Exchange, files: &[StoreFile]) -> Vec<bool> {
    let sent = ex.dimse.as_deref().map(sent_files).unwrap_or_default();
    files
        .iter()
        .map(|f| {
            f.fallback.as_ref().is_some_and(|copy| {
                let copy = copy.display().to_string();
                sent.iter().any(|(file, _)| *file == copy)
            })
        })
        .collect()
}

/// A file to store, with an uncompressed copy of the same instance to send when the SCP does not
/// accept the file's own transfer syntax.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreFile {
    /// The PS3.10 file.
    pub path: PathBuf,
    /// The same instance in another (uncompressed) transfer syntax, if the harness holds one.
    pub fallback: Option<PathBuf>,
}

impl From<PathBuf> for StoreFile {
    /// A file without an uncompressed copy.
    fn from(path: PathBuf) -> StoreFile {
        StoreFile {
            path,
            fallback: None,
        }
    }
}

/// `path` made absolute (against the working directory), for command lines that must work from
/// another folder.
pub fn absolute(path: &Path) -> String {
    std::path::absolute(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}

/// The presentation contexts of a C-GET (PS3.8 §9.3.2.2: at most 128): the Q/R GET context, then
/// per SOP Class one context for each compressed transfer syntax the instances are stored in
/// (so that they can arrive as stored) and one with Explicit and Implicit VR Little Endian; and
/// one Role Selection item per SOP Class (PS3.7 §D.3.3.4), not one per instance.
pub fn get_contexts(model: QueryModel, storage: &[(&str, &str)]) -> (Vec<Context>, Vec<Role>) {
    let mut contexts = vec![(model.get_class().to_string(), uncompressed())];
    let mut roles: Vec<Role> = Vec::new();
    let mut classes: Vec<&str> = Vec::new();
    for (class, _) in storage {
        if !classes.contains(class) {
            classes.push(class);
        }
    }
    for class in classes {
        let mut stored: Vec<&str> = Vec::new();
        for (c, ts) in storage {
            if *c == class && !stored.contains(ts) && !uncompressed().iter().any(|u| u == ts) {
                stored.push(ts);
            }
        }
        for ts in stored {
            contexts.push((class.to_string(), vec![ts.to_string()]));
        }
        contexts.push((class.to_string(), uncompressed()));
        roles.push((class.to_string(), false, true));
    }
    contexts.truncate(128);
    (contexts, roles)
}

/// One context per (SOP Class, stored transfer syntax), then per SOP Class a fallback with
/// Explicit and Implicit VR LE; duplicates dropped.
fn store_contexts(items: &[&StoreItem]) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    let mut push = |c: (String, Vec<String>)| {
        if !out.contains(&c) {
            out.push(c);
        }
    };
    for it in items {
        push((
            it.head.sop_class.clone(),
            vec![it.head.transfer_syntax.clone()],
        ));
    }
    for it in items {
        push((it.head.sop_class.clone(), uncompressed()));
    }
    out
}

/// 0000 when all are 0000, else the first failure, else the first warning; `None` when empty.
fn worst(statuses: &[u16]) -> Option<u16> {
    let first = |cat: &str| {
        statuses
            .iter()
            .copied()
            .find(|s| status::category(*s) == cat)
    };
    if statuses.is_empty() {
        return None;
    }
    first("failure")
        .or_else(|| first("cancel"))
        .or_else(|| first("warning"))
        .or(Some(status::SUCCESS))
}

/// The DICOM files named (for `store`): files as given, folders searched recursively for `*.dcm`,
/// in path order.
pub fn dicom_files(paths: &[std::path::PathBuf]) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack: Vec<std::path::PathBuf> = paths.to_vec();
    while let Some(p) = stack.pop() {
        if p.is_dir() {
            if let Ok(rd) = std::fs::read_dir(&p) {
                stack.extend(rd.flatten().map(|e| e.path()));
            }
        } else if paths.contains(&p) || p.extension().is_some_and(|e| e == "dcm") {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// Was the association rejected by the presentation layer of the SUT (PS3.8 §9.3.4, source 3:
/// temporary congestion, local limit exceeded)? Such a rejection says the SUT is busy, not what it
/// makes of the request: a scenario that expects a rejection for a reason cannot be judged by it.
pub fn is_transient(ex: &Exchange) -> bool {
    ex.dimse
        .as_deref()
        .and_then(|r| r.rejection.as_ref())
        .is_some_and(|rj| rj.source == 3)
}

/// An association the SUT rejected where the scenario needs one is not a verdict: the SUT was not
/// told the harness's calling AE title, or the profile names another called AE title, or the SUT
/// is busy (PS3.8 §9.3.4 reasons). It is an Error that says which, not a Fail of what followed.
/// So is a rejection for being busy where the scenario expects one for a reason (see
/// [`is_transient`]).
pub fn rejection_as_failure(ex: &mut Exchange) {
    if ex.failure.is_some() {
        return;
    }
    let Some(r) = ex.dimse.as_deref() else {
        return;
    };
    let Some(rj) = &r.rejection else {
        return;
    };
    let hint = match (rj.source, rj.reason) {
        (1, 3) => format!(
            "the SUT does not know the harness's calling AE title {} ([dimse] calling_ae)",
            r.calling_ae
        ),
        (1, 7) => format!(
            "the SUT's AE title is not {} ([dimse] called_ae)",
            r.called_ae
        ),
        (3, _) => "the SUT is busy (a transient rejection of its presentation layer, PS3.8 §9.3.4): run the scenario again when it is idle".to_string(),
        _ => "see the SUT's log for why".to_string(),
    };
    let message = format!(
        "{} rejected the association: A-ASSOCIATE-RJ result {}, source {}, reason {} ({}); {hint}",
        ex.request.url, rj.result, rj.source, rj.reason, rj.text
    );
    ex.failure = Some(crate::evidence::TransportFailure {
        kind: "rejected".into(),
        message,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer() -> Peer {
        Peer {
            host: "127.0.0.1".into(),
            port: 11112,
            called_ae: "DCMQRSCP".into(),
            calling_ae: "HARNESS".into(),
            connect_timeout: Duration::from_secs(5),
            read_timeout: Duration::from_millis(2500),
            max_pdu: 16384,
            limits: association::Limits::default(),
            tls: None,
        }
    }

    #[test]
    fn dcmtk_lines() {
        let keys = vec![
            (tags::QUERY_RETRIEVE_LEVEL, "STUDY".to_string()),
            (tags::PATIENT_NAME, "Doe*".to_string()),
            (tags::STUDY_INSTANCE_UID, String::new()),
            (Tag(0x0009, 0x0010), "x".to_string()),
        ];
        let line = dcmtk(&peer(), "findscu", &dcmtk_keys(&keys), &[]);
        assert_eq!(
            line,
            "findscu -aet HARNESS -aec DCMQRSCP -to 5 -ta 3 -td 3 -pdu 16384 -k QueryRetrieveLevel=STUDY \
             -k 'PatientName=Doe*' -k StudyInstanceUID -k 0009,0010=x 127.0.0.1 11112"
        );
        assert_eq!(level(&keys), "STUDY");
    }

    #[test]
    fn c_get_proposes_one_context_per_class_and_syntax_and_one_role_per_class() {
        let ct = "1.2.840.10008.5.1.4.1.1.2";
        let mr = "1.2.840.10008.5.1.4.1.1.4";
        let jpeg = "1.2.840.10008.1.2.4.70";
        let mut storage = vec![(ct, EXPLICIT_VR_LE); 16];
        storage.extend([(mr, jpeg), (mr, jpeg), (mr, IMPLICIT_VR_LE)]);
        let (contexts, roles) = get_contexts(QueryModel::StudyRoot, &storage);
        assert_eq!(
            contexts,
            vec![
                (
                    QueryModel::StudyRoot.get_class().to_string(),
                    uncompressed()
                ),
                (ct.to_string(), uncompressed()),
                (mr.to_string(), vec![jpeg.to_string()]),
                (mr.to_string(), uncompressed()),
            ]
        );
        assert_eq!(
            roles,
            vec![(ct.to_string(), false, true), (mr.to_string(), false, true)]
        );
        let many: Vec<(String, String)> = (0..200)
            .map(|i| (format!("1.2.3.{i}"), EXPLICIT_VR_LE.to_string()))
            .collect();
        let many: Vec<(&str, &str)> = many.iter().map(|(c, t)| (c.as_str(), t.as_str())).collect();
        assert_eq!(get_contexts(QueryModel::StudyRoot, &many).0.len(), 128);
    }

    #[test]
    fn worst_status() {
        assert_eq!(worst(&[]), None);
        assert_eq!(worst(&[0, 0]), Some(0));
        assert_eq!(worst(&[0, 0xB000, 0xA700]), Some(0xA700));
        assert_eq!(worst(&[0, 0xB007]), Some(0xB007));
    }

    #[test]
    fn store_contexts_add_an_uncompressed_fallback() {
        let item = |ts: &str| StoreItem {
            path: PathBuf::from("x"),
            head: dataset::FileHead {
                sop_class: "1.2.840.10008.5.1.4.1.1.2".into(),
                sop_instance: "1".into(),
                transfer_syntax: ts.into(),
                data_offset: 0,
                data_len: 0,
            },
        };
        let c = store_contexts(&[
            &item("1.2.840.10008.1.2.4.70"),
            &item("1.2.840.10008.1.2.1"),
            &item("1.2.840.10008.1.2.1"),
        ]);
        assert_eq!(c.len(), 3);
        assert_eq!(c[0].1, vec!["1.2.840.10008.1.2.4.70".to_string()]);
        assert_eq!(c[2].1, uncompressed());
    }

    #[test]
    fn each_file_is_judged_by_the_response_to_its_own_request() {
        use crate::evidence::dimse::{DimseRecord, Flow, MessageRecord};
        let message = |flow, command: Command, file: Option<&str>| MessageRecord {
            flow,
            pc_id: 1,
            command,
            data_len: None,
            data_sha256: None,
            data_summary: file
                .map(|f| vec![("File".to_string(), f.to_string())])
                .unwrap_or_default(),
            pdus: 1,
            largest_pdu: 0,
            at_ms: 0,
            pdus_at: None,
        };
        let rq = |id| Command::request(field::C_STORE_RQ, "1.2.840.10008.5.1.4.1.1.2", id, true);
        let files: Vec<PathBuf> = ["a.dcm", "b.dcm", "c.dcm", "d.dcm"]
            .iter()
            .map(PathBuf::from)
            .collect();
        let mut ex =
            crate::evidence::Exchange::synthetic("dicom://SCP@127.0.0.1:104", &[], 0, &[], b"");
        ex.request.headers = vec![("not-sent".into(), "c.dcm (1.2.3): stored in 1.2".into())];
        // a and b sent; the answer to b (message 2) comes first, with a failure status; d was
        // sent when the association dropped.
        ex.dimse = Some(Box::new(DimseRecord {
            messages: vec![
                message(Flow::Sent, rq(1), Some("a.dcm")),
                message(Flow::Sent, rq(2), Some("b.dcm")),
                message(
                    Flow::Received,
                    Command::response_to(&rq(2), 0xA700, false),
                    None,
                ),
                message(Flow::Received, Command::response_to(&rq(1), 0, false), None),
                message(Flow::Sent, rq(4), Some("d.dcm")),
            ],
            ..Default::default()
        }));
        assert_eq!(
            store_outcomes(&ex, &files),
            vec![
                StoreOutcome::Status(0),
                StoreOutcome::Status(0xA700),
                StoreOutcome::NotSent,
                StoreOutcome::NoResponse,
            ]
        );
        ex.dimse = None;
        assert_eq!(
            store_outcomes(&ex, &files[..1]),
            vec![StoreOutcome::NoResponse]
        );
    }

    #[test]
    fn a_busy_sut_is_an_error_not_a_verdict_on_the_rejection() {
        let rejected = |source: u8, reason: u8| {
            let mut ex = crate::evidence::Exchange::synthetic(
                "dicom://PACS@127.0.0.1:104",
                &[],
                0,
                &[],
                b"",
            );
            ex.dimse = Some(Box::new(crate::evidence::dimse::DimseRecord {
                called_ae: "NOT_THE_SCP".into(),
                rejection: Some(crate::evidence::dimse::Rejection {
                    result: 2,
                    source,
                    reason,
                    text: String::new(),
                }),
                ..Default::default()
            }));
            ex.response = None;
            ex
        };
        // Temporary congestion: the SUT did not judge the called AE title.
        let mut busy = rejected(3, 1);
        assert!(is_transient(&busy));
        rejection_as_failure(&mut busy);
        let f = busy.failure.unwrap();
        assert_eq!(f.kind, "rejected");
        assert!(f.message.contains("busy"), "{}", f.message);
        // Called AE title not recognized: the answer the scenario judges (DIM-02).
        assert!(!is_transient(&rejected(1, 7)));
    }
}
