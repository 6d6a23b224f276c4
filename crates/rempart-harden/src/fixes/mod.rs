//! The fixes: one function per fixable rule, in a table (greppable, one line per rule, like the
//! rule registry). A fix reads the same facts as its rule and returns the intents that make the
//! rule pass, preferring drop-ins the software reads over editing its main file. Rules that are
//! deliberately left to the admin are listed in [`MANUAL`] with the reason.

mod accounts;
mod app;
mod backup;
mod containers;
mod database;
mod encryption;
mod files;
mod firewall;
mod intrusion;
mod kernel;
mod logging;
mod services;
pub mod ssh;
mod updates;
pub mod web;

use crate::change::Fix;
use rempart_audit::report::Finding;
use rempart_audit::rule::Ctx;

/// A fix: `Ok(None)` when there is nothing to change, `Err(reason)` when it cannot be fixed
/// automatically on this host.
pub type FixFn = fn(&Ctx, &Finding) -> Result<Option<Fix>, String>;

/// Every fixable rule and its fix.
pub const FIXES: &[(&str, FixFn)] = &[
    // updates
    ("UPD-AUTO-UPGRADES", updates::auto_upgrades),
    // firewall
    ("FW-ACTIVE", firewall::firewall),
    ("FW-DEFAULT-DENY", firewall::firewall),
    ("FW-OPEN-PORTS", firewall::firewall),
    // intrusion
    ("IPS-FAIL2BAN", intrusion::fail2ban),
    ("IPS-SSHD-JAIL", intrusion::sshd_jail),
    ("IPS-BACKEND", intrusion::backend),
    ("IPS-BANACTION", intrusion::banaction),
    // kernel
    ("KRN-SYNCOOKIES", kernel::sysctl),
    ("KRN-IP-FORWARD", kernel::sysctl),
    ("KRN-RP-FILTER", kernel::sysctl),
    ("KRN-LOG-MARTIANS", kernel::sysctl),
    ("KRN-SOURCE-ROUTE", kernel::sysctl),
    ("KRN-ACCEPT-REDIRECTS", kernel::sysctl),
    ("KRN-SEND-REDIRECTS", kernel::sysctl),
    ("KRN-ASLR", kernel::sysctl),
    ("KRN-KPTR-RESTRICT", kernel::sysctl),
    ("KRN-DMESG-RESTRICT", kernel::sysctl),
    ("KRN-SUID-DUMPABLE", kernel::sysctl),
    ("KRN-CORE-DUMPS", kernel::core_dumps),
    // accounts
    ("ACC-EMPTY-PASSWORD", accounts::empty_password),
    ("ACC-ROOT-PASSWORD", accounts::root_password),
    ("ACC-SERVICE-SHELL", accounts::service_shell),
    // files
    ("FILE-WORLD-WRITABLE", files::world_writable),
    ("FILE-SECRETS-PERMS", files::secrets_perms),
    ("FILE-SENSITIVE-ETC", files::sensitive_etc),
    // database
    ("DB-PG-LISTEN", database::pg::listen),
    ("DB-PG-HBA-TRUST", database::pg::hba_trust),
    ("DB-PG-HBA-WEAK-AUTH", database::pg::hba_weak),
    ("DB-PG-HBA-OPEN", database::pg::hba_open),
    (
        "DB-PG-PASSWORD-ENCRYPTION",
        database::pg::password_encryption,
    ),
    ("DB-PG-DATADIR-PERMS", database::pg::datadir),
    ("DB-MY-BIND", database::my::bind),
    ("DB-MY-LOCAL-INFILE", database::my::local_infile),
    ("DB-MY-SYMLINKS", database::my::symlinks),
    ("DB-MY-DATADIR-PERMS", database::my::datadir),
    // encryption
    ("ENC-KEYFILE-PERMS", encryption::keyfile_perms),
    // services
    ("SVC-SANDBOXING", services::sandboxing),
    ("SVC-BIND-ALL", services::bind_all),
    ("SVC-DEV-MODE", services::dev_mode),
    ("SVC-RUNS-AS-ROOT", services::runs_as_root),
    ("SVC-ACCOUNT-SHELL", services::account_shell),
    // backup
    ("BAK-RETENTION", backup::retention),
    // ssh
    ("SSH-ROOT-LOGIN", ssh::root_login),
    ("SSH-PASSWORD-AUTH", ssh::password_auth),
    ("SSH-KBD-INTERACTIVE", ssh::kbd_interactive),
    ("SSH-EMPTY-PASSWORDS", ssh::empty_passwords),
    ("SSH-MAX-AUTH-TRIES", ssh::max_auth_tries),
    ("SSH-LOGIN-GRACE-TIME", ssh::login_grace_time),
    ("SSH-X11-FORWARDING", ssh::x11_forwarding),
    ("SSH-LOG-LEVEL", ssh::log_level),
    ("SSH-CIPHERS", ssh::ciphers),
    ("SSH-MACS", ssh::macs),
    ("SSH-KEX", ssh::kex),
    ("SSH-HOSTKEY-ALGORITHMS", ssh::hostkey_algorithms),
    ("SSH-ALLOW-USERS", ssh::allow_users),
    ("SSH-HOST-KEY-PERMS", ssh::host_key_perms),
    // web
    ("WEB-HTTP-REDIRECT", web::http_redirect),
    ("WEB-APACHE-TLS-PROTOCOLS", web::apache::tls_protocols),
    ("WEB-APACHE-HEADERS", web::apache::headers),
    ("WEB-APACHE-TOKENS", web::apache::tokens),
    ("WEB-APACHE-TRACE", web::apache::trace),
    ("WEB-APACHE-MODULES", web::apache::modules),
    ("WEB-APACHE-BODY-LIMIT", web::apache::body_limit),
    ("WEB-NGINX-TLS-PROTOCOLS", web::nginx::tls_protocols),
    ("WEB-NGINX-TOKENS", web::nginx::tokens),
    ("WEB-NGINX-BODY-LIMIT", web::nginx::body_limit),
    ("WEB-TRAEFIK-API-INSECURE", web::traefik::api_insecure),
    ("WEB-TRAEFIK-REDIRECT", web::traefik::redirect),
    ("WEB-TRAEFIK-HEADERS", web::traefik_middlewares::headers),
    (
        "WEB-TRAEFIK-RATE-LIMIT",
        web::traefik_middlewares::rate_limit,
    ),
    (
        "WEB-TRAEFIK-DOCKER-SOCKET",
        containers::socket::traefik_docker_socket,
    ),
    ("WEB-CERT-KEY-PERMS", web::cert_key_perms),
    // app
    ("APP-DJANGO-DEBUG", app::django_debug),
    ("APP-ENV-PERMS", app::env_perms),
    ("APP-DJANGO-COOKIES", app::cookies),
    ("APP-DJANGO-SSL-REDIRECT", app::ssl_redirect),
    ("APP-DJANGO-ALLOWED-HOSTS", app::allowed_hosts),
    ("APP-DJANGO-SECRET-KEY", app::secret_key),
    ("APP-ENV-SECRETS", app::env_secrets),
    ("APP-DEPS-PINNED", app::deps_pinned),
    // containers
    ("CTR-PORTS-ALL-INTERFACES", containers::ports_all_interfaces),
    (
        "CTR-GRAFANA-ANONYMOUS",
        containers::monitoring::grafana_anonymous,
    ),
    (
        "CTR-PROMETHEUS-ADMIN-API",
        containers::monitoring::prometheus_admin_api,
    ),
    ("CTR-IMAGE-LATEST", containers::images::image_latest),
    (
        "CTR-WEAK-ADMIN-PASSWORD",
        containers::passwords::weak_admin_password,
    ),
    ("CTR-PRIVILEGED", containers::privileged::privileged),
    ("CTR-DOCKER-SOCKET", containers::socket::docker_socket),
    // logging
    ("LOG-ROTATE-APP", logging::rotate_app),
    ("LOG-DJANGO-DEBUG-LEVEL", logging::django_level),
];

