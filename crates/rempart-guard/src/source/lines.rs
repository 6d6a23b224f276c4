//! Splitting a byte stream into lines without trusting it: a line longer than the limit is cut
//! (its head is kept, the rest skipped up to the next newline) so a megabyte-long line never
//! grows memory; bytes that are not UTF-8 are replaced, not fatal; `\r\n` endings are accepted.
//! The reader counts the bytes it consumed so a follower can save an exact offset; an unfinished
//! last line is left unread until its newline arrives (or handed out at the end when reading a
//! finished file).

use std::borrow::Cow;
use std::io::{self, Read};

/// Longest line kept whole, in bytes; longer lines are cut to this.
pub const MAX_LINE: usize = 16 * 1024;

/// A line-splitting reader over any byte source.
#[derive(Debug)]
pub struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    max_line: usize,
    /// Skipping the tail of a cut line up to its newline.
    skipping: bool,
    /// Bytes consumed as complete lines (including skipped tails and newlines).
    consumed: u64,
    eof: bool,
}

/// One line as read.
#[derive(Debug, PartialEq, Eq)]
pub struct RawLine<'a> {
    /// The bytes, without the newline (and without a `\r` before it).
    pub bytes: &'a [u8],
    /// Whether the line was longer than the limit and cut.
    pub truncated: bool,
}

impl RawLine<'_> {
    /// The line as text (invalid UTF-8 replaced).
    pub fn text(&self) -> Cow<'_, str> {
        match std::str::from_utf8(self.bytes) {
            Ok(s) => Cow::Borrowed(s),
            Err(_) => String::from_utf8_lossy(self.bytes),
        }
    }
}

impl<R: Read> LineReader<R> {
    /// A reader with the default line limit.
    pub fn new(inner: R) -> LineReader<R> {
        LineReader::with_limit(inner, MAX_LINE)
    }

    /// A reader cutting lines at `max_line` bytes.
    pub fn with_limit(inner: R, max_line: usize) -> LineReader<R> {
        let max_line = max_line.max(16);
        LineReader {
            inner,
            buf: vec![0; (max_line * 4).max(64 * 1024)],
            start: 0,
            end: 0,
            max_line,
            skipping: false,
            consumed: 0,
            eof: false,
        }
    }

    /// Bytes consumed as complete lines since the start.
    pub fn consumed(&self) -> u64 {
        self.consumed
    }

    /// The underlying reader.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// Whether the source reported end of input on the last read.
    pub fn at_eof(&self) -> bool {
        self.eof
    }

    /// The next complete line, or `None` at the end of the available input. With
    /// `take_partial`, an unfinished last line is returned too (reading a finished file);
    /// without it, it stays unread (following a file being written).
    pub fn next_line(&mut self, take_partial: bool) -> io::Result<Option<RawLine<'_>>> {
        loop {
            let window = &self.buf[self.start..self.end];
            if let Some(nl) = memchr::memchr(b'\n', window) {
                let s = self.start;
                self.start += nl + 1;
                self.consumed += nl as u64 + 1;
                if self.skipping {
                    self.skipping = false;
                    continue;
                }
                let mut line = &self.buf[s..s + nl];
                if line.last() == Some(&b'\r') {
                    line = &line[..line.len() - 1];
                }
                let truncated = line.len() > self.max_line;
                if truncated {
                    line = &line[..self.max_line];
                }
                return Ok(Some(RawLine {
                    bytes: line,
                    truncated,
                }));
            }
            if self.skipping {
                self.consumed += window.len() as u64;
                self.start = 0;
                self.end = 0;
            } else if window.len() >= self.max_line {
                // Too long: hand out the head, skip the rest up to the newline.
                let s = self.start;
                self.start += self.max_line;
                self.consumed += self.max_line as u64;
                self.skipping = true;
                return Ok(Some(RawLine {
                    bytes: &self.buf[s..s + self.max_line],
                    truncated: true,
                }));
            }
            if !self.fill()? {
                self.eof = true;
                if take_partial && self.end > self.start && !self.skipping {
                    let s = self.start;
                    let n = self.end - s;
                    self.start = self.end;
                    self.consumed += n as u64;
                    return Ok(Some(RawLine {
                        bytes: &self.buf[s..s + n],
                        truncated: false,
                    }));
                }
                if take_partial && self.skipping {
                    self.consumed += (self.end - self.start) as u64;
                    self.start = self.end;
                    self.skipping = false;
                }
                return Ok(None);
            }
        }
    }

    /// Reads more input after the kept bytes; `false` at end of input.
    fn fill(&mut self) -> io::Result<bool> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            // Cannot happen: a full buffer holds a line longer than max_line.
            return Ok(false);
        }
        loop {
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(0) => return Ok(false),
                Ok(n) => {
                    self.end += n;
                    self.eof = false;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // A non-blocking pipe with nothing more for now.
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) => return Err(e),
            }
        }
    }
}

