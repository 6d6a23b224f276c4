//! Filter files written in fail2ban's syntax, compiled and run.

use super::*;
use jiff::tz::TimeZone;
use jiff::Timestamp;

fn clock() -> Clock {
    Clock::new(
        TimeZone::UTC,
        Timestamp::from_second(1_749_988_800).unwrap(),
    )
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn run(f: &mut F2bFilter, line: &str) -> Option<(String, Option<String>)> {
    f.examine(&Input::line(line), &clock())
        .map(|x| (x.host.to_string(), x.time.map(|t| t.to_string())))
}

#[test]
fn a_custom_filter_with_includes_tags_and_ignoreregex() {
    let d = tempfile::tempdir().unwrap();
    write(
        d.path(),
        "common.conf",
        "[DEFAULT]\n__prefix_line = \\s*\\S+ %(_daemon)s(?:\\[\\d+\\])?:\\s+\n",
    );
    let f = write(
        d.path(),
        "koprogo-api.conf",
        "# API abuse, as the guide's custom filter\n\
         [INCLUDES]\nbefore = common.conf\n\
         [Definition]\n_daemon = koprogo\n\
         failregex = ^%(__prefix_line)sauth failed for <F-USER>\\S+</F-USER> from <HOST>$\n\
         \x20           ^%(__prefix_line)stoken rejected \\(ip=<ADDR>\\)$\n\
         ignoreregex = from 192\\.0\\.2\\.\\d+$\n",
    );
    let mut flt = F2bFilter::load(&f, &BTreeMap::new()).unwrap();
    assert_eq!(
        run(
            &mut flt,
            "Jun 14 09:15:02 web1 koprogo[12]: auth failed for bob from 203.0.113.5"
        ),
        Some(("203.0.113.5".into(), Some("2025-06-14T09:15:02Z".into())))
    );
    assert_eq!(
        run(
            &mut flt,
            "2025-06-14T09:15:03Z web1 koprogo: token rejected (ip=2001:db8::9)"
        ),
        Some(("2001:db8::9".into(), Some("2025-06-14T09:15:03Z".into())))
    );
    assert_eq!(
        run(
            &mut flt,
            "Jun 14 09:15:04 web1 koprogo[12]: auth failed for bob from 192.0.2.7"
        ),
        None,
        "ignoreregex"
    );
    assert_eq!(
        run(
            &mut flt,
            "Jun 14 09:15:05 web1 other[12]: auth failed for bob from 203.0.113.5"
        ),
        None
    );
}

#[test]
fn init_variables_modes_prefregex_and_datepattern() {
    let d = tempfile::tempdir().unwrap();
    let f = write(
        d.path(),
        "app.conf",
        "[Init]\nmode = normal\n\
         [Definition]\n\
         prefregex = ^\\s*app: <F-CONTENT>.+</F-CONTENT>$\n\
         mdre-normal = login failed from <HOST>\n\
         mdre-aggressive = %(mdre-normal)s\n\
         \x20                 probe from <HOST>\n\
         failregex = <mdre-<mode>>\n\
         datepattern = ^%%d/%%m/%%Y %%H:%%M:%%S\n",
    );
    let mut normal = F2bFilter::load(&f, &BTreeMap::new()).unwrap();
    let line = "14/06/2025 09:15:02 app: probe from 203.0.113.9";
    assert_eq!(run(&mut normal, line), None);
    let vars = BTreeMap::from([("mode".to_string(), "aggressive".to_string())]);
    let mut aggr = F2bFilter::load(&f, &vars).unwrap();
    assert_eq!(
        run(&mut aggr, line),
        Some(("203.0.113.9".into(), Some("2025-06-14T09:15:02Z".into())))
    );
    assert_eq!(
        run(
            &mut aggr,
            "14/06/2025 09:15:03 other: probe from 203.0.113.9"
        ),
        None,
        "prefregex must match"
    );
}

#[test]
fn multi_line_ids_follow_a_connection() {
    let d = tempfile::tempdir().unwrap();
    let f = write(
        d.path(),
        "conn.conf",
        "[Definition]\n\
         prefregex = ^\\s*<F-MLFID>srv\\[\\d+\\]:</F-MLFID> <F-CONTENT>.+</F-CONTENT>$\n\
         failregex = ^<F-NOFAIL>connect from</F-NOFAIL> <HOST>$\n\
         \x20           ^too many failures$\n\
         \x20           ^<F-NOFAIL><F-MLFFORGET>closed</F-MLFFORGET></F-NOFAIL>$\n",
    );
    let mut flt = F2bFilter::load(&f, &BTreeMap::new()).unwrap();
    assert_eq!(
        run(&mut flt, "Jun 14 09:15:02 srv[7]: connect from 203.0.113.3"),
        None
    );
    assert_eq!(
        run(&mut flt, "Jun 14 09:15:03 srv[7]: too many failures").map(|x| x.0),
        Some("203.0.113.3".into())
    );
    assert_eq!(
        run(&mut flt, "Jun 14 09:15:04 srv[8]: too many failures"),
        None
    );
    assert_eq!(run(&mut flt, "Jun 14 09:15:05 srv[7]: closed"), None);
    assert_eq!(
        run(&mut flt, "Jun 14 09:15:06 srv[7]: too many failures"),
        None
    );
}

#[test]
fn lookaround_runs_on_the_backtracking_engine() {
    let d = tempfile::tempdir().unwrap();
    let f = write(
        d.path(),
        "la.conf",
        "[Definition]\nfailregex = ^\\s*denied (?!trusted )\\S+ <HOST>$\n",
    );
    let mut flt = F2bFilter::load(&f, &BTreeMap::new()).unwrap();
    assert!(run(&mut flt, "Jun 14 09:15:02 denied bob 203.0.113.4").is_some());
    assert!(run(&mut flt, "Jun 14 09:15:02 denied trusted 203.0.113.4").is_none());
}

#[test]
fn unsupported_constructs_name_file_and_line() {
    let d = tempfile::tempdir().unwrap();
    let cases = [
        (
            "[Definition]\n\nfailregex = ^(?P<u>x)?(?(u)a|b) <HOST>$\n",
            ":3:",
            "conditional",
        ),
        (
            "[Definition]\nfailregex = ^a <HOST>$\n            <SKIPLINES>^b$\n",
            ":3:",
            "SKIPLINES",
        ),
        (
            "[Init]\nmaxlines = 3\n[Definition]\nfailregex = ^a <HOST>$\n",
            ":2:",
            "maxlines",
        ),
        (
            "[Definition]\nfailregex = ^a <HOST>$\ndatepattern = TAI64N\n",
            ":3:",
            "TAI64N",
        ),
        ("[Definition]\nfailregex = ^a (<HOST>$\n", ":2:", ""),
    ];
    for (i, (text, at, what)) in cases.iter().enumerate() {
        let f = write(d.path(), &format!("bad{i}.conf"), text);
        let e = F2bFilter::load(&f, &BTreeMap::new())
            .unwrap_err()
            .to_string();
        assert!(e.contains(&format!("bad{i}.conf{at}")), "{e}");
        assert!(e.contains(what), "{e}");
    }
    let f = write(d.path(), "empty.conf", "[Definition]\nignoreregex = x\n");
    assert!(matches!(
        F2bFilter::load(&f, &BTreeMap::new()),
        Err(F2bError::NoFailregex { .. })
    ));
}
