//! PutSubscriptionFilter, DescribeSubscriptionFilters and DeleteSubscriptionFilter.
//!
//! AWS semantics modelled: filters are keyed by (log group, filter name) and Put creates or
//! replaces; a log group holds a limited number of filters (configurable, AWS documents 2),
//! and one more answers `LimitExceededException`; the log group must exist
//! (`ResourceNotFoundException`); a Firehose destination in the caller's account and
//! region must exist, or AWS's test message fails (`InvalidParameterException`); a Logs
//! destination (`arn:aws:logs:...:destination:<name>`) must be in the log group's region and,
//! in the caller's account, exist (`ResourceNotFoundException`); Kinesis and Firehose
//! destinations need a role; a destination is a Kinesis stream, a Firehose stream, a Lambda
//! function or a Logs destination; emitted system fields are `@aws.account` and
//! `@aws.region`; the filter pattern is parsed as metric filters parse it
//! ([`super::filter_pattern`]), and patterns with regular expressions count towards the log
//! group's quota shared with metric filters; DescribeSubscriptionFilters matches
//! `filterNamePrefix` as a prefix.

use std::ops::Bound;

use serde::{Deserialize, Serialize};

use super::destinations::destination_not_found;
use super::filter_pattern::FilterPattern;
use super::filter_store::{DeleteFilterInput, check_filter_key, delete_filter};
use super::metric_filters::{check_regex_quota, check_system_field_options};
use super::state::{Except, SubscriptionFilter};
use super::{
    check_filter_name, check_log_group_name, invalid_parameter, invalid_pattern,
    log_group_not_found,
};
use crate::arn::Arn;
use crate::call::Call;
use crate::error::{AwsError, AwsResult};
use crate::paging;
use crate::validation::Violations;

