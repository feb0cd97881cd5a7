//! WADO-RS instance retrieval (PS3.18 10.4.1.1.1; IHE RAD-107 "Get Instances") of a study, a series or
//! one instance as `multipart/related; type="application/dicom"`.
//!
//! Each part is a Part 10 file labelled `application/dicom; transfer-syntax=<UID>` (8.7.3.5.2) with its
//! `Content-Length`, streamed from disk. Transfer syntax selection follows 8.7.3: without a
//! `transfer-syntax` parameter Explicit VR Little Endian is sent (from the uncompressed copy of instances
//! stored otherwise); `*` sends the stored form; a UID sends the stored form if it matches, the
//! uncompressed copy if Explicit VR Little Endian was asked, and otherwise cannot serve that instance.
//! Implicit VR Little Endian and Explicit VR Big Endian are never sent. Status per 10.4.3: 200 when every
//! instance was sent, 206 (with a Warning) when only some could be, 406 when none could, 404 for an
//! unknown target or one that is not in the named hierarchy, 400 for a malformed UID.
//! A single-part `application/dicom` response (allowed by later editions for one instance) is not
//! offered: such an Accept is answered 406. Instances received over STOW-RS in a compressed transfer
//! syntax have no uncompressed copy (there is no codec here), so they are sent only when `*` or their
//! own transfer syntax is acceptable.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

use crate::transport::media_type::MediaType;

use crate::reference::dicomweb::multipart_body::{MultipartBody, Part, PartSource};
use crate::reference::dicomweb::negotiate::{self, TsRequest};
use crate::reference::dicomweb::web::{acceptable, check_uids, problem, query_pairs, request_host};
use crate::reference::faults::Fault;
use crate::reference::state::Shared;
use crate::reference::store::archive::{Instance, Target};
use crate::reference::store::part10::{self, EXPLICIT_VR_BE, EXPLICIT_VR_LE, IMPLICIT_VR_LE};

/// Body of the part the non-dicom-part fault sends instead of an instance.
const NOT_DICOM: &[u8] = b"This part is deliberately not a DICOM Part 10 object.\r\n";

/// `GET /studies/{study}`.
pub async fn study(
    State(st): State<Shared>,
    Path(study): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    retrieve(st, Target::Study(study), q, headers).await
}

/// `GET /studies/{study}/series/{series}`.
pub async fn series(
    State(st): State<Shared>,
    Path((study, series)): Path<(String, String)>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    retrieve(st, Target::Series(study, series), q, headers).await
}

/// `GET /studies/{study}/series/{series}/instances/{instance}`.
pub async fn instance(
    State(st): State<Shared>,
    Path((study, series, instance)): Path<(String, String, String)>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    retrieve(st, Target::Instance(study, series, instance), q, headers).await
}

/// UIDs named by a target, for validation.
pub fn target_uids(target: &Target) -> Vec<&str> {
    match target {
        Target::Study(s) => vec![s],
        Target::Series(s, se) => vec![s, se],
        Target::Instance(s, se, i) => vec![s, se, i],
    }
}

/// Which form of an instance is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    /// The file as stored.
    Stored,
    /// The Explicit VR Little Endian form (the stored file or its uncompressed copy).
    ExplicitLe,
}

/// The form to send for one acceptable transfer syntax, if the instance can be sent in it.
fn form_for(inst: &Instance, want: &TsRequest) -> Option<Form> {
    let stored = inst.stored.transfer_syntax();
    let never = |ts: &str| ts == IMPLICIT_VR_LE || ts == EXPLICIT_VR_BE;
    match want {
        TsRequest::Default => inst.explicit_le().map(|_| Form::ExplicitLe),
        TsRequest::Any if !never(stored) => Some(Form::Stored),
        TsRequest::Any => inst.explicit_le().map(|_| Form::ExplicitLe),
        TsRequest::Uid(u) if never(u) => None,
        TsRequest::Uid(u) if u == stored => Some(Form::Stored),
        TsRequest::Uid(u) if u == EXPLICIT_VR_LE => inst.explicit_le().map(|_| Form::ExplicitLe),
        TsRequest::Uid(_) => None,
    }
}

/// The first acceptable form, in order of preference.
fn choose(inst: &Instance, choices: &[TsRequest]) -> Option<Form> {
    choices.iter().find_map(|c| form_for(inst, c))
}

