//! Reading and writing the baseline file's outer layout and its tags.

use super::codec::{decode_entry, encode_entry, Reader};
use super::{describe_tags, FormatError, Header, Untrusted, DOMAIN, MAGIC, VERSION};
use crate::auth::{self, AuthKind, KeyId, Signers, Verifier};
use crate::entry::{Entry, Time};
use crate::hash::HashAlgo;
use crate::hostpath;
use std::io::Read;

/// Bounds on what a baseline may make the reader allocate.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest decompressed body.
    pub max_body: u64,
    /// Largest header field (root, host id, policy).
    pub max_field: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body: 4 << 30,
            max_field: 16 << 20,
        }
    }
}

/// One authentication tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub kind: AuthKind,
    pub key_id: KeyId,
    pub tag: Vec<u8>,
}

/// A parsed, not yet trusted, baseline file.
#[derive(Debug)]
pub struct Envelope<'a> {
    pub header: Header,
    /// The authenticated bytes (everything before the tags).
    authenticated: &'a [u8],
    body: &'a [u8],
    body_size: u64,
    pub tags: Vec<Tag>,
}

fn put_u32_bytes(out: &mut Vec<u8>, b: &[u8]) -> Result<(), FormatError> {
    let n = u32::try_from(b.len()).map_err(|_| FormatError::TooLarge(b.len() as u64))?;
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(b);
    Ok(())
}

/// Serialise and authenticate a baseline. `entries` must be sorted by path, without repeats.
pub fn encode(
    header: &Header,
    entries: &[Entry],
    signers: &Signers,
) -> Result<Vec<u8>, FormatError> {
    if signers.hmac.is_none() && signers.sign.is_none() {
        return Err(FormatError::Malformed(
            "a baseline needs at least one key".into(),
        ));
    }
    let raw = encode_entries(entries, header.algo)?;
    let body = zstd::bulk::compress(&raw, 3)
        .map_err(|e| FormatError::Malformed(format!("compression failed: {e}")))?;

    let mut h = Vec::new();
    h.push(header.algo.id());
    h.extend_from_slice(&header.created.secs.to_le_bytes());
    h.extend_from_slice(&header.created.nanos.to_le_bytes());
    put_u32_bytes(&mut h, &header.root)?;
    put_u32_bytes(&mut h, &header.host_id)?;
    h.extend_from_slice(&header.policy_digest);
    put_u32_bytes(&mut h, header.policy.as_bytes())?;
    h.extend_from_slice(&(entries.len() as u64).to_le_bytes());
    h.extend_from_slice(&(raw.len() as u64).to_le_bytes());
    let creator = header.creator.as_bytes();
    let creator = &creator[..creator.len().min(u16::MAX as usize)];
    h.extend_from_slice(&(creator.len() as u16).to_le_bytes());
    h.extend_from_slice(creator);

    let mut out = Vec::with_capacity(body.len() + h.len() + 256);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    put_u32_bytes(&mut out, &h)?;
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.extend_from_slice(&body);

    let msg = auth::message(DOMAIN, &out);
    let mut tags = Vec::new();
    if let Some(k) = &signers.hmac {
        tags.push(Tag {
            kind: AuthKind::HmacSha256,
            key_id: k.id(),
            tag: k.tag(&msg).to_vec(),
        });
    }
    if let Some(k) = &signers.sign {
        tags.push(Tag {
            kind: AuthKind::Ed25519,
            key_id: k.id(),
            tag: k.sign(&msg).to_vec(),
        });
    }
    out.push(tags.len() as u8);
    for t in &tags {
        out.push(t.kind.id());
        out.extend_from_slice(&t.key_id);
        out.extend_from_slice(&(t.tag.len() as u16).to_le_bytes());
        out.extend_from_slice(&t.tag);
    }
    Ok(out)
}

