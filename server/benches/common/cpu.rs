//! CPU time from `/proc`, per process, to divide by the requests a run
//! served: the servers' (by pid) and PostgreSQL's (every process named
//! `postgres`: the backends the servers talk to and the workers behind
//! them, WAL writer and checkpointer included).

use std::collections::HashMap;

/// Clock ticks per second of `/proc/*/stat` (`sysconf(_SC_CLK_TCK)`: 100
/// on Linux).
const TICKS_PER_SECOND: f64 = 100.0;

/// User + system ticks of `pid`, if it is running.
fn ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command may hold spaces; the fields after it are fixed.
    let rest = stat.rsplit_once(") ")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13
    // after the state (field 3).
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// Every running PostgreSQL process.
fn postgres_pids() -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|comm| comm.trim() == "postgres")
        })
        .collect()
}

/// The ticks of the servers and of PostgreSQL at one moment.
pub struct Sample {
    servers: u64,
    postgres: HashMap<u32, u64>,
}

impl Sample {
    pub fn take(servers: &[u32]) -> Self {
        Self {
            servers: servers.iter().filter_map(|&pid| ticks(pid)).sum(),
            postgres: postgres_pids()
                .into_iter()
                .filter_map(|pid| Some((pid, ticks(pid)?)))
                .collect(),
        }
    }

    /// CPU seconds since `earlier`: (servers, PostgreSQL). A PostgreSQL
    /// process that started since counts from zero.
    pub fn since(&self, earlier: &Self) -> (f64, f64) {
        let servers = self.servers.saturating_sub(earlier.servers);
        let postgres: u64 = self
            .postgres
            .iter()
            .map(|(pid, now)| now.saturating_sub(earlier.postgres.get(pid).copied().unwrap_or(0)))
            .sum();
        (
            servers as f64 / TICKS_PER_SECOND,
            postgres as f64 / TICKS_PER_SECOND,
        )
    }
}
