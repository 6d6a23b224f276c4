//! rempart's audit engine.
//!
//! Data flows one way: a [`host::Host`] (the live machine or a root tree) is read by the facts of
//! each rule family, the rules of the [`registry`] turn facts into outcomes, the [`engine`] runs them
//! and scores the result, and the [`report`] renderers turn the [`report::Report`] into text, JSON,
//! SARIF, JUnit or Markdown. This crate never prints and never exits: the binary does.

#![forbid(unsafe_code)]

pub mod base64;
pub mod config;
pub mod engine;
pub mod facts;
pub mod host;
pub mod model;
pub mod registry;
pub mod report;
pub mod rule;
pub mod rules;

pub use config::AuditConfig;
pub use engine::{run, AuditOptions, Selector};
pub use host::Host;
pub use model::{Evidence, Family, Level, Severity, Status};
pub use report::Report;
pub use rule::{Ctx, Fact, Outcome, Rule, RuleDoc};
