// The staff page: browse articles beside their rules, try a case, read the decision.
// Plain browser JavaScript, no build step, nothing loaded from the internet.
"use strict";

const $ = (id) => document.getElementById(id);
// The labels of the decision's values, read from decision.schema.json's x-labels (the one source).
const LABELS = { decision: {}, outcome: {}, approvals: {} };

async function loadLabels() {
  const { body } = await getJSON("/v1/schema/decision");
  const props = (body && body.properties) || {};
  LABELS.decision = (props.decision || {})["x-labels"] || {};
  LABELS.outcome = (props.outcome || {})["x-labels"] || {};
  LABELS.approvals = ((props.approvals || {}).items || {})["x-labels"] || {};
}

const label = (kind, value) => LABELS[kind][value] || value;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k === "onclick") node.addEventListener("click", v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c ?? "")));
  return node;
}

async function getJSON(url, options) {
  const res = await fetch(url, options);
  const body = await res.json().catch(() => ({}));
  return { ok: res.ok, status: res.status, body };
}

// -- articles ------------------------------------------------------------------------

async function loadArticles() {
  const { body } = await getJSON("/v1/articles");
  const list = $("article-list");
  for (const a of body) {
    const link = el("a", { href: `#article-${a.key}`, "data-key": a.key }, a.label, el("span", { class: "n" }, a.title));
    link.addEventListener("click", (e) => { e.preventDefault(); showArticle(a.key); });
    list.append(el("li", {}, link));
  }
}

function articleKeyOfCite(cite) {
  // 第十三条第（一）项第4目 → "13"
  const m = /^第([一二三四五六七八九十百零〇两]+)条/.exec(cite);
  if (!m) return null;
  const digits = { 零: 0, 〇: 0, 一: 1, 二: 2, 两: 2, 三: 3, 四: 4, 五: 5, 六: 6, 七: 7, 八: 8, 九: 9 };
  let n = 0, cur = 0;
  for (const ch of m[1]) {
    if (ch === "十") { n += (cur || 1) * 10; cur = 0; }
    else if (ch === "百") { n += (cur || 1) * 100; cur = 0; }
    else cur = digits[ch];
  }
  return String(n + cur);
}

async function showArticle(key) {
  const { ok, body } = await getJSON(`/v1/articles/${encodeURIComponent(key)}`);
  if (!ok) return;
  document.querySelectorAll("nav a").forEach((a) => a.classList.toggle("active", a.dataset.key === key));
  $("article-view").hidden = false;
  $("article-title").textContent = `${body.label} ${body.title}`;
  const text = $("article-text");
  text.replaceChildren(...body.text.split("\n").filter((l) => l.trim()).map((l) => el("p", {}, l)));
  const rules = $("article-rules");
  rules.replaceChildren(...(body.rules.length ? body.rules.map(ruleCard) : [el("p", { class: "muted" }, "本条不作判定，或由其他条文的规则编码。")]));
  const params = $("article-params");
  params.replaceChildren();
  if (body.parameters.length) {
    const t = el("table", {}, el("tr", {}, el("th", {}, "参数"), el("th", {}, "名称"), el("th", {}, "取值（生效日期）")));
    for (const p of body.parameters) {
      t.append(el("tr", {}, el("td", {}, el("code", {}, p.name)), el("td", {}, p.title),
        el("td", {}, p.values.map((v) => `${v.value}${p.unit || ""}（${v.effective_from} 起）`).join("；"))));
    }
    params.append(t);
  }
  const cases = $("article-cases");
  cases.replaceChildren();
  if (body.golden_cases.length) {
    const t = el("table", {}, el("tr", {}, el("th", {}, "黄金案例"), el("th", {}, "说明"), el("th", {}, "预期"), el("th", {}, "")));
    for (const g of body.golden_cases) {
      const load = el("a", { class: "cite" }, "试一试");
      load.addEventListener("click", () => { $("case-input").value = JSON.stringify(g.case, null, 2); $("try").scrollIntoView(); });
      t.append(el("tr", {}, el("td", {}, el("code", {}, g.name)), el("td", {}, g.description),
        el("td", {}, `${g.expect.decision ? label("decision", g.expect.decision) : g.expect.error || ""} ${(g.expect.cites || []).join("、")}`),
        el("td", {}, load)));
    }
    cases.append(t);
  }
  $("article-view").scrollIntoView({ behavior: "smooth" });
}

function ruleCard(r) {
  const card = el("div", { class: `rule ${r.effect}` },
    el("div", {}, el("strong", {}, `${r.effect_label || r.effect} ${r.cite} `), el("code", {}, r.id)),
    el("div", {}, r.message),
    el("span", { class: "cond" }, `条件：${r.when}`));
  if (r.unless) card.append(el("span", { class: "cond" }, `例外：${r.unless}`));
  if (r.due) card.append(el("span", { class: "cond" }, `期限：${r.due}`));
  if (r.reading) card.append(el("div", { class: "reading" }, `解读：${r.reading}`));
  return card;
}

