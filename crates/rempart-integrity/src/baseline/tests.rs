use super::*;
use crate::attrs::{Attr, AttrSet};
use crate::auth::{HmacKey, SignKey, Signers, Verifier};
use crate::entry::{Entry, Kind, Time, Unread, Xattr};
use crate::hash::{Digest, HashAlgo};
use crate::policy::default_policy;
use proptest::prelude::*;

fn header(algo: HashAlgo, n: u64) -> Header {
    let policy = default_policy(&[]).to_toml();
    Header {
        algo,
        created: Time {
            secs: 1_700_000_000,
            nanos: 5,
        },
        root: b"/".to_vec(),
        host_id: b"machine-id:0123456789abcdef".to_vec(),
        policy_digest: *blake3::hash(policy.as_bytes()).as_bytes(),
        policy,
        entries: n,
        creator: "rempart test".into(),
    }
}

fn sample_entries(algo: HashAlgo) -> Vec<Entry> {
    let mut dir = Entry::new(&b"/etc"[..], Kind::Dir);
    dir.attrs = AttrSet::of(&[
        Attr::Type,
        Attr::Mode,
        Attr::Owner,
        Attr::Group,
        Attr::Inode,
    ]);
    dir.mode = 0o755;
    dir.inode = 12;
    let mut f = Entry::new(&b"/etc/passwd"[..], Kind::File);
    f.attrs = AttrSet::ALL.without(Attr::Target);
    f.mode = 0o644;
    f.size = 1234;
    f.mtime = Time {
        secs: -5,
        nanos: 999_999_999,
    };
    f.ctime = Time {
        secs: 1_700_000_000,
        nanos: 1,
    };
    f.inode = u64::MAX;
    f.links = 1;
    f.uid = u32::MAX;
    f.digest = Some(algo.digest(b"root:x:0:0"));
    f.xattrs = vec![
        Xattr {
            name: b"security.capability"[..].into(),
            value: vec![1, 2, 3].into(),
        },
        Xattr {
            name: b"system.posix_acl_access"[..].into(),
            value: vec![2, 0, 0, 0].into(),
        },
    ]
    .into();
    let mut l = Entry::new(&b"/etc/x\xff\xfe"[..], Kind::Symlink);
    l.attrs = AttrSet::of(&[Attr::Type, Attr::Target]);
    l.target = Some(b"../\xffnon-utf8"[..].into());
    let mut d = Entry::new(&b"/etc/zdev"[..], Kind::CharDevice);
    d.attrs = AttrSet::of(&[Attr::Type, Attr::Mode]);
    d.rdev = 1 << 32 | 3;
    d.mode = 0o666;
    let mut u = Entry::new(&b"/etc/zz-unreadable"[..], Kind::File);
    u.attrs = AttrSet::ALL.without(Attr::Target);
    u.unread = Some(Unread::Io(5));
    vec![dir, f, l, d, u]
}

fn hmac() -> Signers {
    Signers {
        hmac: Some(HmacKey::from_bytes([1; 32])),
        sign: None,
    }
}

#[test]
fn round_trip_with_every_algorithm() {
    for algo in HashAlgo::ALL {
        let entries = sample_entries(algo);
        let h = header(algo, entries.len() as u64);
        let bytes = encode(&h, &entries, &hmac()).unwrap();
        let env = Envelope::parse(&bytes, &Limits::default()).unwrap();
        env.verify(&Verifier::Hmac(HmacKey::from_bytes([1; 32])))
            .unwrap();
        assert_eq!(env.header, h);
        assert_eq!(env.entries(&Limits::default()).unwrap(), entries);
    }
}

