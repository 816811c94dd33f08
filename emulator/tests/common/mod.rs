//! Shared set-up for the tests that drive the emulator through the real AWS SDK clients.
#![allow(dead_code)]

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use cwo_emulator::{Emulator, EmulatorConfig, RunningEmulator};

pub const REGION: &str = "us-east-1";
pub const ACCOUNT: &str = "123456789012";

/// An SDK configuration pointed at the emulator, signed with static test credentials. The
/// access key id decides the account (a 12-digit key id is taken as the account id).
pub async fn sdk_config(endpoint: &str, region: &str, access_key_id: &str) -> SdkConfig {
    let http_client = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(http_client)
        .credentials_provider(Credentials::new(
            access_key_id,
            "test-secret",
            None,
            None,
            "tests",
        ))
        .region(Region::new(region.to_string()))
        .endpoint_url(endpoint)
        .load()
        .await
}

/// One client per emulated service.
pub struct Clients {
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub firehose: aws_sdk_firehose::Client,
    pub xray: aws_sdk_xray::Client,
}

impl Clients {
    pub async fn new(endpoint: &str, region: &str, access_key_id: &str) -> Self {
        let config = sdk_config(endpoint, region, access_key_id).await;
        Self::from_config(&config)
    }

    pub fn from_config(config: &SdkConfig) -> Self {
        Self {
            cloudwatch: aws_sdk_cloudwatch::Client::new(config),
            logs: aws_sdk_cloudwatchlogs::Client::new(config),
            firehose: aws_sdk_firehose::Client::new(config),
            xray: aws_sdk_xray::Client::new(config),
        }
    }
}

/// An emulator with default settings and clients for the default account and region.
pub async fn start() -> (RunningEmulator, Clients) {
    start_with(EmulatorConfig::default()).await
}

pub async fn start_with(config: EmulatorConfig) -> (RunningEmulator, Clients) {
    let emulator = Emulator::start(config).await.expect("emulator starts");
    let clients = Clients::new(&emulator.endpoint(), REGION, "AKIDTESTEXAMPLE").await;
    (emulator, clients)
}

/// The AWS error code of an SDK error (what the SDKs match typed errors on).
pub fn error_code<E, R>(error: &aws_sdk_cloudwatch::error::SdkError<E, R>) -> String
where
    E: aws_sdk_cloudwatch::error::ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    error
        .as_service_error()
        .and_then(|e| e.code())
        .map(str::to_string)
        .unwrap_or_else(|| format!("not a service error: {error:?}"))
}

/// The message of an SDK service error.
pub fn error_message<E, R>(error: &aws_sdk_cloudwatch::error::SdkError<E, R>) -> String
where
    E: aws_sdk_cloudwatch::error::ProvideErrorMetadata,
{
    error
        .as_service_error()
        .and_then(|e| e.message())
        .unwrap_or_default()
        .to_string()
}

/// A minimal HTTP/1.1 exchange with the admin API: `(status, body)`.
pub async fn admin(endpoint: &str, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
    let response = http(
        endpoint,
        method,
        path,
        &[("Content-Type", "application/json")],
        body.unwrap_or(""),
    )
    .await;
    (response.status, response.body)
}

/// An HTTP answer: status, headers (names in lower case) and body.
pub struct HttpAnswer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl HttpAnswer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One request over a fresh connection, read to its end.
pub async fn http(
    endpoint: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> HttpAnswer {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = endpoint.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect to the emulator");
    let extra: String = headers
        .iter()
        .map(|(name, value)| format!("{name}: {value}\r\n"))
        .collect();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\n{extra}Content-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let response = String::from_utf8_lossy(&response).to_string();
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let (head, payload) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let headers: Vec<(String, String)> = head
        .lines()
        .skip(1)
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    let body = if chunked {
        dechunk(payload)
    } else {
        payload.to_string()
    };
    HttpAnswer {
        status,
        headers,
        body,
    }
}

/// A CloudWatch call over awsJson 1.0, the protocol botocore and the AWS CLI use.
pub async fn cloudwatch_json(endpoint: &str, operation: &str, body: &str) -> HttpAnswer {
    let target = format!("GraniteServiceVersion20100801.{operation}");
    http(
        endpoint,
        "POST",
        "/",
        &[
            ("Content-Type", "application/x-amz-json-1.0"),
            ("X-Amz-Target", &target),
        ],
        body,
    )
    .await
}

fn dechunk(mut payload: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = payload.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.push_str(&rest[..size]);
        payload = rest[size..].trim_start_matches("\r\n");
    }
    out
}

/// SDK clients that do not retry, so a throttled or failed call surfaces at once.
pub async fn clients_without_retries(endpoint: &str) -> Clients {
    let config = sdk_config(endpoint, REGION, "AKIDTESTEXAMPLE")
        .await
        .into_builder()
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .build();
    Clients::from_config(&config)
}
