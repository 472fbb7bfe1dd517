//! Schema tests: run on SQLite by default, and on PostgreSQL with
//! `TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test`.

use std::str::FromStr;

use chrono::{DateTime, TimeZone, Utc};
use entity::{
    api_key, audit_log, empresa, idempotency_key, prelude::*, producto, purchase, revoked_session,
    router, transaccion, usuario, webhook_event,
};
use migration::{Migrator, MigratorTrait};
use pagos_hotspot::db::{self, testing::fresh_database, testing::fresh_unmigrated_database};
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait, ActiveValue::NotSet, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, Set, SqlErr, Statement,
};
use sea_orm_migration::SchemaManager;
use serde_json::json;

const TABLES: [&str; 11] = [
    "empresas",
    "usuarios",
    "routers",
    "productos",
    "api_keys_tracking",
    "transacciones",
    "purchases",
    "idempotency_keys",
    "webhook_events",
    "audit_log",
    "revoked_sessions",
];

/// A timestamp with sub-second precision that both backends keep (microseconds).
fn ts(secs_offset: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 12, 34, 56).unwrap()
        + chrono::Duration::seconds(secs_offset)
        + chrono::Duration::microseconds(123_456)
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn empresa_model(id: &str) -> empresa::Model {
    empresa::Model {
        id: id.to_owned(),
        nombre: "WiFi Parque Central".into(),
        contacto_email: Some("contacto@example.com".into()),
        contacto_telefono: Some("5512345678".into()),
        logo_url: Some("/static/logos/x.png".into()),
        conekta_private_key: Some("ciphertext-1".into()),
        conekta_public_key: Some("key_pub".into()),
        conekta_mode: "live".into(),
        mercado_pago_access_token: Some("ciphertext-2".into()),
        mercado_pago_public_key: Some("APP_USR-pub".into()),
        mercado_pago_mode: "production".into(),
        mercado_pago_webhook_secret: Some("ciphertext-3".into()),
        conekta_webhook_key: Some(
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----".into(),
        ),
        telegram_bot_token: Some("ciphertext-4".into()),
        telegram_chat_id: Some("-100123".into()),
        notificaciones_telegram: true,
        activa: true,
        creada_en: ts(0),
        al_expirar: "deshabilitar".into(),
        zona_horaria: "America/Bogota".into(),
    }
}

fn router_model(id: &str, empresa_id: &str, api_key_hash: &str) -> router::Model {
    router::Model {
        id: id.to_owned(),
        empresa_id: empresa_id.to_owned(),
        nombre: "Router 1".into(),
        host: "127.0.0.1".into(),
        puerto: 8729,
        usuario: "api".into(),
        password_encrypted: "ciphertext".into(),
        ubicacion: Some("Kiosco".into()),
        api_key_hash: api_key_hash.to_owned(),
        activo: true,
        use_tls: true,
        tls_fingerprint: Some("ab".repeat(32)),
        creado_en: ts(1),
        actualizado_en: ts(2),
    }
}

fn api_key_model(key_id: &str, empresa_id: &str, router_id: &str, hash: &str) -> api_key::Model {
    api_key::Model {
        key_id: key_id.to_owned(),
        empresa_id: empresa_id.to_owned(),
        router_id: router_id.to_owned(),
        key_hash: hash.to_owned(),
        issued_at: ts(3),
        expires_at: ts(3 + 365 * 86_400),
        revoked: false,
        revoked_at: None,
        last_used: Some(ts(4)),
        use_count: 5_000_000_000,
    }
}

