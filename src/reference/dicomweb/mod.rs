//! The reference DICOMweb origin server (PS3.18): WADO-RS (10.4; IHE RAD-107), QIDO-RS (10.6;
//! RAD-129) and STOW-RS (10.5; RAD-108) below `/dicom-web`, strict about requests.
//!
//! - [`retrieve`]: instance retrieval as `multipart/related; type="application/dicom"`;
//! - [`metadata`]: metadata in DICOM JSON with `BulkDataURI`s;
//! - [`bulkdata`]: bulk data and frames;
//! - [`rendered`], [`png`] and [`gif`]: rendered resources as JPEG (baseline, the default), PNG and GIF;
//! - [`qido`]: search, matched by [`crate::reference::store::query`];
//! - [`stow`]: STOW-RS into the archive through the spool;
//! - [`capabilities`]: the `OPTIONS` answer of the service root;
//! - [`negotiate`]: Accept negotiation (PS3.18 8.7);
//! - [`origin`]: the same services below `/origin/dicom-web` for a SUT user agent, each request recorded;
//! - [`multipart_body`], [`json`], [`web`]: response bodies and HTTP plumbing.

pub mod bulkdata;
pub mod capabilities;
pub mod gif;
pub mod json;
pub mod metadata;
pub mod multipart_body;
pub mod negotiate;
pub mod origin;
pub mod png;
pub mod qido;
pub mod rendered;
pub mod retrieve;
pub mod stow;
pub mod web;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, options};
use axum::Router;

use crate::reference::state::Shared;

/// The DICOMweb resources below [`web::SERVICE_PATH`], with the fault hooks of [`web::fault_hooks`].
pub fn routes(state: Shared) -> Router<Shared> {
    let s = web::SERVICE_PATH;
    let i = format!("{s}/studies/{{study}}/series/{{series}}/instances/{{instance}}");
    Router::new()
        .route(s, options(capabilities::options))
        .route(&format!("{s}/"), options(capabilities::options))
        .route(
            &format!("{s}/studies"),
            get(qido::search_studies).post(stow::store),
        )
        .route(&format!("{s}/series"), get(qido::search_series))
        .route(&format!("{s}/instances"), get(qido::search_instances))
        .route(
            &format!("{s}/studies/{{study}}"),
            get(retrieve::study).post(stow::store_in_study),
        )
        .route(
            &format!("{s}/studies/{{study}}/metadata"),
            get(metadata::study),
        )
        .route(
            &format!("{s}/studies/{{study}}/series"),
            get(qido::search_study_series),
        )
        .route(
            &format!("{s}/studies/{{study}}/instances"),
            get(qido::search_study_instances),
        )
        .route(
            &format!("{s}/studies/{{study}}/series/{{series}}"),
            get(retrieve::series),
        )
        .route(
            &format!("{s}/studies/{{study}}/series/{{series}}/metadata"),
            get(metadata::series),
        )
        .route(
            &format!("{s}/studies/{{study}}/series/{{series}}/instances"),
            get(qido::search_series_instances),
        )
        .route(&i, get(retrieve::instance))
        .route(&format!("{i}/metadata"), get(metadata::instance))
        .route(&format!("{i}/bulkdata/{{tag}}"), get(bulkdata::bulkdata))
        .route(&format!("{i}/frames/{{frames}}"), get(bulkdata::frames))
        .route(&format!("{i}/rendered"), get(rendered::instance))
        .route(
            &format!("{i}/frames/{{frames}}/rendered"),
            get(rendered::frame),
        )
        .layer(DefaultBodyLimit::disable())
        .layer(axum::middleware::from_fn_with_state(
            state,
            web::fault_hooks,
        ))
}
