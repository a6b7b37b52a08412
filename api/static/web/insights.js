/* Dashboards, lists and the rule editor: draw the ECharts options the server embedded, and the
   line-numbered YAML editor (validate / save through the API, try an unsaved book on a call). */
(function () {
  "use strict";

  function drawCharts() {
    document.querySelectorAll("script.chart-options").forEach(function (block) {
      var prefix = block.dataset.prefix, items = JSON.parse(block.textContent);
      items.forEach(function (item, i) {
        var el = document.getElementById(prefix + "-" + i);
        if (!el || !window.echarts) return;
        var series = [].concat(item.option.series || []);
        if (!series.some(function (s) { return (s.data || (s.links || [])).length; })) {
          el.style.height = "80px";
          el.innerHTML = '<p class="chart-empty">' + (block.dataset.empty || "") + "</p>";
          return;
        }
        var chart = echarts.init(el);
        // no animation: a dashboard is read, not watched (and a screenshot shows the finished chart)
        var option = Object.assign({textStyle: {fontFamily: "Noto Sans CJK SC, Microsoft YaHei, sans-serif"}},
                                   item.option, {animation: false});
        chart.on("finished", function () { el.dataset.drawn = "1"; });
        chart.setOption(option);
        window.addEventListener("resize", function () { chart.resize(); });
      });
    });
  }

  function setupEditor() {
    var root = document.getElementById("editor");
    if (!root) return;
    var ta = root.querySelector("textarea");
    var gutter = root.querySelector(".gutter-inner"), back = root.querySelector(".backdrop-inner");
    var list = document.getElementById("problems"), status = document.getElementById("status");
    var T = JSON.parse(document.getElementById("editor-texts").textContent);
    var own = root.dataset.file, bad = new Map(), shownLines = 0, timer = null;

    function lineHeight() { return parseFloat(getComputedStyle(ta).lineHeight) || 20; }
    function esc(s) { return String(s).replace(/[&<>"]/g, function (c) { return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c]; }); }

    function paint() {
      var n = ta.value.split("\n").length, g = [], b = [];
      for (var i = 1; i <= n; i++) {
        var cls = bad.has(i) ? "ln bad" : "ln";
        var title = bad.has(i) ? ' title="' + esc(bad.get(i).join("\n")) + '"' : "";
        g.push('<div class="' + cls + '" data-line="' + i + '"' + title + ">" + i + "</div>");
        b.push('<div class="' + cls + '" data-line="' + i + '"></div>');
      }
      gutter.innerHTML = g.join(""); back.innerHTML = b.join(""); shownLines = n; sync();
    }
    function sync() {
      gutter.style.transform = "translateY(" + (-ta.scrollTop) + "px)";
      back.style.transform = "translate(" + (-ta.scrollLeft) + "px," + (-ta.scrollTop) + "px)";
    }
    function goTo(line) {
      var rows = ta.value.split("\n"), pos = 0;
      line = Math.max(1, Math.min(line, rows.length));
      for (var i = 0; i < line - 1; i++) pos += rows[i].length + 1;
      ta.focus();
      ta.setSelectionRange(pos, pos + rows[line - 1].length);
      ta.scrollTop = Math.max(0, (line - 1) * lineHeight() - ta.clientHeight / 3);
      sync();
    }
    function lineText(n) { return T.line.replace("{n}", n); }
    function showProblems(errors) {
      bad = new Map();
      list.innerHTML = "";
      errors.forEach(function (e) {
        var mine = e.line && (!e.file || e.file === own);
        if (mine) { if (!bad.has(e.line)) bad.set(e.line, []); bad.get(e.line).push(e.message); }
        var li = document.createElement("li");
        if (mine) li.dataset.line = e.line;
        var where = (e.file && e.file !== own ? e.file + " " : "") + (e.line ? lineText(e.line) : "");
        li.innerHTML = (mine ? '<a href="#" class="goto">' + esc(where) + "</a>" : '<span class="where">' + esc(where) + "</span>") +
          (e.rule ? " · <code>" + esc(e.rule) + "</code>" : "") + " — " + esc(e.message);
        list.appendChild(li);
      });
      paint();
    }
    function say(text, kind) { status.textContent = text; status.className = "status " + (kind || ""); }

    function validate() {
      say(T.checking);
      return fetch(root.dataset.validate, {method: "POST", headers: {"Content-Type": "application/yaml"}, body: ta.value})
        .then(function (r) { return r.json().then(function (body) { return [r, body]; }); })
        .then(function (rb) {
          var r = rb[0], body = rb[1];
          if (!r.ok) { say(T.failed + ": " + (body.detail || r.status), "bad"); return; }
          showProblems(body.errors || []);
          say(body.valid ? T.valid : T.problems.replace("{n}", body.errors.length), body.valid ? "good" : "bad");
        })
        .catch(function (err) { say(T.failed + ": " + err, "bad"); });
    }
    function save() {
      say(T.checking);
      fetch(root.dataset.save, {method: "PUT", headers: {"Content-Type": "application/yaml"}, body: ta.value})
        .then(function (r) { return r.json().then(function (body) { return [r, body]; }); })
        .then(function (rb) {
          var r = rb[0], body = rb[1];
          if (r.ok) { showProblems([]); say(T.saved.replace("{v}", body.version), "good"); return; }
          if (r.status === 422 && body.detail && body.detail.errors) {
            showProblems(body.detail.errors);
            say(T.problems.replace("{n}", body.detail.errors.length), "bad");
            return;
          }
          say(T.failed + ": " + (typeof body.detail === "string" ? body.detail : r.status), "bad");
        })
        .catch(function (err) { say(T.failed + ": " + err, "bad"); });
    }

    list.addEventListener("click", function (ev) {
      var li = ev.target.closest("li[data-line]");
      if (li && ev.target.closest("a.goto")) { ev.preventDefault(); goTo(parseInt(li.dataset.line, 10)); }
    });
    gutter.addEventListener("click", function (ev) {
      var ln = ev.target.closest(".ln");
      if (ln) goTo(parseInt(ln.dataset.line, 10));
    });
    ta.addEventListener("scroll", sync);
    ta.addEventListener("input", function () {
      if (ta.value.split("\n").length !== shownLines) paint();
      refreshRules();
      clearTimeout(timer);
      timer = setTimeout(validate, 900);
    });
    ta.addEventListener("keydown", function (ev) {  // Tab indents (YAML wants spaces)
      if (ev.key !== "Tab" || ta.readOnly) return;
      ev.preventDefault();
      document.execCommand("insertText", false, "  ");
    });
    document.getElementById("validate").addEventListener("click", validate);
    var saveButton = document.getElementById("save");
    if (saveButton) saveButton.addEventListener("click", save);

    // try the unsaved book on a stored call
    var ruleSelect = document.getElementById("try-rule");
    function refreshRules() {
      if (!ruleSelect) return;
      var ids = [], re = /^\s*-\s+id:\s*["']?([A-Za-z0-9_.-]+)/gm, m;
      while ((m = re.exec(ta.value))) ids.push(m[1]);
      var current = ruleSelect.value, first = ruleSelect.options[0];
      ruleSelect.innerHTML = "";
      ruleSelect.appendChild(first);
      ids.forEach(function (id) {
        var o = document.createElement("option");
        o.value = o.textContent = id;
        if (id === current) o.selected = true;
        ruleSelect.appendChild(o);
      });
    }
    var run = document.getElementById("try-run");
    if (run) {
      var out = document.getElementById("try-result"), callInput = document.getElementById("try-call");
      run.addEventListener("click", function () {
        var callId = callInput.value.trim() || callInput.placeholder;
        if (!callId || callId === "call id") { out.innerHTML = '<p class="error">' + esc(T.no_call) + "</p>"; return; }
        out.innerHTML = '<p class="muted">' + esc(T.running) + "</p>";
        fetch("/rules/try", {method: "POST", headers: {"Content-Type": "application/json"},
                             body: JSON.stringify({yaml: ta.value, call_id: callId, rule: ruleSelect.value || null})})
          .then(function (r) { return r.text(); })
          .then(function (html) {
            out.innerHTML = html;
            var lines = Array.prototype.map.call(out.querySelectorAll("li[data-line]"), function (li) {
              return {line: parseInt(li.dataset.line, 10), message: li.textContent};
            }).filter(function (e) { return e.line; });
            if (lines.length) showProblems(lines);
          })
          .catch(function (err) { out.innerHTML = '<p class="error">' + esc(String(err)) + "</p>"; });
      });
      out.addEventListener("click", function (ev) {
        var li = ev.target.closest("li[data-line]");
        if (li && ev.target.closest("a.goto")) { ev.preventDefault(); goTo(parseInt(li.dataset.line, 10)); }
      });
    }
    refreshRules();
    paint();
  }

  drawCharts();
  setupEditor();
})();
