//! C-FIND (PS3.4 C.4.1): the identifier read into match keys, the archive's entities at the
//! Query/Retrieve Level with their computed attributes, one pending response per match with exactly
//! the requested keys, and the final status.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use dicom_core::dictionary::{DataDictionary, DataDictionaryEntry};
use dicom_core::value::DataSetSequence;
use dicom_core::{DataElement, PrimitiveValue, Tag, VR};
use dicom_dictionary_std::{tags, StandardDataDictionary};
use dicom_object::mem::InMemElement;
use dicom_object::InMemDicomObject;

use super::{
    attribute_level, dcmtk_keys, encode, higher_unique_keys, identifier, level_of, refuse,
    send_refusal, text_of, Level, Model, QrError, Refusal,
};
use crate::dimse::command::{status, Command};
use crate::dimse::message::{DimseError, Outgoing, Received};
use crate::reference::dimse::session::{self, Context, OpStart, Outcome, Session};
use crate::reference::faults::Fault;
use crate::reference::store::archive::{Archive, Instance, Series, Study};
use crate::reference::store::query::{self, MatchKey};

/// Attributes the SCP computes rather than reads from the instances.
fn is_computed(tag: Tag) -> bool {
    [
        tags::NUMBER_OF_PATIENT_RELATED_STUDIES,
        tags::NUMBER_OF_PATIENT_RELATED_SERIES,
        tags::NUMBER_OF_PATIENT_RELATED_INSTANCES,
        tags::NUMBER_OF_STUDY_RELATED_SERIES,
        tags::NUMBER_OF_STUDY_RELATED_INSTANCES,
        tags::NUMBER_OF_SERIES_RELATED_INSTANCES,
        tags::MODALITIES_IN_STUDY,
        tags::SOP_CLASSES_IN_STUDY,
        tags::RETRIEVE_AE_TITLE,
        tags::INSTANCE_AVAILABILITY,
    ]
    .contains(&tag)
}

/// One key of a C-FIND identifier.
#[derive(Debug, Clone)]
pub struct FindKey {
    /// The attribute.
    pub tag: Tag,
    /// Its VR (as sent).
    pub vr: VR,
    /// How it matches; `None` for universal matching.
    pub matcher: Option<MatchKey>,
}

/// A parsed C-FIND identifier.
#[derive(Debug, Clone)]
pub struct FindQuery {
    /// Query/Retrieve Level.
    pub level: Level,
    /// The keys other than Query/Retrieve Level and Specific Character Set, in tag order.
    pub keys: Vec<FindKey>,
    /// True when Specific Character Set was a key.
    pub charset_requested: bool,
    /// True when an optional key could not be matched (responses carry FF01).
    pub unsupported: bool,
}

/// Parse a C-FIND identifier (PS3.4 C.4.1.2.1, C.4.1.3.1.1).
pub fn parse_find(model: Model, obj: &InMemDicomObject) -> Result<FindQuery, Refusal> {
    let level = level_of(model, obj)?;
    higher_unique_keys(model, level, obj)?;
    let mut q = FindQuery {
        level,
        keys: Vec::new(),
        charset_requested: false,
        unsupported: false,
    };
    let dict = StandardDataDictionary;
    for e in obj.iter() {
        let tag = e.header().tag;
        if tag == tags::QUERY_RETRIEVE_LEVEL {
            continue;
        }
        if tag == tags::SPECIFIC_CHARACTER_SET {
            q.charset_requested = true;
            continue;
        }
        if tag.group() == 0x0000 || tag.group() == 0x0002 {
            return refuse(format!(
                "({:04X},{:04X}) cannot be a key",
                tag.group(),
                tag.element()
            ));
        }
        if let Some(l) = attribute_level(model, tag) {
            if l > level {
                let name = dict.by_tag(tag).map(|d| d.alias()).unwrap_or("key");
                return refuse(format!(
                    "{name} is a {} key, below the {} level",
                    l.keyword(),
                    level.keyword()
                ));
            }
        }
        let vr = e.vr();
        let value = text_of(e);
        let unmatchable = matches!(
            vr,
            VR::SQ | VR::OB | VR::OD | VR::OF | VR::OL | VR::OV | VR::OW | VR::UN
        ) || tag.group() % 2 == 1
            || dict.by_tag(tag).is_none();
        let matcher = if unmatchable {
            let has_value = match e.value() {
                dicom_core::DicomValue::Sequence(s) => {
                    s.items().iter().any(|i| i.iter().next().is_some())
                }
                _ => !value.is_empty(),
            };
            q.unsupported |= has_value;
            None
        } else if value.is_empty() || value.chars().all(|c| c == '*') {
            None
        } else {
            let name = format!("{:04X}{:04X}", tag.group(), tag.element());
            let mut parsed =
                query::parse_query(&[(name, value)]).or_else(|e| refuse(e.to_string()))?;
            if parsed.keys.is_empty() {
                None
            } else {
                Some(parsed.keys.remove(0))
            }
        };
        q.keys.push(FindKey { tag, vr, matcher });
    }
    Ok(q)
}

