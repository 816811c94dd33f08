//! Every AWS operation the operator calls, with its service and its default per-account,
//! per-region quota (AWS-NOTES.md, "Default quotas"). The client-side rate limiter and the call
//! metrics are keyed by this enum, so a new call cannot be made without deciding its quota.

use std::fmt;
use std::str::FromStr;

/// One AWS API operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Api {
    // CloudWatch alarms
    PutMetricAlarm,
    PutCompositeAlarm,
    DeleteAlarms,
    DescribeAlarms,
    CloudWatchTagResource,
    CloudWatchUntagResource,
    CloudWatchListTagsForResource,
    // CloudWatch metric streams
    PutMetricStream,
    GetMetricStream,
    ListMetricStreams,
    StartMetricStreams,
    StopMetricStreams,
    DeleteMetricStream,
    // CloudWatch Logs
    PutSubscriptionFilter,
    DescribeSubscriptionFilters,
    DeleteSubscriptionFilter,
    PutMetricFilter,
    DescribeMetricFilters,
    DeleteMetricFilter,
    TestMetricFilter,
    PutDestination,
    PutDestinationPolicy,
    DescribeDestinations,
    DeleteDestination,
    LogsTagResource,
    LogsUntagResource,
    LogsListTagsForResource,
    DescribeLogGroups,
    // Firehose
    DescribeDeliveryStream,
    // X-Ray
    CreateSamplingRule,
    UpdateSamplingRule,
    DeleteSamplingRule,
    GetSamplingRules,
    XRayTagResource,
    XRayUntagResource,
    XRayListTagsForResource,
    // STS
    AssumeRole,
    GetCallerIdentity,
}

impl Api {
    /// Every operation.
    pub const ALL: [Api; 38] = [
        Api::PutMetricAlarm,
        Api::PutCompositeAlarm,
        Api::DeleteAlarms,
        Api::DescribeAlarms,
        Api::CloudWatchTagResource,
        Api::CloudWatchUntagResource,
        Api::CloudWatchListTagsForResource,
        Api::PutMetricStream,
        Api::GetMetricStream,
        Api::ListMetricStreams,
        Api::StartMetricStreams,
        Api::StopMetricStreams,
        Api::DeleteMetricStream,
        Api::PutSubscriptionFilter,
        Api::DescribeSubscriptionFilters,
        Api::DeleteSubscriptionFilter,
        Api::PutMetricFilter,
        Api::DescribeMetricFilters,
        Api::DeleteMetricFilter,
        Api::TestMetricFilter,
        Api::PutDestination,
        Api::PutDestinationPolicy,
        Api::DescribeDestinations,
        Api::DeleteDestination,
        Api::LogsTagResource,
        Api::LogsUntagResource,
        Api::LogsListTagsForResource,
        Api::DescribeLogGroups,
        Api::DescribeDeliveryStream,
        Api::CreateSamplingRule,
        Api::UpdateSamplingRule,
        Api::DeleteSamplingRule,
        Api::GetSamplingRules,
        Api::XRayTagResource,
        Api::XRayUntagResource,
        Api::XRayListTagsForResource,
        Api::AssumeRole,
        Api::GetCallerIdentity,
    ];

