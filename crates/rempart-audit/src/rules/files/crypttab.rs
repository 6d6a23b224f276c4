//! `/etc/crypttab`: `name device [keyfile [options]]` lines, blank-separated, `#` lines ignored.
//! The key file field is a path only when it is one: `none`, `-` and an empty field mean a
//! passphrase, `/dev/...` a device (a random key for swap), `path:device` a key on another
//! device (systemd), and with Debian's `keyscript=` option the field is the script's argument.

/// Where crypttab lives.
pub const CRYPTTAB: &str = "/etc/crypttab";

/// One volume line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Volume {
    pub name: String,
    pub device: String,
    /// The third field as written, if any.
    pub key_field: Option<String>,
    pub options: Vec<String>,
    pub line: u32,
    pub text: String,
}

impl Volume {
    /// The host path of a key file this volume is unlocked with, when the field names one on
    /// the host's own file system.
    pub fn key_file(&self) -> Option<&str> {
        let k = self.key_field.as_deref()?;
        if matches!(k, "" | "-" | "none")
            || !k.starts_with('/')
            || k.starts_with("/dev/")
            || k.contains(':')
            || self.options.iter().any(|o| o.starts_with("keyscript="))
        {
            return None;
        }
        Some(k)
    }
}

/// A parsed crypttab.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Crypttab {
    pub volumes: Vec<Volume>,
    /// (line, reason) of lines that are not volumes.
    pub invalid: Vec<(u32, &'static str)>,
}

/// Parse crypttab text.
pub fn parse(text: &str) -> Crypttab {
    let mut out = Crypttab::default();
    for (i, raw) in text.lines().enumerate() {
        let line = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let t = raw.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = t.split_whitespace().collect();
        if fields.len() < 2 {
            out.invalid
                .push((line, "a volume needs a name and a device"));
            continue;
        }
        if fields.len() > 4 {
            out.invalid.push((line, "more than four fields"));
            continue;
        }
        out.volumes.push(Volume {
            name: fields[0].to_string(),
            device: fields[1].to_string(),
            key_field: fields.get(2).map(|s| s.to_string()),
            options: fields
                .get(3)
                .map(|o| o.split(',').map(String::from).collect())
                .unwrap_or_default(),
            line,
            text: raw.to_string(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn seed_001_layout_and_non_file_keys() {
        let c = parse(
            "# <target name> <source device> <key file> <options>\npostgres_encrypted UUID=2f3c... /root/.koprogo-luks-key luks,discard\nuploads_encrypted /dev/vdc /root/.koprogo-luks-key luks\nswap /dev/vda3 /dev/urandom swap,cipher=aes-xts-plain64\nhome UUID=abc none luks\nusb /dev/sdb1 /keys/usb.key:LABEL=keys luks\nroot UUID=def root_crypt luks,keyscript=decrypt_keyctl\nbroken\n",
        );
        assert_eq!(c.volumes.len(), 6);
        assert_eq!(c.invalid, [(8, "a volume needs a name and a device")]);
        assert_eq!(c.volumes[0].key_file(), Some("/root/.koprogo-luks-key"));
        assert_eq!(c.volumes[0].line, 2);
        assert_eq!(c.volumes[0].options, ["luks", "discard"]);
        assert!(c.volumes[2..].iter().all(|v| v.key_file().is_none()));
    }

    proptest! {
        #[test]
        fn parser_never_panics(s in "\\PC{0,400}") {
            let lines = s.lines().count() as u32;
            for v in parse(&s).volumes {
                prop_assert!(v.line >= 1 && v.line <= lines);
                prop_assert!(!v.name.is_empty() && !v.device.is_empty());
                if let Some(k) = v.key_file() {
                    prop_assert!(k.starts_with('/') && !k.starts_with("/dev/"));
                }
            }
        }

        #[test]
        fn written_volumes_read_back(
            name in "[a-z_]{1,10}",
            key in "/[a-z]{1,8}/\\.?[a-z-]{1,12}",
            opts in proptest::collection::vec("[a-z]{1,6}", 1..4),
        ) {
            let c = parse(&format!("{name}\tUUID=1234  {key} {}\n", opts.join(",")));
            prop_assert_eq!(c.volumes.len(), 1);
            prop_assert_eq!(c.volumes[0].key_file(), Some(key.as_str()));
            prop_assert_eq!(&c.volumes[0].options, &opts);
        }
    }
}
