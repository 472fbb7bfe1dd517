//! One simulated API connection: login, tags, concurrent commands with latency, `/cancel`,
//! `/quit`, and the fault knobs.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use md5::{Digest, Md5};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;
use tokio_util::codec::Decoder;

use crate::routeros::codec::{encode_sentence, ApiCodec, Sentence};
use crate::routeros::dialect::{self, msg};
use crate::routeros::proto::{classify, Attrs, Response, Word};

use super::model::Ctx;
use super::{LoginMode, Shared};

/// The `!trap` of a command refused for load ([`super::SimControl::set_trap_over_in_flight`]).
pub(crate) const SIM_BUSY: &str = "router busy, try again later";

struct Pending {
    tag: Option<String>,
    ready_at: Instant,
    replies: Vec<Response>,
    /// Counted in `in_flight` until written (everything but `/cancel`).
    counted: bool,
    /// Close the connection after writing.
    close_after: bool,
    /// The hotspot user the command concerns (see `Conn::user_key`).
    user_key: Option<String>,
}

struct Conn {
    shared: Arc<Shared>,
    logged_in: bool,
    challenge: Option<[u8; 16]>,
    in_flight: usize,
    pending: Vec<Pending>,
    /// Commands in flight per hotspot user.
    per_user: HashMap<String, usize>,
    /// The user key of the command being handled (taken by `push`).
    next_user_key: Option<String>,
}

/// Decrements the open-session count when the connection ends.
pub(crate) struct SessionGuard(pub Arc<Shared>);

impl Drop for SessionGuard {
    fn drop(&mut self) {
        self.0.counters.sessions_open.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Sets the tag of a reply (a `None` leaves it as built).
fn with_tag(mut r: Response, t: &Option<String>) -> Response {
    if t.is_none() {
        return r;
    }
    match &mut r {
        Response::Re { tag, .. }
        | Response::Done { tag, .. }
        | Response::Trap { tag, .. }
        | Response::Empty { tag } => *tag = t.clone(),
        Response::Fatal { .. } => {}
    }
    r
}

fn done() -> Response {
    Response::Done {
        tag: None,
        attrs: Attrs::new(),
    }
}

fn trap(message: &str) -> Vec<Response> {
    vec![
        Response::Trap {
            tag: None,
            category: None,
            message: message.into(),
            attrs: Attrs::new(),
        },
        done(),
    ]
}

/// A parsed client sentence.
struct Request {
    path: String,
    attrs: Vec<(String, Vec<u8>)>,
    queries: Vec<Vec<u8>>,
    tag: Option<String>,
}

fn parse_request(s: &Sentence) -> Option<Request> {
    let mut words = s.0.iter();
    let first = words.next()?;
    let Word::Command(path) = classify(first) else {
        return None;
    };
    let mut r = Request {
        path: String::from_utf8_lossy(path).into_owned(),
        attrs: Vec::new(),
        queries: Vec::new(),
        tag: None,
    };
    for w in words {
        match classify(w) {
            Word::Attribute { name, value } => r
                .attrs
                .push((String::from_utf8_lossy(name).into_owned(), value.to_vec())),
            // An empty tag means untagged.
            Word::ApiAttribute { name, value } if name == b"tag" && !value.is_empty() => {
                r.tag = Some(String::from_utf8_lossy(value).into_owned());
            }
            Word::Query(q) => r.queries.push(q.to_vec()),
            _ => {}
        }
    }
    Some(r)
}

pub(crate) async fn serve<S>(stream: S, shared: Arc<Shared>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut rd, mut wr) = tokio::io::split(stream);
    let mut codec = ApiCodec::new();
    let mut buf = BytesMut::with_capacity(4096);
    let mut epoch = shared.epoch.subscribe();
    epoch.mark_unchanged();
    let mut conn = Conn {
        shared: shared.clone(),
        logged_in: false,
        challenge: None,
        in_flight: 0,
        pending: Vec::new(),
        per_user: HashMap::new(),
        next_user_key: None,
    };
    loop {
        let next_ready = conn.pending.iter().map(|p| p.ready_at).min();
        let mut read_failed = false;
        tokio::select! {
            _ = epoch.changed() => break,
            r = rd.read_buf(&mut buf) => match r {
                Ok(n) if n > 0 => {
                    // Every complete sentence in the buffer was sent before our replies to the
                    // earlier ones: take them all now, so pipelining shows in the counters.
                    loop {
                        match codec.decode(&mut buf) {
                            Ok(Some(s)) => conn.handle(s),
                            Ok(None) => break,
                            Err(_) => {
                                read_failed = true;
                                break;
                            }
                        }
                    }
                }
                _ => break,
            },
            _ = tokio::time::sleep_until(next_ready.unwrap_or_else(Instant::now)), if next_ready.is_some() => {}
        }
        match conn.flush_ready(&mut wr).await {
            Ok(true) => {}
            _ => break,
        }
        if read_failed {
            break;
        }
    }
    let n = conn.in_flight;
    if n > 0 {
        shared.counters.in_flight_sub(n);
    }
    let _ = wr.shutdown().await;
}

impl Conn {
    fn latency_for(&self, path: &str) -> Duration {
        let l = self.shared.faults.lock().unwrap_or_else(|e| e.into_inner());
        l.latency_by_path.get(path).copied().unwrap_or(l.latency)
    }

