//! The admin API under `/_emulator/`: call counts, resets, faults and quotas.
//!
//! | method and path | what it does |
//! |---|---|
//! | `GET /_emulator/health` | `ok` once the emulator serves |
//! | `GET /_emulator/calls` | call counts, see [`crate::calls`] for the JSON shape; `?account=ID`: one account's |
//! | `POST /_emulator/calls/reset` | zero the call counts |
//! | `GET /_emulator/journal` | the journaled calls that change state, see [`crate::journal`]; `?contains=NAME`: those whose request mentions NAME |
//! | `POST /_emulator/reset` | forget every resource of every account and region |
//! | `GET`/`PUT /_emulator/faults` | fault settings, see [`crate::faults::FaultSettings`] |
//! | `GET`/`PUT /_emulator/quotas` | quota settings, see [`crate::quotas::QuotaSettings`]; `GET` adds `effective`, the limits in force |
//! | `POST /_emulator/save` | write the state file now (409 without one) |
//! | `GET /_emulator/iam/roles` | every IAM role with its trust |
//! | `PUT /_emulator/iam/roles` | create or replace one role: `{"arn": ..., "trust": [{"principal": ..., "externalId": ...}], "maxSessionDuration": 3600}` (400 when invalid) |
//! | `GET`/`PUT /_emulator/sts` | STS settings: `{"sessionSeconds": 20}` caps the life of issued credentials |

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

use crate::aws_endpoint::no_content;
use crate::emulator::Shared;
use crate::faults::FaultSettings;
use crate::quotas::QuotaSettings;
use crate::sts::iam::{Role, StsSettings};

type SharedState = State<Arc<Shared>>;

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/_emulator/health", get(|| async { "ok" }))
        .route("/_emulator/calls", get(calls))
        .route("/_emulator/calls/reset", post(reset_calls))
        .route("/_emulator/journal", get(journal))
        .route("/_emulator/reset", post(reset_state))
        .route("/_emulator/faults", get(faults).put(set_faults))
        .route("/_emulator/quotas", get(quotas).put(set_quotas))
        .route("/_emulator/save", post(save))
        .route("/_emulator/iam/roles", get(roles).put(put_role))
        .route("/_emulator/sts", get(sts_settings).put(set_sts_settings))
}

fn bad_request(message: String) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(serde_json::json!({ "error": message })),
    )
        .into_response()
}

/// `?account=ID` of `GET /_emulator/calls`.
#[derive(Deserialize)]
struct CallsQuery {
    account: Option<String>,
}

async fn calls(State(shared): SharedState, Query(query): Query<CallsQuery>) -> Response {
    match query.account {
        Some(account) => Json(shared.calls.snapshot_of(&account)).into_response(),
        None => Json(shared.calls.snapshot()).into_response(),
    }
}

/// `?contains=NAME` of `GET /_emulator/journal`.
#[derive(Deserialize)]
struct JournalQuery {
    #[serde(default)]
    contains: String,
}

async fn journal(State(shared): SharedState, Query(query): Query<JournalQuery>) -> Response {
    Json(shared.journal.matching(&query.contains)).into_response()
}

async fn roles(State(shared): SharedState) -> Response {
    Json(shared.iam().roles()).into_response()
}

async fn put_role(State(shared): SharedState, body: axum::body::Bytes) -> Response {
    let role: Role = match serde_json::from_slice(&body) {
        Ok(role) => role,
        Err(error) => return bad_request(format!("invalid role: {error}")),
    };
    match shared.put_role(role.clone()) {
        Ok(()) => Json(role).into_response(),
        Err(error) => bad_request(format!("invalid role: {error}")),
    }
}

async fn sts_settings(State(shared): SharedState) -> Response {
    Json(shared.sts_settings()).into_response()
}

async fn set_sts_settings(State(shared): SharedState, body: axum::body::Bytes) -> Response {
    match serde_json::from_slice::<StsSettings>(&body) {
        Ok(settings) => {
            shared.set_sts_settings(settings);
            Json(shared.sts_settings()).into_response()
        }
        Err(error) => bad_request(format!("invalid STS settings: {error}")),
    }
}

async fn reset_calls(State(shared): SharedState) -> Response {
    shared.calls.reset();
    no_content()
}

async fn reset_state(State(shared): SharedState) -> Response {
    shared.reset_state();
    no_content()
}

async fn faults(State(shared): SharedState) -> Response {
    Json(shared.faults()).into_response()
}

async fn set_faults(State(shared): SharedState, body: axum::body::Bytes) -> Response {
    let faults: FaultSettings = match serde_json::from_slice(&body) {
        Ok(faults) => faults,
        Err(error) => return bad_request(format!("invalid fault settings: {error}")),
    };
    match shared.set_faults(faults) {
        Ok(()) => Json(shared.faults()).into_response(),
        Err(error) => bad_request(error.to_string()),
    }
}

/// `GET /_emulator/quotas`: the settings plus the limits they put in force.
#[derive(Serialize, Deserialize)]
struct QuotaView {
    enabled: bool,
    overrides: BTreeMap<String, f64>,
    #[serde(default)]
    effective: BTreeMap<String, f64>,
}

fn quota_view(settings: QuotaSettings) -> QuotaView {
    QuotaView {
        effective: settings.effective(),
        enabled: settings.enabled,
        overrides: settings.overrides,
    }
}

async fn quotas(State(shared): SharedState) -> Response {
    Json(quota_view(shared.quotas())).into_response()
}

async fn set_quotas(State(shared): SharedState, body: axum::body::Bytes) -> Response {
    let settings: QuotaSettings = match serde_json::from_slice(&body) {
        Ok(settings) => settings,
        Err(error) => return bad_request(format!("invalid quota settings: {error}")),
    };
    shared.set_quotas(settings);
    Json(quota_view(shared.quotas())).into_response()
}

async fn save(State(shared): SharedState) -> Response {
    if shared.state_file.is_none() {
        return (
            StatusCode::CONFLICT,
            "the emulator was started without a state file",
        )
            .into_response();
    }
    match shared.save_state() {
        Ok(()) => no_content(),
        Err(error) => (StatusCode::INTERNAL_SERVER_ERROR, error.to_string()).into_response(),
    }
}
