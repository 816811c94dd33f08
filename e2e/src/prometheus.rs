//! Reading the Prometheus text format, strictly: the operator's `/metrics` (its own counters of
//! AWS calls, reconciles and Kubernetes writes) and the API server's (`apiserver_request_total`,
//! an independent count of the writes it received), for the end-to-end tests and the benchmark.
//!
//! A figure that is not in the scrape is an error, never a zero: a check such as "no status was
//! written" must fail when the series it reads was renamed, not pass because nothing matched.
//! The operator creates every series it has at zero when it starts (every kind, reason, write and
//! AWS operation), so a series the tests read is always there.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context, Result, bail};

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

    fn has(&self, filter: &[(&str, &str)]) -> bool {
        filter
            .iter()
            .all(|(k, v)| self.labels.get(*k).is_some_and(|l| l == v))
    }
}

/// Suffixes a sample's name adds to its family's name (OpenMetrics declares `# TYPE x counter`
/// and writes `x_total`; histograms write `x_count`, `x_sum` and `x_bucket`).
const SUFFIXES: [&str; 6] = ["_total", "_count", "_sum", "_bucket", "_created", "_info"];

/// The samples of one scrape, and the metric families it declares.
#[derive(Clone, Debug, Default)]
pub struct Scrape {
    samples: Vec<Sample>,
    families: BTreeSet<String>,
}

impl Scrape {
    /// Parses every line. A sample line that does not parse is an error (skipping it could hide
    /// the very series a check reads).
    pub fn parse(text: &str) -> Result<Scrape> {
        Self::parse_lines(text.lines())
    }

    /// Parses only the lines of the metric `name` (the API server's scrape is megabytes long).
    pub fn parse_metric(text: &str, name: &str) -> Result<Scrape> {
        let with_labels = format!("{name}{{");
        let bare = format!("{name} ");
        let declared = format!("# TYPE {name} ");
        Self::parse_lines(text.lines().filter(|l| {
            l.starts_with(&with_labels) || l.starts_with(&bare) || l.starts_with(&declared)
        }))
    }

    fn parse_lines<'a>(lines: impl Iterator<Item = &'a str>) -> Result<Scrape> {
        let mut scrape = Scrape::default();
        for (i, line) in lines.enumerate() {
            if let Some(declaration) = line.strip_prefix("# TYPE ") {
                if let Some(family) = declaration.split_whitespace().next() {
                    scrape.families.insert(family.to_string());
                }
            } else if !line.starts_with('#') && !line.trim().is_empty() {
                let sample = parse_line(line).with_context(|| {
                    format!("line {} of the scrape does not parse: {line}", i + 1)
                })?;
                scrape.samples.push(sample);
            }
        }
        Ok(scrape)
    }

    /// Whether the scrape declares the metric `name` (with or without samples yet).
    pub fn declares(&self, name: &str) -> bool {
        self.families.iter().any(|f| {
            name.strip_prefix(f.as_str())
                .is_some_and(|rest| rest.is_empty() || SUFFIXES.contains(&rest))
        })
    }

    /// Samples of `name`.
    pub fn samples<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Sample> + 'a {
        self.samples.iter().filter(move |s| s.name == name)
    }

    /// The value of the series `name{labels}`, labels exactly these. Fails when the scrape does
    /// not hold it, naming the series of `name` it does hold.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> Result<f64> {
        let wanted: BTreeMap<String, String> = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        match self.samples(name).find(|s| s.labels == wanted) {
            Some(s) => Ok(s.value),
            None => bail!(self.missing(name, labels)),
        }
    }

    /// Sum of `name` over the series whose labels include every `(label, value)` of `filter`.
    /// Fails when no series matches.
    pub fn sum(&self, name: &str, filter: &[(&str, &str)]) -> Result<f64> {
        let mut matched = self.samples(name).filter(|s| s.has(filter)).peekable();
        if matched.peek().is_none() {
            bail!(self.missing(name, filter));
        }
        Ok(matched.map(|s| s.value).sum())
    }

    /// Sum of every series of `name`: zero when the metric is declared but has no series yet
    /// (a counter nothing has touched). Fails when the scrape does not declare it.
    pub fn total(&self, name: &str) -> Result<f64> {
        self.require_declared(name)?;
        Ok(self.samples(name).map(|s| s.value).sum())
    }

    /// Sums of `name` grouped by the values of `by` (joined with `/`), over the series `keep`
    /// accepts. Fails when the scrape does not declare the metric.
    pub fn grouped(
        &self,
        name: &str,
        by: &[&str],
        keep: impl Fn(&Sample) -> bool,
    ) -> Result<BTreeMap<String, f64>> {
        self.require_declared(name)?;
        let mut out = BTreeMap::new();
        for s in self.samples(name).filter(|s| keep(s)) {
            let key = by.iter().map(|l| s.label(l)).collect::<Vec<_>>().join("/");
            *out.entry(key).or_default() += s.value;
        }
        Ok(out)
    }

    fn require_declared(&self, name: &str) -> Result<()> {
        if self.declares(name) || self.samples(name).next().is_some() {
            return Ok(());
        }
        bail!("the scrape declares no metric {name} (renamed or not registered?)")
    }

    fn missing(&self, name: &str, labels: &[(&str, &str)]) -> String {
        let wanted = format!("{name}{}", render_labels(labels.iter().copied()));
        let present: Vec<String> = self
            .samples(name)
            .map(|s| render_labels(s.labels.iter().map(|(k, v)| (k.as_str(), v.as_str()))))
            .collect();
        if present.is_empty() {
            let declared = if self.declares(name) {
                "declared without any series"
            } else {
                "not in the scrape at all (renamed or not registered?)"
            };
            format!("{wanted} is missing: {name} is {declared}")
        } else {
            format!(
                "{wanted} is missing; the series of {name} are {}",
                present.join(", ")
            )
        }
    }
}

