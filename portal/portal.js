/* pagos-hotspot captive portal. Plain ES5 with Promise and fetch, no modules, no dependencies.
 * Configuration lives in login.html (PORTAL_CONFIG). Every text from the API is inserted with
 * textContent, never as HTML. Card data goes only to the gateway's own script (Conekta.js or
 * Mercado Pago's SDK v2, loaded from the URLs /api/v1/config/public names); the API gets a token. */
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
  var device = {
    mac: routerValue(cfg.MAC) || queryValue("mac"),
    ip: routerValue(cfg.IP) || queryValue("ip"),
    loginUrl: routerValue(cfg.LINK_LOGIN_ONLY) || queryValue("link-login-only"),
    dst: routerValue(cfg.LINK_ORIG) || queryValue("dst"),
    chapId: routerValue(cfg.CHAP_ID),
    chapChallenge: routerValue(cfg.CHAP_CHALLENGE),
    /* The router re-serves this page with $(error) when its login failed. */
    error: routerValue(cfg.ERROR) || queryValue("error")
  };

  var $ = function (id) { return document.getElementById(id); };
  var plans = [];
  var publicConfig = null;
  var gateways = { conekta: null, mercadopago: null }; /* the loaded SDKs */

  function show(el, on) { el.hidden = !on; }
  function setText(id, text) { $(id).textContent = text == null ? "" : String(text); }

  /* ---------- API ---------- */

  /* The API's {"detail": …}: a string, or a list of field errors. */
  function detailText(body, status) {
    if (body && typeof body.detail === "string") { return body.detail; }
    if (body && Array.isArray(body.detail)) {
      return body.detail.map(function (d) {
        var loc = Array.isArray(d.loc) ? d.loc.filter(function (x) { return x !== "body"; }).join(".") : "";
        return (loc ? loc + ": " : "") + (d.msg || "");
      }).join("; ");
    }
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

  /* ---------- Card checks (shown inline) ---------- */

  var card = {
    digits: function (s) { return String(s || "").replace(/[\s-]/g, ""); },
    luhn: function (n) {
      var sum = 0;
      for (var i = 0; i < n.length; i++) {
        var d = n.charCodeAt(n.length - 1 - i) - 48;
        if (i % 2 === 1) { d *= 2; if (d > 9) { d -= 9; } }
        sum += d;
      }
      return n.length > 0 && sum % 10 === 0;
    },
    brand: function (n) {
      if (/^3[47]/.test(n)) { return "amex"; }
      if (/^(5[1-5]|2(2[2-9]|[3-6]\d|7[01]|720))/.test(n)) { return "mastercard"; }
      if (/^4/.test(n)) { return "visa"; }
      return "";
    },
    /* "MM/AA", "MM / AAAA", "MMAA" → {month, year} (4-digit year) or null. */
    expiry: function (s) {
      var m = /^\s*(\d{1,2})\s*\/?\s*(\d{2}|\d{4})\s*$/.exec(String(s || ""));
      if (!m) { return null; }
      var month = parseInt(m[1], 10);
      var year = parseInt(m[2], 10);
      if (year < 100) { year += 2000; }
      return month >= 1 && month <= 12 ? { month: month, year: year } : null;
    }
  };
  var BRAND_NAMES = { visa: "Visa", mastercard: "Mastercard", amex: "American Express" };

  function fieldProblems() {
    var n = card.digits($("cc-number").value);
    var brand = card.brand(n);
    var exp = card.expiry($("cc-exp").value);
    var now = new Date();
    var cvc = $("cc-csc").value.trim();
    var p = {};
    if (!/^\d{13,19}$/.test(n) || !card.luhn(n)) { p["cc-number"] = "Revisa el número de la tarjeta."; }
    if (!exp) {
      p["cc-exp"] = "Escribe la fecha como MM/AA.";
    } else if (exp.year < now.getFullYear() || (exp.year === now.getFullYear() && exp.month < now.getMonth() + 1)) {
      p["cc-exp"] = "La tarjeta está vencida.";
    }
    if (!(brand === "amex" ? /^\d{4}$/ : /^\d{3}$/).test(cvc)) {
      p["cc-csc"] = brand === "amex" ? "El CVC tiene 4 dígitos." : "El CVC tiene 3 dígitos.";
    }
    if ($("cc-name").value.trim().length < 2) { p["cc-name"] = "Escribe el nombre como aparece en la tarjeta."; }
    return p;
  }

  /* Shows the problems of the fields in `only` (all when absent); returns whether all are fine. */
  function showFieldProblems(only) {
    var p = fieldProblems();
    var ok = true;
    ["cc-number", "cc-exp", "cc-csc", "cc-name"].forEach(function (id) {
      if (only && only.indexOf(id) < 0) { return; }
      var input = $(id);
      setText(id + "-error", p[id] || "");
      input.setAttribute("aria-invalid", p[id] ? "true" : "false");
      if (p[id]) { ok = false; }
    });
    return ok;
  }

  function onNumberInput() {
    var input = $("cc-number");
    var n = card.digits(input.value);
    var brand = card.brand(n);
    setText("cc-brand", BRAND_NAMES[brand] || "");
    /* Groups of four (Amex 4-6-5) as the number is typed. */
    var groups = brand === "amex" ? [4, 6, 5] : [4, 4, 4, 4, 3];
    var out = [], i = 0;
    for (var g = 0; g < groups.length && i < n.length; g++) {
      out.push(n.slice(i, i + groups[g]));
      i += groups[g];
    }
    var formatted = out.join(" ");
    if (/^[\d ]*$/.test(input.value) && formatted !== input.value) { input.value = formatted; }
  }

  /* ---------- Gateway SDKs ---------- */

  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      var s = document.createElement("script");
      s.src = src;
      s.async = true;
      s.onload = function () { resolve(); };
      s.onerror = function () { reject(new Error("No se pudo cargar " + src)); };
      document.head.appendChild(s);
    });
  }

  function loadGateways(conf) {
    var e = conf.empresa || {};
    var sdk = conf.sdk || {};
    var jobs = [];
    if (e.conekta_public_key && sdk.conekta_js) {
      jobs.push(loadScript(sdk.conekta_js).then(function () {
        window.Conekta.setPublicKey(e.conekta_public_key);
        gateways.conekta = window.Conekta;
      }, function () { /* that gateway stays unavailable */ }));
    }
    if (e.mercadopago_public_key && sdk.mercadopago_js) {
      jobs.push(loadScript(sdk.mercadopago_js).then(function () {
        gateways.mercadopago = new window.MercadoPago(e.mercadopago_public_key, { locale: "es-MX" });
      }, function () { /* that gateway stays unavailable */ }));
    }
    return Promise.all(jobs).then(function () {
      var available = ["conekta", "mercadopago"].filter(function (g) { return gateways[g]; });
      var radios = document.querySelectorAll("input[name=gateway]");
      for (var i = 0; i < radios.length; i++) {
        var on = available.indexOf(radios[i].value) >= 0;
        radios[i].parentNode.hidden = !on;
        radios[i].disabled = !on;
        radios[i].checked = radios[i].value === available[0];
      }
      show($("gateways"), available.length > 1);
      return available;
    });
  }

  function selectedGateway() {
    var r = document.querySelector("input[name=gateway]:checked");
    return r ? r.value : "";
  }

  function cardInput() {
    var exp = card.expiry($("cc-exp").value) || { month: 0, year: 0 };
    return {
      number: card.digits($("cc-number").value),
      name: $("cc-name").value.trim(),
      month: exp.month,
      year: exp.year,
      cvc: $("cc-csc").value.trim()
    };
  }

  /* Conekta.js: Conekta.Token.create → token id. */
  function conektaToken(c) {
    return new Promise(function (resolve, reject) {
      gateways.conekta.Token.create({
        card: { number: c.number, name: c.name, exp_year: String(c.year), exp_month: String(c.month), cvc: c.cvc }
      }, function (token) {
        resolve(token.id);
      }, function (err) {
        reject(new Error((err && (err.message_to_purchaser || err.message)) || "No se pudo validar la tarjeta."));
      });
    });
  }

  /* Mercado Pago SDK v2: payment method and issuer from the BIN, then createCardToken. */
  function mercadoPagoToken(c) {
    var mp = gateways.mercadopago;
    var bin = c.number.slice(0, 8);
    var method = null;
    return mp.getPaymentMethods({ bin: bin }).then(function (res) {
      method = res && res.results && res.results[0];
      if (!method) { throw new Error("Mercado Pago no acepta esta tarjeta."); }
      return mp.createCardToken({
        cardNumber: c.number,
        cardholderName: c.name,
        cardExpirationMonth: String(c.month),
        cardExpirationYear: String(c.year),
        securityCode: c.cvc
      });
    }, function () {
      throw new Error("No se pudo identificar la tarjeta con Mercado Pago.");
    }).then(function (token) {
      if (!token || !token.id) { throw new Error("No se pudo validar la tarjeta."); }
      return {
        token: token.id,
        payment_method_id: method.id,
        issuer_id: method.issuer && method.issuer.id != null ? String(method.issuer.id) : undefined
      };
    }, function (err) {
      if (err instanceof Error) { throw err; }
      throw new Error("Mercado Pago rechazó los datos de la tarjeta. Revísalos.");
    });
  }

  /* ---------- Plans ---------- */

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

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text != null) { e.textContent = text; }
    return e;
  }

  function renderPlans() {
    var box = $("plans");
    box.textContent = "";
    plans.forEach(function (p, i) {
      var label = el("label", "plan" + (p.destacado ? " destacado" : ""));
      var radio = document.createElement("input");
      radio.type = "radio";
      radio.name = "plan";
      radio.value = String(p.id);
      radio.checked = p.destacado || i === 0;
      var body = el("div");
      body.appendChild(el("div", "name", p.nombre_venta));
      body.appendChild(el("div", "price", money(p.precio, p.moneda)));
      if (p.descripcion) { body.appendChild(el("div", null, p.descripcion)); }
      var lines = detailLines(p.detalles);
      if (lines.length) {
        var ul = el("ul");
        lines.forEach(function (t) { ul.appendChild(el("li", null, t)); });
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

  /* ---------- Purchase ---------- */

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
      /* The router's own login form logs the device in when there is one; otherwise the API does. */
      conexion_automatica: device.mac !== "" && device.loginUrl === ""
    };
    var tel = $("telefono").value.trim();
    if (tel) { c.telefono_cliente = tel; }
    if (device.mac) { c.mac_cliente = device.mac; }
    if (device.ip) { c.ip_cliente = device.ip; }
    return c;
  }

  function pay(plan, gateway, idemKey) {
    var body = customer();
    body.producto_id = plan.id;
    var headers = { "Idempotency-Key": idemKey };
    var c = cardInput();
    if (gateway === "conekta") {
      return conektaToken(c).then(function (token) {
        body.token_tarjeta = token;
        return api("POST", "/api/v1/payments/pagar-conekta", body, headers);
      });
    }
    return mercadoPagoToken(c).then(function (t) {
      body.token = t.token;
      body.payment_method_id = t.payment_method_id;
      if (t.issuer_id) { body.issuer_id = t.issuer_id; }
      body.monto = Number(plan.precio);
      body.cuotas = 1;
      return api("POST", "/api/v1/payments/pagar-mercado-pago", body, headers);
    });
  }

  /* ---------- After payment ---------- */

  /* A MAC with the locally administered bit set was made up by the device (private address). */
  function randomisedMac(mac) {
    var m = /^[0-9a-f]([0-9a-f])[:-]/i.exec(mac || "");
    return !!m && "26ae".indexOf(m[1].toLowerCase()) >= 0;
  }

  function copyCredentials() {
    var isPin = $("result").getAttribute("data-tipo") === "pin";
    var text = isPin ? "PIN: " + $("usuario").textContent :
      "Usuario: " + $("usuario").textContent + "\nContraseña: " + $("contrasena").textContent;
    var done = function () { setText("copied", "Copiado."); };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, function () { copyFallback(text); done(); });
    } else {
      copyFallback(text);
      done();
    }
  }
  function copyFallback(text) {
    var t = document.createElement("textarea");
    t.value = text;
    t.setAttribute("readonly", "");
    t.style.position = "absolute";
    t.style.left = "-9999px";
    document.body.appendChild(t);
    t.select();
    try { document.execCommand("copy"); } catch (e) { /* the credentials stay on screen */ }
    document.body.removeChild(t);
  }

  var countdown = null;

  /* The password the router's form expects: plain (PAP) or md5(chap-id + password + challenge). */
  function routerPassword(password) {
    if (device.chapId && window.PortalMD5) {
      return window.PortalMD5.hex(device.chapId + (password || "") + device.chapChallenge);
    }
    return password || "";
  }

  /* The standard hotspot login: POST username/password (CHAP-hashed when the router asks) and
   * dst to $(link-login-only); the router logs the device in and sends it to dst. A PIN user's
   * password is empty. */
  function routerLogin(creds) {
    var login = $("login");
    login.action = device.loginUrl;
    login.elements.username.value = creds.usuario || "";
    login.elements.password.value = routerPassword(creds.contrasena);
    login.elements.dst.value = device.dst;
    show(login, true);
    var left = 5;
    var tick = function () {
      if (left <= 0) {
        clearInterval(countdown);
        login.submit();
        return;
      }
      setText("login-countdown", "Conectando en " + left + " s…");
      left -= 1;
    };
    tick();
    countdown = setInterval(tick, 1000);
  }

  function connect(res, creds) {
    if (device.loginUrl) {
      routerLogin(creds);
      return;
    }
    var auto = res.auto_conexion || {};
    var msg = auto.mensaje || "Usa estas credenciales para conectarte.";
    if (res.advertencia) { msg = res.advertencia + ". " + msg; }
    setText("mensaje", msg);
    $("result").setAttribute("data-estado", auto.estado || "");
  }

  /* A pending Mercado Pago payment: ask estado-pago until the bank decides. */
  function pollPending(paymentId, onApproved) {
    var started = Date.now();
    var step = function () {
      api("GET", "/api/v1/payments/estado-pago/" + encodeURIComponent(paymentId)).then(function (st) {
        var s = st && st.status;
        if (s === "approved") {
          show($("pending"), false);
          setText("result-title", "¡Pago aprobado!");
          onApproved();
        } else if (s === "rejected" || s === "cancelled" || s === "refunded" || s === "charged_back") {
          show($("pending"), false);
          show($("result"), false);
          setText("error", "El pago no fue aprobado (" + (st.status_detail || s) + ").");
          show($("error"), true);
          show($("buy"), true);
        } else if (Date.now() - started < 10 * 60 * 1000) {
          setTimeout(step, 3000);
        } else {
          setText("pending", "El pago sigue pendiente. Tus credenciales funcionarán en cuanto se apruebe.");
        }
      }, function (err) {
        setText("pending", "No se pudo consultar el pago: " + err.message + ". Reintentando…");
        setTimeout(step, 5000);
      });
    };
    step();
  }

  function showResult(res, plan) {
    var creds = res.usuario_hotspot || {};
    var isPin = res.tipo_usuario === "pin";
    var pending = res.estado_pago === "pending";
    $("result").setAttribute("data-tipo", isPin ? "pin" : "usuario_contrasena");
    setText("result-title", pending ? "Pago en revisión" : "¡Pago aprobado!");
    setText("plan-comprado", (res.producto && res.producto.nombre) || plan.nombre_venta);
    setText("usuario-label", isPin ? "PIN" : "Usuario");
    setText("usuario", creds.usuario);
    $("usuario").className = isPin ? "pin" : "";
    $("usuario").parentNode.className = isPin ? "pin-row" : "";
    show($("contrasena-label"), !isPin);
    show($("contrasena").parentNode, !isPin);
    setText("contrasena", creds.contrasena);
    setText("transaccion", res.id_transaccion);
    if (randomisedMac(device.mac)) {
      setText("mac-note", "Tu dispositivo usa una dirección MAC privada (aleatoria) en esta red. " +
        "Si la cambia —al olvidar la red, al restablecerlo o con la opción de dirección rotativa— " +
        "el router ya no lo reconocerá: vuelve a entrar con " + (isPin ? "tu PIN" : "tu usuario y contraseña") +
        " mientras tu plan siga vigente.");
      show($("mac-note"), true);
    }
    show($("buy"), false);
    show($("returning"), false);
    show($("router-error"), false);
    show($("result"), true);
    var mp = res.mercado_pago || {};
    if (pending && mp.payment_id != null) {
      setText("pending", "Tu banco está revisando el pago. Esta página se actualizará sola; no la cierres.");
      show($("pending"), true);
      pollPending(mp.payment_id, function () { connect(res, creds); });
      return;
    }
    connect(res, creds);
  }

  /* A customer who already has credentials: the router's own form when there is one, else the
   * API's auto-reconnect (which checks the password and logs this device in). */
  function onRelogin(ev) {
    ev.preventDefault();
    var user = $("re-user").value.trim();
    var pass = $("re-pass").value;
    if (!user) {
      setText("re-status", "Escribe tu usuario o PIN.");
      return;
    }
    if (device.loginUrl) {
      routerLogin({ usuario: user, contrasena: pass });
      $("login").submit();
      return;
    }
    if (!device.mac) {
      setText("re-status", "No se detectó tu dispositivo; abre esta página desde la red WiFi.");
      return;
    }
    $("re-connect").disabled = true;
    setText("re-status", "Conectando…");
    var body = { username: user, password: pass === "" ? null : pass, current_mac: device.mac };
    if (device.ip) { body.current_ip = device.ip; }
    api("POST", "/api/v1/hotspot/auto-reconnect", body).then(function (res) {
      setText("re-status", (res && res.mensaje) || (res && res.success ? "Conectado." : "No se pudo conectar."));
      $("relogin").setAttribute("data-estado", res && res.estado || "");
    }, function (err) {
      setText("re-status", err.message);
    }).then(function () {
      $("re-connect").disabled = false;
    });
  }

  var attemptInFlight = null;

  function formProblem(plan, c, gateway) {
    if (!plan) { return "Elige un plan."; }
    if (!c.nombre_cliente) { return "Escribe tu nombre."; }
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(c.email_cliente)) { return "Escribe un correo válido."; }
    if (!gateway) { return "El pago con tarjeta no está disponible en este momento."; }
    if (!showFieldProblems()) { return "Revisa los datos de la tarjeta."; }
    return "";
  }

  function onSubmit(ev) {
    ev.preventDefault();
    show($("error"), false);
    var plan = selectedPlan();
    var c = customer();
    var gateway = selectedGateway();
    var problem = formProblem(plan, c, gateway);
    if (problem) {
      setText("error", problem);
      show($("error"), true);
      return;
    }
    /* A new token is made for every try (tokens are single use); the key stays with the same
     * plan and customer data until the API answers. */
    var attempt = JSON.stringify([plan.id, gateway, c]);
    if (!attemptInFlight || attemptInFlight.attempt !== attempt) {
      attemptInFlight = { attempt: attempt, key: newIdempotencyKey() };
    }
    $("pay").disabled = true;
    setText("status", "Procesando pago…");
    pay(plan, gateway, attemptInFlight.key).then(function (res) {
      attemptInFlight = null;
      setText("status", "");
      showResult(res, plan);
    }, function (err) {
      setText("status", "");
      setText("error", err && err.message ? err.message : "No se pudo completar el pago");
      show($("error"), true);
      /* A refused card needs a new attempt (and key); a network error may be retried as is. */
      if (!(err instanceof TypeError)) { attemptInFlight = null; }
    }).then(function () {
      $("pay").disabled = false;
    });
  }

  function start() {
    $("buy").addEventListener("submit", onSubmit);
    $("cc-number").addEventListener("input", onNumberInput);
    ["cc-number", "cc-exp", "cc-csc", "cc-name"].forEach(function (id) {
      $(id).addEventListener("blur", function () { if ($(id).value !== "") { showFieldProblems([id]); } });
    });
    $("copy").addEventListener("click", copyCredentials);
    $("relogin").addEventListener("submit", onRelogin);
    if (device.error) {
      setText("router-error", "El router no pudo iniciar tu sesión: " + device.error);
      show($("router-error"), true);
      $("returning").open = true;
    }
    $("login").addEventListener("submit", function () { if (countdown) { clearInterval(countdown); } });
    if (!apiKey) {
      show($("loading"), false);
      setText("load-error", "Falta configurar API_KEY en login.html");
      show($("load-error"), true);
      return;
    }
    var gatewaysReady = api("GET", "/api/v1/config/public").then(function (conf) {
      publicConfig = conf || {};
      if (publicConfig.empresa && publicConfig.empresa.nombre) {
        setText("empresa", publicConfig.empresa.nombre);
        document.title = publicConfig.empresa.nombre + " — WiFi";
      }
      return loadGateways(publicConfig);
    }, function () { return []; /* the catalogue below reports errors */ });
    var catalogue = api("GET", "/api/v1/catalogo_perfiles_venta");
    Promise.all([catalogue, gatewaysReady]).then(function (r) {
      plans = Array.isArray(r[0]) ? r[0] : [];
      show($("loading"), false);
      if (!plans.length) {
        setText("load-error", "No hay planes disponibles en este momento.");
        show($("load-error"), true);
        return;
      }
      if (!r[1].length) {
        setText("load-error", "El pago con tarjeta no está disponible en este momento.");
        show($("load-error"), true);
      }
      renderPlans();
      show($("buy"), true);
      document.body.setAttribute("data-ready", "true");
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

/* MD5 of a byte string (each character one byte), hex: the hotspot's CHAP login sends
 * md5(chap-id + password + chap-challenge), as the router's own md5.js does. RFC 1321. */
(function () {
  "use strict";
  function add(x, y) { var l = (x & 0xffff) + (y & 0xffff); return (((x >> 16) + (y >> 16) + (l >> 16)) << 16) | (l & 0xffff); }
  function rol(n, c) { return (n << c) | (n >>> (32 - c)); }
  function cmn(q, a, b, x, s, t) { return add(rol(add(add(a, q), add(x, t)), s), b); }
  function ff(a, b, c, d, x, s, t) { return cmn((b & c) | (~b & d), a, b, x, s, t); }
  function gg(a, b, c, d, x, s, t) { return cmn((b & d) | (c & ~d), a, b, x, s, t); }
  function hh(a, b, c, d, x, s, t) { return cmn(b ^ c ^ d, a, b, x, s, t); }
  function ii(a, b, c, d, x, s, t) { return cmn(c ^ (b | ~d), a, b, x, s, t); }
  var S = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];
  var K = [];
  for (var i = 0; i < 64; i++) { K[i] = Math.floor(Math.abs(Math.sin(i + 1)) * 4294967296) | 0; }
  function blocks(s) {
    var n = ((s.length + 8) >> 6) + 1, w = [];
    for (var i = 0; i < n * 16; i++) { w[i] = 0; }
    for (i = 0; i < s.length; i++) { w[i >> 2] |= (s.charCodeAt(i) & 0xff) << ((i % 4) * 8); }
    w[i >> 2] |= 0x80 << ((i % 4) * 8);
    w[n * 16 - 2] = s.length * 8;
    return w;
  }
  function hex(s) {
    var x = blocks(String(s)), a = 1732584193, b = -271733879, c = -1732584194, d = 271733878;
    var fns = [ff, gg, hh, ii];
    for (var i = 0; i < x.length; i += 16) {
      var oa = a, ob = b, oc = c, od = d;
      for (var j = 0; j < 64; j++) {
        var round = j >> 4, k;
        if (round === 0) { k = j; } else if (round === 1) { k = (5 * j + 1) % 16; } else if (round === 2) { k = (3 * j + 5) % 16; } else { k = (7 * j) % 16; }
        var t = fns[round](a, b, c, d, x[i + k], S[round * 4 + (j % 4)], K[j]);
        a = d; d = c; c = b; b = t;
      }
      a = add(a, oa); b = add(b, ob); c = add(c, oc); d = add(d, od);
    }
    var out = "";
    [a, b, c, d].forEach(function (v) {
      for (var q = 0; q < 4; q++) { out += ("0" + ((v >> (q * 8)) & 0xff).toString(16)).slice(-2); }
    });
    return out;
  }
  window.PortalMD5 = { hex: hex };
})();
