//! Amazon Resource Names as AWS writes them for the emulated resources.

use crate::signing_scope::Scope;

/// `arn:aws:cloudwatch:<region>:<account>:alarm:<name>`
pub fn alarm(scope: &Scope, name: &str) -> String {
    format!(
        "arn:aws:cloudwatch:{}:{}:alarm:{name}",
        scope.region, scope.account
    )
}

/// `arn:aws:cloudwatch:<region>:<account>:metric-stream/<name>`
pub fn metric_stream(scope: &Scope, name: &str) -> String {
    format!(
        "arn:aws:cloudwatch:{}:{}:metric-stream/{name}",
        scope.region, scope.account
    )
}

/// `arn:aws:firehose:<region>:<account>:deliverystream/<name>`
pub fn delivery_stream(scope: &Scope, name: &str) -> String {
    format!(
        "arn:aws:firehose:{}:{}:deliverystream/{name}",
        scope.region, scope.account
    )
}

/// `arn:aws:xray:<region>:<account>:sampling-rule/<name>`
pub fn sampling_rule(scope: &Scope, name: &str) -> String {
    format!(
        "arn:aws:xray:{}:{}:sampling-rule/{name}",
        scope.region, scope.account
    )
}

/// `arn:aws:logs:<region>:<account>:log-group:<name>` (the `logGroupArn` form; the older
/// `arn` member appends `:*`).
pub fn log_group(scope: &Scope, name: &str) -> String {
    format!(
        "arn:aws:logs:{}:{}:log-group:{name}",
        scope.region, scope.account
    )
}

/// `arn:aws:logs:<region>:<account>:destination:<name>`
pub fn logs_destination(scope: &Scope, name: &str) -> String {
    format!(
        "arn:aws:logs:{}:{}:destination:{name}",
        scope.region, scope.account
    )
}

/// The parts of an ARN: `arn:<partition>:<service>:<region>:<account>:<resource>`.
#[derive(Debug, PartialEq, Eq)]
pub struct Arn<'a> {
    pub partition: &'a str,
    pub service: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub resource: &'a str,
}

impl<'a> Arn<'a> {
    pub fn parse(arn: &'a str) -> Option<Self> {
        let mut parts = arn.splitn(6, ':');
        if parts.next()? != "arn" {
            return None;
        }
        let arn = Arn {
            partition: parts.next()?,
            service: parts.next()?,
            region: parts.next()?,
            account: parts.next()?,
            resource: parts.next()?,
        };
        (!arn.partition.is_empty() && !arn.service.is_empty()).then_some(arn)
    }

    /// True when the ARN names a resource in this account and region.
    pub fn is_in(&self, scope: &Scope) -> bool {
        self.region == scope.region && self.account == scope.account
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_follow_the_aws_formats() {
        let scope = Scope::new("123456789012", "eu-west-1");
        assert_eq!(
            alarm(&scope, "a"),
            "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:a"
        );
        assert_eq!(
            metric_stream(&scope, "s"),
            "arn:aws:cloudwatch:eu-west-1:123456789012:metric-stream/s"
        );
        assert_eq!(
            delivery_stream(&scope, "d"),
            "arn:aws:firehose:eu-west-1:123456789012:deliverystream/d"
        );
        assert_eq!(
            sampling_rule(&scope, "r"),
            "arn:aws:xray:eu-west-1:123456789012:sampling-rule/r"
        );
        assert_eq!(
            log_group(&scope, "/g"),
            "arn:aws:logs:eu-west-1:123456789012:log-group:/g"
        );
        assert_eq!(
            logs_destination(&scope, "central"),
            "arn:aws:logs:eu-west-1:123456789012:destination:central"
        );
    }

    #[test]
    fn parse_keeps_colons_in_the_resource() {
        let arn = Arn::parse("arn:aws:cloudwatch:us-east-1:123456789012:alarm:a:b").unwrap();
        assert_eq!(arn.service, "cloudwatch");
        assert_eq!(arn.resource, "alarm:a:b");
        assert!(Arn::parse("not-an-arn").is_none());
    }
}
