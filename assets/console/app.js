/* pagos-hotspot operator console: a small single-page app over the documented JSON API.
 *
 * - No build step, no framework: DOM built with h() (text is always set as text, never as HTML).
 * - The session token lives in sessionStorage and travels as `Authorization: Bearer` (no cookie,
 *   so no CSRF). A 401 from the API clears it and shows the login page with the API's detail.
 * - Every API error is shown with its `detail`.
 * - Charts: uPlot (vendored, see scripts/vendor-console.sh).
 */
(function () {
  "use strict";

  var TOKEN = "consola.token", USER = "consola.user";
  var main = document.getElementById("contenido");
  var nav = document.getElementById("nav");
  var charts = [];

  // ------------------------------------------------------------------------------------------
  // Helpers

  function h(tag, attrs) {
    var el = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === null || v === undefined || v === false) return;
        if (k.slice(0, 2) === "on") el.addEventListener(k.slice(2), v);
        else if (k === "text") el.textContent = v;
        else if (v === true) el.setAttribute(k, "");
        else el.setAttribute(k, v);
      });
    }
    for (var i = 2; i < arguments.length; i++) add(el, arguments[i]);
    return el;
  }
  function add(el, c) {
    if (c === null || c === undefined || c === false) return;
    if (Array.isArray(c)) { c.forEach(function (x) { add(el, x); }); return; }
    el.appendChild(typeof c === "object" ? c : document.createTextNode(String(c)));
  }
  function money(v, cur) {
    var n = Number(v || 0);
    return "$" + n.toLocaleString("es-MX", { minimumFractionDigits: 2, maximumFractionDigits: 2 }) + (cur ? " " + cur : "");
  }
  function when(iso) {
    if (!iso) return "—";
    var d = new Date(/[zZ]|[+-]\d\d:\d\d$/.test(iso) ? iso : iso + "Z");
    return isNaN(d) ? iso : d.toLocaleString("es-MX");
  }
  function toast(msg) {
    var t = h("div", { text: msg });
    document.getElementById("toast").appendChild(t);
    setTimeout(function () { t.remove(); }, 4000);
  }
  function session() {
    try { return { token: sessionStorage.getItem(TOKEN), user: JSON.parse(sessionStorage.getItem(USER) || "null") }; }
    catch (e) { return { token: null, user: null }; }
  }
  function detailText(body, status) {
    if (!body) return "Error " + status;
    var d = body.detail;
    if (typeof d === "string") return d;
    if (Array.isArray(d)) {
      return d.map(function (e) {
        var loc = Array.isArray(e.loc) ? e.loc.filter(function (x) { return x !== "body" && x !== "query"; }).join(".") : "";
        return (loc ? loc + ": " : "") + (e.msg || "");
      }).join("; ");
    }
    return "Error " + status;
  }

  function ApiError(status, detail) { this.status = status; this.detail = detail; }

  /* Calls the API. Returns parsed JSON (or the Response for raw), throws ApiError. */
  function api(method, path, body, raw, extra) {
    var s = session();
    var headers = Object.assign({ "Accept": raw ? "*/*" : "application/json" }, extra || {});
    if (s.token) headers["Authorization"] = "Bearer " + s.token;
    var init = { method: method, headers: headers };
    if (body instanceof FormData) init.body = body;
    else if (body !== undefined) { headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
    return fetch(path, init).then(function (res) {
      if (res.ok) return raw ? res : res.json();
      return res.json().catch(function () { return null; }).then(function (b) {
        var err = new ApiError(res.status, detailText(b, res.status));
        if (res.status === 401 && s.token) {
          sessionStorage.removeItem(TOKEN); sessionStorage.removeItem(USER);
          sessionStorage.setItem("consola.aviso", err.detail);
          err.redirected = true;
          location.hash = "#/entrar";
        }
        throw err;
      });
    });
  }

  function errorBox(e) {
    return h("div", { class: "error", role: "alert", text: e instanceof ApiError ? e.detail : String(e && e.message || e) });
  }
  /* Runs an action from a button/form, showing its error in `slot`. */
  function guard(btn, slot, fn) {
    return function (ev) {
      if (ev) ev.preventDefault();
      slot.textContent = "";
      if (btn) btn.disabled = true;
      Promise.resolve().then(fn).catch(function (e) {
        if (!e.redirected) slot.appendChild(errorBox(e));
      }).then(function () { if (btn) btn.disabled = false; });
    };
  }
  function field(label, input) { return h("label", null, h("span", { text: label }), input); }
  function input(name, attrs) { return h("input", Object.assign({ name: name, id: "f-" + name }, attrs || {})); }
  function select(name, options, value) {
    var s = h("select", { name: name, id: "f-" + name });
    options.forEach(function (o) {
      var opt = h("option", { value: o[0], text: o[1] });
      if (String(o[0]) === String(value)) opt.selected = true;
      s.appendChild(opt);
    });
    return s;
  }
  function table(headers, rows) {
    return h("div", { class: "table-wrap" }, h("table", null,
      h("thead", null, h("tr", null, headers.map(function (t) { return h("th", { scope: "col", text: t }); }))),
      h("tbody", null, rows.length ? rows : h("tr", null, h("td", { colspan: headers.length, class: "muted", text: "Sin registros" })))));
  }
  function stateBadge(state) {
    var cls = { connected: "ok", connecting: "warn", backing_off: "bad", auth_failed: "bad", disabled: "muted", idle: "muted" }[state] || "muted";
    var label = { connected: "conectado", connecting: "conectando", backing_off: "sin conexión", auth_failed: "credenciales rechazadas", disabled: "desactivado", idle: "en reposo" }[state] || state;
    return h("span", { class: "badge " + cls, "data-state": state, text: label });
  }
  function yesNo(v, yes, no) { return h("span", { class: "badge " + (v ? "ok" : "muted"), text: v ? (yes || "sí") : (no || "no") }); }
  function title(t) { document.title = t + " · Consola"; return h("h1", { text: t }); }

  // ------------------------------------------------------------------------------------------
  // Charts

  var PALETTE = ["#0b5cad", "#c2410c", "#15803d", "#7e22ce", "#b91c1c", "#0e7490"];

  function drawChart(container, label, fechas, series, fmt) {
    var xs = fechas.map(function (f) { return Date.parse(f + "T12:00:00Z") / 1000; });
    var width = Math.max(280, container.clientWidth || 600);
    var opts = {
      title: label, width: width, height: 260,
      scales: { x: { time: true } },
      series: [{ label: "Fecha" }].concat(series.map(function (s, i) {
        return { label: s.label, stroke: PALETTE[i % PALETTE.length], width: 2, points: { show: true, size: 4 }, value: function (u, v) { return v == null ? "—" : fmt(v); } };
      })),
      axes: [{}, { values: function (u, vals) { return vals.map(fmt); }, size: 70 }],
    };
    var plot = new uPlot(opts, [xs].concat(series.map(function (s) { return s.data; })), container);
    container.setAttribute("data-points", String(xs.length));
    charts.push(plot);
    return plot;
  }
  window.addEventListener("resize", function () {
    charts.forEach(function (c) {
      var w = c.root.parentNode && c.root.parentNode.clientWidth;
      if (w) c.setSize({ width: Math.max(280, w), height: 260 });
    });
  });

  // ------------------------------------------------------------------------------------------
  // Screens: everyone

  function loginView() {
    var notice = sessionStorage.getItem("consola.aviso");
    sessionStorage.removeItem("consola.aviso");
    var slot = h("div");
    if (notice) slot.appendChild(h("div", { class: "error", role: "alert", text: notice }));
    var btn = h("button", { type: "submit", text: "Entrar" });
    var form = h("form", { class: "stack card login", "aria-labelledby": "login-title" },
      h("h1", { id: "login-title", text: "Consola pagos-hotspot" }),
      field("Correo electrónico", input("email", { type: "email", autocomplete: "username", required: true })),
      field("Contraseña", input("password", { type: "password", autocomplete: "current-password", required: true })),
      slot, btn);
    form.addEventListener("submit", guard(btn, slot, function () {
      return api("POST", "/api/v1/auth/login", { email: form.email.value, password: form.password.value }).then(function (r) {
        sessionStorage.setItem(TOKEN, r.access_token);
        sessionStorage.setItem(USER, JSON.stringify(r.user));
        location.hash = r.user.rol === "super_admin" ? "#/operador" : "#/panel";
      });
    }));
    document.title = "Entrar · Consola";
    return form;
  }

  function passwordView() {
    var slot = h("div"), btn = h("button", { type: "submit", text: "Cambiar contraseña" });
    var form = h("form", { class: "stack card" },
      field("Contraseña actual", input("current_password", { type: "password", autocomplete: "current-password", required: true })),
      field("Contraseña nueva", input("new_password", { type: "password", autocomplete: "new-password", required: true, minlength: 8 })),
      slot, btn);
    form.addEventListener("submit", guard(btn, slot, function () {
      return api("POST", "/api/v1/auth/change-password", { current_password: form.current_password.value, new_password: form.new_password.value }).then(function (r) {
        form.reset();
        slot.appendChild(h("div", { class: "notice", role: "status", text: r.message || "Contraseña actualizada" }));
      });
    }));
    return [title("Cambiar contraseña"), form];
  }

  // ------------------------------------------------------------------------------------------
  // Screens: company admin

  function dashboardView() {
    var root = h("div", null, title("Panel"));
    var chartRev = h("div", { class: "chart", id: "chart-ingresos", role: "img", "aria-label": "Ingresos por día, últimos 30 días" });
    var chartBuys = h("div", { class: "chart", id: "chart-compras", role: "img", "aria-label": "Compras por día, últimos 30 días" });
    var split = select("division", [["total", "Total"], ["gateway", "Por pasarela"], ["router", "Por router"]], "total");
    var stats = h("div", { class: "grid", id: "hoy" });
    var routersBox = h("div", { id: "routers-estado" });
    root.appendChild(h("section", { "aria-labelledby": "h-hoy" }, h("h2", { id: "h-hoy", text: "Hoy" }), stats));
    root.appendChild(h("section", { class: "card", "aria-labelledby": "h-serie" },
      h("h2", { id: "h-serie", text: "Últimos 30 días" }),
      h("div", { class: "row filters" }, field("Dividir por", split)),
      chartRev, chartBuys, h("p", { class: "muted", id: "zona" })));
    root.appendChild(h("section", { "aria-labelledby": "h-routers" }, h("h2", { id: "h-routers", text: "Routers" }), routersBox));
    var data;
    function render() {
      charts.forEach(function (c) { c.destroy(); }); charts = [];
      chartRev.textContent = ""; chartBuys.textContent = "";
      var mode = split.value;
      function pick(key) {
        if (mode === "gateway") return data.por_gateway.map(function (g) { return { label: gatewayName(g.gateway), data: g[key] }; });
        if (mode === "router") return data.por_router.map(function (r) { return { label: r.nombre || r.router_id, data: r[key] }; });
        return [{ label: key === "ingresos" ? "Ingresos" : "Compras", data: data.total[key] }];
      }
      drawChart(chartRev, "Ingresos por día", data.fechas, pick("ingresos"), function (v) { return money(v); });
      drawChart(chartBuys, "Compras por día", data.fechas, pick("compras"), function (v) { return String(Math.round(v)); });
    }
    split.addEventListener("change", render);
    api("GET", "/api/v1/admin/mi-empresa/dashboard/serie?dias=30").then(function (d) {
      data = d;
      stats.appendChild(stat("Ingresos de hoy", money(d.hoy.ingresos)));
      stats.appendChild(stat("Compras de hoy", d.hoy.compras));
      stats.appendChild(stat("Rechazadas hoy", d.hoy.rechazadas));
      stats.appendChild(stat("Reembolsadas hoy", d.hoy.reembolsadas));
      document.getElementById("zona").textContent = "Días contados en la zona horaria " + d.zona_horaria + ".";
      render();
    }).catch(function (e) { root.appendChild(errorBox(e)); });
    api("GET", "/api/v1/admin/mi-empresa/routers").then(function (r) {
      return Promise.all(r.routers.map(function (rt) {
        return api("GET", "/api/v1/admin/routers/" + encodeURIComponent(rt.id) + "/status").then(function (s) { return [rt, s]; }, function () { return [rt, null]; });
      }));
    }).then(function (list) {
      var up = list.filter(function (x) { return x[1] && x[1].state === "connected"; }).length;
      stats.appendChild(stat("Routers conectados", up + " / " + list.length));
      routersBox.appendChild(table(["Router", "Estado"], list.map(function (x) {
        return h("tr", null, h("td", { text: x[0].nombre }), h("td", null, x[1] ? stateBadge(x[1].state) : h("span", { class: "muted", text: "desconocido" })));
      })));
    }).catch(function (e) { routersBox.appendChild(errorBox(e)); });
    return root;
  }
  function stat(k, v) { return h("div", { class: "stat" }, h("span", { class: "v", text: String(v) }), h("span", { class: "k", text: k })); }
  function gatewayName(g) { return { conekta: "Conekta", mercado_pago: "Mercado Pago" }[g] || g || "—"; }

  function routersView() {
    var root = h("div", null, title("Routers"));
    var list = h("div");
    root.appendChild(list);
    api("GET", "/api/v1/admin/mi-empresa/routers").then(function (r) {
      r.routers.forEach(function (rt) { list.appendChild(routerCard(rt)); });
      if (!r.routers.length) list.appendChild(h("p", { class: "muted", text: "Su empresa no tiene routers; pida uno al operador." }));
    }).catch(function (e) { root.appendChild(errorBox(e)); });
    return root;
  }
  function routerCard(rt) {
    var id = encodeURIComponent(rt.id);
    var body = h("dl", { class: "kv" });
    var slot = h("div");
    var profiles = h("div");
    var card = h("section", { class: "card", "data-router": rt.id, "aria-label": rt.nombre },
      h("h2", { text: rt.nombre + " " }, yesNo(rt.activo, "activo", "inactivo")),
      h("p", { class: "muted", text: rt.host + (rt.ubicacion ? " · " + rt.ubicacion : "") }),
      body, slot, profiles);
    function kv(k, v) { body.appendChild(h("dt", { text: k })); body.appendChild(h("dd", null, v)); }
    function loadStatus() {
      return api("GET", "/api/v1/admin/routers/" + id + "/status").then(function (s) {
        body.textContent = "";
        kv("Estado", stateBadge(s.state));
        kv("Uptime", s.router_uptime || "—");
        kv("Versión", s.router_version || "—");
        kv("Latencia", s.avg_command_ms != null ? s.avg_command_ms.toFixed(1) + " ms" : "—");
        kv("Último error", s.last_error || "—");
      });
    }
    loadStatus().catch(function (e) { slot.appendChild(errorBox(e)); });
    var testBtn = h("button", { type: "button", class: "secondary", text: "Probar conexión" });
    var profBtn = h("button", { type: "button", class: "secondary", text: "Ver perfiles" });
    testBtn.addEventListener("click", guard(testBtn, slot, function () {
      return api("GET", "/api/v1/admin/routers/" + id + "/test-connection").then(function (r) {
        slot.appendChild(h("div", { class: r.success ? "notice" : "error", role: "status",
          text: r.success ? r.message + ": " + r.router_name + ", " + r.perfiles_encontrados + " perfiles" : r.message + ": " + r.error }));
        return loadStatus();
      });
    }));
    profBtn.addEventListener("click", guard(profBtn, slot, function () {
      return api("GET", "/api/v1/admin/routers/" + id + "/mikrotik-profiles").then(function (ps) {
        profiles.textContent = "";
        profiles.appendChild(table(["Perfil", "Límite de velocidad", "Tiempo de sesión", "Usuarios compartidos"], ps.map(function (p) {
          return h("tr", null, h("td", { text: p.name }), h("td", { text: p.rate_limit || "—" }), h("td", { text: p.session_timeout || "—" }), h("td", { text: p.shared_users || "—" }));
        })));
      });
    }));
    var rscBtn = h("button", { type: "button", class: "secondary", text: "Script de configuración" });
    var checkBtn = h("button", { type: "button", class: "secondary", text: "Verificar configuración" });
    var setup = h("div");
    rscBtn.addEventListener("click", guard(rscBtn, slot, function () {
      return api("GET", "/api/v1/admin/routers/" + id + "/setup.rsc", undefined, true).then(function (res) { return res.blob(); }).then(function (b) {
        download(b, "setup-" + rt.id + ".rsc");
      });
    }));
    checkBtn.addEventListener("click", guard(checkBtn, slot, function () {
      return api("GET", "/api/v1/admin/routers/" + id + "/setup-check").then(function (c) {
        setup.textContent = "";
        setup.appendChild(h("p", null, "Configuración del router: ", yesNo(c.completo, "completa", "incompleta")));
        setup.appendChild(table(["Paso", "Estado", "Ejecutar en el router"], c.elementos.map(function (e) {
          return h("tr", null, h("td", { text: e.nombre }), h("td", null, yesNo(e.estado === "ok", "ok", "falta")), h("td", { class: "secret-cell", text: e.ejecutar || "" }));
        })));
      });
    }));
    var keyInput = input("api_key_" + rt.id, { type: "password", autocomplete: "off", placeholder: "jwt_…" });
    var zipBtn = h("button", { type: "submit", class: "secondary", text: "Descargar portal.zip" });
    var zipForm = h("form", { class: "row" }, h("label", null, h("span", { text: "API key del router (para el portal)" }), keyInput), zipBtn);
    zipForm.addEventListener("submit", guard(zipBtn, slot, function () {
      return api("POST", "/api/v1/admin/routers/" + id + "/portal.zip", { api_key: keyInput.value }, true).then(function (res) { return res.blob(); }).then(function (b) {
        download(b, "portal-" + rt.id + ".zip");
      });
    }));
    var sessBtn = h("button", { type: "button", class: "secondary", text: "Sesiones activas" });
    var sessions = h("div");
    function loadSessions() {
      return api("GET", "/api/v1/admin/routers/" + id + "/sesiones").then(function (ss) {
        sessions.textContent = "";
        sessions.appendChild(h("h3", { text: "Sesiones activas (" + ss.length + ")" }));
        sessions.appendChild(table(["Usuario", "MAC", "IP", "Tiempo", "Producto", "Vence", ""], ss.map(function (x) {
          var kick = h("button", { type: "button", class: "danger", text: "Desconectar", "aria-label": "Desconectar " + x.usuario });
          kick.addEventListener("click", guard(kick, slot, function () {
            return api("DELETE", "/api/v1/admin/routers/" + id + "/sesiones/" + encodeURIComponent(x.id)).then(function (r) { toast(r.message); return loadSessions(); });
          }));
          return h("tr", { "data-sesion": x.id }, h("td", { text: x.usuario }), h("td", { text: x.mac || "—" }), h("td", { text: x.ip || "—" }),
            h("td", { text: x.uptime != null ? Math.round(x.uptime / 60) + " min" : "—" }), h("td", { text: x.producto || "—" }), h("td", { text: when(x.expira_en) }), h("td", null, kick));
        })));
      });
    }
    sessBtn.addEventListener("click", guard(sessBtn, slot, loadSessions));
    card.appendChild(h("div", { class: "row" }, testBtn, profBtn, sessBtn, rscBtn, checkBtn));
    card.appendChild(sessions);
    card.appendChild(setup);
    card.appendChild(zipForm);
    return card;
  }
  function download(blob, name) {
    var a = h("a", { href: URL.createObjectURL(blob), download: name });
    document.body.appendChild(a); a.click(); a.remove();
  }

  function productsView() {
    var root = h("div", null, title("Productos"));
    var listBox = h("div"), formBox = h("section", { class: "card", "aria-labelledby": "h-prod-form" });
    root.appendChild(h("div", { class: "row" }, h("button", { type: "button", text: "Nuevo producto", onclick: function () { productForm(formBox, null, refresh); } })));
    root.appendChild(formBox);
    formBox.hidden = true;
    root.appendChild(listBox);
    function refresh() {
      api("GET", "/api/v1/admin/products").then(function (ps) {
        listBox.textContent = "";
        listBox.appendChild(table(["Orden", "Nombre", "Perfil", "Precio", "Vigencia", "Activo", "Destacado", ""], ps.map(function (p) {
          return h("tr", { "data-producto": p.id }, h("td", { text: p.orden_visual }), h("td", { text: p.nombre_venta }),
            h("td", { text: p.perfil_mikrotik_nombre }), h("td", { text: money(p.precio, p.moneda) }), h("td", { text: planText(p) }),
            h("td", null, yesNo(p.activo)), h("td", null, yesNo(p.destacado)),
            h("td", null, h("button", { type: "button", class: "secondary", text: "Editar", "aria-label": "Editar " + p.nombre_venta, onclick: function () { productForm(formBox, p, refresh); } })));
        })));
      }).catch(function (e) { listBox.appendChild(errorBox(e)); });
    }
    refresh();
    return root;
  }
  function planText(p) {
    var parts = [];
    if (p.minutos_uso) parts.push(p.minutos_uso + " min de uso");
    if (p.vigencia_minutos) parts.push("vence " + p.vigencia_minutos + " min después de " + (p.vigencia_desde === "primer_login" ? "el primer acceso" : "la compra"));
    if (p.limite_mb) parts.push(p.limite_mb + " MB");
    return parts.length ? parts.join(", ") : "—";
  }
  function productForm(box, p, done) {
    box.hidden = false; box.textContent = "";
    var slot = h("div"), btn = h("button", { type: "submit", text: p ? "Guardar cambios" : "Crear producto" });
    var routerSel = select("router_id", [], "");
    var profileSel = select("perfil", [["", "Elija un router primero"]], "");
    var form = h("form", { class: "stack" },
      h("h2", { id: "h-prod-form", text: p ? "Editar " + p.nombre_venta : "Nuevo producto" }),
      p ? null : field("Router", routerSel),
      p ? h("p", { class: "muted", text: "Perfil: " + p.perfil_mikrotik_nombre }) : field("Perfil del router (leído en vivo)", profileSel),
      field("Nombre de venta", input("nombre_venta", { required: true, maxlength: 100, value: p ? p.nombre_venta : "" })),
      field("Descripción", input("descripcion", { maxlength: 500, value: p && p.descripcion || "" })),
      field("Precio", input("precio", { type: "number", step: "0.01", min: "0.01", required: true, value: p ? p.precio : "" })),
      field("Moneda", input("moneda", { maxlength: 3, value: p ? p.moneda : "MXN" })),
      field("Orden", input("orden_visual", { type: "number", step: "1", value: p ? p.orden_visual : 0 })),
      h("fieldset", null, h("legend", { text: "Vigencia y límites (vacío: sin límite)" }),
        field("Minutos de uso", input("minutos_uso", { type: "number", min: "1", step: "1", value: p && p.minutos_uso != null ? p.minutos_uso : "" })),
        field("Vigencia en minutos", input("vigencia_minutos", { type: "number", min: "1", step: "1", value: p && p.vigencia_minutos != null ? p.vigencia_minutos : "" })),
        field("La vigencia cuenta desde", select("vigencia_desde", [["compra", "la compra"], ["primer_login", "el primer acceso"]], p && p.vigencia_desde || "compra")),
        field("Límite de datos (MB)", input("limite_mb", { type: "number", min: "1", step: "1", value: p && p.limite_mb != null ? p.limite_mb : "" }))),
      h("label", { class: "check" }, input("activo", { type: "checkbox", checked: p ? p.activo : true }), "Activo"),
      h("label", { class: "check" }, input("destacado", { type: "checkbox", checked: p ? p.destacado : false }), "Destacado"),
      slot, h("div", { class: "row" }, btn, h("button", { type: "button", class: "secondary", text: "Cancelar", onclick: function () { box.hidden = true; } })));
    box.appendChild(form);
    function loadProfiles() {
      profileSel.textContent = "";
      profileSel.appendChild(h("option", { value: "", text: "Cargando perfiles…" }));
      slot.textContent = "";
      api("GET", "/api/v1/admin/routers/" + encodeURIComponent(routerSel.value) + "/mikrotik-profiles").then(function (ps) {
        profileSel.textContent = "";
        ps.forEach(function (x) { profileSel.appendChild(h("option", { value: x.id, "data-name": x.name, text: x.name + (x.rate_limit ? " (" + x.rate_limit + ")" : "") })); });
      }).catch(function (e) { profileSel.textContent = ""; slot.appendChild(errorBox(e)); });
    }
    if (!p) {
      api("GET", "/api/v1/admin/mi-empresa/routers").then(function (r) {
        r.routers.forEach(function (rt) { routerSel.appendChild(h("option", { value: rt.id, text: rt.nombre })); });
        if (r.routers.length) loadProfiles();
      }).catch(function (e) { slot.appendChild(errorBox(e)); });
      routerSel.addEventListener("change", loadProfiles);
    }
    form.addEventListener("submit", guard(btn, slot, function () {
      var body = {
        nombre_venta: form.nombre_venta.value, descripcion: form.descripcion.value || null,
        precio: form.precio.value, moneda: form.moneda.value || "MXN",
        orden_visual: parseInt(form.orden_visual.value || "0", 10),
        activo: form.activo.checked, destacado: form.destacado.checked,
      };
      ["minutos_uso", "vigencia_minutos", "limite_mb"].forEach(function (k) { body[k] = form[k].value ? parseInt(form[k].value, 10) : null; });
      if (body.vigencia_minutos) body.vigencia_desde = form.vigencia_desde.value;
      var call;
      if (p) call = api("PUT", "/api/v1/admin/products/" + p.id, body);
      else {
        var opt = profileSel.selectedOptions[0];
        body.router_id = routerSel.value;
        body.perfil_mikrotik_id = profileSel.value;
        body.perfil_mikrotik_nombre = opt ? opt.getAttribute("data-name") : "";
        call = api("POST", "/api/v1/admin/products", body);
      }
      return call.then(function () { box.hidden = true; toast(p ? "Producto actualizado" : "Producto creado"); done(); });
    }));
    (p ? form.nombre_venta : routerSel).focus();
  }

  var PAGE = 20;
  function transactionsView(params) {
    var root = h("div", null, title("Transacciones"));
    var q = new URLSearchParams(params || "");
    var offset = parseInt(q.get("offset") || "0", 10) || 0;
    var routerSel = select("router_id", [["", "Todos"]], q.get("router_id") || "");
    var form = h("form", { class: "row filters card", "aria-label": "Filtros" },
      field("Desde", input("desde", { type: "date", value: q.get("desde") || "" })),
      field("Hasta", input("hasta", { type: "date", value: q.get("hasta") || "" })),
      field("Estado", select("estado", [["", "Todos"], ["paid", "Pagada (Conekta)"], ["approved", "Aprobada (Mercado Pago)"], ["refunded", "Reembolsada"], ["partially_refunded", "Reembolsada en parte"], ["pending", "Pendiente"]], q.get("estado") || "")),
      field("Pasarela", select("gateway", [["", "Todas"], ["conekta", "Conekta"], ["mercado_pago", "Mercado Pago"]], q.get("gateway") || "")),
      field("Router", routerSel),
      h("button", { type: "submit", text: "Filtrar" }));
    var csv = h("button", { type: "button", class: "secondary", id: "csv", text: "Descargar CSV" });
    var slot = h("div"), listBox = h("div", { id: "lista" });
    root.appendChild(form); root.appendChild(h("div", { class: "row" }, csv)); root.appendChild(slot); root.appendChild(listBox);
    api("GET", "/api/v1/admin/mi-empresa/routers").then(function (r) {
      r.routers.forEach(function (rt) {
        var o = h("option", { value: rt.id, text: rt.nombre });
        if (rt.id === q.get("router_id")) o.selected = true;
        routerSel.appendChild(o);
      });
    }).catch(function () {});
    function filters() {
      var f = new URLSearchParams();
      ["desde", "hasta", "estado", "gateway", "router_id"].forEach(function (k) { if (form[k].value) f.set(k, form[k].value); });
      return f;
    }
    form.addEventListener("submit", function (ev) { ev.preventDefault(); location.hash = "#/transacciones?" + filters().toString(); });
    csv.addEventListener("click", guard(csv, slot, function () {
      var f = filters(); f.set("formato", "csv"); f.set("limit", "500");
      return api("GET", "/api/v1/admin/mi-empresa/transacciones?" + f.toString(), undefined, true).then(function (res) { return res.blob(); }).then(function (blob) {
        download(blob, "transacciones.csv");
      });
    }));
    var f = filters(); f.set("limit", String(PAGE)); f.set("offset", String(offset));
    api("GET", "/api/v1/admin/mi-empresa/transacciones?" + f.toString()).then(function (r) {
      listBox.appendChild(h("p", { class: "muted", id: "total", text: r.total + " transacciones" }));
      listBox.appendChild(table(["Fecha", "Cliente", "Monto", "Estado", "Pasarela", ""], r.transacciones.map(function (t) {
        return h("tr", { "data-tx": t.id }, h("td", { text: when(t.creada_en) }), h("td", { text: t.cliente_nombre || "—" }),
          h("td", { text: money(t.monto) }), h("td", { text: t.estado_pago }), h("td", { text: gatewayName(t.gateway) }),
          h("td", null, h("a", { href: "#/transacciones/" + t.id, text: "Detalle", "aria-label": "Detalle de la transacción " + t.id })));
      })));
      var pager = h("div", { class: "pager" });
      function go(o) { var g = filters(); g.set("offset", String(o)); location.hash = "#/transacciones?" + g.toString(); }
      if (offset > 0) pager.appendChild(h("button", { type: "button", class: "secondary", text: "Anterior", onclick: function () { go(Math.max(0, offset - PAGE)); } }));
      pager.appendChild(h("span", { text: "Página " + (Math.floor(offset / PAGE) + 1) + " de " + Math.max(1, Math.ceil(r.total / PAGE)) }));
      if (offset + PAGE < r.total) pager.appendChild(h("button", { type: "button", class: "secondary", id: "siguiente", text: "Siguiente", onclick: function () { go(offset + PAGE); } }));
      listBox.appendChild(pager);
    }).catch(function (e) { slot.appendChild(errorBox(e)); });
    return root;
  }

  function transactionView(id) {
    var root = h("div", null, title("Transacción " + id), h("p", null, h("a", { href: "#/transacciones", text: "← Volver a transacciones" })));
    api("GET", "/api/v1/admin/mi-empresa/transacciones/" + encodeURIComponent(id)).then(function (t) {
      var dl = h("dl", { class: "kv card", id: "detalle" });
      [["Referencia de la pasarela", t.transaccion_id], ["Pasarela", gatewayName(t.gateway)], ["Estado del pago", t.estado_pago],
       ["Estado del acceso", t.estado_hotspot], ["Monto", money(t.monto, t.moneda)],
       ["Reembolsado", t.monto_reembolsado != null ? money(t.monto_reembolsado, t.moneda) : "—"],
       ["Cliente", t.cliente_nombre], ["Correo", t.cliente_email], ["Teléfono", t.cliente_telefono],
       ["Usuario hotspot", t.usuario_hotspot], ["Router", t.router.nombre || t.router.id], ["Producto", t.producto.nombre_venta || t.producto.id],
       ["Compra", t.purchase_id], ["Creada", when(t.creada_en)], ["Pagada", when(t.pagada_en)]].forEach(function (kv) {
        dl.appendChild(h("dt", { text: kv[0] })); dl.appendChild(h("dd", { text: kv[1] == null || kv[1] === "" ? "—" : String(kv[1]) }));
      });
      root.appendChild(dl);
      var left = Number(t.monto) - Number(t.monto_reembolsado || 0);
      if (["paid", "approved", "partially_refunded"].indexOf(t.estado_pago) >= 0 && left > 0) root.appendChild(refundForm(t, left));
    }).catch(function (e) { root.appendChild(errorBox(e)); });
    return root;
  }
  function refundForm(t, left) {
    var slot = h("div"), btn = h("button", { type: "submit", class: "danger", text: "Reembolsar" });
    var key = (window.crypto && crypto.randomUUID) ? crypto.randomUUID() : String(Date.now()) + Math.random();
    var form = h("form", { class: "stack card", "aria-labelledby": "h-reembolso" },
      h("h2", { id: "h-reembolso", text: "Reembolso" }),
      h("p", { class: "muted", text: "Vacío: todo lo que queda (" + money(left, t.moneda) + "), lo que quita el acceso; un monto menor lo conserva." }),
      field("Monto", input("monto", { type: "number", step: "0.01", min: "0.01", max: String(left) })),
      field("Motivo", input("motivo", { maxlength: 200 })), slot, btn);
    form.addEventListener("submit", guard(btn, slot, function () {
      if (!confirm("¿Reembolsar " + (form.monto.value ? money(form.monto.value, t.moneda) : "todo") + "?")) return;
      var body = { motivo: form.motivo.value || null };
      if (form.monto.value) body.monto = Number(form.monto.value);
      return api("POST", "/api/v1/admin/mi-empresa/transacciones/" + t.id + "/reembolso", body, false, { "Idempotency-Key": key }).then(function (r) {
        toast(r.message || "Reembolso hecho"); route();
      });
    }));
    return form;
  }

  function companyView() {
    var root = h("div", null, title("Mi empresa"));
    var slot = h("div"), btn = h("button", { type: "submit", text: "Guardar" });
    var tgSlot = h("div"), tgBtn = h("button", { type: "button", class: "secondary", text: "Enviar mensaje de prueba" });
    api("GET", "/api/v1/admin/mi-empresa").then(function (e) {
      var form = h("form", { class: "stack card" },
        h("p", null, "Pasarelas: Conekta ", modeBadge(e.conekta_mode), " · Mercado Pago ", modeBadge(e.mercado_pago_mode)),
        field("Nombre", input("nombre", { required: true, maxlength: 100, value: e.nombre })),
        field("Correo de contacto", input("contacto_email", { type: "email", value: e.contacto_email || "" })),
        field("Teléfono de contacto", input("contacto_telefono", { maxlength: 20, value: e.contacto_telefono || "" })),
        field("Zona horaria (IANA)", input("zona_horaria", { value: e.zona_horaria || "America/Mexico_City", list: "zonas" })),
        h("datalist", { id: "zonas" }, ["America/Mexico_City", "America/Cancun", "America/Monterrey", "America/Tijuana", "America/Bogota", "America/Lima", "America/Santiago", "America/Argentina/Buenos_Aires", "UTC"].map(function (z) { return h("option", { value: z }); })),
        field("Chat de Telegram", input("telegram_chat_id", { maxlength: 50, value: e.telegram_chat_id || "" })),
        field("Token del bot de Telegram (solo escritura: " + (e.telegram_bot_token || "sin configurar") + ")", input("telegram_bot_token", { type: "password", autocomplete: "off", placeholder: "Dejar vacío para conservarlo" })),
        h("label", { class: "check" }, input("notificaciones_telegram", { type: "checkbox", checked: e.notificaciones_telegram }), "Notificar ventas por Telegram"),
        slot, h("div", { class: "row" }, btn, tgBtn), tgSlot);
      form.addEventListener("submit", guard(btn, slot, function () {
        var body = { nombre: form.nombre.value, contacto_email: form.contacto_email.value || null, contacto_telefono: form.contacto_telefono.value || null,
          zona_horaria: form.zona_horaria.value, telegram_chat_id: form.telegram_chat_id.value || null, notificaciones_telegram: form.notificaciones_telegram.checked };
        if (form.telegram_bot_token.value) body.telegram_bot_token = form.telegram_bot_token.value;
        return api("PUT", "/api/v1/admin/mi-empresa", body).then(function (r) { form.telegram_bot_token.value = ""; slot.appendChild(h("div", { class: "notice", role: "status", text: r.message })); });
      }));
      tgBtn.addEventListener("click", guard(tgBtn, tgSlot, function () {
        return api("POST", "/api/v1/admin/test-telegram", {}).then(function (r) { tgSlot.appendChild(h("div", { class: "notice", role: "status", text: r.message })); });
      }));
      root.appendChild(form);
    }).catch(function (e) { root.appendChild(errorBox(e)); });
    return root;
  }
  /* Gateway settings: secrets are write-only (shown masked, sent only when typed). */
  function gatewaysView() {
    var root = h("div", null, title("Pasarelas de pago"));
    var eid = session().user.empresa_id;
    function card(heading, id) { var c = h("section", { class: "card", "aria-labelledby": id, id: id + "-card" }, h("h2", { id: id, text: heading })); root.appendChild(c); return c; }
    var conekta = card("Conekta", "h-conekta"), mp = card("Mercado Pago", "h-mp"), hook = card("Webhooks", "h-webhooks");
    api("GET", "/api/v1/admin/mi-empresa/conekta").then(function (r) {
      var c = r.configuracion_actual, slot = h("div"), btn = h("button", { type: "submit", text: "Guardar Conekta" });
      var form = h("form", { class: "stack" },
        h("p", null, "Modo: ", modeBadge(c.conekta_mode), " · llave privada: " + (c.conekta_private_key || "sin configurar")),
        field("Llave privada (solo escritura)", input("conekta_private_key", { type: "password", autocomplete: "off", placeholder: "Dejar vacío para conservarla" })),
        field("Llave pública", input("conekta_public_key", { value: c.conekta_public_key || "" })),
        field("Modo", select("conekta_mode", [["test", "Prueba"], ["live", "Producción"]], c.conekta_mode)), slot, btn);
      form.addEventListener("submit", guard(btn, slot, function () {
        var body = { conekta_public_key: form.conekta_public_key.value, conekta_mode: form.conekta_mode.value };
        if (form.conekta_private_key.value) body.conekta_private_key = form.conekta_private_key.value;
        return api("PUT", "/api/v1/admin/mi-empresa/conekta-config", body).then(function () { toast("Conekta guardado"); route(); });
      }));
      conekta.appendChild(form);
      var keySlot = h("div"), keyBtn = h("button", { type: "submit", class: "secondary", text: "Guardar clave del webhook" });
      var keyForm = h("form", { class: "stack" },
        h("p", null, "Clave pública de los webhooks de Conekta: ", yesNo(c.conekta_webhook_key_configurada, "configurada", "sin configurar")),
        field("Clave pública (PEM)", h("textarea", { name: "public_key_pem", id: "f-public_key_pem", rows: 4 })), keySlot, keyBtn);
      keyForm.addEventListener("submit", guard(keyBtn, keySlot, function () {
        return api("PUT", "/api/v1/admin/mi-empresa/conekta-webhook-key", { public_key_pem: keyForm.public_key_pem.value || null }).then(function (x) {
          keySlot.appendChild(h("div", { class: "notice", role: "status", text: x.message }));
        });
      }));
      conekta.appendChild(keyForm);
    }).catch(function (e) { conekta.appendChild(errorBox(e)); });
    api("GET", "/api/v1/admin/mi-empresa/mercado-pago").then(function (r) {
      var c = r.configuracion_actual, slot = h("div"), btn = h("button", { type: "submit", text: "Guardar Mercado Pago" });
      var form = h("form", { class: "stack" },
        h("p", null, "Modo: ", modeBadge(c.mode), " · access token: " + (c.access_token || "sin configurar") + " · secreto del webhook: " + (c.webhook_secret || "sin configurar")),
        field("Access token (solo escritura)", input("access_token", { type: "password", autocomplete: "off", placeholder: "Dejar vacío para conservarlo" })),
        field("Llave pública", input("public_key", { value: c.public_key || "" })),
        field("Secreto del webhook (solo escritura)", input("webhook_secret", { type: "password", autocomplete: "off", placeholder: "Dejar vacío para conservarlo" })),
        field("Modo", select("mode", [["test", "Prueba"], ["live", "Producción"]], c.mode)), slot, btn);
      form.addEventListener("submit", guard(btn, slot, function () {
        var body = { public_key: form.public_key.value, mode: form.mode.value };
        if (form.access_token.value) body.access_token = form.access_token.value;
        if (form.webhook_secret.value) body.webhook_secret = form.webhook_secret.value;
        return api("POST", "/api/v1/admin/mi-empresa/configurar-credenciales", body).then(function (x) { toast(x.message || "Mercado Pago guardado"); route(); });
      }));
      mp.appendChild(form);
    }).catch(function (e) { mp.appendChild(errorBox(e)); });
    api("GET", "/api/v1/webhook/empresa/" + encodeURIComponent(eid) + "/estado-webhook").then(function (r) {
      var w = r.configuracion_webhook;
      hook.appendChild(h("p", null, "Mercado Pago: ", yesNo(r.estado === "configurado", "configurado", "pendiente")));
      hook.appendChild(h("p", null, "Configure en Mercado Pago la notificación ", h("strong", { text: w.metodo }), " a:"));
      hook.appendChild(h("p", { class: "secret", id: "webhook-url", text: w.url }));
      hook.appendChild(h("p", { class: "muted", text: "Firma en la cabecera " + w.header_firma + "; contenido " + w.tipo_contenido + "." }));
    }).catch(function (e) { hook.appendChild(errorBox(e)); });
    return root;
  }

  function modeBadge(m) { var live = m === "live" || m === "production"; return h("span", { class: "badge " + (live ? "ok" : "warn"), text: live ? "producción" : "prueba" }); }

  function auditView(path, empresaFilter) {
    var root = h("div", null, title("Auditoría"));
    api("GET", path).then(function (r) {
      root.appendChild(h("p", { class: "muted", text: r.total + " registros" }));
      root.appendChild(table(["Fecha", "Quién", "Acción", "Objeto", "Detalles"].concat(empresaFilter ? ["Empresa"] : []), r.registros.map(function (a) {
        return h("tr", null, h("td", { text: when(a.at) }), h("td", { text: (a.actor_email || "—") + " (" + (a.actor_role || "—") + ")" }),
          h("td", { text: a.action }), h("td", { text: (a.target_type || "") + " " + (a.target_id || "") }),
          h("td", { text: a.details ? JSON.stringify(a.details) : "" }), empresaFilter ? h("td", { text: a.empresa_id || "—" }) : null);
      })));
    }).catch(function (e) { root.appendChild(errorBox(e)); });
    return root;
  }

  // ------------------------------------------------------------------------------------------
  // Screens: operator

  function operatorDashboardView() {
    var root = h("div", null, title("Panel global"));
    var stats = h("div", { class: "grid", id: "global" });
    root.appendChild(stats);
    api("GET", "/admin/dashboard").then(function (d) {
      stats.appendChild(stat("Empresas", d.estadisticas.total_empresas));
      stats.appendChild(stat("Empresas activas", d.estadisticas.empresas_activas));
      stats.appendChild(stat("Usuarios", d.estadisticas.total_usuarios));
    }).catch(function (e) { root.appendChild(errorBox(e)); });
    api("GET", "/admin/routers/status").then(function (f) {
      stats.appendChild(stat("Routers", f.total));
      stats.appendChild(stat("Routers conectados", f.por_estado.connected || 0));
    }).catch(function (e) { root.appendChild(errorBox(e)); });
    return root;
  }

  function companiesView() {
    var root = h("div", null, title("Empresas"));
    var listBox = h("div"), slot = h("div"), btn = h("button", { type: "submit", text: "Crear empresa" });
    var form = h("form", { class: "stack card", "aria-labelledby": "h-nueva-empresa" },
      h("h2", { id: "h-nueva-empresa", text: "Nueva empresa" }),
      field("Nombre", input("nombre", { required: true, maxlength: 100 })),
      field("Correo de contacto", input("contacto_email", { type: "email", required: true })),
      field("Teléfono", input("contacto_telefono", { maxlength: 20 })), slot, btn);
    form.addEventListener("submit", guard(btn, slot, function () {
      return api("POST", "/admin/empresas", { nombre: form.nombre.value, contacto_email: form.contacto_email.value, contacto_telefono: form.contacto_telefono.value || null })
        .then(function () { form.reset(); toast("Empresa creada"); refresh(); });
    }));
    root.appendChild(listBox); root.appendChild(form);
    function refresh() {
      api("GET", "/admin/empresas").then(function (es) {
        listBox.textContent = "";
        listBox.appendChild(table(["Empresa", "Contacto", "Estado", ""], es.map(function (e) {
          var rowSlot = h("div");
          var toggle = h("button", { type: "button", class: e.activa ? "danger" : "secondary", text: e.activa ? "Desactivar" : "Activar", "aria-label": (e.activa ? "Desactivar " : "Activar ") + e.nombre });
          toggle.addEventListener("click", guard(toggle, rowSlot, function () {
            if (e.activa && !confirm("¿Desactivar " + e.nombre + "? Sus administradores y portales quedan bloqueados.")) return;
            return api("PUT", "/admin/empresas/" + encodeURIComponent(e.id), { activa: !e.activa }).then(function () { toast("Empresa actualizada"); refresh(); });
          }));
          return h("tr", { "data-empresa": e.id }, h("td", null, h("a", { href: "#/empresas/" + encodeURIComponent(e.id), text: e.nombre })),
            h("td", { text: e.contacto_email || "—" }), h("td", null, yesNo(e.activa, "activa", "inactiva")), h("td", null, toggle, rowSlot));
        })));
      }).catch(function (e) { listBox.appendChild(errorBox(e)); });
    }
    refresh();
    return root;
  }

  function companyRoutersView(empresaId) {
    var eid = encodeURIComponent(empresaId);
    var root = h("div", null, title("Empresa " + empresaId), h("p", null, h("a", { href: "#/empresas", text: "← Volver a empresas" })));
    var info = h("div"), listBox = h("div"), keyBox = h("div", { id: "clave" });
    root.appendChild(info); root.appendChild(keyBox); root.appendChild(h("h2", { text: "Routers" })); root.appendChild(listBox);
    api("GET", "/admin/empresas/" + eid).then(function (e) {
      info.appendChild(h("p", null, e.nombre + " · ", yesNo(e.activa, "activa", "inactiva"), " · zona horaria " + (e.zona_horaria || "—")));
      document.title = e.nombre + " · Consola";
    }).catch(function (e) { info.appendChild(errorBox(e)); });
    function showKey(label, key) {
      keyBox.textContent = "";
      var copy = h("button", { type: "button", class: "secondary", text: "Copiar" });
      copy.addEventListener("click", function () {
        (navigator.clipboard ? navigator.clipboard.writeText(key) : Promise.reject()).then(function () { toast("Copiada"); }, function () { toast("Seleccione el texto y cópielo"); });
      });
      keyBox.appendChild(h("div", { class: "card", role: "status" }, h("p", null, h("strong", { text: label }), " Se muestra una sola vez: guárdela ahora."),
        h("p", { class: "secret", id: "api-key", text: key }), copy));
    }
    function refresh() {
      api("GET", "/admin/empresas/" + eid + "/routers").then(function (rs) {
        listBox.textContent = "";
        rs.forEach(function (r) { listBox.appendChild(operatorRouterCard(eid, r, showKey, refresh)); });
        if (!rs.length) listBox.appendChild(h("p", { class: "muted", text: "Sin routers" }));
      }).catch(function (e) { listBox.appendChild(errorBox(e)); });
    }
    var slot = h("div"), btn = h("button", { type: "submit", text: "Crear router" });
    var form = h("form", { class: "stack card", "aria-labelledby": "h-nuevo-router" },
      h("h2", { id: "h-nuevo-router", text: "Nuevo router" }),
      field("Nombre", input("nombre", { required: true, maxlength: 100 })),
      field("Host", input("host", { required: true })),
      field("Puerto API", input("puerto", { type: "number", value: "8728" })),
      field("Usuario API", input("usuario", { required: true })),
      field("Contraseña API", input("password", { type: "password", autocomplete: "off", required: true })),
      field("Ubicación", input("ubicacion", {})), slot, btn);
    form.addEventListener("submit", guard(btn, slot, function () {
      return api("POST", "/admin/empresas/" + eid + "/routers", { nombre: form.nombre.value, host: form.host.value, puerto: parseInt(form.puerto.value || "8728", 10),
        usuario: form.usuario.value, password: form.password.value, ubicacion: form.ubicacion.value || null })
        .then(function (r) { form.reset(); showKey("API key del router " + r.nombre + ".", r.api_key); refresh(); });
    }));
    root.appendChild(form);
    refresh();
    return root;
  }
  function operatorRouterCard(eid, r, showKey, refresh) {
    var rid = encodeURIComponent(r.id), base = "/admin/empresas/" + eid + "/routers/" + rid;
    var slot = h("div"), keys = h("div");
    var regen = h("button", { type: "button", text: "Regenerar API key" });
    var toggle = h("button", { type: "button", class: "secondary", text: r.activo ? "Desactivar" : "Activar" });
    var card = h("section", { class: "card", "data-router": r.id, "aria-label": r.nombre },
      h("h3", { text: r.nombre + " " }, yesNo(r.activo, "activo", "inactivo")),
      h("p", { class: "muted", text: r.host + ":" + r.puerto + (r.ubicacion ? " · " + r.ubicacion : "") }),
      h("div", { class: "row" }, regen, toggle), slot, keys);
    regen.addEventListener("click", guard(regen, slot, function () {
      if (!confirm("¿Regenerar la API key? La actual deja de funcionar.")) return;
      return api("POST", base + "/regenerate-api-key").then(function (k) { showKey("Nueva API key de " + r.nombre + ".", k.new_api_key); loadKeys(); });
    }));
    toggle.addEventListener("click", guard(toggle, slot, function () {
      return api("PUT", base + "/toggle-activo").then(function (x) { toast(x.message); refresh(); });
    }));
    function loadKeys() {
      api("GET", base + "/api-keys").then(function (ks) {
        keys.textContent = "";
        keys.appendChild(table(["Clave", "Emitida", "Vence", "Usos", "Estado", ""], ks.map(function (k) {
          var b = k.revoked ? null : h("button", { type: "button", class: "danger", text: "Revocar", "aria-label": "Revocar " + k.key_id });
          if (b) b.addEventListener("click", guard(b, slot, function () {
            return api("POST", base + "/api-keys/" + encodeURIComponent(k.key_id) + "/revoke").then(function () { toast("Clave revocada"); loadKeys(); });
          }));
          return h("tr", { "data-key": k.key_id }, h("td", { text: k.key_id }), h("td", { text: when(k.issued_at) }), h("td", { text: when(k.expires_at) }),
            h("td", { text: k.use_count }), h("td", null, yesNo(!k.revoked, "activa", "revocada")), h("td", null, b));
        })));
      }).catch(function (e) { keys.appendChild(errorBox(e)); });
    }
    loadKeys();
    return card;
  }

  function usersView() {
    var root = h("div", null, title("Usuarios"));
    var listBox = h("div"), slot = h("div"), btn = h("button", { type: "submit", text: "Crear usuario" });
    var empresaSel = select("empresa_id", [["", "— (operador)"]], "");
    var form = h("form", { class: "stack card", "aria-labelledby": "h-nuevo-usuario" },
      h("h2", { id: "h-nuevo-usuario", text: "Nuevo usuario" }),
      field("Nombre", input("nombre", { required: true })),
      field("Correo", input("email", { type: "email", required: true, autocomplete: "off" })),
      field("Contraseña", input("password", { type: "password", required: true, autocomplete: "new-password" })),
      field("Rol", select("rol", [["cliente_admin", "Administrador de empresa"], ["super_admin", "Operador"]], "cliente_admin")),
      field("Empresa", empresaSel), slot, btn);
    api("GET", "/admin/empresas").then(function (es) { es.forEach(function (e) { empresaSel.appendChild(h("option", { value: e.id, text: e.nombre })); }); }).catch(function () {});
    form.addEventListener("submit", guard(btn, slot, function () {
      return api("POST", "/admin/usuarios", { nombre: form.nombre.value, email: form.email.value, password: form.password.value, rol: form.rol.value, empresa_id: form.empresa_id.value || null })
        .then(function () { form.reset(); toast("Usuario creado"); refresh(); });
    }));
    function refresh() {
      api("GET", "/admin/usuarios").then(function (us) {
        listBox.textContent = "";
        listBox.appendChild(table(["Nombre", "Correo", "Rol", "Empresa", "Último acceso", "Estado", ""], us.map(function (u) {
          var rowSlot = h("div"), b = h("button", { type: "button", class: "secondary", text: u.activo ? "Desactivar" : "Activar" });
          b.addEventListener("click", guard(b, rowSlot, function () { return api("PUT", "/admin/usuarios/" + u.id + "/toggle-activo").then(function () { refresh(); }); }));
          return h("tr", null, h("td", { text: u.nombre }), h("td", { text: u.email }), h("td", { text: u.rol }), h("td", { text: u.empresa_id || "—" }),
            h("td", { text: when(u.ultimo_login) }), h("td", null, yesNo(u.activo, "activo", "inactivo")), h("td", null, b, rowSlot));
        })));
      }).catch(function (e) { listBox.appendChild(errorBox(e)); });
    }
    root.appendChild(listBox); root.appendChild(form);
    refresh();
    return root;
  }

  function fleetView(params) {
    var root = h("div", null, title("Flota"));
    var q = new URLSearchParams(params || "");
    var filter = select("estado", [["", "Todos"], ["connected", "Conectados"], ["backing_off", "Sin conexión"], ["auth_failed", "Credenciales rechazadas"], ["connecting", "Conectando"], ["idle", "En reposo"], ["disabled", "Desactivados"]], q.get("estado") || "");
    filter.addEventListener("change", function () { location.hash = "#/flota" + (filter.value ? "?estado=" + filter.value : ""); });
    root.appendChild(h("div", { class: "row filters card" }, field("Estado", filter)));
    api("GET", "/admin/routers/status").then(function (f) {
      var rs = f.routers.filter(function (r) { return !filter.value || r.state === filter.value; });
      root.appendChild(h("p", { class: "muted", text: rs.length + " de " + f.total + " routers" }));
      root.appendChild(table(["Router", "Empresa", "Estado", "Uptime", "Versión", "Latencia", "Último error"], rs.map(function (r) {
        return h("tr", { "data-router": r.router_id }, h("td", { text: r.nombre }), h("td", null, h("a", { href: "#/empresas/" + encodeURIComponent(r.empresa_id), text: r.empresa_id })),
          h("td", null, stateBadge(r.state)), h("td", { text: r.router_uptime || "—" }), h("td", { text: r.router_version || "—" }),
          h("td", { text: r.avg_command_ms != null ? r.avg_command_ms.toFixed(1) + " ms" : "—" }), h("td", { text: r.last_error || "—" }));
      })));
    }).catch(function (e) { root.appendChild(errorBox(e)); });
    return root;
  }

  // ------------------------------------------------------------------------------------------
  // Router

  var ADMIN_MENU = [["#/panel", "Panel"], ["#/routers", "Routers"], ["#/productos", "Productos"], ["#/transacciones", "Transacciones"],
    ["#/pasarelas", "Pasarelas"], ["#/empresa", "Mi empresa"], ["#/auditoria", "Auditoría"], ["#/contrasena", "Contraseña"]];
  var OPERATOR_MENU = [["#/operador", "Panel global"], ["#/empresas", "Empresas"], ["#/usuarios", "Usuarios"], ["#/flota", "Flota"],
    ["#/auditoria-global", "Auditoría"], ["#/contrasena", "Contraseña"]];

  function route() {
    var hash = location.hash || "#/";
    var qi = hash.indexOf("?");
    var path = qi < 0 ? hash : hash.slice(0, qi), params = qi < 0 ? "" : hash.slice(qi + 1);
    var s = session();
    charts.forEach(function (c) { c.destroy(); }); charts = [];
    main.textContent = "";
    var top = document.getElementById("top");
    if (!s.token || path === "#/entrar") {
      if (s.token && path === "#/entrar") { location.hash = "#/"; return; }
      top.hidden = true; nav.hidden = true;
      main.appendChild(loginView());
      var em = document.getElementById("f-email"); if (em) em.focus();
      return;
    }
    var op = s.user && s.user.rol === "super_admin";
    top.hidden = false; nav.hidden = false;
    document.getElementById("who").textContent = (s.user ? s.user.email : "") + (op ? " · operador" : " · administrador");
    var menu = op ? OPERATOR_MENU : ADMIN_MENU;
    nav.textContent = "";
    menu.forEach(function (m) {
      var a = h("a", { href: m[0], text: m[1] });
      if (path === m[0] || path.indexOf(m[0] + "/") === 0) a.setAttribute("aria-current", "page");
      nav.appendChild(a);
    });
    var view, m;
    if (path === "#/contrasena") view = passwordView();
    else if (op) {
      if (path === "#/empresas") view = companiesView();
      else if ((m = path.match(/^#\/empresas\/(.+)$/))) view = companyRoutersView(decodeURIComponent(m[1]));
      else if (path === "#/usuarios") view = usersView();
      else if (path === "#/flota") view = fleetView(params);
      else if (path === "#/auditoria-global") view = auditView("/admin/auditoria?limit=100", true);
      else view = operatorDashboardView();
    } else {
      if (path === "#/routers") view = routersView();
      else if (path === "#/productos") view = productsView();
      else if ((m = path.match(/^#\/transacciones\/(\d+)$/))) view = transactionView(m[1]);
      else if (path === "#/transacciones") view = transactionsView(params);
      else if (path === "#/empresa") view = companyView();
      else if (path === "#/pasarelas") view = gatewaysView();
      else if (path === "#/auditoria") view = auditView("/api/v1/admin/mi-empresa/auditoria?limit=100", false);
      else view = dashboardView();
    }
    add(main, view);
    nav.classList.remove("open");
    document.getElementById("menu-btn").setAttribute("aria-expanded", "false");
    main.focus();
  }

  document.getElementById("logout").addEventListener("click", function () {
    var done = function () { sessionStorage.removeItem(TOKEN); sessionStorage.removeItem(USER); location.hash = "#/entrar"; };
    api("POST", "/api/v1/auth/logout").then(done, done);
  });
  document.getElementById("menu-btn").addEventListener("click", function () {
    var open = nav.classList.toggle("open");
    this.setAttribute("aria-expanded", String(open));
  });
  window.addEventListener("hashchange", route);
  route();
})();
