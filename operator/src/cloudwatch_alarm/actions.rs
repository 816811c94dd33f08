//! Which action ARNs each action list of an alarm accepts, as CEL rules for the CRD schemas.
//!
//! PutMetricAlarm and PutCompositeAlarm each list the valid values per list:
//! - a metric alarm takes EC2 actions, Auto Scaling policies, Lambda functions, SNS topics,
//!   Systems Manager OpsItems and Incident Manager response plans in every list, and CloudWatch
//!   investigation groups in `AlarmActions` only; an alarm on an anomaly detection band
//!   (`ThresholdMetricId`) "cannot have Auto Scaling actions";
//! - a composite alarm takes SNS topics, Lambda functions, OpsItems, Incident Manager response
//!   plans and investigation groups in `AlarmActions`, and only SNS topics and Lambda functions
//!   in `OKActions` and `InsufficientDataActions`; never EC2 or Auto Scaling actions.
//!
//! The patterns check the service and the shape of each ARN, not the resource names. They hold
//! no backslash (`[.]` for a dot), so they can sit inside CEL string literals.

macro_rules! ec2 {
    () => {
        concat!(
            "automate:[a-z0-9-]+:ec2:(stop|terminate|reboot|recover)",
            "|swf:[a-z0-9-]+:[0-9]{12}:action/actions/AWS_EC2[.]InstanceId[.](Stop|Terminate|Reboot|Recover)/1[.]0"
        )
    };
}
macro_rules! autoscaling {
    () => {
        "autoscaling:[a-z0-9-]+:[0-9]{12}:scalingPolicy:.+"
    };
}
macro_rules! lambda {
    () => {
        "lambda:[a-z0-9-]+:[0-9]{12}:function:.+"
    };
}
macro_rules! sns {
    () => {
        "sns:[a-z0-9-]+:[0-9]{12}:.+"
    };
}
macro_rules! opsitem {
    () => {
        "ssm:[a-z0-9-]+:[0-9]{12}:opsitem:.+"
    };
}
macro_rules! incident {
    () => {
        "ssm-incidents::[0-9]{12}:.+"
    };
}
macro_rules! investigation {
    () => {
        "aiops:[a-z0-9-]+:[0-9]{12}:investigation-group.+"
    };
}

/// A CEL rule over a list of ARNs (`self`), each matching one of the alternatives.
macro_rules! all_match {
    ($first:expr $(, $rest:expr)* $(,)?) => {
        concat!(
            "self.all(a, a.matches('^arn:aws[a-z-]*:(",
            $first,
            $("|", $rest,)*
            ")$'))"
        )
    };
}

/// A metric alarm's `okActions` and `insufficientDataActions`.
pub(crate) const METRIC_STATE_ACTIONS_RULE: &str = all_match!(
    ec2!(),
    autoscaling!(),
    lambda!(),
    sns!(),
    opsitem!(),
    incident!()
);
pub(crate) const METRIC_STATE_ACTIONS_MESSAGE: &str = "each action must be the ARN of an SNS topic, a Lambda function, a Systems Manager OpsItem (arn:aws:ssm:REGION:ACCOUNT:opsitem:SEVERITY), an Incident Manager response plan, an EC2 action (arn:aws:automate:REGION:ec2:stop, terminate, reboot or recover) or an Auto Scaling policy, for example arn:aws:sns:us-east-1:123456789012:alerts";

/// A metric alarm's `alarmActions`: those of the other lists, and investigation groups.
pub(crate) const METRIC_ALARM_ACTIONS_RULE: &str = all_match!(
    ec2!(),
    autoscaling!(),
    lambda!(),
    sns!(),
    opsitem!(),
    incident!(),
    investigation!()
);
pub(crate) const METRIC_ALARM_ACTIONS_MESSAGE: &str = "each action must be the ARN of an SNS topic, a Lambda function, a Systems Manager OpsItem (arn:aws:ssm:REGION:ACCOUNT:opsitem:SEVERITY), an Incident Manager response plan, an EC2 action (arn:aws:automate:REGION:ec2:stop, terminate, reboot or recover), an Auto Scaling policy or a CloudWatch investigation group, for example arn:aws:sns:us-east-1:123456789012:alerts";

/// An anomaly detection alarm (with `thresholdMetricId`) runs no Auto Scaling policy, in any
/// list. A rule on the alarm's spec.
pub(crate) const NO_AUTOSCALING_ON_BAND_RULE: &str = "!has(self.thresholdMetricId) || [has(self.okActions) ? self.okActions : [], has(self.alarmActions) ? self.alarmActions : [], has(self.insufficientDataActions) ? self.insufficientDataActions : []].all(list, list.all(a, !a.matches('^arn:aws[a-z-]*:autoscaling:')))";
pub(crate) const NO_AUTOSCALING_ON_BAND_MESSAGE: &str = "an anomaly detection alarm (thresholdMetricId) cannot have Auto Scaling actions: remove the arn:aws:autoscaling: actions, or alarm on a static threshold";

