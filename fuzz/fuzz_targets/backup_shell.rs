//! The shell reader and the backup analysis: any command line or script is read without a
//! panic, as a one-liner and as a file.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rempart_audit::rules::backup::analyze::{analyze, Where};
use rempart_audit::rules::backup::shell::{commands, expand};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let lines = text.lines().count().max(1) as u32;
    for c in commands(&text) {
        assert!(c.line >= 1 && c.line <= lines + 1);
    }
    let _ = expand(&text, &[("OUT".into(), "/root/backups".into())]);
    let _ = analyze(&text, Where::Line { path: "/etc/crontab", line: 1, text: &text }, &[]);
    let a = analyze(&text, Where::File { path: "/root/backup.sh" }, &[]);
    for d in a.dumps {
        if let Some(dir) = d.output_dir {
            assert!(dir.starts_with('/'));
        }
    }
});
