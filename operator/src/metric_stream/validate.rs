//! Checks of a MetricStream spec before anything is sent to AWS. The API server already refuses
//! most invalid specs at admission (schema and CEL rules in `spec.rs`); these checks repeat the
//! rules that decide a request's shape, for specs that reach the operator another way, and add
//! the ones the schema cannot express. A failure is a terminal `InvalidSpec`: nothing retries
//! until the spec changes.

use std::sync::LazyLock;

use regex::Regex;

use super::desired::StreamConfig;
use super::firehose::{DeliveryStreamArn, parse_arn, role_account};
use crate::error::Error;
use crate::statistics::PERCENTILE_PATTERN;

/// Entries AWS allows in one filter list (include or exclude), counting each filter's namespace
/// and each of its metric names.
pub const MAX_FILTER_ENTRIES: usize = 1000;

/// Statistics configurations AWS allows per stream.
pub const MAX_STATISTICS_CONFIGURATIONS: usize = 100;

/// Validates `config` and returns its destination.
pub fn validate(config: &StreamConfig) -> Result<DeliveryStreamArn, Error> {
    let f = &config.fields;
    let name_ok = (1..=255).contains(&config.name.len())
        && config
            .name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !name_ok {
        return Err(Error::invalid_spec(format!(
            "metric stream name {:?} must be 1 to 255 letters, digits, - and _; set \
             spec.streamName",
            config.name
        )));
    }
    let destination = parse_arn(&f.firehose_arn)?;
    match role_account(&f.role_arn) {
        None => {
            return Err(Error::invalid_spec(format!(
                "roleArn {:?} is not an IAM role ARN such as \
                 arn:aws:iam::123456789012:role/metric-stream",
                f.role_arn
            )));
        }
        // CloudWatch requires the delivery stream and the role in the stream's own account.
        Some(account) if account != destination.account => {
            return Err(Error::invalid_spec(format!(
                "firehoseArn is in account {} but roleArn in account {account}: the delivery \
                 stream and the role must both be in the metric stream's account",
                destination.account
            )));
        }
        Some(_) => {}
    }
    if !f.include_filters.is_empty() && !f.exclude_filters.is_empty() {
        return Err(Error::invalid_spec(
            "includeFilters and excludeFilters are mutually exclusive",
        ));
    }
    for (list, filters) in [
        ("includeFilters", &f.include_filters),
        ("excludeFilters", &f.exclude_filters),
    ] {
        let entries: usize = filters.iter().map(|f| 1 + f.metric_names.len()).sum();
        if entries > MAX_FILTER_ENTRIES {
            return Err(Error::invalid_spec(format!(
                "{list} name {entries} namespaces and metric names together; AWS allows at most \
                 {MAX_FILTER_ENTRIES}"
            )));
        }
    }
    if f.statistics_configurations.len() > MAX_STATISTICS_CONFIGURATIONS {
        return Err(Error::invalid_spec(format!(
            "{} statistics configurations; AWS allows at most {MAX_STATISTICS_CONFIGURATIONS}",
            f.statistics_configurations.len()
        )));
    }
    if f.output_format != "json" {
        // OpenTelemetry output carries only percentiles (pNN or pNN.N, up to p100).
        let other = f
            .statistics_configurations
            .iter()
            .flat_map(|c| &c.additional_statistics)
            .find(|s| !is_percentile(s));
        if let Some(statistic) = other {
            return Err(Error::invalid_spec(format!(
                "additional statistic {statistic:?} cannot be streamed in {}: only percentiles \
                 such as p90 or p99.9 can; use outputFormat json for other statistics",
                f.output_format
            )));
        }
    }
    Ok(destination)
}

