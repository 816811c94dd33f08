//! An existing CloudWatch Logs subscription filter as the LogSubscription that manages it
//! (`import`): every log group's filters (DescribeLogGroups, then DescribeSubscriptionFilters per
//! group), each named after its filter name. Filters carry no tags, so AWS cannot tell whether an
//! operator already manages one: each is imported, and adoption settles ownership in status as
//! it does for any filter. A `--tag` filter therefore selects none.

use super::desired::desired;
use super::observed::observed;
use super::spec::{Distribution, LogSubscription, LogSubscriptionSpec, SystemField};
use crate::aws::Aws;
use crate::aws::wire::{first_unheld, from_wire, from_wire_all};
use crate::common_fields::CommonSpec;
use crate::error::Result;
use crate::log_filter::import;
use crate::runtime::import::{Found, Holder, ImportNames, Importable};
use aws_sdk_cloudwatchlogs::types::SubscriptionFilter;
use kube::ResourceExt;

impl Importable for LogSubscription {
    type Record = SubscriptionFilter;
    const AWS_NOUN: &'static str = "subscription filter";

    async fn list(aws: &Aws, region: &str, _prefix: &str) -> Result<Vec<SubscriptionFilter>> {
        import::list::<Self>(aws, region).await
    }

    fn record_name(record: &SubscriptionFilter) -> &str {
        import::record_name::<Self>(record)
    }

    fn holder(record: &SubscriptionFilter) -> Option<Holder<'_>> {
        import::holder::<Self>(record)
    }

    fn not_imported(record: &SubscriptionFilter) -> Option<String> {
        let config = observed(record);
        if from_wire::<Distribution>(&config.distribution).is_none() {
            return Some(format!(
                "distribution {:?} is not one a LogSubscription can hold",
                config.distribution
            ));
        }
        first_unheld::<SystemField>(&config.emit_system_fields)
            .map(|f| format!("system field {f:?} is not one a LogSubscription can hold"))
    }

    fn manifest(
        found: &Found<SubscriptionFilter>,
        name: &str,
        common: CommonSpec,
        _names: &ImportNames,
    ) -> LogSubscription {
        let config = observed(&found.record);
        let (log_group_name, filter_name) = import::spec_names::<Self>(&found.record);
        let spec = LogSubscriptionSpec {
            common,
            log_group_name,
            filter_name,
            filter_pattern: config.filter_pattern,
            destination_arn: Some(config.destination_arn),
            destination_ref: None,
            role_arn: config.role_arn,
            // `not_imported` left out the values the spec cannot hold.
            distribution: from_wire(&config.distribution),
            apply_on_transformed_logs: Some(config.apply_on_transformed_logs),
            field_selection_criteria: config.field_selection_criteria,
            emit_system_fields: from_wire_all(&config.emit_system_fields),
        };
        LogSubscription::new(name, spec)
    }

    fn same_request(a: &LogSubscription, b: &LogSubscription, _names: &ImportNames) -> bool {
        desired(&a.spec, &a.name_any()) == desired(&b.spec, &b.name_any())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log_filter::import::tests::import_alone;
    use crate::runtime::import::import_one;
    use aws_sdk_cloudwatchlogs::types as logs;

    /// A filter as DescribeSubscriptionFilters reports one the AWS CLI made with a pattern and a
    /// Firehose destination: distribution and the transformed-logs flag filled in by AWS.
    fn cli_filter(group: &str, name: &str) -> SubscriptionFilter {
        SubscriptionFilter::builder()
            .log_group_name(group)
            .filter_name(name)
            .filter_pattern("ERROR")
            .destination_arn("arn:aws:firehose:us-east-1:123456789012:deliverystream/logs")
            .role_arn("arn:aws:iam::123456789012:role/logs-to-firehose")
            .distribution(logs::Distribution::ByLogStream)
            .apply_on_transformed_logs(false)
            .creation_time(1_700_000_000_000)
            .build()
    }

    #[test]
    fn an_imported_filter_leaves_out_aws_defaults_and_plans_no_change() {
        let record = cli_filter("/aws/lambda/checkout", "Errors To Firehose");
        let (name, yaml, applied) = import_alone::<LogSubscription>(record.clone());
        assert_eq!(
            yaml,
            format!(
                "apiVersion: cwo.dev/v1alpha1
kind: LogSubscription
metadata:
  name: {name}
spec:
  region: us-east-1
  deletionPolicy: Retain
  adoption: IfUnowned
  logGroupName: /aws/lambda/checkout
  filterName: Errors To Firehose
  filterPattern: ERROR
  destinationArn: arn:aws:firehose:us-east-1:123456789012:deliverystream/logs
  roleArn: arn:aws:iam::123456789012:role/logs-to-firehose
"
            )
        );
        let d = desired(&applied.spec, &applied.name_any());
        assert_eq!(d.key.filter_name, "Errors To Firehose");
        assert_eq!(d.config, observed(&record));
    }

    #[test]
    fn filters_of_the_same_name_on_two_log_groups_are_two_objects() {
        let mut names = ImportNames::default();
        let given: Vec<String> = ["/app/a", "/app/b"]
            .iter()
            .map(|group| {
                let record = Found::untagged(cli_filter(group, "errors"));
                import_one::<LogSubscription>(record, &mut names)
                    .unwrap()
                    .name
            })
            .collect();
        assert_eq!(given[0], "errors");
        assert_ne!(given[0], given[1]);
    }

    #[test]
    fn a_distribution_the_spec_cannot_hold_is_not_imported() {
        let mut odd = cli_filter("/app/a", "errors");
        odd.distribution = Some(logs::Distribution::from("Sharded"));
        let skipped =
            import_one::<LogSubscription>(Found::untagged(odd), &mut ImportNames::default());
        assert_eq!(
            skipped.unwrap_err().why,
            "distribution \"Sharded\" is not one a LogSubscription can hold"
        );
        assert_eq!(
            LogSubscription::not_imported(&cli_filter("/app/a", "errors")),
            None
        );
    }
}
