//! Destination access policies: the IAM policy document PutDestinationPolicy attaches to a
//! destination, naming the accounts (or the organization) allowed to subscribe to it.
//!
//! Checked as IAM checks a resource-based policy: at most 5,120 bytes ("This can be up to
//! 5120 bytes"), a JSON object with `Version` (`2012-10-17` or `2008-10-17`), optional `Id`
//! and `Statement` (one statement or a non-empty list); each statement has `Effect` (`Allow`
//! or `Deny`), exactly one of `Principal`/`NotPrincipal`, of `Action`/`NotAction` and of
//! `Resource`/`NotResource`, and optionally `Sid` and `Condition`. Actions are `*` or
//! `service:Action`; AWS principals are `*`, account ids or IAM ARNs.

use serde_json::{Map, Value};

/// "An IAM policy document ... This can be up to 5120 bytes."
pub const MAX_POLICY_BYTES: usize = 5120;

const POLICY_KEYS: &[&str] = &["Version", "Id", "Statement"];
const STATEMENT_KEYS: &[&str] = &[
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];
const VERSIONS: &[&str] = &["2012-10-17", "2008-10-17"];
const PRINCIPAL_TYPES: &[&str] = &["AWS", "Service", "Federated", "CanonicalUser"];

/// Whom an accepted policy lets in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Grants {
    /// An `Allow` statement names accounts (ids or IAM ARNs).
    pub accounts: bool,
    /// An `Allow` statement has an `aws:PrincipalOrgID` condition.
    pub organization: bool,
}

/// Checks a policy document; the error says what is wrong with it.
pub fn check(document: &str) -> Result<Grants, String> {
    if document.len() > MAX_POLICY_BYTES {
        return Err(format!(
            "the policy is {} bytes, more than {MAX_POLICY_BYTES}",
            document.len()
        ));
    }
    let policy: Value =
        serde_json::from_str(document).map_err(|e| format!("the policy is not JSON: {e}"))?;
    let policy = policy
        .as_object()
        .ok_or("the policy must be a JSON object")?;
    only_keys(policy, POLICY_KEYS, "policy")?;
    if let Some(version) = policy.get("Version")
        && !version.as_str().is_some_and(|v| VERSIONS.contains(&v))
    {
        return Err(format!("Version must be one of {}", VERSIONS.join(", ")));
    }
    if policy.get("Id").is_some_and(|id| !id.is_string()) {
        return Err("Id must be a string".into());
    }
    let statements: Vec<&Value> = match policy.get("Statement") {
        Some(Value::Array(list)) if !list.is_empty() => list.iter().collect(),
        Some(single @ Value::Object(_)) => vec![single],
        Some(_) => return Err("Statement must be an object or a non-empty list".into()),
        None => return Err("missing Statement".into()),
    };
    let mut grants = Grants::default();
    for (i, statement) in statements.into_iter().enumerate() {
        let statement = statement
            .as_object()
            .ok_or_else(|| format!("statement {} is not an object", i + 1))?;
        check_statement(statement, &mut grants).map_err(|e| format!("statement {}: {e}", i + 1))?;
    }
    Ok(grants)
}

fn only_keys(map: &Map<String, Value>, allowed: &[&str], what: &str) -> Result<(), String> {
    match map.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(key) => Err(format!("unknown {what} element {key}")),
        None => Ok(()),
    }
}

/// Exactly one of the two spellings of an element (`Action` / `NotAction`).
fn one_of<'a>(
    statement: &'a Map<String, Value>,
    positive: &str,
    negative: &str,
) -> Result<&'a Value, String> {
    match (statement.get(positive), statement.get(negative)) {
        (Some(v), None) | (None, Some(v)) => Ok(v),
        (Some(_), Some(_)) => Err(format!("{positive} and {negative} exclude each other")),
        (None, None) => Err(format!("missing {positive}")),
    }
}

/// A string or a non-empty list of strings.
fn strings<'a>(value: &'a Value, what: &str) -> Result<Vec<&'a str>, String> {
    let list: Option<Vec<&str>> = match value {
        Value::String(s) => Some(vec![s.as_str()]),
        Value::Array(items) if !items.is_empty() => items.iter().map(Value::as_str).collect(),
        _ => None,
    };
    list.ok_or_else(|| format!("{what} must be a string or a non-empty list of strings"))
}

fn check_statement(statement: &Map<String, Value>, grants: &mut Grants) -> Result<(), String> {
    only_keys(statement, STATEMENT_KEYS, "statement")?;
    if statement.get("Sid").is_some_and(|sid| !sid.is_string()) {
        return Err("Sid must be a string".into());
    }
    let allow = match statement.get("Effect").and_then(Value::as_str) {
        Some("Allow") => true,
        Some("Deny") => false,
        _ => return Err("Effect must be Allow or Deny".into()),
    };
    let principal = one_of(statement, "Principal", "NotPrincipal")?;
    let names_accounts = check_principal(principal)?;
    for action in strings(one_of(statement, "Action", "NotAction")?, "Action")? {
        if !is_action(action) {
            return Err(format!("invalid action {action}"));
        }
    }
    strings(one_of(statement, "Resource", "NotResource")?, "Resource")?;
    let mut organization = false;
    if let Some(condition) = statement.get("Condition") {
        let operators = condition.as_object().ok_or("Condition must be an object")?;
        for (operator, keys) in operators {
            let keys = keys
                .as_object()
                .ok_or_else(|| format!("condition {operator} must be an object"))?;
            for (key, value) in keys {
                strings(value, &format!("condition value of {key}"))?;
                organization |= key.eq_ignore_ascii_case("aws:PrincipalOrgID");
            }
        }
    }
    if allow && statement.contains_key("Principal") {
        grants.accounts |= names_accounts;
        grants.organization |= organization;
    }
    Ok(())
}

