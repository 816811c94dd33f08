//! The statistic names CloudWatch accepts, as regular expressions the CRD schemas check at
//! admission (an alarm's `extendedStatistic` and `metricStat.stat`, a metric stream's
//! `additionalStatistics`).
//!
//! The forms are those of "CloudWatch statistics definitions": a percentile `pNN.NN`; the
//! shorthands `tmNN`, `tcNN`, `tsNN` and `wmNN`; `IQM`; and the ranges `TM(a:b)`, `TC(a:b)`,
//! `TS(a:b)` and `WM(a:b)` whose bounds are both percentages (`TM(10%:90%)`) or both values
//! (`TM(150:1000)`), and `PR(a:b)` whose bounds are values. A percentage lies between 0 and 100
//! with at most ten decimals; a range names at least one bound. Shorthands are lowercase and
//! ranges uppercase, as CloudWatch spells them.
//!
//! The expressions avoid backslashes (`[.]` rather than `\.`) so the same text works as an
//! OpenAPI `pattern` and inside a CEL string literal.

/// A percentage: 0 to 100, at most ten decimals.
macro_rules! percentage {
    () => {
        "(100([.]0{1,10})?|[0-9]{1,2}([.][0-9]{1,10})?)"
    };
}

/// A value of the metric, as a range bound.
macro_rules! value {
    () => {
        "-?[0-9]+([.][0-9]+)?"
    };
}

/// Every extended statistic, without anchors.
macro_rules! extended {
    () => {
        concat!(
            "(p|tm|tc|ts|wm)",
            percentage!(),
            "|IQM",
            "|PR[(](",
            value!(),
            ":(",
            value!(),
            ")?|:",
            value!(),
            ")[)]",
            "|(TM|TC|TS|WM)[(](",
            percentage!(),
            "%:(",
            percentage!(),
            "%)?|:",
            percentage!(),
            "%|",
            value!(),
            ":(",
            value!(),
            ")?|:",
            value!(),
            ")[)]"
        )
    };
}

/// A percentile statistic such as `p99` or `p99.9`: what OpenTelemetry metric streams carry.
pub const PERCENTILE_PATTERN: &str = concat!("^p", percentage!(), "$");

/// An extended statistic (PutMetricAlarm's `ExtendedStatistic`, a metric stream's additional
/// statistics): a percentile, a trimmed or winsorized statistic, IQM or a percentile rank.
pub const EXTENDED_STATISTIC_PATTERN: &str = concat!("^(", extended!(), ")$");

/// Any statistic a `MetricStat` may name: one of the five basic statistics or an extended one.
pub const STATISTIC_PATTERN: &str = concat!(
    "^(SampleCount|Average|Sum|Minimum|Maximum|",
    extended!(),
    ")$"
);

#[cfg(test)]
mod tests {
    use super::*;
    use regex::Regex;

    /// Extended statistics CloudWatch's documentation shows, and the extremes of each form.
    const EXTENDED: &[&str] = &[
        "p0",
        "p50",
        "p90",
        "p99.9",
        "p99.99",
        "p99.9999999999",
        "p100",
        "p100.0",
        "tm90",
        "tm99.5",
        "tc90",
        "ts90",
        "wm98",
        "IQM",
        "PR(:300)",
        "PR(100:2000)",
        "PR(0.5:)",
        "PR(-10:10)",
        "TM(2%:98%)",
        "TM(10%:90%)",
        "TM(:99%)",
        "TM(10%:)",
        "TM(150:1000)",
        "TM(:0.5)",
        "TM(0%:100%)",
        "TC(0.005:0.030)",
        "TC(10%:90%)",
        "TS(80%:)",
        "TS(10%:90%)",
        "WM(10%:90%)",
        "WM(:95%)",
    ];

    /// Statistics CloudWatch refuses: above p100, empty or malformed ranges, wrong case.
    const NOT_EXTENDED: &[&str] = &[
        "",
        "p",
        "p101",
        "p100.5",
        "p100.01",
        "p-1",
        "p99.12345678901",
        "p99.",
        "P99",
        "tm",
        "Tm90",
        "tm101",
        "iqm",
        "PR(:)",
        "PR()",
        "PR(10%:90%)",
        "PR(:300",
        "PR(a:b)",
        "TM(:)",
        "TM(10%:90)",
        "TM(101%:)",
        "TM(1:2:3)",
        "tm(10%:90%)",
        "XX(1:2)",
        "p99 ",
        "Average",
        "fastest",
    ];

    fn matches(pattern: &str, s: &str) -> bool {
        Regex::new(pattern)
            .expect("the pattern compiles")
            .is_match(s)
    }

    #[test]
    fn documented_extended_statistics_are_accepted() {
        for s in EXTENDED {
            assert!(matches(EXTENDED_STATISTIC_PATTERN, s), "{s} refused");
        }
    }

    #[test]
    fn statistics_cloudwatch_refuses_are_refused() {
        for s in NOT_EXTENDED {
            assert!(!matches(EXTENDED_STATISTIC_PATTERN, s), "{s} accepted");
        }
    }

    #[test]
    fn a_metric_stat_takes_basic_and_extended_statistics() {
        for s in ["SampleCount", "Average", "Sum", "Minimum", "Maximum"]
            .iter()
            .chain(EXTENDED)
        {
            assert!(matches(STATISTIC_PATTERN, s), "{s} refused");
        }
        for s in NOT_EXTENDED.iter().filter(|s| **s != "Average").chain(&[
            "average",
            "avg",
            "Avg",
            "SampleCount ",
        ]) {
            assert!(!matches(STATISTIC_PATTERN, s), "{s} accepted");
        }
    }

    #[test]
    fn only_percentiles_are_percentiles() {
        for s in ["p0", "p90", "p99.9", "p100"] {
            assert!(matches(PERCENTILE_PATTERN, s), "{s} refused");
        }
        for s in ["tm90", "IQM", "PR(:300)", "p101", "p100.5", "P90"] {
            assert!(!matches(PERCENTILE_PATTERN, s), "{s} accepted");
        }
    }

    /// The patterns go into CEL string literals too, where a backslash would start an escape.
    #[test]
    fn the_patterns_hold_no_backslash_or_quote() {
        for p in [
            PERCENTILE_PATTERN,
            EXTENDED_STATISTIC_PATTERN,
            STATISTIC_PATTERN,
        ] {
            assert!(!p.contains('\\') && !p.contains('\''), "{p}");
        }
    }
}
