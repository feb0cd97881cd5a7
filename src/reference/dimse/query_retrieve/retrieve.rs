//! C-MOVE and C-GET (PS3.4 C.4.2, C.4.3): the unique keys of the retrieve level read into the
//! instances to send, the C-STORE sub-operations counted in pending responses, and the final
//! status with the Failed SOP Instance UID List.

use std::sync::Arc;

use dicom_core::{DataElement, PrimitiveValue, VR};
use dicom_dictionary_std::{tags, uids};
use dicom_encoding::TransferSyntaxIndex;
use dicom_object::InMemDicomObject;
use dicom_transfer_syntax_registry::TransferSyntaxRegistry;

use super::{
    dcmtk_keys, encode, higher_unique_keys, identifier, level_of, refuse, send_refusal, text_of,
    Level, Model, QrError, Refusal,
};
use crate::dimse::command::{field, status, Command};
use crate::dimse::message::{DimseError, Outgoing, Received};
use crate::reference::dimse::session::{self, Context, OpStart, Outcome, Session};
use crate::reference::dimse::sub_operations::{self, SubAssociation, SubResult};
use crate::reference::faults::Fault;
use crate::reference::store::archive::{Archive, Instance};
use crate::reference::store::is_valid_uid;
use crate::transport::http::shell_quote;

/// A parsed C-MOVE or C-GET identifier: the unique key values of each level down to the
/// retrieve level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrieveQuery {
    /// Query/Retrieve Level.
    pub level: Level,
    /// (level, values) from the top; one value above the retrieve level, one or more at it.
    pub keys: Vec<(Level, Vec<String>)>,
}

