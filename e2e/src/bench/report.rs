//! A scenario's results: the JSON kept under `target/bench/` (raw numbers: seconds as floats,
//! counts, bytes, each target with its limit and whether it was met) and the Markdown tables
//! rendered from it.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;
use serde_json::Value;

use super::fleet::{Fleet, thousands};
use super::measure::PhaseFigures;

const MIB: f64 = 1024.0 * 1024.0;

/// One scenario run.
#[derive(Clone, Debug, Serialize)]
pub struct ScenarioReport {
    pub scenario: String,
    pub description: String,
    pub quick: bool,
    pub fleet: Fleet,
    pub objects: usize,
    pub emulator_quotas: bool,
    /// `--aws-quota-share` in force; `None` with `--no-aws-rate-limits`.
    pub aws_quota_share: Option<f64>,
    /// Flags of the operator that created the objects (the idle phase's operator adds a short
    /// resync period to these).
    pub operator_flags: Vec<String>,
    pub idle_resync_seconds: Option<f64>,
    pub idle_tag_resync_seconds: Option<f64>,
    pub cpus: usize,
    pub load_average_start: [f64; 3],
    pub started_unix_seconds: u64,
    pub phases: Vec<Phase>,
    pub targets: Vec<Target>,
    /// Set when the scenario could not finish (the phases before it are still reported).
    pub error: Option<String>,
}

/// One phase: its headline time, what it found, and everything measured meanwhile.
#[derive(Clone, Debug, Serialize)]
pub struct Phase {
    pub name: String,
    /// The phase's headline time in seconds (until all Ready, converged, gone; or the window).
    pub seconds: f64,
    pub completed: bool,
    /// Figures only this phase has (readiness polling, per-period rates, edited objects, ...).
    pub detail: BTreeMap<String, Value>,
    pub figures: PhaseFigures,
}

/// A budget from the issue, checked against one measured figure. A figure that was not measured
/// fails its target: read as zero, it would meet every "= 0" budget.
#[derive(Clone, Debug, Serialize)]
pub struct Target {
    pub phase: String,
    pub figure: String,
    /// `<=` or `==`.
    pub comparison: &'static str,
    pub limit: f64,
    /// `None` when the figure is missing from what the phase recorded.
    pub measured: Option<f64>,
    pub unit: &'static str,
    pub met: bool,
    /// How the limit was derived, when it is not the figure as is.
    pub note: Option<String>,
}

impl Target {
    pub fn at_most(
        phase: &str,
        figure: &str,
        measured: Option<f64>,
        limit: f64,
        unit: &'static str,
    ) -> Target {
        Target {
            phase: phase.into(),
            figure: figure.into(),
            comparison: "<=",
            limit,
            measured,
            unit,
            met: measured.is_some_and(|m| m <= limit),
            note: None,
        }
    }

    pub fn equal(
        phase: &str,
        figure: &str,
        measured: Option<f64>,
        limit: f64,
        unit: &'static str,
    ) -> Target {
        Target {
            phase: phase.into(),
            figure: figure.into(),
            comparison: "==",
            limit,
            measured,
            unit,
            met: measured.is_some_and(|m| (m - limit).abs() < 1e-9),
            note: None,
        }
    }

    pub fn note(mut self, note: impl Into<String>) -> Target {
        self.note = Some(note.into());
        self
    }
}

