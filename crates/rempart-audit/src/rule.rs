//! What a rule is: its identity and documentation, and the pure check function that turns facts
//! into an [`Outcome`]. Also the per-run fact cache rules read through ([`Ctx::fact`]).

use crate::config::AuditConfig;
use crate::host::{Host, HostError};
use crate::model::{Evidence, Family, Level, Severity, Status};
use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// The documentation every rule carries. `rempart explain ID` prints it; `docs/rules/` is
/// generated from it.
#[derive(Debug, Clone, Copy)]
pub struct RuleDoc {
    /// What the rule checks, precisely enough to predict its verdict.
    pub what: &'static str,
    /// Why it matters: the attack or accident it prevents.
    pub why: &'static str,
    /// How to fix it by hand.
    pub remediation: &'static str,
    /// A command a person can run to verify the fix.
    pub verify: &'static str,
    /// Seed guide sections, CIS items, man pages.
    pub references: &'static [&'static str],
}

/// One rule of the catalogue.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// Stable id (`SSH-ROOT-LOGIN`), never reused for another meaning.
    pub id: &'static str,
    /// Kebab-case name of the bad state (`root-login-allowed`).
    pub name: &'static str,
    pub family: Family,
    pub severity: Severity,
    /// The lowest security level that requires this rule.
    pub level: Level,
    /// One-line title of the good state, used in reports.
    pub title: &'static str,
    pub doc: RuleDoc,
    pub check: fn(&Ctx) -> Outcome,
}

/// The verdict of one rule, with what it saw.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub status: Status,
    pub message: String,
    pub evidence: Vec<Evidence>,
    /// False when the rule does not apply to this host (no sshd installed, no Docker ...). Such
    /// outcomes never count in the score and are never shown as warnings.
    pub applicable: bool,
}

impl Outcome {
    fn new(status: Status, message: impl Into<String>) -> Outcome {
        Outcome {
            status,
            message: message.into(),
            evidence: Vec::new(),
            applicable: true,
        }
    }

    pub fn pass(message: impl Into<String>) -> Outcome {
        Outcome::new(Status::Pass, message)
    }

    pub fn fail(message: impl Into<String>) -> Outcome {
        Outcome::new(Status::Fail, message)
    }

    /// The rule applies but cannot be judged here (for example it needs live facts).
    pub fn skip(reason: impl Into<String>) -> Outcome {
        Outcome::new(Status::Skip, reason)
    }

    /// The rule does not apply to this host.
    pub fn not_applicable(reason: impl Into<String>) -> Outcome {
        Outcome {
            applicable: false,
            ..Outcome::new(Status::Skip, reason)
        }
    }

    pub fn error(message: impl Into<String>) -> Outcome {
        Outcome::new(Status::Error, message)
    }

    /// Skip with the standard reason when the host is not live.
    pub fn needs_live(what: &str) -> Outcome {
        Outcome::skip(format!("needs live facts ({what}); not read under --root"))
    }

    pub fn with(mut self, evidence: Evidence) -> Outcome {
        self.evidence.push(evidence);
        self
    }

    pub fn with_all(mut self, evidence: impl IntoIterator<Item = Evidence>) -> Outcome {
        self.evidence.extend(evidence);
        self
    }
}

impl From<HostError> for Outcome {
    fn from(e: HostError) -> Outcome {
        let path = match &e {
            HostError::SymlinkLoop { path }
            | HostError::TooLarge { path, .. }
            | HostError::Binary { path, .. }
            | HostError::NotAFile { path, .. }
            | HostError::NotAbsolute { path }
            | HostError::Io { path, .. } => path.clone(),
        };
        Outcome::error(e.to_string()).with(Evidence::file(path))
    }
}

/// Facts a family computes once per run and shares between its rules (the parsed sshd
/// configuration, the sysctl table ...). Collecting a fact must not panic; failures are kept
/// inside the fact value so each rule can report them.
pub trait Fact: Send + Sync + 'static {
    fn collect(ctx: &Ctx) -> Self;
}

type Slot = Arc<OnceLock<Arc<dyn Any + Send + Sync>>>;

/// The per-run cache of facts, keyed by type. Safe to share between the threads running rules:
/// the first rule to ask computes the fact, the others wait for it.
#[derive(Default)]
pub struct Facts {
    slots: Mutex<HashMap<TypeId, Slot>>,
}

impl Facts {
    /// Sets the fact of type `F` before anyone asks for it (a plan that will install packages
    /// plans its fixes against the package list as it will be). Returns false, changing
    /// nothing, when the fact was already collected.
    pub fn preset<F: Fact>(&self, value: F) -> bool {
        let slot = {
            let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
            slots.entry(TypeId::of::<F>()).or_default().clone()
        };
        slot.set(Arc::new(value) as Arc<dyn Any + Send + Sync>)
            .is_ok()
    }
}

impl std::fmt::Debug for Facts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Facts")
    }
}

/// What a rule sees: the host, the user's configuration and the shared facts.
#[derive(Debug)]
pub struct Ctx<'a> {
    pub host: &'a Host,
    pub config: &'a AuditConfig,
    pub facts: &'a Facts,
}

impl Ctx<'_> {
    /// The fact of type `F`, collected on first use.
    pub fn fact<F: Fact>(&self) -> Arc<F> {
        let slot = {
            let mut slots = self.facts.slots.lock().unwrap_or_else(|e| e.into_inner());
            slots.entry(TypeId::of::<F>()).or_default().clone()
        };
        let value = slot
            .get_or_init(|| Arc::new(F::collect(self)) as Arc<dyn Any + Send + Sync>)
            .clone();
        match value.downcast::<F>() {
            Ok(f) => f,
            // Unreachable: slots are keyed by the TypeId of what they hold.
            Err(_) => Arc::new(F::collect(self)),
        }
    }

    /// `Err(skip)` unless the host is live: for rules that judge the running kernel or daemons.
    pub fn require_live(&self, what: &str) -> Result<(), Outcome> {
        if self.host.is_live() {
            Ok(())
        } else {
            Err(Outcome::needs_live(what))
        }
    }
}

/// Collect one fact outside an audit run (for `rempart facts ...`).
pub fn collect_fact<F: Fact>(host: &Host, config: &AuditConfig) -> Arc<F> {
    let facts = Facts::default();
    let ctx = Ctx {
        host,
        config,
        facts: &facts,
    };
    ctx.fact::<F>()
}