fn u32_field<'a>(r: &mut Reader<'a>, what: &str, limits: &Limits) -> Result<&'a [u8], FormatError> {
    let n = u64::from(u32::from_le_bytes(r.fixed(what)?));
    if n > limits.max_field {
        return Err(FormatError::Malformed(format!(
            "{what} too long ({n} bytes)"
        )));
    }
    r.take(n, what)
}

impl<'a> Envelope<'a> {
    /// Parse the layout and the header. Nothing here is trusted yet.
    pub fn parse(data: &'a [u8], limits: &Limits) -> Result<Envelope<'a>, FormatError> {
        let mut r = Reader::new(data);
        if data.len() < 8 || r.take(8, "magic")? != MAGIC {
            return Err(FormatError::Magic);
        }
        let version = u16::from_le_bytes(r.fixed("version")?);
        if version != VERSION {
            return Err(FormatError::Version(version));
        }
        let hlen = u64::from(u32::from_le_bytes(r.fixed("header length")?));
        let hbytes = r.take(hlen, "header")?;
        let (header, body_size) = parse_header(hbytes, limits)?;
        let blen = u64::from_le_bytes(r.fixed("body length")?);
        let body = r.take(blen, "body")?;
        let authenticated = &data[..r.pos()];
        let n = r.u8("tag count")?;
        if n == 0 || n > 4 {
            return Err(FormatError::Malformed(format!(
                "{n} tags (1 to 4 expected)"
            )));
        }
        let mut tags = Vec::new();
        for _ in 0..n {
            let kind = AuthKind::from_id(r.u8("tag scheme")?)
                .ok_or_else(|| FormatError::Malformed("unknown tag scheme".into()))?;
            let key_id: KeyId = r.fixed("key id")?;
            let len = u16::from_le_bytes(r.fixed("tag length")?);
            if usize::from(len) != kind.tag_len() {
                return Err(FormatError::Malformed(format!(
                    "{} tag of {len} bytes",
                    kind.name()
                )));
            }
            let tag = r.take(u64::from(len), "tag")?.to_vec();
            tags.push(Tag { kind, key_id, tag });
        }
        if r.remaining() != 0 {
            return Err(FormatError::Malformed(format!(
                "{} unexpected bytes after the tags",
                r.remaining()
            )));
        }
        if body_size > limits.max_body {
            return Err(FormatError::TooLarge(body_size));
        }
        Ok(Envelope {
            header,
            authenticated,
            body,
            body_size,
            tags,
        })
    }

    /// Check the tag of the trusted key. Only a tag of the verifier's scheme and key counts;
    /// other tags are ignored (they may be checked by other verifiers).
    pub fn verify(&self, verifier: &Verifier) -> Result<(), Untrusted> {
        let want = verifier.id();
        let Some(tag) = self
            .tags
            .iter()
            .find(|t| t.kind == verifier.kind() && t.key_id == want)
        else {
            return Err(Untrusted::NoTag {
                scheme: verifier.kind().name(),
                want: hostpath::to_hex(&want),
                present: describe_tags(&self.tags),
            });
        };
        let msg = auth::message(DOMAIN, self.authenticated);
        if verifier.check(&msg, &tag.tag) {
            Ok(())
        } else {
            Err(Untrusted::Mismatch {
                scheme: verifier.kind().name(),
                key: hostpath::to_hex(&want),
            })
        }
    }

    /// Decode the entries. Call [`Envelope::verify`] first: this parser is robust, but an
    /// unauthenticated baseline proves nothing.
    pub fn entries(&self, limits: &Limits) -> Result<Vec<Entry>, FormatError> {
        if self.body_size > limits.max_body {
            return Err(FormatError::TooLarge(self.body_size));
        }
        let mut raw = Vec::new();
        zstd::stream::read::Decoder::new(self.body)
            .and_then(|d| d.take(self.body_size + 1).read_to_end(&mut raw))
            .map_err(|e| FormatError::Malformed(format!("body does not decompress: {e}")))?;
        if raw.len() as u64 != self.body_size {
            return Err(FormatError::Malformed(format!(
                "body is {} bytes once decompressed, the header says {}",
                raw.len(),
                self.body_size
            )));
        }
        decode_entries(&raw, self.header.algo, self.header.entries)
    }

    /// BLAKE3 of the whole file as parsed (authenticated part only), to name a baseline in
    /// check records.
    pub fn digest(&self) -> [u8; 32] {
        *blake3::hash(self.authenticated).as_bytes()
    }
}

/// The header, and the size of the body once decompressed.
fn parse_header(h: &[u8], limits: &Limits) -> Result<(Header, u64), FormatError> {
    let mut r = Reader::new(h);
    let algo = HashAlgo::from_id(r.u8("hash algorithm")?)
        .ok_or_else(|| FormatError::Malformed("unknown hash algorithm".into()))?;
    let secs = i64::from_le_bytes(r.fixed("created")?);
    let nanos = u32::from_le_bytes(r.fixed("created")?);
    if nanos >= 1_000_000_000 {
        return Err(FormatError::Malformed(
            "created: nanoseconds out of range".into(),
        ));
    }
    let root = u32_field(&mut r, "root", limits)?.to_vec();
    let host_id = u32_field(&mut r, "host id", limits)?.to_vec();
    let policy_digest: [u8; 32] = r.fixed("policy digest")?;
    let policy = String::from_utf8(u32_field(&mut r, "policy", limits)?.to_vec())
        .map_err(|_| FormatError::Malformed("policy is not UTF-8".into()))?;
    let entries = u64::from_le_bytes(r.fixed("entry count")?);
    let body_size = u64::from_le_bytes(r.fixed("body size")?);
    let clen = u16::from_le_bytes(r.fixed("creator")?);
    let creator = String::from_utf8(r.take(u64::from(clen), "creator")?.to_vec())
        .map_err(|_| FormatError::Malformed("creator is not UTF-8".into()))?;
    if r.remaining() != 0 {
        return Err(FormatError::Malformed(
            "unexpected bytes in the header".into(),
        ));
    }
    if *blake3::hash(policy.as_bytes()).as_bytes() != policy_digest {
        return Err(FormatError::Malformed(
            "policy digest does not match the policy".into(),
        ));
    }
    let header = Header {
        algo,
        created: Time { secs, nanos },
        root,
        host_id,
        policy_digest,
        policy,
        entries,
        creator,
    };
    Ok((header, body_size))
}

/// Encode sorted entries into a (not yet compressed) body.
pub fn encode_entries(entries: &[Entry], algo: HashAlgo) -> Result<Vec<u8>, FormatError> {
    let mut raw = Vec::with_capacity(entries.len() * 80);
    let mut prev: &[u8] = &[];
    for e in entries {
        if !prev.is_empty() && e.path.as_ref() <= prev {
            return Err(FormatError::Malformed(format!(
                "entries out of order at {}",
                hostpath::display(&e.path)
            )));
        }
        encode_entry(&mut raw, prev, e, algo);
        prev = &e.path;
    }
    Ok(raw)
}

/// Decode a decompressed body holding `expected` entries.
pub fn decode_entries(
    raw: &[u8],
    algo: HashAlgo,
    expected: u64,
) -> Result<Vec<Entry>, FormatError> {
    let mut r = Reader::new(raw);
    // Every entry takes at least 5 bytes: never reserve more than the body can hold.
    let cap = expected.min(raw.len() as u64 / 5) as usize;
    let mut out: Vec<Entry> = Vec::with_capacity(cap);
    while r.remaining() > 0 {
        let prev: &[u8] = out.last().map_or(&[], |e| &e.path);
        let e = decode_entry(&mut r, prev, algo)?;
        out.push(e);
    }
    if out.len() as u64 != expected {
        return Err(FormatError::Malformed(format!(
            "{} entries, the header says {expected}",
            out.len()
        )));
    }
    Ok(out)
}
