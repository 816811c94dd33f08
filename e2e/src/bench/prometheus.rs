//! Reading the Prometheus text format: the operator's `/metrics` (its own counters of AWS calls,
//! reconciles and Kubernetes writes) and the API server's (`apiserver_request_total`, an
//! independent count of the writes it received).

use std::collections::BTreeMap;

/// One sample line: `name{label="value",...} value`.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

impl Sample {
    /// The value of `label`, or `""`.
    pub fn label(&self, label: &str) -> &str {
        self.labels
            .get(label)
            .map(String::as_str)
            .unwrap_or_default()
    }
}

/// The samples of one scrape.
#[derive(Clone, Debug, Default)]
pub struct Scrape(Vec<Sample>);

impl Scrape {
    /// Parses every sample line; comments, blank lines and lines that do not parse are skipped.
    pub fn parse(text: &str) -> Scrape {
        Scrape(
            text.lines()
                .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
                .filter_map(parse_line)
                .collect(),
        )
    }

    /// Parses only the lines of the metric `name` (the API server's scrape is megabytes long).
    pub fn parse_metric(text: &str, name: &str) -> Scrape {
        let with_labels = format!("{name}{{");
        let bare = format!("{name} ");
        Scrape(
            text.lines()
                .filter(|l| l.starts_with(&with_labels) || l.starts_with(&bare))
                .filter_map(parse_line)
                .collect(),
        )
    }

    /// Samples of `name`.
    pub fn samples<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Sample> + 'a {
        self.0.iter().filter(move |s| s.name == name)
    }

    /// Sum of `name` over the samples whose labels include every `(label, value)` of `filter`.
    pub fn sum(&self, name: &str, filter: &[(&str, &str)]) -> f64 {
        self.samples(name)
            .filter(|s| filter.iter().all(|(k, v)| s.label(k) == *v))
            .map(|s| s.value)
            .sum()
    }

    /// Sums of `name` grouped by the values of `by` (joined with `/`), over the samples `keep`
    /// accepts.
    pub fn grouped(
        &self,
        name: &str,
        by: &[&str],
        keep: impl Fn(&Sample) -> bool,
    ) -> BTreeMap<String, f64> {
        let mut out = BTreeMap::new();
        for s in self.samples(name).filter(|s| keep(s)) {
            let key = by.iter().map(|l| s.label(l)).collect::<Vec<_>>().join("/");
            *out.entry(key).or_default() += s.value;
        }
        out
    }
}

/// `end - begin` per key, keeping only keys that moved. Counters of a restarted process start
/// again from zero, which `begin` being empty expresses.
pub fn delta(begin: &BTreeMap<String, f64>, end: &BTreeMap<String, f64>) -> BTreeMap<String, u64> {
    end.iter()
        .filter_map(|(k, v)| {
            let d = v - begin.get(k).copied().unwrap_or_default();
            (d > 0.5).then(|| (k.clone(), d.round() as u64))
        })
        .collect()
}

fn parse_line(line: &str) -> Option<Sample> {
    let name_end = line.find(['{', ' '])?;
    let name = line[..name_end].to_string();
    let mut labels = BTreeMap::new();
    let mut rest = &line[name_end..];
    if let Some(inner) = rest.strip_prefix('{') {
        let (mut key, mut value) = (String::new(), String::new());
        let (mut in_value, mut escaped) = (false, false);
        let mut end = None;
        for (i, c) in inner.char_indices() {
            if in_value {
                match c {
                    _ if escaped => {
                        value.push(if c == 'n' { '\n' } else { c });
                        escaped = false;
                    }
                    '\\' => escaped = true,
                    '"' => {
                        labels.insert(std::mem::take(&mut key), std::mem::take(&mut value));
                        in_value = false;
                    }
                    _ => value.push(c),
                }
            } else {
                match c {
                    '}' => {
                        end = Some(i);
                        break;
                    }
                    '"' => in_value = true,
                    '=' | ',' | ' ' => {}
                    _ => key.push(c),
                }
            }
        }
        rest = &inner[end? + 1..];
    }
    let value = rest.split_whitespace().next()?.parse().ok()?;
    Some(Sample {
        name,
        labels,
        value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"# HELP cwo_kube_writes Writes to the Kubernetes API
# TYPE cwo_kube_writes counter
cwo_kube_writes_total{kind="Alarm",write="status"} 1000
cwo_kube_writes_total{kind="Alarm",write="event"} 12
cwo_reconcile_duration_seconds_sum{kind="Alarm"} 3.5
apiserver_request_total{code="201",group="cwo.dev",resource="alarms",subresource="",verb="POST"} 7
weird{msg="a \"quoted\}, value"} 2
"#;

    #[test]
    fn labels_values_and_sums_are_read() {
        let s = Scrape::parse(TEXT);
        assert_eq!(s.sum("cwo_kube_writes_total", &[]), 1012.0);
        assert_eq!(
            s.sum("cwo_kube_writes_total", &[("write", "status")]),
            1000.0
        );
        assert_eq!(
            s.sum("cwo_reconcile_duration_seconds_sum", &[("kind", "Alarm")]),
            3.5
        );
        let weird = s.samples("weird").next().unwrap();
        assert_eq!(weird.label("msg"), "a \"quoted}, value");
        let by = s.grouped("cwo_kube_writes_total", &["kind", "write"], |_| true);
        assert_eq!(by["Alarm/status"], 1000.0);
    }

    #[test]
    fn one_metric_is_picked_out_of_a_scrape() {
        let s = Scrape::parse_metric(TEXT, "apiserver_request_total");
        assert_eq!(s.sum("apiserver_request_total", &[("verb", "POST")]), 7.0);
        assert_eq!(s.sum("cwo_kube_writes_total", &[]), 0.0);
    }

    #[test]
    fn delta_keeps_what_moved_and_counts_a_restart_from_zero() {
        let begin = BTreeMap::from([("a".to_string(), 5.0), ("b".to_string(), 2.0)]);
        let end = BTreeMap::from([
            ("a".to_string(), 9.0),
            ("b".to_string(), 2.0),
            ("c".to_string(), 1.0),
        ]);
        let d = delta(&begin, &end);
        assert_eq!(
            d,
            BTreeMap::from([("a".to_string(), 4), ("c".to_string(), 1)])
        );
    }
}
