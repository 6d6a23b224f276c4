//! Every built-in filter, in every mode, fed arbitrary lines (as files and as the journal):
//! no panic, and a failure always names a host. The filters are built once and keep their
//! state across inputs, as they do in the daemon.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rempart_guard::filters::{Filter, FilterOptions, Input, BUILTINS};
use rempart_guard::Clock;
use std::cell::RefCell;

thread_local! {
    static FILTERS: RefCell<Vec<Box<dyn Filter>>> = RefCell::new(build_all());
}

fn build_all() -> Vec<Box<dyn Filter>> {
    let mut out = Vec::new();
    for b in BUILTINS {
        let modes: Vec<Option<&str>> = if b.modes.is_empty() {
            vec![None]
        } else {
            b.modes.iter().map(|m| Some(*m)).collect()
        };
        for mode in modes {
            let opts = FilterOptions {
                mode: mode.map(str::to_string),
                path_prefix: (b.name == "api-abuse").then(|| "/ingest".to_string()),
            };
            out.push(b.build(&opts).unwrap());
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let clock = Clock::new(
        jiff::tz::TimeZone::UTC,
        jiff::Timestamp::from_second(1_749_988_800).unwrap(),
    );
    let text = String::from_utf8_lossy(data);
    FILTERS.with(|fs| {
        for f in fs.borrow_mut().iter_mut() {
            for line in text.split('\n') {
                for time in [None, Some(clock.now())] {
                    if let Some(fl) = f.examine(&Input::new(line, time), &clock) {
                        assert!(!fl.host.to_string().is_empty());
                    }
                }
            }
        }
    });
});
