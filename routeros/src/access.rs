//! Taking a hotspot user's access away: its active sessions, its MAC cookies, and the whole
//! revocation (disable, log out, forget the cookies, then read the router's state back).
//!
//! Disabling a user alone does not log a device out: RouterOS keeps the user's active session
//! and its MAC cookie (which logs the device in again on its next visit). These operations run
//! the same commands on a sequential session ([`RouterClient`]) and on a pipelined one
//! ([`Pipeline`]) through the small [`Runner`] trait. Every step is idempotent: an item already
//! gone (`no such item`) counts as done, so a revocation can simply be run again.

use crate::client::{Reply, RouterClient};
use crate::commands::USAGE_PROPS;
use crate::commands::{self as cmds, ActiveSession, HotspotUser, ACTIVE, COOKIE, USER, USER_PROPS};
use crate::error::RouterError;
use crate::pipeline::Pipeline;
use crate::proto::Command;

/// Runs one command with the session's command deadline.
pub(crate) trait Runner {
    async fn run_cmd(&mut self, cmd: Command) -> Result<Reply, RouterError>;
    /// The `.id` this session's `add` returned for the user `name`, if it has not been used
    /// yet (see [`crate::created`]).
    fn take_created(&mut self, name: &str) -> Option<String>;
}

impl Runner for RouterClient {
    async fn run_cmd(&mut self, cmd: Command) -> Result<Reply, RouterError> {
        self.call(cmd).await
    }
    fn take_created(&mut self, name: &str) -> Option<String> {
        self.created_users().take(name)
    }
}

impl Runner for &Pipeline {
    async fn run_cmd(&mut self, cmd: Command) -> Result<Reply, RouterError> {
        self.call(cmd).await
    }
    fn take_created(&mut self, name: &str) -> Option<String> {
        self.created_users().take(name)
    }
}

/// Enables the user `name` whose comment is `comment`: by the `.id` this session created it
/// with (one command), else found by name and comment first (two). A user of that name with
/// another comment is someone else's: `NotFound`, nothing changed.
pub(crate) async fn enable_own_user<R: Runner>(
    r: &mut R,
    name: &str,
    comment: &str,
) -> Result<(), RouterError> {
    let id = match r.take_created(name) {
        Some(id) => id,
        None => find_user(r, name)
            .await?
            .filter(|u| u.comment.as_deref() == Some(comment))
            .map(|u| u.id)
            .ok_or_else(|| RouterError::NotFound("user".into()))?,
    };
    r.run_cmd(cmds::by_id(USER, "enable", &id))
        .await
        .map(|_| ())
}

/// What a revocation did, and the router's state read back afterwards.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RevokeReport {
    /// The user existed when the revocation started.
    pub user_found: bool,
    /// A user of that name exists but carries another `comment`: it is someone else's (ours was
    /// removed and the name reused), so nothing was touched.
    pub foreign_user: bool,
    /// Active sessions removed.
    pub sessions_removed: usize,
    /// MAC cookies removed.
    pub cookies_removed: usize,
    /// Read back: the user exists and is still enabled.
    pub user_enabled: bool,
    /// Read back: active sessions of the user still on the router.
    pub sessions_left: usize,
    /// Read back: cookies of the user still on the router.
    pub cookies_left: usize,
}

impl RevokeReport {
    /// The router confirms the user has no access left: disabled (or gone), no active session,
    /// no cookie.
    pub fn is_complete(&self) -> bool {
        !self.user_enabled && self.sessions_left == 0 && self.cookies_left == 0
    }
}

/// `.id`s of the rows of `menu` (active sessions, cookies) that belong to the user `name`.
async fn ids_of_user<R: Runner>(
    r: &mut R,
    menu: &str,
    name: &str,
) -> Result<Vec<String>, RouterError> {
    let reply = r
        .run_cmd(cmds::print(menu, &[("user", name)], Some(&[".id"])))
        .await?;
    Ok(reply.rows.iter().filter_map(|a| a.get_str(".id")).collect())
}

