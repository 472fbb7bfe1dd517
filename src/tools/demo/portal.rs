//! The captive portal served at `/portal/`, with the demo's API address and key, and a stand-in
//! for the router's own hotspot login page at `/hotspot/login` (its `$(link-login-only)`).

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

use crate::hotspot_kit::site;
use crate::sandbox::routeros_sim::SimControl;
use crate::startup::ExtraRoutes;

/// What the demo's portal routes need.
#[derive(Clone)]
pub(super) struct PortalSite {
    pub(super) api_key: String,
    /// The simulated router, whose login page `/hotspot/login` stands for.
    pub(super) sim: SimControl,
}

fn request_origin(req: &HttpRequest) -> String {
    let info = req.connection_info();
    format!("{}://{}", info.scheme(), info.host())
}

async fn portal_redirect(req: HttpRequest) -> HttpResponse {
    let q = req.query_string();
    let location = if q.is_empty() {
        "/portal/".to_string()
    } else {
        format!("/portal/?{q}")
    };
    HttpResponse::Found()
        .insert_header((header::LOCATION, location))
        .finish()
}

async fn portal_page(req: HttpRequest, site: web::Data<PortalSite>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(site::login_html(&request_origin(&req), &site.api_key))
}

async fn portal_js() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .body(site::PORTAL_JS)
}

async fn portal_css() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .body(site::PORTAL_CSS)
}

/// The device, as the router knows it from the connection (here: from the link's query).
#[derive(Deserialize)]
struct Device {
    ip: String,
}

/// The standard hotspot login form (`username`, `password`, `dst`, `popup`).
#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    dst: String,
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn page(title: &str, body: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(format!(
            "<!DOCTYPE html><html lang=\"es\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{title}</title></head><body><h1 id=\"title\">{title}</h1>{body}</body></html>"
        ))
}

/// What the router does with its login form: log the device in (PAP) and show `alogin`, with a
/// link to `dst`. Here the simulated router runs `/ip/hotspot/active/login` on itself.
async fn hotspot_login(
    site: web::Data<PortalSite>,
    device: web::Query<Device>,
    form: web::Form<LoginForm>,
) -> HttpResponse {
    let sim = site.sim.clone();
    let (ip, user, password) = (
        device.ip.clone(),
        form.username.clone(),
        form.password.clone(),
    );
    let outcome = web::block(move || {
        sim.command(
            "/ip/hotspot/active/login",
            &[("user", &user), ("password", &password), ("ip", &ip)],
        )?;
        sim.command("/ip/hotspot/active/print", &[])
    })
    .await;
    let sessions = match outcome {
        Ok(Ok(rows)) => rows,
        Ok(Err(trap)) => {
            return page(
                "No se pudo iniciar sesión",
                &format!("<p id=\"error\">{}</p>", html_escape(&trap)),
            )
        }
        Err(_) => return page("No se pudo iniciar sesión", "<p id=\"error\">router</p>"),
    };
    let mine = sessions
        .iter()
        .find(|s| s.get("address").map(String::as_str) == Some(device.ip.as_str()));
    let Some(session) = mine else {
        return page(
            "No se pudo iniciar sesión",
            "<p id=\"error\">sin sesión</p>",
        );
    };
    let field = |k: &str| html_escape(session.get(k).map_or("", String::as_str));
    page(
        "Sesión iniciada",
        &format!(
            "<p>Usuario <b id=\"user\">{}</b>, IP <b id=\"ip\">{}</b>, MAC <b id=\"mac\">{}</b>, sesión <b id=\"session\">{}</b>.</p>\
             <p><a id=\"dst\" href=\"{}\">Continuar</a></p>",
            field("user"),
            field("address"),
            field("mac-address"),
            field(".id"),
            html_escape(&form.dst),
        ),
    )
}

pub(super) fn portal_routes(site: PortalSite) -> ExtraRoutes {
    Arc::new(move |cfg: &mut web::ServiceConfig| {
        cfg.app_data(web::Data::new(site.clone()))
            .route("/portal", web::get().to(portal_redirect))
            .route("/portal/", web::get().to(portal_page))
            .route("/portal/index.html", web::get().to(portal_page))
            .route("/portal/login.html", web::get().to(portal_page))
            .route("/portal/portal.js", web::get().to(portal_js))
            .route("/portal/portal.css", web::get().to(portal_css))
            .route("/hotspot/login", web::post().to(hotspot_login));
    })
}
