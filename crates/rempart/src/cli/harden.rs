//! `rempart harden`: plan, apply, confirm, roll back and list the fixes of failing rules.

use super::audit::{load_config, open_host, parse_level};
use anyhow::{bail, Context};
use clap::Subcommand;
use rempart_audit::{AuditOptions, Host, Level, Selector};
use rempart_harden::apply::{self, ApplyOptions};
use rempart_harden::journal::Journal;
use rempart_harden::lockout::{self, Client};
use rempart_harden::validate::Check;
use rempart_harden::{FileChange, Plan, Safety};
use std::io::{self, Write};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub what: What,
}

#[derive(Debug, clap::Args)]
pub struct Target {
    /// Work on this root tree instead of the live host (nothing is reloaded).
    #[arg(long, value_name = "DIR", global = true)]
    pub root: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub target: Target,
    /// Security level whose failing rules are fixed [default: the config file's, else sme].
    #[arg(long, value_parser = parse_level)]
    pub profile: Option<Level>,
    /// Fix only these rules or families (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
    /// Configuration file.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print the plan as JSON.
    #[arg(long)]
    pub json: bool,
    /// The address the admin connects from, checked to stay allowed by unsafe fixes [default:
    /// the client of SSH_CONNECTION on a live host].
    #[arg(long, value_name = "IP")]
    pub admin_address: Option<std::net::IpAddr>,
}

#[derive(Debug, clap::Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub plan: PlanArgs,
    /// Also apply fixes that can cut remote access (still refused unless access remains).
    #[arg(long = "unsafe")]
    pub allow_unsafe: bool,
    /// Keep the changes only if `rempart harden confirm` runs within this time (e.g. 5m);
    /// default 5m for unsafe changes on a live host.
    #[arg(long, value_parser = humantime::parse_duration)]
    pub confirm_within: Option<Duration>,
    /// Do not reload the services concerned.
    #[arg(long)]
    pub no_reload: bool,
}

#[derive(Debug, Subcommand)]
pub enum What {
    /// Show the fixes for the failing rules, with a diff per file. Changes nothing.
    Plan(PlanArgs),
    /// Apply the plan (atomic writes, journal, checkers, reloads).
    Apply(ApplyArgs),
    /// Keep a change applied with --confirm-within.
    Confirm(Target),
    /// Restore the files of a run (the newest by default) byte for byte.
    Rollback {
        /// Run id (`rempart harden history`).
        run: Option<String>,
        #[command(flatten)]
        target: Target,
    },
    /// List the runs.
    History(Target),
    /// List the rules that have an automatic fix.
    Fixes,
    /// Wait for a pending run's deadline and roll it back unless confirmed (started detached
    /// by `apply --confirm-within`).
    #[command(hide = true)]
    Watchdog {
        #[arg(long)]
        run: String,
        #[command(flatten)]
        target: Target,
    },
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    match args.what {
        What::Plan(a) => {
            let (host, plan) = make_plan(&a)?;
            let _ = host;
            print_plan(&plan, a.json)?;
            Ok(u8::from(!plan.is_empty()))
        }
        What::Apply(a) => apply_cmd(a),
        What::Confirm(t) => {
            let host = open_host(t.root.as_ref())?;
            let j = apply::confirm(&host)?;
            println!("run {} confirmed: its changes are kept", j.run);
            Ok(0)
        }
        What::Rollback { run, target } => {
            let host = open_host(target.root.as_ref())?;
            let (j, drifted) = apply::rollback(&host, run.as_deref())?;
            println!(
                "run {} rolled back: {} files restored",
                j.run,
                j.entries.len()
            );
            for p in drifted {
                println!("  note: {p} had been changed since the apply; the original was restored anyway");
            }
            Ok(0)
        }
        What::History(t) => {
            let host = open_host(t.root.as_ref())?;
            let mut out = io::stdout().lock();
            for j in Journal::list(&host)? {
                let apt = if j.packages.is_empty() {
                    String::new()
                } else {
                    format!("  apt: {}", j.packages.join(" "))
                };
                writeln!(
                    out,
                    "{}  {:<12} {:>3} files  {}{apt}",
                    j.run,
                    format!("{:?}", j.status).to_lowercase(),
                    j.entries.len(),
                    j.rules.join(", ")
                )?;
            }
            Ok(0)
        }
        What::Fixes => {
            let mut out = io::stdout().lock();
            for (id, _) in rempart_harden::fixes::FIXES {
                writeln!(out, "{id}")?;
            }
            Ok(0)
        }
        What::Watchdog { run, target } => {
            let host = open_host(target.root.as_ref())?;
            let j = Journal::load(&host, &run)?;
            if let Some(deadline) = j.deadline {
                let now = jiff::Timestamp::now().as_second();
                if deadline > now {
                    std::thread::sleep(Duration::from_secs((deadline - now) as u64));
                }
            }
            let rolled = apply::expire(&host, &run)?;
            eprintln!(
                "rempart harden watchdog: run {run} {}",
                if rolled {
                    "was not confirmed in time: rolled back"
                } else {
                    "was confirmed or already rolled back"
                }
            );
            Ok(0)
        }
    }
}

