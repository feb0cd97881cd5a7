//! The reference's Query/Retrieve SCP (PS3.4 Annex C): C-FIND, C-MOVE and C-GET on the fixture
//! archive, for the Patient Root and Study Root information models (PS3.4 C.6.1, C.6.2).
//!
//! Identifiers are read strictly, with the hierarchical method (PS3.4 C.4.1.3.1.1, C.4.2.2.1):
//! Query/Retrieve Level (0008,0052) must be present and valid for the model (PATIENT only in
//! Patient Root); the unique key of each level above it must be present with a single value; a
//! key of a level below it is refused. Any breach is answered A900 (Identifier does not match SOP
//! Class) with an Error Comment.
//!
//! C-FIND matching (PS3.4 C.2.2.2) reuses the QIDO-RS matcher of [`crate::reference::store::query`]: single
//! value, `*`/`?` wildcards, date/time ranges, UID lists (backslash separated), universal matching
//! for empty keys (and for `*` alone). Computed attributes (Modalities in Study, the Number of
//! ... Related ... counts, SOP Classes in Study, Retrieve AE Title, Instance Availability) are
//! matched and returned like stored ones. A key the SCP cannot match (private, binary, a sequence
//! with items) is matched universally and the responses carry FF01 instead of FF00 (PS3.4
//! C.4.1.1.4). Each response identifier holds exactly the requested keys (empty when the entity
//! has no value), Query/Retrieve Level, and Specific Character Set when the entity has one (PS3.4
//! C.4.1.1.3.2); one pending response per match, then a final 0000 without identifier.
//!
//! C-MOVE and C-GET take the unique key(s) of the retrieve level (a list is allowed there) and of
//! the levels above (single); other keys are ignored. Sub-operations are counted (PS3.4
//! C.4.2.1.6-C.4.2.1.9, C.4.3.1): a pending response after each, then a final 0000 when all completed or
//! B000 when any failed or warned, with the Failed SOP Instance UID List (0008,0058). A move
//! destination outside the AE table gets A801. C-CANCEL is checked between responses and
//! sub-operations and ends the operation with FE00.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use dicom_core::dictionary::{DataDictionary, DataDictionaryEntry};
use dicom_core::value::DataSetSequence;
use dicom_core::{DataElement, PrimitiveValue, Tag, VR};
use dicom_dictionary_std::{tags, uids, StandardDataDictionary};
use dicom_encoding::TransferSyntaxIndex;
use dicom_object::mem::InMemElement;
use dicom_object::InMemDicomObject;
use dicom_transfer_syntax_registry::TransferSyntaxRegistry;

use crate::dimse::command::{field, status, Command};
use crate::dimse::message::{DataSet, DimseError, Outgoing, Received};
use crate::reference::dimse::session::{self, Context, OpStart, Outcome, Session};
use crate::reference::dimse::sub_operations::{self, SubAssociation, SubResult};
use crate::reference::faults::Fault;
use crate::reference::store::archive::{Archive, Instance, Series, Study};
use crate::reference::store::is_valid_uid;
use crate::reference::store::query::{self, MatchKey};
use crate::transport::http::shell_quote;

/// The Query/Retrieve information model of a SOP Class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Model {
    /// Patient Root (PS3.4 C.6.1).
    PatientRoot,
    /// Study Root (PS3.4 C.6.2).
    StudyRoot,
}

impl Model {
    /// `Patient Root` or `Study Root`.
    pub fn name(&self) -> &'static str {
        match self {
            Model::PatientRoot => "Patient Root",
            Model::StudyRoot => "Study Root",
        }
    }

    /// The DCMTK option selecting the model.
    pub fn dcmtk_flag(&self) -> &'static str {
        match self {
            Model::PatientRoot => "-P",
            Model::StudyRoot => "-S",
        }
    }

    /// The levels of the model, from the top.
    pub fn levels(&self) -> &'static [Level] {
        match self {
            Model::PatientRoot => &[Level::Patient, Level::Study, Level::Series, Level::Image],
            Model::StudyRoot => &[Level::Study, Level::Series, Level::Image],
        }
    }
}

/// The DIMSE-C service of a Query/Retrieve SOP Class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// C-FIND.
    Find,
    /// C-MOVE.
    Move,
    /// C-GET.
    Get,
}

