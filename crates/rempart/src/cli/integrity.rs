//! `rempart integrity`: record a baseline of the system's files (`init`), compare the system
//! with it (`check`), accept the current state after review (`update`), and make an Ed25519
//! key pair for signing baselines off the host (`keygen`). The work is done by
//! `rempart-integrity`; this file owns the arguments, the default locations, key files, output
//! and exit statuses: 0 no change, 1 changes or an untrusted baseline, 2 operational error.

use super::audit::ColorWhen;
use anyhow::{anyhow, bail, Context};
use clap::{Subcommand, ValueEnum};
use rempart_integrity::auth::{HmacKey, SignKey, Signers, Verifier, VerifyKey};
use rempart_integrity::baseline::Limits;
use rempart_integrity::compare::Comparison;
use rempart_integrity::hash::HashAlgo;
use rempart_integrity::policy::{CompiledPolicy, IntegrityConfig, DEFAULT_CONFIG};
use rempart_integrity::report::{self, CheckReport, TextOptions, Verdict};
use rempart_integrity::run::{self, CheckInput, Recorded};
use rempart_integrity::scan::{Issue, ScanRoot};
use rempart_integrity::status::{self, CheckRecord};
use rempart_integrity::{atomic, hostpath};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Record a baseline of the watched files (refuses to replace one without --force).
    Init(InitArgs),
    /// Compare the files with the baseline. Exit status 1 when anything changed or when the
    /// baseline cannot be trusted (modified, malformed, another host's).
    Check(CheckArgs),
    /// Accept the current state after review: record a new baseline over a trusted one.
    Update(UpdateArgs),
    /// Generate an Ed25519 key pair: keep the private key off the host, give the public one to
    /// `check --verify-key`.
    Keygen(KeygenArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Debug, clap::Args)]
struct Common {
    /// Scan this directory as if it were `/` (a mounted disk, an image). Paths are reported as
    /// host paths, and the default baseline, key and configuration are looked for inside it.
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
    /// Integrity configuration [default: /etc/rempart/integrity.toml of the scanned tree, if
    /// present; else the built-in policy].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Baseline file [default: the configuration's `baseline`, else
    /// /var/lib/rempart/integrity/baseline of the scanned tree].
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// HMAC key file [default: the configuration's `key`, else /etc/rempart/integrity.key of
    /// the scanned tree].
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
    /// Worker threads [default: one per core].
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Write the report to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
    /// When to colour the text report.
    #[arg(long, value_enum, default_value_t = ColorWhen::Auto)]
    color: ColorWhen,
}

#[derive(Debug, clap::Args)]
struct InitArgs {
    #[command(flatten)]
    common: Common,
    /// Content hash [default: the configuration's, else blake3].
    #[arg(long, value_parser = parse_hash)]
    hash: Option<HashAlgo>,
    /// Also sign the baseline with this Ed25519 private key (PKCS#8 PEM). Keep it off the host.
    #[arg(long, value_name = "FILE")]
    sign_key: Option<PathBuf>,
    /// Do not authenticate with the HMAC key (only with --sign-key).
    #[arg(long, requires = "sign_key")]
    no_hmac: bool,
    /// Replace an existing baseline.
    #[arg(long)]
    force: bool,
}

