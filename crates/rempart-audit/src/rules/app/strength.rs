//! Judging a secret's value without showing it: empty, a placeholder left from a template or a
//! guide (`changeme`, `secret_genere_aleatoirement`), a vendor default (`admin`, `minioadmin`),
//! or too short. Also which variable names hold secrets, and the password inside a URL
//! (`postgresql://user:PASSWORD@host/db`). Shared by the app and containers families. Findings
//! describe a weak value (its length, that it is a placeholder); they never print it.

/// Minimum length of a generated secret key or token: 32 characters (128 bits in hex; seed 000
/// generates tokens with `secrets.token_urlsafe(32)`).
pub const MIN_KEY_LEN: usize = 32;

/// Minimum length of a password (seed 001: "Generate strong passwords (min 20 chars)").
pub const MIN_PASSWORD_LEN: usize = 20;

/// What a secret variable holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    /// A key or token a machine generates (`SECRET_KEY`, `SESSION_SECRET`, `API_TOKEN`).
    Key,
    /// A password a person chose (`DB_PASSWORD`, `GF_SECURITY_ADMIN_PASSWORD`).
    Password,
}

impl SecretKind {
    pub fn min_len(self) -> usize {
        match self {
            SecretKind::Key => MIN_KEY_LEN,
            SecretKind::Password => MIN_PASSWORD_LEN,
        }
    }
}

/// Why a secret is weak.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Weakness {
    Empty,
    /// A placeholder or a well-known default.
    Placeholder,
    /// Django's development key prefix.
    Insecure,
    Short {
        len: usize,
        min: usize,
    },
    /// Too few distinct characters (`aaaaaaaa...`).
    Repetitive,
}

impl Weakness {
    /// A description that never includes the value.
    pub fn describe(&self) -> String {
        match self {
            Weakness::Empty => "empty".into(),
            Weakness::Placeholder => "a placeholder or well-known default".into(),
            Weakness::Insecure => "a `django-insecure-` development key".into(),
            Weakness::Short { len, min } => format!("{len} characters (at least {min} wanted)"),
            Weakness::Repetitive => "too few distinct characters".into(),
        }
    }
}

/// Values that are exactly a placeholder or a vendor default (compared case-insensitively).
const PLACEHOLDERS: &[&str] = &[
    "changeme",
    "change_me",
    "change-me",
    "changethis",
    "changeit",
    "secret",
    "secrets",
    "mysecret",
    "supersecret",
    "secretkey",
    "secret_key",
    "password",
    "passw0rd",
    "p@ssw0rd",
    "passwd",
    "pass",
    "admin",
    "admin123",
    "administrator",
    "root",
    "toor",
    "test",
    "testing",
    "default",
    "dev",
    "development",
    "demo",
    "guest",
    "letmein",
    "qwerty",
    "azerty",
    "none",
    "null",
    "todo",
    "tbd",
    "minioadmin",
    "grafana",
    "prometheus",
    "postgres",
    "mysql",
    "mariadb",
    "rabbitmq",
    "redis",
    "mot_de_passe",
    "motdepasse",
    "mot_de_passe_fort",
    "secret_genere_aleatoirement",
];

/// Fragments that mark a template value (`your-secret-here`, `<password>`, `replace_me`).
const PLACEHOLDER_PARTS: &[&str] = &[
    "changeme",
    "change_me",
    "change-me",
    "change_this",
    "change-this",
    "your-",
    "your_",
    "yoursecret",
    "yourpassword",
    "replace",
    "example",
    "placeholder",
    "dummy",
    "xxxx",
    "generate",
    "genere",
    "aleatoire",
    "not-so-secret",
    "insecure",
    "todo",
];

/// Judge a secret value; `None` when nothing is wrong with it.
pub fn judge(value: &str, kind: SecretKind) -> Option<Weakness> {
    let v = value.trim();
    if v.is_empty() {
        return Some(Weakness::Empty);
    }
    let lower = v.to_ascii_lowercase();
    if lower.starts_with("django-insecure-") {
        return Some(Weakness::Insecure);
    }
    if PLACEHOLDERS.contains(&lower.as_str())
        || PLACEHOLDER_PARTS.iter().any(|p| lower.contains(p))
        || lower.chars().all(|c| c.is_ascii_digit())
        || (lower.starts_with('<') && lower.ends_with('>'))
        || lower.starts_with("{{")
    {
        return Some(Weakness::Placeholder);
    }
    let len = v.chars().count();
    if len < kind.min_len() {
        return Some(Weakness::Short {
            len,
            min: kind.min_len(),
        });
    }
    let mut distinct: Vec<char> = v.chars().collect();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < 5 {
        return Some(Weakness::Repetitive);
    }
    None
}