fn render_labels<'a>(labels: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    let inner: Vec<String> = labels.map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    format!("{{{}}}", inner.join(","))
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
    if name.is_empty() {
        return None;
    }
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
    let value = parse_value(rest.split_whitespace().next()?)?;
    Some(Sample {
        name,
        labels,
        value,
    })
}

/// A sample value: a float, or `NaN`, `+Inf`, `-Inf` as the format spells them.
fn parse_value(text: &str) -> Option<f64> {
    match text {
        "NaN" => Some(f64::NAN),
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        _ => text.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = r#"# HELP cwo_kube_writes Writes to the Kubernetes API
# TYPE cwo_kube_writes counter
cwo_kube_writes_total{kind="Alarm",write="status"} 1000
cwo_kube_writes_total{kind="Alarm",write="event"} 12
# TYPE cwo_reconcile_duration_seconds histogram
cwo_reconcile_duration_seconds_sum{kind="Alarm"} 3.5
cwo_reconcile_duration_seconds_bucket{kind="Alarm",le="+Inf"} 7
# HELP cwo_reconcile_errors Reconciles that ended in an error.
# TYPE cwo_reconcile_errors counter
# TYPE apiserver_request_total counter
apiserver_request_total{code="201",group="cwo.dev",resource="alarms",subresource="",verb="POST"} 7
weird{msg="a \"quoted\}, value"} 2
# EOF
"#;

    fn scrape() -> Scrape {
        Scrape::parse(TEXT).unwrap()
    }

    #[test]
    fn labels_values_and_sums_are_read() {
        let s = scrape();
        assert_eq!(s.sum("cwo_kube_writes_total", &[]).unwrap(), 1012.0);
        assert_eq!(
            s.value(
                "cwo_kube_writes_total",
                &[("kind", "Alarm"), ("write", "status")]
            )
            .unwrap(),
            1000.0
        );
        assert_eq!(
            s.sum("cwo_reconcile_duration_seconds_sum", &[("kind", "Alarm")])
                .unwrap(),
            3.5
        );
        assert_eq!(
            s.value(
                "cwo_reconcile_duration_seconds_bucket",
                &[("kind", "Alarm"), ("le", "+Inf")]
            )
            .unwrap(),
            7.0
        );
        let weird = s.samples("weird").next().unwrap();
        assert_eq!(weird.label("msg"), "a \"quoted}, value");
        let by = s
            .grouped("cwo_kube_writes_total", &["kind", "write"], |_| true)
            .unwrap();
        assert_eq!(by["Alarm/status"], 1000.0);
    }

    #[test]
    fn a_missing_series_is_an_error_that_names_what_is_there() {
        let s = scrape();
        let e = s
            .value(
                "cwo_kube_writes_total",
                &[("kind", "Alarm"), ("write", "finalizer")],
            )
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(r#"cwo_kube_writes_total{kind="Alarm",write="finalizer"} is missing"#),
            "{e}"
        );
        assert!(e.contains(r#"{kind="Alarm",write="status"}"#), "{e}");
        // A renamed label matches nothing, even with the old value still there.
        assert!(
            s.sum("cwo_kube_writes_total", &[("type", "status")])
                .is_err()
        );
        // A renamed metric.
        let e = s
            .value("cwo_kube_write_total", &[("kind", "Alarm")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("not in the scrape at all"), "{e}");
        // Exactly these labels: a subset is not the series.
        assert!(
            s.value("cwo_kube_writes_total", &[("kind", "Alarm")])
                .is_err()
        );
    }

    #[test]
    fn a_declared_family_without_series_totals_zero_and_an_undeclared_one_fails() {
        let s = scrape();
        assert_eq!(s.total("cwo_reconcile_errors_total").unwrap(), 0.0);
        assert!(
            s.grouped("cwo_reconcile_errors_total", &["reason"], |_| true)
                .unwrap()
                .is_empty()
        );
        assert!(s.sum("cwo_reconcile_errors_total", &[]).is_err());
        let e = s.total("cwo_reconcile_failures_total").unwrap_err();
        assert!(e.to_string().contains("declares no metric"), "{e}");
        assert!(s.grouped("cwo_objects", &["kind"], |_| true).is_err());
    }

    #[test]
    fn a_line_that_does_not_parse_is_an_error() {
        let e = Scrape::parse("# TYPE x counter\nx_total{kind=\"a\"} many\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 2"), "{e}");
        assert!(Scrape::parse("x_total{kind=\"a\"\n").is_err());
    }

    #[test]
    fn special_values_parse() {
        let s = Scrape::parse("a NaN\nb +Inf\nc -Inf\nd 1e3 1700000000\n").unwrap();
        assert!(s.value("a", &[]).unwrap().is_nan());
        assert_eq!(s.value("b", &[]).unwrap(), f64::INFINITY);
        assert_eq!(s.value("c", &[]).unwrap(), f64::NEG_INFINITY);
        assert_eq!(s.value("d", &[]).unwrap(), 1000.0);
    }

    #[test]
    fn one_metric_is_picked_out_of_a_scrape() {
        let s = Scrape::parse_metric(TEXT, "apiserver_request_total").unwrap();
        assert_eq!(
            s.sum("apiserver_request_total", &[("verb", "POST")])
                .unwrap(),
            7.0
        );
        assert!(s.declares("apiserver_request_total"));
        assert!(s.total("cwo_kube_writes_total").is_err());
        let none =
            Scrape::parse_metric("# TYPE other counter\nother 1\n", "apiserver_request_total")
                .unwrap();
        assert!(none.total("apiserver_request_total").is_err());
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