impl Service {
    /// The command name.
    pub fn command(&self) -> &'static str {
        match self {
            Service::Find => "C-FIND",
            Service::Move => "C-MOVE",
            Service::Get => "C-GET",
        }
    }
}

/// The model and service of a Query/Retrieve SOP Class UID.
pub fn classify(sop_class: &str) -> Option<(Model, Service)> {
    Some(match sop_class {
        uids::PATIENT_ROOT_QUERY_RETRIEVE_INFORMATION_MODEL_FIND => {
            (Model::PatientRoot, Service::Find)
        }
        uids::PATIENT_ROOT_QUERY_RETRIEVE_INFORMATION_MODEL_MOVE => {
            (Model::PatientRoot, Service::Move)
        }
        uids::PATIENT_ROOT_QUERY_RETRIEVE_INFORMATION_MODEL_GET => {
            (Model::PatientRoot, Service::Get)
        }
        uids::STUDY_ROOT_QUERY_RETRIEVE_INFORMATION_MODEL_FIND => (Model::StudyRoot, Service::Find),
        uids::STUDY_ROOT_QUERY_RETRIEVE_INFORMATION_MODEL_MOVE => (Model::StudyRoot, Service::Move),
        uids::STUDY_ROOT_QUERY_RETRIEVE_INFORMATION_MODEL_GET => (Model::StudyRoot, Service::Get),
        _ => return None,
    })
}

/// A Query/Retrieve Level (0008,0052), top to bottom.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// PATIENT.
    Patient,
    /// STUDY.
    Study,
    /// SERIES.
    Series,
    /// IMAGE.
    Image,
}

impl Level {
    /// Parse a level value.
    pub fn parse(s: &str) -> Option<Level> {
        match s.trim_end_matches(['\0', ' ']).trim_start() {
            "PATIENT" => Some(Level::Patient),
            "STUDY" => Some(Level::Study),
            "SERIES" => Some(Level::Series),
            "IMAGE" => Some(Level::Image),
            _ => None,
        }
    }

    /// The value as written.
    pub fn keyword(&self) -> &'static str {
        match self {
            Level::Patient => "PATIENT",
            Level::Study => "STUDY",
            Level::Series => "SERIES",
            Level::Image => "IMAGE",
        }
    }

    /// The unique key of the level.
    pub fn unique_key(&self) -> Tag {
        match self {
            Level::Patient => tags::PATIENT_ID,
            Level::Study => tags::STUDY_INSTANCE_UID,
            Level::Series => tags::SERIES_INSTANCE_UID,
            Level::Image => tags::SOP_INSTANCE_UID,
        }
    }
}

/// Why an identifier is refused: the status and an Error Comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The status (A900, C000).
    pub status: u16,
    /// The Error Comment (0000,0902), at most 64 characters.
    pub comment: String,
}

fn refuse<T>(comment: impl Into<String>) -> Result<T, Refusal> {
    Err(Refusal {
        status: status::IDENTIFIER_DOES_NOT_MATCH,
        comment: comment.into().chars().take(64).collect(),
    })
}

const PATIENT_KEYS: &[Tag] = &[
    tags::PATIENT_NAME,
    tags::PATIENT_ID,
    tags::ISSUER_OF_PATIENT_ID,
    tags::PATIENT_BIRTH_DATE,
    tags::PATIENT_BIRTH_TIME,
    tags::PATIENT_SEX,
    tags::OTHER_PATIENT_NAMES,
    tags::PATIENT_COMMENTS,
    tags::NUMBER_OF_PATIENT_RELATED_STUDIES,
    tags::NUMBER_OF_PATIENT_RELATED_SERIES,
    tags::NUMBER_OF_PATIENT_RELATED_INSTANCES,
];

const STUDY_KEYS: &[Tag] = &[
    tags::STUDY_DATE,
    tags::STUDY_TIME,
    tags::ACCESSION_NUMBER,
    tags::STUDY_ID,
    tags::STUDY_INSTANCE_UID,
    tags::REFERRING_PHYSICIAN_NAME,
    tags::STUDY_DESCRIPTION,
    tags::MODALITIES_IN_STUDY,
    tags::SOP_CLASSES_IN_STUDY,
    tags::NUMBER_OF_STUDY_RELATED_SERIES,
    tags::NUMBER_OF_STUDY_RELATED_INSTANCES,
    tags::PATIENT_AGE,
    tags::PATIENT_SIZE,
    tags::PATIENT_WEIGHT,
];

