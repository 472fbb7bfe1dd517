// Walks the operator console (/consola/) on a running demo in Debian's headless Chromium, as a
// company admin and as the operator, and screenshots every screen.
//
// usage: node console.mjs <base-url> <config.json> <screenshot-dir>
//   config.json: {"admin": [email, password], "operator": [email, password], "api_key": "jwt_…"}
// Prints one JSON line last: what it saw, and every API call the console made (method, path).
import { chromium } from "playwright-core";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const [base, configPath, shots] = process.argv.slice(2);
const cfg = JSON.parse(readFileSync(configPath, "utf8"));
const summary = { requests: [], screens: [] };
const T = 15000;

function fail(msg) {
  throw new Error(msg);
}

async function shot(page, name) {
  await page.screenshot({ path: join(shots, `console-${name}.png`), fullPage: true });
  summary.screens.push(name);
}

function record(page) {
  page.on("request", (r) => {
    const u = new URL(r.url());
    if (u.origin !== new URL(base).origin || u.pathname.startsWith("/consola")) return;
    summary.requests.push([r.method(), u.pathname]);
  });
  page.on("dialog", (d) => d.accept());
  page.on("pageerror", (e) => {
    summary.pageErrors = (summary.pageErrors || []).concat(String(e));
  });
}

async function login(page, email, password) {
  await page.goto(`${base}/consola/`);
  await page.getByLabel("Correo electrónico").fill(email);
  await page.getByLabel("Contraseña").fill(password);
  await page.getByRole("button", { name: "Entrar" }).click();
}

