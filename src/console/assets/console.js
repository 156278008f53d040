// The console's page: plain DOM, no framework. Everything shown comes from the daemon's snapshot and
// its live events; text is always set as text (camera names come from the network).

const state = { session: { mode: "signed-out" }, offered: [], cameras: new Map(), daemon: undefined };
const view = document.getElementById("view");

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Number.POSITIVE_INFINITY)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

function ago(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

const time = (ms) => new Date(ms).toLocaleTimeString();

function notice(text, ok = false) {
  const el = document.getElementById("notice");
  el.textContent = text;
  el.className = ok ? "ok" : "";
  el.hidden = !text;
}

function datumText(datum) {
  if (!datum || typeof datum !== "object") return String(datum);
  if (datum.type === "list") return `[${datum.value.map(datumText).join(", ")}]`;
  if (datum.type === "record")
    return `{${Object.entries(datum.value)
      .map(([k, v]) => `${k}: ${datumText(v)}`)
      .join(", ")}}`;
  return String(datum.value);
}

function chart(history) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("class", "chart");
  svg.setAttribute("viewBox", "0 0 100 32");
  svg.setAttribute("preserveAspectRatio", "none");
  const max = Math.max(1, ...history.map((m) => m.passed + m.failed));
  const width = 10;
  history.slice(-10).forEach((m, i) => {
    const passed = (m.passed / max) * 32;
    const failed = (m.failed / max) * 32;
    for (const [height, y, fill] of [
      [passed, 32 - passed, "#15803d"],
      [failed, 32 - passed - failed, "#b91c1c"],
    ]) {
      const rect = document.createElementNS(ns, "rect");
      rect.setAttribute("x", String(i * width + 1));
      rect.setAttribute("width", String(width - 2));
      rect.setAttribute("y", String(y));
      rect.setAttribute("height", String(height));
      rect.setAttribute("fill", fill);
      svg.append(rect);
    }
  });
  return svg;
}

async function post(path, body = {}) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json", "x-csrf-token": state.session.csrf ?? "" },
    body: JSON.stringify(body),
  });
  const answer = await response
    .json()
    .catch(() => ({ status: "error", error: { message: response.statusText } }));
  return { ok: response.ok, answer };
}

async function act(camera, action, args = {}) {
  notice(`${action} on ${camera}…`, true);
  const { ok, answer } = await post(
    `/console/api/cameras/${encodeURIComponent(camera)}/actions/${action}`,
    args,
  );
  const cycle = answer.data?.cycle;
  if (ok) notice(`${action} on ${camera}: done${cycle === undefined ? "" : ` (cycle ${cycle})`}`, true);
  else notice(`${action} on ${camera} refused: ${answer.error?.message ?? "unknown error"}`);
}

function actionButtons(cam) {
  if (state.session.mode !== "signed-in") return null;
  const buttons = state.offered
    .filter((a) => a !== "ioWrite")
    .map((a) => {
      // Offered to the role but not in this camera's allow-list: shown dim; the daemon says why on a click.
      const allowed = cam.actions?.includes(a) ?? false;
      return h(
        "button",
        {
          "data-action": a,
          class: allowed ? undefined : "not-allowed",
          title: allowed ? undefined : `not in the allow-list of ${cam.state.id}`,
          onclick: () => act(cam.state.id, a),
        },
        a,
      );
    });
  return buttons.length ? h("div", { class: "actions" }, buttons) : null;
}

function facts(pairs) {
  return h(
    "dl",
    { class: "facts" },
    pairs.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v ?? "–")]),
  );
}

function tile(cam) {
  const s = cam.state;
  const last = cam.reports.at(-1);
  const { inspections, passed } = s.counters;
  const rate = inspections ? `${((100 * passed) / inspections).toFixed(1)} %` : "–";
  return h(
    "div",
    { class: "card", "data-camera": s.id },
    h(
      "h2",
      {},
      h("a", { href: `#/camera/${encodeURIComponent(s.id)}` }, s.name ?? s.id),
      h("span", { class: `availability ${s.availability}` }, s.availability),
      h("small", { class: "since" }, ago(Date.now() - cam.since)),
    ),
    facts([
      ["model", s.model],
      ["job", s.job],
      ["status", s.status],
      ["in control", s.inControl || "nobody"],
      ["inspections", `${inspections} (pass ${rate})`],
      [
        "last result",
        last ? `${last.passed ? "passed" : "failed"} #${last.cycle} at ${time(last.time)}` : "–",
      ],
    ]),
    chart(cam.history),
    cam.image
      ? h("img", {
          class: "thumb",
          alt: `last image of ${s.id}`,
          src: `/console/api/cameras/${encodeURIComponent(s.id)}/image?t=${cam.image.time}`,
        })
      : null,
    actionButtons(cam),
  );
}

