/* pagos-hotspot sample captive portal. Plain ES5-compatible JavaScript, no dependencies.
 * Configuration lives in index.html (PORTAL_CONFIG). Every text from the API is inserted with
 * textContent, never as HTML. */
(function () {
  "use strict";

  var cfg = window.PORTAL_CONFIG || {};

  /* A value RouterOS did not substitute (e.g. the literal "$(mac)") counts as absent. */
  function routerValue(v) {
    return typeof v === "string" && v !== "" && v.indexOf("$(") !== 0 ? v : "";
  }
  function queryValue(name) {
    var m = new RegExp("[?&]" + name + "=([^&#]*)").exec(window.location.search);
    if (!m) { return ""; }
    try { return decodeURIComponent(m[1].replace(/\+/g, " ")); } catch (e) { return ""; }
  }
  function configured(v) {
    return typeof v === "string" && v !== "" && v.indexOf("__") !== 0;
  }

  var apiBase = (configured(cfg.API_BASE) ? cfg.API_BASE : window.location.origin).replace(/\/+$/, "");
  var apiKey = configured(cfg.API_KEY) ? cfg.API_KEY : "";
  var mpBase = (configured(cfg.MP_API_BASE) ? cfg.MP_API_BASE : "https://api.mercadopago.com").replace(/\/+$/, "");
  var device = {
    mac: routerValue(cfg.MAC) || queryValue("mac"),
    ip: routerValue(cfg.IP) || queryValue("ip"),
    loginUrl: routerValue(cfg.LINK_LOGIN_ONLY) || queryValue("link-login-only")
  };

  var $ = function (id) { return document.getElementById(id); };
  var plans = [];
  var publicConfig = null;

  function show(el, on) { el.hidden = !on; }
  function setText(id, text) { $(id).textContent = text == null ? "" : String(text); }

  /* The API's {"detail": …}: a string, or a list of field errors. */
  function detailText(body, status) {
    if (body && typeof body.detail === "string") { return body.detail; }
    if (body && Array.isArray(body.detail)) {
      return body.detail.map(function (d) {
        var loc = Array.isArray(d.loc) ? d.loc.filter(function (x) { return x !== "body"; }).join(".") : "";
        return (loc ? loc + ": " : "") + (d.msg || "");
      }).join("; ");
    }
    if (body && typeof body.message === "string") { return body.message; }
    return "Error " + status;
  }

  function api(method, path, body, extraHeaders) {
    var headers = { "Accept": "application/json", "X-API-Key": apiKey };
    if (body !== undefined) { headers["Content-Type"] = "application/json"; }
    if (extraHeaders) {
      Object.keys(extraHeaders).forEach(function (k) { headers[k] = extraHeaders[k]; });
    }
    return fetch(apiBase + path, {
      method: method,
      headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (res) {
      return res.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        if (!res.ok) { throw new Error(detailText(data, res.status)); }
        return data;
      });
    });
  }

  function money(value, currency) {
    var n = Number(value);
    return "$" + (isFinite(n) ? n.toFixed(2) : String(value)) + " " + (currency || "");
  }

  function detailLines(detalles) {
    if (!Array.isArray(detalles)) { return []; }
    return detalles.map(function (d) {
      if (d && typeof d === "object") {
        if (typeof d.texto === "string") { return d.texto; }
        if (typeof d.value === "string") { return d.value; }
        var first = Object.keys(d)[0];
        return first ? String(d[first]) : "";
      }
      return String(d);
    }).filter(function (s) { return s !== ""; });
  }

  function renderPlans() {
    var box = $("plans");
    box.textContent = "";
    plans.forEach(function (p, i) {
      var label = document.createElement("label");
      label.className = "plan" + (p.destacado ? " destacado" : "");
      var radio = document.createElement("input");
      radio.type = "radio";
      radio.name = "plan";
      radio.value = String(p.id);
      radio.checked = p.destacado || i === 0;
      var body = document.createElement("div");
      var name = document.createElement("div");
      name.className = "name";
      name.textContent = p.nombre_venta;
      var price = document.createElement("div");
      price.className = "price";
      price.textContent = money(p.precio, p.moneda);
      body.appendChild(name);
      body.appendChild(price);
      if (p.descripcion) {
        var desc = document.createElement("div");
        desc.textContent = p.descripcion;
        body.appendChild(desc);
      }
      var lines = detailLines(p.detalles);
      if (lines.length) {
        var ul = document.createElement("ul");
        lines.forEach(function (t) {
          var li = document.createElement("li");
          li.textContent = t;
          ul.appendChild(li);
        });
        body.appendChild(ul);
      }
      label.appendChild(radio);
      label.appendChild(body);
      box.appendChild(label);
    });
  }

  function selectedPlan() {
    var checked = document.querySelector("input[name=plan]:checked");
    if (!checked) { return null; }
    for (var i = 0; i < plans.length; i++) {
      if (String(plans[i].id) === checked.value) { return plans[i]; }
    }
    return null;
  }

  /* One key per purchase attempt, reused if the same attempt is retried. */
  function newIdempotencyKey() {
    var bytes = new Uint8Array(16);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function customer() {
    var c = {
      nombre_cliente: $("nombre").value.trim(),
      email_cliente: $("email").value.trim(),
      tipo_usuario: $("tipo").value,
      conexion_automatica: device.mac !== ""
    };
    var tel = $("telefono").value.trim();
    if (tel) { c.telefono_cliente = tel; }
    if (device.mac) { c.mac_cliente = device.mac; }
    if (device.ip) { c.ip_cliente = device.ip; }
    return c;
  }

  function mpCardToken(holder) {
    var pk = publicConfig && publicConfig.empresa ? publicConfig.empresa.mercadopago_public_key : "";
    if (!pk) { return Promise.reject(new Error("Mercado Pago no está configurado para este router")); }
    return fetch(mpBase + "/v1/card_tokens?public_key=" + encodeURIComponent(pk), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        card_number: "5031755734530604",
        security_code: "123",
        expiration_month: 11,
        expiration_year: 2030,
        cardholder: { name: holder, identification: { type: "RFC", number: "XAXX010101000" } }
      })
    }).then(function (res) {
      return res.json().then(function (data) {
        if (!res.ok || !data || !data.id) { throw new Error("No se pudo tokenizar la tarjeta"); }
        return data.id;
      });
    });
  }

  function pay(plan, card, idemKey) {
    var body = customer();
    body.producto_id = plan.id;
    var headers = { "Idempotency-Key": idemKey };
    var sep = card.indexOf(":");
    var gateway = card.slice(0, sep);
    var value = card.slice(sep + 1);
    if (gateway === "conekta") {
      body.token_tarjeta = value;
      return api("POST", "/api/v1/payments/pagar-conekta", body, headers);
    }
    return mpCardToken(value).then(function (token) {
      body.token = token;
      body.payment_method_id = "master";
      body.monto = Number(plan.precio);
      body.cuotas = 1;
      return api("POST", "/api/v1/payments/pagar-mercado-pago", body, headers);
    });
  }

  function showResult(res, plan) {
    var creds = res.usuario_hotspot || {};
    var isPin = res.tipo_usuario === "pin";
    setText("plan-comprado", (res.producto && res.producto.nombre) || plan.nombre_venta);
    setText("usuario-label", isPin ? "PIN" : "Usuario");
    setText("usuario", creds.usuario);
    show($("contrasena-label"), !isPin);
    show($("contrasena").parentNode, !isPin);
    setText("contrasena", creds.contrasena);
    setText("transaccion", res.id_transaccion);
    var auto = res.auto_conexion || {};
    var msg = auto.mensaje || "";
    if (res.advertencia) { msg = res.advertencia + ". " + msg; }
    setText("mensaje", msg);
    $("result").setAttribute("data-estado", auto.estado || "");
    var login = $("login");
    if (auto.estado !== "conectado" && device.loginUrl) {
      login.action = device.loginUrl;
      login.elements.username.value = creds.usuario || "";
      login.elements.password.value = creds.contrasena || "";
      show(login, true);
    }
    show($("buy"), false);
    show($("result"), true);
  }

  var pending = null;

  function onSubmit(ev) {
    ev.preventDefault();
    show($("error"), false);
    var plan = selectedPlan();
    var c = customer();
    var problem = !plan ? "Elige un plan." :
      !c.nombre_cliente ? "Escribe tu nombre." :
      !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(c.email_cliente) ? "Escribe un correo válido." : "";
    if (problem) {
      setText("error", problem);
      show($("error"), true);
      return;
    }
    var card = $("card").value;
    var attempt = JSON.stringify([plan.id, card, c]);
    if (!pending || pending.attempt !== attempt) {
      pending = { attempt: attempt, key: newIdempotencyKey() };
    }
    $("pay").disabled = true;
    setText("status", "Procesando pago…");
    pay(plan, card, pending.key).then(function (res) {
      pending = null;
      setText("status", "");
      showResult(res, plan);
    }, function (err) {
      setText("status", "");
      setText("error", err && err.message ? err.message : "No se pudo completar el pago");
      show($("error"), true);
      /* A refused card needs a new attempt (and key); a network error may be retried as is. */
      if (!(err instanceof TypeError)) { pending = null; }
    }).then(function () {
      $("pay").disabled = false;
    });
  }

  function start() {
    $("buy").addEventListener("submit", onSubmit);
    if (!apiKey) {
      show($("loading"), false);
      setText("load-error", "Falta configurar API_KEY en index.html");
      show($("load-error"), true);
      return;
    }
    api("GET", "/api/v1/config/public").then(function (conf) {
      publicConfig = conf;
      if (conf && conf.empresa && conf.empresa.nombre) {
        setText("empresa", conf.empresa.nombre);
        document.title = conf.empresa.nombre + " — WiFi";
      }
    }, function () { /* the catalogue below reports errors */ });
    api("GET", "/api/v1/catalogo_perfiles_venta").then(function (list) {
      plans = Array.isArray(list) ? list : [];
      show($("loading"), false);
      if (!plans.length) {
        setText("load-error", "No hay planes disponibles en este momento.");
        show($("load-error"), true);
        return;
      }
      renderPlans();
      show($("buy"), true);
    }, function (err) {
      show($("loading"), false);
      setText("load-error", "No se pudieron cargar los planes: " + err.message);
      show($("load-error"), true);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
