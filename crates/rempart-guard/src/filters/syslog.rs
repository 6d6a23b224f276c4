//! The syslog envelope around a daemon's message: `TIME HOST TAG[PID]: MESSAGE` as rsyslog writes
//! it to files (BSD or ISO 8601 time, host optional), RFC 5424 (`<PRI>1 TIME HOST APP PROCID MSGID
//! SD MSG`), and the journal's `HOST TAG[PID]: MESSAGE` (no time: the journal gives it). The
//! time is located here but parsed only on demand, so lines that no filter wants cost little.

use crate::time::{self, Clock};
use jiff::Timestamp;

/// One syslog line, split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Envelope<'a> {
    /// The time text and its format, if the line carries one.
    pub time: Option<(TimeFormat, &'a str)>,
    /// The host name (empty when the line has none).
    pub host: &'a str,
    /// The program name (`sshd`, `sshd-session`, `httpd/backend1`).
    pub tag: &'a str,
    /// The process id, if any.
    pub pid: Option<u32>,
    /// The message after the tag.
    pub msg: &'a str,
}

/// Which parser reads an envelope's time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeFormat {
    /// `Feb  5 14:34:10`
    Bsd,
    /// ISO 8601 / RFC 3339.
    Iso,
}

impl Envelope<'_> {
    /// The line's time, parsed now.
    pub fn timestamp(&self, clock: &Clock) -> Option<Timestamp> {
        let (fmt, text) = self.time?;
        let parsed = match fmt {
            TimeFormat::Bsd => time::syslog(clock, text),
            TimeFormat::Iso => time::iso(clock, text),
        };
        parsed.map(|(ts, _)| ts)
    }

    /// A key identifying the process that wrote the line (host and pid), for filters that
    /// follow one connection across lines.
    pub fn process_key(&self) -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in self.host.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        h ^ (u64::from(self.pid.unwrap_or(0)) << 1)
    }
}

/// Where an envelope's parts lie in its line: a line split on one thread travels to a filter on
/// another with its split, and is not parsed twice. Offsets are checked again when turned back
/// into an [`Envelope`], so spans applied to the wrong line give `None`, never a panic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spans {
    time: Option<(TimeFormat, u32, u32)>,
    host: (u32, u32),
    tag: (u32, u32),
    pid: Option<u32>,
    msg: u32,
}

/// Offset and end of `part` inside `line` (`(0, 0)` for an empty part, which may be a literal).
fn span(line: &str, part: &str) -> (u32, u32) {
    if part.is_empty() {
        return (0, 0);
    }
    let start = (part.as_ptr() as usize).wrapping_sub(line.as_ptr() as usize);
    let start = u32::try_from(start).unwrap_or(u32::MAX);
    (start, start.saturating_add(part.len() as u32))
}

impl Spans {
    /// The spans of `env`, which was split from `line`.
    pub fn of(line: &str, env: &Envelope<'_>) -> Spans {
        Spans {
            time: env.time.map(|(f, t)| {
                let (a, b) = span(line, t);
                (f, a, b)
            }),
            host: span(line, env.host),
            tag: span(line, env.tag),
            pid: env.pid,
            msg: if env.msg.is_empty() {
                line.len() as u32
            } else {
                span(line, env.msg).0
            },
        }
    }

    /// The envelope these spans describe in `line`.
    pub fn envelope<'a>(&self, line: &'a str) -> Option<Envelope<'a>> {
        let get = |(a, b): (u32, u32)| line.get(a as usize..b as usize);
        Some(Envelope {
            time: match self.time {
                Some((f, a, b)) => Some((f, get((a, b))?)),
                None => None,
            },
            host: get(self.host)?,
            tag: get(self.tag)?,
            pid: self.pid,
            msg: line.get(self.msg as usize..)?,
        })
    }
}

/// Splits `line` as [`parse`] does and keeps only where the parts lie.
pub fn spans(line: &str, time_optional: bool) -> Option<Spans> {
    parse(line, time_optional).map(|e| Spans::of(line, &e))
}

/// Length of a BSD syslog time at the start of `s` (`Mmm dd HH:MM:SS[.frac]`), checked for shape
/// only.
fn bsd_len(s: &[u8]) -> Option<usize> {
    if s.len() < 14 || !s[..3].iter().all(u8::is_ascii_alphabetic) || s[3] != b' ' {
        return None;
    }
    let mut i = 4;
    if s[i] == b' ' {
        i += 1;
    }
    let d0 = i;
    while i < s.len() && s[i].is_ascii_digit() {
        i += 1;
    }
    if !(1..=2).contains(&(i - d0)) || s.get(i) != Some(&b' ') {
        return None;
    }
    i += 1;
    time_of_day_len(s, i)
}