function daemonCard() {
  const d = state.daemon;
  if (!d) return null;
  return h(
    "div",
    { class: "card daemon", "data-daemon": "" },
    h("h2", {}, "daemon", h("small", {}, `v${d.version}, up ${ago(d.now - d.startedAt)}`)),
    facts(
      Object.entries(d.health.services).map(([name, s]) => [
        name,
        h("span", { class: s.healthy ? "" : "bad" }, s.detail ?? (s.healthy ? "ok" : "unhealthy")),
      ]),
    ),
    d.journal
      ? facts(
          Object.entries(d.journal.outputs).map(([name, f]) => [
            `journal → ${name}`,
            `${f.pending} pending, ${f.delivered} delivered, ${f.dropped} dropped, ${f.lost} lost`,
          ]),
        )
      : null,
  );
}

function overview() {
  return h("div", { class: "grid" }, daemonCard(), [...state.cameras.values()].map(tile));
}

function cameraPage(id) {
  const cam = state.cameras.get(id);
  if (!cam) return h("p", {}, `no camera ${id}`);
  const s = cam.state;
  const signedIn = state.session.mode === "signed-in";
  const io = Object.entries(cam.io);
  return h(
    "div",
    { "data-camera-page": s.id },
    tile(cam),
    h(
      "section",
      { class: "card" },
      h("h2", {}, "identity"),
      facts([
        ["id", s.id],
        ["serial", s.serial],
        ["address", s.address],
        ["MAC", s.mac],
        ["firmware", s.version],
        ["manufacturer", s.manufacturer],
      ]),
    ),
    h(
      "section",
      { class: "card" },
      h("h2", {}, "IO points"),
      io.length === 0
        ? h("p", {}, "no transitions seen yet")
        : h(
            "table",
            {},
            io.map(([name, p]) =>
              h(
                "tr",
                { "data-io": name },
                h("td", {}, name),
                h("td", {}, p.kind ?? ""),
                h("td", { class: "value" }, p.value ? "on" : "off"),
                h("td", {}, time(p.time)),
                h(
                  "td",
                  {},
                  signedIn && p.kind === "output" && state.offered.includes("ioWrite")
                    ? h(
                        "button",
                        { onclick: () => act(s.id, "ioWrite", { point: name, value: !p.value }) },
                        p.value ? "turn off" : "turn on",
                      )
                    : null,
                ),
              ),
            ),
          ),
    ),
    h(
      "section",
      { class: "card" },
      h("h2", {}, "last reports"),
      h(
        "table",
        { "data-reports": "" },
        h("tr", {}, h("th", {}, "cycle"), h("th", {}, "time"), h("th", {}, "result"), h("th", {}, "datums")),
        [...cam.reports].reverse().map((r) =>
          h(
            "tr",
            { "data-report": r.id },
            h("td", {}, r.cycle),
            h("td", {}, time(r.time)),
            h(
              "td",
              { class: r.passed ? "passed" : "failed" },
              r.passed ? "passed" : "failed",
              r.recovered ? " (recovered)" : "",
            ),
            h(
              "td",
              { class: "datums" },
              Object.entries(r.results)
                .map(([k, v]) => `${k} = ${datumText(v)}`)
                .join("; "),
            ),
          ),
        ),
      ),
    ),
    h(
      "section",
      { class: "card" },
      h("h2", {}, "gap events"),
      cam.gaps.length === 0
        ? h("p", {}, "none")
        : h(
            "table",
            {},
            cam.gaps.map((g) =>
              h(
                "tr",
                {},
                h("td", {}, `cycles ${g.fromCycle}..${g.toCycle ?? "?"}`),
                h("td", {}, g.reason),
                h("td", {}, time(g.time)),
              ),
            ),
          ),
    ),
    h(
      "section",
      { class: "card" },
      h("h2", {}, "formatted output"),
      cam.serial.length === 0
        ? h("p", {}, "no lines")
        : h(
            "table",
            {},
            [...cam.serial]
              .reverse()
              .map((l) =>
                h(
                  "tr",
                  {},
                  h("td", {}, l.output),
                  h("td", {}, l.raw),
                  h("td", {}, l.error ? `parse error: ${l.error}` : JSON.stringify(l.fields)),
                  h("td", {}, time(l.time)),
                ),
              ),
          ),
    ),
  );
}

