//! The demo's secrets file: made once, reloaded on every later run.

use std::path::Path;

use anyhow::Context as _;
use base64::Engine as _;
use rand::Rng as _;
use serde::{Deserialize, Serialize};

use super::{ADMIN_EMAIL, OPERATOR_EMAIL};
use crate::config::MasterKey;

/// Everything the demo keeps between runs (0600 JSON).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DemoSecrets {
    pub master_key: String,
    pub jwt_session_secret: String,
    pub jwt_apikey_secret: String,
    pub admin_email: String,
    pub admin_password: String,
    pub router_password: String,
    pub conekta_private_key: String,
    pub conekta_public_key: String,
    pub mp_access_token: String,
    pub mp_public_key: String,
    pub mp_webhook_secret: String,
    /// The operator (super_admin) login; absent in secrets files made before the console.
    #[serde(default)]
    pub operator_email: Option<String>,
    #[serde(default)]
    pub operator_password: Option<String>,
    #[serde(default)]
    pub empresa_id: Option<String>,
    #[serde(default)]
    pub router_id: Option<String>,
    #[serde(default)]
    pub api_key: Option<String>,
}

fn random_alnum(n: usize) -> String {
    rand::rngs::OsRng
        .sample_iter(&rand::distributions::Alphanumeric)
        .take(n)
        .map(char::from)
        .collect()
}

impl DemoSecrets {
    /// Adds the operator login to a secrets file made before it existed; true if it did.
    pub fn fill_operator(&mut self) -> bool {
        if self.operator_email.is_some() && self.operator_password.is_some() {
            return false;
        }
        self.operator_email = Some(OPERATOR_EMAIL.into());
        self.operator_password = Some(random_alnum(16));
        true
    }

    fn generate() -> Self {
        let key: [u8; 32] = rand::random();
        Self {
            master_key: base64::engine::general_purpose::STANDARD.encode(key),
            jwt_session_secret: random_alnum(48),
            jwt_apikey_secret: random_alnum(48),
            admin_email: ADMIN_EMAIL.into(),
            admin_password: random_alnum(16),
            router_password: random_alnum(20),
            conekta_private_key: format!("key_demo{}", random_alnum(20)),
            conekta_public_key: format!("key_demopub{}", random_alnum(16)),
            mp_access_token: format!("TEST-{}", random_alnum(32)),
            mp_public_key: format!("TEST-{}", random_alnum(24)),
            mp_webhook_secret: random_alnum(32),
            operator_email: Some(OPERATOR_EMAIL.into()),
            operator_password: Some(random_alnum(16)),
            empresa_id: None,
            router_id: None,
            api_key: None,
        }
    }
}

/// Writes `value` to `path` atomically with mode 0600.
pub(super) fn write_private(path: &Path, value: &DemoSecrets) -> anyhow::Result<()> {
    use std::io::Write as _;
    let tmp = path.with_extension("json.tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        opts.mode(0o600);
    }
    let mut file = opts
        .open(&tmp)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    file.write_all(serde_json::to_string_pretty(value)?.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

/// Loads the secrets, or makes them on the first run. A database without its secrets file
/// cannot be read (its secrets are encrypted under the lost master key): that is an error.
pub(super) fn load_or_create_secrets(dir: &Path) -> anyhow::Result<(DemoSecrets, bool)> {
    let path = dir.join("demo-secrets.json");
    if path.exists() {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let secrets: DemoSecrets = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a demo secrets file", path.display()))?;
        MasterKey::from_base64(&secrets.master_key)
            .map_err(|e| anyhow::anyhow!("{}: master_key {e}", path.display()))?;
        return Ok((secrets, false));
    }
    let db = dir.join("demo.db");
    if db.exists() {
        anyhow::bail!(
            "{} exists but {} is missing: delete {} to start the demo afresh",
            db.display(),
            path.display(),
            db.display()
        );
    }
    let secrets = DemoSecrets::generate();
    write_private(&path, &secrets)?;
    Ok((secrets, true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_private_and_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let (first, created) = load_or_create_secrets(dir.path()).unwrap();
        assert!(created);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.path().join("demo-secrets.json"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let (again, created) = load_or_create_secrets(dir.path()).unwrap();
        assert!(!created);
        assert_eq!(first.master_key, again.master_key);
        assert_eq!(first.admin_password, again.admin_password);
        // A database whose secrets are gone is refused, not silently re-keyed.
        std::fs::remove_file(dir.path().join("demo-secrets.json")).unwrap();
        std::fs::write(dir.path().join("demo.db"), b"").unwrap();
        let err = load_or_create_secrets(dir.path()).unwrap_err().to_string();
        assert!(err.contains("demo-secrets.json is missing"), "{err}");
    }
}
