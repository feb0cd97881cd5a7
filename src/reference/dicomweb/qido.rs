//! QIDO-RS search (PS3.18 10.6; IHE RAD-129) for studies, series and instances.
//!
//! Resources (10.6.1): `/studies`, `/series`, `/instances`, `/studies/{study}/series`,
//! `/studies/{study}/instances` and `/studies/{study}/series/{series}/instances`. Results are an
//! `application/dicom+json` array (10.6.3.2; an empty array for no match) ordered by Study Date, then
//! Study Instance UID, Series Number and Instance Number, so that paging is deterministic; no
//! result at all is 204 with an empty payload (§8.3.4.4.1, Table 10.6.3-1). Each result
//! holds the attributes of Tables 10.6.3-3 (study), 10.6.3-4 (series) and 10.6.3-5 (instance) -- with
//! the study's when the search spans studies and the series' when an instance search spans series
//! (10.6.3.3.2/10.6.3.3.3) -- plus the matching keys of its level, the `includefield` attributes, and
//! with `includefield=all` every attribute of the level that is known. Required attributes without a value are sent empty (type 2). Matching keys of a lower
//! level (e.g. `Modality` in a study search) match relationally: an entity matches when one of its
//! instances does. `fuzzymatching=true` is answered with a `Warning: 299` header, as fuzzy matching is
//! not supported. Nothing is ever truncated silently: there is no server-side result cap, and a page
//! after which matches remain (cut by `limit`) carries `Warning: 299 <host> "There are <remaining>
//! additional results that can be requested"` (§8.3.4.4.1).

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use dicom_core::dictionary::{DataDictionary, DataDictionaryEntry};
use dicom_core::header::Header;
use dicom_core::{DataElement, PrimitiveValue, Tag, VR};
use dicom_dictionary_std::{tags, StandardDataDictionary};
use dicom_object::InMemDicomObject;
use serde_json::Value;

use crate::reference::dicomweb::json;
use crate::reference::dicomweb::negotiate;
use crate::reference::dicomweb::web::{
    acceptable, base_url, check_uids, problem, query_pairs, request_host,
};
use crate::reference::faults::Fault;
use crate::reference::state::Shared;
use crate::reference::store::archive::{Archive, Instance, Series, Study};
use crate::reference::store::query::{parse_query, MatchKey, Query};

/// Attributes every study result carries (Table 10.6.3-3, plus Specific Character Set and the
/// conditional Retrieve URL and Instance Availability).
pub const STUDY_REQUIRED: &[Tag] = &[
    tags::SPECIFIC_CHARACTER_SET,
    tags::STUDY_DATE,
    tags::STUDY_TIME,
    tags::ACCESSION_NUMBER,
    tags::INSTANCE_AVAILABILITY,
    tags::MODALITIES_IN_STUDY,
    tags::REFERRING_PHYSICIAN_NAME,
    tags::RETRIEVE_URL,
    tags::PATIENT_NAME,
    tags::PATIENT_ID,
    tags::PATIENT_BIRTH_DATE,
    tags::PATIENT_SEX,
    tags::STUDY_INSTANCE_UID,
    tags::STUDY_ID,
    tags::NUMBER_OF_STUDY_RELATED_SERIES,
    tags::NUMBER_OF_STUDY_RELATED_INSTANCES,
];

/// Further patient and study attributes returned with `includefield=all`, when known.
pub const STUDY_OPTIONAL: &[Tag] = &[
    tags::STUDY_DESCRIPTION,
    tags::TIMEZONE_OFFSET_FROM_UTC,
    tags::NAME_OF_PHYSICIANS_READING_STUDY,
    tags::PHYSICIANS_OF_RECORD,
    tags::ADMITTING_DIAGNOSES_DESCRIPTION,
    tags::ISSUER_OF_PATIENT_ID,
    tags::OTHER_PATIENT_NAMES,
    tags::PATIENT_BIRTH_TIME,
    tags::PATIENT_AGE,
    tags::PATIENT_SIZE,
    tags::PATIENT_WEIGHT,
    tags::PATIENT_COMMENTS,
    tags::OCCUPATION,
    tags::ADDITIONAL_PATIENT_HISTORY,
];

