/* report.html: filters, copy buttons and print. Plain JavaScript; reads only the page's own markup. */
(function () {
  'use strict';
  var scenarios = Array.prototype.slice.call(document.querySelectorAll('details.sc'));
  var shown = document.getElementById('shown');
  var profile = document.getElementById('f-profile');
  var tag = document.getElementById('f-tag');
  var outcomes = Array.prototype.slice.call(document.querySelectorAll('input[name=f-outcome]'));

  function tagsOf(el) {
    return (el.getAttribute('data-tags') || '').split(' ').filter(function (t) { return t; });
  }

  function apply() {
    var wanted = {};
    outcomes.forEach(function (b) { wanted[b.value] = b.checked; });
    var p = profile ? profile.value : '';
    var t = tag ? tag.value.trim().replace(/^@/, '').toLowerCase() : '';
    var n = 0;
    scenarios.forEach(function (s) {
      var ok = wanted[s.getAttribute('data-outcome')] === true;
      if (ok && p) {
        ok = (s.getAttribute('data-profiles') || '').split(' ').indexOf(p) >= 0;
      }
      if (ok && t) {
        var tags = tagsOf(s);
        ok = tags.some(function (x) { return x.toLowerCase() === t; }) ||
          tags.some(function (x) { return x.toLowerCase().indexOf(t) >= 0; });
      }
      s.hidden = !ok;
      if (ok) { n += 1; }
    });
    if (shown) {
      shown.textContent = n + ' of ' + scenarios.length + ' scenarios shown';
      shown.setAttribute('data-shown', String(n));
    }
  }

  outcomes.forEach(function (b) { b.addEventListener('change', apply); });
  if (profile) { profile.addEventListener('change', apply); }
  if (tag) { ['input', 'change', 'search'].forEach(function (e) { tag.addEventListener(e, apply); }); }

  function setAll(open) {
    scenarios.forEach(function (s) { if (!s.hidden) { if (open) { fill(s); } s.open = open; } });
  }
  var ex = document.getElementById('expand-all');
  var co = document.getElementById('collapse-all');
  if (ex) { ex.addEventListener('click', function () { setAll(true); }); }
  if (co) { co.addEventListener('click', function () { setAll(false); }); }

  // A closed scenario keeps its details in a <template> until it is opened.
  function fill(d) {
    var body = d.querySelector(':scope > .sc-body');
    var t = body ? body.querySelector(':scope > template') : null;
    if (t) { body.replaceChild(t.content, t); }
  }
  scenarios.forEach(function (s) {
    s.addEventListener('toggle', function () { if (s.open) { fill(s); } });
  });

  // A link into a closed scenario opens it.
  function openTarget() {
    var id = decodeURIComponent(location.hash.slice(1));
    var m = /^(?:sc|ex)-(\d+)/.exec(id);
    var owner = m ? document.getElementById('sc-' + m[1]) : null;
    if (owner) { fill(owner); }
    var el = id ? document.getElementById(id) : null;
    while (el) {
      if (el.tagName === 'DETAILS') { el.open = true; }
      el = el.parentElement;
    }
  }
  window.addEventListener('hashchange', openTarget);
  openTarget();

  // Copy a repro command: the clipboard API where the browser allows it, else select the text.
  function select(pre) {
    var range = document.createRange();
    range.selectNodeContents(pre);
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
  }
  document.addEventListener('click', function (e) {
    var b = e.target;
    if (!b || !b.classList || !b.classList.contains('copy')) { return; }
    var pre = document.getElementById(b.getAttribute('data-target'));
    if (!pre) { return; }
    var text = pre.textContent;
    var done = function () { b.textContent = 'copied'; setTimeout(function () { b.textContent = 'copy'; }, 1500); };
    var fallback = function () { select(pre); b.textContent = 'selected: press Ctrl+C'; };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, fallback);
    } else {
      fallback();
    }
  });

  // Printing shows every scenario open; afterwards the page is as it was.
  var wasOpen = [];
  window.addEventListener('beforeprint', function () {
    wasOpen = [];
    scenarios.forEach(fill);
    document.querySelectorAll('details').forEach(function (d) {
      if (!d.open) { wasOpen.push(d); d.open = true; }
    });
  });
  window.addEventListener('afterprint', function () {
    wasOpen.forEach(function (d) { d.open = false; });
    wasOpen = [];
  });

  apply();
})();