const DISTRIBUTIONS: &[&str] = &["Random", "ByLogStream"];
/// Kinesis streams, Firehose streams, Lambda functions and Logs destinations (cross-account).
const DESTINATION_SERVICES: &[&str] = &["kinesis", "firehose", "lambda", "logs"];
const DEFAULT_LIMIT: usize = 50;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutSubscriptionFilterInput {
    pub log_group_name: Option<String>,
    pub filter_name: Option<String>,
    pub filter_pattern: Option<String>,
    pub destination_arn: Option<String>,
    pub role_arn: Option<String>,
    pub distribution: Option<String>,
    pub apply_on_transformed_logs: Option<bool>,
    pub field_selection_criteria: Option<String>,
    pub emit_system_fields: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeSubscriptionFiltersInput {
    pub log_group_name: Option<String>,
    pub filter_name_prefix: Option<String>,
    pub next_token: Option<String>,
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeSubscriptionFiltersOutput {
    pub subscription_filters: Vec<SubscriptionFilter>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// A Firehose stream in this account and region must exist and be ACTIVE, or AWS's test
/// message fails; streams elsewhere are not checked.
pub fn check_firehose_stream(call: &Call<'_>, arn: &Arn<'_>) -> AwsResult<()> {
    if !arn.is_in(call.scope) {
        return Ok(());
    }
    let name = arn
        .resource
        .strip_prefix("deliverystream/")
        .unwrap_or_default();
    let active = call
        .state
        .firehose
        .streams
        .get(name)
        .is_some_and(|s| s.is_active());
    if !active {
        return Err(invalid_parameter(
            "Could not deliver test message to specified Firehose stream. Check if the given \
             Firehose stream is in ACTIVE state.",
        ));
    }
    Ok(())
}

/// A Logs destination must be in the log group's region; one in this account must exist.
fn check_logs_destination(call: &Call<'_>, arn: &Arn<'_>, destination: &str) -> AwsResult<()> {
    let Some(name) = arn.resource.strip_prefix("destination:") else {
        return Err(invalid_parameter(format!(
            "Invalid destinationArn: {destination}"
        )));
    };
    if arn.region != call.scope.region {
        return Err(invalid_parameter(
            "The destination must be in the same region as the log group",
        ));
    }
    if arn.account == call.scope.account && !call.state.logs.destinations.contains_key(name) {
        return Err(destination_not_found());
    }
    Ok(())
}

fn check_destination(call: &Call<'_>, destination: &str, role: Option<&String>) -> AwsResult<()> {
    let arn = Arn::parse(destination)
        .filter(|arn| DESTINATION_SERVICES.contains(&arn.service))
        .ok_or_else(|| {
            invalid_parameter(format!(
                "Invalid destinationArn: {destination}. A destination is a Kinesis stream, a \
                 Firehose stream, a Lambda function or a CloudWatch Logs destination"
            ))
        })?;
    let needs_role = matches!(arn.service, "kinesis" | "firehose");
    if needs_role && role.is_none() {
        return Err(invalid_parameter(format!(
            "A roleArn is required for {} destinations",
            arn.service
        )));
    }
    match arn.service {
        "firehose" => check_firehose_stream(call, &arn),
        "logs" => check_logs_destination(call, &arn, destination),
        _ => Ok(()),
    }
}

pub fn put_subscription_filter(
    call: &mut Call<'_>,
    input: PutSubscriptionFilterInput,
) -> AwsResult<()> {
    let mut v = Violations::new();
    check_filter_key(
        &mut v,
        input.log_group_name.as_ref(),
        input.filter_name.as_ref(),
    );
    v.required("filterPattern", input.filter_pattern.as_ref())
        .length(
            "filterPattern",
            input.filter_pattern.as_deref(),
            0,
            Some(1024),
        )
        .required("destinationArn", input.destination_arn.as_ref())
        .length("destinationArn", input.destination_arn.as_deref(), 1, None)
        .length("roleArn", input.role_arn.as_deref(), 1, None)
        .one_of("distribution", input.distribution.as_deref(), DISTRIBUTIONS)
        .length(
            "fieldSelectionCriteria",
            input.field_selection_criteria.as_deref(),
            0,
            Some(2000),
        );
    v.finish(invalid_parameter)?;
    let group_name = input.log_group_name.expect("checked above");
    let filter_name = input.filter_name.expect("checked above");
    let pattern = input.filter_pattern.expect("checked above");
    let destination = input.destination_arn.expect("checked above");
    let parsed = FilterPattern::parse(&pattern).map_err(|e| invalid_pattern(&e, "subscription"))?;
    check_system_field_options(
        input.field_selection_criteria.as_deref(),
        "emitSystemFields",
        input.emit_system_fields.as_deref(),
    )?;
    let group = call
        .state
        .logs
        .groups
        .get(&group_name)
        .ok_or_else(log_group_not_found)?;
    check_regex_quota(group, &parsed, Except::SubscriptionFilter(&filter_name))?;
    check_destination(call, &destination, input.role_arn.as_ref())?;
    let limit = call.limits.subscription_filter_limit;
    let group = call
        .state
        .logs
        .groups
        .get_mut(&group_name)
        .expect("checked above");
    group.filters.check_room(&filter_name, limit, || {
        AwsError::bad_request("LimitExceededException", "Resource limit exceeded.")
    })?;
    let creation_time = group
        .filters
        .creation_time_of(&filter_name, call.now.epoch_millis());
    group.filters.put(SubscriptionFilter {
        filter_name,
        log_group_name: group_name,
        filter_pattern: pattern,
        destination_arn: destination,
        role_arn: input.role_arn,
        distribution: input.distribution.unwrap_or_else(|| "ByLogStream".into()),
        apply_on_transformed_logs: input.apply_on_transformed_logs.unwrap_or(false),
        creation_time,
        field_selection_criteria: input.field_selection_criteria,
        emit_system_fields: input.emit_system_fields,
    });
    Ok(())
}

pub fn describe_subscription_filters(
    call: &mut Call<'_>,
    input: DescribeSubscriptionFiltersInput,
) -> AwsResult<DescribeSubscriptionFiltersOutput> {
    let mut v = Violations::new();
    v.required("logGroupName", input.log_group_name.as_ref());
    check_log_group_name(&mut v, "logGroupName", input.log_group_name.as_deref());
    check_filter_name(
        &mut v,
        "filterNamePrefix",
        input.filter_name_prefix.as_deref(),
    );
    v.length("nextToken", input.next_token.as_deref(), 1, None)
        .range("limit", input.limit, Some(1), Some(50));
    v.finish(invalid_parameter)?;
    let group = call
        .state
        .logs
        .groups
        .get(input.log_group_name.as_deref().expect("checked above"))
        .ok_or_else(log_group_not_found)?;
    let prefix = input.filter_name_prefix.as_deref().unwrap_or("");
    let start = match &input.next_token {
        Some(token) => {
            let last = paging::decode(token)
                .ok_or_else(|| invalid_parameter("The specified nextToken is invalid."))?;
            Bound::Excluded(last)
        }
        None => Bound::Included(prefix.to_string()),
    };
    let limit = input.limit.map_or(DEFAULT_LIMIT, |n| n as usize);
    let mut filters: Vec<SubscriptionFilter> = group
        .filters
        .range((start, Bound::Unbounded))
        .filter(|f| f.filter_name.starts_with(prefix))
        .take(limit + 1)
        .cloned()
        .collect();
    let next_token = (filters.len() > limit).then(|| {
        filters.truncate(limit);
        paging::encode(&filters.last().expect("a full page").filter_name)
    });
    Ok(DescribeSubscriptionFiltersOutput {
        subscription_filters: filters,
        next_token,
    })
}

pub fn delete_subscription_filter(call: &mut Call<'_>, input: DeleteFilterInput) -> AwsResult<()> {
    delete_filter(call, input, |g| &mut g.filters, "subscription filter")
}
