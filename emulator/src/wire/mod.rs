//! The wire protocols the emulated services speak, and how one request is recognised.
//!
//! One port serves every service, as the real endpoints differ only by host name:
//! - CloudWatch, RPC v2 CBOR: `POST /service/GraniteServiceVersion20100801/operation/<Op>`
//!   (what the Rust SDK sends);
//! - CloudWatch, awsJson 1.0: `X-Amz-Target: GraniteServiceVersion20100801.<Op>` (botocore);
//! - CloudWatch Logs and Firehose, awsJson 1.1: `X-Amz-Target: Logs_20140328.<Op>` and
//!   `Firehose_20150804.<Op>`;
//! - X-Ray, restJson 1: `POST /<Op>` for the sampling-rule and tagging operations;
//! - STS, awsQuery: `POST /` with a form-encoded body (`Action=AssumeRole&...`), signed for the
//!   `sts` service; the operation is the body's `Action`, read once the body is in.

mod cbor;
mod json;

use axum::body::Body;
use http::{HeaderMap, HeaderValue, Response, StatusCode};
use serde::{Serialize, de::DeserializeOwned};

use crate::error::{AwsError, AwsResult};

/// The services behind the port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Service {
    CloudWatch,
    Logs,
    Firehose,
    XRay,
    Sts,
}

impl Service {
    /// The key used in call counts and quota settings.
    pub fn key(self) -> &'static str {
        match self {
            Service::CloudWatch => "cloudwatch",
            Service::Logs => "logs",
            Service::Firehose => "firehose",
            Service::XRay => "xray",
            Service::Sts => "sts",
        }
    }

    pub fn from_key(key: &str) -> Option<Self> {
        match key {
            "cloudwatch" => Some(Service::CloudWatch),
            "logs" => Some(Service::Logs),
            "firehose" => Some(Service::Firehose),
            "xray" => Some(Service::XRay),
            "sts" => Some(Service::Sts),
            _ => None,
        }
    }

    /// CloudWatch carries the `@awsQueryCompatible` trait: its JSON and CBOR errors add the
    /// `x-amzn-query-error` header with the legacy query error code.
    pub fn query_compatible(self) -> bool {
        self == Service::CloudWatch
    }
}

/// The wire protocol of one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    RpcV2Cbor,
    AwsJson10,
    AwsJson11,
    RestJson1,
    /// Form-encoded request, XML answer (STS).
    AwsQuery,
}

/// What a request addresses: service, operation and the protocol it came in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub service: Service,
    pub operation: String,
    pub protocol: Protocol,
}

const CLOUDWATCH_TARGET_PREFIX: &str = "GraniteServiceVersion20100801";
const LOGS_TARGET_PREFIX: &str = "Logs_20140328";
const FIREHOSE_TARGET_PREFIX: &str = "Firehose_20150804";
const CBOR_PATH_PREFIX: &str = "/service/GraniteServiceVersion20100801/operation/";

/// The X-Ray operations routed by path (restJson 1: each has its own `POST /<Op>` URI).
pub const XRAY_OPERATIONS: &[&str] = &[
    "CreateSamplingRule",
    "GetSamplingRules",
    "UpdateSamplingRule",
    "DeleteSamplingRule",
    "TagResource",
    "UntagResource",
    "ListTagsForResource",
];

/// Recognises the service, operation and protocol of a request from its path and headers. An
/// awsQuery request's operation is its body's `Action`: it is left empty here.
pub fn recognise(path: &str, headers: &HeaderMap) -> Option<Target> {
    let form = headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if form {
        let signed_for = crate::signing_scope::signature_of(headers).service;
        return (signed_for == Some("sts")).then(|| Target {
            service: Service::Sts,
            operation: String::new(),
            protocol: Protocol::AwsQuery,
        });
    }
    if let Some(operation) = path.strip_prefix(CBOR_PATH_PREFIX) {
        return Some(Target {
            service: Service::CloudWatch,
            operation: operation.trim_end_matches('/').to_string(),
            protocol: Protocol::RpcV2Cbor,
        });
    }
    if let Some(target) = headers.get("x-amz-target").and_then(|v| v.to_str().ok()) {
        let (prefix, operation) = target.split_once('.')?;
        let (service, protocol) = match prefix {
            CLOUDWATCH_TARGET_PREFIX => (Service::CloudWatch, Protocol::AwsJson10),
            LOGS_TARGET_PREFIX => (Service::Logs, Protocol::AwsJson11),
            FIREHOSE_TARGET_PREFIX => (Service::Firehose, Protocol::AwsJson11),
            _ => return None,
        };
        return Some(Target {
            service,
            operation: operation.to_string(),
            protocol,
        });
    }
    let operation = path.trim_start_matches('/').trim_end_matches('/');
    XRAY_OPERATIONS.contains(&operation).then(|| Target {
        service: Service::XRay,
        operation: operation.to_string(),
        protocol: Protocol::RestJson1,
    })
}

/// A successful operation result, encoded for the protocol.
pub enum Encoded {
    /// Operations whose output is Smithy `Unit` (PutMetricAlarm, CreateLogGroup, ...).
    Unit,
    Body(Vec<u8>),
    /// An awsQuery operation's `<OpResult>` content, wrapped with the request id on the way out.
    Query {
        operation: String,
        result: String,
    },
}

