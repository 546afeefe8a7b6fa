// The demo page's own test: loads it in headless Chromium through chromedriver's WebDriver
// API (Node's fetch, no packages), uses it as a person would (stop the server, type a message
// during the outage, restart the server) and checks, from the timeline the page records in
// window.demoTimeline, that it went open -> outage -> reconnecting -> open -> the queued
// message delivered. Saves a screenshot. Every wait has a deadline.
//
//   node scripts/browser-demo-check.mjs DEMO_URL SCREENSHOT.png PROFILE_DIR [OUTAGE.png]
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { writeFileSync } from "node:fs";

const [demoUrl, screenshotPath, profileDir, outagePath] = process.argv.slice(2);
const DEADLINE_MS = 15_000;

const freePort = () =>
  new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

const port = await freePort();
const driver = spawn("chromedriver", [`--port=${port}`, "--allowed-ips=127.0.0.1"], { stdio: "ignore" });
const base = `http://127.0.0.1:${port}`;
let session;

async function call(method, path, body) {
  const response = await fetch(base + path, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await response.json();
  if (!response.ok) throw new Error(`${method} ${path}: ${JSON.stringify(json.value)}`);
  return json.value;
}

async function until(what, check) {
  const deadline = Date.now() + DEADLINE_MS;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const page = (script, ...args) => call("POST", `/session/${session}/execute/sync`, { script, args });
const timeline = () => page("return window.demoTimeline || [];");
const click = (id) => page("document.getElementById(arguments[0]).click();", id);

try {
  await until("chromedriver", async () => (await call("GET", "/status")).ready);
  session = (
    await call("POST", "/session", {
      capabilities: {
        alwaysMatch: {
          browserName: "chrome",
          "goog:loggingPrefs": { browser: "ALL" },
          "goog:chromeOptions": {
            binary: "/usr/bin/chromium",
            args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                   "--disable-background-networking", "--disable-component-update", "--disable-sync",
                   `--user-data-dir=${profileDir}`, "--window-size=900,760"],
          },
        },
      },
    })
  ).sessionId;
  await call("POST", `/session/${session}/url`, { url: demoUrl });

  const has = (step, after = -1) => async () => (await timeline()).indexOf(step, after + 1) > after;
  await until("open", has("open"));
  await until("a heartbeat round trip", async () => (await page("return document.getElementById('rtt').textContent;")).includes("ms"));
  await click("stop");
  await until("reconnecting", has("reconnecting"));
  const text = "typed during the outage";
  await page("document.getElementById('input').value = arguments[0];", text);
  await click("send");
  await until("the message queued", has(`sent:${text}`));
  // A failed attempt and the countdown to the next one, for the outage's screenshot.
  await until("a failed attempt", async () => {
    const steps = await timeline();
    return steps.indexOf("reconnecting", steps.indexOf(`sent:${text}`)) >= 0;
  });
  if (outagePath) {
    writeFileSync(outagePath, Buffer.from(await call("GET", `/session/${session}/screenshot`), "base64"));
  }
  await click("restart");
  await until("the queued message delivered", has(`message:${text}`));
  await until("a heartbeat round trip on the new connection", async () => {
    const steps = await timeline();
    return steps.indexOf("rtt", steps.indexOf(`message:${text}`)) >= 0;
  });

  const steps = (await timeline()).filter((step) => step !== "rtt");
  const firstOpen = steps.indexOf("open");
  const outage = steps.indexOf("disconnected", firstOpen);
  const reconnecting = steps.indexOf("reconnecting", outage);
  const reopened = steps.indexOf("open", reconnecting);
  const delivered = steps.indexOf(`message:${text}`, reopened);
  const inOrder = [firstOpen, outage, reconnecting, reopened, delivered];
  if (inOrder.some((index, i) => index < 0 || (i > 0 && index <= inOrder[i - 1]))) {
    throw new Error(`timeline out of order: ${JSON.stringify(steps)}`);
  }
  if (steps.filter((step) => step === `message:${text}`).length !== 1) {
    throw new Error(`the queued message was not delivered exactly once: ${JSON.stringify(steps)}`);
  }
  const badge = await page("return document.getElementById('state').textContent;");
  if (badge !== "open") throw new Error(`state badge shows ${badge}`);
  writeFileSync(screenshotPath, Buffer.from(await call("GET", `/session/${session}/screenshot`), "base64"));
  console.log(`demo page timeline: ${steps.join(" -> ")}`);
  console.log(`screenshot: ${screenshotPath}`);
} catch (error) {
  // What the page showed, to see why.
  const shown = session ? await page("return document.body.innerText;").catch(() => "") : "";
  const logs = session
    ? await call("POST", `/session/${session}/se/log`, { type: "browser" }).catch(() => [])
    : [];
  const steps = session ? await timeline().catch(() => []) : [];
  console.error(`page text:\n${shown}\ntimeline: ${steps.join(" -> ")}\nbrowser log: ${JSON.stringify(logs)}`);
  throw error;
} finally {
  if (session) await call("DELETE", `/session/${session}`).catch(() => {});
  driver.kill();
}
