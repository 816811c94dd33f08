//! CreateLogGroup, DeleteLogGroup and DescribeLogGroups.
//!
//! AWS semantics modelled: creating an existing group answers
//! `ResourceAlreadyExistsException`; deleting a missing one `ResourceNotFoundException`;
//! deleting a group removes its subscription filters; a group with deletion protection
//! cannot be deleted. DescribeLogGroups lists by name with `logGroupNamePrefix` or a
//! case-sensitive substring `logGroupNamePattern` (not both), or by `logGroupIdentifiers`.

use std::collections::BTreeMap;
use std::ops::Bound;

use serde::{Deserialize, Serialize};

use super::filter_store::FilterStore;
use super::state::LogGroup;
use super::{check_log_group_name, check_tags, invalid_parameter, log_group_not_found};
use crate::arn;
use crate::call::Call;
use crate::error::{AwsError, AwsResult};
use crate::paging;
use crate::validation::{Violations, element_path};

const LOG_GROUP_CLASSES: &[&str] = &["STANDARD", "INFREQUENT_ACCESS", "DELIVERY"];
const NAME_PATTERN_PATTERN: &str = r"[\.\-_/#A-Za-z0-9]*";
const IDENTIFIER_PATTERN: &str = r"[\w#+=/:,.@-]*";
const ACCOUNT_ID_PATTERN: &str = r"^\d{12}$";
const DEFAULT_LIMIT: usize = 50;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateLogGroupInput {
    pub log_group_name: Option<String>,
    pub kms_key_id: Option<String>,
    pub tags: Option<BTreeMap<String, String>>,
    pub log_group_class: Option<String>,
    pub deletion_protection_enabled: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteLogGroupInput {
    pub log_group_name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeLogGroupsInput {
    pub log_group_name_prefix: Option<String>,
    pub log_group_name_pattern: Option<String>,
    pub next_token: Option<String>,
    pub limit: Option<i64>,
    pub log_group_class: Option<String>,
    pub log_group_identifiers: Option<Vec<String>>,
    pub account_identifiers: Option<Vec<String>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LogGroupView {
    pub log_group_name: String,
    pub creation_time: i64,
    pub metric_filter_count: i64,
    pub arn: String,
    pub stored_bytes: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kms_key_id: Option<String>,
    pub log_group_class: String,
    pub log_group_arn: String,
    pub deletion_protection_enabled: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeLogGroupsOutput {
    pub log_groups: Vec<LogGroupView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

pub fn create_log_group(call: &mut Call<'_>, input: CreateLogGroupInput) -> AwsResult<()> {
    let mut v = Violations::new();
    v.required("logGroupName", input.log_group_name.as_ref());
    check_log_group_name(&mut v, "logGroupName", input.log_group_name.as_deref());
    v.length("kmsKeyId", input.kms_key_id.as_deref(), 0, Some(256))
        .one_of(
            "logGroupClass",
            input.log_group_class.as_deref(),
            LOG_GROUP_CLASSES,
        );
    check_tags(&mut v, input.tags.as_ref());
    v.finish(invalid_parameter)?;
    let name = input.log_group_name.expect("checked above");
    let groups = &mut call.state.logs.groups;
    if groups.contains_key(&name) {
        return Err(AwsError::bad_request(
            "ResourceAlreadyExistsException",
            "The specified log group already exists",
        ));
    }
    groups.insert(
        name.clone(),
        LogGroup {
            name,
            creation_time: call.now.epoch_millis(),
            kms_key_id: input.kms_key_id,
            log_group_class: input.log_group_class.unwrap_or_else(|| "STANDARD".into()),
            deletion_protection_enabled: input.deletion_protection_enabled.unwrap_or(false),
            tags: input.tags.unwrap_or_default(),
            filters: FilterStore::default(),
            metric_filters: FilterStore::default(),
        },
    );
    Ok(())
}

pub fn delete_log_group(call: &mut Call<'_>, input: DeleteLogGroupInput) -> AwsResult<()> {
    let mut v = Violations::new();
    v.required("logGroupName", input.log_group_name.as_ref());
    check_log_group_name(&mut v, "logGroupName", input.log_group_name.as_deref());
    v.finish(invalid_parameter)?;
    let name = input.log_group_name.expect("checked above");
    let groups = &mut call.state.logs.groups;
    let group = groups.get(&name).ok_or_else(log_group_not_found)?;
    if group.deletion_protection_enabled {
        return Err(AwsError::bad_request(
            "ValidationException",
            format!("Log group {name} has deletion protection enabled"),
        ));
    }
    groups.remove(&name);
    Ok(())
}

pub fn describe_log_groups(
    call: &mut Call<'_>,
    input: DescribeLogGroupsInput,
) -> AwsResult<DescribeLogGroupsOutput> {
    let mut v = Violations::new();
    check_log_group_name(
        &mut v,
        "logGroupNamePrefix",
        input.log_group_name_prefix.as_deref(),
    );
    v.length(
        "logGroupNamePattern",
        input.log_group_name_pattern.as_deref(),
        0,
        Some(512),
    )
    .model_pattern(
        "logGroupNamePattern",
        input.log_group_name_pattern.as_deref(),
        NAME_PATTERN_PATTERN,
    )
    .count(
        "accountIdentifiers",
        input.account_identifiers.as_deref(),
        0,
        Some(20),
    )
    .length("nextToken", input.next_token.as_deref(), 1, None)
    .range("limit", input.limit, Some(1), Some(50))
    .one_of(
        "logGroupClass",
        input.log_group_class.as_deref(),
        LOG_GROUP_CLASSES,
    )
    .count(
        "logGroupIdentifiers",
        input.log_group_identifiers.as_deref(),
        1,
        Some(50),
    );
    for (i, id) in input.log_group_identifiers.iter().flatten().enumerate() {
        let at = element_path("logGroupIdentifiers", i);
        v.length(&at, Some(id), 1, Some(2048))
            .model_pattern(&at, Some(id), IDENTIFIER_PATTERN);
    }
    for (i, account) in input.account_identifiers.iter().flatten().enumerate() {
        let at = element_path("accountIdentifiers", i);
        v.length(&at, Some(account), 12, Some(12)).model_pattern(
            &at,
            Some(account),
            ACCOUNT_ID_PATTERN,
        );
    }
    v.finish(invalid_parameter)?;
    if input.log_group_name_prefix.is_some() && input.log_group_name_pattern.is_some() {
        return Err(invalid_parameter(
            "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.",
        ));
    }
    if input.log_group_identifiers.is_some()
        && (input.log_group_name_prefix.is_some() || input.log_group_name_pattern.is_some())
    {
        return Err(invalid_parameter(
            "logGroupIdentifiers cannot be combined with logGroupNamePrefix or logGroupNamePattern",
        ));
    }
    let limit = input.limit.map_or(DEFAULT_LIMIT, |n| n as usize);
    let prefix = input.log_group_name_prefix.as_deref().unwrap_or("");
    // Listing is by name: start at the prefix, or after the last name of the previous page.
    let start = match &input.next_token {
        Some(token) => {
            let last = paging::decode(token)
                .ok_or_else(|| invalid_parameter("The specified nextToken is invalid."))?;
            if last.as_str() >= prefix {
                Bound::Excluded(last)
            } else {
                Bound::Included(prefix.to_string())
            }
        }
        None => Bound::Included(prefix.to_string()),
    };
    let identifiers: Option<Vec<String>> = input.log_group_identifiers.as_ref().map(|ids| {
        ids.iter()
            .map(|id| match id.split_once(":log-group:") {
                Some((_, rest)) => rest.trim_end_matches(":*").to_string(),
                None => id.clone(),
            })
            .collect()
    });
    let mut page: Vec<&LogGroup> = Vec::new();
    let mut more = false;
    let matching = call
        .state
        .logs
        .groups
        .range((start, Bound::Unbounded))
        .map(|(_, g)| g)
        .take_while(|g| g.name.starts_with(prefix))
        .filter(|g| {
            input
                .log_group_name_pattern
                .as_ref()
                .is_none_or(|p| g.name.contains(p.as_str()))
        })
        .filter(|g| {
            input
                .log_group_class
                .as_ref()
                .is_none_or(|c| &g.log_group_class == c)
        })
        .filter(|g| identifiers.as_ref().is_none_or(|ids| ids.contains(&g.name)));
    for group in matching {
        if page.len() == limit {
            more = true;
            break;
        }
        page.push(group);
    }
    let next_token = more.then(|| paging::encode(&page.last().expect("a full page").name));
    let log_groups = page
        .into_iter()
        .map(|g| {
            let log_group_arn = arn::log_group(call.scope, &g.name);
            LogGroupView {
                log_group_name: g.name.clone(),
                creation_time: g.creation_time,
                metric_filter_count: g.metric_filters.len() as i64,
                arn: format!("{log_group_arn}:*"),
                stored_bytes: 0,
                kms_key_id: g.kms_key_id.clone(),
                log_group_class: g.log_group_class.clone(),
                log_group_arn,
                deletion_protection_enabled: g.deletion_protection_enabled,
            }
        })
        .collect();
    Ok(DescribeLogGroupsOutput {
        log_groups,
        next_token,
    })
}