async function adminWalk(browser) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 860 }, acceptDownloads: true });
  const page = await ctx.newPage();
  record(page);
  const t0 = Date.now();
  await page.goto(`${base}/consola/`);
  await page.getByRole("button", { name: "Entrar" }).waitFor({ timeout: T });
  summary.loginPaintMs = Date.now() - t0;

  // A wrong password shows the API's detail.
  await login(page, cfg.admin[0], "not-the-password");
  await page.getByRole("alert").filter({ hasText: "Credenciales incorrectas" }).waitFor({ timeout: T });
  await shot(page, "login");

  // Dashboard: the chart is drawn from the seeded month.
  const series = page.waitForResponse((r) => r.url().includes("/dashboard/serie"), { timeout: T });
  await login(page, cfg.admin[0], cfg.admin[1]);
  const data = await (await series).json();
  await page.locator("#chart-ingresos canvas").waitFor({ timeout: T });
  await page.locator("#chart-compras canvas").waitFor({ timeout: T });
  await page.getByText("Routers conectados").waitFor({ timeout: T });
  summary.dashboard = {
    days: data.fechas.length,
    points: await page.locator("#chart-ingresos").getAttribute("data-points"),
    purchases: data.total.compras.reduce((a, b) => a + b, 0),
    daysWithSales: data.total.compras.filter((n) => n > 0).length,
    gateways: data.por_gateway.map((g) => g.gateway),
  };
  await page.getByLabel("Dividir por").selectOption("gateway");
  await page.locator("#chart-ingresos .u-legend").getByText("Mercado Pago").waitFor({ timeout: T });
  await shot(page, "dashboard");

  // Routers: live state and a connection test.
  await page.getByRole("link", { name: "Routers" }).click();
  await page.locator("[data-router] [data-state]").first().waitFor({ timeout: T });
  await page.getByRole("button", { name: "Probar conexión" }).first().click();
  await page.locator(".notice").filter({ hasText: "Conexión exitosa" }).waitFor({ timeout: T });
  await page.locator('[data-router] [data-state="connected"]').first().waitFor({ timeout: T });
  summary.routerState = await page.locator("[data-router] [data-state]").first().getAttribute("data-state");
  summary.routerVersion = await page.locator("[data-router] dd").nth(2).textContent();
  // Router setup: the RouterOS script downloads, the check lists each step.
  const rsc = page.waitForEvent("download", { timeout: T });
  await page.getByRole("button", { name: "Script de configuración" }).click();
  summary.setupRsc = readFileSync(await (await rsc).path(), "utf8").split("\n").length;
  await page.getByRole("button", { name: "Verificar configuración" }).click();
  await page.getByText("Configuración del router:").waitFor({ timeout: T });
  summary.setupSteps = await page.locator("[data-router] tbody tr").count();
  const zip = page.waitForEvent("download", { timeout: T });
  await page.getByLabel("API key del router (para el portal)").fill(cfg.api_key);
  await page.getByRole("button", { name: "Descargar portal.zip" }).click();
  summary.portalZip = readFileSync(await (await zip).path()).subarray(0, 2).toString("latin1");
  await page.getByRole("button", { name: "Sesiones activas" }).click();
  await page.locator("tr[data-sesion]").first().waitFor({ timeout: T });
  summary.sessionsBefore = await page.locator("tr[data-sesion]").count();
  await shot(page, "routers");
  await page.getByRole("button", { name: /^Desconectar / }).first().click();
  await page.getByText(`Sesiones activas (${summary.sessionsBefore - 1})`).waitFor({ timeout: T });
  summary.sessionsAfter = await page.locator("tr[data-sesion]").count();

  // Products: a new one from a profile read live from the router.
  await page.getByRole("link", { name: "Productos" }).click();
  await page.getByRole("button", { name: "Nuevo producto" }).click();
  const picker = page.getByLabel("Perfil del router (leído en vivo)");
  await picker.locator('option[data-name="default"]').waitFor({ state: "attached", timeout: T });
  summary.profiles = await picker.locator("option").evaluateAll((os) => os.map((o) => o.dataset.name));
  await picker.selectOption({ label: "default" });
  await page.getByLabel("Nombre de venta").fill("Plan consola 2 horas");
  await page.getByLabel("Precio").fill("25");
  await page.getByLabel("Orden").fill("9");
  await page.getByLabel("Vigencia en minutos").fill("120");
  await page.getByLabel("La vigencia cuenta desde").selectOption("primer_login");
  await page.getByLabel("Límite de datos (MB)").fill("500");
  await shot(page, "product-form");
  await page.getByRole("button", { name: "Crear producto" }).click();
  await page.locator("tr[data-producto]").filter({ hasText: "Plan consola 2 horas" }).waitFor({ timeout: T });
  summary.productPlan = await page.locator("tr[data-producto]").filter({ hasText: "Plan consola 2 horas" }).locator("td").nth(4).textContent();
  await shot(page, "products");
  const catalogue = await page.request.get(`${base}/api/v1/catalogo_perfiles_venta`, { headers: { "X-API-Key": cfg.api_key } });
  summary.catalogue = (await catalogue.json()).map((p) => p.nombre_venta ?? p.nombre);

  // Transactions: filters, paging, detail, CSV.
  await page.getByRole("link", { name: "Transacciones" }).click();
  await page.locator("#total").waitFor({ timeout: T });
  summary.txTotal = parseInt(await page.locator("#total").textContent(), 10);
  await page.getByLabel("Pasarela").selectOption("conekta");
  await page.getByLabel("Estado").selectOption("paid");
  await page.getByRole("button", { name: "Filtrar" }).click();
  await page.waitForURL(/gateway=conekta/, { timeout: T });
  await page.locator("#total").waitFor({ timeout: T });
  summary.txFiltered = parseInt(await page.locator("#total").textContent(), 10);
  const cells = await page.locator("tr[data-tx] td:nth-child(5)").allTextContents();
  summary.txFilteredGateways = [...new Set(cells)];
  await shot(page, "transactions");
  if (await page.locator("#siguiente").count()) {
    await page.locator("#siguiente").click();
    await page.waitForURL(/offset=20/, { timeout: T });
    await page.getByText("Página 2").waitFor({ timeout: T });
    summary.paged = true;
  }
  const download = page.waitForEvent("download", { timeout: T });
  await page.getByRole("button", { name: "Descargar CSV" }).click();
  const csv = readFileSync(await (await download).path(), "utf8").trim().split("\r\n");
  summary.csv = { header: csv[0], rows: csv.length - 1, gateways: [...new Set(csv.slice(1).map((l) => l.split(",").pop()))] };
  await page.locator("tr[data-tx] a").first().click();
  await page.locator("#detalle").waitFor({ timeout: T });
  summary.detail = await page.locator("#detalle").textContent();
  await shot(page, "transaction");

  // A partial refund of the purchase the test made (the newest transaction).
  await page.goto(`${base}/consola/#/transacciones`);
  await page.locator("tr[data-tx]").filter({ hasText: "Ana Demo" }).getByRole("link").click();
  await page.getByRole("heading", { name: "Reembolso" }).waitFor({ timeout: T });
  await page.getByLabel("Monto").fill("5");
  await page.getByLabel("Motivo").fill("Prueba de la consola");
  await page.getByRole("button", { name: "Reembolsar" }).click();
  await page.locator("#detalle").filter({ hasText: "$5.00" }).waitFor({ timeout: T });
  summary.refunded = await page.locator("#detalle").textContent();
  summary.refundLeft = await page.getByRole("heading", { name: "Reembolso" }).count();
  await shot(page, "refund");

  // Company profile: a bad time zone shows the API's detail, a good one is saved.
  await page.getByRole("link", { name: "Mi empresa" }).click();
  await page.getByLabel("Zona horaria (IANA)").fill("Marte/Base_Alfa");
  await page.getByRole("button", { name: "Guardar" }).click();
  await page.getByRole("alert").filter({ hasText: "Zona horaria desconocida" }).waitFor({ timeout: T });
  await page.getByLabel("Zona horaria (IANA)").fill("America/Bogota");
  await page.getByRole("button", { name: "Guardar" }).click();
  await page.locator(".notice").waitFor({ timeout: T });
  await shot(page, "company");

  // Gateways: secrets write-only (masked), a mode badge, the webhook URL; a bad PEM shows the detail.
  await page.getByRole("link", { name: "Pasarelas" }).click();
  await page.locator("#webhook-url").waitFor({ timeout: T });
  summary.webhookUrl = await page.locator("#webhook-url").textContent();
  summary.conektaCard = await page.locator("#h-conekta-card").textContent();
  await page.getByLabel("Clave pública (PEM)").fill("not a key");
  await page.getByRole("button", { name: "Guardar clave del webhook" }).click();
  await page.locator("#h-conekta-card").getByRole("alert").waitFor({ timeout: T });
  summary.pemError = await page.locator("#h-conekta-card").getByRole("alert").textContent();
  await page.getByLabel("Secreto del webhook (solo escritura)").fill("whsec-console-test-123456");
  // The screen is drawn again after the save: wait for the new card, not the old one.
  await page.locator("#h-mp-card").evaluate((c) => { c.dataset.old = "1"; });
  await page.getByRole("button", { name: "Guardar Mercado Pago" }).click();
  const mpCard = page.locator("#h-mp-card:not([data-old])");
  await mpCard.getByText("secreto del webhook:").waitFor({ timeout: T });
  summary.mpCard = await mpCard.textContent();
  await shot(page, "gateways");

  await page.getByRole("link", { name: "Auditoría" }).click();
  await page.locator("tbody tr").first().waitFor({ timeout: T });
  await shot(page, "audit");

  await page.getByRole("link", { name: "Contraseña" }).click();
  await page.getByLabel("Contraseña actual").fill("wrong-password-1");
  await page.getByLabel("Contraseña nueva").fill("another-password-2");
  await page.getByRole("button", { name: "Cambiar contraseña" }).click();
  await page.getByRole("alert").waitFor({ timeout: T });
  summary.passwordError = await page.getByRole("alert").textContent();
  await shot(page, "password");

  // Phone width.
  await page.setViewportSize({ width: 375, height: 800 });
  await page.getByRole("button", { name: "Menú" }).click();
  await page.getByRole("link", { name: "Panel" }).click();
  await page.locator("#chart-ingresos canvas").waitFor({ timeout: T });
  summary.phoneOverflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
  await shot(page, "phone");
  await page.setViewportSize({ width: 1280, height: 860 });
  return { ctx, page };
}

