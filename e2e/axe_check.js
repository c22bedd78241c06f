// The accessibility check of the browser tests (e2e/conftest.py adds it to every browser context as
// `(<this function>)(config)`, after e2e/vendor/axe-core/axe.min.js wrapped in window.__gongzhiLoadAxe, which
// it calls only for a page it checks).
//
// It runs in every document of every test's browser context, before the page's own scripts (an init script, so the
// site's Content-Security-Policy does not apply to it and the CSP stays on for the tests that watch it).
// When the top-level HTML document has loaded (stylesheets and images too), axe checks it at once, from the
// first `load` listener: the page's own timers are made microtasks for the run, so the whole check finishes in
// that one task and no click or navigation from the test can slip in before it (axe otherwise yields after
// every rule, and a test that moves on quickly would leave pages unchecked). Results go to Python through a
// binding. A document is skipped when one of the same shape was checked already (same path with the numbers
// taken out, same query keys, same kind of viewport, and the same set of element signatures — tag, id, classes
// and the state attributes below), so a form shown again with errors, a case in a new state or the large-type
// mode is checked again, and the tenth visit to the same list is not.
(config) => {
  if (window.top !== window || location.protocol === "about:" || !/^text\/html/.test(document.contentType || "")) {
    return;
  }
  let finish;
  window.__gongzhiAxeDone = new Promise(resolve => { finish = resolve; });
  const STATE = ["type", "role", "hidden", "disabled", "open", "tabindex", "aria-invalid", "aria-describedby",
                 "aria-labelledby", "aria-current", "aria-pressed", "aria-expanded", "aria-hidden"];
  function hash(text) {
    let h = 0x811c9dc5;
    for (let i = 0; i < text.length; i++) { h ^= text.charCodeAt(i); h = Math.imul(h, 0x01000193); }
    return (h >>> 0).toString(16);
  }
  function shape() {
    const signatures = new Set();
    for (const el of document.getElementsByTagName("*")) {
      let s = el.localName;
      if (el.id) s += "#" + el.id.replace(/\d+/g, "N");
      const cls = el.getAttribute("class");
      if (cls) s += "." + cls.trim().split(/\s+/).sort().join(".");
      for (const name of STATE) if (el.hasAttribute(name)) s += "[" + name + "]";
      signatures.add(s);
    }
    const keys = [...new URLSearchParams(location.search).keys()].sort().join("&");
    const viewport = window.innerWidth < 600 ? "phone" : "desk";
    const path = location.pathname.replace(/\d+/g, "N");
    return `${path}?${keys} ${viewport} ${hash([...signatures].sort().join("|"))}`;
  }
  function seen(key) {
    if (config.seen.includes(key)) return true;
    try {
      return JSON.parse(localStorage.getItem("gongzhi-axe-seen") || "[]").includes(key);
    } catch (e) {
      return false;
    }
  }
  function remember(key) {
    try {
      const keys = JSON.parse(localStorage.getItem("gongzhi-axe-seen") || "[]");
      keys.push(key);
      localStorage.setItem("gongzhi-axe-seen", JSON.stringify(keys));
    } catch (e) { /* storage refused: the next document of the same shape is checked again */ }
  }
  function summary(result, impacts) {
    // Serious and critical violations; and, as axe only asks for review there, an ARIA reference to an id
    // the document does not have (aria-describedby="id_x_error" with no such element).
    const out = [];
    for (const rule of result.violations) {
      if (!impacts.includes(rule.impact)) continue;
      out.push({id: rule.id, impact: rule.impact, help: rule.help,
                targets: rule.nodes.map(n => n.target.join(" ")).slice(0, 10)});
    }
    for (const rule of result.incomplete) {
      const nodes = rule.nodes.filter(n => [...n.any, ...n.all, ...n.none].some(
        c => c.data && (c.data.messageKey === "noId" || c.data.messageKey === "noIdShadow")));
      if (!nodes.length) continue;
      out.push({id: rule.id, impact: rule.impact, help: rule.help + " (an ARIA reference to a missing id)",
                targets: nodes.map(n => n.target.join(" ") + " " + [...n.any, ...n.all, ...n.none]
                  .map(c => c.data && c.data.needsReview).filter(Boolean).join(" ")).slice(0, 10)});
    }
    return out;
  }
  function unreportable(impacts) {
    // Rules none of whose checks can fail with an impact we report (landmarks, heading order, region...):
    // not run at all, which saves about a third of the time. Read from the vendored axe's own metadata.
    const audit = window.axe._audit;
    if (!audit || !audit.rules || !audit.checks) return [];
    const rank = {minor: 1, moderate: 2, serious: 3, critical: 4};
    const floor = Math.min(...impacts.map(impact => rank[impact]));
    return audit.rules.filter(rule => {
      const checks = [...rule.any, ...rule.all, ...rule.none].map(c => audit.checks[typeof c === "string" ? c : c.id]);
      const highest = Math.max(rank[rule.impact] || 0,
                               ...checks.map(c => (c && c.metadata && rank[c.metadata.impact]) || 0));
      return highest > 0 && highest < floor;
    }).map(rule => rule.id);
  }
  function check() {
    const key = shape() + (config.disabled.length ? " -" + config.disabled.join(",") : "");
    if (seen(key)) {
      window.__gongzhiAxeReport({key, url: location.href, skipped: true});
      return Promise.resolve();
    }
    const realSetTimeout = window.setTimeout;
    window.setTimeout = function (callback, delay, ...args) {
      if (!delay && typeof callback === "function") { queueMicrotask(() => callback(...args)); return 0; }
      return realSetTimeout.call(window, callback, delay, ...args);
    };
    const started = performance.now();
    return Promise.resolve()
      .then(() => {
        if (!window.axe) window.__gongzhiLoadAxe();
        const rules = {};
        for (const id of [...config.disabled, ...unreportable(config.impacts)]) rules[id] = {enabled: false};
        return window.axe.run(document, {resultTypes: ["violations", "incomplete"], preload: false, rules});
      })
      .then(result => summary(result, config.impacts))
      .catch(error => [{id: "axe-error", impact: "critical", help: String(error), targets: []}])
      .then(violations => {
        window.setTimeout = realSetTimeout;
        remember(key);
        window.__gongzhiAxeReport({key, url: location.href, violations, ms: performance.now() - started});
      });
  }
  window.addEventListener("load", () => {
    let checking;
    try { checking = check(); } catch (error) { checking = Promise.reject(error); }
    checking.catch(error => window.__gongzhiAxeReport({key: "", url: location.href, violations: [
      {id: "axe-error", impact: "critical", help: String(error), targets: []}]})).finally(finish);
  }, {once: true});
}