    /// The service, as used in metric labels.
    pub const fn service(self) -> &'static str {
        use Api::*;
        match self {
            PutMetricAlarm
            | PutCompositeAlarm
            | DeleteAlarms
            | DescribeAlarms
            | CloudWatchTagResource
            | CloudWatchUntagResource
            | CloudWatchListTagsForResource
            | PutMetricStream
            | GetMetricStream
            | ListMetricStreams
            | StartMetricStreams
            | StopMetricStreams
            | DeleteMetricStream => "cloudwatch",
            PutSubscriptionFilter
            | DescribeSubscriptionFilters
            | DeleteSubscriptionFilter
            | PutMetricFilter
            | DescribeMetricFilters
            | DeleteMetricFilter
            | TestMetricFilter
            | PutDestination
            | PutDestinationPolicy
            | DescribeDestinations
            | DeleteDestination
            | LogsTagResource
            | LogsUntagResource
            | LogsListTagsForResource
            | DescribeLogGroups => "logs",
            DescribeDeliveryStream => "firehose",
            CreateSamplingRule
            | UpdateSamplingRule
            | DeleteSamplingRule
            | GetSamplingRules
            | XRayTagResource
            | XRayUntagResource
            | XRayListTagsForResource => "xray",
            AssumeRole | GetCallerIdentity => "sts",
        }
    }

    /// The operation's name in AWS's API reference.
    pub const fn operation(self) -> &'static str {
        use Api::*;
        match self {
            PutMetricAlarm => "PutMetricAlarm",
            PutCompositeAlarm => "PutCompositeAlarm",
            DeleteAlarms => "DeleteAlarms",
            DescribeAlarms => "DescribeAlarms",
            CloudWatchTagResource | XRayTagResource | LogsTagResource => "TagResource",
            CloudWatchUntagResource | XRayUntagResource | LogsUntagResource => "UntagResource",
            CloudWatchListTagsForResource | XRayListTagsForResource | LogsListTagsForResource => {
                "ListTagsForResource"
            }
            PutMetricStream => "PutMetricStream",
            GetMetricStream => "GetMetricStream",
            ListMetricStreams => "ListMetricStreams",
            StartMetricStreams => "StartMetricStreams",
            StopMetricStreams => "StopMetricStreams",
            DeleteMetricStream => "DeleteMetricStream",
            PutSubscriptionFilter => "PutSubscriptionFilter",
            DescribeSubscriptionFilters => "DescribeSubscriptionFilters",
            DeleteSubscriptionFilter => "DeleteSubscriptionFilter",
            PutMetricFilter => "PutMetricFilter",
            DescribeMetricFilters => "DescribeMetricFilters",
            DeleteMetricFilter => "DeleteMetricFilter",
            TestMetricFilter => "TestMetricFilter",
            PutDestination => "PutDestination",
            PutDestinationPolicy => "PutDestinationPolicy",
            DescribeDestinations => "DescribeDestinations",
            DeleteDestination => "DeleteDestination",
            DescribeLogGroups => "DescribeLogGroups",
            DescribeDeliveryStream => "DescribeDeliveryStream",
            CreateSamplingRule => "CreateSamplingRule",
            UpdateSamplingRule => "UpdateSamplingRule",
            DeleteSamplingRule => "DeleteSamplingRule",
            GetSamplingRules => "GetSamplingRules",
            AssumeRole => "AssumeRole",
            GetCallerIdentity => "GetCallerIdentity",
        }
    }

    /// `service:Operation`, the name used by the `--aws-rate-limit` flag.
    pub fn qualified_name(self) -> String {
        format!("{}:{}", self.service(), self.operation())
    }

    /// AWS's default quota in transactions per second, per account and region. X-Ray does not
    /// publish quotas for the sampling rule APIs; 5 per second is a conservative assumption.
    /// CloudWatch Logs gives 5 per second for its control-plane operations that are not listed
    /// with a quota of their own, which covers the metric filter, destination and tag calls.
    /// STS allows 600 requests per second per account and region for its calls together.
    pub const fn default_quota_tps(self) -> f64 {
        use Api::*;
        match self {
            PutMetricAlarm | PutCompositeAlarm | DeleteAlarms => 3.0,
            DescribeAlarms => 9.0,
            CloudWatchTagResource | CloudWatchUntagResource => 20.0,
            CloudWatchListTagsForResource => 10.0,
            PutMetricStream | GetMetricStream | ListMetricStreams | StartMetricStreams
            | StopMetricStreams | DeleteMetricStream => 10.0,
            PutSubscriptionFilter | DescribeSubscriptionFilters | DeleteSubscriptionFilter => 5.0,
            PutMetricFilter | DescribeMetricFilters | DeleteMetricFilter | TestMetricFilter => 5.0,
            PutDestination | PutDestinationPolicy | DescribeDestinations | DeleteDestination => 5.0,
            LogsTagResource | LogsUntagResource | LogsListTagsForResource => 5.0,
            // Only `import` lists log groups; the Logs APIs' common 5 per second is assumed.
            DescribeLogGroups => 5.0,
            DescribeDeliveryStream => 5.0,
            CreateSamplingRule
            | UpdateSamplingRule
            | DeleteSamplingRule
            | GetSamplingRules
            | XRayTagResource
            | XRayUntagResource
            | XRayListTagsForResource => 5.0,
            AssumeRole | GetCallerIdentity => 600.0,
        }
    }

    /// Whether the call changes AWS (counted as a write in tests and benchmarks). STS calls
    /// change nothing an account holds.
    pub const fn is_write(self) -> bool {
        use Api::*;
        !matches!(
            self,
            DescribeAlarms
                | CloudWatchListTagsForResource
                | GetMetricStream
                | ListMetricStreams
                | DescribeSubscriptionFilters
                | DescribeMetricFilters
                | TestMetricFilter
                | DescribeDestinations
                | LogsListTagsForResource
                | DescribeLogGroups
                | DescribeDeliveryStream
                | GetSamplingRules
                | XRayListTagsForResource
                | AssumeRole
                | GetCallerIdentity
        )
    }
}

impl fmt::Display for Api {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.qualified_name())
    }
}

impl FromStr for Api {
    type Err = String;

    /// Accepts `service:Operation` (for example `cloudwatch:PutMetricAlarm`) or, where the
    /// operation name is unique across services, the bare operation name.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(api) = Api::ALL.iter().find(|a| a.qualified_name() == s) {
            return Ok(*api);
        }
        let bare: Vec<_> = Api::ALL.iter().filter(|a| a.operation() == s).collect();
        match bare.as_slice() {
            [one] => Ok(**one),
            [] => Err(format!("unknown AWS operation {s:?}")),
            _ => Err(format!(
                "AWS operation {s:?} exists in several services: write it as service:{s}"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_api_parses_from_its_qualified_name() {
        for api in Api::ALL {
            assert_eq!(api.qualified_name().parse::<Api>(), Ok(api));
        }
    }

    #[test]
    fn ambiguous_bare_operation_names_are_refused() {
        assert!(
            "TagResource"
                .parse::<Api>()
                .unwrap_err()
                .contains("service:TagResource")
        );
        assert_eq!("PutMetricAlarm".parse::<Api>(), Ok(Api::PutMetricAlarm));
    }

    #[test]
    fn alarm_write_quota_is_three_per_second() {
        assert_eq!(Api::PutMetricAlarm.default_quota_tps(), 3.0);
        assert_eq!(Api::DescribeAlarms.default_quota_tps(), 9.0);
        assert!(!Api::DescribeAlarms.is_write());
        assert!(Api::PutMetricAlarm.is_write());
    }

    #[test]
    fn testing_a_filter_pattern_is_a_read() {
        // TestMetricFilter changes nothing in AWS: an idle fleet of metric filters that tests
        // its patterns still makes no writes.
        assert!(!Api::TestMetricFilter.is_write());
        assert!(Api::PutMetricFilter.is_write());
        assert!(Api::PutDestinationPolicy.is_write());
        assert_eq!("logs:TagResource".parse::<Api>(), Ok(Api::LogsTagResource));
    }
}
