"""The fixed parts of the chat page: header and hint texts, the page script and the CSS.

Nothing here depends on an answer or on outside text (that markup is built, escaped, by
:mod:`assistant.app.html`); these are the strings ``ui.build`` and ``ui.launch_options``
hand to Gradio once per app.
"""

from __future__ import annotations

HEADER = ('<div class="app-head"><div class="app-title">News assistant</div>'
          '<div class="app-sub">Answers quote the indexed articles and nothing else. '
          "Click a marker like [1] to read the sentence in its article.</div></div>")
# Above the upload box: the metadata each format can carry (index/metadata.py, readers.py).
UPLOAD_NOTE = ('<div class="note">Metadata read: <b>.txt/.md</b> header '
               "lines at the top (Title:, Published:, By … | Outlet, Source:, URL:) · <b>.html</b> "
               "page title, site name, date · <b>.json/.jsonl</b> title, date, source, url.</div>")
CHAT_PLACEHOLDER = ('<div class="chat-hint"><b>Ask a question about the indexed news.</b><br>'
                    "Every sentence of an answer is quoted from an article; when none answers, "
                    "the assistant says so.</div>")

# The page script. A click on any "#cite-<turn>-<n>" link (answer markers, source list,
# conflict claims) asks the server for that citation through a hidden button, instead
# of navigating. Markup arrives sanitised (data-* attributes are dropped), so the link's
# href is the only channel. A click on an answer's copy button copies the hidden text
# beside it. On a phone-sized screen the sidebar (a full-screen drawer there) starts
# closed. Notices (toasts) are placed over the chat box, the column where questions are
# asked, so they never cover the source panel.
HEAD = """<script>
(() => {
  const REF = /^#cite-(\\d+)-(\\d+)$/;
  const copy = async (text, button) => {
    let ok = false;
    try {
      if (navigator.clipboard && window.isSecureContext) {
        await navigator.clipboard.writeText(text);
        ok = true;
      }
    } catch (e) { ok = false; }
    if (!ok) {  // plain http on a network address: no clipboard API
      const area = document.createElement('textarea');
      area.value = text;
      area.setAttribute('readonly', '');
      area.style.cssText = 'position:fixed;top:0;left:0;opacity:0';
      document.body.appendChild(area);
      area.select();
      try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
      area.remove();
    }
    button.textContent = ok ? 'Copied \u2713' : 'Copy failed: select the text in the copy box';
    setTimeout(() => { button.textContent = 'Copy answer'; }, 2000);
  };
  document.addEventListener('click', (event) => {
    const target = event.target instanceof Element ? event.target : null;
    const button = target ? target.closest('button.copy-btn') : null;
    if (button) {
      event.preventDefault();
      event.stopPropagation();
      const text = button.parentElement.querySelector('.copy-text');
      copy(text ? text.textContent : '', button);
      return;
    }
    const link = target ? target.closest('a[href^="#cite-"]') : null;
    const m = link ? REF.exec(link.getAttribute('href') || '') : null;
    if (!m) return;
    event.preventDefault();
    event.stopPropagation();
    window.newsAssistantCite = m[1] + '-' + m[2];
    const go = document.getElementById('cite-go');
    if (go) go.click();
  }, true);
  const narrow = window.matchMedia('(max-width: 768px)');
  const started = Date.now();
  const closeDrawer = setInterval(() => {
    const bar = document.querySelector('#sidebar.open');
    if (bar && narrow.matches) bar.querySelector('.toggle-button')?.click();
    if (bar || !narrow.matches || Date.now() - started > 60000) clearInterval(closeDrawer);
  }, 100);
  let queued = false;
  const placeNotices = () => {
    queued = false;
    const chat = document.getElementById('chat');
    if (!chat) return;
    const r = chat.getBoundingClientRect(), root = document.documentElement;
    root.style.setProperty('--na-note-left', `${Math.max(8, r.left + 8)}px`);
    root.style.setProperty('--na-note-width', `${Math.max(160, r.width - 16)}px`);
    root.style.setProperty('--na-note-top',
                           `${Math.max(8, Math.min(r.top + 8, window.innerHeight - 160))}px`);
    root.classList.add('na-notices');
  };
  const queue = () => { if (!queued) { queued = true; requestAnimationFrame(placeNotices); } };
  window.addEventListener('resize', queue);
  window.addEventListener('scroll', queue, {capture: true, passive: true});
  new MutationObserver(queue).observe(document.documentElement, {childList: true, subtree: true});
})();
</script>"""
READ_CITE_JS = "(target, session) => [window.newsAssistantCite || target, session]"
SCROLL_MARK_JS = """() => { setTimeout(() => {
  const m = document.querySelector('#sources mark.hl');
  if (m) m.scrollIntoView({block: 'center'});
}, 50); }"""
SCROLL_BOX_JS = """() => { setTimeout(() => {
  const panel = document.getElementById('sources');
  if (panel) panel.scrollTop = 0;  // a new answer's panel starts at its summary
  const m = document.querySelector('#sources mark.hl');
  const box = m ? m.closest('.src-text') : null;
  if (box) box.scrollTop = Math.max(0, m.offsetTop - box.clientHeight / 3);
}, 50); }"""

