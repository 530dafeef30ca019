//! Latency summaries (percentiles over every recorded sample) and process CPU time.
//!
//! Samples are kept whole, in microseconds, and sorted once: a run records at most a few
//! million, so exact percentiles are cheaper than getting a histogram's buckets right.

use std::time::Duration;

/// Every latency sample of one phase, sorted, in microseconds.
#[derive(Debug, Clone, Default)]
pub(crate) struct Latencies {
    sorted_us: Vec<u32>,
}

impl Latencies {
    pub(crate) fn from_samples(mut samples_us: Vec<u32>) -> Self {
        samples_us.sort_unstable();
        Self {
            sorted_us: samples_us,
        }
    }

    #[cfg(test)]
    pub(crate) fn count(&self) -> usize {
        self.sorted_us.len()
    }

    /// The `p`-th percentile (0..=100), nearest-rank; zero when there are no samples.
    pub(crate) fn percentile(&self, p: f64) -> Duration {
        let n = self.sorted_us.len();
        if n == 0 {
            return Duration::ZERO;
        }
        let rank = ((p / 100.0) * n as f64).ceil() as usize;
        let index = rank.clamp(1, n) - 1;
        Duration::from_micros(u64::from(self.sorted_us[index]))
    }

    pub(crate) fn max(&self) -> Duration {
        self.sorted_us
            .last()
            .map_or(Duration::ZERO, |us| Duration::from_micros(u64::from(*us)))
    }
}

/// Microseconds, saturating at `u32::MAX` (71 minutes, far above any request timeout).
pub(crate) fn micros_u32(duration: Duration) -> u32 {
    u32::try_from(duration.as_micros()).unwrap_or(u32::MAX)
}

/// User + system CPU time of a process so far, from `/proc/PID/stat` (all its threads).
/// `None` where there is no procfs.
pub(crate) fn process_cpu(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    cpu_from_stat(&stat)
}

/// The CPU time of this process.
pub(crate) fn own_cpu() -> Option<Duration> {
    process_cpu(std::process::id())
}

/// CPU time the whole machine spent busy so far (every CPU: all but idle and iowait), from
/// the first line of `/proc/stat`. `None` where there is no procfs.
pub(crate) fn machine_busy() -> Option<Duration> {
    busy_from_proc_stat(&std::fs::read_to_string("/proc/stat").ok()?)
}

fn busy_from_proc_stat(stat: &str) -> Option<Duration> {
    let line = stat.lines().find(|line| line.starts_with("cpu "))?;
    let ticks: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    // user nice system idle iowait irq softirq steal [guest guest_nice, already in user/nice]
    let total: u64 = ticks.iter().take(8).sum();
    let idle = ticks.get(3)? + ticks.get(4).copied().unwrap_or(0);
    Some(Duration::from_millis(
        total.saturating_sub(idle) * 1000 / USER_HZ,
    ))
}

/// Linux reports `/proc` CPU times in USER_HZ, 100 per second on every architecture we run on.
const USER_HZ: u64 = 100;

/// Fields 14 and 15 (`utime`, `stime`) in clock ticks, counted after the `)` that closes the
/// command name (which may itself contain spaces), in USER_HZ.
fn cpu_from_stat(stat: &str) -> Option<Duration> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace();
    // After the name: state is field 3, so utime (14) is the 12th, stime (15) the 13th.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 1000 / USER_HZ))
}

/// CPU time of a process and its direct children so far: the process's own user + system
/// time, what its children that already exited used (`cutime`, `cstime`, collected when it
/// reaped them), and each live child's user + system time (children found by their parent
/// pid in `/proc/*/stat`). For a PostgreSQL postmaster, that is the whole server: backends,
/// WAL writer, checkpointer, autovacuum, and backends that came and went. `None` if the root
/// cannot be read.
pub(crate) fn process_tree_cpu(root: u32) -> Option<Duration> {
    let root_stat = std::fs::read_to_string(format!("/proc/{root}/stat")).ok()?;
    let mut ticks = tree_root_ticks(&root_stat)?;
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == root {
            continue;
        }
        // A process may end between the listing and the read: it is then in `cutime`.
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        if let Some((parent, own)) = child_ticks(&stat)
            && parent == root
        {
            ticks += own;
        }
    }
    Some(Duration::from_millis(ticks * 1000 / USER_HZ))
}

/// The fields after the `)` that closes the command name: index 0 is the state (field 3).
fn fields_after_name(stat: &str) -> Option<Vec<&str>> {
    Some(stat[stat.rfind(')')? + 1..].split_whitespace().collect())
}

/// `utime + stime + cutime + cstime` (fields 14 to 17) of a process, in ticks.
fn tree_root_ticks(stat: &str) -> Option<u64> {
    let fields = fields_after_name(stat)?;
    (11..=14)
        .map(|i| fields.get(i)?.parse::<u64>().ok())
        .sum::<Option<u64>>()
}

/// `(ppid, utime + stime)` of a process (fields 4, 14, 15), in ticks.
fn child_ticks(stat: &str) -> Option<(u32, u64)> {
    let fields = fields_after_name(stat)?;
    let parent = fields.get(1)?.parse().ok()?;
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((parent, utime + stime))
}

/// The parent pid of a process (field 4 of `/proc/PID/stat`).
pub(crate) fn parent_pid(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    child_ticks(&stat).map(|(parent, _)| parent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let lat = Latencies::from_samples((1..=100).rev().collect());
        assert_eq!(lat.count(), 100);
        assert_eq!(lat.percentile(50.0), Duration::from_micros(50));
        assert_eq!(lat.percentile(99.0), Duration::from_micros(99));
        assert_eq!(lat.percentile(100.0), Duration::from_micros(100));
        assert_eq!(lat.percentile(0.0), Duration::from_micros(1));
        assert_eq!(lat.max(), Duration::from_micros(100));
        assert_eq!(Latencies::default().percentile(50.0), Duration::ZERO);
    }

    #[test]
    fn parses_proc_stat_with_spaces_in_the_name() {
        let stat =
            "4242 (tokio worker (1)) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 3 0";
        assert_eq!(cpu_from_stat(stat), Some(Duration::from_millis(3250)));
        assert!(own_cpu().is_some());
    }

    #[test]
    fn counts_a_process_tree() {
        // utime 250, stime 75, cutime 30, cstime 5 after the state and ppid.
        let root = "77 (postgres) S 1 77 77 0 -1 4194560 100 0 0 0 250 75 30 5 20 0 3 0";
        assert_eq!(tree_root_ticks(root), Some(360));
        let child = "78 (postgres: bench) S 77 78 78 0 -1 4194560 100 0 0 0 40 2 0 0 20 0 1 0";
        assert_eq!(child_ticks(child), Some((77, 42)));
        // This test's own process has a parent and is counted in its parent's tree.
        let me = std::process::id();
        let parent = parent_pid(me).unwrap();
        assert!(process_tree_cpu(parent).is_some());
        assert_eq!(process_tree_cpu(u32::MAX), None);
    }

    #[test]
    fn parses_machine_busy_time() {
        let stat = "cpu  100 5 50 1000 20 3 2 10 0 0\ncpu0 50 2 25 500 10 1 1 5 0 0\n";
        // user + nice + system + irq + softirq + steal = 170 ticks.
        assert_eq!(busy_from_proc_stat(stat), Some(Duration::from_millis(1700)));
        assert!(machine_busy().is_some());
    }
}