/// Checks a principal; true when it names accounts.
fn check_principal(principal: &Value) -> Result<bool, String> {
    if principal.as_str() == Some("*") {
        return Ok(false);
    }
    let map = principal
        .as_object()
        .ok_or("Principal must be \"*\" or an object such as {\"AWS\": \"111111111111\"}")?;
    if map.is_empty() {
        return Err("Principal must name at least one principal".into());
    }
    let mut accounts = false;
    for (kind, value) in map {
        if !PRINCIPAL_TYPES.contains(&kind.as_str()) {
            return Err(format!("unknown principal type {kind}"));
        }
        for entry in strings(value, kind)? {
            if kind == "AWS" && entry != "*" {
                if !is_account_principal(entry) {
                    return Err(format!("invalid AWS principal {entry}"));
                }
                accounts = true;
            }
        }
    }
    Ok(accounts)
}

/// `123456789012` or an IAM ARN such as `arn:aws:iam::123456789012:root`.
fn is_account_principal(entry: &str) -> bool {
    let account = |s: &str| s.len() == 12 && s.chars().all(|c| c.is_ascii_digit());
    if account(entry) {
        return true;
    }
    let parts: Vec<&str> = entry.splitn(6, ':').collect();
    matches!(parts.as_slice(), ["arn", _, "iam" | "sts", "", acct, resource]
        if account(acct) && !resource.is_empty())
}

/// `*` or `service:Action` (wildcards allowed in the action).
fn is_action(action: &str) -> bool {
    if action == "*" {
        return true;
    }
    action.split_once(':').is_some_and(|(service, name)| {
        !service.is_empty()
            && service
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '*' || c == '?')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The access policy of AWS's cross-account subscription walkthrough.
    const ACCOUNTS: &str = r#"{
      "Version" : "2012-10-17",
      "Statement" : [
        {
          "Sid" : "",
          "Effect" : "Allow",
          "Principal" : { "AWS" : "111111111111" },
          "Action" : "logs:PutSubscriptionFilter",
          "Resource" : "arn:aws:logs:us-east-1:999999999999:destination:testDestination"
        }
      ]
    }"#;

    /// The organization-wide policy of the same walkthrough.
    const ORGANIZATION: &str = r#"{
      "Version" : "2012-10-17",
      "Statement" : [
        {
          "Sid" : "",
          "Effect" : "Allow",
          "Principal" : "*",
          "Action" : "logs:PutSubscriptionFilter",
          "Resource" : "arn:aws:logs:us-east-1:999999999999:destination:testDestination",
          "Condition": { "StringEquals" : { "aws:PrincipalOrgID" : ["o-1234567890"] } }
        }
      ]
    }"#;

    #[test]
    fn the_documented_policies_are_accepted_and_say_whom_they_grant() {
        assert_eq!(
            check(ACCOUNTS),
            Ok(Grants {
                accounts: true,
                organization: false
            })
        );
        assert_eq!(
            check(ORGANIZATION),
            Ok(Grants {
                accounts: false,
                organization: true
            })
        );
        let several = r#"{"Statement": {"Effect": "Allow",
            "Principal": {"AWS": ["111111111111", "arn:aws:iam::222222222222:root"]},
            "Action": ["logs:PutSubscriptionFilter", "logs:PutAccountPolicy"],
            "Resource": "*"}}"#;
        assert!(check(several).is_ok());
    }

    #[test]
    fn malformed_policies_are_refused() {
        let statement =
            |body: &str| format!(r#"{{"Version": "2012-10-17", "Statement": [{body}]}}"#);
        let ok = r#""Effect": "Allow", "Principal": {"AWS": "111111111111"}, "Action": "logs:PutSubscriptionFilter", "Resource": "*""#;
        assert!(check(&statement(&format!("{{{ok}}}"))).is_ok());
        for bad in [
            "not json".to_string(),
            "[]".to_string(),
            r#"{"Version": "2012-10-17"}"#.to_string(),
            r#"{"Version": "2020-01-01", "Statement": []}"#.to_string(),
            r#"{"Statement": []}"#.to_string(),
            r#"{"Statement": [], "Extra": 1}"#.to_string(),
            statement(&format!(r#"{{{ok}, "Effect": "Maybe"}}"#)),
            statement(
                r#"{"Effect": "Allow", "Action": "logs:PutSubscriptionFilter", "Resource": "*"}"#,
            ),
            statement(
                r#"{"Effect": "Allow", "Principal": {"AWS": "alice"}, "Action": "logs:PutSubscriptionFilter", "Resource": "*"}"#,
            ),
            statement(
                r#"{"Effect": "Allow", "Principal": {"AWS": "111111111111"}, "Action": "PutSubscriptionFilter", "Resource": "*"}"#,
            ),
            statement(
                r#"{"Effect": "Allow", "Principal": {"AWS": "111111111111"}, "Action": "logs:PutSubscriptionFilter"}"#,
            ),
            statement(&format!(r#"{{{ok}, "NotAction": "logs:*"}}"#)),
            statement(&format!(r#"{{{ok}, "Condition": "yes"}}"#)),
            statement(&format!(r#"{{{ok}, "Colour": "red"}}"#)),
        ] {
            assert!(check(&bad).is_err(), "{bad} must be refused");
        }
    }

    #[test]
    fn a_policy_holds_5120_bytes_at_most() {
        let base = ACCOUNTS.trim_end_matches('}');
        let padded = |total: usize| format!("{base}{}}}", " ".repeat(total - base.len() - 1));
        assert!(check(&padded(MAX_POLICY_BYTES)).is_ok());
        assert!(check(&padded(MAX_POLICY_BYTES + 1)).is_err());
    }
}
