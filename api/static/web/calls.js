/* Callscope pages: upload (per-file progress, live job state) and the call page (play from a turn,
   timeline, channel choice, findings panel, review and appeal through the API). No dependencies. */
(function () {
  "use strict";

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $$(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }
  function json(id) { var node = document.getElementById(id); return node ? JSON.parse(node.textContent) : null; }

  /* el("td", {class: "x"}, "text", child...) */
  function el(tag, attrs) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (attrs[k] === null || attrs[k] === undefined || attrs[k] === false) return;
      if (k === "text") node.textContent = attrs[k];
      else node.setAttribute(k, attrs[k] === true ? "" : attrs[k]);
    });
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c === null || c === undefined || c === false) continue;
      node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    }
    return node;
  }

  /* An API error body as one line: {"detail": "..."} or FastAPI's list of field errors. */
  function problem(status, body) {
    var detail = body && body.detail;
    if (Array.isArray(detail)) {
      detail = detail.map(function (d) { return (d.loc || []).slice(1).join(".") + ": " + d.msg; }).join("; ");
    }
    return status + (detail ? ": " + detail : "");
  }

  function size(n) {
    if (n >= 1048576) return (n / 1048576).toFixed(1) + " MB";
    if (n >= 1024) return Math.round(n / 1024) + " KB";
    return n + " B";
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  /* ---------------------------------------------------------------- upload */

  function initUpload() {
    var zone = $("#drop-zone");
    if (!zone) return;
    var T = json("upload-texts");
    var tbody = $("#upload-files tbody");
    var startButton = $("#upload-start");
    var items = [];
    var CONCURRENT = 2;

    function add(file, path) {
      var name = path || file.webkitRelativePath || file.name;
      if (/(^|\/)\./.test(name)) return; // hidden files such as .DS_Store
      var bar = el("div", {class: "bar"}, el("span"));
      var state = el("span", {class: "state state-waiting", text: T.waiting});
      var result = el("span", {class: "result"});
      var row = el("tr", {class: "upload-row", "data-file": file.name},
        el("td", {class: "file-name", text: name}), el("td", {class: "num", text: size(file.size)}),
        el("td", {}, bar), el("td", {}, state), el("td", {}, result));
      var empty = $("tr.empty", tbody);
      if (empty) empty.remove();
      tbody.appendChild(row);
      items.push({file: file, name: name, row: row, bar: bar, state: state, result: result, status: "waiting"});
    }

    function addAll(files) {
      Array.prototype.forEach.call(files, function (f) { add(f); });
      refresh();
    }

    function refresh() {
      var waiting = items.filter(function (i) { return i.status === "waiting"; }).length;
      startButton.disabled = waiting === 0;
      var counts = {};
      items.forEach(function (i) { var k = i.job ? i.jobState || "queued" : i.status; counts[k] = (counts[k] || 0) + 1; });
      var parts = Object.keys(counts).map(function (k) { return (T[k] || k) + " " + counts[k]; });
      $("#upload-summary").textContent = items.length ? items.length + " " + T.files + (parts.length ? " · " + parts.join(" · ") : "") : "";
    }

    function setState(item, key, text) {
      item.state.className = "state state-" + key;
      item.state.textContent = text || T[key] || key;
    }

    function metadata() {
      var form = $("#upload-meta");
      var meta = {};
      ["agent_id", "queue", "customer_id", "direction", "industry"].forEach(function (name) {
        var v = form.elements[name].value.trim();
        if (v) meta[name] = v;
      });
      var local = form.elements.started_at.value;
      if (local) {
        if (local.length === 16) local += ":00";
        var off = -new Date(local).getTimezoneOffset();
        var a = Math.abs(off);
        meta.started_at = local + (off >= 0 ? "+" : "-") + pad(Math.floor(a / 60)) + ":" + pad(a % 60);
      }
      return Object.keys(meta).length ? meta : null;
    }

    function send(item, meta) {
      return new Promise(function (resolve) {
        var form = new FormData();
        form.append("files", item.file, item.file.name);
        if (meta) form.append("metadata", JSON.stringify(meta));
        var xhr = new XMLHttpRequest();
        xhr.open("POST", "/api/uploads");
        item.status = "sending";
        setState(item, "sending");
        xhr.upload.onprogress = function (e) {
          if (e.lengthComputable) item.bar.firstChild.style.width = (100 * e.loaded / e.total).toFixed(1) + "%";
        };
        xhr.onload = function () {
          var body = null;
          try { body = JSON.parse(xhr.responseText); } catch (err) { body = null; }
          if (xhr.status === 202 && body && body.files && body.files.length) {
            var f = body.files[0];
            item.bar.firstChild.style.width = "100%";
            if (f.status === "rejected") {
              rejected(item, "rejected", f.reason || "");
            } else {
              item.status = f.status;
              item.job = f.job_id;
              item.jobState = f.state || "queued";
              item.row.setAttribute("data-job", f.job_id);
              if (f.status === "duplicate") item.result.textContent = T.duplicate;
              showJob(item, {state: item.jobState, progress: 0});
            }
          } else {
            rejected(item, "error", problem(xhr.status, body));
          }
          refresh();
          resolve();
        };
        xhr.onerror = function () { rejected(item, "error", T.error); refresh(); resolve(); };
        xhr.send(form);
      });
    }

    function rejected(item, key, reason) {
      item.status = key;
      item.bar.className = "bar bad";
      setState(item, key);
      item.result.textContent = "";
      item.result.appendChild(el("span", {class: "reason", text: reason}));
    }

    function showJob(item, job) {
      item.jobState = job.state;
      var text = T[job.state] || job.state;
      if ((job.state === "transcribing" || job.state === "analysing") && job.progress) {
        text += " " + Math.round(100 * job.progress) + "%";
      }
      setState(item, job.state, text);
      item.row.setAttribute("data-state", job.state);
      if (job.state === "done") {
        item.bar.className = "bar done";
        if (job.call_id) {
          item.result.textContent = "";
          item.result.appendChild(el("a", {href: "/calls/" + encodeURIComponent(job.call_id), class: "open-call"},
            T.open + " " + job.call_id));
        }
      } else if (job.state === "failed") {
        item.bar.className = "bar bad";
        item.result.textContent = "";
        item.result.appendChild(el("span", {class: "reason", text: job.error || ""}));
      }
    }

    function poll() {
      var live = items.filter(function (i) { return i.job && i.jobState !== "done" && i.jobState !== "failed"; });
      live.slice(0, 30).forEach(function (item) {
        fetch("/api/jobs/" + item.job, {headers: {Accept: "application/json"}}).then(function (r) {
          return r.ok ? r.json() : null;
        }).then(function (job) {
          if (job) { showJob(item, job); refresh(); }
        }).catch(function () { /* try again next second */ });
      });
    }
    setInterval(poll, 1000);

    startButton.addEventListener("click", function () {
      var meta = metadata();
      var queue = items.filter(function (i) { return i.status === "waiting"; });
      startButton.disabled = true;
      function next() {
        var item = queue.shift();
        return item ? send(item, meta).then(next) : Promise.resolve();
      }
      for (var k = 0; k < CONCURRENT; k++) next();
    });

    $("#upload-clear").addEventListener("click", function () {
      items = items.filter(function (i) {
        var keep = i.status === "sending" || (i.job && i.jobState !== "done" && i.jobState !== "failed");
        if (!keep) i.row.remove();
        return keep;
      });
      if (!items.length) tbody.appendChild(el("tr", {class: "empty"}, el("td", {colspan: 5, class: "muted", text: T.none})));
      refresh();
    });

    ["#file-input", "#folder-input"].forEach(function (sel) {
      $(sel).addEventListener("change", function (e) { addAll(e.target.files); e.target.value = ""; });
    });

    /* drag and drop: files, or folders walked with the entries API */
    function walk(entry, prefix) {
      return new Promise(function (resolve) {
        if (entry.isFile) {
          entry.file(function (f) { add(f, prefix + f.name); resolve(); }, function () { resolve(); });
        } else if (entry.isDirectory) {
          var reader = entry.createReader();
          var found = [];
          var more = function () {
            reader.readEntries(function (batch) {
              if (!batch.length) {
                Promise.all(found.map(function (e) { return walk(e, prefix + entry.name + "/"); })).then(resolve);
              } else { found = found.concat(Array.prototype.slice.call(batch)); more(); }
            }, function () { resolve(); });
          };
          more();
        } else resolve();
      });
    }
    ["dragenter", "dragover"].forEach(function (type) {
      zone.addEventListener(type, function (e) { e.preventDefault(); zone.classList.add("over"); });
    });
    zone.addEventListener("dragleave", function () { zone.classList.remove("over"); });
    zone.addEventListener("drop", function (e) {
      e.preventDefault();
      zone.classList.remove("over");
      var dt = e.dataTransfer;
      var entries = Array.prototype.map.call(dt.items || [], function (i) {
        return i.webkitGetAsEntry ? i.webkitGetAsEntry() : null;
      }).filter(Boolean);
      if (entries.length) Promise.all(entries.map(function (en) { return walk(en, ""); })).then(refresh);
      else addAll(dt.files);
    });
    refresh();
  }

  /* ---------------------------------------------------------------- call page */

  function initCall() {
    var page = $("#call-page");
    if (!page) return;
    var data = json("call-data");
    var T = data.texts;
    var audio = $("#call-audio");
    var turns = $$(".turn");
    var duration = parseFloat($("#timeline").getAttribute("data-duration")) || 1;

    function showTurn(index, flash) {
      var node = document.getElementById("turn-" + index);
      if (!node) return null;
      node.scrollIntoView({block: "center", behavior: "smooth"});
      if (flash) {
        node.classList.remove("flash");
        void node.offsetWidth; // restart the animation
        node.classList.add("flash");
      }
      return node;
    }

    function playFrom(seconds) {
      if (!audio || isNaN(seconds)) return;
      audio.currentTime = seconds;
      var p = audio.play();
      if (p && p.catch) p.catch(function () { /* no sound device, or autoplay refused: the position is set */ });
    }

    turns.forEach(function (turn) {
      turn.addEventListener("click", function (e) {
        if (e.target.closest("a, button, input, textarea, select")) return;
        playFrom(parseFloat(turn.getAttribute("data-start")));
      });
      turn.addEventListener("keydown", function (e) {  // Enter or Space on a focused turn plays it too
        if (e.key !== "Enter" && e.key !== " ") return;
        e.preventDefault();
        playFrom(parseFloat(turn.getAttribute("data-start")));
      });
    });

    /* timeline: a segment plays its turn, elsewhere seeks to that point */
    $$(".tl-track").forEach(function (track) {
      track.addEventListener("click", function (e) {
        var seg = e.target.closest(".tl-seg");
        if (seg && seg.hasAttribute("data-turn")) showTurn(seg.getAttribute("data-turn"), true);
        if (seg) { playFrom(parseFloat(seg.getAttribute("data-start"))); return; }
        var rect = track.getBoundingClientRect();
        playFrom(Math.max(0, Math.min(1, (e.clientX - rect.left) / rect.width)) * duration);
      });
    });

    /* the findings panel jumps to its turn */
    $$(".go-turn").forEach(function (link) {
      link.addEventListener("click", function (e) {
        e.preventDefault();
        showTurn(link.getAttribute("data-turn"), true);
      });
    });

    if (audio) {
      var playhead = $("#playhead");
      audio.addEventListener("timeupdate", function () {
        var t = audio.currentTime;
        playhead.style.display = "block";
        playhead.style.left = Math.min(100, 100 * t / duration) + "%";
        turns.forEach(function (turn) {
          var s = parseFloat(turn.getAttribute("data-start")), en = parseFloat(turn.getAttribute("data-end"));
          turn.classList.toggle("playing", !audio.paused && t >= s && t < en);
        });
      });
      channels(audio);
    }
    reviews(data);
  }

  /* Which party to hear: the stored file is stereo, agent left and customer right. The WebAudio graph
     is built on first use (a user gesture), because it takes the element's sound over for good. */
  function channels(audio) {
    var select = $("#channel-mode");
    var AudioContext = window.AudioContext || window.webkitAudioContext;
    if (!select || !AudioContext) { if (select) select.parentNode.style.display = "none"; return; }
    var gains = null;
    function graph() {
      var ctx = new AudioContext();
      var source = ctx.createMediaElementSource(audio);
      var split = ctx.createChannelSplitter(2);
      var merge = ctx.createChannelMerger(2);
      source.connect(split);
      var g = {};
      [["LL", 0, 0], ["LR", 0, 1], ["RL", 1, 0], ["RR", 1, 1]].forEach(function (w) {
        var gain = ctx.createGain();
        split.connect(gain, w[1]);
        gain.connect(merge, 0, w[2]);
        g[w[0]] = gain.gain;
      });
      merge.connect(ctx.destination);
      g.ctx = ctx;
      return g;
    }
    select.addEventListener("change", function () {
      gains = gains || graph();
      if (gains.ctx.state === "suspended") gains.ctx.resume();
      var m = select.value;
      var set = {both: [1, 0, 0, 1], agent: [1, 1, 0, 0], customer: [0, 0, 1, 1]}[m] || [1, 0, 0, 1];
      gains.LL.value = set[0]; gains.LR.value = set[1]; gains.RL.value = set[2]; gains.RR.value = set[3];
      page_mode(m);
    });
    function page_mode(m) { document.body.setAttribute("data-channel", m); }
  }

  /* ---------------------------------------------------------------- review and appeal */

  function reviews(data) {
    var box = $("#review-threads");
    if (!box) return;
    var T = data.texts;
    var base = "/api/calls/" + encodeURIComponent(data.call_id);

    function post(url, body, errorNode) {
      errorNode.textContent = "";
      return fetch(url, {method: "POST", headers: {"Content-Type": "application/json", Accept: "application/json"},
                         body: JSON.stringify(body)})
        .then(function (r) {
          return r.json().catch(function () { return null; }).then(function (b) {
            if (!r.ok) throw new Error(problem(r.status, b));
            return b;
          });
        })
        .then(function () { return Promise.all([load(), scorecard()]); })
        .catch(function (err) { errorNode.textContent = T.failed + " " + err.message; });
    }

    /* the score card as the server now renders it (reviewed score, dimensions, fatal) */
    function scorecard() {
      return fetch(location.pathname + location.search, {headers: {Accept: "text/html"}}).then(function (r) {
        return r.ok ? r.text() : null;
      }).then(function (html) {
        if (!html) return;
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("scorecard");
        var card = $("#scorecard");
        if (fresh && card) { card.replaceWith(fresh); fresh.setAttribute("data-refreshed", "1"); }
      });
    }

    function when(iso) {
      var d = new Date(iso);
      return isNaN(d) ? iso : d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " +
        pad(d.getHours()) + ":" + pad(d.getMinutes());
    }

    function events(list) {
      var ol = el("ol", {class: "events"});
      list.forEach(function (e) {
        var what = T.actions[e.action] || e.action;
        if (e.verdict) what += " · " + (T.verdicts[e.verdict] || e.verdict);
        if (e.score_adjustment !== null && e.score_adjustment !== undefined) {
          what += " · " + (e.score_adjustment > 0 ? "+" : "") + e.score_adjustment;
        }
        ol.appendChild(el("li", {class: "event event-" + e.action, "data-action": e.action},
          el("span", {class: "actor", text: e.actor}), " ", el("span", {class: "what", text: what}),
          el("span", {class: "when", text: when(e.at)}),
          e.comment ? el("div", {class: "comment", text: e.comment}) : null));
      });
      return ol;
    }

    function thread(f) {
      var err = el("span", {class: "step-error error"});
      var url = base + "/findings/" + encodeURIComponent(f.finding);
      var head = el("div", {class: "thread-head"},
        f.turn !== null && f.turn !== undefined
          ? el("a", {href: "#turn-" + f.turn, class: "name go-turn", "data-turn": f.turn, text: f.name || f.rule})
          : el("span", {class: "name", text: f.name || f.rule}),
        f.fatal ? el("span", {class: "badge fatal", text: T.fatal}) : null,
        f.points ? el("span", {class: "muted small", text: "-" + f.points}) : null,
        el("span", {class: "state state-" + f.state, text: T.states[f.state] || f.state}));
      var node = el("div", {class: "thread" + (f.fatal ? " fatal" : ""), "data-finding": f.finding, "data-state": f.state},
        head, f.events.length ? events(f.events) : null);
      var ruled = f.state === "upheld" || f.state === "overturned";
      if (data.can_review && !ruled) {
        var comment = el("input", {type: "text", name: "comment", maxlength: 4000, placeholder: T.comment});
        var points = el("input", {type: "number", name: "score_adjustment", min: -100, max: 100, step: 1, placeholder: T.points});
        var verdict = function (v) {
          var b = el("button", {type: "button", class: v, "data-verdict": v, text: T[v]});
          b.addEventListener("click", function () {
            var body = {verdict: v};
            if (comment.value.trim()) body.comment = comment.value.trim();
            if (points.value !== "") body.score_adjustment = parseFloat(points.value);
            post(url + "/review", body, err);
          });
          return b;
        };
        node.appendChild(el("div", {class: "step-form review-form"}, comment, points, verdict("right"), verdict("wrong")));
      }
      if (data.can_appeal && !ruled && !f.appeal_open && f.verdict !== "wrong") {  // nothing to appeal once judged wrong
        var why = el("textarea", {name: "appeal", maxlength: 4000, placeholder: T.appeal_reason});
        var appeal = el("button", {type: "button", class: "appeal", text: T.appeal});
        appeal.addEventListener("click", function () { post(url + "/appeal", {comment: why.value}, err); });
        node.appendChild(el("div", {class: "step-form appeal-form"}, why, appeal));
      }
      if (data.can_rule && f.appeal_open) {
        var note = el("textarea", {name: "ruling", maxlength: 4000, placeholder: T.rule_comment});
        var rule = function (v, label, css) {
          var b = el("button", {type: "button", class: css, "data-verdict": v, text: label});
          b.addEventListener("click", function () { post(url + "/ruling", {verdict: v, comment: note.value}, err); });
          return b;
        };
        node.appendChild(el("div", {class: "step-form ruling-form"}, note, rule("right", T.uphold, "uphold"),
          rule("wrong", T.overturn, "overturn")));
      }
      node.appendChild(err);
      return node;
    }

    function load() {
      return fetch(base + "/reviews", {headers: {Accept: "application/json"}}).then(function (r) {
        return r.json().then(function (b) { if (!r.ok) throw new Error(problem(r.status, b)); return b; });
      }).then(function (r) {
        box.textContent = "";
        r.findings.forEach(function (f) { box.appendChild(thread(f)); });
        if (r.score_adjustments.length) {
          box.appendChild(el("div", {class: "thread call-level"}, el("div", {class: "thread-head"},
            el("span", {class: "name", text: T.call_adjust})), events(r.score_adjustments)));
        }
        r.stale.forEach(function (s) {
          box.appendChild(el("div", {class: "thread stale"}, el("div", {class: "thread-head"},
            el("span", {class: "name", text: s.rule}), el("span", {class: "muted small", text: T.stale})), events(s.events)));
        });
        $$(".go-turn", box).forEach(function (link) {
          link.addEventListener("click", function (e) {
            e.preventDefault();
            var node = document.getElementById("turn-" + link.getAttribute("data-turn"));
            if (node) { node.scrollIntoView({block: "center", behavior: "smooth"}); node.classList.remove("flash");
              void node.offsetWidth; node.classList.add("flash"); }
          });
        });
        r.findings.forEach(function (f) {
          $$(".badge[data-finding], .finding[data-finding]").forEach(function (node) {
            if (node.getAttribute("data-finding") === f.finding) node.setAttribute("data-state", f.state);
          });
        });
        box.setAttribute("data-loaded", "1");
        return r;
      }).catch(function (err) { box.textContent = T.failed + " " + err.message; });
    }

    var adjust = $("#call-adjust");
    if (adjust) {
      adjust.addEventListener("submit", function () {
        var body = {adjustment: parseFloat(adjust.elements.adjustment.value)};
        if (adjust.elements.comment.value.trim()) body.comment = adjust.elements.comment.value.trim();
        post(base + "/score", body, $(".step-error", adjust));
      });
    }
    load();
  }

  initUpload();
  initCall();
})();
