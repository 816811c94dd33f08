//! Which account and region a request belongs to, read from its SigV4 signature.
//!
//! Signatures are not verified. The credential scope in the `Authorization` header
//! (`Credential=<key>/<date>/<region>/<service>/aws4_request`) names the region, the signing
//! service and the access key; the key, with the `X-Amz-Security-Token` header for temporary
//! credentials, decides the account (`sts::iam`): a key AssumeRole issued belongs to its role's
//! account, a 12-digit long-term key id is taken as the account id, so tests can address several
//! accounts, and any other key maps to [`DEFAULT_ACCOUNT`].

use http::HeaderMap;

/// The account used when the access key id is not a 12-digit account id.
pub const DEFAULT_ACCOUNT: &str = "123456789012";
/// The region used when a request carries no SigV4 credential scope.
pub const DEFAULT_REGION: &str = "us-east-1";

/// The (account, region) whose state a request reads and writes.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scope {
    pub account: String,
    pub region: String,
}

impl Scope {
    pub fn new(account: impl Into<String>, region: impl Into<String>) -> Self {
        Self {
            account: account.into(),
            region: region.into(),
        }
    }
}

/// What a request's signature says: the access key, the region and the signing service.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Signature<'a> {
    pub access_key: Option<&'a str>,
    pub region: Option<&'a str>,
    pub service: Option<&'a str>,
}

/// Reads the signature's credential scope from the `Authorization` header.
pub fn signature_of(headers: &HeaderMap) -> Signature<'_> {
    let Some((key, region, service)) = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(credential_of)
    else {
        return Signature::default();
    };
    Signature {
        access_key: Some(key).filter(|k| !k.is_empty()),
        region: Some(region).filter(|r| !r.is_empty()),
        service: Some(service).filter(|s| !s.is_empty()),
    }
}

/// The session token sent with temporary credentials (`X-Amz-Security-Token`).
pub fn session_token_of(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("x-amz-security-token")
        .and_then(|value| value.to_str().ok())
}

/// The region of a request: its credential scope's, else [`DEFAULT_REGION`].
pub fn region_of(headers: &HeaderMap) -> &str {
    signature_of(headers).region.unwrap_or(DEFAULT_REGION)
}

/// Reads the scope of a long-term key from the `Authorization` header (the account is the key
/// when it is 12 digits; temporary credentials are resolved by `sts::iam`).
pub fn scope_of(headers: &HeaderMap) -> Scope {
    let signature = signature_of(headers);
    let key = signature.access_key.unwrap_or_default();
    let region = signature.region.unwrap_or(DEFAULT_REGION);
    let account = if key.len() == 12 && key.bytes().all(|b| b.is_ascii_digit()) {
        key
    } else {
        DEFAULT_ACCOUNT
    };
    let region = if region.is_empty() {
        DEFAULT_REGION
    } else {
        region
    };
    Scope::new(account, region)
}

/// `(access key id, region, service)` from
/// `AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/sts/aws4_request, ...`.
fn credential_of(authorization: &str) -> Option<(&str, &str, &str)> {
    let start = authorization.find("Credential=")? + "Credential=".len();
    let rest = &authorization[start..];
    let credential = rest.split([',', ' ']).next()?;
    let mut parts = credential.split('/');
    let key = parts.next()?;
    let _date = parts.next()?;
    let region = parts.next()?;
    let service = parts.next().unwrap_or_default();
    Some((key, region, service))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn with_auth(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::AUTHORIZATION,
            HeaderValue::from_str(value).unwrap(),
        );
        headers
    }

    #[test]
    fn region_comes_from_the_credential_scope() {
        let scope = scope_of(&with_auth(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/eu-west-1/monitoring/aws4_request, \
             SignedHeaders=host;x-amz-date, Signature=abc",
        ));
        assert_eq!(scope, Scope::new(DEFAULT_ACCOUNT, "eu-west-1"));
    }

    #[test]
    fn twelve_digit_access_key_is_the_account() {
        let scope = scope_of(&with_auth(
            "AWS4-HMAC-SHA256 Credential=210987654321/20240101/us-west-2/logs/aws4_request, \
             SignedHeaders=host, Signature=abc",
        ));
        assert_eq!(scope, Scope::new("210987654321", "us-west-2"));
    }

    #[test]
    fn the_signature_names_key_region_and_service() {
        let headers = with_auth(
            "AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE/20240101/eu-west-1/sts/aws4_request, \
             SignedHeaders=host, Signature=abc",
        );
        assert_eq!(
            signature_of(&headers),
            Signature {
                access_key: Some("ASIAEXAMPLE"),
                region: Some("eu-west-1"),
                service: Some("sts"),
            }
        );
        assert_eq!(signature_of(&HeaderMap::new()), Signature::default());
    }

    #[test]
    fn unsigned_requests_use_the_defaults() {
        assert_eq!(
            scope_of(&HeaderMap::new()),
            Scope::new(DEFAULT_ACCOUNT, DEFAULT_REGION)
        );
    }
}