impl Protocol {
    fn content_type(self) -> &'static str {
        match self {
            Protocol::RpcV2Cbor => "application/cbor",
            Protocol::AwsJson10 => "application/x-amz-json-1.0",
            Protocol::AwsJson11 => "application/x-amz-json-1.1",
            Protocol::RestJson1 => "application/json",
            Protocol::AwsQuery => "text/xml",
        }
    }

    /// Decodes an operation input. An empty body reads as an empty structure, as the
    /// protocols allow for inputs whose members are all optional.
    pub fn decode<T: DeserializeOwned>(self, body: &[u8]) -> AwsResult<T> {
        match self {
            Protocol::RpcV2Cbor => cbor::decode(body),
            _ => json::decode(body),
        }
    }

    pub fn encode<T: Serialize>(self, value: &T) -> AwsResult<Encoded> {
        let bytes = match self {
            Protocol::RpcV2Cbor => cbor::encode(value)?,
            _ => json::encode(value)?,
        };
        Ok(Encoded::Body(bytes))
    }

    fn base_response(self, status: u16, request_id: &str) -> http::response::Builder {
        let mut builder = Response::builder()
            .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
            .header("x-amzn-requestid", request_id);
        if self == Protocol::RpcV2Cbor {
            // Smithy RPC v2: every response names the protocol.
            builder = builder.header("smithy-protocol", "rpc-v2-cbor");
        }
        builder
    }

    /// The HTTP response for a successful operation.
    pub fn success(self, output: Encoded, request_id: &str) -> Response<Body> {
        let builder = self.base_response(200, request_id);
        let response = match output {
            // RPC v2 CBOR: an operation without output answers with no body at all.
            Encoded::Unit if self == Protocol::RpcV2Cbor => builder.body(Body::empty()),
            Encoded::Unit => builder
                .header(http::header::CONTENT_TYPE, self.content_type())
                .body(Body::from("{}")),
            Encoded::Body(bytes) => builder
                .header(http::header::CONTENT_TYPE, self.content_type())
                .body(Body::from(bytes)),
            Encoded::Query { operation, result } => builder
                .header(http::header::CONTENT_TYPE, self.content_type())
                .body(Body::from(crate::sts::query::response(
                    &operation, &result, request_id,
                ))),
        };
        response.expect("static response parts are valid")
    }

    /// The HTTP response for an error, shaped as the service sends it on this protocol.
    pub fn error(self, service: Service, error: &AwsError, request_id: &str) -> Response<Body> {
        let mut builder = self
            .base_response(error.status, request_id)
            .header(http::header::CONTENT_TYPE, self.content_type());
        if service.query_compatible()
            && let Ok(value) = HeaderValue::from_str(&error.query_error_header())
        {
            builder = builder.header("x-amzn-query-error", value);
        }
        if self == Protocol::RestJson1
            && let Ok(value) = HeaderValue::from_str(&error.code)
        {
            // restJson 1 clients read the code from this header first.
            builder = builder.header("x-amzn-errortype", value);
        }
        let body = match self {
            Protocol::RpcV2Cbor => cbor::error_body(error),
            Protocol::AwsQuery => crate::sts::query::error_response(error, request_id).into_bytes(),
            _ => json::error_body(error, self == Protocol::RestJson1),
        };
        builder
            .body(Body::from(body))
            .expect("static response parts are valid")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(target: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-amz-target", HeaderValue::from_str(target).unwrap());
        headers
    }

    #[test]
    fn cbor_path_routes_to_cloudwatch() {
        let target = recognise(
            "/service/GraniteServiceVersion20100801/operation/PutMetricAlarm",
            &HeaderMap::new(),
        )
        .unwrap();
        assert_eq!(target.service, Service::CloudWatch);
        assert_eq!(target.operation, "PutMetricAlarm");
        assert_eq!(target.protocol, Protocol::RpcV2Cbor);
    }

    #[test]
    fn target_header_routes_json_services() {
        let cw = recognise(
            "/",
            &headers("GraniteServiceVersion20100801.DescribeAlarms"),
        )
        .unwrap();
        assert_eq!(
            (cw.service, cw.protocol),
            (Service::CloudWatch, Protocol::AwsJson10)
        );
        let logs = recognise("/", &headers("Logs_20140328.CreateLogGroup")).unwrap();
        assert_eq!(
            (logs.service, logs.protocol),
            (Service::Logs, Protocol::AwsJson11)
        );
        let fh = recognise("/", &headers("Firehose_20150804.ListDeliveryStreams")).unwrap();
        assert_eq!(
            (fh.service, fh.protocol),
            (Service::Firehose, Protocol::AwsJson11)
        );
        assert!(recognise("/", &headers("DynamoDB_20120810.ListTables")).is_none());
    }

    #[test]
    fn a_form_signed_for_sts_is_an_sts_query() {
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded; charset=utf-8"),
        );
        headers.insert(
            http::header::AUTHORIZATION,
            HeaderValue::from_static(
                "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/sts/aws4_request, \
                 SignedHeaders=host, Signature=x",
            ),
        );
        let target = recognise("/", &headers).unwrap();
        assert_eq!(
            (target.service, target.protocol),
            (Service::Sts, Protocol::AwsQuery)
        );
        // CloudWatch's own awsQuery protocol (older SDKs) is not served.
        headers.insert(
            http::header::AUTHORIZATION,
            HeaderValue::from_static(
                "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/monitoring/aws4_request, \
                 SignedHeaders=host, Signature=x",
            ),
        );
        assert!(recognise("/", &headers).is_none());
    }

    #[test]
    fn xray_routes_by_path() {
        let target = recognise("/GetSamplingRules", &HeaderMap::new()).unwrap();
        assert_eq!(
            (target.service, target.protocol),
            (Service::XRay, Protocol::RestJson1)
        );
        assert!(recognise("/Unknown", &HeaderMap::new()).is_none());
    }
}
