"""The /sandbox/ page: act as X users and watch what the helpdesk (the brand) does.

A single static page; everything it does goes through the JSON control API, so what a
person can do here a test can do too.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>X sandbox</title>
<style>
 body{font-family:system-ui,sans-serif;margin:0;display:grid;grid-template-columns:23rem 1fr;min-height:100vh}
 aside{background:#f4f6f8;padding:1rem;border-right:1px solid #ddd;overflow:auto}
 main{padding:1rem;overflow:auto} h1{font-size:1.2rem;margin:.2rem 0 1rem} h2{font-size:1rem;margin:1rem 0 .4rem}
 form{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.6rem;margin-bottom:.6rem}
 input,select,textarea{width:100%;box-sizing:border-box;margin:.15rem 0;padding:.3rem}
 button{padding:.3rem .8rem;margin-top:.2rem} .pic{height:48px;border-radius:4px;vertical-align:middle} .tweet{border-left:3px solid #1d9bf0;padding:.3rem .6rem;margin:.3rem 0;background:#fff}
 .brand{border-color:#f91880} .deleted{opacity:.45;text-decoration:line-through} .replies{margin-left:1.4rem}
 .meta{color:#666;font-size:.8rem} .dm{border-left:3px solid #7856ff;padding:.3rem .6rem;margin:.3rem 0;background:#fff}
 #msg{color:#b00;min-height:1.2rem} code{font-size:.8rem}
</style></head><body>
<aside>
<h1>X sandbox</h1><div id="msg"></div>
<form id="f-user"><b>Create user</b><input name="username" placeholder="username" required>
 <input name="name" placeholder="display name"><label><input type="checkbox" name="brand" style="width:auto"> brand account</label>
 <button>Create</button></form>
<form id="f-tweet"><b>Post as a user</b> (mention @brand to reach the helpdesk)<select name="author" class="users"></select>
 <textarea name="text" rows="2" placeholder="@AcmeSupport my order is late" required></textarea>
 <input name="in_reply_to_tweet_id" placeholder="reply to tweet id (optional)">
 <label><input type="checkbox" name="photo" style="width:auto"> attach a photo</label><button>Post</button></form>
<form id="f-dm"><b>Send a DM</b><select name="sender" class="users"></select>
 <select name="recipient" class="users"></select><input name="conversation_id" placeholder="or group conversation id">
 <textarea name="text" rows="2" required></textarea>
 <label><input type="checkbox" name="photo" style="width:auto"> attach a photo</label><button>Send</button></form>
<form id="f-group"><b>Start a group DM</b><select name="creator" class="users"></select>
 <input name="participants" placeholder="other usernames, comma separated" required><input name="text" placeholder="first message">
 <button>Create group</button></form>
<form id="f-like"><b>Like as the brand</b><input name="tweet_id" placeholder="tweet id" required><button>Like</button></form>
<form id="f-delete"><b>Delete a tweet</b><input name="id" placeholder="tweet id" required><button>Delete</button></form>
<form id="f-token"><b>Mint a token</b><select name="user" class="users"></select><button>Mint (all scopes)</button>
 <div id="minted" class="meta"></div></form>
<form id="f-revoke"><b>Revoke a token</b><input name="token" placeholder="access or refresh token" required><button>Revoke</button></form>
<form id="f-clock"><b>Clock</b> <span id="clock" class="meta"></span><input name="advance_seconds" placeholder="advance seconds, e.g. 900">
 <button>Advance</button></form>
</aside>
<main>
<h2>What the brand posted (replies with the post they answer, DMs sent)</h2><div id="outbox"></div>
<h2>All conversations, threaded</h2><div id="threads"></div>
<h2>Direct messages</h2><div id="dms"></div>
<h2>Users &amp; tokens</h2><div id="users"></div>
</main>
<script>
const api = (m, p, b) => fetch('/sandbox/api' + p, {method: m, headers: {'Content-Type': 'application/json'},
  body: b ? JSON.stringify(b) : undefined}).then(async r => { const j = await r.json();
  if (!r.ok) throw new Error(j.error || r.status); return j; });
const esc = s => String(s ?? '').replace(/[&<>"]/g, c => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;'}[c]));
let users = [], brand = null;
const name = id => '@' + ((users.find(u => u.id === id) || {}).username || id);
const mediaHtml = m => (m || []).map(x => `<a href="${esc(x.url || x.preview_image_url)}" target="_blank"><img class="pic" src="${esc(x.url || x.preview_image_url)}" alt="${esc(x.alt_text || x.type)}"></a>`).join('');
function tweetHtml(t) {
  const cls = 'tweet' + (t.author_id === brand ? ' brand' : '') + (t.deleted ? ' deleted' : '');
  return `<div class="${cls}"><b>${esc(name(t.author_id))}</b> ${esc(t.text)} ${mediaHtml(t.media)}
   <div class="meta">id <code>${t.id}</code> · ${t.created_at}</div>
   ${(t.replies || []).length ? '<div class="replies">' + t.replies.map(tweetHtml).join('') + '</div>' : ''}</div>`;
}
async function refresh() {
  try {
    users = (await api('GET', '/users')).users; brand = (users.find(u => u.is_brand) || {}).id;
    document.querySelectorAll('select.users').forEach(sel => { const v = sel.value;
      sel.innerHTML = users.map(u => `<option value="${u.id}">@${esc(u.username)}${u.is_brand ? ' (brand)' : ''}</option>`).join('');
      if (v) sel.value = v; });
    document.getElementById('users').innerHTML = users.map(u => `<div>@${esc(u.username)} <code>${u.id}</code>
      ${u.is_brand ? '<b>brand</b>' : ''} <span class="meta">${u.tokens.map(esc).join(' · ')}</span></div>`).join('');
    const all = (await api('GET', '/tweets')).tweets;
    const roots = [...new Set(all.map(t => t.conversation_id))];
    const threads = await Promise.all(roots.map(id => api('GET', '/thread/' + id).catch(() => null)));
    document.getElementById('threads').innerHTML = threads.filter(Boolean).map(t => t.thread.map(tweetHtml).join('')).join('<hr>');
    if (brand) {
      const tl = await api('GET', '/timeline?user_id=' + brand);
      document.getElementById('outbox').innerHTML = tl.items.map(i => i.kind === 'dm'
        ? `<div class="dm">DM → <code>${i.dm_conversation_id}</code>: ${esc(i.text)}</div>`
        : (i.in_reply_to ? `<div class="meta">in reply to ${esc(name(i.in_reply_to.author_id))}: ${esc(i.in_reply_to.text)}</div>` : '') + tweetHtml(i)
      ).join('') || '<i>nothing yet</i>';
    }
    const convs = (await api('GET', '/conversations')).conversations;
    document.getElementById('dms').innerHTML = convs.map(c => `<div><b>${c.group ? 'Group' : '1:1'}</b> <code>${c.dm_conversation_id}</code>
      ${c.events.map(e => `<div class="dm">${esc(name(e.sender_id))} ${e.event_type === 'MessageCreate' ? esc(e.text) + ' ' + mediaHtml(e.media) : '<i>' + e.event_type + '</i>'}</div>`).join('')}</div>`).join('');
    document.getElementById('clock').textContent = (await api('GET', '/clock')).now;
  } catch (e) { document.getElementById('msg').textContent = e.message; }
}
const on = (id, fn) => document.getElementById(id).addEventListener('submit', async ev => {
  ev.preventDefault(); const f = Object.fromEntries(new FormData(ev.target));
  try { await fn(f); document.getElementById('msg').textContent = ''; ev.target.querySelector('textarea') && (ev.target.querySelector('textarea').value = ''); }
  catch (e) { document.getElementById('msg').textContent = e.message; } refresh(); });
on('f-user', f => api('POST', '/users', {username: f.username, name: f.name || undefined, brand: !!f.brand}));
const photo = f => f.photo ? ['photo'] : undefined;
on('f-tweet', f => api('POST', '/tweets', {author: f.author, text: f.text, in_reply_to_tweet_id: f.in_reply_to_tweet_id || undefined,
                                          media: photo(f)}));
on('f-dm', f => api('POST', '/dms', f.conversation_id ? {sender: f.sender, conversation_id: f.conversation_id, text: f.text, media: photo(f)}
                                                     : {sender: f.sender, recipient: f.recipient, text: f.text, media: photo(f)}));
on('f-group', f => api('POST', '/groups', {creator: f.creator, participant_ids: f.participants.split(',').map(s => s.trim()), text: f.text || undefined}));
on('f-like', f => api('POST', '/likes', {user: brand, tweet_id: f.tweet_id}));
on('f-delete', f => api('DELETE', '/tweets/' + f.id));
on('f-token', async f => { const t = await api('POST', '/tokens', {user: f.user});
  document.getElementById('minted').textContent = t.access_token; });
on('f-revoke', f => api('POST', '/tokens/revoke', {token: f.token}));
on('f-clock', f => api('POST', '/clock', {advance_seconds: Number(f.advance_seconds || 0)}));
refresh(); setInterval(refresh, 3000);
</script></body></html>"""


async def page(request: Request) -> Response:
    return HTMLResponse(PAGE)


def routes() -> list[Route]:
    return [Route("/sandbox/", page, methods=["GET"]), Route("/sandbox", page, methods=["GET"])]
