// HTML built from templates whose every interpolated value is escaped unless it is already Html: a test
// name with quotes, a console line with `<script>` or an SVG label can only ever come out as text.

/** A piece of markup that is already safe (made by `html`, or an SVG the chart library escaped). */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export type Content = Html | string | number | boolean | null | undefined | Content[];

const ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Text for element content or a quoted attribute value. */
export function esc(text: string | number): string {
  return String(text).replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

function render(value: Content): string {
  if (value instanceof Html) return value.value;
  if (Array.isArray(value)) return value.map(render).join("");
  if (value === null || value === undefined || value === false || value === true) return "";
  return esc(value);
}

/** html`<td>${name}</td>`: strings and numbers escaped, Html kept, arrays joined, null/false/undefined dropped. */
export function html(strings: TemplateStringsArray, ...values: Content[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return new Html(out);
}

/** Markup made elsewhere and known to be safe (the chart library's SVG, the page's own CSS). */
export function trusted(markup: string): Html {
  return new Html(markup);
}

/** A relative link to a file beside the report: each path segment percent-encoded, never a scheme. */
export function fileHref(relativePath: string): string {
  return relativePath
    .split("/")
    .map((s) => encodeURIComponent(s))
    .join("/");
}
