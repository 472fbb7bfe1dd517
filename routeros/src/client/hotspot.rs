//! The typed hotspot and system helpers of a session (each runs one command with the session's
//! command deadline and parses its reply with [`crate::commands`]).

use super::RouterClient;
use crate::commands::{self as cmds, *};
use crate::error::RouterError;

impl RouterClient {
    /// Adds a hotspot user; returns its `.id`.
    pub async fn hotspot_user_add(&mut self, u: &NewHotspotUser) -> Result<String, RouterError> {
        let r = self.call(cmds::user_add(u)).await?;
        match r.ret() {
            Some(id) => Ok(id),
            // Some versions omit =ret=; look the id up by name.
            None => self
                .hotspot_user_find(&u.name)
                .await?
                .map(|x| x.id)
                .ok_or_else(|| RouterError::Protocol("add returned no id".into())),
        }
    }

    /// The user with this name, if any.
    pub async fn hotspot_user_find(
        &mut self,
        name: &str,
    ) -> Result<Option<HotspotUser>, RouterError> {
        Ok(self
            .hotspot_user_print(&[("name", name)], None)
            .await?
            .into_iter()
            .next())
    }

    /// Users matching every `(property, value)` equality; `proplist` defaults to [`USER_PROPS`].
    pub async fn hotspot_user_print(
        &mut self,
        filter: &[(&str, &str)],
        proplist: Option<&[&str]>,
    ) -> Result<Vec<HotspotUser>, RouterError> {
        let r = self
            .call(cmds::print(
                USER,
                filter,
                Some(proplist.unwrap_or(USER_PROPS)),
            ))
            .await?;
        Ok(r.rows.iter().map(HotspotUser::from_attrs).collect())
    }

    /// Changes a user.
    pub async fn hotspot_user_set(
        &mut self,
        id: &str,
        u: &HotspotUserUpdate,
    ) -> Result<(), RouterError> {
        self.call(cmds::user_set(id, u)).await.map(|_| ())
    }

    /// Enables a user.
    pub async fn hotspot_user_enable(&mut self, id: &str) -> Result<(), RouterError> {
        self.call(cmds::by_id(USER, "enable", id)).await.map(|_| ())
    }

    /// Disables a user.
    pub async fn hotspot_user_disable(&mut self, id: &str) -> Result<(), RouterError> {
        self.call(cmds::by_id(USER, "disable", id))
            .await
            .map(|_| ())
    }

    /// Removes a user (`NotFound` if it is already gone).
    pub async fn hotspot_user_remove(&mut self, id: &str) -> Result<(), RouterError> {
        self.call(cmds::by_id(USER, "remove", id)).await.map(|_| ())
    }

    /// Every hotspot user profile.
    pub async fn user_profiles(&mut self) -> Result<Vec<UserProfile>, RouterError> {
        let r = self.call(cmds::print(PROFILE, &[], None)).await?;
        Ok(r.rows.iter().map(UserProfile::from_attrs).collect())
    }

    /// Adds an ip-binding; returns its `.id`.
    pub async fn ip_binding_add(&mut self, b: &NewIpBinding) -> Result<String, RouterError> {
        let r = self.call(cmds::ip_binding_add(b)).await?;
        ret_id(&r)
    }

    /// Removes an ip-binding.
    pub async fn ip_binding_remove(&mut self, id: &str) -> Result<(), RouterError> {
        self.call(cmds::by_id(IP_BINDING, "remove", id))
            .await
            .map(|_| ())
    }

    /// ip-bindings matching the filter.
    pub async fn ip_binding_print(
        &mut self,
        filter: &[(&str, &str)],
    ) -> Result<Vec<IpBinding>, RouterError> {
        let r = self.call(cmds::print(IP_BINDING, filter, None)).await?;
        Ok(r.rows.iter().map(IpBinding::from_attrs).collect())
    }

    /// Logs a host in (`/ip/hotspot/active/login`).
    pub async fn active_login(&mut self, l: &ActiveLogin) -> Result<(), RouterError> {
        self.call(cmds::active_login(l)).await.map(|_| ())
    }

    /// Active sessions matching the filter (e.g. `[("user", "guest1")]`).
    pub async fn active_print(
        &mut self,
        filter: &[(&str, &str)],
    ) -> Result<Vec<ActiveSession>, RouterError> {
        let r = self.call(cmds::print(ACTIVE, filter, None)).await?;
        Ok(r.rows.iter().map(ActiveSession::from_attrs).collect())
    }

    /// Logs a session out.
    pub async fn active_remove(&mut self, id: &str) -> Result<(), RouterError> {
        self.call(cmds::by_id(ACTIVE, "remove", id))
            .await
            .map(|_| ())
    }

    /// Cookies matching the filter.
    pub async fn cookie_print(
        &mut self,
        filter: &[(&str, &str)],
    ) -> Result<Vec<Cookie>, RouterError> {
        let r = self.call(cmds::print(COOKIE, filter, None)).await?;
        Ok(r.rows.iter().map(Cookie::from_attrs).collect())
    }

    /// Removes a cookie.
    pub async fn cookie_remove(&mut self, id: &str) -> Result<(), RouterError> {
        self.call(cmds::by_id(COOKIE, "remove", id))
            .await
            .map(|_| ())
    }

    /// Hosts matching the filter (e.g. `[("mac-address", "AA:…")]`).
    pub async fn host_print(&mut self, filter: &[(&str, &str)]) -> Result<Vec<Host>, RouterError> {
        let r = self.call(cmds::print(HOST, filter, None)).await?;
        Ok(r.rows.iter().map(Host::from_attrs).collect())
    }

    /// `/system/resource/print`.
    pub async fn system_resource(&mut self) -> Result<SystemResource, RouterError> {
        let r = self.call(cmds::system_resource()).await?;
        r.rows
            .first()
            .map(SystemResource::from_attrs)
            .ok_or_else(|| RouterError::Protocol("system resource returned no row".into()))
    }

    /// Every row of `<menu>/print`, as attribute name → value (lossy UTF-8).
    pub async fn print_rows(
        &mut self,
        menu: &str,
    ) -> Result<Vec<std::collections::BTreeMap<String, String>>, RouterError> {
        let r = self.call(cmds::print(menu, &[], None)).await?;
        Ok(r.rows.iter().map(cmds::row_map).collect())
    }

    /// `/system/identity/print` → the router's name.
    pub async fn system_identity(&mut self) -> Result<String, RouterError> {
        let r = self.call(cmds::system_identity()).await?;
        r.rows
            .first()
            .and_then(|a| a.get_str("name"))
            .ok_or_else(|| RouterError::Protocol("system identity returned no name".into()))
    }
}
