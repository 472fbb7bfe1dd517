//! RouterOS API framing: length-prefixed words grouped into sentences ended by an empty word.
//!
//! The codec is symmetric (client and simulator share it). Words are raw bytes; nothing here
//! assumes UTF-8. Malformed input (reserved control bytes, oversized words or sentences, a stream
//! cut in the middle of a sentence) is reported as a [`CodecError`], never a panic.

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

/// Default cap on one word (1 MiB).
pub const DEFAULT_MAX_WORD: usize = 1 << 20;
/// Default cap on the content of one sentence (16 MiB).
pub const DEFAULT_MAX_SENTENCE: usize = 16 << 20;
/// Default cap on the number of words in one sentence.
pub const DEFAULT_MAX_WORDS: usize = 16_384;

/// A framing error. After one, the stream cannot be resynchronised: drop the connection.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    /// A length prefix started with a reserved control byte (`0xF1..=0xFF`).
    #[error("reserved control byte 0x{0:02x} in a length prefix")]
    ControlByte(u8),
    /// A word longer than the configured cap.
    #[error("word of {len} bytes exceeds the limit of {max}")]
    WordTooLong { len: u64, max: usize },
    /// A sentence whose words add up to more than the configured cap.
    #[error("sentence exceeds the limit of {max} bytes")]
    SentenceTooLong { max: usize },
    /// A sentence with more words than the configured cap.
    #[error("sentence exceeds the limit of {max} words")]
    TooManyWords { max: usize },
    /// The stream ended inside a word or a sentence.
    #[error("stream ended in the middle of a sentence")]
    Truncated,
    /// Transport error.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}

/// Number of bytes the length prefix of a word of `len` bytes takes (1..=5).
pub fn length_prefix_size(len: u32) -> usize {
    match len {
        0..=0x7F => 1,
        0x80..=0x3FFF => 2,
        0x4000..=0x1F_FFFF => 3,
        0x20_0000..=0x0FFF_FFFF => 4,
        _ => 5,
    }
}

/// Appends the length prefix of a word of `len` bytes.
pub fn encode_length(len: u32, dst: &mut BytesMut) {
    match len {
        0..=0x7F => dst.put_u8(len as u8),
        0x80..=0x3FFF => dst.put_u16((len | 0x8000) as u16),
        0x4000..=0x1F_FFFF => {
            let v = len | 0xC0_0000;
            dst.put_slice(&v.to_be_bytes()[1..]);
        }
        0x20_0000..=0x0FFF_FFFF => dst.put_u32(len | 0xE000_0000),
        _ => {
            dst.put_u8(0xF0);
            dst.put_u32(len);
        }
    }
}

/// Decodes a length prefix at the start of `src`.
///
/// Returns `Ok(None)` when more bytes are needed, `Ok(Some((len, prefix_size)))` otherwise.
/// Non-minimal encodings (e.g. `80 05`) are accepted, as the router's own parser does by
/// construction. First bytes `0xF1..=0xFF` are rejected (reserved or undefined).
pub fn decode_length(src: &[u8]) -> Result<Option<(u32, usize)>, CodecError> {
    let Some(&b0) = src.first() else {
        return Ok(None);
    };
    let need = match b0 {
        0x00..=0x7F => 1,
        0x80..=0xBF => 2,
        0xC0..=0xDF => 3,
        0xE0..=0xEF => 4,
        0xF0 => 5,
        _ => return Err(CodecError::ControlByte(b0)),
    };
    let Some(p) = src.get(..need) else {
        return Ok(None);
    };
    let len = match p {
        [b] => u32::from(*b),
        [b, b1] => (u32::from(b & 0x3F) << 8) | u32::from(*b1),
        [b, b1, b2] => (u32::from(b & 0x1F) << 16) | (u32::from(*b1) << 8) | u32::from(*b2),
        [b, b1, b2, b3] => u32::from_be_bytes([b & 0x0F, *b1, *b2, *b3]),
        [_, b1, b2, b3, b4] => u32::from_be_bytes([*b1, *b2, *b3, *b4]),
        _ => return Ok(None),
    };
    Ok(Some((len, need)))
}