fn dicom_part(ts: &str, source: PartSource) -> Part {
    Part {
        content_type: MediaType::new("application/dicom")
            .with_param("transfer-syntax", ts)
            .to_header_value(),
        source,
    }
}

fn whole_file(file: &crate::reference::store::archive::InstanceFile) -> PartSource {
    PartSource::File {
        path: file.path.clone(),
        offset: 0,
        length: file.size,
    }
}

/// The part for one instance in one form, with the faults that change what is sent.
/// Key Object Selection Document Storage.
const KOS_SOP_CLASS: &str = "1.2.840.10008.5.1.4.1.1.88.59";

async fn part_for(st: &Shared, inst: &Arc<Instance>, form: Form) -> Result<Part, Response> {
    let stored = &inst.stored;
    if st.has(Fault::OtherPatientInstance) {
        if let Some(p) = other_patient_part(inst, form).await {
            return Ok(p);
        }
    }
    if st.has(Fault::KosWrongTitle) && inst.sop_class == KOS_SOP_CLASS {
        // The manifest's document title (113030 "Manifest") becomes 113000 ("Of Interest"): the
        // code value has the same length, so the object stays well-formed.
        let path = stored.path.clone();
        let mut bytes = tokio::fs::read(&path)
            .await
            .map_err(|e| problem(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
        if let Some(pos) = bytes.windows(6).position(|w| w == b"113030") {
            bytes[pos..pos + 6].copy_from_slice(b"113000");
        }
        return Ok(dicom_part(
            stored.transfer_syntax(),
            PartSource::Memory(Bytes::from(bytes)),
        ));
    }
    if st.has(Fault::IgnoreTransferSyntax) {
        return Ok(dicom_part(stored.transfer_syntax(), whole_file(stored)));
    }
    match form {
        Form::Stored => Ok(dicom_part(stored.transfer_syntax(), whole_file(stored))),
        Form::ExplicitLe if st.has(Fault::ImplicitVrParts) => {
            if stored.transfer_syntax() == IMPLICIT_VR_LE {
                return Ok(dicom_part(IMPLICIT_VR_LE, whole_file(stored)));
            }
            let path = inst
                .explicit_le()
                .map(|f| f.path.clone())
                .unwrap_or_else(|| stored.path.clone());
            let bytes =
                tokio::task::spawn_blocking(move || part10::transcode(&path, IMPLICIT_VR_LE))
                    .await
                    .map_err(|e| problem(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
                    .map_err(|e| problem(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
            Ok(dicom_part(
                IMPLICIT_VR_LE,
                PartSource::Memory(Bytes::from(bytes)),
            ))
        }
        Form::ExplicitLe => match inst.explicit_le() {
            Some(f) => Ok(dicom_part(EXPLICIT_VR_LE, whole_file(f))),
            None => Err(problem(
                StatusCode::INTERNAL_SERVER_ERROR,
                "explicit VR little endian form vanished",
            )),
        },
    }
}

/// The wado-other-patient fault: the instance with the last character of its Patient ID changed
/// (same length, so the object stays well-formed).
async fn other_patient_part(inst: &Arc<Instance>, form: Form) -> Option<Part> {
    let pid = inst
        .text(dicom_dictionary_std::tags::PATIENT_ID)
        .filter(|p| !p.is_empty())?;
    let file = match form {
        Form::Stored => &inst.stored,
        Form::ExplicitLe => inst.explicit_le().unwrap_or(&inst.stored),
    };
    let mut bytes = tokio::fs::read(&file.path).await.ok()?;
    let at = bytes.windows(pid.len()).position(|w| w == pid.as_bytes())?;
    let last = at + pid.len() - 1;
    bytes[last] = if bytes[last] == b'9' { b'8' } else { b'9' };
    Some(dicom_part(
        file.transfer_syntax(),
        PartSource::Memory(Bytes::from(bytes)),
    ))
}

async fn retrieve(st: Shared, target: Target, q: Option<String>, headers: HeaderMap) -> Response {
    st.stall_before_headers().await;
    if let Err(r) = check_uids(&target_uids(&target)) {
        return r.into_response();
    }
    let instances = match st.resolve(&target) {
        Ok(v) => v,
        Err(r) => return r.into_response(),
    };
    let query = query_pairs(q.as_deref());
    let choices =
        match acceptable(&headers, &query).and_then(|a| negotiate::dicom_multipart(a.as_deref())) {
            Ok(c) => c,
            Err(r) => return r.into_response(),
        };
    let mut parts = Vec::with_capacity(instances.len());
    let mut unserved = 0usize;
    for inst in &instances {
        let form = match choose(inst, &choices) {
            Some(f) => f,
            None if st.has(Fault::OkForUnacceptable) => Form::Stored,
            None => {
                unserved += 1;
                continue;
            }
        };
        match part_for(&st, inst, form).await {
            Ok(p) => parts.push(p),
            Err(r) => return r.into_response(),
        }
    }
    if parts.is_empty() && unserved > 0 {
        return problem(
            StatusCode::NOT_ACCEPTABLE,
            "no instance of the target can be sent in an acceptable transfer syntax \
             (Implicit VR Little Endian and Explicit VR Big Endian are never sent, PS3.18 8.7.3)",
        );
    }
    if st.has(Fault::MissingInstance) && !matches!(target, Target::Instance(..)) {
        parts.pop();
    }
    if st.has(Fault::ForeignInstance) && !matches!(target, Target::Instance(..)) {
        let foreign = {
            let archive = st.archive();
            let study_of_target = instances.first().map(|i| i.study_uid.clone());
            archive
                .sorted_studies()
                .into_iter()
                .find(|(uid, _)| Some(*uid) != study_of_target.as_ref())
                .and_then(|(_, s)| s.first())
        };
        if let Some(other) = foreign {
            if let Ok(p) = part_for(&st, &other, Form::Stored).await {
                parts.push(p);
            }
        }
    }
    if st.has(Fault::DuplicateInstance) && !matches!(target, Target::Instance(..)) {
        if let Some(first) = parts.first().cloned() {
            parts.push(first);
        }
    }
    if st.has(Fault::NonDicomPart) {
        if let Some(last) = parts.last_mut() {
            last.source = PartSource::Memory(Bytes::from_static(NOT_DICOM));
        }
    }
    if st.has(Fault::PartContentTypeMismatch) {
        for p in &mut parts {
            p.content_type = "application/octet-stream".to_string();
        }
    }
    if st.has(Fault::PerfSlowFirstByte) && matches!(target, Target::Study(..)) {
        tokio::time::sleep(crate::reference::faults::PERF_SLOW_FIRST_BYTE).await;
    }
    let boundary = st.boundary();
    let mut content_type = MediaType::new("multipart/related");
    if !st.has(Fault::MultipartWithoutType) {
        content_type = content_type.with_param("type", "application/dicom");
    }
    content_type = content_type.with_param("boundary", &boundary);
    let mut body = MultipartBody::new(boundary, parts);
    body.truncate_after_first = st.has(Fault::TruncatedMultipart);
    if st.has(Fault::StallMidResponse) {
        body.stall_after_first = Some(st.stall());
    }
    let status = if unserved > 0 {
        StatusCode::PARTIAL_CONTENT
    } else {
        StatusCode::OK
    };
    let mut response = (status, body.into_body(st.shutdown_signal())).into_response();
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&content_type.to_header_value()) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if unserved > 0 {
        let warning = format!(
            "299 {} \"{unserved} instance(s) cannot be sent in an acceptable transfer syntax\"",
            request_host(&headers, st.bound())
        );
        if let Ok(v) = HeaderValue::from_str(&warning) {
            h.insert(header::WARNING, v);
        }
    }
    response
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::reference::tests::{client, start};
    use crate::transport::multipart::{boundary_of, header, MultipartEvent, MultipartParser};

    /// One received part: its headers and bytes.
    pub(crate) type ReceivedPart = (Vec<(String, String)>, Vec<u8>);

    /// A parsed multipart response: the top media type and each part's headers and bytes.
    pub(crate) struct Parsed {
        pub status: u16,
        pub content_type: MediaType,
        pub parts: Vec<ReceivedPart>,
        pub complete: bool,
    }

    pub(crate) async fn get_multipart(url: &str, accept: Option<&str>) -> Parsed {
        let mut req = client().get(url);
        if let Some(a) = accept {
            req = req.header("Accept", a);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let ct = r
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let body = r.bytes().await.unwrap();
        let content_type = MediaType::parse(&ct).unwrap();
        let mut parts = Vec::new();
        let mut complete = false;
        if let Some(b) = boundary_of(&content_type) {
            let mut p = MultipartParser::new(b);
            let mut ev = Vec::new();
            p.feed(&body, &mut ev).unwrap();
            complete = p.finish(&mut ev).is_ok();
            for e in ev {
                match e {
                    MultipartEvent::PartStart { headers } => parts.push((headers, Vec::new())),
                    MultipartEvent::PartData(d) => {
                        parts.last_mut().unwrap().1.extend_from_slice(&d)
                    }
                    MultipartEvent::PartEnd => {}
                }
            }
        }
        Parsed {
            status,
            content_type,
            parts,
            complete,
        }
    }

    /// Study UID, a series UID of it, and the fixture index entries of the study with this alias prefix.
    pub(crate) fn fixture(study_alias: &str) -> Vec<serde_json::Value> {
        let dir = crate::reference::tests::fixtures_dir();
        let idx: Vec<serde_json::Value> =
            serde_json::from_str(&std::fs::read_to_string(dir.join("index.json")).unwrap())
                .unwrap();
        idx.into_iter()
            .filter(|e| e["study_alias"].as_str() == Some(study_alias))
            .collect()
    }

    fn part_ts(h: &[(String, String)]) -> String {
        MediaType::parse(header(h, "content-type").unwrap())
            .unwrap()
            .transfer_syntax()
            .unwrap_or_default()
    }

    fn study_of(alias: &str) -> (String, usize) {
        let f = fixture(alias);
        (f[0]["study_uid"].as_str().unwrap().to_string(), f.len())
    }

    #[tokio::test]
    async fn study_retrieve_defaults_to_explicit_le() {
        let server = start(&[]).await;
        let (study, n) = study_of("MR-BRAIN");
        let r = get_multipart(&format!("{}/studies/{study}", server.dicomweb_base()), None).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.content_type.param("type"), Some("application/dicom"));
        assert!(r.complete);
        assert_eq!(r.parts.len(), n);
        for (h, data) in &r.parts {
            assert_eq!(part_ts(h), EXPLICIT_VR_LE);
            assert_eq!(
                header(h, "content-length")
                    .unwrap()
                    .parse::<usize>()
                    .unwrap(),
                data.len()
            );
            assert_eq!(&data[128..132], b"DICM");
        }
        server.shutdown().await;
    }

    #[tokio::test]
    async fn transfer_syntax_negotiation() {
        let server = start(&[]).await;
        let base = server.dicomweb_base();
        let f = fixture("CT-CHEST");
        let jpeg_ll = f
            .iter()
            .find(|e| e["transfer_syntax"] == "1.2.840.10008.1.2.4.70")
            .unwrap();
        let (s, se) = (
            jpeg_ll["study_uid"].as_str().unwrap(),
            jpeg_ll["series_uid"].as_str().unwrap(),
        );
        let url = format!("{base}/studies/{s}/series/{se}");
        let any = get_multipart(
            &url,
            Some("multipart/related; type=\"application/dicom\"; transfer-syntax=*"),
        )
        .await;
        assert_eq!(any.status, 200);
        assert!(any
            .parts
            .iter()
            .all(|(h, _)| part_ts(h) == "1.2.840.10008.1.2.4.70"));
        let exact = get_multipart(
            &url,
            Some("multipart/related; type=\"application/dicom\"; transfer-syntax=1.2.840.10008.1.2.4.70"),
        )
        .await;
        assert_eq!(exact.status, 200);
        let other = get_multipart(
            &url,
            Some("multipart/related; type=\"application/dicom\"; transfer-syntax=1.2.840.10008.1.2.4.50"),
        )
        .await;
        assert_eq!(other.status, 406);
        let implicit = get_multipart(
            &url,
            Some(
                "multipart/related; type=\"application/dicom\"; transfer-syntax=1.2.840.10008.1.2",
            ),
        )
        .await;
        assert_eq!(implicit.status, 406);
        // q-values: the preferred (unavailable) one loses to the available one.
        let q = get_multipart(
            &url,
            Some(
                "multipart/related; type=\"application/dicom\"; transfer-syntax=1.2.840.10008.1.2.4.50, \
                 multipart/related; type=\"application/dicom\"; transfer-syntax=1.2.840.10008.1.2.1; q=0.5",
            ),
        )
        .await;
        assert_eq!(q.status, 200);
        assert!(q.parts.iter().all(|(h, _)| part_ts(h) == EXPLICIT_VR_LE));
        // An implicit-stored series is sent as explicit VR even with "*".
        let mr = fixture("MR-BRAIN");
        let ile = mr
            .iter()
            .find(|e| e["transfer_syntax"] == IMPLICIT_VR_LE)
            .unwrap();
        let url = format!(
            "{base}/studies/{}/series/{}",
            ile["study_uid"].as_str().unwrap(),
            ile["series_uid"].as_str().unwrap()
        );
        let star = get_multipart(
            &url,
            Some("multipart/related; type=\"application/dicom\"; transfer-syntax=*"),
        )
        .await;
        assert!(star.parts.iter().all(|(h, _)| part_ts(h) == EXPLICIT_VR_LE));
        // A mix: the whole study with JPEG Lossless only -> 206 with the matching series.
        let partial = get_multipart(
            &format!("{base}/studies/{s}"),
            Some("multipart/related; type=\"application/dicom\"; transfer-syntax=1.2.840.10008.1.2.4.70"),
        )
        .await;
        assert_eq!(partial.status, 206);
        server.shutdown().await;
    }

    #[tokio::test]
    async fn errors_404_400_406() {
        let server = start(&[]).await;
        let base = server.dicomweb_base();
        let c = client();
        let f = fixture("CT-CHEST");
        let s = f[0]["study_uid"].as_str().unwrap();
        let se = f[0]["series_uid"].as_str().unwrap();
        let other = f.iter().find(|e| e["series_uid"] != se).unwrap()["sop_uid"]
            .as_str()
            .unwrap();
        let status = |u: String, a: &'static str| {
            let c = c.clone();
            async move {
                c.get(u)
                    .header("Accept", a)
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            }
        };
        assert_eq!(status(format!("{base}/studies/1.2.3.4"), "*/*").await, 404);
        assert_eq!(
            status(format!("{base}/studies/{s}/series/1.2.3"), "*/*").await,
            404
        );
        assert_eq!(
            status(
                format!("{base}/studies/{s}/series/{se}/instances/{other}"),
                "*/*"
            )
            .await,
            404
        );
        assert_eq!(status(format!("{base}/studies/abc"), "*/*").await, 400);
        assert_eq!(
            status(format!("{base}/studies/{s}"), "application/zip").await,
            406
        );
        assert_eq!(
            status(format!("{base}/studies/{s}"), "text/html").await,
            406
        );
        assert_eq!(
            status(format!("{base}/studies/{s}"), "application/dicom").await,
            406
        );
        let sop = f[0]["sop_uid"].as_str().unwrap();
        let one = get_multipart(
            &format!("{base}/studies/{s}/series/{se}/instances/{sop}"),
            None,
        )
        .await;
        assert_eq!((one.status, one.parts.len()), (200, 1));
        // The accept query parameter stands for the header.
        let via_query = c
            .get(format!("{base}/studies/{s}?accept=application%2Fzip"))
            .send()
            .await
            .unwrap();
        assert_eq!(via_query.status(), 406);
        server.shutdown().await;
    }

    async fn series_url(server: &crate::reference::ReferenceServer, ts: &str) -> String {
        let e = fixture("CT-CHEST")
            .into_iter()
            .chain(fixture("MR-BRAIN"))
            .find(|e| e["transfer_syntax"] == ts)
            .unwrap();
        format!(
            "{}/studies/{}/series/{}",
            server.dicomweb_base(),
            e["study_uid"].as_str().unwrap(),
            e["series_uid"].as_str().unwrap()
        )
    }

    #[tokio::test]
    async fn fault_truncated_multipart() {
        let server = start(&[Fault::TruncatedMultipart]).await;
        let r = get_multipart(&series_url(&server, EXPLICIT_VR_LE).await, None).await;
        assert_eq!(r.status, 200);
        assert!(!r.complete);
        assert_eq!(r.parts.len(), 1);
        server.shutdown().await;
    }

    #[tokio::test]
    async fn fault_multipart_without_type() {
        let server = start(&[Fault::MultipartWithoutType]).await;
        let r = get_multipart(&series_url(&server, EXPLICIT_VR_LE).await, None).await;
        assert_eq!(r.content_type.param("type"), None);
        assert!(r.complete && !r.parts.is_empty());
        server.shutdown().await;
    }

    #[tokio::test]
    async fn fault_part_content_type_mismatch() {
        let server = start(&[Fault::PartContentTypeMismatch]).await;
        let r = get_multipart(&series_url(&server, EXPLICIT_VR_LE).await, None).await;
        assert_eq!(r.content_type.param("type"), Some("application/dicom"));
        assert!(r
            .parts
            .iter()
            .all(|(h, _)| header(h, "content-type") == Some("application/octet-stream")));
        server.shutdown().await;
    }

    #[tokio::test]
    async fn fault_implicit_vr_parts() {
        let server = start(&[Fault::ImplicitVrParts]).await;
        let r = get_multipart(&series_url(&server, EXPLICIT_VR_LE).await, None).await;
        assert_eq!(r.status, 200);
        assert!(r.parts.iter().all(|(h, _)| part_ts(h) == IMPLICIT_VR_LE));
        let obj = dicom_object::from_reader(&r.parts[0].1[128..]).unwrap();
        assert_eq!(obj.meta().transfer_syntax(), IMPLICIT_VR_LE);
        server.shutdown().await;
    }

    #[tokio::test]
    async fn fault_ignore_transfer_syntax() {
        let server = start(&[Fault::IgnoreTransferSyntax]).await;
        let r = get_multipart(&series_url(&server, "1.2.840.10008.1.2.4.70").await, None).await;
        assert_eq!(r.status, 200);
        assert!(r
            .parts
            .iter()
            .all(|(h, _)| part_ts(h) == "1.2.840.10008.1.2.4.70"));
        server.shutdown().await;
    }

    #[tokio::test]
    async fn fault_missing_instance() {
        let server = start(&[Fault::MissingInstance]).await;
        let url = series_url(&server, EXPLICIT_VR_LE).await;
        let n = fixture("CT-CHEST")
            .iter()
            .filter(|e| url.ends_with(e["series_uid"].as_str().unwrap()))
            .count();
        let r = get_multipart(&url, None).await;
        assert_eq!((r.status, r.parts.len()), (200, n - 1));
        server.shutdown().await;
    }

    #[tokio::test]
    async fn fault_non_dicom_part() {
        let server = start(&[Fault::NonDicomPart]).await;
        let r = get_multipart(&series_url(&server, EXPLICIT_VR_LE).await, None).await;
        let (_, last) = r.parts.last().unwrap();
        assert_eq!(last.as_slice(), NOT_DICOM);
        assert_eq!(&r.parts[0].1[128..132], b"DICM");
        server.shutdown().await;
    }

    #[tokio::test]
    async fn fault_wrong_status_unknown_study() {
        let server = start(&[Fault::WrongStatusUnknownStudy]).await;
        let r = client()
            .get(format!("{}/studies/1.2.3.4", server.dicomweb_base()))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 500);
        server.shutdown().await;
    }

    #[tokio::test]
    async fn fault_ok_for_unacceptable() {
        let server = start(&[Fault::OkForUnacceptable]).await;
        let r = get_multipart(
            &series_url(&server, "1.2.840.10008.1.2.4.70").await,
            Some("multipart/related; type=\"application/dicom\"; transfer-syntax=1.2.840.10008.1.2.4.50"),
        )
        .await;
        assert_eq!(r.status, 200);
        assert!(r
            .parts
            .iter()
            .all(|(h, _)| part_ts(h) == "1.2.840.10008.1.2.4.70"));
        server.shutdown().await;
    }

    #[tokio::test]
    async fn fault_stall_mid_response() {
        let server = start(&[Fault::StallMidResponse]).await;
        let url = series_url(&server, EXPLICIT_VR_LE).await;
        let r = client().get(&url).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let mut stream = r.bytes_stream();
        use futures_util::StreamExt;
        let mut got = 0usize;
        // The first part arrives quickly; then nothing for the stall time.
        let quick = tokio::time::timeout(std::time::Duration::from_millis(800), async {
            while let Some(c) = stream.next().await {
                got += c.unwrap().len();
            }
        })
        .await;
        assert!(
            quick.is_err(),
            "the body must not complete before the stall ends"
        );
        assert!(got > 0);
        server.shutdown().await;
    }

    #[tokio::test]
    async fn fault_stall_before_headers() {
        let server = start(&[Fault::StallBeforeHeaders]).await;
        let url = series_url(&server, EXPLICIT_VR_LE).await;
        let slow = tokio::time::timeout(
            std::time::Duration::from_millis(800),
            client().get(&url).send(),
        )
        .await;
        assert!(
            slow.is_err(),
            "headers must not arrive before the stall ends"
        );
        server.shutdown().await;
    }
}