/// Parse a C-MOVE or C-GET identifier (PS3.4 C.4.2.2.1, C.4.3.2.1).
pub fn parse_retrieve(model: Model, obj: &InMemDicomObject) -> Result<RetrieveQuery, Refusal> {
    let level = level_of(model, obj)?;
    let mut keys: Vec<(Level, Vec<String>)> = higher_unique_keys(model, level, obj)?
        .into_iter()
        .map(|(l, v)| (l, vec![v]))
        .collect();
    let v = obj.get(level.unique_key()).map(text_of).unwrap_or_default();
    let values: Vec<String> = v
        .split('\\')
        .map(|s| s.trim_end_matches(['\0', ' ']).trim_start().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if values.is_empty() {
        return refuse(format!(
            "a {} level retrieve needs the {} unique key",
            level.keyword(),
            level.keyword()
        ));
    }
    if values.iter().any(|v| v.contains(['*', '?'])) {
        return refuse("unique keys take no wildcards");
    }
    keys.push((level, values));
    for (l, vs) in &keys {
        if *l != Level::Patient {
            if let Some(bad) = vs.iter().find(|v| !is_valid_uid(v)) {
                return refuse(format!("`{bad}` is not a UID"));
            }
        }
    }
    Ok(RetrieveQuery { level, keys })
}

/// The instances a retrieve names, in archive order.
pub fn retrieve_instances(archive: &Archive, q: &RetrieveQuery) -> Vec<Arc<Instance>> {
    let value = |i: &Instance, l: Level| -> Option<String> {
        match l {
            Level::Patient => i.text(tags::PATIENT_ID),
            Level::Study => Some(i.study_uid.clone()),
            Level::Series => Some(i.series_uid.clone()),
            Level::Image => Some(i.sop_uid.clone()),
        }
    };
    archive
        .sorted_studies()
        .into_iter()
        .flat_map(|(_, s)| s.instances())
        .filter(|i| {
            q.keys
                .iter()
                .all(|(l, vs)| value(i, *l).is_some_and(|v| vs.contains(&v)))
        })
        .collect()
}

/// Sub-operation counts (PS3.4 C.4.2.1.6-C.4.2.1.9).
#[derive(Debug, Default)]
struct Counts {
    completed: u16,
    failed: u16,
    warning: u16,
    failed_uids: Vec<String>,
}

impl Counts {
    fn add(&mut self, r: &SubResult, uid: &str) {
        match r {
            SubResult::Completed => self.completed = self.completed.saturating_add(1),
            SubResult::Warning(_) => self.warning = self.warning.saturating_add(1),
            SubResult::Failed(_) => {
                self.failed = self.failed.saturating_add(1);
                self.failed_uids.push(uid.to_string());
            }
        }
    }

    fn done(&self) -> u16 {
        self.completed
            .saturating_add(self.failed)
            .saturating_add(self.warning)
    }

    fn put(&self, c: &mut Command, remaining: Option<u16>, wrong: bool) {
        c.remaining = remaining;
        c.completed = Some(if wrong {
            self.completed.saturating_add(1)
        } else {
            self.completed
        });
        c.failed = Some(self.failed);
        c.warning = Some(self.warning);
    }
}

/// C-MOVE (`get == false`, PS3.4 C.4.2.3) and C-GET (`get == true`, PS3.4 C.4.3.3) SCP.
pub(crate) async fn retrieve(
    s: &mut Session,
    op: &mut OpStart,
    rx: Received,
    ctx: &Context,
    model: Model,
    message_id: u16,
    get: bool,
) -> Result<Outcome, DimseError> {
    let rq = rx.command.clone();
    let (ends, hostport) = s.dcmtk_ends();
    let obj = identifier(rx.data, &ctx.transfer_syntax);
    let keys = obj.as_ref().map(dcmtk_keys).unwrap_or_default();
    let destination = rq
        .move_destination
        .clone()
        .unwrap_or_default()
        .trim()
        .to_string();
    let dcmtk = if get {
        format!(
            "getscu {} {ends} -od . {keys} {hostport}",
            model.dcmtk_flag()
        )
    } else {
        format!(
            "movescu {} {ends} -aem {} {keys} {hostport}",
            model.dcmtk_flag(),
            shell_quote(&destination)
        )
    };
    if let Ok(o) = &obj {
        s.annotate_received(session::summary_of(o));
    }
    let q = match obj.and_then(|o| parse_retrieve(model, &o)) {
        Ok(q) => q,
        Err(r) => {
            let st = send_refusal(s, op, ctx, &rq, &r).await?;
            return Ok(Outcome {
                status: Some(st),
                dcmtk,
            });
        }
    };
    let target = if get {
        None
    } else {
        match s.config.move_destinations.get(&destination).copied() {
            Some(addr) => Some(addr),
            None if s.state.has(Fault::DimseMoveUnknownDestinationOk) => {
                let mut rsp = Command::response_to(&rq, status::SUCCESS, false);
                Counts::default().put(&mut rsp, None, false);
                s.send(ctx.id, &rsp, Outgoing::None, Vec::new(), Some(op))
                    .await?;
                return Ok(Outcome {
                    status: Some(status::SUCCESS),
                    dcmtk,
                });
            }
            None => {
                let r = Refusal {
                    status: if s.state.has(Fault::DimseMoveUnknownDestinationC000) {
                        status::UNABLE_TO_PROCESS
                    } else {
                        status::MOVE_DESTINATION_UNKNOWN
                    },
                    comment: format!("move destination `{destination}` is unknown")
                        .chars()
                        .take(64)
                        .collect(),
                };
                let st = send_refusal(s, op, ctx, &rq, &r).await?;
                return Ok(Outcome {
                    status: Some(st),
                    dcmtk,
                });
            }
        }
    };
    let instances = {
        let archive = s.state.archive();
        let mut found = retrieve_instances(&archive, &q);
        if get && s.state.has(Fault::DimseGetWrongInstance) {
            if let Some(first) = found.first().cloned() {
                let all: Vec<_> = archive
                    .sorted_studies()
                    .into_iter()
                    .flat_map(|(_, st)| st.instances())
                    .filter(|i| i.series_uid != first.series_uid)
                    .collect();
                let other = all
                    .iter()
                    .find(|i| i.sop_class == first.sop_class && i.study_uid == first.study_uid)
                    .or_else(|| all.iter().find(|i| i.sop_class == first.sop_class))
                    .or_else(|| all.first());
                if let Some(o) = other {
                    found[0] = o.clone();
                }
            }
        }
        found
    };
    if s.state.has(Fault::PerfSlowFirstByte) && q.level == Level::Study {
        tokio::time::sleep(crate::reference::faults::PERF_SLOW_FIRST_BYTE).await;
    }
    let wrong = !get && s.state.has(Fault::DimseMoveWrongCounts);
    let total = u16::try_from(instances.len()).unwrap_or(u16::MAX);
    let mut counts = Counts::default();
    let mut sub = None;
    if let Some(addr) = target {
        if !instances.is_empty() {
            match SubAssociation::open(
                &s.config.ae_title,
                &destination,
                addr,
                &instances,
                s.config.timeout,
                s.state.spool().dir(),
                s.config.move_tls.as_ref(),
            )
            .await
            {
                Ok(a) => sub = Some(a),
                Err((reason, ex)) => {
                    s.state.inbox().push(ex);
                    for i in &instances {
                        counts.add(&SubResult::Failed(reason.clone()), &i.sop_uid);
                    }
                    return final_counts(
                        s,
                        op,
                        ctx,
                        &rq,
                        &counts,
                        false,
                        None,
                        wrong,
                        Some(reason),
                        dcmtk,
                    )
                    .await;
                }
            }
        }
    }
    // The own-originator fault names the SCP itself as Move Originator, without a Message ID.
    let (originator, originator_id) = if s.state.has(Fault::DimseMoveOwnOriginator) {
        (s.config.ae_title.clone(), None)
    } else {
        (s.calling_ae().to_string(), Some(message_id))
    };
    let mut cancelled = false;
    for (i, inst) in instances.iter().enumerate() {
        if s.cancel_requested(message_id).await? {
            cancelled = true;
            break;
        }
        if get && i == 1 && s.state.has(Fault::DimseGetAbortMidway) {
            return Err(s
                .abort_association("after the first C-GET sub-operation")
                .await);
        }
        let result = match sub.as_mut() {
            Some(sub) => sub.store(inst, &originator, originator_id).await,
            None => {
                // The mislabelled-instance fault sends another study's data set in place of the
                // first match, under the first match's UID.
                let data = if i == 0 && s.state.has(Fault::DimseGetMislabelledInstance) {
                    let archive = s.state.archive();
                    let same_class: Vec<_> = archive
                        .sorted_studies()
                        .into_iter()
                        .flat_map(|(_, st)| st.instances())
                        .filter(|o| o.sop_class == inst.sop_class)
                        .collect();
                    same_class
                        .iter()
                        .find(|o| o.study_uid != inst.study_uid)
                        .or_else(|| same_class.iter().find(|o| o.series_uid != inst.series_uid))
                        .cloned()
                        .unwrap_or_else(|| inst.clone())
                } else {
                    inst.clone()
                };
                get_store(s, inst, &data, message_id, &mut cancelled).await?
            }
        };
        counts.add(&result, &inst.sop_uid);
        let remaining = total.saturating_sub(u16::try_from(i + 1).unwrap_or(u16::MAX));
        let mut rsp = Command::response_to(&rq, status::PENDING, false);
        counts.put(&mut rsp, Some(remaining), wrong);
        s.send(ctx.id, &rsp, Outgoing::None, Vec::new(), Some(op))
            .await?;
        if cancelled {
            break;
        }
    }
    if let Some(sub) = sub {
        let ex = sub.close().await;
        s.state.inbox().push(ex);
    }
    let remaining = cancelled.then(|| total.saturating_sub(counts.done()));
    final_counts(
        s, op, ctx, &rq, &counts, cancelled, remaining, wrong, None, dcmtk,
    )
    .await
}

/// The final C-MOVE/C-GET response: FE00 after a cancel, B000 when any sub-operation failed or
/// warned, else 0000; with the counts and, when any failed, the Failed SOP Instance UID List.
#[allow(clippy::too_many_arguments)]
async fn final_counts(
    s: &mut Session,
    op: &mut OpStart,
    ctx: &Context,
    rq: &Command,
    counts: &Counts,
    cancelled: bool,
    remaining: Option<u16>,
    wrong: bool,
    comment: Option<String>,
    dcmtk: String,
) -> Result<Outcome, DimseError> {
    let st = if cancelled {
        status::CANCEL
    } else if counts.failed > 0 || counts.warning > 0 {
        status::SUB_OPERATIONS_FAILED
    } else {
        status::SUCCESS
    };
    let failed_list = (counts.failed > 0).then(|| {
        let mut o = InMemDicomObject::new_empty();
        o.put(DataElement::new(
            tags::FAILED_SOP_INSTANCE_UID_LIST,
            VR::UI,
            PrimitiveValue::from(counts.failed_uids.join("\\")),
        ));
        o
    });
    let bytes = match &failed_list {
        Some(o) => encode(o, &ctx.transfer_syntax).ok(),
        None => None,
    };
    let mut rsp = Command::response_to(rq, st, bytes.is_some());
    counts.put(&mut rsp, remaining, wrong);
    rsp.error_comment = comment.map(|c| c.chars().take(64).collect());
    let (data, summary) = match (&bytes, &failed_list) {
        (Some(b), Some(o)) => (Outgoing::Bytes(b), session::summary_of(o)),
        _ => (Outgoing::None, Vec::new()),
    };
    s.send(ctx.id, &rsp, data, summary, Some(op)).await?;
    Ok(Outcome {
        status: Some(st),
        dcmtk,
    })
}

/// One C-GET sub-operation: a C-STORE-RQ on the same association, on a context whose SOP Class
/// the requestor took the SCP role for (PS3.4 C.4.3.3, PS3.7 D.3.3.4).
/// The payload of the C-GET faults: the data set with an attribute added (`coerce`), or with the
/// last byte of its Pixel Data changed (`other_image`; before the Sequence Delimitation Item of an
/// encapsulated one).
fn altered(
    p: sub_operations::Payload,
    coerce: bool,
    other_image: bool,
) -> Result<sub_operations::Payload, QrError> {
    let mut bytes = match &p.data {
        sub_operations::PayloadData::Bytes(b) => b.clone(),
        sub_operations::PayloadData::File { path, offset } => {
            let all = std::fs::read(path)?;
            all.get(*offset as usize..).unwrap_or_default().to_vec()
        }
    };
    if coerce {
        let ts = TransferSyntaxRegistry
            .get(&p.transfer_syntax)
            .ok_or(QrError::UnknownPayloadSyntax)?;
        let mut obj = InMemDicomObject::read_dataset_with_ts(&bytes[..], ts)
            .map_err(|e| QrError::Decode(Box::new(e)))?;
        obj.put(DataElement::new(
            tags::INSTITUTION_NAME,
            VR::LO,
            PrimitiveValue::from("COERCED BY THE ARCHIVE"),
        ));
        bytes.clear();
        obj.write_dataset_with_ts(&mut bytes, ts)
            .map_err(|e| QrError::Encode(Box::new(e)))?;
    }
    if other_image {
        let native = p.transfer_syntax == uids::EXPLICIT_VR_LITTLE_ENDIAN
            || p.transfer_syntax == uids::IMPLICIT_VR_LITTLE_ENDIAN;
        let at = bytes.len().checked_sub(if native { 1 } else { 9 });
        if let Some(b) = at.and_then(|i| bytes.get_mut(i)) {
            *b ^= 0xFF;
        }
    }
    Ok(sub_operations::Payload {
        data: sub_operations::PayloadData::Bytes(bytes),
        ..p
    })
}

async fn get_store(
    s: &mut Session,
    inst: &Arc<Instance>,
    data: &Arc<Instance>,
    get_id: u16,
    cancelled: &mut bool,
) -> Result<SubResult, DimseError> {
    let contexts: Vec<Context> = s
        .contexts()
        .into_iter()
        .filter(|c| s.requestor_is_scp(&c.abstract_syntax))
        .collect();
    let i = data.clone();
    let (coerce, other_image) = (
        s.state.has(Fault::DimseGetCoercesAttributes),
        s.state.has(Fault::DimseGetOtherImage),
    );
    let planned = tokio::task::spawn_blocking(move || {
        let p = sub_operations::plan(&i, &contexts)?;
        if coerce || other_image {
            return altered(p, coerce, other_image);
        }
        Ok(p)
    });
    let payload = match planned.await {
        Ok(Ok(p)) => p,
        Ok(Err(reason)) => return Ok(SubResult::Failed(reason.to_string())),
        Err(e) => return Ok(SubResult::Failed(format!("internal error: {e}"))),
    };
    let id = s.next_message_id(get_id);
    let mut cmd = Command::request(field::C_STORE_RQ, &inst.sop_class, id, true);
    cmd.affected_sop_instance = Some(inst.sop_uid.clone());
    let summary = session::store_summary(&cmd, &payload.transfer_syntax);
    s.send(payload.pc_id, &cmd, payload.outgoing(), summary, None)
        .await?;
    let rsp = s.receive_store_response(id, get_id, cancelled).await?;
    Ok(SubResult::of_status(
        rsp.status.unwrap_or(status::UNABLE_TO_PROCESS),
    ))
}

#[cfg(test)]
mod tests {
    use super::super::tests::*;
    use super::*;

    #[test]
    fn retrieve_identifiers() {
        let a = archive();
        let (study, s) = a.sorted_studies().into_iter().next().unwrap();
        let (series, se) = s.sorted().into_iter().next().unwrap();
        let q = parse_retrieve(
            Model::StudyRoot,
            &ident(&[
                (tags::QUERY_RETRIEVE_LEVEL, VR::CS, "SERIES"),
                (tags::STUDY_INSTANCE_UID, VR::UI, study),
                (tags::SERIES_INSTANCE_UID, VR::UI, series),
            ]),
        )
        .unwrap();
        let found = retrieve_instances(&a, &q);
        assert_eq!(found.len(), se.instances.len());
        assert!(found.iter().all(|i| &i.series_uid == series));
        // Without the study key, or with an empty unique key, the identifier is refused.
        assert!(parse_retrieve(
            Model::StudyRoot,
            &ident(&[
                (tags::QUERY_RETRIEVE_LEVEL, VR::CS, "SERIES"),
                (tags::SERIES_INSTANCE_UID, VR::UI, series),
            ])
        )
        .is_err());
        assert!(parse_retrieve(Model::StudyRoot, &study_level(&[])).is_err());
        let q = parse_retrieve(
            Model::PatientRoot,
            &ident(&[
                (tags::QUERY_RETRIEVE_LEVEL, VR::CS, "PATIENT"),
                (tags::PATIENT_ID, VR::LO, "CTH-0002"),
            ]),
        )
        .unwrap();
        let found = retrieve_instances(&a, &q);
        assert!(!found.is_empty());
        assert!(found
            .iter()
            .all(|i| i.text(tags::PATIENT_ID).as_deref() == Some("CTH-0002")));
    }
}
