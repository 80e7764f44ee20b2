/* The digest's cards, counts and charts: drawn from the JSON in #digest-data, a page at a time.
   Every value goes through textContent inside its own <bdi> (so its direction stays its
   own); only http(s) URLs become links. The view (search, filters, sort, page) lives in
   the URL fragment; stars live in localStorage. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("digest-data").textContent);
  var cards = data.cards, failed = data.failed, pageSize = data.pageSize, labels = data.labels, themes = data.themes;
  var STATUS = { linked: "code linked", promised: "code promised", none: "no code" };
  var SORTS = ["upvotes", "newest", "code", "gains", "title", "order"];
  var hasVotes = cards.some(function (c) { return c.meta && c.meta.upvotes; });
  var DEFAULT_SORT = hasVotes ? "upvotes" : "order";
  var $ = function (id) { return document.getElementById(id); };
  var controls = { q: $("q"), kind: $("kind"), code: $("code"), theme: $("theme"), sort: $("sort"),
                   nums: $("nums"), starred: $("starred"), watched: $("watched") };
  var state = {};
  var orders = {};
  var lastHash = null;
  var hayBuilt = false;

  /* ---- small DOM helpers: text only, never markup ---- */
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  function add(parent, child) { parent.appendChild(child); return child; }
  function txt(text) { return document.createTextNode(text); }
  function addAll(parent, children, sep) {  /* separated by spaces, so copied text reads well */
    children.forEach(function (child, i) {
      if (i) parent.appendChild(txt(sep === undefined ? " " : sep));
      parent.appendChild(child);
    });
    return parent;
  }
  /* A value of a record: in its own <bdi>, search words marked. */
  function val(text, cls) {
    var b = el("bdi", cls);
    b.appendChild(marked(String(text)));
    return b;
  }
  function isHttp(url) { return typeof url === "string" && /^https?:\/\/[^\s"<>]+$/i.test(url); }
  function link(href, child, cls) {
    var e = isHttp(href) ? el("a", cls) : el("span", (cls ? cls + " " : "") + "nolink");
    if (isHttp(href)) { e.href = href; e.rel = "noopener noreferrer"; }
    e.appendChild(typeof child === "string" ? val(child) : child);
    return e;
  }

  /* ---- search words, and marking them ---- */
  var words = [], wordsRe = null;
  function setWords(q) {
    words = q.toLowerCase().split(/\s+/).filter(Boolean);
    wordsRe = words.length ? new RegExp(words.map(function (w) {
      return w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    }).join("|"), "gi") : null;
  }
  function hits(text) {  /* [[start, end], ...] of the search words in text */
    var out = [];
    if (!wordsRe) return out;
    wordsRe.lastIndex = 0;
    var m;
    while ((m = wordsRe.exec(text)) !== null) {
      if (!m[0].length) { wordsRe.lastIndex++; continue; }
      out.push([m.index, m.index + m[0].length]);
    }
    return out;
  }
  function marked(text) {
    var f = document.createDocumentFragment(), pos = 0;
    hits(text).forEach(function (h) {
      f.appendChild(txt(text.slice(pos, h[0])));
      f.appendChild(el("mark", "hit", text.slice(h[0], h[1])));
      pos = h[1];
    });
    f.appendChild(txt(text.slice(pos)));
    return f;
  }

  /* ---- stars, kept in this browser ---- */
  var STARS_KEY = "extractor.stars.v1";
  var stars = {};
  var storage = null;
  try { storage = window.localStorage; stars = JSON.parse(storage.getItem(STARS_KEY) || "{}") || {}; }
  catch (e) { storage = null; stars = {}; }
  function saveStars() {
    if (!storage) return;
    try { storage.setItem(STARS_KEY, JSON.stringify(stars)); } catch (e) { /* full or refused: kept for this visit */ }
  }
  function yearOf(c) {
    var m = /^(\d{2})(\d{2})\.\d{4,5}/.exec(c.id);
    if (m) return "20" + m[1];
    var day = (c.meta && (c.meta.published || c.meta.listed)) || data.day || "";
    return day.slice(0, 4);
  }
  function toggleStar(c, button) {
    if (stars[c.id]) delete stars[c.id];
    else stars[c.id] = { title: c.title, authors: c.meta ? c.meta.authors : [], href: c.href, year: yearOf(c),
                         arxiv: /^\d{4}\.\d{4,5}$/.test(c.id) ? c.id : null, day: data.day };
    saveStars();
    if (button) starButton(button, c);
    showStars();
    if (state.starred) render();
  }
  function starButton(button, c) {
    var on = !!stars[c.id];
    button.textContent = on ? "★" : "☆";
    button.setAttribute("aria-pressed", on ? "true" : "false");
    button.setAttribute("aria-label", (on ? "unstar " : "star ") + c.title);
    button.title = on ? "starred (kept in this browser): click to unstar" : "star this paper (kept in this browser)";
  }
  function showStars() {
    var n = Object.keys(stars).length;
    $("starcount").textContent = n ? n + (n > 1 ? " papers" : " paper") + " starred" + (storage ? "" : " (this visit only: this browser keeps no storage for this page)")
      : "☆ star papers to export them";
    $("stars").classList.toggle("none", !n);
  }
  function bibEscape(s) {
    return String(s).replace(/[\\{}]/g, function (ch) { return ch === "\\" ? "\\textbackslash{}" : "\\" + ch; })
      .replace(/[&%$#_]/g, "\\$&").replace(/~/g, "\\textasciitilde{}").replace(/\^/g, "\\textasciicircum{}");
  }
  function exportText(kind) {
    var ids = Object.keys(stars).sort();
    if (kind === "md") {
      return ids.map(function (id) {
        var s = stars[id], who = s.authors.slice(0, 3).join(", ") + (s.authors.length > 3 ? " et al." : "");
        var title = "[" + s.title.replace(/([\\`*_[\]<>])/g, "\\$1") + "]" + (isHttp(s.href) ? "(" + s.href + ")" : "");
        return "- " + (isHttp(s.href) ? title : s.title) + (who ? " — " + who : "") + (s.year ? " (" + s.year + ")" : "");
      }).join("\n") + "\n";
    }
    var used = {};
    return ids.map(function (id) {
      var s = stars[id];
      var names = (s.authors[0] || "").normalize("NFKD").split(/\s+/).map(function (w) { return w.replace(/[^A-Za-z]/g, ""); })
        .filter(Boolean);
      var last = (names.pop() || "anon").toLowerCase();  /* the last word of the first author's name that has letters */
      var word = (s.title.normalize("NFKD").toLowerCase().match(/[a-z]{4,}/) || ["paper"])[0];
      var key = last + (s.year || "") + word, k = key, i = 1;
      while (used[k]) k = key + String.fromCharCode(97 + i++);
      used[k] = true;
      var lines = ["@misc{" + k + ",", "  title = {" + bibEscape(s.title.replace(/\s+/g, " ")) + "},"];
      if (s.authors.length) lines.push("  author = {" + s.authors.map(bibEscape).join(" and ") + "},");
      if (s.year) lines.push("  year = {" + s.year + "},");
      if (s.arxiv) lines.push("  eprint = {" + s.arxiv + "},", "  archivePrefix = {arXiv},");
      if (isHttp(s.href)) lines.push("  url = {" + s.href + "},");
      return lines.join("\n") + "\n}";
    }).join("\n\n") + "\n";
  }
  var blobUrl = null;
  function openExport(kind) {
    var text = exportText(kind), dialog = $("export");
    $("export-title").textContent = "Starred papers as " + (kind === "md" ? "Markdown" : "BibTeX");
    $("export-text").value = Object.keys(stars).length ? text : "";
    $("export-text").placeholder = "Star papers (☆ on each card) to export them.";
    if (blobUrl) URL.revokeObjectURL(blobUrl);
    blobUrl = URL.createObjectURL(new Blob([text], { type: kind === "md" ? "text/markdown" : "application/x-bibtex" }));
    $("export-download").href = blobUrl;
    $("export-download").setAttribute("download", kind === "md" ? "starred.md" : "starred.bib");
    if (dialog.showModal) dialog.showModal(); else dialog.setAttribute("open", "");
    $("export-text").focus();
    $("export-text").select();
  }

  /* ---- one card ---- */
  function byline(m) {  /* what the listing said: authors, organisation, upvotes, comments */
    var p = el("p", "byline"), parts = [];
    if (m.authors.length) {
      var who = el("span", "authors");
      addAll(who, m.authors.slice(0, 3).map(function (a) { return val(a); }), ", ");
      if (m.authors.length > 3) {
        var more = add(who, el("span", "more", " and " + (m.authors.length - 3) + " more"));
        more.title = m.authors.slice(3).join(", ");
        /* the hidden authors the search found: by a word none of the three shown holds */
        var shownHay = m.authors.slice(0, 3).join("\n").toLowerCase();
        var own = words.filter(function (w) { return shownHay.indexOf(w) < 0; });
        var rest = m.authors.slice(3).filter(function (a) {
          return own.some(function (w) { return a.toLowerCase().indexOf(w) >= 0; });
        });
        if (rest.length) { add(who, txt(" (")); addAll(who, rest.map(function (a) { return val(a); }), ", "); add(who, txt(")")); }
      }
      parts.push(who);
    }
    if (m.org) parts.push(val(m.org, "org"));
    if (m.upvotes !== null && m.upvotes !== undefined) {
      var up = el("span", "upvotes", "▲ " + m.upvotes);
      up.title = m.upvotes + " upvotes on the listing";
      parts.push(up);
    }
    if (m.comments) parts.push(el("span", null, m.comments + (m.comments > 1 ? " comments" : " comment")));
    if (m.categories && m.categories.length) parts.push(val(m.categories.join(" "), "cats"));
    return addAll(p, parts, " · ");
  }
  function badges(c) {
    var box = el("div", "badges");
    if (c.name) add(box, el("span", "badge name")).appendChild(val(c.name)).parentNode.title = "method name";
    add(box, el("span", "badge kind", labels[c.kind] || c.kind));
    add(box, el("span", "badge status status-" + c.status, STATUS[c.status] || c.status));
    if (c.seen) {
      var page = !c.seen.new && data.pages && data.pages[c.seen.first];  /* that day's page of the site */
      var seen = add(box, el(page ? "a" : "span", "badge " + (c.seen.new ? "new" : "seen"),
                             c.seen.new ? "new today" : "first seen " + c.seen.first));
      if (page) seen.href = page;
      seen.title = c.seen.new ? "first listed today" : "still listed: first seen on " + c.seen.first;
    }
    if (c.watch && c.watch.length) {
      var w = add(box, el("span", "badge watch", "watched"));
      w.title = "on your watchlist: " + c.watch.join("; ");
    }
    if (c.theme !== null && c.theme !== undefined) add(box, el("span", "badge theme")).appendChild(val(themes[c.theme]));
    if (c.truncated) add(box, el("span", "badge warn", "abstract cut off")).title = "the abstract looks cut off mid-sentence";
    return box;
  }
  function field(parent, label, value) {
    if (!value) return;
    addAll(add(parent, el("p", "field")), [el("span", "label", label), val(value, "value")]);
  }
  function gainsTable(c) {
    var wrap = el("div", "gains");
    var table = add(wrap, el("table"));
    add(table, el("caption", null, "Claimed gains"));
    var cols = ["value", "metric"];
    if (c.gains.some(function (g) { return g.baseline; })) cols.push("baseline");
    if (c.gains.some(function (g) { return g.dataset; })) cols.push("dataset");
    var head = add(add(table, el("thead")), el("tr"));
    cols.forEach(function (h) { add(head, el("th", "col-" + h, h)).scope = "col"; });
    var body = add(table, el("tbody"));
    c.gains.forEach(function (g, i) {
      var tr = add(body, el("tr"));
      var first = add(tr, el("td", "value"));
      add(first, val(g.value));
      var button = add(first, el("button", "evidence", "evidence"));
      button.type = "button";
      button.title = g.evidence;
      button.setAttribute("data-gain", String(i));
      button.setAttribute("aria-label", "show the evidence of " + g.value + " in the abstract");
      add(tr, el("td")).appendChild(val(g.metric));
      cols.slice(2).forEach(function (name) { add(tr, el("td")).appendChild(val(g[name] || "–")); });
    });
    return wrap;
  }
  function linksRow(c) {
    var row = el("div", "links");
    function item(kind, href, text) {
      addAll(add(row, el("span", "link")), [el("span", "kind", kind), link(href, text)]);
    }
    if (c.code && c.code.href) {
      var code = add(row, el("a", "button code", "Code ↗"));
      code.href = c.code.href; code.rel = "noopener noreferrer"; code.title = c.code.text;
    } else if (c.code) item("code", null, c.code.text);  /* not an http(s) URL: text only */
    if (c.meta) c.meta.links.forEach(function (l) { item(l.kind, l.href, l.label); });
    c.links.forEach(function (l) { item(l.kind, l.href, l.label); });
    return row;
  }
  function ranges(c) {  /* evidence spans and search hits of the abstract, as segments */
    var cuts = [0, c.abstract.length], marks = [];
    c.gains.forEach(function (g, i) { if (g.span) marks.push({ s: g.span[0], e: g.span[1], gain: i }); });
    hits(c.abstract).forEach(function (h) { marks.push({ s: h[0], e: h[1], hit: true }); });
    marks.forEach(function (m) { cuts.push(m.s, m.e); });
    cuts = cuts.filter(function (x, i, all) { return all.indexOf(x) === i; }).sort(function (a, b) { return a - b; });
    var out = [];
    for (var i = 0; i + 1 < cuts.length; i++) {
      var s = cuts[i], e = cuts[i + 1], seg = { s: s, e: e, gains: [], hit: false };
      marks.forEach(function (m) {
        if (m.s <= s && m.e >= e) { if (m.hit) seg.hit = true; else seg.gains.push(m.gain); }
      });
      out.push(seg);
    }
    return out;
  }
  function abstract(c) {
    var details = el("details", "abstract");
    add(details, el("summary", null, c.gains.length ? "Abstract (evidence highlighted)" : "Abstract"));
    var p = add(add(details, el("p")), el("bdi"));
    ranges(c).forEach(function (seg) {
      var text = c.abstract.slice(seg.s, seg.e), node = seg.hit ? el("mark", "hit", text) : txt(text);
      if (seg.gains.length) {
        var m = add(p, el("mark", "evidence"));
        m.setAttribute("data-gains", seg.gains.join(" "));
        m.appendChild(node);
      } else p.appendChild(node);
    });
    return details;
  }
  function snippet(c) {  /* where the search words are in the abstract, when it holds them */
    var h = hits(c.abstract);
    if (!h.length) return null;
    var start = Math.max(0, h[0][0] - 70), end = Math.min(c.abstract.length, h[0][1] + 90);
    var p = el("p", "snippet");
    add(p, el("span", "label", "In the abstract"));
    add(p, txt(" "));
    add(p, val((start ? "…" : "") + c.abstract.slice(start, end) + (end < c.abstract.length ? "…" : "")));
    return p;
  }
  function provenance(c) {  /* where each value came from, and what was held back (never its value) */
    var details = el("details", "prov");
    add(details, el("summary", null, "details"));
    var list = add(details, el("ul"));
    c.prov.forEach(function (p) {
      var li = add(list, el("li"));
      addAll(li, [el("span", "label", p.field), el("span", "origin " + p.origin, p.origin === "rule" ? "rule" : p.origin || "?")]
        .concat(p.by && p.by !== p.origin ? [val(p.by, "by")] : []));
    });
    if (c.ssrc) {
      addAll(add(list, el("li")), [el("span", "label", "summary"), el("span", "origin " + c.ssrc, c.ssrc)]
        .concat(c.ssrcNote ? [el("span", "reason", "— " + c.ssrcNote)] : []));
    }
    if (c.dropped.length) {
      var d = add(list, el("li", "dropped"));
      add(d, el("span", null, c.dropped.length + (c.dropped.length > 1 ? " values" : " value") + " the model gave, dropped by grounding:"));
      var ul = add(d, el("ul"));
      c.dropped.forEach(function (x) {
        addAll(add(ul, el("li")), [el("span", "label", x.field), val(x.value, "value dropped-value"), el("span", "reason", "— " + x.reason)]);
      });
    }
    if (c.held.length) {
      var h = add(list, el("li", "held"));
      add(h, el("span", null, c.held.length + (c.held.length > 1 ? " values" : " value") + " found but held back, not shown (right or silent):"));
      var hl = add(h, el("ul"));
      c.held.forEach(function (x) { addAll(add(hl, el("li")), [el("span", "label", x.field), el("span", "reason", "— " + x.reason)]); });
    }
    if (c.meta && c.meta.by) addAll(add(list, el("li")), [el("span", "label", "submitted by"), val(c.meta.by)]);
    if (c.meta && c.meta.listed) addAll(add(list, el("li")), [el("span", "label", "listed"), val(c.meta.listed)]);
    return list.children.length ? details : null;
  }
  function renderCard(c) {
    var card = el("article", "card" + (c.watch && c.watch.length ? " watched" : ""));
    card.tabIndex = -1;
    card.setAttribute("data-n", String(c.n));
    card.setAttribute("aria-labelledby", "t" + c.n);
    var head = add(card, el("div", "head"));
    var h = add(head, el("h3", "title"));
    h.id = "t" + c.n;
    h.appendChild(link(c.href, c.title));
    var star = add(head, el("button", "star"));
    star.type = "button";
    starButton(star, c);
    if (c.meta) add(card, byline(c.meta));
    add(card, badges(c));
    field(card, "Task", c.task);
    field(card, "Method", c.method);
    if (c.summary) add(card, el("p", "summary")).appendChild(val(c.summary));
    if (words.length) { var s = snippet(c); if (s) add(card, s); }
    if (c.gains.length) add(card, gainsTable(c));
    if (c.code || c.links.length || (c.meta && c.meta.links.length)) add(card, linksRow(c));
    add(card, abstract(c));
    var prov = provenance(c);
    if (prov) add(card, prov);
    return card;
  }
  function showEvidence(card, gain) {
    var details = card.querySelector("details.abstract");
    details.open = true;
    Array.prototype.forEach.call(details.querySelectorAll("mark.active"), function (m) { m.classList.remove("active"); });
    var marks = details.querySelectorAll('mark[data-gains~="' + gain + '"]');
    var note = details.querySelector(".note");
    if (note) note.remove();
    if (marks.length) {
      Array.prototype.forEach.call(marks, function (m) { m.classList.add("active"); });
      marks[0].scrollIntoView({ block: "nearest" });
    } else {
      var c = cards[Number(card.getAttribute("data-n"))];
      addAll(add(details, el("p", "note")), [txt("Not found verbatim in the abstract:"), val(c.gains[gain].evidence)]);
    }
  }

  /* ---- which cards, in which order ---- */
  function upvotes(c) { return (c.meta && c.meta.upvotes) || 0; }
  function hasCode(c) {
    return c.status === "linked" || !!(c.meta && c.meta.links.some(function (l) { return l.kind === "GitHub"; }));
  }
  function group(c) { return data.seen ? (c.seen && !c.seen.new ? 1 : 0) : 0; }
  function listed(c) { return (c.meta && (c.meta.listed || c.meta.published)) || ""; }
  function ordered(sort) {
    if (!orders[sort]) {
      var list = cards.slice(), by;
      var collator = new Intl.Collator(undefined, { sensitivity: "base", numeric: true });
      if (sort === "title") by = function (a, b) { return collator.compare(a.title, b.title); };
      else if (sort === "gains") by = function (a, b) { return b.gains.length - a.gains.length; };
      else if (sort === "upvotes") by = function (a, b) { return upvotes(b) - upvotes(a); };
      else if (sort === "newest") by = function (a, b) { return listed(a) < listed(b) ? 1 : listed(a) > listed(b) ? -1 : 0; };
      else if (sort === "code") by = function (a, b) { return (hasCode(b) - hasCode(a)) || (upvotes(b) - upvotes(a)); };
      else by = function () { return 0; };
      list.sort(function (a, b) {  /* new today first, the watchlist first in each, then the sort */
        return (group(a) - group(b)) || ((b.watch.length > 0) - (a.watch.length > 0)) || by(a, b) || a.n - b.n;
      });
      orders[sort] = list;
    }
    return orders[sort];
  }
  function buildHay() {
    if (hayBuilt) return;
    cards.forEach(function (c) {
      var people = c.meta ? c.meta.authors.concat([c.meta.org || "", c.meta.by || ""]) : [];
      c.hay = [c.id, c.title, c.task, c.method, c.name, c.summary, c.abstract].concat(people).filter(Boolean).join("\n").toLowerCase();
    });
    hayBuilt = true;
  }
  function matching() {
    if (words.length) buildHay();
    return ordered(state.sort).filter(function (c) {
      if (state.kind && c.kind !== state.kind) return false;
      if (state.code && c.status !== state.code) return false;
      if (state.nums && !c.gains.length) return false;
      if (state.theme !== "" && String(c.theme) !== state.theme) return false;
      if (state.starred && !stars[c.id]) return false;
      if (state.watched && !c.watch.length) return false;
      for (var i = 0; i < words.length; i++) if (c.hay.indexOf(words[i]) < 0) return false;
      return true;
    });
  }

  /* ---- counts and charts of the cards that match ---- */
  function tile(box, label, value, hint) {
    var d = add(box, el("div"));
    if (hint) d.title = hint;
    add(d, el("dt", null, label));
    add(d, el("dd", null, String(value)));
  }
  function chart(box, title, rows) {
    if (!rows.length) return;
    var fig = add(box, el("figure", "chart"));
    add(fig, el("figcaption", null, title));
    var table = add(fig, el("table", "bars"));
    var top = Math.max.apply(null, rows.map(function (r) { return r[1]; })) || 1;
    rows.forEach(function (r) {
      var tr = add(table, el("tr"));
      add(tr, el("th", null)).appendChild(val(r[0]));
      tr.firstChild.scope = "row";
      var cell = add(tr, el("td"));
      var bar = add(cell, el("span", "bar"));
      bar.style.width = (4 + 96 * r[1] / top).toFixed(1) + "%";
      add(cell, el("span", "count", String(r[1])));
    });
  }
  function counts(list) {
    var stats = $("stats"), charts = $("charts");
    stats.replaceChildren();
    charts.replaceChildren();
    var kinds = {}, code = { linked: 0, promised: 0, none: 0 }, metrics = {}, byTheme = {}, n = { nums: 0, isNew: 0, still: 0, watch: 0, star: 0, model: 0, extractive: 0 };
    list.forEach(function (c) {
      kinds[c.kind] = (kinds[c.kind] || 0) + 1;
      code[c.status] = (code[c.status] || 0) + 1;
      if (c.gains.length) n.nums++;
      if (group(c)) n.still++; else n.isNew++;
      if (c.watch.length) n.watch++;
      if (stars[c.id]) n.star++;
      if (c.ssrc === "model") n.model++; else if (c.ssrc === "extractive") n.extractive++;
      if (c.theme !== null && c.theme !== undefined) byTheme[c.theme] = (byTheme[c.theme] || 0) + 1;
      var seen = {};
      c.gains.forEach(function (g) { var m = (g.metric || "").trim().toLowerCase(); if (m && !seen[m]) { seen[m] = 1; metrics[m] = (metrics[m] || 0) + 1; } });
    });
    tile(stats, "papers", list.length === cards.length ? cards.length : list.length + " of " + cards.length);
    if (data.seen) {
      tile(stats, "new today", n.isNew, "first listed today");
      tile(stats, "still listed", n.still, "first seen on an earlier day: the day is on each card");
    }
    tile(stats, "code linked", code.linked, "a code URL is in the abstract");
    tile(stats, "code promised", code.promised, "the abstract says code will be released, without a URL");
    tile(stats, "with numbers", n.nums, "papers with at least one claimed gain");
    if (data.watch) tile(stats, "watched", n.watch, "papers on your watchlist");
    if (n.star) tile(stats, "starred", n.star, "starred in this browser");
    if (n.model || n.extractive) tile(stats, "summaries: model / extractive", n.model + " / " + n.extractive,
                                      "extractive: a sentence of the abstract, used when the model's summary failed the check or no model was asked");
    var order = Object.keys(labels);
    chart(charts, "Contribution kinds", order.filter(function (k) { return kinds[k]; }).map(function (k) { return [labels[k], kinds[k]]; }));
    chart(charts, "Code", [["code linked", code.linked], ["code promised", code.promised], ["no code", code.none]]);
    var top = Object.keys(metrics).sort(function (a, b) { return metrics[b] - metrics[a] || (a < b ? -1 : 1); }).slice(0, 8);
    chart(charts, "Most claimed metrics", top.map(function (m) { return [m, metrics[m]]; }));
    if (themes.length) chart(charts, "Themes", themes.map(function (t, i) { return [t, byTheme[i] || 0]; }).filter(function (r) { return r[1]; }));
    $("counts-scope").textContent = filtered() ? "of the papers that match" : "of all papers";
  }
  function filtered() {
    return !!(state.q || state.kind || state.code || state.nums || state.theme !== "" || state.starred || state.watched);
  }

  /* ---- drawing a page of cards ---- */
  function heading(c, list) {
    var isNew = !group(c), n = list.filter(function (x) { return group(x) === group(c); }).length;
    var h = el("h2", "group " + (isNew ? "new" : "still"), isNew ? "New today" : "Still listed");
    add(h, el("span", "n", " (" + n + ")" + (isNew ? "" : " · first listed on an earlier day")));
    return h;
  }
  function render() {
    setWords(state.q);
    var list = matching();
    var pages = Math.max(1, Math.ceil(list.length / pageSize));
    state.page = Math.min(Math.max(1, state.page), pages);
    var start = (state.page - 1) * pageSize;
    var shown = list.slice(start, start + pageSize);
    var fragment = document.createDocumentFragment();
    shown.forEach(function (c, i) {
      if (data.seen && (i === 0 || group(c) !== group(shown[i - 1]))) fragment.appendChild(heading(c, list));
      fragment.appendChild(renderCard(c));
    });
    $("cards").replaceChildren(fragment);
    var what = list.length === cards.length ? cards.length + " papers" : list.length + " of " + cards.length + " papers match";
    $("status").textContent = list.length ? what + (pages > 1 ? " · showing " + (start + 1) + "–" + (start + shown.length) : "")
      : "No paper matches: clear the search or a filter (Esc).";
    $("pager").hidden = pages < 2;
    $("prev").disabled = state.page <= 1;
    $("next").disabled = state.page >= pages;
    $("pageinfo").textContent = "page " + state.page + " of " + pages;
    Array.prototype.forEach.call(document.querySelectorAll("button.theme"), function (b) {
      b.setAttribute("aria-pressed", b.getAttribute("data-theme") === state.theme ? "true" : "false");
    });
    counts(list);
  }

  /* ---- state <-> controls <-> URL fragment ---- */
  function allowed(select, value) {
    if (!select) return "";
    return Array.prototype.some.call(select.options, function (o) { return o.value === value; }) ? value : "";
  }
  function setControls() {
    controls.q.value = state.q;
    controls.kind.value = state.kind;
    controls.code.value = state.code;
    if (controls.theme) controls.theme.value = state.theme;
    controls.sort.value = state.sort;
    controls.nums.checked = state.nums;
    controls.starred.checked = state.starred;
    if (controls.watched) controls.watched.checked = state.watched;
  }
  function readHash() {
    var p = new URLSearchParams(location.hash.slice(1));
    state = {
      q: p.get("q") || "",
      kind: allowed(controls.kind, p.get("kind") || ""),
      code: allowed(controls.code, p.get("code") || ""),
      theme: allowed(controls.theme, p.get("theme") || ""),
      sort: SORTS.indexOf(p.get("sort")) >= 0 ? p.get("sort") : DEFAULT_SORT,
      nums: p.get("nums") === "1",
      starred: p.get("starred") === "1",
      watched: !!controls.watched && p.get("watched") === "1",
      page: parseInt(p.get("page"), 10) || 1,
    };
    setControls();
  }
  function writeHash() {
    var p = new URLSearchParams();
    if (state.q) p.set("q", state.q);
    ["kind", "code", "theme"].forEach(function (k) { if (state[k] !== "") p.set(k, state[k]); });
    ["nums", "starred", "watched"].forEach(function (k) { if (state[k]) p.set(k, "1"); });
    if (state.sort !== DEFAULT_SORT) p.set("sort", state.sort);
    if (state.page > 1) p.set("page", String(state.page));
    lastHash = "#" + p.toString();
    if (location.hash !== lastHash && !(lastHash === "#" && !location.hash)) location.replace(lastHash);
  }
  function fromControls() {
    state = { q: controls.q.value, kind: controls.kind.value, code: controls.code.value,
              theme: controls.theme ? controls.theme.value : "", sort: controls.sort.value, nums: controls.nums.checked,
              starred: controls.starred.checked, watched: !!controls.watched && controls.watched.checked, page: 1 };
    render();
    writeHash();
  }
  function clearAll() {  /* the search and every filter; the sort stays */
    state = { q: "", kind: "", code: "", theme: "", sort: state.sort, nums: false, starred: false, watched: false, page: 1 };
    setControls();
    render();
    writeHash();
  }
  function toTop() {  /* the new page's first card just below the (sticky) search bar */
    var bar = $("controls"), sticky = getComputedStyle(bar).position === "sticky";
    var top = $("status").getBoundingClientRect().top + window.scrollY - (sticky ? bar.offsetHeight : 0);
    window.scrollTo(0, Math.max(0, top - 4));
    var first = $("cards").querySelector("article");
    if (first) first.focus({ preventScroll: true });
  }
  function turn(delta) {
    state.page += delta;
    render();
    writeHash();
    toTop();
  }

  /* ---- events ---- */
  var typing = null;
  controls.q.addEventListener("input", function () {
    clearTimeout(typing);
    typing = setTimeout(fromControls, cards.length > 2000 ? 150 : 40);
  });
  ["kind", "code", "theme", "sort", "nums", "starred", "watched"].forEach(function (name) {
    if (controls[name]) controls[name].addEventListener("change", fromControls);
  });
  $("controls").addEventListener("submit", function (e) { e.preventDefault(); });
  $("clear").addEventListener("click", clearAll);
  $("prev").addEventListener("click", function () { turn(-1); });
  $("next").addEventListener("click", function () { turn(1); });
  $("export-md").addEventListener("click", function () { openExport("md"); });
  $("export-bib").addEventListener("click", function () { openExport("bib"); });
  $("export-close").addEventListener("click", function () { $("export").close(); });
  $("export-copy").addEventListener("click", function () {
    var area = $("export-text");
    area.select();
    if (navigator.clipboard) navigator.clipboard.writeText(area.value).catch(function () { document.execCommand("copy"); });
    else document.execCommand("copy");
  });
  Array.prototype.forEach.call(document.querySelectorAll("button.theme"), function (b) {
    b.addEventListener("click", function () {
      var t = b.getAttribute("data-theme");
      state.theme = state.theme === t ? "" : t;
      state.page = 1;
      setControls();
      render();
      writeHash();
      $("controls").scrollIntoView({ block: "start" });
    });
  });
  $("cards").addEventListener("click", function (e) {
    var button = e.target.closest("button.evidence");
    if (button) { showEvidence(button.closest("article"), Number(button.getAttribute("data-gain"))); return; }
    var star = e.target.closest("button.star");
    if (star) toggleStar(cards[Number(star.closest("article").getAttribute("data-n"))], star);
  });
  window.addEventListener("hashchange", function () {
    if (location.hash === lastHash) return;
    readHash();
    render();
    if (state.q) toTop();
  });
  document.addEventListener("keydown", function (e) {
    if ($("export").open) return;  /* Esc closes the dialog, nothing else */
    var inField = /^(INPUT|SELECT|TEXTAREA)$/.test(e.target.tagName);
    if (e.key === "Escape" && (filtered() || e.target === controls.q)) {
      e.preventDefault();
      clearAll();
    } else if (!inField && !e.ctrlKey && !e.metaKey && !e.altKey) {
      if (e.key === "/") { e.preventDefault(); controls.q.focus(); }
      else if (e.key === "j" || e.key === "k") moveFocus(e.key === "j" ? 1 : -1);
      else if (e.key === "s") {
        var at = document.activeElement && document.activeElement.closest ? document.activeElement.closest("article") : null;
        if (at) toggleStar(cards[Number(at.getAttribute("data-n"))], at.querySelector("button.star"));
      }
    }
  });
  function moveFocus(delta) {
    var all = Array.prototype.slice.call($("cards").querySelectorAll("article"));
    var at = all.indexOf(document.activeElement.closest ? document.activeElement.closest("article") : null);
    var next = all[Math.min(Math.max(at + delta, 0), all.length - 1)];
    if (next) { next.focus(); next.scrollIntoView({ block: "nearest" }); }
  }

  function renderFailed() {
    var list = $("failed");
    if (!list) return;
    var fragment = document.createDocumentFragment();
    failed.forEach(function (f) {
      var parts = [el("span", "badge error", f.kind), link(f.href, f.title)];
      if (f.message) { var r = el("span", "reason", "— "); r.appendChild(val(f.message)); parts.push(r); }
      addAll(add(fragment, el("li")), parts);
    });
    list.appendChild(fragment);
  }

  readHash();
  render();
  renderFailed();
  showStars();
  document.documentElement.setAttribute("data-ready", "1");
})();
