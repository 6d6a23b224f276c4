//! The TCP connect scan: a full connect to every port (what `nmap -sT` does, no raw sockets and
//! no root needed), many in flight at once on one tokio thread, each bounded by a timeout.
//! A connection accepted is `open`, a reset is `closed`, no answer (or an ICMP unreachable) is
//! `filtered`. A port whose connect failed for a local reason (out of file descriptors or local
//! ports) is tried again with fewer connects in flight.
//!
//! The wait adapts like nmap's: once ports have answered, a connect is given the smoothed
//! round-trip time plus four deviations (at least [`MIN_WAIT`], at most the configured timeout)
//! instead of the whole timeout. Because a lost SYN is only resent by the kernel after a second,
//! ports without an answer are tried again (`retries` more passes) before they count as filtered.

use super::target::{PortSpec, ScanTarget};
use crate::ProbeError;
use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

/// How to scan.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    pub ports: PortSpec,
    /// How long to wait for an answer to one connect.
    pub timeout: Duration,
    /// Connects in flight at most (bounded further by the open-files limit).
    pub concurrency: usize,
    /// Passes over the ports that did not answer.
    pub retries: u32,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            ports: PortSpec::all(),
            timeout: Duration::from_millis(1000),
            concurrency: 16384,
            retries: 1,
        }
    }
}

/// What a port did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortState {
    Open,
    Closed,
    Filtered,
}

/// The result of a scan.
#[derive(Debug, Clone)]
pub struct ScanResult {
    pub target: ScanTarget,
    pub ports: PortSpec,
    /// Open ports, sorted.
    pub open: Vec<u16>,
    pub closed: usize,
    /// Filtered ports, sorted.
    pub filtered: Vec<u16>,
    /// Ports that could not be judged (a local error that persisted), with the error.
    pub unknown: Vec<(u16, String)>,
    pub elapsed: Duration,
    /// Connects in flight at most, as finally used.
    pub concurrency: usize,
    pub timeout: Duration,
}

/// The shortest wait for an answer, whatever the round-trip times seen.
pub const MIN_WAIT: Duration = Duration::from_millis(250);

/// Scanned first: their answers (open or closed) teach the scanner the round-trip time.
const COMMON: &[u16] = &[
    22, 80, 443, 21, 25, 53, 110, 143, 3306, 5432, 6379, 8000, 8080, 8443, 3000, 9090,
];

/// How often a pending connect looks at its deadline again.
const WAIT_SLICE: Duration = Duration::from_millis(250);

/// Times a port is tried again after a local shortage before it is reported as unknown.
const MAX_RETRIES: u32 = 8;

enum Attempt {
    Done(u16, PortState),
    /// A local resource ran out: try again later.
    Retry(u16, io::Error),
    Failed(u16, String),
}

/// Raise the soft open-files limit to the hard one and return how many connects may be in
/// flight at once without running out of descriptors.
fn descriptor_budget(wanted: usize) -> usize {
    use rustix::process::{getrlimit, setrlimit, Resource};
    let mut lim = getrlimit(Resource::Nofile);
    if lim.current < lim.maximum {
        lim.current = lim.maximum;
        let _ = setrlimit(Resource::Nofile, lim);
        lim = getrlimit(Resource::Nofile);
    }
    let soft = lim.current.unwrap_or(u64::MAX);
    let budget = soft.saturating_sub(64).clamp(16, 1 << 20) as usize;
    wanted.clamp(1, budget)
}

fn classify(e: &io::Error) -> Option<PortState> {
    match e.kind() {
        io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionReset => {
            Some(PortState::Closed)
        }
        io::ErrorKind::TimedOut
        | io::ErrorKind::HostUnreachable
        | io::ErrorKind::NetworkUnreachable => Some(PortState::Filtered),
        _ => match e.raw_os_error() {
            // EHOSTUNREACH, ENETUNREACH, EACCES/EPERM (a local firewall's reject or drop
            // of the outgoing SYN), EHOSTDOWN
            Some(113 | 101 | 13 | 1 | 112) => Some(PortState::Filtered),
            _ => None,
        },
    }
}

fn is_local_shortage(e: &io::Error) -> bool {
    // EMFILE, ENFILE, EADDRNOTAVAIL (no local port left), ENOBUFS, EAGAIN
    matches!(e.raw_os_error(), Some(24 | 23 | 99 | 105 | 11))
}

/// Round-trip times of the answers seen, smoothed as TCP does (RFC 6298): the wait for a new
/// connect is `srtt + 4 * rttvar`, within [`MIN_WAIT`] and the configured timeout.
#[derive(Debug, Default)]
struct RttEstimate {
    /// (srtt, rttvar) in seconds, once a first answer came.
    state: std::sync::Mutex<Option<(f64, f64)>>,
}

type Rtt = std::sync::Arc<RttEstimate>;

