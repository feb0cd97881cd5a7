//! `validate --serve ADDR`: the Gazelle validation API v2 over HTTP, so that Gazelle EVS or the
//! EU Interoperability Test Bed call the harness as a validation service.
//!
//! - `GET /validation/v2/profiles`: one [`gazelle::ValidationProfile`] per [`FileType`].
//! - `POST /validation/v2/validate`: a [`gazelle::ValidationRequest`] (`validationProfileId`, a
//!   type of `validate --as` or `auto`; `inputs` with base64 `content`) answered with the
//!   [`gazelle::ValidationReport`]. A body over [`MAX_REQUEST_BYTES`] is refused with 413, a
//!   request that is not the model, names an unknown profile or carries content that is not
//!   base64 with 400 and a plain message; nothing a client sends makes the server panic.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::Engine;

use super::{FileType, Options};
use crate::config::DEFAULT_MAX_BODY;
use crate::report::gazelle;

/// The largest request body taken: base64 of a file of [`crate::config::DEFAULT_MAX_BODY`]
/// bytes (4 MiB, the body a run reads) and then some, twice over.
pub const MAX_REQUEST_BYTES: usize = 2 * DEFAULT_MAX_BODY as usize;
/// The most inputs in one request.
pub const MAX_INPUTS: usize = 64;

fn json(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn refuse(status: StatusCode, message: impl Into<String>) -> Response {
    let body = serde_json::json!({ "status": status.as_u16(), "message": message.into() });
    json(status, body.to_string())
}

async fn profiles() -> Response {
    let all: Vec<gazelle::ValidationProfile> = FileType::ALL.iter().map(|t| t.profile()).collect();
    json(
        StatusCode::OK,
        serde_json::to_string(&all).unwrap_or_else(|_| "[]".into()),
    )
}

/// Judge one Gazelle v2 request; `Err` is the refusal to send.
pub fn validate_request(
    body: &[u8],
    base: &Options,
) -> Result<gazelle::ValidationReport, (u16, String)> {
    let req: gazelle::ValidationRequest = serde_json::from_slice(body).map_err(|e| {
        (
            400,
            format!("not a validation request (Gazelle API v2): {e}"),
        )
    })?;
    if let Some(s) = req
        .validation_service_name
        .as_deref()
        .filter(|s| !s.is_empty() && *s != "ihe-harness")
    {
        return Err((
            400,
            format!("unknown validationServiceName {s}; this is ihe-harness"),
        ));
    }
    let profile = req
        .validation_profile_id
        .clone()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "auto".into());
    let as_type = if profile == "auto" {
        None
    } else {
        Some(FileType::parse(&profile).ok_or_else(|| {
            (
                400,
                format!(
                    "unknown validationProfileId {profile}; GET /validation/v2/profiles lists them"
                ),
            )
        })?)
    };
    if req.inputs.is_empty() {
        return Err((400, "the request has no inputs".into()));
    }
    if req.inputs.len() > MAX_INPUTS {
        return Err((400, format!("more than {MAX_INPUTS} inputs")));
    }
    let opts = Options {
        as_type,
        ..base.clone()
    };
    let mut judgements = Vec::new();
    for (i, input) in req.inputs.iter().enumerate() {
        let id = if input.id.is_empty() {
            format!("input-{}", i + 1)
        } else {
            input.id.clone()
        };
        let content = input.content.as_deref().unwrap_or("");
        let cleaned: String = content
            .chars()
            .filter(|c| !c.is_ascii_whitespace())
            .collect();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(cleaned.as_bytes())
            .map_err(|e| (400, format!("input {id}: content is not base64: {e}")))?;
        judgements.push(super::judge(&id, &bytes, &opts));
    }
    Ok(super::gazelle_report(&profile, &judgements))
}

async fn validate(State(opts): State<Arc<Options>>, body: Bytes) -> Response {
    let result = tokio::task::spawn_blocking(move || validate_request(&body, &opts)).await;
    match result {
        Ok(Ok(report)) => match serde_json::to_string_pretty(&report) {
            Ok(s) => json(StatusCode::OK, s),
            Err(e) => refuse(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        },
        Ok(Err((code, message))) => refuse(
            StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST),
            message,
        ),
        Err(_) => refuse(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the validation did not complete",
        ),
    }
}

/// The service's routes.
pub fn router(opts: Options) -> Router {
    Router::new()
        .route("/validation/v2/profiles", get(profiles))
        .route("/validation/v2/validate", post(validate))
        .layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES))
        .with_state(Arc::new(opts))
}

/// Serve on a bound listener until the process ends.
pub async fn serve(listener: tokio::net::TcpListener, opts: Options) -> std::io::Result<()> {
    axum::serve(listener, router(opts)).await
}

/// `validate --serve ADDR`: bind, say where, serve.
pub async fn command(addr: std::net::SocketAddr, opts: Options) -> u8 {
    let listener = match tokio::net::TcpListener::bind(addr).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: cannot bind {addr}: {e}");
            return 2;
        }
    };
    let local = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    println!("Gazelle validation API v2 on http://{local}/validation/v2 (profiles, validate)");
    match serve(listener, opts).await {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}