#[test]
fn every_modified_byte_is_detected() {
    let entries = sample_entries(HashAlgo::Blake3);
    let bytes = encode(
        &header(HashAlgo::Blake3, entries.len() as u64),
        &entries,
        &hmac(),
    )
    .unwrap();
    let v = Verifier::Hmac(HmacKey::from_bytes([1; 32]));
    for i in 0..bytes.len() {
        for flip in [0x01u8, 0x80] {
            let mut b = bytes.clone();
            b[i] ^= flip;
            let trusted = Envelope::parse(&b, &Limits::default())
                .map_err(Untrusted::from)
                .and_then(|e| e.verify(&v));
            assert!(trusted.is_err(), "flipping byte {i} went unnoticed");
        }
    }
    // Truncation and appended bytes too.
    for n in [0, 7, 8, bytes.len() / 2, bytes.len() - 1] {
        assert!(Envelope::parse(&bytes[..n], &Limits::default()).is_err());
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(Envelope::parse(&longer, &Limits::default()).is_err());
}

#[test]
fn wrong_key_and_missing_scheme_are_refused() {
    let entries = sample_entries(HashAlgo::Blake3);
    let bytes = encode(&header(HashAlgo::Blake3, 5), &entries, &hmac()).unwrap();
    let env = Envelope::parse(&bytes, &Limits::default()).unwrap();
    let e = env
        .verify(&Verifier::Hmac(HmacKey::from_bytes([2; 32])))
        .unwrap_err();
    assert!(matches!(e, Untrusted::NoTag { .. }), "{e}");
    let vk = SignKey::generate().unwrap().verify_key();
    assert!(matches!(
        env.verify(&Verifier::Ed25519(vk)).unwrap_err(),
        Untrusted::NoTag { .. }
    ));
}

#[test]
fn a_forged_tag_with_the_right_key_id_is_a_mismatch() {
    let entries = sample_entries(HashAlgo::Blake3);
    let good = HmacKey::from_bytes([1; 32]);
    let bytes = encode(&header(HashAlgo::Blake3, 5), &entries, &hmac()).unwrap();
    // The attacker rewrites the entries and recomputes everything but cannot MAC with the key.
    let mut evil = entries.clone();
    evil[1].digest = Some(HashAlgo::Blake3.digest(b"trojan"));
    let mut forged = encode(
        &header(HashAlgo::Blake3, 5),
        &evil,
        &Signers {
            hmac: Some(HmacKey::from_bytes([9; 32])),
            sign: None,
        },
    )
    .unwrap();
    // Put the real key's id in place of the attacker's.
    let id_at = forged.len() - 32 - 2 - 8;
    forged[id_at..id_at + 8].copy_from_slice(&good.id());
    let env = Envelope::parse(&forged, &Limits::default()).unwrap();
    assert!(matches!(
        env.verify(&Verifier::Hmac(good.clone())).unwrap_err(),
        Untrusted::Mismatch { .. }
    ));
    let env = Envelope::parse(&bytes, &Limits::default()).unwrap();
    env.verify(&Verifier::Hmac(good)).unwrap();
}

#[test]
fn signed_baselines_verify_with_the_public_key_only() {
    let sk = SignKey::generate().unwrap();
    let entries = sample_entries(HashAlgo::Sha512);
    let signers = Signers {
        hmac: Some(HmacKey::from_bytes([1; 32])),
        sign: Some(sk.clone()),
    };
    let bytes = encode(&header(HashAlgo::Sha512, 5), &entries, &signers).unwrap();
    let env = Envelope::parse(&bytes, &Limits::default()).unwrap();
    assert_eq!(env.tags.len(), 2);
    env.verify(&Verifier::Ed25519(sk.verify_key())).unwrap();
    env.verify(&Verifier::Hmac(HmacKey::from_bytes([1; 32])))
        .unwrap();
    let only_sig = Signers {
        hmac: None,
        sign: Some(sk.clone()),
    };
    let bytes = encode(&header(HashAlgo::Sha512, 5), &entries, &only_sig).unwrap();
    let env = Envelope::parse(&bytes, &Limits::default()).unwrap();
    env.verify(&Verifier::Ed25519(sk.verify_key())).unwrap();
    assert!(env
        .verify(&Verifier::Hmac(HmacKey::from_bytes([1; 32])))
        .is_err());
}

#[test]
fn no_key_no_baseline_and_unsorted_entries_are_refused() {
    let entries = sample_entries(HashAlgo::Blake3);
    assert!(encode(&header(HashAlgo::Blake3, 5), &entries, &Signers::default()).is_err());
    let mut rev = entries.clone();
    rev.reverse();
    assert!(encode(&header(HashAlgo::Blake3, 5), &rev, &hmac()).is_err());
}

#[test]
fn the_policy_digest_must_match_the_embedded_policy() {
    let entries = sample_entries(HashAlgo::Blake3);
    let mut h = header(HashAlgo::Blake3, 5);
    h.policy_digest = [0; 32];
    let bytes = encode(&h, &entries, &hmac()).unwrap();
    assert!(Envelope::parse(&bytes, &Limits::default()).is_err());
}

#[test]
fn decompression_is_bounded() {
    // A body declaring more than the limit is refused before anything is inflated.
    let entries = sample_entries(HashAlgo::Blake3);
    let bytes = encode(&header(HashAlgo::Blake3, 5), &entries, &hmac()).unwrap();
    let tight = Limits {
        max_body: 10,
        max_field: 1 << 20,
    };
    assert!(matches!(
        Envelope::parse(&bytes, &tight),
        Err(FormatError::TooLarge(_))
    ));
}

fn arb_entry(algo: HashAlgo) -> impl Strategy<Value = Entry> {
    (
        proptest::collection::vec(proptest::collection::vec(1u8..=255, 1..6), 1..4),
        proptest::sample::select(Kind::ALL.to_vec()),
        any::<u16>(),
        (0u32..0o10000, any::<u32>(), any::<u32>(), any::<u64>()),
        (
            any::<i64>(),
            0u32..1_000_000_000,
            any::<u64>(),
            any::<u64>(),
        ),
        proptest::option::of(proptest::collection::vec(any::<u8>(), 0..20)),
        proptest::collection::btree_map(
            proptest::collection::vec(1u8..=255, 1..8),
            proptest::collection::vec(any::<u8>(), 0..8),
            0..3,
        ),
        proptest::option::of(0u8..4),
    )
        .prop_map(
            move |(
                comps,
                kind,
                bits,
                (mode, uid, gid, size),
                (secs, nanos, inode, rdev),
                target,
                xattrs,
                unread,
            )| {
                let mut path = Vec::new();
                for c in comps {
                    path.push(b'/');
                    path.extend(c.into_iter().map(|b| if b == b'/' { b'_' } else { b }));
                }
                let attrs = AttrSet::from_bits(bits & AttrSet::ALL.bits())
                    .unwrap()
                    .with(Attr::Type);
                let mut e = Entry::new(path, kind);
                let has = |a| attrs.contains(a);
                e.attrs = attrs;
                if has(Attr::Mode) {
                    e.mode = mode;
                }
                if has(Attr::Owner) {
                    e.uid = uid;
                }
                if has(Attr::Group) {
                    e.gid = gid;
                }
                if has(Attr::Size) {
                    e.size = size;
                }
                if has(Attr::Mtime) {
                    e.mtime = Time { secs, nanos };
                }
                if has(Attr::Ctime) {
                    e.ctime = Time {
                        secs: secs.wrapping_add(1),
                        nanos,
                    };
                }
                if has(Attr::Inode) {
                    e.inode = inode;
                }
                if has(Attr::Links) {
                    e.links = inode / 3;
                }
                if kind.is_device() {
                    e.rdev = rdev;
                }
                if kind == Kind::Symlink && has(Attr::Target) {
                    e.target = target.map(Into::into);
                }
                e.xattrs = xattrs
                    .into_iter()
                    .map(|(n, v)| Xattr {
                        name: n.into(),
                        value: v.into(),
                    })
                    .collect();
                if kind == Kind::File && has(Attr::Hash) {
                    match unread {
                        Some(0) => e.unread = Some(Unread::Denied),
                        Some(1) => e.unread = Some(Unread::Changing),
                        Some(2) => e.unread = Some(Unread::Io(13)),
                        _ => e.digest = Some(algo.digest(&e.path)),
                    }
                }
                e
            },
        )
}

proptest! {
    #[test]
    fn arbitrary_entries_round_trip(
        mut entries in proptest::collection::vec(arb_entry(HashAlgo::Blake3), 0..40),
    ) {
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        entries.dedup_by(|a, b| a.path == b.path);
        let h = header(HashAlgo::Blake3, entries.len() as u64);
        let bytes = encode(&h, &entries, &hmac()).unwrap();
        let env = Envelope::parse(&bytes, &Limits::default()).unwrap();
        env.verify(&Verifier::Hmac(HmacKey::from_bytes([1; 32]))).unwrap();
        prop_assert_eq!(env.entries(&Limits::default()).unwrap(), entries);
    }

    #[test]
    fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..600)) {
        let limits = Limits { max_body: 1 << 20, max_field: 1 << 16 };
        if let Ok(env) = Envelope::parse(&data, &limits) {
            let _ = env.entries(&limits);
        }
        // Also behind a valid magic and version, where the interesting parsing starts.
        let mut b = MAGIC.to_vec();
        b.extend_from_slice(&VERSION.to_le_bytes());
        b.extend_from_slice(&data);
        if let Ok(env) = Envelope::parse(&b, &limits) {
            let _ = env.entries(&limits);
        }
    }

    #[test]
    fn a_random_body_behind_a_valid_header_never_panics(body in proptest::collection::vec(any::<u8>(), 0..400)) {
        // Hand-build an envelope whose compressed body is valid zstd of arbitrary entry bytes.
        let h = header(HashAlgo::Sha256, 3);
        let valid = encode(&h, &[], &hmac()).unwrap();
        let env = Envelope::parse(&valid, &Limits::default()).unwrap();
        prop_assert_eq!(env.entries(&Limits::default()).unwrap().len(), 0);
        let z = zstd::bulk::compress(&body, 1).unwrap();
        let mut r = codec::Reader::new(&body);
        let mut prev: Vec<u8> = Vec::new();
        while r.remaining() > 0 {
            match codec::decode_entry(&mut r, &prev, HashAlgo::Sha256) {
                Ok(e) => prev = e.path.to_vec(),
                Err(_) => break,
            }
        }
        prop_assert!(!z.is_empty());
    }
}

#[test]
fn digest_is_kept_inline() {
    let d = Digest::from_slice(&[7; 64]);
    assert_eq!(d.as_bytes().len(), 64);
}
