//! Which fields of two normalized configurations differ, by name and value, for plans, Events and
//! `plan`'s report. Both sides are serialized with the spec's own serde names, so a difference is
//! reported under the field name the user writes. Numbers are compared with a relative
//! tolerance: a threshold that went through AWS and back as a double must not count as changed.

use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeSet;
use std::fmt;

/// One difference between two configurations: where it is, in the user's field names
/// (`threshold`, `samplingRateBoost.maxRate`, `metrics[1].returnData`), and the value on each
/// side (`None`: the field is absent there).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    /// The path of the field, as a user would point at it.
    pub field: String,
    /// What AWS has (or had), if anything.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<Value>,
    /// What the spec wants, if anything.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<Value>,
}

impl FieldChange {
    /// The top-level field the change is in (`metrics` for `metrics[1].returnData`).
    pub fn top_level(&self) -> &str {
        let end = self.field.find(['.', '[']).unwrap_or(self.field.len());
        &self.field[..end]
    }
}

impl fmt::Display for FieldChange {
    /// `threshold: 80 → 90`; an absent side reads `(none)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let side = |v: &Option<Value>| v.as_ref().map_or("(none)".to_string(), Value::to_string);
        write!(
            f,
            "{}: {} → {}",
            self.field,
            side(&self.old),
            side(&self.new)
        )
    }
}

/// The top-level fields whose values differ between `desired` and `observed`, sorted.
pub fn changed_fields<T: Serialize>(desired: &T, observed: &T) -> Vec<String> {
    top_level_fields(&changes(desired, observed))
}

/// The top-level fields `changes` (sorted, as [`changes`] returns them) are in, each once.
pub fn top_level_fields(changes: &[FieldChange]) -> Vec<String> {
    let mut fields: Vec<String> = changes.iter().map(|c| c.top_level().to_string()).collect();
    fields.dedup();
    fields
}

/// Every difference between `desired` and `observed`, as deep as both sides have the same
/// shape: into objects present on both sides, and into lists of the same length on both sides;
/// a list that grew or shrank is one change of the whole list. Sorted by field.
pub fn changes<T: Serialize>(desired: &T, observed: &T) -> Vec<FieldChange> {
    let mut out = Vec::new();
    match (to_value(desired), to_value(observed)) {
        (d @ Value::Object(_), o @ Value::Object(_)) => collect(&mut out, "", Some(&o), Some(&d)),
        (d, o) if !same_value(&d, &o) => out.push(FieldChange {
            field: "(whole object)".to_string(),
            old: Some(o),
            new: Some(d),
        }),
        _ => {}
    }
    out
}

/// Collects the differences under `at` between `old` (observed) and `new` (desired).
fn collect(out: &mut Vec<FieldChange>, at: &str, old: Option<&Value>, new: Option<&Value>) {
    match (old, new) {
        (Some(Value::Object(o)), Some(Value::Object(n))) => {
            let keys: BTreeSet<&String> = o.keys().chain(n.keys()).collect();
            for key in keys {
                let path = if at.is_empty() {
                    key.clone()
                } else {
                    format!("{at}.{key}")
                };
                collect(out, &path, o.get(key), n.get(key));
            }
        }
        (Some(Value::Array(o)), Some(Value::Array(n))) if o.len() == n.len() && !at.is_empty() => {
            for (i, (o, n)) in o.iter().zip(n).enumerate() {
                collect(out, &format!("{at}[{i}]"), Some(o), Some(n));
            }
        }
        _ if same(old, new) => {}
        _ => out.push(FieldChange {
            field: at.to_string(),
            old: old.cloned(),
            new: new.cloned(),
        }),
    }
}

fn to_value<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).expect("configurations serialize to JSON")
}

fn same(a: Option<&Value>, b: Option<&Value>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => same_value(a, b),
        _ => false,
    }
}

fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => floats_equal(x, y),
            _ => x == y,
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_value(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_value(v, w)))
        }
        _ => a == b,
    }
}

/// Equal within a relative 1e-12 (an absolute 1e-12 near zero).
pub fn floats_equal(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct S {
        threshold: Option<f64>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        ok_actions: Vec<String>,
        nested: Option<Inner>,
    }

    #[derive(Serialize)]
    struct Inner {
        x: f64,
    }

    #[test]
    fn reports_changed_fields_by_their_spec_names() {
        let a = S {
            threshold: Some(1.0),
            ok_actions: vec!["a".into()],
            nested: None,
        };
        let b = S {
            threshold: Some(2.0),
            ok_actions: vec![],
            nested: None,
        };
        assert_eq!(changed_fields(&a, &b), vec!["okActions", "threshold"]);
    }

    #[test]
    fn float_noise_is_not_a_change_but_a_real_difference_is() {
        let a = S {
            threshold: Some(0.1 + 0.2),
            ok_actions: vec![],
            nested: Some(Inner { x: 1e300 }),
        };
        let b = S {
            threshold: Some(0.3),
            ok_actions: vec![],
            nested: Some(Inner {
                x: 1e300 * (1.0 + 1e-15),
            }),
        };
        assert!(changed_fields(&a, &b).is_empty());
        let c = S {
            threshold: Some(0.3001),
            ok_actions: vec![],
            nested: Some(Inner { x: 1e300 }),
        };
        assert_eq!(changed_fields(&a, &c), vec!["threshold"]);
    }

    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Deep {
        boost: Option<Inner>,
        metrics: Vec<Inner>,
    }

    #[test]
    fn changes_name_the_nested_field_that_differs_with_both_values() {
        let a = Deep {
            boost: Some(Inner { x: 0.5 }),
            metrics: vec![Inner { x: 1.0 }, Inner { x: 2.0 }],
        };
        let b = Deep {
            boost: Some(Inner { x: 0.25 }),
            metrics: vec![Inner { x: 1.0 }, Inner { x: 3.0 }],
        };
        let found = changes(&a, &b);
        let shown: Vec<String> = found.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["boost.x: 0.25 → 0.5", "metrics[1].x: 3.0 → 2.0"]);
        assert_eq!(changed_fields(&a, &b), ["boost", "metrics"]);
    }

    #[test]
    fn a_list_that_changed_length_or_an_absent_side_is_one_change_of_the_whole() {
        let a = Deep {
            boost: None,
            metrics: vec![Inner { x: 1.0 }],
        };
        let b = Deep {
            boost: Some(Inner { x: 0.5 }),
            metrics: vec![],
        };
        let found = changes(&a, &b);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0].field, "boost");
        assert_eq!(found[0].new, Some(Value::Null));
        assert_eq!(found[1].to_string(), "metrics: [] → [{\"x\":1.0}]");
        assert_eq!(found[1].top_level(), "metrics");
    }

    #[test]
    fn equal_configurations_have_no_changes() {
        let a = Deep {
            boost: Some(Inner { x: 0.1 + 0.2 }),
            metrics: vec![Inner { x: 1.0 }],
        };
        let b = Deep {
            boost: Some(Inner { x: 0.3 }),
            metrics: vec![Inner { x: 1.0 }],
        };
        assert!(changes(&a, &b).is_empty());
    }
}