/// One sentence: its words in order, without the terminating empty word.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Sentence(pub Vec<Bytes>);

impl Sentence {
    /// An empty sentence.
    pub fn new() -> Self {
        Self(Vec::new())
    }

    /// Builder: appends a word.
    pub fn word(mut self, w: impl Into<Bytes>) -> Self {
        self.0.push(w.into());
        self
    }

    /// Appends a word.
    pub fn push(&mut self, w: impl Into<Bytes>) {
        self.0.push(w.into());
    }

    /// The words.
    pub fn words(&self) -> &[Bytes] {
        &self.0
    }

    /// The first word (command or reply word), if any.
    pub fn first(&self) -> Option<&Bytes> {
        self.0.first()
    }

    /// Encoded size on the wire, terminator included.
    pub fn encoded_len(&self) -> usize {
        self.0
            .iter()
            .map(|w| length_prefix_size(u32::try_from(w.len()).unwrap_or(u32::MAX)) + w.len())
            .sum::<usize>()
            + 1
    }

    /// Encodes into a fresh buffer.
    pub fn to_bytes(&self) -> Result<BytesMut, CodecError> {
        let mut dst = BytesMut::with_capacity(self.encoded_len());
        encode_sentence(self, &mut dst)?;
        Ok(dst)
    }
}

/// Attribute names whose values are never shown by `Debug`.
pub(crate) const SECRET_KEYS: &[&[u8]] = &[b"password", b"response", b"otp-secret"];

/// Whether a word is `=password=…`-like (value must not be logged).
pub(crate) fn is_secret_word(w: &[u8]) -> bool {
    SECRET_KEYS.iter().any(|k| {
        w.len() > k.len() + 1
            && w.first() == Some(&b'=')
            && w.get(1..=k.len()) == Some(*k)
            && w.get(k.len() + 1) == Some(&b'=')
    })
}

impl std::fmt::Debug for Sentence {
    /// Shows words lossily as text; values of secret attributes are redacted.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut l = f.debug_list();
        for w in &self.0 {
            if is_secret_word(w) {
                let cut = w
                    .iter()
                    .skip(1)
                    .position(|b| *b == b'=')
                    .map_or(w.len(), |p| p + 2);
                l.entry(&format!(
                    "{}***",
                    String::from_utf8_lossy(w.get(..cut).unwrap_or(w))
                ));
            } else {
                l.entry(&String::from_utf8_lossy(w));
            }
        }
        l.finish()
    }
}

/// Appends an encoded sentence (words plus terminator) to `dst`.
pub fn encode_sentence(s: &Sentence, dst: &mut BytesMut) -> Result<(), CodecError> {
    dst.reserve(s.encoded_len());
    for w in &s.0 {
        let len = u32::try_from(w.len()).map_err(|_| CodecError::WordTooLong {
            len: w.len() as u64,
            max: u32::MAX as usize,
        })?;
        encode_length(len, dst);
        dst.put_slice(w);
    }
    dst.put_u8(0);
    Ok(())
}

/// The `tokio_util` codec: `Decoder<Item = Sentence>` and `Encoder<Sentence>`.
#[derive(Debug)]
pub struct ApiCodec {
    max_word: usize,
    max_sentence: usize,
    max_words: usize,
    words: Vec<Bytes>,
    sentence_bytes: usize,
}

impl Default for ApiCodec {
    fn default() -> Self {
        Self::new()
    }
}

impl ApiCodec {
    /// A codec with the default caps.
    pub fn new() -> Self {
        Self::with_limits(DEFAULT_MAX_WORD, DEFAULT_MAX_SENTENCE, DEFAULT_MAX_WORDS)
    }

