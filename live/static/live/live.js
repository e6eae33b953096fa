// The live workspace: one WebSocket per page (/live/ws/) that keeps queues, tickets, the
// sidebar counters and notices current, and shows who else is on a ticket. Pages work
// without it: when the socket is down a "paused" notice shows and it reconnects with
// back-off; on every (re)connect the page tells the server what it shows and gets the
// current state back, so nothing missed while away stays missing.
(() => {
  "use strict";
  const status = document.getElementById("live-status");
  if (!status || !("WebSocket" in window)) return;
  const me = Number(status.dataset.user);
  const notices = document.getElementById("live-notices");
  const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/live/ws/";
  let socket = null;
  let attempt = 0;
  let watchTimer = null;
  let retryTimer = null;
  let heardAt = 0;
  let heartbeat = 10000;

  // --- the connection ---------------------------------------------------------------------
  // The server pings every heartbeat and this page answers from its message handler (which
  // browsers run at once even in a background tab, unlike timers). A server silent for
  // three heartbeats is gone without a close (network dropped, laptop woke up elsewhere):
  // the page closes the socket itself and reconnects.
  let signedOutTries = 0;
  let opened = false;
  function connect() {
    clearTimeout(retryTimer);
    opened = false;
    socket = new WebSocket(url);
    socket.addEventListener("open", () => {
      opened = true;
      signedOutTries = 0;
      attempt = 0;
      heardAt = Date.now();
      status.hidden = true;
      document.documentElement.dataset.live = "on";
      send(describePage());
      watchTimer = setInterval(() => {
        if (socket && Date.now() - heardAt > 3 * heartbeat) socket.close();
      }, 5000);
    });
    socket.addEventListener("message", (event) => {
      heardAt = Date.now();
      handle(JSON.parse(event.data));
    });
    socket.addEventListener("close", (event) => {
      clearInterval(watchTimer);
      socket = null;
      if (leaving) return;
      status.hidden = false;
      document.documentElement.dataset.live = "off";
      if (event.code === 4401) {
        // The sign-in this socket was opened with ended (a logout here or in another tab, the
        // user deactivated, a password change). Try twice more, which succeeds only if this
        // browser is still signed in (it changed its own password: its session gets the new
        // hash when that request ends, a moment after the socket was closed).
        signedOutTries = 2;
        retryTimer = setTimeout(connect, 1000);
        return;
      }
      if (signedOutTries && !opened) {
        signedOutTries -= 1;
        if (signedOutTries) {
          retryTimer = setTimeout(connect, 3000);
          return;
        }
        // Refused: signed out for good. The next page load asks to sign in.
        status.textContent = "Signed out: live updates stopped. Reload the page to sign in again.";
        return;
      }
      // 0.5 s, 1 s, 2 s … up to 30 s, with jitter so a restarted server is not stormed.
      const delay = Math.min(30000, 500 * 2 ** attempt) * (0.75 + Math.random() / 2);
      attempt += 1;
      retryTimer = setTimeout(connect, delay);
    });
  }
  function send(message) {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
  }
  window.addEventListener("online", () => { if (!socket) connect(); });
  // Leaving the page closes the socket at once, so the others see this agent go: a page kept
  // in the back/forward cache would otherwise hold it open, "viewing" a ticket nobody sees.
  let leaving = false;
  window.addEventListener("pagehide", () => {
    leaving = true;
    clearTimeout(retryTimer);
    if (socket) socket.close(1000);
  });
  window.addEventListener("pageshow", (event) => {
    if (event.persisted) { leaving = false; connect(); }
  });

  // --- what this page shows -----------------------------------------------------------------
  const queueBody = document.querySelector("table.tickets tbody");
  const ticketMatch = location.pathname.match(/^\/tickets\/(\d+)\/$/);
  const thread = document.querySelector(".conversation .thread");
  const ticketId = ticketMatch && document.getElementById("reply-form") ? Number(ticketMatch[1]) : null;

  function queueRows() {
    return Array.from(queueBody.querySelectorAll("tr[data-ticket]"));
  }
  function lastCommentId() {
    // An older page of a long conversation does not take new comments (null).
    if (document.querySelector(".conversation .later")) return null;
    const ids = Array.from(thread.querySelectorAll(":scope > li.comment")).map((li) => Number(li.id.replace("comment-", "")));
    return ids.length ? Math.max(...ids) : 0;
  }
  function describePage() {
    if (ticketId) return { type: "subscribe", page: "ticket", ticket: ticketId, last_comment: lastCommentId() };
    if (queueBody) {
      return { type: "subscribe", page: "queue", path: location.pathname, query: location.search,
        shown: queueRows().map((row) => Number(row.dataset.ticket)) };
    }
    return { type: "subscribe", page: "" };
  }

  function handle(message) {
    if (message.type === "ping") {
      if (message.every) heartbeat = message.every * 1000;
      send({ type: "pong" });
      return;
    }
    const handlers = { queue: applyQueue, viewing: applyViewing, ticket: applyTicket, "ticket.gone": ticketGone,
      presence: applyPresence, typing: applyTyping, counts: applyCounts, followed: applyFollowed, notice: showNotice };
    const handler = handlers[message.type];
    if (handler) handler(message);
  }

  function fromHtml(html) {
    const template = document.createElement("template");
    template.innerHTML = html.trim();
    return template.content.firstElementChild;
  }

  // --- queue pages ------------------------------------------------------------------------------
  function applyQueue(message) {
    const existing = new Map(queueRows().map((row) => [row.dataset.ticket, row]));
    const checked = new Set(Array.from(queueBody.querySelectorAll("input[name=ticket_ids]:checked")).map((box) => box.value));
    // Keep what the agent is looking at in place: remember where the first row on screen is.
    const anchor = queueRows().find((row) => row.getBoundingClientRect().bottom > 0);
    const anchorTop = anchor ? anchor.getBoundingClientRect().top : 0;
    const wanted = message.ids.map(String);
    const order = [];
    for (const id of wanted) {
      let row = existing.get(id);
      if (message.rows[id]) {
        const fresh = fromHtml(message.rows[id]);
        if (checked.has(id)) fresh.querySelector("input[name=ticket_ids]").checked = true;
        if (!row) fresh.classList.add("live-new");
        if (row) row.replaceWith(fresh);
        row = fresh;
      }
      if (row) order.push(row);
    }
    for (const [id, row] of existing) if (!wanted.includes(id)) row.remove();
    const placeholder = queueBody.querySelector("td.empty");
    if (order.length && placeholder) placeholder.parentElement.remove();
    if (!order.length && !placeholder) queueBody.append(fromHtml('<tr><td colspan="10" class="empty">No tickets here.</td></tr>'));
    order.forEach((row) => queueBody.append(row));
    if (anchor && anchor.isConnected) window.scrollBy(0, anchor.getBoundingClientRect().top - anchorTop);
    for (const row of queueRows()) markViewing(row, (message.viewing || {})[row.dataset.ticket] || []);
  }
  function applyViewing(message) {
    const row = queueBody && queueBody.querySelector(`tr[data-ticket="${message.ticket}"]`);
    if (row) markViewing(row, message.names);
  }
  function markViewing(row, names) {
    let mark = row.querySelector(".live-viewing");
    if (!names.length) { if (mark) mark.remove(); return; }
    if (!mark) {
      mark = document.createElement("span");
      mark.className = "live-viewing";
      row.querySelector("td:nth-child(3)").append(mark);
    }
    mark.textContent = `open: ${names.join(", ")}`;
    mark.title = `${names.join(", ")} ${names.length > 1 ? "have" : "has"} this ticket open`;
  }

  // --- ticket pages -----------------------------------------------------------------------------
  const propertiesForm = document.getElementById("properties-form");
  const replyForm = document.getElementById("reply-form");
  let propertiesDirty = false;
  if (propertiesForm) propertiesForm.addEventListener("input", () => { propertiesDirty = true; });
  let shownProperties = null;

  function applyTicket(message) {
    const p = message.properties;
    const badge = document.getElementById("ticket-status");
    if (badge) { badge.textContent = p.status_label; badge.className = `status status--${p.status}`; }
    if (shownProperties) {
      const moved = [];
      if (shownProperties.status !== p.status) moved.push(`status to ${p.status_label}`);
      if (shownProperties.priority !== p.priority) moved.push(`priority to ${p.priority_label}`);
      if (shownProperties.assignee !== p.assignee) moved.push(`assignee to ${p.assignee_label || "nobody"}`);
      if (shownProperties.group !== p.group) moved.push(`group to ${p.group_label || "none"}`);
      if (shownProperties.tags !== p.tags) moved.push(`tags to ${p.tags || "none"}`);
      if (moved.length) ticketNote(`${message.changed_by || "Someone"} changed ${moved.join(", ")}.`);
    }
    shownProperties = p;
    if (propertiesForm && !propertiesDirty) {
      setField("status", p.status); setField("priority", p.priority); setField("assignee", p.assignee ?? "");
      setField("group", p.group ?? ""); setField("tags", p.tags);
    }
    if (thread && message.comments && message.comments.length && lastCommentId() !== null) {
      const empty = thread.querySelector(":scope > li.empty");
      if (empty) empty.remove();
      for (const comment of message.comments) {
        if (document.getElementById(`comment-${comment.id}`)) continue;
        const li = fromHtml(comment.html);
        li.classList.add("live-new");
        thread.append(li);
        const body = replyForm && replyForm.querySelector("textarea[name=body]");
        if (comment.agent && comment.agent !== me && body && body.value.trim()) {
          ticketNote(`${comment.author} just answered this ticket: read it before sending yours.`, "warning");
        }
      }
    }
    for (const d of message.deliveries || []) applyDelivery(d);
  }
  function setField(name, value) {
    // The form posts back the value each field was drawn with (hidden "initial-<name>", the
    // edit-conflict rule): a value shown live counts as drawn, so it moves too.
    const text = value === null || value === undefined ? "" : String(value);
    for (const fieldName of [name, `initial-${name}`]) {
      const field = propertiesForm.elements.namedItem(fieldName);
      if (field && "value" in field) field.value = text;
    }
  }
  function applyDelivery(d) {
    const li = document.getElementById(`comment-${d.comment}`);
    if (!li) return;
    let badge = li.querySelector(".delivery");
    if (!badge) {
      badge = document.createElement("span");
      li.querySelector("header time").before(badge);
    }
    badge.className = `delivery delivery--${d.delivery}`;
    badge.textContent = d.label;
    badge.title = d.error || "";
  }
  function ticketGone() {
    ticketNote("This ticket is no longer in your views; live updates for it stopped.", "warning");
  }
  function ticketNote(text, kind = "info") {
    let note = document.getElementById("live-ticket-note");
    if (!note) {
      note = document.createElement("p");
      note.id = "live-ticket-note";
      note.setAttribute("role", "status");
      document.querySelector(".pagehead").after(note);
    }
    note.className = `live-note live-note--${kind}`;
    note.textContent = text;
  }

  // Presence and typing.
  const typing = new Map(); // user id -> {name, timer}
  function presenceBox() {
    let box = document.getElementById("live-presence");
    if (!box) {
      box = document.createElement("p");
      box.id = "live-presence";
      box.className = "live-presence";
      document.querySelector(".pagehead").append(box);
    }
    return box;
  }
  function applyPresence(message) {
    const box = presenceBox();
    box.textContent = message.viewers.length ? `Also viewing: ${message.viewers.map((v) => v.name).join(", ")}` : "";
    box.hidden = !message.viewers.length;
    // Someone who left stops typing too.
    const here = new Set(message.viewers.map((v) => v.user));
    for (const id of typing.keys()) if (!here.has(id)) { clearTimeout(typing.get(id).timer); typing.delete(id); }
    renderTyping();
  }
  function applyTyping(message) {
    const current = typing.get(message.user);
    if (current) clearTimeout(current.timer);
    if (message.typing) {
      // The typist repeats every few seconds; silence means they stopped (or their tab died).
      typing.set(message.user, { name: message.name, timer: setTimeout(() => { typing.delete(message.user); renderTyping(); }, 7000) });
    } else {
      typing.delete(message.user);
    }
    renderTyping();
  }
  function renderTyping() {
    if (!replyForm) return;
    let line = document.getElementById("live-typing");
    if (!line) {
      line = document.createElement("p");
      line.id = "live-typing";
      line.className = "live-typing";
      replyForm.before(line);
    }
    const names = Array.from(typing.values()).map((t) => t.name);
    line.textContent = names.length ? `${names.join(", ")} ${names.length > 1 ? "are" : "is"} typing a reply…` : "";
    line.hidden = !names.length;
  }
  if (replyForm) {
    const body = replyForm.querySelector("textarea[name=body]");
    let lastSent = 0;
    let idle = null;
    const stop = () => { clearTimeout(idle); if (lastSent) { send({ type: "typing", typing: false }); lastSent = 0; } };
    if (body) {
      body.addEventListener("input", () => {
        if (Date.now() - lastSent > 2500) { send({ type: "typing", typing: true }); lastSent = Date.now(); }
        clearTimeout(idle);
        idle = setTimeout(stop, 4000);
      });
      body.addEventListener("blur", stop);
    }
    replyForm.addEventListener("submit", stop);
  }

  // --- sidebar: counters and followed views ---------------------------------------------------
  function viewLinks() {
    return Array.from(document.querySelectorAll(".queuenav a[href*='/views/']"))
      .map((a) => ({ a, slug: a.getAttribute("href").split("/").filter(Boolean).pop() }));
  }
  for (const { a, slug } of viewLinks()) {
    const bell = document.createElement("button");
    bell.type = "button";
    bell.className = "live-follow";
    bell.dataset.view = slug;
    bell.setAttribute("aria-pressed", "false");
    bell.title = "Notify me of new tickets in this view";
    bell.setAttribute("aria-label", `Notify me of new tickets in ${a.textContent.trim()}`);
    bell.textContent = "☆";
    bell.addEventListener("click", () => {
      send({ type: "follow", view: slug, on: bell.getAttribute("aria-pressed") !== "true" });
      if ("Notification" in window && Notification.permission === "default") Notification.requestPermission();
    });
    a.parentElement.classList.add("live-view");
    a.after(bell);
  }
  function applyCounts(message) {
    for (const { a, slug } of viewLinks()) {
      if (!(slug in message.counts)) continue;
      let count = a.querySelector(".live-count");
      if (!count) {
        count = document.createElement("span");
        count.className = "live-count";
        a.append(count);
      }
      count.textContent = message.counts[slug];
    }
    // The heading's total on an unfiltered view page is that view's count.
    const current = document.querySelector(".queuenav a[aria-current][href*='/views/']");
    const total = document.querySelector(".pagehead .muted");
    if (current && total && queueBody && !location.search) {
      const n = message.counts[current.getAttribute("href").split("/").filter(Boolean).pop()];
      if (n !== undefined) total.textContent = `${n} ticket${n === 1 ? "" : "s"}`;
    }
  }
  function applyFollowed(message) {
    const followed = new Set(message.views);
    for (const bell of document.querySelectorAll(".live-follow")) {
      const on = followed.has(bell.dataset.view);
      bell.setAttribute("aria-pressed", on ? "true" : "false");
      bell.textContent = on ? "★" : "☆";
      bell.title = on ? "You are notified of new tickets in this view (click to stop)" : "Notify me of new tickets in this view";
    }
  }

  // --- notices ----------------------------------------------------------------------------------
  function showNotice(message) {
    const item = document.createElement("div");
    item.className = `live-notice live-notice--${message.kind}`;
    const link = document.createElement("a");
    link.href = message.url;
    const title = document.createElement("strong");
    title.textContent = message.title;
    link.append(title, document.createElement("br"), document.createTextNode(message.text));
    const close = document.createElement("button");
    close.type = "button";
    close.className = "link live-notice-close";
    close.setAttribute("aria-label", "Dismiss");
    close.textContent = "×";
    close.addEventListener("click", () => item.remove());
    item.append(link, close);
    notices.prepend(item);
    setTimeout(() => item.remove(), 20000);
    while (notices.children.length > 5) notices.lastElementChild.remove();
    if ("Notification" in window && Notification.permission === "granted" && document.hidden) {
      const note = new Notification(message.title, { body: message.text, tag: message.url });
      note.addEventListener("click", () => { window.focus(); location.href = message.url; });
    }
  }

  connect();
})();
