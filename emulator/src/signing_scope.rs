//! Which account and region a request belongs to, read from its SigV4 signature.
//!
//! Signatures are not verified: any credentials are accepted. The credential scope in the
//! `Authorization` header (`Credential=<key>/<date>/<region>/<service>/aws4_request`) names
//! the region. AWS derives the account from the access key; here a 12-digit access key id is
//! taken as the account id, so tests can address several accounts, and anything else maps to
//! [`DEFAULT_ACCOUNT`].

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

/// Reads the scope from the `Authorization` header.
pub fn scope_of(headers: &HeaderMap) -> Scope {
    let credential = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(credential_of);
    let (key, region) = match credential {
        Some((key, region)) => (key, region),
        None => ("", DEFAULT_REGION),
    };
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

/// `(access key id, region)` from `AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/...`.
fn credential_of(authorization: &str) -> Option<(&str, &str)> {
    let start = authorization.find("Credential=")? + "Credential=".len();
    let rest = &authorization[start..];
    let credential = rest.split([',', ' ']).next()?;
    let mut parts = credential.split('/');
    let key = parts.next()?;
    let _date = parts.next()?;
    let region = parts.next()?;
    Some((key, region))
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
    fn unsigned_requests_use_the_defaults() {
        assert_eq!(
            scope_of(&HeaderMap::new()),
            Scope::new(DEFAULT_ACCOUNT, DEFAULT_REGION)
        );
    }
}
