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
//!
//! This file holds what both share: the information models, the levels and their keys, reading
//! the Query/Retrieve Level and the unique keys above it, and refusing an identifier;
//! [`find`](mod@find) answers C-FIND and [`retrieve`](mod@retrieve) C-MOVE and C-GET.

use dicom_core::dictionary::{DataDictionary, DataDictionaryEntry};
use dicom_core::Tag;
use dicom_dictionary_std::{tags, uids, StandardDataDictionary};
use dicom_encoding::TransferSyntaxIndex;
use dicom_object::mem::InMemElement;
use dicom_object::InMemDicomObject;
use dicom_transfer_syntax_registry::TransferSyntaxRegistry;

use crate::dimse::command::{status, Command};
use crate::dimse::message::{DataSet, DimseError, Outgoing};
use crate::reference::dimse::session::{Context, OpStart, Session};
use crate::transport::http::shell_quote;

/// Why a data set the SCP answers or sends cannot be encoded or prepared.
#[derive(Debug, thiserror::Error)]
pub enum QrError {
    /// A response's transfer syntax is not in the registry.
    #[error("unknown transfer syntax {0}")]
    UnknownTransferSyntax(String),
    /// A sub-operation's transfer syntax is not in the registry.
    #[error("unknown transfer syntax")]
    UnknownPayloadSyntax,
    /// The instance cannot be sent at all.
    #[error("{0}")]
    Plan(#[from] crate::reference::dimse::sub_operations::PlanError),
    /// The stored file cannot be read.
    #[error("{0}")]
    Read(#[from] std::io::Error),
    /// The data set cannot be decoded.
    #[error("{0}")]
    Decode(Box<dicom_object::ReadError>),
    /// The data set cannot be encoded.
    #[error("{0}")]
    Encode(Box<dicom_object::WriteError>),
}

pub mod find;
pub mod retrieve;

pub(crate) use find::find;
pub(crate) use retrieve::retrieve;

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

fn encode(obj: &InMemDicomObject, ts_uid: &str) -> Result<Vec<u8>, QrError> {
    let ts = TransferSyntaxRegistry
        .get(ts_uid)
        .ok_or_else(|| QrError::UnknownTransferSyntax(ts_uid.to_string()))?;
    let mut out = Vec::new();
    obj.write_dataset_with_ts(&mut out, ts)
        .map_err(|e| QrError::Encode(Box::new(e)))?;
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

#[cfg(test)]
mod tests {
    use dicom_core::{DataElement, PrimitiveValue, VR};

    use super::*;
    use crate::reference::store::archive::Archive;

    pub(super) fn archive() -> Archive {
        Archive::load(&crate::reference::tests::fixtures_dir()).unwrap()
    }

    pub(super) fn ident(pairs: &[(Tag, VR, &str)]) -> InMemDicomObject {
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

    pub(super) fn study_level(extra: &[(Tag, VR, &str)]) -> InMemDicomObject {
        let mut v = vec![(tags::QUERY_RETRIEVE_LEVEL, VR::CS, "STUDY")];
        v.extend_from_slice(extra);
        ident(&v)
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