/// Rules with no automatic fix on purpose, and why (shown in the plan next to the rule).
pub const MANUAL: &[(&str, &str)] = &[
    // firewall
    ("FW-LIVE-RULESET", "the running kernel differs from the files loaded at boot: load them (`systemctl reload nftables`, `ufw reload`) or save the live rules into them, after checking which is right; a fix writes files, it does not pick between the two"),
    ("FW-DOCKER-BYPASS", "Docker's published ports bypass the input chain: publish on 127.0.0.1 in the compose file, or filter them in DOCKER-USER (a rule Docker does not persist: add it to the nftables or ufw after.rules configuration by hand, knowing which containers must stay reachable)"),
    ("FW-LIVE-EXPOSED", "a live socket the kernel lets in: bind the service to 127.0.0.1 (SVC-BIND-ALL, DB-PG-LISTEN and DB-MY-BIND fix the configurations rempart reads) or load a dropping firewall (FW-DEFAULT-DENY's fix, then `systemctl restart nftables`); which service must stay reachable is the admin's call"),
    // kernel
    ("KRN-SYSCTL-DRIFT", "whether the file or the running value is the one wanted is the admin's call: `sysctl --system` applies the files; a runtime value to keep goes into /etc/sysctl.d"),
    // accounts
    ("ACC-UID0", "a second uid-0 account is a backdoor or a mistake: find who made it and why, then userdel it or give it its own uid"),
    ("ACC-ADMINS", "who administers the host is the admin's decision: add or remove members of sudo/wheel and sudoers grants by hand"),
    ("ACC-SUDO-NOPASSWD", "removing NOPASSWD can stop automation (deploy users, cloud-init) and the admin's own sudo: edit the grant with visudo"),
    // database
    ("DB-PG-SSL", "TLS needs a certificate the clients trust and hostssl records they can use: turn ssl on with your certificate, or keep PostgreSQL on loopback (DB-PG-LISTEN's fix)"),
    ("DB-PG-SUPERUSER-APP", "live database state: ALTER ROLE ... NOSUPERUSER once the application's grants are in place"),
    ("DB-MY-SECURE-INSTALL", "live database state: run mariadb-secure-installation (anonymous users, remote root, test database)"),
    ("DB-MY-APP-PRIVILEGES", "live database state: REVOKE the global or ALL privileges and GRANT what the application uses"),
    // encryption
    ("ENC-DATA-VOLUMES", "moving a data directory onto a LUKS volume is a migration with the server stopped: see `rempart explain ENC-DATA-VOLUMES`"),
    // backup
    ("BAK-SCHEDULED", "what to back up, where and when is the admin's plan: add the job (cron or a systemd timer) by hand"),
    ("BAK-ENCRYPTED", "encrypting dumps needs a key kept off the host (gpg or age recipient): add it to the backup job by hand"),
    ("BAK-OFFSITE", "an off-site copy needs a destination and its credentials: add rclone/restic/borg to the job by hand"),
    ("BAK-FRESH", "a stale backup means the job fails or stopped: read its logs; rempart does not run backups"),
    // ssh
    ("SSH-ADMIN-KEY", "rempart does not invent keys: create the admin's key on their workstation, `ssh-copy-id` it to a sudo user, and log in with it from a second session"),
    ("SSH-MATCH-WEAKENS", "a Match block is usually a deliberate exception (a backup robot, a VPN range): narrow it or remove the loosened line by hand, or ignore the rule in rempart.toml with the reason"),
    // web
    ("WEB-APACHE-WAF", "a WAF is a package to install (libapache2-mod-security2, libapache2-mod-evasive) and rules to tune against the application's traffic: apt install it and start in DetectionOnly"),
    ("WEB-NGINX-HEADERS", "add_header is not inherited by a server or location that has add_header of its own, so where the headers must go depends on each site's blocks: add them to every such block by hand (or use an include)"),
    ("WEB-TRAEFIK-DASHBOARD-AUTH", "protecting the dashboard needs credentials (basicAuth users, forwardAuth to an SSO) only the admin can choose: add an authentication middleware to the api@internal router"),
    ("WEB-TRAEFIK-TLS-MIN", "a TLS option (tls.options.default.minVersion: VersionTLS12) lives in the dynamic configuration, whose file provider directory or labels rempart would have to pick: add it by hand"),
    ("WEB-CERT-EXPIRY", "renewing a certificate needs the CA (certbot renew, or the issuer's process): run it and reload the server"),
    ("WEB-CERT-RENEWAL", "automatic renewal is a certbot timer or cron job tied to the account and challenge type: enable certbot.timer (systemctl enable --now certbot.timer) or Traefik's ACME resolver"),
    // app
    ("APP-DJANGO-HSTS", "HSTS pins browsers to https for months (includeSubDomains for every subdomain): set SECURE_HSTS_SECONDS once https is stable, or send the header from the web server"),
    ("APP-FASTAPI-DEBUG", "debug=True is passed in application code (FastAPI(...) or uvicorn --reload/--debug flags): remove it where the app is built or started"),
    ("APP-FASTAPI-DOCS", "hiding /docs and /openapi.json is a code change (FastAPI(docs_url=None, redoc_url=None, openapi_url=None)) or a proxy rule the admin chooses"),
    ("APP-SESSION-SECRET", "a new session secret logs every user out: generate one (openssl rand -hex 32), keep it in the service's environment file and read it from there"),
    ("APP-PYTHON-VENV", "moving an application into a virtual environment means reinstalling its dependencies and changing its unit: python3 -m venv, pip install -r requirements.txt, point ExecStart at venv/bin"),
    // containers
    ("CTR-HOST-NETWORK", "leaving the host network changes how the container is reached (ports must be published, addresses change): switch to a bridge network by hand"),
    // logging
    ("LOG-CENTRAL", "sending logs off the host needs a destination (a syslog server, Loki, a SIEM) and its credentials only the admin knows: configure rsyslog or promtail by hand"),
];

