//! What identifies a filter, and the desired filter in the normal form both the spec and AWS's
//! answer map to (the kind's `desired` fills in its own Put fields).

use std::fmt;

/// What identifies a filter within a region: its log group and its name. `noun` names the kind
/// of filter in messages (`subscription filter`, `metric filter`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FilterKey {
    pub noun: &'static str,
    pub log_group_name: String,
    pub filter_name: String,
}

impl FilterKey {
    /// The `noun` named `filter_name` on `log_group_name`.
    pub fn new(
        noun: &'static str,
        log_group_name: impl Into<String>,
        filter_name: impl Into<String>,
    ) -> Self {
        FilterKey {
            noun,
            log_group_name: log_group_name.into(),
            filter_name: filter_name.into(),
        }
    }
}

impl fmt::Display for FilterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {:?} on log group {:?}",
            self.noun, self.filter_name, self.log_group_name
        )
    }
}

/// The desired filter: where it lives (`key`) and what it does (`config`, everything the Put
/// sets besides the identity).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Desired<C> {
    pub key: FilterKey,
    pub config: C,
}

/// The filter's name: the spec's `filterName`, else the object's name.
pub fn filter_name(spec_name: Option<&str>, object_name: &str) -> String {
    spec_name.unwrap_or(object_name).to_string()
}

/// `None` for an absent or empty string: AWS does not distinguish them.
pub fn non_empty(s: Option<&str>) -> Option<String> {
    s.filter(|s| !s.is_empty()).map(str::to_string)
}

/// Sorts and deduplicates names, dropping empty ones.
pub fn sorted(names: impl Iterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = names.filter(|f| !f.is_empty()).collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A CloudWatch Logs client that never sends anything: only its request builders are used.
    pub fn offline_client() -> aws_sdk_cloudwatchlogs::Client {
        aws_sdk_cloudwatchlogs::Client::from_conf(
            aws_sdk_cloudwatchlogs::Config::builder()
                .behavior_version(aws_sdk_cloudwatchlogs::config::BehaviorVersion::latest())
                .region(aws_sdk_cloudwatchlogs::config::Region::new("us-east-1"))
                .build(),
        )
    }

    #[test]
    fn a_key_reads_as_its_kind_of_filter() {
        let key = FilterKey::new("metric filter", "/aws/lambda/checkout", "errors");
        assert_eq!(
            key.to_string(),
            r#"metric filter "errors" on log group "/aws/lambda/checkout""#
        );
    }

    #[test]
    fn names_are_a_sorted_set_without_empty_ones() {
        let names = ["@source.log", "", "@aws.account", "@source.log"].map(String::from);
        assert_eq!(
            sorted(names.into_iter()),
            vec!["@aws.account", "@source.log"]
        );
    }
}
