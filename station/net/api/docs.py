"""A docs page that works offline: it reads /openapi.json and lists the API, with no CDN."""

from __future__ import annotations

DOCS_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Station API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{margin-bottom:0}.op{border:1px solid #ddd;border-radius:6px;margin:.8rem 0;padding:.6rem .9rem}
.m{display:inline-block;min-width:4.5rem;font-weight:700}.GET{color:#1565c0}.POST{color:#2e7d32}
.DELETE{color:#c62828}code,pre{background:#f5f5f5;border-radius:4px;padding:.1rem .3rem}
pre{padding:.6rem;overflow:auto;font-size:13px}small{color:#666}
</style></head><body>
<h1>Station API</h1>
<p><small>Send <code>Authorization: Bearer 2pk_…</code> (create a key with
<code>station keys create NAME</code>). 30 requests a minute per key. The machine-readable
description is <a href="/openapi.json">/openapi.json</a>.</small></p>
<div id="ops">Loading…</div>
<script>
function esc(t){return String(t).replace(/[&<>"]/g,c=>({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c]))}
fetch('/openapi.json').then(r=>r.json()).then(spec=>{
  const out=[];
  for(const [path,ops] of Object.entries(spec.paths)){
    for(const [method,op] of Object.entries(ops)){
      const M=method.toUpperCase();
      const params=(op.parameters||[]).map(p=>`<code>${esc(p.name)}</code> <small>(${p.in})</small>`).join(', ');
      let body='';
      const rb=op.requestBody&&op.requestBody.content&&op.requestBody.content['application/json'];
      if(rb){const ref=(rb.schema.$ref||'').split('/').pop();const sc=spec.components.schemas[ref]||rb.schema;
        body=`<pre>${esc(JSON.stringify(sc.properties||sc,null,1))}</pre>`}
      out.push(`<div class="op"><span class="m ${M}">${M}</span><code>${esc(path)}</code>
        <div>${esc(op.summary||'')}</div><small>${esc(op.description||'')}</small>
        ${params?'<div>Parameters: '+params+'</div>':''}${body}
        <div><small>Responses: ${Object.keys(op.responses).join(', ')}</small></div></div>`);
    }
  }
  document.getElementById('ops').innerHTML=out.join('');
}).catch(e=>{document.getElementById('ops').textContent='Could not load /openapi.json: '+e});
</script></body></html>
"""
