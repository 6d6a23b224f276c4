//! The containers family: docker compose projects found on the host ([`compose`]), judged the way
//! seed 001 deploys its monitoring stack and the CIS Docker Benchmark hardens containers: ports
//! published on loopback only (a published port bypasses ufw), no privileged containers, no
//! Docker socket or host namespaces handed to a container, pinned images, and the default or
//! weak credentials monitoring images ship with (Grafana, MinIO, databases). The Docker daemon's
//! own configuration is not judged here.

pub mod compose;

pub mod docker_socket;
pub mod grafana_anonymous;
pub mod host_network;
pub mod image_latest;
pub mod ports_all_interfaces;
pub mod privileged;
pub mod prometheus_admin_api;
pub mod weak_password;

use crate::model::Evidence;
use crate::rule::{Ctx, Outcome};
use compose::{ComposeFile, ComposeFiles, Service};
use std::sync::Arc;

/// The compose files, or the not-applicable outcome when there are none.
pub(crate) fn compose_files(ctx: &Ctx) -> Result<Arc<ComposeFiles>, Outcome> {
    let c = ctx.fact::<ComposeFiles>();
    if c.files.is_empty() {
        return Err(Outcome::not_applicable("no docker compose file found"));
    }
    Ok(c)
}

/// Evidence at a line of a compose file, naming the service.
pub(crate) fn at(f: &ComposeFile, s: &Service, line: u32) -> Evidence {
    Evidence::file(&f.path)
        .line(line)
        .snippet(f.line(line).trim_end())
        .note(format!("service {}", s.name))
}

/// Combine a rule's findings over every compose file: failures first, then unreadable files
/// (an error when nothing failed), then pass; not applicable when nothing was judged.
pub(crate) fn finish(
    c: &ComposeFiles,
    bad: Vec<Evidence>,
    judged: usize,
    fail_msg: String,
    pass_msg: String,
    none_msg: &str,
) -> Outcome {
    let errors: Vec<Evidence> = c
        .files
        .iter()
        .filter_map(|f| {
            f.error
                .as_ref()
                .map(|e| Evidence::file(&f.path).note(e.clone()))
        })
        .collect();
    if !bad.is_empty() {
        return Outcome::fail(fail_msg).with_all(bad).with_all(errors);
    }
    if !errors.is_empty() {
        return Outcome::error(format!(
            "{} compose file(s) could not be read",
            errors.len()
        ))
        .with_all(errors);
    }
    if judged == 0 {
        return Outcome::not_applicable(none_msg.to_string());
    }
    Outcome::pass(pass_msg)
}

/// Services of every readable compose file.
pub(crate) fn services(c: &ComposeFiles) -> impl Iterator<Item = (&ComposeFile, &Service)> {
    c.files
        .iter()
        .flat_map(|f| f.services.iter().map(move |s| (f, s)))
}
