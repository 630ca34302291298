/* Kinerja dashboard. Plain JS, no libraries, works from file:// without a server.
 *
 * Data arrives as JSONP-style scripts (fetch() of file:// is blocked by browsers):
 *   data/tree.js          -> KINERJA.tree({meta, periods, units})    loaded at start (small)
 *   data/unit/<key>.js    -> KINERJA.load(unit_id, {kks, findings})   appended on demand per unit
 * Unit fields: id, p(arent), n(ame), l(evel), x (closed), f (file key), k (KK count),
 * e/w (error/warning findings), v/g/h (head NKO, grade, head KK per period, in `periods` order).
 */
(function () {
  'use strict';
  var GRADE = { sangat_baik: 'Sangat Baik', baik: 'Baik', cukup: 'Cukup', kurang: 'Kurang', buruk: 'Buruk' };
  var LEVEL = { 0: 'Kementerian', 1: 'Eselon I', 2: 'Eselon II', 3: 'Eselon III', 4: 'Eselon IV', 5: 'Pelaksana' };
  var LEVEL_SHORT = { 0: 'KEM', 1: 'E I', 2: 'E II', 3: 'E III', 4: 'E IV', 5: 'STAF' };
  var PERSP = { stakeholder: 'Stakeholder', customer: 'Customer', internal_process: 'Internal Process',
                learning_growth: 'Learning & Growth' };
  var COLOUR = { green: 'Hijau', yellow: 'Kuning', red: 'Merah' };
  var QUARTERS = ['Q1', 'Q2', 'Q3', 'Q4'];
  var HEX = { green: '#2e9d52', yellow: '#e0a800', red: '#d64545' };  // = style.css --green etc.

  var S = { meta: null, periods: [], byId: {}, kids: {}, roots: [], period: null, pi: 0,
            open: {}, unit: null, kk: null, cache: {}, pending: {}, staff: {}, more: {}, filter: '' };

  function $(id) { return document.getElementById(id); }
  function esc(s) {
    return String(s == null ? '' : s).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }
  /* Indonesian number format: 1.234,56 */
  function fmt(v, d) {
    if (v === null || v === undefined || isNaN(v)) return '–';
    d = d === undefined ? 2 : d;
    var s = Math.abs(v).toFixed(d).split('.');
    s[0] = s[0].replace(/\B(?=(\d{3})+(?!\d))/g, '.');
    return (v < 0 ? '−' : '') + s.join(',');
  }
  function gradeCls(g) { return 'g-' + (g || 'none'); }
  function colourCls(c) { return 'c-' + (c || 'none'); }
  function pill(v, cls, attrs) {
    return '<span class="pill ' + cls + '"' + (attrs || '') + ' data-value="' + (v == null ? '' : v) + '">' + fmt(v) + '</span>';
  }

  /* ------------------------------------------------------------------ data loading */
  var K = window.KINERJA = {};
  K.fail = function (msg) { $('detail').innerHTML = '<div class="err">' + esc(msg) + '</div>'; };
  K.tree = function (data) {
    S.meta = data.meta; S.periods = data.periods;
    data.units.forEach(function (u) { S.byId[u.id] = u; });
    data.units.forEach(function (u) {
      if (u.p && S.byId[u.p]) (S.kids[u.p] = S.kids[u.p] || []).push(u); else S.roots.push(u);
    });
    // KKs in each unit's whole subtree (the tree shows units; staff KKs sit inside them)
    (function total(list) {
      list.forEach(function (u) { total(S.kids[u.id] || []); u.kt = u.k + (S.kids[u.id] || []).reduce(function (a, c) { return a + c.kt; }, 0); });
    })(S.roots);
    var p = data.meta.default_period || S.periods[S.periods.length - 1];
    setPeriod(p, true);
    S.roots.forEach(function (r) { S.open[r.id] = true; });
    renderHeader();
    renderTree();
    if (S.roots.length) selectUnit(S.roots[0].id);
  };
  var natural = function (a, b) { return a.c.localeCompare(b.c, undefined, { numeric: true }); };
  K.load = function (unitId, data) {
    data.kks.forEach(function (k) { k.lines.sort(natural); });  // IKU-2 before IKU-10
    S.cache[unitId] = data;
    var cbs = S.pending[unitId] || [];
    delete S.pending[unitId];
    cbs.forEach(function (cb) { cb(data); });
  };
  function loadUnit(u, cb) {
    if (S.cache[u.id]) return cb(S.cache[u.id]);
    if (!u.f) { S.cache[u.id] = { kks: [], findings: [] }; return cb(S.cache[u.id]); }
    var waiting = S.pending[u.id] = S.pending[u.id] || [];
    waiting.push(cb);
    if (waiting.length > 1) return;  // a script for this unit is already on its way
    var s = document.createElement('script');
    s.src = 'data/unit/' + encodeURIComponent(u.f) + '.js';
    s.onerror = function () { delete S.pending[u.id]; K.fail('Data unit ' + u.id + ' tidak dapat dimuat (' + s.src + ')'); };
    document.head.appendChild(s);
  }

  /* ------------------------------------------------------------------ header */
  function setPeriod(p, quiet) {
    S.period = p; S.pi = Math.max(0, S.periods.indexOf(p));
    if (!quiet) { renderHeader(); renderTree(); renderDetail(); }
  }
  function renderHeader() {
    var m = S.meta;
    $('asof').textContent = m.as_of || '–';
    $('generated').textContent = m.generated_at ? 'diterbitkan ' + m.generated_at : '';
    $('year').textContent = m.year ? '· Tahun ' + m.year : '';
    var dq = $('dq');
    dq.className = 'dq dq-' + m.verdict;
    dq.textContent = 'Data quality: ' + m.verdict.toUpperCase() + (m.n_warnings ? ' (' + m.n_warnings + ' warning)' : '');
    dq.title = 'Great Expectations data docs of this night';
    if (m.data_docs) dq.href = m.data_docs;
    $('periods').innerHTML = S.periods.map(function (p) {
      return '<button type="button" data-period="' + p + '" class="' + (p === S.period ? 'on' : '') + '">' + p + '</button>';
    }).join('');
    $('legend').innerHTML = ['sangat_baik', 'baik', 'cukup', 'kurang', 'buruk'].map(function (g) {
      return '<span style="--c:var(--' + { sangat_baik: 'g-sb', baik: 'g-b', cukup: 'g-c', kurang: 'g-k', buruk: 'g-bu' }[g] + ')">' + GRADE[g] + '</span>';
    }).join('') + '<span style="--c:var(--none)">Belum dinilai</span>';
  }

  /* ------------------------------------------------------------------ tree */
  function nodeHtml(u, depth) {
    var kids = S.kids[u.id] || [];
    var open = !!S.open[u.id];
    var v = u.v[S.pi], g = u.g[S.pi];
    var h = '<div class="node' + (S.unit === u.id ? ' sel' : '') + '" role="treeitem" data-unit="' + esc(u.id) +
      '" data-level="' + u.l + '" style="padding-left:' + (8 + depth * 16) + 'px">' +
      '<span class="tog" data-tog="' + esc(u.id) + '">' + (kids.length ? (open ? '▾' : '▸') : '') + '</span>' +
      '<span class="lvl">' + (LEVEL_SHORT[u.l] || '?') + '</span>' +
      '<span class="nm" title="' + esc(u.n) + '">' + esc(u.n) + (u.x ? '<span class="closed">(ditutup)</span>' : '') + '</span>' +
      pill(v, gradeCls(g), ' data-testid="tree-nko"') + '</div>';
    if (open) kids.forEach(function (c) { h += nodeHtml(c, depth + 1); });
    return h;
  }
  function renderTree() {
    if (S.filter) return renderSearch();
    $('tree').innerHTML = S.roots.map(function (r) { return nodeHtml(r, 0); }).join('');
  }
  function pathOf(id) {
    var out = [], u = S.byId[id];
    while (u) { out.unshift(u); u = u.p ? S.byId[u.p] : null; }
    return out;
  }
  function renderSearch() {
    var q = S.filter.toLowerCase(), hits = [];
    for (var id in S.byId) {
      var u = S.byId[id];
      if (u.n.toLowerCase().indexOf(q) >= 0 || u.id.toLowerCase().indexOf(q) >= 0) hits.push(u);
      if (hits.length >= 200) break;
    }
    $('tree').innerHTML = hits.length ? hits.map(function (u) {
      return '<div class="search-hit" data-unit="' + esc(u.id) + '">' + esc(u.n) + ' ' +
        pill(u.v[S.pi], gradeCls(u.g[S.pi])) + '<small>' +
        esc(pathOf(u.id).slice(0, -1).map(function (a) { return a.n; }).join(' › ')) + '</small></div>';
    }).join('') : '<div class="empty">Tidak ada unit yang cocok</div>';
  }
  function revealUnit(id) {
    pathOf(id).slice(0, -1).forEach(function (a) { S.open[a.id] = true; });
  }

  /* ------------------------------------------------------------------ unit detail */
  function selectUnit(id, kk) {
    S.unit = id; S.kk = kk || null;
    revealUnit(id);
    renderTree();
    renderDetail();
    var u = S.byId[id];
    if (u) loadUnit(u, function () { if (S.unit === id) renderDetail(); });
  }
  function renderDetail() {
    var u = S.byId[S.unit];
    if (!u) { $('detail').innerHTML = '<div class="empty">Pilih unit pada pohon organisasi</div>'; return; }
    var data = S.cache[u.id];
    var v = u.v[S.pi], g = u.g[S.pi];
    var h = '<div class="crumbs">' + pathOf(u.id).map(function (a) {
      return '<a href="#" data-goto="' + esc(a.id) + '">' + esc(a.n) + '</a>';
    }).join(' › ') + '</div>';
    h += '<div class="unit-title"><h2 data-testid="unit-name">' + esc(u.n) + '</h2><span class="lvl">' + (LEVEL[u.l] || 'Unit') +
      '</span><span class="uid">' + esc(u.id) + '</span>' + (u.x ? '<span class="closedtag">unit ditutup per tanggal data</span>' : '') + '</div>';
    h += '<div class="cards">' +
      '<div class="card"><div class="k">NKO unit · ' + S.period + '</div><div class="v" data-testid="unit-nko" data-value="' + (v == null ? '' : v) + '">' + fmt(v) + '</div>' +
      '<div class="s">' + (g ? '<span class="grade-tag ' + gradeCls(g) + '">' + GRADE[g] + '</span>' : 'belum dinilai') + '</div></div>' +
      '<div class="card"><div class="k">Tren NKO unit</div>' + trendSvg(u) + '</div>' +
      '<div class="card"><div class="k">Kontrak Kinerja</div><div class="v">' + fmt(u.k, 0) + '</div><div class="s">KK di unit ini</div></div>' +
      '<div class="card"><div class="k">Temuan audit</div><div class="v">' + fmt(u.e + u.w, 0) + '</div><div class="s"><span class="sev-error">' +
      u.e + ' error</span> · <span class="sev-warning">' + u.w + ' warning</span></div></div>' +
      (data ? distCard(data) : '') + '</div>';
    h += childrenSection(u);
    if (!data) h += '<div class="section"><h3>Kontrak Kinerja</h3><div class="empty">Memuat data unit…</div></div>';
    else {
      var kk = S.kk && data.kks.filter(function (k) { return k.id === S.kk; })[0];
      h += kkListSection(u, data);
      if (kk) h += kkSection(u, kk);
      h += findingsSection(data);
    }
    if (!u.p) h += dqSection();
    $('detail').innerHTML = h;
    if (S.kk && S.scrollToKK) {
      S.scrollToKK = false;
      var el = document.getElementById('kk-detail');
      if (el) el.scrollIntoView({ block: 'start' });
    }
  }
  function distCard(data) {
    var n = { green: 0, yellow: 0, red: 0, none: 0 }, total = 0;
    data.kks.forEach(function (k) {
      k.lines.forEach(function (l) {
        var a = l.a[S.period]; if (!a) return;
        n[a[3] || 'none']++; total++;
      });
    });
    var bar = total ? ['green', 'yellow', 'red', 'none'].map(function (c) {
      return '<div class="' + colourCls(c === 'none' ? null : c) + '" style="width:' + (100 * n[c] / total) + '%"></div>';
    }).join('') : '';
    return '<div class="card"><div class="k">Capaian IKU · ' + S.period + '</div><div class="dist">' + bar + '</div>' +
      '<div class="s"><b style="color:var(--green)">' + n.green + '</b> hijau · <b style="color:var(--yellow)">' + n.yellow +
      '</b> kuning · <b style="color:var(--red)">' + n.red + '</b> merah · ' + n.none + ' belum</div></div>';
  }
  function trendSvg(u) {
    // unit NKO per quarter, Q1..Q4, against the 100 line (target achieved)
    var W = 200, H = 54, pts = [], vals = QUARTERS.map(function (q) { return u.v[S.periods.indexOf(q)]; });
    var max = Math.max(120, Math.max.apply(null, vals.filter(function (x) { return x != null; }).concat([0])));
    function y(v) { return H - 6 - (H - 12) * v / max; }
    vals.forEach(function (v, i) { if (v != null) pts.push([12 + i * (W - 24) / 3, y(v), v]); });
    var s = '<svg class="chart" width="100%" height="' + H + '" viewBox="0 0 ' + W + ' ' + H + '" preserveAspectRatio="xMidYMid meet">' +
      '<line x1="6" x2="' + (W - 6) + '" y1="' + y(100) + '" y2="' + y(100) + '" stroke="#9aa7b4" stroke-dasharray="3 3"/>';
    if (pts.length > 1) s += '<polyline fill="none" stroke="#183d62" stroke-width="2" points="' + pts.map(function (p) { return p[0] + ',' + p[1]; }).join(' ') + '"/>';
    pts.forEach(function (p, i) { s += '<circle cx="' + p[0] + '" cy="' + p[1] + '" r="3" fill="#183d62"><title>' + fmt(p[2]) + '</title></circle>'; });
    QUARTERS.forEach(function (q, i) { s += '<text x="' + (12 + i * (W - 24) / 3) + '" y="' + (H - 0) + '" font-size="8" fill="#8a96a3" text-anchor="middle">' + q + '</text>'; });
    return s + '</svg>';
  }
  function childrenSection(u) {
    var kids = S.kids[u.id] || [];
    if (!kids.length) return '';
    var rows = kids.map(function (c) {
      var v = c.v[S.pi], g = c.g[S.pi];
      return '<tr class="click" data-goto="' + esc(c.id) + '"><td>' + esc(c.n) + '</td><td class="muted small">' + (LEVEL[c.l] || '') +
        '</td><td class="num">' + pill(v, gradeCls(g)) + '</td><td>' + (g ? GRADE[g] : '<span class="muted">–</span>') +
        '</td><td class="num">' + fmt(c.kt, 0) + '</td><td class="num">' + (c.e ? '<span class="sev-error">' + c.e + '</span>' : '0') + ' / ' + c.w + '</td></tr>';
    }).join('');
    return '<div class="section"><h3>Unit di bawahnya <span class="count">(' + kids.length + ')</span></h3><table><thead><tr><th>Unit</th><th>Level</th>' +
      '<th class="num">NKO ' + S.period + '</th><th>Predikat</th><th class="num">KK (seluruh unit)</th><th class="num">Temuan E / W</th></tr></thead><tbody>' + rows + '</tbody></table></div>';
  }
  function holderOf(k) { return k.hp[S.period] || k.hp.Y || k.hp[Object.keys(k.hp)[0]] || '–'; }
  function kkRow(k) {
    var v = k.v[S.pi], g = k.g[S.pi];
    return '<tr class="click' + (S.kk === k.id ? ' sel' : '') + '" data-kk="' + esc(k.id) + '"><td>' + esc(k.pos) + '<div class="muted small">' + esc(k.id) + '</div></td>' +
      '<td>' + esc(holderOf(k)) + '</td><td>' + (k.head ? '<b>Kepala unit</b>' : 'Staf / pelaksana') + '</td>' +
      '<td class="num">' + pill(v, gradeCls(g)) + '</td><td>' + (g ? GRADE[g] : '<span class="muted">–</span>') + '</td>' +
      '<td class="num">' + (k.s[S.pi] == null ? '–' : k.s[S.pi]) + ' / ' + k.lines.length + '</td></tr>';
  }
  function kkListSection(u, data) {
    var heads = data.kks.filter(function (k) { return k.head; });
    var staff = data.kks.filter(function (k) { return !k.head; });
    var showStaff = S.staff[u.id] || staff.some(function (k) { return k.id === S.kk; });
    var rows = heads.map(kkRow).join('');
    if (staff.length) {
      rows += showStaff ? staff.map(kkRow).join('') :
        '<tr><td colspan="6"><button class="btn" data-staff="' + esc(u.id) + '">Tampilkan ' + staff.length + ' KK staf / pelaksana</button></td></tr>';
    }
    if (!data.kks.length) rows = '<tr><td colspan="6" class="muted">Tidak ada KK di unit ini</td></tr>';
    return '<div class="section"><h3>Kontrak Kinerja <span class="count">(' + data.kks.length + ')</span><span class="right muted">NIP ' +
      (S.meta.masked ? 'disamarkan' : 'tidak disamarkan') + '</span></h3><table><thead><tr><th>Jabatan</th><th>Pemegang (NIP)</th><th>Peran</th>' +
      '<th class="num">NKO ' + S.period + '</th><th>Predikat</th><th class="num">IKU dinilai</th></tr></thead><tbody>' + rows + '</tbody></table></div>';
  }

  /* ------------------------------------------------------------------ KK detail */
  function lineChart(l) {
    // quarterly trajectory (targets, dashed) vs realisations (dots coloured by ICI)
    var W = 150, H = 52, pad = 10;
    var t = QUARTERS.map(function (q, i) { var a = l.a[q]; return a ? a[0] : (l.tq ? l.tq[i] : null); });
    var r = QUARTERS.map(function (q) { var a = l.a[q]; return a ? a[1] : null; });
    var c = QUARTERS.map(function (q) { var a = l.a[q]; return a ? a[3] : null; });
    var all = t.concat(r).filter(function (x) { return x != null; });
    var max = Math.max.apply(null, all.concat([0])) * 1.1 || 1, min = Math.min(0, Math.min.apply(null, all.concat([0])));
    function X(i) { return pad + i * (W - 2 * pad) / 3; }
    function Y(v) { return H - 10 - (H - 16) * (v - min) / (max - min); }
    function poly(vals, attrs) {
      var seg = [], out = '';
      vals.forEach(function (v, i) { if (v != null) seg.push(X(i) + ',' + Y(v)); });
      if (seg.length > 1) out = '<polyline fill="none" ' + attrs + ' points="' + seg.join(' ') + '"/>';
      return out;
    }
    var s = '<svg class="chart" width="' + W + '" height="' + H + '" viewBox="0 0 ' + W + ' ' + H + '" aria-label="Trajectory vs realisasi">';
    s += poly(t, 'stroke="#8c9bab" stroke-width="1.5" stroke-dasharray="4 3"');
    s += poly(r, 'stroke="#183d62" stroke-width="1.6"');
    t.forEach(function (v, i) { if (v != null) s += '<rect x="' + (X(i) - 2.5) + '" y="' + (Y(v) - 2.5) + '" width="5" height="5" fill="#8c9bab"><title>Target ' + QUARTERS[i] + ': ' + fmt(v) + '</title></rect>'; });
    r.forEach(function (v, i) {
      if (v != null) s += '<circle cx="' + X(i) + '" cy="' + Y(v) + '" r="3.6" fill="' + (HEX[c[i]] || '#b8c0c9') + '" stroke="#fff" stroke-width="1"><title>Realisasi ' + QUARTERS[i] + ': ' + fmt(v) + '</title></circle>';
    });
    QUARTERS.forEach(function (q, i) { s += '<text x="' + X(i) + '" y="' + H + '" font-size="8" fill="#8a96a3" text-anchor="middle">' + q + '</text>'; });
    return s + '</svg>';
  }
  function kkLink(cid, unitId, label) {
    return '<a href="#" data-goto="' + esc(unitId || '') + '" data-gokk="' + esc(cid) + '" title="' + esc(cid) + '">' + esc(label) + '</a>';
  }
  function unitName(id) { return S.byId[id] ? S.byId[id].n : id; }
  function cascCell(l) {
    var up = l.up.map(function (p) { return '↑ ' + kkLink(p[0], p[2], p[1] + ' · ' + unitName(p[2])); }).join('');
    var down = l.down.length ? '↓ ' + l.down.length + ' IKU turunan' : '';
    var type = l.ct && l.ct !== 'non_cascading' ? '<span class="muted">' + l.ct + '</span> ' : '';
    return '<td class="casc">' + type + (up || (l.ct === 'non_cascading' || !l.ct ? '<span class="muted">non-cascading</span>' : '')) +
      (down ? '<div>' + down + '</div>' : '') + '</td>';
  }
  function moreRow(k, l) {
    var per = '<table class="periodtab"><thead><tr><th>Periode</th>' + S.periods.map(function (p) { return '<th class="num">' + p + '</th>'; }).join('') +
      '</tr></thead><tbody>' + [['Target', 0], ['Realisasi', 1], ['ICI', 2]].map(function (row) {
        return '<tr><th>' + row[0] + '</th>' + S.periods.map(function (p) {
          var a = l.a[p];
          if (!a) return '<td class="num muted">·</td>';
          return '<td class="num">' + (row[1] === 2 ? pill(a[2], colourCls(a[3])) : fmt(a[row[1]])) + '</td>';
        }).join('') + '</tr>';
      }).join('') + '</tbody></table>';
    var info = '<div class="small muted">Polaritas ' + esc(l.pol) + ' · konsolidasi ' + esc(l.cons) + (l.uom ? ' · satuan ' + esc(l.uom) : '') +
      ' · target tahunan ' + fmt(l.ty) + ' · versi ' + (l.v == null ? '–' : l.v) + '</div>';
    var down = l.down.length ? '<div class="small" style="margin-top:6px"><b>IKU turunan (cascading ke bawah):</b> ' + l.down.map(function (c) {
      return kkLink(c[0], c[2], unitName(c[2]) + ' · ' + c[0] + ' · ' + c[1]) + ' <span class="muted">(' + c[3] + ')</span>';
    }).join(', ') + '</div>' : '';
    return '<tr class="more"><td colspan="9">' + per + info + down + '</td></tr>';
  }
  function kkSection(u, k) {
    var v = k.v[S.pi], g = k.g[S.pi];
    var rows = k.lines.map(function (l) {
      var a = l.a[S.period];
      var key = k.id + '|' + l.c;
      var r = '<tr class="click" data-line="' + esc(key) + '" data-iku="' + esc(l.c) + '"><td class="code"><b>' + esc(l.c) + '</b></td><td class="ind">' + esc(l.n) +
        '<div class="muted small">' + esc(PERSP[l.ps] || l.ps || '') + '</div></td>' +
        '<td class="num">' + fmt(l.w) + '</td>' +
        '<td class="num" data-testid="target">' + (a ? fmt(a[0]) : '–') + '</td>' +
        '<td class="num" data-testid="realisation">' + (a ? fmt(a[1]) : '–') + '</td>' +
        '<td class="num">' + (a ? pill(a[2], colourCls(a[3]) + ' ici', ' data-testid="ici" data-iku="' + esc(l.c) + '"') : '<span class="muted">tidak berlaku</span>') + '</td>' +
        '<td>' + lineChart(l) + '</td>' + cascCell(l) + '<td class="muted small">' + (S.more[key] ? '▴' : '▾') + '</td></tr>';
      if (S.more[key]) r += moreRow(k, l);
      return r;
    }).join('');
    return '<div class="section" id="kk-detail" data-kk-detail="' + esc(k.id) + '"><h3>Kontrak Kinerja ' + esc(k.id) +
      '<span class="right"><a href="#" data-closekk="1">tutup ✕</a></span></h3>' +
      '<div class="kk-head"><div><div class="k small muted">NKO ' + S.period + '</div><div class="big" data-testid="kk-nko" data-value="' + (v == null ? '' : v) + '">' + fmt(v) + '</div></div>' +
      '<div>' + (g ? '<span class="grade-tag ' + gradeCls(g) + '">' + GRADE[g] + '</span>' : '<span class="muted">belum dinilai</span>') + '</div>' +
      '<div class="meta">Jabatan <b>' + esc(k.pos) + '</b> · ' + (k.head ? 'kepala ' : 'staf ') + esc(u.n) + '<br>Pemegang ' + esc(S.period) + ': <b>' + esc(holderOf(k)) +
      '</b> · ' + (k.s[S.pi] == null ? 0 : k.s[S.pi]) + ' dari ' + k.lines.length + ' IKU dinilai</div></div>' +
      '<table><thead><tr><th>IKU</th><th>Indikator</th><th class="num">Bobot</th><th class="num">Target ' + S.period + '</th><th class="num">Realisasi</th>' +
      '<th class="num">ICI</th><th title="garis putus-putus: target triwulanan; titik: realisasi, berwarna menurut ICI">Trajectory vs realisasi</th><th>Cascading</th><th></th></tr></thead><tbody>' + rows + '</tbody></table></div>';
  }

  function dqSection() {
    var m = S.meta;
    if (!m.warnings || !m.warnings.length) return '';
    return '<div class="section"><h3>Data quality malam ini <span class="count">(' + m.n_warnings + ' warning)</span><span class="right"><a href="' +
      esc(m.data_docs || 'data-docs/index.html') + '">Buka data docs →</a></span></h3><ul class="warnlist">' +
      m.warnings.map(function (w) { return '<li>' + esc(w) + '</li>'; }).join('') + '</ul></div>';
  }
  function findingsSection(data) {
    // a unit file lists each KK's findings after the other (they are written per KK): order them
    // here by severity (errors first), rule, KK, IKU, period
    var f = (data.findings || []).slice().sort(function (a, b) {
      var ka = [a.s, a.r, a.kk, a.i || '', a.p || '', a.id], kb = [b.s, b.r, b.kk, b.i || '', b.p || '', b.id];
      for (var i = 0; i < ka.length; i++) { if (ka[i] < kb[i]) return -1; if (ka[i] > kb[i]) return 1; }
      return 0;
    });
    var rows = f.slice(0, 500).map(function (x) {
      return '<tr><td class="sev-' + esc(x.s) + '">' + esc(x.s) + '</td><td><b>' + esc(x.r) + '</b></td><td class="nw">' + esc(x.kk) + '</td><td class="nw">' + esc(x.i || '–') +
        '</td><td>' + esc(x.p || '–') + '</td><td class="small">' + esc(x.d || '') + '</td></tr>';
    }).join('');
    return '<div class="section"><h3>Temuan audit <span class="count">(' + f.length + ')</span>' + (f.length > 500 ? '<span class="right muted">500 pertama ditampilkan</span>' : '') + '</h3>' +
      (f.length ? '<table><thead><tr><th>Severity</th><th>Aturan</th><th>KK</th><th>IKU</th><th>Periode</th><th>Keterangan</th></tr></thead><tbody>' + rows + '</tbody></table>'
        : '<div class="empty">Tidak ada temuan audit untuk unit ini</div>') + '</div>';
  }

  /* ------------------------------------------------------------------ events */
  document.addEventListener('click', function (ev) {
    var t = ev.target.closest('[data-period],[data-tog],[data-goto],[data-kk],[data-staff],[data-line],[data-closekk],.node,.search-hit');
    if (!t) return;
    if (t.hasAttribute('data-period')) return setPeriod(t.getAttribute('data-period'));
    if (t.hasAttribute('data-tog')) {
      var id = t.getAttribute('data-tog');
      S.open[id] = !S.open[id]; renderTree(); ev.stopPropagation(); return;
    }
    if (t.hasAttribute('data-goto')) {
      ev.preventDefault();
      var kk = t.getAttribute('data-gokk');
      if (kk) S.scrollToKK = true;
      return selectUnit(t.getAttribute('data-goto'), kk);
    }
    if (t.hasAttribute('data-kk')) { S.kk = t.getAttribute('data-kk'); S.scrollToKK = true; return renderDetail(); }
    if (t.hasAttribute('data-staff')) { S.staff[t.getAttribute('data-staff')] = true; return renderDetail(); }
    if (t.hasAttribute('data-line')) { var key = t.getAttribute('data-line'); S.more[key] = !S.more[key]; return renderDetail(); }
    if (t.hasAttribute('data-closekk')) { ev.preventDefault(); S.kk = null; return renderDetail(); }
    if (t.classList.contains('search-hit')) { S.filter = ''; $('filter').value = ''; return selectUnit(t.getAttribute('data-unit')); }
    if (t.classList.contains('node')) {
      var uid = t.getAttribute('data-unit');
      if (S.unit === uid) S.open[uid] = !S.open[uid];
      else S.open[uid] = true;
      return selectUnit(uid);
    }
  });
  document.addEventListener('input', function (ev) {
    if (ev.target.id === 'filter') { S.filter = ev.target.value.trim(); renderTree(); }
  });
})();
