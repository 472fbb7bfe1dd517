// Drives the demo's captive portal (/portal/), the same portal unpacked from portal.zip and
// served by a plain static server, and the API docs (/docs), in Debian's headless Chromium
// through playwright-core (no browser download).
//
//   node tests/browser/portal.mjs DEMO_URL SANDBOX_URL UNZIPPED_DIR SHOTS_DIR
//
// Card numbers are typed into the form; the sandbox's stand-ins for Conekta.js and Mercado
// Pago's SDK v2 tokenise them. Exits non-zero on the first failed check; prints one JSON summary
// line on success. Screenshots go to SHOTS_DIR.
import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import { chromium } from "playwright-core";

const [base, sandbox, unzipped, shots] = process.argv.slice(2);
if (!base || !sandbox || !unzipped || !shots) {
  console.error("usage: node portal.mjs DEMO_URL SANDBOX_URL UNZIPPED_DIR SHOTS_DIR");
  process.exit(2);
}
const executablePath = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const timeout = 30_000;
const CARD_DIGITS = ["4242424242424242", "4000000000000002", "4000000000000127", "5474925432670366"];

function check(cond, message) {
  if (!cond) {
    throw new Error(message);
  }
}

/** A plain static file server for the unpacked zip (what a router's hotspot/ folder is). */
function serveStatic(dir) {
  const types = { ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css" };
  const server = http.createServer((req, res) => {
    const name = path.basename(new URL(req.url, "http://x").pathname) || "login.html";
    const file = path.join(dir, name);
    if (!fs.existsSync(file)) {
      res.writeHead(404).end("not found");
      return;
    }
    res.writeHead(200, { "Content-Type": types[path.extname(file)] || "application/octet-stream" });
    res.end(fs.readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const staticServer = await serveStatic(unzipped);
const staticBase = `http://127.0.0.1:${staticServer.address().port}`;

const summary = {};
const foreign = [];
const apiBodies = [];
const pageErrors = [];

function watch(page) {
  page.on("request", (req) => {
    const url = req.url();
    if (![base, sandbox, staticBase, "data:"].some((o) => url.startsWith(o))) {
      foreign.push(url);
    }
    if (url.startsWith(`${base}/api/`)) {
      apiBodies.push(req.postData() || "");
    }
  });
  page.on("pageerror", (err) => pageErrors.push(String(err)));
}

async function openPortal(page, url) {
  await page.goto(url);
  await page.waitForSelector("body[data-ready=true]", { timeout });
}

async function fillCustomer(page, { plan, name, email, tipo }) {
  await page.locator(".plan", { hasText: plan }).locator("input").check();
  await page.fill("#nombre", name);
  await page.fill("#email", email);
  await page.selectOption("#tipo", tipo);
}

async function fillCard(page, { gateway, number, exp, cvc, holder }) {
  if (await page.isVisible("#gateways")) {
    await page.check(`input[name=gateway][value=${gateway}]`);
  }
  await page.fill("#cc-number", "");
  await page.type("#cc-number", number);
  await page.fill("#cc-exp", exp);
  await page.fill("#cc-csc", cvc);
  await page.fill("#cc-name", holder);
}

async function submitAndWait(page) {
  await page.click("#pay");
  await page.waitForFunction(
    () => !document.getElementById("result").hidden || !document.getElementById("error").hidden,
    null,
    { timeout },
  );
  return (await page.isVisible("#error")) ? (await page.textContent("#error")).trim() : null;
}

async function buy(page, customer, cardData) {
  await fillCustomer(page, customer);
  await fillCard(page, cardData);
  return submitAndWait(page);
}

async function credentials(page) {
  return {
    usuario: (await page.textContent("#usuario")).trim(),
    contrasena: (await page.textContent("#contrasena")).trim(),
    label: (await page.textContent("#usuario-label")).trim(),
    mensaje: (await page.textContent("#mensaje")).trim(),
  };
}

const visa = { gateway: "conekta", number: "4242 4242 4242 4242", exp: "12/30", cvc: "123", holder: "Ana Lopez" };
const mpCard = (holder) => ({ gateway: "mercadopago", number: "5474 9254 3267 0366", exp: "11/30", cvc: "123", holder });

async function inlineValidation(page) {
  await page.type("#cc-number", "4242424242424241");
  check((await page.textContent("#cc-brand")).trim() === "Visa", "brand from the number");
  check((await page.inputValue("#cc-number")) === "4242 4242 4242 4241", "number grouped by four");
  await page.fill("#cc-exp", "01/20");
  await page.fill("#cc-csc", "12");
  await page.click("#cc-name");
  await page.click("#nombre");
  const numberError = (await page.textContent("#cc-number-error")).trim();
  const expError = (await page.textContent("#cc-exp-error")).trim();
  const cvcError = (await page.textContent("#cc-csc-error")).trim();
  check(/número/.test(numberError), `Luhn error shown: ${numberError}`);
  check(/vencida/.test(expError), `expiry error shown: ${expError}`);
  check(/3 dígitos/.test(cvcError), `CVC error shown: ${cvcError}`);
  const hints = await page.$$eval("#card-fields input[autocomplete]", (els) => els.map((e) => e.getAttribute("autocomplete")));
  for (const h of ["cc-number", "cc-exp", "cc-csc", "cc-name"]) {
    check(hints.includes(h), `autocomplete=${h} present: ${hints}`);
  }
  return { numberError, expError, cvcError };
}

async function conektaCards(page, portal) {
  const out = {};
  const customer = { plan: "1 hora", name: "Ana Lopez", email: "ana@example.com", tipo: "usuario_contrasena" };
  for (const [label, number, pattern] of [
    ["declined", "4000 0000 0000 0002", /declinada/i],
    ["insufficient", "4000 0000 0000 0127", /fondos/i],
  ]) {
    await openPortal(page, portal);
    const err = await buy(page, customer, { ...visa, number });
    check(err && pattern.test(err), `Conekta ${label}: ${err}`);
    check(!(await page.isVisible("#result")), `Conekta ${label}: no credentials`);
    out[label] = err;
  }
  await openPortal(page, portal);
  await fillCustomer(page, customer);
  await fillCard(page, visa);
  await page.screenshot({ path: path.join(shots, "portal-form.png"), fullPage: true });
  const err = await submitAndWait(page);
  check(err === null, `Conekta approved: ${err}`);
  const c = await credentials(page);
  check(c.usuario && c.contrasena, "user and password shown");
  check(/Conexión establecida/.test(c.mensaje), `auto-connect message: ${c.mensaje}`);
  check(await page.isVisible("#mac-note"), "a randomised MAC is explained");
  await page.screenshot({ path: path.join(shots, "portal-approved.png"), fullPage: true });
  out.approved = c;
  return out;
}

async function mercadoPagoCards(page, portal) {
  const out = {};
  const customer = { plan: "1 día", name: "Luis Demo", email: "luis@example.com", tipo: "pin" };
  for (const [label, holder, pattern] of [["rejected", "OTHE", /rechaz|no fue aprobado|no se pudo/i], ["insufficient", "FUND", /fondos|insuficiente/i]]) {
    await openPortal(page, portal);
    const err = await buy(page, customer, mpCard(holder));
    check(err && pattern.test(err), `Mercado Pago ${label}: ${err}`);
    out[label] = err;
  }
  await openPortal(page, portal);
  const err = await buy(page, customer, mpCard("APRO"));
  check(err === null, `Mercado Pago approved: ${err}`);
  const c = await credentials(page);
  check(c.label === "PIN", "a PIN purchase says PIN");
  check(/^\S+$/.test(c.usuario), `PIN shown: ${c.usuario}`);
  check(!(await page.isVisible("#contrasena")), "no password for a PIN");
  const size = await page.$eval("#usuario", (e) => parseFloat(getComputedStyle(e).fontSize));
  check(size >= 30, `the PIN is large: ${size}px`);
  await page.screenshot({ path: path.join(shots, "portal-pin.png"), fullPage: true });
  out.approved = c;
  return out;
}

/** CONT: the payment stays pending until the bank approves it; the portal polls estado-pago. */
async function mercadoPagoPending(page, portal) {
  await openPortal(page, portal);
  const err = await buy(page, { plan: "1 hora", name: "Eva Pend", email: "eva@example.com", tipo: "usuario_contrasena" }, mpCard("CONT"));
  check(err === null, `pending purchase: ${err}`);
  check(await page.isVisible("#pending"), "a pending payment says so");
  const paymentId = (await page.textContent("#transaccion")).trim();
  const res = await fetch(`${sandbox}/__sandbox/approve-pending/${paymentId}`, { method: "POST" });
  check(res.ok, `the sandbox approved ${paymentId}: ${res.status}`);
  await page.waitForFunction(() => document.getElementById("pending").hidden, null, { timeout });
  const title = (await page.textContent("#result-title")).trim();
  check(title === "¡Pago aprobado!", `after approval: ${title}`);
  return { paymentId, title };
}

/** The router's own login page ($(link-login-only)) logs the device in after payment. */
async function routerLogin(page) {
  const login = `${base}/hotspot/login?ip=10.5.50.11`;
  const portal = `${base}/portal/?mac=AA:BB:CC:DD:EE:01&ip=10.5.50.11&dst=${encodeURIComponent("http://example.com/")}` +
    `&link-login-only=${encodeURIComponent(login)}`;
  await openPortal(page, portal);
  const err = await buy(page, { plan: "1 semana", name: "Rosa Login", email: "rosa@example.com", tipo: "usuario_contrasena" }, visa);
  check(err === null, `purchase before the router login: ${err}`);
  const c = await credentials(page);
  check(await page.isVisible("#login"), "the router login form is offered");
  await page.screenshot({ path: path.join(shots, "portal-router-login.png"), fullPage: true });
  await Promise.all([page.waitForURL(`${base}/hotspot/login**`, { timeout }), page.click("#connect")]);
  const title = (await page.textContent("#title")).trim();
  check(title === "Sesión iniciada", `router login page: ${title} ${await page.content()}`);
  const user = (await page.textContent("#user")).trim();
  const mac = (await page.textContent("#mac")).trim();
  const session = (await page.textContent("#session")).trim();
  check(user === c.usuario, `the session is the bought user's: ${user} vs ${c.usuario}`);
  check(mac === "AA:BB:CC:DD:EE:01", `the session's MAC: ${mac}`);
  check(/^\*[0-9A-F]+$/.test(session), `an active session id: ${session}`);
  check((await page.getAttribute("#dst", "href")) === "http://example.com/", "dst carried through");
  return { user, session };
}

/** A returning customer: wrong credentials get the API's answer; after the router refused a
 * login ($(error)), the PIN typed into "¿Ya compraste?" goes through the router's form. */
async function returningCustomer(page, pin) {
  await openPortal(page, `${base}/portal/?mac=AA:BB:CC:DD:EE:03&ip=10.5.50.13`);
  check(!(await page.isVisible("#router-error")), "no router error without $(error)");
  await page.click("#returning summary");
  await page.fill("#re-user", "PT-00000000");
  await page.fill("#re-pass", "nope");
  await page.click("#re-connect");
  await page.waitForFunction(() => /incorrectas|no encontrado/i.test(document.getElementById("re-status").textContent), null, { timeout });
  const refused = (await page.textContent("#re-status")).trim();

  const login = `${base}/hotspot/login?ip=10.5.50.13`;
  await openPortal(page, `${base}/portal/?mac=AA:BB:CC:DD:EE:03&ip=10.5.50.13` +
    `&link-login-only=${encodeURIComponent(login)}&error=${encodeURIComponent("invalid username or password")}`);
  const routerError = (await page.textContent("#router-error")).trim();
  check(/invalid username or password/.test(routerError), `router error shown: ${routerError}`);
  check(await page.$eval("#returning", (d) => d.open), "the returning form is open after a router error");
  await page.fill("#re-user", pin);
  await Promise.all([page.waitForURL(`${base}/hotspot/login**`, { timeout }), page.click("#re-connect")]);
  const title = (await page.textContent("#title")).trim();
  check(title === "Sesión iniciada", `PIN login through the router: ${title} ${await page.content()}`);
  const user = (await page.textContent("#user")).trim();
  check(user === pin, `the PIN's session: ${user}`);
  return { refused, routerError, user };
}

/** The unpacked portal.zip on a plain static server, only the API base and key set, buys a plan. */
async function unzippedPortal(page) {
  const portal = `${staticBase}/login.html?mac=AA:BB:CC:DD:EE:02&ip=10.5.50.12`;
  await openPortal(page, portal);
  const err = await buy(page, { plan: "1 hora", name: "Zip Portal", email: "zip@example.com", tipo: "usuario_contrasena" }, visa);
  check(err === null, `purchase from the unzipped portal: ${err}`);
  const c = await credentials(page);
  check(c.usuario && c.contrasena, "credentials from the unzipped portal");
  await page.screenshot({ path: path.join(shots, "portal-zip.png"), fullPage: true });
  return { origin: staticBase, usuario: c.usuario };
}

async function docs(page) {
  await page.goto(`${base}/docs`);
  await page.locator(".opblock").first().waitFor({ timeout });
  const ops = await page.locator(".opblock").count();
  const paths = await page.locator(".opblock-summary-path").allTextContents();
  check(ops >= 50, `operations rendered: ${ops}`);
  for (const p of ["/api/v1/payments/pagar-conekta", "/portal.zip", "/setup.rsc", "/setup-check"]) {
    check(paths.some((x) => x.replace(/\u200b/g, "").includes(p)), `${p} is documented`);
  }
  return ops;
}

try {
  const context = await browser.newContext({ viewport: { width: 420, height: 900 } });
  const page = await context.newPage();
  watch(page);
  const portal = `${base}/portal/?mac=AA:BB:CC:DD:EE:02&ip=10.5.50.12`;

  await openPortal(page, portal);
  summary.plans = await page.locator(".plan .name").allTextContents();
  check(JSON.stringify(summary.plans) === JSON.stringify(["1 hora", "1 día", "1 semana"]), `plans: ${summary.plans}`);
  check((await page.textContent("#empresa")) === "WiFi Demo", "company name");
  check(await page.isVisible("#gateways"), "both gateways offered");
  summary.validation = await inlineValidation(page);
  summary.conekta = await conektaCards(page, portal);
  summary.mercado_pago = await mercadoPagoCards(page, portal);
  summary.pending = await mercadoPagoPending(page, portal);
  summary.router_login = await routerLogin(page);
  summary.returning = await returningCustomer(page, summary.mercado_pago.approved.usuario);
  summary.zip = await unzippedPortal(page);
  summary.docs_operations = await docs(page);

  for (const body of apiBodies) {
    for (const digits of CARD_DIGITS) {
      check(!body.includes(digits) && !body.includes(digits.replace(/(\d{4})/g, "$1 ").trim()),
        "a card number reached the API");
    }
  }
  summary.api_requests = apiBodies.length;
  check(foreign.length === 0, `requests left the demo, sandbox and static server: ${foreign.join(", ")}`);
  check(pageErrors.length === 0, `page errors: ${pageErrors.join("; ")}`);
  console.log(JSON.stringify(summary));
} catch (err) {
  console.error(String(err && err.stack ? err.stack : err));
  process.exitCode = 1;
} finally {
  staticServer.close();
  await browser.close();
}