async function operatorWalk(browser, admin) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await ctx.newPage();
  record(page);
  await login(page, cfg.operator[0], cfg.operator[1]);
  await page.locator("#global .stat").nth(4).waitFor({ timeout: T });
  await shot(page, "operator");

  await page.getByRole("link", { name: "Empresas" }).click();
  await page.locator("tr[data-empresa]").first().waitFor({ timeout: T });
  await shot(page, "companies");
  await page.getByRole("link", { name: "WiFi Demo" }).click();
  await page.locator("tr[data-key]").first().waitFor({ timeout: T });

  // Regenerate the router key: the new one is shown once, the old one is refused.
  const before = await page.request.get(`${base}/api/v1/config/public`, { headers: { "X-API-Key": cfg.api_key } });
  summary.oldKeyBefore = before.status();
  await page.getByRole("button", { name: "Regenerar API key" }).click();
  await page.locator("#api-key").waitFor({ timeout: T });
  const newKey = (await page.locator("#api-key").textContent()).trim();
  await page.locator("tr[data-key]").nth(1).waitFor({ timeout: T });
  await shot(page, "company-routers");
  const old = await page.request.get(`${base}/api/v1/config/public`, { headers: { "X-API-Key": cfg.api_key } });
  const fresh = await page.request.get(`${base}/api/v1/config/public`, { headers: { "X-API-Key": newKey } });
  summary.keys = { old: old.status(), oldDetail: (await old.json()).detail, fresh: fresh.status() };

  await page.getByRole("link", { name: "Usuarios" }).click();
  await page.locator("tbody tr").first().waitFor({ timeout: T });
  await shot(page, "users");

  await page.getByRole("link", { name: "Flota" }).click();
  await page.locator("tr[data-router] [data-state]").first().waitFor({ timeout: T });
  await page.getByLabel("Estado").selectOption("connected");
  await page.waitForURL(/estado=connected/, { timeout: T });
  await page.locator("tr[data-router]").first().waitFor({ timeout: T });
  summary.fleetConnected = await page.locator("tr[data-router]").count();
  await shot(page, "fleet");

  await page.getByRole("link", { name: "Auditoría" }).click();
  await page.locator("tbody tr").first().waitFor({ timeout: T });
  summary.operatorAudit = await page.locator("tbody tr").first().textContent();
  await shot(page, "operator-audit");

  // Deactivate the company: its admin's next call lands on the login page with the reason.
  await page.getByRole("link", { name: "Empresas" }).click();
  await page.getByRole("button", { name: "Desactivar WiFi Demo" }).click();
  await page.locator("tr[data-empresa]").filter({ hasText: "inactiva" }).waitFor({ timeout: T });
  await admin.page.getByRole("link", { name: "Transacciones" }).click();
  await admin.page.getByRole("button", { name: "Entrar" }).waitFor({ timeout: T });
  summary.lockedOut = await admin.page.getByRole("alert").textContent();
  await login(admin.page, cfg.admin[0], cfg.admin[1]);
  await admin.page.getByRole("alert").waitFor({ timeout: T });
  summary.loginWhileInactive = await admin.page.getByRole("alert").textContent();
  await shot(admin.page, "locked-out");
  // Reactivate, for anyone looking at the demo afterwards.
  await page.getByRole("button", { name: "Activar WiFi Demo" }).click();
  await page.getByRole("button", { name: "Desactivar WiFi Demo" }).waitFor({ timeout: T });

  // Logout revokes the token.
  const token = await page.evaluate(() => sessionStorage.getItem("consola.token"));
  await page.getByRole("button", { name: "Cerrar sesión" }).click();
  await page.getByRole("button", { name: "Entrar" }).waitFor({ timeout: T });
  const after = await page.request.get(`${base}/admin/dashboard`, { headers: { Authorization: `Bearer ${token}` } });
  summary.afterLogout = after.status();
  await ctx.close();
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
  args: ["--no-sandbox"],
});
try {
  const admin = await adminWalk(browser);
  await operatorWalk(browser, admin);
  await admin.ctx.close();
} finally {
  await browser.close();
}
console.log(JSON.stringify(summary));
