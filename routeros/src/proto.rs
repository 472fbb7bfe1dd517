//! Word kinds, reply sentences (`!re`, `!done`, `!trap`, `!empty`, `!fatal`) and the command
//! builder. Pure functions over [`Sentence`]s; no I/O.

use bytes::{BufMut, Bytes, BytesMut};

use crate::codec::{is_secret_word, Sentence, SECRET_KEYS};

/// The kind of one word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Word<'a> {
    /// `/path/verb`.
    Command(&'a [u8]),
    /// `!re`, `!done`, … (the word without `!`).
    Reply(&'a [u8]),
    /// `=name=value` (value may contain `=` and may be empty; `=name` gives an empty value).
    Attribute { name: &'a [u8], value: &'a [u8] },
    /// `.name=value` (API attribute, today only `.tag`).
    ApiAttribute { name: &'a [u8], value: &'a [u8] },
    /// `?…` (the word without `?`).
    Query(&'a [u8]),
    /// Anything else (e.g. the bare reason word of `!fatal`).
    Other(&'a [u8]),
}

/// Classifies a word by its first byte.
pub fn classify(w: &[u8]) -> Word<'_> {
    match w.first() {
        Some(b'/') => Word::Command(w),
        Some(b'!') => Word::Reply(w.get(1..).unwrap_or_default()),
        Some(b'=') => {
            let rest = w.get(1..).unwrap_or_default();
            // Split at the first `=` after the first name byte: `=name=iu=c3Eeg`.
            match rest.iter().skip(1).position(|b| *b == b'=') {
                Some(p) => Word::Attribute {
                    name: rest.get(..p + 1).unwrap_or_default(),
                    value: rest.get(p + 2..).unwrap_or_default(),
                },
                None => Word::Attribute {
                    name: rest,
                    value: &[],
                },
            }
        }
        Some(b'.') => {
            let rest = w.get(1..).unwrap_or_default();
            match rest.iter().position(|b| *b == b'=') {
                Some(p) => Word::ApiAttribute {
                    name: rest.get(..p).unwrap_or_default(),
                    value: rest.get(p + 1..).unwrap_or_default(),
                },
                None => Word::ApiAttribute {
                    name: rest,
                    value: &[],
                },
            }
        }
        Some(b'?') => Word::Query(w.get(1..).unwrap_or_default()),
        _ => Word::Other(w),
    }
}

/// Ordered attribute list with raw byte values. Duplicate keys are kept (`.about` may repeat).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Attrs(pub Vec<(Bytes, Bytes)>);

impl Attrs {
    /// Empty list.
    pub fn new() -> Self {
        Self(Vec::new())
    }

    /// Appends a pair.
    pub fn push(&mut self, k: impl Into<Bytes>, v: impl Into<Bytes>) {
        self.0.push((k.into(), v.into()));
    }

    /// First value of `key`, raw.
    pub fn get(&self, key: &str) -> Option<&Bytes> {
        self.0
            .iter()
            .find(|(k, _)| k == key.as_bytes())
            .map(|(_, v)| v)
    }

    /// First value of `key`, decoded lossily as UTF-8.
    pub fn get_str(&self, key: &str) -> Option<String> {
        self.get(key)
            .map(|v| String::from_utf8_lossy(v).into_owned())
    }

    /// Every value of `key`.
    pub fn get_all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a Bytes> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == key.as_bytes())
            .map(|(_, v)| v)
    }

    /// Whether `key` is present.
    pub fn contains(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Pairs in order.
    pub fn iter(&self) -> impl Iterator<Item = (&Bytes, &Bytes)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no pairs.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Attrs {
    /// Lossy text; values of secret attributes are redacted.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut m = f.debug_map();
        for (k, v) in &self.0 {
            let secret = SECRET_KEYS.iter().any(|s| *s == k.as_ref());
            m.entry(
                &String::from_utf8_lossy(k),
                &if secret {
                    "***".into()
                } else {
                    String::from_utf8_lossy(v)
                },
            );
        }
        m.finish()
    }
}

/// Error parsing a reply sentence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed reply: {0}")]
pub struct ReplyParseError(pub String);

/// One reply sentence from the router.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// A data row.
    Re { tag: Option<String>, attrs: Attrs },
    /// End of a command's reply. `attrs` may carry `ret`.
    Done { tag: Option<String>, attrs: Attrs },
    /// An error; `!done` still follows.
    Trap {
        tag: Option<String>,
        category: Option<u32>,
        message: String,
        attrs: Attrs,
    },
    /// RouterOS ≥ 7.18: no rows; `!done` still follows.
    Empty { tag: Option<String> },
    /// Connection-level error; the router closes the connection afterwards.
    Fatal { reason: String },
}

