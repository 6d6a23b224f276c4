//! `rempart rules` (the catalogue; `--probe` for the checks of `rempart probe`) and
//! `rempart explain ID` (one rule's documentation, audit or probe).

use anyhow::anyhow;
use rempart_audit::registry::{self, RULES};
use rempart_audit::{Family, Rule};
use std::io::{self, Write};

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Only rules of these families (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub family: Vec<String>,
    /// Print the catalogue as JSON.
    #[arg(long)]
    pub json: bool,
    /// List the checks of `rempart probe` instead of the audit's rules.
    #[arg(long)]
    pub probe: bool,
}

#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// Rule id or name (case-insensitive).
    pub id: String,
}

pub fn list(args: ListArgs) -> anyhow::Result<u8> {
    let mut families = Vec::new();
    for f in &args.family {
        families.push(Family::parse(f).ok_or_else(|| anyhow!("unknown family `{f}`"))?);
    }
    let catalogue = if args.probe {
        rempart_probe::catalogue::RULES
    } else {
        RULES
    };
    let rules: Vec<&Rule> = catalogue
        .iter()
        .filter(|r| families.is_empty() || families.contains(&r.family))
        .collect();
    let mut out = io::stdout().lock();
    if args.json {
        let v: Vec<_> = rules
            .iter()
            .map(|r| {
                serde_json::json!({
                    "id": r.id, "name": r.name, "family": r.family, "severity": r.severity,
                    "level": r.level, "title": r.title,
                })
            })
            .collect();
        serde_json::to_writer_pretty(&mut out, &v)?;
        writeln!(out)?;
        return Ok(0);
    }
    let w = rules.iter().map(|r| r.id.len()).max().unwrap_or(0);
    for r in rules {
        writeln!(
            out,
            "{:<w$}  {:<8}  {:<10}  {:<10}  {}",
            r.id, r.severity, r.level, r.family, r.title
        )?;
    }
    Ok(0)
}

pub fn explain(args: ExplainArgs) -> anyhow::Result<u8> {
    let rule = registry::find(&args.id)
        .or_else(|| rempart_probe::catalogue::find(&args.id))
        .ok_or_else(|| {
            anyhow!(
                "no rule `{}` in the catalogue (`rempart rules` lists them)",
                args.id
            )
        })?;
    let mut out = io::stdout().lock();
    write!(out, "{}", rempart_audit::report::explain(rule))?;
    Ok(0)
}
