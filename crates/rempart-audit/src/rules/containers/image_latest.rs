//! CTR-IMAGE-LATEST: images are pinned to a version or a digest.

use super::{at, compose_files, finish, services};
use crate::model::{Family, Level, Severity};
use crate::rule::{Ctx, Outcome, Rule, RuleDoc};

pub const RULE: Rule = Rule {
    id: "CTR-IMAGE-LATEST",
    name: "container-image-unpinned",
    family: Family::Containers,
    severity: Severity::Low,
    level: Level::Sme,
    title: "Container images are pinned to a version or digest",
    doc: RuleDoc {
        what: "Every compose service's `image` (after interpolation) names a tag other than \
               `latest`, or a digest (`@sha256:...`). An image without a tag is `latest`. \
               Services built locally (`build:` without `image`) are not judged.",
        why: "`latest` is whatever the registry serves when the host pulls: a restart after \
              `docker compose pull` or a new server runs a different release than the one \
              tested, possibly a breaking or compromised one, and an audit cannot say which \
              version runs.",
        remediation: "Pin each image to a release tag (`grafana/grafana:11.2.0`) or, better, a \
                      digest (`grafana/grafana:11.2.0@sha256:...`), and update it on purpose.",
        verify: "grep -nE 'image: *[^:@]+$|:latest' docker-compose.yml",
        references: &[
            "CIS Docker Benchmark, Container Images: trusted, versioned base images",
            "seed 002 Phase 2 §5 (versions exactes) applied to images",
        ],
    },
    check,
};

fn check(ctx: &Ctx) -> Outcome {
    let c = match compose_files(ctx) {
        Ok(c) => c,
        Err(o) => return o,
    };
    let mut bad = Vec::new();
    let mut judged = 0;
    for (f, s) in services(&c) {
        let Some(image) = &s.image else { continue };
        judged += 1;
        let v = image.value.trim();
        if v.contains("@sha256:") {
            continue;
        }
        let unpinned = match s.image_tag() {
            None => Some("no tag (latest)"),
            Some("latest") | Some("") => Some("latest"),
            Some(_) => None,
        };
        if let Some(what) = unpinned {
            bad.push(
                at(f, s, image.line)
                    .key("image")
                    .actual(format!("{v}: {what}"))
                    .expected("a version tag or a digest"),
            );
        }
    }
    let n = bad.len();
    finish(
        &c,
        bad,
        judged,
        format!("{n} image(s) not pinned to a version"),
        format!("{judged} image(s) pinned"),
        "no compose service names an image",
    )
}