/// Attributes every series result carries (Table 10.6.3-4).
pub const SERIES_REQUIRED: &[Tag] = &[
    tags::SPECIFIC_CHARACTER_SET,
    tags::INSTANCE_AVAILABILITY,
    tags::MODALITY,
    tags::SERIES_DESCRIPTION,
    tags::RETRIEVE_URL,
    tags::STUDY_INSTANCE_UID,
    tags::SERIES_INSTANCE_UID,
    tags::SERIES_NUMBER,
    tags::NUMBER_OF_SERIES_RELATED_INSTANCES,
];

/// Further series attributes returned with `includefield=all`, when known.
pub const SERIES_OPTIONAL: &[Tag] = &[
    tags::SERIES_DATE,
    tags::SERIES_TIME,
    tags::PERFORMED_PROCEDURE_STEP_START_DATE,
    tags::PERFORMED_PROCEDURE_STEP_START_TIME,
    tags::BODY_PART_EXAMINED,
    tags::PROTOCOL_NAME,
    tags::LATERALITY,
    tags::OPERATORS_NAME,
    tags::PERFORMING_PHYSICIAN_NAME,
    tags::MANUFACTURER,
    tags::INSTITUTION_NAME,
    tags::STATION_NAME,
    tags::MANUFACTURER_MODEL_NAME,
    tags::FRAME_OF_REFERENCE_UID,
];

/// Attributes every instance result carries (Table 10.6.3-5); Number of Frames only when known.
pub const INSTANCE_REQUIRED: &[Tag] = &[
    tags::SPECIFIC_CHARACTER_SET,
    tags::SOP_CLASS_UID,
    tags::SOP_INSTANCE_UID,
    tags::INSTANCE_AVAILABILITY,
    tags::RETRIEVE_URL,
    tags::STUDY_INSTANCE_UID,
    tags::SERIES_INSTANCE_UID,
    tags::INSTANCE_NUMBER,
];

/// Image attributes of instance results, sent when the instance has them.
const INSTANCE_CONDITIONAL: &[Tag] = &[
    tags::ROWS,
    tags::COLUMNS,
    tags::BITS_ALLOCATED,
    tags::NUMBER_OF_FRAMES,
];

/// The level searched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Studies.
    Study,
    /// Series.
    Series,
    /// Instances.
    Instance,
}

/// Where the search looks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every study.
    All,
    /// One study.
    Study(String),
    /// One series of one study.
    Series(String, String),
}

fn study_level(tag: Tag) -> bool {
    STUDY_REQUIRED.contains(&tag) || STUDY_OPTIONAL.contains(&tag)
}

fn series_level(tag: Tag) -> bool {
    SERIES_REQUIRED.contains(&tag) || SERIES_OPTIONAL.contains(&tag)
}

fn element(tag: Tag, vr: VR, value: PrimitiveValue) -> dicom_object::mem::InMemElement {
    DataElement::new(tag, vr, value)
}

fn dictionary_vr(tag: Tag) -> VR {
    StandardDataDictionary
        .by_tag(tag)
        .map(|e| e.vr().relaxed())
        .unwrap_or(VR::UN)
}

/// Values computed by the archive rather than read from an instance.
#[derive(Debug)]
struct Computed(InMemDicomObject);

impl Default for Computed {
    fn default() -> Self {
        Computed(InMemDicomObject::new_empty())
    }
}

impl Computed {
    fn put_str(&mut self, tag: Tag, vr: VR, v: &str) {
        self.0.put(element(tag, vr, PrimitiveValue::from(v)));
    }

    fn put_strs(&mut self, tag: Tag, vr: VR, v: Vec<String>) {
        self.0.put(element(
            tag,
            vr,
            PrimitiveValue::Strs(v.into_iter().collect()),
        ));
    }

    fn put_count(&mut self, tag: Tag, n: usize) {
        let n = i32::try_from(n).unwrap_or(i32::MAX);
        self.0.put(element(tag, VR::IS, PrimitiveValue::from(n)));
    }

    fn text(&self, tag: Tag) -> Option<String> {
        self.0
            .get(tag)
            .and_then(|e| e.to_str().ok())
            .map(|s| s.into_owned())
    }

    fn has(&self, tag: Tag) -> bool {
        self.0.get(tag).is_some()
    }
}