#[derive(Debug, clap::Args)]
struct CheckArgs {
    #[command(flatten)]
    common: Common,
    /// Trust the baseline only if it is signed by this Ed25519 public key (PEM), instead of
    /// checking its HMAC.
    #[arg(long, value_name = "FILE")]
    verify_key: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct UpdateArgs {
    #[command(flatten)]
    common: Common,
    /// Verify the current baseline with this Ed25519 public key instead of its HMAC.
    #[arg(long, value_name = "FILE")]
    verify_key: Option<PathBuf>,
    /// Sign the new baseline with this Ed25519 private key.
    #[arg(long, value_name = "FILE")]
    sign_key: Option<PathBuf>,
    /// Content hash of the new baseline [default: the configuration's, else blake3].
    #[arg(long, value_parser = parse_hash)]
    hash: Option<HashAlgo>,
}

#[derive(Debug, clap::Args)]
struct KeygenArgs {
    /// Where to write the private key (mode 0600); the public key goes to FILE.pub.
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
}

fn parse_hash(s: &str) -> Result<HashAlgo, String> {
    HashAlgo::parse(s).ok_or_else(|| format!("unknown hash `{s}` (blake3, sha256, sha512)"))
}

pub fn run(args: Args) -> anyhow::Result<u8> {
    match args.command {
        Command::Init(a) => {
            let threads = a.common.threads;
            in_pool(threads, || init(a))
        }
        Command::Check(a) => {
            let threads = a.common.threads;
            in_pool(threads, || check(a))
        }
        Command::Update(a) => {
            let threads = a.common.threads;
            in_pool(threads, || update(a))
        }
        Command::Keygen(a) => keygen(a),
    }
}

fn in_pool(
    threads: Option<usize>,
    f: impl FnOnce() -> anyhow::Result<u8> + Send,
) -> anyhow::Result<u8> {
    match threads {
        None => f(),
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build()
            .context("cannot start worker threads")?
            .install(f),
    }
}

/// Where everything is, once `--root` and the configuration are taken into account.
struct Setup {
    root: ScanRoot,
    config: IntegrityConfig,
    baseline: PathBuf,
    record: PathBuf,
    key: PathBuf,
}

/// A host path inside the scanned tree.
fn in_root(root: &ScanRoot, host_path: &str) -> PathBuf {
    root.path().join(host_path.trim_start_matches('/'))
}

fn setup(c: &Common) -> anyhow::Result<Setup> {
    let root = ScanRoot::open(c.root.as_deref().unwrap_or(Path::new("/")))?;
    let config = match &c.config {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read configuration {}", p.display()))?;
            IntegrityConfig::parse(&p.display().to_string(), &text)?
        }
        None => match root
            .read_file(DEFAULT_CONFIG.as_bytes(), 4 << 20)
            .with_context(|| format!("cannot read {DEFAULT_CONFIG}"))?
        {
            Some(bytes) => {
                let text =
                    String::from_utf8(bytes).map_err(|_| anyhow!("{DEFAULT_CONFIG}: not UTF-8"))?;
                IntegrityConfig::parse(DEFAULT_CONFIG, &text)?
            }
            None => IntegrityConfig::default(),
        },
    };
    let baseline = c
        .baseline
        .clone()
        .unwrap_or_else(|| in_root(&root, config.baseline_path()));
    let record = PathBuf::from(status::record_path(&baseline.display().to_string()));
    let key = c
        .key
        .clone()
        .unwrap_or_else(|| in_root(&root, config.key_path()));
    Ok(Setup {
        root,
        config,
        baseline,
        record,
        key,
    })
}

/// Application directories named in the audit's configuration (`app_paths`), so the
/// integrity policy watches what the audit does. A broken audit configuration is the audit's
/// business: it is reported and skipped here.
/// The application directories the audit discovers on this host (systemd units, web servers,
/// `app_paths` of rempart.toml): the default policy watches them too.
fn audit_app_dirs(root: &ScanRoot) -> Vec<String> {
    let host = match root.path() {
        p if p == Path::new("/") => rempart_audit::Host::live(),
        p => match rempart_audit::Host::tree(p) {
            Ok(h) => h,
            Err(e) => {
                eprintln!("rempart: warning: {e} (application directories are not watched)");
                return Vec::new();
            }
        },
    };
    let config = match super::audit::load_config(&host, None) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("rempart: warning: {e:#} (application directories are not watched)");
            rempart_audit::AuditConfig::default()
        }
    };
    let d = rempart_audit::rule::collect_fact::<rempart_audit::rules::services::discovery::Discovery>(
        &host, &config,
    );
    let mut dirs: Vec<String> = d.app_dirs().into_iter().map(String::from).collect();
    for p in config.app_paths {
        if !dirs.contains(&p) {
            dirs.push(p);
        }
    }
    dirs
}

/// The policy in force now: the configuration (or the built-in one) plus discovered apps.
fn current_policy(s: &Setup, hash: Option<HashAlgo>) -> anyhow::Result<CompiledPolicy> {
    let mut p = s.config.policy(&audit_app_dirs(&s.root));
    if let Some(h) = hash {
        p.hash = h;
    }
    let mut c = p.compile()?;
    for x in excludes(s) {
        c.exclude_at_runtime(&x);
    }
    Ok(c)
}

fn excludes(s: &Setup) -> Vec<Vec<u8>> {
    run::runtime_excludes(&s.root, &[&s.baseline, &s.record, &s.key])
}

