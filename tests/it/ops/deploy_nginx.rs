//! The shipped nginx example (`deploy/nginx.conf`) balances by the router API key: the same key
//! always reaches the same replica, whichever header carries it. Runs Debian's nginx
//! (installed by `.ci/run`) in front of two stand-in replicas; fails if nginx is missing.

use std::collections::{HashMap, HashSet};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpResponse, HttpServer};

struct Nginx(Child);

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A stand-in replica that answers with its own name.
fn replica(name: &'static str) -> u16 {
    let server = HttpServer::new(move || {
        App::new().default_service(web::to(
            move || async move { HttpResponse::Ok().body(name) },
        ))
    })
    .workers(1)
    .bind(("127.0.0.1", 0))
    .unwrap();
    let port = server.addrs()[0].port();
    actix_web::rt::spawn(server.run());
    port
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[actix_web::test]
async fn the_same_api_key_always_reaches_the_same_replica() {
    let nginx_bin = ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("nginx is required (apt-get install nginx-light); .ci/run installs it");
    let (a, b) = (replica("replica-a"), replica("replica-b"));
    let listen = free_port();
    let dir = tempfile::tempdir().unwrap();
    let shipped =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/nginx.conf")).unwrap();
    let site = shipped
        .replace("listen 80;", &format!("listen 127.0.0.1:{listen};"))
        .replace("127.0.0.1:8001", &format!("127.0.0.1:{a}"))
        .replace("127.0.0.1:8002", &format!("127.0.0.1:{b}"));
    assert_ne!(site, shipped, "the test must exercise the shipped file");
    let d = dir.path().display();
    std::fs::write(dir.path().join("site.conf"), site).unwrap();
    std::fs::write(
        dir.path().join("nginx.conf"),
        format!(
            "daemon off; master_process off; pid {d}/nginx.pid; error_log {d}/error.log; events {{}}\n\
             http {{ access_log off; client_body_temp_path {d}; proxy_temp_path {d}; \
             fastcgi_temp_path {d}; uwsgi_temp_path {d}; scgi_temp_path {d}; include {d}/site.conf; }}\n"
        ),
    )
    .unwrap();
    let _nginx = Nginx(
        Command::new(nginx_bin)
            .args(["-p", &d.to_string(), "-c", &format!("{d}/nginx.conf")])
            .spawn()
            .unwrap(),
    );
    let http = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{listen}/api/v1/config/public");
    let deadline = Instant::now() + Duration::from_secs(10);
    while http.get(&url).send().await.is_err() {
        assert!(
            Instant::now() < deadline,
            "nginx did not start: {:?}",
            std::fs::read_to_string(dir.path().join("error.log"))
        );
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }

    // Which replica answers a request carrying `key` in the given header.
    let replica_for = |header: &'static str, value: String| {
        let req = http.get(&url).header(header, value);
        async move { req.send().await.unwrap().text().await.unwrap() }
    };
    let mut seen: HashMap<String, String> = HashMap::new();
    for i in 0..40 {
        let key = format!("jwt_key-number-{i}");
        let first = replica_for("x-api-key", key.clone()).await;
        for _ in 0..3 {
            let again = replica_for("x-api-key", key.clone()).await;
            assert_eq!(again, first, "{key} moved between replicas");
        }
        let via_bearer = replica_for("authorization", format!("Bearer {key}")).await;
        assert_eq!(
            via_bearer, first,
            "{key}: Bearer and X-API-Key must hash alike"
        );
        seen.insert(key, first);
    }
    let replicas: HashSet<&String> = seen.values().collect();
    assert_eq!(replicas.len(), 2, "both replicas take keys: {seen:?}");
}
