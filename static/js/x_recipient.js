// The X reply options name who receives the reply ("Public reply to @alice, under their post …",
// "DM to @alice"). When an agent picks a participant of the thread instead of the requester, the
// labels follow, so the form always says who will receive the message before it is sent.
(() => {
  for (const select of document.querySelectorAll("[data-x-to]")) {
    const fields = select.closest("[data-x-recipient-fields]");
    const update = () => {
      const option = select.selectedOptions[0];
      if (!option) return;
      for (const label of fields.querySelectorAll("[data-mode-label]")) {
        const text = label.dataset.modeLabel === "dm" ? option.dataset.dmLabel : option.dataset.tweetLabel;
        if (text) label.textContent = text;
      }
    };
    select.addEventListener("change", update);
    update();
  }
})();
