//! The reference's XC-WADO Responding Imaging Gateway: Cross-community WADO-RS Retrieve
//! (RAD-160) for the images of its community, whose image source is the reference's own WADO-RS
//! service or, with `serve --wado-upstream`, a real origin server (Orthanc in the tests).
//!
//! The URL form is IHE RAD MADO Rev 1.1 Appendix XA's (Fig. XA-2, an example the appendix gives):
//! `/xc-wado/responding-gateway/homeCommunityId/{OID}/RetrieveLocationUID/{UID}/studies/{StudyUID}…`.
//! The gateway checks that the community is its own and the Retrieve Location UID that of its
//! image source, strips both, and calls the source with the PS3.18 resource that follows (step
//! [3]); the source's answer is relayed as it comes (step [4]), streamed, never held whole. The
//! appendix prints `study/`; the gateway takes it for PS3.18's `studies/` (an example's spelling,
//! not a grammar). An unknown community or Retrieve Location UID is answered 404 (PS3.18 §10.4.3
//! for an unknown resource; MADO fixes no status for it, so the harness judges none).
//!
//! Only GET is routed: MADO §4.107.4.0.5 binds the XC-WADO Responder to WADO-RS "Get Instances"
//! (study, series, instance), and the gateway relays the other WADO-RS resources the source has
//! (metadata, rendered) the same way.

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use futures_util::TryStreamExt;
use tower::ServiceExt;

use crate::config::xc_wado::DEFAULT_RETRIEVE_LOCATION_UID;
use crate::config::xca::DEFAULT_HOME_COMMUNITY_ID;
use crate::reference::faults::Fault;
use crate::reference::state::Shared;

/// The gateway's XC-WADO root below the server root.
pub const XC_WADO_PATH: &str = "/xc-wado/responding-gateway";

/// The gateway's route.
pub fn routes() -> Router<Shared> {
    Router::new().route(
        &format!("{XC_WADO_PATH}/homeCommunityId/{{hcid}}/RetrieveLocationUID/{{uid}}/{{*rest}}"),
        get(relay),
    )
}

fn refuse(status: StatusCode, why: String) -> Response {
    (status, [("content-type", "text/plain; charset=utf-8")], why).into_response()
}

/// The PS3.18 resource below the Retrieve Location UID: `study/` read as `studies/`.
fn resource(rest: &str) -> String {
    match rest.strip_prefix("study/") {
        Some(tail) => format!("studies/{tail}"),
        None if rest == "study" => "studies".into(),
        None => rest.to_string(),
    }
}

/// Is the resource a series-level Get Instances (`studies/{uid}/series/{uid}`)?
fn series_level(resource: &str) -> bool {
    let parts: Vec<&str> = resource.trim_end_matches('/').split('/').collect();
    parts.len() == 4 && parts[0] == "studies" && parts[2] == "series"
}

