//! HTTP/1.x response parsing: status line, header fields (kept in order, duplicates kept, as
//! `Set-Cookie` needs), and the body framed by `Transfer-Encoding: chunked`, `Content-Length`
//! or the end of the connection. Bounded: a header section larger than [`MAX_HEAD`] is an error,
//! a body is cut at the caller's limit and marked truncated. Interim 1xx responses are skipped.
//! A pure function of bytes, so it is fuzzed and property-tested.

/// The largest header section accepted.
pub const MAX_HEAD: usize = 64 * 1024;

/// A parsed response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub reason: String,
    /// Header fields as received (name case kept), in order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The body was longer than the limit and was cut.
    pub truncated: bool,
}

impl Response {
    /// The first value of a header (case-insensitive name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a header, in order.
    pub fn headers_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn is_redirect(&self) -> bool {
        matches!(self.status, 301 | 302 | 303 | 307 | 308)
    }
}

/// Why bytes are not (yet) a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// More bytes are needed (and the connection is still open).
    Incomplete,
    /// Not an HTTP response.
    Invalid(String),
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParseError::Incomplete => f.write_str("the response ended early"),
            ParseError::Invalid(m) => write!(f, "not a valid HTTP response: {m}"),
        }
    }
}

fn invalid<T>(m: impl Into<String>) -> Result<T, ParseError> {
    Err(ParseError::Invalid(m.into()))
}

/// Find the end of the header section: the index just after the blank line.
fn head_end(buf: &[u8]) -> Option<usize> {
    let mut i = 0;
    while i < buf.len() {
        if buf[i] == b'\n' {
            if buf.get(i + 1) == Some(&b'\n') {
                return Some(i + 2);
            }
            if buf.get(i + 1) == Some(&b'\r') && buf.get(i + 2) == Some(&b'\n') {
                return Some(i + 3);
            }
        }
        i += 1;
    }
    None
}

/// Parse a response from `buf`. `eof` says the connection is closed (a body without framing
/// ends there); `max_body` bounds the body kept. `head_only`: the request was HEAD (no body).
pub fn parse_response(
    buf: &[u8],
    eof: bool,
    max_body: usize,
    head_only: bool,
) -> Result<Response, ParseError> {
    let mut start = 0usize;
    loop {
        let rest = &buf[start..];
        let Some(end) = head_end(rest) else {
            if rest.len() > MAX_HEAD {
                return invalid(format!("header section over {MAX_HEAD} bytes"));
            }
            if eof {
                return if rest.is_empty() {
                    invalid("the connection closed without a response")
                } else {
                    Err(ParseError::Incomplete)
                };
            }
            return Err(ParseError::Incomplete);
        };
        if end > MAX_HEAD {
            return invalid(format!("header section over {MAX_HEAD} bytes"));
        }
        let head = String::from_utf8_lossy(&rest[..end]);
        let mut lines = head.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
        let status_line = lines.next().unwrap_or("");
        let (status, reason) = parse_status_line(status_line)?;
        let mut headers = Vec::new();
        for line in lines {
            if line.is_empty() {
                continue;
            }
            if line.starts_with([' ', '\t']) {
                // Obsolete line folding: continue the previous value.
                if let Some((_, v)) = headers.last_mut() {
                    let v: &mut String = v;
                    v.push(' ');
                    v.push_str(line.trim());
                }
                continue;
            }
            let Some((name, value)) = line.split_once(':') else {
                return invalid(format!("header line without a colon: {:.60}", line));
            };
            if name.is_empty() || name.contains([' ', '\t']) {
                return invalid(format!("bad header name {:.60}", name));
            }
            headers.push((name.to_string(), value.trim().to_string()));
        }
        let body_start = start + end;
        if (100..200).contains(&status) && status != 101 {
            start = body_start;
            continue;
        }
        let mut r = Response {
            status,
            reason,
            headers,
            body: Vec::new(),
            truncated: false,
        };
        if head_only || status == 204 || status == 304 {
            return Ok(r);
        }
        let body = &buf[body_start..];
        let chunked = r
            .header("transfer-encoding")
            .is_some_and(|te| te.to_ascii_lowercase().contains("chunked"));
        if chunked {
            let (data, complete, truncated) = dechunk(body, max_body)?;
            if !complete && !eof && !truncated {
                return Err(ParseError::Incomplete);
            }
            r.body = data;
            r.truncated = truncated || !complete;
            return Ok(r);
        }
        if let Some(cl) = r.header("content-length") {
            let n: usize = cl
                .trim()
                .parse()
                .or_else(|_| invalid(format!("bad Content-Length {cl:.40}")))?;
            if body.len() >= n || body.len() >= max_body {
                let keep = n.min(max_body);
                r.body = body[..keep.min(body.len())].to_vec();
                r.truncated = n > max_body;
                return Ok(r);
            }
            if eof {
                r.body = body.to_vec();
                r.truncated = true;
                return Ok(r);
            }
            return Err(ParseError::Incomplete);
        }
        if body.len() >= max_body {
            r.body = body[..max_body].to_vec();
            r.truncated = true;
            return Ok(r);
        }
        if !eof {
            return Err(ParseError::Incomplete);
        }
        r.body = body.to_vec();
        return Ok(r);
    }
}

