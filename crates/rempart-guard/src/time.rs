//! Timestamps as logs write them. Each parser reads one format at the start of a string and
//! returns the instant and how many bytes it consumed: BSD syslog (`Feb  5 14:34:10`, year
//! inferred), ISO 8601 / RFC 3339 (with or without zone), nginx (`2024/01/05 10:00:00`), common
//! log format (`05/Jan/2024:10:00:00 +0100`), Apache error logs (`Fri Jan 05 10:00:00.123 2024`)
//! and MySQL's `240105 10:00:00`. Times without a zone are read in the [`Clock`]'s time zone.
//!
//! This module does not search lines for dates (the filters know where their date is) except for
//! [`find_any`], which imported fail2ban filters use.

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use std::cell::Cell;

/// The time zone local times are read in, and "now" (for syslog's missing year).
#[derive(Debug, Clone)]
pub struct Clock {
    tz: TimeZone,
    now: Timestamp,
    now_year: i16,
    /// The last local civil minute converted, and its UTC offset in seconds.
    cache: Cell<(i64, i32)>,
}

const NO_KEY: i64 = i64::MIN;

impl Clock {
    /// A clock in the system time zone, "now" being the current time.
    pub fn system() -> Clock {
        Clock::new(TimeZone::system(), Timestamp::now())
    }

    /// A clock in `tz` whose "now" is `now` (tests and replays pin both).
    pub fn new(tz: TimeZone, now: Timestamp) -> Clock {
        let now_year = now.to_zoned(tz.clone()).year();
        Clock {
            tz,
            now,
            now_year,
            cache: Cell::new((NO_KEY, 0)),
        }
    }

    /// A clock in the named IANA time zone (`Europe/Zurich`).
    pub fn in_zone(name: &str, now: Timestamp) -> Option<Clock> {
        TimeZone::get(name).ok().map(|tz| Clock::new(tz, now))
    }

    /// "Now" as this clock sees it.
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// Moves "now" (the daemon calls this as time passes).
    pub fn set_now(&mut self, now: Timestamp) {
        self.now = now;
        self.now_year = now.to_zoned(self.tz.clone()).year();
    }

    /// The current year in the clock's zone.
    pub fn year(&self) -> i16 {
        self.now_year
    }

    /// The time zone local times are read in.
    pub fn tz(&self) -> &TimeZone {
        &self.tz
    }

    /// Converts a local civil time to an instant (DST gaps and folds resolved like most
    /// software: the earlier offset in a fold, shifted forward in a gap).
    pub fn local(&self, c: Civil) -> Option<Timestamp> {
        let key = c.minute_key();
        let (k, off) = self.cache.get();
        let off = if k == key {
            off
        } else {
            let dt = DateTime::new(c.year, c.month, c.day, c.hour, c.minute, 0, 0).ok()?;
            let ts = self.tz.to_ambiguous_timestamp(dt).compatible().ok()?;
            let off = (c.utc_seconds_of_minute() - ts.as_second()) as i32;
            self.cache.set((key, off));
            off
        };
        c.with_offset(off)
    }
}

/// A calendar date and wall-clock time as read from a log, not yet placed in a zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    pub year: i16,
    pub month: i8,
    pub day: i8,
    pub hour: i8,
    pub minute: i8,
    pub second: i8,
    pub nanos: i32,
}

impl Civil {
    fn valid(&self) -> bool {
        (1..=9999).contains(&self.year)
            && (1..=12).contains(&self.month)
            && self.day >= 1
            && self.day <= days_in_month(self.year, self.month)
            && (0..24).contains(&self.hour)
            && (0..60).contains(&self.minute)
            && (0..=60).contains(&self.second)
    }

    fn minute_key(&self) -> i64 {
        ((((i64::from(self.year) * 13 + i64::from(self.month)) * 32 + i64::from(self.day)) * 24
            + i64::from(self.hour))
            * 60)
            + i64::from(self.minute)
    }

    fn utc_seconds_of_minute(&self) -> i64 {
        days_from_civil(self.year, self.month, self.day) * 86_400
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
    }

    /// The instant of this civil time at a fixed UTC offset (seconds east of UTC).
    pub fn with_offset(&self, offset: i32) -> Option<Timestamp> {
        let secs =
            self.utc_seconds_of_minute() + i64::from(self.second.min(59)) - i64::from(offset);
        Timestamp::new(secs, self.nanos).ok()
    }
}