/// `HH:MM:SS[.frac]` starting at `i`: the end index.
fn time_of_day_len(s: &[u8], mut i: usize) -> Option<usize> {
    let shape = b"dd:dd:dd";
    for (k, want) in shape.iter().enumerate() {
        let c = *s.get(i + k)?;
        let ok = if *want == b'd' {
            c.is_ascii_digit()
        } else {
            c == b':'
        };
        if !ok {
            return None;
        }
    }
    i += shape.len();
    if matches!(s.get(i), Some(b'.' | b',')) && s.get(i + 1).is_some_and(u8::is_ascii_digit) {
        i += 1;
        while i < s.len() && s[i].is_ascii_digit() {
            i += 1;
        }
    }
    Some(i)
}

/// Length of an ISO time `YYYY-MM-DDTHH:MM:SS[.frac][zone]` (a `T` or a space between date and
/// time), checked for shape only.
fn iso_len(s: &[u8]) -> Option<usize> {
    if s.len() < 19 {
        return None;
    }
    let date = b"dddd-dd-dd";
    for (k, want) in date.iter().enumerate() {
        let ok = if *want == b'd' {
            s[k].is_ascii_digit()
        } else {
            s[k] == *want
        };
        if !ok {
            return None;
        }
    }
    if s[10] != b'T' && s[10] != b' ' {
        return None;
    }
    let mut i = time_of_day_len(s, 11)?;
    match s.get(i) {
        Some(b'Z') => i += 1,
        Some(b'+' | b'-') => {
            let mut j = i + 1;
            while j < s.len() && (s[j].is_ascii_digit() || s[j] == b':') && j - i <= 5 {
                j += 1;
            }
            if j - i >= 3 {
                i = j;
            }
        }
        _ => {}
    }
    Some(i)
}

/// Splits `TAG[PID]:`, `TAG:`, `[TAG]:` or `[TAG]` into the tag and pid; `None` if the token is
/// not a tag.
fn split_tag(tok: &str) -> Option<(&str, Option<u32>)> {
    if let Some(inner) = tok.strip_prefix('[') {
        let inner = inner.strip_suffix(':').unwrap_or(inner);
        let name = inner.strip_suffix(']')?;
        return (!name.is_empty() && !name.contains('[')).then_some((name, None));
    }
    let body = tok.strip_suffix(':')?;
    if let Some(open) = memchr::memchr(b'[', body.as_bytes()) {
        let pid = body[open + 1..].strip_suffix(']')?;
        let pid = pid.parse().ok()?;
        let name = &body[..open];
        return (!name.is_empty()).then_some((name, Some(pid)));
    }
    (!body.is_empty() && !body.contains(']')).then_some((body, None))
}

fn next_token(s: &str) -> Option<(&str, &str)> {
    let s = s.trim_start_matches(' ');
    if s.is_empty() {
        return None;
    }
    match memchr::memchr(b' ', s.as_bytes()) {
        Some(i) => Some((&s[..i], &s[i + 1..])),
        None => Some((s, "")),
    }
}

/// Splits a syslog line. `time_optional` accepts lines with no time (the journal's form).
pub fn parse(line: &str, time_optional: bool) -> Option<Envelope<'_>> {
    let b = line.as_bytes();
    let first = *b.first()?;
    if first == b'<' {
        return parse_rfc5424(line);
    }
    let (time, rest) = if let Some(n) = bsd_len(b) {
        (Some((TimeFormat::Bsd, &line[..n])), &line[n..])
    } else if let Some(n) = iso_len(b) {
        (Some((TimeFormat::Iso, &line[..n])), &line[n..])
    } else if time_optional {
        (None, line)
    } else {
        return None;
    };
    if time.is_some() && !rest.starts_with(' ') {
        return None;
    }
    let (t1, after1) = next_token(rest)?;
    if let Some((tag, pid)) = split_tag(t1) {
        if t1.ends_with(':') || t1.starts_with('[') {
            return Some(Envelope {
                time,
                host: "",
                tag,
                pid,
                msg: after1.trim_start_matches(' '),
            });
        }
    }
    let (t2, after2) = next_token(after1)?;
    let (tag, pid) = split_tag(t2)?;
    Some(Envelope {
        time,
        host: t1,
        tag,
        pid,
        msg: after2.trim_start_matches(' '),
    })
}