fn make_plan(a: &PlanArgs) -> anyhow::Result<(Host, Plan)> {
    let host = open_host(a.target.root.as_ref())?;
    let config = load_config(&host, a.config.as_ref())?;
    let only = a
        .only
        .iter()
        .filter(|s| !s.trim().is_empty())
        .map(|s| Selector::parse(s).map_err(anyhow::Error::msg))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let opts = AuditOptions {
        profile: a.profile.or(config.profile).unwrap_or(Level::Sme),
        only,
        ..AuditOptions::default()
    };
    let client = admin_client(&host, a.admin_address);
    let (mut plan, _report) =
        rempart_harden::plan::plan_for(&host, &config, &opts, client.clone())?;
    if !plan.unsafe_fixes().is_empty() {
        let access = lockout::check(&host, &config, &plan, client.as_ref())
            .context("cannot check that access remains after the plan")?;
        plan.access = Some(access);
    }
    Ok((host, plan))
}

/// Where the admin connects from: `--admin-address`, else `SSH_CONNECTION` on the live host
/// (under `--root` the session has nothing to do with the tree).
fn admin_client(host: &Host, given: Option<std::net::IpAddr>) -> Option<Client> {
    if let Some(addr) = given {
        return Some(Client {
            addr,
            server_addr: None,
            server_port: None,
        });
    }
    if !host.is_live() || host.root() != std::path::Path::new("/") {
        return None;
    }
    std::env::var("SSH_CONNECTION")
        .ok()
        .and_then(|v| Client::from_ssh_connection(&v))
}

fn print_plan(plan: &Plan, json: bool) -> anyhow::Result<()> {
    let mut out = io::stdout().lock();
    if json {
        let mut shown = plan.clone();
        shown.changes = plan.changes.iter().map(FileChange::redacted).collect();
        serde_json::to_writer_pretty(&mut out, &shown)?;
        writeln!(out)?;
        return Ok(());
    }
    writeln!(
        out,
        "Plan for {} ({}): {} fixes, {} files",
        plan.root,
        if plan.live { "live host" } else { "root tree" },
        plan.fixes.len(),
        plan.changes.len()
    )?;
    if !plan.packages.is_empty() {
        let names: Vec<&str> = plan.packages.iter().map(|p| p.name.as_str()).collect();
        writeln!(
            out,
            "Packages apt installs first: {} (apt-get install --no-install-recommends; rollback \
             purges them)",
            names.join(" ")
        )?;
        for p in &plan.packages {
            writeln!(out, "  {:<22} for {}", p.name, p.rules.join(", "))?;
        }
    }
    for a in &plan.actions {
        writeln!(out, "Live: {} ({})", a.describe(), a.rule)?;
    }
    for f in &plan.fixes {
        let safety = match &f.safety {
            Safety::Safe => "safe".to_string(),
            Safety::Unsafe(why) => format!("UNSAFE ({why})"),
        };
        writeln!(out, "  {:<22} {safety}: {}", f.rule, f.summary)?;
    }
    if let Some(access) = &plan.access {
        let from = access
            .client
            .as_ref()
            .map(|c| format!(" (admin connecting from {})", c.addr))
            .unwrap_or_default();
        if access.ok {
            writeln!(out, "Access after the plan{from}: remains")?;
        } else {
            writeln!(out, "Access after the plan{from}: NOT SHOWN")?;
        }
        for m in &access.missing {
            writeln!(out, "  missing: {m}")?;
        }
        for c in &access.checked {
            writeln!(out, "  ok: {c}")?;
        }
    }
    if !plan.skipped.is_empty() {
        writeln!(out, "Not fixed automatically:")?;
        for s in &plan.skipped {
            writeln!(out, "  {:<22} {}", s.rule, s.reason)?;
        }
    }
    for c in &plan.changes {
        writeln!(out)?;
        write!(out, "{}", c.diff())?;
    }
    Ok(())
}

