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
  for (const ex of body) select.append(el("option", { value: ex.name }, ex.title || ex.name));
  select.addEventListener("change", () => {
    const ex = body.find((e) => e.name === select.value);
    if (!ex) return;
    $("case-input").value = JSON.stringify(fillMaskedIds(ex.case), null, 2);
    jsonToForm();
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
  const post = (url) => getJSON(url, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(payload),
  });
  // the full account (逐条说明) and the brief why, side by side
  const [{ ok, body }, short] = await Promise.all([post("/v1/explain"), post("/v1/evaluate?explain=brief")]);
  if (!ok) {
    const errs = el("ul");
    for (const e of body.errors || []) errs.append(el("li", {}, el("code", {}, e.path), `：${e.message}`));
    out.replaceChildren(el("div", { class: "verdict error", id: "verdict" }, body.title || "出错"), el("p", {}, body.detail || ""), errs);
    return;
  }
  // v2: "尚不能决定" stands alone; allow/deny read 准予办理/不予办理
  const verdict = body.decision === "undetermined" ? label("decision", body.decision) : `${label("decision", body.decision)}办理`;
  const parts = [el("div", { class: `verdict ${body.decision}`, id: "verdict" }, verdict)];
  if (body.outcome) parts.push(el("p", {}, `结果：${label("outcome", body.outcome)}`));
  const brief = (short.ok && short.body.brief) || [];
  if (brief.length) {
    const ul = el("ul", { id: "brief" });
    for (const b of brief) ul.append(el("li", {}, el("strong", {}, b.message), el("br"), b.text));
    parts.push(el("div", { class: "box why" }, el("h3", {}, body.decision === "allow" ? "为什么准予" : "为什么不予"), ul));
  }
  if ((body.needs || []).length) {  // undetermined: the facts still to be stated
    const ul = el("ul", { id: "needs" });
    for (const n of body.needs) ul.append(el("li", {}, fieldTitle(n.path), el("span", { class: "muted" }, `（${(n.cites || []).join("、")}）`)));
    parts.push(el("div", { class: "box" }, el("h3", {}, "尚需查明"), ul));
  }
  if (body.basis.length) parts.push(reasonList("依据", body.basis));
  if (body.reasons.length) parts.push(reasonList("理由", body.reasons));
  if (body.obligations.length) {
    const ul = el("ul");
    for (const o of body.obligations) ul.append(el("li", {}, citeLink(o.cite), `：${o.message}`, o.due ? el("strong", {}, `（期限 ${o.due}）`) : ""));
    parts.push(el("div", { class: "box" }, el("h3", {}, "须办理"), ul));
  }
  if (body.approvals.length) parts.push(el("p", { id: "approvals" }, `由${body.approvals.map((a) => label("approvals", a)).join("、")}审批/核准`));
  if ((body.warnings || []).length) {  // reminders that do not change the decision (e.g. deadline_passed)
    const ul = el("ul");
    for (const w of body.warnings) ul.append(el("li", {}, w.cite ? citeLink(w.cite) : "", w.cite ? "：" : "", w.message));
    parts.push(el("div", { class: "box", id: "warnings" }, el("h3", {}, "提醒"), ul));
  }
  parts.push(el("details", {}, el("summary", {}, "逐条说明"), el("pre", { class: "explain" }, body.text || "")));
  out.replaceChildren(...parts);
}


// -- the form, generated from case.schema.json -----------------------------------------------
// The case lives in one object (FORM.data); the form and the JSON view are two views of it.
// An empty input means "not stated": its key is left out, never written as false, 0 or "".

const FORM = { schema: null, data: {} };
const TOP = ["action", "date", "case_id", "student"];  // then the action's own section

async function loadCaseSchema() {
  const { ok, body } = await getJSON("/v1/schema/case");
  if (!ok) return;
  FORM.schema = body;
  jsonToForm();
}

function resolve(node) {
  let n = node || {};
  if (n.$ref) {
    const { $ref, ...rest } = n;
    n = { ...resolve(FORM.schema.$defs[$ref.split("/").pop()]), ...rest };
  }
  if (n.anyOf) {  // a nullable field: {"anyOf": [{"$ref": …}, {"type": "null"}]}
    const { anyOf, ...rest } = n;
    const sub = anyOf.find((s) => s.$ref || (s.type && s.type !== "null"));
    if (sub) n = { ...resolve(sub), ...rest };
  }
  return n;
}