/// `<PRI>1 TIME HOST APP PROCID MSGID SD MSG`; SD is `-` or bracketed elements whose values may
/// hold escaped `]`.
fn parse_rfc5424(line: &str) -> Option<Envelope<'_>> {
    let close = line.find('>')?;
    if close > 4 || !line[1..close].bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let rest = line[close + 1..].strip_prefix("1 ")?;
    let (ts, rest) = next_token(rest)?;
    let (host, rest) = next_token(rest)?;
    let (app, rest) = next_token(rest)?;
    let (procid, rest) = next_token(rest)?;
    let (_msgid, rest) = next_token(rest)?;
    let rest = rest.trim_start_matches(' ');
    let msg = if let Some(r) = rest.strip_prefix('-') {
        r
    } else {
        skip_structured_data(rest)?
    };
    let time = (ts != "-").then_some((TimeFormat::Iso, ts));
    Some(Envelope {
        time,
        host: if host == "-" { "" } else { host },
        tag: app,
        pid: procid.parse().ok(),
        msg: msg.trim_start_matches(' ').trim_start_matches('\u{feff}'),
    })
}

fn skip_structured_data(s: &str) -> Option<&str> {
    let b = s.as_bytes();
    let mut i = 0;
    while b.get(i) == Some(&b'[') {
        let mut in_quotes = false;
        i += 1;
        loop {
            match *b.get(i)? {
                b'\\' if in_quotes => i += 1,
                b'"' => in_quotes = !in_quotes,
                b']' if !in_quotes => break,
                _ => {}
            }
            i += 1;
        }
        i += 1;
    }
    Some(&s[i..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn splits_the_common_forms() {
        let e = parse("Jan  5 01:31:41 www sshd[1643]: ROOT LOGIN", false).unwrap();
        assert_eq!(
            (e.host, e.tag, e.pid, e.msg),
            ("www", "sshd", Some(1643), "ROOT LOGIN")
        );
        assert_eq!(e.time.unwrap().1, "Jan  5 01:31:41");
        let e = parse("Feb 17 17:40:17 sshd[19725]: Connection from", false).unwrap();
        assert_eq!((e.host, e.tag, e.pid), ("", "sshd", Some(19725)));
        let e = parse("Jun 25 23:53:34 [sshd] User root", false).unwrap();
        assert_eq!((e.tag, e.msg), ("sshd", "User root"));
        let e = parse("Mar  3 00:17:22 [sshd]: User root", false).unwrap();
        assert_eq!((e.tag, e.msg), ("sshd", "User root"));
        let e = parse(
            "2015-04-16T18:02:50.321974+00:00 host sshd[2716]: pam",
            false,
        )
        .unwrap();
        assert_eq!((e.host, e.tag, e.msg), ("host", "sshd", "pam"));
        assert_eq!(e.time.unwrap().1, "2015-04-16T18:02:50.321974+00:00");
        let e = parse("srv sshd[13709]: error: PAM", true).unwrap();
        assert_eq!((e.time, e.host, e.msg), (None, "srv", "error: PAM"));
        assert!(parse("srv sshd[13709]: error: PAM", false).is_none());
        let e = parse("Feb 15 16:23:40 srv httpd/backend1[22034]: [authz", false).unwrap();
        assert_eq!(e.tag, "httpd/backend1");
        assert!(parse("1.2.3.4 - - [20/Jan/2015:19:53:28 +0100] \"GET /", true).is_none());
    }

    #[test]
    fn rfc5424() {
        let e = parse("<38>1 2019-07-08T17:40:17.954167-04:00 h.example.com sshd 55555 - [timeQuality tzKnown=\"1\"][x@1 t=\"[b]\"] Failed unknown", false).unwrap();
        assert_eq!(
            (e.host, e.tag, e.pid, e.msg),
            ("h.example.com", "sshd", Some(55555), "Failed unknown")
        );
        let e = parse("<38>1 2019-07-08T17:40:16Z h sshd 5 - - Failed", false).unwrap();
        assert_eq!(e.msg, "Failed");
    }

    proptest! {
        #[test]
        fn spans_give_back_the_same_envelope(
            s in "(<1[0-9]>1 )?([A-Z][a-z]{2} [ 1-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-5][0-9] |2024-0[1-9]-1[0-9]T1[0-9]:00:0[0-9](\\.[0-9]{1,6})?(Z|\\+02:00)? )?([a-z0-9.-]{1,12} )?\\[?[a-z/-]{1,10}(\\[[0-9]{1,6}\\])?\\]?:? {0,2}[ -~\u{feff}]{0,40}",
            opt: bool,
        ) {
            let direct = parse(&s, opt);
            let via = spans(&s, opt).and_then(|sp| sp.envelope(&s));
            prop_assert_eq!(direct, via);
        }

        #[test]
        fn spans_on_another_line_never_panic(a in ".{0,80}", b in ".{0,80}", opt: bool) {
            if let Some(sp) = spans(&a, opt) {
                let _ = sp.envelope(&b);
            }
        }

        #[test]
        fn never_panics(s in ".{0,120}", opt: bool) {
            if let Some(e) = parse(&s, opt) {
                prop_assert!(s.contains(e.msg));
                prop_assert!(s.contains(e.tag));
            }
        }
    }
}