    /// A codec with explicit caps on word size, sentence size (sum of word sizes) and word count.
    pub fn with_limits(max_word: usize, max_sentence: usize, max_words: usize) -> Self {
        Self {
            max_word,
            max_sentence,
            max_words,
            words: Vec::new(),
            sentence_bytes: 0,
        }
    }

    /// Whether a sentence has been started but not finished.
    pub fn in_sentence(&self) -> bool {
        !self.words.is_empty()
    }
}

impl Decoder for ApiCodec {
    type Item = Sentence;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Sentence>, CodecError> {
        loop {
            let Some((len, plen)) = decode_length(src)? else {
                return Ok(None);
            };
            let len = len as usize;
            if len == 0 {
                src.advance(plen);
                if self.words.is_empty() {
                    // An empty sentence is ignored.
                    continue;
                }
                self.sentence_bytes = 0;
                return Ok(Some(Sentence(std::mem::take(&mut self.words))));
            }
            if len > self.max_word {
                return Err(CodecError::WordTooLong {
                    len: len as u64,
                    max: self.max_word,
                });
            }
            if self.sentence_bytes.saturating_add(len) > self.max_sentence {
                return Err(CodecError::SentenceTooLong {
                    max: self.max_sentence,
                });
            }
            if self.words.len() >= self.max_words {
                return Err(CodecError::TooManyWords {
                    max: self.max_words,
                });
            }
            let total = plen + len;
            if src.len() < total {
                src.reserve(total - src.len());
                return Ok(None);
            }
            src.advance(plen);
            self.words.push(src.split_to(len).freeze());
            self.sentence_bytes += len;
        }
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Sentence>, CodecError> {
        match self.decode(src)? {
            Some(s) => Ok(Some(s)),
            None if src.is_empty() && self.words.is_empty() => Ok(None),
            None => Err(CodecError::Truncated),
        }
    }
}

impl Encoder<Sentence> for ApiCodec {
    type Error = CodecError;

    fn encode(&mut self, item: Sentence, dst: &mut BytesMut) -> Result<(), CodecError> {
        encode_sentence(&item, dst)
    }
}

impl Encoder<&Sentence> for ApiCodec {
    type Error = CodecError;

    fn encode(&mut self, item: &Sentence, dst: &mut BytesMut) -> Result<(), CodecError> {
        encode_sentence(item, dst)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn enc(len: u32) -> Vec<u8> {
        let mut b = BytesMut::new();
        encode_length(len, &mut b);
        b.to_vec()
    }

    #[test]
    fn reference_vectors() {
        let cases: &[(u32, &[u8])] = &[
            (0x00, &[0x00]),
            (0x7F, &[0x7F]),
            (0x80, &[0x80, 0x80]),
            (0xC8, &[0x80, 0xC8]),
            (0x3E8, &[0x83, 0xE8]),
            (0x3FFF, &[0xBF, 0xFF]),
            (0x4000, &[0xC0, 0x40, 0x00]),
            (0x1F_FFFF, &[0xDF, 0xFF, 0xFF]),
            (0x20_0000, &[0xE0, 0x20, 0x00, 0x00]),
            (0x0FFF_FFFF, &[0xEF, 0xFF, 0xFF, 0xFF]),
            (0x1000_0000, &[0xF0, 0x10, 0x00, 0x00, 0x00]),
        ];
        for (len, bytes) in cases {
            assert_eq!(enc(*len), *bytes, "encode {len:#x}");
            assert_eq!(
                decode_length(bytes).unwrap(),
                Some((*len, bytes.len())),
                "decode {len:#x}"
            );
            assert_eq!(length_prefix_size(*len), bytes.len());
            // Every strict prefix is "need more".
            for cut in 0..bytes.len() {
                assert_eq!(decode_length(&bytes[..cut]).unwrap(), None);
            }
        }
    }

    #[test]
    fn control_bytes_rejected() {
        for b in 0xF1..=0xFFu8 {
            assert!(matches!(
                decode_length(&[b, 0, 0, 0, 0]),
                Err(CodecError::ControlByte(x)) if x == b
            ));
        }
    }
}