fn study_computed(base: &str, uid: &str, study: &Study) -> Computed {
    let mut c = Computed::default();
    let modalities: BTreeSet<String> = study
        .series
        .values()
        .filter_map(|s| s.first().and_then(|i| i.text(tags::MODALITY)))
        .filter(|m| !m.is_empty())
        .collect();
    c.put_strs(
        tags::MODALITIES_IN_STUDY,
        VR::CS,
        modalities.into_iter().collect(),
    );
    c.put_count(tags::NUMBER_OF_STUDY_RELATED_SERIES, study.series.len());
    c.put_count(
        tags::NUMBER_OF_STUDY_RELATED_INSTANCES,
        study.series.values().map(|s| s.instances.len()).sum(),
    );
    c.put_str(tags::RETRIEVE_URL, VR::UR, &format!("{base}/studies/{uid}"));
    c.put_str(tags::INSTANCE_AVAILABILITY, VR::CS, "ONLINE");
    c
}

fn series_computed(base: &str, study_uid: &str, uid: &str, series: &Series) -> Computed {
    let mut c = Computed::default();
    c.put_count(
        tags::NUMBER_OF_SERIES_RELATED_INSTANCES,
        series.instances.len(),
    );
    c.put_str(
        tags::RETRIEVE_URL,
        VR::UR,
        &format!("{base}/studies/{study_uid}/series/{uid}"),
    );
    c.put_str(tags::INSTANCE_AVAILABILITY, VR::CS, "ONLINE");
    c
}

fn instance_computed(base: &str, inst: &Instance) -> Computed {
    let mut c = Computed::default();
    c.put_str(
        tags::RETRIEVE_URL,
        VR::UR,
        &crate::reference::dicomweb::metadata::instance_url(base, inst),
    );
    c.put_str(tags::INSTANCE_AVAILABILITY, VR::CS, "ONLINE");
    c
}

/// One candidate result: the computed values of its levels, its instances and a representative.
struct Candidate {
    /// Computed values, lowest level first (they shadow higher levels' Retrieve URL).
    computed: Vec<Arc<Computed>>,
    instances: Vec<Arc<Instance>>,
    level: Level,
    /// Study attributes are returned (study searches, and searches across studies).
    with_study: bool,
    /// Series attributes are returned (series searches, and instance searches beyond one series).
    with_series: bool,
}

impl Candidate {
    fn computed_text(&self, tag: Tag) -> Option<Option<String>> {
        self.computed
            .iter()
            .find(|c| c.has(tag))
            .map(|c| c.text(tag))
    }

    fn matches(&self, key: &MatchKey) -> bool {
        match self.computed_text(key.tag) {
            Some(v) => key.matches(v.as_deref()),
            None => self
                .instances
                .iter()
                .any(|i| key.matches(i.text(key.tag).as_deref())),
        }
    }

    /// The attributes of this result.
    fn result(&self, q: &Query, faults: &BTreeSet<Fault>) -> InMemDicomObject {
        let mut wanted: BTreeSet<Tag> = BTreeSet::new();
        let (with_study, with_series) = (self.with_study, self.with_series);
        let in_level = |t: Tag| match self.level {
            Level::Study => study_level(t),
            Level::Series => series_level(t) || (with_study && study_level(t)),
            Level::Instance => true,
        };
        // includefield names attributes of this level (or above, across studies); others are ignored.
        let mut optional: BTreeSet<Tag> =
            q.include.iter().copied().filter(|t| in_level(*t)).collect();
        if with_study {
            wanted.extend(STUDY_REQUIRED);
            if q.include_all {
                optional.extend(STUDY_OPTIONAL);
            }
        }
        if with_series {
            wanted.extend(SERIES_REQUIRED);
            if q.include_all {
                optional.extend(SERIES_OPTIONAL);
            }
        }
        if self.level == Level::Instance {
            wanted.extend(INSTANCE_REQUIRED);
            optional.extend(INSTANCE_CONDITIONAL);
        }
        wanted.extend(q.keys.iter().map(|k| k.tag).filter(|t| in_level(*t)));
        let first = self.instances.first();
        if self.level == Level::Instance && q.include_all {
            if let Some(i) = first {
                optional.extend(i.attributes.iter().map(|e| e.tag()));
            }
        }
        let mut out = InMemDicomObject::new_empty();
        for tag in wanted.iter().chain(optional.iter()) {
            if out.get(*tag).is_some() {
                continue;
            }
            let computed = self.computed.iter().find_map(|c| c.0.get(*tag).cloned());
            let stored = || first.and_then(|i| i.attributes.get(*tag).cloned());
            match computed.or_else(stored) {
                Some(e) => {
                    out.put(e);
                }
                None if wanted.contains(tag) => {
                    out.put(DataElement::empty(*tag, dictionary_vr(*tag)));
                }
                None => {}
            }
        }
        if self.level == Level::Study && faults.contains(&Fault::QidoMissingRequired) {
            out.remove_element(tags::PATIENT_BIRTH_DATE);
            out.remove_element(tags::NUMBER_OF_STUDY_RELATED_INSTANCES);
        }
        if self.level == Level::Study && faults.contains(&Fault::QidoWrongCounts) {
            let held = out
                .get(tags::NUMBER_OF_STUDY_RELATED_INSTANCES)
                .and_then(|e| e.to_int::<u32>().ok());
            if let Some(n) = held.filter(|n| *n > 0) {
                out.put(DataElement::new(
                    tags::NUMBER_OF_STUDY_RELATED_INSTANCES,
                    VR::IS,
                    (n - 1).to_string(),
                ));
            }
        }
        out
    }
}

