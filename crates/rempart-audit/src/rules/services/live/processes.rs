//! The process table of the live host, from `/proc/[0-9]*/{stat,status,cgroup,cmdline}`, and the
//! boot time from `/proc/stat`. Processes that exit while being read are skipped.

use super::procfs::{
    parse_btime, parse_cgroup_unit, parse_stat, parse_status_euid, split_cmdline, Stat,
};
use crate::host::HostError;
use crate::rule::{Ctx, Fact};

/// Clock ticks per second of `/proc/PID/stat` times (`USER_HZ`, 100 on every Linux port Debian
/// ships).
pub const TICKS_PER_SECOND: u64 = 100;

/// Processes read at most (a host with more is unusual; the rest are not judged).
const MAX_PROCESSES: usize = 100_000;

/// One running process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Process {
    pub pid: u32,
    pub ppid: u32,
    pub comm: String,
    /// Effective user id, when `status` was readable.
    pub euid: Option<u32>,
    pub start_ticks: u64,
    /// The systemd unit (`nginx.service`) from its cgroup, if any.
    pub unit: Option<String>,
    pub cmdline: Vec<String>,
}

impl Process {
    /// The command line as one string (the name in brackets for kernel threads).
    pub fn command(&self) -> String {
        if self.cmdline.is_empty() {
            format!("[{}]", self.comm)
        } else {
            self.cmdline.join(" ")
        }
    }

    /// When it started, in seconds since the epoch, given the boot time.
    pub fn started_at(&self, boot_time: i64) -> i64 {
        boot_time.saturating_add((self.start_ticks / TICKS_PER_SECOND) as i64)
    }

    /// `pid 812 (postgres)`.
    pub fn label(&self) -> String {
        format!("pid {} ({})", self.pid, self.comm)
    }
}

/// The process table, empty unless the host is live.
#[derive(Debug, Clone, Default)]
pub struct Processes {
    pub list: Vec<Process>,
    /// Seconds since the epoch, from `/proc/stat`.
    pub boot_time: Option<i64>,
    /// `/proc` could not be listed at all.
    pub error: Option<HostError>,
}

impl Processes {
    pub fn get(&self, pid: u32) -> Option<&Process> {
        self.list.iter().find(|p| p.pid == pid)
    }

    /// Children of `pid`.
    pub fn children(&self, pid: u32) -> impl Iterator<Item = &Process> {
        self.list.iter().filter(move |p| p.ppid == pid)
    }

    /// Read the table from the host's `/proc`.
    pub fn read(host: &crate::host::Host) -> Processes {
        let mut out = Processes::default();
        if !host.is_live() {
            return out;
        }
        out.boot_time = host
            .read_text("/proc/stat")
            .ok()
            .flatten()
            .and_then(|f| parse_btime(&f.text));
        let names = match host.read_dir("/proc") {
            Ok(Some(n)) => n,
            Ok(None) => return out,
            Err(e) => {
                out.error = Some(e);
                return out;
            }
        };
        for name in names.iter().take(MAX_PROCESSES) {
            let Ok(pid) = name.parse::<u32>() else {
                continue;
            };
            let base = format!("/proc/{pid}");
            let Some(Stat {
                ppid,
                comm,
                start_ticks,
                state,
                ..
            }) = host
                .read(&format!("{base}/stat"))
                .ok()
                .flatten()
                .and_then(|b| parse_stat(&String::from_utf8_lossy(&b)))
            else {
                continue;
            };
            if state == 'Z' {
                continue;
            }
            let euid = host
                .read(&format!("{base}/status"))
                .ok()
                .flatten()
                .and_then(|b| parse_status_euid(&String::from_utf8_lossy(&b)));
            let unit = host
                .read(&format!("{base}/cgroup"))
                .ok()
                .flatten()
                .and_then(|b| parse_cgroup_unit(&String::from_utf8_lossy(&b)));
            let cmdline = host
                .read(&format!("{base}/cmdline"))
                .ok()
                .flatten()
                .map(|b| split_cmdline(&b))
                .unwrap_or_default();
            out.list.push(Process {
                pid,
                ppid,
                comm,
                euid,
                start_ticks,
                unit,
                cmdline,
            });
        }
        out.list.sort_by_key(|p| p.pid);
        out
    }
}

impl Fact for Processes {
    fn collect(ctx: &Ctx) -> Processes {
        Processes::read(ctx.host)
    }
}