fn parse_status_line(line: &str) -> Result<(u16, String), ParseError> {
    let Some(rest) = line.strip_prefix("HTTP/") else {
        return invalid(format!("status line {:.60}", line));
    };
    let mut parts = rest.splitn(3, ' ');
    let version = parts.next().unwrap_or("");
    if !matches!(version, "1.0" | "1.1") {
        return invalid(format!("HTTP version {version:.10}"));
    }
    let code = parts.next().unwrap_or("");
    if code.len() != 3 {
        return invalid(format!("status code {code:.10}"));
    }
    let status: u16 = code
        .parse()
        .ok()
        .filter(|c| (100..600).contains(c))
        .ok_or_else(|| ParseError::Invalid(format!("status code {code:.10}")))?;
    Ok((status, parts.next().unwrap_or("").to_string()))
}

/// Decode a chunked body: (data, complete, truncated at max).
fn dechunk(mut b: &[u8], max: usize) -> Result<(Vec<u8>, bool, bool), ParseError> {
    let mut out = Vec::new();
    loop {
        let Some(nl) = b.iter().position(|c| *c == b'\n') else {
            return Ok((out, false, false));
        };
        let line = String::from_utf8_lossy(&b[..nl]);
        let size_text = line.trim().split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16)
            .or_else(|_| invalid(format!("bad chunk size {size_text:.20}")))?;
        b = &b[nl + 1..];
        if size == 0 {
            return Ok((out, true, false));
        }
        if b.len() < size {
            let room = max.saturating_sub(out.len());
            out.extend_from_slice(&b[..b.len().min(room)]);
            let full = out.len() >= max;
            return Ok((out, false, full));
        }
        let room = max.saturating_sub(out.len());
        if size > room {
            out.extend_from_slice(&b[..room]);
            return Ok((out, false, true));
        }
        out.extend_from_slice(&b[..size]);
        b = &b[size..];
        // The CRLF after the chunk data.
        if b.starts_with(b"\r\n") {
            b = &b[2..];
        } else if b.starts_with(b"\n") {
            b = &b[1..];
        } else if b.is_empty() || b == b"\r" {
            return Ok((out, false, false));
        } else {
            return invalid("chunk data not followed by a line end");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const NGINX_404: &[u8] = b"HTTP/1.1 404 Not Found\r\nServer: nginx/1.22.1\r\nDate: Tue, 04 Jun 2024 10:00:00 GMT\r\nContent-Type: text/html\r\nContent-Length: 153\r\nConnection: close\r\n\r\n<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx/1.22.1</center>\r\n</body>\r\n</html>\r\n";

    #[test]
    fn content_length_body() {
        let r = parse_response(NGINX_404, false, 1 << 20, false).unwrap();
        assert_eq!(r.status, 404);
        assert_eq!(r.header("server"), Some("nginx/1.22.1"));
        assert_eq!(r.body.len(), 153);
        assert!(r.text().contains("<center>nginx/1.22.1</center>"));
        // One byte short, connection open: incomplete.
        let cut = &NGINX_404[..NGINX_404.len() - 1];
        assert_eq!(
            parse_response(cut, false, 1 << 20, false),
            Err(ParseError::Incomplete)
        );
        assert!(parse_response(cut, true, 1 << 20, false).unwrap().truncated);
    }

    #[test]
    fn chunked_cookies_and_interim() {
        let raw = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nSet-Cookie: sessionid=abc; HttpOnly; Path=/\r\nset-cookie: csrftoken=x; Secure\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\n\r\n";
        let r = parse_response(raw, false, 1 << 20, false).unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.text(), "hello world");
        assert_eq!(r.headers_all("Set-Cookie").count(), 2);
        let part = &raw[..raw.len() - 7];
        assert_eq!(
            parse_response(part, false, 1 << 20, false),
            Err(ParseError::Incomplete)
        );
        let small = parse_response(raw, false, 7, false).unwrap();
        assert_eq!((small.text().as_str(), small.truncated), ("hello w", true));
    }

    #[test]
    fn until_close_and_errors() {
        let raw = b"HTTP/1.0 200 OK\nServer: SimpleHTTP/0.6 Python/3.11.2\n\nIndex of";
        assert_eq!(
            parse_response(raw, false, 100, false),
            Err(ParseError::Incomplete)
        );
        let r = parse_response(raw, true, 100, false).unwrap();
        assert_eq!(r.text(), "Index of");
        assert!(matches!(
            parse_response(b"SSH-2.0-OpenSSH_9.2\r\n\r\n", true, 10, false),
            Err(ParseError::Invalid(_))
        ));
        assert!(matches!(
            parse_response(b"", true, 10, false),
            Err(ParseError::Invalid(_))
        ));
        assert!(matches!(
            parse_response(
                b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
                true,
                10,
                false
            ),
            Err(ParseError::Invalid(_))
        ));
        let big = [
            b"HTTP/1.1 200 OK\r\nX: ".as_slice(),
            &vec![b'a'; MAX_HEAD + 10],
        ]
        .concat();
        assert!(matches!(
            parse_response(&big, false, 10, false),
            Err(ParseError::Invalid(_))
        ));
    }

    proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600), eof in any::<bool>(), max in 0usize..200) {
            let _ = parse_response(&bytes, eof, max, false);
        }

        #[test]
        fn bodies_round_trip(body in proptest::collection::vec(any::<u8>(), 0..300), chunk in 1usize..50, chunked in any::<bool>()) {
            let mut raw = b"HTTP/1.1 200 OK\r\n".to_vec();
            if chunked {
                raw.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
                for c in body.chunks(chunk) {
                    raw.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
                    raw.extend_from_slice(c);
                    raw.extend_from_slice(b"\r\n");
                }
                raw.extend_from_slice(b"0\r\n\r\n");
            } else {
                raw.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
                raw.extend_from_slice(&body);
            }
            let r = parse_response(&raw, false, 1 << 20, false).unwrap();
            prop_assert_eq!(r.body, body.clone());
            prop_assert!(!r.truncated);
            // A prefix is never mistaken for the whole response.
            if raw.len() > 1 {
                let cut = &raw[..raw.len() - 1];
                match parse_response(cut, false, 1 << 20, false) {
                    Err(ParseError::Incomplete) => {}
                    Ok(r) => prop_assert!(r.body.len() < body.len() || (chunked && r.body == body)),
                    Err(e) => prop_assert!(false, "{e}"),
                }
            }
        }

        #[test]
        fn headers_keep_every_value(values in proptest::collection::vec("[a-zA-Z0-9=;/ ._-]{0,20}", 0..6)) {
            let mut raw = b"HTTP/1.1 204 No Content\r\n".to_vec();
            for v in &values {
                raw.extend_from_slice(format!("Set-Cookie: {v}\r\n").as_bytes());
            }
            raw.extend_from_slice(b"\r\n");
            let r = parse_response(&raw, false, 10, false).unwrap();
            let got: Vec<&str> = r.headers_all("set-cookie").collect();
            let want: Vec<String> = values.iter().map(|v| v.trim().to_string()).collect();
            prop_assert_eq!(got, want);
        }
    }
}
