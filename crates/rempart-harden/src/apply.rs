//! Apply a plan: record every original in the run journal first (the archive the guides make
//! mandatory), install the plan's packages with apt, then write each file atomically, group by group, run the software's checker on
//! each group and undo a group it refuses, then reload the services concerned (live host only).

use crate::change::FileState;
use crate::journal::{self, Entry, EntryState, Journal, RunStatus};
use crate::packages::{self, Installer};
use crate::plan::Plan;
use crate::validate::{self, Check, Group};
use crate::HardenError;
use rempart_audit::host::Host;
use std::collections::BTreeMap;

/// How to apply.
pub struct ApplyOptions<'a> {
    /// Reload the services concerned on a live host.
    pub reload: bool,
    /// Seconds the admin has to run `harden confirm`; `None` keeps the changes at once.
    pub confirm_within: Option<u64>,
    /// Called after each file is written and before the journal records it, with the number of
    /// files written so far: tests inject crashes here.
    pub after_write: Option<&'a dyn Fn(usize)>,
    /// Run the software's checkers.
    pub check: bool,
}

impl std::fmt::Debug for ApplyOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApplyOptions")
            .field("reload", &self.reload)
            .field("confirm_within", &self.confirm_within)
            .field("check", &self.check)
            .finish()
    }
}

/// What happened to one group of files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupResult {
    pub group: Group,
    pub paths: Vec<String>,
    pub check: Check,
    /// True when the checker refused the change and it was undone.
    pub undone: bool,
    /// The reload run, and its error if it failed.
    pub reload: Option<(String, Result<(), String>)>,
    pub note: Option<&'static str>,
}

/// The result of an apply.
#[derive(Debug, Clone)]
pub struct Applied {
    pub journal: Journal,
    pub groups: Vec<GroupResult>,
}

/// Apply `plan` to `host`. The plan must have been computed on the same host: a file changed
/// since is refused before anything is written.
pub fn apply(host: &Host, plan: &Plan, opts: &ApplyOptions) -> Result<Applied, HardenError> {
    if plan.is_empty() {
        return Err(HardenError::NothingToDo);
    }
    // Nothing may have moved since the plan was made.
    for c in &plan.changes {
        let now = journal::current_state(host, &c.path)?;
        if now != c.before {
            return Err(HardenError::Conflict {
                path: c.path.clone(),
                reason: "changed since the plan was made; plan again".into(),
            });
        }
    }
    if let Some(pending) = pending_run(host)? {
        return Err(HardenError::Pending(pending));
    }
    let mut j = Journal {
        run: journal::new_run_id(),
        root: plan.root.clone(),
        live: plan.live,
        created: jiff::Timestamp::now().to_string(),
        status: RunStatus::Recorded,
        deadline: None,
        rules: plan.fixes.iter().map(|f| f.rule.clone()).collect(),
        entries: plan
            .changes
            .iter()
            .map(|c| Entry {
                change: c.clone(),
                state: EntryState::Planned,
                created_dirs: Vec::new(),
                refused: None,
            })
            .collect(),
        packages: plan.packages.iter().map(|p| p.name.clone()).collect(),
        installed: Vec::new(),
        actions: Vec::new(),
    };
    // The archive: every original recorded and synced before the first change.
    j.save(host)?;
    j.status = RunStatus::Applying;
    j.save(host)?;
    if !j.packages.is_empty() {
        install_packages(host, &mut j)?;
    }

    let mut groups: BTreeMap<Group, Vec<usize>> = BTreeMap::new();
    for (i, e) in j.entries.iter().enumerate() {
        groups.entry(Group::of(&e.change.path)).or_default().push(i);
    }
    let mut results = Vec::new();
    let mut written = 0usize;
    for (group, idx) in groups {
        for &i in &idx {
            let path = j.entries[i].change.path.clone();
            let after = j.entries[i].change.after.clone();
            if after != FileState::Absent {
                j.entries[i].created_dirs = journal::missing_parents(host, &path);
            }
            j.entries[i].state = EntryState::Writing;
            j.save(host)?;
            journal::write_state(host, &path, &after)?;
            written += 1;
            if let Some(hook) = opts.after_write {
                hook(written);
            }
            j.entries[i].state = EntryState::Written;
            j.save(host)?;
        }
        let paths: Vec<String> = idx
            .iter()
            .map(|&i| j.entries[i].change.path.clone())
            .collect();
        let check = if opts.check {
            validate::check(host, group)
        } else {
            Check::NotChecked("checkers disabled".into())
        };
        let mut undone = false;
        if let Check::Failed(msg) = &check {
            for &i in idx.iter().rev() {
                let e = &mut j.entries[i];
                journal::write_state(host, &e.change.path, &e.change.before)?;
                e.state = EntryState::Undone;
                e.refused = Some(msg.clone());
            }
            j.save(host)?;
            undone = true;
        }
        let mut reload = None;
        let mut note = None;
        if !undone && host.is_live() && host.root() == std::path::Path::new("/") {
            if let Some((argv, n)) = validate::reload_command(group, &paths) {
                note = n;
                if opts.reload && !argv.is_empty() {
                    reload = Some((argv.join(" "), validate::reload(&argv)));
                }
            }
        }
        results.push(GroupResult {
            group,
            paths,
            check,
            undone,
            reload,
            note,
        });
    }
    if let Err(e) = run_actions(host, plan, &mut j) {
        journal::restore(host, &mut j)?;
        return Err(HardenError::Refused(format!(
            "{e} (the run is rolled back: files and passwords are as before)"
        )));
    }
    match opts.confirm_within {
        Some(secs) => {
            j.status = RunStatus::Pending;
            j.deadline = Some(jiff::Timestamp::now().as_second() + secs as i64);
            j.save(host)?;
            set_pending(host, Some(&j.run))?;
        }
        None => {
            j.status = RunStatus::Applied;
            j.save(host)?;
        }
    }
    Ok(Applied {
        journal: j,
        groups: results,
    })
}