/// A batch of lines read ahead by [`read_ahead_with`]: valid UTF-8 text, where each line ends,
/// and what the reading thread prepared for each line.
#[derive(Debug)]
struct Batch<P> {
    text: String,
    /// (end offset in `text`, cut for being too long) per line.
    ends: Vec<(usize, bool)>,
    prepared: Vec<P>,
}

impl<P> Default for Batch<P> {
    fn default() -> Self {
        Batch {
            text: String::new(),
            ends: Vec::new(),
            prepared: Vec::new(),
        }
    }
}

const BATCH_LINES: usize = 4096;

/// Reads `reader` to its end on a second thread (splitting, cutting long lines, checking UTF-8
/// in batches, and running `prepare` on each line: work that needs no state, such as splitting a
/// syslog envelope) while the calling thread hands each line to `on_line` with whether it was
/// cut and what `prepare` made of it. Two cores read and match at once; memory stays at a few
/// batches.
pub fn read_ahead_with<R, P>(
    reader: R,
    prepare: impl Fn(&str) -> P + Send + 'static,
    mut on_line: impl FnMut(&str, bool, &P),
) -> io::Result<()>
where
    R: Read + Send + 'static,
    P: Send + 'static,
{
    use std::sync::mpsc;
    let (tx, rx) = mpsc::sync_channel::<io::Result<Batch<P>>>(4);
    let (back_tx, back_rx) = mpsc::channel::<Batch<P>>();
    let worker = std::thread::Builder::new()
        .name("read-ahead".into())
        .spawn(move || {
            let mut lines = LineReader::new(reader);
            let mut raw: Vec<u8> = Vec::new();
            loop {
                let mut b = back_rx.try_recv().unwrap_or_default();
                b.ends.clear();
                b.prepared.clear();
                raw.clear();
                let mut ends = std::mem::take(&mut b.ends);
                let mut done = false;
                while ends.len() < BATCH_LINES {
                    match lines.next_line(true) {
                        Ok(Some(l)) => {
                            raw.extend_from_slice(l.bytes);
                            ends.push((raw.len(), l.truncated));
                        }
                        Ok(None) => {
                            done = true;
                            break;
                        }
                        Err(e) => {
                            let _ = tx.send(Err(e));
                            return;
                        }
                    }
                }
                let mut text = std::mem::take(&mut b.text);
                text.clear();
                match std::str::from_utf8(&raw) {
                    Ok(t) => text.push_str(t),
                    Err(_) => {
                        // Replace bad bytes line by line so offsets stay per line.
                        let mut start = 0;
                        for e in ends.iter_mut() {
                            text.push_str(&String::from_utf8_lossy(&raw[start..e.0]));
                            start = e.0;
                            e.0 = text.len();
                        }
                    }
                }
                let mut prepared = std::mem::take(&mut b.prepared);
                let mut start = 0;
                for &(end, _) in &ends {
                    prepared.push(prepare(&text[start..end]));
                    start = end;
                }
                if !ends.is_empty()
                    && tx
                        .send(Ok(Batch {
                            text,
                            ends,
                            prepared,
                        }))
                        .is_err()
                {
                    return;
                }
                if done {
                    return;
                }
            }
        })?;
    let mut result = Ok(());
    for batch in rx {
        match batch {
            Ok(b) => {
                let mut start = 0;
                for (&(end, cut), p) in b.ends.iter().zip(&b.prepared) {
                    on_line(&b.text[start..end], cut, p);
                    start = end;
                }
                let _ = back_tx.send(b);
            }
            Err(e) => {
                result = Err(e);
                break;
            }
        }
    }
    drop(back_tx);
    let _ = worker.join();
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn all(data: &[u8], limit: usize, partial: bool) -> (Vec<(Vec<u8>, bool)>, u64) {
        let mut r = LineReader::with_limit(data, limit);
        let mut out = Vec::new();
        while let Some(l) = r.next_line(partial).unwrap() {
            out.push((l.bytes.to_vec(), l.truncated));
        }
        (out, r.consumed())
    }

    #[test]
    fn splits_cuts_and_keeps_partial_lines() {
        let (lines, n) = all(b"a\r\nbb\n\xff\xfe\nunfinished", 16, false);
        assert_eq!(
            lines,
            vec![
                (b"a".to_vec(), false),
                (b"bb".to_vec(), false),
                (b"\xff\xfe".to_vec(), false)
            ]
        );
        assert_eq!(n, 9, "the unfinished line is not consumed");
        let (lines, n) = all(b"a\nunfinished", 16, true);
        assert_eq!(lines.len(), 2);
        assert_eq!(n, 12);
        let long = [b'x'; 100];
        let mut data = long.to_vec();
        data.extend_from_slice(b"\nnext\n");
        let (lines, n) = all(&data, 16, false);
        assert_eq!(
            lines,
            vec![(vec![b'x'; 16], true), (b"next".to_vec(), false)]
        );
        assert_eq!(n, data.len() as u64);
    }

    #[test]
    fn a_megabyte_line_does_not_grow_the_buffer() {
        let mut data = vec![b'y'; 4 << 20];
        data.push(b'\n');
        data.extend_from_slice(b"ok\n");
        let mut r = LineReader::new(&data[..]);
        let first = r.next_line(false).unwrap().unwrap();
        assert!(first.truncated);
        assert_eq!(first.bytes.len(), MAX_LINE);
        assert_eq!(r.next_line(false).unwrap().unwrap().bytes, b"ok");
        assert!(r.buf.len() <= 4 * MAX_LINE);
    }

    #[test]
    fn read_ahead_yields_the_same_lines() {
        let mut data = Vec::new();
        for i in 0..10_000 {
            data.extend_from_slice(format!("line {i}\n").as_bytes());
        }
        data.extend_from_slice(b"bad \xff byte\n");
        data.extend_from_slice(&vec![b'z'; MAX_LINE + 5]);
        data.extend_from_slice(b"\nlast");
        let mut got = Vec::new();
        read_ahead_with(
            std::io::Cursor::new(data.clone()),
            |l| l.len(),
            |l, cut, len| {
                assert_eq!(*len, l.len(), "prepared from the same line");
                got.push((l.to_string(), cut))
            },
        )
        .unwrap();
        let (want, _) = all(&data, MAX_LINE, true);
        assert_eq!(got.len(), want.len());
        for ((g, gc), (w, wc)) in got.iter().zip(&want) {
            assert_eq!(g, &String::from_utf8_lossy(w));
            assert_eq!(gc, wc);
        }
        assert_eq!(got[10_000].0, "bad \u{fffd} byte");
    }

    proptest! {
        #[test]
        fn consumes_exactly_the_complete_lines(data in proptest::collection::vec(any::<u8>(), 0..600), limit in 16usize..64) {
            let (lines, n) = all(&data, limit, false);
            let last_nl = data.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
            // An unfinished tail is left unread, unless it is already too long (then its head
            // was handed out and the rest is being skipped).
            if data.len() - last_nl < limit {
                prop_assert_eq!(n, last_nl as u64);
            } else {
                prop_assert!(n >= last_nl as u64 && n <= data.len() as u64);
            }
            for (l, _) in &lines {
                prop_assert!(l.len() <= limit);
                prop_assert!(!l.contains(&b'\n'));
            }
            let (_, n) = all(&data, limit, true);
            prop_assert_eq!(n, data.len() as u64);
        }
    }
}
