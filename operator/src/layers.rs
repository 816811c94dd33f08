//! The import rules of operator/ARCHITECTURE.md, checked on the source: the runtime and AWS
//! access know no kind, a kind knows no other kind except through the shared modules (alarms',
//! filters') and the kinds its spec references, and only the app knows every kind.

use std::path::{Path, PathBuf};

/// The modules that are kinds, or what kinds of one family share ([`SHARED`]).
const KINDS: [&str; 10] = [
    "alarm",
    "aws_account",
    "composite_alarm",
    "metric_stream",
    "log_subscription",
    "sampling_rule",
    "metric_filter",
    "log_destination",
    "cloudwatch_alarm",
    "log_filter",
];

/// The modules that hold what kinds of one family share, each with the kinds it sees: the shared
/// alarm module sees both alarm kinds (the composite graph spans them); the shared filter module
/// sees none, its kinds fill in its trait. A shared module is open to every kind except those it
/// references.
const SHARED: [(&str, &[&str]); 2] = [
    ("cloudwatch_alarm", &["alarm", "composite_alarm"]),
    ("log_filter", &[]),
];

/// The kinds the shared module `module` sees.
fn seen_by(module: &str) -> &'static [&'static str] {
    SHARED
        .iter()
        .find(|(shared, _)| *shared == module)
        .map_or(&[], |(_, seen)| *seen)
}

/// (referrer, referenced): the referrer's spec names objects of the referenced kind (an alarm's
/// `metricFilterRef`, a subscription's `destinationRef`), so it reads them from their cache. A
/// reference goes one way: the referenced kind never imports its referrer, and asks what it
/// needs of it through a trait of its own that the referrer implements.
const REFERENCES: [(&str, &str); 2] = [
    ("cloudwatch_alarm", "metric_filter"),
    ("log_subscription", "log_destination"),
];

/// The kinds `module` references.
fn referenced_by(module: &str) -> impl Iterator<Item = &'static str> + '_ {
    REFERENCES
        .iter()
        .filter(move |(from, _)| *from == module)
        .map(|(_, to)| *to)
}

fn source_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("the source directory is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            source_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `crate::<module>` paths a file names, by module.
fn crate_modules(text: &str) -> Vec<String> {
    text.match_indices("crate::")
        .map(|(at, _)| {
            text[at + "crate::".len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect()
        })
        .collect()
}

/// Which modules the file at `relative` (to `src/`) may not name.
fn forbidden(relative: &Path) -> Vec<&'static str> {
    let top = relative
        .components()
        .next()
        .and_then(|c| c.as_os_str().to_str())
        .unwrap_or_default()
        .trim_end_matches(".rs");
    match top {
        "app" | "main" | "crds" | "lib" | "layers" => vec![],
        "runtime" | "aws" => KINDS.iter().copied().chain(["app"]).collect(),
        shared if SHARED.iter().any(|(s, _)| *s == shared) => KINDS
            .iter()
            .copied()
            .filter(|k| *k != shared && !seen_by(shared).contains(k))
            .filter(|k| !referenced_by(shared).any(|r| r == *k))
            .chain(["app"])
            .collect(),
        kind if KINDS.contains(&kind) => {
            // A shared module is open to every kind except those it references.
            let shared_allowed = |k: &str| {
                SHARED.iter().any(|(s, _)| *s == k) && !referenced_by(k).any(|r| r == kind)
            };
            KINDS
                .iter()
                .copied()
                .filter(|k| *k != kind && !shared_allowed(k))
                .filter(|k| !referenced_by(kind).any(|r| r == *k))
                .chain(["app"])
                .collect()
        }
        // Shared vocabulary and pure helpers know no kind.
        _ => KINDS.iter().copied().chain(["app", "runtime"]).collect(),
    }
}

#[test]
fn modules_import_only_what_their_layer_allows() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    source_files(&src, &mut files);
    assert!(files.len() > 50, "read {} source files", files.len());
    let mut problems = Vec::new();
    for file in files {
        let relative = file.strip_prefix(&src).unwrap().to_path_buf();
        let text = std::fs::read_to_string(&file).unwrap();
        // Tests may name every kind (for example to check something holds for each).
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        let forbidden = forbidden(&relative);
        for module in crate_modules(code) {
            if forbidden.contains(&module.as_str()) {
                problems.push(format!("{} names crate::{module}", relative.display()));
            }
        }
    }
    problems.sort();
    problems.dedup();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_check_sees_a_forbidden_import() {
    assert_eq!(
        crate_modules("use crate::alarm::Alarm;\nuse crate::aws;"),
        ["alarm", "aws"]
    );
    assert!(forbidden(Path::new("runtime/context.rs")).contains(&"alarm"));
    assert!(forbidden(Path::new("alarm/controller.rs")).contains(&"composite_alarm"));
    assert!(!forbidden(Path::new("alarm/controller.rs")).contains(&"cloudwatch_alarm"));
    assert!(!forbidden(Path::new("cloudwatch_alarm/dependents.rs")).contains(&"alarm"));
    assert!(forbidden(Path::new("tags.rs")).contains(&"runtime"));
    // References go one way.
    assert!(
        !forbidden(Path::new("cloudwatch_alarm/metric_filter_ref.rs")).contains(&"metric_filter")
    );
    assert!(forbidden(Path::new("metric_filter/controller.rs")).contains(&"cloudwatch_alarm"));
    assert!(forbidden(Path::new("metric_filter/controller.rs")).contains(&"alarm"));
    assert!(!forbidden(Path::new("log_subscription/controller.rs")).contains(&"log_destination"));
    assert!(forbidden(Path::new("log_destination/controller.rs")).contains(&"log_subscription"));
    assert!(forbidden(Path::new("cloudwatch_alarm/dependents.rs")).contains(&"log_destination"));
    assert!(!forbidden(Path::new("alarm/controller.rs")).contains(&"cloudwatch_alarm"));
    // The shared filter module serves both filter kinds and sees neither.
    assert!(!forbidden(Path::new("log_subscription/controller.rs")).contains(&"log_filter"));
    assert!(!forbidden(Path::new("metric_filter/controller.rs")).contains(&"log_filter"));
    assert!(forbidden(Path::new("log_filter/apply.rs")).contains(&"metric_filter"));
    assert!(forbidden(Path::new("log_filter/apply.rs")).contains(&"log_subscription"));
    assert!(forbidden(Path::new("log_filter/apply.rs")).contains(&"cloudwatch_alarm"));
    assert!(!forbidden(Path::new("log_filter/apply.rs")).contains(&"runtime"));
    assert!(forbidden(Path::new("runtime/scope.rs")).contains(&"log_filter"));
    assert!(forbidden(Path::new("cloudwatch_alarm/apply.rs")).contains(&"log_filter"));
}