fn candidates(archive: &Archive, level: Level, scope: &Scope, base: &str) -> Vec<Candidate> {
    let mut out = Vec::new();
    let scope_study = match scope {
        Scope::All => None,
        Scope::Study(s) | Scope::Series(s, _) => Some(s.as_str()),
    };
    let scope_all = *scope == Scope::All;
    for (study_uid, study) in archive.sorted_studies() {
        if scope_study.is_some_and(|s| s != study_uid) {
            continue;
        }
        // Computed once per study and per series, shared by their results.
        let study_c = Arc::new(study_computed(base, study_uid, study));
        if level == Level::Study {
            out.push(Candidate {
                computed: vec![study_c],
                instances: study.instances(),
                level,
                with_study: true,
                with_series: false,
            });
            continue;
        }
        for (series_uid, series) in study.sorted() {
            if let Scope::Series(_, se) = scope {
                if se != series_uid {
                    continue;
                }
            }
            let series_c = Arc::new(series_computed(base, study_uid, series_uid, series));
            if level == Level::Series {
                let mut computed = vec![series_c];
                if scope_all {
                    computed.push(study_c.clone());
                }
                out.push(Candidate {
                    computed,
                    instances: series.sorted(),
                    level,
                    with_study: scope_all,
                    with_series: true,
                });
                continue;
            }
            for inst in series.sorted() {
                let mut computed = vec![Arc::new(instance_computed(base, &inst))];
                if scope_all {
                    computed.push(series_c.clone());
                    computed.push(study_c.clone());
                } else if matches!(scope, Scope::Study(_)) {
                    computed.push(series_c.clone());
                }
                out.push(Candidate {
                    computed,
                    instances: vec![inst],
                    level,
                    with_study: scope_all,
                    with_series: !matches!(scope, Scope::Series(..)),
                });
            }
        }
    }
    out
}

