//! The capabilities description of the origin server: `OPTIONS` on the service root answers a WADL
//! document listing the resources this server implements (DICOM PS3.18 §8.9 and Annex H: "all
//! origin servers shall support the OPTIONS method on the service root").

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::reference::dicomweb::web::problem;
use crate::reference::faults::Fault;
use crate::reference::state::Shared;

/// The WADL media type used by PS3.18 Annex H.
pub const WADL: &str = "application/vnd.sun.wadl+xml";

const DOCUMENT: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<application xmlns="http://wadl.dev.java.net/2009/02">
  <resources base="/dicom-web">
    <resource path="studies">
      <method name="GET" id="SearchForStudies"/>
      <method name="POST" id="StoreInstances"/>
      <resource path="{StudyInstanceUID}">
        <method name="GET" id="RetrieveStudy"/>
        <method name="POST" id="StoreStudyInstances"/>
        <resource path="metadata"><method name="GET" id="RetrieveStudyMetadata"/></resource>
        <resource path="series">
          <method name="GET" id="SearchForStudySeries"/>
          <resource path="{SeriesInstanceUID}">
            <method name="GET" id="RetrieveSeries"/>
            <resource path="metadata"><method name="GET" id="RetrieveSeriesMetadata"/></resource>
            <resource path="instances">
              <method name="GET" id="SearchForSeriesInstances"/>
              <resource path="{SOPInstanceUID}">
                <method name="GET" id="RetrieveInstance"/>
                <resource path="metadata"><method name="GET" id="RetrieveInstanceMetadata"/></resource>
                <resource path="rendered"><method name="GET" id="RetrieveRenderedInstance"/></resource>
                <resource path="bulkdata/{tag}"><method name="GET" id="RetrieveBulkdata"/></resource>
                <resource path="frames/{frames}"><method name="GET" id="RetrieveFrames"/></resource>
              </resource>
            </resource>
          </resource>
        </resource>
        <resource path="instances"><method name="GET" id="SearchForStudyInstances"/></resource>
      </resource>
    </resource>
    <resource path="series"><method name="GET" id="SearchForSeries"/></resource>
    <resource path="instances"><method name="GET" id="SearchForInstances"/></resource>
  </resources>
</application>
"#;

/// `OPTIONS /dicom-web`.
pub async fn options(State(st): State<Shared>) -> Response {
    if st.has(Fault::NoCapabilities) {
        return problem(StatusCode::METHOD_NOT_ALLOWED, "OPTIONS is not supported");
    }
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(WADL)),
            (
                header::ALLOW,
                HeaderValue::from_static("GET, POST, OPTIONS"),
            ),
        ],
        DOCUMENT,
    )
        .into_response()
}
