// The ticket page's "Merge into another ticket…": the merge page's panel (tickets/merging/views.py,
// `?partial=1`) in a dialog. Searching and picking a ticket swap the panel; the confirm form posts
// as on the page itself. Without JavaScript the link opens that page.
(() => {
  const opener = document.querySelector("[data-merge-open]");
  const dialog = document.getElementById("merge-dialog");
  if (!opener || !dialog || typeof dialog.showModal !== "function") return;
  const body = dialog.querySelector("[data-merge-body]");

  const load = async (url) => {
    const address = new URL(url, window.location.href);
    address.searchParams.set("partial", "1");
    const response = await fetch(address, { headers: { Accept: "text/html" }, credentials: "same-origin" });
    if (!response.ok) {
      body.textContent = response.status === 404 ? "No such ticket." : "Could not load the merge panel; try again.";
      return;
    }
    body.innerHTML = await response.text();  // server-rendered and escaped by Django's templates
    const field = body.querySelector("input[type=search]");
    if (field) {
      field.focus();
      field.setSelectionRange(field.value.length, field.value.length);
    }
  };

  let typing;
  body.addEventListener("input", (event) => {
    if (!event.target.matches("input[type=search]")) return;
    const form = event.target.form;
    clearTimeout(typing);
    typing = setTimeout(() => load(`${form.action}?${new URLSearchParams(new FormData(form))}`), 250);
  });
  body.addEventListener("submit", (event) => {
    const form = event.target;
    if (form.method.toLowerCase() !== "get") return;  // the confirm form posts normally
    event.preventDefault();
    load(`${form.action}?${new URLSearchParams(new FormData(form))}`);
  });
  body.addEventListener("click", (event) => {
    const link = event.target.closest("[data-merge-link]");
    if (!link) return;
    event.preventDefault();
    load(link.href);
  });
  opener.addEventListener("click", (event) => {
    event.preventDefault();
    dialog.showModal();
    load(opener.href);
  });
  dialog.querySelector("[data-merge-close]").addEventListener("click", () => dialog.close());
})();