/// Run a search and build the response.
async fn search(
    st: Shared,
    level: Level,
    scope: Scope,
    raw: Option<String>,
    headers: HeaderMap,
) -> Response {
    let uids: Vec<&str> = match &scope {
        Scope::All => vec![],
        Scope::Study(s) => vec![s],
        Scope::Series(s, se) => vec![s, se],
    };
    if let Err(r) = check_uids(&uids) {
        return r.into_response();
    }
    let scope = if st.has(Fault::QidoIgnoresPath) {
        Scope::All
    } else {
        scope
    };
    let pairs = query_pairs(raw.as_deref());
    let query = match parse_query(&pairs) {
        Ok(q) => q,
        Err(e) => return problem(StatusCode::BAD_REQUEST, e.to_string()),
    };
    if let Err(r) = acceptable(&headers, &pairs).and_then(|a| negotiate::dicom_json(a.as_deref())) {
        return r.into_response();
    }
    let base = base_url(&headers, st.bound(), st.scheme());
    let mut remaining = 0usize;
    let results: Vec<Value> = {
        let archive = st.archive();
        let matched: Vec<Candidate> = candidates(&archive, level, &scope, &base)
            .into_iter()
            .filter(|c| {
                st.has(Fault::QidoIgnoresMatching) || query.keys.iter().all(|k| c.matches(k))
            })
            .collect();
        let total = matched.len();
        let limit = if st.has(Fault::QidoIgnoresLimit) {
            None
        } else if query.limit.is_none() && st.has(Fault::QidoSilentTruncation) {
            Some(1)
        } else {
            query.limit
        };
        let after_offset = matched.into_iter().skip(query.offset);
        let page: Vec<Candidate> = match limit {
            Some(n) => after_offset.take(n).collect(),
            None => after_offset.collect(),
        };
        // The matches after this page, which a later page can still return (§8.3.4.4.1).
        if !st.has(Fault::QidoSilentTruncation) && !st.has(Fault::QidoNoPagingWarning) {
            remaining = total.saturating_sub(query.offset.saturating_add(page.len()));
        }
        let mut v = Vec::with_capacity(page.len());
        for c in page {
            match ::dicom_json::to_value(&c.result(&query, st.faults())) {
                Ok(j) => v.push(j),
                Err(e) => {
                    return problem(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        format!("cannot encode a result: {e}"),
                    )
                }
            }
        }
        v
    };
    // No results: 204 with an empty payload (PS3.18 §8.3.4.4.1, Table 10.6.3-1).
    if results.is_empty() && !st.has(Fault::QidoWrongContentType) {
        return StatusCode::NO_CONTENT.into_response();
    }
    let mut response = json::response(StatusCode::OK, Value::Array(results), st.faults());
    if st.has(Fault::QidoWrongContentType) {
        response.headers_mut().insert(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("text/plain"),
        );
    }
    if query.fuzzy {
        let warning = format!(
            "299 {} \"fuzzymatching is not supported\"",
            request_host(&headers, st.bound())
        );
        if let Ok(v) = HeaderValue::from_str(&warning) {
            response.headers_mut().append(header::WARNING, v);
        }
    }
    // Matches remain after the page: PS3.18 §8.3.4.4.1 requires this Warning header field (its
    // text, quoted as the warn-text of RFC 7234 §5.5, after the service as warn-agent).
    if remaining > 0 {
        let warning = format!(
            "299 {} \"There are {remaining} additional results that can be requested\"",
            request_host(&headers, st.bound())
        );
        if let Ok(v) = HeaderValue::from_str(&warning) {
            response.headers_mut().append(header::WARNING, v);
        }
    }
    response
}

/// `GET /studies`.
pub async fn search_studies(
    State(st): State<Shared>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    search(st, Level::Study, Scope::All, q, headers).await
}

/// `GET /series`.
pub async fn search_series(
    State(st): State<Shared>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    search(st, Level::Series, Scope::All, q, headers).await
}

/// `GET /instances`.
pub async fn search_instances(
    State(st): State<Shared>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    search(st, Level::Instance, Scope::All, q, headers).await
}

/// `GET /studies/{study}/series`.
pub async fn search_study_series(
    State(st): State<Shared>,
    Path(study): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    search(st, Level::Series, Scope::Study(study), q, headers).await
}

/// `GET /studies/{study}/instances`.
pub async fn search_study_instances(
    State(st): State<Shared>,
    Path(study): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    search(st, Level::Instance, Scope::Study(study), q, headers).await
}