fn transaccion_model(empresa_id: &str, router_id: &str, monto: &str) -> transaccion::Model {
    transaccion::Model {
        id: 0,
        transaccion_id: Some(format!("ord_{}", uuid::Uuid::new_v4().simple())),
        external_reference: None,
        empresa_id: empresa_id.to_owned(),
        router_id: router_id.to_owned(),
        producto_id: Some(1),
        purchase_id: Some(uuid::Uuid::new_v4().to_string()),
        gateway: Some("conekta".into()),
        monto: dec(monto),
        monto_reembolsado: Some(dec("0.01")),
        moneda: "MXN".into(),
        cliente_nombre: Some("Juan Pérez".into()),
        cliente_email: Some("juan@example.com".into()),
        cliente_telefono: None,
        usuario_hotspot: Some("hs_abc".into()),
        password_hotspot: Some("ciphertext".into()),
        expiracion_hotspot: Some(ts(3600)),
        estado_pago: "paid".into(),
        estado_hotspot: "active".into(),
        notification_id: None,
        webhook_processed: true,
        metadata_json: json!({"order": {"id": "ord_1", "amount": 1999}, "ñ": [1, 2.5, null, true]}),
        api_key_usada: Some("key_0123456789abcdef".into()),
        creada_en: ts(10),
        pagada_en: Some(ts(11)),
        usuario_creado_en: Some(ts(12)),
        webhook_received_at: None,
    }
}

fn purchase_model(id: &str, empresa_id: &str, idem: Option<&str>) -> purchase::Model {
    purchase::Model {
        id: id.to_owned(),
        empresa_id: empresa_id.to_owned(),
        router_id: "RTR_00000000".into(),
        producto_id: 7,
        gateway: entity::purchase::GatewayKind::MercadoPago,
        state: entity::purchase::SagaState::Charging,
        amount: dec("19.99"),
        currency: "MXN".into(),
        user_type: "pin".into(),
        hotspot_username: Some("hs_1".into()),
        hotspot_password: Some("ciphertext".into()),
        router_user_id: Some("*1A".into()),
        customer_name: "Ana López".into(),
        customer_email: "ana@example.com".into(),
        customer_phone: Some("5512345678".into()),
        mac_address: Some("AA:BB:CC:DD:EE:FF".into()),
        ip_address: Some("10.5.50.2".into()),
        auto_connect: true,
        idempotency_key: idem.map(str::to_owned),
        card_token_hash: Some("cd".repeat(32)),
        gateway_reference: Some("HS1234".into()),
        gateway_payment_id: Some("123456789".into()),
        gateway_status: Some("approved".into()),
        response_status: Some(200),
        response_body: Some(json!({"success": true, "monto": 19.99})),
        last_error: None,
        attempts: 2,
        next_attempt_at: Some(ts(60)),
        locked_until: None,
        created_at: ts(20),
        updated_at: ts(21),
        usage_minutes: Some(90),
        validity_minutes: Some(1440),
        validity_from: Some("primer_login".into()),
        data_limit_mb: Some(5_000_000_000),
        expires_at: Some(ts(40)),
        ended_at: None,
        uptime_used_secs: Some(3_600),
        bytes_used: Some(12_345_678_901),
    }
}

fn webhook_event_model(provider: &str, event_id: &str) -> webhook_event::Model {
    webhook_event::Model {
        id: 0,
        provider: provider.to_owned(),
        event_id: event_id.to_owned(),
        empresa_id: Some("EMP_0000000001".into()),
        received_at: ts(30),
        payload_sha256: "ef".repeat(32),
        outcome: "processed".into(),
    }
}

fn assert_unique_violation(err: DbErr) {
    assert!(
        matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))),
        "expected a unique violation, got {err:?}"
    );
}

async fn seed_empresa_router(db: &DatabaseConnection, emp: &str, rtr: &str, hash: &str) {
    empresa_model(emp)
        .into_active_model()
        .insert(db)
        .await
        .unwrap();
    router_model(rtr, emp, hash)
        .into_active_model()
        .insert(db)
        .await
        .unwrap();
}

