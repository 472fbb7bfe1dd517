//! `POST /api/v1/admin/mi-empresa/logo` (multipart `file`) and the public `/static` files.
//!
//! Unlike the original, the image type is checked by its content (magic bytes) as well as by
//! its extension, uploads are capped at [`MAX_LOGO_BYTES`], and the previous logo is deleted.

use std::path::{Path, PathBuf};

use actix_multipart::Multipart;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use futures_util::StreamExt;
use rand::RngCore;
use serde_json::json;

use crate::auth::session::ClienteAdmin;
use crate::db::audit::{self, AuditAction};
use crate::db::empresas::{self, EmpresaPatch};
use crate::error::{ApiError, ApiResult, Problem};
use crate::ids::EmpresaId;
use crate::state::AppState;

/// Largest logo accepted: 2 MiB.
pub const MAX_LOGO_BYTES: usize = 2 * 1024 * 1024;
/// Bytes of non-file form fields tolerated (and discarded).
const MAX_OTHER_FIELDS: usize = 16 * 1024;
const LOGO_PREFIX: &str = "/static/logos/";

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(upload_logo).service(static_file);
}

/// An accepted image type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    Jpeg,
    Png,
    Webp,
}

/// The image type of `bytes` by its magic number, if it is one we accept.
pub fn sniff_image(bytes: &[u8]) -> Option<ImageKind> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(ImageKind::Jpeg)
    } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some(ImageKind::Png)
    } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(ImageKind::Webp)
    } else {
        None
    }
}

/// The kind an extension promises (`.jpg`, `.jpeg`, `.png`, `.webp`).
fn kind_of_extension(ext: &str) -> Option<ImageKind> {
    match ext {
        ".jpg" | ".jpeg" => Some(ImageKind::Jpeg),
        ".png" => Some(ImageKind::Png),
        ".webp" => Some(ImageKind::Webp),
        _ => None,
    }
}

/// The lower-cased extension (with the dot) of a client-supplied file name.
fn extension(filename: &str) -> Option<String> {
    let base = filename.rsplit(['/', '\\']).next().unwrap_or(filename);
    let dot = base.rfind('.')?;
    if dot == 0 {
        return None;
    }
    Some(base[dot..].to_ascii_lowercase())
}

fn multipart_error(e: actix_multipart::MultipartError) -> ApiError {
    tracing::debug!(error = %e, "bad multipart body");
    ApiError::from(Problem::MultipartInvalid)
}

/// Reads the `file` field (name and bytes), enforcing the size cap while streaming.
async fn read_file_field(mut mp: Multipart) -> ApiResult<(Option<String>, Vec<u8>)> {
    let mut file: Option<(Option<String>, Vec<u8>)> = None;
    let mut other = 0usize;
    while let Some(item) = mp.next().await {
        let mut field = item.map_err(multipart_error)?;
        let is_file = field.name() == Some("file") && file.is_none();
        let filename = field
            .content_disposition()
            .and_then(|cd| cd.get_filename())
            .map(str::to_string);
        let mut data = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(multipart_error)?;
            if is_file {
                if data.len() + chunk.len() > MAX_LOGO_BYTES {
                    return Err(ApiError::from(Problem::LogoTooLarge));
                }
                data.extend_from_slice(&chunk);
            } else {
                other += chunk.len();
                if other > MAX_OTHER_FIELDS {
                    return Err(ApiError::from(Problem::LogoTooLarge));
                }
            }
        }
        if is_file {
            file = Some((filename, data));
        }
    }
    file.ok_or_else(|| ApiError::field("file", "missing", "Field required", json!(null)))
}

