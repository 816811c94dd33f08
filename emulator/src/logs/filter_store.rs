//! The filters of one kind on a log group (its subscription filters, its metric filters), and
//! what their operations share. AWS keys both by (log group, filter name): Put creates or
//! replaces, keeping the replaced filter's creation time; a log group holds a limited number of
//! each, and only a new name counts against it; Delete names the log group and the filter, and
//! a filter that is not there is `ResourceNotFoundException`. Listing is ASCII-sorted by name.

use std::collections::BTreeMap;
use std::ops::RangeBounds;

use serde::{Deserialize, Serialize};

use super::state::LogGroup;
use super::{
    check_filter_name, check_log_group_name, invalid_parameter, log_group_not_found,
    resource_not_found,
};
use crate::call::Call;
use crate::error::{AwsError, AwsResult};
use crate::validation::Violations;

/// A filter as a log group stores it.
pub trait StoredFilter {
    fn filter_name(&self) -> &str;
    /// Epoch milliseconds.
    fn creation_time(&self) -> i64;
}

/// The filters of one kind on a log group, by name. Stored as a plain map of name to filter,
/// as state files hold it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FilterStore<F>(BTreeMap<String, F>);

impl<F> Default for FilterStore<F> {
    fn default() -> Self {
        FilterStore(BTreeMap::new())
    }
}

impl<F: StoredFilter> FilterStore<F> {
    /// Refuses a new filter named `name` with `refusal` when the log group holds `limit`
    /// already; replacing a filter is always allowed.
    pub fn check_room(
        &self,
        name: &str,
        limit: usize,
        refusal: impl FnOnce() -> AwsError,
    ) -> AwsResult<()> {
        if !self.0.contains_key(name) && self.0.len() >= limit {
            return Err(refusal());
        }
        Ok(())
    }

    /// The creation time a Put of `name` keeps: the replaced filter's, or `now` for a new one.
    pub fn creation_time_of(&self, name: &str, now: i64) -> i64 {
        self.0.get(name).map_or(now, F::creation_time)
    }

    /// Creates or replaces the filter of that name.
    pub fn put(&mut self, filter: F) {
        self.0.insert(filter.filter_name().to_string(), filter);
    }

    /// The filters, by name.
    pub fn values(&self) -> impl Iterator<Item = &F> {
        self.0.values()
    }

    /// The filters whose names are in `names`, by name.
    pub fn range(&self, names: impl RangeBounds<String>) -> impl Iterator<Item = &F> {
        self.0.range(names).map(|(_, f)| f)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }
}

/// Checks the members that name a filter, as every filter operation but Describe has them.
pub fn check_filter_key(
    v: &mut Violations,
    log_group_name: Option<&String>,
    filter_name: Option<&String>,
) {
    v.required("logGroupName", log_group_name);
    check_log_group_name(v, "logGroupName", log_group_name.map(String::as_str));
    v.required("filterName", filter_name);
    check_filter_name(v, "filterName", filter_name.map(String::as_str));
}

/// The input of DeleteSubscriptionFilter and DeleteMetricFilter.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteFilterInput {
    pub log_group_name: Option<String>,
    pub filter_name: Option<String>,
}

/// Deletes the filter `input` names from the store `filters` picks on its log group; `kind`
/// names the filter in AWS's error (`subscription filter`, `metric filter`).
pub fn delete_filter<F: StoredFilter>(
    call: &mut Call<'_>,
    input: DeleteFilterInput,
    filters: impl FnOnce(&mut LogGroup) -> &mut FilterStore<F>,
    kind: &str,
) -> AwsResult<()> {
    let mut v = Violations::new();
    check_filter_key(
        &mut v,
        input.log_group_name.as_ref(),
        input.filter_name.as_ref(),
    );
    v.finish(invalid_parameter)?;
    let group = call
        .state
        .logs
        .groups
        .get_mut(input.log_group_name.as_deref().expect("checked above"))
        .ok_or_else(log_group_not_found)?;
    filters(group)
        .0
        .remove(input.filter_name.as_deref().expect("checked above"))
        .map(|_| ())
        .ok_or_else(|| resource_not_found(format!("The specified {kind} does not exist.")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    struct Named {
        name: String,
        created: i64,
    }

    impl StoredFilter for Named {
        fn filter_name(&self) -> &str {
            &self.name
        }
        fn creation_time(&self) -> i64 {
            self.created
        }
    }

    fn named(name: &str, created: i64) -> Named {
        Named {
            name: name.into(),
            created,
        }
    }

    fn full() -> AwsError {
        AwsError::bad_request("LimitExceededException", "full")
    }

    #[test]
    fn a_full_store_refuses_only_new_names_and_a_replacement_keeps_its_creation_time() {
        let mut store = FilterStore::default();
        store.put(named("b", 2));
        store.put(named("a", 1));
        assert!(store.check_room("c", 2, full).is_err());
        assert!(store.check_room("b", 2, full).is_ok());
        assert!(store.check_room("c", 3, full).is_ok());
        assert_eq!(store.creation_time_of("b", 9), 2);
        assert_eq!(store.creation_time_of("c", 9), 9);
        store.put(named("b", store.creation_time_of("b", 9)));
        assert_eq!(store.len(), 2);
        assert_eq!(
            store.values().collect::<Vec<_>>(),
            [&named("a", 1), &named("b", 2)],
            "by name"
        );
    }

    #[test]
    fn state_files_hold_a_plain_map_of_name_to_filter() {
        let mut store = FilterStore::default();
        store.put(named("a", 1));
        let text = serde_json::to_string(&store).unwrap();
        assert_eq!(text, r#"{"a":{"name":"a","created":1}}"#);
        let back: FilterStore<Named> = serde_json::from_str(&text).unwrap();
        assert_eq!(back, store);
    }
}