impl Response {
    /// Parses a reply sentence. Lenient on attribute words (a missing second `=` gives an empty
    /// value; bare words are kept as keys with empty values); strict on the reply word.
    pub fn parse(s: &Sentence) -> Result<Self, ReplyParseError> {
        let mut words = s.0.iter();
        let first = words
            .next()
            .ok_or_else(|| ReplyParseError("empty sentence".into()))?;
        let Word::Reply(kind) = classify(first) else {
            return Err(ReplyParseError(format!(
                "expected a reply word, got {:?}",
                String::from_utf8_lossy(first)
            )));
        };
        let mut tag = None;
        let mut attrs = Attrs::new();
        let mut bare: Vec<String> = Vec::new();
        for w in words {
            match classify(w) {
                Word::ApiAttribute { name, value } if name == b"tag" => {
                    tag = Some(String::from_utf8_lossy(value).into_owned());
                }
                Word::ApiAttribute { name, value } => {
                    // Unknown API attribute: keep it, prefixed with its dot.
                    let mut k = BytesMut::with_capacity(name.len() + 1);
                    k.put_u8(b'.');
                    k.put_slice(name);
                    attrs.push(k.freeze(), w.slice_ref(value));
                }
                Word::Attribute { name, value } => {
                    attrs.push(w.slice_ref(name), w.slice_ref(value));
                }
                Word::Other(x) => {
                    bare.push(String::from_utf8_lossy(x).into_owned());
                    attrs.push(w.clone(), Bytes::new());
                }
                Word::Command(_) | Word::Reply(_) | Word::Query(_) => {
                    attrs.push(w.clone(), Bytes::new());
                    bare.push(String::from_utf8_lossy(w).into_owned());
                }
            }
        }
        match kind {
            b"re" => Ok(Response::Re { tag, attrs }),
            b"done" => Ok(Response::Done { tag, attrs }),
            b"empty" => Ok(Response::Empty { tag }),
            b"trap" => {
                let category = attrs
                    .get_str("category")
                    .and_then(|c| c.trim().parse::<u32>().ok());
                let message = attrs.get_str("message").unwrap_or_default();
                Ok(Response::Trap {
                    tag,
                    category,
                    message,
                    attrs,
                })
            }
            b"fatal" => {
                // Real routers send a bare reason word; mocks often send `=message=`.
                let mut reason = bare.join(" ");
                if let Some(m) = attrs.get_str("message") {
                    if !reason.is_empty() {
                        reason.push(' ');
                    }
                    reason.push_str(&m);
                }
                Ok(Response::Fatal { reason })
            }
            other => Err(ReplyParseError(format!(
                "unknown reply word !{}",
                String::from_utf8_lossy(other)
            ))),
        }
    }

    /// The `.tag` of this reply, if any (`!fatal` is never tagged).
    pub fn tag(&self) -> Option<&str> {
        match self {
            Response::Re { tag, .. }
            | Response::Done { tag, .. }
            | Response::Trap { tag, .. }
            | Response::Empty { tag } => tag.as_deref(),
            Response::Fatal { .. } => None,
        }
    }

    /// Serialises as the router would (attributes first, `.tag` last).
    pub fn to_sentence(&self) -> Sentence {
        fn attrs_into(s: &mut Sentence, attrs: &Attrs) {
            for (k, v) in attrs.iter() {
                s.push(attr_word(k, v));
            }
        }
        fn tag_into(s: &mut Sentence, tag: &Option<String>) {
            if let Some(t) = tag {
                s.push(Bytes::from(format!(".tag={t}")));
            }
        }
        let mut s = Sentence::new();
        match self {
            Response::Re { tag, attrs } => {
                s.push(Bytes::from_static(b"!re"));
                attrs_into(&mut s, attrs);
                tag_into(&mut s, tag);
            }
            Response::Done { tag, attrs } => {
                s.push(Bytes::from_static(b"!done"));
                attrs_into(&mut s, attrs);
                tag_into(&mut s, tag);
            }
            Response::Trap {
                tag,
                category,
                message,
                attrs,
            } => {
                s.push(Bytes::from_static(b"!trap"));
                if let Some(c) = category {
                    s.push(Bytes::from(format!("=category={c}")));
                }
                s.push(Bytes::from(format!("=message={message}")));
                for (k, v) in attrs.iter() {
                    if k.as_ref() != b"category" && k.as_ref() != b"message" {
                        s.push(attr_word(k, v));
                    }
                }
                tag_into(&mut s, tag);
            }
            Response::Empty { tag } => {
                s.push(Bytes::from_static(b"!empty"));
                tag_into(&mut s, tag);
            }
            Response::Fatal { reason } => {
                s.push(Bytes::from_static(b"!fatal"));
                s.push(Bytes::from(reason.clone()));
            }
        }
        s
    }
}

