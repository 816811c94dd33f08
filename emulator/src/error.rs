//! The error an AWS API answers with, independent of the wire protocol that carries it.

use serde_json::{Map, Value};

/// Who AWS blames for an error; the query-compatible `x-amzn-query-error` header carries it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    Sender,
    Receiver,
}

/// An AWS error response: the code clients match on, the HTTP status, and the message.
#[derive(Clone, Debug)]
pub struct AwsError {
    /// The error code the SDKs surface (`ValidationError`, `ResourceNotFoundException`, ...).
    pub code: String,
    /// The `__type` written into the body when it differs from `code`. CloudWatch is
    /// query-compatible: its body names the Smithy shape (`...#LimitExceededFault`) while the
    /// `x-amzn-query-error` header carries the legacy code (`LimitExceeded`) the SDKs match.
    pub type_name: Option<String>,
    pub status: u16,
    pub fault: Fault,
    pub message: String,
    /// Extra members of the modelled error shape (for example `ResourceType`, `ResourceId`).
    pub fields: Map<String, Value>,
}

impl AwsError {
    pub fn new(status: u16, code: impl Into<String>, message: impl Into<String>) -> Self {
        let fault = if status >= 500 {
            Fault::Receiver
        } else {
            Fault::Sender
        };
        Self {
            code: code.into(),
            type_name: None,
            status,
            fault,
            message: message.into(),
            fields: Map::new(),
        }
    }

    /// A 400 error with the given code.
    pub fn bad_request(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(400, code, message)
    }

    pub fn with_type(mut self, type_name: impl Into<String>) -> Self {
        self.type_name = Some(type_name.into());
        self
    }

    pub fn with_field(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.fields.insert(name.to_string(), value.into());
        self
    }

    /// The value of `__type` in the body.
    pub fn wire_type(&self) -> &str {
        self.type_name.as_deref().unwrap_or(&self.code)
    }

    /// The `x-amzn-query-error` header value: `<code>;<Sender|Receiver>`.
    pub fn query_error_header(&self) -> String {
        let fault = match self.fault {
            Fault::Sender => "Sender",
            Fault::Receiver => "Receiver",
        };
        format!("{};{}", self.code, fault)
    }

    /// Malformed request bodies: every JSON and CBOR protocol answers `SerializationException`.
    pub fn serialization(message: impl Into<String>) -> Self {
        Self::bad_request("SerializationException", message)
    }

    pub fn unknown_operation(operation: &str) -> Self {
        Self::new(
            400,
            "UnknownOperationException",
            format!("Unknown operation {operation}"),
        )
    }
}

impl std::fmt::Display for AwsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.status, self.message)
    }
}

impl std::error::Error for AwsError {}

/// Result type of every operation handler.
pub type AwsResult<T> = Result<T, AwsError>;