/// One entity of a level, with what its computed attributes need.
struct Entity<'a> {
    rep: Arc<Instance>,
    patient_studies: Vec<&'a Study>,
    study: Option<&'a Study>,
    series: Option<&'a Series>,
}

fn patient_of(study: &Study) -> String {
    study
        .first()
        .and_then(|i| i.text(tags::PATIENT_ID))
        .unwrap_or_default()
}

/// The entities of a level in archive order.
fn entities(archive: &Archive, level: Level) -> Vec<Entity<'_>> {
    let mut patients: BTreeMap<String, Vec<&Study>> = BTreeMap::new();
    let mut patient_order: Vec<String> = Vec::new();
    let studies = archive.sorted_studies();
    for (_, s) in &studies {
        let p = patient_of(s);
        if !patients.contains_key(&p) {
            patient_order.push(p.clone());
        }
        patients.entry(p).or_default().push(s);
    }
    let of = |s: &Study| patients.get(&patient_of(s)).cloned().unwrap_or_default();
    let mut out = Vec::new();
    match level {
        Level::Patient => {
            for p in patient_order {
                let ps = patients.get(&p).cloned().unwrap_or_default();
                if let Some(rep) = ps.first().and_then(|s| s.first()) {
                    out.push(Entity {
                        rep,
                        patient_studies: ps,
                        study: None,
                        series: None,
                    });
                }
            }
        }
        Level::Study => {
            for (_, s) in &studies {
                if let Some(rep) = s.first() {
                    out.push(Entity {
                        rep,
                        patient_studies: of(s),
                        study: Some(s),
                        series: None,
                    });
                }
            }
        }
        Level::Series | Level::Image => {
            for (_, s) in &studies {
                for (_, se) in s.sorted() {
                    if level == Level::Series {
                        if let Some(rep) = se.first() {
                            out.push(Entity {
                                rep,
                                patient_studies: of(s),
                                study: Some(s),
                                series: Some(se),
                            });
                        }
                    } else {
                        for rep in se.sorted() {
                            out.push(Entity {
                                rep,
                                patient_studies: of(s),
                                study: Some(s),
                                series: Some(se),
                            });
                        }
                    }
                }
            }
        }
    }
    out
}

fn distinct(values: impl Iterator<Item = String>) -> String {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for v in values {
        if !v.is_empty() && seen.insert(v.clone()) {
            out.push(v);
        }
    }
    out.join("\\")
}