function kindOf(n) {
  const types = [].concat(n.type || []).filter((t) => t !== "null");
  if (n.properties) return "object";
  if (types.includes("array")) return "array";
  if (n.enum) return "enum";
  if (n.format === "date") return "date";
  if (types.includes("boolean")) return "boolean";
  if (types.includes("integer")) return "integer";
  if (types.includes("number")) return "number";
  return "text";
}

function labelsOf(n, path) {
  if (path.length === 1 && path[0] === "action") return FORM.schema["x-action-titles"] || {};
  return n["x-labels"] || {};
}

function getAt(obj, path) {
  let x = obj;
  for (const p of path) { if (x == null || typeof x !== "object") return undefined; x = x[p]; }
  return x;
}

// Set (or, for undefined, remove) the value at path; objects left empty are removed with it.
function setAt(path, value) {
  let x = FORM.data;
  const trail = [];
  for (const p of path.slice(0, -1)) {
    if (x[p] == null || typeof x[p] !== "object") { if (value === undefined) return; x[p] = typeof p === "number" ? {} : {}; }
    trail.push([x, p]);
    x = x[p];
  }
  const last = path[path.length - 1];
  if (value === undefined) {
    if (Array.isArray(x)) { x[last] = null; return; }  // a list row stays, empty
    delete x[last];
    for (let i = trail.length - 1; i >= 0; i--) {  // prune empty objects, never list items
      const [parent, key] = trail[i];
      const v = parent[key];
      if (!Array.isArray(parent) && v && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 0) delete parent[key];
      else break;
    }
  } else {
    x[last] = value;
  }
}

function fieldTitle(dotted) {
  let n = resolve(FORM.schema || {});
  const names = [];
  for (const p of String(dotted).split(".")) {
    if (n.properties && n.properties[p]) n = resolve(n.properties[p]);
    else if (n.items && /^[0-9*]+$/.test(p)) { n = resolve(n.items); continue; }
    else return dotted;
    names.push(n.title || p);
  }
  return names.join(" · ");
}

// In the JSON, a list row left empty is not stated: it is left out (the form still shows it).
const stated = (key, v) => Array.isArray(v)
  ? v.filter((x) => x !== null && x !== undefined && !(typeof x === "object" && !Array.isArray(x) && Object.keys(x).length === 0))
  : v;

function syncJSON() {
  $("case-input").value = JSON.stringify(FORM.data, stated, 2);
}

// The JSON view was edited: when it parses as an object, the form shows it.
function jsonToForm() {
  if (!FORM.schema) return;
  let parsed;
  try { parsed = JSON.parse($("case-input").value || "{}"); } catch { return; }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) return;
  FORM.data = parsed;
  renderForm();
}

function renderForm() {
  const root = resolve(FORM.schema);
  const box = $("case-form");
  const action = FORM.data.action;
  const section = action ? (FORM.schema["x-action-sections"] || {})[action] : null;
  const names = section ? [...TOP, section] : ["action"];
  const required = root.required || [];
  box.replaceChildren(...names.filter((k) => root.properties[k]).map((k) =>
    field(resolve(root.properties[k]), [k], required.includes(k) || k === section)));
  if (!action) box.append(el("p", { class: "muted" }, "先选择学籍事项，再填写所需各项。"));
}

function pathId(path) { return path.join("."); }

