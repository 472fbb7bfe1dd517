//! Codec: golden bytes of the documented RouterOS examples, length boundaries, chunking, malformed
//! input and size caps (property tests).

use bytes::{Bytes, BytesMut};
use pagos_hotspot::routeros::codec::{decode_length, encode_length, encode_sentence};
use pagos_hotspot::routeros::{
    legacy_login_response, ApiCodec, Attrs, CodecError, Command, Response, Sentence,
};
use proptest::prelude::*;
use tokio_util::codec::{Decoder, Encoder};

fn hex(s: &str) -> Vec<u8> {
    hex::decode(s.split_whitespace().collect::<String>()).unwrap()
}

fn sentence(words: &[&[u8]]) -> Sentence {
    Sentence(words.iter().map(|w| Bytes::copy_from_slice(w)).collect())
}

fn encode(s: &Sentence) -> Vec<u8> {
    let mut b = BytesMut::new();
    ApiCodec::new().encode(s, &mut b).unwrap();
    b.to_vec()
}

fn decode_all(bytes: &[u8]) -> Result<Vec<Sentence>, CodecError> {
    let mut c = ApiCodec::new();
    let mut buf = BytesMut::from(bytes);
    let mut out = Vec::new();
    while let Some(s) = c.decode(&mut buf)? {
        out.push(s);
    }
    if let Some(s) = c.decode_eof(&mut buf)? {
        out.push(s);
    }
    Ok(out)
}

fn with_prefix(len: usize, content: &[u8]) -> Vec<u8> {
    let mut b = BytesMut::new();
    encode_length(len as u32, &mut b);
    b.extend_from_slice(content);
    b.to_vec()
}