/// `=k=v` as one word.
pub fn attr_word(k: &[u8], v: &[u8]) -> Bytes {
    let mut b = BytesMut::with_capacity(k.len() + v.len() + 2);
    b.put_u8(b'=');
    b.put_slice(k);
    b.put_u8(b'=');
    b.put_slice(v);
    b.freeze()
}

/// A request, built with validation. Errors are kept until [`Command::to_sentence`].
///
/// ```
/// use pagos_hotspot::routeros::Command;
/// let c = Command::new("/ip/hotspot/user/print").proplist(&[".id", "name"]).query_eq("name", "guest1");
/// assert_eq!(c.path(), "/ip/hotspot/user/print");
/// ```
#[derive(Clone)]
pub struct Command {
    path: String,
    words: Vec<Bytes>,
    error: Option<String>,
}

fn valid_name(n: &str) -> bool {
    !n.is_empty()
        && n.bytes()
            .all(|b| b.is_ascii_graphic() && b != b'=' && b != b'/' && b != b'?' && b != b'!')
}

impl Command {
    /// A command word such as `/ip/hotspot/user/add`. It must start with `/` and contain only
    /// printable ASCII without `=`, `?`, `!` or spaces; never build it from user input.
    pub fn new(path: impl Into<String>) -> Self {
        let path = path.into();
        let ok = path.starts_with('/')
            && path.len() > 1
            && path
                .bytes()
                .all(|b| b.is_ascii_graphic() && b != b'=' && b != b'?' && b != b'!');
        Self {
            error: (!ok).then(|| format!("invalid command word {path:?}")),
            path,
            words: Vec::new(),
        }
    }

    fn fail(&mut self, msg: String) {
        if self.error.is_none() {
            self.error = Some(msg);
        }
    }

    /// `=name=value`. Names must be non-empty printable ASCII without `=`; values are raw bytes.
    pub fn attr(mut self, name: &str, value: impl AsRef<[u8]>) -> Self {
        if !valid_name(name) || name == ".tag" {
            self.fail(format!("invalid attribute name {name:?}"));
            return self;
        }
        self.words.push(attr_word(name.as_bytes(), value.as_ref()));
        self
    }

    /// `=name=value` when `value` is `Some`.
    pub fn attr_opt(self, name: &str, value: Option<impl AsRef<[u8]>>) -> Self {
        match value {
            Some(v) => self.attr(name, v),
            None => self,
        }
    }

    /// A flag attribute with an empty value (`=count-only=`).
    pub fn flag(self, name: &str) -> Self {
        self.attr(name, b"")
    }

    /// `=.id=<id>`.
    pub fn id(self, id: &str) -> Self {
        self.attr(".id", id)
    }

    /// `=.proplist=a,b,c`.
    pub fn proplist(mut self, props: &[&str]) -> Self {
        if props.iter().any(|p| !valid_name(p) || p.contains(',')) {
            self.fail(format!("invalid .proplist {props:?}"));
            return self;
        }
        self.attr(".proplist", props.join(","))
    }

    fn query_word(mut self, prefix: &str, name: &str, value: Option<&[u8]>) -> Self {
        if !valid_name(name) {
            self.fail(format!("invalid query property {name:?}"));
            return self;
        }
        let mut b = BytesMut::new();
        b.put_slice(prefix.as_bytes());
        b.put_slice(name.as_bytes());
        if let Some(v) = value {
            b.put_u8(b'=');
            b.put_slice(v);
        }
        self.words.push(b.freeze());
        self
    }

    /// `?=name=value` (equality; the `?=` form cannot be confused with `?-`, `?<`, `?>`).
    pub fn query_eq(self, name: &str, value: impl AsRef<[u8]>) -> Self {
        self.query_word("?=", name, Some(value.as_ref()))
    }