/// Removes by `.id`; an item already gone counts as removed by someone else (`false`).
async fn remove_id<R: Runner>(r: &mut R, menu: &str, id: &str) -> Result<bool, RouterError> {
    match r.run_cmd(cmds::by_id(menu, "remove", id)).await {
        Ok(_) => Ok(true),
        Err(RouterError::NotFound(_)) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Removes every row of `menu` whose `user` is `name`; returns how many this call removed.
async fn remove_user_rows<R: Runner>(
    r: &mut R,
    menu: &str,
    name: &str,
) -> Result<usize, RouterError> {
    let mut removed = 0;
    for id in ids_of_user(r, menu, name).await? {
        if remove_id(r, menu, &id).await? {
            removed += 1;
        }
    }
    Ok(removed)
}

/// Logs every device of the user out (`/ip/hotspot/active/remove`).
pub(crate) async fn remove_active_sessions<R: Runner>(
    r: &mut R,
    name: &str,
) -> Result<usize, RouterError> {
    remove_user_rows(r, ACTIVE, name).await
}

/// Forgets every MAC cookie of the user (`/ip/hotspot/cookie/remove`).
pub(crate) async fn remove_cookies<R: Runner>(r: &mut R, name: &str) -> Result<usize, RouterError> {
    remove_user_rows(r, COOKIE, name).await
}

async fn find_user<R: Runner>(r: &mut R, name: &str) -> Result<Option<HotspotUser>, RouterError> {
    let reply = r
        .run_cmd(cmds::print(USER, &[("name", name)], Some(USER_PROPS)))
        .await?;
    Ok(reply.rows.first().map(HotspotUser::from_attrs))
}

/// Disables the user first (so no device can log in again meanwhile), removes its active
/// sessions and cookies, then reads the router's state back into the report. With `comment`,
/// a user of that name whose comment differs is left alone ([`RevokeReport::foreign_user`]).
pub(crate) async fn revoke_access<R: Runner>(
    r: &mut R,
    name: &str,
    comment: Option<&str>,
) -> Result<RevokeReport, RouterError> {
    let user = find_user(r, name).await?;
    if let (Some(u), Some(c)) = (&user, comment) {
        if u.comment.as_deref() != Some(c) {
            return Ok(RevokeReport {
                foreign_user: true,
                ..RevokeReport::default()
            });
        }
    }
    if let Some(u) = user.as_ref().filter(|u| !u.disabled) {
        match r.run_cmd(cmds::by_id(USER, "disable", &u.id)).await {
            Ok(_) | Err(RouterError::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
    }
    let sessions_removed = remove_active_sessions(r, name).await?;
    let cookies_removed = remove_cookies(r, name).await?;
    let user_enabled = find_user(r, name).await?.is_some_and(|u| !u.disabled);
    let sessions_left = ids_of_user(r, ACTIVE, name).await?.len();
    let cookies_left = ids_of_user(r, COOKIE, name).await?.len();
    Ok(RevokeReport {
        user_found: user.is_some(),
        foreign_user: false,
        sessions_removed,
        cookies_removed,
        user_enabled,
        sessions_left,
        cookies_left,
    })
}

/// Every hotspot user with what it consumed (`uptime`, bytes) and its limits: one `print`.
pub(crate) async fn list_users<R: Runner>(r: &mut R) -> Result<Vec<HotspotUser>, RouterError> {
    let reply = r.run_cmd(cmds::print(USER, &[], Some(USAGE_PROPS))).await?;
    Ok(reply.rows.iter().map(HotspotUser::from_attrs).collect())
}

/// Every active session: one `print`.
pub(crate) async fn list_active<R: Runner>(r: &mut R) -> Result<Vec<ActiveSession>, RouterError> {
    let reply = r.run_cmd(cmds::print(ACTIVE, &[], None)).await?;
    Ok(reply.rows.iter().map(ActiveSession::from_attrs).collect())
}

/// Ends one active session (by `.id`) and forgets the MAC cookie of that device for that user,
/// so it is not logged in again on its next visit. `Ok(false)`: no such session.
pub(crate) async fn kick_session<R: Runner>(r: &mut R, id: &str) -> Result<bool, RouterError> {
    let reply = r.run_cmd(cmds::print(ACTIVE, &[(".id", id)], None)).await?;
    let Some(session) = reply.rows.first().map(ActiveSession::from_attrs) else {
        return Ok(false);
    };
    if !remove_id(r, ACTIVE, id).await? {
        return Ok(false);
    }
    let mut filter = vec![("user", session.user.as_str())];
    if let Some(mac) = session.mac_address.as_deref() {
        filter.push(("mac-address", mac));
    }
    let cookies = r
        .run_cmd(cmds::print(COOKIE, &filter, Some(&[".id"])))
        .await?;
    for cid in cookies.rows.iter().filter_map(|a| a.get_str(".id")) {
        remove_id(r, COOKIE, &cid).await?;
    }
    Ok(true)
}
