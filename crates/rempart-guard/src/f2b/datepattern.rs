//! fail2ban `datepattern`: a regular expression with strftime directives (`%Y-%m-%d %H:%M:%S`),
//! optionally anchored with `{^LN-BEG}`, or one of the names `Epoch`, `ISO8601`, `{DATE}` (the
//! default detection). Several lines are alternatives, tried in order. `TAI64N` and `%j` are not
//! supported (an error says so).

use super::pyre;
use crate::time::{self, Civil, Clock};
use jiff::Timestamp;
use regex::Regex;
use std::ops::Range;

/// How a filter finds the time in a line.
#[derive(Debug, Clone)]
pub enum DatePattern {
    /// fail2ban's default: any known format, the first in the line.
    Auto,
    /// Custom patterns, tried in order.
    Custom(Vec<Compiled>),
}

/// One compiled alternative.
#[derive(Debug, Clone)]
pub enum Compiled {
    /// Epoch seconds (with an optional fraction).
    Epoch { anchored: bool },
    /// The default detection, at the line start.
    AutoAnchored,
    /// A pattern with named groups for the fields.
    Regex(Regex),
    /// A pattern needing back-references (`(?P=sep)`), with named groups for the fields.
    Fancy(Box<fancy_regex::Regex>),
    /// A locating pattern with `{DATE}` inside: the default detection at that place.
    Locate(Regex),
}

/// Turns one datepattern line into a Rust regex (or a named kind).
pub fn compile_one(line: &str) -> Result<Compiled, String> {
    let mut s = line.trim().to_string();
    let mut anchored = false;
    for (tag, anchor) in [("{^LN-BEG}", true), ("{UNB}", false)] {
        if s.contains(tag) {
            s = s.replace(tag, "");
            anchored |= anchor;
        }
    }
    let up = s.trim().to_ascii_uppercase();
    if up.is_empty() {
        return Ok(if anchored {
            Compiled::AutoAnchored
        } else {
            Compiled::Regex(Regex::new("$^").map_err(|e| e.to_string())?)
        });
    }
    if s.contains("{DATE}") {
        let p = s
            .replacen("{DATE}", "(?P<date_at>)", 1)
            .replace("{DATE}", "");
        let t = pyre::translate(&p).map_err(|e| e.0)?;
        let re = regex::RegexBuilder::new(&t.pattern)
            .size_limit(1 << 20)
            .build()
            .map_err(|e| format!("date pattern `{line}`: {e}"))?;
        return Ok(Compiled::Locate(re));
    }
    if up == "EPOCH" || up == "{EPOCH}" {
        return Ok(Compiled::Epoch { anchored });
    }
    if up == "TAI64N" || up == "{TAI64N}" {
        return Err("the TAI64N date pattern is not supported".to_string());
    }
    if up == "ISO8601" || up == "{ISO8601}" {
        s = "%Y-%m-%d[T ]%H:%M:%S(?:[.,]%f)?(?:%z)?".to_string();
    }
    let mut out = String::new();
    if anchored {
        out.push_str(r"^\s*");
    }
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    let mut seen = Vec::new();
    while i < chars.len() {
        if chars[i] != '%' {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let mut d = *chars.get(i + 1).ok_or("the date pattern ends with `%`")?;
        i += 2;
        if d == 'E' && chars.get(i) == Some(&'x') {
            // fail2ban's extended directives (%ExY...) read like the plain ones.
            d = *chars.get(i + 1).ok_or("the date pattern ends with `%Ex`")?;
            i += 2;
        }
        let (name, re) = match d {
            '%' => {
                out.push('%');
                continue;
            }
            'Y' => ("Y", r"\d{4}"),
            'y' => ("y", r"\d{2}"),
            'm' => ("m", r"1[0-2]|0?[1-9]"),
            'd' | 'e' => ("d", r"3[01]|[12]\d|0?[1-9]| [1-9]"),
            'H' | 'k' => ("H", r"2[0-3]|[01]?\d| \d"),
            'I' | 'l' => ("I", r"1[0-2]|0?[1-9]| [1-9]"),
            'M' => ("M", r"[0-5]\d"),
            'S' => ("S", r"[0-5]\d|60"),
            'f' => ("f", r"\d{1,9}"),
            'b' | 'B' | 'h' => ("b", r"[A-Za-z]{3,9}"),
            'a' | 'A' => ("", r"[A-Za-z]{3,9}"),
            'p' => ("p", r"[AaPp][Mm]"),
            'z' => ("z", r"Z|[+-]\d{2}(?::?\d{2})?"),
            'Z' => ("Z", r"[A-Z]{1,5}"),
            's' => ("s", r"\d{9,11}(?:\.\d+)?"),
            other => return Err(format!("date directive `%{other}` is not supported")),
        };
        if name.is_empty() || seen.contains(&name) {
            out.push_str(&format!("(?:{re})"));
        } else {
            seen.push(name);
            out.push_str(&format!("(?P<{name}>{re})"));
        }
    }
    let t = pyre::translate(&out).map_err(|e| e.0)?;
    if seen.is_empty() {
        return Err(format!("date pattern `{line}` has no date directive"));
    }
    if t.fancy {
        let re = fancy_regex::Regex::new(&t.pattern)
            .map_err(|e| format!("date pattern `{line}`: {e}"))?;
        return Ok(Compiled::Fancy(Box::new(re)));
    }
    let re = regex::RegexBuilder::new(&t.pattern)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| format!("date pattern `{line}`: {e}"))?;
    Ok(Compiled::Regex(re))
}

