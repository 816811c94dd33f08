//! PutDestination, PutDestinationPolicy, DescribeDestinations and DeleteDestination.
//!
//! AWS semantics modelled: a destination is keyed by name and stands in front of a Kinesis
//! data stream or a Firehose delivery stream (a Firehose stream in this account and region
//! must exist and be ACTIVE, or AWS's test message fails), with a role for CloudWatch Logs to
//! assume; Put creates or updates the target and role, keeping the creation time, the access
//! policy and the tags (tags count on create only). A new destination has no access policy
//! until PutDestinationPolicy attaches one ([`super::access_policy`]); switching a policy from
//! account ids to an organization id needs `forceUpdate`, as the cross-account guide says.
//! DescribeDestinations lists by name (`DestinationNamePrefix`, `limit` 1–50, paged);
//! DeleteDestination of a missing destination answers `ResourceNotFoundException` and leaves
//! subscription filters that point at it in place (AWS "eventually disables" them).

use std::collections::BTreeMap;
use std::ops::Bound;

use serde::{Deserialize, Serialize};

use super::state::Destination;
use super::subscription_filters::check_firehose_stream;
use super::{access_policy, check_filter_name, check_tags, invalid_parameter, resource_not_found};
use crate::arn::{self, Arn};
use crate::call::Call;
use crate::error::AwsResult;
use crate::paging;
use crate::validation::Violations;

const DEFAULT_LIMIT: usize = 50;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutDestinationInput {
    pub destination_name: Option<String>,
    pub target_arn: Option<String>,
    pub role_arn: Option<String>,
    pub tags: Option<BTreeMap<String, String>>,
}

/// The `Destination` shape of the API.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DestinationView {
    pub destination_name: String,
    pub target_arn: String,
    pub role_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_policy: Option<String>,
    pub arn: String,
    pub creation_time: i64,
}

