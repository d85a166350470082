/**
 * The decision report as one self-contained HTML file: inline CSS, inline SVG charts (drawn by
 * svg.ts), a few lines of inline script for legend toggles and tabs, and a Content-Security-
 * Policy that forbids every network fetch, so the file can be mailed, archived and opened
 * offline, and cannot call home even if the log it was made from held hostile text.
 */
import type { Verdict } from '../types.js';
import type { Counted, DecisionReport, SubjectRow } from './aggregate.js';
import { barChart, escapeHtml, timelineChart, VERDICT_COLORS } from './svg.js';
import { utcMinute } from './time-text.js';
import { bucketLabel } from './timeline.js';

const VERDICTS: readonly Verdict[] = ['allow', 'challenge', 'throttle', 'block'];
const int = (n: number) => Math.round(n).toLocaleString('en');
const pct = (part: number, whole: number) => (whole === 0 ? '–' : `${((100 * part) / whole).toFixed(1)}%`);
const utc = (ms: number) => `${utcMinute(ms)} UTC`;
const h = escapeHtml;

export interface HtmlReportOptions {
  /** Shown in the title: where the decisions came from. */
  source: string;
  /** Epoch ms the report was made (shown; injectable for reproducible output). @default Date.now() */
  generatedAt?: number;
}

const CSS = `
:root{--fg:#1d2330;--muted:#5b6473;--line:#e3e6ec;--bg:#f6f7f9;--card:#fff}
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header{padding:20px 32px;background:#1d2330;color:#fff}header h1{margin:0 0 4px;font-size:20px}header p{margin:0;color:#c7ccd6}
main{max-width:1040px;margin:0 auto;padding:16px 32px 48px}
section{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:16px 20px;margin:16px 0}
h2{font-size:16px;margin:0 0 12px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(130px,1fr));gap:12px;background:none;border:0;padding:0}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:12px 14px}.card b{display:block;font-size:22px}.card span{color:var(--muted)}
.chart{display:block;max-width:100%;height:auto}.chart text{font-size:12px;fill:var(--fg)}.chart .axis{fill:var(--muted);font-size:11px}
.chart .grid{stroke:var(--line)}.chart .axis-line{stroke:#9aa3b2}.chart .bar:hover,.chart .row:hover .bar{opacity:.75}
.legend button{border:1px solid var(--line);background:#fff;border-radius:14px;padding:3px 10px;margin:0 6px 8px 0;cursor:pointer;font:inherit}
.legend button i{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px}.legend button.off{opacity:.4;text-decoration:line-through}
.tabs button{border:0;border-bottom:2px solid transparent;background:none;padding:6px 12px;cursor:pointer;font:inherit}.tabs button.on{border-color:#4a6fa5;font-weight:600}
.tab{display:none}.tab.on{display:block}
table{border-collapse:collapse;width:100%;margin-top:8px}td,th{text-align:left;padding:4px 8px;border-bottom:1px solid var(--line)}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.note{color:var(--muted)}.empty{color:var(--muted);font-style:italic}code{font-size:13px}`;

// Legend toggles restack the timeline's bars over the visible verdicts; tabs switch subject lists.
const SCRIPT = `
(function(){
  var svg=document.getElementById('chart-timeline');
  var hidden={};
  function restack(){
    if(!svg)return;
    var top=+svg.getAttribute('data-plot-top'),ph=+svg.getAttribute('data-plot-height'),ymax=+svg.getAttribute('data-ymax');
    var groups=svg.querySelectorAll('g.bucket');
    for(var i=0;i<groups.length;i++){
      var base=0,rs=groups[i].querySelectorAll('rect');
      for(var j=0;j<rs.length;j++){
        var c=hidden[rs[j].getAttribute('data-verdict')]?0:+rs[j].getAttribute('data-count');
        rs[j].setAttribute('height',(c/ymax*ph).toFixed(1));
        rs[j].setAttribute('y',(top+ph-(base+c)/ymax*ph).toFixed(1));
        base+=c;
      }
    }
  }
  var buttons=document.querySelectorAll('.legend button');
  for(var k=0;k<buttons.length;k++)buttons[k].addEventListener('click',function(){var v=this.getAttribute('data-verdict');hidden[v]=!hidden[v];this.classList.toggle('off',hidden[v]);this.setAttribute('aria-pressed',String(!hidden[v]));restack();});
  var tabs=document.querySelectorAll('.tabs button');
  for(var m=0;m<tabs.length;m++)tabs[m].addEventListener('click',function(){var id=this.getAttribute('data-tab'),n,all=document.querySelectorAll('.tab,.tabs button');for(n=0;n<all.length;n++)all[n].classList.remove('on');this.classList.add('on');document.getElementById(id).classList.add('on');});
})();`;

