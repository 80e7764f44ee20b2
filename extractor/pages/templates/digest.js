/* The digest's cards: drawn from the JSON in #digest-data, a page at a time.
   Every value goes through textContent inside its own <bdi>, so its direction stays its
   own (a U+202E in a title cannot reverse the labels beside it); only http(s) URLs
   become links. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("digest-data").textContent);
  var cards = data.cards, failed = data.failed, pageSize = data.pageSize, labels = data.labels;
  var STATUS = { linked: "code linked", promised: "code promised", none: "no code" };
  var SORTS = ["order", "title", "gains"];
  var $ = function (id) { return document.getElementById(id); };
  var controls = { q: $("q"), kind: $("kind"), code: $("code"), nums: $("nums"), sort: $("sort") };
  var state = {};
  var orders = {};
  var lastHash = null;

  cards.forEach(function (c) {
    var people = c.meta ? [c.meta.authors.join(", "), c.meta.org] : [];
    c.hay = [c.title, c.task, c.method, c.name, c.summary].concat(people).filter(Boolean).join("\n").toLowerCase();
  });

  /* ---- small DOM helpers: text only, never markup ---- */
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  function add(parent, child) { parent.appendChild(child); return child; }
  function val(text, cls) { return el("bdi", cls, text); }  /* a value of a record, direction-isolated */
  function addAll(parent, children) {  /* separated by spaces, so copied text reads well */
    children.forEach(function (child, i) {
      if (i) parent.appendChild(document.createTextNode(" "));
      parent.appendChild(child);
    });
    return parent;
  }
  function isHttp(url) { return typeof url === "string" && /^https?:\/\/[^\s"<>]+$/i.test(url); }
  function link(href, text, cls) {
    var e = isHttp(href) ? el("a", cls) : el("span", (cls ? cls + " " : "") + "nolink");
    if (isHttp(href)) { e.href = href; e.rel = "noopener noreferrer"; }
    e.appendChild(val(text));
    return e;
  }

  /* ---- one card ---- */
  function originTag(card, key) {
    var origin = card.origin && card.origin[key];
    if (!origin) return null;
    var tag = el("span", "origin", origin);
    tag.title = origin === "rule" ? "found by rules in the text, without the model" : "given by the model";
    return tag;
  }
  function field(parent, label, value, card, key) {
    if (!value) return;
    var tag = originTag(card, key);
    addAll(add(parent, el("p", "field")), [el("span", "label", label), val(value, "value")].concat(tag ? [tag] : []));
  }
  function badges(c) {
    var box = el("div", "badges");
    if (c.name) {
      var name = add(box, el("span", "badge name"));
      name.appendChild(val(c.name));
      name.title = "method name";
      var tag = originTag(c, "method_name");
      if (tag) add(box, tag);
    }
    add(box, el("span", "badge kind", labels[c.kind] || c.kind));
    add(box, el("span", "badge status status-" + c.status, STATUS[c.status] || c.status));
    if (c.truncated) add(box, el("span", "badge warn", "abstract cut off")).title = "the abstract looks cut off mid-sentence";
    if (c.seen) {
      var seen = add(box, el("span", "badge " + (c.seen.new ? "new" : "seen"), c.seen.new ? "new" : "seen before · " + c.seen.first));
      seen.title = c.seen.new ? "first seen today" : "first seen on " + c.seen.first;
    }
    return box;
  }
  function byline(m) {  /* what the listing said: authors, organisation, upvotes... each value isolated */
    var parts = [];
    if (m.authors.length) {
      var who = el("span", "authors");
      m.authors.forEach(function (a, i) { if (i) who.appendChild(document.createTextNode(", ")); who.appendChild(val(a)); });
      if (m.more) who.appendChild(document.createTextNode(" and " + m.more + " more"));
      parts.push(who);
    }
    if (m.org) parts.push(val(m.org));
    if (m.upvotes !== null && m.upvotes !== undefined) parts.push(el("span", null, "▲ " + m.upvotes));
    if (m.comments) parts.push(el("span", null, m.comments + (m.comments > 1 ? " comments" : " comment")));
    if (m.by) { var by = el("span", null, "submitted by "); by.appendChild(val(m.by)); parts.push(by); }
    if (m.listed) { var day = el("span", null, "listed "); day.appendChild(val(m.listed)); parts.push(day); }
    if (m.categories && m.categories.length) parts.push(val(m.categories.join(" ")));
    var p = el("p", "byline");
    parts.forEach(function (part, i) { if (i) p.appendChild(document.createTextNode(" · ")); p.appendChild(part); });
    return p;
  }
  function summary(c) {
    var p = el("p", "summary");
    var tag = originTag(c, "summary");
    if (c.ssrc === "extractive") {
      p.className += " extractive";
      tag = el("span", "origin", "extractive");
      tag.title = "a sentence of the abstract: the model's summary did not pass the check";
    }
    return addAll(p, [val(c.summary)].concat(tag ? [tag] : []));
  }
  function gainsTable(c) {
    var wrap = el("div", "gains");
    var table = add(wrap, el("table"));
    add(table, el("caption", null, "Claimed gains"));
    var cols = ["value", "metric"];  /* a baseline or dataset column only when some gain has one */
    if (c.gains.some(function (g) { return g.baseline; })) cols.push("baseline");
    if (c.gains.some(function (g) { return g.dataset; })) cols.push("dataset");
    var head = add(add(table, el("thead")), el("tr"));
    cols.forEach(function (h) { add(head, el("th", null, h)).scope = "col"; });
    var body = add(table, el("tbody"));
    c.gains.forEach(function (g, i) {
      var tr = add(body, el("tr"));
      var first = add(tr, el("td", "value"));  /* the evidence button beside the value: always in view */
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
    if (c.code && c.code.href) add(row, link(c.code.href, "Code ↗", "button code")).title = c.code.text;
    else if (c.code) item("code", null, c.code.text);  /* not an http(s) URL: text only */
    c.links.forEach(function (l) { item(l.kind, l.href, l.label); });
    if (c.meta) c.meta.links.forEach(function (l) { item(l.kind, l.href, l.label); });
    return row;
  }
  function dropped(c) {
    var details = el("details", "dropped");
    var n = c.dropped.length;
    add(details, el("summary", null, n + (n > 1 ? " values" : " value") + " dropped by grounding"));
    var list = add(details, el("ul"));
    c.dropped.forEach(function (d) {
      addAll(add(list, el("li")), [el("span", "label", d.field), val(d.value, "value"), el("span", "reason", "— " + d.reason)]);
    });
    return details;
  }
  function abstract(c) {
    var details = el("details", "abstract");
    add(details, el("summary", null, c.gains.length ? "Abstract (evidence highlighted)" : "Abstract"));
    var p = add(add(details, el("p")), el("bdi"));
    var spans = [];
    c.gains.forEach(function (g, i) { if (g.span) spans.push({ s: g.span[0], e: g.span[1], gains: [i] }); });
    spans.sort(function (a, b) { return a.s - b.s || b.e - a.e; });
    var merged = [];
    spans.forEach(function (x) {
      var last = merged[merged.length - 1];
      if (last && x.s < last.e) { last.e = Math.max(last.e, x.e); last.gains = last.gains.concat(x.gains); }
      else merged.push(x);
    });
    var pos = 0, text = c.abstract;
    merged.forEach(function (m) {
      add(p, document.createTextNode(text.slice(pos, m.s)));
      add(p, el("mark", null, text.slice(m.s, m.e))).setAttribute("data-gains", m.gains.join(" "));
      pos = m.e;
    });
    add(p, document.createTextNode(text.slice(pos)));
    return details;
  }
  function renderCard(c) {
    var card = el("article", "card");
    card.tabIndex = -1;
    card.setAttribute("data-n", String(c.n));
    add(add(card, el("h3", "title")), link(c.href, c.title));
    if (c.meta) add(card, byline(c.meta));
    add(card, badges(c));
    field(card, "Task", c.task, c, "task");
    field(card, "Method", c.method, c, "method");
    if (c.summary) add(card, summary(c));
    if (c.gains.length) add(card, gainsTable(c));
    if (c.code || c.links.length || (c.meta && c.meta.links.length)) add(card, linksRow(c));
    if (c.dropped.length) add(card, dropped(c));
    add(card, abstract(c));
    return card;
  }
  function showEvidence(card, gain) {
    var details = card.querySelector("details.abstract");
    details.open = true;
    Array.prototype.forEach.call(details.querySelectorAll("mark.active"), function (m) { m.classList.remove("active"); });
    var mark = details.querySelector('mark[data-gains~="' + gain + '"]');
    var note = details.querySelector(".note");
    if (note) note.remove();
    if (mark) {
      mark.classList.add("active");
      mark.scrollIntoView({ block: "nearest" });
    } else {
      var c = cards[Number(card.getAttribute("data-n"))];
      addAll(add(details, el("p", "note")), [document.createTextNode("Not found verbatim in the abstract:"), val(c.gains[gain].evidence)]);
    }
  }

  /* ---- which cards, in which order ---- */
  function ordered(sort) {
    if (!orders[sort]) {
      var list = cards.slice();
      if (sort === "title") {
        var collator = new Intl.Collator(undefined, { sensitivity: "base", numeric: true });
        list.sort(function (a, b) { return collator.compare(a.title, b.title) || a.n - b.n; });
      } else if (sort === "gains") {
        list.sort(function (a, b) { return b.gains.length - a.gains.length || a.n - b.n; });
      }
      orders[sort] = list;
    }
    return orders[sort];
  }
  function matching() {
    var words = state.q.toLowerCase().split(/\s+/).filter(Boolean);
    return ordered(state.sort).filter(function (c) {
      if (state.kind && c.kind !== state.kind) return false;
      if (state.code && c.status !== state.code) return false;
      if (state.nums && !c.gains.length) return false;
      for (var i = 0; i < words.length; i++) if (c.hay.indexOf(words[i]) < 0) return false;
      return true;
    });
  }
  function render() {
    var list = matching();
    var pages = Math.max(1, Math.ceil(list.length / pageSize));
    state.page = Math.min(Math.max(1, state.page), pages);
    var start = (state.page - 1) * pageSize;
    var shown = list.slice(start, start + pageSize);
    var fragment = document.createDocumentFragment();
    shown.forEach(function (c) { fragment.appendChild(renderCard(c)); });
    $("cards").replaceChildren(fragment);
    var what = list.length === cards.length ? cards.length + " papers" : list.length + " of " + cards.length + " papers match";
    $("status").textContent = list.length ? what + (pages > 1 ? " · showing " + (start + 1) + "–" + (start + shown.length) : "")
      : "No paper matches: clear the search or a filter.";
    $("pager").hidden = pages < 2;
    $("prev").disabled = state.page <= 1;
    $("next").disabled = state.page >= pages;
    $("pageinfo").textContent = "page " + state.page + " of " + pages;
  }

  /* ---- state <-> controls <-> URL fragment ---- */
  function allowed(select, value) {
    return Array.prototype.some.call(select.options, function (o) { return o.value === value; }) ? value : "";
  }
  function readHash() {
    var p = new URLSearchParams(location.hash.slice(1));
    state = {
      q: p.get("q") || "",
      kind: allowed(controls.kind, p.get("kind") || ""),
      code: allowed(controls.code, p.get("code") || ""),
      nums: p.get("nums") === "1",
      sort: SORTS.indexOf(p.get("sort")) >= 0 ? p.get("sort") : "order",
      page: parseInt(p.get("page"), 10) || 1,
    };
    controls.q.value = state.q;
    controls.kind.value = state.kind;
    controls.code.value = state.code;
    controls.nums.checked = state.nums;
    controls.sort.value = state.sort;
  }
  function writeHash() {
    var p = new URLSearchParams();
    if (state.q) p.set("q", state.q);
    if (state.kind) p.set("kind", state.kind);
    if (state.code) p.set("code", state.code);
    if (state.nums) p.set("nums", "1");
    if (state.sort !== "order") p.set("sort", state.sort);
    if (state.page > 1) p.set("page", String(state.page));
    lastHash = "#" + p.toString();
    location.replace(lastHash);
  }
  function fromControls() {
    state = { q: controls.q.value, kind: controls.kind.value, code: controls.code.value,
              nums: controls.nums.checked, sort: controls.sort.value, page: 1 };
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
  function filtered() { return !!(state.q || state.kind || state.code || state.nums); }
  function clearAll() {  /* the search and every filter; the sort stays */
    state = { q: "", kind: "", code: "", nums: false, sort: state.sort, page: 1 };
    controls.q.value = "";
    controls.kind.value = "";
    controls.code.value = "";
    controls.nums.checked = false;
    render();
    writeHash();
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
  ["kind", "code", "nums", "sort"].forEach(function (name) { controls[name].addEventListener("change", fromControls); });
  $("controls").addEventListener("submit", function (e) { e.preventDefault(); });
  $("prev").addEventListener("click", function () { turn(-1); });
  $("next").addEventListener("click", function () { turn(1); });
  $("cards").addEventListener("click", function (e) {
    var button = e.target.closest("button.evidence");
    if (button) showEvidence(button.closest("article"), Number(button.getAttribute("data-gain")));
  });
  window.addEventListener("hashchange", function () {
    if (location.hash === lastHash) return;
    readHash();
    render();
  });
  document.addEventListener("keydown", function (e) {
    var inField = /^(INPUT|SELECT|TEXTAREA)$/.test(e.target.tagName);
    if (e.key === "Escape" && (filtered() || e.target === controls.q)) {
      e.preventDefault();
      clearAll();
    } else if (!inField && !e.ctrlKey && !e.metaKey && !e.altKey) {
      if (e.key === "/") { e.preventDefault(); controls.q.focus(); }
      else if (e.key === "j" || e.key === "k") moveFocus(e.key === "j" ? 1 : -1);
    }
  });
  function moveFocus(delta) {
    var all = Array.prototype.slice.call($("cards").children);
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
      if (f.message) { var why = el("span", "reason", "— "); why.appendChild(val(f.message)); parts.push(why); }
      addAll(add(fragment, el("li")), parts);
    });
    list.appendChild(fragment);
  }

  readHash();
  render();
  renderFailed();
  document.documentElement.setAttribute("data-ready", "1");
})();