const SERIES_KEYS: &[Tag] = &[
    tags::MODALITY,
    tags::SERIES_NUMBER,
    tags::SERIES_INSTANCE_UID,
    tags::SERIES_DESCRIPTION,
    tags::SERIES_DATE,
    tags::SERIES_TIME,
    tags::BODY_PART_EXAMINED,
    tags::NUMBER_OF_SERIES_RELATED_INSTANCES,
    tags::PERFORMED_PROCEDURE_STEP_START_DATE,
    tags::PERFORMED_PROCEDURE_STEP_START_TIME,
];

const IMAGE_KEYS: &[Tag] = &[
    tags::INSTANCE_NUMBER,
    tags::SOP_INSTANCE_UID,
    tags::SOP_CLASS_UID,
    tags::CONTENT_DATE,
    tags::CONTENT_TIME,
    tags::NUMBER_OF_FRAMES,
    tags::ROWS,
    tags::COLUMNS,
];

/// The level an attribute belongs to in `model`, when this SCP knows it (PS3.4 C.6.1.1,
/// C.6.2.1: in Study Root the patient attributes are study attributes).
pub fn attribute_level(model: Model, tag: Tag) -> Option<Level> {
    if PATIENT_KEYS.contains(&tag) {
        return Some(match model {
            Model::PatientRoot => Level::Patient,
            Model::StudyRoot => Level::Study,
        });
    }
    if STUDY_KEYS.contains(&tag) {
        Some(Level::Study)
    } else if SERIES_KEYS.contains(&tag) {
        Some(Level::Series)
    } else if IMAGE_KEYS.contains(&tag) {
        Some(Level::Image)
    } else {
        None
    }
}

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

/// A value as text, multiple values joined with `\`, padding removed.
fn text_of(e: &InMemElement) -> String {
    match e.value() {
        dicom_core::DicomValue::Primitive(p) => p
            .to_str()
            .trim_end_matches(['\0', ' '])
            .trim_start()
            .to_string(),
        _ => String::new(),
    }
}

/// The Query/Retrieve Level of an identifier.
fn level_of(model: Model, obj: &InMemDicomObject) -> Result<Level, Refusal> {
    let Some(e) = obj.get(tags::QUERY_RETRIEVE_LEVEL) else {
        return refuse("Query/Retrieve Level (0008,0052) is missing");
    };
    let v = text_of(e);
    let Some(level) = Level::parse(&v) else {
        return refuse(format!("Query/Retrieve Level `{v}` is not a level"));
    };
    if !model.levels().contains(&level) {
        return refuse(format!(
            "level {v} is not part of the {} model",
            model.name()
        ));
    }
    Ok(level)
}

