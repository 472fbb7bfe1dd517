//! The hotspot users a session created and has not enabled yet, by name.
//!
//! Finishing a purchase enables the user its creation made. The user is normally found by its
//! name and its `purchase:<id>` comment (a lookup, one more round trip), because a `.id` alone
//! is not proof: a router that lost its users (a configuration reset, a restored backup) hands
//! out the same `.id`s again. A session, though, cannot outlive that: a reset or a restore
//! reboots the router and the TCP session ends with it, and within one boot RouterOS never
//! reuses a `.id`. So the `.id` that `add` returned on **this** session still names **that**
//! user, and the enable goes straight to it; on any other session (a reconnect, another
//! replica, the reconciler after a restart) the lookup runs as before.

use std::collections::HashMap;

/// At most this many names are remembered (purchases between their user's creation and its
/// enable); beyond it the memory starts again empty, and those purchases use the lookup.
const CAPACITY: usize = 4096;

/// Names → `.id`s of the users created on one session.
#[derive(Debug, Default)]
pub(crate) struct CreatedUsers {
    by_name: HashMap<String, String>,
}

impl CreatedUsers {
    pub(crate) fn record(&mut self, name: &str, id: &str) {
        if self.by_name.len() >= CAPACITY {
            self.by_name.clear();
        }
        self.by_name.insert(name.to_string(), id.to_string());
    }

    /// The `.id` this session created for `name`, forgotten as it is returned (used once).
    pub(crate) fn take(&mut self, name: &str) -> Option<String> {
        self.by_name.remove(name)
    }

    /// Forgets the user of `.id` `id` (removed on this session).
    pub(crate) fn forget_id(&mut self, id: &str) {
        self.by_name.retain(|_, v| v != id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_is_used_once_and_a_removed_user_is_forgotten() {
        let mut c = CreatedUsers::default();
        c.record("ana", "*1");
        c.record("bob", "*2");
        assert_eq!(c.take("ana").as_deref(), Some("*1"));
        assert_eq!(c.take("ana"), None);
        c.forget_id("*2");
        assert_eq!(c.take("bob"), None);
    }

    #[test]
    fn the_memory_is_bounded() {
        let mut c = CreatedUsers::default();
        for i in 0..=CAPACITY {
            c.record(&format!("u{i}"), &format!("*{i}"));
        }
        assert!(c.by_name.len() <= CAPACITY);
        assert_eq!(
            c.take(&format!("u{CAPACITY}")).as_deref(),
            Some(&*format!("*{CAPACITY}"))
        );
    }
}
