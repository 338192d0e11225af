// Tiny helpers to build SVG without innerHTML (keeps the page free of markup strings).

const NS = "http://www.w3.org/2000/svg";

export function svgEl(name, attrs = {}, parent = null) {
  const el = document.createElementNS(NS, name);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  if (parent) parent.append(el);
  return el;
}

export function svgText(text, attrs, parent) {
  const el = svgEl("text", attrs, parent);
  el.textContent = text;
  return el;
}

export function clamp(x, lo = -1, hi = 1) {
  return Math.min(hi, Math.max(lo, x));
}
