//! What `import` reads and writes alike for both kinds of filter: every log group's filters
//! (DescribeLogGroups, then the kind's Describe per group), each named after its filter name
//! within its log group, and a manifest that spells out the log group and the filter name.

use super::LogFilterKind;
use crate::aws::log_group_reader::list_all;
use crate::aws::{Aws, Location};
use crate::error::Result;
use crate::runtime::import::Holder;

/// Every filter of the kind in `region`, log group by log group. The Describe calls take no
/// name prefix across log groups, so `import` narrows by prefix itself.
pub async fn list<K: LogFilterKind>(aws: &Aws, region: &str) -> Result<Vec<K::Record>> {
    list_all(aws, &Location::of(region)).await
}

/// The filter's name: what `--prefix` selects by and the object is named after.
pub fn record_name<K: LogFilterKind>(record: &K::Record) -> &str {
    K::record_name(record).unwrap_or_default()
}

/// The log group that holds the filter: a filter's name is unique only within it.
pub fn holder<K: LogFilterKind>(record: &K::Record) -> Option<Holder<'_>> {
    Some(Holder {
        noun: "log group",
        name: K::record_log_group(record).unwrap_or_default(),
    })
}

/// The spec's `logGroupName` and `filterName` for the filter: the name is always spelled out
/// (`import` leaves it out where the object's name already says it).
pub fn spec_names<K: LogFilterKind>(record: &K::Record) -> (String, Option<String>) {
    let log_group_name = K::record_log_group(record).unwrap_or_default();
    let filter_name = record_name::<K>(record);
    (log_group_name.to_string(), Some(filter_name.to_string()))
}

#[cfg(test)]
pub mod tests {
    use crate::runtime::import::{Found, ImportNames, Importable, import_one};
    use kube::ResourceExt;
    use serde::de::DeserializeOwned;

    /// `record` imported on its own: the object's name, its manifest as YAML, and the manifest
    /// read back as a user would apply it.
    pub fn import_alone<K>(record: K::Record) -> (String, String, K)
    where
        K: Importable + DeserializeOwned,
    {
        let imported = import_one::<K>(Found::untagged(record), &mut ImportNames::default())
            .expect("the filter is imported");
        let yaml = serde_yaml::to_string(&imported.manifest).unwrap();
        let applied: K = serde_yaml::from_str(&yaml).unwrap();
        assert_eq!(
            applied.name_any(),
            imported.name,
            "the manifest keeps its name"
        );
        (imported.name, yaml, applied)
    }
}
