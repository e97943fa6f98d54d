"""The page's inline style and script.

The script only adds to a page that reads without it: it shows the filter box, sorts
the course table when a heading is clicked, and keeps both in the address's #fragment
(`#sort=learners_completed&dir=asc&q=python`), so a sorted, filtered view can be
bookmarked or sent. A course's text is read once.

A browser lays out every row of a table before it shows it: 20,000 rows took Chromium
seven times as long as the first few hundred. So the page shows the first LIMIT rows
of the current order and filter, with a button for the rest. The rows past LIMIT are
hidden from the first paint by HEAD_SCRIPT, which only marks the page; without script
(nothing marks it) every row shows.
"""

LIMIT = 300
HEAD_SCRIPT = 'document.documentElement.className = "js limited";'

STYLE = (
    """
.js.limited #courses tbody tr:nth-child(n+LIMIT_NEXT){display:none}
:root{--ink:#1f2933;--muted:#5f6b7a;--line:#e4e7eb;--accent:#2563eb;--accent-light:#bcd0fb;
--bg:#f4f6f9}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);
font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1160px;margin:0 auto;padding:28px 18px 56px}
h1{font-size:2rem;line-height:1.2;margin:0 0 6px}
h2{font-size:1.2rem;margin:36px 0 10px}
.asof{color:var(--muted);margin:0 0 22px;max-width:60em}
.asof time{color:var(--ink);font-weight:600}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:16px}
.card,figure,.scroll{background:#fff;border:1px solid var(--line);border-radius:10px}
.card{padding:16px 20px}
.card h2{margin:0 0 10px;font-size:1.15rem}
.card dl{display:grid;grid-template-columns:1fr 1fr;gap:12px 18px;margin:0}
.card dt{color:var(--muted);font-size:.85rem;line-height:1.3}
.card dd{margin:0;font-size:1.6rem;font-weight:650;font-variant-numeric:tabular-nums}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:16px;
margin-top:16px}
figure{margin:0;padding:16px 18px;min-width:0}
figcaption{font-weight:600;margin-bottom:10px}
svg{width:100%;height:auto;display:block}
svg .bar{fill:var(--accent)}svg .light{fill:var(--accent-light)}svg .grid{stroke:var(--line)}
svg .axis{fill:var(--muted);font-size:12px}svg .label{fill:var(--ink);font-size:14px}
svg .value{fill:var(--muted);font-size:13px}
.key{font-weight:400;font-size:.85rem;color:var(--muted);white-space:nowrap}
.swatch{display:inline-block;width:10px;height:10px;background:var(--accent);
margin:0 4px 0 10px}.swatch.light{background:var(--accent-light)}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{padding:6px 10px;text-align:left;border-bottom:1px solid var(--line);vertical-align:top}
th{background:#eef1f5;white-space:nowrap;font-weight:600}
th[data-key]{cursor:pointer;user-select:none}
th[aria-sort=ascending]::after{content:" \\25B2"}th[aria-sort=descending]::after{content:" \\25BC"}
#courses td:nth-child(n+3),#courses th:nth-child(n+3){text-align:right;
font-variant-numeric:tabular-nums}
#courses td:first-child{min-width:15em}
#courses small{display:block;font:.75rem ui-monospace,Menlo,Consolas,monospace;
color:var(--muted);word-break:break-all}
tbody tr:nth-child(even){background:#fafbfc}
.tag{font-size:.75rem;background:#fde68a;border-radius:4px;padding:0 5px;white-space:nowrap}
.missing{color:var(--muted);font-style:italic}
.note,.none{color:var(--muted);font-size:.9rem}
.controls{display:flex;gap:16px;align-items:center;margin:10px 0;flex-wrap:wrap}
.controls[hidden]{display:none}
.controls input{font:inherit;padding:5px 9px;border:1px solid #c4ccd6;border-radius:6px;
width:20em;max-width:100%}
#shown{color:var(--muted);font-size:.9rem}
.controls button{font:inherit;padding:4px 12px;border:1px solid #c4ccd6;border-radius:6px;
background:#fff;cursor:pointer}
.narrow{display:none}
#runs td:nth-child(5){color:var(--muted);font-size:.85rem;min-width:18em}
.status{font-weight:600}.ok .status{color:#15803d}
.failed .status,.refused .status,.interrupted .status{color:#b91c1c}
.examples{margin:0;padding-left:1.4em;font:.9rem ui-monospace,Menlo,Consolas,monospace;
word-break:break-all}
code{font:.9em ui-monospace,Menlo,Consolas,monospace;background:#eef1f5;padding:1px 4px;
border-radius:4px}
@media (max-width:600px){main{padding:18px 10px 40px}.narrow{display:block}h1{font-size:1.55rem}
.card dd{font-size:1.3rem}table{font-size:.8rem}th,td{padding:5px 7px}
#courses td:first-child{min-width:11em}
svg .label{font-size:19px}svg .value,svg .axis{font-size:16px}}
"""
).replace("LIMIT_NEXT", str(LIMIT + 1))