impl RttEstimate {
    fn observe(&self, sample: Duration) {
        let r = sample.as_secs_f64();
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        *st = Some(match *st {
            None => (r, r / 2.0),
            Some((srtt, var)) => (
                0.875 * srtt + 0.125 * r,
                0.75 * var + 0.25 * (srtt - r).abs(),
            ),
        });
    }

    fn wait(&self, timeout: Duration) -> Duration {
        let st = *self.state.lock().unwrap_or_else(|e| e.into_inner());
        match st {
            None => timeout,
            Some((srtt, var)) => Duration::from_secs_f64((srtt + 4.0 * var).min(3600.0))
                .clamp(MIN_WAIT.min(timeout), timeout),
        }
    }
}

async fn probe(addr: SocketAddr, rtt: Rtt, timeout: Duration) -> Attempt {
    let port = addr.port();
    let sent = Instant::now();
    let answered = |state| {
        rtt.observe(sent.elapsed());
        Attempt::Done(port, state)
    };
    let connect = tokio::net::TcpStream::connect(addr);
    tokio::pin!(connect);
    // The deadline is looked at again every slice: a connect started before any port answered
    // gets the shorter wait as soon as round-trip times are known.
    let result = loop {
        let deadline = sent + rtt.wait(timeout);
        let now = Instant::now();
        if now >= deadline {
            break None;
        }
        let slice = (deadline - now).min(WAIT_SLICE);
        tokio::select! {
            r = &mut connect => break Some(r),
            _ = tokio::time::sleep(slice) => {}
        }
    };
    match result {
        Some(Ok(stream)) => {
            drop(stream);
            answered(PortState::Open)
        }
        Some(Err(e)) if is_local_shortage(&e) => Attempt::Retry(port, e),
        Some(Err(e)) => match classify(&e) {
            Some(PortState::Closed) => answered(PortState::Closed),
            Some(s) => Attempt::Done(port, s),
            None => Attempt::Failed(port, e.to_string()),
        },
        None => Attempt::Done(port, PortState::Filtered),
    }
}

/// Scan `target` on the ports of `opts`.
pub fn scan(target: &ScanTarget, opts: &ScanOptions) -> Result<ScanResult, ProbeError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .map_err(|e| ProbeError::Io {
            what: "cannot start the scanner's event loop".into(),
            message: e.to_string(),
        })?;
    let start = Instant::now();
    let mut limit = descriptor_budget(opts.concurrency);
    let mut open = Vec::new();
    let mut filtered = Vec::new();
    let mut closed = 0usize;
    let mut unknown = Vec::new();
    let mut tries: std::collections::HashMap<u16, u32> = Default::default();
    let rtt: Rtt = Default::default();
    let addr = target.addr;
    let timeout = opts.timeout;
    // Ports that commonly answer go first, so round-trip times are known before the bulk.
    let mut pending: Vec<u16> = COMMON
        .iter()
        .copied()
        .filter(|p| opts.ports.contains(*p))
        .chain(opts.ports.iter().filter(|p| !COMMON.contains(p)))
        .collect();
    for pass in 0..=opts.retries {
        if pending.is_empty() {
            break;
        }
        let last = pass == opts.retries;
        let mut silent = Vec::new();
        rt.block_on(async {
            let mut queue = pending.iter().copied();
            let mut again: Vec<u16> = Vec::new();
            let mut set: JoinSet<Attempt> = JoinSet::new();
            loop {
                while set.len() < limit {
                    let Some(port) = again.pop().or_else(|| queue.next()) else {
                        break;
                    };
                    set.spawn(probe(SocketAddr::new(addr, port), rtt.clone(), timeout));
                }
                let Some(done) = set.join_next().await else {
                    break;
                };
                match done {
                    Ok(Attempt::Done(p, PortState::Open)) => open.push(p),
                    Ok(Attempt::Done(_, PortState::Closed)) => closed += 1,
                    Ok(Attempt::Done(p, PortState::Filtered)) => silent.push(p),
                    Ok(Attempt::Retry(p, e)) => {
                        // Fewer connects in flight: the others finish before this port is
                        // tried again.
                        limit = (set.len() * 3 / 4).max(16);
                        let n = tries.entry(p).or_insert(0);
                        *n += 1;
                        if *n <= MAX_RETRIES {
                            again.push(p);
                        } else {
                            unknown.push((p, e.to_string()));
                        }
                    }
                    Ok(Attempt::Failed(p, e)) => unknown.push((p, e)),
                    Err(e) => {
                        return Err(ProbeError::Io {
                            what: "a connect task failed".into(),
                            message: e.to_string(),
                        })
                    }
                }
            }
            Ok(())
        })?;
        if last {
            filtered = silent;
            break;
        }
        pending = silent;
    }
    open.sort_unstable();
    filtered.sort_unstable();
    unknown.sort();
    Ok(ScanResult {
        target: target.clone(),
        ports: opts.ports.clone(),
        open,
        closed,
        filtered,
        unknown,
        elapsed: start.elapsed(),
        concurrency: limit,
        timeout,
    })
}
