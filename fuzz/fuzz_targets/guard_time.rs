//! Log timestamps in every supported format, at the start of a line or anywhere in it.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rempart_guard::time;
use rempart_guard::Clock;

fuzz_target!(|data: &[u8]| {
    let s = String::from_utf8_lossy(data);
    let clock = Clock::in_zone("Europe/Zurich", jiff::Timestamp::from_second(1_124_013_600).unwrap())
        .unwrap_or_else(|| Clock::new(jiff::tz::TimeZone::UTC, jiff::Timestamp::UNIX_EPOCH));
    let _ = time::leading(&clock, &s);
    if let Some((_, r)) = time::find_any(&clock, &s) {
        assert!(r.end <= s.len());
    }
    let _ = time::epoch(&s);
    let _ = time::parse_offset(&s);
});