SCRIPT = """
(function () {
  var root = document.documentElement;
  try { start(); } finally { root.classList.remove("limited"); }

  function start() {
    var table = document.getElementById("courses");
    var tbody = table.tBodies[0], heads = table.tHead.rows[0].cells;
    var rows = Array.prototype.slice.call(tbody.rows);
    if (!rows.length || rows[0].cells.length < heads.length) return;
    var input = document.getElementById("filter"), shown = document.getElementById("shown");
    var more = document.getElementById("more");
    var texts = rows.map(function (r, k) { r._k = k; return r.textContent.toLowerCase(); });
    var state = {sort: "", dir: "desc", q: "", all: false};

    function column(key) {
      for (var i = 0; i < heads.length; i++) if (heads[i].dataset.key === key) return i;
      return -1;
    }
    function value(cell, numeric) {
      var v = cell.hasAttribute("data-v") ? cell.getAttribute("data-v") : cell.textContent;
      if (!numeric) return v.toLowerCase();
      var n = parseFloat(v.replace(/,/g, ""));
      return isNaN(n) ? null : n;
    }
    function sort() {
      var i = column(state.sort);
      if (i < 0) return;
      var numeric = heads[i].hasAttribute("data-num"), sign = state.dir === "asc" ? 1 : -1;
      var keyed = rows.map(function (r, k) { return [value(r.cells[i], numeric), k, r]; });
      keyed.sort(function (a, b) {
        if (a[0] === b[0]) return a[1] - b[1];
        if (a[0] === null) return 1;  // no value: last, whichever the direction
        if (b[0] === null) return -1;
        return (a[0] < b[0] ? -1 : 1) * sign;
      });
      var fragment = document.createDocumentFragment();
      keyed.forEach(function (e) { fragment.appendChild(e[2]); });
      tbody.appendChild(fragment);
      for (var h = 0; h < heads.length; h++) heads[h].removeAttribute("aria-sort");
      heads[i].setAttribute("aria-sort", state.dir === "asc" ? "ascending" : "descending");
    }
    function filter() {
      // In the table's current order: the first LIMIT rows that match show.
      var q = state.q.trim().toLowerCase(), matching = 0, visible = 0, current = tbody.rows;
      for (var j = 0; j < current.length; j++) {
        var r = current[j], match = q === "" || texts[r._k].indexOf(q) >= 0;
        if (match) matching++;
        r.hidden = !match || (!state.all && matching > LIMIT);
        if (!r.hidden) visible++;
      }
      shown.textContent = "showing " + visible.toLocaleString("en") + " of " +
        rows.length.toLocaleString("en") + " courses";
      more.hidden = visible === matching;
      more.textContent = "Show all " + matching.toLocaleString("en") + (q ? " matching" : "");
    }
    function remember() {
      var p = new URLSearchParams();
      if (state.sort) { p.set("sort", state.sort); p.set("dir", state.dir); }
      if (state.q) p.set("q", state.q);
      try { history.replaceState(null, "", "#" + p.toString()); } catch (e) { /* file: */ }
    }
    function onHead() {
      var key = this.dataset.key;
      if (state.sort === key) state.dir = state.dir === "asc" ? "desc" : "asc";
      else { state.sort = key; state.dir = this.hasAttribute("data-num") ? "desc" : "asc"; }
      sort(); filter(); remember();
    }
    var asked = new URLSearchParams(location.hash.slice(1));
    if (column(asked.get("sort") || "") >= 0) {
      state.sort = asked.get("sort");
      state.dir = asked.get("dir") === "asc" ? "asc" : "desc";
    }
    state.q = (asked.get("q") || "").slice(0, 200);
    input.value = state.q;
    for (var h = 0; h < heads.length; h++) {
      heads[h].tabIndex = 0;
      heads[h].addEventListener("click", onHead);
      heads[h].addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); onHead.call(this); }
      });
    }
    input.addEventListener("input", function () { state.q = input.value; filter(); remember(); });
    more.addEventListener("click", function () { state.all = true; filter(); });
    document.getElementById("controls").hidden = false;
    sort(); filter();
    root.setAttribute("data-script", "ran");
  }
})();
""".replace("LIMIT", str(LIMIT))