// -- trying a case -------------------------------------------------------------------------

// The service never sends an ID number in full (第三十二条): a served example's resident ID
// comes masked ("2201**********035X") and would not validate.  To try the example, the page puts
// in a number that passes the GB 11643 check but cannot be a person's: region code 000000.
const GB11643_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
function syntheticResidentId() {
  const first17 = "000000" + "20080101" + "001";
  const sum = [...first17].reduce((s, d, i) => s + Number(d) * GB11643_WEIGHTS[i], 0);
  return first17 + "10X98765432"[sum % 11];
}
function fillMaskedIds(value) {
  if (Array.isArray(value)) return value.map(fillMaskedIds);
  if (value && typeof value === "object") {
    const out = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = k === "id_number" && typeof v === "string" && v.includes("*") ? syntheticResidentId() : fillMaskedIds(v);
    }
    return out;
  }
  return value;
}

async function loadExamples() {
  const { body } = await getJSON("/v1/examples");
  const select = $("example-select");
  window.__examples = body;
  for (const ex of body) select.append(el("option", { value: ex.name }, ex.name));
  select.addEventListener("change", () => {
    const ex = body.find((e) => e.name === select.value);
    if (ex) $("case-input").value = JSON.stringify(fillMaskedIds(ex.case), null, 2);
  });
}

function citeLink(cite) {
  const key = articleKeyOfCite(cite);
  const a = el("a", { class: "cite", "data-article": key || "" }, cite);
  if (key) a.addEventListener("click", () => showArticle(key));
  return a;
}

function reasonList(title, items) {
  const ul = el("ul");
  for (const r of items) ul.append(el("li", {}, citeLink(r.cite), `：${r.message}`, el("span", { class: "muted" }, ` [${r.rule}]`)));
  return el("div", { class: "box" }, el("h3", {}, title), ul);
}

async function evaluateCase() {
  const out = $("result");
  let payload;
  try {
    payload = JSON.parse($("case-input").value);
  } catch (e) {
    out.replaceChildren(el("div", { class: "verdict error" }, "JSON 格式错误"), el("p", {}, String(e.message)));
    return;
  }
  out.replaceChildren(el("p", { class: "muted" }, "评估中…"));
  const { ok, body } = await getJSON("/v1/explain", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(payload),
  });
  if (!ok) {
    const errs = el("ul");
    for (const e of body.errors || []) errs.append(el("li", {}, el("code", {}, e.path), `：${e.message}`));
    out.replaceChildren(el("div", { class: "verdict error", id: "verdict" }, body.title || "出错"), el("p", {}, body.detail || ""), errs);
    return;
  }
  const parts = [el("div", { class: `verdict ${body.decision}`, id: "verdict" }, `${label("decision", body.decision)}办理`)];
  if (body.outcome) parts.push(el("p", {}, `结果：${label("outcome", body.outcome)}`));
  if (body.basis.length) parts.push(reasonList("依据", body.basis));
  if (body.reasons.length) parts.push(reasonList("理由", body.reasons));
  if (body.obligations.length) {
    const ul = el("ul");
    for (const o of body.obligations) ul.append(el("li", {}, citeLink(o.cite), `：${o.message}`, o.due ? el("strong", {}, `（期限 ${o.due}）`) : ""));
    parts.push(el("div", { class: "box" }, el("h3", {}, "须办理"), ul));
  }
  if (body.approvals.length) parts.push(el("p", {}, `审批/核准：${body.approvals.map((a) => label("approvals", a)).join("、")}`));
  if ((body.warnings || []).length) {  // reminders that do not change the decision (e.g. deadline_passed)
    const ul = el("ul");
    for (const w of body.warnings) ul.append(el("li", {}, w.cite ? citeLink(w.cite) : "", w.cite ? "：" : "", w.message));
    parts.push(el("div", { class: "box", id: "warnings" }, el("h3", {}, "提醒"), ul));
  }
  parts.push(el("details", {}, el("summary", {}, "逐条说明"), el("pre", { class: "explain" }, body.text || "")));
  out.replaceChildren(...parts);
}

async function main() {
  const { body } = await getJSON("/readyz");
  if (body.name) {  // the regulation is the rule set's (ruleset.yaml), not the page's
    $("ruleset-name").textContent = body.document ? `${body.name}（${body.document}）` : body.name;
    document.title = `学籍规则引擎 · ${body.name}`;
  }
  $("ruleset-info").textContent = `规则集版本 ${body.version} · ${body.rules} 条规则 · sha256 ${String(body.sha256).slice(0, 12)}…`;
  $("evaluate-button").addEventListener("click", evaluateCase);
  await Promise.all([loadArticles(), loadExamples(), loadLabels()]);
}

main();
