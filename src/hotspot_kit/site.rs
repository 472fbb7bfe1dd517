//! The captive portal's files (`portal/`, embedded with `include_str!` like the API docs'
//! assets), with the API address and a router key filled in.

use std::io::Write as _;

/// The portal page; on a router it is the hotspot's `login.html`.
pub const INDEX_HTML: &str = include_str!("../../portal/index.html");
pub const PORTAL_JS: &str = include_str!("../../portal/portal.js");
pub const PORTAL_CSS: &str = include_str!("../../portal/portal.css");

/// A JSON string literal that is also safe inside an HTML `<script>`.
fn js_string(value: &str) -> String {
    serde_json::to_string(value)
        .unwrap_or_else(|_| "\"\"".into())
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// The portal page with the API address and key filled in (the only two settings).
pub fn login_html(api_base: &str, api_key: &str) -> String {
    INDEX_HTML
        .replacen("\"__API_BASE__\"", &js_string(api_base), 1)
        .replacen("\"__API_KEY__\"", &js_string(api_key), 1)
}

/// The files of the router's `hotspot/` folder: `login.html`, `portal.js`, `portal.css`.
pub fn hotspot_files(api_base: &str, api_key: &str) -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("login.html", login_html(api_base, api_key).into_bytes()),
        ("portal.js", PORTAL_JS.as_bytes().to_vec()),
        ("portal.css", PORTAL_CSS.as_bytes().to_vec()),
    ]
}

/// Those files as a zip (stored, not compressed: they are small, and every unzip reads it).
pub fn hotspot_zip(api_base: &str, api_key: &str) -> std::io::Result<Vec<u8>> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .unix_permissions(0o644);
    for (name, bytes) in hotspot_files(api_base, api_key) {
        zip.start_file(name, options)
            .map_err(std::io::Error::other)?;
        zip.write_all(&bytes)?;
    }
    let cursor = zip.finish().map_err(std::io::Error::other)?;
    Ok(cursor.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_values_are_script_safe() {
        let html = login_html("http://h:1", "jwt_</script><b>&");
        assert!(html.contains("\"http://h:1\""));
        assert!(!html.contains("jwt_</script>"));
        assert!(html.contains("jwt_\\u003c/script\\u003e\\u003cb\\u003e\\u0026"));
        assert!(!html.contains("__API_KEY__"));
        assert!(!html.contains("__API_BASE__"));
    }

    #[test]
    fn the_folder_is_small_and_has_no_modules_or_external_fonts() {
        let files = hotspot_files("https://pagos.example.com", "jwt_x");
        let total: usize = files.iter().map(|(_, b)| b.len()).sum();
        assert!(total < 100 * 1024, "{total} bytes");
        for (name, bytes) in &files {
            let text = String::from_utf8_lossy(bytes);
            assert!(!text.contains("type=\"module\""), "{name}");
            assert!(!text.contains("@import"), "{name}");
            assert!(!text.contains("@font-face"), "{name}");
            assert!(!text.contains("fonts.googleapis"), "{name}");
        }
    }
}
