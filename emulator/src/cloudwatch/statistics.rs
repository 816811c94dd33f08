//! CloudWatch statistic names, as "CloudWatch statistics definitions" (user guide) writes them.
//!
//! ```text
//! statistic  = "SampleCount" | "Average" | "Sum" | "Minimum" | "Maximum" | extended
//! extended   = "p" percent | ("tm" | "tc" | "ts" | "wm") percent | "IQM"
//!            | ("TM" | "TC" | "TS" | "WM") "(" bounds ")" | "PR(" values ")"
//! bounds     = [percent "%"] ":" [percent "%"]     at least one, both percentages
//!            | values
//! values     = [number] ":" [number]               at least one
//! percent    = a number from 0 to 100, up to 10 decimal places
//! ```
//!
//! `PR(:300)` and `TM(:95%)` leave one end open; `PR(:)` leaves both and names nothing.

/// The five basic statistics.
pub const STATISTICS: &[&str] = &["SampleCount", "Average", "Sum", "Minimum", "Maximum"];

/// Up to 10 decimal places, as the statistics definitions allow.
const MAX_DECIMALS: usize = 10;

/// A decimal number without sign or exponent: `90`, `99.9`, `0.005`.
fn decimal(text: &str) -> Option<f64> {
    let (whole, fraction) = match text.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (text, None),
    };
    let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    let fraction_ok = fraction.is_none_or(|f| digits(f) && f.len() <= MAX_DECIMALS);
    if digits(whole) && fraction_ok {
        text.parse().ok()
    } else {
        None
    }
}

fn percent(text: &str) -> bool {
    decimal(text).is_some_and(|p| (0.0..=100.0).contains(&p))
}

/// A metric value bound in `PR(...)` or a value range: a decimal, optionally negative.
fn value(text: &str) -> bool {
    decimal(text.strip_prefix('-').unwrap_or(text)).is_some()
}

/// `lower:upper`, each optional but not both; `allow_percent` for trimmed statistics, where
/// both ends are percentages or both are values.
fn range(inner: &str, allow_percent: bool) -> bool {
    let Some((lower, upper)) = inner.split_once(':') else {
        return false;
    };
    if lower.is_empty() && upper.is_empty() {
        return false;
    }
    let is_percent = |s: &str| s.ends_with('%');
    let given: Vec<&str> = [lower, upper]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect();
    if allow_percent && given.iter().all(|s| is_percent(s)) {
        return given
            .iter()
            .all(|s| percent(s.strip_suffix('%').expect("checked above")));
    }
    given.iter().all(|s| value(s))
}

/// An extended statistic (`p99.9`, `tm90`, `IQM`, `TM(10%:90%)`, `PR(:300)`, ...).
pub fn is_extended(stat: &str) -> bool {
    if stat == "IQM" {
        return true;
    }
    if let Some(rest) = stat.strip_prefix('p') {
        return percent(rest);
    }
    for prefix in ["tm", "tc", "ts", "wm"] {
        if let Some(rest) = stat.strip_prefix(prefix) {
            return percent(rest);
        }
    }
    let Some(inner) = stat.strip_suffix(')') else {
        return false;
    };
    for prefix in ["TM(", "TC(", "TS(", "WM("] {
        if let Some(bounds) = inner.strip_prefix(prefix) {
            return range(bounds, true);
        }
    }
    inner
        .strip_prefix("PR(")
        .is_some_and(|bounds| range(bounds, false))
}

/// A percentile (`p90`, `p99.9`), the only extended statistic OpenTelemetry streams carry.
pub fn is_percentile(stat: &str) -> bool {
    stat.strip_prefix('p').is_some_and(percent)
}

/// Any statistic a `MetricStat` may name.
pub fn is_statistic(stat: &str) -> bool {
    STATISTICS.contains(&stat) || is_extended(stat)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_statistics_are_accepted() {
        for ok in [
            "p90",
            "p99.9",
            "p100",
            "p0",
            "p99.9999999999",
            "tm90",
            "tc90",
            "ts90",
            "wm98",
            "IQM",
            "TM(2%:98%)",
            "TM(150:1000)",
            "TM(:95%)",
            "TM(10%:)",
            "WM(10%:90%)",
            "PR(:300)",
            "PR(100:2000)",
            "PR(10:)",
            "TC(0.005:0.030)",
            "TC(80:500)",
            "TC(:0.5)",
            "TS(80%:)",
            "PR(-5:5)",
        ] {
            assert!(is_extended(ok), "{ok}");
            assert!(is_statistic(ok), "{ok}");
        }
        for basic in STATISTICS {
            assert!(is_statistic(basic) && !is_extended(basic));
        }
    }

    #[test]
    fn malformed_statistics_are_refused() {
        for bad in [
            "p",
            "p101",
            "p100.1",
            "p-1",
            "x90",
            "Average ",
            "average",
            "PR10",
            "p9.9.9",
            "PR(:)",
            "TM(:)",
            "PR(1%:2%)",
            "TM(10%:500)",
            "TM(101%:)",
            "TM90",
            "tm(10%:90%)",
            "PR(a:b)",
            "p99.12345678901",
            "TM(10%:90%",
            "IQM(1:2)",
            "p 90",
            "",
        ] {
            assert!(!is_statistic(bad), "{bad}");
        }
    }

    #[test]
    fn only_percentiles_are_percentiles() {
        assert!(is_percentile("p95") && is_percentile("p99.9"));
        assert!(!is_percentile("tm95") && !is_percentile("p101") && !is_percentile("Sum"));
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn percentiles_from_0_to_100_are_statistics(whole in 0u32..=100, decimals in 0u32..10_000) {
            let stat = if whole == 100 {
                "p100".to_string()
            } else {
                format!("p{}.{}", whole, decimals)
            };
            let over = format!("p{}.{}", 100 + whole.max(1), decimals);
            prop_assert!(is_statistic(&stat) && is_percentile(&stat), "{}", stat);
            prop_assert!(!is_statistic(&over), "{}", over);
        }

        #[test]
        fn trimmed_ranges_take_percentages_up_to_100(low in 0u32..=100, high in 0u32..=100) {
            let trimmed = format!("TM({}%:{}%)", low, high);
            let rank = format!("PR({}:{})", low, high);
            let beyond = format!("TM({}%:{}%)", low, high + 101);
            prop_assert!(is_statistic(&trimmed), "{}", trimmed);
            prop_assert!(is_statistic(&rank), "{}", rank);
            prop_assert!(!is_statistic(&beyond), "{}", beyond);
        }
    }
}