impl From<&Destination> for DestinationView {
    fn from(d: &Destination) -> Self {
        Self {
            destination_name: d.name.clone(),
            target_arn: d.target_arn.clone(),
            role_arn: d.role_arn.clone(),
            access_policy: d.access_policy.clone(),
            arn: d.arn.clone(),
            creation_time: d.creation_time,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct PutDestinationOutput {
    pub destination: DestinationView,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutDestinationPolicyInput {
    pub destination_name: Option<String>,
    pub access_policy: Option<String>,
    pub force_update: Option<bool>,
}

/// The prefix member is spelled `DestinationNamePrefix` in the model, unlike every other
/// member of the Logs API.
#[derive(Debug, Default, Deserialize)]
pub struct DescribeDestinationsInput {
    #[serde(rename = "DestinationNamePrefix")]
    pub destination_name_prefix: Option<String>,
    #[serde(rename = "nextToken")]
    pub next_token: Option<String>,
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeDestinationsOutput {
    pub destinations: Vec<DestinationView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteDestinationInput {
    pub destination_name: Option<String>,
}

pub fn destination_not_found() -> crate::error::AwsError {
    resource_not_found("The specified destination does not exist.")
}

pub fn put_destination(
    call: &mut Call<'_>,
    input: PutDestinationInput,
) -> AwsResult<PutDestinationOutput> {
    let mut v = Violations::new();
    v.required("destinationName", input.destination_name.as_ref());
    check_filter_name(&mut v, "destinationName", input.destination_name.as_deref());
    v.required("targetArn", input.target_arn.as_ref())
        .length("targetArn", input.target_arn.as_deref(), 1, None)
        .required("roleArn", input.role_arn.as_ref())
        .length("roleArn", input.role_arn.as_deref(), 1, None);
    check_tags(&mut v, input.tags.as_ref());
    v.finish(invalid_parameter)?;
    let name = input.destination_name.expect("checked above");
    let target = input.target_arn.expect("checked above");
    let role = input.role_arn.expect("checked above");
    let target_arn = Arn::parse(&target)
        .filter(|a| {
            (a.service == "kinesis" && a.resource.starts_with("stream/"))
                || (a.service == "firehose" && a.resource.starts_with("deliverystream/"))
        })
        .ok_or_else(|| {
            invalid_parameter(format!(
                "Invalid targetArn {target}: a destination delivers to a Kinesis data stream or \
                 a Firehose delivery stream"
            ))
        })?;
    if !Arn::parse(&role).is_some_and(|a| a.service == "iam" && a.resource.starts_with("role/")) {
        return Err(invalid_parameter(format!("Invalid roleArn {role}")));
    }
    if target_arn.service == "firehose" {
        check_firehose_stream(call, &target_arn)?;
    }
    let now = call.now.epoch_millis();
    let arn = arn::logs_destination(call.scope, &name);
    let destinations = &mut call.state.logs.destinations;
    let destination = match destinations.get_mut(&name) {
        Some(existing) => {
            existing.target_arn = target;
            existing.role_arn = role;
            existing
        }
        None => destinations.entry(name.clone()).or_insert(Destination {
            name,
            target_arn: target,
            role_arn: role,
            access_policy: None,
            arn,
            creation_time: now,
            tags: input.tags.unwrap_or_default(),
        }),
    };
    Ok(PutDestinationOutput {
        destination: DestinationView::from(&*destination),
    })
}

pub fn put_destination_policy(
    call: &mut Call<'_>,
    input: PutDestinationPolicyInput,
) -> AwsResult<()> {
    let mut v = Violations::new();
    v.required("destinationName", input.destination_name.as_ref());
    check_filter_name(&mut v, "destinationName", input.destination_name.as_deref());
    v.required("accessPolicy", input.access_policy.as_ref())
        .length("accessPolicy", input.access_policy.as_deref(), 1, None);
    v.finish(invalid_parameter)?;
    let policy = input.access_policy.expect("checked above");
    let grants = access_policy::check(&policy)
        .map_err(|detail| invalid_parameter(format!("Invalid access policy: {detail}")))?;
    let destination = call
        .state
        .logs
        .destinations
        .get_mut(input.destination_name.as_deref().expect("checked above"))
        .ok_or_else(destination_not_found)?;
    let granted_accounts = destination
        .access_policy
        .as_deref()
        .and_then(|p| access_policy::check(p).ok())
        .is_some_and(|g| g.accounts && !g.organization);
    if granted_accounts && grants.organization && !input.force_update.unwrap_or(false) {
        return Err(invalid_parameter(
            "Changing a destination policy from account IDs to an organization ID needs \
             forceUpdate: update the subscription filters in the sending accounts first, then \
             retry with forceUpdate set to true",
        ));
    }
    destination.access_policy = Some(policy);
    Ok(())
}

pub fn describe_destinations(
    call: &mut Call<'_>,
    input: DescribeDestinationsInput,
) -> AwsResult<DescribeDestinationsOutput> {
    let mut v = Violations::new();
    check_filter_name(
        &mut v,
        "DestinationNamePrefix",
        input.destination_name_prefix.as_deref(),
    );
    v.length("nextToken", input.next_token.as_deref(), 1, None)
        .range("limit", input.limit, Some(1), Some(50));
    v.finish(invalid_parameter)?;
    let prefix = input.destination_name_prefix.as_deref().unwrap_or("");
    let start = match &input.next_token {
        Some(token) => Bound::Excluded(
            paging::decode(token)
                .ok_or_else(|| invalid_parameter("The specified nextToken is invalid."))?,
        ),
        None => Bound::Included(prefix.to_string()),
    };
    let limit = input.limit.map_or(DEFAULT_LIMIT, |n| n as usize);
    let mut page: Vec<&Destination> = call
        .state
        .logs
        .destinations
        .range((start, Bound::Unbounded))
        .map(|(_, d)| d)
        .filter(|d| d.name.starts_with(prefix))
        .take(limit + 1)
        .collect();
    let next_token = (page.len() > limit).then(|| {
        page.truncate(limit);
        paging::encode(&page.last().expect("a full page").name)
    });
    Ok(DescribeDestinationsOutput {
        destinations: page.into_iter().map(DestinationView::from).collect(),
        next_token,
    })
}

pub fn delete_destination(call: &mut Call<'_>, input: DeleteDestinationInput) -> AwsResult<()> {
    let mut v = Violations::new();
    v.required("destinationName", input.destination_name.as_ref());
    check_filter_name(&mut v, "destinationName", input.destination_name.as_deref());
    v.finish(invalid_parameter)?;
    call.state
        .logs
        .destinations
        .remove(input.destination_name.as_deref().expect("checked above"))
        .map(|_| ())
        .ok_or_else(destination_not_found)
}