/// `GET /studies/{study}/series/{series}/instances`.
pub async fn search_series_instances(
    State(st): State<Shared>,
    Path((study, series)): Path<(String, String)>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    search(
        st,
        Level::Instance,
        Scope::Series(study, series),
        q,
        headers,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::dicomweb::retrieve::tests::fixture;
    use crate::reference::tests::{client, start};
    use crate::reference::ReferenceServer;

    async fn get(server: &ReferenceServer, path_query: &str) -> (u16, HeaderMap, Value) {
        let r = client()
            .get(format!("{}{path_query}", server.dicomweb_base()))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let mut h = HeaderMap::new();
        for (k, v) in r.headers() {
            h.append(k.clone(), v.clone());
        }
        let v = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap_or(Value::Null);
        (status, h, v)
    }

    fn tag_keys(t: &[Tag]) -> Vec<String> {
        t.iter()
            .map(|t| format!("{:04X}{:04X}", t.0, t.1))
            .collect()
    }

    #[tokio::test]
    async fn study_search_required_attributes_order_and_paging() {
        let server = start(&[]).await;
        let (s, h, v) = get(&server, "/studies").await;
        assert_eq!(s, 200);
        assert_eq!(h["content-type"], "application/dicom+json");
        let all = v.as_array().unwrap().clone();
        assert_eq!(all.len(), 4);
        for r in &all {
            for k in tag_keys(STUDY_REQUIRED) {
                assert!(r.get(&k).is_some(), "missing {k}");
            }
        }
        let dates: Vec<_> = all
            .iter()
            .map(|r| r["00080020"]["Value"][0].as_str().unwrap().to_string())
            .collect();
        let mut sorted = dates.clone();
        sorted.sort();
        assert_eq!(dates, sorted);
        let ct = fixture("CT-CHEST");
        let ct_uid = ct[0]["study_uid"].as_str().unwrap();
        let ct_result = all
            .iter()
            .find(|r| r["0020000D"]["Value"][0] == ct_uid)
            .unwrap();
        assert_eq!(ct_result["00201208"]["Value"][0], ct.len());
        assert_eq!(
            ct_result["00080061"]["Value"],
            serde_json::json!(["CT", "KO"])
        );
        let (_, _, page) = get(&server, "/studies?limit=2&offset=1").await;
        assert_eq!(page.as_array().unwrap().as_slice(), &all[1..3]);
        let (s, _, none) = get(&server, "/studies?PatientID=NOBODY").await;
        assert_eq!((s, none), (204, Value::Null));
        server.shutdown().await;
    }

    #[tokio::test]
    async fn matching_includefield_and_errors() {
        let server = start(&[]).await;
        let (_, _, v) = get(&server, "/studies?PatientName=doe%5Ejane").await;
        assert_eq!(v.as_array().unwrap().len(), 2);
        let (_, _, v) = get(&server, "/studies?StudyDate=20260101-20260116").await;
        assert_eq!(v.as_array().unwrap().len(), 1);
        let (_, _, v) = get(&server, "/studies?Modality=MR").await;
        assert_eq!(v.as_array().unwrap().len(), 1);
        let (_, _, v) = get(
            &server,
            "/studies?00100020=CTH-0002&includefield=StudyDescription",
        )
        .await;
        assert_eq!(v.as_array().unwrap().len(), 2);
        assert!(v[0].get("00081030").is_some());
        let (_, _, v) = get(&server, "/studies?includefield=all&limit=1").await;
        assert!(v[0].get("00081030").is_some());
        let (s, _, _) = get(&server, "/studies?NoSuchKey=1").await;
        assert_eq!(s, 400);
        let (s, _, _) = get(&server, "/studies?includefield=NoSuchKey").await;
        assert_eq!(s, 200);
        let (s, h, _) = get(&server, "/studies?fuzzymatching=true").await;
        assert_eq!(s, 200);
        assert!(h["warning"].to_str().unwrap().starts_with("299 "));
        let r = client()
            .get(format!("{}/studies", server.dicomweb_base()))
            .header("Accept", "application/dicom+xml")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 406);
        server.shutdown().await;
    }

    #[tokio::test]
    async fn series_and_instance_levels() {
        let server = start(&[]).await;
        let ct = fixture("CT-CHEST");
        let s = ct[0]["study_uid"].as_str().unwrap();
        let se = ct[0]["series_uid"].as_str().unwrap();
        let (_, _, v) = get(&server, &format!("/studies/{s}/series")).await;
        assert_eq!(v.as_array().unwrap().len(), 4);
        for k in tag_keys(SERIES_REQUIRED) {
            assert!(v[0].get(&k).is_some(), "missing {k}");
        }
        let (_, _, v) = get(&server, "/series?Modality=CT").await;
        assert_eq!(v.as_array().unwrap().len(), 3);
        assert!(
            v[0].get("00100020").is_some(),
            "study attributes across studies"
        );
        let (_, _, v) = get(&server, &format!("/studies/{s}/series/{se}/instances")).await;
        let n = ct.iter().filter(|e| e["series_uid"] == se).count();
        assert_eq!(v.as_array().unwrap().len(), n);
        for k in tag_keys(INSTANCE_REQUIRED) {
            assert!(v[0].get(&k).is_some(), "missing {k}");
        }
        assert_eq!(v[0]["00200013"]["Value"][0], 1);
        let (_, _, v) = get(
            &server,
            &format!(
                "/studies/{s}/instances?SOPInstanceUID={}",
                ct[1]["sop_uid"].as_str().unwrap()
            ),
        )
        .await;
        assert_eq!(v.as_array().unwrap().len(), 1);
        let (_, _, v) = get(&server, &format!("/studies/{s}/instances?limit=1")).await;
        assert!(
            v[0].get("00080060").is_some(),
            "series attributes in a study's instances"
        );
        assert!(
            v[0].get("00100020").is_none(),
            "no study attributes within one study"
        );
        let (_, _, v) = get(&server, "/instances?NumberOfFrames=10").await;
        assert_eq!(v.as_array().unwrap().len(), 1);
        assert_eq!(v[0]["00280008"]["Value"][0], 10);
        let (s400, _, _) = get(&server, "/studies/not-a-uid/series").await;
        assert_eq!(s400, 400);
        server.shutdown().await;
    }

    #[tokio::test]
    async fn results_follow_the_json_model() {
        use crate::checks::dicomweb::json::validate_dataset_array;
        let server = start(&[]).await;
        for q in [
            "/studies?includefield=all",
            "/series?includefield=all",
            "/instances?includefield=all",
            "/studies?Modality=CT&PatientName=*",
        ] {
            let (s, _, v) = get(&server, q).await;
            assert_eq!(s, 200);
            assert!(!v.as_array().unwrap().is_empty());
            let violations: Vec<_> = validate_dataset_array(&v)
                .into_iter()
                .filter(|x| x.level == crate::checks::Level::Shall)
                .collect();
            assert!(violations.is_empty(), "{q}: {violations:?}");
        }
        server.shutdown().await;
    }

    #[tokio::test]
    async fn fault_qido_missing_required() {
        let server = start(&[Fault::QidoMissingRequired]).await;
        let (_, _, v) = get(&server, "/studies").await;
        assert!(v[0].get("00100030").is_none());
        assert!(v[0].get("00201208").is_none());
        assert!(v[0].get("00201206").is_some());
        server.shutdown().await;
    }

    #[tokio::test]
    async fn fault_qido_ignores_limit() {
        let server = start(&[Fault::QidoIgnoresLimit]).await;
        let (_, _, v) = get(&server, "/studies?limit=1").await;
        assert_eq!(v.as_array().unwrap().len(), 4);
        server.shutdown().await;
    }

    #[tokio::test]
    async fn a_page_with_matches_after_it_carries_warning_299() {
        let server = start(&[]).await;
        let (s, h, v) = get(&server, "/studies?limit=1").await;
        assert_eq!((s, v.as_array().unwrap().len()), (200, 1));
        let w = h["warning"].to_str().unwrap();
        assert!(w.starts_with("299 "), "{w}");
        assert!(
            w.ends_with("\"There are 3 additional results that can be requested\""),
            "{w}"
        );
        let (_, h, _) = get(&server, "/studies?limit=1&offset=2").await;
        assert!(h["warning"]
            .to_str()
            .unwrap()
            .contains("There are 1 additional"));
        let (_, h, v) = get(&server, "/studies?limit=2&offset=2").await;
        assert_eq!(v.as_array().unwrap().len(), 2);
        assert!(h.get("warning").is_none());
        let (_, h, _) = get(&server, "/studies?limit=1&fuzzymatching=true").await;
        assert_eq!(h.get_all("warning").iter().count(), 2);
        server.shutdown().await;
        let server = start(&[Fault::QidoNoPagingWarning]).await;
        let (_, h, v) = get(&server, "/studies?limit=1").await;
        assert_eq!(v.as_array().unwrap().len(), 1);
        assert!(h.get("warning").is_none());
        server.shutdown().await;
    }

    #[tokio::test]
    async fn fault_qido_silent_truncation() {
        let server = start(&[Fault::QidoSilentTruncation]).await;
        let (s, h, v) = get(&server, "/studies").await;
        assert_eq!((s, v.as_array().unwrap().len()), (200, 1));
        assert!(h.get("warning").is_none());
        let (_, _, v) = get(&server, "/studies?limit=3").await;
        assert_eq!(v.as_array().unwrap().len(), 3);
        server.shutdown().await;
    }

    #[tokio::test]
    async fn json_faults_apply_to_qido() {
        let server = start(&[Fault::LowercaseJsonTags]).await;
        let (_, _, v) = get(&server, "/studies?limit=1").await;
        assert!(v[0].get("0020000d").is_some());
        server.shutdown().await;
    }
}
