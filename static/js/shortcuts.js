// Keyboard shortcuts for the agent's common moves, and their help on "?".
//
// Queue pages: j / k move through the tickets, Enter (or o) opens one, x selects it.
// Ticket pages: j / k open the next / previous ticket of the list the agent came from
// (remembered in sessionStorage when a queue page is left), r reply, n internal note,
// m macro, s status on submit, Ctrl+Enter sends. Keys are ignored while typing, except
// Esc (leaves the field), Ctrl+Enter (submits the reply) and Alt+M (macros).
// Static file, no inline code: the Content-Security-Policy allows none.
(function () {
  "use strict";

  // [keys, what]: keys joined by " / " are alternatives of one move (j / k: next / previous).
  const HELP = [
    ["Everywhere", [[["?"], "Show or hide this help"], [["u"], "Back to the list"],
      [["Esc"], "Close a window, leave a text box"]]],
    ["Lists of tickets", [[["j", "k"], "Next / previous ticket"], [["Enter", "o"], "Open the ticket"],
      [["x"], "Select the ticket for bulk actions"]]],
    ["A ticket", [
      [["j", "k"], "Next / previous ticket of the list you came from"],
      [["r"], "Reply to the requester"],
      [["n"], "Internal note"],
      [["m", "Alt+M"], "Apply a macro (Alt+M also while typing)"],
      [["s"], "Status to set on submit"],
      [["Ctrl+Enter"], "Submit the reply (in the reply box)"],
    ]],
  ];
  const LIST_KEY = "helpdesk.shortcuts.list";

  function typing(target) {
    if (!target || !target.tagName) return false;
    const tag = target.tagName.toLowerCase();
    return tag === "textarea" || tag === "select" || target.isContentEditable ||
      (tag === "input" && !["checkbox", "radio", "button", "submit"].includes(target.type));
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // --- the help overlay -------------------------------------------------------------------
  let help = null;
  function helpDialog() {
    if (help) return help;
    help = el("dialog", "shortcuts-help");
    help.setAttribute("aria-labelledby", "shortcuts-help-title");
    const title = el("h2", "", "Keyboard shortcuts");
    title.id = "shortcuts-help-title";
    help.appendChild(title);
    const columns = el("div", "shortcuts-help__columns");
    HELP.forEach(([section, keys]) => {
      const block = el("section");
      block.appendChild(el("h3", "", section));
      const dl = el("dl");
      keys.forEach(([key, what]) => {
        const dt = el("dt");
        key.forEach((k, i) => {
          if (i) dt.appendChild(document.createTextNode(" / "));
          dt.appendChild(el("kbd", "", k));
        });
        dl.append(dt, el("dd", "", what));
      });
      block.appendChild(dl);
      columns.appendChild(block);
    });
    help.appendChild(columns);
    const close = el("button", "", "Close");
    close.type = "button";
    close.addEventListener("click", () => help.close());
    help.appendChild(close);
    help.addEventListener("click", (event) => { if (event.target === help) help.close(); });
    document.body.appendChild(help);
    return help;
  }

  function toggleHelp() {
    const dialog = helpDialog();
    if (dialog.open) dialog.close(); else dialog.showModal();
  }

  // --- lists of tickets ---------------------------------------------------------------------
  function rows() {
    return Array.from(document.querySelectorAll("tr[data-ticket]")).filter((row) => row.querySelector("a[href]"));
  }

  function rememberList() {
    const found = rows();
    if (!found.length) return;
    const tickets = found.map((row) => row.querySelector("a[href]").getAttribute("href"));
    try {
      sessionStorage.setItem(LIST_KEY, JSON.stringify({ url: location.pathname + location.search, tickets: tickets }));
    } catch (e) { /* storage full or off: shortcuts on ticket pages fall back to the queue */ }
  }

  function currentRow() {
    return document.querySelector("tr[data-ticket].is-current");
  }

  function moveRow(step) {
    const all = rows();
    if (!all.length) return;
    const now = currentRow();
    let index = now ? all.indexOf(now) + step : (step > 0 ? 0 : all.length - 1);
    index = Math.max(0, Math.min(all.length - 1, index));
    if (now) now.classList.remove("is-current");
    all[index].classList.add("is-current");
    all[index].scrollIntoView({ block: "nearest" });
  }

  // --- a ticket page ------------------------------------------------------------------------
  function remembered() {
    try { return JSON.parse(sessionStorage.getItem(LIST_KEY) || "null"); } catch (e) { return null; }
  }

  function neighbour(step) {
    const list = remembered();
    if (!list) return null;
    const here = location.pathname;
    const index = list.tickets.indexOf(here);
    if (index < 0) return null;
    return list.tickets[index + step] || null;
  }

  function replyForm() {
    return document.getElementById("reply-form") || (document.querySelector("form textarea[name=body]") || {}).form;
  }

  // "How to answer" (kind): "public" stands for any public answer ("public:tweet",
  // "public:dm"…): the one already chosen if it is public, else the first offered.
  function setKind(form, value) {
    const radios = Array.from(form.querySelectorAll("input[name=kind]"));
    const fits = (radio) => radio.value === value || radio.value.startsWith(value + ":");
    if (!radios.length) {
      const select = form.querySelector("select[name=kind]");
      const option = select && Array.from(select.options).find((o) => o.value === value || o.value.startsWith(value + ":"));
      if (option && !fits(select)) { select.value = option.value; select.dispatchEvent(new Event("change", { bubbles: true })); }
      return;
    }
    const checked = radios.find((r) => r.checked);
    if (checked && fits(checked)) return;
    const radio = radios.find(fits);
    if (radio) {
      radio.checked = true;
      radio.dispatchEvent(new Event("change", { bubbles: true }));
    }
  }

  function answer(kind) {
    const form = replyForm();
    if (!form) return false;
    setKind(form, kind);
    const body = form.querySelector("textarea[name=body]");
    if (body) { body.focus(); body.scrollIntoView({ block: "center" }); }
    return true;
  }

  function openMacros() {
    const button = document.querySelector("[data-macro-open]");
    if (!button) return false;
    button.click();
    return true;
  }

  function statusOnSubmit() {
    const form = replyForm();
    const select = form && form.querySelector("select[name=then_status]");
    if (!select) return false;
    select.focus();
    return true;
  }

  // --- the keys -----------------------------------------------------------------------------
  document.addEventListener("keydown", (event) => {
    if (event.defaultPrevented || event.isComposing) return;
    const target = event.target;
    // Alt+M (by physical key: on a Mac Alt+M types "µ") opens macros even while typing.
    if (event.altKey && !event.ctrlKey && !event.metaKey && event.code === "KeyM") {
      if (openMacros()) event.preventDefault();
      return;
    }
    if (typing(target)) {
      if ((event.ctrlKey || event.metaKey) && event.key === "Enter" && target.form && target.name === "body") {
        event.preventDefault();
        target.form.requestSubmit();
      } else if (event.key === "Escape" && !target.closest("dialog")) {
        target.blur();
      }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (document.querySelector("dialog[open]") && event.key !== "?") return;
    let handled = true;
    switch (event.key) {
      case "?": toggleHelp(); break;
      case "j": case "k": {
        const step = event.key === "j" ? 1 : -1;
        if (rows().length) { moveRow(step); break; }
        const next = neighbour(step);
        if (next) location.href = next; else handled = false;
        break;
      }
      case "Enter": case "o": {
        const row = currentRow();
        if (row) { rememberList(); location.href = row.querySelector("a[href]").getAttribute("href"); } else handled = false;
        break;
      }
      case "x": {
        const box = currentRow() && currentRow().querySelector("input[type=checkbox]");
        if (box) box.click(); else handled = false;
        break;
      }
      case "u": {
        const list = remembered();
        location.href = (list && list.url) || "/";
        break;
      }
      case "r": handled = answer("public"); break;
      case "n": handled = answer("internal"); break;
      case "m": handled = openMacros(); break;
      case "s": handled = statusOnSubmit(); break;
      default: handled = false;
    }
    if (handled) event.preventDefault();
  });

  function start() {
    // The list a ticket was opened from, as the agent saw it when leaving (live updates move rows).
    if (rows().length) {
      rememberList();
      window.addEventListener("pagehide", rememberList);
    }
    const whoami = document.querySelector(".whoami");
    if (whoami) {
      const button = el("button", "link shortcuts-hint", "Shortcuts");
      button.type = "button";
      button.setAttribute("aria-keyshortcuts", "?");
      button.appendChild(document.createTextNode(" "));
      button.appendChild(el("kbd", "", "?"));
      button.addEventListener("click", toggleHelp);
      whoami.prepend(button);
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