fn is_leap(y: i16) -> bool {
    let y = i32::from(y);
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i16, m: i8) -> i8 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i16, m: i8, d: i8) -> i64 {
    let y = i64::from(y) - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A byte cursor over a date string.
struct Cur<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Cur<'a> {
    fn new(s: &'a str) -> Cur<'a> {
        Cur {
            b: s.as_bytes(),
            i: 0,
        }
    }
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.i += 1)
    }
    fn eat_if(&mut self, c: u8) -> bool {
        self.eat(c).is_some()
    }
    /// Exactly `n` digits.
    fn digits(&mut self, n: usize) -> Option<i32> {
        let s = self.b.get(self.i..self.i + n)?;
        let mut v = 0i32;
        for c in s {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + i32::from(c - b'0');
        }
        self.i += n;
        Some(v)
    }
    /// One or two digits.
    fn digits12(&mut self) -> Option<i32> {
        let a = self.digits(1)?;
        match self.peek() {
            Some(c) if c.is_ascii_digit() => {
                self.i += 1;
                Some(a * 10 + i32::from(c - b'0'))
            }
            _ => Some(a),
        }
    }
    /// A fraction after `.` or `,`: returns nanoseconds (0 if absent).
    fn fraction(&mut self) -> i32 {
        if matches!(self.peek(), Some(b'.' | b','))
            && self.b.get(self.i + 1).is_some_and(u8::is_ascii_digit)
        {
            self.i += 1;
            let mut nanos = 0i32;
            let mut n = 0;
            while let Some(c) = self.peek().filter(u8::is_ascii_digit) {
                if n < 9 {
                    nanos = nanos * 10 + i32::from(c - b'0');
                    n += 1;
                }
                self.i += 1;
            }
            while n < 9 {
                nanos *= 10;
                n += 1;
            }
            nanos
        } else {
            0
        }
    }
    fn spaces(&mut self) -> usize {
        let s = self.i;
        while self.peek() == Some(b' ') {
            self.i += 1;
        }
        self.i - s
    }
    fn month_name(&mut self) -> Option<i8> {
        let s = self.b.get(self.i..self.i + 3)?;
        let m = month_from_abbr(s)?;
        self.i += 3;
        Some(m)
    }
    /// `HH:MM:SS` with a one- or two-digit hour.
    fn hms(&mut self) -> Option<(i8, i8, i8)> {
        let h = self.digits12()?;
        self.eat(b':')?;
        let m = self.digits(2)?;
        self.eat(b':')?;
        let s = self.digits(2)?;
        Some((h as i8, m as i8, s as i8))
    }
    /// `Z`, `±HH:MM`, `±HHMM` or `±HH`; `None` when no zone follows.
    fn zone(&mut self) -> Option<i32> {
        match self.peek()? {
            b'Z' => {
                self.i += 1;
                Some(0)
            }
            c @ (b'+' | b'-') => {
                let save = self.i;
                self.i += 1;
                let Some(h) = self.digits(2) else {
                    self.i = save;
                    return None;
                };
                let m = if self.eat_if(b':') {
                    self.digits(2)
                } else {
                    self.digits(2).or(Some(0))
                };
                let Some(m) = m else {
                    self.i = save;
                    return None;
                };
                if h > 14 || m > 59 {
                    self.i = save;
                    return None;
                }
                let off = h * 3600 + m * 60;
                Some(if c == b'-' { -off } else { off })
            }
            _ => None,
        }
    }
}

fn month_from_abbr(s: &[u8]) -> Option<i8> {
    let l = [
        s[0].to_ascii_lowercase(),
        s[1].to_ascii_lowercase(),
        s[2].to_ascii_lowercase(),
    ];
    Some(match &l {
        b"jan" => 1,
        b"feb" => 2,
        b"mar" => 3,
        b"apr" => 4,
        b"may" => 5,
        b"jun" => 6,
        b"jul" => 7,
        b"aug" => 8,
        b"sep" => 9,
        b"oct" => 10,
        b"nov" => 11,
        b"dec" => 12,
        _ => return None,
    })
}

/// A month abbreviation (`Jan`, case-insensitive) as its number.
pub fn month_number(s: &str) -> Option<i8> {
    s.get(..3).and_then(|m| month_from_abbr(m.as_bytes()))
}

