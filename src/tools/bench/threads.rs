//! Where the service's CPU goes: user and kernel time and context switches, per thread group.
//!
//! Read from `/proc/<pid>/task/<tid>/{stat,status}` before and after the timed run. Threads are
//! grouped by name with the trailing number dropped (`actix-rt|system:0|arbiter:3` and
//! `sqlx-sqlite-worker-2` become one group each), so a run shows, for instance, how much of a
//! purchase is spent in the HTTP workers and how much in SQLite's worker threads. A thread that
//! exits during the run takes its counts with it (the process totals still include them).

use std::collections::BTreeMap;

use super::USER_HZ;

/// Counters of one thread.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(super) struct ThreadCounters {
    pub(super) user_s: f64,
    pub(super) system_s: f64,
    pub(super) voluntary_switches: u64,
    pub(super) involuntary_switches: u64,
}

/// Every thread of a process at one moment, by thread id: (group name, counters).
#[derive(Debug, Clone, Default)]
pub(super) struct ThreadSnapshot(BTreeMap<u32, (String, ThreadCounters)>);

/// A thread's group: its name without trailing digits and separators.
pub(super) fn group_name(comm: &str) -> String {
    let trimmed = comm.trim_end_matches(|c: char| c.is_ascii_digit() || c == '-' || c == ':');
    if trimmed.is_empty() {
        comm.to_string()
    } else {
        trimmed.to_string()
    }
}

/// utime and stime (fields 14 and 15 of stat(5)), in seconds. The command name (field 2) is in
/// parentheses and may hold spaces: fields are counted from after it.
pub(super) fn parse_stat_times(stat: &str) -> Option<(f64, f64)> {
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| fields.get(i)?.parse::<u64>().ok();
    Some((tick(11)? as f64 / USER_HZ, tick(12)? as f64 / USER_HZ))
}

fn parse_switches(status: &str, key: &str) -> u64 {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

impl ThreadSnapshot {
    /// Reads every thread of `pid`; threads that vanish while being read are skipped.
    pub(super) fn read(pid: u32) -> Self {
        let mut out = BTreeMap::new();
        let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
            return Self(out);
        };
        for entry in dir.flatten() {
            let Some(tid) = entry
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<u32>().ok())
            else {
                continue;
            };
            let base = entry.path();
            let (Ok(comm), Ok(stat), Ok(status)) = (
                std::fs::read_to_string(base.join("comm")),
                std::fs::read_to_string(base.join("stat")),
                std::fs::read_to_string(base.join("status")),
            ) else {
                continue;
            };
            let Some((user_s, system_s)) = parse_stat_times(&stat) else {
                continue;
            };
            let counters = ThreadCounters {
                user_s,
                system_s,
                voluntary_switches: parse_switches(&status, "voluntary_ctxt_switches:"),
                involuntary_switches: parse_switches(&status, "nonvoluntary_ctxt_switches:"),
            };
            out.insert(tid, (group_name(comm.trim()), counters));
        }
        Self(out)
    }

    /// What each group did between `self` (before) and `after`.
    pub(super) fn delta(&self, after: &Self) -> BTreeMap<String, ThreadCounters> {
        let mut groups: BTreeMap<String, ThreadCounters> = BTreeMap::new();
        for (tid, (name, a)) in &after.0 {
            let b = self.0.get(tid).map(|(_, c)| *c).unwrap_or_default();
            let g = groups.entry(name.clone()).or_default();
            g.user_s += (a.user_s - b.user_s).max(0.0);
            g.system_s += (a.system_s - b.system_s).max(0.0);
            g.voluntary_switches += a.voluntary_switches.saturating_sub(b.voluntary_switches);
            g.involuntary_switches += a
                .involuntary_switches
                .saturating_sub(b.involuntary_switches);
        }
        groups
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_drop_the_thread_number() {
        assert_eq!(group_name("sqlx-sqlite-worker-12"), "sqlx-sqlite-worker");
        assert_eq!(
            group_name("actix-rt|system:0|arbiter:3"),
            "actix-rt|system:0|arbiter"
        );
        assert_eq!(group_name("tokio-runtime-w"), "tokio-runtime-w");
        assert_eq!(group_name("42"), "42");
    }

    #[test]
    fn stat_times_skip_a_command_name_with_spaces_and_parentheses() {
        let stat = "123 (a (b) c) S 1 1 1 0 -1 4194304 10 0 0 0 250 75 0 0 20 0 4 0 1 1 1";
        assert_eq!(parse_stat_times(stat), Some((2.5, 0.75)));
    }

    #[test]
    fn a_delta_sums_threads_of_a_group_and_counts_new_threads_whole() {
        let c = |u: f64, s: f64, v: u64| ThreadCounters {
            user_s: u,
            system_s: s,
            voluntary_switches: v,
            involuntary_switches: 0,
        };
        let before = ThreadSnapshot(BTreeMap::from([
            (1, ("w".to_string(), c(1.0, 1.0, 10))),
            (2, ("w".to_string(), c(0.0, 0.0, 0))),
        ]));
        let after = ThreadSnapshot(BTreeMap::from([
            (1, ("w".to_string(), c(2.0, 1.5, 15))),
            (2, ("w".to_string(), c(0.5, 0.0, 5))),
            (3, ("new".to_string(), c(0.25, 0.0, 1))),
        ]));
        let d = before.delta(&after);
        assert_eq!(d["w"], c(1.5, 0.5, 10));
        assert_eq!(d["new"], c(0.25, 0.0, 1));
    }

    #[test]
    fn this_process_has_a_readable_thread_table() {
        let snap = ThreadSnapshot::read(std::process::id());
        assert!(!snap.0.is_empty());
    }
}