/// apt installs the plan's packages first, so the software's checkers exist when its files are
/// written (a conffile the package ships and the plan writes is kept as the plan's: dpkg keeps
/// files already on disk, and the plan's are written after). If apt fails, what it did install
/// is purged and the run ends there, rolled back.
fn install_packages(host: &Host, j: &mut Journal) -> Result<(), HardenError> {
    let installer = Installer::of(host).map_err(HardenError::Refused)?;
    let before = packages::installed_now(host).map_err(HardenError::Read)?;
    let result = installer.install(&j.packages);
    let after = packages::installed_now(host).map_err(HardenError::Read)?;
    j.installed = after.difference(&before).cloned().collect();
    j.save(host)?;
    if let Err(e) = result {
        journal::restore(host, j)?;
        return Err(HardenError::Refused(format!(
            "apt could not install {}: {e} (nothing was written; what apt had installed is              purged)",
            j.packages.join(" ")
        )));
    }
    Ok(())
}

/// Runs the plan's live actions once the files are written, each journaled (with the state it
/// replaces) before it runs.
fn run_actions(host: &Host, plan: &Plan, j: &mut Journal) -> Result<(), HardenError> {
    for a in &plan.actions {
        let previous = crate::live::pg_verifier(host, &a.socket, a.port, &a.role)
            .map_err(HardenError::Refused)?;
        j.actions.push(crate::live::ActionRecord {
            rule: a.rule.clone(),
            socket: a.socket.clone(),
            port: a.port,
            role: a.role.clone(),
            previous: Some(previous),
            done: false,
        });
        j.save(host)?;
        crate::live::pg_set_password(host, &a.socket, a.port, &a.role, Some(&a.password))
            .map_err(HardenError::Refused)?;
        if let Some(last) = j.actions.last_mut() {
            last.done = true;
        }
        j.save(host)?;
    }
    Ok(())
}

const PENDING: &str = "/var/lib/rempart/harden/pending";

/// The run waiting for confirmation, if any.
pub fn pending_run(host: &Host) -> Result<Option<String>, HardenError> {
    match host.read_text(PENDING) {
        Ok(Some(f)) => Ok(Some(f.text.trim().to_string()).filter(|s| !s.is_empty())),
        Ok(None) => Ok(None),
        Err(e) => Err(HardenError::Read(e.to_string())),
    }
}

fn set_pending(host: &Host, run: Option<&str>) -> Result<(), HardenError> {
    let state = match run {
        Some(r) => FileState::File {
            content: format!("{r}\n").into_bytes(),
            mode: 0o600,
            uid: journal_owner().0,
            gid: journal_owner().1,
        },
        None => FileState::Absent,
    };
    journal::write_state(host, PENDING, &state)?;
    Ok(())
}

fn journal_owner() -> (u32, u32) {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self")
        .map(|m| (m.uid(), m.gid()))
        .unwrap_or((0, 0))
}

/// Keep the pending run.
pub fn confirm(host: &Host) -> Result<Journal, HardenError> {
    let run = pending_run(host)?.ok_or(HardenError::NothingPending)?;
    let mut j = Journal::load(host, &run)?;
    j.status = RunStatus::Confirmed;
    j.deadline = None;
    j.save(host)?;
    set_pending(host, None)?;
    Ok(j)
}

/// Roll back a run (the newest by default). Returns the journal and the paths that had been
/// changed by someone else since the apply (restored anyway).
pub fn rollback(host: &Host, run: Option<&str>) -> Result<(Journal, Vec<String>), HardenError> {
    let run = match run {
        Some(r) => r.to_string(),
        None => Journal::list(host)?
            .into_iter()
            .rev()
            .find(|j| j.status != RunStatus::RolledBack)
            .map(|j| j.run)
            .ok_or(HardenError::NothingToRollBack)?,
    };
    let mut j = Journal::load(host, &run)?;
    let drifted = journal::restore(host, &mut j)?;
    if pending_run(host)?.as_deref() == Some(run.as_str()) {
        set_pending(host, None)?;
    }
    Ok((j, drifted))
}

/// The watchdog's decision at the deadline: roll back the pending run unless it was confirmed.
/// Returns true when it rolled back.
pub fn expire(host: &Host, run: &str) -> Result<bool, HardenError> {
    let j = Journal::load(host, run)?;
    if j.status != RunStatus::Pending {
        return Ok(false);
    }
    rollback(host, Some(run))?;
    Ok(true)
}