/// A UTC offset written `Z`, `+HH:MM`, `+HHMM` or `+HH`, in seconds east of UTC.
pub fn parse_offset(s: &str) -> Option<i32> {
    let mut c = Cur::new(s);
    let off = c.zone()?;
    (c.i == s.len()).then_some(off)
}

/// A civil time at a fixed offset, or in the clock's zone; `None` if the date is invalid.
pub fn civil_to_timestamp(clock: &Clock, c: Civil, offset: Option<i32>) -> Option<Timestamp> {
    finish(clock, c, offset)
}

fn finish(clock: &Clock, c: Civil, zone: Option<i32>) -> Option<Timestamp> {
    if !c.valid() {
        return None;
    }
    match zone {
        Some(off) => c.with_offset(off),
        None => clock.local(c),
    }
}

/// BSD syslog `Mmm dd HH:MM:SS` (day padded with a space or a zero, or not padded), optional
/// fraction. The year is the clock's, or the previous one if that would put the line more than
/// a day in the future.
pub fn syslog(clock: &Clock, s: &str) -> Option<(Timestamp, usize)> {
    let mut c = Cur::new(s);
    let month = c.month_name()?;
    if c.spaces() == 0 {
        return None;
    }
    let day = c.digits12()? as i8;
    c.eat(b' ')?;
    let (hour, minute, second) = c.hms()?;
    let nanos = c.fraction();
    let mut civil = Civil {
        year: clock.now_year,
        month,
        day,
        hour,
        minute,
        second,
        nanos,
    };
    if month == 2 && day == 29 && !is_leap(civil.year) {
        civil.year -= 1;
    }
    let mut ts = finish(clock, civil, None)?;
    if ts.as_second() > clock.now.as_second() + 86_400 {
        civil.year -= 1;
        ts = finish(clock, civil, None)?;
    }
    Some((ts, c.i))
}

/// ISO 8601: `YYYY-MM-DD` then `T` or one or two spaces, `H:MM:SS` or `HH:MM:SS`, an optional
/// fraction (`.` or `,`) and an optional zone (`Z`, `±HH:MM`, `±HHMM`).
pub fn iso(clock: &Clock, s: &str) -> Option<(Timestamp, usize)> {
    let mut c = Cur::new(s);
    let year = c.digits(4)?;
    c.eat(b'-')?;
    let month = c.digits(2)?;
    c.eat(b'-')?;
    let day = c.digits(2)?;
    if !c.eat_if(b'T') {
        let n = c.spaces();
        if n == 0 || n > 2 {
            return None;
        }
    }
    let (hour, minute, second) = c.hms()?;
    let nanos = c.fraction();
    let zone = c.zone();
    let civil = Civil {
        year: year as i16,
        month: month as i8,
        day: day as i8,
        hour,
        minute,
        second,
        nanos,
    };
    Some((finish(clock, civil, zone)?, c.i))
}

/// nginx error log `YYYY/MM/DD HH:MM:SS`.
pub fn slashed(clock: &Clock, s: &str) -> Option<(Timestamp, usize)> {
    let mut c = Cur::new(s);
    let year = c.digits(4)?;
    c.eat(b'/')?;
    let month = c.digits(2)?;
    c.eat(b'/')?;
    let day = c.digits(2)?;
    c.eat(b' ')?;
    let (hour, minute, second) = c.hms()?;
    let civil = Civil {
        year: year as i16,
        month: month as i8,
        day: day as i8,
        hour,
        minute,
        second,
        nanos: 0,
    };
    Some((finish(clock, civil, None)?, c.i))
}

/// Common log format `DD/Mon/YYYY:HH:MM:SS ±HHMM` (inside the brackets).
pub fn clf(clock: &Clock, s: &str) -> Option<(Timestamp, usize)> {
    let mut c = Cur::new(s);
    let day = c.digits(2)?;
    c.eat(b'/')?;
    let month = c.month_name()?;
    c.eat(b'/')?;
    let year = c.digits(4)?;
    c.eat(b':')?;
    let (hour, minute, second) = c.hms()?;
    let nanos = c.fraction();
    let zone = if c.eat_if(b' ') { c.zone() } else { None };
    let civil = Civil {
        year: year as i16,
        month,
        day: day as i8,
        hour,
        minute,
        second,
        nanos,
    };
    Some((finish(clock, civil, zone)?, c.i))
}

