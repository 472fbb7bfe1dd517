//! Commands run on the simulated router's state directly, without an API connection: what the
//! router does itself (its hotspot login page logging a device in) and test set-up.

use std::collections::BTreeMap;

use super::model::Ctx;
use super::SimControl;
use crate::routeros::dialect;
use crate::routeros::proto::Response;

impl SimControl {
    /// Runs one menu command (`/ip/hotspot/active/login`, `/user/print`, …) with `=k=v`
    /// attributes, as the API would; the rows it returns, or the trap's message.
    pub fn command(
        &self,
        path: &str,
        attrs: &[(&str, &str)],
    ) -> Result<Vec<BTreeMap<String, String>>, String> {
        let shared = &self.shared;
        let (version, board) = (shared.version.clone(), shared.board_name.clone());
        let ctx = Ctx {
            sends_empty: dialect::sends_empty(&version),
            version: &version,
            board_name: &board,
            uptime_secs: shared.uptime().as_secs(),
        };
        let attrs: Vec<(String, Vec<u8>)> = attrs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.as_bytes().to_vec()))
            .collect();
        let replies = self.state().execute(path, &attrs, &[], &ctx);
        let mut rows = Vec::new();
        for r in replies {
            match r {
                Response::Re { attrs, .. } => rows.push(
                    attrs
                        .iter()
                        .map(|(k, v)| {
                            (
                                String::from_utf8_lossy(k).into_owned(),
                                String::from_utf8_lossy(v).into_owned(),
                            )
                        })
                        .collect(),
                ),
                Response::Trap { message, .. } => return Err(message),
                Response::Fatal { reason } => return Err(reason),
                Response::Done { .. } | Response::Empty { .. } => {}
            }
        }
        Ok(rows)
    }
}
