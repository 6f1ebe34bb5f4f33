/** Distinct class colours: the first 20 are hand-picked, later ones walk the hue circle by the golden angle. */
const PALETTE = [
  '#ff3838', '#2c99a8', '#ff9d97', '#1a9334', '#ff701f', '#00c2ff', '#ffb21d', '#344593',
  '#cfd231', '#6473ff', '#48f90a', '#0018ec', '#92cc17', '#8438ff', '#3ddb86', '#520085',
  '#00d4bb', '#cb38ff', '#ff95c8', '#ff37c7',
];

export function classColor(index: number): string {
  const fixed = PALETTE[index];
  if (fixed) return fixed;
  const hue = (index * 137.508) % 360;
  return hslToHex(hue, 0.75, 0.55);
}

function hslToHex(h: number, s: number, l: number): string {
  const a = s * Math.min(l, 1 - l);
  const f = (n: number): string => {
    const k = (n + h / 30) % 12;
    const c = l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1));
    return Math.round(c * 255)
      .toString(16)
      .padStart(2, '0');
  };
  return `#${f(0)}${f(8)}${f(4)}`;
}