    /// A command's delay: its turn on the router's "CPU" (with a service time) plus latency.
    fn delay_for(&self, path: &str) -> Duration {
        let latency = self.latency_for(path);
        let mut f = self.shared.faults.lock().unwrap_or_else(|e| e.into_inner());
        if f.service_time.is_zero() {
            return latency;
        }
        let now = Instant::now();
        let start = f.cpu_free_at.map_or(now, |t| t.max(now));
        let done = start + f.service_time;
        f.cpu_free_at = Some(done);
        (done - now) + latency
    }

    /// The `!trap` this command gets instead of running, if any: the one armed for its path
    /// (`trap_next`), or a refusal for load (`set_trap_over_in_flight`).
    fn trapped(&self, path: &str) -> Option<String> {
        let mut f = self.shared.faults.lock().unwrap_or_else(|e| e.into_inner());
        match &f.trap_next {
            Some((p, _)) if p == path => return f.trap_next.take().map(|(_, m)| m),
            _ => {}
        }
        f.trap_over_in_flight
            .is_some_and(|n| self.in_flight >= n)
            .then(|| SIM_BUSY.to_string())
    }

    fn push(
        &mut self,
        tag: Option<String>,
        replies: Vec<Response>,
        counted: bool,
        close_after: bool,
        delay: Duration,
    ) {
        let user_key = self.next_user_key.take().filter(|_| counted);
        if counted {
            self.in_flight += 1;
            let c = &self.shared.counters;
            c.in_flight_add(1);
            c.max_in_flight_per_connection
                .fetch_max(self.in_flight, Ordering::SeqCst);
        }
        if let Some(k) = &user_key {
            let n = self.per_user.entry(k.clone()).or_insert(0);
            *n += 1;
            let n = *n;
            self.shared
                .counters
                .max_in_flight_per_user
                .fetch_max(n, Ordering::SeqCst);
        }
        self.pending.push(Pending {
            tag,
            ready_at: Instant::now() + delay,
            replies,
            counted,
            close_after,
            user_key,
        });
    }