/// A computed attribute of an entity.
fn computed(e: &Entity<'_>, tag: Tag, ae_title: &str) -> Option<String> {
    let count_series = |ss: &[&Study]| ss.iter().map(|s| s.series.len()).sum::<usize>();
    let count_instances = |ss: &[&Study]| {
        ss.iter()
            .map(|s| {
                s.series
                    .values()
                    .map(|se| se.instances.len())
                    .sum::<usize>()
            })
            .sum::<usize>()
    };
    Some(match tag {
        t if t == tags::NUMBER_OF_PATIENT_RELATED_STUDIES => e.patient_studies.len().to_string(),
        t if t == tags::NUMBER_OF_PATIENT_RELATED_SERIES => {
            count_series(&e.patient_studies).to_string()
        }
        t if t == tags::NUMBER_OF_PATIENT_RELATED_INSTANCES => {
            count_instances(&e.patient_studies).to_string()
        }
        t if t == tags::NUMBER_OF_STUDY_RELATED_SERIES => e.study?.series.len().to_string(),
        t if t == tags::NUMBER_OF_STUDY_RELATED_INSTANCES => {
            count_instances(&[e.study?]).to_string()
        }
        t if t == tags::NUMBER_OF_SERIES_RELATED_INSTANCES => e.series?.instances.len().to_string(),
        t if t == tags::MODALITIES_IN_STUDY => distinct(
            e.study?
                .sorted()
                .into_iter()
                .filter_map(|(_, se)| se.first().and_then(|i| i.text(tags::MODALITY))),
        ),
        t if t == tags::SOP_CLASSES_IN_STUDY => distinct(
            e.study?
                .instances()
                .into_iter()
                .map(|i| i.sop_class.clone()),
        ),
        t if t == tags::RETRIEVE_AE_TITLE => ae_title.to_string(),
        t if t == tags::INSTANCE_AVAILABILITY => "ONLINE".to_string(),
        _ => return None,
    })
}

fn entity_text(e: &Entity<'_>, tag: Tag, ae_title: &str) -> Option<String> {
    if is_computed(tag) {
        computed(e, tag, ae_title)
    } else {
        e.rep.text(tag)
    }
}

fn dictionary_vr(tag: Tag) -> VR {
    StandardDataDictionary
        .by_tag(tag)
        .map(|d| d.vr().relaxed())
        .unwrap_or(VR::UN)
}

/// The response element of a key for an entity: its value, or empty.
fn response_element(e: &Entity<'_>, key: &FindKey, ae_title: &str) -> InMemElement {
    if key.vr == VR::SQ {
        return DataElement::new(
            key.tag,
            VR::SQ,
            DataSetSequence::<InMemDicomObject>::empty(),
        );
    }
    if is_computed(key.tag) {
        let v = computed(e, key.tag, ae_title).unwrap_or_default();
        return DataElement::new(key.tag, dictionary_vr(key.tag), PrimitiveValue::from(v));
    }
    match e.rep.attributes.get(key.tag) {
        Some(el) => el.clone(),
        None => DataElement::new(key.tag, key.vr, PrimitiveValue::Empty),
    }
}

/// The response identifiers of a C-FIND, one per matching entity (PS3.4 C.4.1.1.3.2). With
/// `extra_keys` (the `dimse-find-extra-keys` fault) each carries one attribute that was not
/// asked for.
pub fn find_matches(
    archive: &Archive,
    q: &FindQuery,
    ae_title: &str,
    extra_keys: bool,
    ignore: bool,
) -> Vec<InMemDicomObject> {
    let mut out = Vec::new();
    for e in entities(archive, q.level) {
        let matched = ignore
            || q.keys.iter().all(|k| match &k.matcher {
                None => true,
                Some(m) => m.matches(entity_text(&e, k.tag, ae_title).as_deref()),
            });
        if !matched {
            continue;
        }
        let mut obj = InMemDicomObject::new_empty();
        match e.rep.attributes.get(tags::SPECIFIC_CHARACTER_SET) {
            Some(cs) => {
                obj.put(cs.clone());
            }
            None if q.charset_requested => {
                obj.put(DataElement::new(
                    tags::SPECIFIC_CHARACTER_SET,
                    VR::CS,
                    PrimitiveValue::Empty,
                ));
            }
            None => {}
        }
        obj.put(DataElement::new(
            tags::QUERY_RETRIEVE_LEVEL,
            VR::CS,
            PrimitiveValue::from(q.level.keyword()),
        ));
        for k in &q.keys {
            obj.put(response_element(&e, k, ae_title));
        }
        if extra_keys {
            if let Some(extra) = e.rep.attributes.iter().find(|el| {
                let t = el.header().tag;
                obj.get(t).is_none() && t.group() != 0x0002
            }) {
                obj.put(extra.clone());
            }
        }
        out.push(obj);
    }
    out
}