function render() {
  const match = /^#\/camera\/(.+)$/.exec(location.hash);
  view.replaceChildren(match ? cameraPage(decodeURIComponent(match[1])) : overview());
  const who = document.getElementById("who");
  const mode = state.session.mode;
  who.textContent =
    mode === "read-only"
      ? "read-only"
      : mode === "signed-in"
        ? `${state.session.user} (${state.session.role})`
        : "";
  document.getElementById("login").hidden = mode !== "signed-out";
  document.getElementById("logout").hidden = mode !== "signed-in";
}

let pending = false;
function schedule() {
  if (pending) return;
  pending = true;
  requestAnimationFrame(() => {
    pending = false;
    render();
  });
}

function connect() {
  const link = document.getElementById("link");
  const events = new EventSource("/console/api/events");
  events.addEventListener("open", () => {
    link.textContent = "live";
    link.className = "link up";
  });
  events.addEventListener("error", () => {
    link.textContent = "connection lost, reconnecting…";
    link.className = "link down";
  });
  events.addEventListener("snapshot", (e) => {
    const snap = JSON.parse(e.data);
    state.session = snap.session;
    state.offered = snap.offered;
    state.daemon = snap.daemon;
    state.cameras = new Map(snap.cameras.map((c) => [c.state.id, c]));
    schedule();
  });
  events.addEventListener("camera", (e) => {
    const cam = JSON.parse(e.data);
    const known = state.cameras.get(cam.state.id);
    state.cameras.set(cam.state.id, { ...known, ...cam, actions: known?.actions ?? [] });
    schedule();
  });
  const onCamera = (type, apply) =>
    events.addEventListener(type, (e) => {
      const data = JSON.parse(e.data);
      const cam = state.cameras.get(data.camera);
      if (!cam) return;
      apply(cam, data);
      schedule();
    });
  const keep = (list, item) => {
    list.push(item);
    if (list.length > 20) list.splice(0, list.length - 20);
  };
  onCamera("reports", (cam, d) => {
    for (const report of d.reports) keep(cam.reports, report);
    cam.history = d.history;
  });
  onCamera("gap", (cam, d) => keep(cam.gaps, d.gap));
  onCamera("serial", (cam, d) => keep(cam.serial, d.line));
  onCamera("io", (cam, d) => {
    cam.io[d.point] = { value: d.value, time: d.time, kind: d.kind };
  });
  onCamera("image", (cam, d) => {
    cam.image = d.image;
  });
  // The daemon could not keep this page up to date: start again from a snapshot.
  events.addEventListener("reload", () => reconnect());
  events.addEventListener("daemon", (e) => {
    state.daemon = JSON.parse(e.data);
    schedule();
  });
  return events;
}

let events = connect();
// A login or logout changes what the snapshot offers: reconnect for a fresh one.
function reconnect() {
  events.close();
  events = connect();
}

document.getElementById("login").addEventListener("submit", async (e) => {
  e.preventDefault();
  const form = new FormData(e.target);
  const { ok, answer } = await post("/console/api/login", {
    name: form.get("name"),
    password: form.get("password"),
  });
  if (!ok) return notice(`login refused: ${answer.error?.message ?? "unknown error"}`);
  notice("");
  e.target.reset();
  reconnect();
});

document.getElementById("logout").addEventListener("click", async () => {
  await post("/console/api/logout");
  state.session = { mode: "signed-out" };
  reconnect();
});

window.addEventListener("hashchange", render);
// Durations ("online 3m 2s") age without events.
setInterval(schedule, 1000);
