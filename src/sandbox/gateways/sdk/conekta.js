/* Sandbox stand-in for Conekta.js (https://cdn.conekta.io/js/latest/conekta.js), served by
 * `pagos-hotspot sandbox-gateways` at /sdk/conekta.js. Same API: Conekta.setPublicKey(key),
 * Conekta.Token.create({card: {number, name, exp_month, exp_year, cvc}} | form, success, error),
 * Conekta.card.validateNumber / validateExpirationDate / validateCVC / getBrand.
 * Tokens are made by POST <this script's origin>/tokens. ES5, no dependencies. */
(function () {
  "use strict";
  var script = document.currentScript ||
    (function () { var s = document.getElementsByTagName("script"); return s[s.length - 1]; })();
  var base = String(script && script.src || "").replace(/\/sdk\/conekta\.js(\?.*)?$/, "");
  var publicKey = script && script.getAttribute("data-conekta-public-key") || null;
  var language = "es";

  function digits(n) { return String(n == null ? "" : n).replace(/[\s-]/g, ""); }
  function luhn(n) {
    var sum = 0;
    for (var i = 0; i < n.length; i++) {
      var d = n.charCodeAt(n.length - 1 - i) - 48;
      if (i % 2 === 1) { d *= 2; if (d > 9) { d -= 9; } }
      sum += d;
    }
    return sum % 10 === 0;
  }
  var card = {
    validateNumber: function (n) {
      n = digits(n);
      return /^\d{13,19}$/.test(n) && luhn(n);
    },
    validateExpirationDate: function (month, year) {
      var m = parseInt(month, 10), y = parseInt(year, 10);
      if (!(m >= 1 && m <= 12) || !(y >= 0)) { return false; }
      if (y < 100) { y += 2000; }
      var now = new Date();
      return y > now.getFullYear() || (y === now.getFullYear() && m >= now.getMonth() + 1);
    },
    validateCVC: function (cvc) { return /^\d{3,4}$/.test(String(cvc == null ? "" : cvc).trim()); },
    getBrand: function (n) {
      n = digits(n);
      if (/^3[47]/.test(n)) { return "amex"; }
      if (/^(5[1-5]|2[2-7])/.test(n)) { return "mastercard"; }
      if (/^4/.test(n)) { return "visa"; }
      return null;
    }
  };

  /* {card: {...}} as given, or read from a form's data-conekta="card[field]" inputs. */
  function tokenParams(params) {
    var form = params && params.jquery ? params[0] : params;
    if (form && form.nodeType === 1) {
      var c = {};
      var inputs = form.querySelectorAll("[data-conekta]");
      for (var i = 0; i < inputs.length; i++) {
        var m = /^card\[(\w+)\]$/.exec(inputs[i].getAttribute("data-conekta"));
        if (m) { c[m[1]] = inputs[i].value; }
      }
      return { card: c };
    }
    return params || {};
  }

  function clientError(param, message, toPurchaser) {
    return { object: "error", type: "invalid_request_error", message: message,
      message_to_purchaser: toPurchaser, param: param, code: "invalid_request" };
  }

  function create(params, success, failure) {
    success = success || function () {};
    failure = failure || function () {};
    if (!publicKey) {
      failure(clientError(null, "Public key is required.", "Falta la llave pública de Conekta."));
      return;
    }
    var body = tokenParams(params);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", base + "/tokens", true);
    xhr.setRequestHeader("Content-Type", "application/json");
    xhr.setRequestHeader("Accept", "application/vnd.conekta-v0.3.0+json");
    xhr.setRequestHeader("Accept-Language", language);
    xhr.setRequestHeader("Authorization", "Basic " + window.btoa(publicKey + ":"));
    xhr.onreadystatechange = function () {
      if (xhr.readyState !== 4) { return; }
      var data = null;
      try { data = JSON.parse(xhr.responseText); } catch (e) { data = null; }
      if (xhr.status >= 200 && xhr.status < 300 && data && data.id) {
        success(data);
      } else if (data && data.object === "error") {
        failure(data);
      } else {
        failure({ object: "error", type: "api_error", message: "Unable to connect to Conekta.",
          message_to_purchaser: "No se pudo conectar con Conekta.", param: null, code: "conekta.errors.api.connection" });
      }
    };
    xhr.send(JSON.stringify({ card: body.card || {} }));
  }

  window.Conekta = {
    setPublicKey: function (key) { publicKey = key; },
    setPublishableKey: function (key) { publicKey = key; },
    getPublicKey: function () { return publicKey; },
    getPublishableKey: function () { return publicKey; },
    setLanguage: function (lang) { language = lang; },
    getLanguage: function () { return language; },
    card: card,
    Token: { create: create }
  };
})();