    /// A command's pending reply was written or dropped: it is no longer in flight.
    fn user_done(&mut self, key: Option<&String>) {
        if let Some(k) = key {
            if let Some(n) = self.per_user.get_mut(k) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    self.per_user.remove(k);
                }
            }
        }
    }

    /// The hotspot user a `/ip/hotspot/user/…` command concerns: its `name`, its `?name=`
    /// query, or the name of the user its `.id`/`numbers` designate (the raw value if unknown).
    fn user_key(&self, req: &Request) -> Option<String> {
        let rest = req.path.strip_prefix("/ip/hotspot/user/")?;
        if rest.starts_with("profile") {
            return None;
        }
        let attr = |k: &str| {
            req.attrs
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
        };
        if let Some(name) = attr("name") {
            return Some(name);
        }
        for q in &req.queries {
            let q = q.strip_prefix(b"=").unwrap_or(q);
            if let Some(v) = q.strip_prefix(b"name=") {
                return Some(String::from_utf8_lossy(v).into_owned());
            }
        }
        let id = attr(".id").or_else(|| attr("numbers"))?;
        let st = self.shared.state.lock().unwrap_or_else(|e| e.into_inner());
        Some(st.user_name_by_id(&id).unwrap_or(id))
    }

    fn handle(&mut self, s: Sentence) {
        let shared = self.shared.clone();
        shared
            .counters
            .commands_total
            .fetch_add(1, Ordering::SeqCst);
        if let Some(log) = shared
            .wire_log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_mut()
        {
            log.push(s.clone());
        }
        if shared.faults_flag(|f| f.silent) {
            return;
        }
        let Some(req) = parse_request(&s) else {
            // Not a command word: the router cannot continue this session.
            self.push(
                None,
                vec![Response::Fatal {
                    reason: "unknown command word".into(),
                }],
                false,
                true,
                Duration::ZERO,
            );
            return;
        };
        if req.path != "/cancel" {
            let fatal = {
                let mut f = shared.faults.lock().unwrap_or_else(|e| e.into_inner());
                f.fatal_next.take()
            };
            if let Some(reason) = fatal {
                self.push(
                    None,
                    vec![Response::Fatal { reason }],
                    true,
                    true,
                    Duration::ZERO,
                );
                return;
            }
        }
        let delay = self.latency_for(&req.path);
        match req.path.as_str() {
            "/login" => {
                let replies = self.login(&req);
                self.push(req.tag, replies, true, false, delay);
            }
            "/quit" => {
                self.push(
                    None,
                    vec![Response::Fatal {
                        reason: msg::SESSION_TERMINATED.into(),
                    }],
                    true,
                    true,
                    Duration::ZERO,
                );
            }
            "/cancel" => self.cancel(&req),
            _ if !self.logged_in => {
                // [UNVERIFIED] commands before login.
                self.push(
                    None,
                    vec![Response::Fatal {
                        reason: msg::NOT_LOGGED_IN.into(),
                    }],
                    true,
                    true,
                    Duration::ZERO,
                );
            }
            path => {
                let (version, board) = (shared.version.clone(), shared.board_name.clone());
                let ctx = Ctx {
                    sends_empty: dialect::sends_empty(&version),
                    version: &version,
                    board_name: &board,
                    uptime_secs: shared.uptime().as_secs(),
                };
                self.next_user_key = self.user_key(&req);
                if let Some(message) = self.trapped(path) {
                    self.push(req.tag, trap(&message), true, false, delay);
                    return;
                }
                let delay = self.delay_for(path);
                let replies = {
                    let mut st = shared.state.lock().unwrap_or_else(|e| e.into_inner());
                    st.execute(path, &req.attrs, &req.queries, &ctx)
                };
                self.push(req.tag, replies, true, false, delay);
            }
        }
    }

    fn login(&mut self, req: &Request) -> Vec<Response> {
        let shared = &self.shared;
        let get = |k: &str| {
            req.attrs
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.as_slice())
        };
        let mode = shared.login_mode;
        let fail_text = match mode {
            LoginMode::LegacyOnly => msg::LOGIN_FAILED_LEGACY,
            _ => msg::LOGIN_FAILED,
        };
        let (user, password, refuse) = {
            let f = shared.faults.lock().unwrap_or_else(|e| e.into_inner());
            (f.user.clone(), f.password.clone(), f.refuse_logins)
        };
        let ok = |me: &mut Self| {
            me.logged_in = true;
            me.challenge = None;
            me.shared.counters.logins_ok.fetch_add(1, Ordering::SeqCst);
            vec![done()]
        };
        let fail = |me: &mut Self| {
            me.challenge = None;
            me.shared
                .counters
                .logins_failed
                .fetch_add(1, Ordering::SeqCst);
            trap(fail_text)
        };
        if let Some(resp) = get("response") {
            let Some(ch) = self.challenge else {
                return fail(self);
            };
            if mode == LoginMode::PlainOnly || refuse {
                return fail(self);
            }
            let mut h = Md5::new();
            h.update([0u8]);
            h.update(password.as_bytes());
            h.update(ch);
            let expected = format!("00{}", hex::encode(h.finalize()));
            if get("name") == Some(user.as_bytes())
                && resp.eq_ignore_ascii_case(expected.as_bytes())
            {
                return ok(self);
            }
            return fail(self);
        }
        let plain = get("name").is_some() && get("password").is_some();
        if plain && mode != LoginMode::LegacyOnly {
            if !refuse
                && get("name") == Some(user.as_bytes())
                && get("password") == Some(password.as_bytes())
            {
                return ok(self);
            }
            return fail(self);
        }
        // Bare /login (or any /login on a pre-6.43 router): the challenge.
        let ch: [u8; 16] = rand::random();
        self.challenge = Some(ch);
        let mut attrs = Attrs::new();
        attrs.push(&b"ret"[..], hex::encode(ch).into_bytes());
        vec![Response::Done { tag: None, attrs }]
    }

    fn cancel(&mut self, req: &Request) {
        let target = req
            .attrs
            .iter()
            .find(|(k, _)| k == "tag")
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned());
        let mut out = Vec::new();
        let mut i = 0;
        while let Some(p) = self.pending.get(i) {
            let hit = p.counted
                && !p.close_after
                && match &target {
                    Some(t) => p.tag.as_deref() == Some(t.as_str()),
                    None => true,
                };
            if hit {
                let p = self.pending.remove(i);
                self.in_flight -= 1;
                self.shared.counters.in_flight_sub(1);
                self.user_done(p.user_key.as_ref());
                out.push(with_tag(
                    Response::Trap {
                        tag: None,
                        category: Some(dialect::CATEGORY_INTERRUPTED),
                        message: msg::INTERRUPTED.into(),
                        attrs: Attrs::new(),
                    },
                    &p.tag,
                ));
                out.push(with_tag(done(), &p.tag));
            } else {
                i += 1;
            }
        }
        // [UNVERIFIED] an unknown tag just gets `!done` (CANCEL_UNKNOWN_TAG_IS_DONE).
        out.push(with_tag(done(), &req.tag));
        self.pending.push(Pending {
            tag: None,
            ready_at: Instant::now(),
            replies: out,
            counted: false,
            close_after: false,
            user_key: None,
        });
    }

    /// Writes every reply whose time has come. Returns `Ok(false)` when the connection must close.
    async fn flush_ready<W: AsyncWrite + Unpin>(&mut self, wr: &mut W) -> std::io::Result<bool> {
        let now = Instant::now();
        let mut ready: Vec<Pending> = Vec::new();
        let mut i = 0;
        while let Some(p) = self.pending.get(i) {
            if p.ready_at <= now {
                ready.push(self.pending.remove(i));
            } else {
                i += 1;
            }
        }
        ready.sort_by_key(|p| p.ready_at);
        let mut keep_open = true;
        for p in ready {
            let mut buf = bytes::BytesMut::new();
            for r in &p.replies {
                let r = with_tag(r.clone(), &p.tag);
                encode_sentence(&r.to_sentence(), &mut buf).map_err(std::io::Error::other)?;
            }
            let cut = self
                .shared
                .faults_take(|f| std::mem::take(&mut f.cut_next_reply));
            if cut {
                // A strict prefix (half) of the first sentence, then close.
                let first_len = p.replies.first().map_or(2, |r| {
                    with_tag(r.clone(), &p.tag).to_sentence().encoded_len()
                });
                let half = (first_len / 2).clamp(1, buf.len());
                wr.write_all(buf.get(..half).unwrap_or_default()).await?;
                wr.flush().await?;
                return Ok(false);
            }
            wr.write_all(&buf).await?;
            if p.counted {
                self.in_flight -= 1;
                self.shared.counters.in_flight_sub(1);
            }
            self.user_done(p.user_key.as_ref());
            if p.close_after {
                keep_open = false;
                break;
            }
        }
        wr.flush().await?;
        Ok(keep_open)
    }
}
