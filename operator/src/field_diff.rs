//! Which fields of two normalized configurations differ, by name, for plans and messages. Both
//! sides are serialized with the spec's own serde names, so a difference is reported under the
//! field name the user writes. Numbers are compared with a relative tolerance: a threshold that
//! went through AWS and back as a double must not count as changed.

use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeSet;

/// The top-level fields whose values differ between `desired` and `observed`.
pub fn changed_fields<T: Serialize>(desired: &T, observed: &T) -> Vec<String> {
    let (Value::Object(d), Value::Object(o)) = (to_value(desired), to_value(observed)) else {
        return vec!["(whole object)".to_string()];
    };
    let keys: BTreeSet<&String> = d.keys().chain(o.keys()).collect();
    keys.into_iter()
        .filter(|k| !same(d.get(*k), o.get(*k)))
        .map(|k| k.to_string())
        .collect()
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
}
