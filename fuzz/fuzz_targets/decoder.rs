//! Fuzzes the RouterOS API decoder and reply parser.
//!
//! The first input byte picks a chunk size (1..=64): the rest of the input is fed to the decoder
//! in chunks of that size, as a TCP stream might deliver it. Properties checked: no panic; every
//! decoded sentence re-encodes to bytes that decode to the same sentence; a reply parses or is
//! rejected with an error.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use pagos_hotspot::routeros::{ApiCodec, Response};
use tokio_util::codec::Decoder;

fuzz_target!(|data: &[u8]| {
    let Some((&k, rest)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(k % 64) + 1;
    let mut codec = ApiCodec::with_limits(4096, 65_536, 256);
    let mut buf = BytesMut::new();
    for c in rest.chunks(chunk) {
        buf.extend_from_slice(c);
        loop {
            match codec.decode(&mut buf) {
                Ok(Some(s)) => {
                    if let Ok(r) = Response::parse(&s) {
                        let _ = r.to_sentence();
                    }
                    let mut again = s.to_bytes().expect("re-encode");
                    let mut c2 = ApiCodec::with_limits(4096, 65_536, 256);
                    assert_eq!(c2.decode(&mut again).expect("re-decode"), Some(s));
                    assert!(again.is_empty());
                }
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
    let _ = codec.decode_eof(&mut buf);
});