    /// `?name`: the item has the property.
    pub fn query_has(self, name: &str) -> Self {
        self.query_word("?", name, None)
    }

    /// `?-name`: the item lacks the property.
    pub fn query_lacks(self, name: &str) -> Self {
        self.query_word("?-", name, None)
    }

    /// `?<name=value`.
    pub fn query_lt(self, name: &str, value: impl AsRef<[u8]>) -> Self {
        self.query_word("?<", name, Some(value.as_ref()))
    }

    /// `?>name=value`.
    pub fn query_gt(self, name: &str, value: impl AsRef<[u8]>) -> Self {
        self.query_word("?>", name, Some(value.as_ref()))
    }

    /// `?#ops` with ops made of digits and `!&|.`.
    pub fn query_ops(mut self, ops: &str) -> Self {
        if ops.is_empty()
            || !ops
                .bytes()
                .all(|b| b.is_ascii_digit() || matches!(b, b'!' | b'&' | b'|' | b'.'))
        {
            self.fail(format!("invalid query operations {ops:?}"));
            return self;
        }
        self.words.push(Bytes::from(format!("?#{ops}")));
        self
    }

    /// The command word.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The words after the command word.
    pub fn words(&self) -> &[Bytes] {
        &self.words
    }

    /// The validation error, if any.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// The sentence to send, with `.tag=<tag>` last when given.
    pub fn to_sentence(&self, tag: Option<&str>) -> Result<Sentence, String> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        let mut s = Sentence(Vec::with_capacity(self.words.len() + 2));
        s.push(Bytes::from(self.path.clone()));
        s.0.extend(self.words.iter().cloned());
        if let Some(t) = tag {
            s.push(Bytes::from(format!(".tag={t}")));
        }
        Ok(s)
    }
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let words: Vec<String> = self
            .words
            .iter()
            .map(|w| {
                if is_secret_word(w) {
                    "=<secret>=***".to_string()
                } else {
                    String::from_utf8_lossy(w).into_owned()
                }
            })
            .collect();
        f.debug_struct("Command")
            .field("path", &self.path)
            .field("words", &words)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn attribute_split_at_second_equals() {
        assert_eq!(
            classify(b"=name=iu=c3Eeg"),
            Word::Attribute {
                name: b"name",
                value: b"iu=c3Eeg"
            }
        );
        assert_eq!(
            classify(b"=comment="),
            Word::Attribute {
                name: b"comment",
                value: b""
            }
        );
        assert_eq!(
            classify(b"=lonely"),
            Word::Attribute {
                name: b"lonely",
                value: b""
            }
        );
        assert_eq!(
            classify(b".tag=7"),
            Word::ApiAttribute {
                name: b"tag",
                value: b"7"
            }
        );
        assert_eq!(classify(b"?=name=x"), Word::Query(b"=name=x"));
    }

    #[test]
    fn fatal_accepts_bare_and_message() {
        let s = Sentence::new()
            .word(&b"!fatal"[..])
            .word(&b"session terminated on request"[..]);
        assert_eq!(
            Response::parse(&s).unwrap(),
            Response::Fatal {
                reason: "session terminated on request".into()
            }
        );
        let s = Sentence::new()
            .word(&b"!fatal"[..])
            .word(&b"=message=not logged in"[..]);
        assert_eq!(
            Response::parse(&s).unwrap(),
            Response::Fatal {
                reason: "not logged in".into()
            }
        );
    }

    #[test]
    fn unknown_reply_is_error() {
        let s = Sentence::new().word(&b"!bogus"[..]);
        assert!(Response::parse(&s).is_err());
        let s = Sentence::new().word(&b"/ip/print"[..]);
        assert!(Response::parse(&s).is_err());
    }

    #[test]
    fn command_validation() {
        assert!(Command::new("ip/x").to_sentence(None).is_err());
        assert!(Command::new("/x")
            .attr("a=b", "v")
            .to_sentence(None)
            .is_err());
        assert!(Command::new("/x")
            .attr(".tag", "v")
            .to_sentence(None)
            .is_err());
        assert!(Command::new("/x")
            .query_ops("|&x")
            .to_sentence(None)
            .is_err());
        let s = Command::new("/x")
            .attr("password", "s3cret")
            .to_sentence(Some("4"))
            .unwrap();
        assert!(!format!("{s:?}").contains("s3cret"));
        assert_eq!(s.0.last().unwrap().as_ref(), b".tag=4");
    }
}
