//! WADO-RS metadata retrieval (PS3.18 10.4.1.1.2; IHE RAD-107 "Get Metadata") at study, series and
//! instance level, as `application/dicom+json` (Annex F).
//!
//! The answer is an array with one data set per instance, read from the stored file up to Pixel Data.
//! Pixel Data and any top-level binary value longer than 1 KiB are given as a `BulkDataURI` (F.2.6), an
//! absolute WADO-RS bulkdata URL (10.4.1.1.4) built from the host the request was sent to; smaller
//! binary values stay `InlineBinary`. Acceptable media types: `application/dicom+json`,
//! `application/json` and wildcards; anything else is 406.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::reference::dicomweb::json;
use crate::reference::dicomweb::negotiate;
use crate::reference::dicomweb::retrieve::target_uids;
use crate::reference::dicomweb::web::{acceptable, base_url, check_uids, problem, query_pairs};
use crate::reference::faults::Fault;
use crate::reference::state::Shared;
use crate::reference::store::archive::{read_header, ArchiveError, Instance, Target};
use crate::reference::store::part10::{PixelLayout, INLINE_BINARY_MAX, PIXEL_DATA};

/// The Study Instance UID the metadata-other-study fault puts in every data set.
const OTHER_STUDY: &str = "2.25.271828182845904523536028747135266249";

/// `GET /studies/{study}/metadata`.
pub async fn study(
    State(st): State<Shared>,
    Path(study): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    metadata(st, Target::Study(study), q, headers).await
}

/// `GET /studies/{study}/series/{series}/metadata`.
pub async fn series(
    State(st): State<Shared>,
    Path((study, series)): Path<(String, String)>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    metadata(st, Target::Series(study, series), q, headers).await
}

/// `GET /studies/{study}/series/{series}/instances/{instance}/metadata`.
pub async fn instance(
    State(st): State<Shared>,
    Path((study, series, instance)): Path<(String, String, String)>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    metadata(st, Target::Instance(study, series, instance), q, headers).await
}

/// The WADO-RS URL of an instance.
pub fn instance_url(base: &str, inst: &Instance) -> String {
    format!(
        "{base}/studies/{}/series/{}/instances/{}",
        inst.study_uid, inst.series_uid, inst.sop_uid
    )
}