#[tokio::test]
async fn migrations_go_up_down_and_up_again() {
    let t = fresh_unmigrated_database().await;
    let manager = SchemaManager::new(&t.db);
    for table in TABLES {
        assert!(
            !manager.has_table(table).await.unwrap(),
            "{table} before up"
        );
    }
    Migrator::up(&t.db, None).await.unwrap();
    for table in TABLES {
        assert!(manager.has_table(table).await.unwrap(), "{table} after up");
    }
    assert!(manager
        .has_column("transacciones", "monto_reembolsado")
        .await
        .unwrap());
    assert!(Migrator::get_pending_migrations(&t.db)
        .await
        .unwrap()
        .is_empty());

    Migrator::down(&t.db, None).await.unwrap();
    for table in TABLES {
        assert!(
            !manager.has_table(table).await.unwrap(),
            "{table} after down"
        );
    }
    // Every migration is pending again (one per table, plus the later column additions).
    assert_eq!(
        Migrator::get_pending_migrations(&t.db).await.unwrap().len(),
        Migrator::migrations().len()
    );
    assert!(Migrator::migrations().len() > TABLES.len());

    db::migrate(&t.db).await.unwrap();
    for table in TABLES {
        assert!(
            manager.has_table(table).await.unwrap(),
            "{table} after second up"
        );
    }
    // The schema is usable after the round trip.
    seed_empresa_router(&t.db, "EMP_AAAAAAAAAA", "RTR_AAAAAAAA", &"a".repeat(64)).await;
    assert_eq!(Router::find().count(&t.db).await.unwrap(), 1);
}

