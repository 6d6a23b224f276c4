//! `rempart guard run`: one thread, one `poll(2)` loop. It waits on the inotify descriptor of
//! the followed files' directories, the journalctl pipe, the control socket and the metrics
//! socket; on each wake it reads new lines, feeds the jails, applies the bans decided in that
//! pass as one firewall transaction, answers control requests, expires bans, and saves state
//! (offsets, journal cursor, bans) atomically at most every couple of seconds and on stop.
//!
//! No lock, no channel, no async runtime: memory stays small and a line's path from the file to
//! the firewall is a straight line through this loop.

mod control;
mod http;

use crate::backend::{nft::Nftables, Backend, BackendError, LogOnly};
use crate::config::{BackendKind, GuardConfig, JournalMatch, Ports};
use crate::engine::{default_allow, Engine, EngineError};
use crate::events::Event;
use crate::filters::Input;
use crate::jail::{Decision, Outcome};
use crate::metrics::{Metric, Metrics};
use crate::source::file::FileSources;
use crate::source::journal::{journalctl_args, JournalSource};
use crate::state::{self, BanRecord, StateDir, StateError};
use crate::time::Clock;
use jiff::Timestamp;
use rustix::event::{PollFd, PollFlags, Timespec};
use std::collections::BTreeMap;
use std::os::unix::net::UnixListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The daemon could not start or stopped on an error.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// The jails could not be built.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The state directory could not be used.
    #[error(transparent)]
    State(#[from] StateError),
    /// The firewall could not be set up.
    #[error("setting up the firewall: {0}")]
    Backend(#[from] BackendError),
    /// A socket could not be opened.
    #[error("{what} {path}: {source}")]
    Socket {
        what: &'static str,
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The time zone is unknown.
    #[error("unknown time zone `{0}`")]
    TimeZone(String),
}

/// How often state is saved at most.
const SAVE_EVERY: Duration = Duration::from_secs(2);
/// How long to wait before restarting a journalctl that exited.
const JOURNAL_RESTART: Duration = Duration::from_secs(2);

struct Journal {
    source: Option<JournalSource>,
    consumers: Vec<(usize, JournalMatch)>,
    args_cursor: Option<String>,
    restart_at: Instant,
}

/// The running daemon.
pub struct Daemon {
    cfg: GuardConfig,
    state: StateDir,
    engine: Engine,
    backend: Box<dyn Backend>,
    files: FileSources,
    journal: Option<Journal>,
    active: BTreeMap<(String, crate::addr::Cidr), BanRecord>,
    metrics: Metrics,
    clock: Clock,
    listener: UnixListener,
    http: Option<std::net::TcpListener>,
    bans_dirty: bool,
    last_save: Instant,
    last_textfile: Instant,
}

fn record_of(d: &Decision) -> BanRecord {
    BanRecord {
        jail: d.jail.to_string(),
        target: d.target,
        at: d.at,
        until: d.until,
        count: d.count,
        ports: match &d.ports {
            Ports::All => Vec::new(),
            Ports::Some(p) => p.clone(),
        },
    }
}

impl Daemon {
    /// Sets everything up: state, jails, firewall (with the saved bans restored in one
    /// transaction), sources, sockets.
    pub fn start(cfg: GuardConfig) -> Result<Daemon, DaemonError> {
        let g = &cfg.global;
        let clock = match &g.timezone {
            Some(z) => Clock::in_zone(z, Timestamp::now())
                .ok_or_else(|| DaemonError::TimeZone(z.clone()))?,
            None => Clock::system(),
        };
        let state = StateDir::open(&g.state_dir)?;
        let mut engine = Engine::from_config(&cfg, &default_allow(g.allow_self))?;
        let mut metrics = Metrics::default();
        let now = Timestamp::now();
        let saved = state.bans().unwrap_or_else(|e| {
            tracing::error!(error = %e, "saved bans unreadable, starting without them");
            Vec::new()
        });
        let restore: Vec<BanRecord> = saved.into_iter().filter(|b| b.until > now).collect();
        let mut backend: Box<dyn Backend> = match g.backend {
            BackendKind::Nftables => Box::new(Nftables::new(g.nft.clone(), &g.nft_table)),
            BackendKind::Log => Box::new(LogOnly),
        };
        backend.start(&restore)?;
        Event::BackendApplied {
            op: "start",
            elements: restore.len(),
        }
        .emit(&mut metrics);
        Event::Restored {
            count: restore.len(),
        }
        .emit(&mut metrics);
        let mut active = BTreeMap::new();
        for b in restore {
            if let Some(i) = engine.index(&b.jail) {
                engine.jails[i]
                    .jail
                    .restore(b.target, b.until, b.count, b.at);
            }
            active.insert((b.jail.clone(), b.target), b);
        }
        let mut patterns: Vec<(String, Vec<usize>)> = Vec::new();
        let mut consumers = Vec::new();
        for (i, j) in engine.jails.iter().enumerate() {
            for p in &j.config.logpath {
                match patterns.iter_mut().find(|(q, _)| q == p) {
                    Some((_, v)) => v.push(i),
                    None => patterns.push((p.clone(), vec![i])),
                }
            }
            if let Some(m) = &j.config.journal {
                consumers.push((i, m.clone()));
            }
        }
        let offsets = state.offsets().unwrap_or_else(|e| {
            tracing::error!(error = %e, "saved offsets unreadable, reading files from the start");
            BTreeMap::new()
        });
        let files = FileSources::new(patterns, offsets);
        let journal = (!consumers.is_empty()).then(|| Journal {
            source: None,
            consumers,
            args_cursor: state.cursor().ok().flatten(),
            restart_at: Instant::now(),
        });
        let listener = control::bind(&g.socket)?;
        let http = match &g.metrics_listen {
            Some(addr) => Some(http::bind(addr)?),
            None => None,
        };
        Ok(Daemon {
            cfg,
            state,
            engine,
            backend,
            files,
            journal,
            active,
            metrics,
            clock,
            listener,
            http,
            bans_dirty: false,
            last_save: Instant::now(),
            last_textfile: Instant::now() - Duration::from_secs(3600),
        })
    }

    /// Runs until `stop` is set, then saves state.
    pub fn run(mut self, stop: &Arc<AtomicBool>) -> Result<(), DaemonError> {
        tracing::info!(
            jails = self.engine.jails.len(),
            files = self.files.len(),
            journal = self.journal.is_some(),
            backend = self.backend.name(),
            "rempart guard started"
        );
        while !stop.load(Ordering::Relaxed) {
            self.tick();
            self.wait();
        }
        self.save(true);
        let _ = std::fs::remove_file(&self.cfg.global.socket);
        tracing::info!("rempart guard stopped");
        Ok(())
    }

    /// One pass: read, decide, apply, answer, expire, save.
    pub fn tick(&mut self) {
        let now = Timestamp::now();
        self.clock.set_now(now);
        self.files.drain_events();
        self.files.rescan();
        let mut decisions = Vec::new();
        self.read_files(now, &mut decisions);
        self.read_journal(now, &mut decisions);
        self.apply(decisions, false);
        self.expire(now);
        control::serve(self);
        if let Some(l) = &self.http {
            if let Ok((s, _)) = l.accept() {
                self.refresh_gauges();
                http::answer(s, &self.metrics.render());
            }
        }
        self.save(false);
    }

    fn read_files(&mut self, now: Timestamp, decisions: &mut Vec<Decision>) {
        let Daemon {
            files,
            engine,
            clock,
            metrics,
            ..
        } = self;
        let before = files.stats;
        files.read(&mut |consumers, text| {
            let mut input = Input::line(text);
            if consumers.len() > 1 {
                input = input.split();
            }
            for &idx in consumers {
                feed(engine, metrics, idx, &input, clock, now, decisions);
            }
        });
        let after = files.stats;
        metrics.add(Metric::SourceLines, "file", after.lines - before.lines);
        metrics.add(
            Metric::TruncatedLines,
            "",
            after.truncated - before.truncated,
        );
        metrics.add(Metric::Rotations, "", after.rotations - before.rotations);
    }

    fn read_journal(&mut self, now: Timestamp, decisions: &mut Vec<Decision>) {
        let Daemon {
            journal,
            engine,
            clock,
            metrics,
            cfg,
            ..
        } = self;
        let Some(j) = journal else { return };
        if j.source.is_none() && Instant::now() >= j.restart_at {
            let matches: Vec<&JournalMatch> = j.consumers.iter().map(|(_, m)| m).collect();
            let args = journalctl_args(
                &matches,
                j.args_cursor.as_deref(),
                cfg.global.journal_directory.as_ref(),
            );
            match JournalSource::spawn(&cfg.global.journalctl, &args, j.args_cursor.clone()) {
                Ok(s) => j.source = Some(s),
                Err(e) => {
                    tracing::error!(error = %e, "cannot start journalctl");
                    j.restart_at = Instant::now() + JOURNAL_RESTART;
                }
            }
        }
        let Some(src) = &mut j.source else { return };
        let consumers = &j.consumers;
        let mut n = 0;
        let alive = src.read(&mut |e| {
            n += 1;
            let line = e.line();
            let mut input = Input::new(&line, Some(e.time.unwrap_or(now)));
            if consumers.len() > 1 {
                input = input.split();
            }
            for (idx, m) in consumers {
                if e.selected_by(m) {
                    feed(engine, metrics, *idx, &input, clock, now, decisions);
                }
            }
        });
        metrics.add(Metric::SourceLines, "journal", n);
        j.args_cursor = src.cursor.clone();
        if !matches!(alive, Ok(true)) {
            tracing::warn!("journalctl exited; restarting it");
            j.source = None;
            j.restart_at = Instant::now() + JOURNAL_RESTART;
        }
    }

    /// Applies decisions (and the recidive bans they cause) in one transaction.
    fn apply(&mut self, mut decisions: Vec<Decision>, manual: bool) {
        if decisions.is_empty() {
            return;
        }
        let mut i = 0;
        while i < decisions.len() {
            let more = self.engine.feed_ban(&decisions[i]);
            decisions.extend(more);
            i += 1;
        }
        let now = Timestamp::now();
        let records: Vec<BanRecord> = decisions
            .iter()
            .filter(|d| d.until > now)
            .map(record_of)
            .collect();
        if records.is_empty() {
            return;
        }
        match self.backend.ban(&records) {
            Ok(()) => {
                Event::BackendApplied {
                    op: "ban",
                    elements: records.len(),
                }
                .emit(&mut self.metrics);
                for r in records {
                    Event::Banned { ban: &r, manual }.emit(&mut self.metrics);
                    self.active.insert((r.jail.clone(), r.target), r);
                }
                self.bans_dirty = true;
            }
            Err(e) => Event::BackendFailed {
                op: "ban",
                error: e.to_string(),
            }
            .emit(&mut self.metrics),
        }
    }

    fn expire(&mut self, now: Timestamp) {
        let done: Vec<_> = self
            .active
            .iter()
            .filter(|(_, b)| b.until <= now)
            .map(|(k, _)| k.clone())
            .collect();
        for k in done {
            if let Some(b) = self.active.remove(&k) {
                Event::Unbanned {
                    ban: &b,
                    manual: false,
                }
                .emit(&mut self.metrics);
                self.bans_dirty = true;
            }
        }
    }

    fn refresh_gauges(&mut self) {
        let manual = self.active.keys().filter(|(jn, _)| jn == "manual").count();
        if manual > 0 || self.metrics.get(Metric::Bans, "manual") > 0 {
            self.metrics
                .set(Metric::ActiveBans, "manual", manual as u64);
        }
        for j in &self.engine.jails {
            let name = &*j.jail.spec().name;
            self.metrics.set(Metric::Lines, name, j.lines);
            self.metrics.set(Metric::Matches, name, j.matches);
            self.metrics
                .set(Metric::TrackedHosts, name, j.jail.tracked() as u64);
            let active = self.active.keys().filter(|(jn, _)| jn == name).count();
            self.metrics.set(Metric::ActiveBans, name, active as u64);
        }
    }

    fn save(&mut self, force: bool) {
        let due = self.last_save.elapsed() >= SAVE_EVERY;
        if force || due {
            if let Err(e) = self.state.save_offsets(&self.files.offsets()) {
                tracing::error!(error = %e, "saving offsets");
            }
            if let Some(c) = self.journal.as_ref().and_then(|j| j.args_cursor.as_deref()) {
                if let Err(e) = self.state.save_cursor(c) {
                    tracing::error!(error = %e, "saving the journal cursor");
                }
            }
            if self.bans_dirty {
                let bans: Vec<BanRecord> = self.active.values().cloned().collect();
                match self.state.save_bans(&bans) {
                    Ok(()) => self.bans_dirty = false,
                    Err(e) => tracing::error!(error = %e, "saving bans"),
                }
            }
            self.last_save = Instant::now();
        }
        if let Some(path) = self.cfg.global.metrics_textfile.clone() {
            if force || self.last_textfile.elapsed() >= self.cfg.global.metrics_interval {
                self.refresh_gauges();
                if let Err(e) = state::write_atomic(&path, self.metrics.render().as_bytes()) {
                    tracing::error!(error = %e, path = %path.display(), "writing the metrics textfile");
                }
                self.last_textfile = Instant::now();
            }
        }
    }

    /// Sleeps until a source or socket is ready, or the poll interval passes.
    fn wait(&mut self) {
        let interval = self.cfg.global.poll_interval.min(SAVE_EVERY);
        let ts = Timespec {
            tv_sec: interval.as_secs() as i64,
            tv_nsec: i64::from(interval.subsec_nanos()),
        };
        let mut fds: Vec<PollFd<'_>> = Vec::with_capacity(4);
        if let Some(fd) = self.files.fd() {
            fds.push(PollFd::from_borrowed_fd(fd, PollFlags::IN));
        }
        if let Some(src) = self.journal.as_ref().and_then(|j| j.source.as_ref()) {
            fds.push(PollFd::from_borrowed_fd(src.fd(), PollFlags::IN));
        }
        use rustix::fd::AsFd;
        fds.push(PollFd::from_borrowed_fd(
            self.listener.as_fd(),
            PollFlags::IN,
        ));
        if let Some(h) = &self.http {
            fds.push(PollFd::from_borrowed_fd(h.as_fd(), PollFlags::IN));
        }
        let _ = rustix::event::poll(&mut fds, Some(&ts));
    }
}

/// Feeds one line to one jail and keeps the decision, if any.
fn feed(
    engine: &mut Engine,
    metrics: &mut Metrics,
    idx: usize,
    input: &Input<'_>,
    clock: &Clock,
    now: Timestamp,
    decisions: &mut Vec<Decision>,
) {
    let fed = engine.feed(idx, input, clock, now);
    match (fed.outcome, &fed.failure) {
        (Some(Outcome::Ban(d)), _) => decisions.push(d),
        (Some(Outcome::NotAnAddress), Some(f)) => {
            let jail = engine.jails[idx].jail.spec().name.clone();
            Event::NotAnAddress {
                jail: &jail,
                host: &f.host.to_string(),
            }
            .emit(metrics);
        }
        _ => {}
    }
}

/// Runs the daemon with `cfg` until `stop` is set.
pub fn run(cfg: GuardConfig, stop: &Arc<AtomicBool>) -> Result<(), DaemonError> {
    Daemon::start(cfg)?.run(stop)
}