/// Why the metadata of a stored instance cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum MetadataError {
    /// The stored file cannot be read.
    #[error("{0}")]
    Read(#[from] ArchiveError),
    /// Its data set has no DICOM JSON form.
    #[error("{0}")]
    Json(#[from] serde_json::Error),
    /// Its DICOM JSON form is not an object.
    #[error("DICOM JSON of an instance is not an object")]
    NotAnObject,
}

/// The metadata data set of one instance. `broken` makes every BulkDataURI point to nowhere.
pub fn instance_metadata(
    inst: &Instance,
    base: &str,
    broken: bool,
) -> Result<Value, MetadataError> {
    let obj = read_header(&inst.stored.path)?;
    let mut v = ::dicom_json::to_value(&obj)?;
    let Some(map) = v.as_object_mut() else {
        return Err(MetadataError::NotAnObject);
    };
    let url = instance_url(base, inst);
    let bulk_uri = |tag: u32| {
        let uri = format!("{url}/bulkdata/{tag:08X}");
        if broken {
            format!("{uri}/missing")
        } else {
            uri
        }
    };
    // Binary locations from a form whose values can be cut out as they are.
    let layout = inst
        .explicit_le()
        .map(|f| &f.layout)
        .unwrap_or(&inst.stored.layout);
    for (tag, loc) in &layout.binary {
        if loc.length > INLINE_BINARY_MAX {
            let vr = String::from_utf8_lossy(&loc.vr).to_string();
            map.insert(
                format!("{tag:08X}"),
                json!({"vr": vr, "BulkDataURI": bulk_uri(*tag)}),
            );
        }
    }
    let pixel_vr = match (&layout.pixel, &inst.stored.layout.pixel) {
        (Some(PixelLayout::Native(loc)), _) => Some(String::from_utf8_lossy(&loc.vr).to_string()),
        (_, Some(_)) => Some("OB".to_string()),
        _ => None,
    };
    if let Some(vr) = pixel_vr {
        map.insert(
            format!("{PIXEL_DATA:08X}"),
            json!({"vr": vr, "BulkDataURI": bulk_uri(PIXEL_DATA)}),
        );
    }
    Ok(v)
}

async fn metadata(st: Shared, target: Target, q: Option<String>, headers: HeaderMap) -> Response {
    st.stall_before_headers().await;
    if let Err(r) = check_uids(&target_uids(&target)) {
        return r.into_response();
    }
    let mut instances = match st.resolve(&target) {
        Ok(v) => v,
        Err(r) => return r.into_response(),
    };
    if st.has(Fault::MetadataExtraInstance) && !matches!(target, Target::Instance(..)) {
        let archive = st.archive();
        let study_of_target = instances.first().map(|i| i.study_uid.clone());
        let foreign = archive
            .sorted_studies()
            .into_iter()
            .find(|(uid, _)| Some(*uid) != study_of_target.as_ref())
            .and_then(|(_, s)| s.instances().into_iter().next());
        drop(archive);
        instances.extend(foreign);
    }
    let query = query_pairs(q.as_deref());
    if let Err(r) = acceptable(&headers, &query).and_then(|a| negotiate::dicom_json(a.as_deref())) {
        return r.into_response();
    }
    let base = base_url(&headers, st.bound(), st.scheme());
    let broken = st.has(Fault::BrokenBulkdataUri);
    let built = tokio::task::spawn_blocking(move || {
        instances
            .iter()
            .map(|i: &Arc<Instance>| instance_metadata(i, &base, broken))
            .collect::<Result<Vec<Value>, MetadataError>>()
    })
    .await;
    match built {
        Ok(Ok(mut items)) => {
            if st.has(Fault::MetadataOtherStudy) {
                for item in &mut items {
                    if let Some(map) = item.as_object_mut() {
                        map.insert(
                            "0020000D".into(),
                            json!({"vr": "UI", "Value": [OTHER_STUDY]}),
                        );
                    }
                }
            }
            json::response(StatusCode::OK, Value::Array(items), st.faults())
        }
        Ok(Err(e)) => problem(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        Err(e) => problem(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::dicomweb::retrieve::tests::fixture;
    use crate::reference::tests::{client, start};

    async fn get_json(url: &str) -> (u16, String, Value) {
        let r = client().get(url).send().await.unwrap();
        let status = r.status().as_u16();
        let ct = r
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let v = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap_or(Value::Null);
        (status, ct, v)
    }

    fn keys(v: &Value) -> Vec<String> {
        v.as_object().unwrap().keys().cloned().collect()
    }

    #[tokio::test]
    async fn metadata_levels_keys_and_bulkdata_uris() {
        let server = start(&[]).await;
        let base = server.dicomweb_base();
        let f = fixture("CT-CHEST");
        let (s, se, i) = (
            f[0]["study_uid"].as_str().unwrap(),
            f[0]["series_uid"].as_str().unwrap(),
            f[0]["sop_uid"].as_str().unwrap(),
        );
        let (status, ct, v) = get_json(&format!("{base}/studies/{s}/metadata")).await;
        assert_eq!((status, ct.as_str()), (200, "application/dicom+json"));
        assert_eq!(v.as_array().unwrap().len(), f.len());
        let (_, _, v) = get_json(&format!("{base}/studies/{s}/series/{se}/metadata")).await;
        assert!(v.as_array().unwrap().len() > 1);
        let (_, _, v) = get_json(&format!(
            "{base}/studies/{s}/series/{se}/instances/{i}/metadata"
        ))
        .await;
        let ds = &v[0];
        let k = keys(ds);
        let mut sorted = k.clone();
        sorted.sort();
        assert_eq!(k, sorted);
        assert!(k
            .iter()
            .all(|k| k.len() == 8 && k == &k.to_ascii_uppercase()));
        let uri = ds["7FE00010"]["BulkDataURI"].as_str().unwrap();
        assert!(uri.starts_with("http://127.0.0.1:"));
        let r = client().get(uri).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(ds["0020000D"]["Value"][0], s);
        // Unacceptable media type.
        let r = client()
            .get(format!("{base}/studies/{s}/metadata"))
            .header("Accept", "application/dicom+xml")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 406);
        let r = client()
            .get(format!("{base}/studies/1.2.3/metadata"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
        server.shutdown().await;
    }

    #[test]
    fn metadata_errors_say_what_they_said_as_text() {
        assert_eq!(
            MetadataError::NotAnObject.to_string(),
            "DICOM JSON of an instance is not an object"
        );
        let read = MetadataError::from(
            read_header(std::path::Path::new("/nonexistent/x.dcm")).unwrap_err(),
        );
        assert!(
            read.to_string()
                .starts_with("cannot read DICOM file /nonexistent/x.dcm: "),
            "{read}"
        );
    }

    #[tokio::test]
    async fn every_study_validates_and_every_bulkdata_uri_resolves() {
        use crate::checks::dicomweb::json::validate_dataset_array;
        use crate::model::dicom_json::bulk_data_uris;
        let server = start(&[]).await;
        let base = server.dicomweb_base();
        for alias in ["CT-CHEST", "MR-BRAIN", "DX-CHEST", "US-ABDOMEN"] {
            let s = fixture(alias)[0]["study_uid"].as_str().unwrap().to_string();
            let (status, _, v) = get_json(&format!("{base}/studies/{s}/metadata")).await;
            assert_eq!(status, 200);
            let violations: Vec<_> = validate_dataset_array(&v)
                .into_iter()
                .filter(|x| x.level == crate::checks::Level::Shall)
                .collect();
            assert!(violations.is_empty(), "{alias}: {violations:?}");
            let uris = bulk_data_uris(&v);
            assert!(!uris.is_empty());
            // One per series is enough to show they resolve.
            for (path, uri) in uris.iter().step_by(8) {
                let r = client().get(uri).send().await.unwrap();
                assert_eq!(r.status(), 200, "{alias} {path} {uri}");
                let ct = r.headers()["content-type"].to_str().unwrap().to_string();
                assert!(ct.contains("application/octet-stream"), "{ct}");
            }
        }
        server.shutdown().await;
    }

    async fn one_instance(faults: &[Fault]) -> (crate::reference::ReferenceServer, Value) {
        let server = start(faults).await;
        let f = fixture("CT-CHEST");
        let url = format!(
            "{}/studies/{}/series/{}/instances/{}/metadata",
            server.dicomweb_base(),
            f[0]["study_uid"].as_str().unwrap(),
            f[0]["series_uid"].as_str().unwrap(),
            f[0]["sop_uid"].as_str().unwrap()
        );
        let (_, _, v) = get_json(&url).await;
        (server, v)
    }

    #[tokio::test]
    async fn fault_lowercase_json_tags() {
        let (server, v) = one_instance(&[Fault::LowercaseJsonTags]).await;
        assert!(v[0].as_object().unwrap().contains_key("7fe00010"));
        server.shutdown().await;
    }

    #[tokio::test]
    async fn fault_unsorted_json_keys() {
        let (server, v) = one_instance(&[Fault::UnsortedJsonKeys]).await;
        let k = keys(&v[0]);
        assert!(k.first() > k.last());
        server.shutdown().await;
    }

    #[tokio::test]
    async fn fault_broken_bulkdata_uri() {
        let (server, v) = one_instance(&[Fault::BrokenBulkdataUri]).await;
        let uri = v[0]["7FE00010"]["BulkDataURI"].as_str().unwrap();
        let r = client().get(uri).send().await.unwrap();
        assert_eq!(r.status(), 404);
        server.shutdown().await;
    }
}
