// Renders /openapi.json as a readable page without Swagger UI (which would need a CDN).
"use strict";

function node(tag, text, cls) {
  const n = document.createElement(tag);
  if (text !== undefined) n.textContent = text;
  if (cls) n.className = cls;
  return n;
}

function resolve(spec, schema, depth = 0) {
  if (!schema || depth > 6) return schema;
  if (schema.$ref) return resolve(spec, schema.$ref.split("/").slice(1).reduce((o, k) => o[k], spec), depth + 1);
  const out = Array.isArray(schema) ? [] : {};
  for (const [k, v] of Object.entries(schema)) out[k] = typeof v === "object" && v !== null ? resolve(spec, v, depth + 1) : v;
  return out;
}

function shape(schema) {
  // A compact example-like view: property -> type (description).
  if (!schema) return "";
  if (schema.properties) {
    const lines = Object.entries(schema.properties).map(([name, p]) => {
      const type = p.type || (p.anyOf ? p.anyOf.map((x) => x.type || "object").join(" | ") : p.enum ? p.enum.join(" | ") : "object");
      const req = (schema.required || []).includes(name) ? "" : "?";
      return `  ${name}${req}: ${type}${p.description ? "   // " + p.description : ""}`;
    });
    return "{\n" + lines.join("\n") + "\n}";
  }
  return JSON.stringify(schema, null, 2);
}

async function main() {
  const spec = await (await fetch("/openapi.json")).json();
  document.getElementById("api-title").textContent = `${spec.info.title} ${spec.info.version} — API`;
  document.getElementById("api-description").textContent = spec.info.description || "";
  const ops = document.getElementById("operations");
  const toc = document.getElementById("toc");
  ops.replaceChildren();
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const id = `${method}-${path}`.replace(/[^a-z0-9]+/gi, "-");
      const li = node("li");
      const a = node("a", `${method.toUpperCase()} ${path}`);
      a.href = "#" + id;
      li.append(a, " — " + (op.summary || ""));
      toc.append(li);
      const section = node("section", undefined, "op");
      section.id = id;
      const h = node("h2");
      h.append(node("span", method.toUpperCase(), "method"), path);
      section.append(h, node("p", op.description || op.summary || ""));
      if (op.parameters && op.parameters.length) {
        const table = node("table");
        const head = node("tr");
        head.append(node("th", "parameter"), node("th", "in"), node("th", "description"));
        table.append(head);
        for (const p of op.parameters) {
          const tr = node("tr");
          tr.append(node("td", p.name + (p.required ? "" : "?")), node("td", p.in), node("td", p.description || ""));
          table.append(tr);
        }
        section.append(node("h3", "Parameters"), table);
      }
      const body = op.requestBody && op.requestBody.content && op.requestBody.content["application/json"];
      if (body) section.append(node("h3", "Request body (JSON)"), node("pre", shape(resolve(spec, body.schema))));
      const table = node("table");
      for (const [code, r] of Object.entries(op.responses || {})) {
        const tr = node("tr");
        tr.append(node("td", code), node("td", r.description || ""));
        table.append(tr);
      }
      section.append(node("h3", "Responses"), table);
      const ok = op.responses && (op.responses["200"] || op.responses["201"]);
      const json = ok && ok.content && ok.content["application/json"];
      if (json) section.append(node("pre", shape(resolve(spec, json.schema))));
      ops.append(section);
    }
  }
}

document.addEventListener("DOMContentLoaded", () => {
  main().catch((err) => {
    document.getElementById("operations").textContent = "Could not load /openapi.json: " + err;
  });
});