/// The fix of a rule, if it has one.
pub fn find(rule: &str) -> Option<FixFn> {
    FIXES.iter().find(|(id, _)| *id == rule).map(|(_, f)| *f)
}

/// Why a rule has no automatic fix, when that is deliberate.
pub fn manual(rule: &str) -> Option<&'static str> {
    MANUAL.iter().find(|(id, _)| *id == rule).map(|(_, r)| *r)
}

pub use intrusion::AdminClient;

/// The fail2ban drop-in the intrusion fixes write.
pub fn intrusion_dropin() -> &'static str {
    intrusion::DROPIN
}

/// The header of every drop-in rempart writes.
pub fn header(comment: &str, rules: &str) -> String {
    format!(
        "{comment} Written by `rempart harden` ({rules}). `rempart harden rollback` removes it.\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rempart_audit::registry::RULES;

    #[test]
    fn tables_name_real_rules_once() {
        let mut seen = std::collections::HashSet::new();
        for id in FIXES
            .iter()
            .map(|(id, _)| *id)
            .chain(MANUAL.iter().map(|(id, _)| *id))
        {
            assert!(RULES.iter().any(|r| r.id == id), "{id} is not a rule");
            assert!(seen.insert(id), "{id} is listed twice");
        }
    }

    #[test]
    fn every_rule_of_the_application_stack_families_is_fixed_or_manual() {
        for r in RULES
            .iter()
            .filter(|r| ["web", "app", "containers", "logging"].contains(&r.family.as_str()))
        {
            assert!(
                find(r.id).is_some() || manual(r.id).is_some(),
                "{} has neither a fix nor a MANUAL reason",
                r.id
            );
        }
    }
}
