// The reply box's one choice of how to answer (a form with data-answer-field naming its radio
// group: "kind" on the ticket page, "mode" on the X composer). Only what applies to the chosen
// way shows: inputs marked data-applies="tweet dm" are hidden for an email or an internal note,
// and so on. The server draws the same state first (the choice drawn), so this only follows changes.
(() => {
  const SUBMIT = { tweet: "Post reply on X", dm: "Send DM on X", email: "Send email", internal: "Add internal note" };

  function answerOf(form) {
    const checked = form.querySelector(`[name="${form.dataset.answerField}"]:checked`);
    const value = checked ? checked.value : "";
    // "public:tweet" is the ticket page's spelling of the X composer's "tweet".
    return value.includes(":") ? value.split(":")[1] : value;
  }

  function bind(form) {
    const submit = form.querySelector("[data-submit-label]");
    function update() {
      const answer = answerOf(form);
      for (const el of form.querySelectorAll("[data-applies]")) {
        el.hidden = Boolean(answer) && !el.dataset.applies.split(" ").includes(answer);
      }
      for (const cls of [...form.classList]) if (cls.startsWith("reply--")) form.classList.remove(cls);
      if (answer) form.classList.add(`reply--${answer}`);
      if (submit) submit.textContent = SUBMIT[answer] || "Submit";
      form.dispatchEvent(new CustomEvent("answerchange", { detail: { answer } }));
    }
    form.addEventListener("change", (event) => {
      if (event.target.name === form.dataset.answerField) update();
    });
    update();
  }

  window.replyAnswerOf = answerOf;
  document.querySelectorAll("form[data-answer-field]").forEach(bind);
})();