/// Compiles a `datepattern` value (one alternative per line); `{DATE}` alone means the default.
pub fn compile(lines: &[&str]) -> Result<DatePattern, String> {
    let lines: Vec<&str> = lines
        .iter()
        .map(|l| l.trim())
        .filter(|l| !l.is_empty())
        .collect();
    if lines.is_empty() || lines == ["{DATE}"] {
        return Ok(DatePattern::Auto);
    }
    Ok(DatePattern::Custom(
        lines
            .iter()
            .map(|l| compile_one(l))
            .collect::<Result<_, _>>()?,
    ))
}

impl DatePattern {
    /// The time in `line` and where it is.
    pub fn find(&self, clock: &Clock, line: &str) -> Option<(Timestamp, Range<usize>)> {
        match self {
            DatePattern::Auto => time::find_any(clock, line),
            DatePattern::Custom(alts) => alts.iter().find_map(|c| match c {
                Compiled::Epoch { anchored } => {
                    let start = if *anchored {
                        line.len() - line.trim_start().len()
                    } else {
                        line.find(|c: char| c.is_ascii_digit())?
                    };
                    let (t, n) = time::epoch(&line[start..])?;
                    Some((t, start..start + n))
                }
                Compiled::AutoAnchored => {
                    let mut start = line.len() - line.trim_start().len();
                    // fail2ban cuts the date, not the brackets around it.
                    if line[start..].starts_with('[') {
                        start += 1;
                    }
                    let (t, n) = time::leading(clock, &line[start..])?;
                    Some((t, start..start + n))
                }
                Compiled::Regex(re) => {
                    let caps = re.captures(line)?;
                    let all = caps.get(0)?;
                    let get = |n: &str| caps.name(n).map(|m| m.as_str());
                    Some((from_fields(clock, &get)?, all.range()))
                }
                Compiled::Fancy(re) => {
                    let caps = re.captures(line).ok()??;
                    let all = caps.get(0)?;
                    let get = |n: &str| caps.name(n).map(|m| m.as_str());
                    Some((from_fields(clock, &get)?, all.start()..all.end()))
                }
                Compiled::Locate(re) => {
                    let mut at = re.captures(line)?.name("date_at")?.start();
                    if line[at..].starts_with('[') {
                        at += 1;
                    }
                    let (t, n) = time::leading(clock, &line[at..])?;
                    Some((t, at..at + n))
                }
            }),
        }
    }
}

type Fields<'a> = dyn Fn(&str) -> Option<&'a str> + 'a;

fn num(caps: &Fields<'_>, name: &str) -> Option<i32> {
    caps(name)?.trim().parse().ok()
}

