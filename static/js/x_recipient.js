// The ways of answering on X name who receives the reply ("Public reply on X to @alice, under
// their post …", "Direct message on X to @alice"). When an agent picks a participant of the
// thread instead of the requester, the labels follow, so the form always says who will receive
// the message before it is sent: the X composer's own mode labels, and on the ticket page the
// reply box's "How to answer" labels (public:tweet, public:dm).
(() => {
  for (const select of document.querySelectorAll("[data-x-to]")) {
    const form = select.closest("form") || document;
    const update = () => {
      const option = select.selectedOptions[0];
      if (!option) return;
      const labels = { tweet: option.dataset.tweetLabel, dm: option.dataset.dmLabel };
      for (const label of form.querySelectorAll("[data-mode-label]")) {
        if (labels[label.dataset.modeLabel]) label.textContent = labels[label.dataset.modeLabel];
      }
      for (const label of form.querySelectorAll('[data-answer-label^="public:"]')) {
        const mode = label.dataset.answerLabel.split(":")[1];
        if (labels[mode]) label.textContent = labels[mode];
      }
    };
    select.addEventListener("change", update);
    update();
  }
})();
