//! The probe's HTTP response parser: never panics on any bytes, at any body limit; a body kept
//! never exceeds the limit; a complete parse of a prefix never claims more body than the bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rempart_probe::http::parse::{parse_response, ParseError};
use rempart_probe::http::Url;

fuzz_target!(|data: &[u8]| {
    let limit = data.first().map_or(0, |b| usize::from(*b) * 4);
    for eof in [false, true] {
        match parse_response(data, eof, limit, false) {
            Ok(r) => {
                assert!(r.body.len() <= limit);
                assert!(r.body.len() <= data.len());
                assert!((100..600).contains(&r.status));
                for (n, _) in &r.headers {
                    assert!(!n.is_empty());
                }
            }
            Err(ParseError::Incomplete) | Err(ParseError::Invalid(_)) => {}
        }
    }
    let text = String::from_utf8_lossy(data);
    if let Ok(u) = Url::parse(&text) {
        assert!(u.path.starts_with('/'));
        let again = Url::parse(&u.to_string()).expect("a printed URL parses");
        assert_eq!(again, u);
        let _ = u.join(&text);
    }
});