/// A percentile statistic, `p0` to `p100`: the pattern the CRD's CEL rule uses.
pub fn is_percentile(s: &str) -> bool {
    static PERCENTILE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(PERCENTILE_PATTERN).expect("the percentile pattern compiles"));
    PERCENTILE.is_match(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metric_stream::desired::desired;
    use crate::metric_stream::spec::*;
    use crate::reason::Reason;

    fn spec() -> MetricStreamSpec {
        MetricStreamSpec {
            firehose_arn: "arn:aws:firehose:us-east-1:123456789012:deliverystream/m".into(),
            role_arn: "arn:aws:iam::123456789012:role/r".into(),
            output_format: MetricStreamOutputFormat::OpenTelemetry10,
            ..Default::default()
        }
    }

    fn refused(spec: &MetricStreamSpec, name: &str) -> Error {
        let err = validate(&desired(spec, name)).unwrap_err();
        assert_eq!(err.reason, Reason::InvalidSpec);
        assert!(err.is_terminal());
        err
    }

    #[test]
    fn a_valid_spec_gives_its_destination() {
        let destination = validate(&desired(&spec(), "s")).unwrap();
        assert_eq!(destination.name, "m");
        assert_eq!(destination.region, "us-east-1");
    }

    #[test]
    fn the_role_and_the_delivery_stream_must_share_an_account() {
        let mut s = spec();
        s.role_arn = "arn:aws:iam::999999999999:role/r".into();
        let err = refused(&s, "s");
        assert!(err.message.contains("999999999999"), "{}", err.message);
    }

    #[test]
    fn a_name_with_a_dot_is_refused() {
        refused(&spec(), "metrics.export");
    }

    #[test]
    fn include_and_exclude_filters_exclude_each_other() {
        let mut s = spec();
        let filter = MetricStreamFilter {
            namespace: "AWS/EC2".into(),
            metric_names: vec![],
        };
        s.include_filters = vec![filter.clone()];
        s.exclude_filters = vec![filter];
        refused(&s, "s");
    }

    /// AWS counts the namespaces with the metric names: two filters of 499 names are 1000
    /// entries, one more name is too many.
    #[test]
    fn more_than_1000_namespaces_and_metric_names_in_a_list_are_refused() {
        let mut s = spec();
        s.include_filters = (0..2)
            .map(|i| MetricStreamFilter {
                namespace: format!("NS{i}"),
                metric_names: (0..499).map(|m| format!("m{m}")).collect(),
            })
            .collect();
        assert!(validate(&desired(&s, "s")).is_ok());
        s.include_filters[1].metric_names.push("m499".into());
        let err = refused(&s, "s");
        assert!(
            err.message.contains("includeFilters name 1001"),
            "{}",
            err.message
        );
        let mut s = spec();
        s.exclude_filters = (0..1001)
            .map(|i| MetricStreamFilter {
                namespace: format!("NS{i}"),
                metric_names: vec![],
            })
            .collect();
        let err = refused(&s, "s");
        assert!(
            err.message.contains("excludeFilters name 1001"),
            "{}",
            err.message
        );
    }

    #[test]
    fn opentelemetry_streams_only_percentiles() {
        let mut s = spec();
        s.statistics_configurations = vec![MetricStreamStatisticsConfiguration {
            include_metrics: vec![MetricStreamStatisticsMetric {
                namespace: "AWS/ELB".into(),
                metric_name: "Latency".into(),
            }],
            additional_statistics: vec!["p99".into(), "tm98".into()],
        }];
        let err = refused(&s, "s");
        assert!(err.message.contains("tm98"), "{}", err.message);
        s.output_format = MetricStreamOutputFormat::Json;
        assert!(validate(&desired(&s, "s")).is_ok());
    }

    #[test]
    fn percentiles_are_recognised_as_the_crd_rule_does() {
        for ok in ["p0", "p9", "p90", "p99.9", "p99.99", "p100", "p100.0"] {
            assert!(is_percentile(ok), "{ok}");
        }
        for bad in ["p", "p101", "p100.5", "p.9", "p9.", "P90", "tm98", "IQM"] {
            assert!(!is_percentile(bad), "{bad}");
        }
    }
}
