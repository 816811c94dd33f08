//! The per-log-group subscription filter limit. CloudWatch Logs allows a few filters per log
//! group (AWS documents 2; some accounts report 5, hence `--subscription-filter-limit`), and one
//! more fails with LimitExceededException. That is a hard limit, not throttling: retrying cannot
//! help, so it is a terminal condition naming the filters already on the log group — the user
//! must remove one of them or subscribe elsewhere.

use super::desired::FilterKey;
use crate::error::Error;
use crate::reason::Reason;
use aws_sdk_cloudwatchlogs::types::SubscriptionFilter;

/// The filters on `key`'s log group other than `key` itself and `leaving` (a filter this
/// reconcile deletes before creating `key`).
pub fn others<'a>(
    filters: &'a [SubscriptionFilter],
    key: &FilterKey,
    leaving: Option<&FilterKey>,
) -> Vec<&'a SubscriptionFilter> {
    let leaving = leaving
        .filter(|l| l.log_group_name == key.log_group_name)
        .map(|l| l.filter_name.as_str());
    filters
        .iter()
        .filter(|f| {
            let name = f.filter_name();
            name != Some(key.filter_name.as_str()) && name != leaving
        })
        .collect()
}

/// Fails with `LimitExceeded` if creating `key` would exceed `limit` filters on its log group,
/// given its current `filters`.
pub fn check(
    filters: &[SubscriptionFilter],
    key: &FilterKey,
    leaving: Option<&FilterKey>,
    limit: u32,
) -> Result<(), Error> {
    let others = others(filters, key, leaving);
    if others.len() < limit as usize {
        return Ok(());
    }
    Err(exceeded(key, &others, limit))
}

/// The terminal error for `key` not fitting next to `others` under the configured `limit`.
pub fn exceeded(key: &FilterKey, others: &[&SubscriptionFilter], limit: u32) -> Error {
    let plural = if limit == 1 { "" } else { "s" };
    Error::new(
        Reason::LimitExceeded,
        format!(
            "cannot create {key}: CloudWatch Logs allows {limit} subscription filter{plural} per \
             log group and it has {}. Remove one of them, subscribe another log group, or, if \
             this account allows more, raise --subscription-filter-limit",
            listing(others)
        ),
    )
}

/// The terminal error for AWS refusing `key` with LimitExceededException although the
/// configured `limit` allowed it: the account allows fewer filters than configured.
pub fn refused(key: &FilterKey, others: &[&SubscriptionFilter], limit: u32) -> Error {
    Error::new(
        Reason::LimitExceeded,
        format!(
            "cannot create {key}: CloudWatch Logs refused it with LimitExceededException; the \
             log group has {}. This account allows fewer filters per log group than the \
             operator's --subscription-filter-limit ({limit}): remove one of them or subscribe \
             another log group, and set the flag to the account's limit",
            listing(others)
        ),
    )
}

/// `2 already: "a" (to arn…), "b" (to arn…)`.
fn listing(others: &[&SubscriptionFilter]) -> String {
    let listed: Vec<String> = others
        .iter()
        .map(|f| {
            format!(
                "{:?} (to {})",
                f.filter_name().unwrap_or_default(),
                f.destination_arn().unwrap_or("an unknown destination")
            )
        })
        .collect();
    if listed.is_empty() {
        "no other filters that DescribeSubscriptionFilters lists".to_string()
    } else {
        format!("{} already: {}", listed.len(), listed.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log_subscription::desired::NOUN;

    fn filter(name: &str) -> SubscriptionFilter {
        SubscriptionFilter::builder()
            .filter_name(name)
            .destination_arn(format!(
                "arn:aws:lambda:us-east-1:123456789012:function:{name}"
            ))
            .build()
    }

    fn key(group: &str, name: &str) -> FilterKey {
        FilterKey::new(NOUN, group, name)
    }

    #[test]
    fn the_limit_is_terminal_and_names_the_filters_already_there() {
        let filters = [filter("audit"), filter("archive")];
        let err = check(&filters, &key("g", "new"), None, 2).unwrap_err();
        assert_eq!(err.reason, Reason::LimitExceeded);
        assert!(err.is_terminal());
        assert!(err.message.contains("\"audit\""), "{}", err.message);
        assert!(err.message.contains("\"archive\""), "{}", err.message);
        assert!(err.message.contains("allows 2"), "{}", err.message);
    }

    #[test]
    fn a_refusal_by_aws_below_the_configured_limit_names_the_filters_and_the_flag() {
        let filters = [filter("audit")];
        let err = refused(
            &key("g", "new"),
            &others(&filters, &key("g", "new"), None),
            5,
        );
        assert_eq!(err.reason, Reason::LimitExceeded);
        assert!(err.message.contains("\"audit\""), "{}", err.message);
        assert!(
            err.message.contains("--subscription-filter-limit (5)"),
            "{}",
            err.message
        );
    }

    #[test]
    fn the_configured_limit_is_used() {
        let filters = [filter("audit"), filter("archive")];
        assert!(check(&filters, &key("g", "new"), None, 5).is_ok());
        assert!(check(&filters[..1], &key("g", "new"), None, 2).is_ok());
    }

    #[test]
    fn a_filter_already_there_needs_no_slot() {
        let filters = [filter("audit"), filter("new")];
        assert!(check(&filters, &key("g", "new"), None, 2).is_ok());
    }

    #[test]
    fn a_rename_frees_the_slot_of_the_filter_deleted_first() {
        let filters = [filter("audit"), filter("old")];
        assert!(check(&filters, &key("g", "new"), Some(&key("g", "old")), 2).is_ok());
        // A filter leaving another log group frees nothing here.
        assert!(check(&filters, &key("g", "new"), Some(&key("other", "old")), 2).is_err());
    }
}
