// Live weighted character counter for replies on X. It counts with X's own twitter-text
// (static/vendor/twitter-text, window.twttr.txt.parseTweet): the same rules and configuration
// the server checks with (twitter-text-parser, twitter_channel/text_length.py), so browser and
// server agree on every URL, emoji and CJK character. A DM counts plain characters up to 10,000.
// The ticket link's weight (computed by the server) is added while "append the ticket link" is on.
// The server checks the length again before anything is sent.
(() => {
  const URL_WEIGHT = 23;
  const txt = window.twttr && window.twttr.txt;

  function weightedLength(text) {
    return text ? txt.parseTweet(text).weightedLength : 0;
  }
  function hasUrl(text) {
    return text ? txt.extractUrls(text).length > 0 : false;
  }
  window.xWeightedLength = weightedLength;

  function bind(counter) {
    const form = counter.closest("form") || document;
    const body = document.getElementById(counter.dataset.body);
    if (!body) return;
    const out = counter.querySelector("[data-count]");
    const over = counter.querySelector("[data-over]");
    const price = counter.querySelector("[data-price]");
    const priceValue = price && price.querySelector("[data-price-value]");
    const priceWhy = price && price.querySelector("[data-price-why]");
    const warning = counter.querySelector("[data-warning]");
    const submit = form.querySelector("[type=submit].primary, [data-x-submit]");
    const field = (name) => form.querySelectorAll(`[name="${name}"]`);

    function currentMode() {
      // The ticket page's "How to answer" (public:tweet, public:dm, email, internal) or the
      // X composer's own mode radios (tweet, dm).
      // A plain "public" (a ticket with nothing on X to answer yet) is held to a post's rules.
      const checked = [...field(counter.dataset.modeName)].find((el) => el.checked);
      const value = checked ? checked.value : "tweet";
      const mode = value.includes(":") ? value.split(":")[1] : value;
      return mode === "public" ? "tweet" : mode;
    }

    function update() {
      const mode = currentMode();
      const onX = mode === "tweet" || mode === "dm";
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
      // Only a post or a DM goes out on X: an internal note or an email has no X limit.
      const tooLong = onX && count > limit;
      out.textContent = `${count} / ${limit}`;
      out.classList.toggle("error", tooLong);
      over.hidden = !tooLong;
      if (submit) submit.disabled = tooLong;
      if (price && priceValue) {
        const linked = withLink || hasUrl(text);
        priceValue.textContent = linked ? price.dataset.withLink : price.dataset.plain;
        priceWhy.textContent = linked
          ? (withLink ? ": it contains a link (the ticket link counts)" : ": it contains a link")
          : `; ${price.dataset.withLink} with a link`;
      }
      if (warning) {
        const account = form.querySelector(`[name="${counter.dataset.accountName}"]`);
        const option = account && account.selectedOptions ? account.selectedOptions[0] : null;
        const text = option ? option.dataset.warning : "";
        warning.textContent = text;
        warning.hidden = !text || mode !== "tweet";
      }
    }
    form.addEventListener("input", update);
    form.addEventListener("change", update);
    update();
  }

  document.querySelectorAll("[data-x-counter]").forEach(bind);
})();