fn from_fields(clock: &Clock, caps: &Fields<'_>) -> Option<Timestamp> {
    if let Some(s) = caps("s") {
        return time::epoch(s).map(|(t, _)| t);
    }
    let month = match caps("b") {
        Some(b) => time::month_number(b.get(..3)?)?,
        None => num(caps, "m")? as i8,
    };
    let mut hour = num(caps, "H").or_else(|| num(caps, "I")).unwrap_or(0);
    if let Some(p) = caps("p") {
        let pm = p.eq_ignore_ascii_case("pm");
        hour = hour % 12 + if pm { 12 } else { 0 };
    }
    let nanos = caps("f").map_or(0, |digits| {
        let v: i32 = digits.parse().unwrap_or(0);
        v * 10i32.pow(9u32.saturating_sub(digits.len() as u32))
    });
    let year = num(caps, "Y").or_else(|| num(caps, "y").map(|y| 2000 + y));
    let civil = Civil {
        year: year.unwrap_or(i32::from(clock.year())) as i16,
        month,
        day: num(caps, "d")? as i8,
        hour: hour as i8,
        minute: num(caps, "M").unwrap_or(0) as i8,
        second: num(caps, "S").unwrap_or(0) as i8,
        nanos,
    };
    let offset = match (caps("z"), caps("Z")) {
        (Some(z), _) => Some(time::parse_offset(z)?),
        (None, Some("UTC" | "GMT" | "Z")) => Some(0),
        _ => None,
    };
    let ts = time::civil_to_timestamp(clock, civil, offset)?;
    if year.is_none() && ts.as_second() > clock.now().as_second() + 86_400 {
        let mut c = civil;
        c.year -= 1;
        return time::civil_to_timestamp(clock, c, offset);
    }
    Some(ts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn clock() -> Clock {
        Clock::new(
            jiff::tz::TimeZone::UTC,
            Timestamp::from_second(1_749_988_800).unwrap(),
        )
    }

    #[test]
    fn custom_patterns_read_their_fields() {
        let c = clock();
        let p = compile(&[r"^%Y-%m-%d %H:%M:%S"]).unwrap();
        let (t, r) = p.find(&c, "2025-06-14 09:15:02 x").unwrap();
        assert_eq!((t.to_string().as_str(), r), ("2025-06-14T09:15:02Z", 0..19));
        let p = compile(&[r"\[%d/%b/%Y:%H:%M:%S %z\]"]).unwrap();
        let (t, _) = p
            .find(&c, "1.2.3.4 - - [14/Jun/2025:09:15:02 +0200] x")
            .unwrap();
        assert_eq!(t.to_string(), "2025-06-14T07:15:02Z");
        let p = compile(&["{^LN-BEG}%b %d %H:%M:%S"]).unwrap();
        let (t, _) = p.find(&c, "Dec 24 10:00:00 h d: x").unwrap();
        assert_eq!(
            t.to_string(),
            "2024-12-24T10:00:00Z",
            "a future date is last year's"
        );
        let p = compile(&["{^LN-BEG}EPOCH"]).unwrap();
        let (t, _) = p.find(&c, "1749888000.5 x").unwrap();
        assert_eq!(t.to_string(), "2025-06-14T08:00:00.5Z");
        let p = compile(&["%m/%d/%Y %I:%M:%S %p"]).unwrap();
        let (t, _) = p.find(&c, "06/14/2025 09:15:02 PM").unwrap();
        assert_eq!(t.to_string(), "2025-06-14T21:15:02Z");
        assert!(matches!(compile(&["{DATE}"]).unwrap(), DatePattern::Auto));
        assert!(compile(&["TAI64N"]).is_err());
        assert!(compile(&["%j"]).is_err());
        assert!(compile(&["no directive"]).is_err());
        let p = compile(&[r"^[^\[]*\[({DATE})"]).unwrap();
        let (t, r) = p
            .find(&c, "www 1.2.3.4 - - [14/Jun/2025:09:15:02 +0000] x")
            .unwrap();
        assert_eq!(
            (t.to_string().as_str(), r),
            ("2025-06-14T09:15:02Z", 17..43)
        );
        let p = compile(&["{^LN-BEG}%ExY(?P<_sep>[-/.])%m(?P=_sep)%d[T ]%H:%M:%S"]).unwrap();
        let (t, _) = p.find(&c, "2025/06/14 09:15:02 [error]").unwrap();
        assert_eq!(t.to_string(), "2025-06-14T09:15:02Z");
        assert!(p.find(&c, "2025/06-14 09:15:02 [error]").is_none());
    }

    proptest! {
        #[test]
        fn compile_and_find_never_panic(p in "\\PC{0,30}", line in "\\PC{0,60}") {
            if let Ok(d) = compile(&[p.as_str()]) {
                let _ = d.find(&clock(), &line);
            }
        }
    }
}