CSS = """
#main { gap: 20px; }
.app-head { padding: 4px 2px 8px; }
.app-title { font-size: 1.35rem; font-weight: 700; }
.app-sub, .muted { color: var(--body-text-color-subdued); font-size: .88rem; }
#chat .msg-q, #chat .msg-a { line-height: 1.55; }
#chat .msg-pending { color: var(--body-text-color-subdued); font-style: italic; }
#chat .msg-meta { margin-top: 6px; font-size: .8rem; color: var(--body-text-color-subdued); }
#chat .msg-abstain .abstain { font-weight: 600; }
#chat .closest-title { margin-top: 8px; font-size: .85rem; font-weight: 600; }
#chat ul.closest { margin: 4px 0 0 18px; font-size: .85rem; }
#chat .msg-error { color: var(--error-text-color); }
.note { font-size: .82rem; color: var(--body-text-color-subdued); margin-top: 4px; }
.warn { color: #b45309; font-weight: 600; }
.unsupported { color: #b91c1c; font-size: .8rem; }
a.cite, span.cite { display: inline-block; padding: 0 5px; margin: 0 1px; border-radius: 6px;
  background: var(--color-accent-soft); color: var(--color-accent) !important;
  font-size: .78em; font-weight: 600; text-decoration: none !important; vertical-align: 1px; }
a.cite:hover { background: var(--color-accent); color: white !important; }
/* The right column fits the window: the source panel takes what the copy box leaves and
   scrolls inside its own box (Gradio sets the block's overflow inline, hence !important). */
#source-col { height: calc(100vh - 32px); min-height: 460px; flex-wrap: nowrap; }
#sources { border: 1px solid var(--border-color-primary); border-radius: 12px; padding: 14px;
  background: var(--block-background-fill); flex: 1 1 0; min-height: 220px;
  overflow-y: auto !important; overscroll-behavior: contain; }
#copy-answer { flex: 0 0 auto; }
#copy-answer textarea { max-height: 8.5em; overflow-y: auto !important; }
/* Notices sit over the top of the chat box (positions set by the page script). */
html.na-notices .toast-wrap { top: var(--na-note-top) !important; left: var(--na-note-left) !important;
  right: auto !important; width: var(--na-note-width) !important; max-width: 440px;
  align-items: stretch; }
#chat .msg-copy { margin-top: 6px; }
#chat button.copy-btn { font-size: .78rem; padding: 1px 8px; border-radius: 6px; cursor: pointer;
  border: 1px solid var(--border-color-primary); background: var(--background-fill-secondary);
  color: var(--body-text-color-subdued); }
#chat button.copy-btn:hover { color: var(--color-accent); border-color: var(--color-accent); }
.src-empty { color: var(--body-text-color-subdued); padding: 24px 8px; text-align: center; }
.src-summary { display: flex; flex-wrap: wrap; gap: 6px; margin-bottom: 10px; }
.pill { background: var(--background-fill-secondary); border: 1px solid var(--border-color-primary);
  border-radius: 999px; padding: 2px 10px; font-size: .8rem; }
.conflict { border: 1px solid #f59e0b; border-radius: 10px; padding: 8px 10px; margin-bottom: 10px;
  background: rgba(245, 158, 11, .07); }
.conflict-title { font-weight: 600; font-size: .88rem; margin-bottom: 6px; }
.claims { display: flex; gap: 8px; }
.claim { flex: 1; border: 1px solid var(--border-color-primary); border-radius: 8px;
  padding: 6px 8px; }
.claim-value { font-weight: 600; }
.src-article { border: 1px solid var(--color-accent); border-radius: 10px; padding: 10px 12px;
  margin-bottom: 12px; }
.src-title { font-weight: 650; }
.src-meta { font-size: .8rem; color: var(--body-text-color-subdued); margin: 2px 0 6px; }
.src-dates { font-size: .8rem; margin-bottom: 6px; }
.src-text { position: relative; white-space: pre-wrap; max-height: 34vh; overflow-y: auto;
  font-size: .9rem; line-height: 1.55; padding-right: 6px; }
mark.hl { background: #fde68a; color: inherit; padding: 1px 0; border-radius: 3px;
  box-shadow: 0 0 0 2px #fde68a; }
mark.hl-also { background: #fef3c7; color: inherit; padding: 1px 0; border-radius: 3px; }
.src-list-title { font-weight: 600; font-size: .88rem; margin: 4px 0 6px; }
ol.src-list { list-style: none; padding: 0; margin: 0; display: flex; flex-direction: column;
  gap: 8px; }
.src-item { border: 1px solid var(--border-color-primary); border-radius: 10px; padding: 8px 10px; }
.src-item.active { border-color: var(--color-accent); background: var(--color-accent-soft); }
.src-item a.src-link { font-weight: 600; text-decoration: none; color: inherit; }
.src-item blockquote { margin: 4px 0 0; padding-left: 8px;
  border-left: 3px solid var(--color-accent); font-size: .86rem; white-space: pre-wrap; }
.num { color: var(--color-accent); font-weight: 700; }
.status { font-size: .9rem; line-height: 1.5; min-height: 96px; }
#upload-report { min-height: 40px; }
.chat-hint { text-align: center; color: var(--body-text-color-subdued); max-width: 420px;
  margin: auto; }
.upload-report { font-size: .85rem; }
.upload-report ul { margin: 2px 0 0 16px; }
#examples button { font-size: .8rem; }
"""