/// Whether a variable name holds a secret, and which kind. Names of files or paths holding a
/// secret (`SECRET_KEY_FILE`, `..._PATH`), public halves and identifiers are not secrets.
pub fn secret_kind(name: &str) -> Option<SecretKind> {
    let n = name.to_ascii_uppercase();
    let not_secret = [
        "_FILE",
        "_PATH",
        "_DIR",
        "_ID",
        "_URL",
        "_HOST",
        "_USER",
        "_USERNAME",
        "_NAME",
        "_LENGTH",
        "_ALGORITHM",
        "_EXPIRE",
        "_EXPIRES",
        "_TTL",
        "_MINUTES",
        "_HOURS",
        "_DAYS",
        "_SECONDS",
        "_TIMEOUT",
        "_ROTATION",
        "_BACKEND",
        "_HEADER",
        "_PREFIX",
    ];
    if not_secret.iter().any(|s| n.ends_with(s))
        || n.contains("PUBLIC")
        || n.starts_with("NEXT_PUBLIC")
    {
        return None;
    }
    if n.contains("PASSWORD") || n.contains("PASSWD") || n.ends_with("_PASS") || n.ends_with("_PWD")
    {
        return Some(SecretKind::Password);
    }
    if n.contains("SECRET")
        || n.contains("TOKEN")
        || n.ends_with("_KEY")
        || n == "KEY"
        || n.contains("API_KEY")
        || n.contains("PRIVATE_KEY")
        || n.contains("SIGNING_KEY")
    {
        return Some(SecretKind::Key);
    }
    None
}

/// The password of a URL with credentials (`scheme://user:password@host/...`).
pub fn url_password(value: &str) -> Option<&str> {
    let (_, rest) = value.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let (userinfo, _) = authority.rsplit_once('@')?;
    let (_, pass) = userinfo.split_once(':')?;
    Some(pass)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn seed_placeholders_are_weak() {
        // seed 000 §6 ships these values in its .env example.
        assert_eq!(
            judge("secret_genere_aleatoirement", SecretKind::Key),
            Some(Weakness::Placeholder)
        );
        assert_eq!(
            judge(
                url_password("postgresql://avmvp_user:mot_de_passe_fort@localhost/avmvp_db")
                    .unwrap(),
                SecretKind::Password
            ),
            Some(Weakness::Placeholder)
        );
        assert_eq!(
            judge("admin", SecretKind::Password),
            Some(Weakness::Placeholder)
        );
        assert_eq!(judge("", SecretKind::Key), Some(Weakness::Empty));
        assert_eq!(
            judge("django-insecure-abc", SecretKind::Key),
            Some(Weakness::Insecure)
        );
        assert_eq!(
            judge("Tr0ub4dor&3", SecretKind::Password),
            Some(Weakness::Short { len: 11, min: 20 })
        );
        assert_eq!(
            judge("qY7vK2pX9mW4nL8rT3sB6dF1hJ5gZ0cA", SecretKind::Key),
            None
        );
    }

    #[test]
    fn secret_names() {
        assert_eq!(secret_kind("SESSION_SECRET"), Some(SecretKind::Key));
        assert_eq!(secret_kind("DJANGO_SECRET_KEY"), Some(SecretKind::Key));
        assert_eq!(
            secret_kind("GF_SECURITY_ADMIN_PASSWORD"),
            Some(SecretKind::Password)
        );
        assert_eq!(secret_kind("SECRET_KEY_FILE"), None);
        assert_eq!(secret_kind("AWS_ACCESS_KEY_ID"), None);
        assert_eq!(secret_kind("DATABASE_URL"), None);
        assert_eq!(secret_kind("JWT_EXPIRE_MINUTES"), None);
    }

    #[test]
    fn url_passwords() {
        assert_eq!(url_password("redis://:pw@localhost:6379/0"), Some("pw"));
        assert_eq!(url_password("postgres://u@h/db"), None);
        assert_eq!(url_password("sqlite:///db.sqlite3"), None);
        assert_eq!(url_password("mysql://u:p@ss@h/db"), Some("p@ss"));
    }

    proptest! {
        /// A weakness description never contains the value it judges.
        #[test]
        fn descriptions_never_leak(v in "[a-zA-Z0-9]{6,40}") {
            for kind in [SecretKind::Key, SecretKind::Password] {
                if let Some(w) = judge(&v, kind) {
                    prop_assert!(!w.describe().contains(&v));
                }
            }
        }

        #[test]
        fn long_random_values_pass(v in "[a-zA-Z0-9]{48}") {
            let distinct = { let mut c: Vec<char> = v.chars().collect(); c.sort_unstable(); c.dedup(); c.len() };
            prop_assume!(distinct >= 5 && !v.chars().all(|c| c.is_ascii_digit()));
            let lower = v.to_ascii_lowercase();
            prop_assume!(!PLACEHOLDER_PARTS.iter().any(|p| lower.contains(p)));
            prop_assert_eq!(judge(&v, SecretKind::Key), None);
        }

        #[test]
        fn url_password_never_panics(s in "\\PC{0,80}") {
            let _ = url_password(&s);
            let _ = secret_kind(&s);
            let _ = judge(&s, SecretKind::Key);
        }
    }
}
