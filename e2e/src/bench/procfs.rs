//! What the benchmark reads from `/proc`: CPU time and memory of the operator and the bed's
//! processes, the emulator's share of this process's CPU time, and how busy the machine was.
//! These are the figures that say what bounded a phase: the operator's own CPU, the API server's,
//! or a machine with no idle core left.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

/// Clock ticks per second, the unit of the CPU times in `/proc/<pid>/stat`.
fn clock_ticks() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 { ticks as f64 } else { 100.0 }
}

/// The fields of a `stat` file after `(comm)`, which may itself hold spaces and parentheses.
fn stat_fields(stat: &str) -> Option<(String, Vec<&str>)> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat[open + 1..close].to_string();
    Some((comm, stat[close + 1..].split_whitespace().collect()))
}

/// User plus system CPU seconds of a `stat` file's process or thread.
fn cpu_of_stat(stat: &str) -> Option<f64> {
    let (_, fields) = stat_fields(stat)?;
    // After the comm: state(0) ppid(1) ... utime(11) stime(12), per proc(5).
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / clock_ticks())
}

/// CPU seconds `pid` has used so far.
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    cpu_of_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// `VmRSS` and `VmHWM` (peak resident set) of `pid`, in bytes.
pub fn memory(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kib| kib * 1024)
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// The bed's servers this process started, by a short name (the operator is measured by its
/// pid).
pub fn children() -> BTreeMap<String, u32> {
    let me = std::process::id().to_string();
    let mut out = BTreeMap::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return out;
    };
    for entry in dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let Some((comm, fields)) = stat_fields(&stat) else {
            continue;
        };
        if fields.get(1) != Some(&me.as_str()) {
            continue;
        }
        // comm is cut at 15 bytes: "kube-controller".
        let name = match comm.as_str() {
            c if c.starts_with("kube-apiserver") => "kube-apiserver",
            c if c.starts_with("kube-controller") => "kube-controller-manager",
            "etcd" => "etcd",
            _ => continue,
        };
        out.insert(name.to_string(), pid);
    }
    out
}

/// CPU seconds of this process, split into the in-process emulator's threads (named
/// `emulator-worker`) and the rest (the benchmark's own client work: creating, listing).
pub fn own_cpu_split() -> (f64, f64) {
    let (mut emulator, mut rest) = (0.0, 0.0);
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return (0.0, 0.0);
    };
    for task in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        let (Some((comm, _)), Some(cpu)) = (stat_fields(&stat), cpu_of_stat(&stat)) else {
            continue;
        };
        if comm.starts_with("emulator") {
            emulator += cpu;
        } else {
            rest += cpu;
        }
    }
    // Threads that ended are no longer listed; the process total still holds their time.
    let total = cpu_seconds(std::process::id()).unwrap_or(emulator + rest);
    (emulator, (total - emulator).max(rest))
}

/// The machine's CPU counters (`/proc/stat`, all CPUs), in ticks.
#[derive(Clone, Copy, Debug, Default)]
pub struct MachineCpu {
    busy: u64,
    total: u64,
}

impl MachineCpu {
    pub fn read() -> MachineCpu {
        let text = std::fs::read_to_string("/proc/stat").unwrap_or_default();
        let Some(line) = text.lines().find(|l| l.starts_with("cpu ")) else {
            return MachineCpu::default();
        };
        let v: Vec<u64> = line
            .split_whitespace()
            .skip(1)
            .filter_map(|f| f.parse().ok())
            .collect();
        // user nice system idle iowait irq softirq steal: idle and iowait are not busy.
        let total: u64 = v.iter().take(8).sum();
        let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
        MachineCpu {
            busy: total - idle,
            total,
        }
    }

    /// Share of all CPUs that was busy between `self` and `later` (any process, ours or not).
    pub fn busy_since(&self, later: &MachineCpu) -> f64 {
        let total = later.total.saturating_sub(self.total);
        if total == 0 {
            return 0.0;
        }
        later.busy.saturating_sub(self.busy) as f64 / total as f64
    }
}

/// The 1, 5 and 15 minute load averages.
pub fn load_average() -> [f64; 3] {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let mut v = text.split_whitespace().filter_map(|f| f.parse().ok());
    [
        v.next().unwrap_or(0.0),
        v.next().unwrap_or(0.0),
        v.next().unwrap_or(0.0),
    ]
}

/// Number of CPUs online.
pub fn cpus() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// Samples one process's resident set every 100 ms on a thread of its own and keeps the
/// largest value since the last [`RssSampler::watch`]. `VmHWM` gives the peak over the process's
/// life; this gives the peak within one phase (an idle phase after a busy start-up).
pub struct RssSampler {
    pid: Arc<AtomicU32>,
    max: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RssSampler {
    pub fn start() -> RssSampler {
        let pid = Arc::new(AtomicU32::new(0));
        let max = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (pid, max, stop) = (Arc::clone(&pid), Arc::clone(&max), Arc::clone(&stop));
            std::thread::Builder::new()
                .name("rss-sampler".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        let p = pid.load(Ordering::Relaxed);
                        if p != 0
                            && let Some((rss, _)) = memory(p)
                        {
                            max.fetch_max(rss, Ordering::Relaxed);
                        }
                        std::thread::sleep(Duration::from_millis(100));
                    }
                })
                .ok()
        };
        RssSampler {
            pid,
            max,
            stop,
            thread,
        }
    }

    /// Samples `pid` from now on, forgetting the previous maximum.
    pub fn watch(&self, pid: u32) {
        self.pid.store(pid, Ordering::Relaxed);
        self.max.store(
            memory(pid).map(|(rss, _)| rss).unwrap_or(0),
            Ordering::Relaxed,
        );
    }

    /// The largest resident set sampled since [`RssSampler::watch`].
    pub fn max(&self) -> u64 {
        self.max.load(Ordering::Relaxed)
    }
}

impl Drop for RssSampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_with_spaces_in_comm_is_split_after_the_last_parenthesis() {
        let stat = "42 (a b) c) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0";
        let (comm, fields) = stat_fields(stat).unwrap();
        assert_eq!(comm, "a b) c");
        assert_eq!(fields[1], "1");
        let cpu = cpu_of_stat(stat).unwrap();
        assert!((cpu - 300.0 / clock_ticks()).abs() < 1e-9);
    }

    #[test]
    fn this_process_is_measured() {
        let (rss, hwm) = memory(std::process::id()).unwrap();
        assert!(rss > 0 && hwm >= rss);
        assert!(cpu_seconds(std::process::id()).is_some());
    }
}
