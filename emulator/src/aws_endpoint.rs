//! The AWS side of the port: recognise the request, apply faults and quotas, run the
//! operation, count the outcome and answer in the request's protocol.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, to_bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::response::Response;
use rand::RngExt;

use crate::calls::Outcome;
use crate::connection::ConnectionHandle;
use crate::emulator::Shared;
use crate::error::AwsError;
use crate::faults::{NetworkFault, throttling_error};
use crate::sts;
use crate::wire::{self, Protocol, Service};

/// Larger than any request the emulated operations accept.
const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// A request id in the UUID form AWS uses.
fn request_id() -> String {
    let n: u128 = rand::rng().random();
    let hex = format!("{n:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// How long a reset request waits for hyper to drop it before answering after all.
const RESET_GRACE: Duration = Duration::from_secs(5);

pub async fn handle(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(connection): ConnectInfo<ConnectionHandle>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let request_id = request_id();
    let Some(target) = wire::recognise(parts.uri.path(), &parts.headers) else {
        // Neither a known path nor a known X-Amz-Target: answer like an unknown action.
        let error = AwsError::bad_request(
            "UnknownOperationException",
            format!(
                "No emulated operation at {} {}",
                parts.method,
                parts.uri.path()
            ),
        );
        return Protocol::AwsJson11.error(Service::Logs, &error, &request_id);
    };
    let service = target.service;
    let body = match to_bytes(body, MAX_BODY_BYTES).await {
        Ok(body) => body,
        Err(error) => {
            let error = AwsError::serialization(format!("Cannot read request body: {error}"));
            return target.protocol.error(service, &error, &request_id);
        }
    };
    // awsQuery names its operation in the body.
    let form = match target.protocol {
        Protocol::AwsQuery => match sts::query::decode(&body) {
            Ok(fields) => Some(fields),
            Err(error) => return target.protocol.error(service, &error, &request_id),
        },
        _ => None,
    };
    let operation = match &form {
        Some(fields) => match fields.get("Action") {
            Some(action) => action.clone(),
            None => {
                let error = AwsError::bad_request("MissingAction", "Missing Action");
                return target.protocol.error(service, &error, &request_id);
            }
        },
        None => target.operation.clone(),
    };
    let (scope, caller) = match shared.identify(&parts.headers, service) {
        Ok(identified) => identified,
        Err(error) => {
            shared.calls.record(
                None,
                service.key(),
                &operation,
                Outcome::Error {
                    code: &error.code,
                    throttled: false,
                    injected: false,
                },
            );
            shared
                .journal
                .note(None, service.key(), &operation, &error.code, &body);
            tracing::debug!(service = service.key(), %operation, %error, "credentials refused");
            return target.protocol.error(service, &error, &request_id);
        }
    };
    let account = Some(scope.account.as_str());

    let decision = shared.decide_faults(service, &operation);
    if let Some(delay) = decision.delay {
        tokio::time::sleep(delay).await;
    }
    if let Some(fault) = decision.network {
        shared.calls.record(
            account,
            service.key(),
            &operation,
            Outcome::Error {
                code: fault.code(),
                throttled: false,
                injected: true,
            },
        );
        shared.journal.note(
            account,
            service.key(),
            &operation,
            &format!("{} (injected)", fault.code()),
            &body,
        );
        tracing::debug!(service = service.key(), %operation, ?fault, "network fault injected");
        return fail_connection(&shared, &connection, fault).await;
    }
    let injected = decision.error.is_some();
    let over_quota = !injected
        && shared
            .quota_of(service, &operation)
            .is_some_and(|tps| !shared.limiter.admit(&scope, service, &operation, tps));
    let result = match decision.error {
        Some(error) => Err(error),
        None if over_quota => Err(throttling_error(service)),
        None => match &form {
            Some(fields) => shared.execute_sts(&caller, &operation, fields),
            None => shared.execute(&scope, &target, &body),
        },
    };
    let response = match result {
        Ok(output) => {
            shared
                .calls
                .record(account, service.key(), &operation, Outcome::Ok);
            shared
                .journal
                .note(account, service.key(), &operation, "ok", &body);
            target.protocol.success(output, &request_id)
        }
        Err(error) => {
            let throttled = error.code == throttling_error(service).code;
            shared.calls.record(
                account,
                service.key(),
                &operation,
                Outcome::Error {
                    code: &error.code,
                    throttled,
                    injected,
                },
            );
            let outcome = if injected {
                format!("{} (injected)", error.code)
            } else {
                error.code.clone()
            };
            shared
                .journal
                .note(account, service.key(), &operation, &outcome, &body);
            tracing::debug!(service = service.key(), %operation, %error, "answered with an error");
            target.protocol.error(service, &error, &request_id)
        }
    };
    if let Some(slow) = decision.slow {
        // The operation has run; only the answer is late. Stopping answers at once.
        let mut stopping = shared.stopping.clone();
        tokio::select! {
            _ = tokio::time::sleep(slow) => {}
            _ = stopping.wait_for(|stop| *stop) => {}
        }
    }
    response
}

/// Answers nothing. A reset aborts the connection now; a timeout holds the request until the
/// client closes the connection (hyper then drops this future) or the emulator stops (then the
/// connection is reset, so shutdown does not wait for the client).
async fn fail_connection(
    shared: &Shared,
    connection: &ConnectionHandle,
    fault: NetworkFault,
) -> Response {
    if fault == NetworkFault::Timeout {
        let mut stopping = shared.stopping.clone();
        let _ = stopping.wait_for(|stop| *stop).await;
    }
    connection.reset();
    tokio::time::sleep(RESET_GRACE).await;
    tracing::warn!("a reset connection was not dropped; answering 500 instead");
    Response::builder()
        .status(500)
        .body(Body::empty())
        .expect("static response parts are valid")
}

/// An empty 204 response, for admin calls with nothing to say.
pub fn no_content() -> Response {
    Response::builder()
        .status(204)
        .body(Body::empty())
        .expect("static response parts are valid")
}
