// Opens the Swagger UI of a running Nomen in headless Chromium (Debian's, driven by
// playwright-core), runs "Try it out" on CodeSystem $lookup with the documented examples
// (v3-ActCode AMB from the bundled fixtures), and checks that the response the page shows
// carries the display "ambulatory". Also checks the page made no request off this host.
//
//   NOMEN_URL=http://127.0.0.1:8080 node swagger-try-it-out.mjs
import { chromium } from "playwright-core";

const base = process.env.NOMEN_URL ?? "http://127.0.0.1:8080";
const executablePath = process.env.CHROMIUM ?? "/usr/bin/chromium";
const screenshot = process.env.SCREENSHOT;

const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
let failed = false;
try {
  const page = await browser.newPage();
  const foreign = [];
  page.on("request", (r) => {
    const url = new URL(r.url());
    if (url.origin !== new URL(base).origin && url.protocol !== "data:") foreign.push(r.url());
  });
  await page.goto(`${base}/docs`, { waitUntil: "networkidle" });
  const op = page.locator("#operations-CodeSystem-CodeSystem-lookup-get");
  await op.waitFor({ timeout: 20000 });
  await op.locator(".opblock-summary").click();
  await op.locator("button.try-out__btn").click();
  // The documented examples fill the parameters; check, then execute.
  const system = op.locator('tr[data-param-name="system"] input');
  const code = op.locator('tr[data-param-name="code"] input');
  if ((await system.inputValue()) !== "http://terminology.hl7.org/CodeSystem/v3-ActCode") {
    throw new Error(`system not prefilled: '${await system.inputValue()}'`);
  }
  if ((await code.inputValue()) !== "AMB") {
    throw new Error(`code not prefilled: '${await code.inputValue()}'`);
  }
  await op.locator("button.execute").click();
  const body = op.locator(".live-responses-table .response-col_description .microlight, .live-responses-table .response-col_description pre");
  await body.first().waitFor({ timeout: 20000 });
  const text = await body.first().innerText();
  const status = (await op.locator(".live-responses-table tbody .response-col_status").first().innerText()).trim();
  if (screenshot) await page.screenshot({ path: screenshot, fullPage: false });
  if (status !== "200") throw new Error(`status ${status}: ${text.slice(0, 500)}`);
  if (!text.includes('"valueString": "ambulatory"') && !text.includes('"valueString":"ambulatory"')) {
    throw new Error(`the response does not show the display 'ambulatory': ${text.slice(0, 800)}`);
  }
  if (foreign.length) throw new Error(`requests off this host: ${foreign.join(", ")}`);
  console.log("browser: /docs loaded; $lookup Try it out answered 200 with display 'ambulatory'");
} catch (e) {
  failed = true;
  console.error(`browser test failed: ${e.message}`);
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