fn read_limited(path: &Path, what: &str, limit: u64) -> anyhow::Result<Vec<u8>> {
    let meta = std::fs::metadata(path)
        .with_context(|| format!("cannot read {what} {}", path.display()))?;
    if meta.len() > limit {
        bail!("{what} {} is larger than {limit} bytes", path.display());
    }
    std::fs::read(path).with_context(|| format!("cannot read {what} {}", path.display()))
}

fn load_hmac_key(path: &Path) -> anyhow::Result<Option<HmacKey>> {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(e).with_context(|| format!("cannot read HMAC key {}", path.display()))
        }
        Ok(m) => {
            if m.permissions().mode() & 0o077 != 0 {
                eprintln!(
                    "rempart: warning: HMAC key {} is accessible to group or others (mode {:04o}); \
                     anyone who reads it can forge baselines: chmod 600 it",
                    path.display(),
                    m.permissions().mode() & 0o7777
                );
            }
        }
    }
    let bytes = read_limited(path, "HMAC key", 4096)?;
    Ok(Some(
        HmacKey::parse(&bytes).with_context(|| format!("HMAC key {}", path.display()))?,
    ))
}

fn load_sign_key(path: &Path) -> anyhow::Result<SignKey> {
    let text = String::from_utf8(read_limited(path, "signing key", 65536)?)
        .map_err(|_| anyhow!("signing key {}: not PEM text", path.display()))?;
    SignKey::parse_pem(&text).with_context(|| format!("signing key {}", path.display()))
}

fn load_verify_key(path: &Path) -> anyhow::Result<VerifyKey> {
    let text = String::from_utf8(read_limited(path, "verify key", 65536)?)
        .map_err(|_| anyhow!("verify key {}: not PEM text", path.display()))?;
    VerifyKey::parse_pem(&text).with_context(|| format!("verify key {}", path.display()))
}

/// The verifier for an existing baseline: the Ed25519 public key if given, else the HMAC key
/// (which must exist: a baseline is never trusted without a key).
fn verifier(s: &Setup, verify_key: Option<&Path>) -> anyhow::Result<Verifier> {
    if let Some(p) = verify_key {
        return Ok(Verifier::Ed25519(load_verify_key(p)?));
    }
    match load_hmac_key(&s.key)? {
        Some(k) => Ok(Verifier::Hmac(k)),
        None => bail!(
            "no HMAC key at {}: the baseline cannot be verified, so it is not used (give --key, \
             or --verify-key for a signed baseline)",
            s.key.display()
        ),
    }
}

fn write_record(s: &Setup, record: &CheckRecord, key: Option<&HmacKey>) -> anyhow::Result<()> {
    atomic::write_atomic(&s.record, &record.to_file(key), 0o600)
        .with_context(|| format!("cannot write the check record {}", s.record.display()))
}

fn clean_record(
    rec: &Recorded,
    bytes_digest: [u8; 32],
    now: rempart_integrity::entry::Time,
) -> CheckRecord {
    CheckRecord {
        version: 1,
        checked_at: now.secs,
        baseline_digest: hostpath::to_hex(&bytes_digest),
        baseline_created: Some(rec.header.created.secs),
        state: "authentic".into(),
        reason: None,
        added: 0,
        removed: 0,
        changed: 0,
        unverified: 0,
        issues: rec.outcome.issues.len() as u64,
        sample: Vec::new(),
    }
}

fn out_writer(c: &Common) -> anyhow::Result<Box<dyn Write>> {
    Ok(match &c.output {
        Some(p) => Box::new(io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("cannot write {}", p.display()))?,
        )),
        None => Box::new(io::BufWriter::new(io::stdout().lock())),
    })
}

fn color(c: &Common) -> bool {
    match c.color {
        ColorWhen::Always => true,
        ColorWhen::Never => false,
        ColorWhen::Auto => {
            c.output.is_none()
                && anstream::AutoStream::choice(&io::stdout()) != anstream::ColorChoice::Never
        }
    }
}

fn print_issues(out: &mut dyn Write, issues: &[Issue]) -> io::Result<()> {
    if issues.is_empty() {
        return Ok(());
    }
    writeln!(out, "warnings ({}):", issues.len())?;
    for i in issues.iter().take(200) {
        writeln!(out, "  {i}")?;
    }
    if issues.len() > 200 {
        writeln!(out, "  ... and {} more", issues.len() - 200)?;
    }
    Ok(())
}