export function renderHtmlReport(report: DecisionReport, options: HtmlReportOptions): string {
  const generated = options.generatedAt ?? Date.now();
  const period = report.from === null ? 'no decisions' : `${utc(report.from)} – ${utc(report.to!)}`;
  const body: string[] = [];
  body.push(`<header><h1>Actiongate report</h1><p>${h(options.source)} · ${h(period)} · generated ${h(utc(generated))}</p></header><main>`);

  const stopped = report.decisions - report.byVerdict.allow;
  body.push('<section class="cards">');
  body.push(card(int(report.decisions), 'decisions'));
  for (const v of VERDICTS) body.push(card(`${int(report.byVerdict[v])}`, `${v} · ${pct(report.byVerdict[v], report.decisions)}`, VERDICT_COLORS[v]));
  body.push(card(pct(stopped, report.decisions), 'stopped'));
  body.push(card(int(report.bans.started), 'bans started'));
  body.push(card(int(report.degraded.decisions), 'degraded'));
  body.push('</section>');

  // One policy is the usual log; more (a rollout, a hot reload) mix in every count of the page.
  if ((report.policies[0]?.count ?? 0) < report.decisions) {
    body.push('<section><h2>Policies <span class="note">(every count on this page mixes them)</span></h2>');
    body.push(`<table><thead><tr><th>policy</th><th class="n">decisions</th><th>first – last (UTC)</th>${VERDICTS.map((v) => `<th class="n">${v}</th>`).join('')}</tr></thead><tbody>`);
    for (const p of report.policies) {
      body.push(`<tr><td><code>${h(p.key)}</code></td><td class="n">${int(p.count)}${p.error ? ` (±${int(p.error)})` : ''}</td><td>${h(utc(p.from))} – ${h(utc(p.to))}</td>${VERDICTS.map((v) => `<td class="n">${int(p.byVerdict[v])}</td>`).join('')}</tr>`);
    }
    body.push('</tbody></table></section>');
  }

  body.push(`<section><h2>Verdicts over time <span class="note">(${h(bucketLabel(report.timeline.bucketMs))} buckets, UTC)</span></h2>`);
  if (report.timeline.buckets.length === 0) body.push('<p class="empty">No decisions.</p>');
  else {
    body.push('<div class="legend">');
    for (const v of VERDICTS) body.push(`<button type="button" data-verdict="${v}" aria-pressed="true"><i style="background:${VERDICT_COLORS[v]}"></i>${v}</button>`);
    body.push('</div>', timelineChart(report.timeline.buckets, report.timeline.bucketMs));
  }
  body.push('</section>');

  body.push('<section><h2>Top reasons <span class="note">(decisions challenged, throttled or blocked with each reason)</span></h2>');
  body.push(report.reasons.length ? barChart('chart-reasons', report.reasons.map((r) => bar(r)), { label: 'Top reasons' }) : '<p class="empty">No challenges, throttles or blocks.</p>');
  if (report.monitored.decisions > 0) {
    body.push(`<p>Monitor mode: ${int(report.monitored.decisions)} decisions were answered less strictly than enforcing would (${VERDICTS.filter((v) => report.monitored.wouldBe[v]).map((v) => `${v} ${int(report.monitored.wouldBe[v])}`).join(', ')}).</p>`);
    body.push(barChart('chart-monitored', report.monitored.reasons.map((r) => bar(r)), { label: 'Monitored reasons' }));
  }
  body.push('</section>');

  const subjects = [
    ['ips', 'IPs', report.blocked.ips],
    ['subnets', 'Subnets (IPv4 /24, IPv6 prefix)', report.blocked.subnets],
    ['actors', 'Actors', report.blocked.actors],
  ] as const;
  body.push(`<section><h2>Top blocked subjects <span class="note">(${int(report.bans.started)} bans started${report.bans.permanent ? `, ${int(report.bans.permanent)} permanent` : ''})</span></h2><div class="tabs">`);
  subjects.forEach(([id, title], i) => body.push(`<button type="button" data-tab="tab-${id}"${i === 0 ? ' class="on"' : ''}>${h(title)}</button>`));
  body.push('</div>');
  subjects.forEach(([id, title, rows], i) => {
    body.push(`<div class="tab${i === 0 ? ' on' : ''}" id="tab-${id}">`);
    if (rows.length === 0) body.push(`<p class="empty">No blocked ${h(title.toLowerCase())}.</p>`);
    else body.push(barChart(`chart-${id}`, rows.map((r) => bar(r, VERDICT_COLORS.block)), { label: `Top blocked ${title}` }), subjectTable(rows));
    body.push('</div>');
  });
  body.push('</section>');

  body.push('<section><h2>Rate-limit violations</h2>');
  if (report.limits.violations.length === 0) body.push('<p class="empty">No limit was exceeded.</p>');
  else {
    body.push(barChart('chart-limits', report.limits.violations.map((r) => bar(r, VERDICT_COLORS.throttle)), { label: 'Rate-limit violations' }));
    body.push('<table><thead><tr><th>limit</th><th>most limited key</th><th class="n">violations</th></tr></thead><tbody>');
    for (const k of report.limits.keys) body.push(`<tr><td>${h(k.limit)}</td><td><code>${h(k.subject)}</code></td><td class="n">${int(k.count)}${k.error ? ` (±${int(k.error)})` : ''}</td></tr>`);
    body.push('</tbody></table>');
  }
  body.push('</section>');

  body.push(`<section><h2>Allowed submissions <span class="note">(${int(report.allowed.decisions)})</span></h2>`);
  body.push(report.allowed.byAction.length ? table(['action', 'allowed'], report.allowed.byAction) : '<p class="empty">None.</p>');
  body.push('</section>');

  const c = report.challenges;
  body.push(`<section><h2>Challenges <span class="note">(${int(c.issued)} issued)</span></h2>`);
  if (c.issued === 0) body.push('<p class="empty">No challenges.</p>');
  else {
    body.push(table(['kind', 'issued'], c.byKind));
    body.push(`<p>Pass rate (inferred): <b>${pct(c.passed, c.subjects)}</b>, ${int(c.passed)} of ${int(c.subjects)} challenged subjects seen passing.</p><p class="note">${h(c.note)}</p>`);
  }
  body.push('</section>');

  body.push(`<section><h2>Degraded decisions <span class="note">(store unavailable, failMode decided)</span></h2><p>${int(report.degraded.decisions)}${report.degraded.decisions ? `: ${VERDICTS.filter((v) => report.degraded.byVerdict[v]).map((v) => `${v} ${int(report.degraded.byVerdict[v])}`).join(', ')}` : ''}</p></section>`);
  if (report.approximate.length) body.push(`<p class="note">Approximate sections (more distinct keys than kept; counts are upper bounds): ${h(report.approximate.join(', '))}.</p>`);
  body.push('</main>');

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Actiongate report · ${h(options.source)}</title>
<style>${CSS}</style></head>
<body>${body.join('\n')}
<script>${SCRIPT}</script>
</body></html>
`;
}

function card(value: string, label: string, color?: string): string {
  return `<div class="card"${color ? ` style="border-top:3px solid ${color}"` : ''}><b>${h(value)}</b><span>${h(label)}</span></div>`;
}

function bar(row: Counted, color?: string) {
  return { label: row.key, value: row.count, title: `${row.key}: ${int(row.count)}${row.error ? ` (±${int(row.error)})` : ''}`, ...(color ? { color } : {}) };
}

function table(headers: [string, string], rows: readonly Counted[]): string {
  return `<table><thead><tr><th>${h(headers[0])}</th><th class="n">${h(headers[1])}</th></tr></thead><tbody>${rows.map((r) => `<tr><td>${h(r.key)}</td><td class="n">${int(r.count)}</td></tr>`).join('')}</tbody></table>`;
}

function subjectTable(rows: readonly SubjectRow[]): string {
  const ends = (r: SubjectRow) => (r.banUntil === undefined ? '' : r.banUntil === null ? 'permanent' : utc(r.banUntil));
  return `<table><thead><tr><th>subject</th><th class="n">blocked</th><th class="n">bans</th><th>ban ends</th><th>last blocked</th></tr></thead><tbody>${rows
    .map((r) => `<tr><td><code>${h(r.key)}</code></td><td class="n">${int(r.count)}${r.error ? ` (±${int(r.error)})` : ''}</td><td class="n">${r.bans}</td><td>${h(ends(r))}</td><td>${h(utc(r.lastBlocked))}</td></tr>`)
    .join('')}</tbody></table>`;
}
