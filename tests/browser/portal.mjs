// Drives the demo's sample captive portal (/portal/) and its API docs (/docs) in Debian's
// headless Chromium through playwright-core (no browser download).
//
//   node tests/browser/portal.mjs http://127.0.0.1:PORT tests/artifacts/portal.png
//
// Exits non-zero on the first failed check; prints one JSON summary line on success.
import { chromium } from "playwright-core";

const [base, screenshot] = process.argv.slice(2);
if (!base || !screenshot) {
  console.error("usage: node portal.mjs BASE_URL SCREENSHOT.png");
  process.exit(2);
}
const executablePath = process.env.CHROMIUM_PATH || "/usr/bin/chromium";

function check(cond, message) {
  if (!cond) {
    throw new Error(message);
  }
}

const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});

const summary = {};
try {
  const context = await browser.newContext({ viewport: { width: 480, height: 900 } });
  const page = await context.newPage();
  const foreign = [];
  page.on("request", (req) => {
    if (!req.url().startsWith(base) && !req.url().startsWith("data:")) {
      foreign.push(req.url());
    }
  });
  const consoleErrors = [];
  page.on("pageerror", (err) => consoleErrors.push(String(err)));

  const portal = `${base}/portal/?mac=AA:BB:CC:DD:EE:02&ip=10.5.50.12`;
  const timeout = 30_000;

  async function openPortal() {
    await page.goto(portal);
    await page.locator("input[name=plan]").first().waitFor({ timeout });
  }

  async function buy(card, tipo, name, email) {
    await page.fill("#nombre", name);
    await page.fill("#email", email);
    await page.selectOption("#tipo", tipo);
    await page.selectOption("#card", card);
    await page.click("#pay");
    await page.waitForFunction(
      () => !document.getElementById("result").hidden || !document.getElementById("error").hidden,
      null,
      { timeout },
    );
  }

  // 1. The catalogue, from the API with the embedded key.
  await openPortal();
  const plans = await page.locator(".plan .name").allTextContents();
  check(
    JSON.stringify(plans) === JSON.stringify(["1 hora", "1 día", "1 semana"]),
    `plans listed: ${JSON.stringify(plans)}`,
  );
  const company = await page.textContent("#empresa");
  check(company === "WiFi Demo", `company name: ${company}`);
  summary.plans = plans;

  // 2. A declined card: a clear error, no credentials.
  await page.check("input[name=plan][value]:nth-of-type(1)");
  await buy("conekta:tok_test_card_declined", "usuario_contrasena", "Ana Declinada", "ana@example.com");
  check(await page.isVisible("#error"), "declined card shows an error");
  check(!(await page.isVisible("#result")), "declined card shows no credentials");
  summary.declined = (await page.textContent("#error")).trim();
  check(/declin/i.test(summary.declined), `declined message: ${summary.declined}`);

  // 3. Conekta: pay "1 hora" with the sandbox Visa, credentials shown, auto-connected.
  await openPortal();
  await page.locator(".plan", { hasText: "1 hora" }).locator("input").check();
  await buy("conekta:tok_test_visa_4242", "usuario_contrasena", "Ana <b>López</b>", "ana@example.com");
  if (await page.isVisible("#error")) {
    throw new Error(`Conekta purchase failed: ${await page.textContent("#error")}`);
  }
  const usuario = (await page.textContent("#usuario")).trim();
  const contrasena = (await page.textContent("#contrasena")).trim();
  const mensaje = (await page.textContent("#mensaje")).trim();
  check(usuario.length > 0, "a hotspot user name is shown");
  check(contrasena.length > 0, "a hotspot password is shown");
  check((await page.textContent("#plan-comprado")).trim() === "1 hora", "the bought plan is shown");
  check(/Conexión establecida/.test(mensaje), `auto-connect message: ${mensaje}`);
  await page.screenshot({ path: screenshot, fullPage: true });
  summary.conekta = { usuario, mensaje };

  // 4. Mercado Pago: tokenise the sandbox card (cardholder APRO), PIN credentials.
  await openPortal();
  await page.locator(".plan", { hasText: "1 día" }).locator("input").check();
  await buy("mp:APRO", "pin", "Luis Demo", "luis@example.com");
  if (await page.isVisible("#error")) {
    throw new Error(`Mercado Pago purchase failed: ${await page.textContent("#error")}`);
  }
  const pin = (await page.textContent("#usuario")).trim();
  check((await page.textContent("#usuario-label")).trim() === "PIN", "a PIN purchase says PIN");
  check(/^\S+$/.test(pin), `PIN shown: ${pin}`);
  check(!(await page.isVisible("#contrasena")), "no password for a PIN");
  summary.mercado_pago = { pin };

  // 5. The API docs render offline, from this server only.
  await page.goto(`${base}/docs`);
  await page.locator(".opblock").first().waitFor({ timeout });
  const ops = await page.locator(".opblock").count();
  const paths = await page.locator(".opblock-summary-path").allTextContents();
  check(ops >= 50, `operations rendered: ${ops}`);
  check(
    paths.some((p) => p.replace(/\u200b/g, "").includes("/api/v1/payments/pagar-conekta")),
    "pagar-conekta is documented",
  );
  summary.docs_operations = ops;

  check(foreign.length === 0, `requests left the server: ${foreign.join(", ")}`);
  check(consoleErrors.length === 0, `page errors: ${consoleErrors.join("; ")}`);
  console.log(JSON.stringify(summary));
} catch (err) {
  console.error(String(err && err.stack ? err.stack : err));
  process.exitCode = 1;
} finally {
  await browser.close();
}