#[tokio::test]
async fn every_entity_round_trips() {
    let t = fresh_database().await;
    let db = &t.db;

    let emp = empresa_model("EMP_0123456789");
    let got = emp.clone().into_active_model().insert(db).await.unwrap();
    assert_eq!(got, emp);
    assert_eq!(
        Empresa::find_by_id(emp.id.clone()).one(db).await.unwrap(),
        Some(emp.clone())
    );

    let usr = usuario::Model {
        id: 0,
        rol: entity::usuario::Role::ClienteAdmin,
        empresa_id: Some(emp.id.clone()),
        email: "admin@example.com".into(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$x$y".into(),
        nombre: "Admin".into(),
        activo: true,
        ultimo_login: Some(ts(5)),
        creado_en: ts(6),
        password_changed_at: Some(ts(7)),
    };
    let mut am = usr.clone().into_active_model();
    am.id = NotSet;
    let got = am.insert(db).await.unwrap();
    assert!(got.id > 0);
    let expected = usuario::Model { id: got.id, ..usr };
    assert_eq!(got, expected);
    assert_eq!(
        Usuario::find_by_id(got.id).one(db).await.unwrap(),
        Some(expected)
    );

    let rtr = router_model("RTR_0123ABCD", &emp.id, &"1".repeat(64));
    rtr.clone().into_active_model().insert(db).await.unwrap();
    assert_eq!(
        Router::find_by_id(rtr.id.clone()).one(db).await.unwrap(),
        Some(rtr.clone())
    );

    let prod = producto::Model {
        id: 0,
        empresa_id: emp.id.clone(),
        router_id: rtr.id.clone(),
        perfil_mikrotik_id: "*2".into(),
        perfil_mikrotik_nombre: "1hora".into(),
        nombre_venta: "1 hora".into(),
        descripcion: Some("Acceso por una hora".into()),
        imagen_url: None,
        precio: dec("19.99"),
        moneda: "MXN".into(),
        detalles: json!(["Velocidad 5 Mbps", {"texto": "1 dispositivo"}]),
        activo: true,
        orden_visual: 3,
        destacado: true,
        creado_en: ts(8),
        minutos_uso: Some(90),
        vigencia_minutos: Some(1440),
        vigencia_desde: Some("primer_login".into()),
        limite_mb: Some(5_000_000_000),
    };
    let mut am = prod.clone().into_active_model();
    am.id = NotSet;
    let got = am.insert(db).await.unwrap();
    let expected = producto::Model { id: got.id, ..prod };
    let read = Producto::find_by_id(got.id).one(db).await.unwrap().unwrap();
    assert_eq!(read, expected);
    assert_eq!(read.precio, dec("19.99"));
    assert_eq!(read.precio.to_string(), "19.99");

    let key = api_key_model("key_0123456789abcdef", &emp.id, &rtr.id, &"2".repeat(64));
    key.clone().into_active_model().insert(db).await.unwrap();
    assert_eq!(
        ApiKey::find_by_id(key.key_id.clone())
            .one(db)
            .await
            .unwrap(),
        Some(key)
    );

    money_purchases_and_logs_round_trip(db, &emp, &rtr).await;
}

/// The second half of [`every_entity_round_trips`]: money, purchases, idempotency keys, webhook
/// events, the audit log and revoked sessions.
async fn money_purchases_and_logs_round_trip(
    db: &sea_orm::DatabaseConnection,
    emp: &entity::empresa::Model,
    rtr: &entity::router::Model,
) {
    // Several amounts, including the largest numeric(10,2) value and cents that binary floats
    // cannot represent exactly.
    for monto in ["19.99", "0.10", "0.01", "50.00", "1234.56", "99999999.99"] {
        let tx = transaccion_model(&emp.id, &rtr.id, monto);
        let mut am = tx.clone().into_active_model();
        am.id = NotSet;
        let got = am.insert(db).await.unwrap();
        let expected = transaccion::Model { id: got.id, ..tx };
        let read = Transaccion::find_by_id(got.id)
            .one(db)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(read, expected, "monto {monto}");
        assert_eq!(read.monto, dec(monto), "monto {monto}");
    }

    let pur = purchase_model(&uuid::Uuid::new_v4().to_string(), &emp.id, Some("idem-1"));
    pur.clone().into_active_model().insert(db).await.unwrap();
    let read = Purchase::find_by_id(pur.id.clone())
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read, pur);
    assert_eq!(read.amount.to_string(), "19.99");

    let idem = idempotency_key::Model {
        scope: format!("{}:pagar-conekta", emp.id),
        key: "k".repeat(255),
        request_hash: "3".repeat(64),
        purchase_id: Some(pur.id.clone()),
        response_status: Some(201),
        response_body: Some(json!({"detail": "ok", "nested": {"a": [1, 2]}})),
        created_at: ts(40),
        expires_at: ts(40 + 86_400),
    };
    idem.clone().into_active_model().insert(db).await.unwrap();
    assert_eq!(
        IdempotencyKey::find_by_id((idem.scope.clone(), idem.key.clone()))
            .one(db)
            .await
            .unwrap(),
        Some(idem)
    );

    // i64 auto-increment ids work on both backends.
    let mut ids = Vec::new();
    for event_id in ["evt_1", "evt_2"] {
        let ev = webhook_event_model("conekta", event_id);
        let mut am = ev.clone().into_active_model();
        am.id = NotSet;
        let got = am.insert(db).await.unwrap();
        let expected = webhook_event::Model { id: got.id, ..ev };
        assert_eq!(
            WebhookEvent::find_by_id(got.id).one(db).await.unwrap(),
            Some(expected)
        );
        ids.push(got.id);
    }
    assert!(ids[0] > 0 && ids[1] > ids[0], "{ids:?}");

    let log = audit_log::Model {
        id: 0,
        at: ts(50),
        actor_user_id: Some(1),
        actor_email: Some("admin@example.com".into()),
        actor_role: Some("super_admin".into()),
        empresa_id: Some(emp.id.clone()),
        action: entity::audit_log::AuditAction::RouterCreate,
        target_type: "router".into(),
        target_id: Some(rtr.id.clone()),
        details: json!({"nombre": "Router 1"}),
    };
    let mut am = log.clone().into_active_model();
    am.id = NotSet;
    let got = am.insert(db).await.unwrap();
    let expected = audit_log::Model { id: got.id, ..log };
    assert_eq!(
        AuditLog::find_by_id(got.id).one(db).await.unwrap(),
        Some(expected)
    );

    let rs = revoked_session::Model {
        jti: "j".repeat(64),
        usuario_id: 1,
        revoked_at: ts(70),
        expires_at: ts(70 + 3600),
    };
    rs.clone().into_active_model().insert(db).await.unwrap();
    assert_eq!(
        RevokedSession::find_by_id(rs.jti.clone())
            .one(db)
            .await
            .unwrap(),
        Some(rs)
    );
}

