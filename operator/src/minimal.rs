//! The smallest manifest that means the same thing. `import` writes what AWS holds as a spec a
//! person would write: every field whose absence the kind's desired step fills back in with the
//! same value (a server default, `datapointsToAlarm` equal to `evaluationPeriods`, a wildcard) is
//! left out. What "the same" means is the kind's to say, so a field is dropped only when the
//! desired configuration is provably unchanged without it.

use serde_yaml::Value;

/// Removes from the mapping `spec` every entry, at any depth (inside list items too, but never
/// a list item itself), whose removal leaves `same` true. A whole entry is tried before the
/// entries inside it. Top-level keys listed in `keep` stay whatever their value. `same` receives
/// each candidate spec and says whether it still means what the original meant.
pub fn leave_out_defaults(spec: Value, keep: &[&str], same: impl Fn(&Value) -> bool) -> Value {
    let mut spec = spec;
    let mut at = Vec::new();
    prune(&mut spec, &mut at, keep, &same);
    spec
}

/// One step down a YAML tree.
#[derive(Clone, Debug)]
enum Step {
    Key(Value),
    Index(usize),
}

fn node<'a>(root: &'a Value, at: &[Step]) -> Option<&'a Value> {
    at.iter().try_fold(root, |v, step| match step {
        Step::Key(k) => v.as_mapping()?.get(k),
        Step::Index(i) => v.as_sequence()?.get(*i),
    })
}

fn node_mut<'a>(root: &'a mut Value, at: &[Step]) -> Option<&'a mut Value> {
    at.iter().try_fold(root, |v, step| match step {
        Step::Key(k) => v.as_mapping_mut()?.get_mut(k),
        Step::Index(i) => v.as_sequence_mut()?.get_mut(*i),
    })
}

fn prune(root: &mut Value, at: &mut Vec<Step>, keep: &[&str], same: &impl Fn(&Value) -> bool) {
    let Some(here) = node(root, at) else {
        return;
    };
    match here {
        Value::Mapping(map) => {
            let keys: Vec<Value> = map.keys().cloned().collect();
            for key in keys {
                let kept = at.is_empty() && key.as_str().is_some_and(|k| keep.contains(&k));
                if kept {
                    continue;
                }
                let mut candidate = root.clone();
                if let Some(Value::Mapping(m)) = node_mut(&mut candidate, at) {
                    m.shift_remove(&key);
                }
                if same(&candidate) {
                    *root = candidate;
                } else {
                    at.push(Step::Key(key));
                    prune(root, at, keep, same);
                    at.pop();
                }
            }
        }
        Value::Sequence(items) => {
            for i in 0..items.len() {
                at.push(Step::Index(i));
                prune(root, at, keep, same);
                at.pop();
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(s: &str) -> Value {
        serde_yaml::from_str(s).unwrap()
    }

    /// "The same" for these tests: `period` defaults to 60, `enabled` to true, and an item's
    /// `weight` to 1; `region` is not part of the meaning at all.
    /// `period`, `enabled`, and each item's name and weight.
    type Meaning = (i64, bool, Vec<(String, i64)>);

    fn meaning(v: &Value) -> Option<Meaning> {
        let m = v.as_mapping()?;
        let period = m.get("period").map_or(Some(60), Value::as_i64)?;
        let enabled = m.get("enabled").map_or(Some(true), Value::as_bool)?;
        let items = m
            .get("items")
            .and_then(Value::as_sequence)
            .map(|items| {
                items
                    .iter()
                    .map(|i| {
                        let name = i.get("name")?.as_str()?.to_string();
                        let weight = i.get("weight").map_or(Some(1), Value::as_i64)?;
                        Some((name, weight))
                    })
                    .collect::<Option<Vec<_>>>()
            })
            .unwrap_or(Some(Vec::new()))?;
        Some((period, enabled, items))
    }

    #[test]
    fn defaults_are_left_out_at_any_depth_and_everything_else_stays_in_order() {
        let spec = yaml(
            "region: us-east-1\nperiod: 60\nenabled: false\nitems:\n- name: a\n  weight: 1\n- name: b\n  weight: 3\n",
        );
        let want = meaning(&spec);
        let out = leave_out_defaults(spec, &["region"], |c| meaning(c) == want);
        assert_eq!(
            serde_yaml::to_string(&out).unwrap(),
            "region: us-east-1\nenabled: false\nitems:\n- name: a\n- name: b\n  weight: 3\n"
        );
    }

    #[test]
    fn a_kept_key_stays_even_when_nothing_depends_on_it() {
        let spec = yaml("region: us-east-1\nperiod: 60\n");
        let want = meaning(&spec);
        let out = leave_out_defaults(spec, &["region"], |c| meaning(c) == want);
        assert_eq!(out, yaml("region: us-east-1\n"));
        let dropped = leave_out_defaults(yaml("region: us-east-1\n"), &[], |c| meaning(c) == want);
        assert_eq!(dropped, yaml("{}"));
    }

    #[test]
    fn a_field_that_changes_the_meaning_is_never_removed() {
        let spec = yaml("period: 300\nenabled: true\nitems:\n- name: a\n");
        let want = meaning(&spec);
        let out = leave_out_defaults(spec, &[], |c| meaning(c) == want);
        assert_eq!(out, yaml("period: 300\nitems:\n- name: a\n"));
        assert_eq!(meaning(&out), want);
    }
}