impl ScenarioReport {
    /// Writes `<dir>/<scenario>.json` and `<dir>/<scenario>.md`; returns their paths.
    pub fn write(&self, dir: &Path) -> Result<(PathBuf, PathBuf)> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let json = dir.join(format!("{}.json", self.scenario));
        std::fs::write(&json, serde_json::to_string_pretty(self)? + "\n")
            .with_context(|| format!("writing {}", json.display()))?;
        let md = dir.join(format!("{}.md", self.scenario));
        std::fs::write(&md, self.markdown())
            .with_context(|| format!("writing {}", md.display()))?;
        Ok((json, md))
    }

    /// The scenario as Markdown: a line of settings, the phases table, the targets table.
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "### {}: {}\n", self.scenario, self.description);
        let limits = match self.aws_quota_share {
            Some(share) => format!("client-side rate limits at --aws-quota-share {share}"),
            None => "--no-aws-rate-limits".to_string(),
        };
        let _ = write!(
            out,
            "{}; emulator quotas {}; operator (release build) with {limits}",
            self.fleet.describe(),
            if self.emulator_quotas {
                "on (AWS defaults)"
            } else {
                "off"
            },
        );
        if let (Some(resync), Some(tags)) = (self.idle_resync_seconds, self.idle_tag_resync_seconds)
        {
            let _ = write!(
                out,
                "; idle phase with --resync-period {resync} s and --tag-resync-period {tags} s"
            );
        }
        let _ = writeln!(
            out,
            ". {} CPUs, load average at start {:.2} / {:.2} / {:.2}{}.\n",
            self.cpus,
            self.load_average_start[0],
            self.load_average_start[1],
            self.load_average_start[2],
            if self.quick { "; --quick sizes" } else { "" },
        );
        let _ = writeln!(
            out,
            "| phase | seconds | AWS calls | throttled: AWS / objects | operator CPU s | operator RSS MiB: peak / phase max | operator writes to the API server | API server's count | CPU s: apiserver / etcd / emulator / benchmark | machine busy |"
        );
        let _ = writeln!(out, "|---|---:|---|---:|---:|---:|---|---:|---:|---:|");
        for p in &self.phases {
            let f = &p.figures;
            let throttled_objects = p
                .detail
                .get("throttled_objects")
                .and_then(Value::as_u64)
                .unwrap_or(0);
            let cpu = |name: &str| f.cpu_seconds.get(name).copied().unwrap_or(0.0);
            let _ = writeln!(
                out,
                "| {}{} | {:.1} | {} | {} / {} | {:.1} | {:.1} / {:.1} | {} | {} | {:.1} / {:.1} / {:.1} / {:.1} | {:.0}% |",
                p.name,
                if p.completed { "" } else { " (did not finish)" },
                p.seconds,
                operations(&f.aws.per_operation),
                thousands(f.aws.throttled),
                thousands(throttled_objects),
                f.operator.cpu_seconds,
                f.operator.peak_rss_bytes as f64 / MIB,
                f.operator.phase_max_rss_bytes as f64 / MIB,
                operator_writes(f),
                thousands(f.apiserver.by_operator),
                cpu("kube-apiserver"),
                cpu("etcd"),
                cpu("emulator"),
                cpu("benchmark"),
                f.machine_busy * 100.0,
            );
        }
        let notes: Vec<String> = self
            .phases
            .iter()
            .filter_map(|p| {
                p.detail
                    .get("summary")
                    .and_then(Value::as_str)
                    .map(|s| format!("- {}: {s}", p.name))
            })
            .collect();
        if !notes.is_empty() {
            let _ = writeln!(out, "\n{}", notes.join("\n"));
        }
        if self
            .phases
            .iter()
            .any(|p| !p.figures.aws.per_account.is_empty())
        {
            let _ = write!(out, "\n{}", accounts_table(&self.phases));
        }
        for p in &self.phases {
            if let Some(rows) = p.detail.get("periods").and_then(Value::as_array) {
                let _ = write!(out, "\n{}", periods_table(&p.name, rows));
            }
        }
        let _ = writeln!(out, "\n| target | measured | limit | met |");
        let _ = writeln!(out, "|---|---:|---:|---|");
        for t in &self.targets {
            let _ = writeln!(
                out,
                "| {}: {}{} | {} | {} {} | {} |",
                t.phase,
                t.figure,
                t.note
                    .as_deref()
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default(),
                t.measured
                    .map(|m| number(m, t.unit))
                    .unwrap_or_else(|| "**missing**".into()),
                if t.comparison == "==" { "=" } else { "≤" },
                number(t.limit, t.unit),
                if t.met { "yes" } else { "**no**" },
            );
        }
        if let Some(e) = &self.error {
            let _ = writeln!(out, "\n**The scenario stopped early:** {e}");
        }
        out
    }
}

/// One row per phase and account of a fleet spread over several accounts: the AWS calls made in
/// that account (STS AssumeRole in the caller's, the operator's own).
fn accounts_table(phases: &[Phase]) -> String {
    let mut out = "| phase | account | AWS calls in the account |\n|---|---|---|\n".to_string();
    for p in phases {
        for (account, calls) in &p.figures.aws.per_account {
            let _ = writeln!(out, "| {} | {account} | {} |", p.name, operations(calls));
        }
    }
    out
}

/// One row per period of a phase that records them (the soak): what the benchmark changed, the
/// operator's AWS calls and status writes in the period, and its resident set at the end of it.
fn periods_table(phase: &str, rows: &[Value]) -> String {
    let mut out = format!(
        "| {phase} period | edits / out-of-band changes | operator AWS calls | status writes | operator RSS MiB |\n|---:|---:|---|---:|---:|\n"
    );
    for r in rows {
        let calls: BTreeMap<String, u64> =
            serde_json::from_value(r["aws_calls"].clone()).unwrap_or_default();
        let count = |key: &str| {
            r[key]
                .as_u64()
                .map(thousands)
                .unwrap_or_else(|| "**missing**".into())
        };
        let rss = r["rss_bytes"]
            .as_f64()
            .map(|b| format!("{:.1}", b / MIB))
            .unwrap_or_else(|| "**missing**".into());
        let _ = writeln!(
            out,
            "| {} | {} / {} | {} | {} | {rss} |",
            count("period"),
            count("edits"),
            count("out_of_band_changes"),
            operations(&calls),
            count("status_writes"),
        );
    }
    out
}

