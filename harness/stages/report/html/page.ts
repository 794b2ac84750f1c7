// The frame of every report page: one file, its CSS inline, a Content-Security-Policy that allows no
// script, no network and no frames (the page needs none), so it opens the same from file://, a mail or a
// CI artifact store.
import { html, trusted, type Content, type Html } from "./escape.ts";

const CSS = `
:root{--ok:#1a7f37;--bad:#cf222e;--warn:#9a6700;--skip:#6e7781;--bg:#fff;--fg:#1f2328;--mute:#59636e;--line:#d1d9e0;--code:#f6f8fa}
*{box-sizing:border-box}body{margin:0 auto;max-width:1200px;padding:16px 20px 40px;font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg)}
h1{font-size:20px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;padding-bottom:4px;border-bottom:1px solid var(--line)}h3{font-size:15px;margin:16px 0 6px}
.meta{color:var(--mute);font-size:13px}.meta span+span:before{content:" · "}
.verdict{border-radius:8px;padding:12px 16px;margin:12px 0;border:1px solid}.verdict.pass{background:#dafbe1;border-color:#4ac26b}.verdict.fail{background:#ffebe9;border-color:#ff8182}.verdict.other{background:#fff8c5;border-color:#d4a72c}
.verdict .word{font-weight:700;font-size:18px}.verdict .why{font-size:15px;margin-top:4px;word-break:break-word}
pre{background:var(--code);border:1px solid var(--line);border-radius:6px;padding:8px 10px;overflow:auto;font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;max-height:480px;white-space:pre}
code{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
table{border-collapse:collapse;width:100%;margin:6px 0}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid var(--line);vertical-align:top}th{font-weight:600;background:var(--code)}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.st{display:inline-block;min-width:44px;text-align:center;border-radius:10px;padding:0 6px;font-size:12px;font-weight:600;color:#fff}
.st.pass,.st.good,.st.ok{background:var(--ok)}.st.fail,.st.error,.st.bad{background:var(--bad)}.st.warn{background:var(--warn)}.st.skip,.st.todo{background:var(--skip)}
.timeline{display:flex;height:26px;border-radius:6px;overflow:hidden;border:1px solid var(--line);margin:8px 0}
.timeline div{min-width:3px;border-right:1px solid #fff;font-size:11px;color:#fff;padding:4px 4px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.timeline .pass{background:#2da44e}.timeline .warn{background:#bf8700}.timeline .fail{background:var(--bad)}.timeline .skip{background:#afb8c1}
.hl{background:#ffebe9;font-weight:600}.ctx{color:var(--mute)}
details{margin:4px 0}summary{cursor:pointer}
.card{border:1px solid var(--line);border-radius:8px;padding:8px 12px;margin:10px 0}.card.failed{border-left:4px solid var(--bad)}
.figures{display:flex;flex-wrap:wrap;gap:10px;margin:8px 0}.figure{border:1px solid var(--line);border-radius:8px;padding:8px 12px;min-width:160px}.figure .v{font-size:20px;font-weight:700}.figure .k{color:var(--mute);font-size:12px}
.charts{display:flex;flex-wrap:wrap;gap:12px}.chart{border:1px solid var(--line);border-radius:8px;padding:4px;margin:0}
.steps{display:flex;align-items:stretch;gap:0;overflow-x:auto;padding:8px 0}.step{flex:1 0 150px;border:1px solid var(--line);border-radius:8px;padding:8px;margin-right:18px;position:relative}
.step:not(:last-child):after{content:"→";position:absolute;right:-16px;top:40%;color:var(--mute)}.step.good{border-top:4px solid var(--ok)}.step.bad{border-top:4px solid var(--bad)}.step.skip{border-top:4px solid var(--skip)}.step.culprit{box-shadow:0 0 0 2px var(--bad)}
.diff span{display:block;min-height:1.4em}.diff .add{color:#116329;background:#dafbe1}.diff .del{color:#82071e;background:#ffebe9}.diff .hunk{color:#0550ae}.diff .file{font-weight:700}.diff .ctx{color:var(--fg)}
ul.files{columns:3;padding-left:18px}.small{font-size:12px;color:var(--mute)}
`;

export function page(title: string, body: Content): string {
  const doc: Html = html`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>${trusted(CSS)}</style>
</head>
<body>
${body}
</body>
</html>
`;
  return doc.value;
}

export function status(s: string): Html {
  return html`<span class="st ${s}">${s}</span>`;
}

export function seconds(ms: number | undefined): string {
  if (ms === undefined) return "";
  return ms < 1000
    ? `${Math.round(ms)} ms`
    : ms < 120_000
      ? `${(ms / 1000).toFixed(1)} s`
      : `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}
