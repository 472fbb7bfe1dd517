//! What the headless-Chromium tests need: Debian's chromium and playwright-core from
//! `npm ci` in tests/browser. Missing either fails the test (no skip).

use std::path::{Path, PathBuf};

/// The repository root and the chromium binary, after checking both prerequisites.
pub fn prerequisites() -> (PathBuf, String) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let chromium = std::env::var("CHROMIUM_PATH").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&chromium).exists(),
        "{chromium} is missing: apt-get install -y chromium"
    );
    assert!(
        root.join("tests/browser/node_modules/playwright-core")
            .exists(),
        "playwright-core is missing: (cd tests/browser && npm ci)"
    );
    (root, chromium)
}
