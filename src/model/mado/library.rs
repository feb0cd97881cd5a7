//! Reading the TID 1600 Image Library of a parsed KOS: per series its modality, number and
//! description, per instance its number (MADO Rev 1.1 Tables 6.X.2.9-1 to -3).

use crate::model::kos::{
    ContentItem, Manifest, DCM, IMAGE_LIBRARY, IMAGE_LIBRARY_GROUP, MODALITY_CONCEPT,
    SERIES_INSTANCE_UID_CONCEPT, TARGET_REGION,
};

/// One referenced instance, with what the library says of it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LibraryInstance {
    /// SOP Class UID.
    pub sop_class: String,
    /// SOP Instance UID.
    pub sop_instance: String,
    /// Instance Number from the library entry, when given.
    pub number: Option<i64>,
}

/// One referenced series: evidence sequence plus Image Library Group.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LibrarySeries {
    /// Series Instance UID.
    pub uid: String,
    /// Modality of the library group.
    pub modality: Option<String>,
    /// Series Number of the library group.
    pub number: Option<i64>,
    /// Series Description of the library group.
    pub description: Option<String>,
    /// Retrieve Location UID of the evidence item.
    pub retrieve_location_uid: Option<String>,
    /// Retrieve URL of the evidence item.
    pub retrieve_url: Option<String>,
    /// Instances, in evidence order.
    pub instances: Vec<LibraryInstance>,
}

fn library(m: &Manifest) -> Option<&ContentItem> {
    m.content
        .iter()
        .find(|i| i.value_type.as_deref() == Some("CONTAINER") && i.concept_is(IMAGE_LIBRARY, DCM))
}

/// Study-level (modality codes, target region codes) of the Image Library.
pub fn library_codes(m: &Manifest) -> (Vec<String>, Vec<(String, String, String)>) {
    let mut modalities = Vec::new();
    let mut regions = Vec::new();
    if let Some(lib) = library(m) {
        for c in &lib.children {
            if let Some(code) = &c.code {
                if c.concept_is(MODALITY_CONCEPT, DCM) {
                    modalities.push(code.value.clone());
                } else if c.concept_is(TARGET_REGION, DCM) {
                    regions.push((
                        code.value.clone(),
                        code.scheme.clone(),
                        code.meaning.clone(),
                    ));
                }
            }
        }
    }
    (modalities, regions)
}

fn group_of<'a>(lib: Option<&'a ContentItem>, series: &str) -> Option<&'a ContentItem> {
    lib?.children.iter().find(|g| {
        g.concept_is(IMAGE_LIBRARY_GROUP, DCM)
            && g.children.iter().any(|c| {
                c.concept_is(SERIES_INSTANCE_UID_CONCEPT, DCM) && c.value.as_deref() == Some(series)
            })
    })
}

fn instance_number(items: &[ContentItem]) -> Option<i64> {
    items
        .iter()
        .find(|c| c.concept_is("113609", DCM))
        .and_then(|c| c.value.as_deref())
        .and_then(|v| v.trim().parse().ok())
}

/// The series of the evidence sequence with what the Image Library says of them. Instance
/// numbers are read from the entry's own children (TID 1601) or, as the MADO IG examples write
/// them, from the Instance Number item just before the entry.
pub fn library_series(m: &Manifest) -> Vec<LibrarySeries> {
    let lib = library(m);
    let mut out: Vec<LibrarySeries> = Vec::new();
    for r in &m.evidence {
        let idx = match out.iter().position(|s| s.uid == r.series_uid) {
            Some(i) => i,
            None => {
                let group = group_of(lib, &r.series_uid);
                let children = group.map(|g| g.children.as_slice()).unwrap_or(&[]);
                out.push(LibrarySeries {
                    uid: r.series_uid.clone(),
                    modality: children
                        .iter()
                        .find(|c| c.concept_is(MODALITY_CONCEPT, DCM))
                        .and_then(|c| c.code.as_ref())
                        .map(|c| c.value.clone()),
                    number: children
                        .iter()
                        .find(|c| c.concept_is("113607", DCM))
                        .and_then(|c| c.value.as_deref())
                        .and_then(|v| v.trim().parse().ok()),
                    description: children
                        .iter()
                        .find(|c| {
                            c.concept_name
                                .as_ref()
                                .is_some_and(|n| n.meaning == "Series Description")
                        })
                        .and_then(|c| c.value.clone()),
                    retrieve_location_uid: r.retrieve_location_uid.clone(),
                    retrieve_url: r.retrieve_url.clone(),
                    instances: Vec::new(),
                });
                out.len() - 1
            }
        };
        let number = group_of(lib, &r.series_uid).and_then(|g| {
            let pos = g.children.iter().position(|c| {
                c.references
                    .iter()
                    .any(|s| s.sop_instance == r.sop_instance)
            })?;
            let entry = g.children.get(pos)?;
            instance_number(&entry.children).or_else(|| {
                pos.checked_sub(1)
                    .and_then(|p| g.children.get(p))
                    .and_then(|prev| instance_number(std::slice::from_ref(prev)))
            })
        });
        if let Some(s) = out.get_mut(idx) {
            s.instances.push(LibraryInstance {
                sop_class: r.sop_class.clone(),
                sop_instance: r.sop_instance.clone(),
                number,
            });
        }
    }
    out
}