#[test]
fn golden_login_plain() {
    let s = Command::new("/login")
        .attr("name", "admin")
        .attr("password", "s3cret")
        .to_sentence(None)
        .unwrap();
    let want = hex("06 2f 6c 6f 67 69 6e
         0b 3d 6e 61 6d 65 3d 61 64 6d 69 6e
         10 3d 70 61 73 73 77 6f 72 64 3d 73 33 63 72 65 74
         00");
    assert_eq!(encode(&s), want);
    assert_eq!(decode_all(&want).unwrap(), vec![s]);
}

#[test]
fn golden_replies() {
    let done = hex("05 21 64 6f 6e 65 00");
    assert_eq!(
        Response::parse(&decode_all(&done).unwrap()[0]).unwrap(),
        Response::Done {
            tag: None,
            attrs: Attrs::new()
        }
    );
    let done_ret = hex("05 21 64 6f 6e 65 08 3d 72 65 74 3d 2a 31 41 00");
    let r = Response::parse(&decode_all(&done_ret).unwrap()[0]).unwrap();
    let Response::Done { attrs, .. } = &r else {
        panic!("{r:?}")
    };
    assert_eq!(attrs.get_str("ret").as_deref(), Some("*1A"));
    assert_eq!(encode(&r.to_sentence()), done_ret);

    let empty = hex("06 21 65 6d 70 74 79 06 2e 74 61 67 3d 37 00");
    let r = Response::parse(&decode_all(&empty).unwrap()[0]).unwrap();
    assert_eq!(
        r,
        Response::Empty {
            tag: Some("7".into())
        }
    );
    assert_eq!(encode(&r.to_sentence()), empty);

    // [WIRE] 7.19.3 capture.
    let empty_wire = hex("06 21 65 6d 70 74 79 0a 2e 74 61 67 3d 31 39 39 33 36 00");
    assert_eq!(
        Response::parse(&decode_all(&empty_wire).unwrap()[0]).unwrap(),
        Response::Empty {
            tag: Some("19936".into())
        }
    );

    let mut fatal = hex("06 21 66 61 74 61 6c 1d");
    fatal.extend_from_slice(b"session terminated on request");
    fatal.push(0);
    let r = Response::parse(&decode_all(&fatal).unwrap()[0]).unwrap();
    assert_eq!(
        r,
        Response::Fatal {
            reason: "session terminated on request".into()
        }
    );
    assert_eq!(encode(&r.to_sentence()), fatal);

    let msg = "failure: already have user with this name for this server";
    let mut trap = hex("05 21 74 72 61 70 42");
    trap.extend_from_slice(format!("=message={msg}").as_bytes());
    trap.push(0);
    assert_eq!(0x42, "=message=".len() + msg.len());
    let r = Response::parse(&decode_all(&trap).unwrap()[0]).unwrap();
    assert!(
        matches!(&r, Response::Trap { category: None, message, tag: None, .. } if message == msg)
    );
    assert_eq!(encode(&r.to_sentence()), trap);
}

#[test]
fn golden_commands() {
    let s = Command::new("/ip/hotspot/user/add")
        .attr("name", "guest1")
        .attr("password", "pw")
        .attr("profile", "1h")
        .to_sentence(Some("3"))
        .unwrap();
    let mut want = vec![0x14];
    want.extend_from_slice(b"/ip/hotspot/user/add");
    want.push(0x0c);
    want.extend_from_slice(b"=name=guest1");
    // The protocol notes once printed `0b` here, but "=password=pw" is 12 bytes: the prefix is
    // the byte count, 0x0c (a typo in those notes, not a second encoding).
    want.push(0x0c);
    want.extend_from_slice(b"=password=pw");
    want.push(0x0b);
    want.extend_from_slice(b"=profile=1h");
    want.push(0x06);
    want.extend_from_slice(b".tag=3");
    want.push(0);
    assert_eq!(encode(&s), want);

    let s = Command::new("/ip/hotspot/user/print")
        .proplist(&[".id", "name"])
        .query_has("name=guest1")
        .to_sentence(None);
    // A query property may not contain '='; use query_eq for values.
    assert!(s.is_err());
    let s = sentence(&[
        b"/ip/hotspot/user/print",
        b"=.proplist=.id,name",
        b"?name=guest1",
    ]);
    let mut want = vec![0x16];
    want.extend_from_slice(b"/ip/hotspot/user/print");
    want.push(0x13);
    want.extend_from_slice(b"=.proplist=.id,name");
    want.push(0x0c);
    want.extend_from_slice(b"?name=guest1");
    want.push(0);
    assert_eq!(encode(&s), want);

    let s = Command::new("/cancel")
        .attr("tag", "2")
        .to_sentence(Some("7"))
        .unwrap();
    assert_eq!(
        encode(&s),
        hex("07 2f 63 61 6e 63 65 6c 06 3d 74 61 67 3d 32 06 2e 74 61 67 3d 37 00")
    );

    // A 200-byte word starts 80 c8.
    let w = vec![b'a'; 200];
    let bytes = encode(&Sentence(vec![Bytes::from(w)]));
    assert_eq!(&bytes[..2], &[0x80, 0xc8]);
}

#[test]
fn golden_md5_challenge() {
    assert_eq!(
        legacy_login_response(b"", "93b438ec9b80057c06dd9fe67d56aa9a").unwrap(),
        "00e134102a9d330dd7b1849fedfea3cb57"
    );
    let s = Command::new("/login")
        .attr("name", "admin")
        .attr("response", "00e134102a9d330dd7b1849fedfea3cb57")
        .to_sentence(None)
        .unwrap();
    let bytes = encode(&s);
    // "=response=" + 34 chars = 44 = 0x2c.
    assert_eq!(bytes[7 + 12], 0x2c);
}

#[test]
fn non_utf8_values_round_trip() {
    // cp1250 "č" = 0xE8, invalid UTF-8 on its own.
    let s = sentence(&[b"!re", b"=comment=\xe8aj", b"=name=x"]);
    let back = decode_all(&encode(&s)).unwrap();
    assert_eq!(back, vec![s.clone()]);
    let Response::Re { attrs, .. } = Response::parse(&back[0]).unwrap() else {
        panic!()
    };
    assert_eq!(attrs.get("comment").unwrap().as_ref(), b"\xe8aj");
}

#[test]
fn duplicate_keys_and_lenient_words() {
    let s = sentence(&[b"!re", b"=.about=a", b"=.about=b", b"=bare", b".tag=9"]);
    let Response::Re { attrs, tag } = Response::parse(&s).unwrap() else {
        panic!()
    };
    assert_eq!(tag.as_deref(), Some("9"));
    assert_eq!(attrs.get_all(".about").count(), 2);
    assert_eq!(attrs.get("bare").unwrap().as_ref(), b"");
}

#[test]
fn empty_sentences_are_ignored() {
    let mut bytes = vec![0, 0];
    bytes.extend(encode(&sentence(&[b"!done"])));
    bytes.push(0);
    assert_eq!(decode_all(&bytes).unwrap(), vec![sentence(&[b"!done"])]);
}

#[test]
fn truncated_stream_is_error_at_eof() {
    let full = encode(&sentence(&[b"!re", b"=name=x"]));
    for cut in 1..full.len() {
        assert!(
            matches!(decode_all(&full[..cut]), Err(CodecError::Truncated)),
            "cut at {cut}"
        );
    }
}

#[test]
fn caps_are_enforced() {
    let mut c = ApiCodec::with_limits(16, 24, 3);
    let mut buf = BytesMut::from(&with_prefix(17, &[b'a'; 17])[..]);
    assert!(matches!(
        c.decode(&mut buf),
        Err(CodecError::WordTooLong { len: 17, .. })
    ));
    // The cap is checked from the prefix alone, before the content arrives.
    let mut c = ApiCodec::with_limits(16, 24, 3);
    let mut buf = BytesMut::from(&[0xF0, 0x7F, 0xFF, 0xFF, 0xFF][..]);
    assert!(matches!(
        c.decode(&mut buf),
        Err(CodecError::WordTooLong { .. })
    ));

    let mut c = ApiCodec::with_limits(16, 24, 100);
    let mut bytes = with_prefix(16, &[b'a'; 16]);
    bytes.extend(with_prefix(16, &[b'b'; 16]));
    let mut buf = BytesMut::from(&bytes[..]);
    assert!(matches!(
        c.decode(&mut buf),
        Err(CodecError::SentenceTooLong { .. })
    ));

    let mut c = ApiCodec::with_limits(16, 1000, 3);
    let bytes = encode(&sentence(&[b"a", b"b", b"c", b"d"]));
    let mut buf = BytesMut::from(&bytes[..]);
    assert!(matches!(
        c.decode(&mut buf),
        Err(CodecError::TooManyWords { max: 3 })
    ));
}

/// Lengths at every boundary of the five forms, round-tripped through a full word.
#[test]
fn boundary_word_lengths_round_trip() {
    for len in [0x7Fusize, 0x80, 0x3FFF, 0x4000, 0x1F_FFFF, 0x20_0000] {
        let w = vec![b'x'; len];
        let s = Sentence(vec![Bytes::from_static(b"!re"), Bytes::from(w)]);
        let bytes = encode(&s);
        let mut c = ApiCodec::with_limits(0x30_0000, 0x40_0000, 16);
        let mut buf = BytesMut::from(&bytes[..]);
        assert_eq!(c.decode(&mut buf).unwrap(), Some(s), "len {len:#x}");
        assert!(buf.is_empty());
    }
    // The 4- and 5-byte forms at their boundaries (prefix only: no 256 MiB allocations).
    for (len, size) in [
        (0x0FFF_FFFFu32, 4usize),
        (0x1000_0000, 5),
        (u32::MAX, 5),
        (0x20_0000, 4),
        (0x1F_FFFF, 3),
    ] {
        let mut b = BytesMut::new();
        encode_length(len, &mut b);
        assert_eq!(b.len(), size);
        assert_eq!(decode_length(&b).unwrap(), Some((len, size)));
    }
}

fn words_strategy() -> impl Strategy<Value = Vec<Vec<Sentence>>> {
    // Word sizes concentrated around the 1- and 2-byte boundaries, plus a few 3-byte ones.
    let word = prop_oneof![
        8 => proptest::collection::vec(any::<u8>(), 1..=0x90),
        2 => proptest::collection::vec(any::<u8>(), 0x3FF0..=0x4010),
    ];
    let sentence = proptest::collection::vec(word, 1..6)
        .prop_map(|ws| Sentence(ws.into_iter().map(Bytes::from).collect()));
    proptest::collection::vec(proptest::collection::vec(sentence, 1..4), 1..2)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    /// Every length encodes to the documented form and decodes back; every strict prefix of a
    /// prefix asks for more bytes.
    #[test]
    fn length_round_trip(len in prop_oneof![
        0u32..=0x7F, 0x80u32..=0x3FFF, 0x4000u32..=0x1F_FFFF,
        0x20_0000u32..=0x0FFF_FFFF, 0x1000_0000u32..=u32::MAX,
        Just(0x7F), Just(0x80), Just(0x3FFF), Just(0x4000), Just(0x1F_FFFF),
        Just(0x20_0000), Just(0x0FFF_FFFF), Just(0x1000_0000),
    ]) {
        let mut b = BytesMut::new();
        encode_length(len, &mut b);
        let expected = match len {
            0..=0x7F => 1, 0x80..=0x3FFF => 2, 0x4000..=0x1F_FFFF => 3,
            0x20_0000..=0x0FFF_FFFF => 4, _ => 5,
        };
        prop_assert_eq!(b.len(), expected);
        prop_assert_eq!(decode_length(&b).unwrap(), Some((len, expected)));
        for cut in 0..b.len() {
            prop_assert_eq!(decode_length(&b[..cut]).unwrap(), None);
        }
    }

    /// Any chunking of a stream of sentences decodes to the same sentences.
    #[test]
    fn any_chunking(groups in words_strategy(), cuts in proptest::collection::vec(1usize..700, 0..40)) {
        let sentences: Vec<Sentence> = groups.into_iter().flatten().collect();
        let mut stream = BytesMut::new();
        for s in &sentences {
            encode_sentence(s, &mut stream).unwrap();
        }
        let stream = stream.to_vec();
        let mut codec = ApiCodec::new();
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        let mut pos = 0;
        let mut cuts = cuts.into_iter().cycle();
        while pos < stream.len() {
            let n = cuts.next().unwrap_or(stream.len()).min(stream.len() - pos);
            buf.extend_from_slice(&stream[pos..pos + n]);
            pos += n;
            while let Some(s) = codec.decode(&mut buf).unwrap() {
                got.push(s);
            }
        }
        prop_assert!(codec.decode_eof(&mut buf).unwrap().is_none());
        prop_assert_eq!(got, sentences);
    }

    /// One byte at a time.
    #[test]
    fn byte_by_byte(words in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..200), 1..5)) {
        let s = Sentence(words.into_iter().map(Bytes::from).collect());
        let bytes = encode(&s);
        let mut codec = ApiCodec::new();
        let mut buf = BytesMut::new();
        let mut got = None;
        for b in bytes {
            buf.extend_from_slice(&[b]);
            if let Some(x) = codec.decode(&mut buf).unwrap() {
                got = Some(x);
            }
        }
        prop_assert_eq!(got, Some(s));
    }

    /// A reserved first byte (0xF1..=0xFF) is an error wherever a prefix is expected.
    #[test]
    fn malformed_prefix_rejected(b in 0xF1u8..=0xFF, before in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..50), 0..3), tail in proptest::collection::vec(any::<u8>(), 0..8)) {
        let mut bytes = Vec::new();
        for w in &before {
            bytes.extend(with_prefix(w.len(), w));
        }
        bytes.push(b);
        bytes.extend(tail);
        let mut codec = ApiCodec::new();
        let mut buf = BytesMut::from(&bytes[..]);
        prop_assert!(matches!(codec.decode(&mut buf), Err(CodecError::ControlByte(x)) if x == b));
    }

    /// Arbitrary bytes never panic the decoder or the reply parser.
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let mut codec = ApiCodec::with_limits(256, 1024, 64);
        let mut buf = BytesMut::from(&bytes[..]);
        while let Ok(Some(s)) = codec.decode(&mut buf) {
            let _ = Response::parse(&s);
        }
        let _ = codec.decode_eof(&mut buf);
    }
}