fn issues_json(issues: &[Issue]) -> serde_json::Value {
    issues
        .iter()
        .map(|i| {
            let mut o = serde_json::Map::new();
            report::path_fields(&mut o, &i.path);
            o.insert("kind".into(), i.kind.name().into());
            o.insert("message".into(), i.detail.as_str().into());
            serde_json::Value::Object(o)
        })
        .collect()
}

fn signers(s: &Setup, sign_key: Option<&Path>, hmac: bool) -> anyhow::Result<(Signers, bool)> {
    let mut generated = false;
    let hmac_key = if hmac {
        match load_hmac_key(&s.key)? {
            Some(k) => Some(k),
            None => {
                let k = HmacKey::generate()?;
                atomic::write_atomic(&s.key, k.to_file_text().as_bytes(), 0o600)
                    .with_context(|| format!("cannot write the HMAC key {}", s.key.display()))?;
                generated = true;
                Some(k)
            }
        }
    } else {
        None
    };
    let sign = sign_key.map(load_sign_key).transpose()?;
    Ok((
        Signers {
            hmac: hmac_key,
            sign,
        },
        generated,
    ))
}

fn init(a: InitArgs) -> anyhow::Result<u8> {
    let s = setup(&a.common)?;
    if s.baseline.exists() && !a.force {
        bail!(
            "a baseline already exists at {}: use `rempart integrity update` to accept changes \
             after review, or --force to replace it",
            s.baseline.display()
        );
    }
    // The key and the baseline's directory exist before the scan, so that the scan excludes
    // them exactly as later checks will.
    let (signers, generated) = signers(&s, a.sign_key.as_deref(), !a.no_hmac)?;
    if let Some(dir) = s.baseline.parent() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let policy = current_policy(&s, a.hash)?;
    let now = run::now();
    let rec = run::record(&s.root, &policy, &signers, now)?;
    atomic::write_atomic(&s.baseline, &rec.bytes, 0o600)
        .with_context(|| format!("cannot write the baseline {}", s.baseline.display()))?;
    let digest = *blake3::hash(&rec.bytes).as_bytes();
    write_record(&s, &clean_record(&rec, digest, now), signers.hmac.as_ref())?;

    let mut out = out_writer(&a.common)?;
    match a.common.format {
        Format::Json => {
            let v = serde_json::json!({
                "baseline": s.baseline.display().to_string(),
                "entries": rec.header.entries,
                "hash": rec.header.algo.name(),
                "bytes": rec.bytes.len(),
                "files_hashed": rec.outcome.stats.files_hashed,
                "bytes_hashed": rec.outcome.stats.bytes_hashed,
                "seconds": rec.outcome.stats.elapsed.as_secs_f64(),
                "key_generated": generated.then(|| s.key.display().to_string()),
                "issues": issues_json(&rec.outcome.issues),
            });
            writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
        }
        Format::Text => {
            if generated {
                writeln!(
                    out,
                    "generated the HMAC key {} (root-only; keep a copy off the host)",
                    s.key.display()
                )?;
            }
            print_issues(&mut out, &rec.outcome.issues)?;
            writeln!(
                out,
                "recorded {} entries of {} ({}, {} hashed in {:.2} s) to {} ({})",
                rec.header.entries,
                s.root.path().display(),
                rec.header.algo,
                report::human_bytes(rec.outcome.stats.bytes_hashed),
                rec.outcome.stats.elapsed.as_secs_f64(),
                s.baseline.display(),
                report::human_bytes(rec.bytes.len() as u64),
            )?;
        }
    }
    out.flush()?;
    Ok(0)
}

fn read_baseline(s: &Setup) -> anyhow::Result<Vec<u8>> {
    if !s.baseline.exists() && std::fs::symlink_metadata(&s.baseline).is_err() {
        bail!(
            "no baseline at {}: record one with `rempart integrity init`",
            s.baseline.display()
        );
    }
    read_limited(&s.baseline, "baseline", Limits::default().max_body)
}

