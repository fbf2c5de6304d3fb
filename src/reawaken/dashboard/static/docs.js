// Lists the operations of /openapi.json with their request schema: a local stand-in for Swagger UI.
"use strict";
document.addEventListener("DOMContentLoaded", async () => {
  const main = document.getElementById("ops");
  const spec = await (await fetch("/openapi.json")).json();
  main.innerHTML = "";
  const p = document.createElement("p");
  p.className = "note";
  p.textContent = spec.info.description;
  main.appendChild(p);
  for (const [path, ops] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const h = document.createElement("h3");
      h.textContent = `${method.toUpperCase()} ${path}`;
      main.appendChild(h);
      const d = document.createElement("p");
      d.textContent = op.summary || "";
      main.appendChild(d);
      const ref = op.requestBody && op.requestBody.content["application/json"].schema.$ref;
      if (ref) {
        const name = ref.split("/").pop();
        const pre = document.createElement("pre");
        pre.textContent = `body (${name}): ` + JSON.stringify(spec.components.schemas[name].properties, null, 1);
        main.appendChild(pre);
      }
    }
  }
});
