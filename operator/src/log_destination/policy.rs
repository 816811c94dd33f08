//! The destination's access policy (pure): built from the sender accounts, or the document the
//! spec gives, and compared with what AWS holds as JSON in a normal form, so formatting, key
//! order, a single principal written as a string or a list, and the order of sets do not count
//! as differences.

use crate::error::Error;
use serde_json::{Value, json};

/// The policy that lets `senders` (account ids) create subscription filters against the
/// destination `destination_arn`.
pub fn for_senders(senders: &[String], destination_arn: &str) -> String {
    let mut accounts: Vec<&str> = senders.iter().map(String::as_str).collect();
    accounts.sort_unstable();
    accounts.dedup();
    let principal = match accounts.as_slice() {
        [one] => json!(one),
        many => json!(many),
    };
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "AllowSubscriptionsFromSenderAccounts",
            "Effect": "Allow",
            "Principal": {"AWS": principal},
            "Action": "logs:PutSubscriptionFilter",
            "Resource": destination_arn,
        }]
    })
    .to_string()
}

/// The sender account ids whose policy (as [`for_senders`] builds it for the destination `arn`)
/// is `document`, sorted, if it is one; `None` for any other document.
pub fn senders_of(document: &str, arn: &str) -> Option<Vec<String>> {
    let value: Value = serde_json::from_str(document).ok()?;
    let principal = value
        .get("Statement")?
        .as_array()?
        .first()?
        .get("Principal")?
        .get("AWS")?;
    let mut senders: Vec<String> = match principal {
        Value::String(one) => vec![one.clone()],
        Value::Array(many) => many
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Option<_>>()?,
        _ => return None,
    };
    senders.sort();
    same(&for_senders(&senders, arn), document).then_some(senders)
}

/// Checks that an access policy given in the spec is a JSON object.
pub fn check(document: &str) -> Result<(), Error> {
    match serde_json::from_str::<Value>(document) {
        Ok(Value::Object(_)) => Ok(()),
        Ok(_) => Err(Error::invalid_spec(
            "accessPolicy must be an IAM policy document: a JSON object with Version and Statement",
        )),
        Err(e) => Err(Error::invalid_spec(format!(
            "accessPolicy is not valid JSON: {e}"
        ))),
    }
}

/// Whether two policy documents say the same. Documents that are not JSON compare as text.
pub fn same(a: &str, b: &str) -> bool {
    match (
        serde_json::from_str::<Value>(a),
        serde_json::from_str::<Value>(b),
    ) {
        (Ok(a), Ok(b)) => normal(a) == normal(b),
        _ => a.trim() == b.trim(),
    }
}

/// Keys whose value IAM reads as a set: a string is a set of one, and order does not matter.
const SET_VALUED: [&str; 7] = [
    "Statement",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "AWS",
    "Service",
];

/// The policy in normal form: every set-valued key holds a sorted list.
fn normal(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let v = normal(v);
                    let v = if SET_VALUED.contains(&k.as_str()) {
                        as_sorted_list(v)
                    } else {
                        v
                    };
                    (k, v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(normal).collect()),
        other => other,
    }
}

fn as_sorted_list(v: Value) -> Value {
    let mut items = match v {
        Value::Array(items) => items,
        one => vec![one],
    };
    items.sort_by_key(|i| i.to_string());
    Value::Array(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sender_accounts_are_read_back_from_their_policy_and_only_from_it() {
        let arn = "arn:aws:logs:us-east-1:123456789012:destination:d";
        let senders = vec!["210987654321".to_string(), "123456789012".to_string()];
        assert_eq!(
            senders_of(&for_senders(&senders, arn), arn),
            Some(vec!["123456789012".to_string(), "210987654321".to_string()])
        );
        let one = for_senders(&["123456789012".to_string()], arn);
        assert_eq!(
            senders_of(&one, arn),
            Some(vec!["123456789012".to_string()])
        );
        // The same statement for another destination, or with another action, is a document.
        assert_eq!(
            senders_of(&one, "arn:aws:logs:us-east-1:123456789012:destination:e"),
            None
        );
        assert_eq!(
            senders_of(&one.replace("logs:PutSubscriptionFilter", "logs:*"), arn),
            None
        );
        assert_eq!(senders_of("not json", arn), None);
    }

    const ARN: &str = "arn:aws:logs:us-east-1:123456789012:destination:central";

    #[test]
    fn senders_become_one_statement_allowing_subscriptions_to_this_destination() {
        let policy: Value = serde_json::from_str(&for_senders(
            &["222222222222".into(), "111111111111".into()],
            ARN,
        ))
        .unwrap();
        let statement = &policy["Statement"][0];
        assert_eq!(statement["Effect"], "Allow");
        assert_eq!(statement["Action"], "logs:PutSubscriptionFilter");
        assert_eq!(statement["Resource"], ARN);
        assert_eq!(
            statement["Principal"]["AWS"],
            json!(["111111111111", "222222222222"])
        );
    }

    #[test]
    fn the_built_policy_does_not_depend_on_the_order_of_the_senders() {
        let a = for_senders(&["2".repeat(12), "1".repeat(12)], ARN);
        let b = for_senders(&["1".repeat(12), "2".repeat(12), "1".repeat(12)], ARN);
        assert_eq!(a, b);
    }

    #[test]
    fn formatting_key_order_and_set_order_are_not_differences() {
        let ours = for_senders(&["111111111111".into()], ARN);
        let theirs = format!(
            r#"{{
  "Statement" : [ {{
    "Resource" : "{ARN}",
    "Action" : [ "logs:PutSubscriptionFilter" ],
    "Principal" : {{ "AWS" : [ "111111111111" ] }},
    "Effect" : "Allow",
    "Sid" : "AllowSubscriptionsFromSenderAccounts"
  }} ],
  "Version" : "2012-10-17"
}}"#
        );
        assert!(same(&ours, &theirs));
        let two = for_senders(&["111111111111".into(), "222222222222".into()], ARN);
        let two_reordered = two.replace(
            r#"["111111111111","222222222222"]"#,
            r#"["222222222222","111111111111"]"#,
        );
        assert_ne!(two, two_reordered);
        assert!(same(&two, &two_reordered));
    }

    #[test]
    fn another_sender_is_a_difference() {
        let one = for_senders(&["111111111111".into()], ARN);
        let other = for_senders(&["333333333333".into()], ARN);
        assert!(!same(&one, &other));
    }

    #[test]
    fn a_policy_that_is_not_a_json_object_is_refused() {
        assert!(check(r#"{"Version":"2012-10-17","Statement":[]}"#).is_ok());
        assert!(check("not json").unwrap_err().is_terminal());
        assert!(check("[]").unwrap_err().message.contains("JSON object"));
    }
}