/// A composite alarm's `alarmActions`.
pub(crate) const COMPOSITE_ALARM_ACTIONS_RULE: &str =
    all_match!(sns!(), lambda!(), opsitem!(), incident!(), investigation!());
pub(crate) const COMPOSITE_ALARM_ACTIONS_MESSAGE: &str = "composite alarm actions must be ARNs of SNS topics, Lambda functions, Systems Manager OpsItems, Incident Manager response plans or CloudWatch investigation groups; EC2 and Auto Scaling actions are not supported";

/// A composite alarm's `okActions` and `insufficientDataActions`.
pub(crate) const COMPOSITE_STATE_ACTIONS_RULE: &str = all_match!(sns!(), lambda!());
pub(crate) const COMPOSITE_STATE_ACTIONS_MESSAGE: &str = "a composite alarm's okActions and insufficientDataActions take only SNS topic and Lambda function ARNs, for example arn:aws:sns:us-east-1:123456789012:alerts";

#[cfg(test)]
mod tests {
    use super::*;
    use regex::Regex;

    const SNS: &str = "arn:aws:sns:us-east-1:123456789012:alerts";
    const LAMBDA: &str = "arn:aws:lambda:us-east-1:123456789012:function:page:live";
    const OPSITEM: &str = "arn:aws:ssm:us-east-1:123456789012:opsitem:3#CATEGORY=Availability";
    const INCIDENT: &str = "arn:aws:ssm-incidents::123456789012:response-plan/api-down";
    const INVESTIGATION: &str =
        "arn:aws:aiops:us-east-1:123456789012:investigation-group/0123456789abcdef";
    const EC2_STOP: &str = "arn:aws:automate:us-east-1:ec2:stop";
    const EC2_SWF: &str =
        "arn:aws:swf:us-east-1:123456789012:action/actions/AWS_EC2.InstanceId.Reboot/1.0";
    const AUTOSCALING: &str = "arn:aws-us-gov:autoscaling:us-gov-west-1:123456789012:scalingPolicy:1a2b:autoScalingGroupName/web:policyName/up";

    /// The regular expression inside a rule's `matches('...')`.
    fn pattern(rule: &str) -> Regex {
        let start = rule.find("matches('").expect("a matches() call") + "matches('".len();
        let end = start + rule[start..].find('\'').expect("a closing quote");
        Regex::new(&rule[start..end]).expect("the pattern compiles")
    }

    fn accepted(rule: &str) -> Vec<&'static str> {
        let p = pattern(rule);
        [
            SNS,
            LAMBDA,
            OPSITEM,
            INCIDENT,
            INVESTIGATION,
            EC2_STOP,
            EC2_SWF,
            AUTOSCALING,
        ]
        .into_iter()
        .filter(|a| p.is_match(a))
        .collect()
    }

    #[test]
    fn a_metric_alarm_takes_investigations_only_in_alarm_actions() {
        let all = [
            SNS,
            LAMBDA,
            OPSITEM,
            INCIDENT,
            INVESTIGATION,
            EC2_STOP,
            EC2_SWF,
            AUTOSCALING,
        ];
        assert_eq!(accepted(METRIC_ALARM_ACTIONS_RULE), all);
        let without_investigation: Vec<_> =
            all.into_iter().filter(|a| *a != INVESTIGATION).collect();
        assert_eq!(accepted(METRIC_STATE_ACTIONS_RULE), without_investigation);
    }

    #[test]
    fn a_composite_alarm_takes_no_ec2_or_auto_scaling_action() {
        assert_eq!(
            accepted(COMPOSITE_ALARM_ACTIONS_RULE),
            [SNS, LAMBDA, OPSITEM, INCIDENT, INVESTIGATION]
        );
        assert_eq!(accepted(COMPOSITE_STATE_ACTIONS_RULE), [SNS, LAMBDA]);
    }

    #[test]
    fn names_and_other_services_are_not_actions() {
        for rule in [METRIC_ALARM_ACTIONS_RULE, COMPOSITE_ALARM_ACTIONS_RULE] {
            let p = pattern(rule);
            for bad in [
                "alerts",
                "arn:aws:sns:us-east-1:alerts",
                "arn:aws:sqs:us-east-1:123456789012:queue",
                "arn:aws:automate:us-east-1:ec2:explode",
                "arn:aws:sns:us-east-1:123456789012:",
            ] {
                assert!(!p.is_match(bad), "{bad} accepted");
            }
        }
    }

    #[test]
    fn the_rules_hold_no_backslash() {
        for rule in [
            METRIC_STATE_ACTIONS_RULE,
            METRIC_ALARM_ACTIONS_RULE,
            NO_AUTOSCALING_ON_BAND_RULE,
            COMPOSITE_ALARM_ACTIONS_RULE,
            COMPOSITE_STATE_ACTIONS_RULE,
        ] {
            assert!(!rule.contains('\\'), "{rule}");
        }
    }
}