/// Apache error log `Www Mmm DD HH:MM:SS[.ffffff] YYYY` (inside the brackets).
pub fn apache(clock: &Clock, s: &str) -> Option<(Timestamp, usize)> {
    let mut c = Cur::new(s);
    let wd = c.b.get(0..3)?;
    if !wd.iter().all(u8::is_ascii_alphabetic) {
        return None;
    }
    c.i = 3;
    c.eat(b' ')?;
    let month = c.month_name()?;
    if c.spaces() == 0 {
        return None;
    }
    let day = c.digits12()?;
    c.eat(b' ')?;
    let (hour, minute, second) = c.hms()?;
    let nanos = c.fraction();
    c.eat(b' ')?;
    let year = c.digits(4)?;
    let civil = Civil {
        year: year as i16,
        month,
        day: day as i8,
        hour,
        minute,
        second,
        nanos,
    };
    Some((finish(clock, civil, None)?, c.i))
}

/// MySQL's short form `YYMMDD H:MM:SS` (the hour padded with a space).
pub fn mysql_short(clock: &Clock, s: &str) -> Option<(Timestamp, usize)> {
    let mut c = Cur::new(s);
    let yy = c.digits(2)?;
    let month = c.digits(2)?;
    let day = c.digits(2)?;
    let n = c.spaces();
    if n == 0 || n > 2 {
        return None;
    }
    let (hour, minute, second) = c.hms()?;
    let civil = Civil {
        year: 2000 + yy as i16,
        month: month as i8,
        day: day as i8,
        hour,
        minute,
        second,
        nanos: 0,
    };
    Some((finish(clock, civil, None)?, c.i))
}

