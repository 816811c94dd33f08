//! AWS STS: AssumeRole and GetCallerIdentity over STS's awsQuery protocol (form-encoded request,
//! XML answer: what the Rust SDK and boto3 send), with the IAM roles and trust the admin API
//! configures ([`iam`]). STS is global: its state is the emulator's, not a region's.

pub mod iam;
pub mod query;

use std::collections::BTreeMap;

use crate::error::{AwsError, AwsResult};
use iam::{AssumeRole, Caller, Iam, Refused};
use query::escape;

/// The operations served.
pub const OPERATIONS: &[&str] = &["AssumeRole", "GetCallerIdentity"];

/// The answer to refused credentials, as each service words it: STS and CloudWatch (a
/// query-compatible service) answer `ExpiredToken` / `InvalidClientTokenId`, the JSON services
/// `ExpiredTokenException` / `UnrecognizedClientException`.
pub fn refusal(query_codes: bool, refused: Refused) -> AwsError {
    match (refused, query_codes) {
        (Refused::Expired, true) => AwsError::bad_request(
            "ExpiredToken",
            "The security token included in the request is expired",
        )
        .with_type("com.amazon.coral.service#ExpiredTokenException"),
        (Refused::Expired, false) => AwsError::bad_request(
            "ExpiredTokenException",
            "The security token included in the request is expired",
        ),
        (Refused::Invalid, true) => AwsError::new(
            403,
            "InvalidClientTokenId",
            "The security token included in the request is invalid.",
        ),
        (Refused::Invalid, false) => AwsError::bad_request(
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        ),
    }
}

/// Runs the STS operation `operation` for `caller`, with the request's form `fields`, at `now`
/// (seconds since the epoch). Returns the `<OpResult>` body.
pub fn dispatch(
    iam: &mut Iam,
    caller: &Caller,
    operation: &str,
    fields: &BTreeMap<String, String>,
    now: f64,
) -> AwsResult<String> {
    if fields.get("Version").map(String::as_str) != Some(query::VERSION) {
        return Err(AwsError::bad_request(
            "InvalidParameterValue",
            format!(
                "Could not find operation {operation} for version {}",
                fields
                    .get("Version")
                    .map_or("NO_VERSION_SPECIFIED", String::as_str)
            ),
        ));
    }
    match operation {
        "GetCallerIdentity" => Ok(format!(
            "\n    <Arn>{}</Arn>\n    <UserId>{}</UserId>\n    <Account>{}</Account>\n  ",
            escape(&caller.arn),
            escape(&caller.user_id),
            escape(&caller.account)
        )),
        "AssumeRole" => {
            let field = |name: &str| fields.get(name).cloned();
            let issued = iam.assume_role(
                caller,
                &AssumeRole {
                    role_arn: field("RoleArn"),
                    role_session_name: field("RoleSessionName"),
                    duration_seconds: field("DurationSeconds"),
                    external_id: field("ExternalId"),
                },
                now,
            )?;
            Ok(format!(
                "\n    <AssumedRoleUser>\n      <Arn>{}</Arn>\n      <AssumedRoleId>{}</AssumedRoleId>\n    \
                 </AssumedRoleUser>\n    <Credentials>\n      <AccessKeyId>{}</AccessKeyId>\n      \
                 <SecretAccessKey>{}</SecretAccessKey>\n      <SessionToken>{}</SessionToken>\n      \
                 <Expiration>{}</Expiration>\n    </Credentials>\n  ",
                escape(&issued.assumed_role_arn),
                escape(&issued.assumed_role_id),
                issued.access_key_id,
                escape(&issued.secret_access_key),
                escape(&issued.session_token),
                query::iso8601(issued.expires)
            ))
        }
        other => Err(AwsError::bad_request(
            "InvalidAction",
            format!(
                "Could not find operation {other} for version {}",
                query::VERSION
            ),
        )),
    }
}