fn random_hex6() -> String {
    let mut b = [0u8; 3];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

/// The file of a stored logo URL, if it is one of this company's logos.
fn own_logo_file(static_dir: &Path, empresa_id: &str, url: &str) -> Option<PathBuf> {
    let name = url.strip_prefix(LOGO_PREFIX)?;
    let own = name.starts_with(&format!("logo_{empresa_id}_"))
        && !name.contains(['/', '\\'])
        && !name.contains("..");
    own.then(|| static_dir.join("logos").join(name))
}

#[utoipa::path(
    tag = "cliente_admin",
    summary = "Upload the company logo (jpg, png, webp)",
    request_body(content = inline(crate::openapi::schemas::LogoUpload), content_type = "multipart/form-data"),
    responses((status = 200, description = "OK")),
    security(("session" = ["cliente_admin"])),
)]
#[post("/api/v1/admin/mi-empresa/logo")]
async fn upload_logo(
    ca: ClienteAdmin,
    state: web::Data<AppState>,
    mp: Multipart,
) -> ApiResult<HttpResponse> {
    // The company must exist before we read (and store) anything.
    empresas::get(&state.db, EmpresaId(&ca.empresa_id)).await?;
    let (filename, data) = read_file_field(mp).await?;
    let ext = filename
        .as_deref()
        .and_then(extension)
        .ok_or_else(|| ApiError::from(Problem::LogoFormatNotAllowed))?;
    let promised =
        kind_of_extension(&ext).ok_or_else(|| ApiError::from(Problem::LogoFormatNotAllowed))?;
    if sniff_image(&data) != Some(promised) {
        return Err(ApiError::from(Problem::LogoFormatNotAllowed));
    }
    if !ca
        .empresa_id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(ApiError::internal(anyhow::anyhow!(
            "company id not usable in a file name"
        )));
    }

    let dir = state.config.static_dir.join("logos");
    let name = format!("logo_{}_{}{}", ca.empresa_id, random_hex6(), ext);
    let path = dir.join(&name);
    let written = async {
        tokio::fs::create_dir_all(&dir).await?;
        tokio::fs::write(&path, &data).await
    }
    .await;
    if let Err(e) = written {
        tracing::error!(error = %e, "could not store a logo");
        return Err(ApiError::from(Problem::LogoSaveFailed));
    }

    let url = format!("{LOGO_PREFIX}{name}");
    let saved: ApiResult<Option<String>> = async {
        let txn = crate::db::begin_write(&state.db).await?;
        let e = empresas::get(&txn, EmpresaId(&ca.empresa_id)).await?;
        let previous = e.logo_url.clone();
        let patch = EmpresaPatch {
            logo_url: Some(Some(url.clone())),
            ..Default::default()
        };
        empresas::update(&txn, e, patch).await?;
        audit::record(
            &txn,
            &ca.session,
            Some(&ca.empresa_id),
            AuditAction::EmpresaLogo,
            Some(&ca.empresa_id),
            json!({ "logo_url": url, "bytes": data.len() }),
        )
        .await?;
        txn.commit().await?;
        Ok(previous)
    }
    .await;
    let previous = match saved {
        Ok(p) => p,
        Err(e) => {
            let _ = tokio::fs::remove_file(&path).await;
            return Err(e);
        }
    };
    if let Some(old) = previous
        .as_deref()
        .and_then(|u| own_logo_file(&state.config.static_dir, &ca.empresa_id, u))
    {
        if old != path {
            if let Err(e) = tokio::fs::remove_file(&old).await {
                tracing::warn!(error = %e, "could not delete the previous logo");
            }
        }
    }
    Ok(HttpResponse::Ok().json(json!({
        "message": "Logo actualizado correctamente",
        "logo_url": url,
    })))
}

/// A relative path under `/static` made only of plain segments (no `..`, no hidden files).
fn safe_relative(path: &str) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for seg in path.split('/') {
        if seg.is_empty() || seg.starts_with('.') || seg.contains(['\\', '\0', ':']) {
            return None;
        }
        out.push(seg);
    }
    (!out.as_os_str().is_empty()).then_some(out)
}

/// Public files under `config.static_dir` (the logos). No directory listing.
#[utoipa::path(
    tag = "sistema",
    summary = "Uploaded company logos",
    responses((status = 200, description = "OK")),
)]
#[get("/static/{path:.*}")]
async fn static_file(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> ApiResult<HttpResponse> {
    let not_found = || ApiError::from(Problem::NotFound);
    let rel = safe_relative(&path).ok_or_else(not_found)?;
    let full = state.config.static_dir.join(rel);
    match tokio::fs::metadata(&full).await {
        Ok(meta) if meta.is_file() => {}
        _ => return Err(not_found()),
    }
    let file = actix_files::NamedFile::open_async(&full)
        .await
        .map_err(|_| not_found())?;
    let mut res = file
        .use_last_modified(true)
        .prefer_utf8(true)
        .into_response(&req);
    res.headers_mut().insert(
        actix_web::http::header::X_CONTENT_TYPE_OPTIONS,
        actix_web::http::header::HeaderValue::from_static("nosniff"),
    );
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffing_and_extensions() {
        assert_eq!(
            sniff_image(&[0xFF, 0xD8, 0xFF, 0xE0]),
            Some(ImageKind::Jpeg)
        );
        assert_eq!(sniff_image(b"\x89PNG\r\n\x1a\n...."), Some(ImageKind::Png));
        assert_eq!(sniff_image(b"RIFF\0\0\0\0WEBPVP8 "), Some(ImageKind::Webp));
        assert_eq!(sniff_image(b"<svg onload=alert(1)>"), None);
        assert_eq!(extension("Logo.PNG").as_deref(), Some(".png"));
        assert_eq!(extension("a/b/c.jpeg").as_deref(), Some(".jpeg"));
        assert_eq!(extension(".png"), None);
        assert_eq!(extension("noext"), None);
    }

    #[test]
    fn static_paths_are_confined() {
        assert!(safe_relative("logos/logo_EMP_1_abc.png").is_some());
        for bad in [
            "../etc/passwd",
            "logos/../../x",
            "",
            "logos/",
            ".env",
            "a\\b",
        ] {
            assert!(safe_relative(bad).is_none(), "{bad}");
        }
        let dir = Path::new("/srv/static");
        assert!(own_logo_file(dir, "EMP_1", "/static/logos/logo_EMP_1_abcdef.png").is_some());
        assert!(own_logo_file(dir, "EMP_1", "/static/logos/logo_EMP_2_abcdef.png").is_none());
        assert!(own_logo_file(dir, "EMP_1", "/static/logos/logo_EMP_1_/../x").is_none());
    }
}
