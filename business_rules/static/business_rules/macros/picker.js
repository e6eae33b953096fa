// The macro picker of the reply box (business_rules/macros/_picker.html).
// "m" (or the button) opens it; typing filters; the highlighted macro is previewed as the
// server rendered it for this ticket (text, changes, length as the channel counts it);
// Enter puts its text into the reply box and remembers its actions, which the server
// applies when the reply is submitted. No inline code: the page's CSP allows none.
(function () {
  "use strict";

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function setUp(root) {
    const form = root.closest("form");
    if (!form) return;
    const body = form.querySelector("textarea[name=body]");
    const dialog = root.querySelector("[data-macro-dialog]");
    const search = root.querySelector("[data-macro-search]");
    const list = root.querySelector("[data-macro-list]");
    const preview = root.querySelector("[data-macro-preview]");
    const applied = root.querySelector("[data-macro-applied]");
    const appliedList = root.querySelector("[data-macro-applied-list]");
    let macros = [];
    let shown = [];
    let current = 0;
    let seenInput = "macro_seen_{}";
    let returnFocus = null;

    // What the reply box would send ("how to answer": public:tweet, public:dm, email, internal):
    // the server measures the text the way it would go out.
    function replyChoices() {
      const data = new FormData(form);
      const params = new URLSearchParams();
      params.set("kind", data.get("kind") || "public");
      // The last value, as the server reads the form (a hidden "0" precedes the link's checkbox).
      const link = data.getAll("reply_option_append_link");
      if (link.length) params.set("append_link", link[link.length - 1]);
      return params;
    }

    function open() {
      returnFocus = document.activeElement;
      search.value = "";
      preview.replaceChildren(el("p", "muted", "Loading macros…"));
      list.replaceChildren();
      if (typeof dialog.showModal === "function") dialog.showModal(); else dialog.setAttribute("open", "");
      search.focus();
      fetch(root.dataset.url + "?" + replyChoices().toString(), { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then((response) => { if (!response.ok) throw new Error(response.status); return response.json(); })
        .then((data) => { macros = data.macros; seenInput = data.seen_input; filter(); })
        .catch(() => { preview.replaceChildren(el("p", "error", "Macros could not be loaded. Try again.")); });
    }

    function close() {
      if (dialog.open) dialog.close();
    }

    function filter() {
      const words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
      const inTitle = [];
      const inText = [];
      macros.forEach((m) => {
        const title = m.title.toLowerCase();
        const hay = title + " " + m.text.toLowerCase();
        if (!words.every((w) => hay.includes(w))) return;
        // Titles are what agents remember: macros whose title matches come first.
        (words.every((w) => title.includes(w)) ? inTitle : inText).push(m);
      });
      shown = inTitle.concat(inText);
      current = 0;
      renderList();
    }

    function renderList() {
      list.replaceChildren();
      shown.forEach((m, i) => {
        const item = el("li", "macro-picker__item");
        item.id = "macro-option-" + m.id;
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", i === current ? "true" : "false");
        item.dataset.index = String(i);
        item.appendChild(el("span", "macro-picker__title", m.title));
        item.appendChild(el("span", "macro-picker__meta small muted", (m.shared ? "shared" : "yours") + " · used " + m.usage));
        list.appendChild(item);
      });
      if (!shown.length) {
        list.appendChild(el("li", "muted macro-picker__none", macros.length ? "No macro matches." : "No macros yet."));
      }
      search.setAttribute("aria-activedescendant", shown.length ? "macro-option-" + shown[current].id : "");
      renderPreview();
    }

    function renderPreview() {
      const m = shown[current];
      if (!m) { preview.replaceChildren(); return; }
      const parts = [el("h3", "macro-preview__title", m.title)];
      if (m.text) {
        parts.push(el("pre", "macro-preview__text", m.text));
      } else {
        parts.push(el("p", "muted", "No text: only the changes below."));
      }
      if (m.fit) {
        const over = m.fit.over > 0;
        const fit = el("p", "macro-preview__fit small" + (over ? " error" : " muted"),
          m.fit.length + " / " + m.fit.limit + " · " + m.fit.what + (over ? ": too long by " + m.fit.over + ", shorten it before sending" : ""));
        fit.dataset.macroFit = over ? "over" : "ok";
        parts.push(fit);
      }
      if (m.changes.length) {
        parts.push(el("p", "small", "On submit also:"));
        parts.push(changeList(m.changes));
      }
      const apply = el("button", "primary", "Apply");
      apply.type = "button";
      apply.addEventListener("click", () => choose(current));
      parts.push(apply);
      preview.replaceChildren(...parts);
      const item = list.children[current];
      if (item && item.scrollIntoView) item.scrollIntoView({ block: "nearest" });
    }

    function changeList(changes) {
      const ul = el("ul", "macro-changes");
      changes.forEach((c) => {
        const li = el("li", c.skipped ? "macro-changes__skipped" : "", c.text + (c.skipped ? " (not applied: " + c.skipped + ")" : ""));
        ul.appendChild(li);
      });
      return ul;
    }

    function move(step) {
      if (!shown.length) return;
      current = (current + step + shown.length) % shown.length;
      Array.from(list.children).forEach((item, i) => item.setAttribute("aria-selected", i === current ? "true" : "false"));
      search.setAttribute("aria-activedescendant", "macro-option-" + shown[current].id);
      renderPreview();
    }

    function insertText(text) {
      if (!body || !text) return;
      const start = body.selectionStart ?? body.value.length;
      const end = body.selectionEnd ?? body.value.length;
      const before = body.value.slice(0, start);
      const after = body.value.slice(end);
      // Into an empty box as it is; after existing words, on a line of its own.
      const glue = before && !before.endsWith("\n") ? "\n" : "";
      body.value = before + glue + text + after;
      const caret = (before + glue + text).length;
      body.setSelectionRange(caret, caret);
      // The reply box's own counter listens for input.
      body.dispatchEvent(new Event("input", { bubbles: true }));
    }

    function choose(index) {
      const m = shown[index];
      if (!m) return;
      insertText(m.text);
      remember(m);
      close();
      if (body) body.focus();
    }

    // The inputs the server reads when the reply is submitted (applying.apply_macros_after_reply).
    function remember(m) {
      if (form.querySelector('input[name=macro][value="' + m.id + '"]')) return;
      const entry = el("li", "macros__entry");
      entry.dataset.macroId = String(m.id);
      const id = el("input"); id.type = "hidden"; id.name = "macro"; id.value = String(m.id);
      const seen = el("input"); seen.type = "hidden"; seen.name = seenInput.replace("{}", m.id); seen.value = JSON.stringify(m.seen);
      entry.append(id, seen, el("strong", "", m.title));
      if (m.changes.length) entry.appendChild(changeList(m.changes)); else entry.appendChild(el("span", "muted", " (no changes)"));
      const remove = el("button", "link small", "Don't apply its changes");
      remove.type = "button";
      remove.dataset.macroRemove = "";
      entry.appendChild(remove);
      appliedList.appendChild(entry);
      applied.hidden = false;
    }

    // Entries added here and those the server drew again after a refused submit alike.
    appliedList.addEventListener("click", (event) => {
      const remove = event.target.closest("[data-macro-remove]");
      if (!remove) return;
      remove.closest(".macros__entry").remove();
      applied.hidden = !appliedList.children.length;
    });

    root.querySelector("[data-macro-open]").addEventListener("click", open);
    search.addEventListener("input", filter);
    search.addEventListener("keydown", (event) => {
      if (event.key === "ArrowDown") { event.preventDefault(); move(1); }
      else if (event.key === "ArrowUp") { event.preventDefault(); move(-1); }
      else if (event.key === "Enter") {
        // Inside the reply form: Enter must apply the macro, never submit the reply.
        event.preventDefault();
        choose(current);
      }
    });
    list.addEventListener("click", (event) => {
      const item = event.target.closest("[data-index]");
      if (!item) return;
      current = Number(item.dataset.index);
      Array.from(list.children).forEach((node, i) => node.setAttribute("aria-selected", i === current ? "true" : "false"));
      renderPreview();
    });
    list.addEventListener("dblclick", (event) => {
      const item = event.target.closest("[data-index]");
      if (item) choose(Number(item.dataset.index));
    });
    dialog.addEventListener("close", () => {
      if (returnFocus && returnFocus !== body && document.activeElement === document.body) returnFocus.focus();
    });
    // A click on the backdrop (outside the dialog's box) closes it.
    dialog.addEventListener("click", (event) => { if (event.target === dialog) close(); });
  }

  function start() {
    document.querySelectorAll("[data-macros]").forEach(setUp);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