#[tokio::test]
async fn database_defaults_apply_when_columns_are_not_set() {
    let t = fresh_database().await;
    let db = &t.db;

    // `zona_horaria` was added by ALTER TABLE: on SQLite, sqlx does not see such a column's
    // default in an INSERT … RETURNING row (ColumnNotFound), so its default is checked with a
    // plain insert and a read back; the application always sets it (`db::empresas::insert`).
    empresa::Entity::insert(empresa::ActiveModel {
        id: Set("EMP_DEFAULTS00".into()),
        nombre: Set("Defaults".into()),
        creada_en: Set(ts(0)),
        ..Default::default()
    })
    .exec_without_returning(db)
    .await
    .unwrap();
    let emp = empresa::Entity::find_by_id("EMP_DEFAULTS00")
        .one(db)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(emp.conekta_mode, "test");
    assert_eq!(emp.mercado_pago_mode, "test");
    assert!(emp.activa);
    assert!(!emp.notificaciones_telegram);
    assert_eq!(emp.conekta_private_key, None);
    assert_eq!(emp.zona_horaria, "America/Mexico_City");

    let rtr = router::ActiveModel {
        id: Set("RTR_DEFAULT0".into()),
        empresa_id: Set(emp.id.clone()),
        nombre: Set("r".into()),
        host: Set("127.0.0.1".into()),
        usuario: Set("api".into()),
        password_encrypted: Set("c".into()),
        api_key_hash: Set("d".repeat(64)),
        creado_en: Set(ts(0)),
        actualizado_en: Set(ts(0)),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    assert_eq!(rtr.puerto, 8728);
    assert!(rtr.activo);
    assert!(!rtr.use_tls);

    let prod = producto::ActiveModel {
        empresa_id: Set(emp.id.clone()),
        router_id: Set(rtr.id.clone()),
        perfil_mikrotik_id: Set("*1".into()),
        perfil_mikrotik_nombre: Set("p".into()),
        nombre_venta: Set("p".into()),
        precio: Set(dec("10.00")),
        creado_en: Set(ts(0)),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    assert_eq!(prod.moneda, "MXN");
    assert_eq!(prod.detalles, json!([]));
    assert!(prod.activo);
    assert!(!prod.destacado);
    assert_eq!(prod.orden_visual, 0);

    let tx = transaccion::ActiveModel {
        empresa_id: Set(emp.id.clone()),
        router_id: Set(rtr.id.clone()),
        monto: Set(dec("10.00")),
        creada_en: Set(ts(0)),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    assert_eq!(tx.moneda, "MXN");
    assert_eq!(tx.estado_pago, "pending");
    assert_eq!(tx.estado_hotspot, "pending");
    assert!(!tx.webhook_processed);
    assert_eq!(tx.metadata_json, json!({}));

    let key = api_key::ActiveModel {
        key_id: Set("key_defaults".into()),
        empresa_id: Set(emp.id.clone()),
        router_id: Set(rtr.id.clone()),
        key_hash: Set("e".repeat(64)),
        issued_at: Set(ts(0)),
        expires_at: Set(ts(1)),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    assert!(!key.revoked);
    assert_eq!(key.use_count, 0);
}

#[tokio::test]
async fn unique_constraints_fire() {
    let t = fresh_database().await;
    let db = &t.db;
    seed_empresa_router(db, "EMP_1111111111", "RTR_11111111", &"a".repeat(64)).await;
    empresa_model("EMP_2222222222")
        .into_active_model()
        .insert(db)
        .await
        .unwrap();

    // usuarios.email
    let user = |email: &str| usuario::ActiveModel {
        rol: Set(entity::usuario::Role::SuperAdmin),
        email: Set(email.to_owned()),
        password_hash: Set("h".into()),
        nombre: Set("n".into()),
        creado_en: Set(ts(0)),
        ..Default::default()
    };
    user("dup@example.com").insert(db).await.unwrap();
    assert_unique_violation(user("dup@example.com").insert(db).await.unwrap_err());
    user("other@example.com").insert(db).await.unwrap();

    // routers.api_key_hash
    let err = router_model("RTR_22222222", "EMP_2222222222", &"a".repeat(64))
        .into_active_model()
        .insert(db)
        .await
        .unwrap_err();
    assert_unique_violation(err);

    // api_keys_tracking.key_hash
    api_key_model("key_1", "EMP_1111111111", "RTR_11111111", &"b".repeat(64))
        .into_active_model()
        .insert(db)
        .await
        .unwrap();
    let err = api_key_model("key_2", "EMP_1111111111", "RTR_11111111", &"b".repeat(64))
        .into_active_model()
        .insert(db)
        .await
        .unwrap_err();
    assert_unique_violation(err);

    // purchases (empresa_id, idempotency_key)
    let new_id = || uuid::Uuid::new_v4().to_string();
    purchase_model(&new_id(), "EMP_1111111111", Some("same"))
        .into_active_model()
        .insert(db)
        .await
        .unwrap();
    let err = purchase_model(&new_id(), "EMP_1111111111", Some("same"))
        .into_active_model()
        .insert(db)
        .await
        .unwrap_err();
    assert_unique_violation(err);
    // The same key under another company, and several purchases without a key, are fine.
    purchase_model(&new_id(), "EMP_2222222222", Some("same"))
        .into_active_model()
        .insert(db)
        .await
        .unwrap();
    for _ in 0..2 {
        purchase_model(&new_id(), "EMP_1111111111", None)
            .into_active_model()
            .insert(db)
            .await
            .unwrap();
    }
    assert_eq!(Purchase::find().count(db).await.unwrap(), 4);

    // webhook_events (provider, event_id)
    let event = |provider: &str, id: &str| {
        let mut am = webhook_event_model(provider, id).into_active_model();
        am.id = NotSet;
        am
    };
    event("mercado_pago", "123").insert(db).await.unwrap();
    assert_unique_violation(event("mercado_pago", "123").insert(db).await.unwrap_err());
    event("conekta", "123").insert(db).await.unwrap();

    // transacciones.transaccion_id
    let tx = transaccion_model("EMP_1111111111", "RTR_11111111", "1.00");
    let mut am = tx.clone().into_active_model();
    am.id = NotSet;
    am.insert(db).await.unwrap();
    let mut again = transaccion_model("EMP_1111111111", "RTR_11111111", "1.00");
    again.transaccion_id = tx.transaccion_id.clone();
    let mut am = again.into_active_model();
    am.id = NotSet;
    assert_unique_violation(am.insert(db).await.unwrap_err());

    // productos (empresa_id, router_id, perfil_mikrotik_id)
    let prod = || producto::ActiveModel {
        empresa_id: Set("EMP_1111111111".into()),
        router_id: Set("RTR_11111111".into()),
        perfil_mikrotik_id: Set("*5".into()),
        perfil_mikrotik_nombre: Set("p".into()),
        nombre_venta: Set("p".into()),
        precio: Set(dec("5.00")),
        creado_en: Set(ts(0)),
        ..Default::default()
    };
    prod().insert(db).await.unwrap();
    assert_unique_violation(prod().insert(db).await.unwrap_err());

    // idempotency_keys primary key (scope, key)
    let idem = || idempotency_key::ActiveModel {
        scope: Set("s".into()),
        key: Set("k".into()),
        request_hash: Set("0".repeat(64)),
        created_at: Set(ts(0)),
        expires_at: Set(ts(1)),
        ..Default::default()
    };
    idem().insert(db).await.unwrap();
    assert_unique_violation(idem().insert(db).await.unwrap_err());
}

#[tokio::test]
async fn deleting_a_router_cascades_api_keys_and_keeps_transacciones() {
    let t = fresh_database().await;
    let db = &t.db;
    seed_empresa_router(db, "EMP_3333333333", "RTR_33333333", &"c".repeat(64)).await;
    router_model("RTR_44444444", "EMP_3333333333", &"d".repeat(64))
        .into_active_model()
        .insert(db)
        .await
        .unwrap();
    for (i, rtr) in ["RTR_33333333", "RTR_33333333", "RTR_44444444"]
        .iter()
        .enumerate()
    {
        api_key_model(
            &format!("key_{i}"),
            "EMP_3333333333",
            rtr,
            &format!("{i}").repeat(64),
        )
        .into_active_model()
        .insert(db)
        .await
        .unwrap();
    }
    let tx = transaccion_model("EMP_3333333333", "RTR_33333333", "19.99");
    let mut am = tx.into_active_model();
    am.id = NotSet;
    let tx = am.insert(db).await.unwrap();

    // A router that still has products cannot be deleted (RESTRICT): this also proves that
    // SQLite enforces foreign keys on these connections.
    let prod = producto::ActiveModel {
        empresa_id: Set("EMP_3333333333".into()),
        router_id: Set("RTR_33333333".into()),
        perfil_mikrotik_id: Set("*1".into()),
        perfil_mikrotik_nombre: Set("p".into()),
        nombre_venta: Set("p".into()),
        precio: Set(dec("5.00")),
        creado_en: Set(ts(0)),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    let err = Router::delete_by_id("RTR_33333333")
        .exec(db)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err.sql_err(),
            Some(SqlErr::ForeignKeyConstraintViolation(_))
        ),
        "{err:?}"
    );
    Producto::delete_by_id(prod.id).exec(db).await.unwrap();

    let res = Router::delete_by_id("RTR_33333333").exec(db).await.unwrap();
    assert_eq!(res.rows_affected, 1);
    let keys_left: Vec<String> = ApiKey::find()
        .all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.key_id)
        .collect();
    assert_eq!(keys_left, vec!["key_2".to_owned()]);
    let kept = Transaccion::find()
        .filter(transaccion::Column::RouterId.eq("RTR_33333333"))
        .all(db)
        .await
        .unwrap();
    assert_eq!(kept, vec![tx]);

    // An api key for a router that does not exist is rejected.
    let err = api_key_model("key_x", "EMP_3333333333", "RTR_33333333", &"f".repeat(64))
        .into_active_model()
        .insert(db)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err.sql_err(),
            Some(SqlErr::ForeignKeyConstraintViolation(_))
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn connect_creates_sqlite_directory_and_sets_pragmas() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("nested/deeper/app.db");
    assert!(!file.parent().unwrap().exists());
    let url = format!("sqlite://{}", file.display());
    let db = db::connect(&url).await.unwrap();
    assert!(file.exists());

    let pragma = |name: &'static str| {
        let db = db.clone();
        async move {
            let row = db
                .query_one(Statement::from_string(
                    db.get_database_backend(),
                    format!("PRAGMA {name}"),
                ))
                .await
                .unwrap()
                .unwrap();
            row.try_get_by_index::<String>(0)
                .or_else(|_| row.try_get_by_index::<i64>(0).map(|v| v.to_string()))
                .unwrap()
        }
    };
    assert_eq!(pragma("foreign_keys").await, "1");
    assert_eq!(pragma("journal_mode").await.to_lowercase(), "wal");
    assert_eq!(pragma("busy_timeout").await, "10000");
    db::migrate(&db).await.unwrap();
    // Migrating twice is a no-op.
    db::migrate(&db).await.unwrap();
    db.close().await.unwrap();

    let mem = db::connect("sqlite::memory:").await.unwrap();
    db::migrate(&mem).await.unwrap();
    empresa_model("EMP_MEMORY0000")
        .into_active_model()
        .insert(&mem)
        .await
        .unwrap();
    assert_eq!(Empresa::find().count(&mem).await.unwrap(), 1);
}
