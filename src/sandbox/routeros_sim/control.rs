//! `routeros-sim --control ADDR`: the simulator's faults and state over HTTP, so that kill and
//! fault tests can drive a simulator running as a process of its own. Sandbox only.
//!
//! | route | body | effect |
//! |---|---|---|
//! | `POST /reboot` | `{"down_ms": 30000}` | cut every connection; refuse new ones for `down_ms` |
//! | `POST /silence` | `{"on": true}` | stop answering (connections stay open) |
//! | `POST /latency` | `{"ms": 20}` | delay of every reply |
//! | `POST /fatal-next` | — | the next command ends its session with `!fatal` |
//! | `POST /forget-users` | — | users, sessions and cookies gone; `.id`s start again at `*1` |
//! | `POST /hosts` | `{"mac": "AA:…", "ip": "10.5.50.9"}` | a device appears on the hotspot |
//! | `POST /advance` | `{"secs": 3600}` | fast-forward the hotspot accounting (session and user `uptime`; limits end sessions) |
//! | `GET /users` | — | the hotspot users (`id`, `name`, `profile`, `disabled`, `comment`, `mac_address`) |

use std::net::SocketAddr;
use std::time::Duration;

use actix_web::{web, App, HttpResponse, HttpServer};
use serde::Deserialize;
use serde_json::json;

use super::SimControl;

#[derive(Deserialize)]
struct Down {
    #[serde(default)]
    down_ms: u64,
}

#[derive(Deserialize)]
struct On {
    on: bool,
}

#[derive(Deserialize)]
struct Millis {
    ms: u64,
}

#[derive(Deserialize)]
struct Secs {
    secs: u64,
}

#[derive(Deserialize)]
struct Host {
    mac: String,
    ip: String,
}

fn done() -> HttpResponse {
    HttpResponse::Ok().json(json!({"ok": true}))
}

async fn reboot(sim: web::Data<SimControl>, body: web::Json<Down>) -> HttpResponse {
    sim.reboot_with_downtime(Duration::from_millis(body.down_ms));
    done()
}

async fn silence(sim: web::Data<SimControl>, body: web::Json<On>) -> HttpResponse {
    sim.set_silent(body.on);
    done()
}

async fn latency(sim: web::Data<SimControl>, body: web::Json<Millis>) -> HttpResponse {
    sim.set_latency(Duration::from_millis(body.ms));
    done()
}

async fn fatal_next(sim: web::Data<SimControl>) -> HttpResponse {
    sim.fatal_next();
    done()
}

async fn forget_users(sim: web::Data<SimControl>) -> HttpResponse {
    sim.forget_users();
    done()
}

async fn advance(sim: web::Data<SimControl>, body: web::Json<Secs>) -> HttpResponse {
    sim.advance(Duration::from_secs(body.secs));
    done()
}

async fn hosts(sim: web::Data<SimControl>, body: web::Json<Host>) -> HttpResponse {
    let id = sim.add_host(&body.mac, &body.ip);
    HttpResponse::Ok().json(json!({"id": id}))
}

async fn users(sim: web::Data<SimControl>) -> HttpResponse {
    let users: Vec<_> = sim
        .users()
        .into_iter()
        .map(|u| {
            json!({
                "id": u.id,
                "name": u.name,
                "profile": u.profile,
                "disabled": u.disabled,
                "comment": u.comment,
                "mac_address": u.mac_address,
                "uptime": u.uptime,
            })
        })
        .collect();
    HttpResponse::Ok().json(users)
}

/// Serves the control routes on `addr` until the process ends; returns the bound address.
pub fn serve(sim: SimControl, addr: SocketAddr) -> std::io::Result<SocketAddr> {
    let data = web::Data::new(sim);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route("/reboot", web::post().to(reboot))
            .route("/silence", web::post().to(silence))
            .route("/latency", web::post().to(latency))
            .route("/fatal-next", web::post().to(fatal_next))
            .route("/forget-users", web::post().to(forget_users))
            .route("/hosts", web::post().to(hosts))
            .route("/advance", web::post().to(advance))
            .route("/users", web::get().to(users))
    })
    .workers(1)
    .disable_signals()
    .bind(addr)?;
    let bound = server.addrs().first().copied().unwrap_or(addr);
    actix_web::rt::spawn(server.run());
    Ok(bound)
}