fn apply_cmd(a: ApplyArgs) -> anyhow::Result<u8> {
    let (host, plan) = make_plan(&a.plan)?;
    if let Some(run) = apply::pending_run(&host)? {
        bail!("run {run} is waiting for `rempart harden confirm` (or `rempart harden rollback`) first");
    }
    if plan.is_empty() {
        print_plan(&plan, false)?;
        println!("Nothing to apply.");
        return Ok(0);
    }
    let unsafe_fixes = plan.unsafe_fixes();
    if !unsafe_fixes.is_empty() && !a.allow_unsafe {
        print_plan(&plan, false)?;
        bail!(
            "refused: {} can cut remote access; re-run with --unsafe (access is checked first, and a live host gets confirm-or-revert)",
            unsafe_fixes.iter().map(|f| f.rule.as_str()).collect::<Vec<_>>().join(", ")
        );
    }
    if let Some(access) = plan.access.as_ref().filter(|a| !a.ok) {
        print_plan(&plan, false)?;
        bail!(
            "refused: {} can cut remote access and the plan does not show that access remains (--unsafe does not override this):\n{}",
            unsafe_fixes.iter().map(|f| f.rule.as_str()).collect::<Vec<_>>().join(", "),
            access.missing.iter().map(|m| format!("  - {m}")).collect::<Vec<_>>().join("\n")
        );
    }
    let confirm_within = match a.confirm_within {
        Some(d) => Some(d.as_secs().max(1)),
        None if !unsafe_fixes.is_empty() && host.is_live() => Some(300),
        None => None,
    };
    let failpoint: Option<usize> = std::env::var("REMPART_HARDEN_FAILPOINT")
        .ok()
        .and_then(|v| v.parse().ok());
    let pause: Option<usize> = std::env::var("REMPART_HARDEN_PAUSE_AFTER")
        .ok()
        .and_then(|v| v.parse().ok());
    // Fault injection for the tests: a crash (abort) or a long pause (for kill -9) right after
    // the n-th file is written, before the journal records it.
    let hook = move |n: usize| {
        if Some(n) == failpoint {
            std::process::abort();
        }
        if Some(n) == pause {
            std::thread::sleep(Duration::from_secs(60));
        }
    };
    let opts = ApplyOptions {
        reload: !a.no_reload,
        confirm_within,
        after_write: Some(&hook),
        check: std::env::var_os("REMPART_HARDEN_NO_CHECK").is_none(),
    };
    print_plan(&plan, false)?;
    let applied = rempart_harden::apply(&host, &plan, &opts)?;
    if !applied.journal.installed.is_empty() {
        println!("apt installed: {}", applied.journal.installed.join(" "));
    }
    let mut refused = 0;
    for g in &applied.groups {
        match &g.check {
            Check::Failed(msg) => {
                refused += 1;
                println!(
                    "{}: the checker refused the change; it was undone:\n{msg}",
                    g.group.name()
                );
            }
            Check::Passed(_) => println!("{}: checked", g.group.name()),
            Check::NotChecked(why) => println!("{}: not checked ({why})", g.group.name()),
        }
        if let Some((cmd, res)) = &g.reload {
            match res {
                Ok(()) => println!("  reloaded: {cmd}"),
                Err(e) => println!("  reload failed: {e}"),
            }
        }
        if let Some(n) = g.note {
            println!("  note: {n}");
        }
    }
    println!(
        "run {} recorded; `rempart harden rollback {}` undoes it",
        applied.journal.run, applied.journal.run
    );
    if let Some(secs) = confirm_within {
        spawn_watchdog(&host, &applied.journal.run, a.plan.target.root.as_ref())
            .context("cannot start the confirm-or-revert watchdog; rolling back")
            .inspect_err(|_| {
                let _ = apply::rollback(&host, Some(&applied.journal.run));
            })?;
        println!(
            "Confirm within {secs} s from a NEW session (it proves the way in still works): rempart harden confirm{}",
            a.plan.target.root.as_ref().map(|r| format!(" --root {}", r.display())).unwrap_or_default()
        );
        println!("Without it, the changes are rolled back by themselves.");
    }
    Ok(if refused > 0 { 2 } else { 0 })
}

/// Start the watchdog detached from this session (`setsid`), so it survives the SSH session
/// that applied the change being cut.
fn spawn_watchdog(_host: &Host, run: &str, root: Option<&PathBuf>) -> anyhow::Result<()> {
    let exe = std::env::current_exe().context("cannot find the rempart executable")?;
    let mut cmd = std::process::Command::new("setsid");
    cmd.arg("-f")
        .arg(exe)
        .args(["harden", "watchdog", "--run", run]);
    if let Some(r) = root {
        cmd.arg("--root").arg(r);
    }
    cmd.stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let status = cmd.status().context("setsid")?;
    if !status.success() {
        bail!("setsid exited with {status}");
    }
    Ok(())
}