/// C-FIND SCP (PS3.4 C.4.1.3).
pub(crate) async fn find(
    s: &mut Session,
    op: &mut OpStart,
    rx: Received,
    ctx: &Context,
    model: Model,
    message_id: u16,
) -> Result<Outcome, DimseError> {
    let rq = rx.command.clone();
    let (ends, hostport) = s.dcmtk_ends();
    let obj = identifier(rx.data, &ctx.transfer_syntax);
    let keys = obj.as_ref().map(dcmtk_keys).unwrap_or_default();
    let dcmtk = format!("findscu {} {ends} {keys} {hostport}", model.dcmtk_flag());
    if let Ok(o) = &obj {
        s.annotate_received(session::summary_of(o));
    }
    let q = match obj.and_then(|o| parse_find(model, &o)) {
        Ok(q) => q,
        Err(r) => {
            let st = send_refusal(s, op, ctx, &rq, &r).await?;
            return Ok(Outcome {
                status: Some(st),
                dcmtk,
            });
        }
    };
    let answers: Result<Vec<(Vec<u8>, session::Summary)>, QrError> = {
        let archive = s.state.archive();
        let mut found = find_matches(
            &archive,
            &q,
            &s.config.ae_title,
            s.state.has(Fault::DimseFindExtraKeys),
            s.state.has(Fault::DimseFindIgnoresMatching),
        );
        if s.state.has(Fault::DimseFindWrongLevel) {
            let other = match q.level {
                Level::Patient | Level::Series => Level::Study,
                Level::Study | Level::Image => Level::Series,
            };
            for o in &mut found {
                o.put(DataElement::new(
                    tags::QUERY_RETRIEVE_LEVEL,
                    VR::CS,
                    PrimitiveValue::from(other.keyword()),
                ));
            }
        }
        if s.state.has(Fault::DimseFindWrongStudy) && q.level >= Level::Series {
            for o in &mut found {
                let own = o
                    .get(tags::STUDY_INSTANCE_UID)
                    .map(text_of)
                    .unwrap_or_default();
                let other = archive
                    .sorted_studies()
                    .into_iter()
                    .find(|(u, _)| **u != own);
                if let (false, Some((uid, _))) = (own.is_empty(), other) {
                    o.put(DataElement::new(
                        tags::STUDY_INSTANCE_UID,
                        VR::UI,
                        PrimitiveValue::from(uid.as_str()),
                    ));
                }
            }
        }
        if s.state.has(Fault::DimseFindWrongValues) {
            for o in &mut found {
                if o.get(tags::STUDY_DATE)
                    .is_some_and(|e| !text_of(e).is_empty())
                {
                    o.put(DataElement::new(
                        tags::STUDY_DATE,
                        VR::DA,
                        PrimitiveValue::from("19991231"),
                    ));
                }
                for tag in [tags::SERIES_NUMBER, tags::INSTANCE_NUMBER] {
                    let shifted = o
                        .get(tag)
                        .and_then(|e| text_of(e).trim().parse::<i64>().ok())
                        .map(|n| (n + 100).to_string());
                    if let Some(v) = shifted {
                        o.put(DataElement::new(tag, VR::IS, PrimitiveValue::from(v)));
                    }
                }
            }
        }
        if s.state.has(Fault::DimseFindDuplicateMatches) {
            found = found.into_iter().flat_map(|o| [o.clone(), o]).collect();
        }
        found
            .iter()
            .map(|o| encode(o, &ctx.transfer_syntax).map(|b| (b, session::summary_of(o))))
            .collect()
    };
    let answers = match answers {
        Ok(a) => a,
        Err(e) => {
            let r = Refusal {
                status: status::UNABLE_TO_PROCESS,
                comment: format!("cannot encode a response: {e}")
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
    };
    let pending = if q.unsupported {
        status::PENDING_WARNING
    } else {
        status::PENDING
    };
    for (bytes, summary) in &answers {
        if s.cancel_requested(message_id).await? {
            return final_status(s, op, ctx, &rq, status::CANCEL, dcmtk).await;
        }
        let rsp = Command::response_to(&rq, pending, true);
        s.send(
            ctx.id,
            &rsp,
            Outgoing::Bytes(bytes),
            summary.clone(),
            Some(op),
        )
        .await?;
    }
    if s.cancel_requested(message_id).await? {
        return final_status(s, op, ctx, &rq, status::CANCEL, dcmtk).await;
    }
    if s.state.has(Fault::DimseFindNoFinal) {
        // The matches are sent, then the SCP asks to release instead of the final response.
        s.request_release().await;
        return Ok(Outcome {
            status: None,
            dcmtk,
        });
    }
    final_status(s, op, ctx, &rq, status::SUCCESS, dcmtk).await
}

async fn final_status(
    s: &mut Session,
    op: &mut OpStart,
    ctx: &Context,
    rq: &Command,
    st: u16,
    dcmtk: String,
) -> Result<Outcome, DimseError> {
    let rsp = Command::response_to(rq, st, false);
    s.send(ctx.id, &rsp, Outgoing::None, Vec::new(), Some(op))
        .await?;
    Ok(Outcome {
        status: Some(st),
        dcmtk,
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::*;
    use super::*;

    #[test]
    fn levels_and_hierarchy_are_checked() {
        let r = parse_find(Model::StudyRoot, &ident(&[(tags::PATIENT_ID, VR::LO, "X")]));
        assert_eq!(r.unwrap_err().status, status::IDENTIFIER_DOES_NOT_MATCH);
        let patient = ident(&[(tags::QUERY_RETRIEVE_LEVEL, VR::CS, "PATIENT")]);
        assert!(parse_find(Model::StudyRoot, &patient).is_err());
        assert!(parse_find(Model::PatientRoot, &patient).is_ok());
        let series = ident(&[(tags::QUERY_RETRIEVE_LEVEL, VR::CS, "SERIES")]);
        assert!(parse_find(Model::StudyRoot, &series).is_err());
        let series = ident(&[
            (tags::QUERY_RETRIEVE_LEVEL, VR::CS, "SERIES"),
            (tags::STUDY_INSTANCE_UID, VR::UI, "1.2.3\\1.2.4"),
        ]);
        assert!(parse_find(Model::StudyRoot, &series).is_err());
        // A series key at the study level is refused.
        let low = study_level(&[(tags::MODALITY, VR::CS, "")]);
        assert!(parse_find(Model::StudyRoot, &low).is_err());
        // In Patient Root, a study level query needs the Patient ID.
        assert!(parse_find(Model::PatientRoot, &study_level(&[])).is_err());
        assert!(parse_find(
            Model::PatientRoot,
            &study_level(&[(tags::PATIENT_ID, VR::LO, "CTH-0001")])
        )
        .is_ok());
    }

    #[test]
    fn study_level_matching_and_identifiers() {
        let a = archive();
        let q = parse_find(
            Model::StudyRoot,
            &study_level(&[
                (tags::PATIENT_ID, VR::LO, "CTH-0001"),
                (tags::STUDY_INSTANCE_UID, VR::UI, ""),
            ]),
        )
        .unwrap();
        let found = find_matches(&a, &q, "AE", false, false);
        assert_eq!(found.len(), 2);
        for o in &found {
            let tags_found: Vec<Tag> = o.iter().map(|e| e.header().tag).collect();
            let mut expected = vec![
                tags::QUERY_RETRIEVE_LEVEL,
                tags::PATIENT_ID,
                tags::STUDY_INSTANCE_UID,
            ];
            if o.get(tags::SPECIFIC_CHARACTER_SET).is_some() {
                expected.insert(0, tags::SPECIFIC_CHARACTER_SET);
            }
            assert_eq!(tags_found, expected);
            assert_eq!(text_of(o.get(tags::PATIENT_ID).unwrap()), "CTH-0001");
            assert!(!text_of(o.get(tags::STUDY_INSTANCE_UID).unwrap()).is_empty());
        }
        let extra = find_matches(&a, &q, "AE", true, false);
        assert!(extra
            .iter()
            .all(|o| o.iter().count() > found[0].iter().count()));
    }

    #[test]
    fn wildcards_ranges_lists_and_computed_keys() {
        let a = archive();
        let count = |extra: &[(Tag, VR, &str)]| {
            let q = parse_find(Model::StudyRoot, &study_level(extra)).unwrap();
            find_matches(&a, &q, "AE", false, false).len()
        };
        let all = count(&[]);
        assert!(all >= 4);
        assert_eq!(count(&[(tags::PATIENT_ID, VR::LO, "CTH*")]), all);
        assert_eq!(count(&[(tags::PATIENT_ID, VR::LO, "CTH-000?")]), all);
        assert_eq!(count(&[(tags::PATIENT_ID, VR::LO, "*")]), all);
        assert_eq!(count(&[(tags::PATIENT_ID, VR::LO, "NOBODY")]), 0);
        assert_eq!(
            count(&[(tags::STUDY_DATE, VR::DA, "19000101-21001231")]),
            all
        );
        assert_eq!(count(&[(tags::STUDY_DATE, VR::DA, "-19000101")]), 0);
        assert_eq!(count(&[(tags::MODALITIES_IN_STUDY, VR::CS, "MR")]), 1);
        let uids: Vec<String> = a.studies.keys().take(2).cloned().collect();
        assert_eq!(
            count(&[(tags::STUDY_INSTANCE_UID, VR::UI, &uids.join("\\"))]),
            2
        );
        let q = parse_find(
            Model::StudyRoot,
            &study_level(&[
                (tags::MODALITIES_IN_STUDY, VR::CS, "MR"),
                (tags::NUMBER_OF_STUDY_RELATED_INSTANCES, VR::IS, ""),
            ]),
        )
        .unwrap();
        let found = find_matches(&a, &q, "AE", false, false);
        let n = text_of(
            found[0]
                .get(tags::NUMBER_OF_STUDY_RELATED_INSTANCES)
                .unwrap(),
        );
        assert_eq!(n, "33");
        assert!(text_of(found[0].get(tags::MODALITIES_IN_STUDY).unwrap()).contains("MR\\"));
        // A malformed value is refused; a private key is matched universally with FF01.
        assert!(parse_find(
            Model::StudyRoot,
            &study_level(&[(tags::STUDY_DATE, VR::DA, "2026")])
        )
        .is_err());
        let q = parse_find(
            Model::StudyRoot,
            &study_level(&[(Tag(0x0009, 0x0010), VR::LO, "X")]),
        )
        .unwrap();
        assert!(q.unsupported);
        assert_eq!(find_matches(&a, &q, "AE", false, false).len(), all);
    }

    #[test]
    fn patient_level_groups_studies() {
        let a = archive();
        let q = parse_find(
            Model::PatientRoot,
            &ident(&[
                (tags::QUERY_RETRIEVE_LEVEL, VR::CS, "PATIENT"),
                (tags::PATIENT_ID, VR::LO, ""),
                (tags::NUMBER_OF_PATIENT_RELATED_STUDIES, VR::IS, ""),
            ]),
        )
        .unwrap();
        let found = find_matches(&a, &q, "AE", false, false);
        assert_eq!(found.len(), 2);
        assert_eq!(
            text_of(
                found[0]
                    .get(tags::NUMBER_OF_PATIENT_RELATED_STUDIES)
                    .unwrap()
            ),
            "2"
        );
    }

    #[test]
    fn image_level_needs_the_higher_unique_keys() {
        let a = archive();
        let (study, s) = a.sorted_studies().into_iter().next().unwrap();
        let (series, se) = s.sorted().into_iter().next().unwrap();
        let q = parse_find(
            Model::StudyRoot,
            &ident(&[
                (tags::QUERY_RETRIEVE_LEVEL, VR::CS, "IMAGE"),
                (tags::STUDY_INSTANCE_UID, VR::UI, study),
                (tags::SERIES_INSTANCE_UID, VR::UI, series),
                (tags::SOP_INSTANCE_UID, VR::UI, ""),
                (tags::INSTANCE_NUMBER, VR::IS, ""),
            ]),
        )
        .unwrap();
        assert_eq!(
            find_matches(&a, &q, "AE", false, false).len(),
            se.instances.len()
        );
    }
}
