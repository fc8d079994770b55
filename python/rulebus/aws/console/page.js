"use strict";
// The rulebus console. Everything it shows is data: nodes are built with createElement and
// text nodes only (no HTML parsing anywhere), so a body or a name holding markup shows as text.
(function () {
  const POLL_MS = 3000;
  const HEADERS = { "X-Rulebus-Console": "1" };
  const openKeys = new Set();
  let browsing = null; // {account, region, queue}
  let timer = null;

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "className") node.className = value;
      else node.setAttribute(name, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }
  const text = (value) => (value === null || value === undefined ? "" : String(value));
  const pretty = (value) => {
    if (typeof value === "string") {
      try { return JSON.stringify(JSON.parse(value), null, 2); } catch (e) { return value; }
    }
    return JSON.stringify(value, null, 2);
  };
  const num = (value, key) => el("td", { className: "num" + (value ? " nonzero" : ""), "data-count": key }, text(value));
  const tag = (label, kind) => el("span", { className: "tag" + (kind ? " " + kind : "") }, label);
  const empty = (what) => el("p", { className: "empty" }, what);
  const when = (ms) => (ms ? new Date(Number(ms)).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z") : "");
  const shortArn = (arn) => text(arn).split(":").slice(-1)[0];

  async function api(path, options) {
    const response = await fetch(path, Object.assign({ credentials: "same-origin", cache: "no-store" }, options || {}));
    let body = null;
    try { body = await response.json(); } catch (e) { /* not JSON: reported below */ }
    if (!response.ok) {
      const error = (body && body.error) || { code: String(response.status), message: response.statusText };
      throw Object.assign(new Error(error.message), { code: error.code });
    }
    return body;
  }

  function section(key, title, count, build) {
    const details = el("details", { className: "panel", "data-key": key });
    if (openKeys.has(key) || !openKeys.has("!" + key)) details.open = true;
    details.addEventListener("toggle", () => {
      if (details.open) { openKeys.add(key); openKeys.delete("!" + key); }
      else { openKeys.delete(key); openKeys.add("!" + key); }
    });
    details.appendChild(el("summary", {}, el("strong", {}, title), " ", el("span", { className: "muted" }, "(" + count + ")")));
    details.appendChild(build());
    return details;
  }

  // ------------------------------------------------------------------ queues
  function queuesView(scope) {
    if (!scope.queues.length) return empty("No queues.");
    const rows = scope.queues.map((q) => {
      if (q.error) return el("tr", {}, el("td", {}, q.name), el("td", { colspan: 7, className: "error-text" }, q.error));
      const redrive = q.redrivePolicy
        ? el("div", {}, "→ ", el("span", { className: "mono" }, shortArn(q.redrivePolicy.deadLetterTargetArn)),
            " after ", text(q.redrivePolicy.maxReceiveCount), " receives")
        : null;
      const sources = q.deadLetterSources.length
        ? el("div", {}, tag("DLQ", "dlq"), "for ", el("span", { className: "mono" }, q.deadLetterSources.join(", ")))
        : null;
      const tasks = (q.moveTasks || []).map((t) =>
        el("div", { className: "muted" }, "redrive ", text(t.Status), ": ", text(t.ApproximateNumberOfMessagesMoved),
          " of ", text(t.ApproximateNumberOfMessagesToMove), " moved"));
      const browse = el("button", { type: "button" }, "Browse");
      browse.addEventListener("click", () => openBrowser(scope.account, scope.region, q.name));
      return el("tr", { "data-queue": q.name },
        el("td", {}, el("span", { className: "name mono" }, q.name), " ", q.fifo ? tag("FIFO", "fifo") : null),
        num(q.visible, "visible"), num(q.inFlight, "inFlight"), num(q.delayed, "delayed"),
        el("td", {}, redrive, sources, tasks, !redrive && !sources ? el("span", { className: "muted" }, "—") : null),
        el("td", { className: "num" }, text(q.visibilityTimeout) + " s"),
        el("td", {}, browse));
    });
    return el("table", {},
      el("thead", {}, el("tr", {}, el("th", {}, "Queue"), el("th", { className: "num" }, "Visible"),
        el("th", { className: "num" }, "In flight"), el("th", { className: "num" }, "Delayed"),
        el("th", {}, "Dead-letter queue / redrive"), el("th", { className: "num" }, "Visibility"), el("th", {}, ""))),
      el("tbody", {}, rows));
  }

  // ------------------------------------------------------------------ topics
  function topicsView(scope) {
    if (!scope.topics.length) return empty("No topics.");
    return el("div", {}, scope.topics.map((t) => {
      if (t.error) return el("div", { className: "item" }, el("span", { className: "name" }, t.name), " ", el("span", { className: "error-text" }, t.error));
      const subs = t.subscriptions.length
        ? el("table", { className: "sub" },
            el("thead", {}, el("tr", {}, el("th", {}, "Protocol"), el("th", {}, "Endpoint"), el("th", {}, "Filter policy"),
              el("th", { className: "num" }, "Delivered"), el("th", { className: "num" }, "Filtered out"),
              el("th", { className: "num" }, "Failed"))),
            el("tbody", {}, t.subscriptions.map((s) => el("tr", { "data-subscription": s.arn },
              el("td", {}, text(s.protocol), " ", s.rawMessageDelivery ? tag("raw") : null, s.pendingConfirmation ? tag("pending", "off") : null),
              el("td", { className: "mono" }, text(s.endpoint)),
              el("td", {}, s.filterPolicy ? [el("pre", {}, pretty(s.filterPolicy)), el("span", { className: "muted" }, text(s.filterPolicyScope))] : el("span", { className: "muted" }, "none")),
              num(s.delivered, "delivered"), num(s.filtered, "filtered"), num(s.failed, "failed")))))
        : el("div", { className: "sub empty" }, "No subscriptions.");
      return el("div", { className: "item", "data-topic": t.name },
        el("div", { className: "item-head" }, el("span", { className: "name mono" }, t.name), t.fifo ? tag("FIFO", "fifo") : null,
          el("span", { className: "muted" }, t.subscriptions.length + " subscription(s)")),
        subs);
    }));
  }

  // ------------------------------------------------------------------ buses
  function busesView(scope) {
    if (!scope.buses.length) return empty("No event buses.");
    return el("div", {}, scope.buses.map((b) => {
      if (b.error) return el("div", { className: "item" }, el("span", { className: "name" }, b.name), " ", el("span", { className: "error-text" }, b.error));
      const rules = b.rules.length
        ? el("table", { className: "sub" },
            el("thead", {}, el("tr", {}, el("th", {}, "Rule"), el("th", {}, "State"), el("th", {}, "Pattern / schedule"), el("th", {}, "Targets"))),
            el("tbody", {}, b.rules.map((r) => el("tr", { "data-rule": r.Name },
              el("td", { className: "mono" }, text(r.Name)),
              el("td", {}, tag(text(r.State), r.State === "ENABLED" ? "on" : "off")),
              el("td", {}, r.EventPattern ? el("pre", {}, pretty(r.EventPattern)) : null, r.ScheduleExpression ? el("code", {}, text(r.ScheduleExpression)) : null),
              el("td", {}, r.targets.length ? r.targets.map((t) => el("div", { className: "mono" }, text(t.Id), ": ", text(t.Arn))) : el("span", { className: "muted" }, "none"))))))
        : el("div", { className: "sub empty" }, "No rules.");
      const archives = b.archives.map((a) => el("div", { className: "sub", "data-archive": a.ArchiveName },
        "Archive ", el("span", { className: "mono" }, text(a.ArchiveName)), " ", tag(text(a.State), a.State === "ENABLED" ? "on" : "off"),
        text(a.EventCount), " events, ", text(a.SizeBytes), " bytes, retention ", a.RetentionDays ? a.RetentionDays + " days" : "indefinite"));
      const replays = b.replays.map((r) => el("div", { className: "sub", "data-replay": r.ReplayName },
        "Replay ", el("span", { className: "mono" }, text(r.ReplayName)), " ", tag(text(r.State)),
        "from ", el("span", { className: "mono" }, shortArn(r.EventSourceArn)), " ", text(r.EventStartTime), " – ", text(r.EventEndTime)));
      return el("div", { className: "item", "data-bus": b.name },
        el("div", { className: "item-head" }, el("span", { className: "name mono" }, b.name),
          el("span", { className: "muted" }, b.rules.length + " rule(s), " + b.archives.length + " archive(s), " + b.replays.length + " replay(s)")),
        rules, archives, replays);
    }));
  }

  // ------------------------------------------------------------------ streams
  function streamsView(scope) {
    if (!scope.streams.length) return empty("No streams.");
    return el("div", {}, scope.streams.map((s) => {
      if (s.error) return el("div", { className: "item" }, el("span", { className: "name" }, s.name), " ", el("span", { className: "error-text" }, s.error));
      return el("div", { className: "item", "data-stream": s.name },
        el("div", { className: "item-head" }, el("span", { className: "name mono" }, s.name), tag(text(s.status), s.status === "ACTIVE" ? "on" : "off"),
          tag(text(s.mode)), el("span", { className: "muted" },
            s.openShards + " open of " + s.shards.length + " shard(s), " + s.consumers + " consumer(s), retention " + s.retentionHours + " h")),
        el("table", { className: "sub" },
          el("thead", {}, el("tr", {}, el("th", {}, "Shard"), el("th", {}, "State"), el("th", {}, "Parent"), el("th", {}, "Hash keys"))),
          el("tbody", {}, s.shards.map((shard) => el("tr", { "data-shard": shard.id },
            el("td", { className: "mono" }, shard.id), el("td", {}, tag(shard.open ? "open" : "closed", shard.open ? "on" : "off")),
            el("td", { className: "mono" }, text(shard.parent), shard.adjacentParent ? " + " + shard.adjacentParent : ""),
            el("td", { className: "mono" }, shard.hashKeyRange[0] + " – " + shard.hashKeyRange[1]))))));
    }));
  }

  function render(data) {
    const root = document.getElementById("scopes");
    if (!data.scopes.length) {
      root.replaceChildren(empty("Nothing yet: create a queue, topic, bus or stream with any AWS SDK."));
      return;
    }
    root.replaceChildren(...data.scopes.map((scope) => {
      const key = scope.account + "/" + scope.region;
      return el("section", { className: "scope", "data-scope": key },
        el("h2", {}, "Account ", el("span", { className: "mono" }, scope.account), " · ", el("span", { className: "mono" }, scope.region)),
        section(key + "/queues", "Queues", scope.queues.length, () => queuesView(scope)),
        section(key + "/topics", "Topics", scope.topics.length, () => topicsView(scope)),
        section(key + "/buses", "Event buses", scope.buses.length, () => busesView(scope)),
        section(key + "/streams", "Streams", scope.streams.length, () => streamsView(scope)));
    }));
  }

  function setStatus(message, isError) {
    const status = document.getElementById("status");
    status.textContent = message;
    status.className = isError ? "error" : "";
  }

  async function refresh() {
    try {
      render(await api("api/overview"));
      setStatus("updated " + new Date().toLocaleTimeString(), false);
      if (browsing) await loadMessages();
    } catch (error) {
      setStatus("cannot reach the server: " + error.message, true);
    }
  }

  function schedule() {
    clearTimeout(timer);
    if (document.getElementById("live").checked) timer = setTimeout(async () => { await refresh(); schedule(); }, POLL_MS);
  }

  // ------------------------------------------------------------------ message browser
  function openBrowser(account, region, queue) {
    browsing = { account, region, queue };
    document.getElementById("browser").hidden = false;
    document.getElementById("browser-queue").textContent = queue;
    document.getElementById("browser-scope").textContent = account + " · " + region;
    loadMessages();
    document.getElementById("browser").scrollIntoView({ block: "start" });
  }

  async function loadMessages() {
    if (!browsing) return;
    const body = document.getElementById("browser-body");
    const query = new URLSearchParams({ account: browsing.account, region: browsing.region, queue: browsing.queue,
      max: document.getElementById("browser-max").value });
    try {
      const data = await api("api/messages?" + query.toString());
      if (!data.messages.length) { body.replaceChildren(empty("The queue is empty.")); return; }
      body.replaceChildren(el("table", { id: "messages" },
        el("thead", {}, el("tr", {}, el("th", {}, "Message"), el("th", {}, "State"), el("th", { className: "num" }, "Receives"),
          el("th", {}, "Sent"), el("th", {}, "Body"), el("th", {}, "Attributes"))),
        el("tbody", {}, data.messages.map((m) => el("tr", { "data-message": m.messageId },
          el("td", { className: "mono" }, m.messageId, m.attributes.MessageGroupId ? el("div", { className: "muted" }, "group " + m.attributes.MessageGroupId) : null),
          el("td", {}, tag(m.state, m.state === "visible" ? "on" : "off"),
            m.state !== "visible" ? el("div", { className: "muted" }, "until " + when(m.visibleAt * 1000)) : null),
          el("td", { className: "num" }, text(m.attributes.ApproximateReceiveCount)),
          el("td", { className: "mono" }, when(m.attributes.SentTimestamp)),
          el("td", {}, el("pre", { className: "body" }, m.body)),
          el("td", {}, Object.keys(m.messageAttributes).length ? el("pre", { className: "attributes" }, pretty(m.messageAttributes)) : el("span", { className: "muted" }, "none")))))));
    } catch (error) {
      body.replaceChildren(el("p", { className: "error-text" }, text(error.code), ": ", error.message));
    }
  }

  // ------------------------------------------------------------------ pattern tester
  async function testPattern() {
    const result = document.getElementById("test-result");
    result.replaceChildren(el("p", { className: "muted" }, "testing…"));
    try {
      const data = await api("api/test-pattern", {
        method: "POST",
        headers: Object.assign({ "Content-Type": "application/json" }, HEADERS),
        body: JSON.stringify({ pattern: document.getElementById("pattern").value, event: document.getElementById("event").value }),
      });
      if (data.matches) {
        result.replaceChildren(el("p", { className: "verdict match", id: "verdict" }, "✓ The event matches the pattern."));
        return;
      }
      result.replaceChildren(
        el("p", { className: "verdict nomatch", id: "verdict" }, "✗ The event does not match the pattern."),
        el("p", {}, "Why (RuleSet.explain):"),
        el("ol", { className: "reasons", id: "reasons" }, data.reasons.map((r) => el("li", {},
          el("div", {}, text(r.message)),
          el("div", { className: "muted mono" }, "path ", text(r.path), " · operator ", text(r.operator),
            " · expected ", JSON.stringify(r.expected), " · actual ", JSON.stringify(r.actual))))));
    } catch (error) {
      result.replaceChildren(el("p", { className: "error-text", id: "verdict" }, text(error.code), ": ", error.message));
    }
  }

  document.getElementById("pattern").value =
    '{\n  "source": ["com.shop"],\n  "detail": {"amount": [{"numeric": [">", 100]}]}\n}';
  document.getElementById("event").value =
    '{\n  "source": "com.shop",\n  "detail-type": "Order",\n  "detail": {"amount": 50}\n}';
  document.getElementById("test").addEventListener("click", testPattern);
  document.getElementById("browser-refresh").addEventListener("click", loadMessages);
  document.getElementById("browser-max").addEventListener("change", loadMessages);
  document.getElementById("browser-close").addEventListener("click", () => {
    browsing = null;
    document.getElementById("browser").hidden = true;
  });
  document.getElementById("live").addEventListener("change", schedule);
  refresh().then(schedule);
})();
