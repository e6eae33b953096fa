// Live weighted character counter for replies on X, following X's twitter-text rules (v3):
// every URL weighs 23, code points in the Latin/general-punctuation ranges weigh 1, all others
// (CJK, emoji sequences) weigh 2; the limit is 280. A DM counts plain characters up to 10,000.
// The ticket link's weight (computed by the server) is added while "append the ticket link" is
// on. The server checks the length again before anything is sent: this is only a guide.
(() => {
  const LIGHT = [[0, 4351], [8192, 8205], [8208, 8223], [8242, 8247]];
  const URL_WEIGHT = 23;
  const URL = /(?:https?:\/\/|www\.)[^\s<>"']+|\b[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)*\.(?:com|org|net|io|co|me|ly|app|dev|info|biz|us|uk|de|fr|jp|eu)\b(?:\/[^\s<>"']*)?/gi;
  // twitter-text does not link bare IP addresses or "localhost": those count as plain text.
  const NOT_LINKED = /^(?:https?:\/\/)?(?:\d{1,3}(?:\.\d{1,3}){3}|localhost)(?:[:/]|$)/i;
  const EMOJI = /\p{Extended_Pictographic}(?:\p{Emoji_Modifier}|\uFE0F)*(?:\u200D\p{Extended_Pictographic}(?:\p{Emoji_Modifier}|\uFE0F)*)*|\p{Regional_Indicator}{2}/gu;

  const charWeight = (cp) => (LIGHT.some(([lo, hi]) => cp >= lo && cp <= hi) ? 1 : 2);
  const plainWeight = (text) => {
    let total = 0;
    const rest = text.replace(EMOJI, () => { total += 2; return ""; });
    for (const ch of rest) total += charWeight(ch.codePointAt(0));
    return total;
  };

  function weightedLength(text) {
    text = text.normalize("NFC");
    let total = 0;
    let last = 0;
    for (const m of text.matchAll(URL)) {
      if (NOT_LINKED.test(m[0])) continue;
      total += plainWeight(text.slice(last, m.index)) + URL_WEIGHT;
      last = m.index + m[0].length;
    }
    return total + plainWeight(text.slice(last));
  }
  window.xWeightedLength = weightedLength;

  function bind(counter) {
    const form = counter.closest("form") || document;
    const body = document.getElementById(counter.dataset.body);
    if (!body) return;
    const out = counter.querySelector("[data-count]");
    const over = counter.querySelector("[data-over]");
    const price = counter.querySelector("[data-price]");
    const warning = counter.querySelector("[data-warning]");
    const submit = form.querySelector("[type=submit].primary, [data-x-submit]");
    const field = (name) => form.querySelectorAll(`[name="${name}"]`);

    function update() {
      const checkedMode = [...field(counter.dataset.modeName)].find((el) => el.checked);
      const mode = checkedMode ? checkedMode.value : "tweet";
      // Only a public reply goes out on X: an internal note or a reply by email has no X limit.
      const internal = [...field("kind")].some((el) => el.checked && el.value !== "public");
      const withLink = [...field(counter.dataset.linkName)].some((el) => el.type === "checkbox" && el.checked);
      const text = body.value.trim();
      let count;
      let limit;
      if (mode === "dm") {
        count = text.length + (withLink ? 1 + URL_WEIGHT : 0);
        limit = Number(counter.dataset.dmLimit);
      } else {
        count = weightedLength(text) + (withLink ? Number(counter.dataset.linkWeight) : 0);
        limit = Number(counter.dataset.tweetLimit);
      }
      const tooLong = !internal && count > limit;
      out.textContent = `${count} / ${limit}`;
      out.classList.toggle("error", tooLong);
      over.hidden = !tooLong;
      if (submit) submit.disabled = tooLong;
      const hasLink = withLink || weightedLength(text) !== plainWeight(text);
      price.classList.toggle("error", mode === "tweet" && hasLink);
      if (warning) {
        const account = form.querySelector(`[name="${counter.dataset.accountName}"]`);
        const option = account && account.selectedOptions ? account.selectedOptions[0] : null;
        const text = option ? option.dataset.warning : "";
        warning.textContent = text;
        warning.hidden = !text || mode !== "tweet" || internal;
      }
    }
    form.addEventListener("input", update);
    form.addEventListener("change", update);
    update();
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-x-counter]").forEach(bind);
  });
})();
