//! The fail2ban filter reader: arbitrary filter files (INI, includes absent, tags, Python
//! regexes, date patterns) must load or fail with an error, never panic; a loaded filter runs
//! on its own text.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rempart_guard::f2b::{datepattern, ini, pyre, F2bFilter};
use rempart_guard::filters::{Filter, Input};
use rempart_guard::Clock;
use std::collections::BTreeMap;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = ini::parse(&text, Path::new("fuzz.conf"));
    if let Ok(t) = pyre::translate(&text) {
        let _ = regex::Regex::new(&t.pattern);
    }
    let _ = pyre::expand_tags(&text, &|_| None);
    if let Ok(d) = datepattern::compile(&[text.as_ref()]) {
        let clock = Clock::new(jiff::tz::TimeZone::UTC, jiff::Timestamp::UNIX_EPOCH);
        let _ = d.find(&clock, &text);
    }
    let dir = std::env::temp_dir().join(format!("rempart-fuzz-f2b-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join("f.conf");
    if std::fs::write(&path, data).is_ok() {
        if let Ok(mut f) = F2bFilter::load(&path, &BTreeMap::new()) {
            let clock = Clock::new(jiff::tz::TimeZone::UTC, jiff::Timestamp::UNIX_EPOCH);
            for line in text.lines().take(50) {
                let _ = f.examine(&Input::line(line), &clock);
            }
        }
    }
});
