/* Safe Markdown for answers that come from a model or quote a document.
 *
 * Everything is HTML-escaped first; only then is a small subset turned into tags we write
 * ourselves: paragraphs, headings, lists, block quotes, fenced and inline code, bold, italic,
 * http(s) links, and [n] citation buttons. No HTML from the input ever reaches the page.
 */
"use strict";

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

// Links are split out of the raw text before anything is formatted, so nothing (a citation
// button, bold or italic tags) is ever rewritten inside a URL: a link to ".../[1]" once had the
// citation rewrite put a button's quotes inside href, breaking out of the attribute.
const LINK = /\[([^\]\n]+)\]\((https?:\/\/[^\s)]+)\)/g;

function formatText(text) {
  let html = escapeHtml(text);
  html = html.replace(/\*\*([^*\n]+)\*\*/g, "<strong>$1</strong>");
  html = html.replace(/(^|[^*\w])\*([^*\s][^*\n]*?)\*(?!\w)/g, "$1<em>$2</em>");
  html = html.replace(/(^|[^_\w])_([^_\s][^_\n]*?)_(?!\w)/g, "$1<em>$2</em>");
  return html.replace(/\[(\d{1,3})\]/g,
    '<button type="button" class="cite" data-n="$1" aria-label="Source $1">$1</button>');
}

function formatLinks(text) {
  let html = "";
  let last = 0;
  for (const match of text.matchAll(LINK)) {
    html += formatText(text.slice(last, match.index));
    html += `<a href="${escapeHtml(match[2])}" target="_blank" rel="noopener noreferrer nofollow">` +
      `${escapeHtml(match[1])}</a>`;
    last = match.index + match[0].length;
  }
  return html + formatText(text.slice(last));
}

function renderInline(text) {
  // Code spans first, so nothing inside them is formatted.
  return text.split(/(`[^`\n]+`)/).map((part) => {
    if (part.length > 2 && part.startsWith("`") && part.endsWith("`")) {
      return `<code>${escapeHtml(part.slice(1, -1))}</code>`;
    }
    return formatLinks(part);
  }).join("");
}

function renderMarkdown(source) {
  const lines = String(source).replace(/\r\n?/g, "\n").split("\n");
  const out = [];
  let paragraph = [];
  let list = null; // {tag, items}
  let quote = [];

  const flushParagraph = () => {
    if (paragraph.length) out.push(`<p>${paragraph.map(renderInline).join("<br>")}</p>`);
    paragraph = [];
  };
  const flushList = () => {
    if (list) out.push(`<${list.tag}>${list.items.map((i) => `<li>${renderInline(i)}</li>`).join("")}</${list.tag}>`);
    list = null;
  };
  const flushQuote = () => {
    if (quote.length) out.push(`<blockquote>${quote.map(renderInline).join("<br>")}</blockquote>`);
    quote = [];
  };
  const flushAll = () => { flushParagraph(); flushList(); flushQuote(); };

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const fence = line.match(/^\s*```\s*([\w+-]*)\s*$/);
    if (fence) {
      flushAll();
      const code = [];
      i++;
      while (i < lines.length && !/^\s*```\s*$/.test(lines[i])) code.push(lines[i++]);
      out.push(`<pre><code>${escapeHtml(code.join("\n"))}</code></pre>`);
      continue;
    }
    const heading = line.match(/^(#{1,6})\s+(.*)$/);
    if (heading) {
      flushAll();
      const level = Math.min(heading[1].length + 2, 6);
      out.push(`<h${level}>${renderInline(heading[2])}</h${level}>`);
      continue;
    }
    const bullet = line.match(/^\s*[-*+]\s+(.*)$/);
    const numbered = line.match(/^\s*\d{1,3}[.)]\s+(.*)$/);
    if (bullet || numbered) {
      flushParagraph(); flushQuote();
      const tag = bullet ? "ul" : "ol";
      if (!list || list.tag !== tag) { flushList(); list = { tag, items: [] }; }
      list.items.push((bullet || numbered)[1]);
      continue;
    }
    const quoted = line.match(/^\s*>\s?(.*)$/);
    if (quoted) {
      flushParagraph(); flushList();
      quote.push(quoted[1]);
      continue;
    }
    if (!line.trim()) { flushAll(); continue; }
    if (list && /^\s{2,}\S/.test(line)) { list.items[list.items.length - 1] += " " + line.trim(); continue; }
    flushList(); flushQuote();
    paragraph.push(line);
  }
  flushAll();
  return out.join("");
}

window.chatrefMarkdown = { escapeHtml, renderInline, renderMarkdown };
