/* Sandbox stand-in for Mercado Pago's JS SDK v2 (https://sdk.mercadopago.com/js/v2), served by
 * `pagos-hotspot sandbox-gateways` at /sdk/mercadopago/v2.js. Same API (Core Methods, all
 * returning Promises): new MercadoPago(publicKey, {locale}), getIdentificationTypes(),
 * getPaymentMethods({bin}), getIssuers({paymentMethodId, bin}), getInstallments({amount, bin}),
 * createCardToken({cardNumber, cardholderName, cardExpirationMonth, cardExpirationYear,
 * securityCode, identificationType, identificationNumber}). Calls this script's origin.
 * The cardholder name chooses the sandbox outcome (APRO, OTHE, FUND, CONT, …). ES5. */
(function () {
  "use strict";
  var script = document.currentScript ||
    (function () { var s = document.getElementsByTagName("script"); return s[s.length - 1]; })();
  var base = String(script && script.src || "").replace(/\/sdk\/mercadopago\/v2\.js(\?.*)?$/, "");

  function request(method, path, body) {
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      xhr.open(method, base + path, true);
      if (body !== undefined) { xhr.setRequestHeader("Content-Type", "application/json"); }
      xhr.onreadystatechange = function () {
        if (xhr.readyState !== 4) { return; }
        var data = null;
        try { data = JSON.parse(xhr.responseText); } catch (e) { data = null; }
        if (xhr.status >= 200 && xhr.status < 300) {
          resolve(data);
        } else {
          var cause = data && Array.isArray(data.cause) ? data.cause : [];
          reject({ status: xhr.status, message: data && data.message || "request failed",
            cause: cause.map(function (c) { return { code: String(c.code), description: c.description }; }) });
        }
      };
      xhr.send(body === undefined ? null : JSON.stringify(body));
    });
  }

  function MercadoPago(publicKey, options) {
    if (!(this instanceof MercadoPago)) { throw new Error("MercadoPago must be called with new"); }
    if (!publicKey) { throw new Error("MercadoPago: a public key is required"); }
    this.publicKey = publicKey;
    this.options = options || {};
  }
  function q(pk, extra) {
    var s = "public_key=" + encodeURIComponent(pk);
    for (var k in extra) {
      if (Object.prototype.hasOwnProperty.call(extra, k) && extra[k] != null) {
        s += "&" + k + "=" + encodeURIComponent(extra[k]);
      }
    }
    return s;
  }
  MercadoPago.prototype.getIdentificationTypes = function () {
    return request("GET", "/v1/identification_types?" + q(this.publicKey, {}));
  };
  MercadoPago.prototype.getPaymentMethods = function (o) {
    return request("GET", "/v1/payment_methods/search?" +
      q(this.publicKey, { bins: o && o.bin, processing_mode: o && o.processingMode }));
  };
  MercadoPago.prototype.getIssuers = function (o) {
    return request("GET", "/v1/payment_methods/card_issuers?" +
      q(this.publicKey, { payment_method_id: o && o.paymentMethodId, bin: o && o.bin }));
  };
  MercadoPago.prototype.getInstallments = function (o) {
    return request("GET", "/v1/payment_methods/installments?" +
      q(this.publicKey, { amount: o && o.amount, bin: o && o.bin, payment_type_id: o && o.paymentTypeId }));
  };
  MercadoPago.prototype.createCardToken = function (o) {
    o = o || {};
    if (!o.securityCode) {
      return Promise.reject({ message: "securityCode is required", cause: [{ code: "E302", description: "securityCode" }] });
    }
    var identification = o.identificationType ?
      { type: o.identificationType, number: o.identificationNumber } : undefined;
    return request("POST", "/v1/card_tokens?" + q(this.publicKey, {}), {
      card_number: String(o.cardNumber || "").replace(/[\s-]/g, ""),
      security_code: String(o.securityCode),
      expiration_month: parseInt(o.cardExpirationMonth, 10),
      expiration_year: parseInt(o.cardExpirationYear, 10),
      cardholder: { name: o.cardholderName, identification: identification }
    });
  };
  window.MercadoPago = MercadoPago;
})();