fn check(a: CheckArgs) -> anyhow::Result<u8> {
    let s = setup(&a.common)?;
    let bytes = read_baseline(&s)?;
    let verifier = verifier(&s, a.verify_key.as_deref())?;
    let current = current_policy(&s, None)?;
    let excl = excludes(&s);
    let baseline_path = s.baseline.display().to_string();
    let report = run::check(
        &s.root,
        &CheckInput {
            baseline_path: &baseline_path,
            bytes: &bytes,
            verifier: &verifier,
            current_policy: Some(current.digest()),
            runtime_excludes: &excl,
            now: run::now(),
        },
    );
    let digest = *blake3::hash(&bytes).as_bytes();
    let hmac = match &verifier {
        Verifier::Hmac(k) => Some(k.clone()),
        Verifier::Ed25519(_) => load_hmac_key(&s.key).ok().flatten(),
    };
    write_record(
        &s,
        &CheckRecord::from_report(&report, digest),
        hmac.as_ref(),
    )?;
    render(&a.common, &report)?;
    Ok(if report.is_clean() { 0 } else { 1 })
}

fn render(c: &Common, report: &CheckReport) -> anyhow::Result<()> {
    let mut out = out_writer(c)?;
    match c.format {
        Format::Text => report::render_text(report, TextOptions { color: color(c) }, &mut out)?,
        Format::Json => writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&report::to_json(report))?
        )?,
    }
    out.flush()?;
    Ok(())
}

fn update(a: UpdateArgs) -> anyhow::Result<u8> {
    let s = setup(&a.common)?;
    let bytes = read_baseline(&s)?;
    let verifier = verifier(&s, a.verify_key.as_deref())?;
    if a.verify_key.is_some() && a.sign_key.is_none() {
        bail!("the baseline is verified by signature: give --sign-key to sign the new one");
    }
    let old = match run::open(&bytes, &verifier, &s.root, &Limits::default()) {
        Ok(t) => t,
        Err(refused) => {
            eprintln!(
                "rempart: the current baseline cannot be trusted: {}\nrefusing to accept the \
                 current state over it; investigate, then record a new one with \
                 `rempart integrity init --force`",
                refused.reason
            );
            return Ok(1);
        }
    };
    let policy = current_policy(&s, a.hash.or(s.config.hash))?;
    let (signers, _) = signers(&s, a.sign_key.as_deref(), true)?;
    let now = run::now();
    let (rec, cmp) = run::update(&s.root, &old, &policy, &signers, now)?;
    atomic::write_atomic(&s.baseline, &rec.bytes, 0o600)
        .with_context(|| format!("cannot write the baseline {}", s.baseline.display()))?;
    let digest = *blake3::hash(&rec.bytes).as_bytes();
    write_record(&s, &clean_record(&rec, digest, now), signers.hmac.as_ref())?;
    let report = CheckReport {
        root: s.root.path().display().to_string(),
        baseline_path: s.baseline.display().to_string(),
        verdict: if cmp.changes.is_empty() {
            Verdict::Clean
        } else {
            Verdict::Changes
        },
        header: Some(old.header),
        verified_by: Some(old.verified_by),
        policy_changed: old.policy.digest() != policy.digest(),
        comparison: Comparison {
            changes: cmp.changes,
            unverified: cmp.unverified,
        },
        issues: rec.outcome.issues,
        stats: rec.outcome.stats,
        checked_at: now,
    };
    render(&a.common, &report)?;
    if a.common.format == Format::Text {
        let (ad, rm, ch) = report.counts();
        println!(
            "accepted {ad} added, {rm} removed, {ch} changed; new baseline of {} entries written to {}",
            rec.header.entries,
            s.baseline.display()
        );
    }
    Ok(0)
}

fn keygen(a: KeygenArgs) -> anyhow::Result<u8> {
    let k = SignKey::generate()?;
    let mut pub_path = a.out.clone().into_os_string();
    pub_path.push(".pub");
    let pub_path = PathBuf::from(pub_path);
    if a.out.exists() {
        bail!("{} already exists", a.out.display());
    }
    atomic::write_atomic(&a.out, k.to_pem()?.as_bytes(), 0o600)
        .with_context(|| format!("cannot write {}", a.out.display()))?;
    atomic::write_atomic(&pub_path, k.verify_key().to_pem()?.as_bytes(), 0o644)
        .with_context(|| format!("cannot write {}", pub_path.display()))?;
    println!(
        "private key: {} (move it off this host)\npublic key:  {} (key id {})",
        a.out.display(),
        pub_path.display(),
        hostpath::to_hex(&k.id())
    );
    Ok(0)
}