/// The unique keys of the levels above `level` must be present, each with a single value
/// (PS3.4 C.4.1.3.1.1, C.4.2.2.1); returns their values top-down.
fn higher_unique_keys(
    model: Model,
    level: Level,
    obj: &InMemDicomObject,
) -> Result<Vec<(Level, String)>, Refusal> {
    let mut out = Vec::new();
    for l in model.levels().iter().filter(|l| **l < level) {
        let tag = l.unique_key();
        let v = obj.get(tag).map(text_of).unwrap_or_default();
        if v.is_empty() {
            return refuse(format!(
                "{} level query lacks the {} unique key",
                level.keyword(),
                l.keyword()
            ));
        }
        if v.contains(['\\', '*', '?']) {
            return refuse(format!(
                "the {} unique key must be a single value",
                l.keyword()
            ));
        }
        out.push((*l, v));
    }
    Ok(out)
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
            let mut parsed = query::parse_query(&[(name, value)]).or_else(refuse)?;
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

/// DCMTK `-k` options repeating an identifier.
pub fn dcmtk_keys(obj: &InMemDicomObject) -> String {
    let dict = StandardDataDictionary;
    obj.iter()
        .map(|e| {
            let tag = e.header().tag;
            let name = dict
                .by_tag(tag)
                .map(|d| d.alias().to_string())
                .unwrap_or_else(|| format!("{:04X},{:04X}", tag.group(), tag.element()));
            let v = text_of(e);
            let k = if v.is_empty() {
                name
            } else {
                format!("{name}={v}")
            };
            format!("-k {}", shell_quote(&k))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Decode the identifier of a request.
fn identifier(data: Option<DataSet>, ts_uid: &str) -> Result<InMemDicomObject, Refusal> {
    let Some(data) = data else {
        return refuse("the request carries no identifier");
    };
    let unable = |m: String| Refusal {
        status: status::UNABLE_TO_PROCESS,
        comment: m.chars().take(64).collect(),
    };
    let ts = TransferSyntaxRegistry
        .get(ts_uid)
        .ok_or_else(|| unable(format!("unknown transfer syntax {ts_uid}")))?;
    let bytes = data
        .bytes()
        .map_err(|e| unable(format!("cannot read the identifier: {e}")))?;
    crate::model::dicom_guard::read_dataset(&bytes[..], ts)
        .map_err(|e| unable(format!("cannot parse the identifier: {e}")))
}

fn encode(obj: &InMemDicomObject, ts_uid: &str) -> Result<Vec<u8>, String> {
    let ts = TransferSyntaxRegistry
        .get(ts_uid)
        .ok_or_else(|| format!("unknown transfer syntax {ts_uid}"))?;
    let mut out = Vec::new();
    obj.write_dataset_with_ts(&mut out, ts)
        .map_err(|e| e.to_string())?;
    Ok(out)
}

/// Send a final response with a failure status and Error Comment.
async fn send_refusal(
    s: &mut Session,
    op: &mut OpStart,
    ctx: &Context,
    rq: &Command,
    r: &Refusal,
) -> Result<u16, DimseError> {
    let mut rsp = Command::response_to(rq, r.status, false);
    rsp.error_comment = Some(r.comment.clone());
    s.send(ctx.id, &rsp, Outgoing::None, Vec::new(), Some(op))
        .await?;
    Ok(r.status)
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
    let answers: Result<Vec<(Vec<u8>, session::Summary)>, String> = {
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
) -> Result<sub_operations::Payload, String> {
    let mut bytes = match &p.data {
        sub_operations::PayloadData::Bytes(b) => b.clone(),
        sub_operations::PayloadData::File { path, offset } => {
            let all = std::fs::read(path).map_err(|e| e.to_string())?;
            all.get(*offset as usize..).unwrap_or_default().to_vec()
        }
    };
    if coerce {
        let ts = TransferSyntaxRegistry
            .get(&p.transfer_syntax)
            .ok_or("unknown transfer syntax")?;
        let mut obj =
            InMemDicomObject::read_dataset_with_ts(&bytes[..], ts).map_err(|e| e.to_string())?;
        obj.put(DataElement::new(
            tags::INSTITUTION_NAME,
            VR::LO,
            PrimitiveValue::from("COERCED BY THE ARCHIVE"),
        ));
        bytes.clear();
        obj.write_dataset_with_ts(&mut bytes, ts)
            .map_err(|e| e.to_string())?;
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
        Ok(Err(reason)) => return Ok(SubResult::Failed(reason)),
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
    use super::*;

    fn archive() -> Archive {
        Archive::load(&crate::reference::tests::fixtures_dir()).unwrap()
    }

    fn ident(pairs: &[(Tag, VR, &str)]) -> InMemDicomObject {
        let mut o = InMemDicomObject::new_empty();
        for (t, vr, v) in pairs {
            let value = if v.is_empty() {
                PrimitiveValue::Empty
            } else {
                PrimitiveValue::from(*v)
            };
            o.put(DataElement::new(*t, *vr, value));
        }
        o
    }

    fn study_level(extra: &[(Tag, VR, &str)]) -> InMemDicomObject {
        let mut v = vec![(tags::QUERY_RETRIEVE_LEVEL, VR::CS, "STUDY")];
        v.extend_from_slice(extra);
        ident(&v)
    }

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

    #[test]
    fn dcmtk_keys_repeat_the_identifier() {
        let o = study_level(&[(tags::PATIENT_ID, VR::LO, "CTH-0001")]);
        assert_eq!(
            dcmtk_keys(&o),
            "-k 'QueryRetrieveLevel=STUDY' -k 'PatientID=CTH-0001'"
        );
    }
}