/// Epoch seconds with an optional fraction (`1700000000.123`), as some daemons log.
pub fn epoch(s: &str) -> Option<(Timestamp, usize)> {
    let mut c = Cur::new(s);
    let secs = c.digits(10)?;
    let nanos = c.fraction();
    if c.peek().is_some_and(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((Timestamp::new(i64::from(secs), nanos).ok()?, c.i))
}

/// Any of the formats above at the start of `s`.
pub fn leading(clock: &Clock, s: &str) -> Option<(Timestamp, usize)> {
    let first = *s.as_bytes().first()?;
    if first.is_ascii_digit() {
        iso(clock, s)
            .or_else(|| slashed(clock, s))
            .or_else(|| clf(clock, s))
            .or_else(|| mysql_short(clock, s))
    } else if first.is_ascii_alphabetic() {
        syslog(clock, s).or_else(|| apache(clock, s))
    } else if first == b'[' {
        let inner = &s[1..];
        let (ts, n) = apache(clock, inner)
            .or_else(|| clf(clock, inner))
            .or_else(|| iso(clock, inner))?;
        Some((ts, n + 1))
    } else {
        None
    }
}

/// The first date in `s` in any known format: its instant and byte range (brackets around it
/// excluded, as fail2ban cuts dates). Scans word starts only.
pub fn find_any(clock: &Clock, s: &str) -> Option<(Timestamp, std::ops::Range<usize>)> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let at_word = i == 0 || !b[i - 1].is_ascii_alphanumeric();
        if at_word && b[i].is_ascii_alphanumeric() {
            if let Some((ts, n)) = leading(clock, &s[i..]) {
                return Some((ts, i..i + n));
            }
        }
        i += 1;
        while i < b.len() && !s.is_char_boundary(i) {
            i += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn zurich() -> Clock {
        // 2005-08-14 12:00:00 CEST, the fail2ban corpus' "now".
        Clock::in_zone(
            "Europe/Zurich",
            Timestamp::from_second(1_124_013_600).unwrap(),
        )
        .unwrap()
    }

    fn at(clock: &Clock, local: &str) -> Timestamp {
        let dt: DateTime = local.parse().unwrap();
        clock.tz().to_ambiguous_timestamp(dt).compatible().unwrap()
    }

    #[test]
    fn syslog_infers_the_year() {
        let c = zurich();
        let (ts, n) = syslog(&c, "Feb 25 14:34:10 belka sshd").unwrap();
        assert_eq!(n, 15);
        assert_eq!(ts, at(&c, "2005-02-25T14:34:10"));
        let (ts, _) = syslog(&c, "Sep 29 16:28:02 x").unwrap();
        assert_eq!(
            ts,
            at(&c, "2004-09-29T16:28:02"),
            "a future date is last year's"
        );
        let (ts, n) = syslog(&c, "Jan  5 01:31:41 www").unwrap();
        assert_eq!((ts, n), (at(&c, "2005-01-05T01:31:41"), 15));
        let (ts, _) = syslog(&c, "Feb 7 16:01:07 linux").unwrap();
        assert_eq!(ts, at(&c, "2005-02-07T16:01:07"));
        assert!(syslog(&c, "Foo 25 14:34:10").is_none());
        assert!(syslog(&c, "Feb 30 14:34:10").is_none());
    }

    #[test]
    fn iso_with_and_without_zone() {
        let c = zurich();
        let (ts, n) = iso(&c, "2015-04-16T18:02:50.321974+00:00 host").unwrap();
        assert_eq!(n, 32);
        assert_eq!(ts, at(&c, "2015-04-16T20:02:50.321974"));
        let (ts, _) = iso(&c, "2019-01-03T08:50:04.634875Z 113").unwrap();
        assert_eq!(ts, at(&c, "2019-01-03T09:50:04.634875"));
        let (ts, _) = iso(&c, "2015-10-07  8:25:38 1398").unwrap();
        assert_eq!(ts, at(&c, "2015-10-07T08:25:38"));
        let (ts, _) = iso(&c, "2006-02-13 15:52:30,388 fail2ban").unwrap();
        assert_eq!(ts, at(&c, "2006-02-13T15:52:30.388"));
        let (ts, _) = iso(&c, "2019-07-08T17:40:16.954167-04:00 h").unwrap();
        assert_eq!(ts, at(&c, "2019-07-08T23:40:16.954167"));
    }

    #[test]
    fn other_formats() {
        let c = zurich();
        let (ts, _) = clf(&c, "18/Nov/2018:21:34:34 +0000]").unwrap();
        assert_eq!(ts, at(&c, "2018-11-18T22:34:34"));
        let (ts, _) = apache(&c, "Sat Jul 20 21:34:49.453232 2013]").unwrap();
        assert_eq!(ts, at(&c, "2013-07-20T21:34:49.453232"));
        let (ts, _) = slashed(&c, "2012/04/09 11:53:29 [error]").unwrap();
        assert_eq!(ts, at(&c, "2012-04-09T11:53:29"));
        let (ts, _) = mysql_short(&c, "130324  0:04:00 [Warning]").unwrap();
        assert_eq!(ts, at(&c, "2013-03-24T00:04:00"));
        let (ts, r) = find_any(&c, "host mysqld: 130916 21:30:26 [Warning]").unwrap();
        assert_eq!((ts, r), (at(&c, "2013-09-16T21:30:26"), 13..28));
    }

    #[test]
    fn dst_fold_and_gap_do_not_fail() {
        let c = zurich();
        assert!(iso(&c, "2024-03-31 02:30:00").is_some(), "gap");
        assert!(iso(&c, "2024-10-27 02:30:00").is_some(), "fold");
    }

    proptest! {
        #[test]
        fn parsers_never_panic(s in ".{0,60}") {
            let c = zurich();
            let _ = leading(&c, &s);
            let _ = find_any(&c, &s);
            let _ = epoch(&s);
        }

        #[test]
        fn iso_utc_round_trips(secs in 0i64..4_000_000_000) {
            let c = zurich();
            let ts = Timestamp::from_second(secs).unwrap();
            let text = ts.to_string();
            let (got, n) = iso(&c, &text).unwrap();
            prop_assert_eq!(got, ts);
            prop_assert_eq!(n, text.len());
        }

        #[test]
        fn local_times_round_trip(secs in 0i64..4_000_000_000) {
            let c = zurich();
            let ts = Timestamp::from_second(secs).unwrap();
            let local = ts.to_zoned(c.tz().clone()).datetime();
            let text = local.strftime("%Y-%m-%d %H:%M:%S").to_string();
            let (got, _) = iso(&c, &text).unwrap();
            // In a DST fold the earlier instant wins: never more than an hour off.
            prop_assert!((got.as_second() - secs).abs() <= 3600);
        }
    }
}