function field(n, path, required) {
  const kind = kindOf(n);
  const title = n.title || String(path[path.length - 1]);
  const value = getAt(FORM.data, path);
  if (kind === "object") return objectField(n, path, title, required);
  if (kind === "array") return arrayField(n, path, title, required);
  let input;
  if (kind === "enum" || kind === "boolean") {
    input = el("select", { "data-path": pathId(path) });
    input.append(el("option", { value: "" }, "（未说明）"));
    const options = kind === "boolean" ? [[true, "是"], [false, "否"]]
      : n.enum.filter((v) => v !== null).map((v) => [v, labelsOf(n, path)[v] || v]);
    for (const [v, text] of options) {
      const o = el("option", { value: JSON.stringify(v) }, text);
      if (value === v) o.selected = true;
      input.append(o);
    }
    input.addEventListener("change", () => {
      const v = input.value === "" ? undefined : JSON.parse(input.value);
      setAt(path, v);
      if (path.length === 1 && path[0] === "action") {  // another action: only its own section stays
        const sections = FORM.schema["x-action-sections"] || {};
        for (const s of Object.values(sections)) if (s !== sections[v]) delete FORM.data[s];
        renderForm();
      }
      syncJSON();
    });
  } else {
    const type = kind === "date" ? "date" : (kind === "integer" || kind === "number") ? "number" : "text";
    input = el("input", { type, "data-path": pathId(path) });
    if (kind === "integer") input.setAttribute("step", "1");
    if (kind === "number") input.setAttribute("step", "any");
    if (n.minimum !== undefined) input.setAttribute("min", n.minimum);
    if (n.maximum !== undefined) input.setAttribute("max", n.maximum);
    if (n.maxLength !== undefined && type === "text") input.setAttribute("maxlength", n.maxLength);
    if (value !== undefined && value !== null) input.value = String(value);
    input.addEventListener("input", () => {
      const raw = input.value.trim();
      let v = raw === "" ? undefined : raw;
      if (v !== undefined && type === "number") v = kind === "integer" ? parseInt(raw, 10) : Number(raw);
      if (typeof v === "number" && !Number.isFinite(v)) v = undefined;
      setAt(path, v);
      syncJSON();
    });
  }
  if (n.description) input.setAttribute("title", n.description);
  return el("label", { class: "field" }, el("span", { class: required ? "name required" : "name" }, title), input);
}

function objectField(n, path, title, required) {
  const req = n.required || [];
  const fs = el("fieldset", { "data-path": pathId(path) }, el("legend", { class: required ? "required" : "" }, title));
  if (n.description) fs.setAttribute("title", n.description);
  const grid = el("div", { class: "grid" });
  for (const [k, sub] of Object.entries(n.properties)) grid.append(field(resolve(sub), [...path, k], req.includes(k)));
  fs.append(grid);
  return fs;
}

function arrayField(n, path, title, required) {
  const item = resolve(n.items);
  const fs = el("fieldset", { class: "list", "data-path": pathId(path) }, el("legend", { class: required ? "required" : "" }, title));
  if (kindOf(item) === "enum") {  // a set of choices: one checkbox each
    const chosen = getAt(FORM.data, path) || [];
    const labels = item["x-labels"] || {};
    const grid = el("div", { class: "choices" });
    for (const v of item.enum) {
      const box = el("input", { type: "checkbox", "data-path": pathId(path), value: v });
      box.checked = chosen.includes(v);
      box.addEventListener("change", () => {
        const now = [...fs.querySelectorAll("input[type=checkbox]")].filter((b) => b.checked).map((b) => b.value);
        setAt(path, now.length ? now : undefined);
        syncJSON();
      });
      grid.append(el("label", { class: "choice" }, box, labels[v] || v));
    }
    fs.append(grid);
    return fs;
  }
  const list = getAt(FORM.data, path) || [];
  list.forEach((_, i) => {
    const remove = el("button", { type: "button", class: "small remove", "data-path": pathId([...path, i]) }, "删除");
    remove.addEventListener("click", () => {
      const arr = getAt(FORM.data, path);
      arr.splice(i, 1);
      if (!arr.length) setAt(path, undefined);
      renderForm(); syncJSON();
    });
    const row = kindOf(item) === "object" ? objectField(item, [...path, i], `${item.title || title} ${i + 1}`, false)
      : field(item, [...path, i], false);
    fs.append(el("div", { class: "item" }, row, remove));
  });
  const add = el("button", { type: "button", class: "small add", "data-path": pathId(path) }, `添加${item.title || ""}`);
  add.addEventListener("click", () => {
    const arr = getAt(FORM.data, path);
    const blank = kindOf(item) === "object" ? {} : null;
    if (Array.isArray(arr)) arr.push(blank); else setAt(path, [blank]);
    renderForm(); syncJSON();
  });
  fs.append(add);
  return fs;
}

async function main() {
  const { body } = await getJSON("/readyz");
  if (body.name) {  // the regulation is the rule set's (ruleset.yaml), not the page's
    $("ruleset-name").textContent = body.document ? `${body.name}（${body.document}）` : body.name;
    document.title = `学籍规则引擎 · ${body.name}`;
  }
  $("ruleset-info").textContent = `规则集版本 ${body.version} · ${body.rules} 条规则 · sha256 ${String(body.sha256).slice(0, 12)}…`;
  $("evaluate-button").addEventListener("click", evaluateCase);
  $("case-input").addEventListener("input", jsonToForm);
  await Promise.all([loadArticles(), loadExamples(), loadLabels(), loadCaseSchema()]);
}

main();