fn number(v: f64, unit: &str) -> String {
    let n = if v.fract() == 0.0 && v.abs() < 1e15 {
        thousands(v.abs() as u64)
    } else if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    };
    let n = if v < 0.0 { format!("-{n}") } else { n };
    if unit.is_empty() {
        n
    } else {
        format!("{n} {unit}")
    }
}

/// `DescribeAlarms 12 · PutMetricAlarm 1,000 · logs:PutSubscriptionFilter 200`: CloudWatch's
/// operations without their service, the others with it.
pub fn operations(per_operation: &BTreeMap<String, u64>) -> String {
    if per_operation.is_empty() {
        return "none".into();
    }
    per_operation
        .iter()
        .map(|(k, v)| {
            let name = k.strip_prefix("cloudwatch:").unwrap_or(k);
            format!("{name} {}", thousands(*v))
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

/// `2,000: status 1,000 · finalizer 1,000`, all kinds together.
fn operator_writes(f: &PhaseFigures) -> String {
    let mut by_write: BTreeMap<&str, u64> = BTreeMap::new();
    for (k, v) in &f.operator.kube_writes {
        let write = k.rsplit_once('/').map(|(_, w)| w).unwrap_or(k);
        *by_write.entry(write).or_default() += v;
    }
    if by_write.is_empty() {
        return "0".into();
    }
    let parts: Vec<String> = by_write
        .iter()
        .map(|(w, v)| format!("{w} {}", thousands(*v)))
        .collect();
    format!(
        "{}: {}",
        thousands(f.operator.kube_writes_total),
        parts.join(" · ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_integers_whole_and_round_the_rest() {
        assert_eq!(number(1000.0, ""), "1,000");
        assert_eq!(number(12.345, "s"), "12.35 s");
        assert_eq!(number(333.4, "s"), "333 s");
        assert_eq!(number(0.0, "MiB"), "0 MiB");
    }

    #[test]
    fn a_period_table_row_shows_what_was_measured_and_what_is_missing() {
        let rows = vec![
            serde_json::json!({
                "period": 1, "edits": 9, "out_of_band_changes": 5,
                "aws_calls": {"cloudwatch:DescribeAlarms": 8, "logs:PutSubscriptionFilter": 1},
                "status_writes": 12, "rss_bytes": 31457280
            }),
            serde_json::json!({"period": 2, "edits": 9, "out_of_band_changes": 5, "aws_calls": {}}),
        ];
        let table = periods_table("soak", &rows);
        assert!(
            table.contains(
                "| 1 | 9 / 5 | DescribeAlarms 8 · logs:PutSubscriptionFilter 1 | 12 | 30.0 |"
            ),
            "{table}"
        );
        assert!(
            table.contains("| 2 | 9 / 5 | none | **missing** | **missing** |"),
            "{table}"
        );
    }

    #[test]
    fn the_accounts_table_has_a_row_per_phase_and_account() {
        let mut figures = PhaseFigures::default();
        figures.aws.per_account = BTreeMap::from([
            (
                "210987654300".to_string(),
                BTreeMap::from([("cloudwatch:DescribeAlarms".to_string(), 4)]),
            ),
            ("210987654301".to_string(), BTreeMap::new()),
        ]);
        let phase = Phase {
            name: "idle".into(),
            seconds: 50.0,
            completed: true,
            detail: BTreeMap::new(),
            figures,
        };
        let table = accounts_table(&[phase]);
        assert!(
            table.contains("| idle | 210987654300 | DescribeAlarms 4 |"),
            "{table}"
        );
        assert!(table.contains("| idle | 210987654301 | none |"), "{table}");
    }

    #[test]
    fn cloudwatch_operations_are_named_without_their_service() {
        let ops = BTreeMap::from([
            ("cloudwatch:PutMetricAlarm".to_string(), 1000),
            ("logs:PutSubscriptionFilter".to_string(), 2),
        ]);
        assert_eq!(
            operations(&ops),
            "PutMetricAlarm 1,000 · logs:PutSubscriptionFilter 2"
        );
    }
}