async fn relay(
    State(st): State<Shared>,
    Path((hcid, uid, rest)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let own = DEFAULT_HOME_COMMUNITY_ID
        .strip_prefix("urn:oid:")
        .unwrap_or(DEFAULT_HOME_COMMUNITY_ID);
    let hcid = hcid.strip_prefix("urn:oid:").unwrap_or(&hcid);
    if hcid != own {
        return refuse(
            StatusCode::NOT_FOUND,
            format!("this gateway answers for community {own}, not {hcid}"),
        );
    }
    if uid != DEFAULT_RETRIEVE_LOCATION_UID {
        return refuse(
            StatusCode::NOT_FOUND,
            format!("no image source with Retrieve Location UID {uid} in this community"),
        );
    }
    let resource = resource(&rest);
    // Only the PS3.18 study resources, and no dot segments: the gateway is not an open proxy to
    // the rest of the image source's API.
    if !resource.starts_with("studies/")
        || resource
            .split('/')
            .any(|seg| seg == ".." || seg == "." || seg.contains('%'))
    {
        return refuse(
            StatusCode::NOT_FOUND,
            format!("{resource} is not a WADO-RS study resource"),
        );
    }
    if st.has(Fault::XcwadoRigNoSeries) && series_level(&resource) {
        return refuse(
            StatusCode::NOT_FOUND,
            "series-level retrieval is not offered".into(),
        );
    }
    let accept = headers.get("accept").cloned();
    match st.upstream() {
        Some(up) => {
            let mut url = format!("{}/{resource}", up.base());
            if let Some(q) = &query {
                url.push('?');
                url.push_str(q);
            }
            let mut req = up.client().get(&url);
            if let Some(a) = &accept {
                req = req.header("accept", a.as_bytes());
            }
            match req.send().await {
                Ok(resp) => {
                    let status = StatusCode::from_u16(resp.status().as_u16())
                        .unwrap_or(StatusCode::BAD_GATEWAY);
                    let content_type = resp
                        .headers()
                        .get("content-type")
                        .and_then(|v| HeaderValue::from_bytes(v.as_bytes()).ok());
                    let body =
                        Body::from_stream(resp.bytes_stream().map_err(std::io::Error::other));
                    let mut out = Response::new(body);
                    *out.status_mut() = status;
                    if let Some(ct) = content_type {
                        out.headers_mut().insert("content-type", ct);
                    }
                    out
                }
                Err(e) => refuse(
                    StatusCode::BAD_GATEWAY,
                    format!("the image source did not answer: {e}"),
                ),
            }
        }
        None => {
            // The community's image source is the reference's own WADO-RS service.
            let mut uri = format!("/dicom-web/{resource}");
            if let Some(q) = &query {
                uri.push('?');
                uri.push_str(q);
            }
            let mut req = Request::get(uri.as_str());
            if let Some(a) = accept {
                req = req.header("accept", a);
            }
            let Ok(req) = req.body(Body::empty()) else {
                return refuse(StatusCode::BAD_REQUEST, "not a WADO-RS resource".into());
            };
            let source = crate::reference::dicomweb::routes(st.clone()).with_state(st.clone());
            match source.oneshot(req).await {
                Ok(r) => r,
                Err(never) => match never {},
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_appendix_spelling_is_read_as_the_ps3_18_resource() {
        assert_eq!(resource("study/1.2/series/3"), "studies/1.2/series/3");
        assert_eq!(resource("studies/1.2"), "studies/1.2");
        assert!(series_level("studies/1.2/series/3"));
        assert!(!series_level("studies/1.2/series/3/instances/4"));
        assert!(!series_level("studies/1.2"));
    }

    /// The relay reaches only study resources of the source, whatever the path asks.
    #[tokio::test]
    async fn the_gateway_relays_study_resources_only() {
        use crate::reference::{ReferenceOptions, ReferenceServer};
        let opts = ReferenceOptions::new(crate::reference::tests::fixtures_dir());
        let Ok(server) = ReferenceServer::start(opts).await else {
            panic!("reference server");
        };
        let root = server.xc_wado_base();
        let client = crate::reference::tests::client();
        let own = "homeCommunityId/1.3.6.1.4.1.21367.13.70.201/RetrieveLocationUID/1.3.6.1.4.1.21367.13.71.201.1";
        for (tail, want) in [
            (format!("{own}/studies/../../xds/registry"), 404),
            (format!("{own}/instances"), 404),
            ("homeCommunityId/1.2.999/RetrieveLocationUID/1.3.6.1.4.1.21367.13.71.201.1/studies/1.2".to_string(), 404),
            ("homeCommunityId/1.3.6.1.4.1.21367.13.70.201/RetrieveLocationUID/1.2.3/studies/1.2".to_string(), 404),
            (format!("{own}/studies/2.25.1"), 404),
        ] {
            let r = client.get(format!("{root}/{tail}")).send().await;
            let status = r.map(|r| r.status().as_u16()).unwrap_or(0);
            assert_eq!(status, want, "{tail}");
        }
        server.shutdown().await;
    }
}
